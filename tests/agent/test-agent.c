/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's client parts that need no service: durations, backoff and jitter, the state file, options. */
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

#include "shield/agent.h"
#include "shield/util.h"

#define POISON 0xaaaaaaaaaaaaaaaaull

static void test_duration(void **state) {
        (void)state;
        static const struct {
                const char *s;
                uint64_t ms;
        } ok[] = { { "60s", 60000 }, { "1s", 1000 }, { "5m", 300000 }, { "1h", 3600000 }, { "500ms", 500 },
                   { "90", 90000 },  { "168h", 604800000 } };
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
                uint64_t v = POISON;
                assert_int_equal(shield_agent_parse_duration(ok[i].s, &v), 0);
                assert_int_equal(v, ok[i].ms);
        }
        static const char *const bad[] = { "", "s", "ms", "-1s", "1.5s", "1 s", "10x", "0x10s", "1d", "+5s", "s5" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                uint64_t v = POISON;
                assert_int_equal(shield_agent_parse_duration(bad[i], &v), SHIELD_E_FORMAT);
                assert_true(v == POISON); /* untouched on failure */
        }
        uint64_t v = POISON;
        assert_int_equal(shield_agent_parse_duration("0s", &v), SHIELD_E_LIMIT);
        assert_int_equal(shield_agent_parse_duration("169h", &v), SHIELD_E_LIMIT);
        assert_int_equal(shield_agent_parse_duration("99999999999999999999999s", &v), SHIELD_E_LIMIT);
        assert_true(v == POISON);
        assert_int_equal(shield_agent_parse_duration(NULL, &v), SHIELD_E_INVAL);
}

static void test_jitter(void **state) {
        (void)state;
        /* The ends and the middle of the ±20 % band. */
        assert_int_equal(shield_agent_jitter_ms(1000, 0), 800);
        assert_int_equal(shield_agent_jitter_ms(1000, UINT32_MAX), 1200);
        assert_int_equal(shield_agent_jitter_ms(1000, UINT32_MAX / 2), 999);
        assert_int_equal(shield_agent_jitter_ms(60000, 0), 48000);
        assert_int_equal(shield_agent_jitter_ms(60000, UINT32_MAX), 72000);
        /* Never 0, even for tiny delays. */
        assert_int_equal(shield_agent_jitter_ms(1, 0), 1);
        assert_int_equal(shield_agent_jitter_ms(0, 0), 1);
        /* Every value stays in the band. */
        for (uint32_t r = 0, i = 0; i < 10000; i++, r = r * 1664525u + 1013904223u) {
                uint64_t v = shield_agent_jitter_ms(5000, r);
                assert_true(v >= 4000 && v <= 6000);
        }
}

static void test_backoff(void **state) {
        (void)state;
        const uint32_t mid = 0x80000000u; /* ≈ no jitter: 1000 → 1000 */
        assert_int_equal(shield_agent_backoff_ms(1, 1000, 300000, mid), 1000);
        assert_int_equal(shield_agent_backoff_ms(2, 1000, 300000, mid), 2000);
        assert_int_equal(shield_agent_backoff_ms(3, 1000, 300000, mid), 4000);
        assert_int_equal(shield_agent_backoff_ms(9, 1000, 300000, mid), 256000);
        /* Capped, and the cap is jittered too. */
        assert_int_equal(shield_agent_backoff_ms(10, 1000, 300000, mid), 300000);
        assert_int_equal(shield_agent_backoff_ms(10, 1000, 300000, 0), 240000);
        assert_int_equal(shield_agent_backoff_ms(10, 1000, 300000, UINT32_MAX), 360000);
        /* No overflow however many failures. */
        assert_int_equal(shield_agent_backoff_ms(UINT32_MAX, 1000, 300000, mid), 300000);
        assert_int_equal(shield_agent_backoff_ms(200, UINT64_MAX / 3, UINT64_MAX / 2, 0), UINT64_MAX / 2 - UINT64_MAX / 10);
        /* failures 0 is treated as the first. */
        assert_int_equal(shield_agent_backoff_ms(0, 2000, 300000, mid), 2000);
}

static char tmpdir[64];

static int make_tmp(void **state) {
        (void)state;
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-agent.XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state) {
        (void)state;
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text) {
        assert_int_equal(shield_write_file_atomic(path, text, strlen(text), 0600), 0);
}

