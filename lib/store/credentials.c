/* SPDX-License-Identifier: Apache-2.0 */
/* The store's records of sealed machine credentials: golden logs, intents, credentials, revocations (shield/store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shield/store.h"
#include "store-internal.h"

void shield_intent_record_clear(struct shield_intent_record *r) {
        if (!r)
                return;
        free(r->pcrs_json);
        free(r->describe_json);
        memset(r, 0, sizeof *r);
}

void shield_credential_record_clear(struct shield_credential_record *r) {
        if (!r)
                return;
        free(r->cert_der);
        free(r->sealed);
        memset(r, 0, sizeof *r);
}

static int copy_blob(struct shield_store *s, struct store_rows *q, int col, uint8_t **ret, size_t *ret_len) {
        size_t n = 0;
        const uint8_t *b = s->ops->col_blob(q, col, &n);
        *ret = NULL;
        *ret_len = 0;
        if (!b)
                return 0;
        if (!(*ret = malloc(n ? n : 1)))
                return SHIELD_E_NOMEM;
        memcpy(*ret, b, n);
        *ret_len = n;
        return 0;
}

static void copy_text(struct shield_store *s, struct store_rows *q, int col, char *dst, size_t n) {
        const char *t = s->ops->col_text(q, col);
        snprintf(dst, n, "%s", t ? t : "");
}

/* ---- the golden's event log ---- */

int shield_store_golden_eventlog_set(struct shield_store *s, const char *instance, const uint8_t *log, size_t len,
                                     struct shield_diag *diag) {
        int64_t changes = 0;
        int r;

        if (!s || !log || !len)
                return SHIELD_E_INVAL;
        if (len > SHIELD_STORE_EVENTLOG_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the event log is %zu bytes (at most %u kept)", len,
                                        SHIELD_STORE_EVENTLOG_MAX);
        if ((r = store_check_name(instance, diag)) < 0)
                return r;
        if ((r = store_run(s, "recording the golden's event log", "UPDATE goldens SET eventlog = ? WHERE instance = ?",
                           PARAMS(P_BLOB(log, len), P_TEXT(instance)), &changes, diag)) < 0)
                return r;
        if (!changes)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no golden measurement for instance \"%s\"",
                                        instance);
        return 0;
}

int shield_store_golden_eventlog_get(struct shield_store *s, const char *instance, uint8_t **ret, size_t *ret_len,
                                     struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r;

        if (!s || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = store_check_name(instance, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "reading the golden's event log", "SELECT eventlog FROM goldens WHERE instance = ?",
                               PARAMS(P_TEXT(instance)), &q, diag)) < 0)
                return r;
        if ((r = s->ops->next(q, diag)) == 0)
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no golden measurement for instance \"%s\"",
                                     instance);
        else if (r > 0 && s->ops->is_null(q, 0))
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                     "the golden measurement of \"%s\" kept no event log (recorded before this version, "
                                     "or by `shield verify` without one): reset it and attest again", instance);
        else if (r > 0)
                r = copy_blob(s, q, 0, ret, ret_len);
        s->ops->finish(q);
        return r;
}

/* ---- intents ---- */

int shield_store_intent_add(struct shield_store *s, struct shield_intent_record *rec, size_t *ret_revoked,
                            struct shield_diag *diag) {
        struct store_rows *q = NULL;
        size_t revoked = 0;
        int r;

        if (!s || !rec || !rec->pcrs_json || !rec->describe_json || !rec->mask ||
            (rec->method != SHIELD_CREDENTIAL_SEALING_KEY && rec->method != SHIELD_CREDENTIAL_IMPORT))
                return SHIELD_E_INVAL;
        if ((r = store_check_name(rec->instance, diag)) < 0)
                return r;
        if ((r = store_begin(s, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "recording the intent", "SELECT 1 FROM instances WHERE name = ?",
                               PARAMS(P_TEXT(rec->instance)), &q, diag)) >= 0) {
                r = s->ops->next(q, diag);
                s->ops->finish(q);
                q = NULL;
                if (r == 0)
                        r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no instance \"%s\"", rec->instance);
        }
        if (r >= 0)
                r = store_credentials_end(s, rec->instance, rec->created, &revoked, diag);
        if (r >= 0)
                r = s->ops->query(s, "recording the intent",
                                  "INSERT INTO intents (instance, created, method, bank, mask, pcrs, describe, active) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                                  PARAMS(P_TEXT(rec->instance), P_INT(rec->created), P_INT(rec->method), P_INT(rec->bank),
                                         P_INT(rec->mask), P_TEXT(rec->pcrs_json), P_TEXT(rec->describe_json)),
                                  &q, diag);
        if (r >= 0) {
                if ((r = s->ops->next(q, diag)) > 0) {
                        rec->id = s->ops->col_int(q, 0);
                        while ((r = s->ops->next(q, diag)) > 0)
                                ;
                } else if (r == 0) {
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: the intent got no id");
                }
                s->ops->finish(q);
        }
        r = store_end(s, r < 0 ? r : 0, diag);
        if (r >= 0) {
                rec->active = true;
                if (ret_revoked)
                        *ret_revoked = revoked;
        }
        return r;
}

