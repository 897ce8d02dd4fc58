/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's conversation with shieldd (docs/API.md): register, activate, challenge, attest. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/http.h"
#include "agent-credential.h"
#include "shield/agent.h"
#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/tpm.h"
#include "shield/util.h"


struct shield_agent {
        char *server, *name, *tcti, *eventlog, *ima_log, *state_dir, *producer, *audience;
        uint32_t pcr_mask, ak_handle;
        enum shield_tpm_ak_alg ak_alg;
        void (*ak_created)(uint32_t handle, const char *type, void *userdata);
        void *userdata;
        struct agent_http *http;
};

void shield_agent_verdict_clear(struct shield_agent_verdict *v) {
        if (!v)
                return;
        free(v->reasons);
        if (v->token) {
                explicit_bzero(v->token, strlen(v->token));
                free(v->token);
        }
        if (v->json) {
                explicit_bzero(v->json, strlen(v->json));
                free(v->json);
        }
        memset(v, 0, sizeof *v);
}

void shield_agent_free(struct shield_agent *a) {
        if (!a)
                return;
        agent_http_free(a->http);
        free(a->server);
        free(a->name);
        free(a->tcti);
        free(a->eventlog);
        free(a->ima_log);
        free(a->state_dir);
        free(a->producer);
        free(a->audience);
        free(a);
}

static int dup_opt(const char *s, char **ret) {
        if (!s)
                return 0;
        return (*ret = strdup(s)) ? 0 : SHIELD_E_NOMEM;
}

