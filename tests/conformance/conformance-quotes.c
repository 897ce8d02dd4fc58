/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance over the real quotes in $SHIELD_SHARED_DATA/quotes (its
 * README, section 6): every TPM 2.0 quote verifies with its AK (each AK
 * form the directory holds), extraData equals nonce.bin (empty when there
 * is none), pcrDigest equals the digest of pcrs.json (and of tpm2-tools'
 * quotepcr.out for keylime); a changed nonce and a changed PCR fail; the
 * TPM 1.2 quote is refused as unsupported; GCE's AK certificates are
 * issued by gce-ek-ca, with `openssl verify` as the oracle for the chain.
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

#include "shield/pcrs.h"
#include "shield/tpm.h"
#include "shield/util.h"

static const char *data_dir;

static bool has_reason(const struct shield_reasons *l, const char *code) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i].code, code) == 0)
                        return true;
        return false;
}

static void load(const char *dir, const char *name, uint8_t **ret, size_t *ret_len) {
        char *path = NULL;
        assert_true(asprintf(&path, "%s/quotes/%s/%s", data_dir, dir, name) > 0);
        int r = shield_read_file(path, 1u << 20, ret, ret_len);
        if (r < 0)
                fail_msg("%s: %s", path, shield_strerror(r));
        free(path);
}

static bool exists(const char *dir, const char *name) {
        char *path = NULL;
        assert_true(asprintf(&path, "%s/quotes/%s/%s", data_dir, dir, name) > 0);
        bool ok = access(path, R_OK) == 0;
        free(path);
        return ok;
}

static const struct {
        const char *dir, *ak, *msg, *sig, *pcrs;
        const char *nonce_prefix; /* no nonce.bin: the README gives the nonce's first bytes */
} cases[] = {
        { "azure-snp-vtpm-genoa", "ak.pub.pem", "quote.tpms_attest.bin", "quote.rsassa_sha256.sig", "pcrs.json" },
        { "azure-snp-vtpm-milan", "ak.pub.pem", "quote.tpms_attest.bin", "quote.rsassa_sha256.sig", "pcrs.json" },
        { "azure-tdx-vtpm", "ak.pub.pem", "quote.tpms_attest.bin", "quote.rsassa_sha256.sig", "pcrs.json" },
        { "gce-cos85-no-nonce", "ak.tpmt_public.bin", "quote-sha1.tpms_attest.bin", "quote-sha1.tpmt_signature.bin", "pcrs.json" },
        { "gce-cos85-no-nonce", "ak.tpmt_public.bin", "quote-sha256.tpms_attest.bin", "quote-sha256.tpmt_signature.bin", "pcrs.json" },
        { "gce-cos85-no-nonce", "ak.tpmt_public.bin", "quote-sha384.tpms_attest.bin", "quote-sha384.tpmt_signature.bin", "pcrs.json" },
        { "gce-cos85-nonce9009", "ak.tpmt_public.bin", "quote-sha1.tpms_attest.bin", "quote-sha1.tpmt_signature.bin", "pcrs.json" },
        { "gce-cos85-nonce9009", "ak.tpmt_public.bin", "quote-sha256.tpms_attest.bin", "quote-sha256.tpmt_signature.bin", "pcrs.json" },
        { "gce-cos85-nonce9009", "ak.tpmt_public.bin", "quote-sha384.tpms_attest.bin", "quote-sha384.tpmt_signature.bin", "pcrs.json" },
        { "gce-windows-shielded-vm", "ak.tpmt_public.bin", "quote.tpms_attest.bin", "quote.tpmt_signature.bin", "pcrs.json" },
        { "keylime-ibmsim", "ak.pub", "quote.out", "quotesig.out", "pcrs.json", "db1db298" },
        { "keylime-ibmsim", "akpub.pem", "quote.out", "quotesig.out", "quotepcr.out", "db1db298" },
        { "trustee-swtpm", "ak.spki.der", "quote.tpms_attest.bin", "quote.tpmt_signature.bin", "pcrs.json" },
};

static void load_pcrs(const char *dir, const char *name, struct shield_pcrs *ret) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_diag d = { 0 };
        load(dir, name, &buf, &len);
        int r = strstr(name, ".json") ? shield_pcrs_parse_json((const char *)buf, len, ret, &d)
                                      : shield_tpm_pcrs_parse_tools(buf, len, ret, &d);
        if (r < 0)
                fail_msg("%s/%s: %s", dir, name, d.msg);
        free(buf);
}

