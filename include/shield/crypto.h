/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The crypto seam. lib/crypto is the only code that includes OpenSSL;
 * everything else asks for digests and certificate facts through here.
 * Hash algorithms are named by their TPM_ALG_ID (TPM 2.0 Library spec,
 * Part 2, 6.3), the identifiers event logs and quotes carry.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHIELD_ALG_SHA1 0x0004
#define SHIELD_ALG_SHA256 0x000B
#define SHIELD_ALG_SHA384 0x000C
#define SHIELD_ALG_SHA512 0x000D
#define SHIELD_ALG_SM3_256 0x0012

#define SHIELD_HASH_MAX_SIZE 64

/* Digest size in bytes of a known algorithm, 0 when unknown. */
size_t shield_hash_size(uint16_t alg);

/* "sha1", "sha256", "sha384", "sha512", "sm3_256"; NULL when unknown. */
const char *shield_hash_name(uint16_t alg);

/* The reverse of shield_hash_name (also accepts "sha-256" style names). */
__attribute__((warn_unused_result))
int shield_hash_from_name(const char *name, uint16_t *ret_alg);

/* One-shot digest of data into out (shield_hash_size(alg) bytes). */
__attribute__((warn_unused_result))
int shield_hash(uint16_t alg, const void *data, size_t len, uint8_t *out);

/*
 * A reusable hashing context for hot loops (PCR replay runs millions of
 * extends): the algorithm implementations are fetched once and the digest
 * contexts reused. Not thread-safe; use one per thread.
 */
struct shield_hasher;

__attribute__((warn_unused_result))
int shield_hasher_new(struct shield_hasher **ret);
void shield_hasher_free(struct shield_hasher *h);

/* out = H(a || b); either part may be empty. */
__attribute__((warn_unused_result))
int shield_hasher_digest2(struct shield_hasher *h, uint16_t alg, const void *a, size_t alen,
                          const void *b, size_t blen, uint8_t *out);

/* PCR extend in place: pcr = H(pcr || digest), both shield_hash_size(alg) bytes. */
__attribute__((warn_unused_result))
int shield_hasher_extend(struct shield_hasher *h, uint16_t alg, uint8_t *pcr, const uint8_t *digest);

/*
 * A streaming digest for large inputs (Authenticode over a whole PE file):
 * begin, update any number of times, finish (which also frees). abort frees
 * without a result. NULL is allowed for abort.
 */
struct shield_digest;
__attribute__((warn_unused_result))
int shield_digest_begin(uint16_t alg, struct shield_digest **ret);
__attribute__((warn_unused_result))
int shield_digest_update(struct shield_digest *d, const void *data, size_t len);
__attribute__((warn_unused_result))
int shield_digest_finish(struct shield_digest *d, uint8_t *out);
void shield_digest_abort(struct shield_digest *d);

/*
 * What a person needs to recognise an X.509 certificate. Strings are
 * one-line RFC 2253-style names, truncated to fit.
 */
struct shield_x509_info {
        char subject[256];
        char issuer[256];
        char common_name[256]; /* the subject's first commonName (UTF-8); "" when it has none */
        char serial_hex[80];
        char not_before[32];   /* "2011-06-24T20:41:29Z" */
        char not_after[32];
        char key_type[32];     /* "RSA-2048", "EC-P256", … */
        uint8_t sha1[20];      /* thumbprint over the DER */
        uint8_t sha256[32];
        bool is_ca;
};

/*
 * Parse a DER certificate (exactly len bytes, no trailing data). Returns
 * SHIELD_E_FORMAT when it is not a certificate.
 */
__attribute__((warn_unused_result))
int shield_x509_info(const uint8_t *der, size_t len, struct shield_x509_info *ret);

/*
 * Whether a DER certificate names name: a subject commonName equal to it
 * (or to "NAME AK" / "NAME EK", the platform CA's key certificates), or a
 * subjectAltName dNSName or URI equal to it. 0 when it does,
 * SHIELD_E_VERIFY when not, SHIELD_E_FORMAT when der is no certificate.
 */
__attribute__((warn_unused_result))
int shield_x509_names(const uint8_t *der, size_t len, const char *name);

/*
 * Load one certificate given as DER or PEM ("-----BEGIN CERTIFICATE-----")
 * and return its DER encoding (malloc'd). SHIELD_E_FORMAT when the bytes
 * are neither.
 */
__attribute__((warn_unused_result))
int shield_x509_load(const uint8_t *buf, size_t len, uint8_t **ret_der, size_t *ret_len);

/* The digest of a certificate's TBSCertificate (what EFI_CERT_X509_SHA256 entries hold). */
__attribute__((warn_unused_result))
int shield_x509_tbs_hash(const uint8_t *der, size_t len, uint16_t alg, uint8_t *out);

/*
 * A detached PKCS#7 SignedData over data (SHA-256, the signer certificate
 * included), returned without the ContentInfo wrapper, as UEFI
 * authenticated variables carry it. key_pem is the private key in PEM;
 * SHIELD_E_INVAL when it does not belong to cert.
 */
__attribute__((warn_unused_result))
int shield_pkcs7_sign_detached(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len,
                               const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len);

/*
 * Verify a detached PKCS#7 signature (wrapped or bare SignedData) over data,
 * chaining to trusted (DER). 0, SHIELD_E_VERIFY, or SHIELD_E_FORMAT.
 */
__attribute__((warn_unused_result))
int shield_pkcs7_verify_detached(const uint8_t *sig, size_t sig_len, const uint8_t *data, size_t len,
                                 const uint8_t *trusted, size_t trusted_len);


struct shield_diag;
/*
 * Chain a DER certificate to the CA certificates in dir (any file names,
 * DER or PEM, several PEM certificates a file): self-signed ones are the
 * anchors, the others intermediates. Validity periods and unknown critical
 * extensions (common in TPM vendors' EK certificates) are not held against
 * it. On success *ret_spki (may be NULL) is the certificate's public key as
 * DER SubjectPublicKeyInfo (malloc'd). SHIELD_E_VERIFY with OpenSSL's reason
 * in diag when it does not chain; SHIELD_E_NOT_FOUND for a directory without
 * certificates; SHIELD_E_FORMAT when der is not a certificate.
 */
__attribute__((warn_unused_result))
int shield_x509_chain_dir(const uint8_t *der, size_t len, const char *dir, uint8_t **ret_spki, size_t *ret_spki_len,
                          struct shield_diag *diag);

/* ---- sealed blobs ("shieldkit-sealed/1", lib/crypto/sealed.c) ---- */
#define SHIELD_SEALED_DATA_MAX (1u << 20)       /* data in one sealed blob */
extern const uint8_t shield_seal_label[15];     /* "SHIELDKIT-SEAL\0": the RSA-OAEP label of the wrapped key */

/* A parsed blob: pointers into it. */
struct shield_sealed {
        const uint8_t *wrapped;         /* the 256-bit key, RSA-OAEP-wrapped to the sealing key */
        size_t wrapped_len;
        const uint8_t *aad, *iv, *ciphertext, *tag;
        size_t aad_len, ciphertext_len;
};
/* Strict: magic, lengths within the blob and the cap, no trailing bytes (diag says where). */
__attribute__((warn_unused_result))
int shield_sealed_parse(const uint8_t *blob, size_t len, struct shield_sealed *ret, struct shield_diag *diag);
/* The data, once the unwrapped key opens it (AES-256-GCM, tag checked first); SHIELD_E_VERIFY otherwise. */
__attribute__((warn_unused_result))
int shield_sealed_open(const struct shield_sealed *s, const uint8_t key[32], uint8_t **ret, size_t *ret_len);
