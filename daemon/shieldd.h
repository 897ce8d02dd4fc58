/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * shieldd's internals shared between its files: the configuration main()
 * parses, the request/response pair the HTTP layer hands the API, the
 * per-thread store handle, signing keys, metrics and the webhook.
 * The only file that includes <microhttpd.h> is http.c.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "shield/machine-ca.h"
#include "shield/store.h"
#include "shield/token.h"

#define SHIELDD_BODY_MAX (8u << 20)             /* request bodies over this are 413 */
#define SHIELDD_CHALLENGE_SECONDS 120           /* a nonce is valid this long */
#define SHIELDD_NONCE_BYTES 32
#define SHIELDD_TOKEN_SECONDS 3600              /* a token's lifetime (exp - iat) */
#define SHIELDD_HISTORY 50                      /* verdicts GET /v1/instances/{name} shows */
#define SHIELDD_ACTIVATION_SECRET 32            /* bytes in a credential's secret */

struct shieldd_config {
        const char *listen;             /* "127.0.0.1:8443" */
        char *store_url;                /* "sqlite:PATH" or "postgresql://…" */
        char *state_dir;
        char *tls_cert, *tls_key;       /* NULL with --no-tls */
        bool no_tls;
        char *admin_token_file;
        char *issuer;                   /* no trailing slash */
        const char *token_alg;          /* "ES256" | "RS256" */
        int64_t key_lifetime;           /* seconds */
        uint8_t *ak_ca;                 /* --ak-ca, DER or PEM; NULL: no AK is trusted by certificate */
        size_t ak_ca_len;
        const char *ek_ca_dir;          /* --ek-ca: TPM manufacturers' CAs; NULL: only enrolled EKs register */
        bool require_enrolment;         /* --require-enrolment: EK registrations need the admin token */
        const char *webhook;
        unsigned threads;
        struct shield_machine_ca *machine_ca; /* issues sealed credentials (kept in the store) */
        uint32_t credential_validity;   /* --credential-validity, seconds */
        char *machine_ca_pem;           /* its certificate: the TLS layer asks clients for certificates it signed */
};

extern struct shieldd_config shieldd_cfg;
extern uint8_t shieldd_admin_hash[32];

/* One request as the API sees it. */
struct shieldd_request {
        const char *method;             /* "GET", "POST", … */
        const char *path;               /* decoded, without the query */
        const char *authorization;      /* the Authorization header or NULL */
        const char *body;               /* NUL-terminated; len bytes */
        size_t len;
        const char *remote;             /* the client's address, for the log */
        const uint8_t *client_cert;     /* the TLS client's certificate (DER), NULL when it sent none */
        size_t client_cert_len;
};

struct shieldd_response {
        int status;
        char *body;                     /* malloc'd, or static when body_static */
        size_t len;
        bool body_static;
        const char *content_type;
        const char *reason;             /* a refusal's code, for the log (static) */
        const char *allow;              /* the Allow header of a 405 */
        bool cacheable;                 /* static dashboard files */
};

/* The API: route and answer one request (api.c). */
void shieldd_api_handle(const struct shieldd_request *rq, struct shieldd_response *rs);

/* Response helpers (api.c). j is consumed. */
void shieldd_reply_json(struct shieldd_response *rs, int status, json_t *j);
void shieldd_reply_error(struct shieldd_response *rs, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * This thread's store handle, opened on first use and closed when the
 * thread ends (SQLite handles are not shared between threads). NULL when it
 * cannot be opened (logged once per thread).
 */
struct shield_store *shieldd_store(void);
/* Create the thread-local key; close the calling thread's handle. */
int shieldd_store_init(void);
void shieldd_store_release(void);

/*
 * Signing keys (keys.c): shieldd_keys_init makes a key when the store has
 * no unexpired one of the configured algorithm. shieldd_token_sign signs
 * claims with the current key, rotating first when it is past its
 * lifetime. shieldd_jwks gives the JWKS of every key whose tokens may
 * still be valid.
 */
int shieldd_keys_init(struct shield_store *s, struct shield_diag *diag);
int shieldd_token_sign(struct shield_store *s, const char *claims_json, char **ret, struct shield_diag *diag);
int shieldd_jwks(struct shield_store *s, char **ret, struct shield_diag *diag);
void shieldd_keys_free(void);

/* Metrics (metrics.c). */
enum shieldd_verdict { SHIELDD_V_GREEN, SHIELDD_V_YELLOW, SHIELDD_V_RED, SHIELDD_V_FAILED, SHIELDD_V_N };
void shieldd_metrics_request(int status);
void shieldd_metrics_attestation(enum shieldd_verdict v, double seconds);
void shieldd_metrics_store_error(void);
char *shieldd_metrics_text(void);

/* Webhook (webhook.c): POST {"instance","from","to","time"} in the background. */
int shieldd_webhook_init(void);
void shieldd_webhook_colour_change(const char *instance, const char *from, const char *to, int64_t when);
void shieldd_webhook_shutdown(void);

/* The embedded dashboard (generated dashboard.c). */
struct shieldd_asset {
        const char *path;               /* "index.html", "app.js", … */
        const unsigned char *data;
        size_t len;
};
extern const struct shieldd_asset shieldd_assets[];
extern const size_t shieldd_n_assets;

/* One log line on stderr: time, remote, route, status, reason. Never a secret. */
void shieldd_log_refusal(const char *remote, const char *method, const char *path, int status, const char *reason);
void shieldd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A unix time as RFC 3339 UTC ("2026-12-04T21:10:34Z"), for the log and anything people read. */
#define SHIELDD_TIME_TEXT 32
void shieldd_time_text(int64_t t, char out[SHIELDD_TIME_TEXT]);

/*
 * This thread's cache of parsed AK keys (ak-cache.c): the key for these
 * TPM2B_PUBLIC bytes, parsed once (NULL when they do not parse; owned by
 * the cache, valid until the thread's next call); clear it when a worker
 * thread ends.
 */
struct shield_ak_key;
const struct shield_ak_key *shieldd_ak_key_cached(const uint8_t *ak, size_t len);
void shieldd_ak_cache_clear(void);

