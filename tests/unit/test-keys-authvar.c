/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owner keys, the image's initial Secure Boot state, signature-list
 * building and EFI_VARIABLE_AUTHENTICATION_2 updates.
 *
 * Vectors: byte layouts are written here from UEFI 2.10 (8.2.2
 * EFI_VARIABLE_AUTHENTICATION_2, 32.2.4 WIN_CERTIFICATE_UEFI_GUID, 32.4.1
 * EFI_SIGNATURE_LIST) and the Compute Engine images API's
 * initial_state_config shape. Independent oracles, each skipped when
 * missing: the openssl CLI (certificates, keys, CMS verification of our
 * signatures), efitools (cert-to-efi-sig-list, and sign-efi-sig-list both
 * for the bundle a signature covers and for signed updates we must
 * verify), and Microsoft's published certificates and signed DBX update in
 * $SHIELD_SHARED_DATA/uefi-ms.
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

#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/keys.h"
#include "shield/uefi.h"
#include "shield/util.h"

/* ---- helpers ---- */

static int run(const char *cmd) {
        return system(cmd);
}

static bool have(const char *tools) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "for t in %s; do command -v $t >/dev/null || exit 1; done", tools);
        return run(cmd) == 0;
}

static void read_in(const char *dir, const char *name, uint8_t **ret, size_t *ret_len) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int r = shield_read_file(path, 1 << 24, ret, ret_len);
        if (r != 0)
                fail_msg("cannot read %s", path);
}

static void write_out(const char *dir, const char *name, const void *p, size_t n) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        assert_int_equal(shield_write_file_atomic(path, p, n, 0600), 0);
}

static void rm_rf(const char *dir) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(run(cmd), 0);
}

