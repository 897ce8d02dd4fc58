/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detached PKCS#7 signatures as EFI_VARIABLE_AUTHENTICATION_2 carries them
 * (UEFI 2.10, 8.2.2): a SignedData with no content, stored without the
 * ContentInfo wrapper. Reading accepts both forms, as edk2 does.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "signer.h"

/* DER prefix of ContentInfo's contentType: OID 1.2.840.113549.1.7.2 (signedData). */
static const uint8_t SIGNED_DATA_OID[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };

static size_t der_len_size(size_t n) {
        return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

static uint8_t *der_put_header(uint8_t *p, uint8_t tag, size_t n) {
        *p++ = tag;
        size_t ls = der_len_size(n);
        if (ls == 1) {
                *p++ = (uint8_t)n;
        } else {
                *p++ = (uint8_t)(0x80 | (ls - 1));
                for (size_t i = ls - 1; i > 0; i--)
                        *p++ = (uint8_t)(n >> (8 * (i - 1)));
        }
        return p;
}

/* Wrap a bare SignedData in a ContentInfo (when it is not wrapped already). */
static PKCS7 *load_signed_data(const uint8_t *der, size_t len) {
        const unsigned char *p = der;
        PKCS7 *p7 = len <= LONG_MAX ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
        if (p7)
                return p7;
        ERR_clear_error();
        size_t inner = 1 + der_len_size(len) + len, total = sizeof SIGNED_DATA_OID + inner;
        uint8_t *w = malloc(1 + der_len_size(total) + total);
        if (!w)
                return NULL;
        uint8_t *q = der_put_header(w, 0x30, total);
        memcpy(q, SIGNED_DATA_OID, sizeof SIGNED_DATA_OID);
        q = der_put_header(q + sizeof SIGNED_DATA_OID, 0xa0, len);
        memcpy(q, der, len);
        q += len;
        p = w;
        p7 = d2i_PKCS7(NULL, &p, (long)(q - w));
        free(w);
        return p7;
}

int shield_pkcs7_sign_detached(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len,
                               const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len) {
        if (!key_pem || !cert || (!data && len) || !ret || !ret_len || key_len > INT32_MAX || len > INT32_MAX)
                return SHIELD_E_INVAL;
        EVP_PKEY *key = NULL;
        X509 *x = NULL;
        BIO *db = NULL;
        PKCS7 *p7 = NULL;
        unsigned char *der = NULL;
        int n, r = crypto_load_signer(key_pem, key_len, cert, cert_len, &key, &x);

        if (r < 0)
                return r;
        r = SHIELD_E_CRYPTO;
        if (!(db = BIO_new_mem_buf(data ? data : (const uint8_t *)"", (int)len)))
                goto out;
        /* SHA-256, the signer's certificate included, no S/MIME capabilities. */
        p7 = PKCS7_sign(x, key, NULL, db, PKCS7_DETACHED | PKCS7_BINARY | PKCS7_NOSMIMECAP);
        if (!p7 || (n = i2d_PKCS7(p7, &der)) <= 0)
                goto out;
        /* Strip ContentInfo: SEQUENCE { OID, [0] { SignedData } } → SignedData. */
        const unsigned char *p = der, *q;
        long body;
        int tag, cls;
        if ((ASN1_get_object(&p, &body, &tag, &cls, n) & 0x80) || tag != V_ASN1_SEQUENCE)
                goto out;
        q = p;
        if ((ASN1_get_object(&q, &body, &tag, &cls, n - (p - der)) & 0x80) || tag != V_ASN1_OBJECT)
                goto out;
        q += body;
        const unsigned char *explicit = q;
        if ((ASN1_get_object(&q, &body, &tag, &cls, n - (explicit - der)) & 0x80) || tag != 0 || cls != V_ASN1_CONTEXT_SPECIFIC)
                goto out;
        *ret = malloc((size_t)body);
        if (!*ret) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(*ret, q, (size_t)body);
        *ret_len = (size_t)body;
        r = 0;
out:
        OPENSSL_free(der);
        PKCS7_free(p7);
        X509_free(x);
        EVP_PKEY_free(key);
        BIO_free(db);
        ERR_clear_error();
        return r;
}

int shield_pkcs7_verify_detached(const uint8_t *sig, size_t sig_len, const uint8_t *data, size_t len,
                                 const uint8_t *trusted, size_t trusted_len) {
        if (!sig || !trusted || (!data && len) || len > INT32_MAX)
                return SHIELD_E_INVAL;
        PKCS7 *p7 = load_signed_data(sig, sig_len);
        const unsigned char *tp = trusted;
        X509 *anchor = trusted_len <= LONG_MAX ? d2i_X509(NULL, &tp, (long)trusted_len) : NULL;
        X509_STORE *store = X509_STORE_new();
        BIO *content = BIO_new_mem_buf(data ? data : (const uint8_t *)"", (int)len);
        int r = SHIELD_E_VERIFY;

        if (!p7 || !PKCS7_type_is_signed(p7))
                r = SHIELD_E_FORMAT;
        else if (anchor && store && content && X509_STORE_add_cert(store, anchor)) {
                /* As firmware: the anchor may be an intermediate, no clock, no key-usage demands. */
                X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
                X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
                if (PKCS7_verify(p7, NULL, store, content, NULL, PKCS7_BINARY) == 1)
                        r = 0;
        }
        BIO_free(content);
        X509_STORE_free(store);
        X509_free(anchor);
        PKCS7_free(p7);
        ERR_clear_error();
        return r;
}
