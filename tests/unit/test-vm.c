/* SPDX-License-Identifier: Apache-2.0 */
/* Serial frames, evidence from frames, resource names, sizes and the helper runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shield/disk.h"
#include "shield/evidence.h"
#include "shield/image.h"
#include "shield/util.h"
#include "shield/vm.h"

/* A frame as the agent prints it: CRLF line ends, base64 in 76-character lines. */
static size_t put_frame(char *out, size_t cap, const char *name, const uint8_t *data, size_t len) {
        char *b64 = shield_base64_encode(data, len);
        assert_non_null(b64);
        size_t used = (size_t)snprintf(out, cap, "SHIELD-BEGIN %s %zu %08x\r\n", name, len, shield_crc32(0, data, len));
        for (size_t i = 0, n = strlen(b64); i < n; i += 76)
                used += (size_t)snprintf(out + used, cap - used, "%.76s\r\n", b64 + i);
        used += (size_t)snprintf(out + used, cap - used, "SHIELD-END %s\r\n", name);
        free(b64);
        return used;
}

static void test_frames_roundtrip(void **state) {
        (void)state;
        char text[8192];
        uint8_t blob[300];
        for (size_t i = 0; i < sizeof blob; i++)
                blob[i] = (uint8_t)(i * 7);
        size_t n = (size_t)snprintf(text, sizeof text, "\x1b[0mBdsDxe: starting\r\n");
        n += put_frame(text + n, sizeof text - n, "eventlog", blob, sizeof blob);
        n += put_frame(text + n, sizeof text - n, "nonce", blob, 16);
        n += (size_t)snprintf(text + n, sizeof text - n, "SHIELD-ERROR no ek-cert\r\nSHIELD-DONE\r\n");

        struct shield_frames f;
        assert_int_equal(shield_frames_parse((const uint8_t *)text, n, &f, NULL), 0);
        assert_int_equal(f.n, 2);
        assert_true(f.done);
        assert_int_equal(f.n_errors, 1);
        const struct shield_frame *fr = shield_frames_find(&f, "eventlog");
        assert_non_null(fr);
        assert_int_equal(fr->len, sizeof blob);
        assert_memory_equal(fr->data, blob, sizeof blob);
        assert_null(shield_frames_find(&f, "pcrs"));
        shield_frames_clear(&f);
}

