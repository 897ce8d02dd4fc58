/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authenticode signatures: PKCS#7 SignedData whose content is an
 * SpcIndirectDataContent (OID 1.3.6.1.4.1.311.2.1.4) holding the image
 * digest. Verification follows what UEFI firmware does (edk2 Pkcs7Verify):
 * the signature must verify and chain to a trusted certificate, which may
 * be an intermediate; there is no trusted time, so validity dates are not
 * checked, and no extended key usage is required.
 */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/pe.h"

static PKCS7 *load(const uint8_t *der, size_t len) {
        const unsigned char *p = der;
        if (len > LONG_MAX)
                return NULL;
        PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
        if (p7 && (!PKCS7_type_is_signed(p7) || !p7->d.sign || !p7->d.sign->contents)) {
                PKCS7_free(p7);
                return NULL;
        }
        return p7;
}

/* The signed content: the SpcIndirectDataContent SEQUENCE's DER. */
static const ASN1_STRING *content_sequence(PKCS7 *p7) {
        PKCS7 *inner = p7->d.sign->contents;
        if (!inner->d.other || inner->d.other->type != V_ASN1_SEQUENCE)
                return NULL;
        return inner->d.other->value.sequence;
}

/* Step into a DER TLV: on success *p and *len are its value, *next follows it. */
static bool der_enter(const unsigned char **p, long *len, int want_tag, const unsigned char **next) {
        long body;
        int tag, cls;
        const unsigned char *q = *p;
        int r = ASN1_get_object(&q, &body, &tag, &cls, *len);
        if ((r & 0x80) || tag != want_tag || body > *len - (q - *p))
                return false;
        *next = q + body;
        *len = body;
        *p = q;
        return true;
}

/* DigestInfo inside SpcIndirectDataContent: SEQUENCE { data SEQUENCE, DigestInfo SEQUENCE { alg, OCTET STRING } }. */
static int parse_digest(const ASN1_STRING *seq, struct shield_authenticode *a) {
        const unsigned char *p = ASN1_STRING_get0_data(seq), *next, *after_data;
        long len = ASN1_STRING_length(seq);

        if (!der_enter(&p, &len, V_ASN1_SEQUENCE, &next))
                return SHIELD_E_FORMAT;
        long inner = len;
        const unsigned char *q = p;
        if (!der_enter(&q, &inner, V_ASN1_SEQUENCE, &after_data))
                return SHIELD_E_FORMAT;
        long rest = len - (after_data - p);
        q = after_data;
        const unsigned char *after_digestinfo, *oct;
        if (!der_enter(&q, &rest, V_ASN1_SEQUENCE, &after_digestinfo))
                return SHIELD_E_FORMAT;
        const unsigned char *alg_end;
        long alg_len = rest;
        const unsigned char *algp = q;
        if (!der_enter(&algp, &alg_len, V_ASN1_SEQUENCE, &alg_end))
                return SHIELD_E_FORMAT;
        ASN1_OBJECT *oid = NULL;
        const unsigned char *op = algp;
        if (!d2i_ASN1_OBJECT(&oid, &op, alg_len))
                return SHIELD_E_FORMAT;
        int nid = OBJ_obj2nid(oid);
        ASN1_OBJECT_free(oid);
        a->digest_alg = nid == NID_sha256 ? SHIELD_ALG_SHA256 : nid == NID_sha1 ? SHIELD_ALG_SHA1
                        : nid == NID_sha384 ? SHIELD_ALG_SHA384 : nid == NID_sha512 ? SHIELD_ALG_SHA512 : 0;
        long oct_len = rest - (alg_end - q);
        oct = alg_end;
        const unsigned char *oct_end;
        if (!der_enter(&oct, &oct_len, V_ASN1_OCTET_STRING, &oct_end) || oct_len > (long)sizeof a->digest)
                return SHIELD_E_FORMAT;
        memcpy(a->digest, oct, (size_t)oct_len);
        a->digest_size = (size_t)oct_len;
        return 0;
}

static void name_text(const X509_NAME *n, char *out, size_t len) {
        BIO *bio = BIO_new(BIO_s_mem());
        out[0] = '\0';
        if (bio && X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
                int k = BIO_read(bio, out, (int)len - 1);
                out[k > 0 ? k : 0] = '\0';
        }
        BIO_free(bio);
}

