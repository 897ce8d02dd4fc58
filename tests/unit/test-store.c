/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store in a temporary directory: golden set/get/reset, verdict
 * history (newest first), nonce replay, AKs, instances, two handles on one
 * file, the schema version and the default path; the service's records
 * (registration, status, listing, deletion with what hangs on it,
 * challenges, signing keys, the admin token hash).
 *
 * With SHIELD_TEST_STORE_URL=postgresql://… set, the same cases run against
 * that (empty) PostgreSQL database and the SQLite-only ones are skipped:
 * tests/store/store-postgresql.sh starts a server and does that.
 *
 * With SHIELD_TEST_STORE_FIXTURE=PATH set, it only writes a store with one
 * instance ("vm1": a golden measurement and two verdicts) to PATH and exits:
 * tests/cli/cli-golden.sh uses that to test `shield golden`.
 */
#include <errno.h>
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
#include <sqlite3.h> /* only to write a file as an earlier build did */

#include "shield/attest.h"
#include "shield/store.h"

#include "log-builder.h"

/* The fleet list as the API renders it. */
static int list_json(struct shield_store *s, char **ret, struct shield_diag *diag) {
        struct shield_instance_summary *v = NULL;
        size_t n = 0;
        int r = shield_store_instance_summaries(s, &v, &n, diag);
        if (r < 0)
                return r;
        json_t *a = shield_instances_json(v, n);
        free(v);
        *ret = a ? json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(a);
        return *ret ? 0 : -1;
}

static char dir[] = "/tmp/test-store.XXXXXX";
static char db_path[1024];
static bool on_postgresql;

/* The schema version this build migrates to (lib/store/store.c). */
#define EXPECTED_SCHEMA_VERSION 6

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
        const char *url = getenv("SHIELD_TEST_STORE_URL");
        if (!mkdtemp(dir))
                return -1;
        if (url && *url) {
                if (strlen(url) >= sizeof db_path)
                        return -1;
                memcpy(db_path, url, strlen(url) + 1);
                on_postgresql = true;
                return 0;
        }
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
        assert_int_equal(shield_store_golden_set(s, "a/b", g, NULL), SHIELD_E_INVAL);
        assert_int_equal(shield_store_golden_set(s, ".hidden", g, NULL), SHIELD_E_INVAL);
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

        assert_int_equal(shield_history_text(s, "vm-hist", 10, &json, NULL), 0);
        assert_string_equal(json, "[]");
        free(json);

        add_verdict(s, "vm-hist", 100, SHIELD_GREEN, "aa");
        add_verdict(s, "vm-hist", 200, SHIELD_RED, NULL);
        add_verdict(s, "vm-hist", 150, SHIELD_YELLOW, ""); /* newest by insertion, not by time */
        add_verdict(s, "vm-other", 300, SHIELD_GREEN, NULL);

        assert_int_equal(shield_history_text(s, "vm-hist", 10, &json, NULL), 0);
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

        assert_int_equal(shield_history_text(s, "vm-hist", 1, &json, NULL), 0);
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
        if (on_postgresql)
                skip();
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

static mode_t mode_of(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                fail_msg("stat %s: %s", path, strerror(errno));
        return st.st_mode & 07777;
}

/* The store holds private keys: 0600 for the database, -wal and -shm, under the usual umask 022. */
static void test_file_modes(void **state) {
        (void)state;
        if (on_postgresql)
                skip();
        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        struct shield_golden *g = make_golden("grubx64.efi");
        char path[300], wal[310], shm[310];
        mode_t old = umask(022);

        snprintf(path, sizeof path, "%s/modes/shield.db", dir);
        snprintf(wal, sizeof wal, "%s-wal", path);
        snprintf(shm, sizeof shm, "%s-shm", path);
        assert_int_equal(shield_store_open(path, &s, &diag), 0);
        assert_int_equal(shield_store_golden_set(s, "modes", g, &diag), 0);
        assert_int_equal(mode_of(path), 0600);
        assert_int_equal(mode_of(wal), 0600);
        assert_int_equal(mode_of(shm), 0600);
        shield_store_close(s);

        /* A store an older version left 0644 (and its -wal, -shm) is made private when opened. */
        assert_int_equal(chmod(path, 0644), 0);
        FILE *f = fopen(wal, "ae");
        assert_non_null(f);
        fclose(f);
        assert_int_equal(chmod(wal, 0644), 0);
        assert_int_equal(shield_store_open(path, &s, &diag), 0);
        assert_int_equal(mode_of(path), 0600);
        assert_int_equal(mode_of(wal), 0600);
        assert_int_equal(mode_of(shm), 0600);
        shield_store_close(s);
        umask(old);
        shield_golden_free(g);
}

