/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* instance.json's "shielded" and "nic" members (settings.c), for instance.c. */
#include <jansson.h>

#include "shield/vm.h"

/* Missing members take the defaults; SHIELD_E_FORMAT naming a malformed one. */
int vm_settings_from_json(json_t *j, struct shield_instance_settings *ret, struct shield_diag *diag);
/* A new reference to {"shielded": {…}, "nic": {…}}; NULL on ENOMEM. */
json_t *vm_settings_to_json(const struct shield_instance_settings *s);
