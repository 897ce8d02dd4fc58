/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "shield/crypto.h"
#include "shield/pcrs.h"
#include "shield/util.h"
#include "util/rd.h"
#include "util/wr.h"

static void test_reader_bounds(void **state) {
        (void)state;
        const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        struct rd r = rd_init(b, sizeof b);
        uint32_t v32 = 0xaaaaaaaa;
        uint64_t v64 = 0xaaaaaaaaaaaaaaaa;
        uint16_t v16;

        assert_int_equal(rd_le32(&r, &v32), 0);
        assert_int_equal(v32, 0x04030201);
        assert_int_equal(rd_be16(&r, &v16), 0);
        assert_int_equal(v16, 0x0506);
        /* Three bytes left: a 64-bit read fails, leaves the cursor and the output alone. */
        assert_int_equal(rd_le64(&r, &v64), SHIELD_E_TRUNCATED);
        assert_int_equal(r.off, 6);
        assert_true(v64 == 0xaaaaaaaaaaaaaaaa);
        assert_int_equal(rd_skip(&r, SIZE_MAX), SHIELD_E_TRUNCATED);
        assert_int_equal(r.off, 6);
        struct rd sub;
        assert_int_equal(rd_sub(&r, 3, &sub), 0);
        assert_int_equal(rd_left(&sub), 3);
        assert_int_equal(rd_left(&r), 0);
        uint8_t u8 = 0xaa;
        assert_int_equal(rd_u8(&r, &u8), SHIELD_E_TRUNCATED);
        assert_int_equal(u8, 0xaa);
}

static void test_hex(void **state) {
        (void)state;
        uint8_t *buf = NULL;
        size_t n = 0;
        char out[9];

        assert_int_equal(shield_hex_decode("0xDEADbeef", &buf, &n), 0);
        assert_int_equal(n, 4);
        shield_hex_encode(buf, n, out);
        assert_string_equal(out, "deadbeef");
        free(buf);
        assert_int_equal(shield_hex_decode("abc", &buf, &n), SHIELD_E_FORMAT);
        assert_int_equal(shield_hex_decode("zz", &buf, &n), SHIELD_E_FORMAT);
}

static void test_base64(void **state) {
        (void)state;
        /* RFC 4648, section 10 vectors. */
        const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
        for (size_t i = 0; i < 7; i++) {
                char *e = shield_base64_encode((const uint8_t *)plain[i], strlen(plain[i]));
                uint8_t *d = NULL;
                size_t n = 0;
                assert_string_equal(e, enc[i]);
                assert_int_equal(shield_base64_decode(e, strlen(e), &d, &n), 0);
                assert_int_equal(n, strlen(plain[i]));
                assert_memory_equal(d, plain[i], n);
                free(e);
                free(d);
        }
        uint8_t *d = NULL;
        size_t n;
        assert_int_equal(shield_base64_decode("Zm9v!", 5, &d, &n), SHIELD_E_FORMAT);
        assert_int_equal(shield_base64_decode("Z", 1, &d, &n), SHIELD_E_FORMAT);
        assert_int_equal(shield_base64_decode("Zg==Zg", 6, &d, &n), SHIELD_E_FORMAT);
}

static void test_utf16(void **state) {
        (void)state;
        /* "Boot" then NUL then junk; then a surrogate pair (U+1F600) and a lone surrogate. */
        const uint8_t boot[] = { 'B', 0, 'o', 0, 'o', 0, 't', 0, 0, 0, 'x', 0 };
        const uint8_t emoji[] = { 0x3d, 0xd8, 0x00, 0xde, 0x00, 0xd8, 'a', 0 };
        char *s = NULL;

        assert_int_equal(shield_utf16le_to_utf8(boot, sizeof boot, &s), 0);
        assert_string_equal(s, "Boot");
        free(s);
        assert_int_equal(shield_utf16le_to_utf8(emoji, sizeof emoji, &s), 0);
        assert_string_equal(s, "\xf0\x9f\x98\x80\xef\xbf\xbd" "a");
        free(s);
        assert_int_equal(shield_utf16le_to_utf8(boot, 3, &s), SHIELD_E_FORMAT);
}

