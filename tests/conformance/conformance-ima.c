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

static int load(const char *name, struct shield_ima_list **ret, struct shield_diag *d) {
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_true(asprintf(&path, "%s/ima/%s", data_dir, name) > 0);
        assert_int_equal(shield_read_file(path, SHIELD_IMA_LIST_MAX, &buf, &len), 0);
        int r = shield_ima_parse(buf, len, 0, ret, d);
        free(buf);
        free(path);
        return r;
}

static const struct {
        const char *name;
        size_t entries, violations, mismatches;
} lists[] = {
        { "openeuler-hyperv-ima-ng-sha1.ascii", 2349, 1, 0 },
        { "openeuler-hyperv-ima-ng-sha256.ascii", 2514, 3, 0 },
        { "openeuler-ima-template-sha1.ascii", 5566, 14, 0 },
        { "rust-keylime-ubuntu-ima-ng-sha1.ascii", 826, 0, 0 },
        { "keylime-ima-ng-sha256.ascii", 2, 0, 0 },
        { "keylime-ima-ng-sm3_256.ascii", 2, 1, 1 },      /* synthetic: its template hash does not match */
        { "tpm2-tss-sml-ima-ng-sha1.bin", 6, 0, 0 },
        { "tpm2-tss-sml-ima-sha1.bin", 12, 0, 0 },
        { "tpm2-tss-sml-ima-sig-sha256.bin", 9, 0, 0 },
        { "tpm2-tss-sml-ima-sha1-invalidated.bin", 1, 1, 0 },
        { "tpm2-tss-sml-ima-sig-sha256-invalidated.bin", 2, 1, 0 },
};

static void test_real_lists(void **state) {
        (void)state;
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
                struct shield_ima_list *l = NULL;
                struct shield_diag d = { 0 };
                struct shield_reasons r = { 0 };
                if (load(lists[i].name, &l, &d) != 0)
                        fail_msg("%s: %s", lists[i].name, d.msg);
                assert_int_equal(shield_ima_count(l), lists[i].entries);
                assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
                if (shield_reasons_count(&r, SHIELD_SEV_ERROR) != lists[i].mismatches ||
                    shield_reasons_count(&r, SHIELD_SEV_INFO) != lists[i].violations)
                        fail_msg("%s: %zu mismatches, %zu violations", lists[i].name,
                                 shield_reasons_count(&r, SHIELD_SEV_ERROR), shield_reasons_count(&r, SHIELD_SEV_INFO));
                shield_reasons_clear(&r);
                shield_ima_free(l);
        }
}

static void test_truncated_record_is_refused(void **state) {
        (void)state;
        struct shield_ima_list *l = NULL;
        struct shield_diag d = { 0 };
        assert_int_equal(load("tpm2-tss-sml-ima-ng-sha1-invalidated.bin", &l, &d), SHIELD_E_TRUNCATED);
        assert_true(d.msg[0]);
}

static void test_boot_aggregate_against_firmware_log(void **state) {
        (void)state;
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len;
        struct shield_eventlog *log = NULL;
        struct shield_pcrs fw;

        assert_true(asprintf(&path, "%s/eventlogs/hyperv-vm-openeuler.bin", data_dir) > 0);
        assert_int_equal(shield_read_file(path, SHIELD_EVENTLOG_MAX, &buf, &len), 0);
        assert_int_equal(shield_eventlog_parse(buf, len, &log, NULL), 0);
        assert_int_equal(shield_eventlog_replay(log, NULL, &fw, NULL), 0);
        const char *names[] = { "openeuler-hyperv-ima-ng-sha1.ascii", "openeuler-hyperv-ima-ng-sha256.ascii" };
        for (size_t i = 0; i < 2; i++) {
                struct shield_ima_list *l = NULL;
                struct shield_reasons r = { 0 };
                assert_int_equal(load(names[i], &l, NULL), 0);
                assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), 0);
                /* One PCR of the firmware changed: boot_aggregate no longer matches. */
                struct shield_pcrs edited = fw;
                for (size_t b = 0; b < edited.n_banks; b++)
                        edited.banks[b].value[0][0] ^= 1;
                assert_int_equal(shield_ima_check_boot_aggregate(l, &edited, &r), SHIELD_E_VERIFY);
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
                cmocka_unit_test(test_truncated_record_is_refused),
                cmocka_unit_test(test_boot_aggregate_against_firmware_log),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
