/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence checking in a fixed order. Each step reports pass, fail, skip or
 * warn and adds its own reasons, so one report says everything that is
 * wrong rather than stopping at the first problem. The quote comes first:
 * every later check trusts the PCR values only because the quote binds
 * them to the AK and the nonce.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/attest.h"
#include "shield/crypto.h"
#include "shield/ima.h"
#include "shield/integrity.h"
#include "shield/tpm.h"

#define ERR(r, code, ...) shield_reasons_add(&(r)->reasons, code, SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX, __VA_ARGS__)
#define WARN(r, code, ...) shield_reasons_add(&(r)->reasons, code, SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX, __VA_ARGS__)

static const char *const step_names[SHIELD_STEP_COUNT] = {
        [SHIELD_STEP_QUOTE_SIGNATURE] = "quote-signature", [SHIELD_STEP_QUOTE_STRUCTURE] = "quote-structure",
        [SHIELD_STEP_NONCE] = "nonce",                     [SHIELD_STEP_PCR_DIGEST] = "pcr-digest",
        [SHIELD_STEP_COVERAGE] = "coverage",               [SHIELD_STEP_EVENTLOG] = "eventlog",
        [SHIELD_STEP_EVENT_DATA] = "event-data",           [SHIELD_STEP_IMA] = "ima",
        [SHIELD_STEP_AK] = "ak",                           [SHIELD_STEP_EK] = "ek",
        [SHIELD_STEP_POLICY] = "policy",                   [SHIELD_STEP_GOLDEN] = "golden",
};

const char *shield_step_name(enum shield_step_id id) {
        return (unsigned)id < SHIELD_STEP_COUNT ? step_names[id] : "?";
}

const struct shield_verify_step *shield_evidence_step(const struct shield_evidence_result *r, enum shield_step_id id) {
        for (size_t i = 0; r && i < r->n_steps; i++)
                if (r->steps[i].id == id)
                        return &r->steps[i];
        return NULL;
}

__attribute__((format(printf, 4, 5)))
static void step(struct shield_evidence_result *res, enum shield_step_id id, enum shield_step_status st,
                 const char *fmt, ...) {
        if (res->n_steps == SHIELD_VERIFY_STEPS_MAX)
                return;
        struct shield_verify_step *s = &res->steps[res->n_steps++];
        s->id = id;
        s->name = shield_step_name(id);
        s->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->detail, sizeof s->detail, fmt, ap);
        va_end(ap);
}

const char *shield_step_status_name(enum shield_step_status s) {
        switch (s) {
        case SHIELD_STEP_PASS: return "pass";
        case SHIELD_STEP_FAIL: return "fail";
        case SHIELD_STEP_SKIP: return "skip";
        case SHIELD_STEP_WARN: return "warn";
        }
        return "?";
}

/*
 * Append one reason, or count it as cut past SHIELD_ATTEST_REASONS_MAX: the
 * answer and what is stored stay bounded whatever the evidence holds.
 */
static int add_reason(struct shield_evidence_result *res, const struct shield_reason *x, enum shield_severity sev) {
        if (res->reasons.n >= SHIELD_ATTEST_REASONS_MAX) {
                res->reasons_cut++;
                res->errors_cut |= sev == SHIELD_SEV_ERROR;
                return 0;
        }
        return shield_reasons_add(&res->reasons, x->code, sev, x->bank, x->pcr, x->event_index, x->offset, "%s",
                                  x->message);
}

