/* SPDX-License-Identifier: Apache-2.0 */
/* Intents: what an instance must boot, predicted from its golden event log (shield/credential.h, step 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credential-internal.h"
#include "shield/crypto.h"
#include "shield/eventlog.h"
#include "shield/util.h"

#define PCR_KERNEL_BOOT 11

void shield_intent_outcomes_free(struct shield_intent_outcome *o, size_t n) {
        for (size_t i = 0; o && i < n; i++)
                shield_reasons_clear(&o[i].notes);
        free(o);
}

/* The replacements as asked, for the record: [{"path", "sha256"?: Authenticode digest, "image": bytes}]. */
static json_t *describe(const struct shield_intent_request *rq) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < rq->n_repl; i++) {
                const struct shield_predict_replacement *r = &rq->repl[i];
                json_t *o = json_pack("{s:s}", "path", r->path);
                if (!o)
                        return json_decref(a), NULL;
                if (r->image) {
                        json_object_set_new(o, "image_bytes", json_integer((json_int_t)r->image_len));
                } else {
                        char hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                        shield_hex_encode(r->digest, shield_hash_size(r->alg), hex);
                        json_object_set_new(o, shield_hash_name(r->alg), json_string(hex));
                }
                json_array_append_new(a, o);
        }
        return a;
}

/* The PCRs the instance's next boot will have: the prediction, or with no replacement the golden's own replay. */
static int predict_one(struct shield_store *store, const char *instance, const struct shield_intent_request *rq,
                       uint16_t bank, struct shield_intent_outcome *out, struct shield_diag *diag) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_eventlog *log = NULL;
        struct shield_diag pd = { 0 };
        int r = shield_store_golden_eventlog_get(store, instance, &buf, &len, diag);
        if (r < 0)
                return r;
        if ((r = shield_eventlog_parse_take(&buf, len, &log, &pd)) < 0) {
                free(buf);
                return shield_diag_fail(diag, r, pd.offset, pd.index, "the golden event log of \"%s\": %s", instance, pd.msg);
        }
        uint32_t predicted = 0, left_out = 0;
        if (rq->n_repl) {
                struct shield_prediction p;
                if ((r = shield_predict(log, rq->repl, rq->n_repl, bank, &p, &pd)) < 0) {
                        shield_diag_fail(diag, r, pd.offset, pd.index, "predicting the next boot of \"%s\": %s", instance,
                                         pd.msg);
                        goto out;
                }
                out->predicted = p.pcrs;
                out->changed = p.changed;
                left_out = p.left_out;
                out->notes = p.notes;
                memset(&p.notes, 0, sizeof p.notes);
                shield_prediction_clear(&p);
        } else if ((r = shield_eventlog_replay(log, NULL, &out->predicted, NULL)) < 0) {
                shield_diag_fail(diag, r, 0, -1, "replaying the golden event log of \"%s\"", instance);
                goto out;
        }
        const struct shield_pcr_bank *b = shield_pcrs_bank_const(&out->predicted, bank);
        if (!b) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "the golden event log of \"%s\" has no %s bank",
                                     instance, shield_hash_name(bank));
                goto out;
        }
        predicted = b->present & ~left_out;
        out->mask = rq->mask;
        if (!out->mask) {
                /* PCRs the boot left without events may still be extended later by what logs elsewhere (IMA, the
                 * kernel's initrd): the default counts only those the log explains. */
                out->mask = SHIELD_CREDENTIAL_PCRS_DEFAULT & b->extended;
                /* A unified kernel image measured by systemd-stub: its kernel, command line and initrd count too. */
                if ((predicted & (1u << PCR_KERNEL_BOOT)) && (b->extended & (1u << PCR_KERNEL_BOOT)))
                        out->mask |= 1u << PCR_KERNEL_BOOT;
        }
        if ((out->mask & predicted) != out->mask) {
                unsigned first = 0;
                while (!((out->mask & ~predicted) & (1u << first)))
                        first++;
                r = shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                     "PCR %u of \"%s\" cannot be predicted%s%s", first, instance,
                                     out->notes.n ? ": " : "", out->notes.n ? out->notes.items[0].message : "");
                goto out;
        }
        out->bank = bank;
        r = 0;
out:
        shield_eventlog_free(log);
        return r;
}