static const char *shared_dir(void) {
        static char path[512];
        const char *s = getenv("SHIELD_SHARED_DATA");
        if (!s)
                return NULL;
        snprintf(path, sizeof path, "%s/uefi-ms", s);
        return access(path, R_OK) == 0 ? path : NULL;
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* One generated RSA-2048 pair, shared by the tests that only need some certificate. */
static struct shield_keypair kp_a, kp_b;

static int group_setup(void **state) {
        (void)state;
        if (shield_keypair_generate(SHIELD_KEY_RSA2048, "Unit Test A", 30, &kp_a) < 0 ||
            shield_keypair_generate(SHIELD_KEY_RSA2048, "Unit Test B", 30, &kp_b) < 0)
                return -1;
        return 0;
}

static int group_teardown(void **state) {
        (void)state;
        shield_keypair_clear(&kp_a);
        shield_keypair_clear(&kp_b);
        return 0;
}

/* A SHA-256 signature list with n hashes (all bytes 0x11·i), built by hand from UEFI 2.10, 32.4.1. */
static size_t hand_esl(uint8_t *out, size_t cap, unsigned n) {
        static const uint8_t sha256_guid[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
                                                 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
        size_t size = 28 + (size_t)n * 48;
        assert_true(size <= cap);
        memcpy(out, sha256_guid, 16);
        put_le32(out + 16, (uint32_t)size);
        put_le32(out + 20, 0);
        put_le32(out + 24, 48);
        for (unsigned i = 0; i < n; i++) {
                memset(out + 28 + 48 * i, 0x77, 16);
                memset(out + 28 + 48 * i + 16, 0x11 * (int)(i + 1), 32);
        }
        return size;
}

/*
 * An AUTHENTICATION_2 file by hand (UEFI 2.10, 8.2.2): EFI_TIME, then
 * WIN_CERTIFICATE_UEFI_GUID {dwLength, wRevision, wCertificateType,
 * CertType} and the PKCS#7 bytes, then the data.
 */
static size_t hand_auth(uint8_t *out, size_t cap, uint32_t dw_length, uint16_t revision, uint16_t type,
                        const uint8_t cert_type[16], const uint8_t *p7, size_t p7_len, const uint8_t *data,
                        size_t data_len) {
        assert_true(40 + p7_len + data_len <= cap);
        static const uint8_t ts[16] = { 0xea, 0x07, 1, 2, 3, 4, 5 };
        memcpy(out, ts, 16);
        put_le32(out + 16, dw_length);
        out[20] = (uint8_t)revision, out[21] = (uint8_t)(revision >> 8);
        out[22] = (uint8_t)type, out[23] = (uint8_t)(type >> 8);
        memcpy(out + 24, cert_type, 16);
        memcpy(out + 40, p7, p7_len);
        if (data_len)
                memcpy(out + 40 + p7_len, data, data_len);
        return 40 + p7_len + data_len;
}

/* EFI_CERT_TYPE_PKCS7_GUID 4aafd29d-68df-49ee-8aa9-347d375665a7 (UEFI 2.10, 32.2.4), wire order. */
static const uint8_t PKCS7_GUID[16] = { 0x9d, 0xd2, 0xaf, 0x4a, 0xdf, 0x68, 0xee, 0x49,
                                        0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7 };

/* ---- keys ---- */

static void test_key_algo_names(void **state) {
        (void)state;
        enum shield_key_algo a;
        assert_int_equal(shield_key_algo_from_name("rsa2048", &a), 0);
        assert_int_equal(a, SHIELD_KEY_RSA2048);
        assert_int_equal(shield_key_algo_from_name("rsa3072", &a), 0);
        assert_int_equal(a, SHIELD_KEY_RSA3072);
        assert_int_equal(shield_key_algo_from_name("rsa4096", &a), 0);
        assert_int_equal(a, SHIELD_KEY_RSA4096);
        assert_int_equal(shield_key_algo_from_name("ec-p256", &a), 0);
        assert_int_equal(a, SHIELD_KEY_EC_P256);
        assert_int_equal(shield_key_algo_from_name("RSA2048", &a), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_key_algo_from_name("dsa", &a), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_key_algo_from_name(NULL, &a), SHIELD_E_NOT_FOUND);
}

static void test_keypair_errors(void **state) {
        (void)state;
        struct shield_keypair kp;
        memset(&kp, 0xaa, sizeof kp);
        assert_int_equal(shield_keypair_generate(SHIELD_KEY_RSA2048, NULL, 10, &kp), SHIELD_E_INVAL);
        assert_int_equal(shield_keypair_generate(SHIELD_KEY_RSA2048, "x", 0, &kp), SHIELD_E_INVAL);
        assert_int_equal(shield_keypair_generate(SHIELD_KEY_RSA2048, "x", 10, NULL), SHIELD_E_INVAL);
        /* Outputs are untouched on failure. */
        for (size_t i = 0; i < sizeof kp; i++)
                assert_int_equal(((uint8_t *)&kp)[i], 0xaa);
        shield_keypair_clear(NULL);

        uint8_t r1[32] = { 0 }, r2[32] = { 0 };
        assert_int_equal(shield_random_bytes(r1, sizeof r1), 0);
        assert_int_equal(shield_random_bytes(r2, sizeof r2), 0);
        assert_memory_not_equal(r1, r2, sizeof r1);
}

/* Generate, then let openssl judge the certificate and key. */
static void check_keypair_with_openssl(enum shield_key_algo algo, const char *cn, const char *key_text) {
        struct shield_keypair kp;
        struct shield_x509_info info;
        char dir[] = "/tmp/test-keys-XXXXXX", cmd[4096];

        assert_int_equal(shield_keypair_generate(algo, cn, 3650, &kp), 0);
        assert_non_null(kp.key_pem);
        assert_int_equal(strlen(kp.key_pem), kp.key_pem_len);
        assert_int_equal(strlen(kp.cert_pem), kp.cert_pem_len);
        assert_non_null(strstr(kp.key_pem, "-----BEGIN PRIVATE KEY-----"));
        assert_int_equal(shield_x509_info(kp.cert_der, kp.cert_der_len, &info), 0);
        char want[300];
        snprintf(want, sizeof want, "CN=%s", cn);
        assert_string_equal(info.subject, want);
        assert_string_equal(info.issuer, want);
        assert_true(info.is_ca);

        /* The PEM copy is the same certificate. */
        uint8_t *der = NULL;
        size_t der_len;
        assert_int_equal(shield_x509_load((const uint8_t *)kp.cert_pem, kp.cert_pem_len, &der, &der_len), 0);
        assert_int_equal(der_len, kp.cert_der_len);
        assert_memory_equal(der, kp.cert_der, der_len);
        free(der);

        if (!have("openssl")) {
                print_message("openssl missing: skipping the openssl checks\n");
                shield_keypair_clear(&kp);
                return;
        }
        assert_non_null(mkdtemp(dir));
        write_out(dir, "c.der", kp.cert_der, kp.cert_der_len);
        write_out(dir, "k.pem", kp.key_pem, kp.key_pem_len);
        /*
         * openssl: a DER certificate for CN, self-signed and valid (verify
         * against itself), the key's public half is the certificate's, the
         * key type and size, SHA-256, CA:TRUE, and a validity of ten years
         * (still valid in 3649 days, no longer in 3651).
         */
        snprintf(cmd, sizeof cmd,
                 "cd %s && openssl x509 -inform DER -in c.der -out c.pem && "
                 "openssl x509 -in c.pem -noout -text > text && "
                 "grep -q 'Subject: CN *= *%s$' text && grep -q '%s' text && "
                 "grep -q 'Signature Algorithm: .*%s' text && grep -q 'CA:TRUE' text && "
                 "openssl verify -CAfile c.pem c.pem >/dev/null && "
                 "openssl pkey -in k.pem -pubout > p1 && openssl x509 -in c.pem -pubkey -noout > p2 && cmp -s p1 p2 && "
                 "openssl x509 -in c.pem -noout -checkend %d >/dev/null && "
                 "! openssl x509 -in c.pem -noout -checkend %d >/dev/null",
                 dir, cn, key_text, algo == SHIELD_KEY_EC_P256 ? "ecdsa-with-SHA256" : "sha256WithRSAEncryption",
                 3649 * 86400, 3651 * 86400);
        int r = run(cmd);
        if (r != 0) {
                snprintf(cmd, sizeof cmd, "cat %s/text", dir);
                (void)!run(cmd);
                fail_msg("openssl does not agree about %s", cn);
        }
        rm_rf(dir);
        shield_keypair_clear(&kp);
        assert_null(kp.key_pem);
}

static void test_keypair_rsa2048(void **state) {
        (void)state;
        check_keypair_with_openssl(SHIELD_KEY_RSA2048, "Unit Owner PK", "Public-Key: (2048 bit)");
}

static void test_keypair_rsa3072(void **state) {
        (void)state;
        check_keypair_with_openssl(SHIELD_KEY_RSA3072, "Unit Owner KEK", "Public-Key: (3072 bit)");
}

static void test_keypair_ec_p256(void **state) {
        (void)state;
        check_keypair_with_openssl(SHIELD_KEY_EC_P256, "Unit Owner db", "NIST CURVE: P-256");
}

static void test_keypair_serials_differ(void **state) {
        (void)state;
        struct shield_x509_info a, b;
        assert_int_equal(shield_x509_info(kp_a.cert_der, kp_a.cert_der_len, &a), 0);
        assert_int_equal(shield_x509_info(kp_b.cert_der, kp_b.cert_der_len, &b), 0);
        assert_string_not_equal(a.serial_hex, b.serial_hex);
        assert_true(strlen(a.serial_hex) >= 30); /* random, about 159 bits */
        assert_string_equal(a.key_type, "RSA-2048");
}

/* ---- signature lists ---- */

static void test_siglist_build(void **state) {
        (void)state;
        shield_guid owner;
        uint8_t *buf = NULL;
        size_t len = 0;
        uint8_t hashes[2][32];
        memset(hashes[0], 0x11, 32);
        memset(hashes[1], 0x22, 32);

        assert_int_equal(shield_guid_parse("01234567-89ab-cdef-0123-456789abcdef", &owner), 0);
        assert_int_equal(shield_siglist_append_x509(&buf, &len, &owner, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_siglist_append_sha256(&buf, &len, &owner, (const uint8_t(*)[32])hashes, 2), 0);
        /* UEFI 2.10, 32.4.1: 28-byte header, then SignatureSize-byte entries (owner + data). */
        assert_int_equal(len, 28 + 16 + kp_a.cert_der_len + 28 + 2 * 48);
        assert_memory_equal(buf, SHIELD_GUID_CERT_X509.b, 16);
        assert_int_equal(buf[16] | buf[17] << 8, 28 + 16 + kp_a.cert_der_len);
        assert_int_equal(buf[24] | buf[25] << 8, 16 + kp_a.cert_der_len);
        assert_memory_equal(buf + 28, owner.b, 16);
        assert_memory_equal(buf + 44, kp_a.cert_der, kp_a.cert_der_len);
        const uint8_t *h = buf + 44 + kp_a.cert_der_len;
        assert_memory_equal(h, SHIELD_GUID_CERT_SHA256.b, 16);
        assert_int_equal(h[16], 28 + 96);
        assert_int_equal(h[24], 48);
        assert_memory_equal(h + 28 + 16, hashes[0], 32);
        assert_memory_equal(h + 28 + 48 + 16, hashes[1], 32);

        /* The independent parser reads back what was built. */
        struct shield_siglist l;
        size_t x, nh, o;
        assert_int_equal(shield_siglist_parse(buf, len, &l, NULL), 0);
        assert_int_equal(l.n_lists, 2);
        shield_siglist_counts(&l, &x, &nh, &o);
        assert_int_equal(x, 1);
        assert_int_equal(nh, 2);
        assert_int_equal(o, 0);
        shield_siglist_clear(&l);

        /* Errors: nothing to add, empty certificate; the buffer is left as it was. */
        size_t before = len;
        assert_int_equal(shield_siglist_append_x509(&buf, &len, &owner, kp_a.cert_der, 0), SHIELD_E_INVAL);
        assert_int_equal(shield_siglist_append_sha256(&buf, &len, &owner, (const uint8_t(*)[32])hashes, 0), SHIELD_E_INVAL);
        assert_int_equal(shield_siglist_append_x509(NULL, &len, &owner, kp_a.cert_der, kp_a.cert_der_len), SHIELD_E_INVAL);
        assert_int_equal(len, before);
        free(buf);
}

static void test_siglist_append_input(void **state) {
        (void)state;
        shield_guid owner = { { 1 } };
        uint8_t esl[28 + 3 * 48], auth[512], *buf = NULL;
        size_t esl_len = hand_esl(esl, sizeof esl, 3), len = 0;
        bool was_cert = true;

        /* Signature lists are taken as they are. */
        assert_int_equal(shield_siglist_append_input(&buf, &len, &owner, esl, esl_len, &was_cert), 0);
        assert_false(was_cert);
        assert_int_equal(len, esl_len);
        assert_memory_equal(buf, esl, esl_len);
        free(buf), buf = NULL, len = 0;

        /* A signed update gives its payload. */
        uint8_t p7[8] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
        size_t alen = hand_auth(auth, sizeof auth, 24 + 8, 0x0200, 0x0ef1, PKCS7_GUID, p7, 8, esl, esl_len);
        assert_int_equal(shield_siglist_append_input(&buf, &len, &owner, auth, alen, &was_cert), 0);
        assert_false(was_cert);
        assert_int_equal(len, esl_len);
        assert_memory_equal(buf, esl, esl_len);
        free(buf), buf = NULL, len = 0;

        /* PEM and DER certificates become one X509 list with the owner. */
        assert_int_equal(shield_siglist_append_input(&buf, &len, &owner, (const uint8_t *)kp_a.cert_pem, kp_a.cert_pem_len,
                                                     &was_cert),
                         0);
        assert_true(was_cert);
        assert_int_equal(len, 28 + 16 + kp_a.cert_der_len);
        assert_memory_equal(buf + 28, owner.b, 16);
        assert_memory_equal(buf + 44, kp_a.cert_der, kp_a.cert_der_len);
        free(buf), buf = NULL, len = 0;

        /* Garbage, a truncated list, and an update whose payload is not lists. */
        static const uint8_t junk[] = "hello, world";
        assert_int_equal(shield_siglist_append_input(&buf, &len, &owner, junk, sizeof junk, NULL), SHIELD_E_FORMAT);
        assert_int_equal(shield_siglist_append_input(&buf, &len, &owner, esl, esl_len - 1, NULL), SHIELD_E_FORMAT);
        alen = hand_auth(auth, sizeof auth, 24 + 8, 0x0200, 0x0ef1, PKCS7_GUID, p7, 8, junk, sizeof junk);
        assert_int_equal(shield_siglist_append_input(&buf, &len, &owner, auth, alen, NULL), SHIELD_E_FORMAT);
        assert_null(buf);
        assert_int_equal(len, 0);
}

/* cert-to-efi-sig-list -g GUID writes the same bytes as shield_siglist_append_x509. */
static void test_siglist_efitools_identity(void **state) {
        (void)state;
        char dir[] = "/tmp/test-keys-XXXXXX", cmd[2048];
        static const char *guid = "a0b1c2d3-e4f5-4607-8809-0a0b0c0d0e0f";
        shield_guid owner;
        uint8_t *theirs = NULL, *mine = NULL;
        size_t theirs_len, mine_len = 0;

        if (!have("cert-to-efi-sig-list")) {
                print_message("efitools missing: skipping the byte-identity check\n");
                skip();
        }
        assert_non_null(mkdtemp(dir));
        write_out(dir, "a.crt", kp_a.cert_pem, kp_a.cert_pem_len);
        write_out(dir, "b.crt", kp_b.cert_pem, kp_b.cert_pem_len);
        snprintf(cmd, sizeof cmd,
                 "cd %s && cert-to-efi-sig-list -g %s a.crt a.esl >/dev/null && "
                 "cert-to-efi-sig-list -g %s b.crt b.esl >/dev/null && cat a.esl b.esl > ab.esl",
                 dir, guid, guid);
        assert_int_equal(run(cmd), 0);
        read_in(dir, "ab.esl", &theirs, &theirs_len);
        assert_int_equal(shield_guid_parse(guid, &owner), 0);
        assert_int_equal(shield_siglist_append_x509(&mine, &mine_len, &owner, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_siglist_append_x509(&mine, &mine_len, &owner, kp_b.cert_der, kp_b.cert_der_len), 0);
        assert_int_equal(mine_len, theirs_len);
        assert_memory_equal(mine, theirs, mine_len);
        free(mine);
        free(theirs);
        rm_rf(dir);
}

/* ---- EFI_VARIABLE_AUTHENTICATION_2 layout ---- */

static void test_authvar_parse(void **state) {
        (void)state;
        uint8_t esl[28 + 48], buf[512], p7[20];
        size_t esl_len = hand_esl(esl, sizeof esl, 1);
        memset(p7, 0x5a, sizeof p7);
        size_t len = hand_auth(buf, sizeof buf, 24 + 20, 0x0200, 0x0ef1, PKCS7_GUID, p7, 20, esl, esl_len);
        struct shield_authvar2 a;
        struct shield_diag d = { 0 };

        assert_int_equal(shield_authvar2_parse(buf, len, &a, &d), 0);
        assert_memory_equal(a.timestamp, buf, 16);
        assert_ptr_equal(a.pkcs7, buf + 40);
        assert_int_equal(a.pkcs7_size, 20);
        assert_ptr_equal(a.payload, buf + 60);
        assert_int_equal(a.payload_size, esl_len);

        /* No payload at all is a valid (deleting) update. */
        len = hand_auth(buf, sizeof buf, 24 + 20, 0x0200, 0x0ef1, PKCS7_GUID, p7, 20, NULL, 0);
        assert_int_equal(shield_authvar2_parse(buf, len, &a, NULL), 0);
        assert_int_equal(a.payload_size, 0);

        assert_int_equal(shield_authvar2_parse(NULL, 10, &a, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_authvar2_parse(buf, len, NULL, NULL), SHIELD_E_INVAL);
}

static void expect_auth_error(const uint8_t *buf, size_t len, int code, size_t offset, const char *words) {
        struct shield_authvar2 a;
        struct shield_diag d = { 0 };
        memset(&a, 0xaa, sizeof a);
        int r = shield_authvar2_parse(buf, len, &a, &d);
        if (r != code)
                fail_msg("expected %d, got %d (%s)", code, r, d.msg);
        assert_int_equal(d.offset, offset);
        if (!strstr(d.msg, words))
                fail_msg("message \"%s\" lacks \"%s\"", d.msg, words);
        for (size_t i = 0; i < sizeof a; i++)
                assert_int_equal(((uint8_t *)&a)[i], 0xaa);
}

static void test_authvar_errors(void **state) {
        (void)state;
        uint8_t esl[28 + 48], buf[512], p7[20] = { 0x30 };
        size_t esl_len = hand_esl(esl, sizeof esl, 1);
        size_t len = hand_auth(buf, sizeof buf, 24 + 20, 0x0200, 0x0ef1, PKCS7_GUID, p7, 20, esl, esl_len);

        /* Truncated: every length short of the 40-byte header. */
        for (size_t cut = 0; cut < 40; cut++) {
                struct shield_authvar2 a;
                struct shield_diag d = { 0 };
                assert_int_equal(shield_authvar2_parse(buf, cut, &a, &d), SHIELD_E_TRUNCATED);
                assert_non_null(strstr(d.msg, "too few"));
        }
        /* dwLength lies: past the end, and shorter than its own header. */
        len = hand_auth(buf, sizeof buf, 24 + 20 + (uint32_t)esl_len + 1, 0x0200, 0x0ef1, PKCS7_GUID, p7, 20, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 16, "dwLength");
        len = hand_auth(buf, sizeof buf, 0xffffffffu, 0x0200, 0x0ef1, PKCS7_GUID, p7, 20, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 16, "dwLength");
        len = hand_auth(buf, sizeof buf, 23, 0x0200, 0x0ef1, PKCS7_GUID, p7, 20, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 16, "dwLength");
        /* dwLength exactly the header: no PKCS#7 at all, so nothing could ever verify it. */
        len = hand_auth(buf, sizeof buf, 24, 0x0200, 0x0ef1, PKCS7_GUID, p7, 0, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 16, "no PKCS#7");
        /* Wrong WIN_CERTIFICATE revision and type (UEFI 2.10, 32.2.4: 0x0200 and WIN_CERT_TYPE_EFI_GUID 0x0EF1). */
        len = hand_auth(buf, sizeof buf, 24 + 20, 0x0100, 0x0ef1, PKCS7_GUID, p7, 20, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 20, "revision");
        len = hand_auth(buf, sizeof buf, 24 + 20, 0x0200, 0x0002, PKCS7_GUID, p7, 20, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 20, "type");
        /* Wrong CertType: EFI_CERT_TYPE_RSA2048_SHA256_GUID a7717414-c616-4977-9420-844712a735bf. */
        static const uint8_t rsa_guid[16] = { 0x14, 0x74, 0x71, 0xa7, 0x16, 0xc6, 0x77, 0x49,
                                              0x94, 0x20, 0x84, 0x47, 0x12, 0xa7, 0x35, 0xbf };
        len = hand_auth(buf, sizeof buf, 24 + 20, 0x0200, 0x0ef1, rsa_guid, p7, 20, esl, esl_len);
        expect_auth_error(buf, len, SHIELD_E_FORMAT, 24, "CertType");
}

static void test_authvar_vendor_and_bytes(void **state) {
        (void)state;
        shield_guid g;
        assert_int_equal(shield_secure_boot_var_vendor("PK", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_int_equal(shield_secure_boot_var_vendor("KEK", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_int_equal(shield_secure_boot_var_vendor("db", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_IMAGE_SECURITY_DATABASE));
        assert_int_equal(shield_secure_boot_var_vendor("dbx", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_IMAGE_SECURITY_DATABASE));
        assert_int_equal(shield_secure_boot_var_vendor("DB", &g), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_secure_boot_var_vendor("Boot0000", &g), SHIELD_E_NOT_FOUND);

        /* UEFI 2.10, 8.2.2: "d\0b\0" ‖ VendorGuid ‖ Attributes LE ‖ TimeStamp ‖ Data. */
        uint8_t ts[16] = { 0xea, 0x07, 1, 2, 3, 4, 5 }, data[3] = { 7, 8, 9 }, *tbs = NULL;
        size_t tbs_len;
        assert_int_equal(shield_secure_boot_var_vendor("db", &g), 0);
        assert_int_equal(shield_authvar2_signed_bytes("db", &g, 0x67, ts, data, 3, &tbs, &tbs_len), 0);
        assert_int_equal(tbs_len, 4 + 16 + 4 + 16 + 3);
        assert_memory_equal(tbs, "d\0b\0", 4);
        assert_memory_equal(tbs + 4, g.b, 16);
        assert_memory_equal(tbs + 20, "\x67\0\0\0", 4);
        assert_memory_equal(tbs + 24, ts, 16);
        assert_memory_equal(tbs + 40, data, 3);
        free(tbs);
        assert_int_equal(shield_authvar2_signed_bytes(NULL, &g, 0x27, ts, data, 3, &tbs, &tbs_len), SHIELD_E_INVAL);

        /* serialize → parse gives back every part. */
        uint8_t p7[5] = { 1, 2, 3, 4, 5 }, *out = NULL;
        size_t out_len;
        struct shield_authvar2 a;
        assert_int_equal(shield_authvar2_serialize(ts, p7, 5, data, 3, &out, &out_len), 0);
        assert_int_equal(out_len, 16 + 24 + 5 + 3);
        assert_int_equal(out[16], 24 + 5);
        assert_int_equal(shield_authvar2_parse(out, out_len, &a, NULL), 0);
        assert_memory_equal(a.timestamp, ts, 16);
        assert_int_equal(a.pkcs7_size, 5);
        assert_memory_equal(a.pkcs7, p7, 5);
        assert_int_equal(a.payload_size, 3);
        assert_memory_equal(a.payload, data, 3);
        free(out);
        assert_int_equal(shield_authvar2_serialize(ts, NULL, 0, data, 3, &out, &out_len), SHIELD_E_INVAL);
}

/* efitools' sign-efi-sig-list -o writes the bundle to sign: ours must be byte-identical. */
static void test_authvar_bundle_efitools(void **state) {
        (void)state;
        char dir[] = "/tmp/test-keys-XXXXXX", cmd[2048];
        uint8_t esl[28 + 2 * 48];
        size_t esl_len = hand_esl(esl, sizeof esl, 2);
        static const struct {
                const char *var, *flags;
                uint32_t attrs;
        } cases[] = {
                { "PK", "", 0x27 }, { "KEK", "", 0x27 }, { "db", "", 0x27 }, { "dbx", "-a", 0x67 },
        };

        if (!have("sign-efi-sig-list")) {
                print_message("efitools missing: skipping the signed-bundle check\n");
                skip();
        }
        assert_non_null(mkdtemp(dir));
        write_out(dir, "in.esl", esl, esl_len);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                snprintf(cmd, sizeof cmd, "cd %s && sign-efi-sig-list %s -o -t '2026-01-02 03:04:05' %s in.esl tbs >/dev/null",
                         dir, cases[i].flags, cases[i].var);
                assert_int_equal(run(cmd), 0);
                uint8_t *theirs = NULL, *mine = NULL;
                size_t theirs_len, mine_len;
                shield_guid vendor;
                /* EFI_TIME for 2026-01-02 03:04:05 (UEFI 2.10, 8.3): Year LE, Month, Day, Hour, Minute, Second, rest 0. */
                uint8_t ts[16] = { 0xea, 0x07, 1, 2, 3, 4, 5 };
                read_in(dir, "tbs", &theirs, &theirs_len);
                assert_int_equal(shield_secure_boot_var_vendor(cases[i].var, &vendor), 0);
                assert_int_equal(
                        shield_authvar2_signed_bytes(cases[i].var, &vendor, cases[i].attrs, ts, esl, esl_len, &mine, &mine_len),
                        0);
                assert_int_equal(mine_len, theirs_len);
                assert_memory_equal(mine, theirs, mine_len);
                free(mine);
                free(theirs);
        }
        rm_rf(dir);
}

/* ---- PKCS#7 for AUTHENTICATION_2 ---- */

static void test_pkcs7_sign_verify(void **state) {
        (void)state;
        static const uint8_t msg[] = "d\0b\0 the bundle";
        uint8_t *sig = NULL, *sig2 = NULL;
        size_t sig_len, sig2_len;

        assert_int_equal(shield_pkcs7_sign_detached(kp_a.key_pem, kp_a.key_pem_len, kp_a.cert_der, kp_a.cert_der_len, msg,
                                                    sizeof msg, &sig, &sig_len),
                         0);
        /* Bare SignedData (UEFI 2.10, 8.2.2: no ContentInfo): a SEQUENCE starting with version INTEGER 1. */
        assert_int_equal(sig[0], 0x30);
        assert_int_equal(shield_pkcs7_verify_detached(sig, sig_len, msg, sizeof msg, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_pkcs7_verify_detached(sig, sig_len, msg, sizeof msg - 1, kp_a.cert_der, kp_a.cert_der_len),
                         SHIELD_E_VERIFY);
        assert_int_equal(shield_pkcs7_verify_detached(sig, sig_len, msg, sizeof msg, kp_b.cert_der, kp_b.cert_der_len),
                         SHIELD_E_VERIFY);
        /* A flipped bit in the signature value (its last byte). */
        sig[sig_len - 1] ^= 1;
        assert_int_equal(shield_pkcs7_verify_detached(sig, sig_len, msg, sizeof msg, kp_a.cert_der, kp_a.cert_der_len),
                         SHIELD_E_VERIFY);
        sig[sig_len - 1] ^= 1;
        /* Not PKCS#7 at all. */
        static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
        assert_int_equal(shield_pkcs7_verify_detached(junk, sizeof junk, msg, sizeof msg, kp_a.cert_der, kp_a.cert_der_len),
                         SHIELD_E_FORMAT);
        assert_int_equal(shield_pkcs7_verify_detached(sig, sig_len / 2, msg, sizeof msg, kp_a.cert_der, kp_a.cert_der_len),
                         SHIELD_E_FORMAT);

        /* The key of another certificate, and a key that is not PEM. */
        assert_int_equal(shield_pkcs7_sign_detached(kp_b.key_pem, kp_b.key_pem_len, kp_a.cert_der, kp_a.cert_der_len, msg,
                                                    sizeof msg, &sig2, &sig2_len),
                         SHIELD_E_INVAL);
        assert_int_equal(shield_pkcs7_sign_detached("nope", 4, kp_a.cert_der, kp_a.cert_der_len, msg, sizeof msg, &sig2, &sig2_len),
                         SHIELD_E_FORMAT);
        assert_null(sig2);

        /* openssl cms verifies ours once given the ContentInfo wrapper (RFC 5652, 3). */
        if (have("openssl")) {
                char dir[] = "/tmp/test-keys-XXXXXX", cmd[2048];
                uint8_t *wrapped = malloc(sig_len + 32), *w = wrapped;
                static const uint8_t oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
                assert_non_null(wrapped);
                assert_true(sig_len < 0xfff0);
                size_t inner = 4 + sig_len, outer = sizeof oid + inner;
                *w++ = 0x30, *w++ = 0x82, *w++ = (uint8_t)(outer >> 8), *w++ = (uint8_t)outer;
                memcpy(w, oid, sizeof oid), w += sizeof oid;
                *w++ = 0xa0, *w++ = 0x82, *w++ = (uint8_t)(sig_len >> 8), *w++ = (uint8_t)sig_len;
                memcpy(w, sig, sig_len), w += sig_len;
                assert_non_null(mkdtemp(dir));
                write_out(dir, "sig.p7", wrapped, (size_t)(w - wrapped));
                write_out(dir, "msg", msg, sizeof msg);
                write_out(dir, "ca.der", kp_a.cert_der, kp_a.cert_der_len);
                snprintf(cmd, sizeof cmd,
                         "cd %s && openssl x509 -inform DER -in ca.der -out ca.pem && "
                         "openssl cms -verify -binary -inform DER -in sig.p7 -content msg -CAfile ca.pem -purpose any "
                         "-out /dev/null 2>/dev/null",
                         dir);
                assert_int_equal(run(cmd), 0);
                free(wrapped);
                rm_rf(dir);
        }
        free(sig);
}

/* A complete update from sign-efi-sig-list verifies over the bundle it signed; ours does not verify with it as another var. */
static void test_authvar_efitools_update(void **state) {
        (void)state;
        char dir[] = "/tmp/test-keys-XXXXXX", cmd[2048];
        uint8_t esl[28 + 48], *auth = NULL, *tbs = NULL;
        size_t esl_len = hand_esl(esl, sizeof esl, 1), auth_len, tbs_len;
        struct shield_authvar2 a;

        if (!have("sign-efi-sig-list")) {
                print_message("efitools missing: skipping the efitools update check\n");
                skip();
        }
        assert_non_null(mkdtemp(dir));
        write_out(dir, "in.esl", esl, esl_len);
        write_out(dir, "k.pem", kp_a.key_pem, kp_a.key_pem_len);
        write_out(dir, "c.pem", kp_a.cert_pem, kp_a.cert_pem_len);
        snprintf(cmd, sizeof cmd,
                 "cd %s && sign-efi-sig-list -t '2026-01-02 03:04:05' -k k.pem -c c.pem KEK in.esl out.auth >/dev/null && "
                 "sign-efi-sig-list -o -t '2026-01-02 03:04:05' KEK in.esl tbs >/dev/null",
                 dir);
        assert_int_equal(run(cmd), 0);
        read_in(dir, "out.auth", &auth, &auth_len);
        read_in(dir, "tbs", &tbs, &tbs_len);
        assert_int_equal(shield_authvar2_parse(auth, auth_len, &a, NULL), 0);
        assert_int_equal(a.payload_size, esl_len);
        assert_memory_equal(a.payload, esl, esl_len);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, tbs, tbs_len, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, tbs, tbs_len, kp_b.cert_der, kp_b.cert_der_len),
                         SHIELD_E_VERIFY);
        /* Over the bytes our own code builds for KEK it verifies too; for db it does not. */
        uint8_t *mine = NULL;
        size_t mine_len;
        shield_guid vendor;
        assert_int_equal(shield_secure_boot_var_vendor("KEK", &vendor), 0);
        assert_int_equal(shield_authvar2_signed_bytes("KEK", &vendor, 0x27, a.timestamp, a.payload, a.payload_size, &mine,
                                                      &mine_len),
                         0);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, mine, mine_len, kp_a.cert_der, kp_a.cert_der_len), 0);
        free(mine);
        assert_int_equal(shield_secure_boot_var_vendor("db", &vendor), 0);
        assert_int_equal(shield_authvar2_signed_bytes("db", &vendor, 0x27, a.timestamp, a.payload, a.payload_size, &mine,
                                                      &mine_len),
                         0);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, mine, mine_len, kp_a.cert_der, kp_a.cert_der_len),
                         SHIELD_E_VERIFY);
        free(mine);
        free(auth);
        free(tbs);
        rm_rf(dir);
}

/* Microsoft's signed x64 DBX update: an APPEND_WRITE of dbx signed under the Microsoft KEK CA 2011. */
static void test_authvar_microsoft_dbx(void **state) {
        (void)state;
        const char *dir = shared_dir();
        uint8_t *buf = NULL, *kek = NULL, *pca = NULL, *tbs = NULL;
        size_t len, kek_len, pca_len, tbs_len;
        struct shield_authvar2 a;
        struct shield_diag d = { 0 };
        shield_guid vendor;

        if (!dir) {
                print_message("SHIELD_SHARED_DATA/uefi-ms absent: skipping Microsoft's DBX update\n");
                skip();
        }
        read_in(dir, "dbx/DBXUpdate-amd64.bin", &buf, &len);
        read_in(dir, "certs/MicCorKEKCA2011_2011-06-24.der", &kek, &kek_len);
        read_in(dir, "certs/MicWinProPCA2011_2011-10-19.der", &pca, &pca_len);
        assert_int_equal(shield_authvar2_parse(buf, len, &a, &d), 0);
        assert_true(a.pkcs7_size > 1000);
        struct shield_siglist l;
        assert_int_equal(shield_siglist_parse(a.payload, a.payload_size, &l, NULL), 0);
        assert_true(l.n > 100);
        shield_siglist_clear(&l);
        assert_int_equal(shield_secure_boot_var_vendor("dbx", &vendor), 0);
        /* NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE|APPEND_WRITE (UEFI 2.10, 8.2.1). */
        assert_int_equal(shield_authvar2_signed_bytes("dbx", &vendor, 0x67, a.timestamp, a.payload, a.payload_size, &tbs,
                                                      &tbs_len),
                         0);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, tbs, tbs_len, kek, kek_len), 0);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, tbs, tbs_len, pca, pca_len), SHIELD_E_VERIFY);
        free(tbs);
        /* Without APPEND_WRITE the bundle differs: not verified. */
        assert_int_equal(shield_authvar2_signed_bytes("dbx", &vendor, 0x27, a.timestamp, a.payload, a.payload_size, &tbs,
                                                      &tbs_len),
                         0);
        assert_int_equal(shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, tbs, tbs_len, kek, kek_len), SHIELD_E_VERIFY);
        free(tbs);
        free(buf);
        free(kek);
        free(pca);
}