/* Append src's reasons to the result (capped). */
static int take_reasons(struct shield_evidence_result *res, const struct shield_reasons *src) {
        for (size_t i = 0; i < src->n; i++) {
                int r = add_reason(res, &src->items[i], src->items[i].severity);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The first message of a reason with this severity in rs, or fallback. */
static const char *first_message(const struct shield_reasons *rs, const char *fallback) {
        for (size_t i = 0; i < rs->n; i++)
                if (rs->items[i].severity == SHIELD_SEV_ERROR)
                        return rs->items[i].message;
        return fallback;
}

static int check_quote(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                       struct shield_evidence_result *res) {
        struct shield_reasons out = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_quote_status *st = &res->quote_status;
        if (!e->quote.attest || !e->quote.signature || !e->ak_public) {
                step(res, SHIELD_STEP_QUOTE_SIGNATURE, SHIELD_STEP_FAIL, "the evidence has no quote (or no AK public key)");
                return ERR(res, "quote-missing", "the evidence has no quote (or no AK public key): nothing binds its "
                           "PCR values to a TPM");
        }
        struct shield_quote_input in = {
                .attest = e->quote.attest, .attest_len = e->quote.attest_len,
                .signature = e->quote.signature, .signature_len = e->quote.signature_len,
                .ak_public = e->ak_public, .ak_public_len = e->ak_public_len,
                .nonce = p->nonce, .nonce_len = p->nonce_len,
                .pcrs = e->has_pcrs ? &e->pcrs : NULL,
                .status = st,
        };
        /* A verifier's cached parse of the pinned AK saves the key setup, the dearest part of a check. */
        bool cached = p->ak_key && p->ak_public && p->ak_public_len == e->ak_public_len &&
                      memcmp(p->ak_public, e->ak_public, e->ak_public_len) == 0;
        int r = cached ? shield_quote_check_with_key(p->ak_key, &in, &out, &diag) : shield_quote_check(&in, &out, &diag);
        if (r < 0 && r != SHIELD_E_VERIFY && r != SHIELD_E_NOMEM)
                *st = (struct shield_quote_status){ 0 }; /* it did not parse: nothing holds */
        else if (r == SHIELD_E_NOMEM) {
                shield_reasons_clear(&out);
                return r;
        }
        res->quote_ok = st->parsed && st->signature_ok && st->nonce_ok && st->pcrs_ok && !p->nonce_reused;
        res->has_quote_info = shield_quote_parse(e->quote.attest, e->quote.attest_len, &res->quote, NULL) == 0;

        const char *why = first_message(&out, diag.msg);
        if (!st->parsed) {
                step(res, SHIELD_STEP_QUOTE_SIGNATURE, SHIELD_STEP_SKIP, "the quote cannot be read");
                step(res, SHIELD_STEP_QUOTE_STRUCTURE, SHIELD_STEP_FAIL, "%s", why);
        } else {
                if (st->signature_ok)
                        step(res, SHIELD_STEP_QUOTE_SIGNATURE, SHIELD_STEP_PASS,
                             "the AK's signature over TPMS_ATTEST verifies");
                else
                        step(res, SHIELD_STEP_QUOTE_SIGNATURE, SHIELD_STEP_FAIL, "%s", why);
                step(res, SHIELD_STEP_QUOTE_STRUCTURE, SHIELD_STEP_PASS, "magic TPM_GENERATED_VALUE, type TPM_ST_ATTEST_QUOTE");
                if (!st->nonce_ok)
                        step(res, SHIELD_STEP_NONCE, SHIELD_STEP_FAIL, "extraData is not the nonce this verifier issued");
                else if (p->nonce_reused)
                        step(res, SHIELD_STEP_NONCE, SHIELD_STEP_FAIL, "this nonce was used before: a replayed quote");
                else
                        step(res, SHIELD_STEP_NONCE, SHIELD_STEP_PASS, "extraData equals the verifier's nonce (%zu bytes)",
                             p->nonce_len);
                if (!e->has_pcrs)
                        step(res, SHIELD_STEP_PCR_DIGEST, SHIELD_STEP_FAIL, "the evidence reports no PCR values");
                else if (!st->pcrs_ok)
                        step(res, SHIELD_STEP_PCR_DIGEST, SHIELD_STEP_FAIL,
                             "the reported PCR values do not hash to the quote's pcrDigest");
                else
                        step(res, SHIELD_STEP_PCR_DIGEST, SHIELD_STEP_PASS,
                             "the reported PCR values hash to the quote's pcrDigest");
        }
        if (p->nonce_reused && ERR(res, "nonce-replayed", "the nonce was already used by an earlier attestation") < 0) {
                shield_reasons_clear(&out);
                return SHIELD_E_NOMEM;
        }
        int t = take_reasons(res, &out);
        bool listed = out.n > 0;
        shield_reasons_clear(&out);
        if (t < 0)
                return t;
        if (!st->parsed && !listed)
                return ERR(res, "quote-malformed", "the quote cannot be read: %s (offset %zu)", diag.msg, diag.offset);
        if (!e->has_pcrs)
                return ERR(res, "pcrs-missing", "the evidence reports no PCR values");
        return 0;
}

/*
 * A quote that leaves out a PCR the integrity policy counts proves nothing
 * about it: the values reported for it are the machine's word alone. One
 * quoted bank must cover every counted PCR.
 */
static int check_coverage(const struct shield_evidence_policy *p, struct shield_evidence_result *res) {
        uint32_t need = p->integrity ? (p->integrity->early_mask | p->integrity->late_mask) : 0;
        if (!res->has_quote_info || !res->quote_status.parsed)
                return 0;
        if (!need) {
                res->covered = true;
                return 0;
        }
        uint32_t best = 0;
        for (size_t k = 0; k < res->quote.n_banks; k++) {
                uint32_t have = res->quote.masks[k] & need;
                if (have == need) {
                        res->covered = true;
                        step(res, SHIELD_STEP_COVERAGE, SHIELD_STEP_PASS, "the quote covers every PCR policy %s counts",
                             p->integrity->name);
                        return 0;
                }
                if (__builtin_popcount(have) > __builtin_popcount(best))
                        best = have;
        }
        step(res, SHIELD_STEP_COVERAGE, SHIELD_STEP_FAIL, "the quote leaves out PCRs policy %s counts (mask 0x%06x)",
             p->integrity->name, need & ~best);
        return ERR(res, "quote-pcrs-insufficient", "the quote covers fewer PCRs than integrity policy %s counts: "
                   "PCR mask 0x%06x is not quoted in any bank", p->integrity->name, need & ~best);
}

static int check_eventlog(const struct shield_evidence *e, struct shield_evidence_result *res) {
        struct shield_diag diag = { 0 };
        struct shield_pcrs replay;
        struct shield_reasons out = { 0 };

        if (!e->eventlog) {
                step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_WARN, "no firmware event log in the evidence");
                return WARN(res, "eventlog-missing", "the evidence has no firmware event log");
        }
        if (shield_eventlog_parse(e->eventlog, e->eventlog_len, &res->log, &diag) < 0) {
                res->log = NULL;
                step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_FAIL, "the event log does not parse: %s (offset %zu)",
                     diag.msg, diag.offset);
                return ERR(res, "eventlog-malformed", "the event log does not parse: %s (offset %zu)", diag.msg,
                           diag.offset);
        }
        int r = shield_eventlog_replay(res->log, NULL, &replay, NULL);
        if (r < 0) {
                step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_FAIL, "the event log cannot be replayed");
                return ERR(res, "eventlog-malformed", "the event log cannot be replayed: %s", shield_strerror(r));
        }
        /* Only the PCRs the log extends are its business (PCR 10 is IMA's, 11+ the OS's). */
        uint32_t mask = 0;
        for (size_t b = 0; b < replay.n_banks; b++)
                mask |= replay.banks[b].extended;
        res->eventlog_pcrs = mask;
        if (!e->has_pcrs) {
                step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_SKIP, "no PCR values to replay against");
        } else {
                r = shield_pcrs_compare(&replay, &e->pcrs, ~mask, &out);
                res->eventlog_ok = r == 0;
                if (r == 0)
                        step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_PASS, "the event log replays to the quoted PCRs");
                else if (out.n) /* name the first PCR that differs */
                        step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_FAIL, "%s", out.items[0].message);
                else
                        step(res, SHIELD_STEP_EVENTLOG, SHIELD_STEP_FAIL, "the event log does not replay to the quoted PCRs");
                int t = take_reasons(res, &out);
                shield_reasons_clear(&out);
                if (t < 0)
                        return t;
                if (r < 0 && r != SHIELD_E_VERIFY)
                        return r;
        }

        /*
         * Replay proves the digests, not the data beside them: an edited
         * SecureBoot event still replays. What the log's data says (Secure
         * Boot state, authorities) is believed only when every event whose
         * digest the spec defines over its data matches it.
         */
        r = shield_eventlog_check_integrity(res->log, NULL, &out);
        if (r < 0) {
                shield_reasons_clear(&out);
                return r;
        }
        size_t bad = shield_reasons_count(&out, SHIELD_SEV_ERROR);
        res->event_data_ok = bad == 0;
        if (bad)
                step(res, SHIELD_STEP_EVENT_DATA, SHIELD_STEP_FAIL, "%zu event%s' data contradict their digest: %s", bad,
                     bad == 1 ? "" : "s", first_message(&out, ""));
        else
                step(res, SHIELD_STEP_EVENT_DATA, SHIELD_STEP_PASS, "every event's data matches its digest where the "
                     "spec defines it");
        int t = take_reasons(res, &out);
        shield_reasons_clear(&out);
        if (t < 0)
                return t;
        if (res->event_data_ok && shield_eventlog_secureboot(res->log, &res->secureboot) == 0) {
                res->has_secureboot = true;
                /* The host's own SecureBoot variable against the measured one: they cannot differ on one boot. */
                if (e->secure_boot >= 0 && res->secureboot.secure_boot >= 0 &&
                    e->secure_boot != res->secureboot.secure_boot &&
                    ERR(res, "secureboot-contradiction", "the evidence says SecureBoot=%d but the event log measured "
                        "SecureBoot=%d", e->secure_boot, res->secureboot.secure_boot) < 0)
                        return SHIELD_E_NOMEM;
        }
        return 0;
}