int shield_agent_new(const struct shield_agent_options *o, struct shield_agent **ret, struct shield_agent_error *err) {
        if (!o || !o->server || (strncmp(o->server, "https://", 8) != 0 && strncmp(o->server, "http://", 7) != 0)) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "the server URL must start with https:// or http://");
                return SHIELD_E_INVAL;
        }
        size_t n = o->name ? strlen(o->name) : 0;
        if (n == 0 || n > SHIELD_AGENT_NAME_MAX) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "the instance name must be 1 to %d bytes",
                           SHIELD_AGENT_NAME_MAX);
                return SHIELD_E_INVAL;
        }
        for (const char *p = o->name; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/') {
                        agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL,
                                   "the instance name must not contain '/' or control characters");
                        return SHIELD_E_INVAL;
                }
        struct shield_agent *a = calloc(1, sizeof *a);
        if (!a || !(a->server = strdup(o->server)) || dup_opt(o->name, &a->name) < 0 || dup_opt(o->tcti, &a->tcti) < 0 ||
            dup_opt(o->eventlog ? o->eventlog : SHIELD_EVIDENCE_DEFAULT_EVENTLOG, &a->eventlog) < 0 ||
            dup_opt(o->ima_log ? o->ima_log : SHIELD_EVIDENCE_DEFAULT_IMA_LOG, &a->ima_log) < 0 ||
            dup_opt(o->state_dir, &a->state_dir) < 0 || dup_opt(o->producer ? o->producer : "shield agent", &a->producer) < 0 ||
            dup_opt(o->audience, &a->audience) < 0) {
                shield_agent_free(a);
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
                return SHIELD_E_NOMEM;
        }
        for (size_t k = strlen(a->server); k > 0 && a->server[k - 1] == '/'; k--)
                a->server[k - 1] = '\0';
        a->pcr_mask = o->pcr_mask ? o->pcr_mask : 0xffffffu;
        a->ak_handle = o->ak_handle ? o->ak_handle : SHIELD_TPM_AK_HANDLE;
        a->ak_alg = o->ak_alg;
        a->ak_created = o->ak_created;
        a->userdata = o->userdata;
        if (a->ak_alg != SHIELD_TPM_AK_RSA && a->ak_alg != SHIELD_TPM_AK_ECC) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "unknown AK algorithm %d", (int)a->ak_alg);
                shield_agent_free(a);
                return SHIELD_E_INVAL;
        }
        int r = agent_http_new(a->server, o, &a->http, err);
        if (r < 0) {
                shield_agent_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

static int tpm_open(struct shield_agent *a, struct shield_tpm **ret, struct shield_agent_error *err) {
        struct shield_diag diag = { 0 };
        int r = shield_tpm_open(a->tcti, ret, &diag);
        if (r < 0)
                agent_fail(err, SHIELD_AGENT_FAIL_TPM, 0, NULL, "TPM %s: %s", shield_tpm_default_tcti(a->tcti),
                           diag.msg[0] ? diag.msg : shield_strerror(r));
        return r;
}

static int tpm_failed(struct shield_agent_error *err, const char *what, int r, const struct shield_diag *diag) {
        agent_fail(err, SHIELD_AGENT_FAIL_TPM, 0, NULL, "%s: %s%s", what, diag->msg[0] ? diag->msg : shield_strerror(r),
                   r == SHIELD_E_NOT_FOUND ? " (run 'shield tpm provision' first)" : "");
        return r;
}

static int nomem(struct shield_agent_error *err) {
        agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
        return SHIELD_E_NOMEM;
}

/* Add key = base64(buf) to o; nothing when buf is NULL. */
static int set_b64(json_t *o, const char *key, const uint8_t *buf, size_t len) {
        if (!buf)
                return 0;
        char *b64 = shield_base64_encode(buf, len);
        if (!b64 || json_object_set_new(o, key, json_string(b64)) < 0) {
                free(b64);
                return SHIELD_E_NOMEM;
        }
        free(b64);
        return 0;
}

static int post(struct shield_agent *a, const char *path, json_t *body, int *ret_status, json_t **ret,
                struct shield_agent_error *err) {
        if (!body)
                return nomem(err);
        int r = agent_http_post(a->http, path, body, ret_status, ret, err);
        json_decref(body);
        return r;
}

static int protocol_error(struct shield_agent *a, const char *path, int status, const char *what,
                          struct shield_agent_error *err) {
        agent_fail(err, SHIELD_AGENT_FAIL_PROTOCOL, status, NULL, "POST %s%s: HTTP %d but %s", a->server, path, status,
                   what);
        return SHIELD_E_FORMAT;
}

/* POST /v1/instances/{name}/activate with the secret the TPM recovers from the credential. */
static int activate(struct shield_agent *a, struct shield_tpm *t, const char *credential_b64,
                    struct shield_agent_error *err) {
        uint8_t *blob = NULL, secret[SHIELD_HASH_MAX_SIZE];
        size_t blob_len = 0, secret_len = 0;
        char hex[2 * SHIELD_HASH_MAX_SIZE + 1], *esc = NULL, *path = NULL;
        struct shield_diag diag = { 0 };
        json_t *answer = NULL;
        int status = 0, r;

        if (shield_base64_decode(credential_b64, strlen(credential_b64), &blob, &blob_len) < 0 ||
            blob_len > SHIELD_CREDENTIAL_MAX) {
                r = protocol_error(a, "/v1/instances", 201, "activation.credential is not a base64 credential blob",
                                   err);
                goto out;
        }
        r = shield_tpm_activate_credential(t, a->ak_handle, NULL, blob, blob_len, secret, &secret_len, &diag);
        if (r == SHIELD_E_VERIFY) {
                agent_fail(err, SHIELD_AGENT_FAIL_TPM, 0, NULL,
                           "credential activation: the TPM refused the service's credential: not made for this "
                           "machine's EK and AK (%s)",
                           diag.msg);
                goto out;
        }
        if (r < 0) {
                tpm_failed(err, "credential activation", r, &diag);
                goto out;
        }
        shield_hex_encode(secret, secret_len, hex);
        if (!(esc = agent_http_escape(a->http, a->name)) || asprintf(&path, "/v1/instances/%s/activate", esc) < 0) {
                path = NULL;
                r = nomem(err);
                goto out;
        }
        r = post(a, path, json_pack("{s:s}", "secret", hex), &status, &answer, err);
        if (r < 0)
                goto out;
        if (!json_is_true(json_object_get(answer, "trusted"))) {
                r = protocol_error(a, path, status, "the answer does not say \"trusted\": true", err);
                goto out;
        }
        r = 0;
out:
        explicit_bzero(secret, sizeof secret);
        explicit_bzero(hex, sizeof hex);
        json_decref(answer);
        free(path);
        free(esc);
        free(blob);
        return r;
}

/*
 * The AK's public area at a->ak_handle; when the handle is empty (a machine's
 * first run: its TPM holds only the EK and the manufacturer's certificate),
 * make an AK under the EK and persist it there. The EK need not be
 * persistent: shield_tpm_ak_create derives it from the TCG template then,
 * and activation derives the same key again.
 */
static int ak_public(struct shield_agent *a, struct shield_tpm *t, uint8_t **ret, size_t *ret_len,
                     struct shield_agent_error *err) {
        struct shield_tpm_ak ak = { 0 };
        struct shield_diag diag = { 0 };
        char what[96];
        int r = shield_tpm_read_public(t, a->ak_handle, ret, ret_len, &diag);
        if (r != SHIELD_E_NOT_FOUND) {
                snprintf(what, sizeof what, "AK 0x%08x", a->ak_handle);
                return r < 0 ? tpm_failed(err, what, r, &diag) : 0;
        }
        memset(&diag, 0, sizeof diag);
        if ((r = shield_tpm_ak_create(t, a->ak_alg, a->ak_handle, &ak, &diag)) < 0) {
                snprintf(what, sizeof what, "creating an AK under the EK at 0x%08x", a->ak_handle);
                agent_fail(err, SHIELD_AGENT_FAIL_TPM, 0, NULL, "%s: %s", what,
                           diag.msg[0] ? diag.msg : shield_strerror(r));
                return r;
        }
        *ret = ak.public;
        *ret_len = ak.public_len;
        ak.public = NULL; /* transferred */
        shield_tpm_ak_clear(&ak);
        if (a->ak_created)
                a->ak_created(a->ak_handle, a->ak_alg == SHIELD_TPM_AK_ECC ? "ecc-p256" : "rsa2048", a->userdata);
        return 0;
}

/*
 * Register with the TPM t. *ret_skipped: the state said we already are
 * (nothing was sent).
 */
static int do_register(struct shield_agent *a, struct shield_tpm *t, bool force, bool *ret_activated,
                       bool *ret_skipped, struct shield_agent_error *err) {
        uint8_t *ak_pub = NULL, *ak_cert = NULL, digest[32];
        size_t ak_pub_len = 0, ak_cert_len = 0;
        struct shield_tpm_ek ek = { 0 };
        struct shield_agent_state st = { 0 };
        struct shield_diag diag = { 0 };
        json_t *req = NULL, *answer = NULL;
        char ak_hex[65];
        bool activated = false;
        int status = 0, r;

        if ((r = ak_public(a, t, &ak_pub, &ak_pub_len, err)) < 0)
                goto out;
        if (shield_hash(SHIELD_ALG_SHA256, ak_pub, ak_pub_len, digest) < 0) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "SHA-256 failed");
                r = SHIELD_E_CRYPTO;
                goto out;
        }
        shield_hex_encode(digest, sizeof digest, ak_hex);
        if (!force && a->state_dir && shield_agent_state_load(a->state_dir, &st) == 0 && st.trusted &&
            strcmp(st.server, a->server) == 0 && strcmp(st.name, a->name) == 0 && strcmp(st.ak_sha256, ak_hex) == 0) {
                if (ret_skipped)
                        *ret_skipped = true;
                if (ret_activated)
                        *ret_activated = false;
                r = 0;
                goto out;
        }
        if ((r = shield_tpm_read_ek(t, &ek, &diag)) < 0) {
                tpm_failed(err, "EK", r, &diag);
                goto out;
        }
        r = shield_tpm_nv_read(t, SHIELD_TPM_AK_CERT_NV, &ak_cert, &ak_cert_len, &diag);
        if (r < 0 && r != SHIELD_E_NOT_FOUND) {
                tpm_failed(err, "AK certificate (NV 0x01c10000)", r, &diag);
                goto out;
        }
        if (!(req = json_pack("{s:s}", "name", a->name)) || set_b64(req, "ak_public", ak_pub, ak_pub_len) < 0 ||
            set_b64(req, "ek_public", ek.public, ek.public_len) < 0 ||
            set_b64(req, "ek_certificate", ek.cert, ek.cert_len) < 0 ||
            set_b64(req, "ak_certificate", ak_cert, ak_cert_len) < 0) {
                r = nomem(err);
                goto out;
        }
        r = post(a, "/v1/instances", req, &status, &answer, err);
        req = NULL;
        if (r < 0) {
                if (err && err->http_status == 409)
                        snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                                 " (the name \"%s\" is registered with another AK: choose another --name, or "
                                 "have an operator delete the instance)",
                                 a->name);
                goto out;
        }
        json_t *trusted = json_object_get(answer, "trusted");
        json_t *act = json_object_get(answer, "activation");
        const char *cred = json_string_value(json_object_get(act, "credential"));
        if (!json_is_boolean(trusted)) {
                r = protocol_error(a, "/v1/instances", status, "the answer has no boolean \"trusted\"", err);
                goto out;
        }
        if (!json_is_true(trusted)) {
                if (!cred) {
                        r = protocol_error(a, "/v1/instances", status,
                                           "the AK is not trusted and the answer holds no activation.credential", err);
                        goto out;
                }
                if ((r = activate(a, t, cred, err)) < 0)
                        goto out;
                activated = true;
        }
        if (a->state_dir) {
                struct shield_agent_state ns = { .server = a->server, .name = a->name, .trusted = true };
                memcpy(ns.ak_sha256, ak_hex, sizeof ak_hex);
                if ((r = shield_agent_state_save(a->state_dir, &ns)) < 0) {
                        agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "state %s: %s", a->state_dir,
                                   r == SHIELD_E_SYSTEM ? strerror(errno) : shield_strerror(r));
                        goto out;
                }
        }
        if (ret_skipped)
                *ret_skipped = false;
        if (ret_activated)
                *ret_activated = activated;
        r = 0;