/* ---- initial state ---- */

/* {"pk": …} with the DER of cert a, plus extra text (already JSON) before the closing brace. */
static char *state_json(const char *extra) {
        char *b64 = shield_base64_encode(kp_a.cert_der, kp_a.cert_der_len), *out = NULL;
        assert_non_null(b64);
        assert_true(asprintf(&out, "{\"pk\": {\"content\": \"%s\", \"fileType\": \"X509\"}%s}", b64, extra) > 0);
        free(b64);
        return out;
}

static char *b64_esl(unsigned n) {
        uint8_t esl[28 + 8 * 48];
        size_t len = hand_esl(esl, sizeof esl, n);
        char *b = shield_base64_encode(esl, len);
        assert_non_null(b);
        return b;
}

static void expect_state_error(const char *text, int code, const char *words) {
        struct shield_initial_state st;
        struct shield_diag d = { 0 };
        memset(&st, 0xaa, sizeof st);
        int r = shield_initial_state_parse(text, strlen(text), &st, &d);
        if (r != code)
                fail_msg("expected %d, got %d (%s) for %.200s", code, r, d.msg, text);
        if (!strstr(d.msg, words))
                fail_msg("message \"%s\" lacks \"%s\"", d.msg, words);
        for (size_t i = 0; i < sizeof st; i++)
                assert_int_equal(((uint8_t *)&st)[i], 0xaa);
}

