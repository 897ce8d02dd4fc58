/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/util.h"

/* SHA-1 thumbprints of the Microsoft certificates the platform defaults name. */
static const uint8_t MS_KEK_CA_2011[20] = { 0x31, 0x59, 0x0b, 0xfd, 0x89, 0xc9, 0xd7, 0x4e, 0xd0, 0x87,
                                            0xdf, 0xac, 0x66, 0x33, 0x4b, 0x39, 0x31, 0x25, 0x4b, 0x30 };
static const uint8_t MS_WIN_PCA_2011[20] = { 0x58, 0x0a, 0x6f, 0x4c, 0xc4, 0xe4, 0xb6, 0x69, 0xb9, 0xeb,
                                             0xdc, 0x1b, 0x2b, 0x3e, 0x08, 0x7b, 0x80, 0xd0, 0x67, 0x8d };
static const uint8_t MS_UEFI_CA_2011[20] = { 0x46, 0xde, 0xf6, 0x3b, 0x5c, 0xe6, 0x1c, 0xf8, 0xba, 0x0d,
                                             0xe2, 0xe6, 0x63, 0x9c, 0x10, 0x19, 0xd0, 0xed, 0x14, 0xf3 };

static void value_clear(struct shield_is_value *v) {
        for (size_t i = 0; i < v->n; i++)
                free(v->entries[i].content);
        free(v->entries);
        *v = (struct shield_is_value){ 0 };
}

void shield_initial_state_clear(struct shield_initial_state *st) {
        if (!st)
                return;
        value_clear(&st->pk);
        value_clear(&st->keks);
        value_clear(&st->dbs);
        value_clear(&st->dbxs);
}

const char *shield_initial_state_field(const struct shield_initial_state *st, const struct shield_is_value *v) {
        return v == &st->pk ? "pk" : v == &st->keks ? "keks" : v == &st->dbs ? "dbs" : "dbxs";
}

static int push(struct shield_is_value *v, enum shield_is_file_type type, uint8_t *content, size_t len) {
        if (v->n >= SHIELD_INITIAL_STATE_ENTRIES_MAX)
                return SHIELD_E_LIMIT;
        struct shield_is_entry *e = reallocarray(v->entries, v->n + 1, sizeof *e);
        if (!e)
                return SHIELD_E_NOMEM;
        v->entries = e;
        v->entries[v->n++] = (struct shield_is_entry){ type, content, len };
        v->set = true;
        return 0;
}

/* Classify bytes: a certificate (→ DER), or signature lists (a signed update is unwrapped). */
static int classify(const uint8_t *buf, size_t len, enum shield_is_file_type *ret_type, uint8_t **ret, size_t *ret_len) {
        shield_guid zero = { 0 };
        bool cert = false;
        uint8_t *out = NULL;
        size_t out_len = 0;

        if (shield_x509_load(buf, len, &out, &out_len) == 0) {
                *ret_type = SHIELD_IS_X509;
                *ret = out;
                *ret_len = out_len;
                return 0;
        }
        int r = shield_siglist_append_input(&out, &out_len, &zero, buf, len, &cert);
        if (r < 0)
                return r;
        /*
         * A signed update with no payload (a deletion) carries no database:
         * as BIN it would be empty content, which no reader accepts back.
         */
        if (out_len == 0) {
                free(out);
                return SHIELD_E_FORMAT;
        }
        *ret_type = SHIELD_IS_BIN;
        *ret = out;
        *ret_len = out_len;
        return 0;
}

int shield_initial_state_add(struct shield_is_value *v, const uint8_t *buf, size_t len) {
        enum shield_is_file_type type;
        uint8_t *content = NULL;
        size_t n = 0;
        int r = classify(buf, len, &type, &content, &n);
        if (r < 0)
                return r;
        r = push(v, type, content, n);
        if (r < 0)
                free(content);
        return r;
}

