/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMA lists built here from the kernel's documented formats
 * (Documentation/security/IMA-templates.rst; security/integrity/ima/ima_fs.c
 * for the binary and ASCII layouts). Fixed vectors were computed with the
 * openssl CLI (commands beside them); the others hash template data that
 * this test lays out itself. Real lists: tests/conformance/conformance-ima.c.
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

/* A growable byte buffer for building lists. */
struct buf {
        uint8_t d[8192];
        size_t n;
};

static void put(struct buf *b, const void *p, size_t n) {
        assert_true(n <= sizeof b->d - b->n);
        if (n)
                memcpy(b->d + b->n, p, n);
        b->n += n;
}

static void put32(struct buf *b, uint32_t v, bool be) {
        uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        if (be) {
                uint8_t y[4] = { x[3], x[2], x[1], x[0] };
                put(b, y, 4);
        } else {
                put(b, x, 4);
        }
}

/* One template-data field: u32 length ‖ bytes. */
static void field(struct buf *b, const void *p, size_t n, bool be) {
        put32(b, (uint32_t)n, be);
        put(b, p, n);
}

/* A d-ng field "prefix:" NUL digest. */
static void field_dng(struct buf *b, const char *prefix, const uint8_t *digest, size_t n, bool be) {
        struct buf f = { .n = 0 };
        put(&f, prefix, strlen(prefix));
        put(&f, ":", 2); /* the colon and the NUL */
        put(&f, digest, n);
        field(b, f.d, f.n, be);
}

static void field_str(struct buf *b, const char *s, bool be) {
        field(b, s, strlen(s) + 1, be);
}

/* A binary record: PCR, template hash (hash_alg over data, or zeros), name, data length, data. */
static void record(struct buf *b, uint32_t pcr, uint16_t hash_alg, bool violation, const char *name,
                   const struct buf *data, bool be) {
        uint8_t th[SHIELD_HASH_MAX_SIZE] = { 0 };
        size_t hs = shield_hash_size(hash_alg);
        if (!violation)
                assert_int_equal(shield_hash(hash_alg, data->d, data->n, th), 0);
        put32(b, pcr, be);
        put(b, th, hs);
        field(b, name, strlen(name), be);
        field(b, data->d, data->n, be);
}

static struct shield_ima_list *parse_opts(const void *p, size_t n, const struct shield_ima_options *o) {
        struct shield_ima_list *l = NULL;
        struct shield_diag d = { 0 };
        int r = shield_ima_parse(p, n, o, &l, &d);
        if (r < 0)
                fail_msg("parse: %s: %s (offset %zu)", shield_strerror(r), d.msg, d.offset);
        return l;
}

static struct shield_ima_list *parse(const char *text) {
        return parse_opts(text, strlen(text), NULL);
}

/* Parse expecting failure code; the output must stay untouched and diag say where. */
static struct shield_diag parse_fails(const void *p, size_t n, const struct shield_ima_options *o, int code) {
        struct shield_ima_list *l = (void *)0xaa;
        struct shield_diag d = { 0 };
        int r = shield_ima_parse(p, n, o, &l, &d);
        if (r != code)
                fail_msg("expected %s, got %d (%s)", shield_strerror(code), r, d.msg);
        assert_ptr_equal(l, (void *)0xaa);
        assert_true(d.msg[0]);
        return d;
}

static size_t count_code(const struct shield_reasons *r, const char *code) {
        size_t n = 0;
        for (size_t i = 0; i < r->n; i++)
                n += strcmp(r->items[i].code, code) == 0;
        return n;
}

static void assert_templates_ok(const struct shield_ima_list *l) {
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        if (shield_reasons_count(&r, SHIELD_SEV_ERROR) || shield_reasons_count(&r, SHIELD_SEV_WARNING))
                fail_msg("%s", r.items[0].message);
        shield_reasons_clear(&r);
}

static void hex_to(const char *hex, uint8_t *out) {
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(shield_hex_decode(hex, &b, &n), 0);
        memcpy(out, b, n);
        free(b);
}

/*
 * printf hello | openssl dgst -sha256 → 2cf24d…; the ima-ng data
 * (\x28\0\0\0 "sha256:" \0 digest \x0b\0\0\0 "/tmp/hello" \0) hashes to
 * 7c2776… (openssl dgst -sha1) and ffba7a… (openssl dgst -sha256).
 */
#define HELLO_SHA256 "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define HELLO_NG_SHA1 "7c277669f7a684d527bcbcfe0b11ad4b89bf1940"
#define HELLO_NG_SHA256 "ffba7ad6f4bd74bc2b8c2cad40a95635c74358ab669bf782996b8e612ac385ab"
/* SHA-1(20 zero bytes ‖ HELLO_NG_SHA1) and SHA-256(32 zero bytes ‖ HELLO_NG_SHA256), openssl dgst. */
#define HELLO_PCR10_SHA1 "9ea09fa751a5087600d54c168e78d5f5e14a101d"
#define HELLO_PCR10_SHA256 "2f6a3bd0febc3d1d5de18874161de697943d37490feb6cca9c50401416688dcc"

