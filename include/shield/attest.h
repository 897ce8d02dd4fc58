/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Checking one piece of evidence (docs/FORMATS.md) the way a verifier does,
 * in a fixed order, each step reported: the AK's signature over the quote,
 * the quote's structure, the nonce (and its freshness), the PCR digest over
 * the reported values, the firmware event log replayed against them, the
 * IMA list against PCR 10, trust in the AK, the owner's policy, and the
 * golden measurements (green / yellow / red).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/eventlog.h"
#include "shield/evidence.h"
#include "shield/reason.h"
#include "shield/tpm.h"

struct shield_golden;
struct shield_integrity_policy;

/* The owner's policy file (docs/FORMATS.md, "shieldkit-policy/1"). */
struct shield_attest_policy {
        int require_secure_boot;        /* 1: SecureBoot must be measured as 1; 0: no requirement */
        bool has_pcrs;
        struct shield_pcrs pcrs;        /* values that must be reported exactly */
        char integrity[64];             /* integrity policy spec ("gce", "oci", "strict", "0,2"); "" = gce */
        char db_authority[256];         /* a substring the PCR 7 db authority's subject must contain; "" none */
};

/* Parse a policy file (JSON). Unknown keys are errors naming the key. */
__attribute__((warn_unused_result))
int shield_attest_policy_parse(const char *text, size_t len, struct shield_attest_policy *ret,
                               struct shield_diag *diag);

struct shield_evidence_policy {
        const uint8_t *nonce;           /* the nonce this verifier issued (required) */
        size_t nonce_len;
        const uint8_t *ca_cert;         /* the CA AK certificates must chain to (DER or PEM); NULL: not checked */
        size_t ca_cert_len;
        const uint8_t *ak_public;       /* the AK this verifier trusts (TPM2B_PUBLIC); NULL: not pinned */
        size_t ak_public_len;
        const struct shield_ak_key *ak_key; /* optional: ak_public already parsed (a verifier's cache); used
                                             * only when the evidence's AK is byte-for-byte ak_public */
        bool nonce_reused;              /* the caller's nonce store saw this nonce before (a replay) */
        const char *ek_ca_dir;          /* vendor CAs the EK certificate must chain to; NULL: not checked */
        const struct shield_attest_policy *owner; /* optional */
        const struct shield_golden *golden;       /* optional: compare against it */
        const struct shield_integrity_policy *integrity; /* which PCRs count for the colour */
};

enum shield_step_status { SHIELD_STEP_PASS, SHIELD_STEP_FAIL, SHIELD_STEP_SKIP, SHIELD_STEP_WARN };

#define SHIELD_VERIFY_STEPS_MAX 12

struct shield_verify_step {
        const char *name;               /* "quote-signature", "quote-structure", "nonce", "pcr-digest",
                                         * "eventlog", "ima", "ak", "ek", "policy", "golden" */
        enum shield_step_status status;
        char detail[SHIELD_REASON_MSG_MAX];
};

struct shield_evidence_result {
        struct shield_reasons reasons;  /* errors (verification fails) and warnings */
        size_t n_steps;
        struct shield_verify_step steps[SHIELD_VERIFY_STEPS_MAX];
        bool quote_ok;                  /* signature, nonce and PCR digest hold */
        bool ak_cert_ok;                /* the AK certificate chains to the CA and holds the AK */
        bool eventlog_ok;               /* the event log replays to the quoted PCRs */
        bool ima_checked, ima_ok;       /* the IMA list replays to PCR 10 */
        uint32_t eventlog_pcrs;         /* PCRs the event log extends (mask) */
        bool has_quote_info;
        struct shield_quote_info quote; /* clock, resetCount, restartCount, selection */
        bool has_secureboot;
        struct shield_secureboot secureboot; /* what the event log says about Secure Boot */
        bool has_colour;
        int colour, early, late;        /* enum shield_colour when a golden was compared */
};

/*
 * Check e against the policy. Returns 0 when every check passed,
 * SHIELD_E_VERIFY when one failed (steps and reasons say which and why; a
 * yellow integrity verdict is not a failure, red is), or another SHIELD_E_*
 * when the checking itself could not run. *ret is always initialised; free
 * it with shield_evidence_result_clear().
 */
__attribute__((warn_unused_result))
int shield_evidence_check(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                          struct shield_evidence_result *ret);
void shield_evidence_result_clear(struct shield_evidence_result *r);
const char *shield_step_status_name(enum shield_step_status s);

/* Two public keys in any of the AK encodings (TPM2B_PUBLIC, TPMT_PUBLIC, SPKI DER or PEM) are the same key. */
bool shield_ak_same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
