/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one attestation pipeline (shield/attest.h): freshness, AK trust, the
 * ordered checks, the golden comparison and the record, in one store
 * transaction. `shield verify`, `shield vm run` and shieldd's POST
 * /v1/attest all come here; they only parse input and render the outcome.
 *
 * The rule that keeps attackers out of the records: only evidence whose
 * quote verified under a trusted AK, over a fresh nonce, may change an
 * instance's colour, status, golden or history. Anything else is refused
 * with the nonce spent and nothing else written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shield/attest.h"
#include "shield/crypto.h"
#include "shield/integrity.h"
#include "shield/render.h"
#include "shield/store.h"
#include "shield/util.h"

const char *shield_ak_trust_name(enum shield_ak_trust t) {
        switch (t) {
        case SHIELD_AK_UNTRUSTED: return "untrusted";
        case SHIELD_AK_PINNED: return "pinned";
        case SHIELD_AK_STORED: return "stored";
        case SHIELD_AK_REGISTERED: return "registered";
        case SHIELD_AK_CERTIFIED: return "certified";
        }
        return "untrusted";
}

const char *shield_clock_class_name(enum shield_clock_class c) {
        switch (c) {
        case SHIELD_CLOCK_UNKNOWN: return "unknown";
        case SHIELD_CLOCK_FIRST: return "first";
        case SHIELD_CLOCK_SAME_BOOT: return "same-boot";
        case SHIELD_CLOCK_REBOOTED: return "rebooted";
        case SHIELD_CLOCK_RESUMED: return "resumed";
        case SHIELD_CLOCK_WENT_BACK: return "went-back";
        }
        return "unknown";
}

const char *shield_attest_refusal_code(enum shield_attest_refusal r) {
        switch (r) {
        case SHIELD_REFUSED_NONE: return "";
        case SHIELD_REFUSED_INSTANCE_UNKNOWN: return "instance-unknown";
        case SHIELD_REFUSED_INSTANCE_UNTRUSTED: return "instance-untrusted";
        case SHIELD_REFUSED_NONCE: return "nonce-unknown";
        case SHIELD_REFUSED_AK_MISMATCH: return "ak-mismatch";
        case SHIELD_REFUSED_UNAUTHENTICATED: return "unauthenticated";
        }
        return "";
}

void shield_attest_outcome_clear(struct shield_attest_outcome *o) {
        if (!o)
                return;
        shield_evidence_result_clear(&o->check);
        shield_credential_result_clear(&o->credential);
        memset(o, 0, sizeof *o);
        o->previous_colour = -1;
}

static enum shield_clock_class classify_clock(const struct shield_store_clock *now, const struct shield_store_clock *prev) {
        if (now->reset_count < prev->reset_count || (now->reset_count == prev->reset_count && now->clock < prev->clock))
                return SHIELD_CLOCK_WENT_BACK;
        if (now->reset_count > prev->reset_count)
                return SHIELD_CLOCK_REBOOTED;
        if (now->restart_count != prev->restart_count)
                return SHIELD_CLOCK_RESUMED;
        return SHIELD_CLOCK_SAME_BOOT;
}