static void test_default_path(void **state) {
        (void)state;
        if (on_postgresql)
                skip();
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

static void test_schema_version_and_names(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        int v = -1;

        assert_int_equal(shield_store_schema_version(s, &v, NULL), 0);
        assert_int_equal(v, EXPECTED_SCHEMA_VERSION);
        shield_store_close(s);

        assert_true(shield_store_is_postgresql("postgresql://db.example/shield"));
        assert_true(shield_store_is_postgresql("postgres:///shield?host=/run/postgresql"));
        assert_false(shield_store_is_postgresql("/var/lib/shieldkit/shield.db"));
        assert_false(shield_store_is_postgresql("sqlite:/x.db"));
        assert_false(shield_store_is_postgresql(NULL));

        /* A server that is not there: a system error that names the cause, never the password. */
        struct shield_diag diag = { 0 };
        s = (void *)0xaa;
        assert_int_equal(shield_store_open("postgresql://shield:hunter2@127.0.0.1:1/nowhere?connect_timeout=2", &s, &diag),
                         SHIELD_E_SYSTEM);
        assert_ptr_equal(s, (void *)0xaa);
        assert_non_null(strstr(diag.msg, "PostgreSQL"));
        assert_null(strstr(diag.msg, "hunter2"));
        if (on_postgresql)
                return;

        /* "sqlite:PATH" is the same file as PATH. */
        char url[1100];
        struct shield_store *t = NULL;
        struct shield_golden *g = make_golden("grubx64.efi"), *got = NULL;
        snprintf(url, sizeof url, "sqlite:%s", db_path);
        s = open_ok();
        assert_int_equal(shield_store_golden_set(s, "vm-url", g, NULL), 0);
        assert_int_equal(shield_store_open(url, &t, NULL), 0);
        assert_int_equal(shield_store_golden_get(t, "vm-url", &got, NULL), 0);
        shield_golden_free(got);
        shield_golden_free(g);
        shield_store_close(t);
        shield_store_close(s);
        t = (void *)0xaa;
        assert_int_equal(shield_store_open("sqlite:", &t, NULL), SHIELD_E_INVAL);
        assert_ptr_equal(t, (void *)0xaa);
}

static const uint8_t ak_a[6] = { 0, 4, 'a', 'k', '-', 'a' }, ak_b[6] = { 0, 4, 'a', 'k', '-', 'b' },
                     ek[5] = { 0, 3, 'e', 'k', '!' }, cert[4] = { 0x30, 0x02, 0x05, 0x00 };

static void make_record(struct shield_instance_record *r, const char *name, const uint8_t *ak, bool trusted) {
        *r = (struct shield_instance_record){ .ak_public = (uint8_t *)ak, .ak_public_len = sizeof ak_a,
                                              .ek_public = (uint8_t *)ek, .ek_public_len = sizeof ek,
                                              .ek_cert = (uint8_t *)cert, .ek_cert_len = sizeof cert,
                                              .trusted = trusted, .registered = 1700000000 };
        snprintf(r->name, sizeof r->name, "%s", name);
        memset(r->activation_hash, 0x5a, sizeof r->activation_hash);
}

static void test_register_get_trust(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_instance_record r, got;
        struct shield_diag diag = { 0 };
        uint8_t zero[32] = { 0 };

        memset(&got, 0xaa, sizeof got);
        assert_int_equal(shield_store_instance_get(s, "vm-reg", &got, &diag), SHIELD_E_NOT_FOUND);
        assert_int_equal((unsigned char)got.name[0], 0xaa); /* untouched on failure */
        assert_int_equal(shield_store_instance_set_trusted(s, "vm-reg", NULL), SHIELD_E_NOT_FOUND);

        make_record(&r, "vm-reg", ak_a, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), 0);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), 1); /* the same AK again */
        make_record(&r, "vm-reg", ak_b, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        assert_non_null(strstr(diag.msg, "exists"));

        assert_int_equal(shield_store_instance_get(s, "vm-reg", &got, &diag), 0);
        assert_string_equal(got.name, "vm-reg");
        assert_int_equal(got.ak_public_len, sizeof ak_a);
        assert_memory_equal(got.ak_public, ak_a, sizeof ak_a);
        assert_int_equal(got.ek_public_len, sizeof ek);
        assert_memory_equal(got.ek_public, ek, sizeof ek);
        assert_int_equal(got.ek_cert_len, sizeof cert);
        assert_memory_equal(got.ek_cert, cert, sizeof cert);
        assert_null(got.ak_cert);
        assert_int_equal(got.ak_cert_len, 0);
        assert_false(got.trusted);
        assert_memory_equal(got.activation_hash, r.activation_hash, 32);
        assert_int_equal(got.registered, 1700000000);
        assert_int_equal(got.last_attestation, 0);
        assert_int_equal(got.colour, -1);
        assert_int_equal(got.early, -1);
        assert_int_equal(got.late, -1);
        assert_false(got.last_verified);
        assert_null(got.last_pcrs_json);
        assert_null(got.last_reasons_json);
        shield_store_instance_record_clear(&got);
        assert_null(got.ak_public);
        shield_store_instance_record_clear(NULL);

        /* The AK is the one shield_store_instance_get_ak sees too. */
        uint8_t *ak = NULL;
        size_t ak_len = 0;
        assert_int_equal(shield_store_instance_get_ak(s, "vm-reg", &ak, &ak_len, NULL), 0);
        assert_int_equal(ak_len, sizeof ak_a);
        free(ak);

        assert_int_equal(shield_store_instance_set_trusted(s, "vm-reg", &diag), 0);
        assert_int_equal(shield_store_instance_get(s, "vm-reg", &got, &diag), 0);
        assert_true(got.trusted);
        assert_memory_equal(got.activation_hash, zero, 32); /* forgotten once trusted */
        shield_store_instance_record_clear(&got);

        /* Trusted at once (AK certificate): no activation hash kept. */
        make_record(&r, "vm-reg-ca", ak_b, true);
        r.ak_cert = (uint8_t *)cert;
        r.ak_cert_len = sizeof cert;
        r.registered = 0; /* now */
        assert_int_equal(shield_store_instance_register(s, &r, &diag), 0);
        assert_int_equal(shield_store_instance_get(s, "vm-reg-ca", &got, &diag), 0);
        assert_true(got.trusted);
        assert_memory_equal(got.activation_hash, zero, 32);
        assert_int_equal(got.ak_cert_len, sizeof cert);
        assert_true(got.registered > 1700000000);
        shield_store_instance_record_clear(&got);

        /* A row the CLI made (golden, no AK) is claimed; one the CLI pinned to another AK is not. */
        struct shield_golden *g = make_golden("grubx64.efi");
        assert_int_equal(shield_store_golden_set(s, "vm-reg-cli", g, NULL), 0);
        shield_golden_free(g);
        make_record(&r, "vm-reg-cli", ak_a, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), 0);
        assert_int_equal(shield_store_instance_set_ak(s, "vm-reg-pinned", ak_a, sizeof ak_a, NULL), 0);
        make_record(&r, "vm-reg-pinned", ak_b, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        make_record(&r, "vm-reg-pinned", ak_a, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), 0);

        /* Bad records. */
        make_record(&r, "vm-reg-bad", ak_a, false);
        r.ak_public = NULL;
        r.ak_public_len = 0;
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        make_record(&r, "vm-reg-bad", ak_a, false);
        r.ek_cert_len = SHIELD_STORE_CERT_MAX + 1;
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_LIMIT);
        make_record(&r, "bad\tname", ak_a, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        make_record(&r, "", ak_a, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        memset(r.name, 'x', sizeof r.name); /* not terminated */
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_instance_get(s, "vm-reg-bad", &got, NULL), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_store_instance_register(s, NULL, NULL), SHIELD_E_INVAL);
        shield_store_close(s);
}

