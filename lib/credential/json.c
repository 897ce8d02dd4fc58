/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON rendering of offers and credentials, and the PCR maps intents keep (shield/credential.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credential-internal.h"
#include "shield/crypto.h"
#include "shield/util.h"

json_t *credential_pcrs_json(const struct shield_pcrs *pcrs, uint16_t bank, uint32_t mask) {
        const struct shield_pcr_bank *b = shield_pcrs_bank_const(pcrs, bank);
        json_t *o = json_object();
        if (!o || !b)
                return json_decref(o), NULL;
        for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                if (!(mask & (1u << i)) || !(b->present & (1u << i)))
                        continue;
                char key[4], hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                snprintf(key, sizeof key, "%u", i);
                shield_hex_encode(b->value[i], b->size, hex);
                if (json_object_set_new(o, key, json_string(hex)) < 0)
                        return json_decref(o), NULL;
        }
        return o;
}

int credential_pcrs_parse(const json_t *o, uint16_t bank, uint32_t mask, struct shield_pcrs *ret,
                          struct shield_diag *diag) {
        struct shield_pcrs p = { 0 };
        struct shield_pcr_bank *b = NULL;
        size_t hs = shield_hash_size(bank);
        const char *key;
        json_t *v;

        if (!json_is_object(o) || !hs)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "the PCR values are not an object of one bank");
        if (shield_pcrs_add_bank(&p, bank, (uint16_t)hs, &b) < 0)
                return SHIELD_E_INVAL;
        json_object_foreach((json_t *)o, key, v) {
                uint64_t pcr = 0;
                uint8_t *buf = NULL;
                size_t n = 0;
                if (shield_parse_u64(key, 10, SHIELD_PCR_COUNT - 1, &pcr) < 0 || !(mask & (1u << pcr)))
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "PCR \"%s\" is not one of the policy", key);
                if (!json_is_string(v) || shield_hex_decode(json_string_value(v), &buf, &n) < 0 || n != hs) {
                        free(buf);
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "PCR %u: not %zu bytes of hex", (unsigned)pcr, hs);
                }
                memcpy(b->value[pcr], buf, hs);
                free(buf);
                b->present |= 1u << pcr;
        }
        if ((b->present & mask) != mask)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "PCR values are missing (mask 0x%06x)",
                                        mask & ~b->present);
        *ret = p;
        return 0;
}

int credential_intent_pcrs(const struct shield_intent_record *in, struct shield_pcrs *ret, struct shield_diag *diag) {
        json_error_t e;
        json_t *o = json_loads(in->pcrs_json, 0, &e);
        if (!o)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "intent %lld: its PCR values do not parse",
                                        (long long)in->id);
        int r = credential_pcrs_parse(o, in->bank, in->mask, ret, diag);
        json_decref(o);
        return r;
}

static json_t *mask_json(uint32_t mask) {
        json_t *a = json_array();
        for (unsigned i = 0; a && i < SHIELD_PCR_COUNT; i++)
                if (mask & (1u << i))
                        json_array_append_new(a, json_integer(i));
        return a;
}

json_t *shield_credential_offer_json(const struct shield_credential_offer *o) {
        json_t *pcrs = credential_pcrs_json(&o->pcrs, o->bank, o->mask);
        if (!pcrs)
                return NULL;
        return json_pack("{s:I, s:s, s:o, s:o}", "intent", (json_int_t)o->intent, "bank", shield_hash_name(o->bank),
                         "selection", mask_json(o->mask), "pcrs", pcrs);
}

int shield_credential_offer_parse(const json_t *j, struct shield_credential_offer *ret, struct shield_diag *diag) {
        struct shield_credential_offer o = { 0 };
        json_t *intent = json_object_get(j, "intent"), *bank = json_object_get(j, "bank"),
               *sel = json_object_get(j, "selection"), *pcrs = json_object_get(j, "pcrs");
        size_t i;
        json_t *v;

        if (!json_is_integer(intent) || json_integer_value(intent) <= 0 || !json_is_string(bank) || !json_is_array(sel))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "a credential offer has \"intent\" (an integer), \"bank\" and \"selection\"");
        o.intent = json_integer_value(intent);
        if (shield_hash_from_name(json_string_value(bank), &o.bank) < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "credential offer: unknown bank \"%s\"",
                                        json_string_value(bank));
        json_array_foreach(sel, i, v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= SHIELD_PCR_COUNT)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "credential offer: selection[%zu] is no PCR", i);
                o.mask |= 1u << json_integer_value(v);
        }
        if (!o.mask)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "credential offer: an empty selection");
        int r = credential_pcrs_parse(pcrs, o.bank, o.mask, &o.pcrs, diag);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

const char *shield_credential_method_name(int method) {
        switch (method) {
        case SHIELD_CREDENTIAL_SEALING_KEY: return "sealing-key";
        case SHIELD_CREDENTIAL_IMPORT: return "import";
        default: return "unknown";
        }
}

json_t *shield_credential_json(const struct shield_credential_record *c, const struct shield_intent_record *intent,
                               bool with_sealed) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:b}", "serial", c->serial, "instance", c->instance,
                              "intent", (json_int_t)c->intent, "method", shield_credential_method_name(c->method),
                              "issued", (json_int_t)c->issued, "not_after", (json_int_t)c->not_after, "revoked",
                              c->revoked != 0);
        if (!o)
                return NULL;
        char policy[65];
        shield_hex_encode(c->policy, sizeof c->policy, policy);
        json_object_set_new(o, "policy_digest", json_string(policy));
        if (c->revoked)
                json_object_set_new(o, "revoked_at", json_integer(c->revoked));
        if (c->epoch_nv)
                json_object_set_new(o, "epoch", json_pack("{s:I, s:I}", "index", (json_int_t)c->epoch_nv, "value",
                                                          (json_int_t)c->epoch));
        if (intent && intent->id == c->intent) {
                json_error_t e;
                json_t *pcrs = json_loads(intent->pcrs_json, 0, &e), *desc = json_loads(intent->describe_json, 0, &e);
                json_object_set_new(o, "bound", json_pack("{s:s, s:o, s:o, s:o*}", "bank", shield_hash_name(intent->bank),
                                                          "selection", mask_json(intent->mask), "pcrs",
                                                          pcrs ? pcrs : json_object(), "replaced", desc));
        }
        if (with_sealed) {
                char *b64 = shield_base64_encode(c->sealed, c->sealed_len);
                if (!b64 || json_object_set_new(o, "sealed", json_string(b64)) < 0) {
                        free(b64);
                        json_decref(o);
                        return NULL;
                }
                free(b64);
        }
        return o;
}
