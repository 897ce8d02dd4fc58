/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Events of a TCG firmware event log decoded as JSON: presentation, kept
 * out of shield/eventlog.h so the format layer's types carry no jansson.
 * Implemented by lib/tcg (docs/ARCHITECTURE.md, the "header" lines).
 */
#include <jansson.h>

#include "shield/eventlog.h"

/*
 * The event's decoded content as a JSON object (fields depend on the
 * type: variable GUID/name/data, load options, image load event, GPT,
 * signature lists with certificate subjects/issuers/SHA-1 thumbprints,
 * SP 800-155 reference manifest, …). *ret is a new reference.
 * SHIELD_E_INVAL when ret is NULL.
 */
__attribute__((warn_unused_result))
int shield_event_decode_json(const struct shield_eventlog *log, const struct shield_event *ev,
                             json_t **ret);
