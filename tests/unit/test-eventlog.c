/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event-log parser, replay and integrity check on logs built here from
 * the layouts of the TCG PC Client PFP 1.05 (section 10.2 and 10.4). Real
 * machines' logs are covered by tests/conformance; real boots by tests/e2e.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shield/eventlog.h"

#include "log-builder.h"

static struct shield_eventlog *parse_ok(const struct buf *b) {
        struct shield_eventlog *log = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_eventlog_parse(b->b, b->n, &log, &diag);
        if (r < 0)
                fail_msg("parse: %s at %zu: %s", shield_strerror(r), diag.offset, diag.msg);
        return log;
}

/* Expect a parse failure with code, and a diag naming at least the offset. */
static void parse_fails(const struct buf *b, int code, size_t offset) {
        struct shield_eventlog *log = (void *)0xaa;
        struct shield_diag diag = { 0 };
        assert_int_equal(shield_eventlog_parse(b->b, b->n, &log, &diag), code);
        assert_ptr_equal(log, (void *)0xaa); /* outputs untouched on failure */
        assert_int_equal(diag.offset, offset);
        assert_true(diag.msg[0] != '\0');
}

static const uint8_t sep[4] = { 0, 0, 0, 0 };

static void test_legacy_log(void **state) {
        (void)state;
        struct buf b = { 0 };
        legacy_event(&b, 0, EV_S_CRTM_VERSION, "v1", 2);
        legacy_event(&b, 7, EV_SEPARATOR, sep, 4);
        struct shield_eventlog *log = parse_ok(&b);
        assert_int_equal(shield_eventlog_format(log), SHIELD_EVENTLOG_LEGACY_SHA1);
        assert_null(shield_eventlog_specid(log));
        assert_int_equal(shield_eventlog_count(log), 2);
        const struct shield_event *ev = shield_eventlog_event(log, 1);
        assert_int_equal(ev->pcr, 7);
        assert_int_equal(ev->type, EV_SEPARATOR);
        assert_int_equal(ev->offset, 34);
        assert_int_equal(ev->size, 36);
        assert_int_equal(ev->n_digests, 1);
        assert_null(shield_eventlog_event(log, 2));
        shield_eventlog_free(log);
}

static void test_agile_log_and_replay(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t loc[17] = "StartupLocality";
        loc[16] = 3;
        specid(&b, 2, 0);
        agile_event(&b, 0, EV_NO_ACTION, loc, sizeof loc);
        agile_event(&b, 0, EV_S_CRTM_VERSION, "v1", 2);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);
        agile_event(&b, 0xFFFFFFFF, EV_NO_ACTION, "WBCL", 4);
        struct shield_eventlog *log = parse_ok(&b);
        assert_int_equal(shield_eventlog_format(log), SHIELD_EVENTLOG_CRYPTO_AGILE);
        assert_int_equal(shield_eventlog_specid(log)->n_algs, 2);
        assert_int_equal(shield_eventlog_startup_locality(log), 3);

        struct shield_pcrs pcrs;
        memset(&pcrs, 0xaa, sizeof pcrs);
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, NULL), 0);
        assert_int_equal(pcrs.n_banks, 2);
        const struct shield_pcr_bank *sha256 = shield_pcrs_bank_const(&pcrs, SHIELD_ALG_SHA256);
        assert_non_null(sha256);
        /* PCR 0 starts at 00..03 (locality 3), then one extend with H("v1"). */
        uint8_t expect[32] = { 0 }, d[32], cat[64];
        expect[31] = 3;
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, "v1", 2, d), 0);
        memcpy(cat, expect, 32);
        memcpy(cat + 32, d, 32);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, 64, expect), 0);
        assert_memory_equal(sha256->value[0], expect, 32);
        /* 17-22 stay all ones, untouched PCRs stay zero, every PCR is present. */
        for (int i = 0; i < 32; i++) {
                assert_int_equal(sha256->value[17][i], 0xff);
                assert_int_equal(sha256->value[23][i], 0);
                assert_int_equal(sha256->value[3][i], 0);
        }
        assert_int_equal(sha256->present, 0xffffff);
        assert_int_equal(sha256->extended, (1u << 0) | (1u << 7));
        shield_eventlog_free(log);
}

static void test_quirks_are_noted_not_refused(void **state) {
        (void)state;
        struct buf b = { 0 };
        specid(&b, 2, 0);
        agile_event(&b, 0xFFFFFFFF, EV_NO_ACTION, "WBCL", 4);
        agile_event(&b, 30, EV_ACTION, "odd", 3);
        uint8_t pad[40] = { 0 };
        put(&b, pad, sizeof pad);
        struct shield_eventlog *log = parse_ok(&b);
        const struct shield_reasons *q = shield_eventlog_quirks(log);
        bool wbcl = false, pcr = false, padding = false;
        for (size_t i = 0; i < q->n; i++) {
                wbcl |= strcmp(q->items[i].code, "quirk-wbcl-records") == 0;
                pcr |= strcmp(q->items[i].code, "quirk-pcr-index") == 0;
                padding |= strcmp(q->items[i].code, "quirk-trailing-padding") == 0;
        }
        assert_true(wbcl && pcr && padding);
        assert_int_equal(shield_eventlog_count(log), 3);
        shield_eventlog_free(log);
}

