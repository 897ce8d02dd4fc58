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

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

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


/*
 * Builders for logs with any set of banks (PFP 1.05, 10.4.5.1 and 10.2.2).
 * A digest of an algorithm we cannot compute is filled with 0x5a.
 */
struct bank {
        uint16_t alg, size;
};

static void specid_banks(struct buf *b, const struct bank *banks, uint32_t n, const void *vendor, uint8_t vendor_size,
                         uint32_t event_size_cut) {
        struct buf s = { 0 };
        uint8_t zero[20] = { 0 };
        uint8_t v[4] = { 0, 2, 0, 2 }; /* minor 0, major 2, errata 0, uintnSize 2 */

        put(&s, "Spec ID Event03", 16);
        u32(&s, 0);
        put(&s, v, 4);
        u32(&s, n);
        for (uint32_t i = 0; i < n; i++) {
                u16(&s, banks[i].alg);
                u16(&s, banks[i].size);
        }
        put(&s, &vendor_size, 1);
        if (vendor_size)
                put(&s, vendor, vendor_size);
        u32(b, 0);
        u32(b, EV_NO_ACTION);
        put(b, zero, 20);
        u32(b, (uint32_t)s.n - event_size_cut);
        put(b, s.b, s.n);
}

static void event_banks(struct buf *b, uint32_t pcr, uint32_t type, const void *data, uint32_t size,
                        const struct bank *banks, uint32_t n) {
        u32(b, pcr);
        u32(b, type);
        u32(b, n);
        for (uint32_t i = 0; i < n; i++) {
                uint8_t d[SHIELD_HASH_MAX_SIZE];
                u16(b, banks[i].alg);
                if (shield_hash_size(banks[i].alg) == banks[i].size)
                        assert_int_equal(shield_hash(banks[i].alg, data, size, d), 0);
                else
                        memset(d, 0x5a, sizeof d);
                put(b, d, banks[i].size);
        }
        u32(b, size);
        put(b, data, size);
}

static bool has_quirk(const struct shield_eventlog *log, const char *code) {
        const struct shield_reasons *q = shield_eventlog_quirks(log);
        for (size_t i = 0; i < q->n; i++)
                if (strcmp(q->items[i].code, code) == 0)
                        return true;
        return false;
}

static const struct shield_reason *find_reason(const struct shield_reasons *r, const char *code) {
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->items[i].code, code) == 0)
                        return &r->items[i];
        return NULL;
}

/* pcr = H(pcr || H(data)) computed here from one-shot hashes, independent of the replay loop. */
static void extend_with(uint16_t alg, uint8_t *pcr, const void *data, size_t len) {
        size_t n = shield_hash_size(alg);
        uint8_t cat[2 * SHIELD_HASH_MAX_SIZE];
        memcpy(cat, pcr, n);
        assert_int_equal(shield_hash(alg, data, len, cat + n), 0);
        assert_int_equal(shield_hash(alg, cat, 2 * n, pcr), 0);
}

static void test_legacy_replay_and_accessors(void **state) {
        (void)state;
        struct buf b = { 0 };
        legacy_event(&b, 0, EV_S_CRTM_VERSION, "v1", 2);
        legacy_event(&b, 4, EV_EFI_ACTION, "Calling EFI Application from Boot Option", 40);
        legacy_event(&b, 17, EV_ACTION, "drtm", 4);
        legacy_event(&b, 24, EV_ACTION, "nope", 4);
        struct shield_eventlog *log = parse_ok(&b);
        size_t len;
        assert_non_null(shield_eventlog_bytes(log, &len));
        assert_int_equal(len, b.n);
        assert_memory_equal(shield_eventlog_bytes(log, NULL), b.b, b.n);
        assert_int_equal(shield_eventlog_startup_locality(log), -1);
        assert_true(has_quirk(log, "quirk-legacy-format"));
        assert_true(has_quirk(log, "quirk-pcr-index"));
        /* Records tile the log. */
        size_t at = 0;
        for (size_t i = 0; i < shield_eventlog_count(log); i++) {
                const struct shield_event *ev = shield_eventlog_event(log, i);
                assert_int_equal(ev->index, i);
                assert_int_equal(ev->offset, at);
                at += ev->size;
        }
        assert_int_equal(at, b.n);

        struct shield_pcrs pcrs;
        struct shield_reasons skipped = { 0 };
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, &skipped), 0);
        assert_int_equal(skipped.n, 0);
        assert_int_equal(pcrs.n_banks, 1);
        const struct shield_pcr_bank *sha1 = shield_pcrs_bank_const(&pcrs, SHIELD_ALG_SHA1);
        assert_non_null(sha1);
        uint8_t pcr0[20] = { 0 }, pcr17[20];
        memset(pcr17, 0xff, sizeof pcr17);
        extend_with(SHIELD_ALG_SHA1, pcr0, "v1", 2);
        extend_with(SHIELD_ALG_SHA1, pcr17, "drtm", 4);
        assert_memory_equal(sha1->value[0], pcr0, 20);
        assert_memory_equal(sha1->value[17], pcr17, 20);
        assert_int_equal(sha1->extended, (1u << 0) | (1u << 4) | (1u << 17));
        shield_eventlog_free(log);
}

