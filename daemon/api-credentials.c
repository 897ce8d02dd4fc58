/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The routes of sealed machine credentials (docs/API.md, "Credentials";
 * docs/CREDENTIALS.md): intents (admin), the machine CA's certificate and
 * CRL, a credential's status, and a route that admits only machines holding
 * a current credential (mutual TLS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "shield/credential.h"
#include "shield/crypto.h"
#include "shield/render.h"
#include "shield/util.h"

#define CRL_NEXT_UPDATE (3600u)        /* relying parties fetch the CRL at least hourly */

static bool need_ca(struct shieldd_response *rs) {
        if (shieldd_cfg.machine_ca)
                return true;
        shieldd_reply_error(rs, 503, "no-machine-ca", "this service has no machine CA");
        return false;
}

/* ---- POST /v1/intents ---- */

/* The "replace" array: [{"path", "image": base64 PE} | {"path", "sha256": hex Authenticode digest}]. */
static int parse_replacements(json_t *a, struct shield_predict_replacement *repl, uint8_t **images, size_t *ret_n,
                              struct shieldd_response *rs) {
        static const char *const allowed[] = { "path", "image", "sha256", NULL };
        size_t i;
        json_t *v;
        if (!a) {
                *ret_n = 0;
                return 0;
        }
        if (!json_is_array(a) || json_array_size(a) > SHIELD_PREDICT_REPLACEMENTS_MAX) {
                shieldd_reply_error(rs, 400, "malformed-request", "\"replace\" is an array of at most %u replacements",
                                    SHIELD_PREDICT_REPLACEMENTS_MAX);
                return -1;
        }
        json_array_foreach(a, i, v) {
                bool bad = false;
                if (!json_is_object(v) || api_unknown_keys(v, allowed, rs))
                        goto bad;
                const char *path = api_str_member(v, "path", &bad), *hex = api_str_member(v, "sha256", &bad);
                json_t *image = json_object_get(v, "image");
                if (bad || !path || !*path || strlen(path) > SHIELD_PREDICT_PATH_MAX || !hex == !image)
                        goto bad;
                repl[i].path = path;
                if (image) {
                        if (api_b64_member(v, "image", true, 256u << 20, &images[i], &repl[i].image_len, rs) < 0)
                                return -1;
                        repl[i].image = images[i];
                } else {
                        uint8_t *d = NULL;
                        size_t n = 0;
                        if (shield_hex_decode(hex, &d, &n) < 0 || n != 32) {
                                free(d);
                                goto bad;
                        }
                        repl[i].alg = SHIELD_ALG_SHA256;
                        memcpy(repl[i].digest, d, 32);
                        free(d);
                }
        }
        *ret_n = json_array_size(a);
        return 0;
bad:
        if (rs->status == 0)
                shieldd_reply_error(rs, 400, "malformed-request",
                                    "\"replace\"[%zu] is {\"path\": as the event log names it, and \"image\": base64 or "
                                    "\"sha256\": the Authenticode digest in hex}", i);
        return -1;
}

static int intent_status(int r) {
        switch (r) {
        case SHIELD_E_NOT_FOUND: return 404;
        case SHIELD_E_UNSUPPORTED:
        case SHIELD_E_VERIFY: return 422;
        case SHIELD_E_SYSTEM: return 500;
        default: return 400;
        }
}

void h_intents(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)name_unused;
        static const char *const allowed[] = { "instances", "replace", "method", "pcrs", "bank", NULL };
        struct shield_predict_replacement repl[SHIELD_PREDICT_REPLACEMENTS_MAX] = { 0 };
        uint8_t *images[SHIELD_PREDICT_REPLACEMENTS_MAX] = { 0 };
        const char *names[SHIELD_CREDENTIAL_INSTANCES_MAX];
        struct shield_intent_outcome *out = NULL;
        struct shield_diag diag = { 0 };
        bool bad = false;
        size_t n = 0, n_repl = 0, i;
        json_t *v, *j = api_body(rq, rs, allowed);
        if (!j)
                return;
        json_t *inst = json_object_get(j, "instances"), *pcrs = json_object_get(j, "pcrs");
        const char *method = api_str_member(j, "method", &bad), *bank_name = api_str_member(j, "bank", &bad);
        struct shield_intent_request ir = { .ca = shieldd_cfg.machine_ca, .validity = shieldd_cfg.credential_validity };
        if (!json_is_array(inst) || !json_array_size(inst) || json_array_size(inst) > SHIELD_CREDENTIAL_INSTANCES_MAX ||
            bad || (pcrs && !json_is_array(pcrs)))
                goto malformed;
        json_array_foreach(inst, i, v) {
                if (!json_is_string(v) || !api_valid_name(json_string_value(v)))
                        goto malformed;
                names[n++] = json_string_value(v);
        }
        if (method && strcmp(method, "sealing-key") != 0 && strcmp(method, "import") != 0)
                goto malformed;
        ir.method = method && strcmp(method, "import") == 0 ? SHIELD_CREDENTIAL_IMPORT : SHIELD_CREDENTIAL_SEALING_KEY;
        if (bank_name && shield_hash_from_name(bank_name, &ir.bank) < 0)
                goto malformed;
        json_array_foreach(pcrs, i, v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 23)
                        goto malformed;
                ir.mask |= 1u << json_integer_value(v);
        }
        if (parse_replacements(json_object_get(j, "replace"), repl, images, &n_repl, rs) < 0)
                goto out;
        if (!need_ca(rs))
                goto out;
        struct shield_store *s = api_need_store(rs);
        if (!s)
                goto out;
        ir.instances = names;
        ir.n_instances = n;
        ir.repl = repl;
        ir.n_repl = n_repl;
        int r = shield_credential_intend(s, &ir, &out, &diag);
        if (r < 0) {
                if (r == SHIELD_E_SYSTEM)
                        api_reply_store_error(rs, &diag);
                else
                        shieldd_reply_error(rs, intent_status(r), r == SHIELD_E_NOT_FOUND ? "not-found" : "cannot-predict",
                                            "%s", diag.msg[0] ? diag.msg : shield_strerror(r));
                goto out;
        }
        json_t *a = json_array();
        for (i = 0; a && i < n; i++) {
                json_t *pj = json_object();
                const struct shield_pcr_bank *b = shield_pcrs_bank_const(&out[i].predicted, out[i].bank);
                json_t *changed = json_array();
                for (unsigned p = 0; b && p < SHIELD_PCR_COUNT; p++) {
                        if (!(out[i].mask & (1u << p)))
                                continue;
                        char key[4], hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                        snprintf(key, sizeof key, "%u", p);
                        shield_hex_encode(b->value[p], b->size, hex);
                        json_object_set_new(pj, key, json_string(hex));
                        if (out[i].changed & (1u << p))
                                json_array_append_new(changed, json_integer(p));
                }
                json_array_append_new(a, json_pack("{s:s, s:I, s:s, s:o, s:o, s:I, s:s?, s:o}", "instance",
                                                   out[i].instance, "intent", (json_int_t)out[i].id, "bank",
                                                   shield_hash_name(out[i].bank), "pcrs", pj, "changed", changed,
                                                   "revoked", (json_int_t)out[i].revoked, "credential",
                                                   out[i].serial[0] ? out[i].serial : NULL, "notes",
                                                   shield_reasons_json(&out[i].notes)));
        }
        shieldd_reply_json(rs, 201, json_pack("{s:o, s:s}", "intents", a, "method",
                                              shield_credential_method_name(ir.method)));
        goto out;
