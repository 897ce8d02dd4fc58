/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's SQLite backend: WAL mode with a busy timeout so several
 * processes share one file, prepared statements with bound parameters, and
 * BEGIN IMMEDIATE for writes so two writers never deadlock upgrading a read
 * lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shield/util.h"
#include "store-internal.h"

/*
 * Prepared statements are kept per handle and reused: a service runs the same
 * few dozen statements thousands of times a second, and compiling SQL was a
 * visible share of an attestation's cost.
 */
#define STMT_CACHE 48

struct cached_stmt {
        char *sql;              /* a copy: callers' SQL text may be built per call */
        sqlite3_stmt *st;
        bool in_use;            /* handed out and not yet finished */
};

struct sqlite_store {
        struct shield_store base;
        sqlite3 *db;
        struct cached_stmt cache[STMT_CACHE];
        size_t next_evict;
};

struct store_rows {
        sqlite3 *db;
        sqlite3_stmt *st;
        const char *what;
        int64_t changes;
        struct cached_stmt *cached; /* NULL: finalize on finish */
};

static sqlite3 *db_of(struct shield_store *s) {
        return ((struct sqlite_store *)s)->db;
}

static int db_fail(sqlite3 *db, struct shield_diag *diag, const char *what) {
        return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: %s: %s", what, sqlite3_errmsg(db));
}

/* mkdir -p of path's directory, mode 0700 for every directory made (parents too): it holds the store. */
static int make_parents(const char *path, struct shield_diag *diag) {
        char *dir = strdup(path);
        int r = 0;
        if (!dir)
                return SHIELD_E_NOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if ((r = shield_mkdir_parents(dir, 0700, 0700)) == SHIELD_E_SYSTEM)
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: mkdir %s: %s", dir, strerror(errno));
        }
        free(dir);
        return r;
}

/*
 * The store holds the token-signing private keys and the admin token's
 * hash: the database is created 0600 here, whatever the umask, before
 * SQLite opens it (SQLite would create it 0644 & ~umask). SQLite gives the
 * -wal and -shm files the database's own mode (os_unix.c findCreateFileMode,
 * robust_open fchmods past the umask). A store or -wal/-shm left readable
 * by others by an older version loses its group and other bits. Symbolic
 * links are refused, as SQLITE_OPEN_NOFOLLOW does.
 */
static int private_file(const char *path, bool create, struct shield_diag *diag) {
        struct stat st;
        int fd = create ? open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;

        if (fd >= 0) {
                int r = fchmod(fd, 0600) < 0 ? SHIELD_E_SYSTEM : 0;
                if (r < 0)
                        r = shield_diag_fail(diag, r, 0, -1, "store: chmod %s: %s", path, strerror(errno));
                close(fd);
                return r;
        }
        if (create && errno != EEXIST)
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: %s: %s", path, strerror(errno));
        /* O_PATH: a file we may not read still has its mode fixed, and opening a FIFO does not block. */
        if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
                return errno == ENOENT && !create ? 0
                                                  : shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: %s: %s", path,
                                                                     strerror(errno));
        int r = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) && st.st_uid == geteuid()) {
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                if (chmod(proc, st.st_mode & 0700) < 0)
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: chmod %s: %s", path, strerror(errno));
        }
        close(fd);
        return r;
}

static int private_files(const char *path, struct shield_diag *diag) {
        char *side = NULL;
        int r;

        if (strcmp(path, ":memory:") == 0)
                return 0;
        if ((r = private_file(path, true, diag)) < 0)
                return r;
        static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0] && r == 0; i++) {
                if (asprintf(&side, "%s%s", path, suffixes[i]) < 0)
                        return SHIELD_E_NOMEM;
                r = private_file(side, false, diag);
                free(side);
                side = NULL;
        }
        return r;
}

static int sq_exec_script(struct shield_store *s, const char *sql, struct shield_diag *diag) {
        if (sqlite3_exec(db_of(s), sql, NULL, NULL, NULL) != SQLITE_OK)
                return db_fail(db_of(s), diag, sql);
        return 0;
}