/* edge-short-no-action.bin's shape: one StartupLocality record and no Spec ID. */
static void test_locality_only_log_is_legacy(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t loc[17] = "StartupLocality";
        loc[16] = 4;
        legacy_event(&b, 0, EV_NO_ACTION, loc, sizeof loc);
        struct shield_eventlog *log = parse_ok(&b);
        assert_int_equal(shield_eventlog_format(log), SHIELD_EVENTLOG_LEGACY_SHA1);
        assert_int_equal(shield_eventlog_count(log), 1);
        assert_int_equal(shield_eventlog_startup_locality(log), 4);
        assert_true(has_quirk(log, "quirk-startup-locality"));
        struct shield_pcrs pcrs;
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, NULL), 0);
        const struct shield_pcr_bank *sha1 = shield_pcrs_bank_const(&pcrs, SHIELD_ALG_SHA1);
        uint8_t expect[20] = { 0 };
        expect[19] = 4;
        assert_memory_equal(sha1->value[0], expect, 20);
        assert_int_equal(sha1->extended, 1); /* the locality set PCR 0 */
        shield_eventlog_free(log);
}

static void test_every_known_bank_and_an_unknown_one(void **state) {
        (void)state;
        const struct bank banks[] = {
                { SHIELD_ALG_SHA1, 20 },   { SHIELD_ALG_SHA256, 32 }, { SHIELD_ALG_SHA384, 48 },
                { SHIELD_ALG_SHA512, 64 }, { SHIELD_ALG_SM3_256, 32 }, { 0x4242, 24 },
        };
        size_t n = ELEMENTS(banks);
        uint8_t probe[32];
        if (shield_hash(SHIELD_ALG_SM3_256, "", 0, probe) < 0)
                n = 0; /* decided below: SM3 missing from this OpenSSL */
        struct bank use[6];
        size_t k = 0;
        for (size_t i = 0; i < ELEMENTS(banks); i++)
                if (banks[i].alg != SHIELD_ALG_SM3_256 || n)
                        use[k++] = banks[i];
        struct buf b = { 0 };
        specid_banks(&b, use, (uint32_t)k, NULL, 0, 0);
        event_banks(&b, 7, EV_SEPARATOR, sep, 4, use, (uint32_t)k);
        event_banks(&b, 3, EV_EFI_ACTION, "x", 1, use, (uint32_t)k);
        struct shield_eventlog *log = parse_ok(&b);
        const struct shield_specid *spec = shield_eventlog_specid(log);
        assert_non_null(spec);
        assert_int_equal(spec->n_algs, k);
        assert_int_equal(spec->algs[k - 1].alg, 0x4242);
        assert_int_equal(spec->algs[k - 1].size, 24);
        const struct shield_event *ev = shield_eventlog_event(log, 1);
        assert_int_equal(ev->n_digests, k);
        assert_int_equal(ev->digests[k - 1].size, 24); /* carried by the size the header gives */
        assert_true(has_quirk(log, "quirk-unknown-algorithm"));

        struct shield_pcrs pcrs;
        struct shield_reasons skipped = { 0 };
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, &skipped), 0);
        assert_int_equal(pcrs.n_banks, k - 1);
        assert_non_null(find_reason(&skipped, "replay-unknown-bank"));
        for (size_t i = 0; i + 1 < k; i++) {
                const struct shield_pcr_bank *bank = shield_pcrs_bank_const(&pcrs, use[i].alg);
                uint8_t pcr7[SHIELD_HASH_MAX_SIZE] = { 0 };
                assert_non_null(bank);
                extend_with(use[i].alg, pcr7, sep, 4);
                assert_memory_equal(bank->value[7], pcr7, use[i].size);
        }
        /* The unknown bank's digests are not judged either. */
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_eventlog_check_integrity(log, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_ERROR), 0);
        shield_reasons_clear(&r);
        shield_reasons_clear(&skipped);
        shield_eventlog_free(log);
}

