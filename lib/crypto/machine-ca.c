/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine credential authority (shield/machine-ca.h): the CA, the
 * certificates it issues, their CRL and the relying party's check. The
 * profile is built with OpenSSL's X509/X509_CRL builders; the one thing
 * written by hand is the percent-encoding of the instance in its URI.
 */
#include <inttypes.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine-cert.h"
#include "shield/keys.h"
#include "shield/machine-ca.h"
#include "shield/util.h"

struct shield_machine_ca {
        EVP_PKEY *key;
        X509 *cert;
        char *cert_pem;
};

#define CA_DAYS_DEFAULT 3650u
#define CA_DAYS_MAX 36500u
#define CN_CHARS_MAX 64                         /* RFC 5280 A.1 ub-common-name */
#define CLOCK_SKEW 60                           /* seconds notBefore lies before now */
#define VALIDITY_MIN 60u
#define VALIDITY_MAX (398u * 24 * 3600)         /* the CA/Browser Forum's cap for TLS certificates */
#define TIME_MAX INT64_C(253402300799)          /* 9999-12-31T23:59:59Z: the last GeneralizedTime (RFC 5280 4.1.2.5.2) */
#define MACHINE_CN_FALLBACK "shieldkit machine"

/* ---- shared with credential-bundle.c (machine-cert.h) ---- */

/* RFC 3986 2.3. */
static bool unreserved(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
}

bool crypto_instance_uri(const char *name, char out[CRYPTO_INSTANCE_URI_MAX]) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strnlen(name, SHIELD_CA_NAME_MAX + 1), o = sizeof CRYPTO_INSTANCE_URN - 1;
        if (n > SHIELD_CA_NAME_MAX)
                return false;
        memcpy(out, CRYPTO_INSTANCE_URN, o);
        /* At most 3 bytes per input byte: CRYPTO_INSTANCE_URI_MAX has room for all of them. */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];
                if (unreserved(c)) {
                        out[o++] = (char)c;
                } else {
                        out[o++] = '%';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                }
        }
        out[o] = '\0';
        return true;
}

/* The tail of one URI decoded; false for a bad %XX, a NUL, or more than SHIELD_CA_NAME_MAX bytes. */
static bool pct_decode(const unsigned char *s, size_t len, char out[SHIELD_CA_NAME_MAX + 1]) {
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                int c = s[i];
                if (c == '%') {
                        int hi = 2 > len - i - 1 ? -1 : shield_hex_digit((char)s[i + 1]);
                        int lo = hi < 0 ? -1 : shield_hex_digit((char)s[i + 2]);
                        if (lo < 0)
                                return false;
                        c = hi << 4 | lo;
                        i += 2;
                }
                if (c == 0 || o == SHIELD_CA_NAME_MAX)
                        return false;
                out[o++] = (char)c;
        }
        out[o] = '\0';
        return true;
}

bool crypto_cert_instance(X509 *x, char out[SHIELD_CA_NAME_MAX + 1]) {
        static const size_t plen = sizeof CRYPTO_INSTANCE_URN - 1;
        char name[SHIELD_CA_NAME_MAX + 1], canon[CRYPTO_INSTANCE_URI_MAX];
        const ASN1_STRING *uri = NULL;
        size_t found = 0;
        /* NULL as well when the extension occurs twice. */
        GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

        for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
                const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
                if (g->type != GEN_URI)
                        continue;
                const ASN1_STRING *v = g->d.uniformResourceIdentifier;
                if ((size_t)ASN1_STRING_length(v) >= plen && memcmp(ASN1_STRING_get0_data(v), CRYPTO_INSTANCE_URN, plen) == 0) {
                        uri = v;
                        found++;
                }
        }
        bool ok = found == 1 &&
                  pct_decode(ASN1_STRING_get0_data(uri) + plen, (size_t)ASN1_STRING_length(uri) - plen, name) &&
                  shield_name_valid(name) && crypto_instance_uri(name, canon) &&
                  strlen(canon) == (size_t)ASN1_STRING_length(uri) &&
                  memcmp(canon, ASN1_STRING_get0_data(uri), strlen(canon)) == 0;
        GENERAL_NAMES_free(sans);
        if (ok)
                memcpy(out, name, strlen(name) + 1);
        return ok;
}

