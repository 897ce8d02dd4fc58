/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Checking one piece of evidence (docs/EVIDENCE.md) the way a verifier
 * does: the quote (signature by the AK, the verifier's nonce, the reported
 * PCRs), the AK certificate against the platform CA, the firmware event log
 * replayed against the quoted PCRs, and the IMA list against PCR 10.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/eventlog.h"
#include "shield/evidence.h"
#include "shield/reason.h"

struct shield_evidence_policy {
        const uint8_t *nonce;           /* the nonce this verifier issued (required) */
        size_t nonce_len;
        const uint8_t *ca_cert;         /* the CA AK certificates must chain to (DER or PEM); NULL: not checked */
        size_t ca_cert_len;
};

struct shield_evidence_result {
        struct shield_reasons reasons;  /* errors (verification fails) and warnings */
        bool quote_ok;                  /* signature, nonce and PCR digest hold */
        bool ak_cert_ok;                /* the AK certificate chains to the CA and holds the AK */
        bool eventlog_ok;               /* the event log replays to the quoted PCRs */
        bool ima_checked, ima_ok;       /* the IMA list replays to PCR 10 */
        uint32_t eventlog_pcrs;         /* PCRs the event log extends (mask) */
        bool has_secureboot;
        struct shield_secureboot secureboot; /* what the event log says about Secure Boot */
};

/*
 * Check e against the policy. Returns 0 when every check passed,
 * SHIELD_E_VERIFY when one failed (reasons say which and why), or another
 * SHIELD_E_* when the checking itself could not run. *ret is always
 * initialised; free it with shield_evidence_result_clear().
 */
__attribute__((warn_unused_result))
int shield_evidence_check(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                          struct shield_evidence_result *ret);
void shield_evidence_result_clear(struct shield_evidence_result *r);