static int check_ima(const struct shield_evidence *e, struct shield_evidence_result *res) {
        struct shield_ima_list *list = NULL;
        struct shield_diag diag = { 0 };
        struct shield_ima_options opts = { 0 };

        if (!e->ima_log || !e->has_pcrs) {
                step(res, SHIELD_STEP_IMA, SHIELD_STEP_SKIP, "no IMA list in the evidence");
                return 0;
        }
        res->ima_checked = true;
        if (shield_ima_parse(e->ima_log, e->ima_log_len, &opts, &list, &diag) < 0) {
                step(res, SHIELD_STEP_IMA, SHIELD_STEP_FAIL, "the IMA list does not parse: %s", diag.msg);
                return ERR(res, "ima-malformed", "the IMA list does not parse: %s (offset %zu)", diag.msg, diag.offset);
        }
        res->ima_ok = true;
        size_t checked = 0;
        for (size_t b = 0; b < e->pcrs.n_banks; b++) {
                const struct shield_pcr_bank *bank = &e->pcrs.banks[b];
                uint8_t value[SHIELD_HASH_MAX_SIZE];
                if (!(bank->present & (1u << 10)) || shield_ima_replay(list, 10, bank->alg, NULL, value) < 0)
                        continue;
                checked++;
                if (memcmp(value, bank->value[10], bank->size) != 0) {
                        res->ima_ok = false;
                        if (shield_reasons_add(&res->reasons, "ima-pcr-mismatch", SHIELD_SEV_ERROR, bank->alg, 10, -1,
                                               SIZE_MAX, "the IMA list does not replay to PCR 10 (%s)",
                                               shield_hash_name(bank->alg)) < 0)
                                break;
                }
        }
        shield_ima_free(list);
        if (res->ima_ok)
                step(res, SHIELD_STEP_IMA, SHIELD_STEP_PASS, "the IMA list replays to PCR 10 (%zu bank%s)", checked,
                     checked == 1 ? "" : "s");
        else
                step(res, SHIELD_STEP_IMA, SHIELD_STEP_FAIL, "the IMA list does not replay to PCR 10");
        return 0;
}

