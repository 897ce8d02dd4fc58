/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "shield/keys.h"

/*
 * A signer for our PKCS#7 signatures: a PEM private key and the DER
 * certificate it belongs to. Returns 0, SHIELD_E_FORMAT (not a PEM key),
 * SHIELD_E_CRYPTO (not a certificate) or SHIELD_E_INVAL (the key does not
 * belong to the certificate). Free both outputs on success.
 */
int crypto_load_signer(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len, EVP_PKEY **ret_key,
                       X509 **ret_cert);

/* One X.509 extension in OpenSSL's config syntax, e.g. { NID_basic_constraints, "critical,CA:TRUE" }. */
struct crypto_ext {
        int nid;
        const char *value;
};

/*
 * A new key of algo and a self-signed certificate "CN=<common_name>" (SHA-256,
 * random 159-bit serial, valid days from now) carrying exts in order: the
 * one builder behind owner keys (shield_keypair_generate) and shieldd's TLS
 * certificate (shield_tls_self_signed). *ret only on success.
 */
int crypto_self_signed(enum shield_key_algo algo, const char *common_name, unsigned days,
                       const struct crypto_ext *exts, size_t n_exts, struct shield_keypair *ret);
