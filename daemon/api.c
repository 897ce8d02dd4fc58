/* SPDX-License-Identifier: Apache-2.0 */
/* The REST API of docs/API.md: routing, and one handler per call. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "shield/attest.h"
#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/integrity.h"
#include "shield/keys.h"
#include "shield/render.h"
#include "shield/tpm.h"
#include "shield/util.h"
#include "shieldd.h"

#define JSON_TYPE "application/json"

void shieldd_reply_json(struct shieldd_response *rs, int status, json_t *j) {
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(j);
        free(rs->body);
        rs->body_static = false;
        if (!text) {
                static char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
                rs->status = 500;
                rs->body = oom;
                rs->body_static = true;
                rs->len = sizeof oom - 1;
                rs->reason = "out-of-memory";
        } else {
                rs->status = status;
                rs->body = text;
                rs->len = strlen(text);
        }
        rs->content_type = JSON_TYPE;
}

void shieldd_reply_error(struct shieldd_response *rs, int status, const char *code, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        shieldd_reply_json(rs, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
        if (rs->status == status)
                rs->reason = code;
}

static void reply_store_error(struct shieldd_response *rs, const struct shield_diag *diag) {
        shieldd_metrics_store_error();
        shieldd_log("store: %s", diag && diag->msg[0] ? diag->msg : "failed");
        shieldd_reply_error(rs, 500, "store-error", "the store failed; see the service log");
}

static struct shield_store *need_store(struct shieldd_response *rs) {
        struct shield_store *s = shieldd_store();
        if (!s)
                shieldd_reply_error(rs, 503, "store-unavailable", "the store cannot be opened; see the service log");
        return s;
}

static json_t *parse_body(const struct shieldd_request *rq, struct shieldd_response *rs) {
        json_error_t err;
        json_t *j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &err);
        if (!j) {
                shieldd_reply_error(rs, 400, "malformed-json", "the body is not JSON: %s (offset %d)", err.text,
                                    err.position);
                return NULL;
        }
        if (!json_is_object(j)) {
                json_decref(j);
                shieldd_reply_error(rs, 400, "malformed-json", "the body must be a JSON object");
                return NULL;
        }
        return j;
}

/* A string member; NULL when absent. *bad set when present but not a string. */
static const char *str_member(json_t *o, const char *key, bool *bad) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return NULL;
        if (!json_is_string(v)) {
                *bad = true;
                return NULL;
        }
        return json_string_value(v);
}

static bool unknown_keys(json_t *o, const char *const *allowed, struct shieldd_response *rs) {
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) {
                bool ok = false;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = strcmp(k, allowed[i]) == 0;
                if (!ok) {
                        shieldd_reply_error(rs, 400, "unknown-field", "unknown field \"%.64s\"", k);
                        return true;
                }
        }
        return false;
}

/* One name rule for the whole system (shield/util.h). */
static bool valid_name(const char *name) {
        return name && shield_name_valid(name);
}

static int b64_member(json_t *o, const char *key, bool required, size_t max, uint8_t **ret, size_t *ret_len,
                      struct shieldd_response *rs) {
        bool bad = false;
        const char *s = str_member(o, key, &bad);
        *ret = NULL;
        *ret_len = 0;
        if (bad || (!s && required)) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"%s\" must be a base64 string", key);
                return -1;
        }
        if (!s)
                return 0;
        if (shield_base64_decode(s, strlen(s), ret, ret_len) < 0 || *ret_len == 0 || *ret_len > max) {
                free(*ret);
                *ret = NULL;
                shieldd_reply_error(rs, 400, "malformed-request", "\"%s\" is not base64 of 1 to %zu bytes", key, max);
                return -1;
        }
        return 0;
}

