/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store in a temporary directory: golden set/get/reset, verdict
 * history (newest first), nonce replay, AKs, instances, two handles on one
 * file, the schema version and the default path.
 *
 * With SHIELD_TEST_STORE_FIXTURE=PATH set, it only writes a store with one
 * instance ("vm1": a golden measurement and two verdicts) to PATH and exits:
 * tests/cli/cli-golden.sh uses that to test `shield golden`.
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

#include "shield/store.h"

#include "log-builder.h"

static char dir[] = "/tmp/test-store.XXXXXX";
static char db_path[256];

/* A golden from a small log: PCR 0, a separator, two boot applications (the second named by variant). */
static struct shield_golden *make_golden(const char *app) {
        struct buf b = { 0 };
        specid(&b, 2, 0);
        agile_event(&b, 0, EV_S_CRTM_VERSION, "firmware 1.0", 12);
        agile_event(&b, 4, EV_SEPARATOR, sep_zero, 4);
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, "shimx64.efi", 11);
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, app, (uint32_t)strlen(app));
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1, .eventlog = b.b, .eventlog_len = b.n };
        struct shield_golden *g = NULL;
        assert_int_equal(shield_golden_from_evidence(&e, &g, NULL), 0);
        return g;
}

static struct shield_store *open_ok(void) {
        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_store_open(db_path, &s, &diag);
        if (r < 0)
                fail_msg("open %s: %s: %s", db_path, shield_strerror(r), diag.msg);
        return s;
}

static int setup(void **state) {
        (void)state;
        if (!mkdtemp(dir))
                return -1;
        snprintf(db_path, sizeof db_path, "%s/sub/dir/shield.db", dir);
        return 0;
}

