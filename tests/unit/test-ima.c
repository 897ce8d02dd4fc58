/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMA lists built here from the kernel's documented formats
 * (Documentation/security/IMA-templates.rst, security/integrity/ima/ima_fs.c).
 * Real lists are covered by tests/conformance/conformance-ima.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shield/ima.h"
#include "shield/util.h"

/* ima-ng template data: u32 len, "sha256:" NUL digest; u32 len, path NUL. */
static size_t ng_data(uint8_t *out, const char *path, const uint8_t digest[32]) {
        uint32_t dl = 7 + 1 + 32, nl = (uint32_t)strlen(path) + 1;
        size_t n = 0;
        memcpy(out + n, &dl, 4), n += 4;
        memcpy(out + n, "sha256:", 7), n += 7;
        out[n++] = 0;
        memcpy(out + n, digest, 32), n += 32;
        memcpy(out + n, &nl, 4), n += 4;
        memcpy(out + n, path, nl), n += nl;
        return n;
}

static char *ascii_line(const char *path, const uint8_t digest[32], bool correct) {
        uint8_t data[256], th[20];
        char thx[41], dx[65], *line = NULL;
        size_t n = ng_data(data, path, digest);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data, n, th), 0);
        if (!correct)
                th[0] ^= 1;
        shield_hex_encode(th, 20, thx);
        shield_hex_encode(digest, 32, dx);
        assert_true(asprintf(&line, "10 %s ima-ng sha256:%s %s\n", thx, dx, path) > 0);
        return line;
}

static struct shield_ima_list *parse(const char *text) {
        struct shield_ima_list *l = NULL;
        struct shield_diag d = { 0 };
        int r = shield_ima_parse((const uint8_t *)text, strlen(text), 0, &l, &d);
        if (r < 0)
                fail_msg("parse: %s: %s", shield_strerror(r), d.msg);
        return l;
}

static void test_ascii_ng_and_replay(void **state) {
        (void)state;
        uint8_t d1[32], d2[32];
        memset(d1, 1, 32);
        memset(d2, 2, 32);
        char *a = ascii_line("boot_aggregate", d1, true), *b = ascii_line("/usr/bin/a b", d2, true), text[512];
        snprintf(text, sizeof text, "%s%s", a, b);
        struct shield_ima_list *l = parse(text);
        assert_int_equal(shield_ima_format(l), SHIELD_IMA_ASCII);
        assert_int_equal(shield_ima_count(l), 2);
        const struct shield_ima_entry *e = shield_ima_entry(l, 1);
        assert_string_equal(e->path, "/usr/bin/a b");
        assert_string_equal(e->file_hash_algo, "sha256");
        assert_int_equal(e->file_hash_alg, SHIELD_ALG_SHA256);
        assert_int_equal(e->line, 2);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(r.n, 0);

        /* PCR 10 = extend(extend(0, th1), th2) with the template hashes (SHA-1 list). */
        uint8_t pcr[20], want[20] = { 0 }, cat[40];
        for (size_t i = 0; i < 2; i++) {
                memcpy(cat, want, 20);
                memcpy(cat + 20, shield_ima_entry(l, i)->template_hash, 20);
                assert_int_equal(shield_hash(SHIELD_ALG_SHA1, cat, 40, want), 0);
        }
        assert_int_equal(shield_ima_replay(l, SHIELD_ALG_SHA1, NULL, pcr), 0);
        assert_memory_equal(pcr, want, 20);
        /* The sha256 bank extends SHA-256 of each entry's template data. */
        uint8_t p256[32], w256[32] = { 0 }, c256[64], data[256];
        for (size_t i = 0; i < 2; i++) {
                size_t n = ng_data(data, i ? "/usr/bin/a b" : "boot_aggregate", i ? d2 : d1);
                memcpy(c256, w256, 32);
                assert_int_equal(shield_hash(SHIELD_ALG_SHA256, data, n, c256 + 32), 0);
                assert_int_equal(shield_hash(SHIELD_ALG_SHA256, c256, 64, w256), 0);
        }
        assert_int_equal(shield_ima_replay(l, SHIELD_ALG_SHA256, NULL, p256), 0);
        assert_memory_equal(p256, w256, 32);
        shield_ima_free(l);
        free(a);
        free(b);

        /* A changed template hash is named with its line. */
        a = ascii_line("/etc/shadow", d1, false);
        l = parse(a);
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_ERROR), 1);
        assert_string_equal(r.items[0].code, "ima-template-hash-mismatch");
        assert_non_null(strstr(r.items[0].message, "line 1"));
        shield_reasons_clear(&r);
        shield_ima_free(l);
        free(a);
}