static void iso_time(int64_t t, char out[32]) {
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool is_admin(const struct shieldd_request *rq) {
        static const char prefix[] = "Bearer ";
        if (!rq->authorization || strncmp(rq->authorization, prefix, sizeof prefix - 1) != 0)
                return false;
        const char *tok = rq->authorization + sizeof prefix - 1;
        uint8_t h[32];
        if (!*tok || shield_hash(SHIELD_ALG_SHA256, tok, strlen(tok), h) < 0)
                return false;
        bool ok = shield_memeq_secret(h, shieldd_admin_hash, sizeof h);
        explicit_bzero(h, sizeof h);
        return ok;
}


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
static void h_register(const struct shieldd_request *rq, struct shieldd_response *rs) {
        static const char *const allowed[] = { "name", "ak_public", "ek_public", "ek_certificate", "ak_certificate",
                                               "integrity_policy", NULL };
        struct shield_instance_record rec = { 0 }, old = { 0 };
        struct shield_integrity_policy ip;
        struct shield_diag diag = { 0 };
        struct shield_ak_key *key = NULL;
        uint8_t secret[SHIELDD_ACTIVATION_SECRET], *blob = NULL;
        size_t blob_len = 0;
        bool have_old = false, bad = false, in_txn = false;
        bool admin = is_admin(rq), name_mismatch = false;
        struct shield_store *s = NULL;
        json_t *j = parse_body(rq, rs);
        if (!j)
                return;
        if (unknown_keys(j, allowed, rs))
                goto out;
        const char *name = str_member(j, "name", &bad);
        const char *policy = str_member(j, "integrity_policy", &bad);
        if (bad || !valid_name(name)) {
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
        if (b64_member(j, "ak_public", true, SHIELD_TPM_PUBLIC_MAX, &rec.ak_public, &rec.ak_public_len, rs) < 0 ||
            b64_member(j, "ek_public", false, SHIELD_TPM_PUBLIC_MAX, &rec.ek_public, &rec.ek_public_len, rs) < 0 ||
            b64_member(j, "ek_certificate", false, SHIELD_TPM_CERT_MAX, &rec.ek_cert, &rec.ek_cert_len, rs) < 0 ||
            b64_member(j, "ak_certificate", false, SHIELD_TPM_CERT_MAX, &rec.ak_cert, &rec.ak_cert_len, rs) < 0)
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

        if (!(s = need_store(rs)))
                goto out;
        /* Look, decide and write in one transaction: two replicas racing on one name get one winner. */
        if (shield_store_begin(s, &diag) < 0) {
                reply_store_error(rs, &diag);
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
                        shieldd_reply_error(rs, 409, "instance-exists", "%s is registered with another AK", name);
                        goto out;
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
                status = 200;
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
        shieldd_log("registered %s (%s)", name, rec.trusted ? "trusted by its AK certificate"
                                                : admin ? "enrolled by the operator, awaiting activation"
                                                        : "EK certified by its manufacturer, awaiting activation");
        goto out;
store_failed:
        reply_store_error(rs, &diag);
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

/* The registered instance name into *ret, or answer 404 / 500 and return -1. */
static int get_instance(struct shieldd_response *rs, struct shield_store *s, const char *name,
                        struct shield_instance_record *ret) {
        struct shield_diag diag = { 0 };
        int r = shield_store_instance_get(s, name, ret, &diag);
        if (r == SHIELD_E_NOT_FOUND) {
                shieldd_reply_error(rs, 404, "instance-unknown", "no instance of that name is registered");
                return -1;
        }
        if (r < 0) {
                reply_store_error(rs, &diag);
                return -1;
        }
        return 0;
}

/* ---- POST /v1/instances/{name}/activate ---- */
static void h_activate(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        static const char *const allowed[] = { "secret", NULL };
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        uint8_t *secret = NULL, h[32];
        size_t secret_len = 0;
        bool bad = false, have = false;
        json_t *j = parse_body(rq, rs);
        if (!j)
                return;
        if (unknown_keys(j, allowed, rs))
                goto out;
        const char *hex = str_member(j, "secret", &bad);
        if (bad || !hex || shield_hex_decode(hex, &secret, &secret_len) < 0 || secret_len == 0 ||
            secret_len > SHIELD_HASH_MAX_SIZE) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"secret\" must be hex (what shield tpm activate printed)");
                goto out;
        }
        struct shield_store *s = need_store(rs);
        if (!s)
                goto out;
        if (get_instance(rs, s, name, &rec) < 0)
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
                reply_store_error(rs, &diag);
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
static void h_challenge(const struct shieldd_request *rq, struct shieldd_response *rs) {
        static const char *const allowed[] = { "instance", NULL };
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        bool bad = false;
        json_t *j = parse_body(rq, rs);
        if (!j)
                return;
        if (unknown_keys(j, allowed, rs))
                goto out;
        const char *name = str_member(j, "instance", &bad);
        if (bad || !valid_name(name)) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"instance\" must name a registered instance");
                goto out;
        }
        struct shield_store *s = need_store(rs);
        if (!s)
                goto out;
        if (get_instance(rs, s, name, &rec) < 0)
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
                reply_store_error(rs, &diag);
                goto out;
        }
        shield_hex_encode(nonce, sizeof nonce, hex);
        iso_time(expires, when);
        shieldd_reply_json(rs, 201, json_pack("{s:s, s:s}", "nonce", hex, "expires", when));
out:
        json_decref(j);
}