static void test_parse_numbers(void **state) {
        (void)state;
        uint64_t v;
        int64_t i;
        uint64_t mask;

        assert_int_equal(shield_parse_u64("23", 10, 23, &v), 0);
        assert_int_equal(v, 23);
        assert_int_equal(shield_parse_u64("24", 10, 23, &v), SHIELD_E_LIMIT);
        assert_int_equal(shield_parse_u64("-1", 10, 23, &v), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_u64(" 1", 10, 23, &v), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_u64("1x", 10, 23, &v), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_u64("0x10", 0, 100, &v), 0);
        assert_int_equal(v, 16);
        assert_int_equal(shield_parse_i64("-5", 10, -10, 10, &i), 0);
        assert_int_equal(i, -5);
        assert_int_equal(shield_parse_i64("-50", 10, -10, 10, &i), SHIELD_E_LIMIT);
        assert_int_equal(shield_parse_index_list("0,2,4-6", 23, &mask), 0);
        assert_int_equal(mask, 0x75);
        assert_int_equal(shield_parse_index_list("6-4", 23, &mask), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_index_list("24", 23, &mask), SHIELD_E_LIMIT);
        assert_int_equal(shield_parse_index_list("1,,2", 23, &mask), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_index_list("", 23, &mask), SHIELD_E_FORMAT);
}

static void test_files(void **state) {
        (void)state;
        char dir[] = "/tmp/shield-test-XXXXXX";
        char path[64];
        uint8_t *buf = NULL;
        size_t n = 0;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/key", dir);
        assert_int_equal(shield_write_file_atomic(path, "secret", 6, 0600), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(shield_read_file(path, 100, &buf, &n), 0);
        assert_int_equal(n, 6);
        assert_memory_equal(buf, "secret", 6);
        assert_int_equal(buf[6], 0);
        free(buf);
        assert_int_equal(shield_read_file(path, 5, &buf, &n), SHIELD_E_LIMIT);
        assert_int_equal(shield_read_file("/nonexistent/x", 5, &buf, &n), SHIELD_E_SYSTEM);
        /* A write into a missing directory fails and leaves nothing behind. */
        assert_int_equal(shield_write_file_atomic("/nonexistent/x", "a", 1, 0600), SHIELD_E_SYSTEM);
        unlink(path);
        rmdir(dir);
}

static void test_hash(void **state) {
        (void)state;
        /* FIPS 180-2 "abc" vectors. */
        uint8_t out[64];
        char hex[129];
        struct shield_hasher *h = NULL;
        uint16_t alg;

        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, "abc", 3, out), 0);
        shield_hex_encode(out, 32, hex);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(shield_hasher_new(&h), 0);
        assert_int_equal(shield_hasher_digest2(h, SHIELD_ALG_SHA1, "a", 1, "bc", 2, out), 0);
        shield_hex_encode(out, 20, hex);
        assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
        /* GB/T 32905-2016 example 1: SM3("abc"). */
        assert_int_equal(shield_hasher_digest2(h, SHIELD_ALG_SM3_256, "abc", 3, NULL, 0, out), 0);
        shield_hex_encode(out, 32, hex);
        assert_string_equal(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_int_equal(shield_hasher_digest2(h, 0x9999, "a", 1, NULL, 0, out), SHIELD_E_UNSUPPORTED);
        shield_hasher_free(h);
        assert_int_equal(shield_hash_from_name("SHA-384", &alg), 0);
        assert_int_equal(alg, SHIELD_ALG_SHA384);
        assert_int_equal(shield_hash_from_name("md5", &alg), SHIELD_E_NOT_FOUND);
        assert_null(shield_hash_name(0x9999));
}