static void test_truncated_and_malformed(void **state) {
        (void)state;
        struct buf b = { 0 };

        parse_fails(&b, SHIELD_E_TRUNCATED, 0); /* empty */
        legacy_event(&b, 0, EV_SEPARATOR, sep, 4);
        b.n -= 1; /* EventSize says 4, 3 are left */
        parse_fails(&b, SHIELD_E_TRUNCATED, 32);
        b.n = 20; /* inside the header */
        parse_fails(&b, SHIELD_E_TRUNCATED, 0);

        /* EventSize over the cap. */
        struct buf big = { 0 };
        u32(&big, 0);
        u32(&big, EV_ACTION);
        uint8_t zero[20] = { 0 };
        put(&big, zero, 20);
        u32(&big, SHIELD_EVENT_DATA_MAX + 1);
        parse_fails(&big, SHIELD_E_LIMIT, 28);
}

static void test_specid_errors(void **state) {
        (void)state;
        struct buf b = { 0 };
        specid(&b, 0, 0); /* no algorithms */
        parse_fails(&b, SHIELD_E_FORMAT, 32 + 24);

        struct buf many = { 0 };
        specid(&many, SHIELD_EVENTLOG_ALGS_MAX + 1, 0);
        parse_fails(&many, SHIELD_E_LIMIT, 32 + 24);

        /* sha256 declared with a 20-byte digest size. */
        struct buf wrong = { 0 };
        specid(&wrong, 2, 0);
        wrong.b[32 + 28 + 4 + 2] = 20;
        parse_fails(&wrong, SHIELD_E_FORMAT, 32 + 28 + 4);
}

static void test_digest_count_and_algorithm_checked(void **state) {
        (void)state;
        struct buf b = { 0 };
        specid(&b, 2, 0);
        size_t at = b.n;
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);

        struct buf three = b;
        three.b[at + 8] = 3; /* digest count 3, two banks declared */
        parse_fails(&three, SHIELD_E_FORMAT, at + 8);

        struct buf alg = b;
        alg.b[at + 12] = 0x0d; /* sha512, not declared */
        parse_fails(&alg, SHIELD_E_FORMAT, at + 12);

        struct buf dup = b;
        dup.b[at + 12 + 2 + 20] = 0x04; /* second digest repeats sha1 */
        dup.b[at + 12 + 2 + 20 + 1] = 0x00;
        parse_fails(&dup, SHIELD_E_FORMAT, at + 12 + 22);
}

static void test_integrity_catches_edits(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t var[32 + 20 + 1] = { 0 };
        /* UEFI_VARIABLE_DATA for SecureBoot = 0. */
        var[16] = 10;
        var[24] = 1;
        const char *name = "SecureBoot";
        for (int i = 0; i < 10; i++)
                var[32 + 2 * i] = (uint8_t)name[i];
        var[52] = 0;
        specid(&b, 2, 0);
        agile_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, var, sizeof var);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, "image", 5);

        struct shield_eventlog *log = parse_ok(&b);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_eventlog_check_integrity(log, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_ERROR), 0);
        const struct shield_event *ev = shield_eventlog_event(log, 1);
        size_t value_at = ev->offset + ev->size - 1;
        shield_eventlog_free(log);

        /* Claim SecureBoot = 1: the data no longer matches either bank's digest. */
        b.b[value_at] = 1;
        log = parse_ok(&b);
        assert_int_equal(shield_eventlog_check_integrity(log, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_ERROR), 2);
        assert_string_equal(r.items[0].code, "event-digest-mismatch");
        assert_int_equal(r.items[0].event_index, 1);
        assert_int_equal(r.items[0].pcr, 7);
        shield_reasons_clear(&r);
        shield_eventlog_free(log);
}

static void test_event_type_names(void **state) {
        (void)state;
        assert_string_equal(shield_event_type_name(EV_SEPARATOR), "EV_SEPARATOR");
        assert_string_equal(shield_event_type_name(EV_EFI_VARIABLE_AUTHORITY), "EV_EFI_VARIABLE_AUTHORITY");
        assert_null(shield_event_type_name(0x12345678));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_legacy_log),
                cmocka_unit_test(test_agile_log_and_replay),
                cmocka_unit_test(test_quirks_are_noted_not_refused),
                cmocka_unit_test(test_truncated_and_malformed),
                cmocka_unit_test(test_specid_errors),
                cmocka_unit_test(test_digest_count_and_algorithm_checked),
                cmocka_unit_test(test_integrity_catches_edits),
                cmocka_unit_test(test_event_type_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