static int teardown(void **state) {
        (void)state;
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_golden_set_get_reset(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_golden *g = make_golden("grubx64.efi"), *got = (void *)0xaa;
        struct shield_diag diag = { 0 };
        char *a = NULL, *b = NULL;

        assert_int_equal(shield_store_golden_get(s, "vm-golden", &got, &diag), SHIELD_E_NOT_FOUND);
        assert_ptr_equal(got, (void *)0xaa);
        assert_non_null(strstr(diag.msg, "vm-golden"));
        assert_int_equal(shield_store_golden_reset(s, "vm-golden", NULL), SHIELD_E_NOT_FOUND);

        assert_int_equal(shield_store_golden_set(s, "vm-golden", g, &diag), 0);
        assert_int_equal(shield_store_golden_get(s, "vm-golden", &got, &diag), 0);
        assert_int_equal(shield_golden_to_json(g, &a), 0);
        assert_int_equal(shield_golden_to_json(got, &b), 0);
        assert_string_equal(a, b);
        shield_golden_free(got);
        free(b);

        /* Replacing it. */
        struct shield_golden *g2 = make_golden("grubx64.efi v2");
        assert_int_equal(shield_store_golden_set(s, "vm-golden", g2, NULL), 0);
        assert_int_equal(shield_store_golden_get(s, "vm-golden", &got, NULL), 0);
        assert_int_equal(shield_golden_to_json(got, &b), 0);
        assert_string_not_equal(a, b);
        shield_golden_free(got);

        assert_int_equal(shield_store_golden_reset(s, "vm-golden", NULL), 0);
        got = (void *)0xaa;
        assert_int_equal(shield_store_golden_get(s, "vm-golden", &got, NULL), SHIELD_E_NOT_FOUND);
        assert_ptr_equal(got, (void *)0xaa);
        assert_int_equal(shield_store_golden_reset(s, "vm-golden", NULL), SHIELD_E_NOT_FOUND);

        /* Bad names. */
        assert_int_equal(shield_store_golden_set(s, "", g, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_store_golden_set(s, "a\nb", g, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_golden_get(s, NULL, &got, NULL), SHIELD_E_INVAL);
        free(a);
        free(b);
        shield_golden_free(g);
        shield_golden_free(g2);
        shield_store_close(s);
}

static void test_nonce_replay(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_diag diag = { 0 };
        const uint8_t n1[16] = { 1, 2, 3 }, n2[16] = { 1, 2, 4 };

        assert_int_equal(shield_store_nonce_use(s, n1, sizeof n1, 1000, &diag), 0);
        assert_int_equal(shield_store_nonce_use(s, n2, sizeof n2, 1001, &diag), 0);
        assert_int_equal(shield_store_nonce_use(s, n1, sizeof n1, 1002, &diag), SHIELD_E_VERIFY);
        assert_non_null(strstr(diag.msg, "used before"));
        /* The same bytes with another length are another nonce. */
        assert_int_equal(shield_store_nonce_use(s, n1, 15, 1003, NULL), 0);
        assert_int_equal(shield_store_nonce_use(s, n1, 0, 1003, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_store_nonce_use(s, n1, 65, 1003, NULL), SHIELD_E_INVAL);
        shield_store_close(s);
}

static void add_verdict(struct shield_store *s, const char *inst, int64_t t, enum shield_colour col, const char *sha) {
        struct shield_integrity_verdict v = { .colour = col, .early = col, .late = SHIELD_GREEN };
        if (col != SHIELD_GREEN)
                assert_int_equal(shield_reasons_add(&v.reasons, "event-changed", SHIELD_SEV_ERROR, SHIELD_ALG_SHA256, 4, 11,
                                                    SIZE_MAX, "PCR 4 event 11 changed at %lld", (long long)t),
                                 0);
        assert_int_equal(shield_store_verdict_add(s, inst, t, &v, sha, NULL), 0);
        shield_integrity_verdict_clear(&v);
}

static void test_history_newest_first(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        char *json = NULL;

        assert_int_equal(shield_store_history(s, "vm-hist", 10, &json, NULL), 0);
        assert_string_equal(json, "[]");
        free(json);

        add_verdict(s, "vm-hist", 100, SHIELD_GREEN, "aa");
        add_verdict(s, "vm-hist", 200, SHIELD_RED, NULL);
        add_verdict(s, "vm-hist", 150, SHIELD_YELLOW, ""); /* newest by insertion, not by time */
        add_verdict(s, "vm-other", 300, SHIELD_GREEN, NULL);

        assert_int_equal(shield_store_history(s, "vm-hist", 10, &json, NULL), 0);
        const char *p150 = strstr(json, "\"time\": 150"), *p200 = strstr(json, "\"time\": 200"),
                   *p100 = strstr(json, "\"time\": 100");
        assert_non_null(p150);
        assert_non_null(p200);
        assert_non_null(p100);
        assert_true(p150 < p200 && p200 < p100);
        assert_null(strstr(json, "\"time\": 300"));
        assert_non_null(strstr(json, "\"code\": \"event-changed\""));
        assert_non_null(strstr(json, "\"evidence_sha256\": \"aa\""));
        assert_non_null(strstr(json, "\"colour\": \"yellow\""));
        free(json);

        assert_int_equal(shield_store_history(s, "vm-hist", 1, &json, NULL), 0);
        assert_non_null(strstr(json, "\"time\": 150"));
        assert_null(strstr(json, "\"time\": 200"));
        free(json);
        shield_store_close(s);
}

static void test_ak_and_instances(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        const uint8_t ak[5] = { 0, 3, 1, 2, 3 };
        uint8_t *got = (void *)0xaa;
        size_t len = 0;
        char **names = NULL;
        size_t n = 0;

        assert_int_equal(shield_store_instance_get_ak(s, "vm-ak", &got, &len, NULL), SHIELD_E_NOT_FOUND);
        assert_ptr_equal(got, (void *)0xaa);
        assert_int_equal(shield_store_instance_set_ak(s, "vm-ak", ak, sizeof ak, NULL), 0);
        assert_int_equal(shield_store_instance_get_ak(s, "vm-ak", &got, &len, NULL), 0);
        assert_int_equal(len, sizeof ak);
        assert_memory_equal(got, ak, sizeof ak);
        free(got);
        assert_int_equal(shield_store_instance_set_ak(s, "vm-ak", ak, 0, NULL), SHIELD_E_INVAL);

        assert_int_equal(shield_store_instances(s, &names, &n), 0);
        bool found = false;
        for (size_t i = 0; i < n; i++) {
                found |= strcmp(names[i], "vm-ak") == 0;
                if (i)
                        assert_true(strcmp(names[i - 1], names[i]) < 0);
        }
        assert_null(names[n]);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        assert_true(found);
        shield_store_close(s);
}

static void test_two_handles(void **state) {
        (void)state;
        struct shield_store *a = open_ok(), *b = open_ok();
        struct shield_golden *g = make_golden("grubx64.efi"), *got = NULL;
        const uint8_t nonce[8] = { 9 };

        assert_int_equal(shield_store_golden_set(a, "vm-two", g, NULL), 0);
        assert_int_equal(shield_store_golden_get(b, "vm-two", &got, NULL), 0);
        shield_golden_free(got);
        assert_int_equal(shield_store_nonce_use(b, nonce, sizeof nonce, 1, NULL), 0);
        assert_int_equal(shield_store_nonce_use(a, nonce, sizeof nonce, 2, NULL), SHIELD_E_VERIFY);
        shield_golden_free(g);
        shield_store_close(a);
        shield_store_close(b);

        /* Reopening keeps everything (the schema is not made twice). */
        struct shield_store *c = open_ok();
        assert_int_equal(shield_store_golden_get(c, "vm-two", &got, NULL), 0);
        shield_golden_free(got);
        shield_store_close(c);
        shield_store_close(NULL);
}

static void test_open_errors(void **state) {
        (void)state;
        struct shield_store *s = (void *)0xaa;
        struct shield_diag diag = { 0 };
        char path[300];

        /* A directory is not a database. */
        snprintf(path, sizeof path, "%s", dir);
        assert_int_equal(shield_store_open(path, &s, &diag), SHIELD_E_SYSTEM);
        assert_ptr_equal(s, (void *)0xaa);
        assert_true(diag.msg[0] != '\0');
        assert_int_equal(shield_store_open("", &s, NULL), SHIELD_E_INVAL);

        /* A file that is not SQLite. */
        snprintf(path, sizeof path, "%s/junk.db", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs("this is not a database, not at all, no, and it is long enough to have a header\n", f);
        fclose(f);
        assert_int_equal(shield_store_open(path, &s, &diag), SHIELD_E_SYSTEM);
        assert_ptr_equal(s, (void *)0xaa);
}

static void test_default_path(void **state) {
        (void)state;
        char *p;

        setenv("SHIELD_STORE", "/x/y.db", 1);
        p = shield_store_default_path();
        assert_string_equal(p, "/x/y.db");
        free(p);
        unsetenv("SHIELD_STORE");
        setenv("XDG_STATE_HOME", "/state", 1);
        p = shield_store_default_path();
        assert_string_equal(p, "/state/shieldkit/shield.db");
        free(p);
        unsetenv("XDG_STATE_HOME");
        setenv("HOME", "/home/u", 1);
        p = shield_store_default_path();
        assert_string_equal(p, "/home/u/.local/state/shieldkit/shield.db");
        free(p);
}

/* The store tests/cli/cli-golden.sh works on. */
static int write_fixture(const char *path) {
        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        struct shield_golden *g;
        int r;

        unlink(path);
        if ((r = shield_store_open(path, &s, &diag)) < 0) {
                fprintf(stderr, "fixture: %s: %s\n", path, diag.msg);
                return 1;
        }
        g = make_golden("grubx64.efi");
        r = shield_store_golden_set(s, "vm1", g, &diag);
        shield_golden_free(g);
        struct shield_integrity_verdict v = { 0 };
        if (r == 0)
                r = shield_store_verdict_add(s, "vm1", 1700000000, &v, "00", &diag);
        v.colour = v.early = SHIELD_RED;
        if (r == 0)
                r = shield_reasons_add(&v.reasons, "event-changed", SHIELD_SEV_ERROR, SHIELD_ALG_SHA256, 4, 4, SIZE_MAX,
                                       "PCR 4 event 4 EV_EFI_BOOT_SERVICES_APPLICATION digest changed");
        if (r == 0)
                r = shield_store_verdict_add(s, "vm1", 1700000100, &v, "11", &diag);
        shield_integrity_verdict_clear(&v);
        shield_store_close(s);
        if (r < 0)
                fprintf(stderr, "fixture: %s\n", diag.msg);
        return r < 0;
}

int main(void) {
        const char *fixture = getenv("SHIELD_TEST_STORE_FIXTURE");
        if (fixture && *fixture)
                return write_fixture(fixture);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden_set_get_reset),
                cmocka_unit_test(test_nonce_replay),
                cmocka_unit_test(test_history_newest_first),
                cmocka_unit_test(test_ak_and_instances),
                cmocka_unit_test(test_two_handles),
                cmocka_unit_test(test_open_errors),
                cmocka_unit_test(test_default_path),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