bool crypto_cert_serial(const X509 *x, char out[SHIELD_CA_SERIAL_HEX + 1]) {
        uint8_t b[SHIELD_CA_SERIAL_HEX / 2];
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        bool ok = bn && !BN_is_negative(bn) && !BN_is_zero(bn) && BN_bn2binpad(bn, b, sizeof b) == (int)sizeof b;
        BN_free(bn);
        if (ok)
                shield_hex_encode(b, sizeof b, out);
        return ok;
}

bool crypto_time_unix(const ASN1_TIME *t, int64_t *ret) {
        struct tm tm;
        if (!t || !ASN1_TIME_to_tm(t, &tm))
                return false;
        *ret = (int64_t)timegm(&tm);
        return true;
}

int crypto_bio_take(BIO *bio, char **ret) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        int r = 0;
        if (n <= 0) {
                r = SHIELD_E_CRYPTO;
        } else if (!(*ret = malloc((size_t)n + 1))) {
                r = SHIELD_E_NOMEM;
        } else {
                memcpy(*ret, data, (size_t)n);
                (*ret)[n] = '\0';
        }
        if (n > 0)
                OPENSSL_cleanse(data, (size_t)n);
        return r;
}

int crypto_key_pem(EVP_PKEY *key, char **ret) {
        BIO *bio = BIO_new(BIO_s_mem());
        int r = !bio ? SHIELD_E_NOMEM :
                !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) ? SHIELD_E_CRYPTO :
                                                                                 crypto_bio_take(bio, ret);
        if (bio && r < 0) {
                char *data = NULL;
                long n = BIO_get_mem_data(bio, &data);
                if (n > 0)
                        OPENSSL_cleanse(data, (size_t)n);
        }
        BIO_free(bio);
        return r;
}

int crypto_cert_pem(X509 *x, char **ret) {
        BIO *bio = BIO_new(BIO_s_mem());
        int r = !bio ? SHIELD_E_NOMEM : !PEM_write_bio_X509(bio, x) ? SHIELD_E_CRYPTO : crypto_bio_take(bio, ret);
        BIO_free(bio);
        return r;
}

void crypto_free_secret(char *s) {
        if (s)
                OPENSSL_cleanse(s, strlen(s));
        free(s);
}

/* ---- building certificates ---- */

/* A strict UTF-8 check (no overlong forms, surrogates or values past U+10FFFF) counting characters. */
static bool utf8_chars(const char *str, size_t *ret) {
        const unsigned char *s = (const unsigned char *)str;
        size_t len = strlen(str), n = 0;
        for (size_t i = 0; i < len; n++) {
                unsigned c = s[i];
                size_t k;
                uint32_t cp, min;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xe0) == 0xc0) {
                        k = 1, cp = c & 0x1f, min = 0x80;
                } else if ((c & 0xf0) == 0xe0) {
                        k = 2, cp = c & 0x0f, min = 0x800;
                } else if ((c & 0xf8) == 0xf0) {
                        k = 3, cp = c & 0x07, min = 0x10000;
                } else {
                        return false;
                }
                if (k > len - i - 1)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += k + 1;
        }
        *ret = n;
        return true;
}

/* Labels of [A-Za-z0-9-], 1 to 63 characters, no '-' at either end; 253 characters at most (RFC 1035 2.3.1, 1123 2.1). */
static bool dns_name(const char *s) {
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i <= len; i++) {
                char c = s[i];
                if (c == '.' || c == '\0') {
                        if (label == 0 || label > 63 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           (c == '-' && label > 0)) {
                        label++;
                } else {
                        return false;
                }
        }
        return true;
}

/* A fresh serial: 16 random bytes, the first bit clear (positive, RFC 5280 4.1.2.2), never zero. */
static int set_serial(X509 *x, char out[SHIELD_CA_SERIAL_HEX + 1]) {
        uint8_t b[SHIELD_CA_SERIAL_HEX / 2], any;
        do {
                if (shield_random_bytes(b, sizeof b) < 0)
                        return SHIELD_E_CRYPTO;
                b[0] &= 0x7f;
                any = 0;
                for (size_t i = 0; i < sizeof b; i++)
                        any |= b[i];
        } while (!any);
        BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
        bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
        BN_free(bn);
        if (!ok)
                return SHIELD_E_CRYPTO;
        shield_hex_encode(b, sizeof b, out);
        return 0;
}