/* The same public key, whatever the two encodings (TPM2B_PUBLIC, TPMT_PUBLIC, SPKI DER or PEM). */
bool shield_ak_same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
        if (alen == blen && memcmp(a, b, alen) == 0)
                return true;
        struct shield_ak_key *ka = NULL, *kb = NULL;
        char *pa = NULL, *pb = NULL;
        bool same = shield_ak_key_new(a, alen, &ka, NULL) == 0 && shield_ak_key_new(b, blen, &kb, NULL) == 0 &&
                    shield_ak_key_pem(ka, &pa) == 0 && shield_ak_key_pem(kb, &pb) == 0 && strcmp(pa, pb) == 0;
        free(pa);
        free(pb);
        shield_ak_key_free(ka);
        shield_ak_key_free(kb);
        return same;
}

static int check_ak(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                    struct shield_evidence_result *res) {
        if (!e->ak_public) {
                step(res, SHIELD_STEP_AK, SHIELD_STEP_SKIP, "no AK in the evidence");
                return 0;
        }
        bool pinned_ok = false;
        if (p->ak_public) {
                if (!shield_ak_same_key(p->ak_public, p->ak_public_len, e->ak_public, e->ak_public_len)) {
                        step(res, SHIELD_STEP_AK, SHIELD_STEP_FAIL, "the quote is signed by another AK than the one trusted for "
                             "this machine");
                        return ERR(res, "ak-mismatch", "the evidence's AK is not the AK this verifier trusts (another "
                                   "TPM?)");
                }
                pinned_ok = true;
        }
        if (p->ca_cert) {
                struct shield_reasons out = { 0 };
                struct shield_diag diag = { 0 };
                int r = e->ak_cert ? shield_ak_cert_check(e->ak_public, e->ak_public_len, e->ak_cert, e->ak_cert_len,
                                                          p->ca_cert, p->ca_cert_len, &out, &diag)
                                   : SHIELD_E_NOT_FOUND;
                res->ak_cert_ok = r == 0;
                res->ak_trusted = r == 0;
                if (r == 0)
                        step(res, SHIELD_STEP_AK, SHIELD_STEP_PASS, "%sthe AK certificate chains to the CA and holds the AK",
                             pinned_ok ? "the AK is the trusted one; " : "");
                else
                        step(res, SHIELD_STEP_AK, SHIELD_STEP_FAIL, "%s", out.n ? out.items[0].message
                                                            : !e->ak_cert ? "the evidence has no AK certificate"
                                                                          : diag.msg);
                int t = take_reasons(res, &out);
                shield_reasons_clear(&out);
                if (t < 0)
                        return t;
                if (r == SHIELD_E_NOT_FOUND)
                        return ERR(res, "ak-cert-missing", "the evidence has no AK certificate");
                if (r < 0 && r != SHIELD_E_VERIFY && !out.n)
                        return ERR(res, "ak-cert-invalid", "the AK certificate cannot be checked: %s", diag.msg);
                return 0;
        }
        if (pinned_ok) {
                res->ak_trusted = true;
                step(res, SHIELD_STEP_AK, SHIELD_STEP_PASS, "the quote is signed by the AK trusted for this machine");
                return 0;
        }
        step(res, SHIELD_STEP_AK, SHIELD_STEP_WARN, "no trusted AK or CA given: the AK is not known to belong to this machine");
        return WARN(res, "ak-unpinned", "no trusted AK or CA given: the AK is not known to belong to this machine");
}

