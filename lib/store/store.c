/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's store, written once against the backend table in
 * store-internal.h: the schema and its numbered migrations, and every
 * public function of shield/store.h. Parameters are always bound; every
 * write of more than one statement is one transaction.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shield/render.h"
#include "shield/store.h"
#include "shield/util.h"
#include "store-internal.h"

/*
 * Numbered migrations: entry i brings the schema from version i to i + 1.
 * Applied in one transaction with the row in schema_version; never edit a
 * released entry, append a new one. {INT}, {BLOB} and {ID} are spelt by the
 * backend (store-internal.h); on SQLite they expand to the text of the
 * released entries exactly.
 */
static const char *const migrations[] = {
        "CREATE TABLE instances (\n"
        "  name TEXT PRIMARY KEY NOT NULL,\n"
        "  created {INT} NOT NULL,\n"
        "  ak_public {BLOB}\n"
        ");\n"
        "CREATE TABLE goldens (\n"
        "  instance TEXT PRIMARY KEY NOT NULL REFERENCES instances(name),\n"
        "  golden TEXT NOT NULL,\n"
        "  recorded {INT} NOT NULL\n"
        ");\n"
        "CREATE TABLE verdicts (\n"
        "  id {ID},\n"
        "  instance TEXT NOT NULL REFERENCES instances(name),\n"
        "  time {INT} NOT NULL,\n"
        "  colour TEXT NOT NULL,\n"
        "  early TEXT NOT NULL,\n"
        "  late TEXT NOT NULL,\n"
        "  reasons TEXT NOT NULL,\n"
        "  evidence_sha256 TEXT\n"
        ");\n"
        "CREATE INDEX verdicts_by_instance ON verdicts(instance, id);\n"
        "CREATE TABLE nonces (\n"
        "  nonce {BLOB} PRIMARY KEY NOT NULL,\n"
        "  used {INT} NOT NULL\n"
        ");\n",
        /* 2: the quote's clock of the last attestation, to recognise reboots. */
        "ALTER TABLE instances ADD COLUMN reset_count {INT};\n"
        "ALTER TABLE instances ADD COLUMN restart_count {INT};\n"
        "ALTER TABLE instances ADD COLUMN clock {INT};\n",
        /*
         * 3: the service's records (docs/API.md): registration and the last
         * attestation on the instance's row, issued challenges, token
         * signing keys, settings (the admin token's hash).
         */
        "ALTER TABLE instances ADD COLUMN registered {INT};\n"
        "ALTER TABLE instances ADD COLUMN ek_public {BLOB};\n"
        "ALTER TABLE instances ADD COLUMN ek_cert {BLOB};\n"
        "ALTER TABLE instances ADD COLUMN ak_cert {BLOB};\n"
        "ALTER TABLE instances ADD COLUMN trusted {INT} NOT NULL DEFAULT 0;\n"
        "ALTER TABLE instances ADD COLUMN activation_hash {BLOB};\n"
        "ALTER TABLE instances ADD COLUMN last_attestation {INT};\n"
        "ALTER TABLE instances ADD COLUMN last_verified {INT};\n"
        "ALTER TABLE instances ADD COLUMN last_colour {INT};\n"
        "ALTER TABLE instances ADD COLUMN last_early {INT};\n"
        "ALTER TABLE instances ADD COLUMN last_late {INT};\n"
        "ALTER TABLE instances ADD COLUMN last_pcrs TEXT;\n"
        "ALTER TABLE instances ADD COLUMN last_reasons TEXT;\n"
        "CREATE TABLE challenges (\n"
        "  nonce {BLOB} PRIMARY KEY NOT NULL,\n"
        "  instance TEXT NOT NULL REFERENCES instances(name),\n"
        "  expires {INT} NOT NULL\n"
        ");\n"
        "CREATE INDEX challenges_by_expiry ON challenges(expires);\n"
        "CREATE INDEX challenges_by_instance ON challenges(instance);\n"
        "CREATE TABLE signing_keys (\n"
        "  kid TEXT PRIMARY KEY NOT NULL,\n"
        "  alg TEXT NOT NULL,\n"
        "  private_pem TEXT NOT NULL,\n"
        "  created {INT} NOT NULL,\n"
        "  not_after {INT} NOT NULL\n"
        ");\n"
        "CREATE TABLE settings (\n"
        "  name TEXT PRIMARY KEY NOT NULL,\n"
        "  value {BLOB} NOT NULL\n"
        ");\n",
        /*
         * 4: per instance, the integrity policy that sets its colour
         * ("gce", "oci", "strict" or a PCR list; NULL: gce), and how its AK
         * came to be trusted (enum shield_ak_trust).
         */
        "ALTER TABLE instances ADD COLUMN integrity_policy TEXT;\n"
        "ALTER TABLE instances ADD COLUMN ak_trust {INT};\n",
        /*
         * 5: the instance's identity is its name and its TPM. golden_reason
         * says why the next golden is new ("new-vtpm", "migrated");
         * migrate_pending lets the next registration bring a new AK.
         */
        "ALTER TABLE instances ADD COLUMN golden_reason TEXT;\n"
        "ALTER TABLE instances ADD COLUMN migrate_pending {INT} NOT NULL DEFAULT 0;\n",
        /*
         * 6: sealed machine credentials (docs/CREDENTIALS.md). The golden's
         * own event log, to predict from; intents (what an instance must
         * boot, with the predicted PCRs); credentials (issued, sealed, and
         * revoked or not). Credentials outlive their instance: a revoked
         * serial stays on the CRL.
         */
        "ALTER TABLE goldens ADD COLUMN eventlog {BLOB};\n"
        "CREATE TABLE intents (\n"
        "  id {ID},\n"
        "  instance TEXT NOT NULL REFERENCES instances(name),\n"
        "  created {INT} NOT NULL,\n"
        "  method {INT} NOT NULL,\n"
        "  bank {INT} NOT NULL,\n"
        "  mask {INT} NOT NULL,\n"
        "  pcrs TEXT NOT NULL,\n"
        "  describe TEXT NOT NULL,\n"
        "  active {INT} NOT NULL\n"
        ");\n"
        "CREATE INDEX intents_instance ON intents (instance, active);\n"
        "CREATE TABLE credentials (\n"
        "  serial TEXT PRIMARY KEY NOT NULL,\n"
        "  instance TEXT NOT NULL,\n"
        "  intent {INT} NOT NULL,\n"
        "  method {INT} NOT NULL,\n"
        "  issued {INT} NOT NULL,\n"
        "  not_after {INT} NOT NULL,\n"
        "  policy {BLOB} NOT NULL,\n"
        "  epoch_nv {INT},\n"
        "  epoch {INT},\n"
        "  cert {BLOB} NOT NULL,\n"
        "  sealed {BLOB} NOT NULL,\n"
        "  revoked {INT}\n"
        ");\n"
        "CREATE INDEX credentials_instance ON credentials (instance);\n",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* Purge expired challenges on one take in this many (per handle). */
#define CHALLENGE_PURGE_EVERY 32


/* Run a statement to its end; *ret_changes (may be NULL) gets the rows it changed. */
static int run(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
               int64_t *ret_changes, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r = s->ops->query(s, what, sql, p, n, &q, diag);
        if (r < 0)
                return r;
        while ((r = s->ops->next(q, diag)) > 0)
                ;
        if (r == 0 && ret_changes)
                *ret_changes = s->ops->changes(q);
        s->ops->finish(q);
        return r;
}

static int begin(struct shield_store *s, struct shield_diag *diag) {
        if (s->depth) { /* inside the caller's transaction: join it */
                s->depth++;
                return 0;
        }
        return s->ops->begin(s, false, diag);
}

/* Commit when r >= 0 (and return r), else roll back; r is the transaction's outcome. */
static int end(struct shield_store *s, int r, struct shield_diag *diag) {
        if (s->depth) {
                s->depth--;
                if (r < 0)
                        s->failed = true;
                return r;
        }
        if (r >= 0) {
                int c = s->ops->commit(s, diag);
                if (c >= 0)
                        return r;
                r = c;
        }
        s->ops->rollback(s);
        return r;
}

_Static_assert(SHIELD_STORE_NAME_MAX == SHIELD_NAME_MAX, "the store keeps names of shield_name_valid's length");

static int check_name(const char *instance, struct shield_diag *diag) {
        if (!instance || !*instance)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "an instance name is required");
        if (!shield_name_valid(instance))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                        "an instance name is at most %d bytes, without control bytes or '/', "
                                        "not starting with '.'", SHIELD_NAME_MAX);
        return 0;
}