static void test_missing_digest_noted_once(void **state) {
        (void)state;
        const struct bank banks[] = { { SHIELD_ALG_SHA1, 20 }, { SHIELD_ALG_SHA256, 32 } };
        struct buf b = { 0 };
        specid_banks(&b, banks, 2, NULL, 0, 0);
        for (int i = 0; i < 5; i++)
                event_banks(&b, 2, EV_EFI_BOOT_SERVICES_DRIVER, "drv", 3, &banks[1], 1); /* sha256 only */
        struct shield_eventlog *log = parse_ok(&b);
        const struct shield_reasons *q = shield_eventlog_quirks(log);
        size_t seen = 0;
        for (size_t i = 0; i < q->n; i++)
                if (strcmp(q->items[i].code, "quirk-missing-bank-digest") == 0) {
                        seen++;
                        assert_int_equal(q->items[i].event_index, 1);
                        assert_non_null(strstr(q->items[i].message, "5 events in all"));
                }
        assert_int_equal(seen, 1);
        struct shield_pcrs pcrs;
        struct shield_reasons skipped = { 0 };
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, &skipped), 0);
        const struct shield_reason *m = find_reason(&skipped, "replay-missing-digest");
        assert_non_null(m);
        assert_int_equal(m->bank, SHIELD_ALG_SHA1);
        assert_int_equal(skipped.n, 1);
        shield_reasons_clear(&skipped);
        shield_eventlog_free(log);
}

static void test_vendor_info(void **state) {
        (void)state;
        const struct bank banks[] = { { SHIELD_ALG_SHA256, 32 } };
        struct buf in = { 0 };
        specid_banks(&in, banks, 1, "VEND", 4, 0);
        event_banks(&in, 7, EV_SEPARATOR, sep, 4, banks, 1);
        struct shield_eventlog *log = parse_ok(&in);
        const struct shield_specid *spec = shield_eventlog_specid(log);
        assert_int_equal(spec->vendor_info_size, 4);
        assert_memory_equal(spec->vendor_info, "VEND", 4);
        assert_true(has_quirk(log, "quirk-specid-vendor-info"));
        assert_false(has_quirk(log, "quirk-specid-vendor-info-outside-event"));
        shield_eventlog_free(log);

        /* fragment-specid-vendordata.bin's shape: EventSize stops before the vendor info. */
        struct buf out = { 0 };
        specid_banks(&out, banks, 1, "VEND", 4, 4);
        event_banks(&out, 7, EV_SEPARATOR, sep, 4, banks, 1);
        log = parse_ok(&out);
        spec = shield_eventlog_specid(log);
        assert_memory_equal(spec->vendor_info, "VEND", 4);
        assert_true(has_quirk(log, "quirk-specid-vendor-info-outside-event"));
        assert_int_equal(shield_eventlog_count(log), 2);
        assert_int_equal(shield_eventlog_event(log, 1)->type, EV_SEPARATOR);
        shield_eventlog_free(log);

        /* Vendor info running past the log is an error. */
        struct buf past = { 0 };
        specid_banks(&past, banks, 1, "VEND", 4, 4);
        past.n -= 2;
        parse_fails(&past, SHIELD_E_TRUNCATED, 32 + 33); /* just after vendorInfoSize */
}

static void test_trailing_bytes(void **state) {
        (void)state;
        struct buf zero = { 0 }, ff = { 0 }, junk = { 0 };
        uint8_t z[100] = { 0 }, f[7];
        memset(f, 0xff, sizeof f);

        specid(&zero, 2, 0);
        agile_event(&zero, 7, EV_SEPARATOR, sep, 4);
        junk = ff = zero;
        put(&zero, z, sizeof z);
        struct shield_eventlog *log = parse_ok(&zero);
        assert_int_equal(shield_eventlog_count(log), 2);
        assert_true(has_quirk(log, "quirk-trailing-padding"));
        shield_eventlog_free(log);

        put(&ff, f, sizeof f);
        log = parse_ok(&ff);
        assert_true(has_quirk(log, "quirk-trailing-padding"));
        shield_eventlog_free(log);

        /* Bytes that are neither padding nor an event. */
        size_t at = junk.n;
        put(&junk, "\x07\x00\x00\x00\x04", 5);
        parse_fails(&junk, SHIELD_E_TRUNCATED, at);
}

