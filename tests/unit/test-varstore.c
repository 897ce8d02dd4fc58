/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edk2 variable stores: Debian's OVMF templates when installed (read-only
 * oracles of the real layout), a small store built here from the PI/edk2
 * layouts, round trips and every header check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shield/util.h"
#include "shield/varstore.h"

/* A 64 KiB firmware volume with an empty authenticated store (PI vol. 3, edk2 VariableFormat.h). */
static uint8_t *make_store(size_t *ret_len) {
        size_t len = 0x10000;
        uint8_t *b = malloc(len);
        static const uint8_t nv[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
                                        0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
        static const uint8_t auth[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
                                          0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
        memset(b, 0xff, len);
        memset(b, 0, 0x48);
        memcpy(b + 0x10, nv, 16);
        uint64_t fvlen = len;
        memcpy(b + 0x20, &fvlen, 8);
        memcpy(b + 0x28, "_FVH", 4);
        uint32_t attrs = 0x0004feff;
        memcpy(b + 0x2c, &attrs, 4);
        b[0x30] = 0x48;
        b[0x37] = 2;
        uint32_t blocks = 0x10, blocklen = 0x1000;
        memcpy(b + 0x38, &blocks, 4);
        memcpy(b + 0x3c, &blocklen, 4);
        uint16_t sum = 0;
        for (size_t i = 0; i < 0x48; i += 2)
                sum = (uint16_t)(sum + (b[i] | b[i + 1] << 8));
        uint16_t check = (uint16_t)(0x10000 - sum);
        memcpy(b + 0x32, &check, 2);
        memcpy(b + 0x48, auth, 16);
        uint32_t size = 0x8000 - 0x48;
        memcpy(b + 0x58, &size, 4);
        b[0x5c] = 0x5a;
        b[0x5d] = 0xfe;
        memset(b + 0x5e, 0, 6);
        *ret_len = len;
        return b;
}

static struct shield_varstore *parse_ok(const uint8_t *b, size_t len) {
        struct shield_varstore *vs = NULL;
        struct shield_diag d = { 0 };
        int r = shield_varstore_parse(b, len, &vs, &d);
        if (r < 0)
                fail_msg("parse: %s at %zu: %s", shield_strerror(r), d.offset, d.msg);
        return vs;
}

static void test_write_and_read_back(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = make_store(&len);
        struct shield_varstore *vs = parse_ok(b, len);
        const uint8_t data[3] = { 1, 2, 3 }, other[1] = { 9 };

        assert_true(shield_varstore_authenticated(vs));
        assert_int_equal(shield_varstore_count(vs), 0);
        size_t free0 = shield_varstore_free_space(vs);
        assert_int_equal(shield_varstore_set(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, SHIELD_VAR_SECURE_BOOT_DB,
                                             NULL, data, 3), 0);
        /* 60-byte header, "db" + NUL in UTF-16, 3 data bytes, aligned to 4. */
        assert_int_equal(free0 - shield_varstore_free_space(vs), 60 + 6 + 3 + 3);
        assert_int_equal(shield_varstore_set(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, SHIELD_VAR_SECURE_BOOT_DB,
                                             NULL, other, 1), 0);
        const struct shield_variable *v = shield_varstore_find(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE);
        assert_non_null(v);
        assert_int_equal(v->data_size, 1);
        assert_int_equal(v->data[0], 9);
        assert_null(shield_varstore_find(vs, "db", &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_int_equal(shield_varstore_count(vs), 2);
        assert_int_equal(shield_varstore_variable(vs, 0)->state, SHIELD_VAR_DELETED);

        /* The bytes parse back to the same records. */
        size_t out_len;
        const uint8_t *out = shield_varstore_bytes(vs, &out_len);
        struct shield_varstore *again = parse_ok(out, out_len);
        assert_int_equal(shield_varstore_count(again), 2);
        v = shield_varstore_find(again, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE);
        assert_int_equal(v->attributes, SHIELD_VAR_SECURE_BOOT_DB);
        assert_string_equal(v->name, "db");
        shield_varstore_free(again);

        /* A full store refuses and stays as it was. */
        uint8_t *big = calloc(1, 0x8000);
        size_t count = shield_varstore_count(vs);
        assert_int_equal(shield_varstore_set(vs, "big", &SHIELD_GUID_GLOBAL_VARIABLE, 7, NULL, big, 0x8000), SHIELD_E_LIMIT);
        assert_int_equal(shield_varstore_count(vs), count);
        free(big);
        shield_varstore_free(vs);
        free(b);
}

static void test_header_checks(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = make_store(&len);
        const struct {
                size_t at;
                uint8_t value;
                int code;
                size_t offset;
        } cases[] = {
                { 0x28, 'X', SHIELD_E_FORMAT, 0x28 },       /* _FVH */
                { 0x10, 0, SHIELD_E_FORMAT, 0x10 },         /* FileSystemGuid */
                { 0x3c, 0x11, SHIELD_E_FORMAT, 0x32 },      /* checksum no longer sums to 0 */
                { 0x48, 0, SHIELD_E_UNSUPPORTED, 0x48 },    /* store GUID */
                { 0x5c, 0x5b, SHIELD_E_FORMAT, 0x5c },      /* format */
                { 0x5a, 0x10, SHIELD_E_FORMAT, 0x58 },      /* store size past the volume */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                uint8_t *c = malloc(len);
                struct shield_varstore *vs = (void *)0xaa;
                struct shield_diag d = { 0 };
                memcpy(c, b, len);
                c[cases[i].at] = cases[i].value;
                assert_int_equal(shield_varstore_parse(c, len, &vs, &d), cases[i].code);
                assert_ptr_equal(vs, (void *)0xaa);
                assert_int_equal(d.offset, cases[i].offset);
                free(c);
        }
        struct shield_varstore *vs;
        struct shield_diag d;
        assert_int_equal(shield_varstore_parse(b, 0x30, &vs, &d), SHIELD_E_TRUNCATED);

        /* A record whose DataSize runs past the store. */
        vs = parse_ok(b, len);
        uint8_t x = 1;
        assert_int_equal(shield_varstore_set(vs, "X", &SHIELD_GUID_GLOBAL_VARIABLE, 7, NULL, &x, 1), 0);
        size_t out_len;
        uint8_t *c = malloc(len);
        memcpy(c, shield_varstore_bytes(vs, &out_len), len);
        uint32_t huge = 0x100000;
        memcpy(c + 0x64 + 40, &huge, 4);
        shield_varstore_free(vs);
        assert_int_equal(shield_varstore_parse(c, len, &vs, &d), SHIELD_E_FORMAT);
        assert_int_equal(d.offset, 0x64 + 40);
        free(c);
        free(b);
}

static void test_debian_templates(void **state) {
        (void)state;
        uint8_t *b = NULL;
        size_t len;
        struct shield_varstore *vs;

        if (access("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", R_OK) != 0) {
                print_message("OVMF is not installed: skipping the template checks\n");
                skip();
        }
        assert_int_equal(shield_read_file("/usr/share/OVMF/OVMF_VARS_4M.fd", SHIELD_VARSTORE_MAX, &b, &len), 0);
        vs = parse_ok(b, len);
        assert_null(shield_varstore_find(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE));
        shield_varstore_free(vs);
        free(b);

        assert_int_equal(shield_read_file("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", SHIELD_VARSTORE_MAX, &b, &len), 0);
        vs = parse_ok(b, len);
        const struct shield_variable *db = shield_varstore_find(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE);
        assert_non_null(db);
        assert_int_equal(db->attributes, SHIELD_VAR_SECURE_BOOT_DB);
        struct shield_siglist l;
        assert_int_equal(shield_siglist_parse(db->data, db->data_size, &l, NULL), 0);
        assert_int_equal(l.n, 2); /* Microsoft's Windows PCA 2011 and UEFI CA 2011 */
        shield_siglist_clear(&l);
        assert_non_null(shield_varstore_find(vs, "PK", &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_non_null(shield_varstore_find(vs, "KEK", &SHIELD_GUID_GLOBAL_VARIABLE));
        assert_non_null(shield_varstore_find(vs, "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE));
        shield_varstore_free(vs);
        free(b);

        if (shield_read_file("/usr/share/OVMF/OVMF_VARS.fd", SHIELD_VARSTORE_MAX, &b, &len) == 0) {
                vs = parse_ok(b, len); /* the 2 MiB layout */
                shield_varstore_free(vs);
                free(b);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_and_read_back),
                cmocka_unit_test(test_header_checks),
                cmocka_unit_test(test_debian_templates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