static char *dup_bytes(const void *p, size_t n) {
        char *d = malloc(n ? n : 1);
        if (d && n)
                memcpy(d, p, n);
        return d;
}

/* For the store's other files (store-internal.h). */
int store_run(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
              int64_t *ret_changes, struct shield_diag *diag) {
        return run(s, what, sql, p, n, ret_changes, diag);
}
int store_begin(struct shield_store *s, struct shield_diag *diag) {
        return begin(s, diag);
}
int store_end(struct shield_store *s, int r, struct shield_diag *diag) {
        return end(s, r, diag);
}
int store_check_name(const char *instance, struct shield_diag *diag) {
        return check_name(instance, diag);
}

/* ---- opening, migrations ---- */

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

bool shield_store_is_postgresql(const char *path) {
        return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

/* A migration with {INT}, {BLOB} and {ID} spelt for the backend; malloc'd. */
static char *expand(const struct store_ops *ops, const char *sql) {
        const struct {
                const char *key, *value;
        } map[] = { { "{INT}", ops->type_int }, { "{BLOB}", ops->type_blob }, { "{ID}", ops->type_id } };
        size_t cap = strlen(sql) + 1, n = 0;
        for (const char *c = sql; *c; c++)
                if (*c == '{')
                        cap += 64;
        char *out = malloc(cap);
        if (!out)
                return NULL;
        for (const char *c = sql; *c;) {
                bool done = false;
                for (size_t i = 0; i < sizeof map / sizeof map[0] && !done; i++) {
                        size_t kl = strlen(map[i].key), vl = strlen(map[i].value);
                        if (strncmp(c, map[i].key, kl) == 0 && vl < 64) {
                                memcpy(out + n, map[i].value, vl);
                                n += vl;
                                c += kl;
                                done = true;
                        }
                }
                if (!done)
                        out[n++] = *c++;
        }
        out[n] = '\0';
        return out;
}

static int exec_expanded(struct shield_store *s, const char *sql, struct shield_diag *diag) {
        char *x = expand(s->ops, sql);
        if (!x)
                return SHIELD_E_NOMEM;
        int r = s->ops->exec_script(s, x, diag);
        free(x);
        return r;
}

static int read_version(struct shield_store *s, int *ret, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r = s->ops->query(s, "reading the schema version", "SELECT coalesce(max(version), 0) FROM schema_version", NULL,
                              0, &q, diag);
        if (r < 0)
                return r;
        r = s->ops->next(q, diag);
        if (r > 0) {
                *ret = (int)s->ops->col_int(q, 0);
                r = 0;
        } else if (r == 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: no schema version");
        }
        s->ops->finish(q);
        return r;
}

static int migrate(struct shield_store *s, struct shield_diag *diag) {
        int r, version = 0;

        if ((r = s->ops->begin(s, true, diag)) < 0)
                return r;
        if ((r = exec_expanded(s,
                               "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL, applied {INT} NOT NULL)",
                               diag)) < 0 ||
            (r = read_version(s, &version, diag)) < 0)
                goto out;
        if (version > SCHEMA_VERSION) {
                r = shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                     "store: schema version %d is newer than this build's %d", version, SCHEMA_VERSION);
                goto out;
        }
        for (; version < SCHEMA_VERSION; version++)
                if ((r = exec_expanded(s, migrations[version], diag)) < 0 ||
                    (r = run(s, "recording the schema version", "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                             PARAMS(P_INT(version + 1), P_INT(time(NULL))), NULL, diag)) < 0)
                        goto out;
out:
        return end(s, r, diag);
}

int shield_store_open(const char *path, struct shield_store **ret, struct shield_diag *diag) {
        const struct store_ops *ops = &store_sqlite_ops;
        struct shield_store *s = NULL;
        int r;

        if (!path || !*path || !ret)
                return SHIELD_E_INVAL;
        if (shield_store_is_postgresql(path))
                ops = &store_pg_ops;
        else if (strncmp(path, "sqlite:", 7) == 0 && !(path += 7)[0])
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "store: \"sqlite:\" without a path");
        if ((r = ops->open_backend(path, &s, diag)) < 0)
                return r;
        store_fault_interpose(s);
        if ((r = migrate(s, diag)) < 0) {
                shield_store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

void shield_store_close(struct shield_store *s) {
        if (s)
                s->ops->close(s);
}

int shield_store_schema_version(struct shield_store *s, int *ret_version, struct shield_diag *diag) {
        if (!s || !ret_version)
                return SHIELD_E_INVAL;
        return read_version(s, ret_version, diag);
}

/* ---- golden, verdicts, nonces, AKs (the CLI's records) ---- */

/* Inside a transaction: make the instance's row when it has none. */
static int ensure_instance(struct shield_store *s, const char *instance, struct shield_diag *diag) {
        return run(s, "adding the instance", "INSERT INTO instances (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                   PARAMS(P_TEXT(instance), P_INT(time(NULL))), NULL, diag);
}

int shield_store_golden_get(struct shield_store *s, const char *instance, struct shield_golden **ret,
                            struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r;

        if (!s || !ret)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "reading the golden measurement", "SELECT golden FROM goldens WHERE instance = ?",
                               PARAMS(P_TEXT(instance)), &q, diag)) < 0)
                return r;
        if ((r = s->ops->next(q, diag)) == 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no golden measurement for instance \"%s\"", instance);
        } else if (r > 0) {
                const char *text = s->ops->col_text(q, 0);
                struct shield_diag pd = { 0 };
                r = text ? shield_golden_parse_json(text, strlen(text), ret, &pd) : SHIELD_E_FORMAT;
                if (r < 0)
                        shield_diag_fail(diag, r, pd.offset, pd.index, "the stored golden measurement of \"%s\": %s",
                                         instance, pd.msg);
        }
        s->ops->finish(q);
        return r;
}

int shield_store_golden_set(struct shield_store *s, const char *instance, const struct shield_golden *g,
                            struct shield_diag *diag) {
        char *json = NULL;
        int r;

        if (!s || !g)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = shield_golden_to_json(g, &json)) < 0)
                return r;
        if ((r = begin(s, diag)) < 0)
                goto out;
        if ((r = ensure_instance(s, instance, diag)) >= 0)
                r = run(s, "recording the golden measurement",
                        "INSERT INTO goldens (instance, golden, recorded) VALUES (?, ?, ?) "
                        "ON CONFLICT (instance) DO UPDATE SET golden = excluded.golden, recorded = excluded.recorded, eventlog = NULL",
                        PARAMS(P_TEXT(instance), P_TEXT(json), P_INT(time(NULL))), NULL, diag);
        /* A new golden answers the reason one was due (new vTPM, migration). */
        if (r >= 0)
                r = run(s, "recording the golden measurement", "UPDATE instances SET golden_reason = NULL WHERE name = ?",
                        PARAMS(P_TEXT(instance)), NULL, diag);
        r = end(s, r, diag);