static void test_quotes_verify(void **state) {
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                uint8_t *ak, *msg, *sig, *nonce = NULL;
                size_t ak_len, msg_len, sig_len, nonce_len = 0;
                struct shield_ak_key *k = NULL;
                struct shield_pcrs pcrs;
                struct shield_quote_info info;
                struct shield_diag d = { 0 };
                struct shield_reasons reasons = { 0 };

                load(cases[i].dir, cases[i].ak, &ak, &ak_len);
                load(cases[i].dir, cases[i].msg, &msg, &msg_len);
                load(cases[i].dir, cases[i].sig, &sig, &sig_len);
                if (exists(cases[i].dir, "nonce.bin"))
                        load(cases[i].dir, "nonce.bin", &nonce, &nonce_len);
                load_pcrs(cases[i].dir, cases[i].pcrs, &pcrs);
                if (shield_ak_key_new(ak, ak_len, &k, &d) < 0)
                        fail_msg("%s/%s: %s", cases[i].dir, cases[i].ak, d.msg);
                assert_int_equal(shield_quote_parse(msg, msg_len, &info, &d), 0);
                if (cases[i].nonce_prefix) {
                        /* README: "20-byte extraData (nonce) db1db298...". */
                        char hex[2 * sizeof info.extra_data + 1];
                        assert_null(nonce);
                        shield_hex_encode(info.extra_data, info.extra_data_len, hex);
                        assert_int_equal(info.extra_data_len, 20);
                        assert_memory_equal(hex, cases[i].nonce_prefix, strlen(cases[i].nonce_prefix));
                        nonce = malloc(info.extra_data_len);
                        assert_non_null(nonce);
                        memcpy(nonce, info.extra_data, info.extra_data_len);
                        nonce_len = info.extra_data_len;
                }
                assert_int_equal(info.extra_data_len, nonce_len);
                struct shield_quote_input in = {
                        .attest = msg, .attest_len = msg_len, .signature = sig, .signature_len = sig_len,
                        .nonce = nonce, .nonce_len = nonce_len, .pcrs = &pcrs,
                };
                int r = shield_quote_check_with_key(k, &in, &reasons, &d);
                if (r != 0)
                        fail_msg("%s/%s with %s: %s (%zu reasons, first %s)", cases[i].dir, cases[i].msg, cases[i].ak,
                                 shield_strerror(r), reasons.n, reasons.n ? reasons.items[0].code : "-");
                printf("ok: %s/%s (%s %s), clock %llu, resets %u, firmware 0x%016llx\n", cases[i].dir, cases[i].msg,
                       shield_ak_key_type(k), shield_ak_key_format(k), (unsigned long long)info.clock,
                       (unsigned)info.reset_count, (unsigned long long)info.firmware_version);
                shield_reasons_clear(&reasons);

                /* Another nonce fails; so does a changed PCR value the quote covers. */
                uint8_t other[] = { 0x01 };
                in.nonce = other;
                in.nonce_len = sizeof other;
                assert_int_equal(shield_quote_check_with_key(k, &in, &reasons, &d), SHIELD_E_VERIFY);
                assert_true(has_reason(&reasons, "quote-nonce-mismatch"));
                shield_reasons_clear(&reasons);
                in.nonce = nonce;
                in.nonce_len = nonce_len;
                struct shield_pcr_bank *b = shield_pcrs_bank(&pcrs, info.banks[0]);
                assert_non_null(b);
                unsigned j = (unsigned)__builtin_ctz(info.masks[0]);
                b->value[j][0] ^= 1;
                assert_int_equal(shield_quote_check_with_key(k, &in, &reasons, &d), SHIELD_E_VERIFY);
                assert_true(has_reason(&reasons, "quote-pcr-digest-mismatch"));
                shield_reasons_clear(&reasons);
                /* A flipped signature bit. */
                sig[sig_len - 1] ^= 1;
                in.pcrs = NULL;
                assert_int_equal(shield_quote_check_with_key(k, &in, &reasons, &d), SHIELD_E_VERIFY);
                assert_true(has_reason(&reasons, "quote-signature-invalid"));
                shield_reasons_clear(&reasons);

                shield_ak_key_free(k);
                free(ak);
                free(msg);
                free(sig);
                free(nonce);
        }
}

static void test_tpm12_unsupported(void **state) {
        (void)state;
        uint8_t *msg;
        size_t len;
        struct shield_quote_info info;
        struct shield_diag d = { 0 };
        load("lenovo-tpm12", "quote.tpm_quote_info.bin", &msg, &len);
        /* TPM_QUOTE_INFO starts with version 1.1.0.0, not TPM_GENERATED_VALUE. */
        assert_int_equal(shield_quote_parse(msg, len, &info, &d), SHIELD_E_FORMAT);
        assert_non_null(strstr(d.msg, "TPM_GENERATED_VALUE"));
        printf("ok: lenovo-tpm12 is a TPM 1.2 quote: unsupported (%s)\n", d.msg);
        free(msg);
}

