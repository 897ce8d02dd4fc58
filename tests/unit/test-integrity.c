/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden measurements and the green/yellow/red comparison, on crypto-agile
 * logs built here (log-builder.h, PFP 1.05 layouts): a golden boot, then
 * variants of it — the same boot, events appended, a new PCR, a changed
 * boot application, two applications swapped, a changed BootOrder, a wrong
 * separator — under the oci, gce and custom policies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shield/crypto.h"
#include "shield/integrity.h"
#include "shield/util.h"

#include "log-builder.h"

enum {
        V_EXTRA14 = 1 << 0,   /* one more EV_IPL in PCR 14 at the end */
        V_PCR9 = 1 << 1,      /* a PCR 9 event the golden never had */
        V_CHANGE4 = 1 << 2,   /* the second boot application is another binary */
        V_SWAP4 = 1 << 3,     /* the two boot applications in the other order */
        V_BOOTORDER = 1 << 4, /* BootOrder 0001,0000 instead of 0000,0001 */
        V_SEP4 = 1 << 5,      /* PCR 4's separator carries the error value 1 */
        V_INSERT4 = 1 << 6,   /* a new boot application runs before the golden ones */
};

/* Event indexes in the built log (the Spec ID event is index 0). */
enum { IDX_BOOTORDER = 2, IDX_SEP4 = 5, IDX_APP1 = 10, IDX_APP2 = 11 };

/* UEFI_VARIABLE_DATA (PFP 1.05, 10.4.7 / UEFI 2.10 EFI_VARIABLE_DATA) for an EFI global variable. */
static void var_data(struct buf *b, const char *name, const void *data, size_t len) {
        static const uint8_t global[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                            0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
        size_t n = strlen(name);
        put(b, global, 16);
        u32(b, (uint32_t)n);
        u32(b, 0);
        u32(b, (uint32_t)len);
        u32(b, 0);
        for (size_t i = 0; i < n; i++)
                u16(b, (uint8_t)name[i]);
        put(b, data, len);
}

static void build(struct buf *b, unsigned v) {
        static const uint8_t sep_err[4] = { 1, 0, 0, 0 };
        uint8_t order[4] = { 0, 0, 1, 0 };
        struct buf var = { 0 };

        memset(b, 0, sizeof *b);
        specid(b, 2, 0);                                                         /* 0 */
        agile_event(b, 0, EV_S_CRTM_VERSION, "firmware 1.0", 12);                /* 1 */
        if (v & V_BOOTORDER) {
                order[0] = 1;
                order[2] = 0;
        }
        var_data(&var, "BootOrder", order, sizeof order);
        agile_event(b, 1, EV_EFI_VARIABLE_BOOT, var.b, (uint32_t)var.n);         /* 2 */
        agile_event(b, 2, EV_SEPARATOR, sep_zero, 4);                            /* 3 */
        agile_event(b, 4, EV_EFI_ACTION, "Calling EFI Application from Boot Option", 40); /* 4 */
        agile_event(b, 4, EV_SEPARATOR, v & V_SEP4 ? sep_err : sep_zero, 4);     /* 5 */
        agile_event(b, 0, EV_SEPARATOR, sep_zero, 4);                            /* 6 */
        agile_event(b, 1, EV_SEPARATOR, sep_zero, 4);                            /* 7 */
        agile_event(b, 3, EV_SEPARATOR, sep_zero, 4);                            /* 8 */
        agile_event(b, 7, EV_SEPARATOR, sep_zero, 4);                            /* 9 */
        if (v & V_INSERT4)
                agile_event(b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, "evil.efi", 8);
        const char *a1 = "shimx64.efi", *a2 = v & V_CHANGE4 ? "grubx64.efi v2" : "grubx64.efi";
        if (v & V_SWAP4) {
                const char *t = a1;
                a1 = a2;
                a2 = t;
        }
        agile_event(b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, a1, (uint32_t)strlen(a1)); /* 10 */
        agile_event(b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, a2, (uint32_t)strlen(a2)); /* 11 */
        agile_event(b, 14, EV_IPL, "MokList", 7);                                /* 12 */
        agile_event(b, 14, EV_IPL, "MokListX", 8);                               /* 13 */
        if (v & V_PCR9)
                agile_event(b, 9, EV_IPL, "/boot/initrd.img", 16);               /* 14 */
        if (v & V_EXTRA14)
                agile_event(b, 14, EV_IPL, "MokListTrusted", 14);                /* 14 or 15 */
}

static struct shield_golden *golden_of(unsigned v) {
        struct buf b;
        build(&b, v);
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1, .eventlog = b.b, .eventlog_len = b.n };
        struct shield_golden *g = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_golden_from_evidence(&e, &g, &diag);
        if (r < 0)
                fail_msg("golden: %s: %s", shield_strerror(r), diag.msg);
        return g;
}

