/* SPDX-License-Identifier: Apache-2.0 */
/* The verifier's store on SQLite: prepared statements only, one transaction per write. */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "shield/store.h"
#include "shield/util.h"

struct shield_store {
        sqlite3 *db;
};

/*
 * Numbered migrations: entry i brings the schema from version i to i + 1.
 * Applied in one transaction with the row in schema_version; never edit a
 * released entry, append a new one.
 */
static const char *const migrations[] = {
        "CREATE TABLE instances (\n"
        "  name TEXT PRIMARY KEY NOT NULL,\n"
        "  created INTEGER NOT NULL,\n"
        "  ak_public BLOB\n"
        ");\n"
        "CREATE TABLE goldens (\n"
        "  instance TEXT PRIMARY KEY NOT NULL REFERENCES instances(name),\n"
        "  golden TEXT NOT NULL,\n"
        "  recorded INTEGER NOT NULL\n"
        ");\n"
        "CREATE TABLE verdicts (\n"
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "  instance TEXT NOT NULL REFERENCES instances(name),\n"
        "  time INTEGER NOT NULL,\n"
        "  colour TEXT NOT NULL,\n"
        "  early TEXT NOT NULL,\n"
        "  late TEXT NOT NULL,\n"
        "  reasons TEXT NOT NULL,\n"
        "  evidence_sha256 TEXT\n"
        ");\n"
        "CREATE INDEX verdicts_by_instance ON verdicts(instance, id);\n"
        "CREATE TABLE nonces (\n"
        "  nonce BLOB PRIMARY KEY NOT NULL,\n"
        "  used INTEGER NOT NULL\n"
        ");\n",
        /* 2: the quote's clock of the last attestation, to recognise reboots. */
        "ALTER TABLE instances ADD COLUMN reset_count INTEGER;\n"
        "ALTER TABLE instances ADD COLUMN restart_count INTEGER;\n"
        "ALTER TABLE instances ADD COLUMN clock INTEGER;\n",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static int db_fail(struct shield_store *s, struct shield_diag *diag, const char *what) {
        return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int prepare(struct shield_store *s, const char *sql, sqlite3_stmt **ret, struct shield_diag *diag) {
        if (sqlite3_prepare_v2(s->db, sql, -1, ret, NULL) != SQLITE_OK) {
                *ret = NULL;
                return db_fail(s, diag, "prepare");
        }
        return 0;
}

/* Run one fixed statement that takes no parameters (transaction control, pragmas). */
static int exec_fixed(struct shield_store *s, const char *sql, struct shield_diag *diag) {
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return db_fail(s, diag, sql);
        return 0;
}

static void rollback(struct shield_store *s) {
        if (!sqlite3_get_autocommit(s->db))
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int check_name(const char *instance, struct shield_diag *diag) {
        if (!instance || !*instance)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "an instance name is required");
        size_t n = strlen(instance);
        if (n > SHIELD_STORE_NAME_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "instance name of %zu bytes, over %d", n,
                                        SHIELD_STORE_NAME_MAX);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)instance[i] < 0x20 || instance[i] == 0x7f)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, i, -1,
                                                "instance name has a control character at byte %zu", i);
        return 0;
}

char *shield_store_default_path(void) {
        const char *env = getenv("SHIELD_STORE"), *state = getenv("SHIELD_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME"),
                   *home = getenv("HOME");
        char *p = NULL;

        if (env && *env)
                return strdup(env);
        /* Beside the local platform's images and instances when that has its own place. */
        if (state && *state)
                return asprintf(&p, "%s/shield.db", state) < 0 ? NULL : p;
        if (xdg && *xdg && xdg[0] == '/')
                return asprintf(&p, "%s/shieldkit/shield.db", xdg) < 0 ? NULL : p;
        if (home && *home)
                return asprintf(&p, "%s/.local/state/shieldkit/shield.db", home) < 0 ? NULL : p;
        return NULL;
}

/* mkdir -p of path's directory, mode 0700 for what is made. */
static int make_parents(const char *path, struct shield_diag *diag) {
        char *dir = strdup(path);
        int r = 0;
        if (!dir)
                return SHIELD_E_NOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                for (char *p = dir + 1; *p; p++) {
                        if (*p != '/')
                                continue;
                        *p = '\0';
                        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: mkdir %s: %s", dir, strerror(errno));
                                goto out;
                        }
                        *p = '/';
                }
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: mkdir %s: %s", dir, strerror(errno));
        }
out:
        free(dir);
        return r;
}

