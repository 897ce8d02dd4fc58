/* SPDX-License-Identifier: Apache-2.0 */
/* The owner's attestation policy file: what must hold beyond a valid quote. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/attest.h"

#define POLICY_MAX (1u << 20)

int shield_attest_policy_parse(const char *text, size_t len, struct shield_attest_policy *ret,
                               struct shield_diag *diag) {
        struct shield_attest_policy p = { 0 };
        json_error_t err;
        int r = 0;

        if (len > POLICY_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "a policy is at most %u bytes", POLICY_MAX);
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        if (!j || !json_is_object(j)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, j ? 0 : (size_t)err.position, -1, "%s",
                                     j ? "a policy is a JSON object" : err.text);
                goto out;
        }
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v) {
                if (strcmp(key, "format") == 0) {
                        if (!json_is_string(v) || strcmp(json_string_value(v), "shieldkit-policy/1") != 0) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                     "\"format\" must be \"shieldkit-policy/1\"");
                                goto out;
                        }
                } else if (strcmp(key, "require_secure_boot") == 0) {
                        if (!json_is_boolean(v)) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"require_secure_boot\" is true or false");
                                goto out;
                        }
                        p.require_secure_boot = json_is_true(v);
                } else if (strcmp(key, "pcrs") == 0) {
                        char *s = json_dumps(v, JSON_COMPACT);
                        struct shield_diag d = { 0 };
                        r = s ? shield_pcrs_parse_json(s, strlen(s), &p.pcrs, &d) : SHIELD_E_NOMEM;
                        free(s);
                        if (r < 0) {
                                r = shield_diag_fail(diag, r, 0, -1, "\"pcrs\": %s", d.msg);
                                goto out;
                        }
                        p.has_pcrs = true;
                } else if (strcmp(key, "integrity") == 0 || strcmp(key, "db_authority") == 0) {
                        char *dst = key[0] == 'i' ? p.integrity : p.db_authority;
                        size_t cap = key[0] == 'i' ? sizeof p.integrity : sizeof p.db_authority;
                        if (!json_is_string(v) || strlen(json_string_value(v)) >= cap) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" is a string under %zu bytes",
                                                     key, cap);
                                goto out;
                        }
                        memcpy(dst, json_string_value(v), strlen(json_string_value(v)) + 1);
                } else {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                             "unknown key \"%s\" (known: format, require_secure_boot, pcrs, "
                                             "integrity, db_authority)", key);
                        goto out;
                }
        }
        *ret = p;
out:
        json_decref(j);
        return r;
}