static void compare(unsigned golden_v, unsigned current_v, const char *policy, struct shield_integrity_verdict *ret) {
        struct shield_integrity_policy p;
        struct shield_golden *g = golden_of(golden_v), *c = golden_of(current_v);
        assert_int_equal(shield_integrity_policy_parse(policy, &p, NULL), 0);
        memset(ret, 0, sizeof *ret);
        assert_int_equal(shield_integrity_compare(g, c, &p, ret), 0);
        shield_golden_free(g);
        shield_golden_free(c);
}

static const struct shield_reason *find(const struct shield_integrity_verdict *v, const char *code) {
        for (size_t i = 0; i < v->reasons.n; i++)
                if (strcmp(v->reasons.items[i].code, code) == 0)
                        return &v->reasons.items[i];
        return NULL;
}

static void test_identical_green(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, 0, NULL, &v);
        assert_int_equal(v.colour, SHIELD_GREEN);
        assert_int_equal(v.early, SHIELD_GREEN);
        assert_int_equal(v.late, SHIELD_GREEN);
        assert_int_equal(v.reasons.n, 0);
        assert_string_equal(shield_colour_name(v.colour), "green");
        shield_integrity_verdict_clear(&v);
}

static void test_appended_yellow(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_EXTRA14, NULL, &v);
        assert_int_equal(v.colour, SHIELD_YELLOW);
        assert_int_equal(v.early, SHIELD_GREEN);
        assert_int_equal(v.late, SHIELD_YELLOW);
        const struct shield_reason *r = find(&v, "event-added");
        assert_non_null(r);
        assert_int_equal(r->pcr, 14);
        assert_int_equal(r->event_index, 14);
        assert_int_equal(r->severity, SHIELD_SEV_WARNING);
        assert_non_null(strstr(r->message, "PCR 14 event 14 EV_IPL"));
        assert_int_equal(shield_reasons_max_severity(&v.reasons), SHIELD_SEV_WARNING);
        shield_integrity_verdict_clear(&v);
        assert_int_equal(v.reasons.n, 0);
        assert_int_equal(v.colour, SHIELD_GREEN);
}

static void test_new_pcr_yellow(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_PCR9, NULL, &v);
        assert_int_equal(v.colour, SHIELD_YELLOW);
        assert_int_equal(v.late, SHIELD_YELLOW);
        assert_int_equal(v.early, SHIELD_GREEN);
        const struct shield_reason *r = find(&v, "pcr-new");
        assert_non_null(r);
        assert_int_equal(r->pcr, 9);
        assert_null(find(&v, "event-removed"));
        shield_integrity_verdict_clear(&v);
}

static void test_changed_red(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_CHANGE4, NULL, &v);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(v.early, SHIELD_RED);
        assert_int_equal(v.late, SHIELD_GREEN);
        const struct shield_reason *r = find(&v, "event-changed");
        assert_non_null(r);
        assert_int_equal(r->pcr, 4);
        assert_int_equal(r->event_index, IDX_APP2);
        assert_int_equal(r->severity, SHIELD_SEV_ERROR);
        assert_int_equal(r->bank, SHIELD_ALG_SHA256);
        assert_non_null(strstr(r->message, "PCR 4 event 11 EV_EFI_BOOT_SERVICES_APPLICATION"));
        assert_non_null(strstr(r->message, "digest changed from "));
        /* The digests named are the sha256 of the old and new data. */
        uint8_t d[32];
        char hex[65];
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, "grubx64.efi", 11, d), 0);
        shield_hex_encode(d, 32, hex);
        assert_non_null(strstr(r->message, hex));
        assert_int_equal(v.reasons.n, 1);
        shield_integrity_verdict_clear(&v);
}