/* One extension in OpenSSL's config syntax; issuer is x itself for the CA. */
static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        bool ok = ext && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        return ok;
}

static bool push_name(GENERAL_NAMES *gens, int type, const char *value) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        if (!g || !s || !ASN1_STRING_set(s, value, -1)) {
                GENERAL_NAME_free(g);
                ASN1_IA5STRING_free(s);
                return false;
        }
        GENERAL_NAME_set0_value(g, type, s);
        if (!sk_GENERAL_NAME_push(gens, g)) {
                GENERAL_NAME_free(g);
                return false;
        }
        return true;
}

static bool add_san(X509 *x, const char *uri, const char *dns) {
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        bool ok = gens && push_name(gens, GEN_URI, uri) && (!dns || push_name(gens, GEN_DNS, dns)) &&
                  X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
        GENERAL_NAMES_free(gens);
        return ok;
}

static bool set_cn(X509_NAME *name, const char *cn) {
        return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) == 1;
}

int shield_machine_ca_create(const char *common_name, unsigned days, char **ret_key_pem, char **ret_cert_pem,
                             struct shield_diag *diag) {
        size_t chars;
        if (!ret_key_pem || !ret_cert_pem)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no place for the CA's key and certificate");
        if (!common_name || !*common_name)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the CA's common name is empty");
        for (const char *c = common_name; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, (size_t)(c - common_name), -1,
                                                "a control character in the CA's common name");
        if (!utf8_chars(common_name, &chars) || chars > CN_CHARS_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                        "the CA's common name is not UTF-8 of at most %d characters", CN_CHARS_MAX);
        if (days == 0)
                days = CA_DAYS_DEFAULT;
        if (days > CA_DAYS_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "%u days: more than %u", days, CA_DAYS_MAX);

        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *x = X509_new();
        char serial[SHIELD_CA_SERIAL_HEX + 1], *key_pem = NULL, *cert_pem = NULL;
        int r = SHIELD_E_CRYPTO;

        if (!key || !x)
                goto out;
        if ((r = set_serial(x, serial)) < 0)
                goto out;
        r = SHIELD_E_CRYPTO;
        X509_NAME *subject = X509_get_subject_name(x);
        if (!X509_set_version(x, X509_VERSION_3) || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
            !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) || !X509_set_pubkey(x, key) ||
            !set_cn(subject, common_name) || !X509_set_issuer_name(x, subject))
                goto out;
        /* RFC 5280 4.2.1.9: the CA issues end-entity certificates only (pathlen 0). */
        if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
            !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
            !add_ext(x, x, NID_subject_key_identifier, "hash") || !X509_sign(x, key, EVP_sha256()))
                goto out;
        if ((r = crypto_key_pem(key, &key_pem)) < 0 || (r = crypto_cert_pem(x, &cert_pem)) < 0)
                goto out;
        *ret_key_pem = key_pem; /* transferred */
        *ret_cert_pem = cert_pem;
        key_pem = cert_pem = NULL;
        r = 0;
out:
        if (r == SHIELD_E_CRYPTO)
                shield_diag_fail(diag, r, 0, -1, "OpenSSL could not make the CA");
        crypto_free_secret(key_pem);
        free(cert_pem);
        X509_free(x);
        EVP_PKEY_free(key);
        ERR_clear_error();
        return r;
}

/* ---- the CA ---- */

