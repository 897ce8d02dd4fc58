/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform defaults as stored values: where each came from
 * (DIR/sources.json) and signed updates of them (`shield defaults update`).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/util.h"
#include "shield/varstore.h"
#include "util/wr.h"

#define SOURCES_MAX (1u << 20)
#define ESL_HEADER 28 /* SignatureType, ListSize, HeaderSize, SignatureSize: UEFI 2.10, 32.4.1 */

void shield_efi_time_format(const uint8_t ts[16], char out[32]) {
        /* EFI_TIME: UINT16 Year, UINT8 Month, Day, Hour, Minute, Second (UEFI 2.10, 8.3). */
        snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(ts[0] | ts[1] << 8), ts[2] % 100u, ts[3] % 100u,
                 ts[4] % 100u, ts[5] % 100u, ts[6] % 100u);
}

int shield_efi_time_cmp(const uint8_t a[16], const uint8_t b[16]) {
        unsigned ya = (unsigned)(a[0] | a[1] << 8), yb = (unsigned)(b[0] | b[1] << 8);
        if (ya != yb)
                return ya < yb ? -1 : 1;
        for (size_t i = 2; i <= 6; i++)
                if (a[i] != b[i])
                        return a[i] < b[i] ? -1 : 1;
        return 0;
}

static int efi_time_parse(const char *s, uint8_t ts[16]) {
        struct tm tm = { 0 };
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        if (!end || *end)
                return SHIELD_E_FORMAT;
        shield_efi_time_encode(&tm, ts);
        return 0;
}

static bool time_zero(const uint8_t ts[16]) {
        for (size_t i = 0; i < 16; i++)
                if (ts[i])
                        return false;
        return true;
}

size_t shield_esl_count(const uint8_t *buf, size_t len) {
        struct shield_siglist l;
        if (!buf || !len || shield_siglist_parse(buf, len, &l, NULL) < 0)
                return 0;
        size_t n = l.n;
        shield_siglist_clear(&l);
        return n;
}

static int sources_load(const char *dir, json_t **ret) {
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (asprintf(&path, "%s/%s", dir, SHIELD_DEFAULTS_SOURCES_FILE) < 0)
                return SHIELD_E_NOMEM;
        int r = shield_read_file(path, SOURCES_MAX, &buf, &len);
        free(path);
        if (r < 0) {
                *ret = json_object();
                return *ret ? 0 : SHIELD_E_NOMEM;
        }
        json_t *root = json_loadb((const char *)buf, len, 0, NULL);
        free(buf);
        if (!json_is_object(root)) {
                json_decref(root);
                return SHIELD_E_FORMAT;
        }
        *ret = root;
        return 0;
}

static void copy_str(char *to, size_t size, json_t *v) {
        snprintf(to, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int shield_defaults_source_get(const char *dir, const char *var, struct shield_defaults_source *ret) {
        if (!dir || !var || !ret)
                return SHIELD_E_INVAL;
        json_t *root = NULL;
        int r = sources_load(dir, &root);
        memset(ret, 0, sizeof *ret);
        if (r < 0)
                return r;
        json_t *o = json_object_get(root, var);
        if (!json_is_object(o)) {
                json_decref(root);
                return SHIELD_E_NOT_FOUND;
        }
        copy_str(ret->source, sizeof ret->source, json_object_get(o, "source"));
        copy_str(ret->path, sizeof ret->path, json_object_get(o, "path"));
        copy_str(ret->date, sizeof ret->date, json_object_get(o, "date"));
        copy_str(ret->stored, sizeof ret->stored, json_object_get(o, "stored"));
        json_t *ts = json_object_get(o, "timestamp");
        if (json_is_string(ts) && efi_time_parse(json_string_value(ts), ret->timestamp) < 0)
                r = SHIELD_E_FORMAT;
        json_decref(root);
        return r;
}

int shield_defaults_source_set(const char *dir, const char *var, const struct shield_defaults_source *src) {
        if (!dir || !var || !src)
                return SHIELD_E_INVAL;
        json_t *root = NULL;
        int r = sources_load(dir, &root);
        if (r == SHIELD_E_FORMAT) /* what set writes is replaced, not merged into garbage */
                root = json_object(), r = root ? 0 : SHIELD_E_NOMEM;
        if (r < 0)
                return r;
        char ts[32] = "";
        if (!time_zero(src->timestamp))
                shield_efi_time_format(src->timestamp, ts);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "source", src->source, "path", src->path, "date", src->date, "stored",
                              src->stored);
        if (o && ts[0])
                json_object_set_new(o, "timestamp", json_string(ts));
        char *text = NULL, *path = NULL;
        if (!o || json_object_set_new(root, var, o) < 0 ||
            !(text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS)) ||
            asprintf(&path, "%s/%s", dir, SHIELD_DEFAULTS_SOURCES_FILE) < 0) {
                r = SHIELD_E_NOMEM;
        } else {
                size_t n = strlen(text);
                text[n] = '\n'; /* the NUL becomes the final newline */
                r = shield_write_file_atomic(path, text, n + 1, 0644) < 0 ? SHIELD_E_SYSTEM : 0;
        }
        free(text);
        free(path);
        json_decref(root);
        return r;
}