static void test_swapped_boot_order_red(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_SWAP4, NULL, &v);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(v.early, SHIELD_RED);
        const struct shield_reason *r = find(&v, "boot-order-changed");
        assert_non_null(r);
        assert_int_equal(r->pcr, 4);
        assert_true(r->event_index == IDX_APP1 || r->event_index == IDX_APP2);
        assert_null(find(&v, "event-changed"));
        shield_integrity_verdict_clear(&v);
}

static void test_boot_order_variable_red(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_BOOTORDER, NULL, &v);
        assert_int_equal(v.colour, SHIELD_RED);
        const struct shield_reason *r = find(&v, "boot-order-changed");
        assert_non_null(r);
        assert_int_equal(r->pcr, 1);
        assert_int_equal(r->event_index, IDX_BOOTORDER);
        assert_non_null(strstr(r->message, "BootOrder"));
        shield_integrity_verdict_clear(&v);
}

static void test_inserted_boot_application_red(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_INSERT4, NULL, &v);
        assert_int_equal(v.colour, SHIELD_RED);
        const struct shield_reason *r = find(&v, "boot-order-changed");
        assert_non_null(r);
        assert_int_equal(r->event_index, IDX_APP1);
        shield_integrity_verdict_clear(&v);
}

/*
 * An EFI_LOAD_OPTION (UEFI 2.10, 3.1.3): attributes, FilePathListLength, the
 * description (UCS-2, NUL-terminated), then a device path of file-path
 * nodes (type 4, subtype 4) and the end node: a long summary.
 */
static void load_option(struct buf *b, const char *desc, const char *const *files, size_t n_files) {
        struct buf dp = { 0 };
        for (size_t i = 0; i < n_files; i++) {
                size_t n = strlen(files[i]);
                uint8_t hdr[2] = { 4, 4 };
                put(&dp, hdr, 2);
                u16(&dp, (uint16_t)(4 + 2 * (n + 1)));
                for (size_t k = 0; k <= n; k++)
                        u16(&dp, (uint8_t)files[i][k]);
        }
        const uint8_t end[4] = { 0x7f, 0xff, 4, 0 };
        put(&dp, end, 4);
        u32(b, 1);
        u16(b, (uint16_t)dp.n);
        for (size_t k = 0; k <= strlen(desc); k++)
                u16(b, (uint8_t)desc[k]);
        put(b, dp.b, dp.n);
}

/* A long summary in a reason keeps the part that names the entry (and the file at the end of the path). */
static void test_long_summary_keeps_name(void **state) {
        (void)state;
        static const char *const path_a[] = { "\\EFI\\vendor-with-a-long-name\\another-directory\\deeper", "shimx64.efi" };
        static const char *const path_b[] = { "\\EFI\\vendor-with-a-long-name\\another-directory\\deeper", "grubx64.efi" };
        struct shield_golden *g[2];
        for (int k = 0; k < 2; k++) {
                struct buf b = { 0 }, opt = { 0 }, var = { 0 };
                specid(&b, 2, 0);
                load_option(&opt, "UEFI Misc Device", k ? path_b : path_a, 2);
                var_data(&var, "Boot0001", opt.b, opt.n);
                agile_event(&b, 1, EV_EFI_VARIABLE_BOOT, var.b, (uint32_t)var.n);
                agile_event(&b, 1, EV_SEPARATOR, sep_zero, 4);
                struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1, .eventlog = b.b, .eventlog_len = b.n };
                struct shield_diag diag = { 0 };
                assert_int_equal(shield_golden_from_evidence(&e, &g[k], &diag), 0);
        }
        struct shield_integrity_policy p;
        struct shield_integrity_verdict v;
        assert_int_equal(shield_integrity_policy_parse(NULL, &p, NULL), 0);
        memset(&v, 0, sizeof v);
        assert_int_equal(shield_integrity_compare(g[0], g[1], &p, &v), 0);
        assert_true(v.reasons.n >= 1);
        const struct shield_reason *r = &v.reasons.items[0];
        /* Both summaries (now and golden) are cut in the middle: the name and the file stay. */
        const char *first = strstr(r->message, "Boot0001 \"UEFI Misc Device\"");
        assert_non_null(first);
        assert_non_null(strstr(first + 1, "Boot0001 \"UEFI Misc Device\""));
        assert_non_null(strstr(r->message, "\xe2\x80\xa6"));
        assert_non_null(strstr(r->message, "grubx64.efi"));
        assert_non_null(strstr(r->message, "shimx64.efi"));
        shield_integrity_verdict_clear(&v);
        shield_golden_free(g[0]);
        shield_golden_free(g[1]);
}