static void test_ascii_ima_ng_openssl_vector(void **state) {
        (void)state;
        const char *text = "10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hello\n";
        struct shield_ima_list *l = parse(text);
        uint8_t pcr[32], want[32];

        assert_int_equal(shield_ima_format(l), SHIELD_IMA_ASCII);
        assert_int_equal(shield_ima_count(l), 1);
        assert_int_equal(shield_ima_template_hash_alg(l), SHIELD_ALG_SHA1);
        const struct shield_ima_entry *e = shield_ima_entry(l, 0);
        assert_null(shield_ima_entry(l, 1));
        assert_string_equal(e->template_name, "ima-ng");
        assert_true(e->template_known);
        assert_string_equal(e->path, "/tmp/hello");
        assert_string_equal(e->file_hash_algo, "sha256");
        assert_int_equal(e->file_hash_alg, SHIELD_ALG_SHA256);
        assert_int_equal(e->file_hash_size, 32);
        assert_int_equal(e->line, 1);
        assert_int_equal(e->pcr, 10);
        assert_false(e->violation);
        assert_templates_ok(l);
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA1, NULL, pcr), 0);
        hex_to(HELLO_PCR10_SHA1, want);
        assert_memory_equal(pcr, want, 20);
        /* The sha256 bank extends SHA-256 of the template data, not the SHA-1 template hash. */
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA256, NULL, pcr), 0);
        hex_to(HELLO_PCR10_SHA256, want);
        assert_memory_equal(pcr, want, 32);
        /* Another PCR has no entries: it stays zero. */
        memset(want, 0, sizeof want);
        assert_int_equal(shield_ima_replay(l, 11, SHIELD_ALG_SHA1, NULL, pcr), 0);
        assert_memory_equal(pcr, want, 20);
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, 0x0999, NULL, pcr), SHIELD_E_INVAL);
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA1, NULL, NULL), SHIELD_E_INVAL);
        shield_ima_free(l);

        /* The same list with the hash changed in one digit: a mismatch naming its line. */
        char *bad = strdup("10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hello\n"
                           "10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hellO\n");
        l = parse(bad);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.items[0].code, "ima-template-hash-mismatch");
        assert_int_equal(r.items[0].event_index, 1);
        assert_non_null(strstr(r.items[0].message, "line 2"));
        assert_non_null(strstr(r.items[0].message, HELLO_NG_SHA1));
        shield_reasons_clear(&r);
        shield_ima_free(l);
        free(bad);
}

static void test_ascii_legacy_ima(void **state) {
        (void)state;
        /*
         * printf abc | openssl dgst -sha1 → a9993e…; { digest; printf
         * /etc/passwd; head -c 245 /dev/zero; } | openssl dgst -sha1 → b9f28d…
         */
        const char *text = "10 b9f28d0f693a31435828c974186f06fd65ff6c53 ima a9993e364706816aba3e25717850c26c9cd0d89d "
                           "/etc/passwd\n";
        struct shield_ima_list *l = parse(text);
        const struct shield_ima_entry *e = shield_ima_entry(l, 0);
        assert_string_equal(e->template_name, "ima");
        assert_string_equal(e->path, "/etc/passwd");
        assert_string_equal(e->file_hash_algo, "sha1");
        assert_int_equal(e->template_data_size, 276);
        assert_templates_ok(l);
        shield_ima_free(l);

        /* A name longer than 255 bytes: the kernel hashes only the first 255. */
        char name[301], line[600], hex[41];
        uint8_t data[276] = { 0 }, th[20];
        memset(name, 'x', 300);
        name[0] = '/';
        name[300] = 0;
        memcpy(data + 20, name, 255);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data, sizeof data, th), 0);
        shield_hex_encode(th, 20, hex);
        snprintf(line, sizeof line, "10 %s ima %040d %s\n", hex, 0, name);
        l = parse(line);
        assert_string_equal(shield_ima_entry(l, 0)->path, name);
        assert_templates_ok(l);
        shield_ima_free(l);
}

/* An ASCII line for template tmpl, its template hash SHA-1 over data; fields is the text after the name. */
static char *ascii_line(const char *tmpl, const struct buf *data, const char *fields) {
        uint8_t th[20];
        char hex[41], *line = NULL;
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data->d, data->n, th), 0);
        shield_hex_encode(th, 20, hex);
        assert_true(asprintf(&line, "10 %s %s %s\n", hex, tmpl, fields) > 0);
        return line;
}

