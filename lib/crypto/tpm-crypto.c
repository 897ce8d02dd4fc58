/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/util.h"
#include "tpm-crypto.h"

#define TPM_ALG_RSASSA 0x0014
#define TPM_ALG_RSAPSS 0x0016
#define TPM_ALG_ECDSA 0x0018

static const char *curve_name(uint16_t curve, size_t *ret_size) {
        /* TPM 2.0 Part 2, 6.4 TPM_ECC_CURVE. */
        switch (curve) {
        case 0x0003: *ret_size = 32; return "P-256";
        case 0x0004: *ret_size = 48; return "P-384";
        case 0x0005: *ret_size = 66; return "P-521";
        default: return NULL;
        }
}

/* The key as an EVP_PKEY; NULL with *ret_r set on failure. */
static EVP_PKEY *key_to_pkey(const struct tpmc_key *k, int *ret_r) {
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        EVP_PKEY *pkey = NULL;
        BIGNUM *n = NULL, *e = NULL;
        uint8_t *point = NULL;
        int r = SHIELD_E_CRYPTO;

        if (!bld)
                goto out;
        if (k->kind == TPMC_RSA) {
                if (k->n_len == 0 || k->n_len > 512) {
                        r = SHIELD_E_UNSUPPORTED;
                        goto out;
                }
                n = BN_bin2bn(k->n, (int)k->n_len, NULL);
                e = BN_new();
                if (!n || !e || !BN_set_word(e, k->exponent ? k->exponent : 65537) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
                        goto out;
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        } else {
                size_t fsize;
                const char *group = curve_name(k->curve, &fsize);
                if (!group || k->x_len > fsize || k->y_len > fsize) {
                        r = SHIELD_E_UNSUPPORTED;
                        goto out;
                }
                /* SEC 1 uncompressed point; TPM coordinates may be shorter than the field. */
                point = calloc(1, 1 + 2 * fsize);
                if (!point) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                point[0] = 0x04;
                memcpy(point + 1 + fsize - k->x_len, k->x, k->x_len);
                memcpy(point + 1 + 2 * fsize - k->y_len, k->y, k->y_len);
                if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
                    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fsize))
                        goto out;
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        }
        params = OSSL_PARAM_BLD_to_param(bld);
        if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                /* A point off the curve lands here: the key is unusable, not an internal error. */
                r = k->kind == TPMC_EC ? SHIELD_E_FORMAT : SHIELD_E_CRYPTO;
                pkey = NULL;
                goto out;
        }
        r = 0;
out:
        free(point);
        BN_free(n);
        BN_free(e);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_CTX_free(ctx);
        if (r < 0) {
                ERR_clear_error();
                *ret_r = r;
        }
        return pkey;
}

int tpmc_key_pkey(const struct tpmc_key *k, EVP_PKEY **ret) {
        int r = 0;
        EVP_PKEY *p = key_to_pkey(k, &r);
        if (!p)
                return r;
        *ret = p;
        return 0;
}

struct tpmc_pkey {
        EVP_PKEY *pkey;
        enum tpmc_kind kind;
        size_t rsa_bytes;
        uint16_t curve;
};

static int pkey_wrap(EVP_PKEY *p, struct tpmc_pkey **ret) {
        struct tpmc_pkey *k = calloc(1, sizeof *k);
        if (!k) {
                EVP_PKEY_free(p);
                return SHIELD_E_NOMEM;
        }
        k->pkey = p;
        if (EVP_PKEY_is_a(p, "RSA")) {
                k->kind = TPMC_RSA;
                k->rsa_bytes = (size_t)EVP_PKEY_get_size(p);
        } else {
                char group[32];
                size_t glen = 0;
                k->kind = TPMC_EC;
                if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) == 1)
                        k->curve = strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0   ? 0x0003
                                   : strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0 ? 0x0004
                                   : strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0 ? 0x0005
                                                                                                    : 0;
                if (!k->curve) {
                        EVP_PKEY_free(p);
                        free(k);
                        return SHIELD_E_UNSUPPORTED;
                }
        }
        *ret = k;
        return 0;
}

int tpmc_pkey_new(const struct tpmc_key *k, struct tpmc_pkey **ret) {
        EVP_PKEY *p = NULL;
        int r = tpmc_key_pkey(k, &p);
        if (r < 0)
                return r;
        return pkey_wrap(p, ret);
}