static void test_separator_red(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_SEP4, NULL, &v);
        assert_int_equal(v.colour, SHIELD_RED);
        const struct shield_reason *r = find(&v, "separator-wrong");
        assert_non_null(r);
        assert_int_equal(r->pcr, 4);
        assert_int_equal(r->event_index, IDX_SEP4);
        shield_integrity_verdict_clear(&v);
}

static void test_removed_red(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(V_EXTRA14, 0, NULL, &v);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(v.late, SHIELD_RED);
        assert_int_equal(v.early, SHIELD_GREEN);
        assert_non_null(find(&v, "event-removed"));
        shield_integrity_verdict_clear(&v);
}

static void test_policy_oci_ignores_pcr4(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_CHANGE4 | V_EXTRA14, "oci", &v);
        assert_int_equal(v.colour, SHIELD_GREEN);
        assert_int_equal(v.early, SHIELD_GREEN);
        assert_int_equal(v.late, SHIELD_GREEN);
        const struct shield_reason *r = find(&v, "event-changed");
        assert_non_null(r);
        assert_int_equal(r->severity, SHIELD_SEV_INFO);
        assert_non_null(strstr(r->message, "not counted by policy oci"));
        assert_int_equal(shield_reasons_max_severity(&v.reasons), SHIELD_SEV_INFO);
        shield_integrity_verdict_clear(&v);

        /* A custom list: PCR 4 counts, PCR 14 does not. */
        compare(0, V_CHANGE4 | V_EXTRA14, "0-7", &v);
        assert_int_equal(v.early, SHIELD_RED);
        assert_int_equal(v.late, SHIELD_GREEN);
        assert_int_equal(v.colour, SHIELD_RED);
        shield_integrity_verdict_clear(&v);
}

static void test_early_late_split(void **state) {
        (void)state;
        struct shield_integrity_verdict v;
        compare(0, V_SEP4 | V_PCR9, "gce", &v);
        assert_int_equal(v.early, SHIELD_RED);
        assert_int_equal(v.late, SHIELD_YELLOW);
        assert_int_equal(v.colour, SHIELD_RED);
        shield_integrity_verdict_clear(&v);
}

static void test_policy_parse(void **state) {
        (void)state;
        struct shield_integrity_policy p;
        struct shield_diag diag = { 0 };

        assert_int_equal(shield_integrity_policy_parse(NULL, &p, NULL), 0);
        assert_string_equal(p.name, "gce");
        assert_int_equal(p.early_mask, 0xff);
        assert_int_equal(p.late_mask, 0xff00);
        assert_int_equal(shield_integrity_policy_parse("oci", &p, NULL), 0);
        assert_int_equal(p.early_mask, 0x5);
        assert_int_equal(p.late_mask, 0);
        assert_int_equal(shield_integrity_policy_parse("strict", &p, NULL), 0);
        assert_int_equal(p.early_mask | p.late_mask, 0xffff);
        assert_int_equal(shield_integrity_policy_parse("0,2,4-7,9,23", &p, NULL), 0);
        assert_string_equal(p.name, "0,2,4-7,9,23");
        assert_int_equal(p.early_mask, 0xf5);
        assert_int_equal(p.late_mask, 0x800200);

        memset(&p, 0xaa, sizeof p);
        struct shield_integrity_policy before = p;
        assert_int_equal(shield_integrity_policy_parse("pcr4", &p, &diag), SHIELD_E_FORMAT);
        assert_non_null(strstr(diag.msg, "pcr4"));
        assert_int_equal(shield_integrity_policy_parse("24", &p, &diag), SHIELD_E_LIMIT);
        assert_memory_equal(&p, &before, sizeof p); /* untouched on failure */
        assert_int_equal(shield_integrity_policy_parse("oci", NULL, NULL), SHIELD_E_INVAL);
}

