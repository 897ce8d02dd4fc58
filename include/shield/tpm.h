/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The TPM through tpm2-tss (ESAPI): provisioning of the endorsement key
 * (EK) and attestation key (AK) with certificates from a platform CA, PCR
 * reads and quotes; and the host-side check of a quote, which needs no TPM.
 *
 * The handles and NV indexes below are contracts shared with the in-guest
 * EFI agent and with Google's vTPM layout; docs/EVIDENCE.md describes them.
 * lib/tpm is the only code that includes <tss2/…>: callers see bytes in the
 * TPM's own marshalled forms (TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/pcrs.h"
#include "shield/reason.h"

#define SHIELD_TPM_EK_HANDLE 0x81010001u      /* RSA-2048 EK, TCG default template (policy A) */
#define SHIELD_TPM_AK_HANDLE 0x81010002u      /* RSA-2048 restricted RSASSA/SHA-256 signing key */
#define SHIELD_TPM_EK_CERT_NV 0x01c00002u     /* EK certificate, DER (TCG EK Credential Profile 2.5) */
#define SHIELD_TPM_AK_CERT_NV 0x01c10000u     /* AK certificate, DER (Google vTPM layout) */

#define SHIELD_TPM_NONCE_MAX 64               /* qualifyingData is a TPM2B_DATA */
#define SHIELD_TPM_ATTEST_MAX 2048            /* bigger than any TPMS_ATTEST (sizeof TPM2B_ATTEST) */
#define SHIELD_TPM_SIGNATURE_MAX 1024         /* a TPMT_SIGNATURE up to RSA-4096 */
#define SHIELD_TPM_PUBLIC_MAX 1024            /* a TPM2B_PUBLIC with size */
#define SHIELD_TPM_CERT_MAX 4096              /* a certificate in an NV index */

struct shield_tpm;

/*
 * Connect to a TPM. tcti is a tpm2-tss TCTI string ("swtpm:host=127.0.0.1,
 * port=2321", "device:/dev/tpmrm0", "mssim:…"); NULL means $TPM2TOOLS_TCTI,
 * else "device:/dev/tpmrm0". SHIELD_E_TPM when the TCTI cannot be loaded or
 * the TPM does not answer (diag says which, with the decoded TSS2_RC).
 */
__attribute__((warn_unused_result))
int shield_tpm_open(const char *tcti, struct shield_tpm **ret, struct shield_diag *diag);

/* Flush what is loaded and disconnect. NULL allowed. */
void shield_tpm_close(struct shield_tpm *t);

/* The last TSS2_RC a call on t failed with (0 when none). */
uint32_t shield_tpm_last_rc(const struct shield_tpm *t);

struct shield_tpm_provision_opts {
        const char *name;         /* instance name: subjects "CN=<name> EK", "CN=<name> AK" */
        const char *ca_key_path;  /* PEM private key of the platform CA */
        const char *ca_cert_path; /* the CA's certificate, PEM or DER */
        unsigned days;            /* certificate validity; 0 means 3650 */
};

/*
 * Make the TPM ready to attest, idempotently:
 *  - EK: RSA-2048 from the TCG default EK template (policy A) in the
 *    endorsement hierarchy, persisted at SHIELD_TPM_EK_HANDLE;
 *  - AK: RSA-2048 restricted signing key (RSASSA/SHA-256, fixedTPM|
 *    fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign, no
 *    policy, empty auth, empty unique) created as a primary in the
 *    endorsement hierarchy, persisted at SHIELD_TPM_AK_HANDLE.
 * A handle already holding a key of the right kind is kept; one holding
 * another kind of object fails with SHIELD_E_UNSUPPORTED (nothing evicted).
 * Then issues certificates for both public keys from the CA (random serial,
 * CA:FALSE, authorityKeyIdentifier; AK: digitalSignature, EK:
 * keyEncipherment) and writes their DER to SHIELD_TPM_AK_CERT_NV and
 * SHIELD_TPM_EK_CERT_NV (owner-defined, OWNERWRITE|AUTHWRITE|OWNERREAD|
 * AUTHREAD|NO_DA, empty auth; redefined when the size differs). An index
 * the platform created is never replaced: a manufacturer's EK certificate
 * at SHIELD_TPM_EK_CERT_NV is kept (and SHIELD_E_UNSUPPORTED for the AK's).
 * Owner and endorsement hierarchies must have empty auth.
 */
__attribute__((warn_unused_result))
int shield_tpm_provision(struct shield_tpm *t, const struct shield_tpm_provision_opts *o, struct shield_diag *diag);

/*
 * Make a local platform CA in dir if dir/ca.key is missing: ECDSA P-256,
 * self-signed "CN=<common_name>" (NULL: "Shieldkit platform CA"), ten years,
 * CA:TRUE, keyUsage keyCertSign|cRLSign. Writes dir/ca.key (PEM, 0600) and
 * dir/ca.crt (PEM) atomically; dir must exist. *ret_created (optional)
 * says whether a CA was made. An existing dir/ca.key without dir/ca.crt is
 * SHIELD_E_NOT_FOUND (never overwritten).
 */
__attribute__((warn_unused_result))
int shield_ca_ensure(const char *dir, const char *common_name, bool *ret_created, struct shield_diag *diag);

/*
 * Read PCRs 0–23 of every active bank (TPM2_GetCapability(PCRS), then
 * TPM2_PCR_Read in groups). Banks of unknown hash algorithms are skipped.
 * present = extended = the PCRs read.
 */
__attribute__((warn_unused_result))
int shield_tpm_read_pcrs(struct shield_tpm *t, struct shield_pcrs *ret, struct shield_diag *diag);

