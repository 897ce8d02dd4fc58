/* SPDX-License-Identifier: Apache-2.0 */
/* JSON over HTTP(S) with libcurl, and error messages a user can act on. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/http.h"

#define CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L

struct agent_http {
        CURL *curl;
        char *base;
        bool (*cancelled)(void *userdata);
        void *userdata;
        char errbuf[CURL_ERROR_SIZE];
};

struct body {
        char *p;
        size_t len, cap;
        bool too_big;
};

void agent_fail(struct shield_agent_error *err, enum shield_agent_failure kind, int status, const char *code,
                const char *fmt, ...) {
        if (!err)
                return;
        err->kind = kind;
        err->http_status = status;
        snprintf(err->code, sizeof err->code, "%s", code ? code : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
}

static size_t on_write(char *data, size_t size, size_t n, void *userdata) {
        struct body *b = userdata;
        size_t len = size * n; /* curl guarantees size == 1 */
        if (len > SHIELD_AGENT_BODY_MAX - b->len) {
                b->too_big = true;
                return 0;
        }
        if (len + 1 > b->cap - b->len) {
                size_t cap = b->cap ? b->cap : 4096;
                while (len + 1 > cap - b->len)
                        cap *= 2;
                char *p = realloc(b->p, cap);
                if (!p)
                        return 0;
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, data, len);
        b->len += len;
        b->p[b->len] = '\0';
        return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
        const struct agent_http *h = userdata;
        return h->cancelled && h->cancelled(h->userdata) ? 1 : 0;
}