static void test_gce_ak_certs(void **state) {
        (void)state;
        static const char *const dirs[] = { "gce-cos85-no-nonce", "gce-cos85-nonce9009" };
        for (size_t i = 0; i < 2; i++) {
                uint8_t *tpmt, *cert, *ca, *pub;
                size_t tpmt_len, cert_len, ca_len;
                struct shield_reasons reasons = { 0 };
                struct shield_diag d = { 0 };
                load(dirs[i], "ak.tpmt_public.bin", &tpmt, &tpmt_len);
                load(dirs[i], "ak_cert.der", &cert, &cert_len);
                load("gce-ek-ca", "tpm_ek_intermediate_2.crt", &ca, &ca_len);
                pub = malloc(tpmt_len + 2);
                assert_non_null(pub);
                pub[0] = (uint8_t)(tpmt_len >> 8);
                pub[1] = (uint8_t)tpmt_len;
                memcpy(pub + 2, tpmt, tpmt_len);
                int r = shield_ak_cert_check(pub, tpmt_len + 2, cert, cert_len, ca, ca_len, &reasons, &d);
                if (r != 0)
                        fail_msg("%s: %s (%s)", dirs[i], shield_strerror(r), reasons.n ? reasons.items[0].code : d.msg);
                shield_reasons_clear(&reasons);
                /* Not by the other intermediate. */
                free(ca);
                load("gce-ek-ca", "tpm_ek_intermediate_3.crt", &ca, &ca_len);
                assert_int_equal(shield_ak_cert_check(pub, tpmt_len + 2, cert, cert_len, ca, ca_len, &reasons, &d),
                                 SHIELD_E_VERIFY);
                assert_true(has_reason(&reasons, "ak-cert-signature-invalid"));
                shield_reasons_clear(&reasons);
                free(pub);
                free(tpmt);
                free(cert);
                free(ca);
        }
        /* The chain up to the root, with openssl as the oracle. */
        char tmp[] = "/tmp/conformance-quotes.XXXXXX", *root = NULL, *inter = NULL, *akder = NULL, *rootpem = NULL,
             *akpem = NULL;
        if (!mkdtemp(tmp) || access("/usr/bin/openssl", X_OK) != 0) {
                printf("skip: openssl chain check (no openssl)\n");
                return;
        }
        assert_true(asprintf(&root, "%s/quotes/gce-ek-ca/tpm_ek_root_1.cer", data_dir) > 0);
        assert_true(asprintf(&inter, "%s/quotes/gce-ek-ca/tpm_ek_intermediate_2.crt", data_dir) > 0);
        assert_true(asprintf(&akder, "%s/quotes/gce-cos85-nonce9009/ak_cert.der", data_dir) > 0);
        assert_true(asprintf(&rootpem, "%s/root.pem", tmp) > 0);
        assert_true(asprintf(&akpem, "%s/ak.pem", tmp) > 0);
        const char *const conv1[] = { "openssl", "x509", "-inform", "DER", "-in", root, "-out", rootpem, NULL };
        const char *const conv2[] = { "openssl", "x509", "-inform", "DER", "-in", akder, "-out", akpem, NULL };
        const char *const verify[] = { "openssl", "verify", "-CAfile", rootpem, "-untrusted", inter, akpem, NULL };
        assert_int_equal(shield_run(conv1, NULL, NULL), 0);
        assert_int_equal(shield_run(conv2, NULL, NULL), 0);
        assert_int_equal(shield_run(verify, NULL, NULL), 0);
        printf("ok: openssl verify: GCE AK certificate -> tpm_ek_intermediate_2 -> tpm_ek_root_1\n");
        unlink(rootpem);
        unlink(akpem);
        rmdir(tmp);
        free(root);
        free(inter);
        free(akder);
        free(rootpem);
        free(akpem);
}

int main(void) {
        data_dir = getenv("SHIELD_SHARED_DATA");
        char *probe = NULL;
        if (!data_dir || asprintf(&probe, "%s/quotes", data_dir) < 0 || access(probe, R_OK) != 0) {
                fprintf(stderr, "conformance-quotes: $SHIELD_SHARED_DATA/quotes not available: skipped\n");
                free(probe);
                return 77;
        }
        free(probe);
        setenv("TSS2_LOG", "all+NONE", 0);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quotes_verify),
                cmocka_unit_test(test_tpm12_unsupported),
                cmocka_unit_test(test_gce_ak_certs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