out:
        json_decref(answer);
        json_decref(req);
        shield_agent_state_clear(&st);
        shield_tpm_ek_clear(&ek);
        free(ak_cert);
        free(ak_pub);
        return r;
}

int shield_agent_register(struct shield_agent *a, bool force, bool *ret_activated, struct shield_agent_error *err) {
        struct shield_tpm *t = NULL;
        int r = tpm_open(a, &t, err);
        if (r < 0)
                return r;
        r = do_register(a, t, force, ret_activated, NULL, err);
        shield_tpm_close(t);
        return r;
}

/* Evidence over nonce as a JSON object. */
static int collect(struct shield_agent *a, struct shield_tpm *t, const uint8_t *nonce, size_t nonce_len,
                   const struct agent_sealing *sealing, json_t **ret, struct shield_agent_error *err) {
        struct shield_evidence e = { 0 };
        struct shield_diag diag = { 0 };
        char *text = NULL;
        int r = shield_evidence_collect_pcrs(t, a->ak_handle, a->pcr_mask, nonce, nonce_len, &e, &diag);
        if (r < 0) {
                tpm_failed(err, "quote", r, &diag);
                goto out;
        }
        if (shield_evidence_add_host_state(&e, a->eventlog, a->ima_log) < 0 || !(e.producer = strdup(a->producer)) ||
            agent_sealing_attach(sealing, &e) < 0) {
                r = nomem(err);
                goto out;
        }
        if (shield_evidence_to_json(&e, &text) < 0) {
                r = nomem(err);
                goto out;
        }
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        if (!j) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "evidence JSON: %s", je.text);
                r = SHIELD_E_FORMAT;
                goto out;
        }
        *ret = j;
        r = 0;
