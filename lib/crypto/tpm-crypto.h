/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The OpenSSL half of lib/tpm, behind plain bytes: TPM public keys as
 * EVP_PKEYs, signature checks, certificates for TPM keys and the local
 * platform CA. Kept free of tss2 and OpenSSL types so it can move into
 * lib/crypto unchanged (docs/ARCHITECTURE.md: only lib/crypto includes
 * OpenSSL).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/reason.h"

enum tpmc_kind { TPMC_RSA, TPMC_EC };

/* A TPM public key (TPMT_PUBLIC unique + parameters), pointing into its buffer. */
struct tpmc_key {
        enum tpmc_kind kind;
        const uint8_t *n;       /* RSA modulus, big-endian */
        size_t n_len;
        uint32_t exponent;      /* 0 means 65537 (TPM 2.0 Part 2, 12.2.3.5) */
        uint16_t curve;         /* TPM_ECC_CURVE: 0x0003 P-256, 0x0004 P-384, 0x0005 P-521 */
        const uint8_t *x, *y;
        size_t x_len, y_len;
};

/* A TPMT_SIGNATURE's contents. */
struct tpmc_sig {
        uint16_t scheme;        /* TPM_ALG_RSASSA 0x0014, TPM_ALG_RSAPSS 0x0016, TPM_ALG_ECDSA 0x0018 */
        uint16_t hash;          /* TPM_ALG_ID of the hash */
        const uint8_t *sig;     /* RSA signature */
        size_t sig_len;
        const uint8_t *r, *s;   /* ECDSA */
        size_t r_len, s_len;
};

/* Verify sig over H(msg). 0, SHIELD_E_VERIFY, SHIELD_E_UNSUPPORTED (key/scheme/hash) or SHIELD_E_CRYPTO. */
int tpmc_verify(const struct tpmc_key *k, const struct tpmc_sig *sig, const uint8_t *msg, size_t len);

/*
 * A certificate for k issued by the CA (key PEM file, certificate PEM or
 * DER file): subject CN=cn, random serial, CA:FALSE, SKI + AKI, keyUsage
 * digitalSignature (signing) or keyEncipherment. DER in *ret (malloc'd).
 */
int tpmc_issue_cert(const struct tpmc_key *k, const char *cn, const char *ca_key_path, const char *ca_cert_path,
                    unsigned days, bool signing, uint8_t **ret, size_t *ret_len, struct shield_diag *diag);

/* A self-signed ECDSA P-256 CA: PEM key and PEM certificate, malloc'd (the key wiped by the caller). */
int tpmc_ca_create(const char *cn, unsigned days, char **ret_key, size_t *ret_key_len, char **ret_cert,
                   size_t *ret_cert_len);

/*
 * The AK certificate checks of shield_ak_cert_check (reasons into out),
 * with k the AK public key.
 */
int tpmc_cert_check(const struct tpmc_key *k, const uint8_t *cert, size_t cert_len, const uint8_t *ca,
                    size_t ca_len, struct shield_reasons *out, struct shield_diag *diag);