out:
        free(json);
        return r;
}

int shield_store_golden_reset(struct shield_store *s, const char *instance, struct shield_diag *diag) {
        int64_t changes = 0;
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = run(s, "forgetting the golden measurement", "DELETE FROM goldens WHERE instance = ?",
                     PARAMS(P_TEXT(instance)), &changes, diag)) < 0)
                return r;
        if (changes == 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no golden measurement for instance \"%s\"", instance);
        return 0;
}

int shield_store_verdict_add(struct shield_store *s, const char *instance, int64_t unix_time,
                             const struct shield_integrity_verdict *v, const char *evidence_sha256,
                             struct shield_diag *diag) {
        char *reasons = NULL;
        int r;

        if (!s || !v)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        json_t *a = shield_reasons_json(&v->reasons);
        reasons = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (!reasons)
                return SHIELD_E_NOMEM;
        if ((r = begin(s, diag)) >= 0) {
                if ((r = ensure_instance(s, instance, diag)) >= 0)
                        r = run(s, "recording the verdict",
                                "INSERT INTO verdicts (instance, time, colour, early, late, reasons, evidence_sha256) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                PARAMS(P_TEXT(instance), P_INT(unix_time), P_TEXT(shield_colour_name(v->colour)),
                                       P_TEXT(shield_colour_name(v->early)), P_TEXT(shield_colour_name(v->late)),
                                       P_TEXT(reasons), P_TEXT(evidence_sha256 && *evidence_sha256 ? evidence_sha256 : NULL)),
                                NULL, diag);
                r = end(s, r, diag);
        }
        free(reasons);
        return r;
}


void shield_verdict_rows_free(struct shield_verdict_row *rows, size_t n) {
        for (size_t i = 0; rows && i < n; i++)
                free(rows[i].reasons_json);
        free(rows);
}

static void copy_col(struct shield_store *s, struct store_rows *q, int col, char *dst, size_t n) {
        const char *t = s->ops->col_text(q, col);
        snprintf(dst, n, "%s", t ? t : "");
}