static void test_pcrs_json(void **state) {
        (void)state;
        const char *good = "{\"sha1\": {\"0\": \"" "0000000000000000000000000000000000000003" "\"}}";
        struct shield_pcrs pcrs, other;
        struct shield_diag diag;
        struct shield_reasons reasons = { 0 };

        assert_int_equal(shield_pcrs_parse_json(good, strlen(good), &pcrs, &diag), 0);
        assert_int_equal(pcrs.n_banks, 1);
        assert_int_equal(pcrs.banks[0].present, 1);
        assert_int_equal(pcrs.banks[0].value[0][19], 3);
        char *text = shield_pcrs_to_json(&pcrs);
        assert_int_equal(shield_pcrs_parse_json(text, strlen(text), &other, &diag), 0);
        free(text);
        assert_int_equal(shield_pcrs_compare(&pcrs, &other, 0, &reasons), 0);
        other.banks[0].value[0][0] = 1;
        assert_int_equal(shield_pcrs_compare(&pcrs, &other, 0, &reasons), SHIELD_E_VERIFY);
        assert_int_equal(reasons.n, 1);
        assert_string_equal(reasons.items[0].code, "pcr-mismatch");
        assert_int_equal(reasons.items[0].pcr, 0);
        assert_int_equal(shield_pcrs_compare(&pcrs, &other, 1, &reasons), 0);
        shield_reasons_clear(&reasons);

        const char *bad[] = {
                "[]", "{\"md5\": {}}", "{\"sha1\": {\"24\": \"00\"}}", "{\"sha1\": {\"0\": \"00\"}}",
                "{\"sha1\": {\"0\": 5}}", "{\"sha1\": []}", "{", "{\"sha1\": {\"x\": \"00\"}}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                memset(&diag, 0, sizeof diag);
                assert_int_not_equal(shield_pcrs_parse_json(bad[i], strlen(bad[i]), &pcrs, &diag), 0);
                assert_true(diag.msg[0] != '\0');
        }
}

static void test_reasons(void **state) {
        (void)state;
        struct shield_reasons l = { 0 };

        assert_int_equal(shield_reasons_max_severity(&l), SHIELD_SEV_INFO);
        for (int i = 0; i < 20; i++)
                assert_int_equal(shield_reasons_add(&l, "x", i == 7 ? SHIELD_SEV_ERROR : SHIELD_SEV_WARNING,
                                                    0, i, -1, SIZE_MAX, "n=%d", i), 0);
        assert_int_equal(l.n, 20);
        assert_string_equal(l.items[19].message, "n=19");
        assert_int_equal(shield_reasons_max_severity(&l), SHIELD_SEV_ERROR);
        assert_int_equal(shield_reasons_count(&l, SHIELD_SEV_WARNING), 19);
        shield_reasons_clear(&l);

        /* A message longer than SHIELD_REASON_MSG_MAX is cut in the middle: both ends stay, "…" between. */
        char filler[600];
        memset(filler, 'x', sizeof filler);
        for (size_t i = 0; i + 2 < sizeof filler; i += 2) {
                filler[i] = '\xc3'; /* é, two bytes: every cut point risks splitting a character */
                filler[i + 1] = '\xa9';
        }
        filler[sizeof filler - 1] = 0;
        assert_int_equal(shield_reasons_add(&l, "long", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                            "Boot0001 \"UEFI Misc Device\" %s (golden event 12)", filler), 0);
        const char *m = l.items[0].message;
        assert_true(strlen(m) < SHIELD_REASON_MSG_MAX);
        assert_true(strlen(m) > SHIELD_REASON_MSG_MAX - 8);
        assert_true(strncmp(m, "Boot0001 \"UEFI Misc Device\" ", 28) == 0);
        assert_non_null(strstr(m, "\xe2\x80\xa6"));
        assert_non_null(strstr(m, " (golden event 12)"));
        assert_string_equal(m + strlen(m) - 18, " (golden event 12)");
        /* Valid UTF-8 either side of the cut: no lone continuation byte, no lead byte without its pair. */
        for (const unsigned char *p = (const unsigned char *)m; *p; p++) {
                if (*p == 0xc3)
                        assert_int_equal(p[1], 0xa9);
                if (*p == 0xa9)
                        assert_int_equal(p[-1], 0xc3);
        }
        /* A message that fits is kept whole. */
        assert_int_equal(shield_reasons_add(&l, "short", SHIELD_SEV_INFO, 0, -1, -1, SIZE_MAX, "%s", "whole"), 0);
        assert_string_equal(l.items[1].message, "whole");
        shield_reasons_clear(&l);
        assert_int_equal(l.n, 0);
        shield_reasons_clear(NULL);
        assert_string_equal(shield_strerror(SHIELD_E_TRUNCATED), "input is truncated");
        assert_string_equal(shield_strerror(-999), "unknown error");
}

