/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "shield/error.h"
#include "shield/keys.h"
#include "signer.h"

int shield_key_algo_from_name(const char *name, enum shield_key_algo *ret) {
        static const struct {
                const char *name;
                enum shield_key_algo algo;
        } names[] = {
                { "rsa2048", SHIELD_KEY_RSA2048 },
                { "rsa3072", SHIELD_KEY_RSA3072 },
                { "rsa4096", SHIELD_KEY_RSA4096 },
                { "ec-p256", SHIELD_KEY_EC_P256 },
        };
        for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
                if (strcmp(name, names[i].name) == 0) {
                        *ret = names[i].algo;
                        return 0;
                }
        return SHIELD_E_NOT_FOUND;
}

int shield_random_bytes(void *buf, size_t len) {
        return len > INT32_MAX || RAND_bytes(buf, (int)len) != 1 ? SHIELD_E_CRYPTO : 0;
}

static EVP_PKEY *generate_key(enum shield_key_algo algo) {
        switch (algo) {
        case SHIELD_KEY_RSA2048:
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        case SHIELD_KEY_RSA3072:
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        case SHIELD_KEY_RSA4096:
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
        case SHIELD_KEY_EC_P256:
                return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        }
        return NULL;
}

static int add_ext(X509 *x, int nid, const char *value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        int ok = ext && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        return ok;
}

static int bio_take(BIO *bio, char **ret, size_t *ret_len) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n <= 0)
                return SHIELD_E_CRYPTO;
        *ret = malloc((size_t)n + 1);
        if (!*ret)
                return SHIELD_E_NOMEM;
        memcpy(*ret, data, (size_t)n);
        (*ret)[n] = '\0';
        *ret_len = (size_t)n;
        return 0;
}

int crypto_self_signed(enum shield_key_algo algo, const char *common_name, unsigned days,
                       const struct crypto_ext *exts, size_t n_exts, struct shield_keypair *ret) {
        if (!common_name || !ret || days == 0)
                return SHIELD_E_INVAL;

        struct shield_keypair kp = { 0 };
        EVP_PKEY *key = generate_key(algo);
        X509 *x = X509_new();
        BIGNUM *serial = BN_new();
        BIO *kbio = BIO_new(BIO_s_mem()), *cbio = BIO_new(BIO_s_mem());
        unsigned char *der = NULL;
        int r = SHIELD_E_CRYPTO, len;

        if (!key || !x || !serial || !kbio || !cbio)
                goto out;
        /* A random 159-bit serial, as `openssl req -x509` chooses one. */
        if (!BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 24 * 3600) || !X509_set_pubkey(x, key))
                goto out;
        X509_NAME *name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) ||
            !X509_set_issuer_name(x, name))
                goto out;
        for (size_t i = 0; i < n_exts; i++)
                if (!add_ext(x, exts[i].nid, exts[i].value))
                        goto out;
        if (!X509_sign(x, key, EVP_sha256()))
                goto out;
        if (!PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cbio, x))
                goto out;
        if ((r = bio_take(kbio, &kp.key_pem, &kp.key_pem_len)) < 0 ||
            (r = bio_take(cbio, &kp.cert_pem, &kp.cert_pem_len)) < 0)
                goto out;
        len = i2d_X509(x, &der);
        if (len <= 0) {
                r = SHIELD_E_CRYPTO;
                goto out;
        }
        kp.cert_der = malloc((size_t)len);
        if (!kp.cert_der) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(kp.cert_der, der, (size_t)len);
        kp.cert_der_len = (size_t)len;
        *ret = kp;
        memset(&kp, 0, sizeof kp);
        r = 0;
out:
        shield_keypair_clear(&kp);
        OPENSSL_free(der);
        /* The key's PEM passed through this BIO: clear it before it is freed. */
        if (kbio) {
                char *data = NULL;
                long n = BIO_get_mem_data(kbio, &data);
                if (n > 0)
                        OPENSSL_cleanse(data, (size_t)n);
        }
        BIO_free(kbio);
        BIO_free(cbio);
        BN_free(serial);
        X509_free(x);
        EVP_PKEY_free(key);
        return r;
}

int shield_keypair_generate(enum shield_key_algo algo, const char *common_name, unsigned days,
                            struct shield_keypair *ret) {
        static const struct crypto_ext ca[] = {
                { NID_subject_key_identifier, "hash" },
                { NID_authority_key_identifier, "keyid:always" },
                { NID_basic_constraints, "critical,CA:TRUE" },
        };
        return crypto_self_signed(algo, common_name, days, ca, sizeof ca / sizeof ca[0], ret);
}

void shield_keypair_clear(struct shield_keypair *kp) {
        if (!kp)
                return;
        if (kp->key_pem)
                OPENSSL_cleanse(kp->key_pem, kp->key_pem_len);
        free(kp->key_pem);
        free(kp->cert_der);
        free(kp->cert_pem);
        memset(kp, 0, sizeof *kp);
}