int agent_http_new(const char *base, const struct shield_agent_options *o, struct agent_http **ret,
                   struct shield_agent_error *err) {
        /* Reference-counted since curl 7.84; the agent is single-threaded anyway. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "libcurl could not be initialised");
                return SHIELD_E_SYSTEM;
        }
        struct agent_http *h = calloc(1, sizeof *h);
        if (!h || !(h->base = strdup(base)) || !(h->curl = curl_easy_init())) {
                if (h)
                        free(h->base);
                free(h);
                curl_global_cleanup();
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
                return SHIELD_E_NOMEM;
        }
        h->cancelled = o->cancelled;
        h->userdata = o->userdata;
        CURL *c = h->curl;
        long timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_USERAGENT, o->producer ? o->producer : "shield agent");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        /* Verification stays on unless asked otherwise; --cacert adds the service's own CA. */
        if (o->cacert)
                curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
        if (o->insecure) {
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        *ret = h;
        return 0;
}

void agent_http_free(struct agent_http *h) {
        if (!h)
                return;
        curl_easy_cleanup(h->curl);
        free(h->base);
        free(h);
        curl_global_cleanup();
}

char *agent_http_escape(struct agent_http *h, const char *s) {
        char *e = curl_easy_escape(h->curl, s, 0);
        if (!e)
                return NULL;
        char *copy = strdup(e);
        curl_free(e);
        return copy;
}

/* A short, printable excerpt of a body that is not the service's JSON error (a proxy's HTML page…). */
static void excerpt(const struct body *b, char *out, size_t n) {
        size_t j = 0;
        for (size_t i = 0; i < b->len && j + 1 < n && i < 160; i++) {
                unsigned char ch = (unsigned char)b->p[i];
                out[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
        }
        out[j] = '\0';
}

static int http_status_error(const char *method, const char *url, long status, const struct body *b, struct shield_agent_error *err) {
        json_t *j = b->len ? json_loadb(b->p, b->len, 0, NULL) : NULL;
        const char *code = j ? json_string_value(json_object_get(j, "error")) : NULL;
        const char *message = j ? json_string_value(json_object_get(j, "message")) : NULL;
        if (code || message)
                agent_fail(err, SHIELD_AGENT_FAIL_HTTP, (int)status, code, "%s %s: HTTP %ld %s%s%s", method, url, status,
                           code ? code : "", code && message ? ": " : "", message ? message : "");
        else {
                char ex[161];
                excerpt(b, ex, sizeof ex);
                agent_fail(err, SHIELD_AGENT_FAIL_HTTP, (int)status, NULL, "%s %s: HTTP %ld%s%s", method, url, status,
                           ex[0] ? ": " : " (empty body)", ex);
        }
        json_decref(j);
        if (status == 401 || status == 403)
                return SHIELD_E_VERIFY;
        return status == 404 ? SHIELD_E_NOT_FOUND : SHIELD_E_FORMAT;
}

int agent_http_post(struct agent_http *h, const char *path, json_t *body, int *ret_status, json_t **ret_json,
                    struct shield_agent_error *err) {
        return agent_http_call(h, "POST", path, body, NULL, ret_status, ret_json, err);
}

int agent_http_call(struct agent_http *h, const char *method, const char *path, json_t *body, const char *bearer,
                    int *ret_status, json_t **ret_json, struct shield_agent_error *err) {
        struct body b = { 0 };
        struct curl_slist *headers = NULL, *hl;
        char *url = NULL, *text = NULL;
        json_t *j = NULL;
        int r;

        if (asprintf(&url, "%s%s", h->base, path) < 0) {
                url = NULL;
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
                return SHIELD_E_NOMEM;
        }
        char *auth = NULL;
        text = body ? json_dumps(body, JSON_COMPACT) : strdup("");
        if (text && (headers = curl_slist_append(NULL, "Content-Type: application/json")) &&
            (hl = curl_slist_append(headers, "Accept: application/json")) && (headers = hl) &&
            (!bearer || (asprintf(&auth, "Authorization: Bearer %s", bearer) >= 0 &&
                         (hl = curl_slist_append(headers, auth)) && (headers = hl)))) {
                /* headers complete */
        } else {
                agent_fail(err, SHIELD_AGENT_FAIL_LOCAL, 0, NULL, "out of memory");
                r = SHIELD_E_NOMEM;
                goto out;
        }
        CURL *c = h->curl;
        h->errbuf[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        if (strcmp(method, "GET") == 0) {
                curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
                if (strcmp(method, "POST") != 0)
                        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        CURLcode cr = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
        if (cr == CURLE_ABORTED_BY_CALLBACK) {
                agent_fail(err, SHIELD_AGENT_FAIL_CANCELLED, 0, NULL, "%s %s: cancelled", method, url);
                r = SHIELD_E_SYSTEM;
                goto out;
        }
        if (cr == CURLE_WRITE_ERROR && b.too_big) {
                agent_fail(err, SHIELD_AGENT_FAIL_PROTOCOL, 0, NULL, "%s %s: the answer is over %u bytes", method, url,
                           SHIELD_AGENT_BODY_MAX);
                r = SHIELD_E_LIMIT;
                goto out;
        }
        if (cr != CURLE_OK) {
                const char *hint = "";
                if (cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_SSL_CACERT_BADFILE)
                        hint = " (give the service's CA with --cacert FILE)";
                else if (cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST ||
                         cr == CURLE_OPERATION_TIMEDOUT)
                        hint = " (is the service running and reachable?)";
                agent_fail(err, SHIELD_AGENT_FAIL_NETWORK, 0, NULL, "%s %s: %s%s", method, url,
                           h->errbuf[0] ? h->errbuf : curl_easy_strerror(cr), hint);
                r = SHIELD_E_SYSTEM;
                goto out;
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
                r = http_status_error(method, url, status, &b, err);
                goto out;
        }
        if (status != 204 || b.len) {
                json_error_t je;
                j = json_loadb(b.p ? b.p : "", b.len, 0, &je);
                if (!json_is_object(j)) {
                        agent_fail(err, SHIELD_AGENT_FAIL_PROTOCOL, (int)status, NULL,
                                   "%s %s: HTTP %ld but the answer is not a JSON object (%s)", method, url, status,
                                   j ? "another JSON type" : je.text);
                        r = SHIELD_E_FORMAT;
                        goto out;
                }
        }
        *ret_status = (int)status;
        *ret_json = j; /* transferred */
        j = NULL;
        r = 0;
out:
        json_decref(j);
        curl_slist_free_all(headers);
        if (auth) {
                explicit_bzero(auth, strlen(auth));
                free(auth);
        }
        /* The body may hold a secret (activation) or a nonce: scrub before freeing. */
        if (text) {
                explicit_bzero(text, strlen(text));
                free(text);
        }
        if (b.p) {
                explicit_bzero(b.p, b.len);
                free(b.p);
        }
        free(url);
        return r;
}
