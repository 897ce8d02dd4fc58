/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The OpenSSL half of lib/token: JWS signing keys and raw JWS signatures
 * (RFC 7515, algorithms from RFC 7518 section 3), behind plain bytes so
 * lib/token needs no OpenSSL header (docs/ARCHITECTURE.md). Encodings
 * (base64url, JSON) are lib/token's business: everything here is bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

enum jws_alg {
        JWS_ES256 = 1, /* ECDSA P-256 with SHA-256, RFC 7518 3.4 */
        JWS_RS256 = 2, /* RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 3.3 */
};

/* RFC 7518 3.4: an ES256 signature is R || S, each 32 bytes big-endian. */
#define JWS_ES256_SIG_BYTES 64
#define JWS_P256_COORD_BYTES 32
/* RFC 7518 3.3 asks for at least 2048 bits; 4096 is our cap on what we accept. */
#define JWS_RSA_MIN_BITS 2048
#define JWS_RSA_MAX_BYTES 512
#define JWS_RSA_E_MAX_BYTES 8
/* The largest signature jws_sign writes. */
#define JWS_SIG_MAX JWS_RSA_MAX_BYTES
/* Key ids are the first 12 bytes of SHA-256 over the DER SubjectPublicKeyInfo. */
#define JWS_KID_BYTES 12

/* A key pair, or a public key only (from a JWK). Immutable once made. */
struct jws_key;

/* A fresh key: P-256 for ES256, RSA-2048 for RS256. SHIELD_E_INVAL, SHIELD_E_CRYPTO. */
int jws_key_generate(enum jws_alg alg, struct jws_key **ret);

/*
 * A private key from unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). It must
 * suit alg: P-256 for ES256, RSA of 2048 to 4096 bits for RS256; anything
 * else (another curve, RSA-PSS, an encrypted or traditional PEM) is
 * SHIELD_E_FORMAT.
 */
int jws_key_from_pem(enum jws_alg alg, const char *pem, size_t len, struct jws_key **ret);

/* A public ES256 key from its JWK coordinates (exactly 32 bytes each). SHIELD_E_FORMAT off the curve. */
int jws_key_from_ec(const uint8_t *x, size_t x_len, const uint8_t *y, size_t y_len, struct jws_key **ret);

/*
 * A public RS256 key from its JWK modulus and exponent (big-endian,
 * without leading zero bytes as RFC 7518 6.3.1 requires). SHIELD_E_FORMAT
 * for a leading zero, an even or tiny exponent; SHIELD_E_UNSUPPORTED for a
 * modulus under 2048 or over 4096 bits.
 */
int jws_key_from_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, struct jws_key **ret);

/* The private key as PKCS#8 PEM, NUL-terminated; *ret is malloc'd: wipe and free it. SHIELD_E_INVAL for a public key. */
int jws_key_pem(const struct jws_key *k, char **ret, size_t *ret_len);

/* The public parts a JWK carries (RFC 7518 6.2.1, 6.3.1). */
struct jws_public {
        enum jws_alg alg;
        uint8_t x[JWS_P256_COORD_BYTES], y[JWS_P256_COORD_BYTES]; /* ES256 */
        uint8_t n[JWS_RSA_MAX_BYTES];                              /* RS256, minimal big-endian */
        size_t n_len;
        uint8_t e[JWS_RSA_E_MAX_BYTES];
        size_t e_len;
};
int jws_key_public(const struct jws_key *k, struct jws_public *ret);

/* The key's id bytes: SHA-256(DER SubjectPublicKeyInfo)[0..12). */
int jws_key_id(const struct jws_key *k, uint8_t ret[JWS_KID_BYTES]);

enum jws_alg jws_key_alg(const struct jws_key *k);

/*
 * Sign msg with the key's algorithm. sig must hold JWS_SIG_MAX bytes;
 * *ret_len is 64 for ES256 (R || S, not DER) and the modulus size for
 * RS256. SHIELD_E_INVAL for a public key.
 */
int jws_sign(const struct jws_key *k, const uint8_t *msg, size_t len, uint8_t *sig, size_t *ret_len);

/* Check a JWS signature over msg: 0 or SHIELD_E_VERIFY (including a wrong length); SHIELD_E_CRYPTO. */
int jws_verify(const struct jws_key *k, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len);

/* NULL allowed. */
void jws_key_free(struct jws_key *k);