/* The EK certificate chains to the vendor CAs and certifies the EK the TPM reported. */
static int check_ek(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                    struct shield_evidence_result *res) {
        if (!p->ek_ca_dir)
                return 0;
        if (!e->ek_cert) {
                step(res, SHIELD_STEP_EK, SHIELD_STEP_FAIL, "the evidence has no EK certificate");
                return ERR(res, "ek-cert-missing", "the evidence has no EK certificate to chain to %s", p->ek_ca_dir);
        }
        uint8_t *spki = NULL;
        size_t spki_len = 0;
        struct shield_diag diag = { 0 };
        int r = shield_x509_chain_dir(e->ek_cert, e->ek_cert_len, p->ek_ca_dir, &spki, &spki_len, &diag);
        if (r < 0) {
                step(res, SHIELD_STEP_EK, SHIELD_STEP_FAIL, "the EK certificate %s", diag.msg);
                return r == SHIELD_E_NOMEM ? r : ERR(res, "ek-cert-untrusted", "the EK certificate %s", diag.msg);
        }
        bool match = !e->ek_public || shield_ak_same_key(spki, spki_len, e->ek_public, e->ek_public_len);
        free(spki);
        if (!match) {
                step(res, SHIELD_STEP_EK, SHIELD_STEP_FAIL, "the EK certificate is for another key than the TPM's EK");
                return ERR(res, "ek-cert-key-mismatch", "the EK certificate certifies another key than the EK the "
                           "evidence reports");
        }
        step(res, SHIELD_STEP_EK, SHIELD_STEP_PASS, "the EK certificate chains to a vendor CA%s",
             e->ek_public ? " and certifies the TPM's EK" : "");
        return 0;
}