out:
        free(text);
        shield_evidence_free(&e);
        return r;
}

static void copy_str(char *dst, size_t n, json_t *v) {
        const char *s = json_string_value(v);
        snprintf(dst, n, "%s", s ? s : "");
}

static int parse_verdict(struct shield_agent *a, json_t *j, struct shield_agent_verdict *ret,
                         struct shield_agent_error *err) {
        struct shield_agent_verdict v = { 0 };
        json_t *verified = json_object_get(j, "verified"), *reasons = json_object_get(j, "reasons");
        if (!json_is_boolean(verified))
                return protocol_error(a, "/v1/attest", 200, "the answer has no boolean \"verified\"", err);
        if (reasons && !json_is_array(reasons))
                return protocol_error(a, "/v1/attest", 200, "\"reasons\" is not an array", err);
        v.verified = json_is_true(verified);
        copy_str(v.colour, sizeof v.colour, json_object_get(j, "colour"));
        copy_str(v.early_boot, sizeof v.early_boot, json_object_get(j, "early_boot"));
        copy_str(v.late_boot, sizeof v.late_boot, json_object_get(j, "late_boot"));
        v.golden_recorded = json_is_true(json_object_get(j, "golden_recorded"));
        v.rebooted = json_is_true(json_object_get(j, "rebooted"));
        size_t n = json_array_size(reasons);
        if (n > SHIELD_AGENT_REASONS_MAX)
                n = SHIELD_AGENT_REASONS_MAX;
        if (n && !(v.reasons = calloc(n, sizeof *v.reasons)))
                return nomem(err);
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(reasons, i);
                struct shield_agent_reason *rs = &v.reasons[v.n_reasons++];
                copy_str(rs->code, sizeof rs->code, json_object_get(o, "code"));
                copy_str(rs->severity, sizeof rs->severity, json_object_get(o, "severity"));
                copy_str(rs->bank, sizeof rs->bank, json_object_get(o, "bank"));
                copy_str(rs->message, sizeof rs->message, json_object_get(o, "message"));
                json_t *pcr = json_object_get(o, "pcr");
                rs->pcr = json_is_integer(pcr) && json_integer_value(pcr) >= 0 && json_integer_value(pcr) < 64
                                  ? (int)json_integer_value(pcr)
                                  : -1;
        }
        const char *token = json_string_value(json_object_get(j, "token"));
        if ((token && !(v.token = strdup(token))) || !(v.json = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
                shield_agent_verdict_clear(&v);
                return nomem(err);
        }
        *ret = v;
        return 0;
}