static void test_json_roundtrip(void **state) {
        (void)state;
        struct shield_golden *g = golden_of(V_PCR9), *again = NULL;
        char *text = NULL, *text2 = NULL;
        struct shield_diag diag = { 0 };

        assert_true(shield_golden_has_eventlog(g));
        assert_int_equal(shield_golden_event_count(g), 14); /* the Spec ID event is not kept */
        const struct shield_golden_event *ev = shield_golden_event(g, 9);
        assert_int_equal(ev->pcr, 4);
        assert_int_equal(ev->index, IDX_APP1);
        assert_int_equal(ev->type, EV_EFI_BOOT_SERVICES_APPLICATION);
        assert_int_equal(ev->n_digests, 2);
        assert_null(shield_golden_event(g, 14));

        assert_int_equal(shield_golden_to_json(g, &text), 0);
        assert_non_null(strstr(text, "\"format\": \"shieldkit-golden/1\""));
        assert_int_equal(shield_golden_parse_json(text, strlen(text), &again, &diag), 0);
        assert_int_equal(shield_golden_to_json(again, &text2), 0);
        assert_string_equal(text, text2);

        struct shield_integrity_verdict v = { 0 };
        assert_int_equal(shield_integrity_compare(g, again, NULL, &v), 0);
        assert_int_equal(v.colour, SHIELD_GREEN);
        shield_integrity_verdict_clear(&v);
        /* The golden PCR values are the replay of the log. */
        const struct shield_pcrs *p = shield_golden_pcrs(again);
        assert_non_null(shield_pcrs_bank_const(p, SHIELD_ALG_SHA256));
        assert_memory_equal(shield_pcrs_bank_const(shield_golden_pcrs(g), SHIELD_ALG_SHA256)->value,
                            shield_pcrs_bank_const(p, SHIELD_ALG_SHA256)->value, sizeof p->banks[0].value);
        free(text);
        free(text2);
        shield_golden_free(g);
        shield_golden_free(again);
}

static void parse_fails(const char *text, int code, const char *msg_part) {
        struct shield_golden *g = (void *)0xaa;
        struct shield_diag diag = { 0 };
        assert_int_equal(shield_golden_parse_json(text, strlen(text), &g, &diag), code);
        assert_ptr_equal(g, (void *)0xaa);
        if (!strstr(diag.msg, msg_part))
                fail_msg("diag \"%s\" lacks \"%s\"", diag.msg, msg_part);
}

#define SHA1_0 "\"0000000000000000000000000000000000000000\""
#define PCRS "\"pcrs\": {\"sha1\": {\"0\": " SHA1_0 "}}"
#define EV(pcr, index, type, digest) \
        "{\"pcr\": " #pcr ", \"index\": " #index ", \"type\": " #type ", \"digests\": {\"sha1\": " digest "}, \"summary\": \"x\"}"

