/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edk2 variable stores. Oracles: Debian's OVMF templates when installed
 * (read-only: the real layout and the keys Debian enrolled, as its
 * README.Debian and ../shared/notes/firmware-harness.md describe them), and
 * OVMF itself booting a written store (tests/e2e/e2e-secureboot-ovmf.sh).
 * The synthetic stores here are built byte by byte from PI 1.7 vol. 3,
 * 3.2.1 and edk2 VariableFormat.h, independently of the parser.
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

#include "shield/util.h"
#include "shield/varstore.h"

#define STORE_LEN 0x10000u /* the synthetic volume: 16 blocks of 4 KiB */
#define STORE_END 0x8000u  /* the variable store ends here; the rest is "FTW" filler */
#define FIRST 0x64u        /* the first record: 0x48 volume header + 28 store header */

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* PI 1.7 vol. 3, 3.2.1: the 16-bit words of the header sum to zero. */
static void fix_checksum(uint8_t *b) {
        uint16_t sum = 0;
        put16(b + 0x32, 0);
        for (size_t i = 0; i < 0x48; i += 2)
                sum = (uint16_t)(sum + (b[i] | b[i + 1] << 8));
        put16(b + 0x32, (uint16_t)(0x10000u - sum));
}

/* A 64 KiB firmware volume with an empty store, authenticated or plain (gEfiVariableGuid). */
static uint8_t *make_store(bool authenticated) {
        static const uint8_t nv[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
                                        0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
        static const uint8_t auth[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
                                          0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
        static const uint8_t plain[16] = { 0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41,
                                           0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d };
        uint8_t *b = malloc(STORE_LEN);
        assert_non_null(b);
        memset(b, 0xff, STORE_LEN);
        memset(b, 0, 0x48);
        memcpy(b + 0x10, nv, 16);
        put32(b + 0x20, STORE_LEN); /* FvLength (u64) */
        memcpy(b + 0x28, "_FVH", 4);
        put32(b + 0x2c, 0x0004feff); /* Attributes, as in OVMF */
        put16(b + 0x30, 0x48);       /* HeaderLength */
        b[0x37] = 2;                 /* Revision */
        put32(b + 0x38, STORE_LEN / 0x1000);
        put32(b + 0x3c, 0x1000);
        fix_checksum(b);
        memcpy(b + 0x48, authenticated ? auth : plain, 16);
        put32(b + 0x58, STORE_END - 0x48);
        b[0x5c] = 0x5a;
        b[0x5d] = 0xfe;
        memset(b + 0x5e, 0, 6);
        memset(b + STORE_END, 0x5a, STORE_LEN - STORE_END); /* not free space: the parser must not look there */
        return b;
}

/* A record written by hand: name ASCII, 60-byte authenticated header. Returns the next aligned offset. */
static size_t put_record(uint8_t *b, size_t off, uint8_t state, const char *name, const uint8_t *data, uint32_t size) {
        size_t n = strlen(name) + 1;
        memset(b + off, 0, 60);
        put16(b + off, 0x55aa);
        b[off + 2] = state;
        put32(b + off + 4, 0x07);
        put32(b + off + 36, (uint32_t)(2 * n));
        put32(b + off + 40, size);
        memcpy(b + off + 44, SHIELD_GUID_GLOBAL_VARIABLE.b, 16);
        for (size_t i = 0; i < n; i++)
                put16(b + off + 60 + 2 * i, (uint8_t)name[i]);
        memcpy(b + off + 60 + 2 * n, data, size);
        return (off + 60 + 2 * n + size + 3) & ~(size_t)3;
}

static struct shield_varstore *parse_ok(const uint8_t *b, size_t len) {
        struct shield_varstore *vs = NULL;
        struct shield_diag d = { 0 };
        int r = shield_varstore_parse(b, len, &vs, &d);
        if (r < 0)
                fail_msg("parse: %s at 0x%zx: %s", shield_strerror(r), d.offset, d.msg);
        return vs;
}

/* Parsing must fail with code at offset; *ret untouched. */
static void parse_fails(const uint8_t *b, size_t len, int code, size_t offset, const char *what) {
        struct shield_varstore *vs = (void *)0xaa;
        struct shield_diag d = { 0 };
        int r = shield_varstore_parse(b, len, &vs, &d);
        if (r != code || d.offset != offset)
                fail_msg("%s: expected %s at 0x%zx, got %s at 0x%zx (%s)", what, shield_strerror(code), offset,
                         shield_strerror(r), d.offset, d.msg);
        assert_ptr_equal(vs, (void *)0xaa);
        assert_true(d.msg[0] != '\0');
}

static void test_write_and_read_back(void **state) {
        (void)state;
        uint8_t *b = make_store(true);
        struct shield_varstore *vs = parse_ok(b, STORE_LEN);
        const uint8_t data[3] = { 1, 2, 3 }, other[1] = { 9 };
        const uint8_t when[16] = { 0xe9, 0x07, 3, 10, 2, 53, 39 }; /* 2025-03-10 02:53:39 UTC */

        assert_true(shield_varstore_authenticated(vs));
        assert_int_equal(shield_varstore_count(vs), 0);
        assert_int_equal(shield_varstore_free_space(vs), STORE_END - FIRST);
        assert_int_equal(shield_varstore_set(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, SHIELD_VAR_SECURE_BOOT_DB,
                                             when, data, 3), 0);
        /* 60-byte header, "db" + NUL in UTF-16, 3 data bytes, aligned to 4. */
        assert_int_equal(STORE_END - FIRST - shield_varstore_free_space(vs), 60 + 6 + 3 + 3);
        assert_int_equal(shield_varstore_set(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, SHIELD_VAR_SECURE_BOOT_DB,
                                             NULL, other, 1), 0);
        const struct shield_variable *v = shield_varstore_find(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE);
        assert_non_null(v);
        assert_int_equal(v->data_size, 1);
        assert_int_equal(v->data[0], 9);
        assert_null(shield_varstore_find(vs, "db", &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_int_equal(shield_varstore_count(vs), 2);
        assert_int_equal(shield_varstore_variable(vs, 0)->state, SHIELD_VAR_DELETED);
        assert_int_equal(shield_varstore_variable(vs, 0)->raw_state, 0x3c);
        assert_null(shield_varstore_variable(vs, 2));

        /* The bytes parse back to the same records; the header is untouched, so its checksum still holds. */
        size_t out_len;
        const uint8_t *out = shield_varstore_bytes(vs, &out_len);
        assert_int_equal(out_len, STORE_LEN);
        assert_memory_equal(out, b, FIRST);
        assert_memory_equal(out + STORE_END, b + STORE_END, STORE_LEN - STORE_END);
        /* The record as edk2 lays it out: StartId, State 0x3c (retired), Attributes, TimeStamp at +16, NameSize at +36. */
        assert_int_equal(out[FIRST] | out[FIRST + 1] << 8, 0x55aa);
        assert_int_equal(out[FIRST + 2], 0x3c);
        assert_int_equal(out[FIRST + 4], 0x27);
        assert_memory_equal(out + FIRST + 16, when, 16);
        assert_int_equal(out[FIRST + 36], 6);
        assert_int_equal(out[FIRST + 40], 3);
        assert_memory_equal(out + FIRST + 44, SHIELD_GUID_IMAGE_SECURITY_DATABASE.b, 16);
        assert_int_equal(out[FIRST + 60], 'd');
        assert_int_equal(out[FIRST + 68], 3);
        assert_int_equal(out[FIRST + 69], 0xff); /* alignment padding stays erased */

        struct shield_varstore *again = parse_ok(out, out_len);
        assert_int_equal(shield_varstore_count(again), 2);
        assert_int_equal(shield_varstore_free_space(again), shield_varstore_free_space(vs));
        const uint8_t *got;
        size_t got_len;
        uint32_t attrs = 0;
        assert_int_equal(shield_varstore_get(again, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &got, &got_len, &attrs), 0);
        assert_int_equal(got_len, 1);
        assert_int_equal(got[0], 9);
        assert_int_equal(attrs, SHIELD_VAR_SECURE_BOOT_DB);
        assert_memory_equal(shield_varstore_variable(again, 0)->timestamp, when, 16);
        assert_string_equal(shield_varstore_variable(again, 1)->name, "db");
        got = (void *)0xaa;
        assert_int_equal(shield_varstore_get(again, "PK", &SHIELD_GUID_GLOBAL_VARIABLE, &got, &got_len, NULL),
                         SHIELD_E_NOT_FOUND);
        assert_ptr_equal(got, (void *)0xaa);
        shield_varstore_free(again);
        shield_varstore_free(vs);
        free(b);
}

static void test_set_refusals(void **state) {
        (void)state;
        uint8_t *b = make_store(true);
        struct shield_varstore *vs = parse_ok(b, STORE_LEN);
        const uint8_t x = 1;

        assert_int_equal(shield_varstore_set(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE, 0x06, NULL, &x, 1), SHIELD_E_INVAL);
        assert_int_equal(shield_varstore_set(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE, 0x47, NULL, &x, 1), SHIELD_E_INVAL);
        assert_int_equal(shield_varstore_set(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, &x, 0), SHIELD_E_INVAL);
        assert_int_equal(shield_varstore_set(vs, "", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, &x, 1), SHIELD_E_INVAL);
        assert_int_equal(shield_varstore_set(vs, "caf\xc3\xa9", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, &x, 1),
                         SHIELD_E_INVAL);
        assert_int_equal(shield_varstore_set(vs, "A", NULL, 0x07, NULL, &x, 1), SHIELD_E_INVAL);

        /* A full store refuses and stays byte for byte as it was. */
        size_t big_len = STORE_END - FIRST - 60 - 4 + 1; /* one byte more than fits with the name "A" */
        uint8_t *big = calloc(1, big_len);
        assert_int_equal(shield_varstore_set(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, big, big_len),
                         SHIELD_E_LIMIT);
        assert_int_equal(shield_varstore_count(vs), 0);
        assert_memory_equal(shield_varstore_bytes(vs, NULL), b, STORE_LEN);
        /* Exactly full fits, and the result parses with no free space. */
        assert_int_equal(shield_varstore_set(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, big, big_len - 1), 0);
        assert_int_equal(shield_varstore_free_space(vs), 0);
        size_t len;
        const uint8_t *bytes = shield_varstore_bytes(vs, &len);
        struct shield_varstore *again = parse_ok(bytes, len);
        assert_int_equal(shield_varstore_count(again), 1);
        assert_int_equal(shield_varstore_free_space(again), 0);
        assert_int_equal(shield_varstore_set(again, "B", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, &x, 1), SHIELD_E_LIMIT);
        shield_varstore_free(again);
        free(big);
        shield_varstore_free(vs);
        free(b);

        /* A plain store holds no authenticated variables. */
        b = make_store(false);
        vs = parse_ok(b, STORE_LEN);
        assert_false(shield_varstore_authenticated(vs));
        assert_int_equal(shield_varstore_set(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE, SHIELD_VAR_SECURE_BOOT_DB, NULL, &x, 1),
                         SHIELD_E_UNSUPPORTED);
        assert_int_equal(shield_varstore_set(vs, "Timeout", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, &x, 1), 0);
        bytes = shield_varstore_bytes(vs, &len);
        again = parse_ok(bytes, len);
        /* 32-byte VARIABLE_HEADER, NameSize at +8: the record parses back in the plain layout. */
        assert_int_equal(shield_varstore_variable(again, 0)->data[0], 1);
        assert_string_equal(shield_varstore_variable(again, 0)->name, "Timeout");
        assert_int_equal(shield_varstore_bytes(again, NULL)[FIRST + 8], 16);
        shield_varstore_free(again);
        shield_varstore_free(vs);
        free(b);
}

static void test_states(void **state) {
        (void)state;
        uint8_t *b = make_store(true);
        const uint8_t one = 1, two = 2, three = 3;
        size_t off = put_record(b, FIRST, 0x3e, "A", &one, 1); /* replacement interrupted: in transition */
        off = put_record(b, off, 0x7f, "A", &two, 1);          /* the new copy never added */
        off = put_record(b, off, 0x3d, "B", &three, 1);        /* deleted, transition bit still set */
        off = put_record(b, off, 0xff, "C", &three, 1);        /* header written, state never */
        struct shield_varstore *vs = parse_ok(b, STORE_LEN);
        assert_int_equal(shield_varstore_count(vs), 4);
        assert_int_equal(shield_varstore_variable(vs, 0)->state, SHIELD_VAR_IN_TRANSITION);
        assert_int_equal(shield_varstore_variable(vs, 1)->state, SHIELD_VAR_INCOMPLETE);
        assert_int_equal(shield_varstore_variable(vs, 2)->state, SHIELD_VAR_DELETED);
        assert_int_equal(shield_varstore_variable(vs, 3)->state, SHIELD_VAR_INCOMPLETE);
        assert_int_equal(shield_varstore_free_space(vs), STORE_END - off);
        /* The firmware falls back to the in-transition copy when nothing is added. */
        const struct shield_variable *v = shield_varstore_find(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE);
        assert_non_null(v);
        assert_int_equal(v->data[0], 1);
        assert_null(shield_varstore_find(vs, "B", &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_null(shield_varstore_find(vs, "C", &SHIELD_GUID_GLOBAL_VARIABLE));
        /* Setting A retires the in-transition copy too. */
        const uint8_t four = 4;
        assert_int_equal(shield_varstore_set(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE, 0x07, NULL, &four, 1), 0);
        assert_int_equal(shield_varstore_variable(vs, 0)->state, SHIELD_VAR_DELETED);
        assert_int_equal(shield_varstore_bytes(vs, NULL)[FIRST + 2], 0x3c);
        assert_int_equal(shield_varstore_find(vs, "A", &SHIELD_GUID_GLOBAL_VARIABLE)->data[0], 4);
        shield_varstore_free(vs);
        free(b);
}

static void test_header_checks(void **state) {
        (void)state;
        uint8_t *b = make_store(true);
        const struct {
                size_t at;
                uint8_t value;
                bool fix; /* re-sum the header so that only the field is wrong */
                int code;
                size_t offset;
                const char *what;
        } cases[] = {
                { 0x28, 'X', true, SHIELD_E_FORMAT, 0x28, "bad _FVH signature" },
                { 0x10, 0, true, SHIELD_E_FORMAT, 0x10, "FileSystemGuid" },
                { 0x37, 1, true, SHIELD_E_UNSUPPORTED, 0x37, "revision 1" },
                { 0x3c, 0x11, false, SHIELD_E_FORMAT, 0x32, "checksum no longer sums to 0" },
                { 0x23, 0x01, true, SHIELD_E_FORMAT, 0x20, "FvLength lies (bigger than the file)" },
                { 0x30, 0x47, true, SHIELD_E_FORMAT, 0x30, "odd HeaderLength" },
                { 0x30, 0x40, true, SHIELD_E_FORMAT, 0x30, "HeaderLength under the minimum" },
                { 0x38, 0x11, true, SHIELD_E_FORMAT, 0x38, "block map covers 17 blocks, not 16" },
                { 0x40, 0x01, true, SHIELD_E_FORMAT, 0x40, "an empty block-map entry instead of the terminator" },
                { 0x48, 0, false, SHIELD_E_UNSUPPORTED, 0x48, "variable-store GUID" },
                { 0x5c, 0x5b, false, SHIELD_E_FORMAT, 0x5c, "store format" },
                { 0x5d, 0xfc, false, SHIELD_E_FORMAT, 0x5c, "store state" },
                { 0x5a, 0x10, false, SHIELD_E_FORMAT, 0x58, "store size lies (past the volume)" },
                { 0x58, 0x00, false, SHIELD_E_FORMAT, 0x58, "store size under its own header" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                uint8_t *c = malloc(STORE_LEN);
                memcpy(c, b, STORE_LEN);
                c[cases[i].at] = cases[i].value;
                if (cases[i].at == 0x58)
                        memset(c + 0x58, 0, 4);
                if (cases[i].fix)
                        fix_checksum(c);
                parse_fails(c, STORE_LEN, cases[i].code, cases[i].offset, cases[i].what);
                free(c);
        }
        parse_fails(b, 0x30, SHIELD_E_TRUNCATED, 0x30, "file shorter than a volume header");
        parse_fails(b, 0x1000, SHIELD_E_FORMAT, 0x20, "a file cut short of FvLength");
        parse_fails(NULL, 0, SHIELD_E_TRUNCATED, 0, "empty input");
        struct shield_varstore *vs;
        assert_int_equal(shield_varstore_parse(NULL, 1, &vs, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_varstore_parse(b, STORE_LEN, NULL, NULL), SHIELD_E_INVAL);
        free(b);
}

static void test_record_checks(void **state) {
        (void)state;
        const uint8_t x = 7;
        uint8_t *b = make_store(true), *c = malloc(STORE_LEN);
        size_t end = put_record(b, FIRST, 0x3f, "X", &x, 1);

        /* NameSize past the end of the store. */
        memcpy(c, b, STORE_LEN);
        put32(c + 0x58, FIRST + 160 - 0x48);
        put32(c + FIRST + 36, 200);
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, FIRST + 36, "NameSize past the end");
        /* An odd NameSize, and one over the cap. */
        memcpy(c, b, STORE_LEN);
        put32(c + FIRST + 36, 3);
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, FIRST + 36, "odd NameSize");
        put32(c + FIRST + 36, SHIELD_VARSTORE_NAME_MAX + 2);
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, FIRST + 36, "NameSize over the cap");
        /* A name without its NUL. */
        memcpy(c, b, STORE_LEN);
        c[FIRST + 62] = 'Y';
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, FIRST + 60, "name without NUL");
        /* DataSize past the end. */
        memcpy(c, b, STORE_LEN);
        put32(c + FIRST + 40, 0x100000);
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, FIRST + 40, "DataSize past the end");
        /* A StartId that is neither a record nor free space. */
        memcpy(c, b, STORE_LEN);
        put16(c + end, 0x1234);
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, end, "garbage StartId");
        /* A StartId run into the free space: a record after an erased gap the chain never reaches. */
        memcpy(c, b, STORE_LEN);
        put_record(c, end + 0x40, 0x3f, "Z", &x, 1);
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, end + 0x40, "record inside the free space");
        /* A stray byte in the free space. */
        memcpy(c, b, STORE_LEN);
        c[STORE_END - 1] = 0;
        parse_fails(c, STORE_LEN, SHIELD_E_FORMAT, STORE_END - 1, "stray byte in the free space");
        /* A header cut by the end of the store. */
        memcpy(c, b, STORE_LEN);
        put32(c + 0x58, (uint32_t)(end + 20 - 0x48));
        put16(c + end, 0x55aa);
        parse_fails(c, STORE_LEN, SHIELD_E_TRUNCATED, end, "header cut by the store's end");
        free(c);
        free(b);
}

static void test_text(void **state) {
        (void)state;
        char buf[64];
        shield_var_attributes_text(0x27, buf, sizeof buf);
        assert_string_equal(buf, "NV|BS|RT|AT");
        shield_var_attributes_text(0, buf, sizeof buf);
        assert_string_equal(buf, "-");
        shield_var_attributes_text(0x301, buf, sizeof buf);
        assert_string_equal(buf, "NV|0x300");
        shield_var_attributes_text(0xff, buf, 6);
        assert_string_equal(buf, "NV|BS");

        /* EFI_TIME as Debian's OVMF_VARS_4M.ms.fd stores it for PK (bytes e9 07 03 0a 02 35 27 …). */
        uint8_t t[16] = { 0xe9, 0x07, 0x03, 0x0a, 0x02, 0x35, 0x27 };
        assert_true(shield_var_time_text(t, buf, sizeof buf));
        assert_string_equal(buf, "2025-03-10T02:53:39Z");
        t[12] = 0xff;
        t[13] = 0x07; /* EFI_UNSPECIFIED_TIMEZONE */
        assert_true(shield_var_time_text(t, buf, sizeof buf));
        assert_string_equal(buf, "2025-03-10T02:53:39");
        memset(t, 0, sizeof t);
        assert_false(shield_var_time_text(t, buf, sizeof buf));
        assert_string_equal(buf, "-");
}

static uint8_t *read_ovmf(const char *name, size_t *ret_len) {
        char path[256];
        uint8_t *b = NULL;
        snprintf(path, sizeof path, "/usr/share/OVMF/%s", name);
        if (access(path, R_OK) != 0)
                return NULL;
        assert_int_equal(shield_read_file(path, SHIELD_VARSTORE_MAX, &b, ret_len), 0);
        return b;
}

/* The number of X.509 certificates and hashes in a live variable. */
static void count_db(const struct shield_varstore *vs, const char *name, const shield_guid *vendor, size_t want_x509,
                     size_t want_hashes) {
        const uint8_t *data;
        size_t len, x509, hashes, other;
        uint32_t attrs;
        struct shield_siglist l;
        assert_int_equal(shield_varstore_get(vs, name, vendor, &data, &len, &attrs), 0);
        assert_int_equal(attrs, SHIELD_VAR_SECURE_BOOT_DB);
        assert_int_equal(shield_siglist_parse(data, len, &l, NULL), 0);
        shield_siglist_counts(&l, &x509, &hashes, &other);
        if (x509 != want_x509 || hashes != want_hashes || other != 0)
                fail_msg("%s: %zu certificates, %zu hashes, %zu other", name, x509, hashes, other);
        shield_siglist_clear(&l);
}

static void test_debian_templates(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = read_ovmf("OVMF_VARS_4M.ms.fd", &len);
        if (!b) {
                print_message("OVMF is not installed: skipping the template checks\n");
                skip();
        }
        /*
         * Debian (README.Debian of ovmf 2022.11): Debian's PK; Debian's and
         * Microsoft's KEK; Microsoft's two db certificates (Windows Production
         * PCA 2011, UEFI CA 2011); a dbx with one SHA-256.
         */
        static const char *const enrolled[] = { "OVMF_VARS_4M.ms.fd", "OVMF_VARS.ms.fd" };
        for (size_t i = 0; i < 2; i++) {
                if (i) {
                        free(b);
                        if (!(b = read_ovmf(enrolled[i], &len)))
                                continue;
                }
                struct shield_varstore *vs = parse_ok(b, len);
                assert_true(shield_varstore_authenticated(vs));
                count_db(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE, 1, 0);
                count_db(vs, "KEK", &SHIELD_GUID_GLOBAL_VARIABLE, 2, 0);
                count_db(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, 2, 0);
                count_db(vs, "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, 0, 1);
                bool enabled = false;
                for (size_t k = 0; k < shield_varstore_count(vs); k++) {
                        const struct shield_variable *v = shield_varstore_variable(vs, k);
                        if (strcmp(v->name, "SecureBootEnable") == 0 && v->state == SHIELD_VAR_LIVE)
                                enabled = v->data_size == 1 && v->data[0] == 1;
                }
                assert_true(enabled);
                shield_varstore_free(vs);
        }
        free(b);

        /* The empty templates: setup mode, no keys; write the four and read them back. */
        static const char *const empty[] = { "OVMF_VARS_4M.fd", "OVMF_VARS.fd" };
        for (size_t i = 0; i < 2; i++) {
                if (!(b = read_ovmf(empty[i], &len)))
                        continue;
                struct shield_varstore *vs = parse_ok(b, len);
                assert_int_equal(shield_varstore_count(vs), 0);
                assert_null(shield_varstore_find(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE));
                uint8_t esl[28 + 16 + 32] = { 0 };
                memcpy(esl, SHIELD_GUID_CERT_SHA256.b, 16);
                put32(esl + 16, sizeof esl);
                put32(esl + 24, 16 + 32);
                static const char *const names[] = { "db", "dbx", "KEK", "PK" };
                for (size_t k = 0; k < 4; k++) {
                        const shield_guid *vendor = k < 2 ? &SHIELD_GUID_IMAGE_SECURITY_DATABASE : &SHIELD_GUID_GLOBAL_VARIABLE;
                        esl[28 + 16] = (uint8_t)k;
                        assert_int_equal(shield_varstore_set(vs, names[k], vendor, SHIELD_VAR_SECURE_BOOT_DB, NULL, esl,
                                                             sizeof esl), 0);
                }
                size_t out_len;
                const uint8_t *out = shield_varstore_bytes(vs, &out_len);
                assert_int_equal(out_len, len);
                /* Only the record area changed: volume header and fault-tolerant-write area are the template's. */
                size_t used = 4 * 144; /* 60 + name (6 or 8) + 76, rounded up to 4 */
                assert_memory_equal(out, b, 0x64);
                assert_memory_equal(out + 0x64 + used, b + 0x64 + used, len - 0x64 - used);
                struct shield_varstore *again = parse_ok(out, out_len);
                assert_int_equal(shield_varstore_count(again), 4);
                count_db(again, "PK", &SHIELD_GUID_GLOBAL_VARIABLE, 0, 1);
                count_db(again, "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, 0, 1);
                assert_int_equal(shield_varstore_find(again, "KEK", &SHIELD_GUID_GLOBAL_VARIABLE)->data[44], 2);
                shield_varstore_free(again);
                shield_varstore_free(vs);
                free(b);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_and_read_back), cmocka_unit_test(test_set_refusals),
                cmocka_unit_test(test_states),              cmocka_unit_test(test_header_checks),
                cmocka_unit_test(test_record_checks),       cmocka_unit_test(test_text),
                cmocka_unit_test(test_debian_templates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
