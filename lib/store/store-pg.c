/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's PostgreSQL backend (libpq): one connection per handle,
 * PQexecParams with every value bound (BYTEA in binary) and binary results,
 * READ COMMITTED transactions, and a transaction-scoped advisory lock around
 * migrations so processes opening one database at once migrate it once.
 * lib/store is the only code that includes <libpq-fe.h>.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/util.h"
#include "store-internal.h"

/* Type OIDs from PostgreSQL's pg_type.dat (fixed since 7.x). */
#define PG_BYTEAOID 17
#define PG_INT8OID 20
#define PG_TEXTOID 25

#define PG_PARAMS_MAX 32
/* pg_advisory_xact_lock(int4, int4) key for migrations: "SHLD", "STOR" in ASCII. */
#define PG_MIGRATION_LOCK "1397247044, 1398034258"

struct pg_store {
        struct shield_store base;
        PGconn *conn;
};

struct store_rows {
        PGresult *res;
        int row, nrows;
        int64_t changes;
};

static PGconn *conn_of(struct shield_store *s) {
        return ((struct pg_store *)s)->conn;
}

/* libpq's message without its trailing newline. It never carries the password. */
static int pg_fail(PGconn *conn, const PGresult *res, struct shield_diag *diag, const char *what) {
        const char *m = res ? PQresultErrorMessage(res) : NULL;
        if (!m || !*m)
                m = conn ? PQerrorMessage(conn) : "out of memory";
        size_t n = strlen(m);
        while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
                n--;
        return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: %s: %.*s", what, (int)(n > 200 ? 200 : n), m);
}

/* The library never prints: drop NOTICEs ("relation … already exists, skipping"). */
static void quiet_notice(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

static int pg_exec_script(struct shield_store *s, const char *sql, struct shield_diag *diag) {
        PGresult *res = PQexec(conn_of(s), sql);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_fail(conn_of(s), res, diag, sql);
        PQclear(res);
        return r;
}

static void pg_close(struct shield_store *s) {
        if (!s)
                return;
        PQfinish(conn_of(s));
        free(s);
}

static int pg_open(const char *url, struct shield_store **ret, struct shield_diag *diag) {
        struct pg_store *p = calloc(1, sizeof *p);
        int r;

        if (!p)
                return SHIELD_E_NOMEM;
        p->base.ops = &store_pg_ops;
        p->conn = PQconnectdb(url);
        if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
                r = pg_fail(p->conn, NULL, diag, "connecting to PostgreSQL");
                goto fail;
        }
        PQsetNoticeProcessor(p->conn, quiet_notice, NULL);
        if ((r = pg_exec_script(&p->base, "SET client_min_messages = warning", diag)) < 0 ||
            (r = pg_exec_script(&p->base, "SET client_encoding = 'UTF8'", diag)) < 0)
                goto fail;
        *ret = &p->base;
        return 0;
fail:
        pg_close(&p->base);
        return r;
}

static void pg_rollback(struct shield_store *s) {
        if (PQtransactionStatus(conn_of(s)) != PQTRANS_IDLE)
                PQclear(PQexec(conn_of(s), "ROLLBACK"));
}

static int pg_begin(struct shield_store *s, bool migrate, struct shield_diag *diag) {
        int r = pg_exec_script(s, "BEGIN", diag);
        /* Released by COMMIT or ROLLBACK; a second opener waits here, then sees the migrated version. */
        if (r == 0 && migrate && (r = pg_exec_script(s, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")", diag)) < 0)
                pg_rollback(s);
        return r;
}

static int pg_commit(struct shield_store *s, struct shield_diag *diag) {
        return pg_exec_script(s, "COMMIT", diag);
}

/* sql with each '?' numbered $1, $2, … (the store's SQL holds no literal '?'). */
static char *number_placeholders(const char *sql, size_t *ret_n) {
        size_t n = 0, len = strlen(sql), k = 0;
        for (const char *c = sql; *c; c++)
                n += *c == '?';
        char *out = malloc(len + n * 12 + 1), *w = out;
        if (!out)
                return NULL;
        for (const char *c = sql; *c; c++) {
                if (*c != '?') {
                        *w++ = *c;
                        continue;
                }
                w += snprintf(w, 13, "$%zu", ++k);
        }
        *w = '\0';
        *ret_n = n;
        return out;
}

