/* SPDX-License-Identifier: Apache-2.0 */
/* "shieldkit-evidence/1" JSON (docs/FORMATS.md). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "shield/evidence.h"
#include "shield/util.h"

void shield_evidence_free(struct shield_evidence *e) {
        if (!e)
                return;
        free(e->producer);
        free(e->nonce);
        free(e->eventlog);
        free(e->ima_log);
        shield_quote_clear(&e->quote);
        free(e->ak_public);
        free(e->ak_cert);
        free(e->ek_cert);
        free(e->ek_public);
        free(e->sealing.key_public);
        free(e->sealing.certify_attest);
        free(e->sealing.certify_signature);
        free(e->sealing.epoch_nv_public);
        for (size_t i = 0; i < e->n_notes; i++)
                free(e->notes[i]);
        memset(e, 0, sizeof *e);
        e->secure_boot = e->setup_mode = -1;
}

int shield_evidence_add_note(struct shield_evidence *e, const char *note) {
        if (!e || !note)
                return SHIELD_E_INVAL;
        if (e->n_notes >= SHIELD_EVIDENCE_NOTES_MAX)
                return SHIELD_E_LIMIT;
        char *copy = strdup(note);
        if (!copy)
                return SHIELD_E_NOMEM;
        e->notes[e->n_notes++] = copy;
        return 0;
}

/* Set key to base64(buf); returns false on ENOMEM. */
static bool set_b64(json_t *obj, const char *key, const uint8_t *buf, size_t len) {
        char *s = shield_base64_encode(buf, len);
        if (!s)
                return false;
        bool ok = json_object_set_new(obj, key, json_string(s)) == 0;
        free(s);
        return ok;
}

static json_t *tristate(int v) {
        return v < 0 ? json_null() : json_boolean(v);
}

int shield_evidence_to_json(const struct shield_evidence *e, char **ret) {
        if (!e || !ret || e->nonce_len > SHIELD_TPM_NONCE_MAX || (e->nonce_len && !e->nonce) ||
            !e->quote.attest != !e->quote.signature)
                return SHIELD_E_INVAL;

        int r = SHIELD_E_NOMEM;
        char hex[2 * SHIELD_TPM_NONCE_MAX + 1];
        json_t *root = json_object(), *quote = json_object(), *ak = json_object(), *pcrs = NULL;
        if (!root || !quote || !ak)
                goto out;
        shield_hex_encode(e->nonce, e->nonce_len, hex);
        if (json_object_set_new(root, "format", json_string(SHIELD_EVIDENCE_FORMAT)) ||
            json_object_set_new(root, "producer", json_string(e->producer ? e->producer : "")) ||
            (e->nonce_len && json_object_set_new(root, "nonce", json_string(hex))) ||
            json_object_set_new(root, "secure_boot", tristate(e->secure_boot)) ||
            json_object_set_new(root, "setup_mode", tristate(e->setup_mode)))
                goto out;
        if (e->has_pcrs) {
                char *text = shield_pcrs_to_json(&e->pcrs);
                if (!text)
                        goto out;
                pcrs = json_loads(text, 0, NULL);
                free(text);
                if (!pcrs || json_object_set(root, "pcrs", pcrs))
                        goto out;
        }
        if (e->eventlog && !set_b64(root, "eventlog", e->eventlog, e->eventlog_len))
                goto out;
        if (e->ima_log && !set_b64(root, "ima_log", e->ima_log, e->ima_log_len))
                goto out;
        if (e->quote.attest && (!set_b64(quote, "attest", e->quote.attest, e->quote.attest_len) ||
                                !set_b64(quote, "signature", e->quote.signature, e->quote.signature_len) ||
                                json_object_set(root, "quote", quote)))
                goto out;
        if ((e->ak_public || e->ak_cert) &&
            ((e->ak_public && !set_b64(ak, "public", e->ak_public, e->ak_public_len)) ||
                             (e->ak_cert && !set_b64(ak, "certificate", e->ak_cert, e->ak_cert_len)) ||
                             json_object_set(root, "ak", ak)))
                goto out;
        if (e->ek_cert && !set_b64(root, "ek_certificate", e->ek_cert, e->ek_cert_len))
                goto out;
        if (e->ek_public && !set_b64(root, "ek_public", e->ek_public, e->ek_public_len))
                goto out;
        if (e->sealing.intent > 0) {
                const struct shield_evidence_sealing *k = &e->sealing;
                json_t *sk = json_pack("{s:I}", "intent", (json_int_t)k->intent), *cert = json_object(), *ep = NULL;
                if (!sk || !cert || json_object_set_new(root, "sealing_key", sk) || json_object_set_new(sk, "certify", cert) ||
                    !set_b64(sk, "public", k->key_public, k->key_public_len) ||
                    !set_b64(cert, "attest", k->certify_attest, k->certify_attest_len) ||
                    !set_b64(cert, "signature", k->certify_signature, k->certify_signature_len))
                        goto out;
                if (k->epoch_nv_public && (!(ep = json_pack("{s:I}", "value", (json_int_t)k->epoch)) ||
                                           json_object_set_new(sk, "epoch", ep) ||
                                           !set_b64(ep, "nv_public", k->epoch_nv_public, k->epoch_nv_public_len)))
                        goto out;
        }
        if (e->n_notes) {
                json_t *notes = json_array();
                if (!notes || json_object_set_new(root, "notes", notes))
                        goto out;
                for (size_t i = 0; i < e->n_notes; i++)
                        if (json_array_append_new(notes, json_string(e->notes[i])))
                                goto out;
        }
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                goto out;
        *ret = text;
        r = 0;
out:
        json_decref(pcrs);
        json_decref(quote);
        json_decref(ak);
        json_decref(root);
        return r;
}