static void test_status_and_list(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_instance_record r, got;
        struct shield_diag diag = { 0 };
        char *json = NULL;

        assert_int_equal(shield_store_instance_status(s, "vm-list-a", 5, true, 0, 0, 0, NULL, NULL, &diag),
                         SHIELD_E_NOT_FOUND);
        make_record(&r, "vm-list-a", ak_a, true);
        assert_int_equal(shield_store_instance_register(s, &r, NULL), 0);
        make_record(&r, "vm-list-b", ak_b, false);
        assert_int_equal(shield_store_instance_register(s, &r, NULL), 0);

        assert_int_equal(list_json(s, &json, &diag), 0);
        assert_non_null(strstr(json, "{\"name\":\"vm-list-a\",\"trusted\":true,\"colour\":null,\"early_boot\":null,"
                                     "\"late_boot\":null,\"last_attestation\":null}"));
        assert_true(strstr(json, "\"vm-list-a\"") < strstr(json, "\"vm-list-b\""));
        free(json);

        assert_int_equal(shield_store_instance_status(s, "vm-list-a", 1700000500, true, SHIELD_YELLOW, SHIELD_GREEN,
                                                      SHIELD_YELLOW, "{\"sha256\":{}}", "[{\"code\":\"x\"}]", &diag),
                         0);
        assert_int_equal(shield_store_instance_status(s, "vm-list-b", 1700000600, false, -1, -1, -1, NULL, NULL, &diag), 0);
        assert_int_equal(shield_store_instance_status(s, "vm-list-b", 1, false, 3, 0, 0, NULL, NULL, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_instance_status(s, "vm-list-b", 1, false, 0, -2, 0, NULL, NULL, &diag), SHIELD_E_INVAL);

        assert_int_equal(list_json(s, &json, &diag), 0);
        assert_non_null(strstr(json, "{\"name\":\"vm-list-a\",\"trusted\":true,\"colour\":\"yellow\",\"early_boot\":\"green\","
                                     "\"late_boot\":\"yellow\",\"last_attestation\":1700000500}"));
        assert_non_null(strstr(json, "{\"name\":\"vm-list-b\",\"trusted\":false,\"colour\":null,\"early_boot\":null,"
                                     "\"late_boot\":null,\"last_attestation\":1700000600}"));
        free(json);

        assert_int_equal(shield_store_instance_get(s, "vm-list-a", &got, &diag), 0);
        assert_int_equal(got.last_attestation, 1700000500);
        assert_true(got.last_verified);
        assert_int_equal(got.colour, SHIELD_YELLOW);
        assert_int_equal(got.early, SHIELD_GREEN);
        assert_int_equal(got.late, SHIELD_YELLOW);
        assert_string_equal(got.last_pcrs_json, "{\"sha256\":{}}");
        assert_string_equal(got.last_reasons_json, "[{\"code\":\"x\"}]");
        shield_store_instance_record_clear(&got);
        assert_int_equal(shield_store_instance_get(s, "vm-list-b", &got, &diag), 0);
        assert_int_equal(got.last_attestation, 1700000600);
        assert_false(got.last_verified);
        assert_int_equal(got.colour, -1);
        shield_store_instance_record_clear(&got);
        shield_store_close(s);
}

static void test_delete_cascades(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_instance_record r, got;
        struct shield_golden *g = make_golden("grubx64.efi"), *gg = NULL;
        const uint8_t nonce[32] = { 0xde, 0x1e };
        char *json = NULL;

        make_record(&r, "vm-del", ak_a, true);
        assert_int_equal(shield_store_instance_register(s, &r, NULL), 0);
        assert_int_equal(shield_store_golden_set(s, "vm-del", g, NULL), 0);
        add_verdict(s, "vm-del", 100, SHIELD_RED, "ab");
        assert_int_equal(shield_store_challenge_add(s, "vm-del", nonce, sizeof nonce, 1000, NULL), 0);
        add_verdict(s, "vm-keep", 100, SHIELD_GREEN, NULL);

        assert_int_equal(shield_store_instance_delete(s, "vm-del", NULL), 0);
        assert_int_equal(shield_store_instance_get(s, "vm-del", &got, NULL), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_store_golden_get(s, "vm-del", &gg, NULL), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_history_text(s, "vm-del", 10, &json, NULL), 0);
        assert_string_equal(json, "[]");
        free(json);
        assert_int_equal(shield_store_instance_delete(s, "vm-del", NULL), SHIELD_E_NOT_FOUND);

        /* Its challenge went with it: registered again, the old nonce is unknown (and can be issued anew). */
        assert_int_equal(shield_store_instance_register(s, &r, NULL), 0);
        assert_int_equal(shield_store_challenge_take(s, "vm-del", nonce, sizeof nonce, 10, NULL), SHIELD_E_VERIFY);
        assert_int_equal(shield_store_challenge_add(s, "vm-del", nonce, sizeof nonce, 1000, NULL), 0);

        /* Other instances are untouched. */
        assert_int_equal(shield_history_text(s, "vm-keep", 10, &json, NULL), 0);
        assert_non_null(strstr(json, "\"time\": 100"));
        free(json);
        assert_int_equal(shield_store_instance_delete(s, "", NULL), SHIELD_E_INVAL);
        shield_golden_free(g);
        shield_store_close(s);
}

static void test_challenges(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_instance_record r;
        struct shield_diag diag = { 0 };
        const uint8_t n1[32] = { 1 }, n2[32] = { 2 }, n3[32] = { 3 }, n4[32] = { 4 }, n5[32] = { 5 };

        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n1, sizeof n1, 1000, &diag), SHIELD_E_NOT_FOUND);
        make_record(&r, "vm-ch", ak_a, true);
        assert_int_equal(shield_store_instance_register(s, &r, NULL), 0);
        make_record(&r, "vm-ch-other", ak_b, true);
        assert_int_equal(shield_store_instance_register(s, &r, NULL), 0);

        /* The first take on this handle purges expired challenges: n5 expired at 50. */
        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n5, sizeof n5, 50, &diag), 0);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n4, sizeof n4, 100, &diag), SHIELD_E_VERIFY);
        assert_non_null(strstr(diag.msg, "vm-ch"));
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n5, sizeof n5, 40, &diag), SHIELD_E_VERIFY);

        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n1, sizeof n1, 1000, &diag), 0);
        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n1, sizeof n1, 1000, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_challenge_add(s, "vm-ch-other", n1, sizeof n1, 1000, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n2, sizeof n2, 1000, &diag), 0);
        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n3, sizeof n3, 1000, &diag), 0);

        /* Another instance's nonce, a prefix of it, after expiry: refused and not spent. */
        assert_int_equal(shield_store_challenge_take(s, "vm-ch-other", n1, sizeof n1, 999, &diag), SHIELD_E_VERIFY);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n1, 16, 999, &diag), SHIELD_E_VERIFY);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n1, sizeof n1, 1001, &diag), SHIELD_E_VERIFY);
        /* Valid through its expiry second, then spent. */
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n1, sizeof n1, 1000, &diag), 0);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n1, sizeof n1, 1000, &diag), SHIELD_E_VERIFY);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n2, sizeof n2, 10, &diag), 0);

        /* Another handle (another process) sees the same challenges. */
        struct shield_store *t = open_ok();
        assert_int_equal(shield_store_challenge_take(t, "vm-ch", n2, sizeof n2, 10, &diag), SHIELD_E_VERIFY);
        assert_int_equal(shield_store_challenge_take(t, "vm-ch", n3, sizeof n3, 10, &diag), 0);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n3, sizeof n3, 10, &diag), SHIELD_E_VERIFY);
        shield_store_close(t);

        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n1, 0, 1000, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_challenge_add(s, "vm-ch", n1, 65, 1000, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_challenge_add(s, "vm-ch", NULL, 32, 1000, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_challenge_take(s, "vm-ch", n1, 0, 1000, &diag), SHIELD_E_INVAL);
        assert_int_equal(shield_store_challenge_take(s, "a\x7f", n1, sizeof n1, 1000, &diag), SHIELD_E_INVAL);
        shield_store_close(s);
}

