/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jws.h"

struct jws_key {
        EVP_PKEY *pkey;
        enum jws_alg alg;
        bool private;
};

static int key_wrap(EVP_PKEY *p, enum jws_alg alg, bool private, struct jws_key **ret) {
        struct jws_key *k = calloc(1, sizeof *k);
        if (!k) {
                EVP_PKEY_free(p);
                return SHIELD_E_NOMEM;
        }
        k->pkey = p;
        k->alg = alg;
        k->private = private;
        *ret = k;
        return 0;
}

/* Whether p is a key alg can use: P-256 for ES256, RSA (not RSA-PSS) of 2048..4096 bits for RS256. */
static bool key_suits(EVP_PKEY *p, enum jws_alg alg) {
        if (alg == JWS_ES256) {
                char group[64];
                size_t glen = 0;
                return EVP_PKEY_get_base_id(p) == EVP_PKEY_EC &&
                       EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) &&
                       strcmp(group, "prime256v1") == 0;
        }
        if (alg == JWS_RS256) {
                int bits = EVP_PKEY_get_bits(p);
                return EVP_PKEY_get_base_id(p) == EVP_PKEY_RSA && bits >= JWS_RSA_MIN_BITS &&
                       bits <= JWS_RSA_MAX_BYTES * 8;
        }
        return false;
}

int jws_key_generate(enum jws_alg alg, struct jws_key **ret) {
        EVP_PKEY *p;

        if (!ret)
                return SHIELD_E_INVAL;
        /* Both draw on OpenSSL's DRBG (RAND_bytes), seeded from the OS. */
        if (alg == JWS_ES256)
                p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        else if (alg == JWS_RS256)
                p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        else
                return SHIELD_E_INVAL;
        if (!p)
                return SHIELD_E_CRYPTO;
        return key_wrap(p, alg, true, ret);
}

int jws_key_from_pem(enum jws_alg alg, const char *pem, size_t len, struct jws_key **ret) {
        PKCS8_PRIV_KEY_INFO *p8 = NULL;
        EVP_PKEY *p = NULL;
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        const unsigned char *q;
        long der_len = 0;
        BIO *bio;
        int r = SHIELD_E_FORMAT;

        if (!pem || !ret || (alg != JWS_ES256 && alg != JWS_RS256) || len > INT32_MAX)
                return SHIELD_E_INVAL;
        bio = BIO_new_mem_buf(pem, (int)len);
        if (!bio)
                return SHIELD_E_NOMEM;
        /*
         * The base64 decoded into secure memory, so the DER of the private key
         * is cleared when freed. Only "PRIVATE KEY" (unencrypted PKCS#8,
         * RFC 7468 10) without PEM headers is accepted: no passphrase prompt.
         */
        if (!PEM_read_bio_ex(bio, &name, &header, &der, &der_len, PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) ||
            strcmp(name, PEM_STRING_PKCS8INF) != 0 || header[0] != '\0')
                goto out;
        q = der;
        p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, der_len);
        if (!p8 || q != der + der_len)
                goto out;
        p = EVP_PKCS82PKEY(p8);
        if (!p || !key_suits(p, alg))
                goto out;
        r = key_wrap(p, alg, true, ret);
        p = NULL; /* transferred, or freed by key_wrap */
out:
        EVP_PKEY_free(p);
        PKCS8_PRIV_KEY_INFO_free(p8); /* clears the key bytes it held */
        OPENSSL_secure_free(name);
        OPENSSL_secure_free(header);
        OPENSSL_secure_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}