int tpmc_pkey_from_spki(const uint8_t *buf, size_t len, struct tpmc_pkey **ret) {
        EVP_PKEY *p = NULL;
        if (!buf || len == 0 || len > INT32_MAX)
                return SHIELD_E_FORMAT;
        if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
                BIO *bio = BIO_new_mem_buf(buf, (int)len);
                p = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
                BIO_free(bio);
        } else {
                const unsigned char *q = buf;
                p = d2i_PUBKEY(NULL, &q, (long)len);
                if (p && q != buf + len) {
                        EVP_PKEY_free(p);
                        p = NULL;
                }
        }
        ERR_clear_error();
        if (!p)
                return SHIELD_E_FORMAT;
        if (!EVP_PKEY_is_a(p, "RSA") && !EVP_PKEY_is_a(p, "EC")) {
                EVP_PKEY_free(p);
                return SHIELD_E_UNSUPPORTED;
        }
        return pkey_wrap(p, ret);
}

void tpmc_pkey_free(struct tpmc_pkey *k) {
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        free(k);
}

EVP_PKEY *tpmc_pkey_get(const struct tpmc_pkey *k) {
        return k->pkey;
}

enum tpmc_kind tpmc_pkey_kind(const struct tpmc_pkey *k) {
        return k->kind;
}

size_t tpmc_pkey_rsa_bytes(const struct tpmc_pkey *k) {
        return k->kind == TPMC_RSA ? k->rsa_bytes : 0;
}

uint16_t tpmc_pkey_curve(const struct tpmc_pkey *k) {
        return k->curve;
}

/* The digests quotes use, without a name lookup per verification. */
static const EVP_MD *quote_md(uint16_t alg) {
        switch (alg) {
        case 0x0004: return EVP_sha1();
        case 0x000B: return EVP_sha256();
        case 0x000C: return EVP_sha384();
        case 0x000D: return EVP_sha512();
        default: {
                const char *hname = shield_hash_name(alg);
                return hname ? EVP_get_digestbyname(hname) : NULL;
        }
        }
}

int tpmc_pkey_verify(const struct tpmc_pkey *k, const struct tpmc_sig *sig, const uint8_t *msg, size_t len) {
        const EVP_MD *md = quote_md(sig->hash);
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned dlen = 0;
        uint8_t *der = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        ECDSA_SIG *es = NULL;
        BIGNUM *br = NULL, *bs = NULL;
        int r = SHIELD_E_UNSUPPORTED, derlen = 0;

        if (!md)
                return SHIELD_E_UNSUPPORTED;
        bool rsa = sig->scheme == TPM_ALG_RSASSA || sig->scheme == TPM_ALG_RSAPSS;
        if ((rsa && k->kind != TPMC_RSA) || (sig->scheme == TPM_ALG_ECDSA && k->kind != TPMC_EC) ||
            (!rsa && sig->scheme != TPM_ALG_ECDSA))
                return SHIELD_E_UNSUPPORTED;
        r = SHIELD_E_CRYPTO;
        if (!EVP_Digest(msg, len, digest, &dlen, md, NULL))
                goto out;
        ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
                goto out;
        if (sig->scheme == TPM_ALG_RSASSA) {
                if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
                        goto out;
        } else if (sig->scheme == TPM_ALG_RSAPSS) {
                /* TPMs use salt = digest size or the maximum; accept what the signature says. */
                if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) <= 0)
                        goto out;
        }
        const uint8_t *s = sig->sig;
        size_t slen = sig->sig_len;
        if (sig->scheme == TPM_ALG_ECDSA) {
                es = ECDSA_SIG_new();
                br = BN_bin2bn(sig->r, (int)sig->r_len, NULL);
                bs = BN_bin2bn(sig->s, (int)sig->s_len, NULL);
                if (!es || !br || !bs || !ECDSA_SIG_set0(es, br, bs))
                        goto out;
                br = bs = NULL; /* transferred */
                derlen = i2d_ECDSA_SIG(es, &der);
                if (derlen <= 0)
                        goto out;
                s = der;
                slen = (size_t)derlen;
        }
        int v = EVP_PKEY_verify(ctx, s, slen, digest, dlen);
        r = v == 1 ? 0 : SHIELD_E_VERIFY;
out:
        ERR_clear_error();
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        BN_free(br);
        BN_free(bs);
        EVP_PKEY_CTX_free(ctx);
        return r;
}

int tpmc_verify(const struct tpmc_key *k, const struct tpmc_sig *sig, const uint8_t *msg, size_t len) {
        struct tpmc_pkey *p = NULL;
        if (!quote_md(sig->hash))
                return SHIELD_E_UNSUPPORTED;
        int r = tpmc_pkey_new(k, &p);
        if (r < 0)
                return r == SHIELD_E_FORMAT ? SHIELD_E_VERIFY : r;
        r = tpmc_pkey_verify(p, sig, msg, len);
        tpmc_pkey_free(p);
        return r;
}

static int bio_take(BIO *bio, char **ret, size_t *ret_len);

int tpmc_pkey_pem(const struct tpmc_pkey *k, char **ret, size_t *ret_len) {
        BIO *bio = BIO_new(BIO_s_mem());
        int r = SHIELD_E_CRYPTO;
        if (bio && PEM_write_bio_PUBKEY(bio, k->pkey))
                r = bio_take(bio, ret, ret_len);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}