static void test_initial_state_parse(void **state) {
        (void)state;
        char *bin = b64_esl(2), *extra = NULL, *text;
        char *b_pem64 = shield_base64_encode(kp_b.cert_der, kp_b.cert_der_len);
        assert_true(asprintf(&extra,
                             ", \"keks\": [{\"content\": \"%s\", \"fileType\": \"X509\"}], "
                             "\"dbxs\": [{\"content\": \"%s\", \"fileType\": \"BIN\"}]",
                             b_pem64, bin) > 0);
        text = state_json(extra);
        struct shield_initial_state st;
        assert_int_equal(shield_initial_state_parse(text, strlen(text), &st, NULL), 0);
        assert_true(st.pk.set);
        assert_int_equal(st.pk.n, 1);
        assert_int_equal(st.pk.entries[0].type, SHIELD_IS_X509);
        assert_int_equal(st.pk.entries[0].len, kp_a.cert_der_len);
        assert_memory_equal(st.pk.entries[0].content, kp_a.cert_der, kp_a.cert_der_len);
        assert_true(st.keks.set);
        assert_int_equal(st.keks.n, 1);
        assert_false(st.dbs.set); /* absent: the platform default */
        assert_true(st.dbxs.set);
        assert_int_equal(st.dbxs.entries[0].type, SHIELD_IS_BIN);
        assert_int_equal(st.dbxs.entries[0].len, 28 + 2 * 48);
        assert_string_equal(shield_initial_state_field(&st, &st.keks), "keks");
        assert_string_equal(shield_initial_state_field(&st, &st.dbxs), "dbxs");

        /* to_json → parse is the identity, and leaves absent fields absent. */
        char *again = shield_initial_state_to_json(&st);
        assert_non_null(again);
        assert_null(strstr(again, "\"dbs\""));
        struct shield_initial_state st2;
        assert_int_equal(shield_initial_state_parse(again, strlen(again), &st2, NULL), 0);
        assert_int_equal(st2.keks.n, 1);
        assert_memory_equal(st2.keks.entries[0].content, kp_b.cert_der, kp_b.cert_der_len);
        assert_int_equal(st2.dbxs.entries[0].len, st.dbxs.entries[0].len);
        assert_memory_equal(st2.dbxs.entries[0].content, st.dbxs.entries[0].content, st.dbxs.entries[0].len);
        assert_false(st2.dbs.set);
        shield_initial_state_clear(&st2);
        free(again);

        /* The value as signature lists: the certificate becomes one X509 list with the owner. */
        shield_guid owner = { { 9, 9, 9 } };
        uint8_t *esl = NULL;
        size_t esl_len;
        assert_int_equal(shield_initial_state_esl(&st.keks, &owner, &esl, &esl_len), 0);
        assert_int_equal(esl_len, 28 + 16 + kp_b.cert_der_len);
        assert_memory_equal(esl, SHIELD_GUID_CERT_X509.b, 16);
        assert_memory_equal(esl + 28, owner.b, 16);
        free(esl);
        assert_int_equal(shield_initial_state_esl(&st.dbxs, &owner, &esl, &esl_len), 0);
        assert_int_equal(esl_len, st.dbxs.entries[0].len);
        free(esl);
        shield_initial_state_clear(&st);
        shield_initial_state_clear(&st); /* twice is harmless */
        shield_initial_state_clear(NULL);

        /* An empty object is valid: every value takes its default. */
        assert_int_equal(shield_initial_state_parse("{}", 2, &st, NULL), 0);
        assert_false(st.pk.set || st.keks.set || st.dbs.set || st.dbxs.set);
        shield_initial_state_clear(&st);

        free(text);
        free(extra);
        free(bin);
        free(b_pem64);
}

