/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Shared by lib/credential's files. */
#include <jansson.h>

#include "shield/credential.h"

/* {"4": hex, …}: the PCRs of mask in bank (those present). New reference; NULL on ENOMEM or no such bank. */
json_t *credential_pcrs_json(const struct shield_pcrs *pcrs, uint16_t bank, uint32_t mask);
/* The reverse: exactly the PCRs of mask, hex of bank's size. */
int credential_pcrs_parse(const json_t *o, uint16_t bank, uint32_t mask, struct shield_pcrs *ret,
                          struct shield_diag *diag);
/* An intent's predicted PCRs, from its record. */
int credential_intent_pcrs(const struct shield_intent_record *in, struct shield_pcrs *ret, struct shield_diag *diag);
/*
 * Issue a credential for instance, bundle it and seal it (to key_public's
 * sealing key, or with ek_public to the EK), and record it for intent.
 * *ret_serial (SHIELD_CA_SERIAL_HEX + 1) on success.
 */
int credential_issue_sealed(struct shield_store *store, const struct shield_machine_ca *ca, const char *instance,
                            const struct shield_intent_record *intent, const uint8_t policy[32],
                            const struct shield_seal_policy *pol, const uint8_t *key_public, size_t key_public_len,
                            const uint8_t *ek_public, size_t ek_public_len, uint32_t validity, int64_t now,
                            char *ret_serial, struct shield_diag *diag);