static int check_policy(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                        struct shield_evidence_result *res) {
        const struct shield_attest_policy *o = p->owner;
        if (!o) {
                step(res, SHIELD_STEP_POLICY, SHIELD_STEP_SKIP, "no policy given");
                return 0;
        }
        size_t before = shield_reasons_count(&res->reasons, SHIELD_SEV_ERROR);
        if (o->require_secure_boot) {
                int sb = res->has_secureboot ? res->secureboot.secure_boot : e->secure_boot;
                if (sb != 1 && ERR(res, "policy-secure-boot", "the policy requires Secure Boot; the %s says %s",
                                   res->has_secureboot ? "event log" : "evidence",
                                   sb == 0 ? "it is off" : "nothing") < 0)
                        return SHIELD_E_NOMEM;
        }
        if (o->has_pcrs) {
                struct shield_reasons out = { 0 };
                int r = e->has_pcrs ? shield_pcrs_compare(&o->pcrs, &e->pcrs, 0, &out) : SHIELD_E_VERIFY;
                for (size_t i = 0; i < out.n; i++)
                        if (shield_reasons_add(&res->reasons, "policy-pcr", SHIELD_SEV_ERROR, out.items[i].bank,
                                               out.items[i].pcr, -1, SIZE_MAX, "policy: %s", out.items[i].message) < 0)
                                break;
                shield_reasons_clear(&out);
                if (r < 0 && !e->has_pcrs && ERR(res, "policy-pcr", "policy: the evidence reports no PCR values") < 0)
                        return SHIELD_E_NOMEM;
        }
        if (o->db_authority[0]) {
                bool found = false;
                for (size_t i = 0; res->has_secureboot && i < res->secureboot.n_authorities; i++)
                        found |= res->secureboot.authorities[i].has_cert &&
                                 strstr(res->secureboot.authorities[i].subject, o->db_authority) != NULL;
                if (!found && ERR(res, "policy-db-authority", "policy: no boot application was authorised by a db "
                                  "certificate matching \"%s\"", o->db_authority) < 0)
                        return SHIELD_E_NOMEM;
        }
        size_t failed = shield_reasons_count(&res->reasons, SHIELD_SEV_ERROR) - before;
        if (failed)
                step(res, SHIELD_STEP_POLICY, SHIELD_STEP_FAIL, "%zu policy requirement%s not met", failed, failed == 1 ? "" : "s");
        else
                step(res, SHIELD_STEP_POLICY, SHIELD_STEP_PASS, "every policy requirement is met");
        return 0;
}