static void test_initial_state_errors(void **state) {
        (void)state;
        char *bin = b64_esl(1), *t, *extra = NULL;
        char *a64 = shield_base64_encode(kp_a.cert_der, kp_a.cert_der_len);

        expect_state_error("not json", SHIELD_E_FORMAT, "not JSON");
        expect_state_error("[]", SHIELD_E_FORMAT, "expected an object");
        expect_state_error("{\"pks\": []}", SHIELD_E_FORMAT, "unknown field \"pks\"");
        expect_state_error("{\"keks\": []}", SHIELD_E_FORMAT, "non-empty array");
        expect_state_error("{\"dbs\": {}}", SHIELD_E_FORMAT, "non-empty array");
        expect_state_error("{\"pk\": \"x\"}", SHIELD_E_FORMAT, "expected {");
        expect_state_error("{\"pk\": {\"content\": 5, \"fileType\": \"X509\"}}", SHIELD_E_FORMAT,
                           "pk.content: expected a base64 string");
        expect_state_error("{\"pk\": {\"content\": \"AAAA\"}}", SHIELD_E_FORMAT, "pk.fileType: missing");
        expect_state_error("{\"pk\": {\"fileType\": \"X509\"}}", SHIELD_E_FORMAT, "pk.content: missing");
        expect_state_error("{\"pk\": {\"content\": \"AAAA\", \"fileType\": 509}}", SHIELD_E_FORMAT,
                           "pk.fileType: expected a string");
        expect_state_error("{\"pk\": {\"content\": \"AAAA\", \"fileType\": \"X509\", \"x\": 1}}", SHIELD_E_FORMAT,
                           "pk.x: unknown field");
        /* Unknown fileType: the message names the field by its path. */
        expect_state_error("{\"pk\": {\"content\": \"AAAA\", \"fileType\": \"PEM\"}}", SHIELD_E_FORMAT,
                           "pk.fileType: \"PEM\" is not X509 or BIN");
        expect_state_error("{\"dbs\": [{\"content\": \"AAAA\", \"fileType\": \"x509\"}]}", SHIELD_E_FORMAT, "dbs[0].fileType");
        /* Bad base64. */
        expect_state_error("{\"pk\": {\"content\": \"!!!not base64!!!\", \"fileType\": \"X509\"}}", SHIELD_E_FORMAT,
                           "not base64");
        /* Base64 of something that is not what fileType says. */
        expect_state_error("{\"pk\": {\"content\": \"bm90IGEgY2VydA==\", \"fileType\": \"X509\"}}", SHIELD_E_FORMAT,
                           "not a DER X.509");
        assert_true(asprintf(&t, "{\"keks\": [{\"content\": \"%s\", \"fileType\": \"X509\"}]}", bin) > 0);
        expect_state_error(t, SHIELD_E_FORMAT, "keks[0].content: not a DER X.509");
        free(t);
        assert_true(asprintf(&t, "{\"dbs\": [{\"content\": \"%s\", \"fileType\": \"BIN\"}, {\"content\": \"%s\", "
                                 "\"fileType\": \"BIN\"}]}",
                             bin, a64) > 0);
        expect_state_error(t, SHIELD_E_FORMAT, "dbs[1].content: not EFI signature lists");
        free(t);
        assert_true(asprintf(&t, "{\"keks\": [{\"content\": \"%s\", \"fileType\": \"X509\"}, {\"content\": \"%s\", "
                                 "\"fileType\": \"DER\"}]}",
                             a64, a64) > 0);
        expect_state_error(t, SHIELD_E_FORMAT, "keks[1].fileType: \"DER\" is not X509 or BIN");
        free(t);
        assert_true(asprintf(&t, "{\"keks\": [{\"content\": \"%s\", \"fileType\": \"X509\"}, 7]}", a64) > 0);
        expect_state_error(t, SHIELD_E_FORMAT, "keks[1]: expected {");
        free(t);
        /* The PK must be one X.509 certificate: BIN is refused, and so are two PKs. */
        assert_true(asprintf(&t, "{\"pk\": {\"content\": \"%s\", \"fileType\": \"BIN\"}}", bin) > 0);
        expect_state_error(t, SHIELD_E_FORMAT, "pk");
        free(t);
        assert_true(asprintf(&t, "{\"pk\": [{\"content\": \"%s\", \"fileType\": \"X509\"}, {\"content\": \"%s\", "
                                 "\"fileType\": \"X509\"}]}",
                             a64, a64) > 0);
        expect_state_error(t, SHIELD_E_FORMAT, "pk");
        free(t);
        assert_true(asprintf(&extra, ", \"pk\": {\"content\": \"%s\", \"fileType\": \"X509\"}", a64) > 0);
        t = state_json(extra);
        expect_state_error(t, SHIELD_E_FORMAT, "duplicate");
        free(t);
        free(extra);

        /* Caps: the JSON size, and entries per value. */
        struct shield_initial_state st;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_initial_state_parse("{}", (size_t)SHIELD_INITIAL_STATE_JSON_MAX + 1, &st, &d), SHIELD_E_LIMIT);
        size_t cap = SHIELD_INITIAL_STATE_ENTRIES_MAX + 1, one = strlen(bin) + 40;
        char *big = malloc(cap * one + 32), *p = big;
        assert_non_null(big);
        p += snprintf(p, 32, "{\"dbxs\": [");
        for (size_t i = 0; i < cap; i++)
                p += snprintf(p, one, "%s{\"content\": \"%s\", \"fileType\": \"BIN\"}", i ? "," : "", bin);
        snprintf(p, 8, "]}");
        assert_int_equal(shield_initial_state_parse(big, strlen(big), &st, &d), SHIELD_E_LIMIT);
        assert_non_null(strstr(d.msg, "dbxs: more than 256 entries"));
        free(big);

        assert_int_equal(shield_initial_state_parse(NULL, 0, &st, NULL), SHIELD_E_INVAL);
        free(bin);
        free(a64);
}

