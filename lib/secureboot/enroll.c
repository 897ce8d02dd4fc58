/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrol a resolved initial state into an OVMF variable store: the bytes the
 * firmware finds at first boot. db, dbx and KEK go in before PK because
 * writing PK is what ends setup mode on a real machine.
 */
#include <stdlib.h>

#include "shield/initial-state.h"
#include "shield/varstore.h"

int shield_initial_state_enroll(struct shield_varstore *vs, const struct shield_initial_state *st,
                                const shield_guid *owner, struct shield_diag *diag) {
        const struct {
                const char *name;
                const shield_guid *vendor;
                const struct shield_is_value *value;
        } order[] = {
                { "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &st->dbs },
                { "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &st->dbxs },
                { "KEK", &SHIELD_GUID_GLOBAL_VARIABLE, &st->keks },
                { "PK", &SHIELD_GUID_GLOBAL_VARIABLE, &st->pk },
        };
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
                uint8_t *esl = NULL;
                size_t len = 0;
                if (order[k].value->n == 0)
                        continue;
                if (shield_initial_state_esl(order[k].value, owner, &esl, &len) < 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: cannot build its signature lists",
                                                order[k].name);
                int r = len ? shield_varstore_set(vs, order[k].name, order[k].vendor, SHIELD_VAR_SECURE_BOOT_DB, NULL,
                                                  esl, len)
                            : SHIELD_E_INVAL;
                free(esl);
                if (r == SHIELD_E_LIMIT)
                        return shield_diag_fail(diag, r, 0, -1, "the variable store has no room for %s (%zu bytes)",
                                                order[k].name, len);
                if (r < 0)
                        return shield_diag_fail(diag, r, 0, -1, "cannot write %s into the variable store", order[k].name);
        }
        return 0;
}
