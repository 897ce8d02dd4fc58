/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route table: every route of docs/API.md once, with its method and
 * whether it needs the admin token. The dispatcher matches the path, checks
 * the method (405 with Allow) and the admin token (401), and calls the
 * handler; the handlers never route.
 */
#include <string.h>

#include "api.h"

struct route {
        const char *method;     /* "GET" also answers HEAD */
        const char *pattern;    /* a path; "*" stands for one {name} segment; a trailing "*" for the rest */
        api_handler *handler;
        bool needs_admin;
};

static const struct route routes[] = {
        { "POST", "/v1/instances", h_register, false },
        { "GET", "/v1/instances", h_list, false },
        { "GET", "/v1/instances/*", h_get, false },
        { "DELETE", "/v1/instances/*", h_delete, true },
        { "POST", "/v1/instances/*/activate", h_activate, false },
        { "POST", "/v1/instances/*/golden/reset", h_golden_reset, true },
        { "POST", "/v1/instances/*/migrate", h_migrate, true },
        { "POST", "/v1/instances/*/policy", h_policy, true },
        { "POST", "/v1/challenge", h_challenge, false },
        { "POST", "/v1/attest", h_attest, false },
        { "POST", "/v1/intents", h_intents, true },
        { "GET", "/v1/ca/cert", h_ca_cert, false },
        { "GET", "/v1/ca/crl", h_ca_crl, false },
        { "GET", "/v1/credentials/*", h_credential, false },
        { "POST", "/v1/cluster/join", h_cluster_join, false },
        { "GET", "/.well-known/openid-configuration", h_openid, false },
        { "GET", "/jwks", h_jwks, false },
        { "GET", "/metrics", h_metrics, false },
        { "GET", "/", h_index, false },
        { "GET", "/index.html", h_index, false },
};

/*
 * Whether path matches pattern; the "*" segment is copied into name
 * (at most SHIELD_STORE_NAME_MAX bytes, no '/').
 */
static bool match(const char *pattern, const char *path, char name[SHIELD_STORE_NAME_MAX + 1], bool *has_name) {
        *has_name = false;
        while (*pattern) {
                if (*pattern == '*') {
                        const char *end = strchr(path, '/');
                        size_t n = end ? (size_t)(end - path) : strlen(path);
                        if (n == 0 || n > SHIELD_STORE_NAME_MAX)
                                return false;
                        memcpy(name, path, n);
                        name[n] = '\0';
                        *has_name = true;
                        path += n;
                        pattern++;
                        continue;
                }
                if (*pattern++ != *path++)
                        return false;
        }
        return *path == '\0';
}

static void method_not_allowed(struct shieldd_response *rs, const char *allow) {
        shieldd_reply_error(rs, 405, "method-not-allowed", "allowed: %s", allow);
        rs->allow = allow;
}

void shieldd_api_handle(const struct shieldd_request *rq, struct shieldd_response *rs) {
        static __thread char allow[64];
        char name[SHIELD_STORE_NAME_MAX + 1];
        bool has_name = false, path_known = false;
        bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;

        allow[0] = '\0';
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
                const struct route *rt = &routes[i];
                if (!match(rt->pattern, rq->path, name, &has_name))
                        continue;
                path_known = true;
                if (strcmp(rt->method, rq->method) != 0 && !(get && strcmp(rt->method, "GET") == 0)) {
                        if (!strstr(allow, rt->method) && strlen(allow) + strlen(rt->method) + 3 < sizeof allow) {
                                if (allow[0])
                                        strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
                                strncat(allow, rt->method, sizeof allow - strlen(allow) - 1);
                        }
                        continue;
                }
                if (has_name && !api_valid_name(name)) {
                        shieldd_reply_error(rs, 404, "instance-unknown", "no instance of that name is registered");
                        return;
                }
                if (rt->needs_admin && !api_require_admin(rq, rs))
                        return;
                rt->handler(rq, rs, has_name ? name : NULL);
                return;
        }
        if (path_known) {
                method_not_allowed(rs, allow);
                return;
        }
        /* The dashboard's files: read-only, no traversal. */
        if (strncmp(rq->path, "/static/", 8) == 0) {
                if (!get)
                        method_not_allowed(rs, "GET");
                else if (strstr(rq->path, "..") || !api_serve_asset(rs, rq->path + 8))
                        shieldd_reply_error(rs, 404, "not-found", "no such route");
                return;
        }
        shieldd_reply_error(rs, 404, "not-found", "no such route");
}
