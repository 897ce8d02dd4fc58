/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/error.h"
#include "shield/keys.h"
#include "shield/tls.h"

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

static bool is_ip(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The subjectAltName value in OpenSSL's config syntax; names were checked for commas. */
static char *san_value(const char *const *names, size_t n) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(names[i]) + 5;
        char *v = malloc(len), *p = v;
        if (!v)
                return NULL;
        *p = '\0';
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(p, len - (size_t)(p - v), "%s%s:%s", i ? "," : "", is_ip(names[i]) ? "IP" : "DNS",
                                 names[i]);
                if (w < 0 || (size_t)w >= len - (size_t)(p - v)) {
                        free(v);
                        return NULL;
                }
                p += w;
        }
        return v;
}

int shield_tls_self_signed(const char *common_name, const char *const *names, size_t n, unsigned days,
                           struct shield_keypair *ret) {
        if (!common_name || !*common_name || (n && !names) || n > SHIELD_TLS_NAMES_MAX || days == 0 || !ret)
                return SHIELD_E_INVAL;
        for (size_t i = 0; i < n; i++) {
                if (!names[i] || !*names[i] || strlen(names[i]) > 253)
                        return SHIELD_E_INVAL;
                for (const char *c = names[i]; *c; c++)
                        if (*c == ',' || (unsigned char)*c < 0x21 || *c == 0x7f)
                                return SHIELD_E_INVAL;
        }

        struct shield_keypair kp = { 0 };
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *x = X509_new();
        BIGNUM *serial = BN_new();
        BIO *kbio = BIO_new(BIO_s_mem()), *cbio = BIO_new(BIO_s_mem());
        unsigned char *der = NULL;
        char *san = NULL;
        int r = SHIELD_E_CRYPTO, len;

        if (!key || !x || !serial || !kbio || !cbio)
                goto out;
        if (!BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 24 * 3600) || !X509_set_pubkey(x, key))
                goto out;
        X509_NAME *name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) ||
            !X509_set_issuer_name(x, name))
                goto out;
        /* RFC 5280 4.2.1: a leaf the client pins directly; no CA powers. */
        if (!add_ext(x, NID_subject_key_identifier, "hash") || !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
            !add_ext(x, NID_key_usage, "critical,digitalSignature") || !add_ext(x, NID_ext_key_usage, "serverAuth"))
                goto out;
        if (n) {
                if (!(san = san_value(names, n))) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                if (!add_ext(x, NID_subject_alt_name, san))
                        goto out;
        }
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
        if (!(kp.cert_der = malloc((size_t)len))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(kp.cert_der, der, (size_t)len);
        kp.cert_der_len = (size_t)len;
        *ret = kp; /* transferred */
        memset(&kp, 0, sizeof kp);
        r = 0;
out:
        shield_keypair_clear(&kp);
        OPENSSL_free(der);
        free(san);
        if (kbio) {
                char *data = NULL;
                long m = BIO_get_mem_data(kbio, &data);
                if (m > 0)
                        OPENSSL_cleanse(data, (size_t)m);
        }
        BIO_free(kbio);
        BIO_free(cbio);
        BN_free(serial);
        X509_free(x);
        EVP_PKEY_free(key);
        return r;
}