int tpmc_cert_pem(const uint8_t *der, size_t len, char **ret, size_t *ret_len) {
        const unsigned char *p = der;
        X509 *x = len <= INT32_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
        BIO *bio = NULL;
        int r = SHIELD_E_FORMAT;
        if (!x || p != der + len)
                goto out;
        r = SHIELD_E_CRYPTO;
        bio = BIO_new(BIO_s_mem());
        if (bio && PEM_write_bio_X509(bio, x))
                r = bio_take(bio, ret, ret_len);
out:
        X509_free(x);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!ext)
                return 0;
        int ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        return ok;
}

static int cert_to_der(X509 *x, uint8_t **ret, size_t *ret_len) {
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        if (len <= 0)
                return SHIELD_E_CRYPTO;
        uint8_t *copy = malloc((size_t)len);
        if (!copy) {
                OPENSSL_free(der);
                return SHIELD_E_NOMEM;
        }
        memcpy(copy, der, (size_t)len);
        OPENSSL_free(der);
        *ret = copy;
        *ret_len = (size_t)len;
        return 0;
}

static X509 *load_cert_file(const char *path, struct shield_diag *diag, int *ret_r) {
        uint8_t *buf = NULL, *der = NULL;
        size_t len, dlen;
        X509 *x = NULL;
        int r = shield_read_file(path, 1u << 20, &buf, &len);
        if (r < 0) {
                *ret_r = shield_diag_fail(diag, r, 0, -1, "%s: cannot read the CA certificate", path);
                return NULL;
        }
        r = shield_x509_load(buf, len, &der, &dlen);
        free(buf);
        if (r < 0) {
                *ret_r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: not a certificate (PEM or DER)", path);
                return NULL;
        }
        const unsigned char *p = der;
        x = d2i_X509(NULL, &p, (long)dlen);
        free(der);
        if (!x)
                *ret_r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: not a certificate", path);
        return x;
}

static EVP_PKEY *load_key_file(const char *path, struct shield_diag *diag, int *ret_r) {
        uint8_t *buf = NULL;
        size_t len;
        int r = shield_read_file(path, 1u << 20, &buf, &len);
        if (r < 0) {
                *ret_r = shield_diag_fail(diag, r, 0, -1, "%s: cannot read the CA key", path);
                return NULL;
        }
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        OPENSSL_cleanse(buf, len);
        free(buf);
        if (!key)
                *ret_r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: not a PEM private key", path);
        ERR_clear_error();
        return key;
}

int tpmc_issue_cert(const struct tpmc_key *k, const char *cn, const char *ca_key_path, const char *ca_cert_path,
                    unsigned days, bool signing, uint8_t **ret, size_t *ret_len, struct shield_diag *diag) {
        int r = SHIELD_E_CRYPTO;
        EVP_PKEY *pub = NULL, *cakey = NULL;
        X509 *ca = NULL, *x = NULL;
        BIGNUM *serial = NULL;

        pub = key_to_pkey(k, &r);
        if (!pub)
                return shield_diag_fail(diag, r, 0, -1, "the TPM public key cannot be used with OpenSSL");
        ca = load_cert_file(ca_cert_path, diag, &r);
        if (!ca)
                goto out;
        cakey = load_key_file(ca_key_path, diag, &r);
        if (!cakey)
                goto out;
        if (X509_check_private_key(ca, cakey) != 1) {
                r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "%s does not belong to %s", ca_key_path,
                                     ca_cert_path);
                goto out;
        }
        r = SHIELD_E_CRYPTO;
        x = X509_new();
        serial = BN_new();
        if (!x || !serial)
                goto out;
        /* A random positive 127-bit serial (RFC 5280 4.1.2.2: at most 20 octets). */
        if (!BN_rand(serial, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) || !X509_set_pubkey(x, pub) ||
            !X509_set_issuer_name(x, X509_get_subject_name(ca)))
                goto out;
        X509_NAME *name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
                goto out;
        if (!add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
            !add_ext(x, ca, NID_key_usage, signing ? "critical,digitalSignature" : "critical,keyEncipherment") ||
            !add_ext(x, ca, NID_subject_key_identifier, "hash") ||
            !add_ext(x, ca, NID_authority_key_identifier, "keyid:always"))
                goto out;
        if (!X509_sign(x, cakey, EVP_sha256()))
                goto out;
        r = cert_to_der(x, ret, ret_len);
out:
        if (r == SHIELD_E_CRYPTO)
                shield_diag_fail(diag, r, 0, -1, "OpenSSL could not issue the certificate for %s", cn);
        ERR_clear_error();
        BN_free(serial);
        X509_free(x);
        X509_free(ca);
        EVP_PKEY_free(cakey);
        EVP_PKEY_free(pub);
        return r;
}