/* Refuse outright: a reason for people, the typed refusal for code. */
__attribute__((format(printf, 3, 4)))
static int refuse(struct shield_attest_outcome *ret, enum shield_attest_refusal why, const char *fmt, ...) {
        char msg[SHIELD_REASON_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        ret->refusal = why;
        ret->verified = false;
        if (shield_reasons_add(&ret->check.reasons, shield_attest_refusal_code(why), SHIELD_SEV_ERROR, 0, -1, -1,
                               SIZE_MAX, "%s", msg) < 0)
                return SHIELD_E_NOMEM;
        return SHIELD_E_VERIFY;
}

/*
 * Why this attestation may not become the golden measurement, or NULL when
 * it may: only quoted values covering what the policy counts, with an event
 * log that replays to them and whose data matches its digests.
 */
static const char *golden_refusal(const struct shield_evidence_result *c) {
        if (!c->log)
                return "no golden measurement recorded: the evidence has no event log to record it from";
        if (!c->covered)
                return "no golden measurement recorded: the quote does not cover every PCR the policy counts";
        if (!c->eventlog_ok)
                return "no golden measurement recorded: the event log does not replay to the quoted PCRs";
        if (!c->event_data_ok)
                return "no golden measurement recorded: event data contradicts its digests";
        if (c->quoted.n_banks == 0)
                return "no golden measurement recorded: no quoted PCR values";
        return NULL;
}

/* The pure checks, with no store: nothing recorded. */
static int run_pure(const struct shield_evidence *e, const struct shield_attest_options *o,
                    struct shield_attest_outcome *ret) {
        const struct shield_integrity_policy *ip = o->integrity ? o->integrity : &ret->integrity;
        struct shield_evidence_policy pol = {
                .nonce = o->nonce, .nonce_len = o->nonce_len, .ca_cert = o->ak_ca, .ca_cert_len = o->ak_ca_len,
                .ak_public = o->ak_public, .ak_public_len = o->ak_public_len, .ak_key = o->ak_key,
                .ek_ca_dir = o->ek_ca_dir, .owner = o->owner, .golden = o->golden, .integrity = ip,
        };
        if (o->integrity)
                ret->integrity = *o->integrity;
        int v = shield_evidence_check(e, &pol, &ret->check);
        if (v < 0 && v != SHIELD_E_VERIFY)
                return v;
        ret->ak_trust = !ret->check.ak_trusted ? SHIELD_AK_UNTRUSTED : o->ak_public ? SHIELD_AK_PINNED
                                                                                      : SHIELD_AK_CERTIFIED;
        ret->authenticated = ret->check.quote_ok && ret->check.ak_trusted;
        ret->verified = v == 0;
        if (ret->check.has_colour) {
                ret->has_colour = true;
                ret->colour = ret->check.colour;
                ret->early = ret->check.early;
                ret->late = ret->check.late;
        }
        if (!ret->authenticated)
                ret->refusal = SHIELD_REFUSED_UNAUTHENTICATED;
        return ret->verified ? 0 : SHIELD_E_VERIFY;
}

/* The evidence's PCR values the quote covers, as PCRS.json, and the reasons, for the instance's row. */
static int record_status(struct shield_store *s, const char *instance, int64_t now,
                         const struct shield_attest_outcome *ret, struct shield_diag *diag) {
        char *pcrs = ret->check.quoted.n_banks ? shield_pcrs_to_json(&ret->check.quoted) : NULL;
        json_t *reasons = shield_reasons_json(&ret->check.reasons);
        char *reasons_text = reasons ? json_dumps(reasons, JSON_COMPACT) : NULL;
        json_decref(reasons);
        int r = SHIELD_E_NOMEM;
        if (reasons_text && (pcrs || !ret->check.quoted.n_banks))
                r = shield_store_instance_status(s, instance, now, ret->verified, ret->has_colour ? (int)ret->colour : -1,
                                                 ret->has_colour ? (int)ret->early : -1,
                                                 ret->has_colour ? (int)ret->late : -1, pcrs, reasons_text, diag);
        free(pcrs);
        free(reasons_text);
        return r;
}

static void evidence_digest(const struct shield_evidence *e, const struct shield_attest_options *o, char out[65]) {
        out[0] = '\0';
        if (o->evidence_sha256 && strlen(o->evidence_sha256) == 64) {
                memcpy(out, o->evidence_sha256, 65);
                return;
        }
        char *text = NULL;
        uint8_t d[32];
        if (shield_evidence_to_json(e, &text) == 0 && shield_hash(SHIELD_ALG_SHA256, text, strlen(text), d) == 0)
                shield_hex_encode(d, sizeof d, out);
        free(text);
}

/* Step 6: issue for the sealing key the evidence brings (only to a verified boot), and report the current credential. */
static int credential_step(struct shield_store *store, const char *instance, const struct shield_evidence *e,
                           const struct shield_evidence *ev, const uint8_t *nonce, size_t nonce_len,
                           const struct shield_attest_options *o, int64_t now, struct shield_attest_outcome *ret,
                           struct shield_diag *diag) {
        const struct shield_evidence_sealing *k = &e->sealing;
        struct shield_sealing_request req = {
                .intent = k->intent, .key_public = k->key_public, .key_public_len = k->key_public_len,
                .certify_attest = k->certify_attest, .certify_attest_len = k->certify_attest_len,
                .certify_signature = k->certify_signature, .certify_signature_len = k->certify_signature_len,
                .epoch_nv_public = k->epoch_nv_public, .epoch_nv_public_len = k->epoch_nv_public_len, .epoch = k->epoch,
        };
        bool asks = k->intent > 0;
        int r = shield_credential_issue(store, o->machine_ca, instance, ev->ak_public, ev->ak_public_len, nonce, nonce_len,
                                        asks && ret->verified ? &req : NULL, o->credential_validity, now, &ret->credential,
                                        diag);
        if (r < 0)
                return r;
        if (asks && !ret->verified) {
                ret->credential.attempted = true;
                return shield_reasons_add(&ret->credential.refusal, "credential-not-verified", SHIELD_SEV_ERROR, 0, -1, -1,
                                          SIZE_MAX, "no credential for a boot that did not verify");
        }
        return 0;
}

int shield_attest_run(struct shield_store *store, const char *instance, const struct shield_evidence *e,
                      const struct shield_attest_options *o, struct shield_attest_outcome *ret,
                      struct shield_diag *diag) {
        struct shield_instance_record rec = { .colour = -1, .early = -1, .late = -1 };
        struct shield_golden *golden = NULL;
        struct shield_evidence ev;
        struct shield_quote_info qi;
        struct shield_diag local = { 0 };
        bool have_rec = false, in_txn = false, nonce_reused = false;
        int r;

        if (!ret)
                return SHIELD_E_INVAL;
        memset(ret, 0, sizeof *ret);
        ret->previous_colour = -1;
        if (!e || !o || (store && !instance) || (o->nonce_mode == SHIELD_NONCE_GIVEN && (!o->nonce || !o->nonce_len)))
                return SHIELD_E_INVAL;
        if (!diag)
                diag = &local;
        int64_t now = o->now ? o->now : (int64_t)time(NULL);
        evidence_digest(e, o, ret->evidence_sha256);
        if ((r = shield_integrity_policy_parse(NULL, &ret->integrity, diag)) < 0)
                return r;
        if (!store)
                return run_pure(e, o, ret);

        ev = *e; /* shallow: only the AK pointer may change below, to the registered one */
        if ((r = shield_store_begin(store, diag)) < 0)
                return r;
        in_txn = true;

        /* 1. The instance, as the store knows it. */
        r = shield_store_instance_get(store, instance, &rec, diag);
        if (r == 0)
                have_rec = true;
        else if (r != SHIELD_E_NOT_FOUND)
                goto fail;
        if (have_rec)
                ret->previous_colour = rec.colour;
        if (o->require_registered && (!have_rec || !rec.ak_public || !rec.registered)) {
                r = refuse(ret, SHIELD_REFUSED_INSTANCE_UNKNOWN, "no instance of that name is registered");
                goto done;
        }

        /* 2. Freshness: the nonce is spent whatever the outcome, one winner across replicas. */
        const uint8_t *nonce = o->nonce;
        size_t nonce_len = o->nonce_len;
        if (o->nonce_mode == SHIELD_NONCE_ISSUED) {
                if (!e->quote.attest || shield_quote_parse(e->quote.attest, e->quote.attest_len, &qi, NULL) < 0 ||
                    qi.extra_data_len == 0) {
                        r = refuse(ret, SHIELD_REFUSED_UNAUTHENTICATED, "the evidence has no readable quote answering a "
                                   "nonce");
                        goto done;
                }
                r = shield_store_challenge_take(store, instance, qi.extra_data, qi.extra_data_len, now, diag);
                if (r == SHIELD_E_VERIFY) {
                        r = refuse(ret, SHIELD_REFUSED_NONCE, "the quote answers no nonce this service issued to %s "
                                   "(never issued, expired or already used)", instance);
                        goto done;
                }
                if (r < 0)
                        goto fail;
                nonce = qi.extra_data;
                nonce_len = qi.extra_data_len;
        } else {
                r = shield_store_nonce_use(store, nonce, nonce_len, now, diag);
                if (r == SHIELD_E_VERIFY)
                        nonce_reused = true;
                else if (r < 0)
                        goto fail;
        }

        /* 3. Which AK is this machine's. */
        const uint8_t *pin = NULL;
        size_t pin_len = 0;
        enum shield_ak_trust pin_trust = SHIELD_AK_UNTRUSTED;
        if (o->require_registered) {
                if (!rec.trusted) {
                        r = refuse(ret, SHIELD_REFUSED_INSTANCE_UNTRUSTED, "%s is registered but not activated with a "
                                   "trusted EK", instance);
                        goto done;
                }
                pin = rec.ak_public;
                pin_len = rec.ak_public_len;
                pin_trust = rec.ak_trust == SHIELD_AK_CERTIFIED ? SHIELD_AK_CERTIFIED : SHIELD_AK_REGISTERED;
        } else if (have_rec && rec.ak_public) {
                pin = rec.ak_public;
                pin_len = rec.ak_public_len;
                pin_trust = SHIELD_AK_STORED;
                if (o->ak_public && !shield_ak_same_key(o->ak_public, o->ak_public_len, pin, pin_len)) {
                        r = refuse(ret, SHIELD_REFUSED_AK_MISMATCH, "the AK given is not the AK the store holds for %s",
                                   instance);
                        goto done;
                }
        } else if (o->ak_public) {
                pin = o->ak_public;
                pin_len = o->ak_public_len;
                pin_trust = SHIELD_AK_PINNED;
        }
        if (pin && ev.ak_public && !shield_ak_same_key(ev.ak_public, ev.ak_public_len, pin, pin_len)) {
                r = refuse(ret, SHIELD_REFUSED_AK_MISMATCH, "the evidence's AK is not the one trusted for %s", instance);
                goto done;
        }
        if (pin && !ev.ak_public) { /* evidence without its AK is checked with the trusted one */
                ev.ak_public = (uint8_t *)pin;
                ev.ak_public_len = pin_len;
        }

        /* 4. The checks, under the instance's policy and against its golden. */
        if (o->integrity)
                ret->integrity = *o->integrity;
        else if (have_rec && rec.integrity[0] && (r = shield_integrity_policy_parse(rec.integrity, &ret->integrity, diag)) < 0)
                goto fail;
        const struct shield_golden *compare_with = o->golden;
        if (!compare_with) {
                r = shield_store_golden_get(store, instance, &golden, diag);
                if (r < 0 && r != SHIELD_E_NOT_FOUND)
                        goto fail;
                compare_with = golden;
        }
        struct shield_evidence_policy pol = {
                .nonce = nonce, .nonce_len = nonce_len, .ca_cert = pin ? NULL : o->ak_ca,
                .ca_cert_len = pin ? 0 : o->ak_ca_len, .ak_public = pin, .ak_public_len = pin_len,
                .ak_key = o->ak_key, .nonce_reused = nonce_reused, .ek_ca_dir = o->ek_ca_dir, .owner = o->owner,
                .golden = compare_with, .integrity = &ret->integrity,
        };
        int v = shield_evidence_check(&ev, &pol, &ret->check);
        if (v < 0 && v != SHIELD_E_VERIFY) {
                r = v;
                goto fail;
        }
        /* A platform CA vouches for a name: its certificate must name this instance. */
        if (!pin && ret->check.ak_trusted && shield_x509_names(ev.ak_cert, ev.ak_cert_len, instance) != 0) {
                ret->check.ak_trusted = false;
                if ((r = shield_reasons_add(&ret->check.reasons, "ak-cert-name-mismatch", SHIELD_SEV_ERROR, 0, -1, -1,
                                            SIZE_MAX, "the AK certificate is not issued to \"%s\"", instance)) < 0)
                        goto fail;
                v = SHIELD_E_VERIFY;
        }
        ret->ak_trust = !ret->check.ak_trusted ? SHIELD_AK_UNTRUSTED : pin ? pin_trust : SHIELD_AK_CERTIFIED;
        ret->authenticated = ret->check.quote_ok && ret->check.ak_trusted;
        ret->verified = v == 0 && ret->authenticated;
        if (!ret->authenticated) {
                ret->refusal = SHIELD_REFUSED_UNAUTHENTICATED;
                r = SHIELD_E_VERIFY;
                goto done;
        }

        /* 5. Record: the golden on the first verified boot, the colour, the clock, the verdict, the status. */
        if (ret->check.has_colour) {
                ret->has_colour = true;
                ret->colour = ret->check.colour;
                ret->early = ret->check.early;
                ret->late = ret->check.late;
        } else if (ret->verified && !compare_with) {
                const char *why = golden_refusal(&ret->check);
                if (why) {
                        snprintf(ret->golden_note, sizeof ret->golden_note, "%s", why);
                } else {
                        struct shield_golden *g = NULL;
                        if ((r = shield_golden_from_parts(&ret->check.quoted, ret->check.log, &g, diag)) < 0)
                                goto fail;
                        r = shield_store_golden_set(store, instance, g, diag);
                        shield_golden_free(g);
                        /* Its own event log too: intents are predicted from it (shield/credential.h). */
                        if (r >= 0 && e->eventlog_len <= SHIELD_STORE_EVENTLOG_MAX)
                                r = shield_store_golden_eventlog_set(store, instance, e->eventlog, e->eventlog_len, diag);
                        if (r < 0)
                                goto fail;
                        ret->golden_recorded = true;
                        ret->has_colour = true;
                        ret->colour = ret->early = ret->late = SHIELD_GREEN;
                        if (have_rec && rec.golden_reason[0]) {
                                bool migrated = strcmp(rec.golden_reason, "migrated") == 0;
                                snprintf(ret->golden_note, sizeof ret->golden_note,
                                         "a new golden measurement: %s", migrated
                                                 ? "the instance migrated to new hardware (a new vTPM)"
                                                 : "the instance has a new vTPM (re-created)");
                                if ((r = shield_reasons_add(&ret->check.reasons,
                                                            migrated ? "golden-migrated" : "golden-new-vtpm",
                                                            SHIELD_SEV_INFO, 0, -1, -1, SIZE_MAX, "%s",
                                                            ret->golden_note)) < 0)
                                        goto fail;
                        }
                }
        } else if (!ret->verified) {
                /* Authenticated but failing (a log that does not replay, a policy not met): red. */
                ret->has_colour = true;
                ret->colour = ret->early = ret->late = SHIELD_RED;
        }
        if (ret->check.has_quote_info) {
                struct shield_store_clock nowc = { ret->check.quote.reset_count, ret->check.quote.restart_count,
                                                   ret->check.quote.clock }, prev;
                bool had = false;
                if ((r = shield_store_instance_clock(store, instance, &nowc, &prev, &had, diag)) < 0)
                        goto fail;
                ret->clock = had ? classify_clock(&nowc, &prev) : SHIELD_CLOCK_FIRST;
                ret->prev_reset_count = prev.reset_count;
                ret->prev_restart_count = prev.restart_count;
        }
        if (!o->require_registered && !(have_rec && rec.ak_public) && ev.ak_public &&
            (r = shield_store_instance_set_ak(store, instance, ev.ak_public, ev.ak_public_len, diag)) < 0)
                goto fail;
        if (ret->has_colour) {
                struct shield_integrity_verdict verdict = { .colour = ret->colour, .early = ret->early,
                                                            .late = ret->late, .reasons = ret->check.reasons };
                if ((r = shield_store_verdict_add(store, instance, now, &verdict, ret->evidence_sha256, diag)) < 0)
                        goto fail;
        }
        if ((r = record_status(store, instance, now, ret, diag)) < 0)
                goto fail;
        /* 6. Credentials (a service with a machine CA): a verified boot may bring a sealing key for an intent. */
        if (o->machine_ca && (r = credential_step(store, instance, e, &ev, nonce, nonce_len, o, now, ret, diag)) < 0)
                goto fail;
        r = ret->verified ? 0 : SHIELD_E_VERIFY;
done:
        /* Commit what was done: the spent nonce on a refusal, everything on a record. */
        in_txn = false;
        {
                int c = shield_store_commit(store, diag);
                if (c < 0) {
                        ret->recorded = false;
                        r = c;
                        goto out;
                }
        }
        ret->recorded = ret->authenticated;
        goto out;
fail:
        if (in_txn)
                shield_store_rollback(store);
        ret->recorded = false;
        if (r == SHIELD_E_NOT_FOUND || r == SHIELD_E_VERIFY)
                r = SHIELD_E_SYSTEM;
out:
        shield_golden_free(golden);
        shield_store_instance_record_clear(&rec);
        return r;
}