/* Every X.509 certificate of a value (X509 entries and EFI_CERT_X509 entries of BIN lists), as pointers into v. */
struct certs {
        size_t n;
        const uint8_t *der[SHIELD_INITIAL_STATE_ENTRIES_MAX];
        size_t len[SHIELD_INITIAL_STATE_ENTRIES_MAX];
        struct shield_siglist lists[SHIELD_INITIAL_STATE_ENTRIES_MAX];
        size_t n_lists;
};

static void certs_collect(const struct shield_is_value *v, struct certs *c) {
        for (size_t i = 0; i < v->n; i++) {
                const struct shield_is_entry *e = &v->entries[i];
                if (e->type == SHIELD_IS_X509) {
                        if (c->n < SHIELD_INITIAL_STATE_ENTRIES_MAX) {
                                c->der[c->n] = e->content;
                                c->len[c->n++] = e->len;
                        }
                        continue;
                }
                if (c->n_lists >= SHIELD_INITIAL_STATE_ENTRIES_MAX ||
                    shield_siglist_parse(e->content, e->len, &c->lists[c->n_lists], NULL) < 0)
                        continue;
                const struct shield_siglist *l = &c->lists[c->n_lists++];
                for (size_t k = 0; k < l->n && c->n < SHIELD_INITIAL_STATE_ENTRIES_MAX; k++)
                        if (shield_guid_eq(&l->entries[k].type, &SHIELD_GUID_CERT_X509)) {
                                c->der[c->n] = l->entries[k].data;
                                c->len[c->n++] = l->entries[k].size;
                        }
        }
}

static void certs_clear(struct certs *c) {
        for (size_t i = 0; i < c->n_lists; i++)
                shield_siglist_clear(&c->lists[i]);
        c->n = c->n_lists = 0;
}

/*
 * The firmware's append (UEFI 2.10, 8.2.1: a signature already in db or dbx
 * is not added again): cur, then each list of add reduced to the entries
 * cur does not hold (same SignatureType and data). O(|cur| · |add|)
 * comparisons; both come from files capped at SHIELD_DEFAULTS_UPDATE_MAX.
 */