static int bio_take(BIO *bio, char **ret, size_t *ret_len) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n <= 0)
                return SHIELD_E_CRYPTO;
        char *copy = malloc((size_t)n + 1);
        if (!copy)
                return SHIELD_E_NOMEM;
        memcpy(copy, data, (size_t)n);
        copy[n] = '\0';
        OPENSSL_cleanse(data, (size_t)n);
        *ret = copy;
        *ret_len = (size_t)n;
        return 0;
}

int tpmc_ca_create(const char *cn, unsigned days, char **ret_key, size_t *ret_key_len, char **ret_cert,
                   size_t *ret_cert_len) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        BIGNUM *serial = BN_new();
        BIO *kbio = BIO_new(BIO_s_mem()), *cbio = BIO_new(BIO_s_mem());
        char *kpem = NULL, *cpem = NULL;
        size_t klen = 0, clen = 0;
        int r = SHIELD_E_CRYPTO;

        if (!key || !x || !serial || !kbio || !cbio)
                goto out;
        if (!BN_rand(serial, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) || !X509_set_pubkey(x, key))
                goto out;
        X509_NAME *name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
            !X509_set_issuer_name(x, name))
                goto out;
        if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
            !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
            !add_ext(x, x, NID_subject_key_identifier, "hash") ||
            !add_ext(x, x, NID_authority_key_identifier, "keyid:always"))
                goto out;
        if (!X509_sign(x, key, EVP_sha256()))
                goto out;
        if (!PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cbio, x))
                goto out;
        if ((r = bio_take(kbio, &kpem, &klen)) < 0 || (r = bio_take(cbio, &cpem, &clen)) < 0)
                goto out;
        *ret_key = kpem;
        *ret_key_len = klen;
        *ret_cert = cpem;
        *ret_cert_len = clen;
        kpem = cpem = NULL;
        r = 0;
out:
        if (kpem) {
                OPENSSL_cleanse(kpem, klen);
                free(kpem);
        }
        free(cpem);
        ERR_clear_error();
        BIO_free(kbio);
        BIO_free(cbio);
        BN_free(serial);
        X509_free(x);
        EVP_PKEY_free(key);
        return r;
}

int tpmc_cert_check(const struct tpmc_key *k, const uint8_t *cert, size_t cert_len, const uint8_t *ca,
                    size_t ca_len, struct shield_reasons *out, struct shield_diag *diag) {
        X509 *x = NULL, *cax = NULL;
        EVP_PKEY *pub = NULL, *capub = NULL;
        uint8_t *cader = NULL;
        size_t cadlen = 0;
        int r, failed = 0;

        const unsigned char *p = cert;
        x = d2i_X509(NULL, &p, (long)cert_len);
        if (!x || p != cert + cert_len) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, x ? (size_t)(p - cert) : 0, -1,
                                     x ? "the AK certificate has trailing bytes" : "the AK certificate is not DER X.509");
                goto out;
        }
        if (shield_x509_load(ca, ca_len, &cader, &cadlen) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the CA certificate is neither DER nor PEM");
                goto out;
        }
        p = cader;
        cax = d2i_X509(NULL, &p, (long)cadlen);
        if (!cax) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the CA certificate does not parse");
                goto out;
        }
        int kr = 0;
        pub = key_to_pkey(k, &kr);
        if (!pub) {
                r = shield_diag_fail(diag, kr, 0, 2, "the AK public key cannot be used with OpenSSL");
                goto out;
        }
        r = SHIELD_E_NOMEM;
        EVP_PKEY *cpub = X509_get0_pubkey(x);
        if (!cpub || EVP_PKEY_eq(cpub, pub) != 1) {
                failed = 1;
                if (shield_reasons_add(out, "ak-cert-key-mismatch", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the AK certificate certifies another key than the AK") < 0)
                        goto out;
        }
        capub = X509_get_pubkey(cax);
        if (!capub || X509_verify(x, capub) != 1) {
                failed = 1;
                if (shield_reasons_add(out, "ak-cert-signature-invalid", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the AK certificate is not signed by the CA") < 0)
                        goto out;
        } else if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(cax)) != 0) {
                failed = 1;
                if (shield_reasons_add(out, "ak-cert-signature-invalid", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the AK certificate's issuer is not the CA's subject") < 0)
                        goto out;
        }
        if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0 || X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
                failed = 1;
                if (shield_reasons_add(out, "ak-cert-expired", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the AK certificate is not valid now (not yet or no longer)") < 0)
                        goto out;
        }
        r = failed ? SHIELD_E_VERIFY : 0;
out:
        ERR_clear_error();
        free(cader);
        X509_free(x);
        X509_free(cax);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(capub);
        return r;
}