/* The service forgot us or does not trust us: register again and retry (once). */
static bool must_reregister(const struct shield_agent_error *err) {
        return err->kind == SHIELD_AGENT_FAIL_HTTP &&
               (err->http_status == 404 || (err->http_status == 403 && strcmp(err->code, "instance-untrusted") == 0));
}

int shield_agent_attest(struct shield_agent *a, struct shield_agent_verdict *ret, struct shield_agent_error *err) {
        struct shield_agent_error local = { 0 };
        struct shield_tpm *t = NULL;
        json_t *answer = NULL, *evidence = NULL, *req = NULL;
        uint8_t *nonce = NULL;
        size_t nonce_len = 0;
        bool skipped = false;
        struct agent_sealing sealing = { 0 };
        char sealing_error[300] = "";
        int status = 0, r;

        if (!err)
                err = &local;
        if ((r = tpm_open(a, &t, err)) < 0)
                return r;
        if ((r = do_register(a, t, false, NULL, &skipped, err)) < 0)
                goto out;
        for (int attempt = 0;; attempt++) {
                r = post(a, "/v1/challenge", json_pack("{s:s}", "instance", a->name), &status, &answer, err);
                if (r == 0) {
                        const char *hex = json_string_value(json_object_get(answer, "nonce"));
                        if (!hex || shield_hex_decode(hex, &nonce, &nonce_len) < 0 || nonce_len == 0 ||
                            nonce_len > SHIELD_TPM_NONCE_MAX) {
                                r = protocol_error(a, "/v1/challenge", status,
                                                   "its \"nonce\" is not 1 to 64 bytes of hex", err);
                                goto out;
                        }
                        /* The service's offer: a sealing key for its intent, certified over this nonce. */
                        agent_sealing_clear(&sealing);
                        struct shield_diag sd = { 0 };
                        if (agent_sealing_prepare(t, a->ak_handle, json_object_get(answer, "credential_offer"), nonce,
                                                  nonce_len, &sealing, &sd) < 0)
                                snprintf(sealing_error, sizeof sealing_error, "no sealing key made: %s", sd.msg);
                        json_decref(answer);
                        answer = NULL;
                        if ((r = collect(a, t, nonce, nonce_len, &sealing, &evidence, err)) < 0)
                                goto out;
                        req = json_pack("{s:s, s:o}", "instance", a->name, "evidence", evidence);
                        evidence = NULL; /* transferred, also when json_pack fails */
                        if (req && a->audience && json_object_set_new(req, "audience", json_string(a->audience)) < 0) {
                                r = nomem(err);
                                goto out;
                        }
                        r = post(a, "/v1/attest", req, &status, &answer, err);
                        req = NULL;
                        free(nonce);
                        nonce = NULL;
                }
                if (r == 0 || attempt > 0 || !must_reregister(err))
                        break;
                if (a->state_dir && (r = shield_agent_state_remove(a->state_dir)) < 0) {
                        agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "state %s: %s", a->state_dir,
                                   strerror(errno));
                        goto out;
                }
                if ((r = do_register(a, t, true, NULL, NULL, err)) < 0)
                        goto out;
        }
        if (r < 0)
                goto out;
        if ((r = parse_verdict(a, answer, ret, err)) < 0)
                goto out;
        /* A credential in the answer is kept, and the epoch moved on, before the round counts as done. */
        struct shield_diag kd = { 0 };
        json_t *refused = json_object_get(answer, "credential_refused");
        if (json_array_size(refused))
                copy_str(ret->credential_refused, sizeof ret->credential_refused,
                         json_object_get(json_array_get(refused, 0), "message"));
        else if (sealing_error[0])
                snprintf(ret->credential_refused, sizeof ret->credential_refused, "%s", sealing_error);
        if (agent_credential_keep(t, a->state_dir, json_object_get(answer, "credential"), &sealing, ret->credential_serial,
                                  &ret->credential_new, &kd) < 0) {
                shield_agent_verdict_clear(ret);
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "the sealed credential: %s", kd.msg);
                r = SHIELD_E_SYSTEM;
                goto out;
        }
