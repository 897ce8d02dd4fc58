/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Secure Boot image verdict, in the order edk2's
 * DxeImageVerificationHandler takes its steps (UEFI 2.10, 32.5.3.2 "Image
 * Verification Using Authenticode"):
 *
 *   unsigned image: its SHA-256 in dbx -> refused; in db -> allowed;
 *                   otherwise refused.
 *   signed image:   for every WIN_CERTIFICATE in table order, skipping ones
 *                   that are not PKCS#7 or use an unknown digest:
 *                     revoked (a dbx certificate the signature verifies to,
 *                     or a chain certificate whose TBS hash is in dbx)
 *                       -> refused, whatever earlier signatures said;
 *                     verifies to a db certificate -> allowed (so far);
 *                     the image's hash under the signature's digest
 *                     algorithm in dbx -> refused; in db -> allowed (so far);
 *                   a certificate table that its entries do not exactly
 *                   fill -> refused.
 *
 * So one good signature is enough, but one revoked signature is enough to
 * refuse: firmware stops at the first revocation it meets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/authenticode.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"
#include "shield/util.h"

#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002   /* PE/COFF spec 5.1 */
#define WIN_CERT_HEADER 8

/* The digest algorithms edk2 hashes images with (HashPeImageByType), by index. */
static const uint16_t image_algs[] = { SHIELD_ALG_SHA1, SHIELD_ALG_SHA256, SHIELD_ALG_SHA384, SHIELD_ALG_SHA512 };

/* The db/dbx entry type holding an image hash of that algorithm (UEFI 2.10, 32.4.1). */
static const shield_guid *image_hash_type(size_t k) {
        static const shield_guid *const types[] = { &SHIELD_GUID_CERT_SHA1, &SHIELD_GUID_CERT_SHA256,
                                                    &SHIELD_GUID_CERT_SHA384, &SHIELD_GUID_CERT_SHA512 };
        return types[k];
}

/* The X.509 TBS hash entry types dbx may revoke a certificate with (UEFI 2.10, 32.4.1). */
static const struct {
        const shield_guid *type;
        uint16_t alg;
} tbs_types[] = {
        { &SHIELD_GUID_CERT_X509_SHA256, SHIELD_ALG_SHA256 },
        { &SHIELD_GUID_CERT_X509_SHA384, SHIELD_ALG_SHA384 },
        { &SHIELD_GUID_CERT_X509_SHA512, SHIELD_ALG_SHA512 },
};

struct certs {
        size_t n;
        const uint8_t **der;
        size_t *len;
};

/* The image's Authenticode digests, computed on first use per algorithm. */
struct digests {
        const struct shield_pe *pe;
        bool have[4];
        uint8_t d[4][64];
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

static int image_digest(struct digests *ds, size_t k, const uint8_t **ret) {
        if (!ds->have[k]) {
                int r = shield_pe_authenticode_hash(ds->pe, image_algs[k], ds->d[k]);
                if (r < 0)
                        return r;
                ds->have[k] = true;
        }
        *ret = ds->d[k];
        return 0;
}

/* A certificate's subject: its DN and its common name. */
struct subject {
        char dn[256];
        char cn[256];
};

static void subject_of(const uint8_t *der, size_t len, struct subject *out) {
        struct shield_x509_info info;
        if (shield_x509_info(der, len, &info) == 0) {
                snprintf(out->dn, sizeof out->dn, "%s", info.subject);
                snprintf(out->cn, sizeof out->cn, "%s", info.common_name);
        }
}

static void signer_of(const struct shield_authenticode *a, struct subject *out) {
        snprintf(out->dn, sizeof out->dn, "%s", a->signer_subject);
        snprintf(out->cn, sizeof out->cn, "%s", a->signer_common_name);
}

/*
 * A certificate the signature carries whose TBS hash dbx lists
 * (EFI_CERT_X509_SHA256/384/512). Firmware would spare a certificate revoked
 * after a trusted timestamp (dbt); there is no dbt here, so any hit revokes.
 * Returns 1 on a hit, 0 on none, or a negative error.
 */
static int revoked_by_tbs(const struct shield_pe_signature *s, const struct shield_siglist *dbx, struct subject *subject) {
        uint8_t **certs = NULL;
        size_t *lens = NULL, n = 0;
        int hit = 0;

        bool any = false;
        for (size_t t = 0; t < sizeof tbs_types / sizeof tbs_types[0]; t++)
                for (size_t i = 0; i < dbx->n && !any; i++)
                        any = shield_guid_eq(&dbx->entries[i].type, tbs_types[t].type);
        if (!any)
                return 0;
        int r = shield_authenticode_chain(s->data, s->size, &certs, &lens, &n);
        if (r == SHIELD_E_NOMEM)
                return r;
        if (r < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                for (size_t t = 0; !hit && t < sizeof tbs_types / sizeof tbs_types[0]; t++) {
                        uint8_t tbs[64];
                        size_t size = shield_hash_size(tbs_types[t].alg);
                        if (shield_x509_tbs_hash(certs[i], lens[i], tbs_types[t].alg, tbs) == 0 &&
                            has_hash(dbx, tbs_types[t].type, tbs, size)) {
                                subject_of(certs[i], lens[i], subject);
                                hit = 1;
                        }
                }
                free(certs[i]);
        }
        free(certs);
        free(lens);
        return hit;
}

/*
 * Do the table's WIN_CERTIFICATEs, each padded to 8 bytes, fill it exactly?
 * Firmware refuses a signed image whose table has slack or a cut entry
 * (edk2: "the attribute certificate table is corrupted").
 */
static bool cert_table_whole(const struct shield_pe *pe) {
        size_t end = pe->cert_table_offset;
        for (size_t i = 0; i < pe->n_signatures; i++) {
                const struct shield_pe_signature *s = &pe->signatures[i];
                if (s->size == 0)
                        return false;
                end = s->offset + ((WIN_CERT_HEADER + s->size + 7) & ~(size_t)7);
        }
        return end == (size_t)pe->cert_table_offset + pe->cert_table_size;
}

static void set(struct shield_sb_verdict *v, bool pass, const char *match, const char *reason) {
        v->pass = pass;
        v->match = match;
        v->revoked = strncmp(match, "DBX_", 4) == 0;
        snprintf(v->reason, sizeof v->reason, "%s", reason);
}

/* The unsigned path: only the image's SHA-256 can decide. */
static void judge_unsigned(const uint8_t digest[32], const struct shield_siglist *db, const struct shield_siglist *dbx,
                           struct shield_sb_verdict *v) {
        if (has_hash(dbx, &SHIELD_GUID_CERT_SHA256, digest, 32))
                set(v, false, "DBX_HASH_MATCH", "the image is not signed and its hash is in dbx (revoked)");
        else if (has_hash(db, &SHIELD_GUID_CERT_SHA256, digest, 32))
                set(v, true, "DB_HASH_MATCH", "the image is not signed; its hash is in db");
        else
                set(v, false, "NO_CERT_MATCH", "the image is not signed and its hash is not in db");
}

static int judge_signed(const struct shield_pe *pe, const uint8_t sha256[32], const struct shield_siglist *db,
                        const struct shield_siglist *dbx, struct shield_sb_verdict *v) {
        struct certs db_certs = { 0 }, dbx_certs = { 0 };
        struct digests ds = { .pe = pe };
        /* The SHA-256 is already known: hashing a kernel twice would double the cost of a check. */
        memcpy(ds.d[1], sha256, 32);
        ds.have[1] = true;
        /* Why it fails: a usable signature's story beats one about a signature firmware skipped. */
        char why[400] = "", why_used[400] = "";
        struct subject decided = { 0 }, pass_subject = { 0 };
        const char *pass_match = NULL;
        int r;

        if ((r = collect_certs(db, &db_certs)) < 0 || (r = collect_certs(dbx, &dbx_certs)) < 0)
                goto out;
        for (size_t i = 0; i < pe->n_signatures; i++) {
                const struct shield_pe_signature *s = &pe->signatures[i];
                struct shield_authenticode a;
                const uint8_t *digest;
                size_t anchor, k;

                if (s->type != WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
                        if (!why[0])
                                snprintf(why, sizeof why, "signature %zu is a WIN_CERTIFICATE of type 0x%04x, not PKCS#7", i,
                                         s->type);
                        continue;
                }
                if (shield_authenticode_parse(s->data, s->size, &a) < 0) {
                        if (!why[0])
                                snprintf(why, sizeof why, "signature %zu is not a readable Authenticode PKCS#7 signature", i);
                        continue;
                }
                for (k = 0; k < sizeof image_algs / sizeof image_algs[0] && image_algs[k] != a.digest_alg; k++)
                        ;
                if (k == sizeof image_algs / sizeof image_algs[0]) {
                        if (!why[0])
                                snprintf(why, sizeof why, "signature %zu (%s) uses a digest algorithm firmware does not know", i,
                                         a.signer_subject);
                        continue;
                }
                if ((r = image_digest(&ds, k, &digest)) < 0)
                        goto out;
                size_t size = shield_hash_size(image_algs[k]);
                bool digest_ok = a.digest_size == size && memcmp(a.digest, digest, size) == 0;

                /* Revocation first; a signature that does not sign this image cannot verify to a dbx certificate. */
                if (digest_ok && dbx_certs.n &&
                    shield_authenticode_verify(s->data, s->size, dbx_certs.der, dbx_certs.len, dbx_certs.n, &anchor) == 0) {
                        subject_of(dbx_certs.der[anchor], dbx_certs.len[anchor], &decided);
                        snprintf(why, sizeof why, "signature %zu (%s) chains to a dbx certificate (revoked)", i, a.signer_subject);
                        set(v, false, "DBX_CERT_MATCH", why);
                        goto done;
                }
                if ((r = revoked_by_tbs(s, dbx, &decided)) < 0)
                        goto out;
                if (r > 0) {
                        snprintf(why, sizeof why, "signature %zu (%s) carries a certificate whose TBS hash is in dbx (revoked)",
                                 i, a.signer_subject);
                        set(v, false, "DBX_CERT_HASH_MATCH", why);
                        goto done;
                }
                if (!pass_match && digest_ok && db_certs.n &&
                    shield_authenticode_verify(s->data, s->size, db_certs.der, db_certs.len, db_certs.n, &anchor) == 0) {
                        pass_match = "DB_CERT_MATCH";
                        subject_of(db_certs.der[anchor], db_certs.len[anchor], &pass_subject);
                }
                if (has_hash(dbx, image_hash_type(k), digest, size)) {
                        signer_of(&a, &decided);
                        set(v, false, "DBX_HASH_MATCH", "the image's hash is in dbx (revoked)");
                        goto done;
                }
                if (!pass_match && has_hash(db, image_hash_type(k), digest, size)) {
                        pass_match = "DB_HASH_MATCH";
                        signer_of(&a, &pass_subject);
                }
                if (!decided.dn[0])
                        signer_of(&a, &decided);
                if (pass_match || why_used[0])
                        continue;
                if (!digest_ok)
                        snprintf(why_used, sizeof why_used,
                                 "signature %zu (%s) signs a different digest than the image's: the image changed after signing", i,
                                 a.signer_subject);
                else
                        snprintf(why_used, sizeof why_used, "signature %zu: signed by %s, which does not chain to any db certificate",
                                 i, a.signer_subject);
        }
        if (!cert_table_whole(pe)) {
                set(v, false, "NO_CERT_MATCH", "the certificate table is corrupt: its WIN_CERTIFICATEs do not fill it exactly");
        } else if (pass_match) {
                decided = pass_subject;
                set(v, true, pass_match,
                    strcmp(pass_match, "DB_CERT_MATCH") == 0 ? "a signature over this image chains to a db certificate"
                                                             : "the image's hash is in db");
        } else {
                set(v, false, "NO_CERT_MATCH", why_used[0] ? why_used : why[0] ? why : "no signature firmware can use");
        }
done:
        snprintf(v->cert_subject, sizeof v->cert_subject, "%s", decided.dn);
        snprintf(v->cert_common_name, sizeof v->cert_common_name, "%s", decided.cn);
        r = 0;
out:
        free_certs(&db_certs);
        free_certs(&dbx_certs);
        return r;
}

int shield_sb_check(const uint8_t *image, size_t len, const struct shield_sb_databases *dbs, struct shield_sb_verdict *ret,
                    struct shield_diag *diag) {
        if (!image || !dbs || !ret)
                return SHIELD_E_INVAL;
        struct shield_pe pe;
        struct shield_siglist db = { 0 }, dbx = { 0 };
        struct shield_sb_verdict v = { 0 };
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

        /* edk2 takes the unsigned path when the certificate-table entry is absent or empty. */
        if (pe.cert_table_size == 0)
                judge_unsigned(digest, &db, &dbx, &v);
        else if ((r = judge_signed(&pe, digest, &db, &dbx, &v)) < 0)
                goto out;
        *ret = v;
        r = 0;
out:
        shield_siglist_clear(&db);
        shield_siglist_clear(&dbx);
        return r;
}