static void test_ascii_templates(void **state) {
        (void)state;
        uint8_t dg[32], sig[3] = { 3, 2, 1 };
        struct buf data;
        char *line;
        struct shield_ima_list *l;
        memset(dg, 0x11, sizeof dg);
        const char *dgx = "1111111111111111111111111111111111111111111111111111111111111111";

        /* ima-sig with a signature, and without one (the kernel prints the separator: a trailing space). */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/bin/sh", false);
        field(&data, sig, 3, false);
        char fields[256];
        snprintf(fields, sizeof fields, "sha256:%s /bin/sh 030201", dgx);
        line = ascii_line("ima-sig", &data, fields);
        l = parse(line);
        assert_int_equal(shield_ima_entry(l, 0)->sig_size, 3);
        assert_memory_equal(shield_ima_entry(l, 0)->sig, sig, 3);
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);

        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/bin/sh", false);
        field(&data, NULL, 0, false);
        snprintf(fields, sizeof fields, "sha256:%s /bin/sh ", dgx);
        line = ascii_line("ima-sig", &data, fields);
        l = parse(line);
        assert_int_equal(shield_ima_entry(l, 0)->sig_size, 0);
        assert_string_equal(shield_ima_entry(l, 0)->path, "/bin/sh");
        assert_templates_ok(l);
        shield_ima_free(l);
        /* Tools that trim trailing spaces drop the empty field: still the same entry. */
        line[strlen(line) - 2] = '\n';
        line[strlen(line) - 1] = 0;
        l = parse(line);
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);

        /* ima-buf: the buffer is hex (here a kexec command line). */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "kexec-cmdline", false);
        field(&data, "ro quiet", 8, false);
        snprintf(fields, sizeof fields, "sha256:%s kexec-cmdline 726f207175696574", dgx);
        line = ascii_line("ima-buf", &data, fields);
        l = parse(line);
        assert_int_equal(shield_ima_entry(l, 0)->buf_size, 8);
        assert_memory_equal(shield_ima_entry(l, 0)->buf, "ro quiet", 8);
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);

        /* ima-modsig: sig, d-modsig and modsig all empty → three trailing separators. */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha512", (uint8_t[64]){ 0x22 }, 64, false);
        field_str(&data, "/lib/modules/x.ko", false);
        field(&data, NULL, 0, false);
        field(&data, NULL, 0, false);
        field(&data, NULL, 0, false);
        snprintf(fields, sizeof fields, "sha512:22%0126d /lib/modules/x.ko   ", 0);
        line = ascii_line("ima-modsig", &data, fields);
        l = parse(line);
        assert_string_equal(shield_ima_entry(l, 0)->file_hash_algo, "sha512");
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);
        /* … and with a d-modsig digest and an appended signature. */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/lib/modules/y.ko", false);
        field(&data, NULL, 0, false);
        field_dng(&data, "sha256", dg, 32, false);
        field(&data, sig, 3, false);
        snprintf(fields, sizeof fields, "sha256:%s /lib/modules/y.ko  sha256:%s 030201", dgx, dgx);
        line = ascii_line("ima-modsig", &data, fields);
        l = parse(line);
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);

        /* ima-ngv2: the digest type comes first; d-ngv2 hashes it too. */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "verity:sha256", dg, 32, false);
        field_str(&data, "/usr/bin/v", false);
        snprintf(fields, sizeof fields, "verity:sha256:%s /usr/bin/v", dgx);
        line = ascii_line("ima-ngv2", &data, fields);
        l = parse(line);
        assert_string_equal(shield_ima_entry(l, 0)->file_hash_type, "verity");
        assert_string_equal(shield_ima_entry(l, 0)->file_hash_algo, "sha256");
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);

        /* A custom template is listed under its format string. */
        data = (struct buf){ .n = 0 };
        field_str(&data, "/etc/hosts", false);
        field_dng(&data, "sm3", dg, 32, false);
        snprintf(fields, sizeof fields, "/etc/hosts sm3:%s", dgx);
        line = ascii_line("n-ng|d-ng", &data, fields);
        l = parse(line);
        assert_true(shield_ima_entry(l, 0)->template_known);
        assert_int_equal(shield_ima_entry(l, 0)->file_hash_alg, SHIELD_ALG_SM3_256);
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);

        /* A name with spaces (not from a kernel, which writes '_'): the name takes them. */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/a b c", false);
        field(&data, sig, 3, false);
        snprintf(fields, sizeof fields, "sha256:%s /a b c 030201", dgx);
        line = ascii_line("ima-sig", &data, fields);
        l = parse(line);
        assert_string_equal(shield_ima_entry(l, 0)->path, "/a b c");
        assert_templates_ok(l);
        shield_ima_free(l);
        free(line);
}