/* The library never prompts: a key behind a passphrase is a key it cannot read. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
        (void)buf, (void)size, (void)rwflag, (void)u;
        return -1;
}

static BIO *text_bio(const char *s) {
        size_t n = strlen(s);
        return n > INT_MAX ? NULL : BIO_new_mem_buf(s, (int)n);
}

static bool ec_p256(EVP_PKEY *key) {
        char group[32] = "";
        size_t glen = 0;
        return EVP_PKEY_is_a(key, "EC") &&
               EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &glen) == 1 &&
               strcmp(group, "prime256v1") == 0;
}

int shield_machine_ca_load(const char *key_pem, const char *cert_pem, struct shield_machine_ca **ret,
                           struct shield_diag *diag) {
        if (!key_pem || !cert_pem || !ret)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no CA key, certificate or result");
        BIO *kb = text_bio(key_pem), *cb = text_bio(cert_pem);
        EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
        X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
        struct shield_machine_ca *ca = NULL;
        int r;

        BIO_free(kb);
        BIO_free(cb);
        if (!key) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the CA key is not an unencrypted PEM private key");
                goto out;
        }
        if (!cert) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the CA certificate is not a PEM certificate");
                goto out;
        }
        if (X509_check_private_key(cert, key) != 1) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the CA key is not the CA certificate's");
                goto out;
        }
        uint32_t ku = X509_get_key_usage(cert); /* UINT32_MAX when the extension is absent */
        if (X509_check_ca(cert) != 1 || (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) {
                r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                     "the certificate is not a CA's (basicConstraints CA:TRUE, keyCertSign and cRLSign)");
                goto out;
        }
        if (!ec_p256(key)) {
                r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the CA key is not ECDSA P-256");
                goto out;
        }
        if (!(ca = calloc(1, sizeof *ca))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if ((r = crypto_cert_pem(cert, &ca->cert_pem)) < 0)
                goto out;
        ca->key = key;
        ca->cert = cert;
        key = NULL;
        cert = NULL;
        *ret = ca; /* transferred */
        ca = NULL;
        r = 0;
out:
        shield_machine_ca_free(ca);
        EVP_PKEY_free(key);
        X509_free(cert);
        ERR_clear_error();
        return r;
}

void shield_machine_ca_free(struct shield_machine_ca *ca) {
        if (!ca)
                return;
        EVP_PKEY_free(ca->key);
        X509_free(ca->cert);
        free(ca->cert_pem);
        free(ca);
}

const char *shield_machine_ca_cert_pem(const struct shield_machine_ca *ca) {
        return ca ? ca->cert_pem : NULL;
}

/* ---- machine certificates ---- */

void shield_issued_credential_clear(struct shield_issued_credential *c) {
        if (!c)
                return;
        crypto_free_secret(c->key_pem);
        free(c->cert_pem);
        free(c->cert_der);
        memset(c, 0, sizeof *c);
}

int shield_machine_ca_issue(const struct shield_machine_ca *ca, const char *instance, int64_t now,
                            uint32_t validity_seconds, struct shield_issued_credential *ret,
                            struct shield_diag *diag) {
        char uri[CRYPTO_INSTANCE_URI_MAX];
        size_t chars;

        if (!ca || !ret)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no CA or result");
        if (!instance || !shield_name_valid(instance) || !crypto_instance_uri(instance, uri))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "not a valid instance name");
        if (validity_seconds < VALIDITY_MIN || validity_seconds > VALIDITY_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "validity %" PRIu32 " s: not %u s to 398 days",
                                        validity_seconds, VALIDITY_MIN);
        if (now < CLOCK_SKEW || now > TIME_MAX - validity_seconds)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "now %" PRId64 ": outside what X.509 can say",
                                        now);
        /* RFC 5280 A.1: a commonName holds 64 characters; the URI always names the instance. */
        const char *cn = utf8_chars(instance, &chars) && chars <= CN_CHARS_MAX ? instance : MACHINE_CN_FALLBACK;
        const char *dns = dns_name(instance) ? instance : NULL;

        struct shield_issued_credential c = { 0 };
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *x = X509_new();
        unsigned char *der = NULL;
        int r = SHIELD_E_CRYPTO, n;

        if (!key || !x)
                goto out;
        if ((r = set_serial(x, c.serial)) < 0)
                goto out;
        r = SHIELD_E_CRYPTO;
        if (!X509_set_version(x, X509_VERSION_3) ||
            !ASN1_TIME_adj(X509_getm_notBefore(x), (time_t)now, 0, -CLOCK_SKEW) ||
            !ASN1_TIME_adj(X509_getm_notAfter(x), (time_t)now, 0, (long)validity_seconds) ||
            !X509_set_pubkey(x, key) || !set_cn(X509_get_subject_name(x), cn) ||
            !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)))
                goto out;
        if (!add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
            !add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") ||
            !add_ext(x, ca->cert, NID_ext_key_usage, "clientAuth,serverAuth") ||
            !add_ext(x, ca->cert, NID_subject_key_identifier, "hash") ||
            !add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") || !add_san(x, uri, dns) ||
            !X509_sign(x, ca->key, EVP_sha256()))
                goto out;
        if ((r = crypto_key_pem(key, &c.key_pem)) < 0 || (r = crypto_cert_pem(x, &c.cert_pem)) < 0)
                goto out;
        if ((n = i2d_X509(x, &der)) <= 0) {
                r = SHIELD_E_CRYPTO;
                goto out;
        }
        if (!(c.cert_der = malloc((size_t)n))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(c.cert_der, der, (size_t)n);
        c.cert_der_len = (size_t)n;
        c.not_before = now - CLOCK_SKEW;
        c.not_after = now + validity_seconds;
        *ret = c; /* transferred */
        memset(&c, 0, sizeof c);
        r = 0;
out:
        if (r == SHIELD_E_CRYPTO)
                shield_diag_fail(diag, r, 0, -1, "OpenSSL could not make the certificate for %s", instance);
        shield_issued_credential_clear(&c);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(key);
        ERR_clear_error();
        return r;
}

