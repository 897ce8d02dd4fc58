/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Sealed machine credentials, the service's side (docs/CREDENTIALS.md):
 *  1. intent: what an instance must boot, as PCR values predicted from its
 *     golden event log with components replaced (lib/predict); recording
 *     one revokes the instance's credentials of earlier intents;
 *  2. offer: the agent's next challenge carries the intent's PCRs, so it
 *     makes a sealing key with that policy (PolicyPCR, then PolicyNV on its
 *     epoch counter at the next value) and certifies it with its AK;
 *  3. issue: the attestation that brings the certified key is checked
 *     (certification under the instance's AK over the attestation's nonce,
 *     the key's policy recomputed from the intent), then the machine CA
 *     issues a key and certificate, sealed to that key and recorded;
 *     with the import method the credential is sealed to the instance's EK
 *     at once, at intent time;
 *  4. authenticate: a relying party on the service (mutual TLS) asks
 *     whether a certificate is a current credential.
 * Nothing here does I/O beyond the store; the front ends parse and render.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "shield/error.h"
#include "shield/machine-ca.h"
#include "shield/pcrs.h"
#include "shield/predict.h"
#include "shield/reason.h"
#include "shield/store.h"
#include "shield/tpm.h"

#define SHIELD_CREDENTIAL_INSTANCES_MAX 256     /* instances one intent names */
#define SHIELD_CREDENTIAL_VALIDITY_DEFAULT (7u * 24 * 3600)
/* The PCRs of an intent's policy unless asked: firmware, option ROMs, boot applications, Secure Boot. */
#define SHIELD_CREDENTIAL_PCRS_DEFAULT ((1u << 0) | (1u << 2) | (1u << 4) | (1u << 7))

struct shield_intent_request {
        const char *const *instances;   /* 1 to SHIELD_CREDENTIAL_INSTANCES_MAX names */
        size_t n_instances;
        int method;                     /* enum shield_credential_method; 0: sealing key */
        const struct shield_predict_replacement *repl; /* none: the state the golden measured */
        size_t n_repl;
        uint16_t bank;                  /* 0: SHA-256 */
        uint32_t mask;                  /* 0: SHIELD_CREDENTIAL_PCRS_DEFAULT, plus PCR 11 when predicted */
        const struct shield_machine_ca *ca; /* the import method issues at once */
        uint32_t validity;              /* seconds; 0: SHIELD_CREDENTIAL_VALIDITY_DEFAULT */
        int64_t now;                    /* unix time; 0: now */
};

/* One instance's intent as recorded. */
struct shield_intent_outcome {
        char instance[SHIELD_STORE_NAME_MAX + 1];
        int64_t id;
        uint16_t bank;
        uint32_t mask;
        struct shield_pcrs predicted;   /* the policy's PCRs in bank */
        uint32_t changed;               /* PCRs the prediction moved from the golden */
        size_t revoked;                 /* credentials this intent revoked */
        char serial[SHIELD_CA_SERIAL_HEX + 1]; /* the import method: the credential issued; "" otherwise */
        struct shield_reasons notes;    /* the prediction's notes */
};
void shield_intent_outcomes_free(struct shield_intent_outcome *o, size_t n);

/*
 * Record an intent for every instance of rq, all or none (one store
 * transaction). *ret: malloc'd array of rq->n_instances outcomes, in order.
 * Errors with diag naming the instance: SHIELD_E_NOT_FOUND (no such
 * instance, or no golden event log to predict from), the prediction's
 * errors (SHIELD_E_UNSUPPORTED: what it cannot predict), SHIELD_E_INVAL
 * for a bad request, SHIELD_E_SYSTEM for the store.
 */
__attribute__((warn_unused_result))
int shield_credential_intend(struct shield_store *store, const struct shield_intent_request *rq,
                             struct shield_intent_outcome **ret, struct shield_diag *diag);

/* "sealing-key", "import" ("unknown" otherwise). */
const char *shield_credential_method_name(int method);

/* What the next challenge tells the agent to seal a key to. */
struct shield_credential_offer {
        int64_t intent;
        uint16_t bank;
        uint32_t mask;
        struct shield_pcrs pcrs;        /* the predicted values */
};
/*
 * The instance's active sealing-key intent that has no credential yet:
 * *ret_has false when there is none.
 */
__attribute__((warn_unused_result))
int shield_credential_offer(struct shield_store *store, const char *instance, struct shield_credential_offer *ret,
                            bool *ret_has, struct shield_diag *diag);
/* {"intent", "bank", "pcrs": {"4": hex, …}} — the offer's one rendering; NULL on ENOMEM. */
json_t *shield_credential_offer_json(const struct shield_credential_offer *o);
/* Parse that rendering back (the agent). SHIELD_E_FORMAT naming what is wrong. */
__attribute__((warn_unused_result))
int shield_credential_offer_parse(const json_t *j, struct shield_credential_offer *ret, struct shield_diag *diag);

/* What an agent brings for an offer: its certified sealing key and its epoch counter. */
struct shield_sealing_request {
        int64_t intent;
        const uint8_t *key_public;      /* TPM2B_PUBLIC */
        size_t key_public_len;
        const uint8_t *certify_attest, *certify_signature; /* TPM2_Certify by the AK over the attestation's nonce */
        size_t certify_attest_len, certify_signature_len;
        const uint8_t *epoch_nv_public; /* TPM2B_NV_PUBLIC of the counter; NULL: no epoch */
        size_t epoch_nv_public_len;
        uint64_t epoch;                 /* the value the key's policy requires (the counter's next) */
};

/* The attestation answer's credential part. */
struct shield_credential_result {
        bool attempted;                 /* the evidence brought a sealing key */
        bool issued;                    /* a credential was issued now */
        struct shield_reasons refusal;  /* why the sealing key was refused (errors) */
        bool has_current;               /* the instance has an unrevoked credential (issued now or before) */
        struct shield_credential_record current;
};
void shield_credential_result_clear(struct shield_credential_result *r);

/*
 * Step 3, inside the attestation's store transaction: when req is given,
 * check it against the instance's active intent (SHIELD_E_VERIFY with
 * reasons in ret->refusal: "credential-intent-unknown" for another or no
 * active intent, "credential-issued" when it has one already, the
 * sealing-key reasons of shield_sealing_key_check, "credential-epoch" for a
 * counter that is not a written NV counter or an epoch not above the
 * last); then issue (ca), seal to the key and record. Either way fill the
 * instance's current credential. SHIELD_E_SYSTEM for the store.
 */
__attribute__((warn_unused_result))
int shield_credential_issue(struct shield_store *store, const struct shield_machine_ca *ca, const char *instance,
                            const uint8_t *ak_public, size_t ak_public_len, const uint8_t *nonce, size_t nonce_len,
                            const struct shield_sealing_request *req, uint32_t validity, int64_t now,
                            struct shield_credential_result *ret, struct shield_diag *diag);

/*
 * {"serial", "intent", "method": "sealing-key"|"import", "issued",
 * "not_after", "revoked": bool, "revoked_at"?, "bank", "pcrs": {…} (the
 * bound state, with the intent), "epoch"?: {"index", "value"}}; with_sealed
 * adds "sealed" (base64) for the machine. intent may be NULL. New
 * reference; NULL on ENOMEM.
 */
json_t *shield_credential_json(const struct shield_credential_record *c, const struct shield_intent_record *intent,
                               bool with_sealed);

/*
 * Step 4: whether cert_der is a current machine credential: it checks
 * under ca (shield_machine_credential_check), its serial is recorded for
 * the instance it names, and it is not revoked. 0 with ret_instance
 * (SHIELD_STORE_NAME_MAX + 1) and ret_serial filled; SHIELD_E_VERIFY with a
 * reason in out ("credential-unknown", "credential-revoked", and the
 * check's); SHIELD_E_SYSTEM for the store.
 */
__attribute__((warn_unused_result))
int shield_credential_authenticate(struct shield_store *store, const struct shield_machine_ca *ca,
                                   const uint8_t *cert_der, size_t len, int64_t now, char *ret_instance,
                                   char *ret_serial, struct shield_reasons *out, struct shield_diag *diag);

/*
 * The machine CA the service signs with, made on first use and kept in the
 * store (one for every replica sharing it). *ret on success.
 */
__attribute__((warn_unused_result))
int shield_credential_ca(struct shield_store *store, struct shield_machine_ca **ret, struct shield_diag *diag);

/* The CRL over every revoked credential, DER (malloc'd); valid for next_update seconds. */
__attribute__((warn_unused_result))
int shield_credential_crl(struct shield_store *store, const struct shield_machine_ca *ca, int64_t now,
                          uint32_t next_update, uint8_t **ret, size_t *ret_len, struct shield_diag *diag);