static void test_parse_errors(void **state) {
        (void)state;
        struct shield_golden *g = NULL;
        struct shield_diag diag = { 0 };

        /* A minimal golden: values only. */
        const char *ok = "{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": false, \"events\": []}";
        assert_int_equal(shield_golden_parse_json(ok, strlen(ok), &g, &diag), 0);
        assert_false(shield_golden_has_eventlog(g));
        shield_golden_free(g);

        const char *bad = "{\"format\": \"shieldkit-golden/1\", \"pcrs\": {]";
        g = (void *)0xaa;
        assert_int_equal(shield_golden_parse_json(bad, strlen(bad), &g, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, 42); /* the offending ']' */
        assert_ptr_equal(g, (void *)0xaa);

        parse_fails("[]", SHIELD_E_FORMAT, "object");
        parse_fails("{\"format\": \"shieldkit-golden/2\"}", SHIELD_E_UNSUPPORTED, "shieldkit-golden/1");
        parse_fails("{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": false, \"events\": [], \"x\": 1}",
                    SHIELD_E_FORMAT, "unknown key \"x\"");
        parse_fails("{\"format\": \"shieldkit-golden/1\", \"pcrs\": 1, \"eventlog\": false, \"events\": []}",
                    SHIELD_E_FORMAT, "PCRS.json");
        parse_fails("{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": true, \"events\": ["
                    EV(24, 1, 4, SHA1_0) "]}", SHIELD_E_FORMAT, "\"pcr\"");
        parse_fails("{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": true, \"events\": ["
                    EV(0, 2, 4, SHA1_0) ", " EV(0, 1, 4, SHA1_0) "]}", SHIELD_E_FORMAT, "log order");
        parse_fails("{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": true, \"events\": ["
                    EV(0, 1, 4, "\"00\"") "]}", SHIELD_E_FORMAT, "20 bytes");
        parse_fails("{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": true, \"events\": ["
                    EV(0, 1, 3, SHA1_0) "]}", SHIELD_E_FORMAT, "EV_NO_ACTION");
        parse_fails("{\"format\": \"shieldkit-golden/1\", " PCRS ", \"eventlog\": false, \"events\": ["
                    EV(0, 1, 4, SHA1_0) "]}", SHIELD_E_FORMAT, "must be empty");
        parse_fails("{\"format\": \"shieldkit-golden/1\", \"format\": \"x\"}", SHIELD_E_FORMAT, "duplicate");

        /* Over the size cap: refused before parsing. */
        g = (void *)0xaa;
        assert_int_equal(shield_golden_parse_json("{}", (size_t)SHIELD_GOLDEN_JSON_MAX + 1, &g, &diag), SHIELD_E_LIMIT);
        assert_ptr_equal(g, (void *)0xaa);
}

/* Evidence with PCR values and no log: compared by value. */
static void test_values_only(void **state) {
        (void)state;
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1, .has_pcrs = true };
        struct shield_pcr_bank *bank = NULL;
        struct shield_golden *g = NULL, *c = NULL;
        struct shield_integrity_verdict v = { 0 };

        assert_int_equal(shield_pcrs_add_bank(&e.pcrs, SHIELD_ALG_SHA256, 32, &bank), 0);
        bank->present = bank->extended = 0xffffff;
        for (unsigned i = 0; i < 8; i++)
                memset(bank->value[i], (int)(i + 1), 32);
        assert_int_equal(shield_golden_from_evidence(&e, &g, NULL), 0);
        assert_false(shield_golden_has_eventlog(g));

        bank->value[4][0] ^= 1;
        memset(bank->value[9], 9, 32);
        assert_int_equal(shield_golden_from_evidence(&e, &c, NULL), 0);
        assert_int_equal(shield_integrity_compare(g, c, NULL, &v), 0);
        assert_int_equal(v.early, SHIELD_RED);
        assert_int_equal(v.late, SHIELD_YELLOW);
        const struct shield_reason *r = find(&v, "pcr-changed");
        assert_non_null(r);
        assert_int_equal(r->pcr, 4);
        assert_int_equal(r->event_index, -1);
        r = find(&v, "pcr-new");
        assert_non_null(r);
        assert_int_equal(r->pcr, 9);
        shield_integrity_verdict_clear(&v);

        /* A golden with a log against a boot without one: still by value. */
        struct shield_golden *lg = golden_of(0), *lc = NULL;
        struct buf b;
        build(&b, V_CHANGE4);
        struct shield_evidence e2 = { .secure_boot = -1, .setup_mode = -1, .eventlog = b.b, .eventlog_len = b.n };
        struct shield_golden *tmp = NULL;
        assert_int_equal(shield_golden_from_evidence(&e2, &tmp, NULL), 0);
        struct shield_evidence e3 = { .secure_boot = -1, .setup_mode = -1, .has_pcrs = true, .pcrs = *shield_golden_pcrs(tmp) };
        assert_int_equal(shield_golden_from_evidence(&e3, &lc, NULL), 0);
        assert_int_equal(shield_integrity_compare(lg, lc, NULL, &v), 0);
        assert_int_equal(v.colour, SHIELD_RED);
        r = find(&v, "pcr-changed");
        assert_non_null(r);
        assert_int_equal(r->pcr, 4);
        shield_integrity_verdict_clear(&v);
        shield_golden_free(tmp);
        shield_golden_free(lg);
        shield_golden_free(lc);
        shield_golden_free(g);
        shield_golden_free(c);
}

/*
 * Large logs, past log-builder.h's buffer: a crypto-agile log (PFP 1.05,
 * 10.4.5.1 / 10.2.2) of n events "event <order[i]>" of one type in PCR 9,
 * with sha256, or sha1 + sha256 when two_banks (then event only_sha256, if
 * < n, carries the sha256 digest alone, as some firmware logs do).
 */
struct big {
        uint8_t *b;
        size_t n, cap;
};

static void big_put(struct big *l, const void *p, size_t n) {
        if (n > l->cap - l->n) {
                l->cap = (l->cap + n) * 2;
                l->b = realloc(l->b, l->cap);
                assert_non_null(l->b);
        }
        memcpy(l->b + l->n, p, n);
        l->n += n;
}