int shield_store_history_rows(struct shield_store *s, const char *instance, size_t max,
                              struct shield_verdict_row **ret, size_t *ret_n, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        struct shield_verdict_row *rows = NULL;
        size_t n = 0;
        int r;

        if (!s || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if (max > SHIELD_STORE_HISTORY_MAX)
                max = SHIELD_STORE_HISTORY_MAX;
        if ((r = s->ops->query(s, "reading the history",
                               "SELECT time, colour, early, late, evidence_sha256, reasons FROM verdicts "
                               "WHERE instance = ? ORDER BY id DESC LIMIT ?",
                               PARAMS(P_TEXT(instance), P_INT(max)), &q, diag)) < 0)
                return r;
        if (!(rows = calloc(max ? max : 1, sizeof *rows))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        while (n < max && (r = s->ops->next(q, diag)) > 0) {
                struct shield_verdict_row *v = &rows[n++];
                v->time = s->ops->col_int(q, 0);
                copy_col(s, q, 1, v->colour, sizeof v->colour);
                copy_col(s, q, 2, v->early, sizeof v->early);
                copy_col(s, q, 3, v->late, sizeof v->late);
                copy_col(s, q, 4, v->evidence_sha256, sizeof v->evidence_sha256);
                const char *rt = s->ops->col_text(q, 5);
                if (!(v->reasons_json = strdup(rt ? rt : "[]"))) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
        }
        if (r < 0)
                goto out;
        *ret = rows;
        *ret_n = n;
        rows = NULL;
        n = 0;
        r = 0;
out:
        s->ops->finish(q);
        shield_verdict_rows_free(rows, n);
        return r;
}

int shield_store_nonce_use(struct shield_store *s, const uint8_t *nonce, size_t len, int64_t unix_time,
                           struct shield_diag *diag) {
        int64_t changes = 0;
        int r;

        if (!s || !nonce || len == 0 || len > 64)
                return SHIELD_E_INVAL;
        /* One statement: of two processes spending the same nonce, exactly one inserts it. */
        if ((r = run(s, "spending the nonce", "INSERT INTO nonces (nonce, used) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
                     PARAMS(P_BLOB(nonce, len), P_INT(unix_time)), &changes, diag)) < 0)
                return r;
        if (changes == 0)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1, "the nonce was used before (a replayed quote)");
        return 0;
}

int shield_store_instance_set_ak(struct shield_store *s, const char *instance, const uint8_t *ak_public, size_t len,
                                 struct shield_diag *diag) {
        int r;

        if (!s || !ak_public || len == 0 || len > 4096)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        return run(s, "recording the AK",
                   "INSERT INTO instances (name, created, ak_public) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET ak_public = excluded.ak_public",
                   PARAMS(P_TEXT(instance), P_INT(time(NULL)), P_BLOB(ak_public, len)), NULL, diag);
}

int shield_store_instance_get_ak(struct shield_store *s, const char *instance, uint8_t **ret, size_t *ret_len,
                                 struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r;

        if (!s || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "reading the AK", "SELECT ak_public FROM instances WHERE name = ?", PARAMS(P_TEXT(instance)),
                               &q, diag)) < 0)
                return r;
        r = s->ops->next(q, diag);
        size_t n = 0;
        const uint8_t *b = r > 0 ? s->ops->col_blob(q, 0, &n) : NULL;
        if (r >= 0 && (!b || n == 0)) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no AK recorded for instance \"%s\"", instance);
        } else if (r > 0) {
                uint8_t *buf = (uint8_t *)dup_bytes(b, n);
                if (!buf) {
                        r = SHIELD_E_NOMEM;
                } else {
                        *ret = buf;
                        *ret_len = n;
                        r = 0;
                }
        }
        s->ops->finish(q);
        return r;
}

int shield_store_instances(struct shield_store *s, char ***ret, size_t *ret_n) {
        struct store_rows *q = NULL;
        char **v = NULL;
        size_t n = 0, cap = 0;
        int r;

        if (!s || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if ((r = s->ops->query(s, "listing instances", "SELECT name FROM instances ORDER BY name", NULL, 0, &q, NULL)) < 0)
                return r;
        while ((r = s->ops->next(q, NULL)) > 0) {
                if (n + 1 >= cap) {
                        size_t ncap = cap ? 2 * cap : 16;
                        char **nv = realloc(v, ncap * sizeof *nv);
                        if (!nv) {
                                r = SHIELD_E_NOMEM;
                                goto out;
                        }
                        v = nv;
                        cap = ncap;
                }
                const char *name = s->ops->col_text(q, 0);
                if (!(v[n] = strdup(name ? name : ""))) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                v[++n] = NULL;
        }
        if (r < 0)
                goto out;
        if (!v && !(v = calloc(1, sizeof *v))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        *ret = v;
        *ret_n = n;
        v = NULL;
        n = 0;
        r = 0;
out:
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
        s->ops->finish(q);
        return r;
}

int shield_store_instance_clock(struct shield_store *s, const char *instance, const struct shield_store_clock *now,
                                struct shield_store_clock *ret_prev, bool *ret_had_prev, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        struct shield_store_clock prev = { 0 };
        bool had = false;
        int r;

        if (!s || !now || !ret_prev || !ret_had_prev)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0)
                return r;
        if ((r = begin(s, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "reading the quote clock",
                               "SELECT reset_count, restart_count, clock FROM instances WHERE name = ?",
                               PARAMS(P_TEXT(instance)), &q, diag)) < 0)
                goto out;
        if ((r = s->ops->next(q, diag)) > 0 && !s->ops->is_null(q, 0)) {
                prev.reset_count = (uint32_t)s->ops->col_int(q, 0);
                prev.restart_count = (uint32_t)s->ops->col_int(q, 1);
                prev.clock = (uint64_t)s->ops->col_int(q, 2);
                had = true;
        }
        s->ops->finish(q);
        if (r < 0)
                goto out;
        r = run(s, "recording the quote clock",
                "INSERT INTO instances (name, created, reset_count, restart_count, clock) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET reset_count = excluded.reset_count, "
                "restart_count = excluded.restart_count, clock = excluded.clock",
                PARAMS(P_TEXT(instance), P_INT(time(NULL)), P_INT(now->reset_count), P_INT(now->restart_count),
                       P_INT((int64_t)now->clock)),
                NULL, diag);
out:
        if ((r = end(s, r, diag)) < 0)
                return r;
        *ret_prev = prev;
        *ret_had_prev = had;
        return 0;
}

/* ---- the service's records ---- */

void shield_store_instance_record_clear(struct shield_instance_record *r) {
        if (!r)
                return;
        free(r->ak_public);
        free(r->ek_public);
        free(r->ek_cert);
        free(r->ak_cert);
        free(r->last_pcrs_json);
        free(r->last_reasons_json);
        explicit_bzero(r->activation_hash, sizeof r->activation_hash);
        *r = (struct shield_instance_record){ .colour = -1, .early = -1, .late = -1 };
}

void shield_signing_key_clear(struct shield_signing_key *k) {
        if (!k)
                return;
        if (k->private_pem) {
                explicit_bzero(k->private_pem, strlen(k->private_pem));
                free(k->private_pem);
        }
        *k = (struct shield_signing_key){ 0 };
}

static int check_blob(const uint8_t *b, size_t n, size_t max, bool required, const char *what, struct shield_diag *diag) {
        if (!b && n)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "%s: NULL with a length", what);
        if (required && (!b || n == 0))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "%s is required", what);
        if (n > max)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%s of %zu bytes, over %zu", what, n, max);
        return 0;
}

