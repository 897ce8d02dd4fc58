/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The API's internals shared between its files: the route handlers (one
 * file per audience: api-machines.c, api-operators.c, api-public.c), the
 * helpers every route uses (api-util.c), and the route table (api.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "shield/store.h"
#include "shieldd.h"

#define JSON_TYPE "application/json"

/* A route's handler. name is the {name} path segment (validated), NULL for routes without one. */
typedef void api_handler(const struct shieldd_request *rq, struct shieldd_response *rs, const char *name);

api_handler h_register, h_activate, h_challenge, h_attest;                   /* machines */
api_handler h_list, h_get, h_golden_reset, h_delete, h_migrate, h_policy;     /* operators */
api_handler h_openid, h_jwks, h_metrics, h_index;                             /* public */
api_handler h_intents, h_ca_cert, h_ca_crl, h_credential, h_cluster_join;     /* credentials */

/* Helpers (api-util.c). Those that answer leave rs set and return NULL / -1 / false. */
void api_reply_store_error(struct shieldd_response *rs, const struct shield_diag *diag);
struct shield_store *api_need_store(struct shieldd_response *rs);
json_t *api_parse_body(const struct shieldd_request *rq, struct shieldd_response *rs);
/* Answer 200 with text (malloc'd; taken) of that type. */
void api_reply_text(struct shieldd_response *rs, char *text, const char *content_type);
/* The body as a JSON object whose members are all in allowed (NULL-terminated); else answered, NULL. */
json_t *api_body(const struct shieldd_request *rq, struct shieldd_response *rs, const char *const *allowed);
const char *api_str_member(json_t *o, const char *key, bool *bad);
bool api_unknown_keys(json_t *o, const char *const *allowed, struct shieldd_response *rs);
bool api_valid_name(const char *name);
int api_b64_member(json_t *o, const char *key, bool required, size_t max, uint8_t **ret, size_t *ret_len,
                   struct shieldd_response *rs);
void api_iso_time(int64_t t, char out[32]);
double api_now_seconds(void);
bool api_is_admin(const struct shieldd_request *rq);
bool api_require_admin(const struct shieldd_request *rq, struct shieldd_response *rs);
int api_get_instance(struct shieldd_response *rs, struct shield_store *s, const char *name,
                     struct shield_instance_record *ret);
const char *api_colour_or_null(int c);
json_t *api_load_or_null(const char *text);
bool api_serve_asset(struct shieldd_response *rs, const char *path);
