/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential protection without a TPM (lib/crypto/credential.c behind
 * shield_credential_make/recover): round trips with RSA and ECC EKs made
 * by the openssl CLI, blobs from tpm2_makecredential (-T none, software:
 * the independent oracle) recovered by us, ours recovered by the same key,
 * and every parse error of the blob format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shield/tpm.h"
#include "shield/util.h"

static char dir[] = "/tmp/test-credential.XXXXXX";
static bool have_openssl, have_tools;

/* name: SHA-256 nameAlg || 32 bytes */
static const uint8_t name[34] = { 0x00, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t secret[16] = "0123456789abcdef";

static char *path(const char *n) {
        static char buf[16][300];
        static int k;
        k = (k + 1) % 16;
        snprintf(buf[k], sizeof buf[k], "%s/%s", dir, n);
        return buf[k];
}

static void slurp(const char *p, uint8_t **ret, size_t *len) {
        if (shield_read_file(p, 1u << 20, ret, len) < 0)
                fail_msg("cannot read %s", p);
}

static int setup(void **state) {
        (void)state;
        if (!mkdtemp(dir))
                return -1;
        const char *const rsa[] = { "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                                    "-out", path("rsa.key"), NULL };
        const char *const rsapub[] = { "openssl", "pkey", "-in", path("rsa.key"), "-pubout", "-out", path("rsa.pem"),
                                       NULL };
        const char *const ec[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                   "-out", path("ec.key"), NULL };
        const char *const ecpub[] = { "openssl", "pkey", "-in", path("ec.key"), "-pubout", "-out", path("ec.pem"),
                                      NULL };
        have_openssl = shield_run(rsa, NULL, NULL) == 0 && shield_run(rsapub, NULL, NULL) == 0 &&
                       shield_run(ec, NULL, NULL) == 0 && shield_run(ecpub, NULL, NULL) == 0;
        have_tools = have_openssl && access("/usr/bin/tpm2_makecredential", X_OK) == 0;
        if (!have_openssl)
                fprintf(stderr, "test-credential: no openssl CLI: key-based tests skipped\n");
        return 0;
}

static int teardown(void **state) {
        (void)state;
        const char *const rm[] = { "rm", "-rf", dir, NULL };
        (void)!shield_run(rm, NULL, NULL);
        return 0;
}

static void round_trip(const char *key, const char *pub) {
        uint8_t *k, *p, *blob = NULL, out[64];
        size_t klen, plen, blen = 0, olen = 0;
        struct shield_diag d = { 0 };
        slurp(path(key), &k, &klen);
        slurp(path(pub), &p, &plen);
        assert_int_equal(shield_credential_make(p, plen, name, sizeof name, secret, sizeof secret, &blob, &blen, &d), 0);
        assert_int_equal(shield_credential_recover((char *)k, klen, p, plen, name, sizeof name, blob, blen, out, &olen,
                                                   &d),
                         0);
        assert_int_equal(olen, sizeof secret);
        assert_memory_equal(out, secret, sizeof secret);
        /* Another name: the integrity HMAC fails. */
        uint8_t other[sizeof name];
        memcpy(other, name, sizeof name);
        other[33] ^= 1;
        assert_int_equal(shield_credential_recover((char *)k, klen, p, plen, other, sizeof other, blob, blen, out,
                                                   &olen, &d),
                         SHIELD_E_VERIFY);
        /* A changed encIdentity byte fails too. */
        blob[8 + 2 + 2 + 32] ^= 1;
        assert_int_equal(shield_credential_recover((char *)k, klen, p, plen, name, sizeof name, blob, blen, out, &olen,
                                                   &d),
                         SHIELD_E_VERIFY);
        free(blob);
        free(k);
        free(p);
}

static void test_rsa_round_trip(void **state) {
        (void)state;
        if (!have_openssl)
                skip();
        round_trip("rsa.key", "rsa.pem");
}

static void test_ecc_round_trip(void **state) {
        (void)state;
        if (!have_openssl)
                skip();
        round_trip("ec.key", "ec.pem");
}

/* The oracle: tpm2_makecredential in software makes a blob we must recover, for RSA and ECC EKs. */
static void tools_blob(const char *key, const char *pub, const char *alg) {
        char hex[2 * sizeof name + 1];
        uint8_t *k, *p, *blob, out[64];
        size_t klen, plen, blen, olen = 0;
        struct shield_diag d = { 0 };
        FILE *f = fopen(path("secret"), "we");
        assert_non_null(f);
        assert_int_equal(fwrite(secret, 1, sizeof secret, f), sizeof secret);
        fclose(f);
        shield_hex_encode(name, sizeof name, hex);
        const char *const mk[] = { "tpm2_makecredential", "-T", "none", "-u", path(pub), "-G", alg, "-s",
                                   path("secret"), "-n", hex, "-o", path("tools.blob"), NULL };
        if (shield_run(mk, NULL, &d) != 0)
                fail_msg("tpm2_makecredential: %s", d.msg);
        slurp(path(key), &k, &klen);
        slurp(path(pub), &p, &plen);
        slurp(path("tools.blob"), &blob, &blen);
        int r = shield_credential_recover((char *)k, klen, p, plen, name, sizeof name, blob, blen, out, &olen, &d);
        if (r < 0)
                fail_msg("recovering tpm2_makecredential's %s blob: %s", alg, d.msg);
        assert_int_equal(olen, sizeof secret);
        assert_memory_equal(out, secret, sizeof secret);
        free(k);
        free(p);
        free(blob);
}

static void test_tpm2_makecredential_rsa(void **state) {
        (void)state;
        if (!have_tools)
                skip();
        tools_blob("rsa.key", "rsa.pem", "rsa");
}

static void test_tpm2_makecredential_ecc(void **state) {
        (void)state;
        if (!have_tools)
                skip();
        tools_blob("ec.key", "ec.pem", "ecc");
}

static void test_bad_inputs(void **state) {
        (void)state;
        uint8_t *blob = NULL, out[64];
        size_t blen = 0, olen;
        struct shield_diag d = { 0 };
        static const char pem[] = "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n";
        static const uint8_t junk_pub[] = { 0x00, 0x01, 0x00 };
        static const uint8_t bad_magic[16] = { 0xba, 0xdc, 0xc0, 0xdf, 0, 0, 0, 1 };
        static const uint8_t bad_version[16] = { 0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 2 };
        static const uint8_t short_id[12] = { 0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1, 0x00, 0x40, 0, 0 };

        /* Names that are not nameAlg || digest; secrets too long; unparsable EKs. */
        assert_int_equal(shield_credential_make(junk_pub, sizeof junk_pub, name, 5, secret, 16, &blob, &blen, &d),
                         SHIELD_E_FORMAT);
        assert_int_equal(shield_credential_make(junk_pub, sizeof junk_pub, name, sizeof name, secret, 16, &blob, &blen,
                                                &d),
                         SHIELD_E_FORMAT);
        assert_null(blob);
        if (have_openssl) {
                uint8_t *p, big[33] = { 0 };
                size_t plen;
                slurp(path("rsa.pem"), &p, &plen);
                assert_int_equal(shield_credential_make(p, plen, name, sizeof name, big, sizeof big, &blob, &blen, &d),
                                 SHIELD_E_INVAL);
                free(p);
        }
        const uint8_t *blobs[] = { bad_magic, bad_version, short_id };
        const size_t lens[] = { sizeof bad_magic, sizeof bad_version, sizeof short_id };
        const int codes[] = { SHIELD_E_FORMAT, SHIELD_E_UNSUPPORTED, SHIELD_E_TRUNCATED };
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(shield_credential_recover(pem, sizeof pem - 1, junk_pub, sizeof junk_pub, name,
                                                           sizeof name, blobs[i], lens[i], out, &olen, &d),
                                 codes[i]);
        uint8_t tiny[4] = { 0xba, 0xdc, 0xc0, 0xde };
        assert_int_equal(shield_credential_recover(pem, sizeof pem - 1, junk_pub, sizeof junk_pub, name, sizeof name,
                                                   tiny, sizeof tiny, out, &olen, &d),
                         SHIELD_E_TRUNCATED);
        /* Trailing bytes after a well-formed blob. */
        if (have_openssl) {
                uint8_t *p, *k;
                size_t plen, klen;
                slurp(path("rsa.pem"), &p, &plen);
                slurp(path("rsa.key"), &k, &klen);
                assert_int_equal(shield_credential_make(p, plen, name, sizeof name, secret, 16, &blob, &blen, &d), 0);
                uint8_t *longer = malloc(blen + 1);
                assert_non_null(longer);
                memcpy(longer, blob, blen);
                longer[blen] = 0;
                assert_int_equal(shield_credential_recover((char *)k, klen, p, plen, name, sizeof name, longer,
                                                           blen + 1, out, &olen, &d),
                                 SHIELD_E_TRAILING);
                free(longer);
                free(blob);
                free(p);
                free(k);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rsa_round_trip),
                cmocka_unit_test(test_ecc_round_trip),
                cmocka_unit_test(test_tpm2_makecredential_rsa),
                cmocka_unit_test(test_tpm2_makecredential_ecc),
                cmocka_unit_test(test_bad_inputs),
        };
        setenv("TSS2_LOG", "all+NONE", 0);
        return cmocka_run_group_tests(tests, setup, teardown);
}