static void test_real_firmware_quirks(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t loc[17] = "StartupLocality";
        const char ebs[] = "Exit Boot Services Invocation";
        loc[16] = 3;
        specid(&b, 2, 0);
        agile_event(&b, 0, EV_NO_ACTION, loc, sizeof loc);
        agile_event(&b, 0, EV_EFI_HCRTM_EVENT, "HCRTM", 5);
        agile_event(&b, 0, EV_POST_CODE, "ACPI DATA", 9); /* Lenovo, HP */
        agile_event(&b, 0, EV_POST_CODE, "ACPI DATA", 9);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);
        agile_event(&b, 0xFFFFFFFF, EV_EVENT_TAG, "wbcl", 4);
        agile_event(&b, 0xFFFFFFFF, EV_EVENT_TAG, "wbcl", 4);
        struct shield_eventlog *log = parse_ok(&b);
        assert_true(has_quirk(log, "quirk-startup-locality"));
        assert_true(has_quirk(log, "quirk-hcrtm-without-locality"));
        assert_true(has_quirk(log, "quirk-post-code-string"));
        assert_true(has_quirk(log, "quirk-wbcl-records"));
        assert_true(has_quirk(log, "quirk-no-exit-boot-services"));
        assert_false(has_quirk(log, "quirk-pcr-index"));
        for (size_t i = 0; i < shield_eventlog_quirks(log)->n; i++) {
                const struct shield_reason *q = &shield_eventlog_quirks(log)->items[i];
                assert_true(q->severity != SHIELD_SEV_ERROR);
                assert_int_equal(strncmp(q->code, "quirk-", 6), 0);
                if (strcmp(q->code, "quirk-post-code-string") == 0) {
                        assert_int_equal(q->event_index, 3);
                        assert_int_equal(q->offset, shield_eventlog_event(log, 3)->offset);
                }
        }
        /* WBCL records are not extended: PCR 0 = 00..03 + H-CRTM + two POST codes only. */
        struct shield_pcrs pcrs;
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, NULL), 0);
        const struct shield_pcr_bank *sha256 = shield_pcrs_bank_const(&pcrs, SHIELD_ALG_SHA256);
        uint8_t pcr0[32] = { 0 };
        pcr0[31] = 3;
        extend_with(SHIELD_ALG_SHA256, pcr0, "HCRTM", 5);
        extend_with(SHIELD_ALG_SHA256, pcr0, "ACPI DATA", 9);
        extend_with(SHIELD_ALG_SHA256, pcr0, "ACPI DATA", 9);
        assert_memory_equal(sha256->value[0], pcr0, 32);
        assert_int_equal(sha256->extended, (1u << 0) | (1u << 7));
        shield_eventlog_free(log);

        /* With the ExitBootServices action and an H-CRTM locality of 4, neither finding. */
        struct buf ok = { 0 };
        loc[16] = 4;
        specid(&ok, 2, 0);
        agile_event(&ok, 0, EV_NO_ACTION, loc, sizeof loc);
        agile_event(&ok, 0, EV_EFI_HCRTM_EVENT, "HCRTM", 5);
        agile_event(&ok, 5, EV_EFI_ACTION, ebs, sizeof ebs - 1);
        log = parse_ok(&ok);
        assert_false(has_quirk(log, "quirk-hcrtm-without-locality"));
        assert_false(has_quirk(log, "quirk-no-exit-boot-services"));
        shield_eventlog_free(log);
}