static int esl_merge(const uint8_t *cur, size_t cur_len, const uint8_t *add, size_t add_len, uint8_t **ret,
                     size_t *ret_len) {
        struct shield_siglist a = { 0 }, b = { 0 };
        int r;
        if (cur_len && (r = shield_siglist_parse(cur, cur_len, &a, NULL)) < 0)
                return r;
        if ((r = shield_siglist_parse(add, add_len, &b, NULL)) < 0) {
                shield_siglist_clear(&a);
                return r;
        }
        bool *keep = calloc(b.n ? b.n : 1, sizeof *keep);
        uint8_t *out = malloc(cur_len + add_len ? cur_len + add_len : 1);
        if (!keep || !out) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        for (size_t j = 0; j < b.n; j++) {
                keep[j] = true;
                for (size_t i = 0; i < a.n && keep[j]; i++)
                        if (shield_guid_eq(&a.entries[i].type, &b.entries[j].type) && a.entries[i].size == b.entries[j].size &&
                            memcmp(a.entries[i].data, b.entries[j].data, b.entries[j].size) == 0)
                                keep[j] = false;
                for (size_t k = 0; k < j && keep[j]; k++) /* a list may repeat itself */
                        if (keep[k] && shield_guid_eq(&b.entries[k].type, &b.entries[j].type) &&
                            b.entries[k].size == b.entries[j].size &&
                            memcmp(b.entries[k].data, b.entries[j].data, b.entries[j].size) == 0)
                                keep[j] = false;
        }
        /* The output is never larger than cur plus add: each new list is a subset of one of add's lists. */
        struct wr w = wr_init(out, cur_len + add_len);
        wr_bytes(&w, cur, cur_len);
        for (size_t j = 0; j < b.n;) {
                size_t end = j, kept = 0;
                while (end < b.n && b.entries[end].list_index == b.entries[j].list_index)
                        kept += keep[end++];
                if (kept) {
                        size_t sig_size = 16 + b.entries[j].size;
                        wr_bytes(&w, b.entries[j].type.b, 16);
                        wr_le32(&w, (uint32_t)(ESL_HEADER + kept * sig_size));
                        wr_le32(&w, 0);
                        wr_le32(&w, (uint32_t)sig_size);
                        for (size_t k = j; k < end; k++)
                                if (keep[k]) {
                                        wr_bytes(&w, b.entries[k].owner.b, 16);
                                        wr_bytes(&w, b.entries[k].data, b.entries[k].size);
                                }
                }
                j = end;
        }
        if ((r = wr_ok(&w)) < 0)
                goto out;
        *ret_len = w.len;
        *ret = out;
        out = NULL;
        r = 0;
out:
        free(keep);
        free(out);
        shield_siglist_clear(&a);
        shield_siglist_clear(&b);
        return r;
}

static const struct shield_is_value *value_of(const struct shield_initial_state *st, const char *var) {
        return strcmp(var, "KEK") == 0 ? &st->keks : strcmp(var, "db") == 0 ? &st->dbs : &st->dbxs;
}

/* Which of dbx, db, KEK the signature is over, under which stored certificate, with or without APPEND_WRITE. */
static bool find_signer(const struct shield_initial_state *defaults, const struct shield_authvar2 *a,
                        struct shield_defaults_update *u, bool *bad_pkcs7) {
        static const char *const vars[] = { "dbx", "db", "KEK" };
        bool found = false;

        for (size_t v = 0; v < 3 && !found; v++) {
                shield_guid vendor;
                struct certs c = { 0 };
                if (shield_secure_boot_var_vendor(vars[v], &vendor) < 0)
                        continue;
                certs_collect(strcmp(vars[v], "KEK") == 0 ? &defaults->pk : &defaults->keks, &c);
                for (int ap = 0; ap < 2 && !found; ap++) {
                        uint32_t attrs = SHIELD_VAR_SECURE_BOOT_DB | (ap ? SHIELD_VAR_APPEND_WRITE : 0);
                        uint8_t *tbs = NULL;
                        size_t tbs_len;
                        if (shield_authvar2_signed_bytes(vars[v], &vendor, attrs, a->timestamp, a->payload, a->payload_size,
                                                         &tbs, &tbs_len) < 0)
                                continue;
                        for (size_t i = 0; i < c.n && !found; i++) {
                                int s = shield_pkcs7_verify_detached(a->pkcs7, a->pkcs7_size, tbs, tbs_len, c.der[i], c.len[i]);
                                *bad_pkcs7 |= s == SHIELD_E_FORMAT;
                                if (s != 0)
                                        continue;
                                struct shield_x509_info info;
                                found = true;
                                snprintf(u->var, sizeof u->var, "%s", vars[v]);
                                u->append = ap;
                                if (shield_x509_info(c.der[i], c.len[i], &info) == 0) {
                                        snprintf(u->signer, sizeof u->signer, "%s", info.subject);
                                        memcpy(u->signer_sha1, info.sha1, 20);
                                }
                        }
                        free(tbs);
                }
                certs_clear(&c);
        }
        return found;
}

