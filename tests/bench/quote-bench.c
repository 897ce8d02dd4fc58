/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote verifications per second in process: the AK parsed once
 * (shield_ak_key_new), then shield_quote_check_with_key over the same quote
 * for SECONDS. Usage: quote-bench AK MSG SIG NONCE-HEX SECONDS
 * Prints "verifies=N seconds=S rate=R".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shield/tpm.h"
#include "shield/util.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        uint8_t *ak, *msg, *sig, *nonce = NULL;
        size_t ak_len, msg_len, sig_len, nonce_len = 0;
        uint64_t seconds;
        struct shield_ak_key *k = NULL;
        struct shield_diag d = { 0 };

        if (argc != 6 || shield_read_file(argv[1], 1u << 16, &ak, &ak_len) < 0 ||
            shield_read_file(argv[2], 1u << 16, &msg, &msg_len) < 0 ||
            shield_read_file(argv[3], 1u << 16, &sig, &sig_len) < 0 ||
            shield_hex_decode(argv[4], &nonce, &nonce_len) < 0 || shield_parse_u64(argv[5], 10, 60, &seconds) < 0) {
                fprintf(stderr, "usage: quote-bench AK MSG SIG NONCE-HEX SECONDS\n");
                return 2;
        }
        if (shield_ak_key_new(ak, ak_len, &k, &d) < 0) {
                fprintf(stderr, "quote-bench: %s\n", d.msg);
                return 2;
        }
        struct shield_quote_input in = {
                .attest = msg, .attest_len = msg_len, .signature = sig, .signature_len = sig_len,
                .nonce = nonce, .nonce_len = nonce_len,
        };
        unsigned long n = 0;
        double t0 = now(), t = t0;
        while (t - t0 < (double)seconds) {
                for (int i = 0; i < 64; i++) {
                        struct shield_reasons reasons = { 0 };
                        int r = shield_quote_check_with_key(k, &in, &reasons, &d);
                        shield_reasons_clear(&reasons);
                        if (r != 0) {
                                fprintf(stderr, "quote-bench: the quote does not verify (%s)\n", shield_strerror(r));
                                return 1;
                        }
                }
                n += 64;
                t = now();
        }
        printf("verifies=%lu seconds=%.3f rate=%.1f\n", n, t - t0, (double)n / (t - t0));
        shield_ak_key_free(k);
        free(ak);
        free(msg);
        free(sig);
        free(nonce);
        return 0;
}