static void test_binary_and_trailing_bytes(void **state) {
        (void)state;
        uint8_t buf[512], data[256], digest[32] = { 7 };
        size_t n = 0, dl = ng_data(data, "/init", digest);
        uint32_t pcr = 10, name = 6, len = (uint32_t)dl;
        memcpy(buf + n, &pcr, 4), n += 4;
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data, dl, buf + n), 0), n += 20;
        memcpy(buf + n, &name, 4), n += 4;
        memcpy(buf + n, "ima-ng", 6), n += 6;
        memcpy(buf + n, &len, 4), n += 4;
        memcpy(buf + n, data, dl), n += dl;
        buf[n++] = '\n'; /* as real lists end */
        struct shield_ima_list *l = NULL;
        struct shield_diag d;
        assert_int_equal(shield_ima_parse(buf, n, 0, &l, &d), 0);
        assert_int_equal(shield_ima_format(l), SHIELD_IMA_BINARY);
        assert_int_equal(shield_ima_count(l), 1);
        assert_string_equal(shield_ima_entry(l, 0)->path, "/init");
        assert_int_equal(shield_ima_quirks(l)->n, 1);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(r.n, 0);
        shield_ima_free(l);

        /* Template data length past the end. */
        l = (void *)0xaa;
        assert_int_equal(shield_ima_parse(buf, n - 10, 0, &l, &d), SHIELD_E_TRUNCATED);
        assert_ptr_equal(l, (void *)0xaa);
        assert_int_equal(d.offset, 34);
        /* Over the template-data cap. */
        uint32_t huge = SHIELD_IMA_TEMPLATE_DATA_MAX + 1;
        memcpy(buf + 34, &huge, 4);
        assert_int_equal(shield_ima_parse(buf, n, 0, &l, &d), SHIELD_E_LIMIT);
}

static void test_ascii_errors(void **state) {
        (void)state;
        const struct {
                const char *text;
                int code;
        } bad[] = {
                { "", SHIELD_E_TRUNCATED },
                { "x 00 ima-ng sha1:00 /x\n", SHIELD_E_FORMAT }, /* binary by detection, then nonsense */
                { "10 zz ima-ng sha256:00 /x\n", SHIELD_E_FORMAT },
                { "10 0000000000000000000000000000000000000000 ima-ng sha256\n", SHIELD_E_FORMAT },
                { "10 0000000000000000000000000000000000000000 ima-ng sha256:00 /x\n", SHIELD_E_FORMAT },
                { "10 0000000000000000000000000000000000000000 ima 00 /x\n", SHIELD_E_FORMAT },
                { "10 0000000000000000000000000000000000000000\n", SHIELD_E_FORMAT },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct shield_ima_list *l = NULL;
                struct shield_diag d = { 0 };
                int r = shield_ima_parse((const uint8_t *)bad[i].text, strlen(bad[i].text), 0, &l, &d);
                if (r != bad[i].code)
                        fail_msg("case %zu: %d (%s)", i, r, d.msg);
                assert_true(d.msg[0]);
        }
}

static void test_violation_and_boot_aggregate(void **state) {
        (void)state;
        /* boot_aggregate of sha256 = SHA-256(PCR 0 || … || PCR 9) of the sha256 bank. */
        struct shield_pcrs fw = { 0 };
        struct shield_pcr_bank *b;
        uint8_t cat[320], agg[32];
        assert_int_equal(shield_pcrs_add_bank(&fw, SHIELD_ALG_SHA256, 32, &b), 0);
        for (int i = 0; i < 10; i++) {
                memset(b->value[i], i, 32);
                memcpy(cat + 32 * i, b->value[i], 32);
        }
        b->present = 0x3ff;
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, sizeof cat, agg), 0);
        char *line = ascii_line("boot_aggregate", agg, true), text[512], zero[41];
        memset(zero, '0', 40);
        zero[40] = 0;
        snprintf(text, sizeof text, "%s10 %s ima-ng sha256:%064d /tmp/violated\n", line, zero, 0);
        struct shield_ima_list *l = parse(text);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), 0);
        assert_true(shield_ima_entry(l, 1)->violation);
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(shield_reasons_count(&r, SHIELD_SEV_INFO), 1);
        b->value[4][0] ^= 1;
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_VERIFY);
        assert_string_equal(r.items[r.n - 1].code, "ima-boot-aggregate-mismatch");
        b->present = 0xff; /* PCRs 8 and 9 missing */
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_NOT_FOUND);
        shield_reasons_clear(&r);
        shield_ima_free(l);
        free(line);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ascii_ng_and_replay),
                cmocka_unit_test(test_binary_and_trailing_bytes),
                cmocka_unit_test(test_ascii_errors),
                cmocka_unit_test(test_violation_and_boot_aggregate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