static bool colour_ok(int c) {
        return c >= -1 && c <= SHIELD_RED;
}

int shield_store_instance_register(struct shield_store *s, const struct shield_instance_record *rec,
                                   struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int64_t changes = 0;
        int r;

        if (!s || !rec)
                return SHIELD_E_INVAL;
        if (strnlen(rec->name, sizeof rec->name) == sizeof rec->name)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "instance name is not terminated");
        if ((r = check_name(rec->name, diag)) < 0 ||
            (r = check_blob(rec->ak_public, rec->ak_public_len, SHIELD_STORE_KEY_MAX, true, "ak_public", diag)) < 0 ||
            (r = check_blob(rec->ek_public, rec->ek_public_len, SHIELD_STORE_KEY_MAX, false, "ek_public", diag)) < 0 ||
            (r = check_blob(rec->ek_cert, rec->ek_cert_len, SHIELD_STORE_CERT_MAX, false, "ek_cert", diag)) < 0 ||
            (r = check_blob(rec->ak_cert, rec->ak_cert_len, SHIELD_STORE_CERT_MAX, false, "ak_cert", diag)) < 0)
                return r;
        int64_t registered = rec->registered > 0 ? rec->registered : (int64_t)time(NULL);

        if ((r = begin(s, diag)) < 0)
                return r;
        if ((r = ensure_instance(s, rec->name, diag)) < 0)
                goto out;
        /*
         * Claim the row when no service registered it yet and no other AK was
         * pinned on it (by `shield verify --instance`). One statement, so of
         * two registrations racing on one name exactly one claims it.
         */
        if ((r = run(s, "registering the instance",
                     "UPDATE instances SET ak_public = ?, ek_public = ?, ek_cert = ?, ak_cert = ?, trusted = ?, "
                     "ak_trust = ?, integrity_policy = ?, activation_hash = ?, registered = ? "
                     "WHERE name = ? AND registered IS NULL AND (ak_public IS NULL OR ak_public = ?)",
                     PARAMS(P_BLOB(rec->ak_public, rec->ak_public_len), P_BLOB(rec->ek_public, rec->ek_public_len),
                            P_BLOB(rec->ek_cert, rec->ek_cert_len), P_BLOB(rec->ak_cert, rec->ak_cert_len),
                            P_INT(rec->trusted ? 1 : 0), P_INT(rec->ak_trust),
                            P_TEXT(rec->integrity[0] ? rec->integrity : NULL),
                            P_BLOB(rec->trusted ? NULL : rec->activation_hash, sizeof rec->activation_hash),
                            P_INT(registered), P_TEXT(rec->name), P_BLOB(rec->ak_public, rec->ak_public_len)),
                     &changes, diag)) < 0 ||
            changes == 1)
                goto out;
        /* Registered (or pinned) before: the same AK again is success, another AK is a conflict. */
        if ((r = s->ops->query(s, "registering the instance", "SELECT ak_public FROM instances WHERE name = ?",
                               PARAMS(P_TEXT(rec->name)), &q, diag)) < 0)
                goto out;
        if ((r = s->ops->next(q, diag)) > 0) {
                size_t n = 0;
                const uint8_t *b = s->ops->col_blob(q, 0, &n);
                if (b && n == rec->ak_public_len && memcmp(b, rec->ak_public, n) == 0)
                        r = 1;
                else
                        r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "instance \"%s\" exists with another AK", rec->name);
        } else if (r == 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: instance \"%s\" vanished", rec->name);
        }
        s->ops->finish(q);
out:
        return end(s, r, diag);
}

/* A blob column into a malloc'd copy (NULL for SQL NULL or empty). */
static int take_blob(struct shield_store *s, struct store_rows *q, int col, uint8_t **ret, size_t *ret_len) {
        size_t n = 0;
        const uint8_t *b = s->ops->col_blob(q, col, &n);
        *ret = NULL;
        *ret_len = 0;
        if (!b || n == 0)
                return 0;
        if (!(*ret = (uint8_t *)dup_bytes(b, n)))
                return SHIELD_E_NOMEM;
        *ret_len = n;
        return 0;
}

static int take_text(struct shield_store *s, struct store_rows *q, int col, char **ret) {
        const char *t = s->ops->col_text(q, col);
        *ret = NULL;
        if (t && !(*ret = strdup(t)))
                return SHIELD_E_NOMEM;
        return 0;
}

static int int_or(struct shield_store *s, struct store_rows *q, int col, int fallback) {
        return s->ops->is_null(q, col) ? fallback : (int)s->ops->col_int(q, col);
}

