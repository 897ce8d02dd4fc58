/* SPDX-License-Identifier: Apache-2.0 */
/* What every route shares: replies, body members, the store handle, the admin check. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "shield/crypto.h"
#include "shield/util.h"



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

void api_reply_store_error(struct shieldd_response *rs, const struct shield_diag *diag) {
        shieldd_metrics_store_error();
        shieldd_log("store: %s", diag && diag->msg[0] ? diag->msg : "failed");
        shieldd_reply_error(rs, 500, "store-error", "the store failed; see the service log");
}

struct shield_store *api_need_store(struct shieldd_response *rs) {
        struct shield_store *s = shieldd_store();
        if (!s)
                shieldd_reply_error(rs, 503, "store-unavailable", "the store cannot be opened; see the service log");
        return s;
}

json_t *api_parse_body(const struct shieldd_request *rq, struct shieldd_response *rs) {
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
const char *api_str_member(json_t *o, const char *key, bool *bad) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return NULL;
        if (!json_is_string(v)) {
                *bad = true;
                return NULL;
        }
        return json_string_value(v);
}

bool api_unknown_keys(json_t *o, const char *const *allowed, struct shieldd_response *rs) {
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
bool api_valid_name(const char *name) {
        return name && shield_name_valid(name);
}

int api_b64_member(json_t *o, const char *key, bool required, size_t max, uint8_t **ret, size_t *ret_len,
                      struct shieldd_response *rs) {
        bool bad = false;
        const char *s = api_str_member(o, key, &bad);
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

void api_iso_time(int64_t t, char out[32]) {
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double api_now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool api_is_admin(const struct shieldd_request *rq) {
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


/* The registered instance name into *ret, or answer 404 / 500 and return -1. */
int api_get_instance(struct shieldd_response *rs, struct shield_store *s, const char *name,
                        struct shield_instance_record *ret) {
        struct shield_diag diag = { 0 };
        int r = shield_store_instance_get(s, name, ret, &diag);
        if (r == SHIELD_E_NOT_FOUND) {
                shieldd_reply_error(rs, 404, "instance-unknown", "no instance of that name is registered");
                return -1;
        }
        if (r < 0) {
                api_reply_store_error(rs, &diag);
                return -1;
        }
        return 0;
}

bool api_require_admin(const struct shieldd_request *rq, struct shieldd_response *rs) {
        if (api_is_admin(rq))
                return true;
        shieldd_reply_error(rs, 401, "unauthorized", "this call needs the admin bearer token");
        return false;
}

const char *api_colour_or_null(int c) {
        return c >= 0 ? shield_colour_name((enum shield_colour)c) : NULL;
}

json_t *api_load_or_null(const char *text) {
        json_t *v = text ? json_loads(text, 0, NULL) : NULL;
        return v ? v : json_null();
}

json_t *api_body(const struct shieldd_request *rq, struct shieldd_response *rs, const char *const *allowed) {
        json_t *j = api_parse_body(rq, rs);
        if (j && api_unknown_keys(j, allowed, rs)) {
                json_decref(j);
                return NULL;
        }
        return j;
}

void api_reply_text(struct shieldd_response *rs, char *text, const char *content_type) {
        free(rs->body);
        rs->status = 200;
        rs->body = text;
        rs->body_static = false;
        rs->len = strlen(text);
        rs->content_type = content_type;
}
