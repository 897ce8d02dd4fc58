/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one JSON rendering of what the store keeps about instances: the
 * history (docs/API.md: GET /v1/instances/{name} "history"; shield golden
 * show --json) and the fleet list (GET /v1/instances). The store returns
 * typed rows; the CLI and the daemon render them here.
 */
#include <string.h>

#include "shield/attest.h"
#include "shield/store.h"

static json_t *text_or_null(const char *t) {
        return t && *t ? json_string(t) : json_null();
}

json_t *shield_history_json(const struct shield_verdict_row *rows, size_t n) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) {
                const struct shield_verdict_row *v = &rows[i];
                json_t *reasons = v->reasons_json ? json_loads(v->reasons_json, 0, NULL) : NULL;
                json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "time", (json_int_t)v->time, "colour",
                                      text_or_null(v->colour), "early", text_or_null(v->early), "late",
                                      text_or_null(v->late), "evidence_sha256", text_or_null(v->evidence_sha256),
                                      "reasons", json_is_array(reasons) ? reasons : json_array());
                if (!json_is_array(reasons))
                        json_decref(reasons);
                if (!o || json_array_append_new(a, o)) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static json_t *colour_or_null(int c) {
        return c >= SHIELD_GREEN && c <= SHIELD_RED ? json_string(shield_colour_name((enum shield_colour)c)) : json_null();
}

json_t *shield_instances_json(const struct shield_instance_summary *v, size_t n) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) {
                json_t *o = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o}", "name", v[i].name, "trusted", v[i].trusted,
                                      "colour", colour_or_null(v[i].colour), "early_boot", colour_or_null(v[i].early),
                                      "late_boot", colour_or_null(v[i].late), "last_attestation",
                                      v[i].last_attestation ? json_integer((json_int_t)v[i].last_attestation)
                                                            : json_null());
                if (!o || json_array_append_new(a, o)) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int shield_history_text(struct shield_store *s, const char *instance, size_t max, char **ret_json,
                        struct shield_diag *diag) {
        struct shield_verdict_row *rows = NULL;
        size_t n = 0;
        int r = shield_store_history_rows(s, instance, max, &rows, &n, diag);
        if (r < 0)
                return r;
        json_t *a = shield_history_json(rows, n);
        shield_verdict_rows_free(rows, n);
        *ret_json = a ? json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(a);
        return *ret_json ? 0 : SHIELD_E_NOMEM;
}