static int migrate(struct shield_store *s, struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r, version = 0;

        if ((r = exec_fixed(s, "BEGIN IMMEDIATE", diag)) < 0)
                return r;
        if ((r = exec_fixed(s,
                            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL, applied INTEGER NOT NULL)",
                            diag)) < 0)
                goto out;
        if ((r = prepare(s, "SELECT coalesce(max(version), 0) FROM schema_version", &st, diag)) < 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = db_fail(s, diag, "reading the schema version");
                goto out;
        }
        version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (version > SCHEMA_VERSION) {
                r = shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                     "store: schema version %d is newer than this build's %d", version, SCHEMA_VERSION);
                goto out;
        }
        for (; version < SCHEMA_VERSION; version++) {
                if ((r = exec_fixed(s, migrations[version], diag)) < 0)
                        goto out;
                if ((r = prepare(s, "INSERT INTO schema_version (version, applied) VALUES (?, ?)", &st, diag)) < 0)
                        goto out;
                sqlite3_bind_int(st, 1, version + 1);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
                if (sqlite3_step(st) != SQLITE_DONE) {
                        r = db_fail(s, diag, "recording the schema version");
                        goto out;
                }
                sqlite3_finalize(st);
                st = NULL;
        }
        r = exec_fixed(s, "COMMIT", diag);
out:
        sqlite3_finalize(st);
        if (r < 0)
                rollback(s);
        return r;
}

int shield_store_open(const char *path, struct shield_store **ret, struct shield_diag *diag) {
        struct shield_store *s;
        int r;

        if (!path || !*path || !ret)
                return SHIELD_E_INVAL;
        if ((r = make_parents(path, diag)) < 0)
                return r;
        s = calloc(1, sizeof *s);
        if (!s)
                return SHIELD_E_NOMEM;
        if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK) {
                r = s->db ? db_fail(s, diag, path)
                          : shield_diag_fail(diag, SHIELD_E_NOMEM, 0, -1, "store: %s: out of memory", path);
                goto fail;
        }
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, SHIELD_STORE_BUSY_TIMEOUT_MS);
        if ((r = exec_fixed(s, "PRAGMA journal_mode=WAL", diag)) < 0 ||
            (r = exec_fixed(s, "PRAGMA foreign_keys=ON", diag)) < 0 ||
            (r = exec_fixed(s, "PRAGMA synchronous=NORMAL", diag)) < 0 || (r = migrate(s, diag)) < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        shield_store_close(s);
        return r;
}

void shield_store_close(struct shield_store *s) {
        if (!s)
                return;
        sqlite3_close_v2(s->db);
        free(s);
}

/* Inside a transaction: make the instance's row when it has none. */
static int ensure_instance(struct shield_store *s, const char *instance, struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r = prepare(s, "INSERT INTO instances (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", &st, diag);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
        r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, diag, "adding the instance");
        sqlite3_finalize(st);
        return r;
}

int shield_store_golden_get(struct shield_store *s, const char *instance, struct shield_golden **ret,
                            struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s || !ret)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = prepare(s, "SELECT golden FROM goldens WHERE instance = ?", &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no golden measurement for instance \"%s\"", instance);
        } else if (step != SQLITE_ROW) {
                r = db_fail(s, diag, "reading the golden measurement");
        } else {
                const char *text = (const char *)sqlite3_column_text(st, 0);
                int len = sqlite3_column_bytes(st, 0);
                struct shield_diag pd = { 0 };
                r = text ? shield_golden_parse_json(text, (size_t)len, ret, &pd) : SHIELD_E_FORMAT;
                if (r < 0)
                        shield_diag_fail(diag, r, pd.offset, pd.index, "the stored golden measurement of \"%s\": %s",
                                         instance, pd.msg);
        }
        sqlite3_finalize(st);
        return r;
}

int shield_store_golden_set(struct shield_store *s, const char *instance, const struct shield_golden *g,
                            struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        char *json = NULL;
        int r;

        if (!s || !g)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = shield_golden_to_json(g, &json)) < 0)
                return r;
        if ((r = exec_fixed(s, "BEGIN IMMEDIATE", diag)) < 0)
                goto out;
        if ((r = ensure_instance(s, instance, diag)) < 0 ||
            (r = prepare(s,
                         "INSERT INTO goldens (instance, golden, recorded) VALUES (?, ?, ?) "
                         "ON CONFLICT (instance) DO UPDATE SET golden = excluded.golden, recorded = excluded.recorded",
                         &st, diag)) < 0)
                goto out;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
        if (sqlite3_step(st) != SQLITE_DONE) {
                r = db_fail(s, diag, "recording the golden measurement");
                goto out;
        }
        r = exec_fixed(s, "COMMIT", diag);