static const char *colour_or_null(int c) {
        return c >= 0 ? shield_colour_name((enum shield_colour)c) : NULL;
}


/* ---- POST /v1/attest ---- */
/*
 * Parsed AK keys, per worker thread, keyed by the AK's bytes: setting up a
 * public key in OpenSSL costs more than the signature check itself, and a
 * fleet attests with the same few keys over and over.
 */
#define AK_CACHE 64
static __thread struct {
        uint8_t digest[32];
        bool used;
        struct shield_ak_key *key;
} ak_cache[AK_CACHE];
static __thread unsigned ak_cache_next;

void shieldd_ak_cache_clear(void) {
        for (size_t i = 0; i < AK_CACHE; i++) {
                shield_ak_key_free(ak_cache[i].key);
                ak_cache[i].key = NULL;
                ak_cache[i].used = false;
        }
}

static const struct shield_ak_key *cached_ak_key(const uint8_t *ak, size_t len) {
        uint8_t digest[32];
        if (!ak || shield_hash(SHIELD_ALG_SHA256, ak, len, digest) < 0)
                return NULL;
        for (size_t i = 0; i < AK_CACHE; i++)
                if (ak_cache[i].used && memcmp(ak_cache[i].digest, digest, sizeof digest) == 0)
                        return ak_cache[i].key;
        struct shield_ak_key *key = NULL;
        if (shield_ak_key_new(ak, len, &key, NULL) < 0)
                return NULL;
        unsigned slot = ak_cache_next++ % AK_CACHE;
        shield_ak_key_free(ak_cache[slot].key);
        memcpy(ak_cache[slot].digest, digest, sizeof digest);
        ak_cache[slot].key = key;
        ak_cache[slot].used = true;
        return key;
}

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
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        return text;
}

static enum shieldd_verdict metric_of(const struct shield_attest_outcome *o) {
        if (!o->has_colour)
                return o->verified ? SHIELDD_V_GREEN : SHIELDD_V_FAILED;
        return o->colour == SHIELD_GREEN ? SHIELDD_V_GREEN : o->colour == SHIELD_YELLOW ? SHIELDD_V_YELLOW : SHIELDD_V_RED;
}

