/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tpm2_types.h>

#include "shield/error.h"
#include "crypto/tpm-crypto.h"

/*
 * Parse a TPM2B_PUBLIC (size included, exactly len bytes) into *ret;
 * failures are recorded in diag with diag->index = index.
 */
int tpm_parse_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *ret, long index, struct shield_diag *diag);

/* The public key of pub (pointing into pub). SHIELD_E_UNSUPPORTED for other than RSA and ECC keys. */
int tpm_public_key(const TPMT_PUBLIC *pub, struct tpmc_key *ret);

struct shield_tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        TSS2_RC last_rc;
};

/* Keep rc in t and record "what: decoded rc" in diag; SHIELD_E_TPM. */
int tpm_fail(struct shield_tpm *t, struct shield_diag *diag, TSS2_RC rc, const char *what);
/* Whether a persistent object or NV index exists. */
int tpm_handle_exists(struct shield_tpm *t, uint32_t handle, bool *ret, struct shield_diag *diag);
/* An ESYS_TR for an existing persistent handle or NV index (close it with Esys_TR_Close); SHIELD_E_NOT_FOUND. */
int tpm_open_handle(struct shield_tpm *t, uint32_t handle, ESYS_TR *ret, struct shield_diag *diag);
/* TPM2B_PUBLIC marshalled with its size, malloc'd. */
int tpm_marshal_public(struct shield_tpm *t, const TPM2B_PUBLIC *pub, uint8_t **ret, size_t *ret_len,
                       struct shield_diag *diag);
int tpm_read_public_tr(struct shield_tpm *t, ESYS_TR tr, TPM2B_PUBLIC **ret, struct shield_diag *diag);
/* The EK as an ESYS_TR: the persistent one, else a transient primary (*ret_transient: release flushes it). */
int tpm_ek_load(struct shield_tpm *t, ESYS_TR *ret, bool *ret_transient, TPM2B_PUBLIC **ret_pub, struct shield_diag *diag);
void tpm_ek_release(struct shield_tpm *t, ESYS_TR *tr, bool transient);
/* A policy session satisfied by PolicySecret(TPM_RH_ENDORSEMENT): the EK's policy A. Flush it after use. */
int tpm_endorsement_session(struct shield_tpm *t, ESYS_TR *ret, struct shield_diag *diag);
/* TCG EK Credential Profile, B.3.3 template L-1 (RSA 2048, policy A). */
void tpm_ek_template(TPM2B_PUBLIC *p);

/* tpm2_makecredential's file: magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET (lib/tpm/keys.c). */
int tpm_credential_parse(const uint8_t *blob, size_t len, TPM2B_ID_OBJECT *ret_id, TPM2B_ENCRYPTED_SECRET *ret_secret,
                         struct shield_diag *diag);

struct shield_seal_policy;
/*
 * A policy session satisfying p as the TPM is now: TPM2_PolicyPCR over p's
 * mask of p's bank, then, when p->epoch_nv, TPM2_PolicyNV(the counter,
 * authorised by itself with its empty password, operandB = p->epoch as 8
 * big-endian bytes, offset 0, TPM_EO_EQ). SHIELD_E_VERIFY when the counter
 * does not hold p->epoch (diag: the epoch passed or differs). Flush *ret.
 */
int tpm_seal_policy_session(struct shield_tpm *t, const struct shield_seal_policy *p, ESYS_TR *ret,
                            struct shield_diag *diag);
/*
 * The failure of a command run in such a session: TPM_RC_POLICY_FAIL is
 * SHIELD_E_VERIFY ("its PCRs are not the sealed state"); anything else
 * tpm_fail(what).
 */
int tpm_policy_use_failed(struct shield_tpm *t, TSS2_RC rc, const char *what, struct shield_diag *diag);
/* The 8-byte big-endian value of an NV counter (its own empty auth). */
int tpm_nv_counter_read(struct shield_tpm *t, ESYS_TR nv, uint64_t *ret, struct shield_diag *diag);