static void test_initial_state_add(void **state) {
        (void)state;
        struct shield_is_value v = { 0 };
        uint8_t esl[28 + 48];
        size_t esl_len = hand_esl(esl, sizeof esl, 1);

        /* PEM is stored as DER; DER as it is; lists as BIN. */
        assert_int_equal(shield_initial_state_add(&v, (const uint8_t *)kp_a.cert_pem, kp_a.cert_pem_len), 0);
        assert_int_equal(shield_initial_state_add(&v, kp_b.cert_der, kp_b.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&v, esl, esl_len), 0);
        assert_true(v.set);
        assert_int_equal(v.n, 3);
        assert_int_equal(v.entries[0].type, SHIELD_IS_X509);
        assert_int_equal(v.entries[0].len, kp_a.cert_der_len);
        assert_memory_equal(v.entries[0].content, kp_a.cert_der, kp_a.cert_der_len);
        assert_int_equal(v.entries[1].type, SHIELD_IS_X509);
        assert_int_equal(v.entries[2].type, SHIELD_IS_BIN);
        assert_memory_equal(v.entries[2].content, esl, esl_len);

        /* PEM with garbage inside the armour, a DER certificate with trailing bytes, plain text, nothing. */
        static const char bad_pem[] = "-----BEGIN CERTIFICATE-----\nMIIB!!garbage!!\n-----END CERTIFICATE-----\n";
        assert_int_equal(shield_initial_state_add(&v, (const uint8_t *)bad_pem, sizeof bad_pem - 1), SHIELD_E_FORMAT);
        uint8_t *trailing = malloc(kp_a.cert_der_len + 1);
        assert_non_null(trailing);
        memcpy(trailing, kp_a.cert_der, kp_a.cert_der_len);
        trailing[kp_a.cert_der_len] = 0;
        assert_int_equal(shield_initial_state_add(&v, trailing, kp_a.cert_der_len + 1), SHIELD_E_FORMAT);
        free(trailing);
        assert_int_equal(shield_initial_state_add(&v, (const uint8_t *)"text", 4), SHIELD_E_FORMAT);
        assert_int_equal(shield_initial_state_add(&v, (const uint8_t *)"", 0), SHIELD_E_FORMAT);
        /* A signed update with no payload (a deletion) is no database value: it could not be read back. */
        uint8_t auth[64], p7[4] = { 0x30, 0x02, 0x05, 0x00 };
        size_t alen = hand_auth(auth, sizeof auth, 24 + 4, 0x0200, 0x0ef1, PKCS7_GUID, p7, 4, NULL, 0);
        assert_int_equal(shield_initial_state_add(&v, auth, alen), SHIELD_E_FORMAT);
        assert_int_equal(v.n, 3);

        struct shield_initial_state st = { .dbs = v };
        shield_initial_state_clear(&st);
}

