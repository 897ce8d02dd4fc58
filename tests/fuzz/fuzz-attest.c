/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote checking on untrusted bytes: TPMS_ATTEST, TPMT_SIGNATURE and
 * TPM2B_PUBLIC parsing, signature verification and the PCR digest.
 * Input: be16 attest length, attest, be16 signature length, signature,
 * the rest is the AK public area. The whole input is also parsed as an
 * attestation, as an AK key in every detected form (then a quote check with
 * it, bare RSASSA signatures included) and as tpm2-tools' PCR file.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct shield_pcrs pcrs;

static void init(void) {
        static bool done;
        struct shield_pcr_bank *b;
        if (done)
                return;
        done = true;
        setenv("TSS2_LOG", "all+NONE", 1); /* tss2-mu would log every rejected field */
        if (shield_pcrs_add_bank(&pcrs, SHIELD_ALG_SHA1, 20, &b) == 0)
                b->present = b->extended = 0xffffff;
        if (shield_pcrs_add_bank(&pcrs, SHIELD_ALG_SHA256, 32, &b) == 0)
                b->present = b->extended = 0xffffff;
}

static bool take(const uint8_t **p, size_t *left, const uint8_t **ret, size_t *ret_len) {
        if (*left < 2)
                return false;
        size_t n = (size_t)(*p)[0] << 8 | (*p)[1];
        if (n > *left - 2)
                return false;
        *ret = *p + 2;
        *ret_len = n;
        *p += 2 + n;
        *left -= 2 + n;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t nonce[] = { 0x5c, 0xa1, 0xab, 0x1e, 0x00, 0x11, 0x22, 0x33,
                                         0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
        struct shield_quote_info info;
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag;
        init();

        (void)!shield_quote_parse(data, size, &info, &diag);
        struct shield_pcrs parsed;
        (void)!shield_tpm_pcrs_parse_tools(data, size, &parsed, &diag);

        const uint8_t *p = data, *attest, *sig;
        size_t left = size, attest_len, sig_len;
        if (!take(&p, &left, &attest, &attest_len) || !take(&p, &left, &sig, &sig_len))
                return 0;
        struct shield_quote_input in = {
                .attest = attest, .attest_len = attest_len,
                .signature = sig, .signature_len = sig_len,
                .ak_public = p, .ak_public_len = left,
                .nonce = nonce, .nonce_len = sizeof nonce, .pcrs = &pcrs,
        };
        (void)!shield_quote_check(&in, &reasons, &diag);
        shield_reasons_clear(&reasons);
        in.pcrs = NULL;
        (void)!shield_quote_check(&in, &reasons, &diag);
        shield_reasons_clear(&reasons);
        struct shield_ak_key *k = NULL;
        if (shield_ak_key_new(p, left, &k, &diag) == 0) {
                in.pcrs = &pcrs;
                (void)!shield_quote_check_with_key(k, &in, &reasons, &diag);
                shield_reasons_clear(&reasons);
                shield_ak_key_free(k);
        }
        return 0;
}