/* Extend one PCR of one bank with digest (shield_hash_size(alg) bytes). */
__attribute__((warn_unused_result))
int shield_tpm_pcr_extend(struct shield_tpm *t, unsigned pcr, uint16_t alg, const uint8_t *digest,
                          struct shield_diag *diag);

/* A quote as the TPM returned it. */
struct shield_quote {
        uint8_t *attest;         /* TPMS_ATTEST marshalled: TPM2B_ATTEST's contents, no size */
        size_t attest_len;
        uint8_t *signature;      /* TPMT_SIGNATURE marshalled */
        size_t signature_len;
};

/* Free both buffers and zero q. NULL allowed. */
void shield_quote_clear(struct shield_quote *q);

/*
 * TPM2_Quote with the key at ak_handle (empty auth, the key's own scheme)
 * over PCRs 0–23 of every active bank, qualifyingData = nonce (1 to
 * SHIELD_TPM_NONCE_MAX bytes). *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_tpm_quote(struct shield_tpm *t, uint32_t ak_handle, const uint8_t *nonce, size_t nonce_len,
                     struct shield_quote *ret, struct shield_diag *diag);

/*
 * The public area of a loaded or persistent object as TPM2B_PUBLIC
 * marshalled with its size (what `tpm2_readpublic -o` writes). malloc'd.
 * SHIELD_E_NOT_FOUND when the handle is empty.
 */
__attribute__((warn_unused_result))
int shield_tpm_read_public(struct shield_tpm *t, uint32_t handle, uint8_t **ret, size_t *ret_len,
                           struct shield_diag *diag);

/*
 * The whole contents of an NV index, read with the index's own empty auth
 * (AUTHREAD). malloc'd. SHIELD_E_NOT_FOUND when the index is not defined.
 */
__attribute__((warn_unused_result))
int shield_tpm_nv_read(struct shield_tpm *t, uint32_t index, uint8_t **ret, size_t *ret_len,
                       struct shield_diag *diag);

/*
 * Host-side quote check; no TPM involved.
 */
struct shield_quote_input {
        const uint8_t *attest;          /* TPMS_ATTEST bytes */
        size_t attest_len;
        const uint8_t *signature;       /* TPMT_SIGNATURE bytes */
        size_t signature_len;
        const uint8_t *ak_public;       /* TPM2B_PUBLIC bytes, with size */
        size_t ak_public_len;
        const uint8_t *nonce;           /* the nonce the verifier issued */
        size_t nonce_len;
        const struct shield_pcrs *pcrs; /* optional: reported PCR values to tie to the quote */
};

/*
 * Check a quote: the attestation parses as a TPMS_ATTEST of type
 * TPM_ST_ATTEST_QUOTE with magic TPM_GENERATED_VALUE; the signature
 * (RSASSA, RSAPSS or ECDSA) verifies over H(attest) with the AK public key;
 * extraData equals nonce; and, when pcrs
 * is given, pcrDigest equals the digest (hash of the signature scheme) of
 * the selected values in selection order.
 *
 * Returns 0 when everything holds; SHIELD_E_VERIFY with one error reason
 * per failed check in out ("quote-signature-invalid", "quote-nonce-mismatch",
 * "quote-pcr-digest-mismatch", "quote-pcr-missing", "quote-malformed",
 * "quote-key-unsupported"). A qualifiedSigner that is not the AK's
 * qualified name as a primary of one of the hierarchies adds the warning
 * "quote-signer-unrecognised" (a child AK's parents are not in the input;
 * the signature binds the quote to the AK anyway). SHIELD_E_FORMAT / _TRUNCATED /
 * _TRAILING / _UNSUPPORTED when a byte string does not parse (also recorded
 * as "quote-malformed" in out, and in diag with the offset: diag->index is
 * 0 attest, 1 signature, 2 public); SHIELD_E_NOMEM.
 */
__attribute__((warn_unused_result))
int shield_quote_check(const struct shield_quote_input *in, struct shield_reasons *out, struct shield_diag *diag);

/*
 * What a quote says, for display (parsed as shield_quote_check parses).
 */
struct shield_quote_info {
        uint8_t extra_data[SHIELD_TPM_NONCE_MAX + 2];
        size_t extra_data_len;
        uint64_t clock, firmware_version;
        uint32_t reset_count, restart_count;
        bool safe;
        uint16_t banks[SHIELD_BANKS_MAX];   /* selected banks in order */
        uint32_t masks[SHIELD_BANKS_MAX];   /* their selected PCRs */
        size_t n_banks;
        uint8_t pcr_digest[SHIELD_HASH_MAX_SIZE];
        size_t pcr_digest_len;
};

__attribute__((warn_unused_result))
int shield_quote_parse(const uint8_t *attest, size_t len, struct shield_quote_info *ret, struct shield_diag *diag);

/*
 * Check an AK certificate (DER): its public key is the AK's (ak_public as
 * TPM2B_PUBLIC bytes), it is signed by ca_cert (DER or PEM) and within its
 * validity period now. 0, or SHIELD_E_VERIFY with "ak-cert-key-mismatch",
 * "ak-cert-signature-invalid" or "ak-cert-expired" in out; SHIELD_E_FORMAT
 * when a certificate or the public area does not parse (diag says which).
 */
__attribute__((warn_unused_result))
int shield_ak_cert_check(const uint8_t *ak_public, size_t ak_public_len, const uint8_t *cert_der, size_t cert_len,
                         const uint8_t *ca_cert, size_t ca_cert_len, struct shield_reasons *out,
                         struct shield_diag *diag);
