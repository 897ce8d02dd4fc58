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
#include "shield/integrity.h"
#include "shield/render.h"
#include "shield/credential.h"


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
        const struct shield_integrity_policy *integrity; /* which PCRs count for the colour (and must be quoted) */
};

enum shield_step_status { SHIELD_STEP_PASS, SHIELD_STEP_FAIL, SHIELD_STEP_SKIP, SHIELD_STEP_WARN };

/* The checks, in the order they run. Code decides on these ids, never on names or reason codes. */
enum shield_step_id {
        SHIELD_STEP_QUOTE_SIGNATURE,    /* the AK's signature over TPMS_ATTEST */
        SHIELD_STEP_QUOTE_STRUCTURE,    /* magic TPM_GENERATED_VALUE, type TPM_ST_ATTEST_QUOTE */
        SHIELD_STEP_NONCE,              /* extraData is the verifier's nonce, never used before */
        SHIELD_STEP_PCR_DIGEST,         /* the reported values hash to pcrDigest */
        SHIELD_STEP_COVERAGE,           /* the quote covers every PCR the integrity policy counts */
        SHIELD_STEP_EVENTLOG,           /* the event log replays to the quoted PCRs */
        SHIELD_STEP_EVENT_DATA,         /* each event's data matches its digest where the spec defines it */
        SHIELD_STEP_IMA,                /* the IMA list replays to PCR 10 */
        SHIELD_STEP_AK,                 /* the AK is trusted for this machine */
        SHIELD_STEP_EK,                 /* the EK certificate chains to a vendor CA */
        SHIELD_STEP_POLICY,             /* the owner's policy */
        SHIELD_STEP_GOLDEN,             /* the golden measurement: the colour */
        SHIELD_STEP_COUNT
};

/* "quote-signature", "quote-structure", "nonce", "pcr-digest", "coverage", "eventlog", "event-data", "ima", "ak", "ek", "policy", "golden". */
const char *shield_step_name(enum shield_step_id id);

#define SHIELD_VERIFY_STEPS_MAX SHIELD_STEP_COUNT
#define SHIELD_ATTEST_REASONS_MAX 256   /* reasons kept per verdict; the rest are counted in "reasons-cut" */

struct shield_verify_step {
        enum shield_step_id id;
        const char *name;               /* shield_step_name(id) */
        enum shield_step_status status;
        char detail[SHIELD_REASON_MSG_MAX];
};

struct shield_evidence_result {
        struct shield_reasons reasons;  /* errors (verification fails) and warnings */
        size_t n_steps;
        struct shield_verify_step steps[SHIELD_VERIFY_STEPS_MAX];
        struct shield_quote_status quote_status; /* what the quote check established */
        bool quote_ok;                  /* signature, nonce and PCR digest hold */
        bool ak_trusted;                /* the AK step passed: pinned, or certified by the CA */
        bool ak_cert_ok;                /* the AK certificate chains to the CA and holds the AK */
        bool covered;                   /* the quote covers every PCR the integrity policy counts */
        bool eventlog_ok;               /* the event log replays to the quoted PCRs */
        bool event_data_ok;             /* no event's data contradicts its digest */
        bool ima_checked, ima_ok;       /* the IMA list replays to PCR 10 */
        uint32_t eventlog_pcrs;         /* PCRs the event log extends (mask) */
        bool has_quote_info;
        struct shield_quote_info quote; /* clock, resetCount, restartCount, selection */
        bool has_secureboot;
        struct shield_secureboot secureboot; /* what the event log says about Secure Boot (its data verified) */
        struct shield_eventlog *log;    /* the event log, parsed once for every step (NULL when absent) */
        struct shield_pcrs quoted;      /* the reported values the quote covers (what later steps trust) */
        bool has_colour;
        int colour, early, late;        /* enum shield_colour when a golden was compared */
        size_t reasons_cut;             /* reasons left out over SHIELD_ATTEST_REASONS_MAX */
        bool errors_cut;                /* some of them were errors (verification fails all the same) */
};

/*
 * Check e against the policy: pure, no store. Returns 0 when every check
 * passed, SHIELD_E_VERIFY when one failed (steps and reasons say which and
 * why; a yellow integrity verdict is not a failure, red is), or another
 * SHIELD_E_* when the checking itself could not run. *ret is always
 * initialised; free it with shield_evidence_result_clear().
 */
__attribute__((warn_unused_result))
int shield_evidence_check(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                          struct shield_evidence_result *ret);
void shield_evidence_result_clear(struct shield_evidence_result *r);
const char *shield_step_status_name(enum shield_step_status s);