/* Parsing. Each helper records the failing key in diag. */

static int get_b64(json_t *obj, const char *key, bool required, size_t max, uint8_t **ret, size_t *ret_len,
                   struct shield_diag *diag) {
        json_t *v = json_object_get(obj, key);
        if (!v) {
                if (required)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" is missing", key);
                return 0;
        }
        if (!json_is_string(v))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" must be a base64 string", key);
        size_t slen = json_string_length(v);
        if (slen / 2 > max + 1024) /* base64 with room for whitespace; the decoded size is checked below */
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "\"%s\" is over %zu bytes", key, max);
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = shield_base64_decode(json_string_value(v), slen, &buf, &len);
        if (r < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" is not valid base64", key);
        if (len > max) {
                free(buf);
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "\"%s\" is %zu bytes, over %zu", key, len, max);
        }
        if (required && len == 0) {
                free(buf);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" is empty", key);
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return SHIELD_E_NOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

static int get_tristate(json_t *obj, const char *key, int *ret, struct shield_diag *diag) {
        json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v))
                *ret = -1;
        else if (json_is_boolean(v))
                *ret = json_is_true(v);
        else
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" must be true, false or null", key);
        return 0;
}

static int check_keys(json_t *obj, const char *where, const char *const *known, struct shield_diag *diag) {
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v) {
                bool ok = false;
                for (size_t i = 0; known[i] && !ok; i++)
                        ok = strcmp(key, known[i]) == 0;
                if (!ok)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "unknown key \"%s\" in %s", key, where);
        }
        return 0;
}