static int pg_query(struct shield_store *s, const char *what, const char *sql, const struct store_param *p, size_t n,
                    struct store_rows **ret, struct shield_diag *diag) {
        const char *values[PG_PARAMS_MAX];
        int lengths[PG_PARAMS_MAX], formats[PG_PARAMS_MAX];
        Oid types[PG_PARAMS_MAX];
        char ints[PG_PARAMS_MAX][24];
        size_t marks = 0;
        int r;

        if (n > PG_PARAMS_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "store: %s: %zu parameters", what, n);
        for (size_t i = 0; i < n; i++) {
                lengths[i] = 0;
                formats[i] = 0;
                switch (p[i].kind) {
                case STORE_INT:
                        types[i] = PG_INT8OID;
                        snprintf(ints[i], sizeof ints[i], "%" PRId64, p[i].i);
                        values[i] = ints[i];
                        break;
                case STORE_TEXT:
                        types[i] = PG_TEXTOID;
                        values[i] = p[i].p;
                        break;
                case STORE_BLOB:
                        if (p[i].len > INT32_MAX)
                                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "store: %s: a value of %zu bytes", what,
                                                        p[i].len);
                        types[i] = PG_BYTEAOID;
                        values[i] = p[i].p;
                        lengths[i] = (int)p[i].len;
                        formats[i] = 1;
                        break;
                }
        }
        char *numbered = number_placeholders(sql, &marks);
        if (!numbered)
                return SHIELD_E_NOMEM;
        if (marks != n) {
                free(numbered);
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "store: %s: %zu placeholders, %zu parameters", what,
                                        marks, n);
        }
        PGresult *res = PQexecParams(conn_of(s), numbered, (int)n, types, values, lengths, formats, 1);
        free(numbered);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                r = pg_fail(conn_of(s), res, diag, what);
                PQclear(res);
                return r;
        }
        struct store_rows *q = calloc(1, sizeof *q);
        if (!q) {
                PQclear(res);
                return SHIELD_E_NOMEM;
        }
        q->res = res;
        q->row = -1;
        q->nrows = PQntuples(res);
        const char *tuples = PQcmdTuples(res);
        int64_t c = 0;
        if (tuples && *tuples && shield_parse_i64(tuples, 10, 0, INT64_MAX, &c) < 0)
                c = 0;
        q->changes = c;
        *ret = q;
        return 0;
}

static int pg_next(struct store_rows *q, struct shield_diag *diag) {
        (void)diag;
        if (q->row + 1 >= q->nrows) {
                q->row = q->nrows;
                return 0;
        }
        q->row++;
        return 1;
}

static int64_t pg_changes(struct store_rows *q) {
        return q->changes;
}

static bool pg_is_null(struct store_rows *q, int col) {
        return PQgetisnull(q->res, q->row, col) != 0;
}

/* Binary integers are big-endian; their width says which type the column is. */
static int64_t pg_col_int(struct store_rows *q, int col) {
        if (PQgetisnull(q->res, q->row, col))
                return 0;
        const uint8_t *b = (const uint8_t *)PQgetvalue(q->res, q->row, col);
        int len = PQgetlength(q->res, q->row, col);
        uint64_t v = 0;
        for (int i = 0; i < len && i < 8; i++)
                v = v << 8 | b[i];
        switch (len) {
        case 1:
                return (int8_t)v;
        case 2:
                return (int16_t)v;
        case 4:
                return (int32_t)v;
        case 8:
                return (int64_t)v;
        default:
                return 0;
        }
}

static const char *pg_col_text(struct store_rows *q, int col) {
        /* libpq ends every value with a zero byte, binary ones too. */
        return PQgetisnull(q->res, q->row, col) ? NULL : PQgetvalue(q->res, q->row, col);
}

static const uint8_t *pg_col_blob(struct store_rows *q, int col, size_t *ret_len) {
        if (PQgetisnull(q->res, q->row, col)) {
                *ret_len = 0;
                return NULL;
        }
        *ret_len = (size_t)PQgetlength(q->res, q->row, col);
        return (const uint8_t *)PQgetvalue(q->res, q->row, col);
}

static void pg_finish(struct store_rows *q) {
        if (!q)
                return;
        PQclear(q->res);
        free(q);
}

const struct store_ops store_pg_ops = {
        .name = "postgresql",
        .type_int = "BIGINT",
        .type_blob = "BYTEA",
        .type_id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        .open_backend = pg_open,
        .close = pg_close,
        .exec_script = pg_exec_script,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .query = pg_query,
        .next = pg_next,
        .changes = pg_changes,
        .is_null = pg_is_null,
        .col_int = pg_col_int,
        .col_text = pg_col_text,
        .col_blob = pg_col_blob,
        .finish = pg_finish,
};
