/* SPDX-License-Identifier: Apache-2.0 */
/* Public documents: OIDC discovery, the JWKS, metrics, the dashboard. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"

/* ---- tokens ---- */
void h_openid(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        char jwks[600];
        snprintf(jwks, sizeof jwks, "%s/jwks", shieldd_cfg.issuer);
        shieldd_reply_json(rs, 200, json_pack("{s:s, s:s, s:[s], s:[s], s:[s], s:[s]}", "issuer", shieldd_cfg.issuer,
                                              "jwks_uri", jwks, "id_token_signing_alg_values_supported",
                                              shieldd_cfg.token_alg, "response_types_supported", "id_token",
                                              "subject_types_supported", "public", "claims_supported", "shield_colour"));
}

void h_jwks(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        struct shield_diag diag = { 0 };
        char *text = NULL;
        struct shield_store *s = api_need_store(rs);
        if (!s)
                return;
        if (shieldd_jwks(s, &text, &diag) < 0) {
                api_reply_store_error(rs, &diag);
                return;
        }
        api_reply_text(rs, text, "application/jwk-set+json");
}

void h_metrics(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        char *text = shieldd_metrics_text();
        if (!text) {
                shieldd_reply_error(rs, 500, "internal", "out of memory");
                return;
        }
        api_reply_text(rs, text, "text/plain; version=0.0.4; charset=utf-8");
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

bool api_serve_asset(struct shieldd_response *rs, const char *path) {
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

void h_index(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name_unused) {
        (void)rq;
        (void)name_unused;
        static char not_built[] =
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>shieldd</title></head>\n"
                "<body><h1>shieldd</h1><p>The dashboard is not built: daemon/dashboard/ held no files when this "
                "shieldd was compiled. The API is at <code>/v1/instances</code>.</p></body></html>\n";
        if (api_serve_asset(rs, "index.html"))
                return;
        rs->status = 200;
        rs->body = not_built;
        rs->len = sizeof not_built - 1;
        rs->body_static = true;
        rs->content_type = "text/html; charset=utf-8";
}