static void test_signing_keys(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        struct shield_signing_key k = { .kid = "k-old", .alg = "ES256", .created = 1000, .not_after = 2000 },
                                  *got = (void *)0xaa;
        struct shield_diag diag = { 0 };
        char pem_old[] = "-----BEGIN PRIVATE KEY-----\nold\n-----END PRIVATE KEY-----\n",
             pem_new[] = "-----BEGIN PRIVATE KEY-----\nnew\n-----END PRIVATE KEY-----\n";
        size_t n = 99;

        assert_int_equal(shield_store_keys(s, 0, &got, &n, &diag), 0);
        assert_non_null(got);
        assert_int_equal(n, 0);
        free(got);

        k.private_pem = pem_old;
        assert_int_equal(shield_store_key_add(s, &k, &diag), 0);
        assert_int_equal(shield_store_key_add(s, &k, &diag), SHIELD_E_INVAL);
        assert_non_null(strstr(diag.msg, "exists"));
        struct shield_signing_key k2 = { .kid = "k-new", .alg = "RS256", .created = 1500, .not_after = 3000,
                                         .private_pem = pem_new };
        assert_int_equal(shield_store_key_add(s, &k2, &diag), 0);

        assert_int_equal(shield_store_keys(s, 1999, &got, &n, &diag), 0);
        assert_int_equal(n, 2);
        assert_string_equal(got[0].kid, "k-new");
        assert_string_equal(got[0].alg, "RS256");
        assert_string_equal(got[0].private_pem, pem_new);
        assert_int_equal(got[0].created, 1500);
        assert_int_equal(got[0].not_after, 3000);
        assert_string_equal(got[1].kid, "k-old");
        assert_string_equal(got[1].private_pem, pem_old);
        for (size_t i = 0; i < n; i++)
                shield_signing_key_clear(&got[i]);
        assert_null(got[0].private_pem);
        free(got);

        assert_int_equal(shield_store_keys(s, 2000, &got, &n, &diag), 0); /* not_after > since */
        assert_int_equal(n, 1);
        assert_string_equal(got[0].kid, "k-new");
        shield_signing_key_clear(&got[0]);
        free(got);
        shield_signing_key_clear(NULL);

        struct shield_signing_key bad = k2;
        memcpy(bad.kid, "k-bad", 6);
        memcpy(bad.alg, "HS256", 6);
        assert_int_equal(shield_store_key_add(s, &bad, &diag), SHIELD_E_INVAL);
        memcpy(bad.alg, "ES256", 6);
        bad.private_pem = NULL;
        assert_int_equal(shield_store_key_add(s, &bad, &diag), SHIELD_E_INVAL);
        bad.private_pem = pem_new;
        bad.kid[0] = '\0';
        assert_int_equal(shield_store_key_add(s, &bad, &diag), SHIELD_E_INVAL);
        memset(bad.kid, 'k', sizeof bad.kid); /* not terminated */
        assert_int_equal(shield_store_key_add(s, &bad, &diag), SHIELD_E_INVAL);
        shield_store_close(s);
}