/*
 * One {content, fileType} entry. Messages name the field by its path in the
 * document ("pk.fileType", "keks[1].content") so a user can find it.
 */
static int parse_entry(json_t *o, const char *field, bool is_list, size_t index, struct shield_is_value *v,
                       struct shield_diag *diag) {
        char at[32];
        long rec = is_list ? (long)index : -1;
        uint8_t *bytes = NULL;
        size_t len = 0;

        if (is_list)
                snprintf(at, sizeof at, "%s[%zu]", field, index);
        else
                snprintf(at, sizeof at, "%s", field);
        if (!json_is_object(o))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec,
                                        "%s: expected {\"content\": BASE64, \"fileType\": \"X509\"|\"BIN\"}", at);
        const char *key;
        json_t *val;
        json_object_foreach(o, key, val) {
                if (strcmp(key, "content") != 0 && strcmp(key, "fileType") != 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.%s: unknown field (content, fileType)",
                                                at, key);
        }
        json_t *content = json_object_get(o, "content"), *ft = json_object_get(o, "fileType");
        if (!ft)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.fileType: missing (X509 or BIN)", at);
        if (!json_is_string(ft))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.fileType: expected a string, X509 or BIN", at);
        const char *type = json_string_value(ft);
        if (strcmp(type, "X509") != 0 && strcmp(type, "BIN") != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.fileType: \"%s\" is not X509 or BIN", at, type);
        if (!content)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.content: missing (base64)", at);
        if (!json_is_string(content))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.content: expected a base64 string", at);
        if (shield_base64_decode(json_string_value(content), json_string_length(content), &bytes, &len) < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.content: not base64", at);
        enum shield_is_file_type got;
        uint8_t *norm = NULL;
        size_t norm_len = 0;
        int r = classify(bytes, len, &got, &norm, &norm_len);
        free(bytes);
        if (r < 0 || (got == SHIELD_IS_X509) != (strcmp(type, "X509") == 0)) {
                free(norm);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, rec, "%s.content: not %s (fileType %s)", at,
                                        strcmp(type, "X509") == 0 ? "a DER X.509 certificate" : "EFI signature lists",
                                        type);
        }
        r = push(v, got, norm, norm_len);
        if (r < 0) {
                free(norm);
                if (r == SHIELD_E_LIMIT)
                        return shield_diag_fail(diag, r, 0, rec, "%s: more than %u entries", field,
                                                SHIELD_INITIAL_STATE_ENTRIES_MAX);
        }
        return r;
}

int shield_initial_state_parse(const char *text, size_t len, struct shield_initial_state *ret, struct shield_diag *diag) {
        if (!text || !ret)
                return SHIELD_E_INVAL;
        if (len > SHIELD_INITIAL_STATE_JSON_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "over %u bytes", SHIELD_INITIAL_STATE_JSON_MAX);
        json_error_t jerr;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)jerr.position, -1, "not JSON (line %d): %s", jerr.line,
                                        jerr.text);
        struct shield_initial_state st = { 0 };
        int r = 0;
        const char *key;
        json_t *val;

        if (!json_is_object(root)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "expected an object {pk, keks, dbs, dbxs}");
                goto out;
        }
        json_object_foreach(root, key, val) {
                struct shield_is_value *v = strcmp(key, "pk") == 0     ? &st.pk
                                            : strcmp(key, "keks") == 0 ? &st.keks
                                            : strcmp(key, "dbs") == 0  ? &st.dbs
                                            : strcmp(key, "dbxs") == 0 ? &st.dbxs
                                                                       : NULL;
                if (!v) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "unknown field \"%s\" (pk, keks, dbs, dbxs)", key);
                        goto out;
                }
                if (v == &st.pk) {
                        r = parse_entry(val, key, false, 0, v, diag);
                } else if (!json_is_array(val) || json_array_size(val) == 0) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: expected a non-empty array", key);
                } else {
                        size_t i;
                        json_t *e;
                        json_array_foreach(val, i, e) {
                                if ((r = parse_entry(e, key, true, i, v, diag)) < 0)
                                        break;
                        }
                }
                if (r < 0)
                        goto out;
        }
        if (st.pk.set && st.pk.entries[0].type != SHIELD_IS_X509) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "pk.fileType: must be X509 (the PK is one certificate)");
                goto out;
        }
        *ret = st;
        memset(&st, 0, sizeof st);