/* A state with only a PK of its own, and a defaults state with every value, built from generated certificates. */
static void make_defaults(struct shield_initial_state *def, bool with_pk) {
        memset(def, 0, sizeof *def);
        uint8_t esl[28 + 3 * 48];
        size_t esl_len = hand_esl(esl, sizeof esl, 3);
        if (with_pk)
                assert_int_equal(shield_initial_state_add(&def->pk, kp_b.cert_der, kp_b.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&def->keks, kp_b.cert_der, kp_b.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&def->dbs, kp_b.cert_der, kp_b.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&def->dbs, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&def->dbxs, esl, esl_len), 0);
}

static void test_initial_state_resolve(void **state) {
        (void)state;
        struct shield_initial_state st = { 0 }, def, out;
        struct shield_reasons warnings = { 0 };
        uint8_t esl[28 + 48];
        size_t esl_len = hand_esl(esl, sizeof esl, 1);

        make_defaults(&def, true);
        /* Nothing set: every value is the default's. */
        assert_int_equal(shield_initial_state_resolve(&st, &def, &out, &warnings), 0);
        assert_int_equal(out.pk.n, 1);
        assert_memory_equal(out.pk.entries[0].content, kp_b.cert_der, kp_b.cert_der_len);
        assert_int_equal(out.dbs.n, 2);
        assert_int_equal(out.dbxs.n, 1);
        assert_int_equal(warnings.n, 0); /* the default db is not the owner's choice */
        shield_initial_state_clear(&out);

        /* A custom db and dbx replace the defaults whole: never merged. */
        assert_int_equal(shield_initial_state_add(&st.pk, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&st.dbs, kp_a.cert_der, kp_a.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&st.dbxs, esl, esl_len), 0);
        assert_int_equal(shield_initial_state_resolve(&st, &def, &out, &warnings), 0);
        assert_memory_equal(out.pk.entries[0].content, kp_a.cert_der, kp_a.cert_der_len);
        assert_int_equal(out.dbs.n, 1);
        assert_memory_equal(out.dbs.entries[0].content, kp_a.cert_der, kp_a.cert_der_len);
        assert_int_equal(out.dbxs.n, 1);
        assert_int_equal(out.dbxs.entries[0].len, esl_len);
        assert_int_equal(out.keks.n, 1); /* not given: the default */
        assert_memory_equal(out.keks.entries[0].content, kp_b.cert_der, kp_b.cert_der_len);
        /* The custom db lacks the Microsoft UEFI CA: a warning, not a refusal. */
        assert_int_equal(warnings.n, 1);
        assert_string_equal(warnings.items[0].code, "db-without-microsoft-uefi-ca");
        assert_int_equal(warnings.items[0].severity, SHIELD_SEV_WARNING);
        shield_initial_state_clear(&out);
        shield_reasons_clear(&warnings);

        /* NULL warnings are allowed. */
        assert_int_equal(shield_initial_state_resolve(&st, &def, &out, NULL), 0);
        shield_initial_state_clear(&out);

        /* Missing PK: none of its own and no platform PK. */
        shield_initial_state_clear(&def);
        shield_initial_state_clear(&st);
        make_defaults(&def, false);
        memset(&out, 0xaa, sizeof out);
        assert_int_equal(shield_initial_state_resolve(&st, &def, &out, NULL), SHIELD_E_NOT_FOUND);
        for (size_t i = 0; i < sizeof out; i++)
                assert_int_equal(((uint8_t *)&out)[i], 0xaa);
        assert_int_equal(shield_initial_state_resolve(NULL, &def, &out, NULL), SHIELD_E_INVAL);
        shield_initial_state_clear(&def);
}