/*
 * Switching a new file to WAL needs its exclusive lock, and SQLite does not
 * call the busy handler for that: when several processes create the store at
 * once, the losers retry here (within the busy timeout) instead of failing.
 */
static int set_wal(sqlite3 *db, struct shield_diag *diag) {
        const struct timespec pause = { .tv_nsec = 5 * 1000 * 1000 };
        for (int waited = 0;; waited += 5) {
                int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
                if (rc == SQLITE_OK)
                        return 0;
                if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
                        break;
                if (waited >= SHIELD_STORE_BUSY_TIMEOUT_MS)
                        break;
                nanosleep(&pause, NULL);
        }
        return db_fail(db, diag, "PRAGMA journal_mode=WAL");
}

static void sq_close(struct shield_store *s) {
        if (!s)
                return;
        struct sqlite_store *q = (struct sqlite_store *)s;
        for (size_t i = 0; i < STMT_CACHE; i++) {
                sqlite3_finalize(q->cache[i].st);
                free(q->cache[i].sql);
        }
        sqlite3_close_v2(q->db);
        free(s);
}

/* A cached statement for sql (prepared now if new), or NULL to prepare an uncached one. */
static struct cached_stmt *stmt_cached(struct sqlite_store *q, const char *sql) {
        struct cached_stmt *free_slot = NULL;
        for (size_t i = 0; i < STMT_CACHE; i++) {
                struct cached_stmt *c = &q->cache[i];
                if (!c->sql) {
                        if (!free_slot)
                                free_slot = c;
                } else if (strcmp(c->sql, sql) == 0) {
                        return c->in_use ? NULL : c; /* the same statement twice at once: the second is uncached */
                }
        }
        struct cached_stmt *c = free_slot;
        for (size_t tries = 0; !c && tries < STMT_CACHE; tries++) {
                struct cached_stmt *v = &q->cache[q->next_evict++ % STMT_CACHE];
                if (!v->in_use)
                        c = v;
        }
        if (!c)
                return NULL;
        sqlite3_finalize(c->st);
        free(c->sql);
        c->st = NULL;
        if (!(c->sql = strdup(sql)) ||
            sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st, NULL) != SQLITE_OK) {
                sqlite3_finalize(c->st);
                free(c->sql);
                c->st = NULL;
                c->sql = NULL;
                return NULL;
        }
        return c;
}

static int sq_open(const char *path, struct shield_store **ret, struct shield_diag *diag) {
        struct sqlite_store *q;
        int r;

        if ((r = make_parents(path, diag)) < 0 || (r = private_files(path, diag)) < 0)
                return r;
        if (!(q = calloc(1, sizeof *q)))
                return SHIELD_E_NOMEM;
        q->base.ops = &store_sqlite_ops;
        if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK) {
                r = q->db ? db_fail(q->db, diag, path)
                          : shield_diag_fail(diag, SHIELD_E_NOMEM, 0, -1, "store: %s: out of memory", path);
                goto fail;
        }
        sqlite3_extended_result_codes(q->db, 1);
        sqlite3_busy_timeout(q->db, SHIELD_STORE_BUSY_TIMEOUT_MS);
        if ((r = set_wal(q->db, diag)) < 0 ||
            (r = sq_exec_script(&q->base, "PRAGMA foreign_keys=ON", diag)) < 0 ||
            (r = sq_exec_script(&q->base, "PRAGMA synchronous=NORMAL", diag)) < 0)
                goto fail;
        *ret = &q->base;
        return 0;
fail:
        sq_close(&q->base);
        return r;
}

static int sq_begin(struct shield_store *s, bool migrate, struct shield_diag *diag) {
        /* BEGIN IMMEDIATE already holds the one write lock, which serialises migrations too. */
        (void)migrate;
        return sq_exec_script(s, "BEGIN IMMEDIATE", diag);
}

static int sq_commit(struct shield_store *s, struct shield_diag *diag) {
        return sq_exec_script(s, "COMMIT", diag);
}