static void test_ascii_unknown_template(void **state) {
        (void)state;
        const char *text = "10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hello\n"
                           " 9 1111111111111111111111111111111111111111 my-template whatever it holds\n";
        struct shield_ima_list *l = parse(text);
        struct shield_reasons r = { 0 };
        uint8_t pcr[32];

        const struct shield_ima_entry *e = shield_ima_entry(l, 1);
        assert_int_equal(e->pcr, 9); /* "%2d": a leading space */
        assert_false(e->template_known);
        assert_null(e->template_data);
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.items[0].code, "ima-template-unknown");
        assert_int_equal(r.items[0].severity, SHIELD_SEV_WARNING);
        /* PCR 10's entries are all known; PCR 9's another bank cannot be replayed. */
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA256, NULL, pcr), 0);
        assert_int_equal(shield_ima_replay(l, 9, SHIELD_ALG_SHA1, NULL, pcr), 0);
        assert_int_equal(shield_ima_replay(l, 9, SHIELD_ALG_SHA256, NULL, pcr), SHIELD_E_UNSUPPORTED);
        shield_reasons_clear(&r);
        shield_ima_free(l);
}

static void test_binary_templates(void **state) {
        (void)state;
        struct buf list = { .n = 0 }, data;
        uint8_t dg[32], sig[4] = { 1, 2, 3, 4 };
        memset(dg, 0x5a, sizeof dg);

        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "boot_aggregate", false);
        record(&list, 10, SHIELD_ALG_SHA1, false, "ima-ng", &data, false);
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/bin/sig", false);
        field(&data, sig, 4, false);
        record(&list, 10, SHIELD_ALG_SHA1, false, "ima-sig", &data, false);
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/lib/m.ko", false);
        field(&data, NULL, 0, false);
        field_dng(&data, "sha256", dg, 32, false);
        field(&data, sig, 4, false);
        record(&list, 10, SHIELD_ALG_SHA1, false, "ima-modsig", &data, false);
        /* An unknown template: opaque, but its hash is still over these bytes. */
        data = (struct buf){ .n = 0 };
        put(&data, "opaque", 6);
        record(&list, 10, SHIELD_ALG_SHA1, false, "vendor-x", &data, false);
        /* Legacy "ima": bare digest, name without length-prefixed template data. */
        uint8_t legacy[276] = { 0 }, th[20];
        memcpy(legacy, dg, 20);
        memcpy(legacy + 20, "/etc/passwd", 11);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, legacy, sizeof legacy, th), 0);
        put32(&list, 10, false);
        put(&list, th, 20);
        field(&list, "ima", 3, false);
        put(&list, dg, 20);
        field(&list, "/etc/passwd", 11, false);
        /* A violation in PCR 11. */
        data = (struct buf){ .n = 0 };
        field_dng(&data, "sha256", (uint8_t[32]){ 0 }, 32, false);
        field_str(&data, "/tmp/open-writers", false);
        record(&list, 11, SHIELD_ALG_SHA1, true, "ima-ng", &data, false);
        put(&list, "\n", 1); /* as real lists end */

        struct shield_ima_list *l = parse_opts(list.d, list.n, NULL);
        assert_int_equal(shield_ima_format(l), SHIELD_IMA_BINARY);
        assert_false(shield_ima_big_endian(l));
        assert_int_equal(shield_ima_count(l), 6);
        assert_int_equal(shield_ima_quirks(l)->n, 1);
        assert_string_equal(shield_ima_quirks(l)->items[0].code, "ima-trailing-bytes");
        assert_string_equal(shield_ima_entry(l, 0)->path, "boot_aggregate");
        assert_int_equal(shield_ima_entry(l, 0)->offset, 0);
        assert_int_equal(shield_ima_entry(l, 0)->line, 0);
        assert_int_equal(shield_ima_entry(l, 1)->sig_size, 4);
        assert_string_equal(shield_ima_entry(l, 2)->path, "/lib/m.ko");
        assert_false(shield_ima_entry(l, 3)->template_known);
        assert_string_equal(shield_ima_entry(l, 3)->template_name, "vendor-x");
        assert_string_equal(shield_ima_entry(l, 4)->path, "/etc/passwd");
        assert_string_equal(shield_ima_entry(l, 4)->template_name, "ima");
        assert_true(shield_ima_entry(l, 5)->violation);

        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.items[0].code, "ima-violation");
        assert_int_equal(r.items[0].event_index, 5);
        shield_reasons_clear(&r);

        /* PCR 11 holds only the violation: extend(0, ones) = openssl's bac37b… (see top). */
        uint8_t pcr[32], want[20];
        assert_int_equal(shield_ima_replay(l, 11, SHIELD_ALG_SHA1, NULL, pcr), 0);
        hex_to("bac37b84f007d0238af95af707cac8d61254870e", want);
        assert_memory_equal(pcr, want, 20);
        /* Opaque binary template data can still be hashed for another bank. */
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA256, NULL, pcr), 0);
        shield_ima_free(l);
}