/* The platform defaults from Microsoft's files: found by thumbprint, whatever their names. */
static void test_initial_state_defaults_microsoft(void **state) {
        (void)state;
        const char *dir = shared_dir();
        struct shield_initial_state def, st = { 0 }, out;
        struct shield_diag d = { 0 };
        struct shield_x509_info info;
        struct shield_reasons warnings = { 0 };

        if (!dir) {
                print_message("SHIELD_SHARED_DATA/uefi-ms absent: skipping the Microsoft defaults\n");
                skip();
        }
        assert_int_equal(shield_initial_state_defaults(dir, kp_a.cert_der, kp_a.cert_der_len, &def, &d), 0);
        assert_int_equal(def.pk.n, 1);
        assert_int_equal(def.keks.n, 1);
        assert_int_equal(shield_x509_info(def.keks.entries[0].content, def.keks.entries[0].len, &info), 0);
        assert_non_null(strstr(info.subject, "Microsoft Corporation KEK CA 2011"));
        assert_int_equal(def.dbs.n, 2);
        bool pca = false, uefi = false;
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(shield_x509_info(def.dbs.entries[i].content, def.dbs.entries[i].len, &info), 0);
                /* Thumbprints from the issue: 58 0a 6f 4c … and 46 de f6 3b …. */
                pca |= memcmp(info.sha1, "\x58\x0a\x6f\x4c", 4) == 0;
                uefi |= memcmp(info.sha1, "\x46\xde\xf6\x3b", 4) == 0;
        }
        assert_true(pca && uefi);
        assert_int_equal(def.dbxs.n, 1);
        assert_int_equal(def.dbxs.entries[0].type, SHIELD_IS_BIN);

        /* A custom db holding the Microsoft UEFI CA draws no warning. */
        assert_int_equal(shield_initial_state_add(&st.dbs, def.dbs.entries[0].content, def.dbs.entries[0].len), 0);
        assert_int_equal(shield_initial_state_add(&st.dbs, def.dbs.entries[1].content, def.dbs.entries[1].len), 0);
        assert_int_equal(shield_initial_state_resolve(&st, &def, &out, &warnings), 0);
        assert_int_equal(warnings.n, 0);
        shield_initial_state_clear(&out);
        shield_initial_state_clear(&st);

        /* The resolved values as signature lists parse, the revocation list with its hashes. */
        uint8_t *esl = NULL;
        size_t esl_len;
        struct shield_siglist l;
        shield_guid owner = { { 0 } };
        assert_int_equal(shield_initial_state_esl(&def.dbxs, &owner, &esl, &esl_len), 0);
        assert_int_equal(shield_siglist_parse(esl, esl_len, &l, NULL), 0);
        assert_true(l.n > 100);
        shield_siglist_clear(&l);
        free(esl);
        shield_initial_state_clear(&def);

        /* A directory without them says what is missing. */
        memset(&d, 0, sizeof d);
        assert_int_equal(shield_initial_state_defaults("/nonexistent", NULL, 0, &def, &d), SHIELD_E_NOT_FOUND);
        assert_non_null(strstr(d.msg, "KEK CA 2011"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_key_algo_names),
                cmocka_unit_test(test_keypair_errors),
                cmocka_unit_test(test_keypair_rsa2048),
                cmocka_unit_test(test_keypair_rsa3072),
                cmocka_unit_test(test_keypair_ec_p256),
                cmocka_unit_test(test_keypair_serials_differ),
                cmocka_unit_test(test_siglist_build),
                cmocka_unit_test(test_siglist_append_input),
                cmocka_unit_test(test_siglist_efitools_identity),
                cmocka_unit_test(test_authvar_parse),
                cmocka_unit_test(test_authvar_errors),
                cmocka_unit_test(test_authvar_vendor_and_bytes),
                cmocka_unit_test(test_authvar_bundle_efitools),
                cmocka_unit_test(test_pkcs7_sign_verify),
                cmocka_unit_test(test_authvar_efitools_update),
                cmocka_unit_test(test_authvar_microsoft_dbx),
                cmocka_unit_test(test_initial_state_parse),
                cmocka_unit_test(test_initial_state_errors),
                cmocka_unit_test(test_initial_state_add),
                cmocka_unit_test(test_initial_state_resolve),
                cmocka_unit_test(test_initial_state_defaults_microsoft),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
