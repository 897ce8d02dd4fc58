/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON rendering of reasons (shield/render.h). */
#include <stdint.h>

#include "shield/crypto.h"
#include "shield/render.h"

json_t *shield_reason_json(const struct shield_reason *x) {
        const char *bank = x->bank ? shield_hash_name(x->bank) : NULL;
        json_t *o = json_object();
        if (!o || json_object_set_new(o, "code", json_string(x->code ? x->code : "")) ||
            json_object_set_new(o, "severity", json_string(shield_severity_name(x->severity))) ||
            json_object_set_new(o, "bank", bank ? json_string(bank) : json_null()) ||
            json_object_set_new(o, "pcr", x->pcr >= 0 ? json_integer(x->pcr) : json_null()) ||
            json_object_set_new(o, "event", x->event_index >= 0 ? json_integer(x->event_index) : json_null()) ||
            json_object_set_new(o, "offset", x->offset != SIZE_MAX ? json_integer((json_int_t)x->offset) : json_null()) ||
            json_object_set_new(o, "message", json_string(x->message))) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *shield_reasons_json(const struct shield_reasons *list) {
        json_t *a = json_array();
        for (size_t i = 0; a && list && i < list->n; i++) {
                json_t *o = shield_reason_json(&list->items[i]);
                if (!o || json_array_append_new(a, o)) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}