out:
        shield_initial_state_clear(&st);
        json_decref(root);
        return r;
}

static json_t *entry_json(const struct shield_is_entry *e) {
        char *b64 = shield_base64_encode(e->content, e->len);
        json_t *o = json_pack("{s:s, s:s}", "content", b64 ? b64 : "", "fileType", e->type == SHIELD_IS_X509 ? "X509" : "BIN");
        free(b64);
        return o;
}

char *shield_initial_state_to_json(const struct shield_initial_state *st) {
        json_t *root = json_object();
        const struct shield_is_value *lists[] = { &st->keks, &st->dbs, &st->dbxs };
        const char *names[] = { "keks", "dbs", "dbxs" };

        if (st->pk.set && st->pk.n)
                json_object_set_new(root, "pk", entry_json(&st->pk.entries[0]));
        for (size_t k = 0; k < 3; k++) {
                if (!lists[k]->set)
                        continue;
                json_t *arr = json_array();
                for (size_t i = 0; i < lists[k]->n; i++)
                        json_array_append_new(arr, entry_json(&lists[k]->entries[i]));
                json_object_set_new(root, names[k], arr);
        }
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        return text;
}

static int copy_value(const struct shield_is_value *from, struct shield_is_value *to) {
        for (size_t i = 0; i < from->n; i++) {
                uint8_t *c = malloc(from->entries[i].len ? from->entries[i].len : 1);
                if (!c)
                        return SHIELD_E_NOMEM;
                memcpy(c, from->entries[i].content, from->entries[i].len);
                int r = push(to, from->entries[i].type, c, from->entries[i].len);
                if (r < 0) {
                        free(c);
                        return r;
                }
        }
        to->set = from->set;
        return 0;
}

/* Find a certificate with this SHA-1 thumbprint in one directory (any file name, DER or PEM). */
static int find_cert_in(const char *certs, const uint8_t sha1[20], struct shield_is_value *v) {
        DIR *d = opendir(certs);
        struct dirent *de;
        int r = SHIELD_E_NOT_FOUND;

        while (d && r == SHIELD_E_NOT_FOUND && (de = readdir(d))) {
                char *path = NULL;
                uint8_t *buf = NULL, *der = NULL;
                size_t len, der_len;
                struct shield_x509_info info;
                if (de->d_name[0] == '.' || asprintf(&path, "%s/%s", certs, de->d_name) < 0)
                        continue;
                if (shield_read_file(path, 1 << 20, &buf, &len) == 0 && shield_x509_load(buf, len, &der, &der_len) == 0 &&
                    shield_x509_info(der, der_len, &info) == 0 && memcmp(info.sha1, sha1, 20) == 0) {
                        r = push(v, SHIELD_IS_X509, der, der_len);
                        if (r == 0)
                                der = NULL;
                }
                free(der);
                free(buf);
                free(path);
        }
        if (d)
                closedir(d);
        return r;
}

/* DIR/certs first (the uefi-ms layout), then DIR itself (a flat directory of certificates). */
static int find_cert(const char *dir, const uint8_t sha1[20], struct shield_is_value *v) {
        char *certs = NULL;
        if (asprintf(&certs, "%s/certs", dir) < 0)
                return SHIELD_E_NOMEM;
        int r = find_cert_in(certs, sha1, v);
        free(certs);
        return r == SHIELD_E_NOT_FOUND ? find_cert_in(dir, sha1, v) : r;
}