static void test_binary_per_bank_and_big_endian(void **state) {
        (void)state;
        struct buf data = { .n = 0 }, le = { .n = 0 }, be = { .n = 0 };
        uint8_t dg[48] = { 9 }, th256[32], pcr[32], want[32] = { 0 }, cat[64];

        /* binary_runtime_measurements_sha256: 32-byte template hashes, SHA-256 of the data. */
        field_dng(&data, "sha384", dg, 48, false);
        field_str(&data, "/usr/lib/x", false);
        record(&le, 10, SHIELD_ALG_SHA256, false, "ima-ng", &data, false);
        struct shield_ima_list *l = parse_opts(le.d, le.n, NULL);
        assert_int_equal(shield_ima_template_hash_alg(l), SHIELD_ALG_SHA256);
        assert_int_equal(shield_ima_entry(l, 0)->template_hash_size, 32);
        assert_templates_ok(l);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, data.d, data.n, th256), 0);
        memcpy(cat + 32, th256, 32);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, 64, want), 0);
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA256, NULL, pcr), 0);
        assert_memory_equal(pcr, want, 32);
        shield_ima_free(l);

        /* The same 32-byte hashes made with SM3 are told apart by the first entry. */
        struct buf sm3 = { .n = 0 };
        record(&sm3, 10, SHIELD_ALG_SM3_256, false, "ima-ng", &data, false);
        l = parse_opts(sm3.d, sm3.n, NULL);
        assert_int_equal(shield_ima_template_hash_alg(l), SHIELD_ALG_SM3_256);
        assert_templates_ok(l);
        shield_ima_free(l);
        /* Told the wrong algorithm, every hash mismatches. */
        struct shield_ima_options o = { .template_hash_alg = SHIELD_ALG_SHA256 };
        l = parse_opts(sm3.d, sm3.n, &o);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_templates(l, NULL, &r), 0);
        assert_int_equal(count_code(&r, "ima-template-hash-mismatch"), 1);
        assert_non_null(strstr(r.items[0].message, "offset 0"));
        shield_reasons_clear(&r);
        shield_ima_free(l);

        /* A big-endian host (s390x) writes every length and the PCR big-endian. */
        struct buf bdata = { .n = 0 };
        field_dng(&bdata, "sha384", dg, 48, true);
        field_str(&bdata, "/usr/lib/x", true);
        record(&be, 10, SHIELD_ALG_SHA1, false, "ima-ng", &bdata, true);
        l = parse_opts(be.d, be.n, NULL);
        assert_true(shield_ima_big_endian(l));
        assert_int_equal(shield_ima_entry(l, 0)->pcr, 10);
        assert_string_equal(shield_ima_entry(l, 0)->path, "/usr/lib/x");
        assert_templates_ok(l);
        shield_ima_free(l);
}