static void h_attest(const struct shieldd_request *rq, struct shieldd_response *rs) {
        static const char *const allowed[] = { "instance", "audience", "evidence", NULL };
        double t0 = now_seconds();
        struct shield_evidence ev = { 0 };
        struct shield_attest_outcome out = { 0 };
        struct shield_diag diag = { 0 };
        char *ev_text = NULL, *token = NULL, *claims = NULL;
        bool have_ev = false, bad = false, counted = false;
        json_t *j = parse_body(rq, rs);
        if (!j)
                return;
        if (unknown_keys(j, allowed, rs))
                goto out;
        const char *name = str_member(j, "instance", &bad);
        const char *audience = str_member(j, "audience", &bad);
        json_t *evj = json_object_get(j, "evidence");
        if (bad || !valid_name(name) || !json_is_object(evj) || (audience && strlen(audience) > 256)) {
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
        struct shield_store *s = need_store(rs);
        if (!s)
                goto out;
        char ev_hex[65] = "";
        uint8_t digest[32];
        if (shield_hash(SHIELD_ALG_SHA256, ev_text, ev_len, digest) == 0)
                shield_hex_encode(digest, sizeof digest, ev_hex);
        /* The registered AK is what the cache is keyed on; the pipeline uses it only when the bytes match. */
        struct shield_attest_options opts = {
                .nonce_mode = SHIELD_NONCE_ISSUED, .require_registered = true, .ek_ca_dir = NULL,
                .ak_key = ev.ak_public ? cached_ak_key(ev.ak_public, ev.ak_public_len) : NULL,
                .evidence_sha256 = ev_hex, .now = (int64_t)time(NULL),
        };
        int r = shield_attest_run(s, name, &ev, &opts, &out, &diag);
        if (r < 0 && r != SHIELD_E_VERIFY) {
                if (r == SHIELD_E_SYSTEM)
                        reply_store_error(rs, &diag);
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
        shieldd_metrics_attestation(metric_of(&out), now_seconds() - t0);
        counted = true;
        shieldd_reply_json(rs, 200, a);
out:
        if (!counted && rs->status >= 400)
                shieldd_metrics_attestation(SHIELDD_V_FAILED, now_seconds() - t0);
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

/* ---- operators ---- */
static void h_list(struct shieldd_response *rs) {
        struct shield_diag diag = { 0 };
        char *text = NULL;
        struct shield_store *s = need_store(rs);
        if (!s)
                return;
        if (shield_store_instance_list_json(s, &text, &diag) < 0) {
                reply_store_error(rs, &diag);
                return;
        }
        rs->status = 200;
        rs->body = text;
        rs->len = strlen(text);
        rs->content_type = JSON_TYPE;
}

static json_t *load_or_null(const char *text) {
        json_t *v = text ? json_loads(text, 0, NULL) : NULL;
        return v ? v : json_null();
}

static void h_get(struct shieldd_response *rs, const char *name) {
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_golden *golden = NULL;
        char *history = NULL, *golden_text = NULL, when[32];
        struct shield_store *s = need_store(rs);
        if (!s)
                return;
        if (get_instance(rs, s, name, &rec) < 0)
                return;
        int r = shield_store_golden_get(s, name, &golden, &diag);
        if (r == 0 && shield_golden_to_json(golden, &golden_text) < 0)
                golden_text = NULL;
        if ((r < 0 && r != SHIELD_E_NOT_FOUND) || shield_store_history(s, name, SHIELDD_HISTORY, &history, &diag) < 0) {
                reply_store_error(rs, &diag);
                goto out;
        }
        if (rec.last_attestation > 0)
                iso_time(rec.last_attestation, when);
        shieldd_reply_json(rs, 200,
                           json_pack("{s:s, s:b, s:s?, s:s?, s:s?, s:s?, s:b, s:o, s:o, s:o, s:o}", "name", rec.name,
                                     "trusted", rec.trusted, "colour", colour_or_null(rec.colour), "early_boot",
                                     colour_or_null(rec.early), "late_boot", colour_or_null(rec.late),
                                     "last_attestation", rec.last_attestation > 0 ? when : NULL, "verified",
                                     rec.last_verified, "pcrs", load_or_null(rec.last_pcrs_json), "golden",
                                     load_or_null(golden_text), "differences", load_or_null(rec.last_reasons_json),
                                     "history", load_or_null(history)));
out:
        free(history);
        free(golden_text);
        shield_golden_free(golden);
        shield_store_instance_record_clear(&rec);
}

static bool require_admin(const struct shieldd_request *rq, struct shieldd_response *rs) {
        if (is_admin(rq))
                return true;
        shieldd_reply_error(rs, 401, "unauthorized", "this call needs the admin bearer token");
        return false;
}

static void h_golden_reset(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        struct shield_instance_record rec = { 0 };
        struct shield_diag diag = { 0 };
        if (!require_admin(rq, rs))
                return;
        struct shield_store *s = need_store(rs);
        if (!s)
                return;
        if (get_instance(rs, s, name, &rec) < 0)
                return;
        shield_store_instance_record_clear(&rec);
        int r = shield_store_golden_reset(s, name, &diag);
        if (r < 0 && r != SHIELD_E_NOT_FOUND) {
                reply_store_error(rs, &diag);
                return;
        }
        shieldd_log("%s: golden measurement reset by the operator (from %s)", name, rq->remote);
        shieldd_reply_json(rs, 200, json_pack("{s:s, s:b}", "name", name, "golden_reset", r == 0));
}

static void h_delete(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name) {
        struct shield_diag diag = { 0 };
        if (!require_admin(rq, rs))
                return;
        struct shield_store *s = need_store(rs);
        if (!s)
                return;
        int r = shield_store_instance_delete(s, name, &diag);
        if (r == SHIELD_E_NOT_FOUND) {
                shieldd_reply_error(rs, 404, "instance-unknown", "no instance of that name is registered");
                return;
        }
        if (r < 0) {
                reply_store_error(rs, &diag);
                return;
        }
        shieldd_log("%s: deleted by the operator (from %s)", name, rq->remote);
        rs->status = 204;
        rs->body = NULL;
        rs->len = 0;
}

/* ---- tokens ---- */
static void h_openid(struct shieldd_response *rs) {
        char jwks[600];
        snprintf(jwks, sizeof jwks, "%s/jwks", shieldd_cfg.issuer);
        shieldd_reply_json(rs, 200, json_pack("{s:s, s:s, s:[s], s:[s], s:[s], s:[s]}", "issuer", shieldd_cfg.issuer,
                                              "jwks_uri", jwks, "id_token_signing_alg_values_supported",
                                              shieldd_cfg.token_alg, "response_types_supported", "id_token",
                                              "subject_types_supported", "public", "claims_supported", "shield_colour"));
}

static void h_jwks(struct shieldd_response *rs) {
        struct shield_diag diag = { 0 };
        char *text = NULL;
        struct shield_store *s = need_store(rs);
        if (!s)
                return;
        if (shieldd_jwks(s, &text, &diag) < 0) {
                reply_store_error(rs, &diag);
                return;
        }
        rs->status = 200;
        rs->body = text;
        rs->len = strlen(text);
        rs->content_type = "application/jwk-set+json";
}

static void h_metrics(struct shieldd_response *rs) {
        char *text = shieldd_metrics_text();
        if (!text) {
                shieldd_reply_error(rs, 500, "internal", "out of memory");
                return;
        }
        rs->status = 200;
        rs->body = text;
        rs->len = strlen(text);
        rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- the dashboard ---- */
static const char *content_type_of(const char *path) {
        static const struct {
                const char *ext, *type;
        } types[] = {
                { ".html", "text/html; charset=utf-8" },  { ".js", "text/javascript; charset=utf-8" },
                { ".css", "text/css; charset=utf-8" },    { ".json", "application/json" },
                { ".svg", "image/svg+xml" },              { ".png", "image/png" },
                { ".ico", "image/x-icon" },               { ".woff2", "font/woff2" },
                { ".txt", "text/plain; charset=utf-8" },
        };
        const char *dot = strrchr(path, '.');
        for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
                if (strcmp(dot, types[i].ext) == 0)
                        return types[i].type;
        return "application/octet-stream";
}

static bool serve_asset(struct shieldd_response *rs, const char *path) {
        for (size_t i = 0; i < shieldd_n_assets; i++)
                if (strcmp(shieldd_assets[i].path, path) == 0) {
                        rs->status = 200;
                        rs->body = (char *)(uintptr_t)shieldd_assets[i].data;
                        rs->len = shieldd_assets[i].len;
                        rs->body_static = true;
                        rs->content_type = content_type_of(path);
                        rs->cacheable = strcmp(path, "index.html") != 0;
                        return true;
                }
        return false;
}

static void h_index(struct shieldd_response *rs) {
        static char not_built[] =
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>shieldd</title></head>\n"
                "<body><h1>shieldd</h1><p>The dashboard is not built: daemon/dashboard/ held no files when this "
                "shieldd was compiled. The API is at <code>/v1/instances</code>.</p></body></html>\n";
        if (serve_asset(rs, "index.html"))
                return;
        rs->status = 200;
        rs->body = not_built;
        rs->len = sizeof not_built - 1;
        rs->body_static = true;
        rs->content_type = "text/html; charset=utf-8";
}

/* ---- routing ---- */
static bool is(const struct shieldd_request *rq, const char *m) {
        return strcmp(rq->method, m) == 0;
}

static void method_not_allowed(struct shieldd_response *rs, const char *allow) {
        shieldd_reply_error(rs, 405, "method-not-allowed", "allowed: %s", allow);
        rs->allow = allow;
}

void shieldd_api_handle(const struct shieldd_request *rq, struct shieldd_response *rs) {
        static const char inst[] = "/v1/instances/";
        const char *p = rq->path;
        bool get = is(rq, "GET") || is(rq, "HEAD");

        if (strcmp(p, "/v1/instances") == 0) {
                if (is(rq, "POST"))
                        h_register(rq, rs);
                else if (get)
                        h_list(rs);
                else
                        method_not_allowed(rs, "GET, POST");
                return;
        }
        if (strncmp(p, inst, sizeof inst - 1) == 0) {
                const char *name = p + sizeof inst - 1;
                size_t n = strlen(name);
                char buf[SHIELD_STORE_NAME_MAX + 1];
                static const char act[] = "/activate", reset[] = "/golden/reset";
                const char *verb = NULL;
                if (n > sizeof act - 1 && strcmp(name + n - (sizeof act - 1), act) == 0) {
                        verb = "activate";
                        n -= sizeof act - 1;
                } else if (n > sizeof reset - 1 && strcmp(name + n - (sizeof reset - 1), reset) == 0) {
                        verb = "reset";
                        n -= sizeof reset - 1;
                }
                if (n == 0 || n > SHIELD_STORE_NAME_MAX || memchr(name, '/', n)) {
                        shieldd_reply_error(rs, 404, "not-found", "no such route");
                        return;
                }
                memcpy(buf, name, n);
                buf[n] = '\0';
                if (!valid_name(buf)) {
                        shieldd_reply_error(rs, 404, "instance-unknown", "no instance of that name is registered");
                        return;
                }
                if (verb && !is(rq, "POST")) {
                        method_not_allowed(rs, "POST");
                        return;
                }
                if (verb && strcmp(verb, "activate") == 0)
                        h_activate(rq, rs, buf);
                else if (verb)
                        h_golden_reset(rq, rs, buf);
                else if (get)
                        h_get(rs, buf);
                else if (is(rq, "DELETE"))
                        h_delete(rq, rs, buf);
                else
                        method_not_allowed(rs, "GET, DELETE");
                return;
        }
        if (strcmp(p, "/v1/challenge") == 0 || strcmp(p, "/v1/attest") == 0) {
                if (!is(rq, "POST"))
                        method_not_allowed(rs, "POST");
                else if (p[4] == 'c')
                        h_challenge(rq, rs);
                else
                        h_attest(rq, rs);
                return;
        }
        if (!get) {
                if (strcmp(p, "/.well-known/openid-configuration") == 0 || strcmp(p, "/jwks") == 0 ||
                    strcmp(p, "/metrics") == 0 || strcmp(p, "/") == 0 || strncmp(p, "/static/", 8) == 0)
                        method_not_allowed(rs, "GET");
                else
                        shieldd_reply_error(rs, 404, "not-found", "no such route");
                return;
        }
        if (strcmp(p, "/.well-known/openid-configuration") == 0)
                h_openid(rs);
        else if (strcmp(p, "/jwks") == 0)
                h_jwks(rs);
        else if (strcmp(p, "/metrics") == 0)
                h_metrics(rs);
        else if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0)
                h_index(rs);
        else if (strncmp(p, "/static/", 8) == 0 && !strstr(p, "..") && serve_asset(rs, p + 8))
                ;
        else
                shieldd_reply_error(rs, 404, "not-found", "no such route");
}
