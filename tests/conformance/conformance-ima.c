/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance over real IMA lists ($SHIELD_SHARED_DATA/ima; counts and
 * expectations from its README): entry and violation counts, every template
 * hash, and boot_aggregate against the replay of the machine's firmware log.
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

#include "shield/eventlog.h"
#include "shield/ima.h"
#include "shield/util.h"

static const char *data_dir;

static int load_opts(const char *name, const struct shield_ima_options *opts, struct shield_ima_list **ret,
                     struct shield_diag *d) {
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_true(asprintf(&path, "%s/ima/%s", data_dir, name) > 0);
        assert_int_equal(shield_read_file(path, SHIELD_IMA_LIST_MAX, &buf, &len), 0);
        int r = shield_ima_parse(buf, len, opts, ret, d);
        free(buf);
        free(path);
        return r;
}

static int load(const char *name, struct shield_ima_list **ret, struct shield_diag *d) {
        return load_opts(name, NULL, ret, d);
}

/* Counts from the data README; mismatches and template-hash algorithms checked with openssl dgst. */
static const struct {
        const char *name;
        enum shield_ima_format format;
        uint16_t template_alg;
        size_t entries, violations, mismatches, quirks;
} lists[] = {
        { "openeuler-hyperv-ima-ng-sha1.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 2349, 1, 0, 0 },
        { "openeuler-hyperv-ima-ng-sha256.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 2514, 3, 0, 0 },
        { "openeuler-ima-template-sha1.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 5566, 14, 0, 0 },
        { "rust-keylime-ubuntu-ima-ng-sha1.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 826, 0, 0, 0 },
        { "keylime-ima-ng-sha256.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 2, 0, 0, 0 },
        { "keylime-ima-ng-sha384.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 2, 1, 0, 0 },
        { "keylime-ima-ng-sha512.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SHA1, 2, 1, 0, 0 },
        /*
         * Its 32-byte template hash is SM3 over the ima-ng data with the
         * "sm3_256:" prefix (openssl dgst -sm3 agrees), so it verifies as
         * an SM3 list; read as SHA-256 it does not (test_sm3_list_as_sha256).
         */
        { "keylime-ima-ng-sm3_256.ascii", SHIELD_IMA_ASCII, SHIELD_ALG_SM3_256, 2, 1, 0, 0 },
        { "tpm2-tss-sml-ima-ng-sha1.bin", SHIELD_IMA_BINARY, SHIELD_ALG_SHA1, 6, 0, 0, 1 },
        { "tpm2-tss-sml-ima-sha1.bin", SHIELD_IMA_BINARY, SHIELD_ALG_SHA1, 12, 0, 0, 1 },
        { "tpm2-tss-sml-ima-sig-sha256.bin", SHIELD_IMA_BINARY, SHIELD_ALG_SHA1, 9, 0, 0, 1 },
        /* Negatives: invalidated (all-zero template hash) entries, which the kernel extends as all ones. */
        { "tpm2-tss-sml-ima-sha1-invalidated.bin", SHIELD_IMA_BINARY, SHIELD_ALG_SHA1, 1, 1, 0, 0 },
        { "tpm2-tss-sml-ima-sig-sha256-invalidated.bin", SHIELD_IMA_BINARY, SHIELD_ALG_SHA1, 2, 1, 0, 0 },
};

static void test_real_lists(void **state) {
        (void)state;
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
                struct shield_ima_list *l = NULL;
                struct shield_diag d = { 0 };
                struct shield_reasons r = { 0 };
                uint8_t pcr[SHIELD_HASH_MAX_SIZE];
                if (load(lists[i].name, &l, &d) != 0)
                        fail_msg("%s: %s", lists[i].name, d.msg);
                assert_int_equal(shield_ima_format(l), lists[i].format);
                assert_false(shield_ima_big_endian(l));
                assert_int_equal(shield_ima_template_hash_alg(l), lists[i].template_alg);
                assert_int_equal(shield_ima_count(l), lists[i].entries);
                assert_int_equal(shield_ima_quirks(l)->n, lists[i].quirks);
                assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
                if (shield_reasons_count(&r, SHIELD_SEV_ERROR) != lists[i].mismatches ||
                    shield_reasons_count(&r, SHIELD_SEV_INFO) != lists[i].violations ||
                    shield_reasons_count(&r, SHIELD_SEV_WARNING) != 0)
                        fail_msg("%s: %zu mismatches, %zu violations", lists[i].name,
                                 shield_reasons_count(&r, SHIELD_SEV_ERROR), shield_reasons_count(&r, SHIELD_SEV_INFO));
                /* Every entry is understood, so every bank can be replayed. */
                for (size_t e = 0; e < shield_ima_count(l); e++)
                        assert_true(shield_ima_entry(l, e)->template_known);
                assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA256, NULL, pcr), 0);
                assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA1, NULL, pcr), 0);
                shield_reasons_clear(&r);
                shield_ima_free(l);
        }
}

/* The negatives name the entry they are about. */
static void test_invalidated_entries(void **state) {
        (void)state;
        const struct {
                const char *name;
                size_t entry;
                const char *path;
        } neg[] = {
                { "tpm2-tss-sml-ima-sha1-invalidated.bin", 0, "boot_aggregate" },
                { "tpm2-tss-sml-ima-sig-sha256-invalidated.bin", 1, "/init" },
        };
        for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++) {
                struct shield_ima_list *l = NULL;
                struct shield_reasons r = { 0 };
                assert_int_equal(load(neg[i].name, &l, NULL), 0);
                assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
                assert_int_equal(r.n, 1);
                assert_string_equal(r.items[0].code, "ima-violation");
                assert_int_equal(r.items[0].event_index, (long)neg[i].entry);
                assert_true(shield_ima_entry(l, neg[i].entry)->violation);
                assert_string_equal(shield_ima_entry(l, neg[i].entry)->path, neg[i].path);
                shield_reasons_clear(&r);
                shield_ima_free(l);
        }
}

static void test_sm3_list_as_sha256(void **state) {
        (void)state;
        struct shield_ima_options o = { .template_hash_alg = SHIELD_ALG_SHA256 };
        struct shield_ima_list *l = NULL;
        struct shield_reasons r = { 0 };
        assert_int_equal(load_opts("keylime-ima-ng-sm3_256.ascii", &o, &l, NULL), 0);
        assert_int_equal(shield_ima_entry(l, 1)->file_hash_alg, SHIELD_ALG_SM3_256);
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_ERROR), 1);
        assert_string_equal(r.items[1].code, "ima-template-hash-mismatch");
        assert_int_equal(r.items[1].event_index, 1);
        assert_non_null(strstr(r.items[1].message, "line 2"));
        shield_reasons_clear(&r);
        shield_ima_free(l);
}