static void sq_rollback(struct shield_store *s) {
        if (!sqlite3_get_autocommit(db_of(s)))
                (void)sqlite3_exec(db_of(s), "ROLLBACK", NULL, NULL, NULL);
}

static void sq_finish(struct store_rows *q);

static int sq_query(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
                    struct store_rows **ret, struct shield_diag *diag) {
        struct store_rows *q = calloc(1, sizeof *q);
        int rc = SQLITE_OK;

        if (!q)
                return SHIELD_E_NOMEM;
        q->db = db_of(s);
        q->what = what;
        q->cached = stmt_cached((struct sqlite_store *)s, sql);
        if (q->cached) {
                q->cached->in_use = true;
                q->st = q->cached->st;
        } else if (sqlite3_prepare_v2(q->db, sql, -1, &q->st, NULL) != SQLITE_OK) {
                int r = db_fail(q->db, diag, what);
                sqlite3_finalize(q->st);
                free(q);
                return r;
        }
        for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
                int col = (int)i + 1;
                switch (p[i].kind) {
                case STORE_INT:
                        rc = sqlite3_bind_int64(q->st, col, (sqlite3_int64)p[i].i);
                        break;
                case STORE_TEXT:
                        rc = p[i].p ? sqlite3_bind_text(q->st, col, p[i].p, -1, SQLITE_STATIC) : sqlite3_bind_null(q->st, col);
                        break;
                case STORE_BLOB:
                        rc = p[i].p ? sqlite3_bind_blob64(q->st, col, p[i].p, p[i].len, SQLITE_STATIC)
                                    : sqlite3_bind_null(q->st, col);
                        break;
                }
        }
        if (rc != SQLITE_OK) {
                int r = db_fail(q->db, diag, what);
                sq_finish(q);
                return r;
        }
        *ret = q;
        return 0;
}

static int sq_next(struct store_rows *q, struct shield_diag *diag) {
        int step = sqlite3_step(q->st);
        if (step == SQLITE_ROW)
                return 1;
        if (step == SQLITE_DONE) {
                q->changes = sqlite3_changes(q->db);
                return 0;
        }
        return db_fail(q->db, diag, q->what);
}

static int64_t sq_changes(struct store_rows *q) {
        return q->changes;
}

static bool sq_is_null(struct store_rows *q, int col) {
        return sqlite3_column_type(q->st, col) == SQLITE_NULL;
}

static int64_t sq_col_int(struct store_rows *q, int col) {
        return (int64_t)sqlite3_column_int64(q->st, col);
}

static const char *sq_col_text(struct store_rows *q, int col) {
        return (const char *)sqlite3_column_text(q->st, col);
}

static const uint8_t *sq_col_blob(struct store_rows *q, int col, size_t *ret_len) {
        const uint8_t *b = sqlite3_column_blob(q->st, col);
        int n = sqlite3_column_bytes(q->st, col);
        *ret_len = b && n > 0 ? (size_t)n : 0;
        return b;
}

static void sq_finish(struct store_rows *q) {
        if (!q)
                return;
        if (q->cached) {
                sqlite3_reset(q->st);
                sqlite3_clear_bindings(q->st);
                q->cached->in_use = false;
        } else {
                sqlite3_finalize(q->st);
        }
        free(q);
}

const struct store_ops store_sqlite_ops = {
        .name = "sqlite",
        .type_int = "INTEGER",
        .type_blob = "BLOB",
        .type_id = "INTEGER PRIMARY KEY AUTOINCREMENT",
        .open_backend = sq_open,
        .close = sq_close,
        .exec_script = sq_exec_script,
        .begin = sq_begin,
        .commit = sq_commit,
        .rollback = sq_rollback,
        .query = sq_query,
        .next = sq_next,
        .changes = sq_changes,
        .is_null = sq_is_null,
        .col_int = sq_col_int,
        .col_text = sq_col_text,
        .col_blob = sq_col_blob,
        .finish = sq_finish,
};
