/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Attestation tokens: JWTs (RFC 7519) signed ES256 (P-256) or RS256
 * (RSA-2048), with their public keys as a JWKS (RFC 7517) so any standard
 * JWT library can verify them. Claims are the caller's JSON object (see
 * docs/API.md); this module adds nothing but the header {alg, typ, kid}.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

struct shield_token_key;

/* A new signing key ("ES256" or "RS256") with a random kid. */
__attribute__((warn_unused_result))
int shield_token_key_generate(const char *alg, struct shield_token_key **ret, struct shield_diag *diag);
/* A key from its stored form (PKCS#8 PEM private key); SHIELD_E_FORMAT when pem is not a key of alg. */
__attribute__((warn_unused_result))
int shield_token_key_from_pem(const char *alg, const char *kid, const char *pem, struct shield_token_key **ret,
                              struct shield_diag *diag);
/* The private key as PKCS#8 PEM (malloc'd; wipe and free it). */
__attribute__((warn_unused_result))
int shield_token_key_pem(const struct shield_token_key *k, char **ret);
const char *shield_token_key_kid(const struct shield_token_key *k);
const char *shield_token_key_alg(const struct shield_token_key *k);
void shield_token_key_free(struct shield_token_key *k);

/* Sign: header.payload.signature in base64url; claims_json is a JSON object. *ret malloc'd. */
__attribute__((warn_unused_result))
int shield_token_sign(const struct shield_token_key *k, const char *claims_json, char **ret, struct shield_diag *diag);

/* The public keys as a JWKS document {"keys": [{kty, crv|n,e, x,y, kid, alg, use:"sig"}]}. *ret malloc'd. */
__attribute__((warn_unused_result))
int shield_token_jwks(struct shield_token_key *const *keys, size_t n, char **ret);

/*
 * Verify a JWT against a JWKS document: the kid's key, the signature, the
 * alg (ES256/RS256 only; "none" and anything else refused), exp and nbf
 * against now (with 60 s leeway). On success *ret_claims (may be NULL) is
 * the claims JSON (malloc'd). SHIELD_E_VERIFY with the reason in diag.
 */
__attribute__((warn_unused_result))
int shield_token_verify(const char *jwt, const char *jwks_json, int64_t now, char **ret_claims,
                        struct shield_diag *diag);