/* HP logs oddities in the Spec ID record's header: noted, still crypto-agile. */
static void test_specid_header_oddities(void **state) {
        (void)state;
        struct buf b = { 0 };
        specid(&b, 2, 0);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);
        b.b[4] = 0x05; /* EventType EV_ACTION instead of EV_NO_ACTION */
        b.b[8] = 0x01; /* a non-zero digest */
        b.b[32 + 20] = 9; /* specVersionMinor */
        struct shield_eventlog *log = parse_ok(&b);
        assert_int_equal(shield_eventlog_format(log), SHIELD_EVENTLOG_CRYPTO_AGILE);
        assert_true(has_quirk(log, "quirk-specid-header"));
        assert_true(has_quirk(log, "quirk-specid-digest"));
        assert_true(has_quirk(log, "quirk-specid-version"));
        /* The header is still not a measurement: not extended, not judged. */
        struct shield_pcrs pcrs;
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_eventlog_replay(log, NULL, &pcrs, &r), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(shield_pcrs_bank_const(&pcrs, SHIELD_ALG_SHA1)->extended, 1u << 7);
        assert_int_equal(shield_eventlog_check_integrity(log, NULL, &r), 0);
        assert_int_equal(r.n, 0);
        shield_eventlog_free(log);
}

static void test_more_specid_errors(void **state) {
        (void)state;
        const struct bank dup[] = { { SHIELD_ALG_SHA256, 32 }, { SHIELD_ALG_SHA256, 32 } };
        const struct bank zero_size[] = { { 0x4242, 0 } };
        const struct bank huge[] = { { 0x4242, SHIELD_HASH_MAX_SIZE + 1 } };
        const struct bank sha384_as_48[] = { { SHIELD_ALG_SHA384, 64 } };
        struct buf b;

        memset(&b, 0, sizeof b);
        specid_banks(&b, dup, 2, NULL, 0, 0);
        parse_fails(&b, SHIELD_E_FORMAT, 32 + 28 + 4);
        memset(&b, 0, sizeof b);
        specid_banks(&b, zero_size, 1, NULL, 0, 0);
        parse_fails(&b, SHIELD_E_FORMAT, 32 + 28);
        memset(&b, 0, sizeof b);
        specid_banks(&b, huge, 1, NULL, 0, 0);
        parse_fails(&b, SHIELD_E_FORMAT, 32 + 28);
        memset(&b, 0, sizeof b);
        specid_banks(&b, sha384_as_48, 1, NULL, 0, 0);
        parse_fails(&b, SHIELD_E_FORMAT, 32 + 28);

        /* numberOfAlgorithms says 2, the event holds one entry. */
        memset(&b, 0, sizeof b);
        specid_banks(&b, dup, 1, NULL, 0, 0);
        b.b[32 + 24] = 2;
        parse_fails(&b, SHIELD_E_TRUNCATED, 32 + 28 + 4);

        /* A Spec ID event too short for its fixed header. */
        memset(&b, 0, sizeof b);
        uint8_t zero[20] = { 0 };
        u32(&b, 0);
        u32(&b, EV_NO_ACTION);
        put(&b, zero, 20);
        u32(&b, 20);
        put(&b, "Spec ID Event03\0\0\0\0\0", 20);
        parse_fails(&b, SHIELD_E_TRUNCATED, 32 + 20);
}

static void test_agile_event_errors(void **state) {
        (void)state;
        struct buf b = { 0 };
        specid(&b, 2, 0);
        size_t at = b.n;
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);

        struct buf c = b;
        c.b[at + 8] = 0; /* no digests */
        parse_fails(&c, SHIELD_E_FORMAT, at + 8);

        c = b;
        c.n = at + 10; /* inside the header */
        parse_fails(&c, SHIELD_E_TRUNCATED, at);

        c = b;
        c.n = at + 12 + 2 + 10; /* inside the sha1 digest */
        parse_fails(&c, SHIELD_E_TRUNCATED, at + 14);

        c = b;
        c.n -= 1; /* EventSize 4, three bytes left */
        parse_fails(&c, SHIELD_E_TRUNCATED, c.n - 3);

        c = b;
        size_t size_at = at + 12 + 22 + 34;
        c.b[size_at + 3] = 0x7f; /* EventSize far past the end and over the cap */
        parse_fails(&c, SHIELD_E_LIMIT, size_at);
}