static void test_truncated_record_is_refused(void **state) {
        (void)state;
        struct shield_ima_list *l = NULL;
        struct shield_diag d = { 0 };
        assert_int_equal(load("tpm2-tss-sml-ima-ng-sha1-invalidated.bin", &l, &d), SHIELD_E_TRUNCATED);
        assert_null(l);
        /* The template data length field sits at 4 + 20 + 4 + 6: it announces 49 bytes, 48 are left. */
        assert_int_equal(d.offset, 34);
        assert_int_equal(d.index, 0);
        assert_non_null(strstr(d.msg, "49"));
}

static void test_boot_aggregate_against_firmware_log(void **state) {
        (void)state;
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len;
        struct shield_eventlog *log = NULL;
        struct shield_pcrs fw;

        assert_true(asprintf(&path, "%s/eventlogs/hyperv-vm-openeuler.bin", data_dir) > 0);
        if (access(path, R_OK) != 0) {
                free(path);
                skip();
        }
        assert_int_equal(shield_read_file(path, SHIELD_EVENTLOG_MAX, &buf, &len), 0);
        assert_int_equal(shield_eventlog_parse(buf, len, &log, NULL), 0);
        assert_int_equal(shield_eventlog_replay(log, NULL, &fw, NULL), 0);
        const struct {
                const char *name;
                bool covers_pcr8;
        } lists_fw[] = {
                { "openeuler-hyperv-ima-ng-sha1.ascii", false },  /* SHA-1 over PCRs 0-7 */
                { "openeuler-hyperv-ima-ng-sha256.ascii", true }, /* SHA-256 over PCRs 0-9 */
        };
        for (size_t i = 0; i < 2; i++) {
                struct shield_ima_list *l = NULL;
                struct shield_reasons r = { 0 };
                assert_int_equal(load(lists_fw[i].name, &l, NULL), 0);
                assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), 0);
                assert_int_equal(r.n, 0);
                /* One PCR of the firmware changed: boot_aggregate no longer matches. */
                struct shield_pcrs edited = fw;
                for (size_t b = 0; b < edited.n_banks; b++)
                        edited.banks[b].value[0][0] ^= 1;
                assert_int_equal(shield_ima_check_boot_aggregate(l, &edited, &r), SHIELD_E_VERIFY);
                assert_string_equal(r.items[0].code, "ima-boot-aggregate-mismatch");
                assert_int_equal(r.items[0].event_index, 0);
                /* PCR 8 is covered by the SHA-256 boot_aggregate only. */
                edited = fw;
                for (size_t b = 0; b < edited.n_banks; b++)
                        edited.banks[b].value[8][0] ^= 1;
                assert_int_equal(shield_ima_check_boot_aggregate(l, &edited, &r),
                                 lists_fw[i].covers_pcr8 ? SHIELD_E_VERIFY : 0);
                shield_reasons_clear(&r);
                shield_ima_free(l);
        }
        shield_eventlog_free(log);
        free(buf);
        free(path);
}

int main(void) {
        char *probe = NULL;
        data_dir = getenv("SHIELD_SHARED_DATA");
        if (!data_dir || asprintf(&probe, "%s/ima", data_dir) < 0 || access(probe, R_OK) != 0) {
                printf("conformance-ima: skipped: no shared data at %s (a fresh clone has none)\n",
                       data_dir ? data_dir : "(SHIELD_SHARED_DATA unset)");
                free(probe);
                return 77;
        }
        free(probe);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_lists),
                cmocka_unit_test(test_invalidated_entries),
                cmocka_unit_test(test_sm3_list_as_sha256),
                cmocka_unit_test(test_truncated_record_is_refused),
                cmocka_unit_test(test_boot_aggregate_against_firmware_log),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
