/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The machine credential authority (the issue "Sealed machine
 * credentials", step 4): the CA that issues each machine a fresh key pair
 * and a short-lived X.509 certificate naming it, and the CRL that revokes
 * the credentials an intent replaced. docs/CREDENTIALS.md says what a
 * relying party checks.
 *
 *  - CA: ECDSA P-256, self-signed "CN=<common_name>", CA:TRUE pathlen 0,
 *    keyUsage keyCertSign|cRLSign, subjectKeyIdentifier.
 *  - Machine certificate: a fresh ECDSA P-256 key; serial 16 random bytes
 *    (first bit clear: positive), kept as 32 lowercase hex digits;
 *    subject "CN=<instance>" (when the name fits RFC 5280's 64 characters;
 *    otherwise "CN=shieldkit machine"), subjectAltName
 *    URI "urn:shieldkit:instance:<name, RFC 3986 percent-encoded>" and a
 *    dNSName when the name is a DNS name; CA:FALSE, keyUsage
 *    digitalSignature, extendedKeyUsage clientAuth and serverAuth,
 *    authority/subject key identifiers; notBefore = now - 60 s (clock
 *    skew), notAfter = now + validity.
 *  - CRL: X.509 v2, SHA-256 with ECDSA, thisUpdate now, nextUpdate now +
 *    next_update, cRLNumber, authorityKeyIdentifier, one entry per revoked
 *    serial with its revocation time and reasonCode superseded: what
 *    `openssl verify -crl_check` and `openssl s_server -crl_check` read.
 *
 * The credential a machine receives (sealed to its intended boot) is a
 * "bundle": PEM text, the PKCS#8 private key, then the certificate, then
 * the CA's certificate. Nothing else is in it; the serial and the instance
 * are read from the certificate.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/reason.h"

#define SHIELD_CA_SERIAL_HEX 32                 /* hex digits of a machine certificate's serial */
#define SHIELD_CA_NAME_MAX 256                  /* bytes in an instance name (SHIELD_NAME_MAX) */
#define SHIELD_CA_BUNDLE_MAX (64u << 10)        /* bytes of a credential bundle */
#define SHIELD_CA_REVOKED_MAX (1u << 20)        /* entries in one CRL */

struct shield_machine_ca;

/*
 * Make a CA: *ret_key_pem (PKCS#8, malloc'd; wipe before free) and
 * *ret_cert_pem (malloc'd), valid from now for days (0: 3650). Both written
 * only on success. SHIELD_E_INVAL for an empty common name or one with a
 * control character; SHIELD_E_CRYPTO when OpenSSL fails.
 */
__attribute__((warn_unused_result))
int shield_machine_ca_create(const char *common_name, unsigned days, char **ret_key_pem, char **ret_cert_pem,
                             struct shield_diag *diag);

/*
 * Load a CA from its key and certificate (PEM). SHIELD_E_FORMAT when either
 * does not parse or the key is not the certificate's; SHIELD_E_INVAL when
 * the certificate is not a CA. *ret on success; free with
 * shield_machine_ca_free (NULL allowed).
 */
__attribute__((warn_unused_result))
int shield_machine_ca_load(const char *key_pem, const char *cert_pem, struct shield_machine_ca **ret,
                           struct shield_diag *diag);
void shield_machine_ca_free(struct shield_machine_ca *ca);

/* The CA's certificate, PEM (a pointer into ca, valid while ca lives). */
const char *shield_machine_ca_cert_pem(const struct shield_machine_ca *ca);

/* A credential as issued. */
struct shield_issued_credential {
        char *key_pem;                  /* PKCS#8 PEM, malloc'd; wiped by the clear */
        char *cert_pem;                 /* malloc'd */
        uint8_t *cert_der;              /* malloc'd */
        size_t cert_der_len;
        char serial[SHIELD_CA_SERIAL_HEX + 1];
        int64_t not_before, not_after;  /* unix time */
};
/* Wipe the key and free everything; NULL allowed. */
void shield_issued_credential_clear(struct shield_issued_credential *c);

/*
 * Issue a credential for instance (shield_name_valid; SHIELD_E_INVAL
 * otherwise), valid from now for validity_seconds (60 to 398 days, else
 * SHIELD_E_INVAL). *ret on success only.
 */
__attribute__((warn_unused_result))
int shield_machine_ca_issue(const struct shield_machine_ca *ca, const char *instance, int64_t now,
                            uint32_t validity_seconds, struct shield_issued_credential *ret,
                            struct shield_diag *diag);

struct shield_revoked_serial {
        char serial[SHIELD_CA_SERIAL_HEX + 1];  /* as issued */
        int64_t revoked;                        /* unix time */
};

/*
 * The CRL over n revoked serials (n at most SHIELD_CA_REVOKED_MAX), DER in
 * *ret (malloc'd). SHIELD_E_INVAL for a serial that is not 1 to 32 hex
 * digits.
 */
__attribute__((warn_unused_result))
int shield_machine_ca_crl(const struct shield_machine_ca *ca, const struct shield_revoked_serial *revoked, size_t n,
                          int64_t now, uint32_t next_update_seconds, uint64_t crl_number, uint8_t **ret,
                          size_t *ret_len, struct shield_diag *diag);

/*
 * What a relying party (shieldd's mutual-TLS routes) checks of a machine
 * certificate (DER): signed by the CA, within its validity at now, CA:FALSE
 * with extendedKeyUsage clientAuth, and naming an instance in its
 * subjectAltName URI. On success ret_instance (SHIELD_CA_NAME_MAX + 1) and
 * ret_serial (SHIELD_CA_SERIAL_HEX + 1) are filled. SHIELD_E_VERIFY with
 * a reason in out ("credential-signature-invalid", "credential-expired",
 * "credential-not-yet-valid", "credential-usage", "credential-no-instance");
 * SHIELD_E_FORMAT when the DER does not parse. Revocation is the caller's
 * (it knows the serials).
 */
__attribute__((warn_unused_result))
int shield_machine_credential_check(const struct shield_machine_ca *ca, const uint8_t *cert_der, size_t len,
                                    int64_t now, char *ret_instance, char *ret_serial, struct shield_reasons *out,
                                    struct shield_diag *diag);

/* The bundle's text (NUL-terminated, malloc'd; wipe before free): key, certificate, CA certificate. */
__attribute__((warn_unused_result))
int shield_credential_bundle_make(const struct shield_issued_credential *c, const char *ca_cert_pem, char **ret,
                                  size_t *ret_len);

/* A bundle as parsed: each part re-encoded as PEM, malloc'd. */
struct shield_credential_bundle {
        char *key_pem, *cert_pem, *ca_pem;
        char serial[SHIELD_CA_SERIAL_HEX + 1];
        char instance[SHIELD_CA_NAME_MAX + 1];
        int64_t not_after;
};
/* Wipe the key and free; NULL allowed. */
void shield_credential_bundle_clear(struct shield_credential_bundle *b);

/*
 * Parse a bundle (len bytes, at most SHIELD_CA_BUNDLE_MAX): exactly a
 * private key, a certificate whose public key is that key's, and a CA
 * certificate that signed it, in that order, nothing else (SHIELD_E_FORMAT
 * naming the part and its byte offset otherwise). *ret on success only.
 */
__attribute__((warn_unused_result))
int shield_credential_bundle_parse(const char *text, size_t len, struct shield_credential_bundle *ret,
                                   struct shield_diag *diag);