static int intend_one(struct shield_store *store, const struct shield_intent_request *rq, const char *instance,
                      uint16_t bank, int method, const char *describe_json, int64_t now,
                      struct shield_intent_outcome *out, struct shield_diag *diag) {
        struct shield_instance_record inst = { .colour = -1 };
        struct shield_intent_record rec = { .created = now, .method = method, .bank = bank };
        json_t *pcrs = NULL;
        int r;

        snprintf(out->instance, sizeof out->instance, "%s", instance);
        if ((r = shield_store_instance_get(store, instance, &inst, diag)) < 0)
                return r;
        if (method == SHIELD_CREDENTIAL_IMPORT && !inst.ek_public) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                     "instance \"%s\" registered no EK: the import method seals to it", instance);
                goto out;
        }
        if ((r = predict_one(store, instance, rq, bank, out, diag)) < 0)
                goto out;
        snprintf(rec.instance, sizeof rec.instance, "%s", instance);
        rec.mask = out->mask;
        if (!(pcrs = credential_pcrs_json(&out->predicted, bank, out->mask)) ||
            !(rec.pcrs_json = json_dumps(pcrs, JSON_COMPACT | JSON_SORT_KEYS)) || !(rec.describe_json = strdup(describe_json))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if ((r = shield_store_intent_add(store, &rec, &out->revoked, diag)) < 0)
                goto out;
        out->id = rec.id;
        if (method == SHIELD_CREDENTIAL_IMPORT) {
                struct shield_seal_policy pol = { .bank = bank, .mask = out->mask, .pcrs = out->predicted };
                uint8_t policy[32];
                if ((r = shield_seal_policy_digest(&pol, policy, diag)) < 0)
                        goto out;
                r = credential_issue_sealed(store, rq->ca, instance, &rec, policy, &pol, NULL, 0, inst.ek_public,
                                            inst.ek_public_len, rq->validity, now, out->serial, diag);
        }
out:
        json_decref(pcrs);
        shield_intent_record_clear(&rec);
        shield_store_instance_record_clear(&inst);
        return r;
}

int shield_credential_intend(struct shield_store *store, const struct shield_intent_request *rq,
                             struct shield_intent_outcome **ret, struct shield_diag *diag) {
        struct shield_intent_outcome *out = NULL;
        char *desc = NULL;
        int r;

        if (!store || !rq || !ret || !rq->instances)
                return SHIELD_E_INVAL;
        if (!rq->n_instances || rq->n_instances > SHIELD_CREDENTIAL_INSTANCES_MAX)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "an intent names 1 to %d instances",
                                        SHIELD_CREDENTIAL_INSTANCES_MAX);
        int method = rq->method ? rq->method : SHIELD_CREDENTIAL_SEALING_KEY;
        if (method != SHIELD_CREDENTIAL_SEALING_KEY && method != SHIELD_CREDENTIAL_IMPORT)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "unknown credential method %d", method);
        if (method == SHIELD_CREDENTIAL_IMPORT && !rq->ca)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the import method needs the machine CA");
        if (rq->mask >> SHIELD_PCR_COUNT)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "PCRs are 0 to 23");
        uint16_t bank = rq->bank ? rq->bank : SHIELD_ALG_SHA256;
        int64_t now = rq->now ? rq->now : (int64_t)time(NULL);
        json_t *d = describe(rq);
        desc = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        if (!desc || !(out = calloc(rq->n_instances, sizeof *out))) {
                free(desc);
                return SHIELD_E_NOMEM;
        }
        if ((r = shield_store_begin(store, diag)) < 0)
                goto out;
        for (size_t i = 0; i < rq->n_instances && r >= 0; i++)
                r = intend_one(store, rq, rq->instances[i], bank, method, desc, now, &out[i], diag);
        if (r < 0)
                shield_store_rollback(store);
        else if ((r = shield_store_commit(store, diag)) >= 0) {
                *ret = out;
                out = NULL;
        }
out:
        shield_intent_outcomes_free(out, rq->n_instances);
        free(desc);
        return r < 0 ? r : 0;
}

int shield_credential_offer(struct shield_store *store, const char *instance, struct shield_credential_offer *ret,
                            bool *ret_has, struct shield_diag *diag) {
        struct shield_intent_record in = { 0 };
        bool issued = false;
        int r;

        if (!store || !ret || !ret_has)
                return SHIELD_E_INVAL;
        *ret_has = false;
        if ((r = shield_store_intent_active(store, instance, &in, diag)) == SHIELD_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return r;
        if (in.method == SHIELD_CREDENTIAL_SEALING_KEY && (r = shield_store_intent_issued(store, in.id, &issued, diag)) >= 0 &&
            !issued) {
                struct shield_credential_offer o = { .intent = in.id, .bank = in.bank, .mask = in.mask };
                if ((r = credential_intent_pcrs(&in, &o.pcrs, diag)) >= 0) {
                        *ret = o;
                        *ret_has = true;
                }
        }
        shield_intent_record_clear(&in);
        return r < 0 ? r : 0;
}
