/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PE/COFF parsing and the Authenticode hash on images built here from the
 * PE/COFF specification's layouts. Real images (shim, grub, sbsign output)
 * are compared with pesign in tests/cli/cli-pe.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shield/crypto.h"
#include "shield/pe.h"

#define LFANEW 0x40
#define OPT (LFANEW + 24)
#define SECTIONS (OPT + 240)    /* PE32+ optional header with 16 data directories */
#define HEADERS 0x200

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, (uint16_t)v); w16(p + 2, (uint16_t)(v >> 16)); }

/* A PE32+ image: headers, two sections of 0x200 bytes, 0x10 trailing bytes, then a 0x18-byte certificate table. */
static uint8_t *make_pe(size_t *ret_len) {
        size_t len = HEADERS + 0x400 + 0x10 + 0x18;
        uint8_t *b = calloc(1, len);
        b[0] = 'M', b[1] = 'Z';
        w32(b + 0x3c, LFANEW);
        memcpy(b + LFANEW, "PE\0\0", 4);
        w16(b + LFANEW + 4, 0x8664);
        w16(b + LFANEW + 6, 2);
        w16(b + LFANEW + 20, 240);
        w16(b + OPT, 0x20b);
        w32(b + OPT + 60, HEADERS);
        w32(b + OPT + 64, 0x12345678); /* CheckSum: excluded from the hash */
        w16(b + OPT + 68, 10);
        w32(b + OPT + 108, 16);
        w32(b + OPT + 112 + 4 * 8, HEADERS + 0x410);
        w32(b + OPT + 112 + 4 * 8 + 4, 0x18);
        for (int i = 0; i < 2; i++) {
                uint8_t *s = b + SECTIONS + 40 * i;
                memcpy(s, i ? ".data" : ".text", 5);
                w32(s + 8, 0x200);
                w32(s + 12, 0x1000 * (uint32_t)(i + 1));
                w32(s + 16, 0x200);
                w32(s + 20, HEADERS + 0x200 * (uint32_t)i);
        }
        for (size_t i = HEADERS; i < HEADERS + 0x410; i++)
                b[i] = (uint8_t)i;
        uint8_t *cert = b + HEADERS + 0x410;
        w32(cert, 0x18);
        w16(cert + 4, 0x0200);
        w16(cert + 6, 0x0002);
        *ret_len = len;
        return b;
}

static void test_parse_and_hash(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = make_pe(&len);
        struct shield_pe pe;
        struct shield_diag d = { 0 };

        assert_int_equal(shield_pe_parse(b, len, &pe, &d), 0);
        assert_true(pe.pe32_plus);
        assert_int_equal(pe.n_sections, 2);
        assert_string_equal(pe.sections[1].name, ".data");
        assert_int_equal(pe.n_signatures, 1);
        assert_int_equal(pe.signatures[0].size, 0x10);

        /* The documented ranges, hashed here one by one. */
        uint8_t want[32], got[32];
        size_t cs = OPT + 64, cd = OPT + 112 + 32;
        size_t total = cs + (cd - cs - 4) + (HEADERS - cd - 8) + 0x400 + 0x10;
        uint8_t *cat = malloc(total), *p = cat;
        memcpy(p, b, cs), p += cs;
        memcpy(p, b + cs + 4, cd - cs - 4), p += cd - cs - 4;
        memcpy(p, b + cd + 8, HEADERS - cd - 8), p += HEADERS - cd - 8;
        memcpy(p, b + HEADERS, 0x410);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, total, want), 0);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, got), 0);
        assert_memory_equal(got, want, 32);

        /* CheckSum and the certificate table do not change the hash; a section byte does. */
        b[cs] ^= 0xff;
        b[HEADERS + 0x410 + 12] ^= 0xff;
        assert_int_equal(shield_pe_parse(b, len, &pe, &d), 0);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, got), 0);
        assert_memory_equal(got, want, 32);
        b[HEADERS + 1] ^= 0xff;
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, got), 0);
        assert_memory_not_equal(got, want, 32);
        free(cat);
        free(b);
}