/* "sealing_key": absent, or complete. */
static int parse_sealing(json_t *sk, struct shield_evidence_sealing *k, struct shield_diag *diag) {
        static const char *const keys[] = { "intent", "public", "certify", "epoch", NULL };
        static const char *const certify_keys[] = { "attest", "signature", NULL };
        static const char *const epoch_keys[] = { "nv_public", "value", NULL };
        int r;

        if (!sk)
                return 0;
        json_t *intent = json_object_get(sk, "intent"), *cert = json_object_get(sk, "certify"),
               *ep = json_object_get(sk, "epoch");
        if (!json_is_object(sk) || (r = check_keys(sk, "\"sealing_key\"", keys, diag)) < 0 || !json_is_integer(intent) ||
            json_integer_value(intent) <= 0 || !json_is_object(cert) || (ep && !json_is_object(ep)))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "\"sealing_key\" is {\"intent\": a positive integer, \"public\", \"certify\": "
                                        "{\"attest\", \"signature\"}, \"epoch\"?: {\"nv_public\", \"value\"}}");
        k->intent = json_integer_value(intent);
        if ((r = get_b64(sk, "public", true, SHIELD_TPM_PUBLIC_MAX, &k->key_public, &k->key_public_len, diag)) < 0 ||
            (r = check_keys(cert, "\"sealing_key.certify\"", certify_keys, diag)) < 0 ||
            (r = get_b64(cert, "attest", true, SHIELD_TPM_ATTEST_MAX, &k->certify_attest, &k->certify_attest_len, diag)) < 0 ||
            (r = get_b64(cert, "signature", true, SHIELD_TPM_SIGNATURE_MAX, &k->certify_signature,
                         &k->certify_signature_len, diag)) < 0)
                return r;
        if (ep) {
                json_t *value = json_object_get(ep, "value");
                if ((r = check_keys(ep, "\"sealing_key.epoch\"", epoch_keys, diag)) < 0)
                        return r;
                if (!json_is_integer(value) || json_integer_value(value) < 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                "\"sealing_key.epoch.value\" must be a non-negative integer");
                k->epoch = (uint64_t)json_integer_value(value);
                if ((r = get_b64(ep, "nv_public", true, 128, &k->epoch_nv_public, &k->epoch_nv_public_len, diag)) < 0)
                        return r;
        }
        return 0;
}