static void test_state(void **state) {
        (void)state;
        char dir[128], path[192];
        snprintf(dir, sizeof dir, "%s/a/b/agent", tmpdir);
        snprintf(path, sizeof path, "%s/%s", dir, SHIELD_AGENT_STATE_FILE);
        struct shield_agent_state s, got;

        unsigned char poison[sizeof got];
        memset(poison, 0xaa, sizeof poison);
        memset(&got, 0xaa, sizeof got);
        assert_int_equal(shield_agent_state_load(dir, &got), SHIELD_E_NOT_FOUND);
        assert_memory_equal(&got, poison, sizeof got); /* untouched */

        memset(&s, 0, sizeof s);
        s.server = "https://127.0.0.1:8443";
        s.name = "web-1";
        memset(s.ak_sha256, 'a', 64);
        s.trusted = true;
        assert_int_equal(shield_agent_state_save(dir, &s), 0); /* makes the parents */
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        memset(&got, 0xaa, sizeof got);
        assert_int_equal(shield_agent_state_load(dir, &got), 0);
        assert_string_equal(got.server, s.server);
        assert_string_equal(got.name, "web-1");
        assert_string_equal(got.ak_sha256, s.ak_sha256);
        assert_true(got.trusted);
        shield_agent_state_clear(&got);
        assert_null(got.server);
        shield_agent_state_clear(NULL);

        /* Saving again replaces it. */
        s.trusted = false;
        s.name = "web-2";
        assert_int_equal(shield_agent_state_save(dir, &s), 0);
        assert_int_equal(shield_agent_state_load(dir, &got), 0);
        assert_string_equal(got.name, "web-2");
        assert_false(got.trusted);
        shield_agent_state_clear(&got);

        /* Bad input to save. */
        s.ak_sha256[3] = 'x';
        assert_int_equal(shield_agent_state_save(dir, &s), SHIELD_E_INVAL);
        memset(s.ak_sha256, 'a', 64);
        s.name = NULL;
        assert_int_equal(shield_agent_state_save(dir, &s), SHIELD_E_INVAL);
        assert_int_equal(shield_agent_state_save(NULL, &s), SHIELD_E_INVAL);

        /* Malformed files: each is SHIELD_E_FORMAT and leaves *ret alone. */
        static const char *const bad[] = {
                "",
                "not json",
                "[]",
                "{\"server\": \"s\", \"name\": \"n\", \"ak_sha256\": \"" /* short digest */ "abcd\", \"trusted\": true}",
                "{\"server\": \"s\", \"name\": \"n\", \"trusted\": true}",
                "{\"server\": 1, \"name\": \"n\", \"ak_sha256\": "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"trusted\": true}",
                "{\"server\": \"s\", \"name\": \"n\", \"ak_sha256\": "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"trusted\": \"yes\"}",
                "{\"server\": \"s\", \"name\": \"n\", \"ak_sha256\": "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"trusted\": true, \"x\": 1}",
                "{\"server\": \"s\", \"name\": \"n\", \"ak_sha256\": "
                "\"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\", \"trusted\": true}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                write_text(path, bad[i]);
                memset(&got, 0xaa, sizeof got);
                assert_int_equal(shield_agent_state_load(dir, &got), SHIELD_E_FORMAT);
                assert_memory_equal(&got, poison, sizeof got);
        }

        assert_int_equal(shield_agent_state_remove(dir), 0);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(shield_agent_state_remove(dir), 0); /* absent is fine */
        assert_int_equal(shield_agent_state_load(dir, &got), SHIELD_E_NOT_FOUND);
}

static void test_default_state_dir(void **state) {
        (void)state;
        char *p = NULL;
        setenv("XDG_STATE_HOME", "/var/lib/x", 1);
        setenv("HOME", "/home/u", 1);
        assert_int_equal(shield_agent_default_state_dir(&p), 0);
        assert_string_equal(p, "/var/lib/x/shieldkit/agent");
        free(p);
        setenv("XDG_STATE_HOME", "relative", 1); /* the XDG spec: ignore relative paths */
        assert_int_equal(shield_agent_default_state_dir(&p), 0);
        assert_string_equal(p, "/home/u/.local/state/shieldkit/agent");
        free(p);
        unsetenv("XDG_STATE_HOME");
        unsetenv("HOME");
        p = (char *)0x1;
        assert_int_equal(shield_agent_default_state_dir(&p), SHIELD_E_NOT_FOUND);
        assert_ptr_equal(p, (char *)0x1);
}

static void test_new_checks_options(void **state) {
        (void)state;
        struct shield_agent *a = NULL;
        struct shield_agent_error err;
        struct shield_agent_options o = { .server = "ftp://x", .name = "n" };

        memset(&err, 0, sizeof err);
        assert_int_equal(shield_agent_new(&o, &a, &err), SHIELD_E_INVAL);
        assert_null(a);
        assert_non_null(strstr(err.msg, "https://"));
        o.server = "http://127.0.0.1:1/";
        o.name = "";
        assert_int_equal(shield_agent_new(&o, &a, &err), SHIELD_E_INVAL);
        o.name = "a/b";
        assert_int_equal(shield_agent_new(&o, &a, &err), SHIELD_E_INVAL);
        o.name = "web-1";
        o.ak_alg = (enum shield_tpm_ak_alg)7; /* not an AK kind the agent can create */
        assert_int_equal(shield_agent_new(&o, &a, &err), SHIELD_E_INVAL);
        assert_null(a);
        assert_non_null(strstr(err.msg, "AK algorithm"));
        o.ak_alg = SHIELD_TPM_AK_ECC;
        assert_int_equal(shield_agent_new(&o, &a, &err), 0);
        shield_agent_free(a);
        a = NULL;
        o.ak_alg = SHIELD_TPM_AK_RSA;
        assert_int_equal(shield_agent_new(&o, &a, &err), 0);
        assert_non_null(a);
        shield_agent_free(a);
        shield_agent_free(NULL);

        struct shield_agent_verdict v;
        memset(&v, 0, sizeof v);
        shield_agent_verdict_clear(&v);
        shield_agent_verdict_clear(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_jitter),
                cmocka_unit_test(test_backoff),
                cmocka_unit_test_setup_teardown(test_state, make_tmp, remove_tmp),
                cmocka_unit_test(test_default_state_dir),
                cmocka_unit_test(test_new_checks_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
