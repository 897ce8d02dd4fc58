/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The TPM through tpm2-tss (ESAPI): provisioning of the endorsement key
 * (EK) and attestation key (AK) with certificates from a platform CA, PCR
 * reads and quotes; and the host-side check of a quote, which needs no TPM.
 *
 * The handles and NV indexes below are contracts shared with the in-guest
 * EFI agent and with Google's vTPM layout; docs/FORMATS.md describes them.
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
 * port=2321", "device:/dev/tpmrm0", "mssim:…"); NULL or "" means
 * $SHIELD_TCTI, else $TPM2TOOLS_TCTI, else "device:/dev/tpmrm0" (empty
 * variables are skipped). SHIELD_E_TPM when the TCTI cannot be loaded or
 * the TPM does not answer (diag says which, with the decoded TSS2_RC).
 */
__attribute__((warn_unused_result))
int shield_tpm_open(const char *tcti, struct shield_tpm **ret, struct shield_diag *diag);

/* The TCTI string shield_tpm_open(tcti) would use (never NULL). */
const char *shield_tpm_default_tcti(const char *tcti);

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
/* The same over the PCRs in pcr_mask (bit i: PCR i) of every active bank. */
__attribute__((warn_unused_result))
int shield_tpm_quote_pcrs(struct shield_tpm *t, uint32_t ak_handle, uint32_t pcr_mask, const uint8_t *nonce,
                          size_t nonce_len, struct shield_quote *ret, struct shield_diag *diag);

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
        uint16_t raw_sig_hash;          /* shield_quote_check_with_key: hash of a bare RSASSA signature, 0 default */
        struct shield_quote_status *status; /* optional out: which checks held, for code that decides on them */
};