static void big_u32(struct big *l, uint32_t v) {
        uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        big_put(l, x, 4);
}

static struct shield_golden *big_golden(const uint32_t *order, size_t n, uint32_t type, bool two_banks, size_t only_sha256) {
        struct big l = { 0 };
        uint8_t zero[20] = { 0 }, d[32], spec[40];
        size_t k = 0;

        memcpy(spec, "Spec ID Event03", 16);
        k = 16;
        memcpy(spec + k, (uint8_t[]){ 0, 0, 0, 0, 0, 2, 0, 2 }, 8);
        k += 8;
        spec[k++] = two_banks ? 2 : 1;
        memcpy(spec + k, (uint8_t[]){ 0, 0, 0 }, 3);
        k += 3;
        if (two_banks) {
                memcpy(spec + k, (uint8_t[]){ 0x04, 0x00, 20, 0 }, 4);
                k += 4;
        }
        memcpy(spec + k, (uint8_t[]){ 0x0b, 0x00, 32, 0, 0 }, 5);
        k += 5;
        big_u32(&l, 0);
        big_u32(&l, EV_NO_ACTION);
        big_put(&l, zero, sizeof zero);
        big_u32(&l, (uint32_t)k);
        big_put(&l, spec, k);
        for (size_t i = 0; i < n; i++) {
                char data[32];
                int len = snprintf(data, sizeof data, "event %u", order[i]);
                bool both = two_banks && i != only_sha256;
                big_u32(&l, 9);
                big_u32(&l, type);
                big_u32(&l, both ? 2 : 1);
                if (both) {
                        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data, (size_t)len, d), 0);
                        big_put(&l, (uint8_t[]){ 0x04, 0x00 }, 2);
                        big_put(&l, d, 20);
                }
                assert_int_equal(shield_hash(SHIELD_ALG_SHA256, data, (size_t)len, d), 0);
                big_put(&l, (uint8_t[]){ 0x0b, 0x00 }, 2);
                big_put(&l, d, 32);
                big_u32(&l, (uint32_t)len);
                big_put(&l, data, (size_t)len);
        }
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1, .eventlog = l.b, .eventlog_len = l.n };
        struct shield_golden *g = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_golden_from_evidence(&e, &g, &diag);
        free(l.b);
        if (r < 0)
                fail_msg("big golden: %s: %s", shield_strerror(r), diag.msg);
        return g;
}

static size_t count_code(const struct shield_integrity_verdict *v, const char *code) {
        size_t n = 0;
        for (size_t i = 0; i < v->reasons.n; i++)
                n += strcmp(v->reasons.items[i].code, code) == 0;
        return n;
}

/* Past the LCS cap (20,000² cells) every event changed: one event-changed each, in order, late boot red. */
static void test_large_changed_red(void **state) {
        (void)state;
        enum { N = 20000 };
        uint32_t *order = calloc(N, sizeof *order);
        assert_non_null(order);
        for (uint32_t i = 0; i < N; i++)
                order[i] = i;
        struct shield_golden *g = big_golden(order, N, EV_EFI_ACTION, false, SIZE_MAX);
        for (uint32_t i = 0; i < N; i++)
                order[i] = N + i;
        struct shield_golden *c = big_golden(order, N, EV_EFI_ACTION, false, SIZE_MAX);
        struct shield_integrity_verdict v = { 0 };
        assert_int_equal(shield_integrity_compare(g, c, NULL, &v), 0);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(v.early, SHIELD_GREEN);
        assert_int_equal(v.late, SHIELD_RED);
        assert_int_equal(v.reasons.n, N);
        for (size_t i = 0; i < N; i++) {
                assert_string_equal(v.reasons.items[i].code, "event-changed");
                assert_int_equal(v.reasons.items[i].pcr, 9);
                assert_int_equal(v.reasons.items[i].event_index, (long)i + 1);
        }
        shield_integrity_verdict_clear(&v);
        shield_golden_free(g);
        shield_golden_free(c);
        free(order);
}

