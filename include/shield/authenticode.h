/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Authenticode signatures (Microsoft "Windows Authenticode Portable
 * Executable Signature Format"): the PKCS#7 SignedData a PE image's
 * WIN_CERTIFICATE carries, read, verified and made in lib/crypto. They work
 * on the DER of the signature and an image digest, never on the PE image:
 * shield/pe.h finds the signatures in an image and computes its digest.
 */
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

/* What a PKCS#7 Authenticode signature says. */
struct shield_authenticode {
        char signer_subject[256];
        char signer_issuer[256];
        char signer_common_name[256];   /* the signer's subject commonName; "" when none */
        uint8_t signer_sha1[20];
        uint16_t digest_alg;            /* of the image digest it signs */
        uint8_t digest[64];             /* the signed image digest */
        size_t digest_size;
        size_t n_certs;                 /* certificates carried in the signature */
};

/* Read a signature's signer and signed digest (no trust decision). */
__attribute__((warn_unused_result))
int shield_authenticode_parse(const uint8_t *der, size_t len, struct shield_authenticode *ret);

/*
 * Does the signature verify (its signer's signature over the signed
 * content) and chain to one of the trusted DER certificates? As firmware
 * does: no time checks, intermediates from the signature, a trusted
 * certificate may be an intermediate itself. On success *ret_anchor is the
 * index of the certificate the chain reached. SHIELD_E_VERIFY otherwise.
 */
__attribute__((warn_unused_result))
int shield_authenticode_verify(const uint8_t *der, size_t len, const uint8_t *const *trusted,
                               const size_t *trusted_len, size_t n_trusted, size_t *ret_anchor);

/*
 * The certificates of the signature's chain (signer first), for dbx
 * checks: each as DER (malloc'd array of malloc'd buffers).
 */
__attribute__((warn_unused_result))
int shield_authenticode_chain(const uint8_t *der, size_t len, uint8_t ***ret_certs, size_t **ret_lens, size_t *ret_n);

/*
 * Make an Authenticode signature (PKCS#7 ContentInfo, SHA-256) over a PE
 * image digest, signed by key_pem (PEM) with cert (DER) included.
 * SHIELD_E_INVAL when the key does not belong to the certificate.
 */
__attribute__((warn_unused_result))
int shield_authenticode_sign(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len,
                             const uint8_t digest[32], uint8_t **ret, size_t *ret_len);