out:
        sqlite3_finalize(st);
        if (r < 0)
                rollback(s);
        free(json);
        return r;
}

int shield_store_golden_reset(struct shield_store *s, const char *instance, struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = prepare(s, "DELETE FROM goldens WHERE instance = ?", &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = db_fail(s, diag, "forgetting the golden measurement");
        else if (sqlite3_changes(s->db) == 0)
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no golden measurement for instance \"%s\"", instance);
        sqlite3_finalize(st);
        return r;
}

static json_t *reasons_json(const struct shield_reasons *list) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < list->n; i++) {
                const struct shield_reason *x = &list->items[i];
                const char *bank = x->bank ? shield_hash_name(x->bank) : NULL;
                json_t *o = json_object();
                if (!o || json_array_append_new(a, o) ||
                    json_object_set_new(o, "code", json_string(x->code ? x->code : "")) ||
                    json_object_set_new(o, "severity", json_string(shield_severity_name(x->severity))) ||
                    json_object_set_new(o, "bank", bank ? json_string(bank) : json_null()) ||
                    json_object_set_new(o, "pcr", x->pcr >= 0 ? json_integer(x->pcr) : json_null()) ||
                    json_object_set_new(o, "event", x->event_index >= 0 ? json_integer(x->event_index) : json_null()) ||
                    json_object_set_new(o, "message", json_string(x->message))) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int shield_store_verdict_add(struct shield_store *s, const char *instance, int64_t unix_time,
                             const struct shield_integrity_verdict *v, const char *evidence_sha256,
                             struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        char *reasons = NULL;
        int r;

        if (!s || !v)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        json_t *a = reasons_json(&v->reasons);
        reasons = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (!reasons)
                return SHIELD_E_NOMEM;
        if ((r = exec_fixed(s, "BEGIN IMMEDIATE", diag)) < 0)
                goto out;
        if ((r = ensure_instance(s, instance, diag)) < 0 ||
            (r = prepare(s,
                         "INSERT INTO verdicts (instance, time, colour, early, late, reasons, evidence_sha256) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         &st, diag)) < 0)
                goto out;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)unix_time);
        sqlite3_bind_text(st, 3, shield_colour_name(v->colour), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, shield_colour_name(v->early), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, shield_colour_name(v->late), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, reasons, -1, SQLITE_STATIC);
        if (evidence_sha256 && *evidence_sha256)
                sqlite3_bind_text(st, 7, evidence_sha256, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 7);
        if (sqlite3_step(st) != SQLITE_DONE) {
                r = db_fail(s, diag, "recording the verdict");
                goto out;
        }
        r = exec_fixed(s, "COMMIT", diag);
out:
        sqlite3_finalize(st);
        if (r < 0)
                rollback(s);
        free(reasons);
        return r;
}

static json_t *column_string_or_null(sqlite3_stmt *st, int col) {
        const char *t = (const char *)sqlite3_column_text(st, col);
        return t ? json_string(t) : json_null();
}

int shield_store_history(struct shield_store *s, const char *instance, size_t max, char **ret_json,
                         struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        json_t *a = NULL;
        int r, step;

        if (!s || !ret_json)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if (max > SHIELD_STORE_HISTORY_MAX)
                max = SHIELD_STORE_HISTORY_MAX;
        if ((r = prepare(s,
                         "SELECT time, colour, early, late, evidence_sha256, reasons FROM verdicts "
                         "WHERE instance = ? ORDER BY id DESC LIMIT ?",
                         &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        a = json_array();
        r = SHIELD_E_NOMEM;
        if (!a)
                goto out;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                const char *rt = (const char *)sqlite3_column_text(st, 5);
                json_t *reasons = rt ? json_loads(rt, 0, NULL) : NULL;
                json_t *o = json_object();
                if (!o || json_array_append_new(a, o) ||
                    json_object_set_new(o, "time", json_integer((json_int_t)sqlite3_column_int64(st, 0))) ||
                    json_object_set_new(o, "colour", column_string_or_null(st, 1)) ||
                    json_object_set_new(o, "early", column_string_or_null(st, 2)) ||
                    json_object_set_new(o, "late", column_string_or_null(st, 3)) ||
                    json_object_set_new(o, "evidence_sha256", column_string_or_null(st, 4)) ||
                    json_object_set_new(o, "reasons", reasons ? reasons : json_array()))
                        goto out;
        }
        if (step != SQLITE_DONE) {
                r = db_fail(s, diag, "reading the history");
                goto out;
        }
        *ret_json = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        r = *ret_json ? 0 : SHIELD_E_NOMEM;
out:
        sqlite3_finalize(st);
        json_decref(a);
        return r;
}

int shield_store_nonce_use(struct shield_store *s, const uint8_t *nonce, size_t len, int64_t unix_time,
                           struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s || !nonce || len == 0 || len > 64)
                return SHIELD_E_INVAL;
        if ((r = prepare(s, "INSERT INTO nonces (nonce, used) VALUES (?, ?)", &st, diag)) < 0)
                return r;
        sqlite3_bind_blob(st, 1, nonce, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)unix_time);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
                r = 0;
        else if ((step & 0xff) == SQLITE_CONSTRAINT)
                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1, "the nonce was used before (a replayed quote)");
        else
                r = db_fail(s, diag, "spending the nonce");
        sqlite3_finalize(st);
        return r;
}

int shield_store_instance_set_ak(struct shield_store *s, const char *instance, const uint8_t *ak_public, size_t len,
                                 struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s || !ak_public || len == 0 || len > 4096)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = prepare(s,
                         "INSERT INTO instances (name, created, ak_public) VALUES (?, ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET ak_public = excluded.ak_public",
                         &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
        sqlite3_bind_blob(st, 3, ak_public, (int)len, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, diag, "recording the AK");
        sqlite3_finalize(st);
        return r;
}

int shield_store_instance_get_ak(struct shield_store *s, const char *instance, uint8_t **ret, size_t *ret_len,
                                 struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = prepare(s, "SELECT ak_public FROM instances WHERE name = ?", &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB && sqlite3_column_bytes(st, 0) > 0) {
                size_t n = (size_t)sqlite3_column_bytes(st, 0);
                uint8_t *buf = malloc(n);
                if (!buf) {
                        r = SHIELD_E_NOMEM;
                } else {
                        memcpy(buf, sqlite3_column_blob(st, 0), n);
                        *ret = buf;
                        *ret_len = n;
                }
        } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no AK recorded for instance \"%s\"", instance);
        } else {
                r = db_fail(s, diag, "reading the AK");
        }
        sqlite3_finalize(st);
        return r;
}

