/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "x509-name.h"

static void name_oneline(const X509_NAME *name, char *out, size_t len) {
        BIO *bio = BIO_new(BIO_s_mem());
        out[0] = '\0';
        if (!bio)
                return;
        if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
                int n = BIO_read(bio, out, (int)len - 1);
                out[n > 0 ? n : 0] = '\0';
        }
        BIO_free(bio);
}

void crypto_name_cn(const X509_NAME *name, char *out, size_t len) {
        out[0] = '\0';
        int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        const ASN1_STRING *v = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
        unsigned char *utf8 = NULL;
        int n = v ? ASN1_STRING_to_UTF8(&utf8, v) : -1;
        if (n >= 0)
                snprintf(out, len, "%.*s", n, (const char *)utf8);
        OPENSSL_free(utf8);
}

static void time_iso(const ASN1_TIME *t, char *out, size_t len) {
        struct tm tm;
        out[0] = '\0';
        if (t && ASN1_TIME_to_tm(t, &tm))
                strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void key_desc(X509 *x, char *out, size_t len) {
        EVP_PKEY *pk = X509_get0_pubkey(x);
        out[0] = '\0';
        if (!pk)
                return;
        switch (EVP_PKEY_get_base_id(pk)) {
        case EVP_PKEY_RSA:
                snprintf(out, len, "RSA-%d", EVP_PKEY_get_bits(pk));
                break;
        case EVP_PKEY_EC: {
                char group[32] = "";
                size_t glen = 0;
                EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof group, &glen);
                snprintf(out, len, "EC-%s", strcmp(group, "prime256v1") == 0 ? "P256" :
                                            strcmp(group, "secp384r1") == 0 ? "P384" : group);
                break;
        }
        default:
                snprintf(out, len, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
        }
}

int shield_x509_info(const uint8_t *der, size_t len, struct shield_x509_info *ret) {
        if (!der || !ret || len > LONG_MAX)
                return SHIELD_E_INVAL;
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (!x)
                return SHIELD_E_FORMAT;
        if ((size_t)(p - der) != len) {
                X509_free(x);
                return SHIELD_E_TRAILING;
        }

        struct shield_x509_info info = { 0 };
        name_oneline(X509_get_subject_name(x), info.subject, sizeof info.subject);
        name_oneline(X509_get_issuer_name(x), info.issuer, sizeof info.issuer);
        crypto_name_cn(X509_get_subject_name(x), info.common_name, sizeof info.common_name);
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        if (bn) {
                char *hex = BN_bn2hex(bn);
                if (hex)
                        snprintf(info.serial_hex, sizeof info.serial_hex, "%s", hex);
                OPENSSL_free(hex);
                BN_free(bn);
        }
        time_iso(X509_get0_notBefore(x), info.not_before, sizeof info.not_before);
        time_iso(X509_get0_notAfter(x), info.not_after, sizeof info.not_after);
        key_desc(x, info.key_type, sizeof info.key_type);
        info.is_ca = X509_check_ca(x) > 0;
        int ok = EVP_Q_digest(NULL, "SHA1", NULL, der, len, info.sha1, NULL) &&
                 EVP_Q_digest(NULL, "SHA256", NULL, der, len, info.sha256, NULL);
        X509_free(x);
        if (!ok)
                return SHIELD_E_CRYPTO;
        *ret = info;
        return 0;
}

int shield_x509_load(const uint8_t *buf, size_t len, uint8_t **ret_der, size_t *ret_len) {
        if (!buf || !ret_der || !ret_len || len > INT32_MAX)
                return SHIELD_E_INVAL;
        const unsigned char *p = buf;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x && (size_t)(p - buf) != len) {
                X509_free(x);
                return SHIELD_E_TRAILING;
        }
        if (!x) {
                BIO *bio = BIO_new_mem_buf(buf, (int)len);
                x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
                BIO_free(bio);
        }
        if (!x)
                return SHIELD_E_FORMAT;
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        X509_free(x);
        if (n <= 0)
                return SHIELD_E_CRYPTO;
        *ret_der = malloc((size_t)n);
        if (!*ret_der) {
                OPENSSL_free(der);
                return SHIELD_E_NOMEM;
        }
        memcpy(*ret_der, der, (size_t)n);
        *ret_len = (size_t)n;
        OPENSSL_free(der);
        return 0;
}

int shield_x509_tbs_hash(const uint8_t *der, size_t len, uint16_t alg, uint8_t *out) {
        if (!der || !out || len > LONG_MAX)
                return SHIELD_E_INVAL;
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (!x)
                return SHIELD_E_FORMAT;
        unsigned char *tbs = NULL;
        int n = i2d_re_X509_tbs(x, &tbs);
        int r = n > 0 ? shield_hash(alg, tbs, (size_t)n, out) : SHIELD_E_CRYPTO;
        OPENSSL_free(tbs);
        X509_free(x);
        return r;
}

/* One subject CN entry equals want, or want followed by " AK" / " EK" (how the platform CA names keys). */
static bool cn_names(X509_NAME *subject, const char *want) {
        size_t n = strlen(want);
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
                const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
                const unsigned char *d = ASN1_STRING_get0_data(v);
                size_t len = (size_t)ASN1_STRING_length(v);
                if (len >= n && memcmp(d, want, n) == 0 &&
                    (len == n || (len == n + 3 && (memcmp(d + n, " AK", 3) == 0 || memcmp(d + n, " EK", 3) == 0))))
                        return true;
        }
        return false;
}

int shield_x509_names(const uint8_t *der, size_t len, const char *name) {
        if (!der || !name || !*name || len > LONG_MAX)
                return SHIELD_E_INVAL;
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (!x)
                return SHIELD_E_FORMAT;
        bool ok = cn_names(X509_get_subject_name(x), name);
        GENERAL_NAMES *sans = ok ? NULL : X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        for (int i = 0; sans && !ok && i < sk_GENERAL_NAME_num(sans); i++) {
                const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
                const ASN1_STRING *v = g->type == GEN_DNS ? g->d.dNSName : g->type == GEN_URI ? g->d.uniformResourceIdentifier
                                                                                              : NULL;
                ok = v && (size_t)ASN1_STRING_length(v) == strlen(name) &&
                     memcmp(ASN1_STRING_get0_data(v), name, strlen(name)) == 0;
        }
        GENERAL_NAMES_free(sans);
        X509_free(x);
        return ok ? 0 : SHIELD_E_VERIFY;
}