int shield_store_instance_get(struct shield_store *s, const char *name, struct shield_instance_record *ret,
                              struct shield_diag *diag) {
        struct shield_instance_record rec = { .colour = -1, .early = -1, .late = -1 };
        struct store_rows *q = NULL;
        int r;

        if (!s || !ret)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "reading the instance",
                               "SELECT ak_public, ek_public, ek_cert, ak_cert, trusted, activation_hash, "
                               "coalesce(registered, created), last_attestation, last_verified, last_colour, last_early, "
                               "last_late, last_pcrs, last_reasons, integrity_policy, ak_trust, golden_reason, migrate_pending "
                               "FROM instances WHERE name = ?",
                               PARAMS(P_TEXT(name)), &q, diag)) < 0)
                return r;
        if ((r = s->ops->next(q, diag)) == 0)
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no instance \"%s\"", name);
        if (r <= 0)
                goto out;
        memcpy(rec.name, name, strlen(name) + 1);
        size_t hn = 0;
        const uint8_t *h = s->ops->col_blob(q, 5, &hn);
        if (h && hn == sizeof rec.activation_hash)
                memcpy(rec.activation_hash, h, hn);
        rec.trusted = s->ops->col_int(q, 4) != 0;
        rec.registered = s->ops->col_int(q, 6);
        rec.last_attestation = s->ops->is_null(q, 7) ? 0 : s->ops->col_int(q, 7);
        rec.last_verified = int_or(s, q, 8, 0) != 0;
        rec.colour = int_or(s, q, 9, -1);
        rec.early = int_or(s, q, 10, -1);
        rec.late = int_or(s, q, 11, -1);
        rec.ak_trust = int_or(s, q, 15, 0);
        rec.migrate_pending = int_or(s, q, 17, 0) != 0;
        const char *why = s->ops->col_text(q, 16);
        if (why && strlen(why) < sizeof rec.golden_reason)
                memcpy(rec.golden_reason, why, strlen(why) + 1);
        const char *pol = s->ops->col_text(q, 14);
        if (pol && strlen(pol) < sizeof rec.integrity)
                memcpy(rec.integrity, pol, strlen(pol) + 1);
        if ((r = take_blob(s, q, 0, &rec.ak_public, &rec.ak_public_len)) < 0 ||
            (r = take_blob(s, q, 1, &rec.ek_public, &rec.ek_public_len)) < 0 ||
            (r = take_blob(s, q, 2, &rec.ek_cert, &rec.ek_cert_len)) < 0 ||
            (r = take_blob(s, q, 3, &rec.ak_cert, &rec.ak_cert_len)) < 0 ||
            (r = take_text(s, q, 12, &rec.last_pcrs_json)) < 0 || (r = take_text(s, q, 13, &rec.last_reasons_json)) < 0)
                goto out;
        *ret = rec;
        rec = (struct shield_instance_record){ 0 }; /* transferred */
        r = 0;
out:
        s->ops->finish(q);
        shield_store_instance_record_clear(&rec);
        return r;
}

static int update_one(struct shield_store *s, const char *name, const char *what, const char *sql,
                      const struct store_param *p, size_t n, struct shield_diag *diag) {
        int64_t changes = 0;
        int r = run(s, what, sql, p, n, &changes, diag);
        if (r < 0)
                return r;
        if (changes == 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no instance \"%s\"", name);
        return 0;
}

int shield_store_instance_set_trusted(struct shield_store *s, const char *name, struct shield_diag *diag) {
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        /* The activation secret's hash has done its work. */
        return update_one(s, name, "trusting the instance", "UPDATE instances SET trusted = 1, activation_hash = NULL WHERE name = ?",
                          PARAMS(P_TEXT(name)), diag);
}

/* An instance's intents end and its credentials are revoked (a new intent, a new TPM, a deleted instance). */
int store_credentials_end(struct shield_store *s, const char *instance, int64_t now, size_t *ret_n,
                          struct shield_diag *diag) {
        int64_t changes = 0;
        int r = store_run(s, "ending the instance's intents", "UPDATE intents SET active = 0 WHERE instance = ? AND active = 1",
                          PARAMS(P_TEXT(instance)), NULL, diag);
        if (r >= 0)
                r = store_run(s, "revoking the instance's credentials",
                              "UPDATE credentials SET revoked = ? WHERE instance = ? AND revoked IS NULL",
                              PARAMS(P_INT(now), P_TEXT(instance)), &changes, diag);
        if (r >= 0 && ret_n)
                *ret_n = (size_t)changes;
        return r < 0 ? r : 0;
}

int shield_store_instance_new_identity(struct shield_store *s, const char *name, const char *reason,
                                       struct shield_diag *diag) {
        int r;

        if (!s || !reason || !*reason || strlen(reason) >= sizeof ((struct shield_instance_record *)0)->golden_reason)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        if ((r = begin(s, diag)) < 0)
                return r;
        r = run(s, "forgetting the old TPM", "DELETE FROM goldens WHERE instance = ?", PARAMS(P_TEXT(name)), NULL, diag);
        if (r >= 0)
                r = run(s, "forgetting the old TPM", "DELETE FROM challenges WHERE instance = ?", PARAMS(P_TEXT(name)),
                        NULL, diag);
        /* What was sealed to the old TPM is dead: its intents end, its credentials are revoked. */
        if (r >= 0)
                r = store_credentials_end(s, name, time(NULL), NULL, diag);
        if (r >= 0)
                r = update_one(s, name, "forgetting the old TPM",
                               "UPDATE instances SET ak_public = NULL, ek_public = NULL, ek_cert = NULL, ak_cert = NULL, "
                               "trusted = 0, ak_trust = NULL, activation_hash = NULL, registered = NULL, "
                               "reset_count = NULL, restart_count = NULL, clock = NULL, migrate_pending = 0, "
                               "golden_reason = ? WHERE name = ?",
                               PARAMS(P_TEXT(reason), P_TEXT(name)), diag);
        return end(s, r, diag);
}

int shield_store_instance_allow_migration(struct shield_store *s, const char *name, struct shield_diag *diag) {
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        return update_one(s, name, "allowing a migration", "UPDATE instances SET migrate_pending = 1 WHERE name = ?",
                          PARAMS(P_TEXT(name)), diag);
}

