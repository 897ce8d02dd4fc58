/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The one JSON rendering of the types people read: reasons here, the
 * attestation outcome in shield/attest.h. The CLI's --json, the API's
 * answers, the dashboard and the store's history all use these, so a
 * reason reads the same wherever it shows up. Presentation types (json_t)
 * live in this header and its kin only, never in a format layer's.
 */
#include <jansson.h>

#include "shield/reason.h"

/*
 * {"code", "severity", "bank" (name or null), "pcr" (or null), "event"
 * (index or null), "offset" (or null), "message"}. NULL on ENOMEM.
 */
json_t *shield_reason_json(const struct shield_reason *r);

/* An array of shield_reason_json objects, in order. NULL on ENOMEM. */
json_t *shield_reasons_json(const struct shield_reasons *list);