static void test_ascii_errors(void **state) {
        (void)state;
        const char *th = "0000000000000000000000000000000000000001";
        char big_name[SHIELD_IMA_NAME_MAX + 200], tmpl[300];
        const struct {
                const char *text;
                int code;
                size_t line;
        } bad[] = {
                { "10\n", SHIELD_E_FORMAT, 0 }, /* binary by detection, then no sensible record */
                { "10 zz ima-ng sha256:00 /x\n", SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001\n", SHIELD_E_FORMAT, 1 },
                { "10 00000000000000000000000000000000000001 ima-ng sha256:00 /x\n", SHIELD_E_FORMAT, 1 },
                { "10 000000000000000000000000000000000000000g ima-ng sha1:00 /x\n", SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima-ng\n", SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima-ng sha256\n", SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima-ng sha256:00 /x\n", SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima-ng sha1:zz00000000000000000000000000000000000000 /x\n",
                  SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima-ng foo:0000 /x\n", SHIELD_E_UNSUPPORTED, 1 },
                { "10 0000000000000000000000000000000000000001 ima-ngv2 sha1:0000000000000000000000000000000000000000 /x\n",
                  SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima 00 /x\n", SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 ima-sig sha1:0000000000000000000000000000000000000000 /x 0g\n",
                  SHIELD_E_FORMAT, 1 },
                { "10 0000000000000000000000000000000000000001 d-ng|sig sha1:0000000000000000000000000000000000000000 00 00\n",
                  SHIELD_E_FORMAT, 1 },
                /* Binary by detection; its "template name length" is "0000" = 0x30303030, over the cap. */
                { "x1 0000000000000000000000000000000000000001 ima-ng sha1:00 /x\n", SHIELD_E_LIMIT, 0 },
                { "10 0000000000000000000000000000000000000001 ima-ng sha1:0000000000000000000000000000000000000000 /x\n"
                  "10 00000000000000000000000000000000000000000000000000000000000000ff ima-ng "
                  "sha1:0000000000000000000000000000000000000000 /y\n",
                  SHIELD_E_FORMAT, 2 },
                { "4294967296 0000000000000000000000000000000000000001 ima-ng sha1:00 /x\n", SHIELD_E_FORMAT, 1 },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct shield_diag d = parse_fails(bad[i].text, strlen(bad[i].text), NULL, bad[i].code);
                if (bad[i].line) {
                        char want[32];
                        snprintf(want, sizeof want, "line %zu:", bad[i].line);
                        if (strncmp(d.msg, want, strlen(want)) != 0)
                                fail_msg("case %zu: '%s' does not start with '%s'", i, d.msg, want);
                }
        }
        /* The diag offset points into the line: the bad template hash is at byte 3. */
        struct shield_diag d = parse_fails(bad[1].text, strlen(bad[1].text), NULL, SHIELD_E_FORMAT);
        assert_int_equal(d.offset, 3);
        assert_int_equal(d.index, 0);

        /* A name over SHIELD_IMA_NAME_MAX. */
        memset(big_name, 'a', sizeof big_name - 1);
        big_name[sizeof big_name - 1] = 0;
        char *line = NULL;
        assert_true(asprintf(&line, "10 %s ima-ng sha1:%040d /%s\n", th, 0, big_name) > 0);
        d = parse_fails(line, strlen(line), NULL, SHIELD_E_LIMIT);
        assert_non_null(strstr(d.msg, "event name"));
        free(line);
        /* A template name over SHIELD_IMA_TEMPLATE_NAME_MAX. */
        memset(tmpl, 't', sizeof tmpl - 1);
        tmpl[sizeof tmpl - 1] = 0;
        assert_true(asprintf(&line, "10 %s %s x\n", th, tmpl) > 0);
        parse_fails(line, strlen(line), NULL, SHIELD_E_LIMIT);
        free(line);
        /* A signature over the template-data cap. */
        size_t n = 2 * SHIELD_IMA_TEMPLATE_DATA_MAX + 2;
        char *huge = malloc(n + 200);
        int k = snprintf(huge, 200, "10 %s ima-sig sha1:%040d /x ", th, 0);
        memset(huge + k, 'a', n);
        huge[k + n] = '\n';
        parse_fails(huge, (size_t)k + n + 1, NULL, SHIELD_E_LIMIT);
        free(huge);
}

static void test_entry_cap(void **state) {
        (void)state;
        const char *text = "10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hello\n"
                           "10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hello\n"
                           "10 " HELLO_NG_SHA1 " ima-ng sha256:" HELLO_SHA256 " /tmp/hello\n";
        struct shield_ima_options o = { .max_entries = 2 };
        struct shield_diag d = parse_fails(text, strlen(text), &o, SHIELD_E_LIMIT);
        assert_int_equal(d.index, 2);
        assert_non_null(strstr(d.msg, "line 3"));
        o.max_entries = 3;
        struct shield_ima_list *l = parse_opts(text, strlen(text), &o);
        assert_int_equal(shield_ima_count(l), 3);
        shield_ima_free(l);

        /* The same cap on a binary list. */
        struct buf list = { .n = 0 }, data = { .n = 0 };
        field_str(&data, "x", false);
        for (int i = 0; i < 3; i++)
                record(&list, 10, SHIELD_ALG_SHA1, false, "vendor", &data, false);
        o.max_entries = 2;
        parse_fails(list.d, list.n, &o, SHIELD_E_LIMIT);
        /* A bad option. */
        struct shield_ima_list *untouched = NULL;
        o = (struct shield_ima_options){ .template_hash_alg = 0x0999 };
        assert_int_equal(shield_ima_parse(list.d, list.n, &o, &untouched, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_ima_parse(NULL, 1, NULL, &untouched, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_ima_parse(list.d, list.n, NULL, NULL, NULL), SHIELD_E_INVAL);
        parse_fails("", 0, NULL, SHIELD_E_TRUNCATED);
        parse_fails("\n\n", 2, NULL, SHIELD_E_FORMAT);
}

static void test_binary_errors(void **state) {
        (void)state;
        struct buf data = { .n = 0 }, list = { .n = 0 };
        uint8_t dg[32] = { 1 };
        field_dng(&data, "sha256", dg, 32, false);
        field_str(&data, "/init", false);
        record(&list, 10, SHIELD_ALG_SHA1, false, "ima-ng", &data, false);
        /* Layout: PCR 0-3, hash 4-23, name length 24-27, "ima-ng" 28-33, data length 34-37, data 38-. */
        assert_int_equal(list.n, 38 + data.n);

        /* Cut inside the template data: the data length field is named. */
        struct shield_diag d = parse_fails(list.d, list.n - 1, NULL, SHIELD_E_TRUNCATED);
        assert_int_equal(d.offset, 34);
        assert_int_equal(d.index, 0);
        /* Over the template-data cap. */
        struct buf b = list;
        uint8_t huge[4] = { 0x01, 0x00, 0x10, 0x00 }; /* 0x100001 = SHIELD_IMA_TEMPLATE_DATA_MAX + 1 */
        memcpy(b.d + 34, huge, 4);
        parse_fails(b.d, b.n, NULL, SHIELD_E_LIMIT);
        /* A template-name length of 0 and of 256. */
        b = list;
        memset(b.d + 24, 0, 4);
        parse_fails(b.d, b.n, NULL, SHIELD_E_FORMAT);
        b = list;
        b.d[24] = 0;
        b.d[25] = 1;
        parse_fails(b.d, b.n, NULL, SHIELD_E_LIMIT);
        /* A field length inside the template data that runs past it. */
        b = list;
        b.d[38] = 0xff;
        d = parse_fails(b.d, b.n, NULL, SHIELD_E_FORMAT);
        assert_int_equal(d.offset, 38);
        /* An unknown digest algorithm in d-ng. */
        b = list;
        memcpy(b.d + 42, "shaXYZ", 6);
        parse_fails(b.d, b.n, NULL, SHIELD_E_UNSUPPORTED);
        /* A digest whose size does not fit its algorithm ("sha256" → "sha384" needs 48 bytes). */
        b = list;
        memcpy(b.d + 42, "sha384", 6);
        d = parse_fails(b.d, b.n, NULL, SHIELD_E_FORMAT);
        assert_non_null(strstr(d.msg, "48"));
        /* d-ng without its NUL. */
        b = list;
        b.d[49] = 'x';
        parse_fails(b.d, b.n, NULL, SHIELD_E_FORMAT);

        /* Bytes after the fields inside the template data. */
        struct buf extra = data, l2 = { .n = 0 };
        put(&extra, "zz", 2);
        record(&l2, 10, SHIELD_ALG_SHA1, false, "ima-ng", &extra, false);
        parse_fails(l2.d, l2.n, NULL, SHIELD_E_TRAILING);
        /* Too few fields for ima-sig. */
        l2 = (struct buf){ .n = 0 };
        record(&l2, 10, SHIELD_ALG_SHA1, false, "ima-sig", &data, false);
        parse_fails(l2.d, l2.n, NULL, SHIELD_E_FORMAT);
        /* An event name over SHIELD_IMA_NAME_MAX in n-ng, and in the legacy template. */
        static char name[SHIELD_IMA_NAME_MAX + 10];
        memset(name, 'n', sizeof name - 1);
        struct buf *big = calloc(1, sizeof *big), *bigl = calloc(1, sizeof *bigl);
        field_dng(big, "sha256", dg, 32, false);
        field_str(big, name, false);
        record(bigl, 10, SHIELD_ALG_SHA1, false, "ima-ng", big, false);
        d = parse_fails(bigl->d, bigl->n, NULL, SHIELD_E_LIMIT);
        assert_non_null(strstr(d.msg, "event name"));
        *bigl = (struct buf){ .n = 0 };
        put32(bigl, 10, false);
        put(bigl, dg, 20);
        field(bigl, "ima", 3, false);
        put(bigl, dg, 20);
        field(bigl, name, strlen(name), false);
        parse_fails(bigl->d, bigl->n, NULL, SHIELD_E_LIMIT);
        /* A legacy record cut inside its name (4 + 20 + 4 + 3 + 20 + 4 = 55 bytes of header). */
        *bigl = (struct buf){ .n = 0 };
        put32(bigl, 10, false);
        put(bigl, dg, 20);
        field(bigl, "ima", 3, false);
        put(bigl, dg, 20);
        field(bigl, "/etc/passwd", 11, false);
        d = parse_fails(bigl->d, 60, NULL, SHIELD_E_TRUNCATED);
        assert_int_equal(d.offset, 51);
        parse_fails(bigl->d, 40, NULL, SHIELD_E_TRUNCATED);
        free(big);
        free(bigl);
        /* A full header and then nothing: a cut-off record, not stray bytes. */
        struct buf cut = { .n = 0 };
        put(&cut, list.d, list.n);
        put(&cut, list.d, 30);
        parse_fails(cut.d, cut.n, NULL, SHIELD_E_TRUNCATED);
}

static void test_boot_aggregate(void **state) {
        (void)state;
        /* SHA-256 boot_aggregate = SHA-256(PCR 0 ‖ … ‖ PCR 9) of the sha256 bank. */
        struct shield_pcrs fw = { 0 };
        struct shield_pcr_bank *b, *b1;
        uint8_t cat[320], agg[32], agg1[20];
        assert_int_equal(shield_pcrs_add_bank(&fw, SHIELD_ALG_SHA256, 32, &b), 0);
        assert_int_equal(shield_pcrs_add_bank(&fw, SHIELD_ALG_SHA1, 20, &b1), 0);
        for (int i = 0; i < 10; i++) {
                memset(b->value[i], i + 1, 32);
                memcpy(cat + 32 * i, b->value[i], 32);
                memset(b1->value[i], i + 1, 20);
        }
        b->present = b1->present = 0x3ff;
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, sizeof cat, agg), 0);
        /* SHA-1 boot_aggregate = SHA-1(PCR 0 ‖ … ‖ PCR 7) of the sha1 bank. */
        for (int i = 0; i < 8; i++)
                memcpy(cat + 20 * i, b1->value[i], 20);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, cat, 160, agg1), 0);

        char aggx[65], agg1x[41], *text = NULL;
        shield_hex_encode(agg, 32, aggx);
        shield_hex_encode(agg1, 20, agg1x);
        assert_true(asprintf(&text,
                             "10 1111111111111111111111111111111111111111 ima-ng sha256:%s boot_aggregate\n"
                             "10 1111111111111111111111111111111111111111 ima-ng sha1:%s boot_aggregate\n"
                             "10 0000000000000000000000000000000000000000 ima-ng sha256:%064d /v\n",
                             aggx, agg1x, 0) > 0);
        struct shield_ima_list *l = parse(text);
        struct shield_reasons r = { 0 };
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), 0);
        assert_int_equal(r.n, 0);
        /* PCR 9 counts for sha256 … */
        b->value[9][0] ^= 1;
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_VERIFY);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.items[0].code, "ima-boot-aggregate-mismatch");
        assert_int_equal(r.items[0].event_index, 0);
        assert_int_equal(r.items[0].bank, SHIELD_ALG_SHA256);
        b->value[9][0] ^= 1;
        /* … and a missing PCR 8 or 9 cannot be checked. */
        b->present = 0xff;
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_NOT_FOUND);
        shield_reasons_clear(&r);
        shield_ima_free(l);

        /* The SHA-1 one ignores PCRs 8 and 9 (the second line, made the first). */
        l = parse(strchr(text, '\n') + 1);
        b1->value[8][0] ^= 1;
        b1->present = 0xff;
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), 0);
        b1->value[3][0] ^= 1;
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_VERIFY);
        shield_reasons_clear(&r);
        shield_ima_free(l);

        /* boot_aggregate must be the first entry. */
        l = parse(strchr(strchr(text, '\n') + 1, '\n') + 1);
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_NOT_FOUND);
        shield_ima_free(l);
        free(text);

        /* An all-zero boot_aggregate (no TPM at boot) is named as such. */
        l = parse("10 0000000000000000000000000000000000000000 ima 0000000000000000000000000000000000000000 "
                  "boot_aggregate\n");
        b1->value[3][0] ^= 1;
        assert_int_equal(shield_ima_check_boot_aggregate(l, &fw, &r), SHIELD_E_VERIFY);
        assert_non_null(strstr(r.items[0].message, "no TPM"));
        assert_int_equal(shield_ima_check_boot_aggregate(l, &(struct shield_pcrs){ 0 }, &r), SHIELD_E_NOT_FOUND);
        shield_reasons_clear(&r);
        shield_ima_free(l);
}