int shield_store_instance_set_policy(struct shield_store *s, const char *name, const char *policy,
                                     struct shield_diag *diag) {
        int r;

        if (!s || (policy && strlen(policy) >= sizeof ((struct shield_instance_record *)0)->integrity))
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        if ((r = begin(s, diag)) < 0)
                return r;
        if ((r = ensure_instance(s, name, diag)) >= 0)
                r = update_one(s, name, "setting the integrity policy",
                               "UPDATE instances SET integrity_policy = ? WHERE name = ?",
                               PARAMS(P_TEXT(policy && *policy ? policy : NULL), P_TEXT(name)), diag);
        return end(s, r, diag);
}

int shield_store_instance_delete(struct shield_store *s, const char *name, struct shield_diag *diag) {
        static const char *const children[] = {
                "DELETE FROM challenges WHERE instance = ?",
                "DELETE FROM verdicts WHERE instance = ?",
                "DELETE FROM goldens WHERE instance = ?",
        };
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        if ((r = begin(s, diag)) < 0)
                return r;
        for (size_t i = 0; i < sizeof children / sizeof children[0] && r >= 0; i++)
                r = run(s, "deleting the instance", children[i], PARAMS(P_TEXT(name)), NULL, diag);
        /* Its credentials stay, revoked, so relying parties keep refusing them. */
        if (r >= 0)
                r = store_credentials_end(s, name, time(NULL), NULL, diag);
        if (r >= 0)
                r = run(s, "deleting the instance", "DELETE FROM intents WHERE instance = ?", PARAMS(P_TEXT(name)), NULL,
                        diag);
        if (r >= 0)
                r = update_one(s, name, "deleting the instance", "DELETE FROM instances WHERE name = ?", PARAMS(P_TEXT(name)),
                               diag);
        return end(s, r, diag);
}

int shield_store_instance_status(struct shield_store *s, const char *name, int64_t when, bool verified, int colour,
                                 int early, int late, const char *pcrs_json, const char *reasons_json,
                                 struct shield_diag *diag) {
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, diag)) < 0)
                return r;
        if (!colour_ok(colour) || !colour_ok(early) || !colour_ok(late))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a colour out of range (%d, %d, %d)", colour, early, late);
        /* -1 ("none") is kept as NULL so list and get tell it from a colour. */
        return update_one(s, name, "recording the attestation",
                          "UPDATE instances SET last_attestation = ?, last_verified = ?, "
                          "last_colour = nullif(?, -1), last_early = nullif(?, -1), last_late = nullif(?, -1), "
                          "last_pcrs = ?, last_reasons = ? WHERE name = ?",
                          PARAMS(P_INT(when), P_INT(verified ? 1 : 0), P_INT(colour), P_INT(early), P_INT(late),
                                 P_TEXT(pcrs_json), P_TEXT(reasons_json), P_TEXT(name)),
                          diag);
}


int shield_store_instance_summaries(struct shield_store *s, struct shield_instance_summary **ret, size_t *ret_n,
                                    struct shield_diag *diag) {
        struct store_rows *q = NULL;
        struct shield_instance_summary *v = NULL;
        size_t n = 0, cap = 0;
        int r;

        if (!s || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if ((r = s->ops->query(s, "listing instances",
                               "SELECT name, trusted, last_colour, last_early, last_late, last_attestation "
                               "FROM instances ORDER BY name",
                               NULL, 0, &q, diag)) < 0)
                return r;
        while ((r = s->ops->next(q, diag)) > 0) {
                if (n == cap) {
                        size_t nc = cap ? 2 * cap : 16;
                        struct shield_instance_summary *g = realloc(v, nc * sizeof *g);
                        if (!g) {
                                r = SHIELD_E_NOMEM;
                                goto out;
                        }
                        v = g;
                        cap = nc;
                }
                struct shield_instance_summary *x = &v[n++];
                memset(x, 0, sizeof *x);
                copy_col(s, q, 0, x->name, sizeof x->name);
                x->trusted = s->ops->col_int(q, 1) != 0;
                x->colour = int_or(s, q, 2, -1);
                x->early = int_or(s, q, 3, -1);
                x->late = int_or(s, q, 4, -1);
                x->last_attestation = s->ops->is_null(q, 5) ? 0 : s->ops->col_int(q, 5);
        }
        if (r < 0)
                goto out;
        if (!v && !(v = calloc(1, sizeof *v))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        *ret = v;
        *ret_n = n;
        v = NULL;
        r = 0;
out:
        s->ops->finish(q);
        free(v);
        return r;
}

static int check_nonce(const uint8_t *nonce, size_t len, struct shield_diag *diag) {
        if (!nonce || len == 0 || len > 64)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a nonce is 1 to 64 bytes, not %zu", len);
        return 0;
}

int shield_store_challenge_add(struct shield_store *s, const char *instance, const uint8_t *nonce, size_t len,
                               int64_t expires, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int64_t changes = 0;
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0 || (r = check_nonce(nonce, len, diag)) < 0)
                return r;
        if ((r = run(s, "issuing the challenge",
                     "INSERT INTO challenges (nonce, instance, expires) SELECT ?, ?, ? "
                     "WHERE EXISTS (SELECT 1 FROM instances WHERE name = ?) ON CONFLICT (nonce) DO NOTHING",
                     PARAMS(P_BLOB(nonce, len), P_TEXT(instance), P_INT(expires), P_TEXT(instance)), &changes, diag)) < 0)
                return r;
        if (changes == 1)
                return 0;
        /* Nothing inserted: tell an unknown instance from a nonce issued before. */
        if ((r = s->ops->query(s, "issuing the challenge", "SELECT 1 FROM instances WHERE name = ?", PARAMS(P_TEXT(instance)),
                               &q, diag)) < 0)
                return r;
        r = s->ops->next(q, diag);
        s->ops->finish(q);
        if (r == 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no instance \"%s\"", instance);
        if (r > 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the nonce was issued before");
        return r;
}

int shield_store_challenge_take(struct shield_store *s, const char *instance, const uint8_t *nonce, size_t len,
                                int64_t now, struct shield_diag *diag) {
        int64_t changes = 0;
        int r;

        if (!s)
                return SHIELD_E_INVAL;
        if ((r = check_name(instance, diag)) < 0 || (r = check_nonce(nonce, len, diag)) < 0)
                return r;
        /* One DELETE: of two processes taking one challenge, exactly one deletes the row. */
        r = run(s, "spending the challenge", "DELETE FROM challenges WHERE nonce = ? AND instance = ? AND expires >= ?",
                PARAMS(P_BLOB(nonce, len), P_TEXT(instance), P_INT(now)), &changes, diag);
        if (r == 0 && changes != 1)
                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                     "the nonce was not issued to \"%s\", has expired or was spent", instance);
        /* Expired challenges would otherwise pile up; a failure here changes no answer. */
        if (s->takes++ % CHALLENGE_PURGE_EVERY == 0)
                (void)run(s, "purging challenges", "DELETE FROM challenges WHERE expires < ?", PARAMS(P_INT(now)), NULL, NULL);
        return r;
}

int shield_store_key_add(struct shield_store *s, const struct shield_signing_key *k, struct shield_diag *diag) {
        int64_t changes = 0;
        int r;

        if (!s || !k)
                return SHIELD_E_INVAL;
        size_t kid_len = strnlen(k->kid, sizeof k->kid);
        if (kid_len == 0 || kid_len == sizeof k->kid)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a key id of 1 to %zu bytes is required", sizeof k->kid - 1);
        if (strnlen(k->alg, sizeof k->alg) == sizeof k->alg || (strcmp(k->alg, "ES256") != 0 && strcmp(k->alg, "RS256") != 0))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "key algorithm is not ES256 or RS256");
        if (!k->private_pem || !*k->private_pem)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the key's private PEM is required");
        if ((r = run(s, "adding the signing key",
                     "INSERT INTO signing_keys (kid, alg, private_pem, created, not_after) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (kid) DO NOTHING",
                     PARAMS(P_TEXT(k->kid), P_TEXT(k->alg), P_TEXT(k->private_pem), P_INT(k->created), P_INT(k->not_after)),
                     &changes, diag)) < 0)
                return r;
        if (changes == 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a key with id \"%s\" exists", k->kid);
        return 0;
}