int shield_store_instances(struct shield_store *s, char ***ret, size_t *ret_n) {
        sqlite3_stmt *st = NULL;
        char **v = NULL;
        size_t n = 0, cap = 0;
        int r, step;

        if (!s || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if ((r = prepare(s, "SELECT name FROM instances ORDER BY name", &st, NULL)) < 0)
                return r;
        r = SHIELD_E_NOMEM;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                if (n + 1 >= cap) {
                        size_t ncap = cap ? 2 * cap : 16;
                        char **nv = realloc(v, ncap * sizeof *nv);
                        if (!nv)
                                goto out;
                        v = nv;
                        cap = ncap;
                }
                const char *name = (const char *)sqlite3_column_text(st, 0);
                if (!(v[n] = strdup(name ? name : "")))
                        goto out;
                v[++n] = NULL;
        }
        if (step != SQLITE_DONE) {
                r = SHIELD_E_SYSTEM;
                goto out;
        }
        if (!v && !(v = calloc(1, sizeof *v)))
                goto out;
        *ret = v;
        *ret_n = n;
        v = NULL;
        n = 0;
        r = 0;
out:
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
        sqlite3_finalize(st);
        return r;
}

int shield_store_instance_clock(struct shield_store *s, const char *instance, const struct shield_store_clock *now,
                                struct shield_store_clock *ret_prev, bool *ret_had_prev, struct shield_diag *diag) {
        sqlite3_stmt *st = NULL;
        int r;

        if (!s || !now || !ret_prev || !ret_had_prev)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        *ret_had_prev = false;
        if ((r = prepare(s, "SELECT reset_count, restart_count, clock FROM instances WHERE name = ?", &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
                ret_prev->reset_count = (uint32_t)sqlite3_column_int64(st, 0);
                ret_prev->restart_count = (uint32_t)sqlite3_column_int64(st, 1);
                ret_prev->clock = (uint64_t)sqlite3_column_int64(st, 2);
                *ret_had_prev = true;
        }
        sqlite3_finalize(st);
        if ((r = prepare(s,
                         "INSERT INTO instances (name, created, reset_count, restart_count, clock) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET reset_count = excluded.reset_count, "
                         "restart_count = excluded.restart_count, clock = excluded.clock",
                         &st, diag)) < 0)
                return r;
        sqlite3_bind_text(st, 1, instance, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
        sqlite3_bind_int64(st, 3, (sqlite3_int64)now->reset_count);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)now->restart_count);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)now->clock);
        r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, diag, "recording the quote clock");
        sqlite3_finalize(st);
        return r;
}