/* A public key from OSSL_PARAMs; fromdata rejects an EC point off the curve. */
static int key_from_params(const char *type, OSSL_PARAM_BLD *bld, enum jws_alg alg, struct jws_key **ret) {
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        EVP_PKEY *p = NULL;
        int r = SHIELD_E_CRYPTO;

        if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
                goto out;
        if (EVP_PKEY_fromdata(ctx, &p, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                p = NULL;
                r = SHIELD_E_FORMAT;
                goto out;
        }
        if (!key_suits(p, alg)) {
                r = SHIELD_E_UNSUPPORTED;
                goto out;
        }
        r = key_wrap(p, alg, false, ret);
        p = NULL;
out:
        EVP_PKEY_free(p);
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        ERR_clear_error();
        return r;
}

int jws_key_from_ec(const uint8_t *x, size_t x_len, const uint8_t *y, size_t y_len, struct jws_key **ret) {
        uint8_t point[1 + 2 * JWS_P256_COORD_BYTES];
        OSSL_PARAM_BLD *bld;
        int r;

        if (!x || !y || !ret)
                return SHIELD_E_INVAL;
        /* RFC 7518 6.2.1.2/6.2.1.3: each coordinate is the full field size, 32 bytes for P-256. */
        if (x_len != JWS_P256_COORD_BYTES || y_len != JWS_P256_COORD_BYTES)
                return SHIELD_E_FORMAT;
        point[0] = 0x04; /* SEC 1 2.3.3 uncompressed point */
        memcpy(point + 1, x, JWS_P256_COORD_BYTES);
        memcpy(point + 1 + JWS_P256_COORD_BYTES, y, JWS_P256_COORD_BYTES);
        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return SHIELD_E_NOMEM;
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
                r = SHIELD_E_CRYPTO;
        else
                r = key_from_params("EC", bld, JWS_ES256, ret);
        OSSL_PARAM_BLD_free(bld);
        return r;
}

int jws_key_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, struct jws_key **ret) {
        OSSL_PARAM_BLD *bld = NULL;
        BIGNUM *bn = NULL, *be = NULL;
        int r = SHIELD_E_CRYPTO;

        if (!n || !e || !ret)
                return SHIELD_E_INVAL;
        /* RFC 7518 6.3.1.1/6.3.1.2: minimal big-endian, so no leading zero byte. */
        if (n_len == 0 || e_len == 0 || n[0] == 0 || e[0] == 0 || e_len > JWS_RSA_E_MAX_BYTES)
                return SHIELD_E_FORMAT;
        if (n_len > JWS_RSA_MAX_BYTES || n_len * 8 < JWS_RSA_MIN_BITS)
                return SHIELD_E_UNSUPPORTED;
        /* An even exponent or 1 is never an RSA public exponent. */
        if (!(e[e_len - 1] & 1) || (e_len == 1 && e[0] < 3))
                return SHIELD_E_FORMAT;
        bld = OSSL_PARAM_BLD_new();
        bn = BN_bin2bn(n, (int)n_len, NULL);
        be = BN_bin2bn(e, (int)e_len, NULL);
        if (!bld || !bn || !be || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
                goto out;
        r = key_from_params("RSA", bld, JWS_RS256, ret);
out:
        BN_free(bn);
        BN_free(be);
        OSSL_PARAM_BLD_free(bld);
        return r;
}

int jws_key_pem(const struct jws_key *k, char **ret, size_t *ret_len) {
        BIO *bio;
        char *data = NULL, *out;
        long n;
        int r = SHIELD_E_CRYPTO;

        if (!k || !ret || !ret_len || !k->private)
                return SHIELD_E_INVAL;
        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return SHIELD_E_NOMEM;
        if (!PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL))
                goto out;
        n = BIO_get_mem_data(bio, &data);
        if (n <= 0)
                goto out;
        out = malloc((size_t)n + 1);
        if (!out) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        *ret = out;
        *ret_len = (size_t)n;
        r = 0;
out:
        /* The PEM passed through the BIO's buffer: clear it before it is freed. */
        n = BIO_get_mem_data(bio, &data);
        if (n > 0)
                OPENSSL_cleanse(data, (size_t)n);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}

static int get_bn(const EVP_PKEY *p, const char *name, uint8_t *buf, size_t size, bool pad, size_t *ret_len) {
        BIGNUM *bn = NULL;
        int r = SHIELD_E_CRYPTO;

        if (!EVP_PKEY_get_bn_param(p, name, &bn))
                goto out;
        if ((size_t)BN_num_bytes(bn) > size) {
                r = SHIELD_E_UNSUPPORTED;
                goto out;
        }
        if (pad) {
                if (BN_bn2binpad(bn, buf, (int)size) != (int)size)
                        goto out;
                *ret_len = size;
        } else {
                *ret_len = (size_t)BN_bn2bin(bn, buf);
        }
        r = 0;
out:
        BN_free(bn);
        return r;
}

int jws_key_public(const struct jws_key *k, struct jws_public *ret) {
        struct jws_public pub = { .alg = k ? k->alg : 0 };
        size_t len;
        int r;

        if (!k || !ret)
                return SHIELD_E_INVAL;
        if (k->alg == JWS_ES256) {
                if ((r = get_bn(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, pub.x, sizeof pub.x, true, &len)) < 0 ||
                    (r = get_bn(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, pub.y, sizeof pub.y, true, &len)) < 0)
                        goto out;
        } else {
                if ((r = get_bn(k->pkey, OSSL_PKEY_PARAM_RSA_N, pub.n, sizeof pub.n, false, &pub.n_len)) < 0 ||
                    (r = get_bn(k->pkey, OSSL_PKEY_PARAM_RSA_E, pub.e, sizeof pub.e, false, &pub.e_len)) < 0)
                        goto out;
        }
        *ret = pub;
out:
        ERR_clear_error();
        return r;
}

