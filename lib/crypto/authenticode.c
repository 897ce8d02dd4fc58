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
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/authenticode.h"
#include "signer.h"
#include "x509-name.h"

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

/*
 * Are all the SignedData's digestAlgorithms ones OpenSSL knows? OpenSSL 3.0's
 * PKCS7_verify leaks its copy of the content BIO when PKCS7_dataInit fails
 * on an unknown one (found by fuzz-pe), so such signatures are refused
 * before it is called; firmware cannot verify them either.
 */
static bool digests_known(PKCS7 *p7) {
        STACK_OF(X509_ALGOR) *algs = p7->d.sign->md_algs;
        for (int i = 0; i < sk_X509_ALGOR_num(algs); i++) {
                const ASN1_OBJECT *oid;
                X509_ALGOR_get0(&oid, NULL, NULL, sk_X509_ALGOR_value(algs, i));
                if (!EVP_get_digestbyobj(oid))
                        return false;
        }
        return true;
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
                crypto_name_cn(X509_get_subject_name(s), a.signer_common_name, sizeof a.signer_common_name);
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
        const ASN1_STRING *seq = digests_known(p7) ? content_sequence(p7) : NULL;
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

/* SpcIndirectDataContent for a PE image digest (Authenticode, "SpcIndirectDataContent"). */
static unsigned char *build_indirect_data(const uint8_t digest[32], int *ret_len) {
        /* SpcPeImageData { flags BIT STRING {}, file [0] { [2] { [0] IMPLICIT BMPString "<<<Obsolete>>>" } } } */
        static const unsigned char obsolete[] = {
                0x30, 0x25, 0x03, 0x01, 0x00, 0xa0, 0x20, 0xa2, 0x1e, 0x80, 0x1c, 0x00, 0x3c, 0x00, 0x3c, 0x00, 0x3c,
                0x00, 0x4f, 0x00, 0x62, 0x00, 0x73, 0x00, 0x6f, 0x00, 0x6c, 0x00, 0x65, 0x00, 0x74, 0x00, 0x65,
                0x00, 0x3e, 0x00, 0x3e, 0x00, 0x3e,
        };
        /* OID 1.3.6.1.4.1.311.2.1.15 SPC_PE_IMAGE_DATAOBJ, and sha256 with NULL parameters. */
        static const unsigned char pe_image_oid[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0f };
        static const unsigned char sha256_alg[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                                    0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
        size_t data_len = sizeof pe_image_oid + sizeof obsolete;        /* 0x31 */
        size_t md_len = sizeof sha256_alg + 2 + 32;                      /* 0x31 */
        size_t body = 2 + data_len + 2 + md_len;
        unsigned char *out = OPENSSL_malloc(2 + body), *p = out;
        if (!out || body > 0x7f)
                return NULL;
        *p++ = 0x30, *p++ = (unsigned char)body;
        *p++ = 0x30, *p++ = (unsigned char)data_len;
        memcpy(p, pe_image_oid, sizeof pe_image_oid), p += sizeof pe_image_oid;
        memcpy(p, obsolete, sizeof obsolete), p += sizeof obsolete;
        *p++ = 0x30, *p++ = (unsigned char)md_len;
        memcpy(p, sha256_alg, sizeof sha256_alg), p += sizeof sha256_alg;
        *p++ = 0x04, *p++ = 32;
        memcpy(p, digest, 32), p += 32;
        *ret_len = (int)(p - out);
        return out;
}

int shield_authenticode_sign(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len,
                             const uint8_t digest[32], uint8_t **ret, size_t *ret_len) {
        if (!key_pem || !cert || !digest || !ret || !ret_len || key_len > INT32_MAX || cert_len > LONG_MAX)
                return SHIELD_E_INVAL;
        BIO *bio = NULL;
        EVP_PKEY *key = NULL;
        X509 *x = NULL;
        PKCS7 *p7 = NULL, *inner = NULL;
        ASN1_STRING *seq = NULL;
        int idc_len = 0, r = crypto_load_signer(key_pem, key_len, cert, cert_len, &key, &x);
        unsigned char *idc = NULL, *der = NULL;

        if (r < 0)
                return r;
        r = SHIELD_E_CRYPTO;
        if (!(p7 = PKCS7_new()) || !(idc = build_indirect_data(digest, &idc_len)))
                goto out;
        PKCS7_SIGNER_INFO *si;
        if (!PKCS7_set_type(p7, NID_pkcs7_signed) || !(si = PKCS7_add_signature(p7, x, key, EVP_sha256())) ||
            !PKCS7_add_certificate(p7, x) ||
            !PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                        OBJ_txt2obj("1.3.6.1.4.1.311.2.1.4", 1)) ||
            !PKCS7_content_new(p7, NID_pkcs7_data))
                goto out;
        /* The digest and signature cover the SEQUENCE's contents, without its tag and length. */
        if (!(bio = PKCS7_dataInit(p7, NULL)) || BIO_write(bio, idc + 2, idc_len - 2) != idc_len - 2 ||
            !PKCS7_dataFinal(p7, bio))
                goto out;
        /* Then the content becomes the SpcIndirectDataContent itself. */
        if (!(inner = PKCS7_new()) || !(seq = ASN1_STRING_new()) || !ASN1_STRING_set(seq, idc, idc_len))
                goto out;
        inner->type = OBJ_txt2obj("1.3.6.1.4.1.311.2.1.4", 1);
        inner->d.other = ASN1_TYPE_new();
        if (!inner->type || !inner->d.other)
                goto out;
        ASN1_TYPE_set(inner->d.other, V_ASN1_SEQUENCE, seq);
        seq = NULL;
        if (!PKCS7_set_content(p7, inner))
                goto out;
        inner = NULL;
        int n = i2d_PKCS7(p7, &der);
        if (n <= 0)
                goto out;
        *ret = malloc((size_t)n);
        if (!*ret) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(*ret, der, (size_t)n);
        *ret_len = (size_t)n;
        r = 0;
out:
        OPENSSL_free(der);
        OPENSSL_free(idc);
        ASN1_STRING_free(seq);
        PKCS7_free(inner);
        BIO_free_all(bio);
        PKCS7_free(p7);
        X509_free(x);
        EVP_PKEY_free(key);
        ERR_clear_error();
        return r;
}