/* ---- the CRL ---- */

static bool serial_text_valid(const char *s) {
        size_t n = strnlen(s, SHIELD_CA_SERIAL_HEX + 1);
        if (n == 0 || n > SHIELD_CA_SERIAL_HEX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (shield_hex_digit(s[i]) < 0)
                        return false;
        return true;
}

/* One revoked entry, reasonCode superseded (RFC 5280 5.3.1): an intent replaced the credential. */
static X509_REVOKED *revoked_entry(const struct shield_revoked_serial *s) {
        X509_REVOKED *rv = X509_REVOKED_new();
        BIGNUM *bn = NULL;
        ASN1_INTEGER *serial = NULL;
        ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)s->revoked);
        ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
        bool ok = rv && when && reason && BN_hex2bn(&bn, s->serial) > 0 && (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
                  X509_REVOKED_set_serialNumber(rv, serial) && X509_REVOKED_set_revocationDate(rv, when) &&
                  ASN1_ENUMERATED_set(reason, CRL_REASON_SUPERSEDED) &&
                  X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0, 0) == 1;
        ASN1_ENUMERATED_free(reason);
        ASN1_TIME_free(when);
        ASN1_INTEGER_free(serial);
        BN_free(bn);
        if (!ok) {
                X509_REVOKED_free(rv);
                return NULL;
        }
        return rv;
}

int shield_machine_ca_crl(const struct shield_machine_ca *ca, const struct shield_revoked_serial *revoked, size_t n,
                          int64_t now, uint32_t next_update_seconds, uint64_t crl_number, uint8_t **ret,
                          size_t *ret_len, struct shield_diag *diag) {
        if (!ca || (n && !revoked) || !ret || !ret_len)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no CA, revoked list or result");
        if (n > SHIELD_CA_REVOKED_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%zu revoked serials: more than %u", n,
                                        SHIELD_CA_REVOKED_MAX);
        if (next_update_seconds == 0 || now < 0 || now > TIME_MAX - next_update_seconds)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "now %" PRId64 " and next update %" PRIu32
                                        " s: not a period X.509 can say", now, next_update_seconds);
        for (size_t i = 0; i < n; i++) {
                if (!serial_text_valid(revoked[i].serial))
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, (long)i, "serial: not 1 to %d hex digits",
                                                SHIELD_CA_SERIAL_HEX);
                if (revoked[i].revoked < 0 || revoked[i].revoked > TIME_MAX)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, (long)i, "revocation time %" PRId64
                                                ": outside what X.509 can say", revoked[i].revoked);
        }

        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)now);
        ASN1_INTEGER *number = ASN1_INTEGER_new();
        X509_EXTENSION *aki = NULL;
        unsigned char *der = NULL;
        int r = SHIELD_E_CRYPTO, len;

        if (!crl || !t || !number || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
            !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) || !X509_CRL_set1_lastUpdate(crl, t) ||
            !ASN1_TIME_adj(t, (time_t)now, 0, (long)next_update_seconds) || !X509_CRL_set1_nextUpdate(crl, t))
                goto out;
        /* Linear in n (capped by SHIELD_CA_REVOKED_MAX), then OpenSSL's sort. */
        for (size_t i = 0; i < n; i++) {
                X509_REVOKED *rv = revoked_entry(&revoked[i]);
                if (!rv)
                        goto out;
                if (!X509_CRL_add0_revoked(crl, rv)) {
                        X509_REVOKED_free(rv);
                        goto out;
                }
        }
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
        if (!ASN1_INTEGER_set_uint64(number, crl_number) ||
            X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1 ||
            !(aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always")) ||
            !X509_CRL_add_ext(crl, aki, -1) || !X509_CRL_sort(crl) || !X509_CRL_sign(crl, ca->key, EVP_sha256()))
                goto out;
        if ((len = i2d_X509_CRL(crl, &der)) <= 0)
                goto out;
        uint8_t *copy = malloc((size_t)len);
        if (!copy) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(copy, der, (size_t)len);
        *ret = copy; /* transferred */
        *ret_len = (size_t)len;
        r = 0;
out:
        if (r == SHIELD_E_CRYPTO)
                shield_diag_fail(diag, r, 0, -1, "OpenSSL could not make the CRL");
        OPENSSL_free(der);
        X509_EXTENSION_free(aki);
        ASN1_INTEGER_free(number);
        ASN1_TIME_free(t);
        X509_CRL_free(crl);
        ERR_clear_error();
        return r;
}