static int check_golden(const struct shield_evidence_policy *p, struct shield_evidence_result *res) {
        if (!p->golden) {
                step(res, SHIELD_STEP_GOLDEN, SHIELD_STEP_SKIP, "no golden measurement to compare with");
                return 0;
        }
        struct shield_golden *cur = NULL;
        struct shield_diag diag = { 0 };
        struct shield_integrity_verdict v = { 0 };
        if (shield_golden_from_parts(&res->quoted, res->log, &cur, &diag) < 0) {
                step(res, SHIELD_STEP_GOLDEN, SHIELD_STEP_FAIL, "the evidence cannot be compared: %s", diag.msg);
                return ERR(res, "golden-uncomparable", "the evidence cannot be compared with the golden: %s", diag.msg);
        }
        int r = shield_integrity_compare(p->golden, cur, p->integrity, &v);
        shield_golden_free(cur);
        if (r < 0) {
                shield_integrity_verdict_clear(&v);
                return r;
        }
        res->has_colour = true;
        res->colour = v.colour;
        res->early = v.early;
        res->late = v.late;
        /* Yellow is news, not failure: keep its reasons as warnings. */
        for (size_t i = 0; i < v.reasons.n; i++) {
                struct shield_reason *x = &v.reasons.items[i];
                enum shield_severity sev = x->severity == SHIELD_SEV_ERROR && v.colour != SHIELD_RED ? SHIELD_SEV_WARNING
                                                                                                   : x->severity;
                if (add_reason(res, x, sev) < 0)
                        break;
        }
        step(res, SHIELD_STEP_GOLDEN, v.colour == SHIELD_RED ? SHIELD_STEP_FAIL : v.colour == SHIELD_YELLOW ? SHIELD_STEP_WARN
                                                                                                    : SHIELD_STEP_PASS,
             "%s (early boot %s, late boot %s)", shield_colour_name(v.colour), shield_colour_name(v.early),
             shield_colour_name(v.late));
        shield_integrity_verdict_clear(&v);
        return 0;
}

/*
 * Only quoted PCR values are vouched for: keep what the quote's selection
 * covers and say what was dropped, so no later step trusts an unquoted value.
 */
static int keep_quoted(struct shield_evidence *q, struct shield_evidence_result *res) {
        if (!q->has_pcrs)
                return 0;
        if (!res->has_quote_info) { /* no readable quote: no value is vouched for */
                q->has_pcrs = false;
                return 0;
        }
        uint32_t dropped = 0;
        for (size_t b = 0; b < q->pcrs.n_banks; b++) {
                struct shield_pcr_bank *bank = &q->pcrs.banks[b];
                uint32_t mask = 0;
                for (size_t k = 0; k < res->quote.n_banks; k++)
                        if (res->quote.banks[k] == bank->alg)
                                mask = res->quote.masks[k];
                dropped |= bank->present & ~mask;
                bank->present &= mask;
                bank->extended &= mask;
        }
        if (dropped)
                return WARN(res, "pcr-unquoted", "PCR values the quote does not cover were ignored (PCR mask 0x%06x)",
                            dropped);
        return 0;
}

int shield_evidence_check(const struct shield_evidence *e, const struct shield_evidence_policy *p,
                          struct shield_evidence_result *ret) {
        memset(ret, 0, sizeof *ret);
        int r;
        if ((r = check_quote(e, p, ret)) < 0)
                return r;
        struct shield_evidence q = *e; /* a shallow copy whose PCRs the quote covers */
        if ((r = keep_quoted(&q, ret)) < 0)
                return r;
        if (q.has_pcrs)
                ret->quoted = q.pcrs;
        if ((r = check_coverage(p, ret)) < 0 || (r = check_eventlog(&q, ret)) < 0 || (r = check_ima(&q, ret)) < 0 ||
            (r = check_ak(&q, p, ret)) < 0 || (r = check_ek(&q, p, ret)) < 0 || (r = check_policy(&q, p, ret)) < 0 ||
            (r = check_golden(p, ret)) < 0)
                return r;
        if (ret->reasons_cut && WARN(ret, "reasons-cut", "%zu more reasons were left out (at most %d are kept)",
                                     ret->reasons_cut, SHIELD_ATTEST_REASONS_MAX) < 0)
                return SHIELD_E_NOMEM;
        return shield_reasons_count(&ret->reasons, SHIELD_SEV_ERROR) || ret->errors_cut ? SHIELD_E_VERIFY : 0;
}

void shield_evidence_result_clear(struct shield_evidence_result *r) {
        if (!r)
                return;
        shield_reasons_clear(&r->reasons);
        if (r->has_secureboot)
                shield_secureboot_clear(&r->secureboot);
        shield_eventlog_free(r->log);
        memset(r, 0, sizeof *r);
}