static void test_frames_damage(void **state) {
        (void)state;
        char text[4096];
        const uint8_t data[] = "measurements";
        struct shield_frames f;
        struct shield_diag diag = { 0 };

        /* One changed base64 character: the CRC catches it, at the frame's offset. */
        size_t pre = (size_t)snprintf(text, sizeof text, "noise\n");
        size_t n = pre + put_frame(text + pre, sizeof text - pre, "info", data, sizeof data);
        char *b = strstr(text, "\r\n") + 2; /* after the header: the base64 line */
        b[0] = b[0] == 'A' ? 'B' : 'A';
        assert_int_equal(shield_frames_parse((const uint8_t *)text, n, &f, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, pre);
        assert_non_null(strstr(diag.msg, "CRC-32"));

        /* Cut off mid-frame. */
        n = put_frame(text, sizeof text, "info", data, sizeof data);
        memset(&diag, 0, sizeof diag);
        assert_int_equal(shield_frames_parse((const uint8_t *)text, n - 18, &f, &diag), SHIELD_E_TRUNCATED);
        assert_non_null(strstr(diag.msg, "never ended"));

        /* Sent twice. */
        n = put_frame(text, sizeof text, "info", data, sizeof data);
        n += put_frame(text + n, sizeof text - n, "info", data, sizeof data);
        assert_int_equal(shield_frames_parse((const uint8_t *)text, n, &f, NULL), SHIELD_E_FORMAT);

        /* A bad name and a mismatched end. */
        const char *bad[] = { "SHIELD-BEGIN IN/FO 1 00000000\nAA==\nSHIELD-END IN/FO\n",
                              "SHIELD-BEGIN info 1 d202ef8d\nAA==\nSHIELD-END pcrs\n",
                              "SHIELD-BEGIN info 99999999999 00000000\n" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(shield_frames_parse((const uint8_t *)bad[i], strlen(bad[i]), &f, NULL), SHIELD_E_FORMAT);
}

static void test_evidence_from_agent_frames(void **state) {
        (void)state;
        char text[8192];
        const char info[] = "tcg2=2 secureboot=1 setupmode=0 format=2\n";
        const char pcrs[] = "{\"sha256\": {\"0\": \"0000000000000000000000000000000000000000000000000000000000000000\"}}";
        const uint8_t log[] = { 1, 2, 3 }, nonce[] = { 9, 9, 9, 9 };
        size_t n = put_frame(text, sizeof text, "info", (const uint8_t *)info, strlen(info));
        n += put_frame(text + n, sizeof text - n, "eventlog", log, sizeof log);
        n += put_frame(text + n, sizeof text - n, "pcrs", (const uint8_t *)pcrs, strlen(pcrs));
        n += put_frame(text + n, sizeof text - n, "nonce", nonce, sizeof nonce);

        struct shield_frames f;
        struct shield_evidence e;
        assert_int_equal(shield_frames_parse((const uint8_t *)text, n, &f, NULL), 0);
        assert_int_equal(shield_evidence_from_frames(&f, NULL, &e, NULL), 0);
        assert_int_equal(e.secure_boot, 1);
        assert_int_equal(e.setup_mode, 0);
        assert_true(e.has_pcrs);
        assert_int_equal(e.eventlog_len, sizeof log);
        assert_int_equal(e.nonce_len, sizeof nonce);
        assert_null(e.quote.attest);
        assert_int_equal(e.n_notes, 1); /* "no quote was sent" */
        shield_evidence_free(&e);
        shield_frames_clear(&f);

        /* Without the event log there is no evidence. */
        n = put_frame(text, sizeof text, "info", (const uint8_t *)info, strlen(info));
        assert_int_equal(shield_frames_parse((const uint8_t *)text, n, &f, NULL), 0);
        assert_int_equal(shield_evidence_from_frames(&f, NULL, &e, NULL), SHIELD_E_NOT_FOUND);
        shield_frames_clear(&f);
}

static void test_names_sizes_features(void **state) {
        (void)state;
        assert_true(shield_resource_name_valid("web-1"));
        assert_false(shield_resource_name_valid("1web"));
        assert_false(shield_resource_name_valid("web-"));
        assert_false(shield_resource_name_valid("Web"));
        assert_false(shield_resource_name_valid("../x"));
        assert_false(shield_resource_name_valid(""));

        uint64_t v;
        assert_int_equal(shield_parse_size("100M", &v), 0);
        assert_true(v == 100ull << 20);
        assert_int_equal(shield_parse_size("4096", &v), 0);
        assert_true(v == 4096);
        assert_int_equal(shield_parse_size("1G", &v), 0);
        assert_true(v == 1ull << 30);
        assert_int_equal(shield_parse_size("M", &v), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_size("12X", &v), SHIELD_E_FORMAT);
        assert_int_equal(shield_parse_size("99999999999999999999T", &v), SHIELD_E_FORMAT);

        unsigned bits;
        struct shield_diag diag = { 0 };
        char text[64];
        assert_int_equal(shield_features_parse("UEFI_COMPATIBLE,WINDOWS", &bits, NULL), 0);
        assert_int_equal(bits, SHIELD_FEATURE_UEFI_COMPATIBLE | SHIELD_FEATURE_WINDOWS);
        shield_features_text(bits, text, sizeof text);
        assert_string_equal(text, "UEFI_COMPATIBLE,WINDOWS");
        assert_int_equal(shield_features_parse("UEFI_COMPATIBLE,SEV_CAPABLE", &bits, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, 16);
}

static void test_run(void **state) {
        (void)state;
        struct shield_diag diag = { 0 };
        const char *ok[] = { "true", NULL };
        const char *fails[] = { "sh", "-c", "echo first >&2; echo 'the reason' >&2; exit 3", NULL };
        const char *missing[] = { "shield-no-such-program", NULL };
        const char *env[] = { "SHIELD_TEST_VALUE=42", NULL };
        const char *uses_env[] = { "sh", "-c", "test \"$SHIELD_TEST_VALUE\" = 42", NULL };
        assert_int_equal(shield_run(ok, NULL, NULL), 0);
        assert_int_equal(shield_run(fails, NULL, &diag), SHIELD_E_SYSTEM);
        assert_non_null(strstr(diag.msg, "exit 3"));
        assert_non_null(strstr(diag.msg, "the reason"));
        assert_int_equal(shield_run(missing, NULL, &diag), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_run(uses_env, env, NULL), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_frames_roundtrip),
                cmocka_unit_test(test_frames_damage),
                cmocka_unit_test(test_evidence_from_agent_frames),
                cmocka_unit_test(test_names_sizes_features),
                cmocka_unit_test(test_run),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
