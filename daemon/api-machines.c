/* SPDX-License-Identifier: Apache-2.0 */
/* The machines' routes: register, activate, challenge, attest (docs/API.md, "Machines"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "shield/credential.h"
#include "shield/attest.h"
#include "shield/keys.h"
#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/integrity.h"
#include "shield/render.h"
#include "shield/tpm.h"
#include "shield/util.h"

/* ---- POST /v1/instances ---- */
/*
 * Who may register a name (docs/API.md, "Registration and trust"):
 *  - an AK certificate chaining to --ak-ca that names the instance: trusted
 *    at once (a certificate for another name needs the admin token);
 *  - an EK whose certificate chains to a manufacturer CA in --ek-ca (and
 *    certifies that EK): trusted after credential activation, which only
 *    that TPM can do for an AK it holds; with --require-enrolment it also
 *    needs the admin token, so names are the operator's to hand out;
 *  - any EK the operator enrols (the admin token on the request).
 * Anything else is refused: a software "EK" proves nothing.
 */
void h_register(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)name_unused;
        static const char *const allowed[] = { "name", "ak_public", "ek_public", "ek_certificate", "ak_certificate",
                                               "integrity_policy", NULL };
        struct shield_instance_record rec = { 0 }, old = { 0 };
        struct shield_integrity_policy ip;
        struct shield_diag diag = { 0 };
        struct shield_ak_key *key = NULL;
        uint8_t secret[SHIELDD_ACTIVATION_SECRET], *blob = NULL;
        size_t blob_len = 0;
        bool have_old = false, bad = false, in_txn = false;
        bool admin = api_is_admin(rq), name_mismatch = false, migrated = false;
        struct shield_store *s = NULL;
        json_t *j = api_body(rq, rs, allowed);
        if (!j)
                return;
        const char *name = api_str_member(j, "name", &bad);
        const char *policy = api_str_member(j, "integrity_policy", &bad);
        if (bad || !api_valid_name(name)) {
                shieldd_reply_error(rs, 400, "malformed-request",
                                    "\"name\": 1 to %d bytes without control characters or '/'", SHIELD_STORE_NAME_MAX);
                goto out;
        }
        if (policy && (strlen(policy) >= sizeof rec.integrity || shield_integrity_policy_parse(policy, &ip, &diag) < 0)) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"integrity_policy\": %s",
                                    diag.msg[0] ? diag.msg : "gce, oci, strict or a PCR list such as 0,2,4-7");
                goto out;
        }
        snprintf(rec.name, sizeof rec.name, "%s", name);
        if (policy)
                snprintf(rec.integrity, sizeof rec.integrity, "%s", policy);
        if (api_b64_member(j, "ak_public", true, SHIELD_TPM_PUBLIC_MAX, &rec.ak_public, &rec.ak_public_len, rs) < 0 ||
            api_b64_member(j, "ek_public", false, SHIELD_TPM_PUBLIC_MAX, &rec.ek_public, &rec.ek_public_len, rs) < 0 ||
            api_b64_member(j, "ek_certificate", false, SHIELD_TPM_CERT_MAX, &rec.ek_cert, &rec.ek_cert_len, rs) < 0 ||
            api_b64_member(j, "ak_certificate", false, SHIELD_TPM_CERT_MAX, &rec.ak_cert, &rec.ak_cert_len, rs) < 0)
                goto out;
        uint8_t name_buf[SHIELD_TPM_NAME_MAX];
        size_t name_len = 0;
        if (shield_ak_key_new(rec.ak_public, rec.ak_public_len, &key, &diag) < 0 ||
            strcmp(shield_ak_key_format(key), "TPM2B_PUBLIC") != 0 ||
            shield_tpm_public_name(rec.ak_public, rec.ak_public_len, name_buf, &name_len, NULL) < 0) {
                shieldd_reply_error(rs, 400, "malformed-key", "\"ak_public\" is not a TPM2B_PUBLIC the service can use%s%s",
                                    diag.msg[0] ? ": " : "", diag.msg);
                goto out;
        }
        memset(&diag, 0, sizeof diag);
        if (shield_tpm_ak_attributes_check(rec.ak_public, rec.ak_public_len, &diag) < 0) {
                shieldd_reply_error(rs, 400, "ak-not-restricted", "\"ak_public\": %s", diag.msg);
                goto out;
        }
        /* Trusted at once when the AK certificate chains to --ak-ca, certifies this AK and names this instance. */
        if (rec.ak_cert && shieldd_cfg.ak_ca) {
                struct shield_reasons why = { 0 };
                bool chains = shield_ak_cert_check(rec.ak_public, rec.ak_public_len, rec.ak_cert, rec.ak_cert_len,
                                                   shieldd_cfg.ak_ca, shieldd_cfg.ak_ca_len, &why, &diag) == 0;
                shield_reasons_clear(&why);
                /* A certificate for another name vouches for nothing here; the EK may still. */
                if (chains && !admin && shield_x509_names(rec.ak_cert, rec.ak_cert_len, name) != 0) {
                        chains = false;
                        name_mismatch = true;
                }
                rec.trusted = chains;
                rec.ak_trust = chains ? SHIELD_AK_CERTIFIED : 0;
        }
        if (!rec.trusted) {
                if (name_mismatch && (!rec.ek_public || !rec.ek_cert || !shieldd_cfg.ek_ca_dir)) {
                        shieldd_reply_error(rs, 403, "name-mismatch", "the AK certificate is issued to another name than "
                                            "\"%s\"; an operator can enrol the name (admin token)", name);
                        goto out;
                }
                if (!rec.ek_public) {
                        shieldd_reply_error(rs, 400, "malformed-request",
                                            "\"ek_public\" is required unless \"ak_certificate\" chains to the service's "
                                            "AK CA");
                        goto out;
                }
                bool ek_trusted = false;
                if (rec.ek_cert && shieldd_cfg.ek_ca_dir) {
                        uint8_t *spki = NULL;
                        size_t spki_len = 0;
                        memset(&diag, 0, sizeof diag);
                        ek_trusted = shield_x509_chain_dir(rec.ek_cert, rec.ek_cert_len, shieldd_cfg.ek_ca_dir, &spki,
                                                           &spki_len, &diag) == 0 &&
                                     shield_ak_same_key(spki, spki_len, rec.ek_public, rec.ek_public_len);
                        free(spki);
                }
                if (!admin && !ek_trusted) {
                        shieldd_reply_error(rs, 403, "ek-untrusted",
                                            "the EK is not certified by a TPM manufacturer CA this service trusts "
                                            "(--ek-ca)%s%s, and no operator enrolled it", diag.msg[0] ? ": " : "",
                                            diag.msg);
                        goto out;
                }
                if (!admin && shieldd_cfg.require_enrolment) {
                        shieldd_reply_error(rs, 403, "enrolment-required", "names are enrolled by the operator here "
                                            "(--require-enrolment): register with the admin token");
                        goto out;
                }
                if (shield_random_bytes(secret, sizeof secret) < 0) {
                        shieldd_reply_error(rs, 500, "internal", "no random bytes");
                        goto out;
                }
                memset(&diag, 0, sizeof diag);
                if (shield_credential_make(rec.ek_public, rec.ek_public_len, name_buf, name_len, secret, sizeof secret,
                                           &blob, &blob_len, &diag) < 0) {
                        shieldd_reply_error(rs, 400, "malformed-key", "\"ek_public\": %s", diag.msg);
                        goto out;
                }
                if (shield_hash(SHIELD_ALG_SHA256, secret, sizeof secret, rec.activation_hash) < 0) {
                        shieldd_reply_error(rs, 500, "internal", "hashing failed");
                        goto out;
                }
                rec.ak_trust = SHIELD_AK_REGISTERED;
        }
        rec.registered = (int64_t)time(NULL);
        rec.colour = rec.early = rec.late = -1;

        if (!(s = api_need_store(rs)))
                goto out;
        /* Look, decide and write in one transaction: two replicas racing on one name get one winner. */
        if (shield_store_begin(s, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        in_txn = true;
        int r = shield_store_instance_get(s, name, &old, &diag);
        int status = 201;
        if (r == 0) {
                have_old = true;
                if (!old.ak_public) {
                        /* A row the CLI made (golden, verdicts) without an AK: registration claims it. */
                } else if (!shield_ak_same_key(old.ak_public, old.ak_public_len, rec.ak_public, rec.ak_public_len)) {
                        if (!old.migrate_pending) {
                                shieldd_reply_error(rs, 409, "instance-exists", "%s is registered with another AK", name);
                                goto out;
                        }
                        /* The operator's migration: this registration, and only this one, brings a new TPM. */
                        if (shield_store_instance_new_identity(s, name, "migrated", &diag) < 0)
                                goto store_failed;
                        migrated = true;
                } else if (old.trusted || rec.trusted) {
                        /* Already trusted, or now with a certificate that vouches for the AK. */
                        if (!old.trusted && shield_store_instance_set_trusted(s, name, &diag) < 0)
                                goto store_failed;
                        if (shield_store_commit(s, &diag) < 0) {
                                in_txn = false;
                                goto store_failed;
                        }
                        in_txn = false;
                        shieldd_reply_json(rs, 200, json_pack("{s:s, s:b}", "name", name, "trusted", 1));
                        goto out;
                } else if (shield_store_instance_delete(s, name, &diag) < 0) {
                        /* The same untrusted AK again: a fresh credential replaces the old one (it has no history). */
                        goto store_failed;
                }
                status = migrated ? 201 : 200;
        } else if (r != SHIELD_E_NOT_FOUND) {
                goto store_failed;
        }
        r = shield_store_instance_register(s, &rec, &diag);
        if (r == SHIELD_E_INVAL) {
                shieldd_reply_error(rs, 409, "instance-exists", "%s is registered with another AK", name);
                goto out;
        }
        if (r < 0)
                goto store_failed;
        if (r == 1)
                status = 200;
        if (shield_store_commit(s, &diag) < 0) {
                in_txn = false;
                goto store_failed;
        }
        in_txn = false;
        json_t *a = json_pack("{s:s, s:b, s:s}", "name", name, "trusted", rec.trusted, "integrity_policy",
                              rec.integrity[0] ? rec.integrity : "gce");
        if (blob) {
                char *b64 = shield_base64_encode(blob, blob_len);
                json_object_set_new(a, "activation", json_pack("{s:s?}", "credential", b64));
                free(b64);
        }
        shieldd_reply_json(rs, status, a);
        shieldd_log("registered %s%s (%s)", name, migrated ? " after its migration" : "", rec.trusted ? "trusted by its AK certificate"
                                                : admin ? "enrolled by the operator, awaiting activation"
                                                        : "EK certified by its manufacturer, awaiting activation");
        goto out;
store_failed:
        api_reply_store_error(rs, &diag);
out:
        if (in_txn)
                shield_store_rollback(s);
        explicit_bzero(secret, sizeof secret);
        free(blob);
        shield_ak_key_free(key);
        shield_store_instance_record_clear(&rec);
        if (have_old)
                shield_store_instance_record_clear(&old);
        json_decref(j);
}

/* ---- POST /v1/instances/{name}/activate ---- */
void h_activate(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        static const char *const allowed[] = { "secret", NULL };
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        uint8_t *secret = NULL, h[32];
        size_t secret_len = 0;
        bool bad = false, have = false;
        json_t *j = api_body(rq, rs, allowed);
        if (!j)
                return;
        const char *hex = api_str_member(j, "secret", &bad);
        if (bad || !hex || shield_hex_decode(hex, &secret, &secret_len) < 0 || secret_len == 0 ||
            secret_len > SHIELD_HASH_MAX_SIZE) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"secret\" must be hex (what shield tpm activate printed)");
                goto out;
        }
        struct shield_store *s = api_need_store(rs);
        if (!s)
                goto out;
        if (api_get_instance(rs, s, name, &rec) < 0)
                goto out;
        have = true;
        if (rec.trusted) {
                shieldd_reply_json(rs, 200, json_pack("{s:b}", "trusted", 1));
                goto out;
        }
        if (shield_hash(SHIELD_ALG_SHA256, secret, secret_len, h) < 0 ||
            !shield_memeq_secret(h, rec.activation_hash, sizeof h)) {
                shieldd_reply_error(rs, 403, "activation-failed", "the secret is not the credential's");
                goto out;
        }
        if (shield_store_instance_set_trusted(s, name, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        shieldd_reply_json(rs, 200, json_pack("{s:b}", "trusted", 1));
        shieldd_log("activated %s", name);
out:
        if (secret) {
                explicit_bzero(secret, secret_len);
                free(secret);
        }
        explicit_bzero(h, sizeof h);
        if (have)
                shield_store_instance_record_clear(&rec);
        json_decref(j);
}

/* ---- POST /v1/challenge ---- */
void h_challenge(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)name_unused;
        static const char *const allowed[] = { "instance", NULL };
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        bool bad = false;
        json_t *j = api_body(rq, rs, allowed);
        if (!j)
                return;
        const char *name = api_str_member(j, "instance", &bad);
        if (bad || !api_valid_name(name)) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"instance\" must name a registered instance");
                goto out;
        }
        struct shield_store *s = api_need_store(rs);
        if (!s)
                goto out;
        if (api_get_instance(rs, s, name, &rec) < 0)
                goto out;
        shield_store_instance_record_clear(&rec);
        uint8_t nonce[SHIELDD_NONCE_BYTES];
        char hex[2 * SHIELDD_NONCE_BYTES + 1], when[32];
        if (shield_random_bytes(nonce, sizeof nonce) < 0) {
                shieldd_reply_error(rs, 500, "internal", "no random bytes");
                goto out;
        }
        int64_t expires = (int64_t)time(NULL) + SHIELDD_CHALLENGE_SECONDS;
        if (shield_store_challenge_add(s, name, nonce, sizeof nonce, expires, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        /* An intent waiting for this machine's sealing key: the agent makes one in this round. */
        struct shield_credential_offer offer;
        bool has_offer = false;
        if (shield_credential_offer(s, name, &offer, &has_offer, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        shield_hex_encode(nonce, sizeof nonce, hex);
        api_iso_time(expires, when);
        json_t *a = json_pack("{s:s, s:s}", "nonce", hex, "expires", when);
        if (a && has_offer)
                json_object_set_new(a, "credential_offer", shield_credential_offer_json(&offer));
        shieldd_reply_json(rs, 201, a);
out:
        json_decref(j);
}





/* ---- POST /v1/attest ---- */
/* The HTTP answer to an attestation refused outright: nothing about the instance was recorded. */
static void reply_refusal(struct shieldd_response *rs, const struct shield_attest_outcome *o) {
        const char *msg = o->check.reasons.n ? o->check.reasons.items[o->check.reasons.n - 1].message : "";
        for (size_t i = 0; i < o->check.reasons.n; i++)
                if (strcmp(o->check.reasons.items[i].code, shield_attest_refusal_code(o->refusal)) == 0)
                        msg = o->check.reasons.items[i].message;
        switch (o->refusal) {
        case SHIELD_REFUSED_INSTANCE_UNKNOWN:
                shieldd_reply_error(rs, 404, "instance-unknown", "%s", msg);
                return;
        case SHIELD_REFUSED_NONCE:
        case SHIELD_REFUSED_INSTANCE_UNTRUSTED:
        case SHIELD_REFUSED_AK_MISMATCH:
                shieldd_reply_error(rs, 403, shield_attest_refusal_code(o->refusal), "%s", msg);
                return;
        default: {
                /* Unauthenticated evidence: say which step failed, record nothing. */
                json_t *j = json_pack("{s:s, s:s, s:o, s:o}", "error", "unauthenticated", "message",
                                      "the quote does not verify under the instance's AK: nothing was recorded",
                                      "steps", shield_steps_json(&o->check), "reasons",
                                      shield_reasons_json(&o->check.reasons));
                shieldd_reply_json(rs, 422, j);
                rs->reason = "unauthenticated";
                return;
        }
        }
}

/* The token's claims for a verified attestation (docs/API.md, "Tokens"). */
static char *token_claims(const char *name, const char *audience, int64_t now, const struct shield_attest_outcome *o) {
        const struct shield_evidence_result *c = &o->check;
        char nonce_hex[2 * sizeof c->quote.extra_data + 1], digest_hex[2 * SHIELD_HASH_MAX_SIZE + 1];
        shield_hex_encode(c->quote.extra_data, c->has_quote_info ? c->quote.extra_data_len : 0, nonce_hex);
        shield_hex_encode(c->quote.pcr_digest, c->has_quote_info ? c->quote.pcr_digest_len : 0, digest_hex);
        /* The pipeline believes the log's Secure Boot state only when its event data matched the digests. */
        bool secboot = c->has_secureboot && c->secureboot.secure_boot == 1;
        bool debug = false;
        for (size_t i = 0; c->has_secureboot && i < c->secureboot.findings.n; i++)
                debug |= strcmp(c->secureboot.findings.items[i].code, "uefi-debugger") == 0;
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s}",
                              "iss", shieldd_cfg.issuer, "sub", name, "aud", audience, "iat", (json_int_t)now, "nbf",
                              (json_int_t)now, "exp", (json_int_t)(now + SHIELDD_TOKEN_SECONDS), "eat_nonce", nonce_hex,
                              "secboot", secboot, "hwmodel", "TPM", "swname", "UNKNOWN", "dbgstat",
                              debug ? "enabled" : "disabled-since-boot", "shield_colour",
                              o->has_colour ? shield_colour_name(o->colour) : NULL, "early_boot",
                              o->has_colour ? shield_colour_name(o->early) : NULL, "late_boot",
                              o->has_colour ? shield_colour_name(o->late) : NULL, "pcr_digest", digest_hex, "policy", o->integrity.name,
                              "ak_trust", shield_ak_trust_name(o->ak_trust));
        /* The machine credential the instance holds now: relying parties check it is not revoked (docs/CREDENTIALS.md). */
        if (j && o->credential.has_current) {
                const struct shield_credential_record *cr = &o->credential.current;
                json_object_set_new(j, "credential", json_pack("{s:s, s:I, s:s, s:I}", "serial", cr->serial, "intent",
                                                               (json_int_t)cr->intent, "method",
                                                               shield_credential_method_name(cr->method), "not_after",
                                                               (json_int_t)cr->not_after));
        }
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        return text;
}

static enum shieldd_verdict metric_of(const struct shield_attest_outcome *o) {
        if (!o->has_colour)
                return o->verified ? SHIELDD_V_GREEN : SHIELDD_V_FAILED;
        return o->colour == SHIELD_GREEN ? SHIELDD_V_GREEN : o->colour == SHIELD_YELLOW ? SHIELDD_V_YELLOW : SHIELDD_V_RED;
}

void h_attest(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)name_unused;
        static const char *const allowed[] = { "instance", "audience", "evidence", NULL };
        double t0 = api_now_seconds();
        struct shield_evidence ev = { 0 };
        struct shield_attest_outcome out = { 0 };
        struct shield_diag diag = { 0 };
        char *ev_text = NULL, *token = NULL, *claims = NULL;
        bool have_ev = false, bad = false, counted = false;
        json_t *j = api_body(rq, rs, allowed);
        if (!j)
                return;
        const char *name = api_str_member(j, "instance", &bad);
        const char *audience = api_str_member(j, "audience", &bad);
        json_t *evj = json_object_get(j, "evidence");
        if (bad || !api_valid_name(name) || !json_is_object(evj) || (audience && strlen(audience) > 256)) {
                shieldd_reply_error(rs, 400, "malformed-request",
                                    "expected {\"instance\": NAME, \"audience\": optional string, \"evidence\": {…}}");
                goto out;
        }
        if (!audience)
                audience = "shieldkit";
        if (!(ev_text = json_dumps(evj, JSON_COMPACT))) {
                shieldd_reply_error(rs, 500, "internal", "out of memory");
                goto out;
        }
        size_t ev_len = strlen(ev_text);
        if (shield_evidence_parse_json(ev_text, ev_len, &ev, &diag) < 0) {
                shieldd_reply_error(rs, 400, "malformed-evidence", "evidence: %s", diag.msg);
                goto out;
        }
        have_ev = true;
        struct shield_store *s = api_need_store(rs);
        if (!s)
                goto out;
        /* The registered AK is what the cache is keyed on; the pipeline uses it only when the bytes match. */
        struct shield_attest_options opts = {
                .nonce_mode = SHIELD_NONCE_ISSUED, .require_registered = true, .ek_ca_dir = NULL,
                .ak_key = ev.ak_public ? shieldd_ak_key_cached(ev.ak_public, ev.ak_public_len) : NULL,
                .now = (int64_t)time(NULL), .machine_ca = shieldd_cfg.machine_ca,
                .credential_validity = shieldd_cfg.credential_validity,
        };
        int r = shield_attest_run(s, name, &ev, &opts, &out, &diag);
        if (r < 0 && r != SHIELD_E_VERIFY) {
                if (r == SHIELD_E_SYSTEM)
                        api_reply_store_error(rs, &diag);
                else
                        shieldd_reply_error(rs, 500, "internal", "checking the evidence: %s", shield_strerror(r));
                goto out;
        }
        if (!out.recorded) {
                reply_refusal(rs, &out);
                goto out;
        }
        if (out.has_colour && out.previous_colour != (int)out.colour)
                shieldd_webhook_colour_change(name, out.previous_colour >= 0 ? shield_colour_name(out.previous_colour)
                                                                             : NULL,
                                              shield_colour_name(out.colour), opts.now);
        json_t *a = shield_attest_outcome_json(&out);
        json_object_set_new(a, "instance", json_string(name));
        if (out.credential.has_current) {
                struct shield_intent_record in = { 0 };
                bool have_in = shield_store_intent_active(s, name, &in, &diag) == 0;
                json_object_set_new(a, "credential", shield_credential_json(&out.credential.current, have_in ? &in : NULL,
                                                                            true));
                shield_intent_record_clear(&in);
                memset(&diag, 0, sizeof diag);
        }
        if (out.credential.refusal.n)
                json_object_set_new(a, "credential_refused", shield_reasons_json(&out.credential.refusal));
        if (out.verified) {
                memset(&diag, 0, sizeof diag);
                claims = token_claims(name, audience, opts.now, &out);
                if (!claims || shieldd_token_sign(s, claims, &token, &diag) < 0) {
                        /* The verdict is stored; the client may attest again for a token. */
                        shieldd_log("%s: cannot sign a token: %s", name, diag.msg);
                        json_decref(a);
                        shieldd_reply_error(rs, 500, "token-error", "the attestation passed and is recorded, but no "
                                            "token could be signed");
                        goto out;
                }
                json_object_set_new(a, "token", json_string(token));
        }
        shieldd_metrics_attestation(metric_of(&out), api_now_seconds() - t0);
        counted = true;
        shieldd_reply_json(rs, 200, a);
out:
        if (!counted && rs->status >= 400)
                shieldd_metrics_attestation(SHIELDD_V_FAILED, api_now_seconds() - t0);
        if (token) {
                explicit_bzero(token, strlen(token));
                free(token);
        }
        free(claims);
        free(ev_text);
        shield_attest_outcome_clear(&out);
        if (have_ev)
                shield_evidence_free(&ev);
        json_decref(j);
}