static void test_log_size_cap(void **state) {
        (void)state;
        uint8_t one = 0;
        struct shield_eventlog *log = (void *)0xaa;
        struct shield_diag diag = { 0 };
        /* Refused on its length alone, before a byte is read. */
        assert_int_equal(shield_eventlog_parse(&one, (size_t)SHIELD_EVENTLOG_MAX + 1, &log, &diag), SHIELD_E_LIMIT);
        assert_ptr_equal(log, (void *)0xaa);
        assert_int_equal(shield_eventlog_parse(NULL, 1, &log, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_eventlog_parse(&one, 1, NULL, NULL), SHIELD_E_INVAL);
}

static void test_parse_take(void **state) {
        (void)state;
        struct buf b = { 0 };
        specid(&b, 2, 0);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);
        struct shield_eventlog *log = NULL;

        uint8_t *copy = malloc(b.n);
        memcpy(copy, b.b, b.n);
        assert_int_equal(shield_eventlog_parse_take(&copy, b.n, &log, NULL), 0);
        assert_null(copy);
        assert_int_equal(shield_eventlog_count(log), 2);
        shield_eventlog_free(log);

        log = (void *)0xaa;
        copy = malloc(b.n);
        memcpy(copy, b.b, b.n);
        assert_int_equal(shield_eventlog_parse_take(&copy, b.n - 1, &log, NULL), SHIELD_E_TRUNCATED);
        assert_null(copy);
        assert_ptr_equal(log, (void *)0xaa);

        copy = malloc(4);
        assert_int_equal(shield_eventlog_parse_take(&copy, 4, NULL, NULL), SHIELD_E_INVAL);
        assert_null(copy);
        shield_eventlog_free(NULL);
}

static void test_replay_and_integrity_arguments(void **state) {
        (void)state;
        struct shield_pcrs pcrs;
        struct shield_reasons r = { 0 };
        memset(&pcrs, 0xaa, sizeof pcrs);
        assert_int_equal(shield_eventlog_replay(NULL, NULL, &pcrs, NULL), SHIELD_E_INVAL);
        assert_int_equal(pcrs.n_banks, (size_t)0xaaaaaaaaaaaaaaaaull);
        assert_int_equal(shield_eventlog_check_integrity(NULL, NULL, &r), SHIELD_E_INVAL);
        assert_int_equal(r.n, 0);

        /* A caller's hasher is used as is, and reused. */
        struct buf b = { 0 };
        specid(&b, 2, 0);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);
        struct shield_eventlog *log = parse_ok(&b);
        struct shield_hasher *h;
        struct shield_pcrs again;
        assert_int_equal(shield_hasher_new(&h), 0);
        assert_int_equal(shield_eventlog_replay(log, h, &pcrs, NULL), 0);
        assert_int_equal(shield_eventlog_replay(log, h, &again, NULL), 0);
        assert_memory_equal(&pcrs, &again, sizeof pcrs);
        assert_int_equal(shield_eventlog_check_integrity(log, h, &r), 0);
        assert_int_equal(r.n, 0);
        shield_hasher_free(h);
        shield_eventlog_free(log);
}

/* Edit one byte of event data in place (the digests stay) and run the integrity check. */
static size_t mismatches_after_edit(struct buf *b, size_t event, size_t data_byte, uint8_t value,
                                    struct shield_reasons *r) {
        struct shield_eventlog *log = parse_ok(b);
        const struct shield_event *ev = shield_eventlog_event(log, event);
        size_t at = ev->offset + ev->size - ev->data_size + data_byte;
        shield_eventlog_free(log);

        struct buf edited = *b;
        edited.b[at] = value;
        log = parse_ok(&edited);
        shield_reasons_clear(r);
        assert_int_equal(shield_eventlog_check_integrity(log, NULL, r), 0);
        shield_eventlog_free(log);
        return shield_reasons_count(r, SHIELD_SEV_ERROR);
}