int shield_store_intent_active(struct shield_store *s, const char *instance, struct shield_intent_record *ret,
                               struct shield_diag *diag) {
        struct shield_intent_record rec = { 0 };
        struct store_rows *q = NULL;
        int r;

        if (!s || !ret)
                return SHIELD_E_INVAL;
        if ((r = store_check_name(instance, diag)) < 0)
                return r;
        if ((r = s->ops->query(s, "reading the intent",
                               "SELECT id, created, method, bank, mask, pcrs, describe FROM intents "
                               "WHERE instance = ? AND active = 1 ORDER BY id DESC LIMIT 1",
                               PARAMS(P_TEXT(instance)), &q, diag)) < 0)
                return r;
        if ((r = s->ops->next(q, diag)) == 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "instance \"%s\" has no intent", instance);
        } else if (r > 0) {
                snprintf(rec.instance, sizeof rec.instance, "%s", instance);
                rec.id = s->ops->col_int(q, 0);
                rec.created = s->ops->col_int(q, 1);
                rec.method = (int)s->ops->col_int(q, 2);
                rec.bank = (uint16_t)s->ops->col_int(q, 3);
                rec.mask = (uint32_t)s->ops->col_int(q, 4);
                rec.active = true;
                const char *p = s->ops->col_text(q, 5), *d = s->ops->col_text(q, 6);
                if (!(rec.pcrs_json = strdup(p ? p : "{}")) || !(rec.describe_json = strdup(d ? d : "[]")))
                        r = SHIELD_E_NOMEM;
        }
        s->ops->finish(q);
        if (r > 0) {
                *ret = rec;
                return 0;
        }
        shield_intent_record_clear(&rec);
        return r;
}

int shield_store_intent_issued(struct shield_store *s, int64_t intent, bool *ret_has, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r;

        if (!s || !ret_has)
                return SHIELD_E_INVAL;
        if ((r = s->ops->query(s, "reading the intent's credentials", "SELECT 1 FROM credentials WHERE intent = ? LIMIT 1",
                               PARAMS(P_INT(intent)), &q, diag)) < 0)
                return r;
        r = s->ops->next(q, diag);
        s->ops->finish(q);
        if (r < 0)
                return r;
        *ret_has = r > 0;
        return 0;
}

/* ---- credentials ---- */

static bool serial_ok(const char *serial) {
        size_t n = strlen(serial);
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((serial[i] >= '0' && serial[i] <= '9') || (serial[i] >= 'a' && serial[i] <= 'f')))
                        return false;
        return true;
}

int shield_store_credential_add(struct shield_store *s, const struct shield_credential_record *c,
                                struct shield_diag *diag) {
        int64_t changes = 0;
        int r;

        if (!s || !c || !serial_ok(c->serial) || !c->cert_der || !c->cert_der_len ||
            c->cert_der_len > SHIELD_STORE_CERT_MAX || !c->sealed || !c->sealed_len || c->sealed_len > SHIELD_STORE_SEALED_MAX)
                return SHIELD_E_INVAL;
        if ((r = store_check_name(c->instance, diag)) < 0)
                return r;
        if ((r = store_run(s, "recording the credential",
                           "INSERT INTO credentials (serial, instance, intent, method, issued, not_after, policy, epoch_nv, "
                           "epoch, cert, sealed, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
                           "ON CONFLICT (serial) DO NOTHING",
                           PARAMS(P_TEXT(c->serial), P_TEXT(c->instance), P_INT(c->intent), P_INT(c->method),
                                  P_INT(c->issued), P_INT(c->not_after), P_BLOB(c->policy, sizeof c->policy),
                                  P_INT(c->epoch_nv), P_INT((int64_t)(c->epoch_nv ? c->epoch : 0)),
                                  P_BLOB(c->cert_der, c->cert_der_len),
                                  P_BLOB(c->sealed, c->sealed_len)),
                           &changes, diag)) < 0)
                return r;
        if (!changes)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a credential with serial %s exists", c->serial);
        return 0;
}

#define CREDENTIAL_COLUMNS "serial, instance, intent, method, issued, not_after, policy, epoch_nv, epoch, cert, sealed, revoked"

static int read_credential(struct shield_store *s, struct store_rows *q, struct shield_credential_record *ret) {
        struct shield_credential_record c = { 0 };
        size_t n = 0;
        copy_text(s, q, 0, c.serial, sizeof c.serial);
        copy_text(s, q, 1, c.instance, sizeof c.instance);
        c.intent = s->ops->col_int(q, 2);
        c.method = (int)s->ops->col_int(q, 3);
        c.issued = s->ops->col_int(q, 4);
        c.not_after = s->ops->col_int(q, 5);
        const uint8_t *pol = s->ops->col_blob(q, 6, &n);
        if (pol && n == sizeof c.policy)
                memcpy(c.policy, pol, n);
        if (!s->ops->is_null(q, 7) && s->ops->col_int(q, 7)) { /* 0: no epoch */
                c.epoch_nv = (uint32_t)s->ops->col_int(q, 7);
                c.epoch = (uint64_t)s->ops->col_int(q, 8);
        }
        c.revoked = s->ops->is_null(q, 11) ? 0 : s->ops->col_int(q, 11);
        int r = copy_blob(s, q, 9, &c.cert_der, &c.cert_der_len);
        if (r >= 0)
                r = copy_blob(s, q, 10, &c.sealed, &c.sealed_len);
        if (r < 0) {
                shield_credential_record_clear(&c);
                return r;
        }
        *ret = c;
        return 0;
}

