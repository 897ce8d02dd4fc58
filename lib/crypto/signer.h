/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * A signer for our PKCS#7 signatures: a PEM private key and the DER
 * certificate it belongs to. Returns 0, SHIELD_E_FORMAT (not a PEM key),
 * SHIELD_E_CRYPTO (not a certificate) or SHIELD_E_INVAL (the key does not
 * belong to the certificate). Free both outputs on success.
 */
int crypto_load_signer(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len, EVP_PKEY **ret_key,
                       X509 **ret_cert);
