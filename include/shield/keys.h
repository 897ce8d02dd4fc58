/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Secure Boot owner keys: a key pair and a self-signed X.509 certificate,
 * as `openssl genrsa 2048` + `openssl req -new -x509 -sha256 -subj /CN=…
 * -outform DER` make them (RSA-2048, SHA-256, ten years, random serial).
 */
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

enum shield_key_algo {
        SHIELD_KEY_RSA2048,
        SHIELD_KEY_RSA3072,
        SHIELD_KEY_RSA4096,
        SHIELD_KEY_EC_P256,
};

/* "rsa2048", "rsa3072", "rsa4096", "ec-p256" → algo; SHIELD_E_NOT_FOUND otherwise. */
__attribute__((warn_unused_result))
int shield_key_algo_from_name(const char *name, enum shield_key_algo *ret);

struct shield_keypair {
        char *key_pem;          /* PKCS#8 PEM private key, malloc'd; wipe before free (shield_keypair_clear) */
        size_t key_pem_len;
        uint8_t *cert_der;      /* self-signed certificate, DER, malloc'd */
        size_t cert_der_len;
        char *cert_pem;         /* the same certificate in PEM, malloc'd */
        size_t cert_pem_len;
};

/*
 * Generate a key pair and a self-signed CA certificate with subject
 * "CN=<common_name>", valid for days from now. SHIELD_E_CRYPTO when OpenSSL
 * fails. *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_keypair_generate(enum shield_key_algo algo, const char *common_name, unsigned days,
                            struct shield_keypair *ret);

/* Wipe the private key and free everything. NULL allowed. */
void shield_keypair_clear(struct shield_keypair *kp);

/* Fill buf with cryptographically random bytes. */
__attribute__((warn_unused_result))
int shield_random_bytes(void *buf, size_t len);