static int one_credential(struct shield_store *s, const char *what, const char *sql, const char *key,
                          struct shield_credential_record *ret, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        int r = s->ops->query(s, what, sql, PARAMS(P_TEXT(key)), &q, diag);
        if (r < 0)
                return r;
        if ((r = s->ops->next(q, diag)) == 0)
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no credential %s", key);
        else if (r > 0)
                r = read_credential(s, q, ret);
        s->ops->finish(q);
        return r;
}

int shield_store_credential_get(struct shield_store *s, const char *serial, struct shield_credential_record *ret,
                                struct shield_diag *diag) {
        if (!s || !serial || !ret)
                return SHIELD_E_INVAL;
        if (!serial_ok(serial))
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no credential has that serial");
        return one_credential(s, "reading the credential", "SELECT " CREDENTIAL_COLUMNS " FROM credentials WHERE serial = ?",
                              serial, ret, diag);
}

int shield_store_credential_current(struct shield_store *s, const char *instance,
                                    struct shield_credential_record *ret, struct shield_diag *diag) {
        int r;
        if (!s || !ret)
                return SHIELD_E_INVAL;
        if ((r = store_check_name(instance, diag)) < 0)
                return r;
        r = one_credential(s, "reading the instance's credential",
                           "SELECT " CREDENTIAL_COLUMNS " FROM credentials WHERE instance = ? AND revoked IS NULL "
                           "ORDER BY issued DESC, serial LIMIT 1",
                           instance, ret, diag);
        if (r == SHIELD_E_NOT_FOUND)
                shield_diag_fail(diag, r, 0, -1, "instance \"%s\" has no unrevoked credential", instance);
        return r;
}

int shield_store_revocations(struct shield_store *s, struct shield_store_revocation **ret, size_t *ret_n,
                             struct shield_diag *diag) {
        struct store_rows *q = NULL;
        struct shield_store_revocation *v = NULL;
        size_t n = 0, cap = 0;
        int r;

        if (!s || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if ((r = s->ops->query(s, "reading the revocations",
                               "SELECT serial, revoked FROM credentials WHERE revoked IS NOT NULL ORDER BY revoked, serial",
                               NULL, 0, &q, diag)) < 0)
                return r;
        while ((r = s->ops->next(q, diag)) > 0) {
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 64;
                        struct shield_store_revocation *nv = realloc(v, nc * sizeof *nv);
                        if (!nv) {
                                r = SHIELD_E_NOMEM;
                                break;
                        }
                        v = nv;
                        cap = nc;
                }
                copy_text(s, q, 0, v[n].serial, sizeof v[n].serial);
                v[n].revoked = s->ops->col_int(q, 1);
                n++;
        }
        s->ops->finish(q);
        if (r < 0) {
                free(v);
                return r;
        }
        if (!v && !(v = malloc(sizeof *v)))
                return SHIELD_E_NOMEM;
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- service secrets ---- */

int shield_store_setting_init(struct shield_store *s, const char *name, const uint8_t *value, size_t len,
                              uint8_t **ret, size_t *ret_len, struct shield_diag *diag) {
        struct store_rows *q = NULL;
        uint8_t *out = NULL;
        size_t n = 0;
        int r;

        if (!s || !name || !*name || !value || !len || len > SHIELD_STORE_SETTING_MAX || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = store_begin(s, diag)) < 0)
                return r;
        r = store_run(s, "recording a setting", "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                      PARAMS(P_TEXT(name), P_BLOB(value, len)), NULL, diag);
        if (r >= 0 && (r = s->ops->query(s, "reading a setting", "SELECT value FROM settings WHERE name = ?",
                                         PARAMS(P_TEXT(name)), &q, diag)) >= 0) {
                if ((r = s->ops->next(q, diag)) == 0)
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "store: the setting %s vanished", name);
                if (r > 0) {
                        const uint8_t *b = s->ops->col_blob(q, 0, &n);
                        if (!(out = malloc(n + 1)))
                                r = SHIELD_E_NOMEM;
                        else {
                                if (n)
                                        memcpy(out, b, n);
                                out[n] = 0;
                                r = 0;
                        }
                }
                s->ops->finish(q);
        }
        if ((r = store_end(s, r, diag)) < 0) {
                free(out);
                return r;
        }
        *ret = out;
        *ret_len = n;
        return 0;
}
