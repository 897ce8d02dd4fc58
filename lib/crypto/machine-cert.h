/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* What machine-ca.c and credential-bundle.c both read from a machine certificate. */
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

#include "shield/machine-ca.h"

#define CRYPTO_INSTANCE_URN "urn:shieldkit:instance:"
/* The longest URI: the prefix and every byte of a longest name as %XX, and the NUL. */
#define CRYPTO_INSTANCE_URI_MAX (sizeof CRYPTO_INSTANCE_URN - 1 + 3 * SHIELD_CA_NAME_MAX + 1)

/*
 * "urn:shieldkit:instance:" and name percent-encoded (RFC 3986 2.1, 2.3:
 * unreserved characters kept, every other byte as upper-case %XX) into out.
 * false when name is longer than SHIELD_CA_NAME_MAX bytes.
 */
bool crypto_instance_uri(const char *name, char out[CRYPTO_INSTANCE_URI_MAX]);

/*
 * The instance named by x's subjectAltName: exactly one URI with the prefix
 * above, its tail the canonical encoding (as crypto_instance_uri writes it)
 * of a name that passes shield_name_valid. false otherwise; out is written
 * only on success.
 */
bool crypto_cert_instance(X509 *x, char out[SHIELD_CA_NAME_MAX + 1]);

/* x's serial as SHIELD_CA_SERIAL_HEX lower-case hex digits; false unless it is positive and fits 16 bytes. */
bool crypto_cert_serial(const X509 *x, char out[SHIELD_CA_SERIAL_HEX + 1]);

/* An ASN1_TIME as unix time; false when it does not parse. */
bool crypto_time_unix(const ASN1_TIME *t, int64_t *ret);

/*
 * A memory BIO's contents as a NUL-terminated malloc'd string; the BIO's
 * own buffer is wiped either way (it may have held a private key).
 * SHIELD_E_CRYPTO when it is empty, SHIELD_E_NOMEM.
 */
int crypto_bio_take(BIO *bio, char **ret);

/* PEM text of a private key (PKCS#8) or a certificate, malloc'd; the key's text is wiped from the BIO. */
int crypto_key_pem(EVP_PKEY *key, char **ret);
int crypto_cert_pem(X509 *x, char **ret);

/* Wipe and free a NUL-terminated secret string; NULL allowed. */
void crypto_free_secret(char *s);