malformed:
        shieldd_reply_error(rs, 400, "malformed-request",
                            "expected {\"instances\": [NAME, …], \"replace\"?: [{\"path\", \"image\"|\"sha256\"}], "
                            "\"method\"?: \"sealing-key\"|\"import\", \"pcrs\"?: [N, …], \"bank\"?: \"sha256\"}");
out:
        shield_intent_outcomes_free(out, n);
        for (i = 0; i < SHIELD_PREDICT_REPLACEMENTS_MAX; i++)
                free(images[i]);
        json_decref(j);
}

/* ---- the machine CA ---- */

void h_ca_cert(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        if (!need_ca(rs))
                return;
        char *pem = strdup(shield_machine_ca_cert_pem(shieldd_cfg.machine_ca));
        if (!pem) {
                shieldd_reply_error(rs, 500, "internal", "out of memory");
                return;
        }
        api_reply_text(rs, pem, "application/x-pem-file");
}

void h_ca_crl(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        struct shield_diag diag = { 0 };
        uint8_t *der = NULL;
        size_t len = 0;
        if (!need_ca(rs))
                return;
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        int r = shield_credential_crl(s, shieldd_cfg.machine_ca, (int64_t)time(NULL), CRL_NEXT_UPDATE, &der, &len, &diag);
        if (r < 0) {
                if (r == SHIELD_E_SYSTEM)
                        api_reply_store_error(rs, &diag);
                else
                        shieldd_reply_error(rs, 500, "crl-error", "%s", diag.msg);
                return;
        }
        rs->status = 200;
        rs->body = (char *)der;
        rs->len = len;
        rs->content_type = "application/pkix-crl";
}

