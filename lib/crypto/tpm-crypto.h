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
 * A public key made once and used for many verifications (an AK checking a
 * stream of quotes). Immutable after creation: one may be shared by threads.
 */
struct tpmc_pkey;

/* From a TPM key; SHIELD_E_UNSUPPORTED (curve, size), SHIELD_E_FORMAT (point off the curve), SHIELD_E_CRYPTO. */
int tpmc_pkey_new(const struct tpmc_key *k, struct tpmc_pkey **ret);
/* From a SubjectPublicKeyInfo, DER or PEM ("PUBLIC KEY"); RSA or EC P-256/384/521 only. SHIELD_E_FORMAT. */
int tpmc_pkey_from_spki(const uint8_t *buf, size_t len, struct tpmc_pkey **ret);
void tpmc_pkey_free(struct tpmc_pkey *k);
/* Its kind; RSA modulus bytes (0 for EC); for EC the TPM curve id (0 for RSA). */
enum tpmc_kind tpmc_pkey_kind(const struct tpmc_pkey *k);
size_t tpmc_pkey_rsa_bytes(const struct tpmc_pkey *k);
uint16_t tpmc_pkey_curve(const struct tpmc_pkey *k);
/* tpmc_verify with a made key. */
int tpmc_pkey_verify(const struct tpmc_pkey *k, const struct tpmc_sig *sig, const uint8_t *msg, size_t len);
/* The key as PEM SubjectPublicKeyInfo, NUL-terminated, malloc'd. */
int tpmc_pkey_pem(const struct tpmc_pkey *k, char **ret, size_t *ret_len);
/* A DER certificate as PEM, NUL-terminated, malloc'd. SHIELD_E_FORMAT when it does not parse. */
int tpmc_cert_pem(const uint8_t *der, size_t len, char **ret, size_t *ret_len);

/* The OpenSSL key of k / inside k (lib/crypto only: the type stays opaque elsewhere). */
/* Seal data to an RSA sealing key (shield/crypto.h, "sealed blobs"): *ret malloc'd. */
int tpmc_seal(const struct tpmc_pkey *key, const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len);

struct evp_pkey_st;
int tpmc_key_pkey(const struct tpmc_key *k, struct evp_pkey_st **ret);
struct evp_pkey_st *tpmc_pkey_get(const struct tpmc_pkey *k);

/*
 * Credential protection (lib/crypto/credential.c; TPM 2.0 Part 1, 24 and
 * Annexes B and C): the parameters of the EK that will activate it.
 */
struct tpmc_cred_params {
        uint16_t name_alg;      /* the EK's nameAlg: OAEP/KDF/HMAC hash */
        unsigned sym_bits;      /* the EK's AES key size (128 or 256), CFB mode */
};

#define TPMC_ID_OBJECT_MAX (2 + 64 + 2 + 64)  /* TPM2B_DIGEST integrityHMAC || encIdentity */
#define TPMC_SECRET_MAX 512                   /* RSA-4096 ciphertext or a TPMS_ECC_POINT */

/*
 * TPM2_MakeCredential in software: a fresh seed shared with the EK (RSA:
 * OAEP label "IDENTITY"; ECC: ephemeral ECDH + KDFe), cred (1 to digest
 * size bytes) protected for the object called name. id receives the
 * TPM2B_ID_OBJECT contents (at most TPMC_ID_OBJECT_MAX), secret the
 * TPM2B_ENCRYPTED_SECRET contents (at most TPMC_SECRET_MAX).
 */
int tpmc_make_credential(const struct tpmc_pkey *ek, const struct tpmc_cred_params *p, const uint8_t *name,
                         size_t name_len, const uint8_t *cred, size_t cred_len, uint8_t *id, size_t *id_len,
                         uint8_t *secret, size_t *secret_len);

/*
 * TPM2_ActivateCredential in software with the EK's private key (PEM), for
 * tests and known answers: the credential (at most 64 bytes into ret_cred)
 * and optionally the seed (at most 512 bytes). SHIELD_E_VERIFY when the
 * integrity HMAC fails (another name, another EK, a changed blob).
 */
int tpmc_recover_credential(const char *ek_priv_pem, size_t pem_len, const struct tpmc_cred_params *p,
                            const uint8_t *name, size_t name_len, const uint8_t *id, size_t id_len,
                            const uint8_t *secret, size_t secret_len, uint8_t *ret_cred, size_t *ret_cred_len,
                            uint8_t *ret_seed, size_t *ret_seed_len);

/* The deterministic half of tpmc_make_credential, from a given seed (known-answer tests). */
int tpmc_credential_from_seed(const struct tpmc_cred_params *p, const uint8_t *seed, size_t seed_len,
                              const uint8_t *name, size_t name_len, const uint8_t *cred, size_t cred_len, uint8_t *id,
                              size_t *id_len);

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