static void test_mkdir_tree(void **state) {
        (void)state;
        char base[] = "/tmp/shield-mkdir-XXXXXX", *leaf = NULL, *mid = NULL;
        struct stat st;
        mode_t old = umask(022);

        assert_non_null(mkdtemp(base));
        assert_true(asprintf(&mid, "%s/a/b", base) > 0);
        assert_true(asprintf(&leaf, "%s/a/b/c", base) > 0);
        assert_int_equal(shield_mkdir_parents(leaf, 0711, 0700), 0);
        assert_int_equal(stat(mid, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0711);
        assert_int_equal(stat(leaf, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        /* Existing directories are fine and keep their modes. */
        assert_int_equal(shield_mkdir_p(leaf, 0755), 0);
        assert_int_equal(stat(leaf, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(shield_mkdir_p("", 0755), SHIELD_E_INVAL);
        assert_int_equal(shield_remove_tree(base), 0);
        assert_int_not_equal(stat(base, &st), 0);
        assert_int_equal(shield_remove_tree(base), 0); /* already gone */
        umask(old);
        free(mid);
        free(leaf);
}

static void test_name_valid(void **state) {
        (void)state;
        char longest[SHIELD_NAME_MAX + 2];

        /* Names the tests, the service and the platform use. */
        static const char *const good[] = { "m1", "vm-ak", "web-1", "pg1", "Web", "1web", "web-", "vm 1",
                                            "a.b", "caf\xc3\xa9", "x..", "~" };
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                assert_true(shield_name_valid(good[i]));
        static const char *const bad[] = { "", ".", "..", ".hidden", "a/b", "/", "../x", "a\nb", "\t", "a\x7f", "a\x1b[0m" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_false(shield_name_valid(bad[i]));
        assert_false(shield_name_valid(NULL));
        memset(longest, 'a', sizeof longest);
        longest[SHIELD_NAME_MAX] = '\0';
        assert_true(shield_name_valid(longest));
        longest[SHIELD_NAME_MAX] = 'a';
        longest[SHIELD_NAME_MAX + 1] = '\0';
        assert_false(shield_name_valid(longest));
}

static void test_reader_sticky(void **state) {
        (void)state;
        const uint8_t b[] = { 1, 2, 3, 4, 5, 6 };
        struct rd r = rd_init_sticky(b, sizeof b);
        uint32_t v32 = 0xaaaaaaaa, w32 = 0xaaaaaaaa;
        uint16_t v16 = 0xaaaa;
        uint8_t v8 = 0xaa;
        const uint8_t *p = NULL;
        struct rd child = { 0 };

        assert_int_equal(rd_le32(&r, &v32), 0);
        assert_int_equal(rd_ok(&r), 0);
        assert_int_equal(rd_le32(&r, &w32), SHIELD_E_TRUNCATED); /* 2 left */
        assert_int_equal(rd_ok(&r), SHIELD_E_TRUNCATED);
        assert_int_equal(w32, 0xaaaaaaaa);
        assert_int_equal(r.off, 4);
        /* Every read after the failure fails, even one that would fit, and writes nothing. */
        assert_int_equal(rd_le16(&r, &v16), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_u8(&r, &v8), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_bytes(&r, 0, &p), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_skip(&r, 0), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_seek(&r, 0), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_sub(&r, 1, &child), SHIELD_E_TRUNCATED);
        assert_int_not_equal(rd_need(&r, 0), 0);
        assert_int_equal(v16, 0xaaaa);
        assert_int_equal(v8, 0xaa);
        assert_null(p);
        assert_null(child.p);
        assert_int_equal(r.off, 4);

        /* Children of a sticky reader are sticky; their failure is their own. */
        r = rd_init_sticky(b, sizeof b);
        assert_int_equal(rd_sub(&r, 2, &child), 0);
        assert_true(child.sticky);
        assert_int_equal(rd_le32(&child, &v32), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_ok(&child), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_ok(&r), 0);
        assert_int_equal(rd_le32(&r, &v32), 0);
        assert_int_equal(v32, 0x06050403);
        assert_int_equal(rd_seek(&r, 7), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_ok(&r), SHIELD_E_TRUNCATED);

        /* A plain reader keeps no failure: the next read that fits succeeds. */
        r = rd_init(b, sizeof b);
        assert_int_equal(rd_skip(&r, 7), SHIELD_E_TRUNCATED);
        assert_int_equal(rd_ok(&r), 0);
        assert_int_equal(rd_u8(&r, &v8), 0);
        assert_int_equal(v8, 1);
}

static void test_writer(void **state) {
        (void)state;
        uint8_t buf[16];
        static const uint8_t want[15] = { 0x11, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11, 8, 7, 6, 5, 4, 3, 2, 1 };
        struct wr w = wr_init(buf, sizeof buf);

        memset(buf, 0xaa, sizeof buf);
        wr_u8(&w, 0x11);
        wr_le16(&w, 0x1122);
        wr_le32(&w, 0x11223344);
        wr_le64(&w, 0x0102030405060708ull);
        assert_int_equal(wr_ok(&w), 0);
        assert_int_equal(w.len, 15);
        assert_memory_equal(buf, want, sizeof want);
        /* Two bytes do not fit the one left: nothing is written, then or after. */
        wr_le16(&w, 0xffff);
        assert_int_equal(wr_ok(&w), SHIELD_E_LIMIT);
        wr_u8(&w, 0xff);
        wr_bytes(&w, "", 0);
        wr_zero(&w, 0);
        assert_int_equal(w.len, 15);
        assert_int_equal(buf[15], 0xaa);
        assert_int_equal(wr_ok(&w), SHIELD_E_LIMIT);

        w = wr_init(buf, 4);
        wr_zero(&w, 2);
        wr_bytes(&w, "ab", 2);
        assert_int_equal(wr_ok(&w), 0);
        assert_memory_equal(buf, "\0\0ab", 4);
        wr_bytes(&w, "x", SIZE_MAX); /* no wrap-around in the check */
        assert_int_equal(wr_ok(&w), SHIELD_E_LIMIT);
        w = wr_init(NULL, 8);
        wr_u8(&w, 1);
        assert_int_equal(wr_ok(&w), SHIELD_E_LIMIT);

        /* Big-endian sizes, as TPM files carry them; the same fail-closed rule. */
        static const uint8_t be[6] = { 0xba, 0xdc, 0xc0, 0xde, 0x01, 0x02 };
        memset(buf, 0xaa, sizeof buf);
        w = wr_init(buf, 7);
        wr_be32(&w, 0xbadcc0de);
        wr_be16(&w, 0x0102);
        assert_int_equal(wr_ok(&w), 0);
        assert_memory_equal(buf, be, sizeof be);
        wr_be16(&w, 0xffff);
        assert_int_equal(wr_ok(&w), SHIELD_E_LIMIT);
        assert_int_equal(w.len, 6);
        assert_int_equal(buf[6], 0xaa);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_bounds), cmocka_unit_test(test_hex),
                cmocka_unit_test(test_base64),        cmocka_unit_test(test_utf16),
                cmocka_unit_test(test_parse_numbers), cmocka_unit_test(test_files),
                cmocka_unit_test(test_hash),          cmocka_unit_test(test_pcrs_json),
                cmocka_unit_test(test_reasons),       cmocka_unit_test(test_mkdir_tree),
                cmocka_unit_test(test_name_valid),
                cmocka_unit_test(test_reader_sticky), cmocka_unit_test(test_writer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