int shield_store_keys(struct shield_store *s, int64_t since, struct shield_signing_key **ret, size_t *ret_n,
                      struct shield_diag *diag) {
        struct store_rows *q = NULL;
        struct shield_signing_key *v = NULL;
        size_t n = 0;
        int r;

        if (!s || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if ((r = s->ops->query(s, "reading the signing keys",
                               "SELECT kid, alg, private_pem, created, not_after FROM signing_keys WHERE not_after > ? "
                               "ORDER BY created DESC, kid DESC LIMIT ?",
                               PARAMS(P_INT(since), P_INT(SHIELD_STORE_KEYS_MAX)), &q, diag)) < 0)
                return r;
        if (!(v = calloc(SHIELD_STORE_KEYS_MAX, sizeof *v))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        while (n < SHIELD_STORE_KEYS_MAX && (r = s->ops->next(q, diag)) > 0) {
                struct shield_signing_key *k = &v[n++];
                const char *kid = s->ops->col_text(q, 0), *alg = s->ops->col_text(q, 1);
                snprintf(k->kid, sizeof k->kid, "%s", kid ? kid : "");
                snprintf(k->alg, sizeof k->alg, "%s", alg ? alg : "");
                k->created = s->ops->col_int(q, 3);
                k->not_after = s->ops->col_int(q, 4);
                if ((r = take_text(s, q, 2, &k->private_pem)) < 0)
                        goto out;
        }
        if (r < 0)
                goto out;
        *ret = v;
        *ret_n = n;
        v = NULL; /* transferred */
        n = 0;
        r = 0;
out:
        for (size_t i = 0; v && i < n; i++)
                shield_signing_key_clear(&v[i]);
        free(v);
        s->ops->finish(q);
        return r;
}

#define SETTING_ADMIN_HASH "admin_token_sha256"

int shield_store_admin_hash_get(struct shield_store *s, uint8_t hash[32], struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r;

        if (!s || !hash)
                return SHIELD_E_INVAL;
        if ((r = s->ops->query(s, "reading the admin token hash", "SELECT value FROM settings WHERE name = ?",
                               PARAMS(P_TEXT(SETTING_ADMIN_HASH)), &q, diag)) < 0)
                return r;
        r = s->ops->next(q, diag);
        size_t n = 0;
        const uint8_t *b = r > 0 ? s->ops->col_blob(q, 0, &n) : NULL;
        if (r == 0)
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no admin token was set");
        else if (r > 0 && (!b || n != 32))
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the stored admin token hash is %zu bytes, not 32", n);
        else if (r > 0) {
                memcpy(hash, b, 32);
                r = 0;
        }
        s->ops->finish(q);
        return r;
}

int shield_store_admin_hash_set(struct shield_store *s, const uint8_t hash[32], struct shield_diag *diag) {
        if (!s || !hash)
                return SHIELD_E_INVAL;
        return run(s, "recording the admin token hash",
                   "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                   PARAMS(P_TEXT(SETTING_ADMIN_HASH), P_BLOB(hash, 32)), NULL, diag);
}

int shield_store_begin(struct shield_store *s, struct shield_diag *diag) {
        if (!s)
                return SHIELD_E_INVAL;
        if (s->depth) {
                s->depth++;
                return 0;
        }
        int r = s->ops->begin(s, false, diag);
        if (r == 0) {
                s->depth = 1;
                s->failed = false;
        }
        return r;
}

int shield_store_commit(struct shield_store *s, struct shield_diag *diag) {
        if (!s || !s->depth)
                return SHIELD_E_INVAL;
        if (--s->depth)
                return 0;
        if (s->failed) {
                s->ops->rollback(s);
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: a write in the transaction failed; "
                                        "nothing was recorded");
        }
        int r = s->ops->commit(s, diag);
        if (r < 0)
                s->ops->rollback(s);
        return r;
}

void shield_store_rollback(struct shield_store *s) {
        if (!s || !s->depth)
                return;
        s->depth = 0;
        s->failed = false;
        s->ops->rollback(s);
}
