/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON rendering of steps and of an attestation's outcome (shield/attest.h). */
#include "shield/attest.h"
#include "shield/render.h"

json_t *shield_steps_json(const struct shield_evidence_result *res) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < res->n_steps; i++) {
                json_t *o = json_pack("{s:s, s:s, s:s}", "step", res->steps[i].name, "status",
                                      shield_step_status_name(res->steps[i].status), "detail", res->steps[i].detail);
                if (!o || json_array_append_new(a, o)) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static json_t *colour_or_null(bool has, enum shield_colour c) {
        return has ? json_string(shield_colour_name(c)) : json_null();
}

json_t *shield_attest_outcome_json(const struct shield_attest_outcome *o) {
        const struct shield_evidence_result *c = &o->check;
        json_t *steps = shield_steps_json(c), *reasons = shield_reasons_json(&c->reasons);
        json_t *rebooted = o->clock == SHIELD_CLOCK_UNKNOWN || o->clock == SHIELD_CLOCK_FIRST
                                   ? json_null()
                                   : json_boolean(o->clock == SHIELD_CLOCK_REBOOTED);
        json_t *j = json_pack("{s:b, s:o, s:o, s:o, s:b, s:s, s:o, s:s, s:s, s:o, s:o, s:I}", "verified", o->verified,
                              "colour", colour_or_null(o->has_colour, o->colour), "early_boot",
                              colour_or_null(o->has_colour, o->early), "late_boot",
                              colour_or_null(o->has_colour, o->late), "golden_recorded", o->golden_recorded, "clock",
                              shield_clock_class_name(o->clock), "rebooted", rebooted, "ak_trust",
                              shield_ak_trust_name(o->ak_trust), "policy", o->integrity.name, "steps",
                              steps ? steps : json_array(), "reasons", reasons ? reasons : json_array(), "reasons_cut",
                              (json_int_t)c->reasons_cut);
        if (!j)
                return NULL;
        if (o->refusal != SHIELD_REFUSED_NONE)
                json_object_set_new(j, "refusal", json_string(shield_attest_refusal_code(o->refusal)));
        if (o->golden_note[0])
                json_object_set_new(j, "golden_note", json_string(o->golden_note));
        if (o->evidence_sha256[0])
                json_object_set_new(j, "evidence_sha256", json_string(o->evidence_sha256));
        if (c->has_quote_info)
                json_object_set_new(j, "quote", json_pack("{s:I, s:I, s:I, s:b, s:I}", "clock", (json_int_t)c->quote.clock,
                                                          "reset_count", (json_int_t)c->quote.reset_count,
                                                          "restart_count", (json_int_t)c->quote.restart_count, "safe",
                                                          c->quote.safe, "firmware_version",
                                                          (json_int_t)c->quote.firmware_version));
        return j;
}
