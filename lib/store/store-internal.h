/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The seam between the store's logic (store.c, written once) and its
 * backends (store-sqlite.c, store-pg.c): a table of function pointers that
 * runs SQL with bound parameters and walks the rows. Every public function in
 * shield/store.h reaches the database only through s->ops, so both backends
 * run the very same statements, schema and migrations.
 *
 * SQL given to query() uses '?' placeholders (PostgreSQL's backend numbers
 * them $1, $2, …), so it must hold no literal '?'. Migration scripts use
 * {INT} (a 64-bit integer column), {BLOB} (bytes) and {ID} (an
 * auto-numbered 64-bit primary key), which each backend spells its own way.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/store.h"

enum store_kind { STORE_INT, STORE_TEXT, STORE_BLOB };

/* A bound parameter; a TEXT or BLOB with p == NULL is SQL NULL. */
struct store_param {
        enum store_kind kind;
        int64_t i;
        const void *p;
        size_t len;
};
#define P_INT(v) ((struct store_param){ .kind = STORE_INT, .i = (int64_t)(v) })
#define P_TEXT(t) ((struct store_param){ .kind = STORE_TEXT, .p = (t) })
#define P_BLOB(b, n) ((struct store_param){ .kind = STORE_BLOB, .p = (b), .len = (n) })

/* One statement's rows; the backend's own type. */
struct store_rows;

struct store_ops {
        const char *name;
        /* What {INT}, {BLOB} and {ID} become in migrations. */
        const char *type_int, *type_blob, *type_id;

        /* target is the path or URL without a "sqlite:" prefix. *ret written only on success. */
        int (*open_backend)(const char *target, struct shield_store **ret, struct shield_diag *diag);
        void (*close)(struct shield_store *s);
        /* Run a fixed script of one or more statements without parameters (migrations). */
        int (*exec_script)(struct shield_store *s, const char *sql, struct shield_diag *diag);
        /*
         * Start a write transaction. With migrate, also serialise against
         * every other process opening the same database until commit.
         */
        int (*begin)(struct shield_store *s, bool migrate, struct shield_diag *diag);
        int (*commit)(struct shield_store *s, struct shield_diag *diag);
        void (*rollback)(struct shield_store *s); /* a no-op outside a transaction */

        /* Run sql with n params; what names the operation in diag. */
        int (*query)(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
                     struct store_rows **ret, struct shield_diag *diag);
        /* 1 with a row to read, 0 when done, < 0 on failure. */
        int (*next)(struct store_rows *q, struct shield_diag *diag);
        /* Rows the statement inserted, updated or deleted (after next() returned 0). */
        int64_t (*changes)(struct store_rows *q);
        bool (*is_null)(struct store_rows *q, int col);
        int64_t (*col_int)(struct store_rows *q, int col);
        /* NUL-terminated; NULL for SQL NULL; valid until next() or finish(). */
        const char *(*col_text)(struct store_rows *q, int col);
        const uint8_t *(*col_blob)(struct store_rows *q, int col, size_t *ret_len);
        void (*finish)(struct store_rows *q); /* NULL allowed */
};

/* Every backend's handle starts with this. */
struct shield_store {
        const struct store_ops *ops;
        unsigned takes; /* challenge_take calls, to purge expired challenges now and then */
        unsigned depth; /* open shield_store_begin() calls: inner transactions join the outer one */
        bool failed;    /* a write inside the outer transaction failed: it will roll back */
        const struct store_ops *real_ops; /* the backend's own table (ops may be the fault hook's, fault.c) */
};

/* Interpose the failure-injection hook when SHIELD_STORE_FAULT_FILE is set (fault.c); sets real_ops. */
void store_fault_interpose(struct shield_store *s);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#define NPARAMS(...) (sizeof((const struct store_param[]){ __VA_ARGS__ }) / sizeof(struct store_param))
#define PARAMS(...) (const struct store_param[]){ __VA_ARGS__ }, NPARAMS(__VA_ARGS__)

/* store.c's statement runner, transactions and name check, for the store's other files. */
int store_run(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
              int64_t *ret_changes, struct shield_diag *diag);
int store_begin(struct shield_store *s, struct shield_diag *diag);
int store_end(struct shield_store *s, int r, struct shield_diag *diag);
int store_check_name(const char *instance, struct shield_diag *diag);
/*
 * End the instance's intents and revoke its unrevoked credentials at now
 * (credentials.c); *ret_n (may be NULL) the credentials revoked.
 */
int store_credentials_end(struct shield_store *s, const char *instance, int64_t now, size_t *ret_n,
                          struct shield_diag *diag);