/* What a quote check established, typed (the reasons say the same for people). */
struct shield_quote_status {
        bool parsed;            /* attestation, signature and AK all parse */
        bool signature_ok;      /* the AK's signature over the attestation verifies */
        bool nonce_ok;          /* extraData equals the nonce */
        bool pcrs_ok;           /* pcrDigest equals the digest of the reported values (false when no pcrs given) */
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

/*
 * Whether a TPM2B_PUBLIC is an attestation key a verifier may trust: a
 * restricted signing key with fixedTPM, fixedParent and sensitiveDataOrigin
 * (and not a decryption key), so it can only sign TPM-made structures and
 * its private part never left its TPM. 0, SHIELD_E_VERIFY with diag naming
 * the attributes, or a parse error.
 */
__attribute__((warn_unused_result))
int shield_tpm_ak_attributes_check(const uint8_t *pub, size_t len, struct shield_diag *diag);

/*
 * The policy digest TPM2_PolicyPCR leaves after prev (NULL: a fresh
 * session, all zeros) for the PCRs in mask (bit i: PCR i) of bank at the
 * values pcrs holds, under name_alg (the sealed key's nameAlg): what a
 * key's authPolicy must equal when it is sealed to that boot state (TPM 2.0
 * Part 3, 23.7). *ret_len = the size of name_alg's digest. SHIELD_E_NOT_FOUND
 * naming the bank or PCRs pcrs lacks; SHIELD_E_INVAL for an empty mask.
 */
__attribute__((warn_unused_result))
int shield_policy_pcr_digest(uint16_t name_alg, const struct shield_pcrs *pcrs, uint16_t bank, uint32_t mask,
                             const uint8_t *prev, uint8_t *ret, size_t *ret_len, struct shield_diag *diag);

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

/*
 * What the TPM says about itself (TPM2_GetCapability(TPM_PROPERTIES) of the
 * PT_FIXED group, and TPM2_GetCapability(PCRS)). Strings are the 4-byte
 * property values as ASCII with NULs and trailing spaces dropped.
 */
#define SHIELD_TPM_INFO_BANKS_MAX 16
struct shield_tpm_info {
        char family[5];                     /* TPM2_PT_FAMILY_INDICATOR: "2.0" */
        uint32_t spec_level, spec_revision; /* revision x 100 (138 = 1.38) */
        uint32_t spec_day_of_year, spec_year;
        uint32_t manufacturer_id;           /* TPM2_PT_MANUFACTURER */
        char manufacturer[5];               /* the same as ASCII: "IBM", "MSFT", "GOOG" */
        char vendor[17];                    /* TPM2_PT_VENDOR_STRING_1..4 */
        uint32_t vendor_tpm_type;
        uint32_t firmware_version_1, firmware_version_2; /* TPM2_PT_FIRMWARE_VERSION_1/2 */
        uint32_t input_buffer, max_command_size, max_response_size, max_digest;
        uint32_t nv_index_max, nv_buffer_max; /* largest NV index, largest NV read/write */
        uint32_t pcr_count;
        size_t n_banks;                     /* every bank implemented, allocated or not */
        uint16_t bank_alg[SHIELD_TPM_INFO_BANKS_MAX];
        uint32_t bank_allocated[SHIELD_TPM_INFO_BANKS_MAX]; /* bit i: PCR i allocated */
};

__attribute__((warn_unused_result))
int shield_tpm_get_info(struct shield_tpm *t, struct shield_tpm_info *ret, struct shield_diag *diag);

/* An endorsement key as read or derived, and its certificate when the TPM holds one. */
struct shield_tpm_ek {
        uint8_t *public;         /* TPM2B_PUBLIC, with size */
        size_t public_len;
        uint8_t *cert;           /* DER from SHIELD_TPM_EK_CERT_NV, NULL when the index is absent */
        size_t cert_len;
        bool persistent;         /* true: read from SHIELD_TPM_EK_HANDLE; false: created from the template and flushed */
};

/*
 * The RSA EK: the key at SHIELD_TPM_EK_HANDLE when there is one, else
 * created transiently from the TCG default template (EK Credential Profile
 * 2.5, B.3.3 template L-1) and flushed at once. *ret on success only; free
 * with shield_tpm_ek_clear.
 */
__attribute__((warn_unused_result))
int shield_tpm_read_ek(struct shield_tpm *t, struct shield_tpm_ek *ret, struct shield_diag *diag);
void shield_tpm_ek_clear(struct shield_tpm_ek *ek);

#define SHIELD_TPM_NAME_MAX (2 + SHIELD_HASH_MAX_SIZE) /* nameAlg || digest */

/*
 * The Name of a TPM object from its public area (TPM 2.0 Part 1, 16:
 * nameAlg || H_nameAlg(TPMT_PUBLIC), the marshalled public area without its
 * size), as the TPM returns it from TPM2_Load/ReadPublic and as
 * `tpm2_loadexternal -n`/`tpm2_readpublic -n` write it. pub is TPM2B_PUBLIC
 * bytes with their size, which must match len exactly (at most
 * SHIELD_TPM_PUBLIC_MAX), and the TPMT_PUBLIC must parse. Writes
 * 2 + shield_hash_size(nameAlg) bytes to ret_name and their count to
 * *ret_len, only on success. SHIELD_E_TRUNCATED, SHIELD_E_TRAILING,
 * SHIELD_E_FORMAT, SHIELD_E_LIMIT for bad bytes (diag: where);
 * SHIELD_E_UNSUPPORTED for a nameAlg without a digest here (TPM_ALG_NULL
 * among them: such an object's name is its handle).
 */
__attribute__((warn_unused_result))
int shield_tpm_public_name(const uint8_t *pub, size_t len, uint8_t ret_name[SHIELD_TPM_NAME_MAX], size_t *ret_len,
                           struct shield_diag *diag);

/* An AK made as a child of the EK, in the forms tpm2_createak writes. */
/* A key sealed to a boot state, and the AK's certification of it (shield_tpm_sealing_key_create). */
struct shield_tpm_sealing_key {
        uint8_t *public, *private;              /* TPM2B_PUBLIC, TPM2B_PRIVATE (wrapped by the EK) */
        size_t public_len, private_len;
        uint8_t name[SHIELD_TPM_NAME_MAX];      /* nameAlg || H(TPMT_PUBLIC) */
        size_t name_len;
        uint8_t *certify_attest, *certify_signature; /* TPMS_ATTEST (TPM_ST_ATTEST_CERTIFY) and TPMT_SIGNATURE */
        size_t certify_attest_len, certify_signature_len;
};
void shield_tpm_sealing_key_clear(struct shield_tpm_sealing_key *k);

/*
 * Create, under the EK, an RSA-2048 RSA-OAEP (SHA-256) decryption key with
 * authPolicy = policy (32 bytes: a SHA-256 policy digest, e.g.
 * shield_policy_pcr_digest), fixedTPM | fixedParent | sensitiveDataOrigin
 * | decrypt and no userWithAuth, so only a session that satisfies the
 * policy can use it; then TPM2_Certify it with the AK at ak_handle over
 * nonce. Nothing is left loaded. *ret on success.
 */
__attribute__((warn_unused_result))
int shield_tpm_sealing_key_create(struct shield_tpm *t, const uint8_t *policy, size_t policy_len, uint32_t ak_handle,
                                  const uint8_t *nonce, size_t nonce_len, struct shield_tpm_sealing_key *ret,
                                  struct shield_diag *diag);

/*
 * Seal data to a sealing key (its TPM2B_PUBLIC): a "shieldkit-sealed/1" blob
 * (shield/crypto.h) only that TPM opens, and only in its policy's state.
 */
__attribute__((warn_unused_result))
int shield_seal_to_key(const uint8_t *key_public, size_t key_public_len, const uint8_t *data, size_t len, uint8_t **ret,
                       size_t *ret_len, struct shield_diag *diag);
/*
 * The policy a sealed credential carries (docs/CREDENTIALS.md): PolicyPCR
 * over the intended values of the PCRs in mask of bank, then, when
 * epoch_nv is set, PolicyNV(epoch_nv, operandB = epoch as 8 big-endian
 * bytes, offset 0, TPM_EO_EQ): the TPM's epoch counter must hold exactly
 * epoch. A counter only counts up (and a counter defined anew starts above
 * every value any counter of the TPM ever held, Part 1, 37.2), so once the
 * agent advanced it past epoch every blob sealed to this policy is dead,
 * offline too.
 */
struct shield_seal_policy {
        uint16_t bank;                  /* TPM_ALG_ID of the PCR bank */
        uint32_t mask;                  /* bit i: PCR i; 1 to 24 PCRs */
        struct shield_pcrs pcrs;        /* the intended values (of mask, in bank); unseal ignores them */
        uint32_t epoch_nv;              /* 0: no epoch; else the counter's NV index */
        uint8_t epoch_nv_name[SHIELD_TPM_NAME_MAX]; /* its Name (TPM2B_NV_PUBLIC with TPMA_NV_WRITTEN) */
        size_t epoch_nv_name_len;
        uint64_t epoch;                 /* the value the policy requires */
};

/*
 * The SHA-256 authPolicy of p (TPM 2.0 Part 3, 23.7 and 23.9), as
 * tpm2_policypcr then tpm2_policynv compute it. SHIELD_E_INVAL /
 * SHIELD_E_NOT_FOUND as shield_policy_pcr_digest; SHIELD_E_INVAL for an
 * epoch_nv without a name.
 */
__attribute__((warn_unused_result))
int shield_seal_policy_digest(const struct shield_seal_policy *p, uint8_t ret[32], struct shield_diag *diag);

/* The default NV index of the epoch counter (owner range, Part 2, 13.2). */
#define SHIELD_TPM_EPOCH_NV 0x0100534bu

/* A TPM's epoch counter as read. */
struct shield_tpm_epoch {
        uint32_t index;
        uint64_t value;                 /* the counter now */
        uint8_t name[SHIELD_TPM_NAME_MAX];
        size_t name_len;
        uint8_t nv_public[128];         /* TPM2B_NV_PUBLIC with size, for the verifier to recompute the name */
        size_t nv_public_len;
};

/*
 * Read the epoch counter at index (0: SHIELD_TPM_EPOCH_NV), defining it
 * first when absent: TPM_NT_COUNTER, owner-defined, empty auth,
 * AUTHWRITE|AUTHREAD|OWNERREAD|NO_DA, nameAlg SHA-256, and incremented once
 * so that it is written (its Name is then final). An index of another kind
 * there: SHIELD_E_UNSUPPORTED (nothing changed). *ret on success only.
 */
__attribute__((warn_unused_result))
int shield_tpm_epoch_read(struct shield_tpm *t, uint32_t index, struct shield_tpm_epoch *ret, struct shield_diag *diag);

/*
 * Increment the counter until it holds at least value (at most 64
 * increments: SHIELD_E_LIMIT beyond, nothing done). A counter already at or
 * past value is left alone (0).
 */
__attribute__((warn_unused_result))
int shield_tpm_epoch_advance(struct shield_tpm *t, uint32_t index, uint64_t value, struct shield_diag *diag);

/*
 * What a verifier checks of an epoch counter's public area (TPM2B_NV_PUBLIC
 * bytes with size, exactly len): it is a TPM_NT_COUNTER, written, nameAlg
 * SHA-256. Fills *ret_index and its Name. SHIELD_E_FORMAT for bytes that do
 * not parse; SHIELD_E_VERIFY naming what is wrong otherwise.
 */
__attribute__((warn_unused_result))
int shield_tpm_epoch_public_check(const uint8_t *nv_public, size_t len, uint32_t *ret_index,
                                  uint8_t ret_name[SHIELD_TPM_NAME_MAX], size_t *ret_name_len,
                                  struct shield_diag *diag);

/*
 * Open a sealed blob with the sealing key (loaded under the EK) in a policy
 * session of PolicyPCR over the PCRs in p's mask of p's bank as they are
 * now (then PolicyNV on the epoch counter when p->epoch_nv): SHIELD_E_VERIFY
 * when the TPM refuses (the PCRs are not the sealed state, or the epoch
 * passed: diag says which) or the data does not verify; *ret (malloc'd;
 * wipe it) on success.
 */
__attribute__((warn_unused_result))
int shield_tpm_unseal(struct shield_tpm *t, const uint8_t *key_public, size_t key_public_len, const uint8_t *key_private,
                      size_t key_private_len, const struct shield_seal_policy *p, const uint8_t *blob, size_t blob_len,
                      uint8_t **ret, size_t *ret_len, struct shield_diag *diag);

/*
 * The import method (no sealing key before the change): seal data to a
 * TPM's EK (TPM2B_PUBLIC of an RSA-2048 or ECC NIST P-256 EK, TCG default
 * templates, EK Credential Profile 2.5 B.3.3 L-1 and L-2) with the object
 * policy policy (32 bytes, shield_seal_policy_digest): a
 * "shieldkit-imported/1" blob (docs/FORMATS.md) holding a TPM2 duplication
 * blob of a KEYEDHASH sealed-data object (no userWithAuth) whose secret is
 * an AES-256 key, wrapped to the EK (Part 1, 23.3: inSymSeed by RSA-OAEP
 * "DUPLICATE" or ECDH + KDFe; outer AES-128-CFB + HMAC), and the data under
 * AES-256-GCM. No TPM is needed. SHIELD_E_UNSUPPORTED for another kind of EK.
 */
__attribute__((warn_unused_result))
int shield_seal_to_ek(const uint8_t *ek_public, size_t ek_public_len, const uint8_t *policy, size_t policy_len,
                      const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len, struct shield_diag *diag);

/*
 * Open a "shieldkit-imported/1" blob: TPM2_Import under the EK it names
 * (the RSA EK as shield_tpm_read_ek finds it, or the ECC EK from template
 * L-2, created transiently), TPM2_Load, then TPM2_Unseal in a policy session
 * as shield_tpm_unseal. SHIELD_E_VERIFY when the TPM refuses the policy or
 * the data does not verify; SHIELD_E_NOT_FOUND when this TPM's EK is not
 * the blob's.
 */
__attribute__((warn_unused_result))
int shield_tpm_unseal_imported(struct shield_tpm *t, const struct shield_seal_policy *p, const uint8_t *blob,
                               size_t blob_len, uint8_t **ret, size_t *ret_len, struct shield_diag *diag);

/*
 * What a verifier checks of a sealing key (issue "Sealed machine
 * credentials", step 3): the certification verifies under the AK
 * (TPM2B_PUBLIC), is a TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY with
 * extraData = nonce and the certified name = the name of key_public; and
 * key_public carries authPolicy = policy, fixedTPM, fixedParent,
 * sensitiveDataOrigin and not userWithAuth. 0, or SHIELD_E_VERIFY with a
 * reason per failed check in out ("certify-signature-invalid",
 * "certify-nonce-mismatch", "certify-name-mismatch", "sealing-policy-mismatch",
 * "sealing-key-attributes"); parse errors as shield_quote_check.
 */
__attribute__((warn_unused_result))
int shield_sealing_key_check(const uint8_t *ak_public, size_t ak_public_len, const uint8_t *attest, size_t attest_len,
                             const uint8_t *signature, size_t signature_len, const uint8_t *key_public,
                             size_t key_public_len, const uint8_t *nonce, size_t nonce_len, const uint8_t *policy,
                             size_t policy_len, struct shield_reasons *out, struct shield_diag *diag);

struct shield_tpm_ak {
        uint8_t *public;         /* TPM2B_PUBLIC */
        size_t public_len;
        uint8_t *private;        /* TPM2B_PRIVATE, wrapped by the EK */
        size_t private_len;
        uint8_t name[SHIELD_TPM_NAME_MAX]; /* nameAlg || H(TPMT_PUBLIC) */
        size_t name_len;
};

enum shield_tpm_ak_alg {
        SHIELD_TPM_AK_RSA,       /* RSA-2048, RSASSA/SHA-256 */
        SHIELD_TPM_AK_ECC,       /* ECC P-256, ECDSA/SHA-256 */
};

/*
 * Create a restricted signing AK (fixedTPM|fixedParent|sensitiveDataOrigin|
 * userWithAuth|restricted|sign, empty auth) as a child of the EK (see
 * shield_tpm_read_ek; the parent is authorised with a PolicySecret
 * (TPM_RH_ENDORSEMENT) session as tpm2_createak does). persist: 0, or a
 * persistent handle (0x81xxxxxx) to make the AK persistent at
 * (SHIELD_E_UNSUPPORTED when it is taken: nothing is evicted). Every
 * transient object and session is flushed before returning. *ret on
 * success only; free with shield_tpm_ak_clear.
 */
__attribute__((warn_unused_result))
int shield_tpm_ak_create(struct shield_tpm *t, enum shield_tpm_ak_alg alg, uint32_t persist,
                         struct shield_tpm_ak *ret, struct shield_diag *diag);
void shield_tpm_ak_clear(struct shield_tpm_ak *ak);

/*
 * TPM2_ActivateCredential: recover the secret a verifier protected for the
 * AK's name with the EK's public key (a blob from shield_credential_make or
 * tpm2_makecredential). The AK is ak_handle (a persistent handle) or, when
 * ak_handle is 0, ak loaded under the EK. The EK (see shield_tpm_read_ek)
 * is authorised with a PolicySecret(TPM_RH_ENDORSEMENT) session. Writes
 * the secret (at most SHIELD_HASH_MAX_SIZE bytes) to ret_secret.
 * SHIELD_E_VERIFY when the TPM refuses the blob as not made for this AK/EK
 * (TPM_RC_INTEGRITY, TPM_RC_VALUE on the secret); SHIELD_E_FORMAT when the
 * blob does not parse; SHIELD_E_TPM otherwise.
 */
__attribute__((warn_unused_result))
int shield_tpm_activate_credential(struct shield_tpm *t, uint32_t ak_handle, const struct shield_tpm_ak *ak,
                                   const uint8_t *blob, size_t blob_len, uint8_t *ret_secret, size_t *ret_len,
                                   struct shield_diag *diag);

/*
 * Credential blobs in tpm2_makecredential's file format: be32 0xBADCC0DE,
 * be32 version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
 */
#define SHIELD_CREDENTIAL_MAX 1024

/*
 * TPM2_MakeCredential in software, no TPM (TPM 2.0 Part 1, 24; Annex B for
 * RSA EKs, Annex C for ECC EKs). ek_public: TPM2B_PUBLIC or TPMT_PUBLIC
 * (its nameAlg and symmetric algorithm are used), or a PEM/DER
 * SubjectPublicKeyInfo (then the TCG default template's: SHA-256 and
 * AES-128-CFB). name: the AK's name (nameAlg || digest). secret: 1 to
 * digest-size bytes. The blob is malloc'd. SHIELD_E_FORMAT /
 * SHIELD_E_UNSUPPORTED for a key that is not a restricted decryption key
 * we can use (diag says why).
 */
__attribute__((warn_unused_result))
int shield_credential_make(const uint8_t *ek_public, size_t ek_public_len, const uint8_t *name, size_t name_len,
                           const uint8_t *secret, size_t secret_len, uint8_t **ret_blob, size_t *ret_len,
                           struct shield_diag *diag);

/*
 * The software inverse for tests: with the EK private key (PEM) and its
 * public (as for shield_credential_make), check the blob's integrity for
 * name and recover the secret (at most SHIELD_HASH_MAX_SIZE bytes).
 * SHIELD_E_VERIFY for a blob made for another name or EK.
 */
__attribute__((warn_unused_result))
int shield_credential_recover(const char *ek_private_pem, size_t pem_len, const uint8_t *ek_public,
                              size_t ek_public_len, const uint8_t *name, size_t name_len, const uint8_t *blob,
                              size_t blob_len, uint8_t *ret_secret, size_t *ret_len, struct shield_diag *diag);

/*
 * An AK public key parsed once for many quote checks. Accepted forms,
 * detected: TPM2B_PUBLIC, TPMT_PUBLIC, DER SubjectPublicKeyInfo, PEM
 * ("PUBLIC KEY"). Immutable: it may be shared between threads.
 * SHIELD_E_FORMAT when none of them parses (diag->index 2).
 */
struct shield_ak_key;

__attribute__((warn_unused_result))
int shield_ak_key_new(const uint8_t *buf, size_t len, struct shield_ak_key **ret, struct shield_diag *diag);
void shield_ak_key_free(struct shield_ak_key *k);
/* "TPM2B_PUBLIC", "TPMT_PUBLIC", "SPKI-DER" or "SPKI-PEM". */
const char *shield_ak_key_format(const struct shield_ak_key *k);
/* "rsa2048", "ecc-p256", …. */
const char *shield_ak_key_type(const struct shield_ak_key *k);
/* The key as PEM SubjectPublicKeyInfo (any RSA/ECC public, an EK too); malloc'd, NUL-terminated. */
__attribute__((warn_unused_result))
int shield_ak_key_pem(const struct shield_ak_key *k, char **ret);
/* A DER certificate as PEM; malloc'd. SHIELD_E_FORMAT when it does not parse. */
__attribute__((warn_unused_result))
int shield_tpm_cert_pem(const uint8_t *der, size_t len, char **ret);

/*
 * shield_quote_check with a parsed AK (in->ak_public is ignored). Also
 * accepts a bare RSASSA-PKCS1-v1_5 signature for an RSA AK: a signature
 * exactly as long as the modulus is taken as one, with the hash
 * in->raw_sig_hash, else the AK's scheme hash, else SHA-256. With an SPKI
 * AK the qualifiedSigner cannot be checked and is not warned about.
 */
__attribute__((warn_unused_result))
int shield_quote_check_with_key(const struct shield_ak_key *k, const struct shield_quote_input *in,
                                struct shield_reasons *out, struct shield_diag *diag);

/*
 * The PCR values file of `tpm2_quote -o` / `tpm2_pcrread -o` (tpm2-tools
 * "serialized" format, little-endian C structs): TPML_PCR_SELECTION
 * (132 bytes), u32 count, count x TPML_DIGEST (532 bytes each); values in
 * selection order. Values of banks we do not know are an error.
 */
__attribute__((warn_unused_result))
int shield_tpm_pcrs_parse_tools(const uint8_t *buf, size_t len, struct shield_pcrs *ret, struct shield_diag *diag);