static void test_malformed(void **state) {
        (void)state;
        const struct {
                const char *what;
                size_t at;
                uint32_t value;
                int width;
                int code;
                size_t offset;
        } cases[] = {
                { "no MZ", 0, 0x4d5a, 16, SHIELD_E_FORMAT, 0 },
                { "e_lfanew past the end", 0x3c, 0x10000, 32, SHIELD_E_FORMAT, 0x3c },
                { "too many sections", LFANEW + 6, 97, 16, SHIELD_E_LIMIT, LFANEW + 4 + 2 },
                { "optional header past the end", LFANEW + 20, 0xf000, 16, SHIELD_E_TRUNCATED, LFANEW + 4 + 16 },
                { "unknown magic", OPT, 0x107, 16, SHIELD_E_UNSUPPORTED, OPT },
                { "SizeOfHeaders past the end", OPT + 60, 0x100000, 32, SHIELD_E_FORMAT, OPT + 60 },
                { "section past the end", SECTIONS + 40 + 16, 0x10000, 32, SHIELD_E_FORMAT, SECTIONS + 40 + 16 },
                { "overlapping sections", SECTIONS + 40 + 20, HEADERS + 0x100, 32, SHIELD_E_FORMAT, SECTIONS + 40 + 20 },
                { "section inside the headers", SECTIONS + 20, 0x100, 32, SHIELD_E_FORMAT, SECTIONS + 20 },
                { "certificate table past the end", OPT + 112 + 36, 0x1000, 32, SHIELD_E_FORMAT, OPT + 112 + 32 },
                { "certificate table not aligned", OPT + 112 + 32, HEADERS + 0x40c, 32, SHIELD_E_FORMAT, OPT + 112 + 32 },
                { "WIN_CERTIFICATE length lies", HEADERS + 0x410, 0x100, 32, SHIELD_E_FORMAT, HEADERS + 0x410 },
                { "too many data directories", OPT + 108, 17, 32, SHIELD_E_FORMAT, OPT + 108 },
                { "directories past SizeOfOptionalHeader", LFANEW + 20, 112 + 8 * 4, 16, SHIELD_E_FORMAT, OPT + 108 },
                { "optional header without NumberOfRvaAndSizes", LFANEW + 20, 100, 16, SHIELD_E_TRUNCATED, OPT + 108 },
                { "certificate table inside a section", OPT + 112 + 32, HEADERS + 0x1f8, 32, SHIELD_E_FORMAT, OPT + 112 + 32 },
                { "certificate table inside the headers", OPT + 112 + 32, 0x100, 32, SHIELD_E_FORMAT, OPT + 112 + 32 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t len;
                uint8_t *b = make_pe(&len);
                struct shield_pe pe;
                struct shield_diag d = { 0 };
                if (cases[i].width == 16)
                        w16(b + cases[i].at, (uint16_t)cases[i].value);
                else
                        w32(b + cases[i].at, cases[i].value);
                int r = shield_pe_parse(b, len, &pe, &d);
                if (r != cases[i].code || d.offset != cases[i].offset)
                        fail_msg("%s: %d at %zu (%s)", cases[i].what, r, d.offset, d.msg);
                free(b);
        }
        struct shield_pe pe;
        assert_int_equal(shield_pe_parse((const uint8_t *)"MZ", 2, &pe, NULL), SHIELD_E_TRUNCATED);
}

/* The same image as PE32 (PE/COFF 3.4: BaseOfData, 4-byte sizes, directories at 96). */
static void test_pe32(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = make_pe(&len);
        struct shield_pe pe;
        uint8_t h32[32], h64[32];

        assert_int_equal(shield_pe_parse(b, len, &pe, NULL), 0);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, h64), 0);
        /* Move the 16 directories from 112 to 96 and shrink SizeOfOptionalHeader by 16; keep the section table where it is. */
        memmove(b + OPT + 96, b + OPT + 112, 128);
        memset(b + OPT + 224, 0, 16);
        w32(b + OPT + 92, 16);
        w16(b + OPT, 0x10b);
        w16(b + LFANEW + 20, 224);
        memmove(b + OPT + 224, b + SECTIONS, 80);
        memset(b + OPT + 304, 0, 16);
        assert_int_equal(shield_pe_parse(b, len, &pe, NULL), 0);
        assert_false(pe.pe32_plus);
        assert_int_equal(pe.n_sections, 2);
        assert_int_equal(pe.n_directories, 16);
        assert_int_equal(pe.cert_dir_offset, OPT + 96 + 32);
        assert_int_equal(pe.cert_table_offset, HEADERS + 0x410);
        assert_int_equal(pe.checksum, 0x12345678);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, h32), 0);
        /* Different header bytes, different hash; both checked against the spec's ranges in test_parse_and_hash's way. */
        assert_memory_not_equal(h32, h64, 32);
        free(b);
}

/* Sections listed out of file order are hashed in file order (Authenticode, step 11). */
static void test_section_order(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = make_pe(&len);
        struct shield_pe pe;
        uint8_t before[32], after[32];

        assert_int_equal(shield_pe_parse(b, len, &pe, NULL), 0);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, before), 0);
        uint8_t tmp[40];
        memcpy(tmp, b + SECTIONS, 40);
        memcpy(b + SECTIONS, b + SECTIONS + 40, 40);
        memcpy(b + SECTIONS + 40, tmp, 40);
        assert_int_equal(shield_pe_parse(b, len, &pe, NULL), 0);
        assert_string_equal(pe.sections[0].name, ".data");
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, after), 0);
        /* The section table bytes are part of the headers, so hash those ranges by hand. */
        size_t cs = OPT + 64, cd = OPT + 112 + 32;
        size_t total = cs + (cd - cs - 4) + (HEADERS - cd - 8) + 0x410;
        uint8_t *cat = malloc(total), *p = cat, want[32];
        memcpy(p, b, cs), p += cs;
        memcpy(p, b + cs + 4, cd - cs - 4), p += cd - cs - 4;
        memcpy(p, b + cd + 8, HEADERS - cd - 8), p += HEADERS - cd - 8;
        memcpy(p, b + HEADERS, 0x410);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, cat, total, want), 0);
        assert_memory_equal(after, want, 32);
        assert_memory_not_equal(after, before, 32);
        free(cat);
        free(b);
}

/* A failed parse leaves *ret as it was. */
static void test_outputs_untouched(void **state) {
        (void)state;
        size_t len;
        uint8_t *b = make_pe(&len);
        struct shield_pe *pe = malloc(sizeof *pe), *poison = malloc(sizeof *pe);
        memset(pe, 0xaa, sizeof *pe);
        memcpy(poison, pe, sizeof *pe);
        w32(b + OPT + 112 + 36, 0x1000);
        assert_int_equal(shield_pe_parse(b, len, pe, NULL), SHIELD_E_FORMAT);
        assert_memory_equal(pe, poison, sizeof *pe);
        assert_int_equal(shield_pe_parse(NULL, 0, pe, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_pe_parse(b, SHIELD_PE_MAX + (size_t)1, pe, NULL), SHIELD_E_LIMIT);
        assert_memory_equal(pe, poison, sizeof *pe);
        free(pe);
        free(poison);
        free(b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_hash),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_pe32),
                cmocka_unit_test(test_section_order),
                cmocka_unit_test(test_outputs_untouched),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