/* ---- GET /v1/credentials/{serial} ---- */

void h_credential(const struct shieldd_request *rq, struct shieldd_response *rs, const char *serial) {
        (void)rq;
        struct shield_credential_record c = { 0 };
        struct shield_intent_record in = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        int r = shield_store_credential_get(s, serial, &c, &diag);
        if (r == SHIELD_E_NOT_FOUND) {
                shieldd_reply_error(rs, 404, "credential-unknown", "no credential has serial %s", serial);
                return;
        }
        if (r < 0) {
                api_reply_store_error(rs, &diag);
                return;
        }
        r = shield_store_intent_active(s, c.instance, &in, &diag);
        if (r < 0 && r != SHIELD_E_NOT_FOUND) {
                api_reply_store_error(rs, &diag);
                goto out;
        }
        shieldd_reply_json(rs, 200, shield_credential_json(&c, r == 0 ? &in : NULL, false));
out:
        shield_intent_record_clear(&in);
        shield_credential_record_clear(&c);
}

/* ---- POST /v1/cluster/join: implicit attestation ---- */

void h_cluster_join(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)name_unused;
        struct shield_reasons why = { 0 };
        struct shield_diag diag = { 0 };
        char instance[SHIELD_STORE_NAME_MAX + 1], serial[SHIELD_CA_SERIAL_HEX + 1];
        if (!need_ca(rs))
                return;
        if (!rq->client_cert) {
                shieldd_reply_error(rs, 401, "credential-required",
                                    "present a machine credential (TLS client certificate) to join");
                return;
        }
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        int r = shield_credential_authenticate(s, shieldd_cfg.machine_ca, rq->client_cert, rq->client_cert_len,
                                               (int64_t)time(NULL), instance, serial, &why, &diag);
        if (r == SHIELD_E_VERIFY || r == SHIELD_E_FORMAT) {
                const char *code = why.n ? why.items[0].code : "credential-invalid";
                shieldd_reply_json(rs, 403, json_pack("{s:s, s:s, s:o}", "error", code, "message",
                                                      why.n ? why.items[0].message : diag.msg, "reasons",
                                                      shield_reasons_json(&why)));
                rs->reason = why.n ? why.items[0].code : "credential-invalid";
        } else if (r < 0) {
                api_reply_store_error(rs, &diag);
        } else {
                shieldd_log("%s joined with credential %s", instance, serial);
                shieldd_reply_json(rs, 200, json_pack("{s:b, s:s, s:s}", "joined", true, "instance", instance, "serial",
                                                      serial));
        }
        shield_reasons_clear(&why);
}
