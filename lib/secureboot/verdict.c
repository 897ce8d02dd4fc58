/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"
#include "shield/util.h"

#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002

struct certs {
        size_t n;
        const uint8_t **der;
        size_t *len;
};

static int collect_certs(const struct shield_siglist *l, struct certs *c) {
        c->n = 0;
        c->der = calloc(l->n ? l->n : 1, sizeof *c->der);
        c->len = calloc(l->n ? l->n : 1, sizeof *c->len);
        if (!c->der || !c->len)
                return SHIELD_E_NOMEM;
        for (size_t i = 0; i < l->n; i++)
                if (shield_guid_eq(&l->entries[i].type, &SHIELD_GUID_CERT_X509)) {
                        c->der[c->n] = l->entries[i].data;
                        c->len[c->n++] = l->entries[i].size;
                }
        return 0;
}

static void free_certs(struct certs *c) {
        free(c->der);
        free(c->len);
}

static bool has_hash(const struct shield_siglist *l, const shield_guid *type, const uint8_t *hash, size_t n) {
        for (size_t i = 0; i < l->n; i++)
                if (shield_guid_eq(&l->entries[i].type, type) && l->entries[i].size >= n &&
                    memcmp(l->entries[i].data, hash, n) == 0)
                        return true;
        return false;
}

static void subject_of(const uint8_t *der, size_t len, char *out, size_t out_len) {
        struct shield_x509_info info;
        if (shield_x509_info(der, len, &info) == 0)
                snprintf(out, out_len, "%s", info.subject);
}

/* A certificate of the signature whose TBS hash dbx lists (EFI_CERT_X509_SHA256). */
static bool revoked_by_tbs(const struct shield_pe_signature *s, const struct shield_siglist *dbx, char *subject,
                           size_t subject_len) {
        uint8_t **certs = NULL;
        size_t *lens = NULL, n = 0;
        bool hit = false;

        if (shield_authenticode_chain(s->data, s->size, &certs, &lens, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                uint8_t tbs[32];
                if (!hit && shield_x509_tbs_hash(certs[i], lens[i], SHIELD_ALG_SHA256, tbs) == 0 &&
                    has_hash(dbx, &SHIELD_GUID_CERT_X509_SHA256, tbs, 32)) {
                        subject_of(certs[i], lens[i], subject, subject_len);
                        hit = true;
                }
                free(certs[i]);
        }
        free(certs);
        free(lens);
        return hit;
}

static void set(struct shield_sb_verdict *v, bool pass, const char *match, const char *reason) {
        v->pass = pass;
        v->match = match;
        snprintf(v->reason, sizeof v->reason, "%s", reason);
}

int shield_sb_check(const uint8_t *image, size_t len, const struct shield_sb_databases *dbs, struct shield_sb_verdict *ret,
                    struct shield_diag *diag) {
        if (!image || !dbs || !ret)
                return SHIELD_E_INVAL;
        struct shield_pe pe;
        struct shield_siglist db = { 0 }, dbx = { 0 };
        struct shield_sb_verdict v = { 0 };
        struct certs db_certs_s = { 0 }, dbx_certs_s = { 0 }, *db_certs = &db_certs_s, *dbx_certs = &dbx_certs_s;
        uint8_t digest[32];
        int r;

        if ((r = shield_pe_parse(image, len, &pe, diag)) < 0)
                return r;
        if ((r = shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, digest)) < 0)
                return r;
        shield_hex_encode(digest, 32, v.image_digest);
        v.n_signatures = pe.n_signatures;
        if ((r = shield_siglist_parse(dbs->db, dbs->db_len, &db, diag)) < 0)
                return r;
        if ((r = shield_siglist_parse(dbs->dbx, dbs->dbx_len, &dbx, diag)) < 0)
                goto out;
        if ((r = collect_certs(&db, db_certs)) < 0 || (r = collect_certs(&dbx, dbx_certs)) < 0)
                goto out;

        /* dbx first, always. */
        if (has_hash(&dbx, &SHIELD_GUID_CERT_SHA256, digest, 32)) {
                set(&v, false, "DBX_HASH_MATCH", "the image's hash is in dbx (revoked)");
                goto done;
        }
        bool any_valid_digest = false;
        char why[600] = "";
        for (size_t i = 0; i < pe.n_signatures; i++) {
                const struct shield_pe_signature *s = &pe.signatures[i];
                struct shield_authenticode a;
                size_t anchor;

                if (s->type != WIN_CERT_TYPE_PKCS_SIGNED_DATA || shield_authenticode_parse(s->data, s->size, &a) < 0) {
                        snprintf(why, sizeof why, "signature %zu is not an Authenticode PKCS#7 signature", i);
                        continue;
                }
                if (a.digest_alg != SHIELD_ALG_SHA256 || a.digest_size != 32 || memcmp(a.digest, digest, 32) != 0) {
                        snprintf(why, sizeof why, "signature %zu (%s) signs a different digest than the image's", i,
                                 a.signer_subject);
                        continue;
                }
                any_valid_digest = true;
                if (dbx_certs->n &&
                    shield_authenticode_verify(s->data, s->size, dbx_certs->der, dbx_certs->len, dbx_certs->n, &anchor) == 0) {
                        subject_of(dbx_certs->der[anchor], dbx_certs->len[anchor], v.cert_subject, sizeof v.cert_subject);
                        set(&v, false, "DBX_CERT_MATCH", "a certificate of its signature chain is in dbx (revoked)");
                        goto done;
                }
                if (revoked_by_tbs(s, &dbx, v.cert_subject, sizeof v.cert_subject)) {
                        set(&v, false, "DBX_CERT_HASH_MATCH", "a certificate of its signature chain is in dbx by hash (revoked)");
                        goto done;
                }
                if (db_certs->n &&
                    shield_authenticode_verify(s->data, s->size, db_certs->der, db_certs->len, db_certs->n, &anchor) == 0) {
                        subject_of(db_certs->der[anchor], db_certs->len[anchor], v.cert_subject, sizeof v.cert_subject);
                        set(&v, true, "DB_CERT_MATCH", "its signature chains to a db certificate");
                        goto done;
                }
                snprintf(v.cert_subject, sizeof v.cert_subject, "%s", a.signer_subject);
                snprintf(why, sizeof why, "signed by %s, which does not chain to any db certificate", a.signer_subject);
        }
        if (has_hash(&db, &SHIELD_GUID_CERT_SHA256, digest, 32)) {
                set(&v, true, "DB_HASH_MATCH", "the image's hash is in db");
                goto done;
        }
        set(&v, false, "NO_CERT_MATCH",
            pe.n_signatures == 0 ? "the image is not signed and its hash is not in db"
            : why[0]             ? why
            : any_valid_digest   ? "no signature chains to a db certificate"
                                 : "no usable signature");
done:
        *ret = v;
        r = 0;
out:
        free_certs(db_certs);
        free_certs(dbx_certs);
        shield_siglist_clear(&db);
        shield_siglist_clear(&dbx);
        return r;
}

char *shield_sb_event_line(const struct shield_sb_verdict *v) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", v->pass ? "Pass" : "Fail", "msg",
                              v->pass ? "The EFI executable loaded successfully"
                                      : "The EFI executable failed to load. It's not signed, or the signature (or hash) did not match entries in DB",
                              "SB_Variable_Match", v->match, "CertSubject", v->cert_subject, "ImageDigest", v->image_digest);
        char *body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        char *line = NULL;
        if (body && asprintf(&line, "SB_EVENT: %s", body) < 0)
                line = NULL;
        free(body);
        json_decref(o);
        return line;
}