/* The step with this id, or NULL when it did not run. */
const struct shield_verify_step *shield_evidence_step(const struct shield_evidence_result *r, enum shield_step_id id);

/* Two public keys in any of the AK encodings (TPM2B_PUBLIC, TPMT_PUBLIC, SPKI DER or PEM) are the same key. */
bool shield_ak_same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* ---- the one attestation pipeline (docs/ARCHITECTURE.md, "One attestation") ---- */

struct shield_store;

/* How the nonce the quote answers is known to be fresh. */
enum shield_nonce_mode {
        SHIELD_NONCE_GIVEN,     /* the caller issued it (options.nonce); with a store it is spent there once */
        SHIELD_NONCE_ISSUED,    /* the quote's extraData must be a challenge the store issued to this instance */
};

/* Why the AK is believed to be this machine's. */
enum shield_ak_trust {
        SHIELD_AK_UNTRUSTED = 0,
        SHIELD_AK_PINNED,       /* the caller named the AK (shield verify --ak-pub) */
        SHIELD_AK_STORED,       /* the AK the store holds for the instance (trusted when first recorded) */
        SHIELD_AK_REGISTERED,   /* registered with the service and activated against a trusted EK */
        SHIELD_AK_CERTIFIED,    /* its certificate chains to a trusted platform CA */
};
const char *shield_ak_trust_name(enum shield_ak_trust t); /* "untrusted", "pinned", "stored", "registered", "certified" */

/* The quote's clock against the last attestation recorded for the instance. */
enum shield_clock_class {
        SHIELD_CLOCK_UNKNOWN = 0,  /* not compared (no store, or the quote not authenticated) */
        SHIELD_CLOCK_FIRST,        /* no earlier attestation */
        SHIELD_CLOCK_SAME_BOOT,    /* same resetCount and restartCount, clock moved forward */
        SHIELD_CLOCK_REBOOTED,     /* resetCount grew */
        SHIELD_CLOCK_RESUMED,      /* restartCount changed within one reset: resumed or restarted */
        SHIELD_CLOCK_WENT_BACK,    /* resetCount shrank or the clock went back: a cleared TPM, or another one */
};
const char *shield_clock_class_name(enum shield_clock_class c); /* "unknown", "first", "same-boot", "rebooted", "resumed", "went-back" */

/* Why an attestation was refused outright: nothing about the instance was recorded. */
enum shield_attest_refusal {
        SHIELD_REFUSED_NONE = 0,
        SHIELD_REFUSED_INSTANCE_UNKNOWN,   /* require_registered, and no such instance */
        SHIELD_REFUSED_INSTANCE_UNTRUSTED, /* registered but not activated (or its EK not trusted) */
        SHIELD_REFUSED_NONCE,              /* not a nonce issued to this instance, expired, or spent */
        SHIELD_REFUSED_AK_MISMATCH,        /* signed by another AK than the instance's */
        SHIELD_REFUSED_UNAUTHENTICATED,    /* the quote does not verify under a trusted AK with a fresh nonce */
};
const char *shield_attest_refusal_code(enum shield_attest_refusal r); /* "", "instance-unknown", "instance-untrusted", "nonce-unknown", "ak-mismatch", "unauthenticated" */

struct shield_attest_options {
        enum shield_nonce_mode nonce_mode;
        const uint8_t *nonce;           /* SHIELD_NONCE_GIVEN: the nonce issued (required) */
        size_t nonce_len;
        const uint8_t *ak_public;       /* an AK the caller trusts (any AK encoding); NULL: none */
        size_t ak_public_len;
        const uint8_t *ak_ca;           /* AK certificates chaining to this CA are trusted (DER/PEM); NULL: none */
        size_t ak_ca_len;
        const char *ek_ca_dir;          /* vendor CAs the EK certificate must chain to; NULL: not checked */
        const struct shield_attest_policy *owner;         /* optional */
        const struct shield_golden *golden;               /* compare with this instead of the store's (not recorded) */
        const struct shield_integrity_policy *integrity;  /* NULL: the instance's policy in the store, else "gce" */
        bool require_registered;        /* the service: the instance must be registered, activated, its AK the one */
        const struct shield_ak_key *ak_key; /* optional cache of the registered AK, parsed */
        const char *evidence_sha256;    /* hex SHA-256 naming the evidence; NULL: of its canonical JSON
                                         * (shield_evidence_to_json), the same whichever front end received it */
        int64_t now;                    /* unix time; 0: now */
        /* A service issuing sealed credentials (shield/credential.h): step 6 runs only with machine_ca. */
        const struct shield_machine_ca *machine_ca;
        uint32_t credential_validity;   /* seconds; 0: SHIELD_CREDENTIAL_VALIDITY_DEFAULT */
};