int shield_authenticode_parse(const uint8_t *der, size_t len, struct shield_authenticode *ret) {
        if (!der || !ret)
                return SHIELD_E_INVAL;
        PKCS7 *p7 = load(der, len);
        if (!p7)
                return SHIELD_E_FORMAT;
        struct shield_authenticode a = { 0 };
        const ASN1_STRING *seq = content_sequence(p7);
        int r = seq ? parse_digest(seq, &a) : SHIELD_E_FORMAT;
        STACK_OF(X509) *signers = r == 0 ? PKCS7_get0_signers(p7, NULL, 0) : NULL;
        if (r == 0 && signers && sk_X509_num(signers) > 0) {
                X509 *s = sk_X509_value(signers, 0);
                unsigned char *cder = NULL;
                int n = i2d_X509(s, &cder);
                name_text(X509_get_subject_name(s), a.signer_subject, sizeof a.signer_subject);
                name_text(X509_get_issuer_name(s), a.signer_issuer, sizeof a.signer_issuer);
                if (n > 0 && shield_hash(SHIELD_ALG_SHA1, cder, (size_t)n, a.signer_sha1) < 0)
                        r = SHIELD_E_CRYPTO;
                OPENSSL_free(cder);
        }
        sk_X509_free(signers);
        a.n_certs = p7->d.sign->cert ? (size_t)sk_X509_num(p7->d.sign->cert) : 0;
        PKCS7_free(p7);
        ERR_clear_error();
        if (r == 0)
                *ret = a;
        return r;
}

static int verify_one(PKCS7 *p7, const ASN1_STRING *seq, const uint8_t *trusted, size_t trusted_len) {
        const unsigned char *tp = trusted;
        X509 *anchor = trusted_len <= LONG_MAX ? d2i_X509(NULL, &tp, (long)trusted_len) : NULL;
        X509_STORE *store = X509_STORE_new();
        BIO *content = NULL;
        int ok = 0;

        if (anchor && store && X509_STORE_add_cert(store, anchor)) {
                /* Firmware has no clock it trusts, and db certificates may be intermediates. */
                X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
                X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
                /* Authenticode signs the SEQUENCE's contents, without its own tag and length. */
                const unsigned char *p = ASN1_STRING_get0_data(seq), *next;
                long len = ASN1_STRING_length(seq);
                if (der_enter(&p, &len, V_ASN1_SEQUENCE, &next))
                        content = BIO_new_mem_buf(p, (int)len);
                if (content)
                        ok = PKCS7_verify(p7, NULL, store, content, NULL, PKCS7_BINARY) == 1;
        }
        BIO_free(content);
        X509_STORE_free(store);
        X509_free(anchor);
        ERR_clear_error();
        return ok;
}

int shield_authenticode_verify(const uint8_t *der, size_t len, const uint8_t *const *trusted,
                               const size_t *trusted_len, size_t n_trusted, size_t *ret_anchor) {
        if (!der || (!trusted && n_trusted))
                return SHIELD_E_INVAL;
        PKCS7 *p7 = load(der, len);
        if (!p7)
                return SHIELD_E_FORMAT;
        const ASN1_STRING *seq = content_sequence(p7);
        int r = SHIELD_E_VERIFY;
        for (size_t i = 0; seq && i < n_trusted; i++)
                if (verify_one(p7, seq, trusted[i], trusted_len[i])) {
                        if (ret_anchor)
                                *ret_anchor = i;
                        r = 0;
                        break;
                }
        PKCS7_free(p7);
        return seq ? r : SHIELD_E_FORMAT;
}

int shield_authenticode_chain(const uint8_t *der, size_t len, uint8_t ***ret_certs, size_t **ret_lens, size_t *ret_n) {
        PKCS7 *p7 = load(der, len);
        if (!p7)
                return SHIELD_E_FORMAT;
        STACK_OF(X509) *certs = p7->d.sign->cert;
        size_t n = certs ? (size_t)sk_X509_num(certs) : 0;
        uint8_t **out = calloc(n ? n : 1, sizeof *out);
        size_t *lens = calloc(n ? n : 1, sizeof *lens);
        int r = out && lens ? 0 : SHIELD_E_NOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                unsigned char *c = NULL;
                int k = i2d_X509(sk_X509_value(certs, (int)i), &c);
                if (k <= 0 || !(out[i] = malloc((size_t)k)))
                        r = SHIELD_E_NOMEM;
                else {
                        memcpy(out[i], c, (size_t)k);
                        lens[i] = (size_t)k;
                }
                OPENSSL_free(c);
        }
        PKCS7_free(p7);
        if (r < 0) {
                for (size_t i = 0; out && i < n; i++)
                        free(out[i]);
                free(out);
                free(lens);
                return r;
        }
        *ret_certs = out;
        *ret_lens = lens;
        *ret_n = n;
        return 0;
}