int jws_key_id(const struct jws_key *k, uint8_t ret[JWS_KID_BYTES]) {
        unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        int len, r = SHIELD_E_CRYPTO;

        if (!k || !ret)
                return SHIELD_E_INVAL;
        len = i2d_PUBKEY(k->pkey, &der);
        if (len <= 0)
                goto out;
        if (!EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL) || md_len < JWS_KID_BYTES)
                goto out;
        memcpy(ret, md, JWS_KID_BYTES);
        r = 0;
out:
        OPENSSL_free(der);
        ERR_clear_error();
        return r;
}

enum jws_alg jws_key_alg(const struct jws_key *k) {
        return k->alg;
}

int jws_sign(const struct jws_key *k, const uint8_t *msg, size_t len, uint8_t *sig, size_t *ret_len) {
        EVP_MD_CTX *ctx = NULL;
        ECDSA_SIG *es = NULL;
        unsigned char *der = NULL;
        size_t der_len = 0;
        int r = SHIELD_E_CRYPTO;

        if (!k || (!msg && len) || !sig || !ret_len || !k->private)
                return SHIELD_E_INVAL;
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, k->pkey, NULL) <= 0)
                goto out;
        /* RS256 is PKCS#1 v1.5, OpenSSL's default padding for RSA keys. */
        if (EVP_DigestSign(ctx, NULL, &der_len, msg, len) <= 0)
                goto out;
        der = OPENSSL_malloc(der_len);
        if (!der) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (EVP_DigestSign(ctx, der, &der_len, msg, len) <= 0)
                goto out;
        if (k->alg == JWS_RS256) {
                if (der_len > JWS_SIG_MAX)
                        goto out;
                memcpy(sig, der, der_len);
                *ret_len = der_len;
        } else {
                /* OpenSSL writes ECDSA-Sig-Value (DER); JWS wants R || S (RFC 7518 3.4). */
                const unsigned char *p = der;
                const BIGNUM *br, *bs;
                es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
                if (!es)
                        goto out;
                ECDSA_SIG_get0(es, &br, &bs);
                if (BN_bn2binpad(br, sig, 32) != 32 || BN_bn2binpad(bs, sig + 32, 32) != 32)
                        goto out;
                *ret_len = JWS_ES256_SIG_BYTES;
        }
        r = 0;
out:
        ECDSA_SIG_free(es);
        OPENSSL_free(der);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

int jws_verify(const struct jws_key *k, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len) {
        EVP_MD_CTX *ctx = NULL;
        ECDSA_SIG *es = NULL;
        BIGNUM *br = NULL, *bs = NULL;
        unsigned char *der = NULL;
        const unsigned char *s = sig;
        size_t slen = sig_len;
        int r = SHIELD_E_CRYPTO, ok;

        if (!k || (!msg && len) || (!sig && sig_len))
                return SHIELD_E_INVAL;
        if (k->alg == JWS_ES256) {
                if (sig_len != JWS_ES256_SIG_BYTES)
                        return SHIELD_E_VERIFY;
                es = ECDSA_SIG_new();
                br = BN_bin2bn(sig, 32, NULL);
                bs = BN_bin2bn(sig + 32, 32, NULL);
                if (!es || !br || !bs || !ECDSA_SIG_set0(es, br, bs))
                        goto out;
                br = bs = NULL; /* transferred */
                int n = i2d_ECDSA_SIG(es, &der);
                if (n <= 0)
                        goto out;
                s = der;
                slen = (size_t)n;
        } else if ((int)sig_len != EVP_PKEY_get_size(k->pkey)) {
                /* RFC 8017 8.2.2 step 1: the signature is exactly the modulus length. */
                return SHIELD_E_VERIFY;
        }
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, k->pkey, NULL) <= 0)
                goto out;
        ok = EVP_DigestVerify(ctx, s, slen, msg, len);
        /* 0 is a bad signature; a negative value can be a malformed one, which is no better. */
        r = ok == 1 ? 0 : SHIELD_E_VERIFY;
out:
        BN_free(br);
        BN_free(bs);
        ECDSA_SIG_free(es);
        OPENSSL_free(der);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

void jws_key_free(struct jws_key *k) {
        if (!k)
                return;
        EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material when it frees it */
        free(k);
}