/* A list built with the template data hashed by this test: a few thousand entries, replayed by hand. */
static void test_many_entries_replay(void **state) {
        (void)state;
        size_t cap = 3000 * 140, n = 0;
        char *text = malloc(cap);
        uint8_t want[20] = { 0 }, cat[40], pcr[20];
        for (int i = 0; i < 3000; i++) {
                struct buf data = { .n = 0 };
                uint8_t dg[20], th[20];
                char path[32], dgx[41], thx[41];
                memset(dg, i & 0xff, 20);
                snprintf(path, sizeof path, "/usr/lib/f%d", i);
                field_dng(&data, "sha1", dg, 20, false);
                field_str(&data, path, false);
                assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data.d, data.n, th), 0);
                memcpy(cat, want, 20);
                memcpy(cat + 20, th, 20);
                assert_int_equal(shield_hash(SHIELD_ALG_SHA1, cat, 40, want), 0);
                shield_hex_encode(dg, 20, dgx);
                shield_hex_encode(th, 20, thx);
                n += (size_t)snprintf(text + n, cap - n, "10 %s ima-ng sha1:%s %s\n", thx, dgx, path);
        }
        struct shield_ima_list *l = parse_opts(text, n, NULL);
        assert_int_equal(shield_ima_count(l), 3000);
        assert_templates_ok(l);
        assert_int_equal(shield_ima_replay(l, SHIELD_IMA_PCR, SHIELD_ALG_SHA1, NULL, pcr), 0);
        assert_memory_equal(pcr, want, 20);
        assert_int_equal(shield_ima_entry(l, 2999)->line, 3000);
        shield_ima_free(l);
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ascii_ima_ng_openssl_vector),
                cmocka_unit_test(test_ascii_legacy_ima),
                cmocka_unit_test(test_ascii_templates),
                cmocka_unit_test(test_ascii_unknown_template),
                cmocka_unit_test(test_binary_templates),
                cmocka_unit_test(test_binary_per_bank_and_big_endian),
                cmocka_unit_test(test_ascii_errors),
                cmocka_unit_test(test_entry_cap),
                cmocka_unit_test(test_binary_errors),
                cmocka_unit_test(test_boot_aggregate),
                cmocka_unit_test(test_many_entries_replay),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