/*
 * The x64 revocation list. Nothing inside a DBX update names its
 * architecture, so this one is found by name: Microsoft's current
 * DBXUpdate-amd64.bin (or DBXUpdate.bin as uefi.org served it), else the
 * newest revocationlist/dbxupdate_x64-DATE.bin.
 */
static int read_dbx(const char *dir, uint8_t **ret, size_t *ret_len, char **ret_path) {
        static const char *const names[] = { "dbx/DBXUpdate-amd64.bin", "dbx/DBXUpdate.bin", "DBXUpdate-amd64.bin",
                                             "DBXUpdate.bin" };
        char *path = NULL;

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        return SHIELD_E_NOMEM;
                if (shield_read_file(path, 16u << 20, ret, ret_len) == 0) {
                        *ret_path = path;
                        return 0;
                }
                free(path);
        }
        /* Dated names sort by date: the last one is the newest. */
        char *rl = NULL, *best = NULL;
        if (asprintf(&rl, "%s/revocationlist", dir) < 0)
                return SHIELD_E_NOMEM;
        DIR *d = opendir(rl);
        for (struct dirent *de; d && (de = readdir(d));) {
                size_t n = strlen(de->d_name);
                if (strncmp(de->d_name, "dbxupdate_x64", 13) != 0 || n < 4 || strcmp(de->d_name + n - 4, ".bin") != 0)
                        continue;
                if (!best || strcmp(de->d_name, best) > 0) {
                        free(best);
                        best = strdup(de->d_name);
                }
        }
        if (d)
                closedir(d);
        int r = SHIELD_E_NOT_FOUND;
        if (best && asprintf(&path, "%s/%s", rl, best) > 0) {
                r = shield_read_file(path, 16u << 20, ret, ret_len) == 0 ? 0 : SHIELD_E_NOT_FOUND;
                if (r == 0)
                        *ret_path = path;
                else
                        free(path);
        }
        free(best);
        free(rl);
        return r;
}

/* DIR/VAR.esl, the value `shield defaults update` stored: absent leaves v unset. */
static int read_stored(const char *dir, const char *var, struct shield_is_value *v, struct shield_diag *diag) {
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (asprintf(&path, "%s/%s.esl", dir, var) < 0)
                return SHIELD_E_NOMEM;
        int r = 0;
        if (shield_read_file(path, SHIELD_DEFAULTS_UPDATE_MAX, &buf, &len) == 0 &&
            (r = shield_initial_state_add(v, buf, len)) < 0)
                r = shield_diag_fail(diag, r, 0, -1, "%s: not signature lists", path);
        free(buf);
        free(path);
        return r;
}

int shield_initial_state_defaults(const char *dir, const uint8_t *pk_der, size_t pk_len, struct shield_initial_state *ret,
                                  struct shield_diag *diag) {
        if (!dir || !ret)
                return SHIELD_E_INVAL;
        struct shield_initial_state st = { 0 };
        int r;
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len;

        if (pk_der && (r = shield_initial_state_add(&st.pk, pk_der, pk_len)) < 0)
                goto out;
        /* A value `shield defaults update` stored wins over the lookup below. */
        if ((r = read_stored(dir, "KEK", &st.keks, diag)) < 0 || (r = read_stored(dir, "db", &st.dbs, diag)) < 0 ||
            (r = read_stored(dir, "dbx", &st.dbxs, diag)) < 0)
                goto out;
        if (!st.keks.set && (r = find_cert(dir, MS_KEK_CA_2011, &st.keks)) < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "%s/certs: no Microsoft Corporation KEK CA 2011 (SHA-1 31590bfd…)", dir);
                goto out;
        }
        if (!st.dbs.set && ((r = find_cert(dir, MS_WIN_PCA_2011, &st.dbs)) < 0 ||
                            (r = find_cert(dir, MS_UEFI_CA_2011, &st.dbs)) < 0)) {
                r = shield_diag_fail(diag, r, 0, -1,
                                     "%s/certs: needs Microsoft Windows Production PCA 2011 (580a6f4c…) and Microsoft "
                                     "Corporation UEFI CA 2011 (46def63b…)", dir);
                goto out;
        }
        if (st.dbxs.set)
                goto done;
        if (read_dbx(dir, &buf, &len, &path) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                     "%s: no UEFI revocation list (dbx/DBXUpdate-amd64.bin or "
                                     "revocationlist/dbxupdate_x64-*.bin)", dir);
                goto out;
        }
        if ((r = shield_initial_state_add(&st.dbxs, buf, len)) < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "%s: not a signed update or signature lists", path);
                goto out;
        }