struct shield_attest_outcome {
        bool verified;                  /* every check passed; green or yellow */
        enum shield_attest_refusal refusal; /* SHIELD_REFUSED_NONE unless refused outright */
        bool authenticated;             /* the quote verified under a trusted AK and a fresh nonce */
        bool recorded;                  /* the verdict is stored (with a store, iff authenticated) */
        enum shield_ak_trust ak_trust;
        bool has_colour;                /* colour, early and late are set */
        enum shield_colour colour, early, late;
        int previous_colour;            /* the instance's colour before this attestation, -1 none */
        bool golden_recorded;           /* this attestation became the golden measurement */
        char golden_note[SHIELD_REASON_MSG_MAX]; /* why no golden was recorded, or what it replaced; "" none */
        enum shield_clock_class clock;
        uint32_t prev_reset_count, prev_restart_count; /* with the clock classes that compare */
        struct shield_integrity_policy integrity; /* the policy applied */
        char evidence_sha256[65];
        struct shield_evidence_result check; /* steps, reasons, quote facts, Secure Boot */
        struct shield_credential_result credential; /* step 6 (with machine_ca) */
};

/*
 * Attest one piece of evidence for instance, in one store transaction
 * (store may be NULL: the checks only, nothing recorded):
 *  1. freshness: the nonce given (spent in the store) or a challenge the
 *     store issued to instance (taken: one winner across replicas);
 *  2. AK trust: pinned by the caller, the instance's stored AK, registered
 *     and activated with the service, or certified by ak_ca;
 *  3. the ordered checks of shield_evidence_check, under the instance's
 *     integrity policy and against its golden measurement;
 *  4. recording, only for authenticated evidence: the golden on the first
 *     verified attestation (only from quoted values covering the policy,
 *     with an event log that replays to them and whose data verifies), the
 *     verdict with its reasons, the instance's status and quote clock.
 * Returns 0 when verified; SHIELD_E_VERIFY when not (outcome says why:
 * refusal for evidence refused outright, nothing of the instance then
 * changed); SHIELD_E_SYSTEM (diag) when the store failed: the transaction
 * was rolled back and nothing is stored, not even the nonce spent;
 * SHIELD_E_NOMEM / SHIELD_E_INVAL. *ret is always initialised; free with
 * shield_attest_outcome_clear().
 */
__attribute__((warn_unused_result))
int shield_attest_run(struct shield_store *store, const char *instance, const struct shield_evidence *e,
                      const struct shield_attest_options *o, struct shield_attest_outcome *ret,
                      struct shield_diag *diag);
void shield_attest_outcome_clear(struct shield_attest_outcome *o);

/*
 * The one JSON rendering (docs/API.md, "Attestation outcome"): steps as
 * [{"step", "status", "detail"}], and the outcome as {"verified", "colour",
 * "early_boot", "late_boot", "golden_recorded", "clock", "rebooted",
 * "ak_trust", "policy", "steps", "reasons", "reasons_cut", "refusal"?,
 * "golden_note"?, "evidence_sha256"?, "quote"?}. New references; NULL on
 * ENOMEM. The CLI's --json and the service's answers add their own members
 * around these and change none.
 */
json_t *shield_steps_json(const struct shield_evidence_result *res);
json_t *shield_attest_outcome_json(const struct shield_attest_outcome *o);

struct shield_verdict_row;
struct shield_instance_summary;
/*
 * The store's rows as JSON (one rendering for the CLI and the API): the
 * history as [{"time", "colour", "early", "late", "evidence_sha256",
 * "reasons": [...]}] newest first, the fleet as [{"name", "trusted",
 * "colour", "early_boot", "late_boot", "last_attestation"}]. New
 * references; NULL on ENOMEM.
 */
json_t *shield_history_json(const struct shield_verdict_row *rows, size_t n);
json_t *shield_instances_json(const struct shield_instance_summary *v, size_t n);
/* The instance's last max verdicts rendered as JSON text (malloc'd); errors as shield_store_history_rows. */
__attribute__((warn_unused_result))
int shield_history_text(struct shield_store *s, const char *instance, size_t max, char **ret_json,
                        struct shield_diag *diag);
