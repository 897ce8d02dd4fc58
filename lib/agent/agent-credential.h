/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* The agent's side of sealed credentials (credential.c), for agent.c. */
#include <jansson.h>

#include "shield/agent.h"
#include "shield/evidence.h"
#include "shield/tpm.h"

/* A sealing key made for the service's offer, held until the service answers. */
struct agent_sealing {
        bool has;
        int64_t intent;
        struct shield_seal_policy policy;
        struct shield_tpm_sealing_key key;
        uint8_t epoch_nv_public[128];
        size_t epoch_nv_public_len;
};
void agent_sealing_clear(struct agent_sealing *s);

/*
 * For the challenge's "credential_offer" (offer may be NULL: nothing to
 * do): read (or define) the epoch counter, make a sealing key whose policy
 * is the offer's PCRs at the counter's next value, certified by the AK over
 * nonce. *ret on success.
 */
int agent_sealing_prepare(struct shield_tpm *t, uint32_t ak_handle, const json_t *offer, const uint8_t *nonce,
                          size_t nonce_len, struct agent_sealing *ret, struct shield_diag *diag);

/* Put the key and its certification into the evidence (copies). */
int agent_sealing_attach(const struct agent_sealing *s, struct shield_evidence *e);

/*
 * The attestation answer's "credential" (may be NULL): when it is new to
 * the state directory, keep it there (with the sealing key it was sealed
 * to) and advance the epoch counter to its value, which kills every older
 * sealed credential. *ret_serial (SHIELD_CA_SERIAL_HEX + 1) is the serial
 * the state now holds ("" none), *ret_new whether it was stored now.
 */
int agent_credential_keep(struct shield_tpm *t, const char *state_dir, const json_t *credential,
                          const struct agent_sealing *s, char *ret_serial, bool *ret_new, struct shield_diag *diag);