int shield_evidence_parse_json(const char *text, size_t len, struct shield_evidence *ret, struct shield_diag *diag) {
        static const char *const top_keys[] = { "format", "producer", "nonce", "secure_boot", "setup_mode", "pcrs",
                                                "eventlog", "ima_log", "quote", "ak", "ek_certificate", "ek_public", "notes",
                                                "sealing_key", NULL };
        static const char *const quote_keys[] = { "attest", "signature", NULL };
        static const char *const ak_keys[] = { "public", "certificate", NULL };
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1 };
        json_error_t jerr;
        json_t *root = NULL, *v;
        int r;

        if (!text || !ret)
                return SHIELD_E_INVAL;
        if (len > SHIELD_EVIDENCE_JSON_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "evidence is %zu bytes, over %u", len,
                                        SHIELD_EVIDENCE_JSON_MAX);
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)jerr.position, -1, "not JSON: %s (line %d)",
                                        jerr.text, jerr.line);
        r = SHIELD_E_FORMAT;
        if (!json_is_object(root)) {
                shield_diag_fail(diag, r, 0, -1, "evidence must be a JSON object");
                goto out;
        }
        v = json_object_get(root, "format");
        if (!json_is_string(v) || strcmp(json_string_value(v), SHIELD_EVIDENCE_FORMAT) != 0) {
                shield_diag_fail(diag, v ? SHIELD_E_UNSUPPORTED : SHIELD_E_FORMAT, 0, -1,
                                 "\"format\" must be \"%s\"%s", SHIELD_EVIDENCE_FORMAT, v ? "" : " (missing)");
                r = v ? SHIELD_E_UNSUPPORTED : SHIELD_E_FORMAT;
                goto out;
        }
        if ((r = check_keys(root, "the evidence", top_keys, diag)) < 0)
                goto out;
        r = SHIELD_E_FORMAT;

        v = json_object_get(root, "producer");
        if (v) {
                if (!json_is_string(v) || json_string_length(v) > SHIELD_EVIDENCE_PRODUCER_MAX ||
                    strlen(json_string_value(v)) != json_string_length(v)) {
                        shield_diag_fail(diag, r, 0, -1, "\"producer\" must be a string of at most %d bytes",
                                         SHIELD_EVIDENCE_PRODUCER_MAX);
                        goto out;
                }
                e.producer = strdup(json_string_value(v));
                if (!e.producer) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
        }
        v = json_object_get(root, "nonce");
        if (v && (!json_is_string(v) || json_string_length(v) > 2 * SHIELD_TPM_NONCE_MAX ||
                  shield_hex_decode(json_string_value(v), &e.nonce, &e.nonce_len) < 0 || e.nonce_len == 0)) {
                shield_diag_fail(diag, r, 0, -1, "\"nonce\" must be 1 to %d bytes of hex", SHIELD_TPM_NONCE_MAX);
                goto out;
        }
        if ((r = get_tristate(root, "secure_boot", &e.secure_boot, diag)) < 0 ||
            (r = get_tristate(root, "setup_mode", &e.setup_mode, diag)) < 0)
                goto out;

        v = json_object_get(root, "pcrs");
        if (v) {
                char *sub = json_is_object(v) ? json_dumps(v, JSON_COMPACT) : NULL;
                if (!sub) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"pcrs\" must be a PCRS.json object");
                        goto out;
                }
                struct shield_diag pd = { 0 };
                r = shield_pcrs_parse_json(sub, strlen(sub), &e.pcrs, &pd);
                free(sub);
                if (r < 0) {
                        shield_diag_fail(diag, r, 0, -1, "\"pcrs\": %s", pd.msg);
                        goto out;
                }
                e.has_pcrs = true;
        }
        if ((r = get_b64(root, "eventlog", false, SHIELD_EVIDENCE_LOG_MAX, &e.eventlog, &e.eventlog_len, diag)) < 0 ||
            (r = get_b64(root, "ima_log", false, SHIELD_EVIDENCE_LOG_MAX, &e.ima_log, &e.ima_log_len, diag)) < 0 ||
            (r = get_b64(root, "ek_certificate", false, SHIELD_TPM_CERT_MAX, &e.ek_cert, &e.ek_cert_len, diag)) < 0 ||
            (r = get_b64(root, "ek_public", false, SHIELD_TPM_PUBLIC_MAX, &e.ek_public, &e.ek_public_len, diag)) < 0)
                goto out;

        /* Both are optional (a guest that could not quote still reports its logs), complete when present. */
        json_t *quote = json_object_get(root, "quote"), *ak = json_object_get(root, "ak");
        if ((quote && !json_is_object(quote)) || (ak && !json_is_object(ak))) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"%s\" must be an object",
                                     quote && !json_is_object(quote) ? "quote" : "ak");
                goto out;
        }
        if (quote && ((r = check_keys(quote, "\"quote\"", quote_keys, diag)) < 0 ||
                      (r = get_b64(quote, "attest", true, SHIELD_TPM_ATTEST_MAX, &e.quote.attest, &e.quote.attest_len,
                                   diag)) < 0 ||
                      (r = get_b64(quote, "signature", true, SHIELD_TPM_SIGNATURE_MAX, &e.quote.signature,
                                   &e.quote.signature_len, diag)) < 0))
                goto out;
        if (ak && ((r = check_keys(ak, "\"ak\"", ak_keys, diag)) < 0 ||
                   (r = get_b64(ak, "public", false, SHIELD_TPM_PUBLIC_MAX, &e.ak_public, &e.ak_public_len, diag)) < 0 ||
                   (r = get_b64(ak, "certificate", false, SHIELD_TPM_CERT_MAX, &e.ak_cert, &e.ak_cert_len, diag)) < 0))
                goto out;

        if ((r = parse_sealing(json_object_get(root, "sealing_key"), &e.sealing, diag)) < 0)
                goto out;

        v = json_object_get(root, "notes");
        if (v) {
                size_t i;
                json_t *n;
                if (!json_is_array(v) || json_array_size(v) > SHIELD_EVIDENCE_NOTES_MAX) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "\"notes\" must be an array of at most %d strings",
                                             SHIELD_EVIDENCE_NOTES_MAX);
                        goto out;
                }
                json_array_foreach(v, i, n) {
                        if (!json_is_string(n) || json_string_length(n) > 1024 ||
                            strlen(json_string_value(n)) != json_string_length(n)) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, (long)i,
                                                     "\"notes\"[%zu] must be a string of at most 1024 bytes", i);
                                goto out;
                        }
                        if ((r = shield_evidence_add_note(&e, json_string_value(n))) < 0)
                                goto out;
                }
        }
        *ret = e;
        memset(&e, 0, sizeof e);
        r = 0;
out:
        shield_evidence_free(&e);
        json_decref(root);
        return r;
}