done:
        *ret = st;
        memset(&st, 0, sizeof st);
        r = 0;
out:
        free(buf);
        free(path);
        shield_initial_state_clear(&st);
        return r;
}

static bool has_cert(const struct shield_is_value *v, const uint8_t sha1[20]) {
        for (size_t i = 0; i < v->n; i++) {
                struct shield_x509_info info;
                if (v->entries[i].type == SHIELD_IS_X509) {
                        if (shield_x509_info(v->entries[i].content, v->entries[i].len, &info) == 0 &&
                            memcmp(info.sha1, sha1, 20) == 0)
                                return true;
                        continue;
                }
                struct shield_siglist l;
                if (shield_siglist_parse(v->entries[i].content, v->entries[i].len, &l, NULL) < 0)
                        continue;
                for (size_t k = 0; k < l.n; k++)
                        if (shield_guid_eq(&l.entries[k].type, &SHIELD_GUID_CERT_X509) &&
                            shield_x509_info(l.entries[k].data, l.entries[k].size, &info) == 0 &&
                            memcmp(info.sha1, sha1, 20) == 0) {
                                shield_siglist_clear(&l);
                                return true;
                        }
                shield_siglist_clear(&l);
        }
        return false;
}

int shield_initial_state_resolve(const struct shield_initial_state *st, const struct shield_initial_state *defaults,
                                 struct shield_initial_state *ret, struct shield_reasons *warnings) {
        if (!st || !defaults || !ret)
                return SHIELD_E_INVAL;
        struct shield_initial_state out = { 0 };
        const struct shield_is_value *own[] = { &st->pk, &st->keks, &st->dbs, &st->dbxs };
        const struct shield_is_value *def[] = { &defaults->pk, &defaults->keks, &defaults->dbs, &defaults->dbxs };
        struct shield_is_value *to[] = { &out.pk, &out.keks, &out.dbs, &out.dbxs };
        int r = 0;

        for (size_t k = 0; k < 4 && r == 0; k++)
                /* A value given replaces the default whole: never merged. */
                r = copy_value(own[k]->set ? own[k] : def[k], to[k]);
        if (r == 0 && !out.pk.n)
                r = SHIELD_E_NOT_FOUND; /* no PK given and no platform PK */
        if (r == 0 && st->dbs.set && warnings && !has_cert(&out.dbs, MS_UEFI_CA_2011))
                r = shield_reasons_add(warnings, "db-without-microsoft-uefi-ca", SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX,
                                       "the custom db lacks the Microsoft Corporation UEFI CA 2011: option ROMs "
                                       "(GPUs, NICs) on real hardware will not load");
        if (r < 0) {
                shield_initial_state_clear(&out);
                return r;
        }
        *ret = out;
        return 0;
}

int shield_initial_state_esl(const struct shield_is_value *v, const shield_guid *owner, uint8_t **ret, size_t *ret_len) {
        uint8_t *out = NULL;
        size_t len = 0;
        int r = 0;

        if (!v || !owner || !ret || !ret_len)
                return SHIELD_E_INVAL;
        for (size_t i = 0; i < v->n && r == 0; i++)
                r = shield_siglist_append_input(&out, &len, owner, v->entries[i].content, v->entries[i].len, NULL);
        if (r < 0) {
                free(out);
                return r;
        }
        *ret = out;
        *ret_len = len;
        return 0;
}