static void test_integrity_rules(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t gpt[92 + 8] = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' };
        const char cmd[] = "grub_cmd: linux /vmlinuz root=/dev/sda1 ro";
        const char rhel[] = "grub_kernel_cmdline (hd0,gpt2)/vmlinuz ro";
        uint8_t boot[32 + 16 + 3] = { 0 }; /* UEFI_VARIABLE_DATA: Boot0000, 3 bytes of data */
        const char *boot_name = "Boot0000";
        boot[16] = 8;
        boot[24] = 3;
        for (int i = 0; i < 8; i++)
                boot[32 + 2 * i] = (uint8_t)boot_name[i];
        memcpy(boot + 48, "abc", 3);

        specid(&b, 2, 0);
        agile_event(&b, 7, EV_SEPARATOR, sep, 4);                            /* 1 */
        agile_event(&b, 4, EV_EFI_ACTION, "Calling EFI Application", 23);   /* 2 */
        agile_event(&b, 5, EV_EFI_GPT_EVENT, gpt, sizeof gpt);              /* 3 */
        agile_event(&b, 8, EV_IPL, cmd, sizeof cmd);                        /* 4: digest over all of it */
        /* 5: grub's way, the digest over the string after the prefix, without the NUL. */
        u32(&b, 8);
        u32(&b, EV_IPL);
        u32(&b, 2);
        for (int i = 0; i < 2; i++) {
                uint8_t d[32];
                u16(&b, algs[i]);
                assert_int_equal(shield_hash(algs[i], rhel + 20, sizeof rhel - 21, d), 0);
                put(&b, d, shield_hash_size(algs[i]));
        }
        u32(&b, sizeof rhel);
        put(&b, rhel, sizeof rhel);
        /* 6: a Boot#### variable measured over VariableData only (edk2). */
        u32(&b, 1);
        u32(&b, EV_EFI_VARIABLE_BOOT);
        u32(&b, 2);
        for (int i = 0; i < 2; i++) {
                uint8_t d[32];
                u16(&b, algs[i]);
                assert_int_equal(shield_hash(algs[i], "abc", 3, d), 0);
                put(&b, d, shield_hash_size(algs[i]));
        }
        u32(&b, sizeof boot);
        put(&b, boot, sizeof boot);
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, "path", 4);   /* 7: not judged */
        agile_event(&b, 9, EV_IPL, "/boot/grub/grub.cfg", 19);              /* 8: a file, not judged */
        agile_event(&b, 0, EV_S_CRTM_VERSION, "v1", 2);                     /* 9: not judged */

        struct shield_eventlog *log = parse_ok(&b);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_eventlog_check_integrity(log, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_ERROR), 0);
        const struct shield_reason *q = find_reason(&r, "quirk-boot-variable-data-only");
        assert_non_null(q);
        assert_int_equal(q->event_index, 6);

        /* Each judged kind catches an edit, in both banks, naming the event and its type. */
        const struct {
                size_t event, byte;
        } edits[] = { { 1, 0 }, { 2, 3 }, { 3, 20 }, { 4, 15 }, { 5, 30 }, { 6, 49 } };
        for (size_t i = 0; i < ELEMENTS(edits); i++) {
                size_t n = mismatches_after_edit(&b, edits[i].event, edits[i].byte, 0x7e, &r);
                if (n != 2)
                        fail_msg("edit of event %zu byte %zu: %zu mismatches", edits[i].event, edits[i].byte, n);
                const struct shield_reason *m = find_reason(&r, "event-digest-mismatch");
                assert_int_equal(m->event_index, (long)edits[i].event);
                assert_true(m->bank == SHIELD_ALG_SHA1 || m->bank == SHIELD_ALG_SHA256);
                assert_non_null(strstr(m->message, shield_event_type_name(shield_eventlog_event(log, edits[i].event)->type)));
        }
        shield_eventlog_free(log);
        /*
         * Edits of events whose digest covers bytes outside the log pass unseen, by design;
         * so does the name of a variable the firmware measured over its data only (the
         * quirk says so).
         */
        assert_int_equal(mismatches_after_edit(&b, 6, 33, 'x', &r), 0);
        assert_int_equal(mismatches_after_edit(&b, 7, 0, 'x', &r), 0);
        assert_int_equal(mismatches_after_edit(&b, 8, 3, 'x', &r), 0);
        assert_int_equal(mismatches_after_edit(&b, 9, 0, 'x', &r), 0);
        shield_reasons_clear(&r);
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
                cmocka_unit_test(test_legacy_replay_and_accessors),
                cmocka_unit_test(test_locality_only_log_is_legacy),
                cmocka_unit_test(test_every_known_bank_and_an_unknown_one),
                cmocka_unit_test(test_missing_digest_noted_once),
                cmocka_unit_test(test_vendor_info),
                cmocka_unit_test(test_trailing_bytes),
                cmocka_unit_test(test_real_firmware_quirks),
                cmocka_unit_test(test_specid_header_oddities),
                cmocka_unit_test(test_more_specid_errors),
                cmocka_unit_test(test_agile_event_errors),
                cmocka_unit_test(test_log_size_cap),
                cmocka_unit_test(test_parse_take),
                cmocka_unit_test(test_replay_and_integrity_arguments),
                cmocka_unit_test(test_integrity_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