static void test_admin_hash(void **state) {
        (void)state;
        struct shield_store *s = open_ok();
        uint8_t h[32], got[32];
        struct shield_diag diag = { 0 };

        memset(got, 0xaa, sizeof got);
        assert_int_equal(shield_store_admin_hash_get(s, got, &diag), SHIELD_E_NOT_FOUND);
        for (size_t i = 0; i < sizeof got; i++)
                assert_int_equal(got[i], 0xaa);
        memset(h, 0x11, sizeof h);
        h[31] = 0; /* a zero byte survives */
        assert_int_equal(shield_store_admin_hash_set(s, h, &diag), 0);
        assert_int_equal(shield_store_admin_hash_get(s, got, &diag), 0);
        assert_memory_equal(got, h, sizeof h);
        memset(h, 0x22, sizeof h);
        assert_int_equal(shield_store_admin_hash_set(s, h, &diag), 0);
        struct shield_store *t = open_ok();
        assert_int_equal(shield_store_admin_hash_get(t, got, &diag), 0);
        assert_memory_equal(got, h, sizeof h);
        shield_store_close(t);
        shield_store_close(s);
}

/*
 * A file made by an earlier build (schema version 2, as the released
 * migrations wrote it) is migrated forward on open and keeps its records.
 */
static void test_migrate_from_version_2(void **state) {
        (void)state;
        if (on_postgresql)
                skip();
        static const char v2[] =
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL, applied INTEGER NOT NULL);"
                "CREATE TABLE instances (name TEXT PRIMARY KEY NOT NULL, created INTEGER NOT NULL, ak_public BLOB);"
                "CREATE TABLE goldens (instance TEXT PRIMARY KEY NOT NULL REFERENCES instances(name), golden TEXT NOT NULL,"
                " recorded INTEGER NOT NULL);"
                "CREATE TABLE verdicts (id INTEGER PRIMARY KEY AUTOINCREMENT, instance TEXT NOT NULL REFERENCES instances(name),"
                " time INTEGER NOT NULL, colour TEXT NOT NULL, early TEXT NOT NULL, late TEXT NOT NULL, reasons TEXT NOT NULL,"
                " evidence_sha256 TEXT);"
                "CREATE INDEX verdicts_by_instance ON verdicts(instance, id);"
                "CREATE TABLE nonces (nonce BLOB PRIMARY KEY NOT NULL, used INTEGER NOT NULL);"
                "ALTER TABLE instances ADD COLUMN reset_count INTEGER;"
                "ALTER TABLE instances ADD COLUMN restart_count INTEGER;"
                "ALTER TABLE instances ADD COLUMN clock INTEGER;"
                "INSERT INTO schema_version VALUES (1, 1), (2, 2);"
                "INSERT INTO instances (name, created, ak_public, reset_count, restart_count, clock)"
                " VALUES ('vm-old', 1600000000, x'000461626364', 3, 1, 12345);"
                "INSERT INTO verdicts (instance, time, colour, early, late, reasons) VALUES"
                " ('vm-old', 1600000001, 'green', 'green', 'green', '[]');";
        char path[300], cmd[700];
        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        char *json = NULL;
        int v = 0;

        snprintf(path, sizeof path, "%s/v2.db", dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, v2, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);

        assert_int_equal(shield_store_open(path, &s, &diag), 0);
        assert_int_equal(shield_store_schema_version(s, &v, NULL), 0);
        assert_int_equal(v, EXPECTED_SCHEMA_VERSION);
        assert_int_equal(shield_history_text(s, "vm-old", 5, &json, NULL), 0);
        assert_non_null(strstr(json, "\"time\": 1600000001"));
        free(json);
        struct shield_store_clock now = { 3, 2, 20000 }, prev = { 0 };
        bool had = false;
        assert_int_equal(shield_store_instance_clock(s, "vm-old", &now, &prev, &had, NULL), 0);
        assert_true(had);
        assert_int_equal(prev.clock, 12345);
        /* The AK pinned by the CLI: registering it claims the row; another AK is refused. */
        struct shield_instance_record r;
        make_record(&r, "vm-old", ak_b, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), SHIELD_E_INVAL);
        static const uint8_t old_ak[6] = { 0, 4, 'a', 'b', 'c', 'd' };
        make_record(&r, "vm-old", old_ak, false);
        assert_int_equal(shield_store_instance_register(s, &r, &diag), 0);
        shield_store_close(s);

        /* A file from a newer build is refused. */
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 3)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        s = (void *)0xaa;
        assert_int_equal(shield_store_open(path, &s, &diag), SHIELD_E_UNSUPPORTED);
        assert_ptr_equal(s, (void *)0xaa);
        assert_non_null(strstr(diag.msg, "newer"));
        snprintf(cmd, sizeof cmd, "rm -f '%s'*", path);
        assert_int_equal(system(cmd), 0);
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
                cmocka_unit_test(test_file_modes),
                cmocka_unit_test(test_schema_version_and_names),
                cmocka_unit_test(test_register_get_trust),
                cmocka_unit_test(test_status_and_list),
                cmocka_unit_test(test_delete_cascades),
                cmocka_unit_test(test_challenges),
                cmocka_unit_test(test_signing_keys),
                cmocka_unit_test(test_admin_hash),
                cmocka_unit_test(test_migrate_from_version_2),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
