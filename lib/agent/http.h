/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* JSON over HTTP(S) to shieldd with libcurl; http.c is the only file here that includes <curl/curl.h>. */
#include <jansson.h>

#include "shield/agent.h"

struct agent_http;

/* A client for base (no trailing '/'); options as in struct shield_agent_options. */
__attribute__((warn_unused_result))
int agent_http_new(const char *base, const struct shield_agent_options *o, struct agent_http **ret,
                   struct shield_agent_error *err);
void agent_http_free(struct agent_http *h);

/*
 * POST body (JSON) to base + path and parse the answer. A 2xx answer must
 * be a JSON object (or empty for 204): *ret_json (NULL for 204) and
 * *ret_status are set. Anything else fills err with the URL, the status and
 * the service's {"error", "message"}: SHIELD_E_SYSTEM when no answer came,
 * SHIELD_E_VERIFY for 401/403, SHIELD_E_NOT_FOUND for 404, SHIELD_E_FORMAT
 * for other statuses or a malformed body.
 */
__attribute__((warn_unused_result))
int agent_http_post(struct agent_http *h, const char *path, json_t *body, int *ret_status, json_t **ret_json,
                    struct shield_agent_error *err);

/* The same for any method (GET sends no body; body NULL sends none), with an optional bearer token. */
__attribute__((warn_unused_result))
int agent_http_call(struct agent_http *h, const char *method, const char *path, json_t *body, const char *bearer,
                    int *ret_status, json_t **ret_json, struct shield_agent_error *err);

/* path-segment escape of s (malloc'd), NULL on allocation failure. */
char *agent_http_escape(struct agent_http *h, const char *s);

/* Fill err (kind, status, code) and format its message. */
void agent_fail(struct shield_agent_error *err, enum shield_agent_failure kind, int status, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