/* The same events in reverse: each golden event is found where it went (event-moved), none added or removed. */
static void test_large_reversed_red(void **state) {
        (void)state;
        enum { N = 20000 };
        uint32_t *order = calloc(N, sizeof *order);
        assert_non_null(order);
        for (uint32_t i = 0; i < N; i++)
                order[i] = i;
        struct shield_golden *g = big_golden(order, N, EV_EFI_ACTION, false, SIZE_MAX);
        for (uint32_t i = 0; i < N; i++)
                order[i] = N - 1 - i;
        struct shield_golden *c = big_golden(order, N, EV_EFI_ACTION, false, SIZE_MAX);
        struct shield_integrity_verdict v = { 0 };
        assert_int_equal(shield_integrity_compare(g, c, NULL, &v), 0);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(v.reasons.n, N);
        assert_int_equal(count_code(&v, "event-moved"), N);
        /* Golden event i (log index i + 1) is now at position N - 1 - i: log index N - i. */
        for (size_t i = 0; i < N; i++)
                assert_int_equal(v.reasons.items[i].event_index, (long)(N - i));
        shield_integrity_verdict_clear(&v);
        shield_golden_free(g);
        shield_golden_free(c);
        free(order);
}

/*
 * Equality is on the banks both events carry: a moved event that lost its
 * sha1 digest is still the golden one (event-moved), and one whose sha256
 * differs is not.
 */
static void test_moved_partial_banks(void **state) {
        (void)state;
        const uint32_t gold[] = { 0, 1, 2, 3 }, moved[] = { 1, 2, 3, 0 }, other[] = { 1, 2, 3, 9 };
        struct shield_golden *g = big_golden(gold, 4, EV_EFI_ACTION, true, SIZE_MAX);
        struct shield_golden *c = big_golden(moved, 4, EV_EFI_ACTION, true, 3);
        struct shield_integrity_verdict v = { 0 };
        assert_int_equal(shield_integrity_compare(g, c, NULL, &v), 0);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(v.reasons.n, 1);
        assert_string_equal(v.reasons.items[0].code, "event-moved");
        assert_int_equal(v.reasons.items[0].event_index, 4);
        shield_integrity_verdict_clear(&v);
        shield_golden_free(c);

        c = big_golden(other, 4, EV_EFI_ACTION, true, 3);
        assert_int_equal(shield_integrity_compare(g, c, NULL, &v), 0);
        assert_int_equal(v.colour, SHIELD_RED);
        assert_int_equal(count_code(&v, "event-moved"), 0);
        assert_int_equal(count_code(&v, "event-removed"), 1);
        assert_int_equal(count_code(&v, "event-added"), 1);
        shield_integrity_verdict_clear(&v);
        shield_golden_free(c);
        shield_golden_free(g);
}

static void test_from_evidence_errors(void **state) {
        (void)state;
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1 };
        struct shield_golden *g = (void *)0xaa;
        struct shield_diag diag = { 0 };
        uint8_t junk[8] = { 1, 2, 3 };

        assert_int_equal(shield_golden_from_evidence(&e, &g, &diag), SHIELD_E_FORMAT);
        assert_non_null(strstr(diag.msg, "neither"));
        e.eventlog = junk;
        e.eventlog_len = sizeof junk;
        assert_true(shield_golden_from_evidence(&e, &g, &diag) < 0);
        assert_ptr_equal(g, (void *)0xaa);
        assert_int_equal(shield_golden_from_evidence(NULL, &g, NULL), SHIELD_E_INVAL);
        struct shield_integrity_verdict v = { 0 };
        assert_int_equal(shield_integrity_compare(NULL, NULL, NULL, &v), SHIELD_E_INVAL);
        assert_string_equal(shield_colour_name((enum shield_colour)7), "unknown");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_identical_green),
                cmocka_unit_test(test_long_summary_keeps_name),
                cmocka_unit_test(test_appended_yellow),
                cmocka_unit_test(test_new_pcr_yellow),
                cmocka_unit_test(test_changed_red),
                cmocka_unit_test(test_swapped_boot_order_red),
                cmocka_unit_test(test_boot_order_variable_red),
                cmocka_unit_test(test_inserted_boot_application_red),
                cmocka_unit_test(test_separator_red),
                cmocka_unit_test(test_removed_red),
                cmocka_unit_test(test_policy_oci_ignores_pcr4),
                cmocka_unit_test(test_early_late_split),
                cmocka_unit_test(test_policy_parse),
                cmocka_unit_test(test_json_roundtrip),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_values_only),
                cmocka_unit_test(test_from_evidence_errors),
                cmocka_unit_test(test_large_changed_red),
                cmocka_unit_test(test_large_reversed_red),
                cmocka_unit_test(test_moved_partial_banks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