/* ---- the relying party's check ---- */

static void iso_time(int64_t t, char out[32]) {
        struct tm tm;
        time_t tt = (time_t)t;
        out[0] = '\0';
        if (gmtime_r(&tt, &tm))
                strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

__attribute__((format(printf, 3, 4)))
static int reason(struct shield_reasons *out, const char *code, const char *fmt, ...) {
        char msg[SHIELD_REASON_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return shield_reasons_add(out, code, SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX, "%s", msg) < 0 ? SHIELD_E_NOMEM : 0;
}

int shield_machine_credential_check(const struct shield_machine_ca *ca, const uint8_t *cert_der, size_t len,
                                    int64_t now, char *ret_instance, char *ret_serial, struct shield_reasons *out,
                                    struct shield_diag *diag) {
        if (!ca || !cert_der || !ret_instance || !ret_serial || !out || len > LONG_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no CA, certificate, result or reason list");
        const unsigned char *p = cert_der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        char instance[SHIELD_CA_NAME_MAX + 1], serial[SHIELD_CA_SERIAL_HEX + 1], a[32], b[32];
        int64_t nb, na;
        int r = 0;
        size_t failed = 0;

        if (!x) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "not a DER certificate");
                goto out;
        }
        if (p != cert_der + len) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)(p - cert_der), -1,
                                     "%zu bytes after the certificate", len - (size_t)(p - cert_der));
                goto out;
        }
        /* Nothing else an unsigned certificate says is worth reporting. */
        if (X509_check_issued(ca->cert, x) != X509_V_OK || X509_verify(x, X509_get0_pubkey(ca->cert)) != 1) {
                r = reason(out, "credential-signature-invalid", "not issued by this machine CA");
                failed++;
                goto out;
        }
        if (!crypto_time_unix(X509_get0_notBefore(x), &nb) || !crypto_time_unix(X509_get0_notAfter(x), &na)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the validity does not parse");
                goto out;
        }
        if (!crypto_cert_serial(x, serial)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the serial is not a positive 16-byte integer");
                goto out;
        }
        iso_time(now, b);
        if (nb > now) {
                iso_time(nb, a);
                if ((r = reason(out, "credential-not-yet-valid", "valid from %s, now %s", a, b)) < 0)
                        goto out;
                failed++;
        }
        if (na < now) {
                iso_time(na, a);
                if ((r = reason(out, "credential-expired", "expired %s, now %s", a, b)) < 0)
                        goto out;
                failed++;
        }
        /* EKU must be present and name clientAuth; X509_check_purpose adds keyUsage digitalSignature when present. */
        if (X509_check_ca(x) != 0 || !(X509_get_extension_flags(x) & EXFLAG_XKUSAGE) ||
            !(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT) ||
            X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) != 1) {
                if ((r = reason(out, "credential-usage", 
                                "not a client certificate (CA:FALSE, extendedKeyUsage clientAuth)")) < 0)
                        goto out;
                failed++;
        }
        if (!crypto_cert_instance(x, instance)) {
                if ((r = reason(out, "credential-no-instance", 
                                "not exactly one subjectAltName URI " CRYPTO_INSTANCE_URN "<instance>")) < 0)
                        goto out;
                failed++;
        }
        if (failed == 0) {
                memcpy(ret_instance, instance, strlen(instance) + 1);
                memcpy(ret_serial, serial, sizeof serial);
        }
out:
        X509_free(x);
        ERR_clear_error();
        return r < 0 ? r : failed ? SHIELD_E_VERIFY : 0;
}