out:
        agent_sealing_clear(&sealing);
        json_decref(req);
        json_decref(evidence);
        json_decref(answer);
        free(nonce);
        shield_tpm_close(t);
        return r;
}

int shield_agent_challenge(struct shield_agent *a, uint8_t **ret_nonce, size_t *ret_len, struct shield_agent_error *err) {
        json_t *answer = NULL;
        uint8_t *nonce = NULL;
        size_t nonce_len = 0;
        int status = 0;
        int r = post(a, "/v1/challenge", json_pack("{s:s}", "instance", a->name), &status, &answer, err);
        if (r < 0)
                return r;
        const char *hex = json_string_value(json_object_get(answer, "nonce"));
        if (!hex || shield_hex_decode(hex, &nonce, &nonce_len) < 0 || nonce_len == 0 || nonce_len > SHIELD_TPM_NONCE_MAX) {
                free(nonce);
                json_decref(answer);
                return protocol_error(a, "/v1/challenge", status, "its \"nonce\" is not 1 to 64 bytes of hex", err);
        }
        json_decref(answer);
        *ret_nonce = nonce;
        *ret_len = nonce_len;
        return 0;
}

int shield_agent_submit(struct shield_agent *a, const struct shield_evidence *e, struct shield_agent_verdict *ret,
                        struct shield_agent_error *err) {
        char *text = NULL;
        json_t *answer = NULL;
        int status = 0;
        if (shield_evidence_to_json(e, &text) < 0)
                return nomem(err);
        json_t *evidence = json_loads(text, 0, NULL);
        free(text);
        if (!evidence)
                return nomem(err);
        json_t *req = json_pack("{s:s, s:o}", "instance", a->name, "evidence", evidence);
        if (req && a->audience && json_object_set_new(req, "audience", json_string(a->audience)) < 0) {
                json_decref(req);
                return nomem(err);
        }
        int r = post(a, "/v1/attest", req, &status, &answer, err);
        if (r == 0)
                r = parse_verdict(a, answer, ret, err);
        json_decref(answer);
        return r;
}