int shield_defaults_update(const char *dir, const struct shield_initial_state *defaults, const uint8_t *buf, size_t len,
                           const char *source_path, struct shield_defaults_update *ret, struct shield_diag *diag) {
        if (!dir || !defaults || !buf || !ret)
                return SHIELD_E_INVAL;
        if (len > SHIELD_DEFAULTS_UPDATE_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "over %u bytes", SHIELD_DEFAULTS_UPDATE_MAX);
        struct shield_authvar2 a;
        struct shield_defaults_update u = { 0 };
        int r = shield_authvar2_parse(buf, len, &a, diag);
        if (r < 0)
                return r;
        memcpy(u.timestamp, a.timestamp, 16);
        if (a.payload_size && shield_esl_count(a.payload, a.payload_size) == 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, len - a.payload_size, -1,
                                        "the %zu bytes after the signature are not EFI_SIGNATURE_LISTs", a.payload_size);
        bool bad_pkcs7 = false;
        if (!find_signer(defaults, &a, &u, &bad_pkcs7)) {
                if (bad_pkcs7)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 40, -1, "the certificate data is not a PKCS#7 SignedData");
                u.outcome = SHIELD_DEFAULTS_NOT_SIGNED;
                *ret = u;
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 40, -1,
                                        "the signature verifies under no stored KEK certificate (as an update of dbx or "
                                        "db) and not under the platform PK (as an update of KEK)");
        }
        if (!u.append && a.payload_size == 0)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, len, -1,
                                        "an update deleting %s: the defaults keep a value for every variable", u.var);

        struct shield_defaults_source src;
        if ((r = shield_defaults_source_get(dir, u.var, &src)) < 0 && r != SHIELD_E_NOT_FOUND)
                return shield_diag_fail(diag, r, 0, -1, "%s/%s: unreadable", dir, SHIELD_DEFAULTS_SOURCES_FILE);
        memcpy(u.stored_timestamp, src.timestamp, 16);
        if (shield_efi_time_cmp(a.timestamp, src.timestamp) < 0) {
                char have[32], got[32];
                shield_efi_time_format(src.timestamp, have);
                shield_efi_time_format(a.timestamp, got);
                u.outcome = SHIELD_DEFAULTS_OLDER;
                *ret = u;
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                        "its TimeStamp %s is older than the stored %s's, %s", got, u.var, have);
        }

        static const shield_guid owner = { 0 };
        uint8_t *cur = NULL, *next = NULL;
        size_t cur_len = 0, next_len = 0;
        char *path = NULL;
        if ((r = shield_initial_state_esl(value_of(defaults, u.var), &owner, &cur, &cur_len)) < 0)
                return shield_diag_fail(diag, r, 0, -1, "the stored %s is not signature lists", u.var);
        u.entries_before = shield_esl_count(cur, cur_len);
        if (u.append) {
                r = esl_merge(cur, cur_len, a.payload, a.payload_size, &next, &next_len);
        } else if ((next = malloc(a.payload_size))) {
                memcpy(next, a.payload, a.payload_size);
                next_len = a.payload_size;
        } else {
                r = SHIELD_E_NOMEM;
        }
        if (r < 0)
                goto out;
        u.entries_after = shield_esl_count(next, next_len);
        if (next_len == cur_len && memcmp(next, cur, cur_len) == 0 && shield_efi_time_cmp(a.timestamp, src.timestamp) == 0) {
                u.outcome = SHIELD_DEFAULTS_UNCHANGED;
                *ret = u;
                r = 0;
                goto out;
        }
        struct shield_defaults_source now = { 0 };
        time_t t = time(NULL);
        struct tm tm;
        snprintf(now.source, sizeof now.source, "shield defaults update");
        snprintf(now.path, sizeof now.path, "%s", source_path ? source_path : "");
        if (gmtime_r(&t, &tm)) {
                strftime(now.stored, sizeof now.stored, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        memcpy(now.timestamp, a.timestamp, 16);
        if (asprintf(&path, "%s/%s.esl", dir, u.var) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (shield_write_file_atomic(path, next, next_len, 0644) < 0 || shield_defaults_source_set(dir, u.var, &now) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: cannot write: %s", dir, strerror(errno));
                goto out;
        }
        u.outcome = SHIELD_DEFAULTS_APPLIED;
        *ret = u;
        r = 0;
out:
        free(path);
        free(cur);
        free(next);
        return r;
}
