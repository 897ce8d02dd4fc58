/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The machine side of remote attestation: a client of shieldd's REST API
 * (docs/API.md) that registers this machine's AK once, answers a credential
 * activation with the TPM, and then attests (challenge → evidence over the
 * service's nonce → verdict and token). Push model only: every call is made
 * by the agent, so it works behind NAT.
 *
 * lib/agent is the only code that includes <curl/curl.h>. The library never
 * prints and never sleeps: the loop, signals and exit codes belong to the
 * front end (`shield agent`). Failures return a negative SHIELD_E_* and
 * fill a struct shield_agent_error with the URL, the HTTP status and the
 * service's error code and message, so a user can act on them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/tpm.h"

#define SHIELD_AGENT_BODY_MAX (8u << 20)       /* an answer body (docs/API.md: 8 MiB) */
#define SHIELD_AGENT_NAME_MAX 253              /* instance name (a DNS name's length) */
#define SHIELD_AGENT_REASONS_MAX 256           /* reasons kept from one verdict */
#define SHIELD_AGENT_STATE_FILE "registration.json"

/* What kind of failure an agent call met. */
enum shield_agent_failure {
        SHIELD_AGENT_FAIL_NONE = 0,
        SHIELD_AGENT_FAIL_NETWORK,   /* no answer: DNS, connect, TLS, timeout */
        SHIELD_AGENT_FAIL_HTTP,      /* the service answered with an error status */
        SHIELD_AGENT_FAIL_PROTOCOL,  /* the answer is not what docs/API.md promises */
        SHIELD_AGENT_FAIL_TPM,       /* the TPM could not be opened or refused a command */
        SHIELD_AGENT_FAIL_LOCAL,     /* state directory, files, memory */
        SHIELD_AGENT_FAIL_CANCELLED, /* the cancel callback asked to stop */
};

#define SHIELD_AGENT_MSG_MAX 1024
struct shield_agent_error {
        enum shield_agent_failure kind;
        int http_status;               /* 0 when no HTTP answer */
        char code[64];                 /* the service's "error" code, "" when none */
        char msg[SHIELD_AGENT_MSG_MAX];/* "POST https://…/v1/attest: HTTP 403 nonce-unknown: …" */
};

struct shield_agent_options {
        const char *server;     /* base URL, "https://host:8443" (http:// allowed; a trailing '/' too) */
        const char *name;       /* instance name, 1 to SHIELD_AGENT_NAME_MAX bytes */
        const char *tcti;       /* see shield_tpm_open; NULL: the default */
        const char *cacert;     /* PEM CA bundle to verify the service with; NULL: the system's */
        bool insecure;          /* do not verify the service's certificate (tests only) */
        const char *eventlog;   /* NULL: /sys/kernel/security/tpm0/binary_bios_measurements */
        const char *ima_log;    /* NULL: /sys/kernel/security/ima/binary_runtime_measurements */
        uint32_t pcr_mask;      /* PCRs to quote (bit i: PCR i); 0 means 0-23 */
        uint32_t ak_handle;     /* 0 means SHIELD_TPM_AK_HANDLE (a persistent handle, 0x81xxxxxx) */
        enum shield_tpm_ak_alg ak_alg; /* for an AK the agent creates; default (0) SHIELD_TPM_AK_RSA */
        const char *state_dir;  /* where the registration is remembered; NULL: nowhere */
        const char *producer;   /* evidence "producer"; NULL: "shield agent" */
        const char *audience;   /* the token's "aud"; NULL: the service's default */
        long timeout_ms;        /* per HTTP request; 0 means 60 s (connect: at most 10 s) */
        /* Polled during transfers; true aborts the call with SHIELD_AGENT_FAIL_CANCELLED. */
        bool (*cancelled)(void *userdata);
        /*
         * Optional: called once when the agent created the AK (ak_handle was
         * empty), with the handle it persisted it at and its type ("rsa2048",
         * "ecc-p256"), before it registers. For the front end to tell the user.
         */
        void (*ak_created)(uint32_t handle, const char *type, void *userdata);
        void *userdata;
};

struct shield_agent_reason {
        char code[64];
        char severity[16];      /* "info", "warning", "error" */
        char bank[16];          /* "" when none */
        int pcr;                /* -1 when none */
        char message[320];
};

/* The service's answer to POST /v1/attest. */
struct shield_agent_verdict {
        bool verified;
        char colour[16];        /* "green", "yellow", "red" (or "" when absent) */
        char early_boot[16];
        char late_boot[16];
        bool golden_recorded, rebooted;
        struct shield_agent_reason *reasons;
        size_t n_reasons;
        char *token;            /* the JWT, NULL when not verified */
        char credential_serial[33]; /* the sealed credential the state holds after this round, "" none */
        bool credential_new;    /* it was issued and kept in this round */
        char credential_refused[320]; /* why the service refused this round's sealing key, "" none */
        char *json;             /* the whole answer as the service sent it */
};

void shield_agent_verdict_clear(struct shield_agent_verdict *v);

struct shield_agent;

/*
 * Make an agent (copies the options' strings; checks the URL and the name,
 * SHIELD_E_INVAL with err saying what is wrong). Initialises libcurl.
 */
__attribute__((warn_unused_result))
int shield_agent_new(const struct shield_agent_options *o, struct shield_agent **ret, struct shield_agent_error *err);
void shield_agent_free(struct shield_agent *a);

/*
 * Register this machine unless the state directory says it already is (for
 * this server, name and AK; force: register anyway): POST /v1/instances with
 * the AK public area (ak_handle), the EK public area and the EK/AK
 * certificates from NV (absent ones are left out). The EK is the TPM's own
 * (shield_tpm_read_ek: the key at SHIELD_TPM_EK_HANDLE, else derived from
 * the TCG default template) and its certificate the manufacturer's at
 * SHIELD_TPM_EK_CERT_NV. A first run on a machine whose TPM holds no AK at
 * ak_handle creates one under the EK (shield_tpm_ak_create, ak_alg),
 * persists it at ak_handle and calls ak_created; later runs reuse it. An
 * AK is never replaced or evicted. When the service answers
 * with a credential, recover its secret with the TPM
 * (TPM2_ActivateCredential) and POST it to /v1/instances/{name}/activate.
 * Then remember the registration in the state directory.
 * *ret_activated (optional) says whether an activation was done now.
 * SHIELD_E_VERIFY for 401/403 (activation-failed, instance-exists is 409:
 * SHIELD_E_FORMAT with err->code), SHIELD_E_TPM, SHIELD_E_SYSTEM for no answer.
 */
__attribute__((warn_unused_result))
int shield_agent_register(struct shield_agent *a, bool force, bool *ret_activated, struct shield_agent_error *err);

/*
 * One attestation: POST /v1/challenge, collect evidence over its nonce
 * (quote by the AK, PCRs, logs, certificates), POST /v1/attest. Registers
 * first when needed; when the service no longer knows the instance (404) or
 * does not trust it (403 instance-untrusted), the state is dropped, the
 * machine registered again and the attestation retried once. *ret is set
 * on success (a 200 answer, verified or not). Errors as above; 403
 * refusals of the evidence (nonce-unknown …) are SHIELD_E_VERIFY.
 */
__attribute__((warn_unused_result))
int shield_agent_attest(struct shield_agent *a, struct shield_agent_verdict *ret, struct shield_agent_error *err);

/*
 * For a host that attests on its guest's behalf (shield vm run --server):
 * POST /v1/challenge for a nonce (*ret_nonce malloc'd), then POST
 * /v1/attest with evidence the guest collected over it. Errors as above.
 */
struct shield_evidence;
__attribute__((warn_unused_result))
int shield_agent_challenge(struct shield_agent *a, uint8_t **ret_nonce, size_t *ret_len, struct shield_agent_error *err);
__attribute__((warn_unused_result))
int shield_agent_submit(struct shield_agent *a, const struct shield_evidence *e, struct shield_agent_verdict *ret,
                        struct shield_agent_error *err);

/* ---- Operators: shieldd's admin calls (the CLI's --server verbs) ---- */
struct shield_operator;
/*
 * A client for server (https:// or http://) that sends the admin bearer
 * token read from token_file (NULL: no token, for the public reads);
 * cacert as in shield_agent_options. SHIELD_E_INVAL / _FORMAT / _SYSTEM
 * with err saying what is wrong.
 */
__attribute__((warn_unused_result))
int shield_operator_new(const char *server, const char *cacert, const char *token_file, struct shield_operator **ret,
                        struct shield_agent_error *err);
void shield_operator_free(struct shield_operator *o);
/*
 * METHOD path (with the JSON body text, or NULL for none): *ret_json is the
 * answer as JSON text (malloc'd; "" for 204). Errors as agent calls.
 */
__attribute__((warn_unused_result))
int shield_operator_call(struct shield_operator *o, const char *method, const char *path, const char *body_json,
                         int *ret_status, char **ret_json, struct shield_agent_error *err);
/* A path segment escaped for a URL (malloc'd), NULL on ENOMEM. */
char *shield_operator_escape(struct shield_operator *o, const char *segment);

/*
 * "60s", "5m", "1h", "500ms", or a bare number of seconds, into
 * milliseconds; 1 ms to 7 days. SHIELD_E_FORMAT / SHIELD_E_LIMIT.
 */
__attribute__((warn_unused_result))
int shield_agent_parse_duration(const char *s, uint64_t *ret_ms);

/*
 * The wait before retry number `failures` (1 = after the first failure):
 * base_ms * 2^(failures-1), at most cap_ms, then jittered by ±20 % with rnd
 * (any 32-bit random value: 0 gives -20 %, UINT32_MAX +20 %). Never 0.
 */
uint64_t shield_agent_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t cap_ms, uint32_t rnd);

/* ms jittered by ±20 % with rnd, as above; never 0. */
uint64_t shield_agent_jitter_ms(uint64_t ms, uint32_t rnd);

/*
 * The default state directory: $XDG_STATE_HOME/shieldkit/agent, else
 * $HOME/.local/state/shieldkit/agent (malloc'd). SHIELD_E_NOT_FOUND when
 * neither variable is set (or they are not absolute).
 */
__attribute__((warn_unused_result))
int shield_agent_default_state_dir(char **ret);

/* What the state directory remembers (SHIELD_AGENT_STATE_FILE, JSON). */
struct shield_agent_state {
        char *server;            /* the base URL registered with, malloc'd */
        char *name;              /* malloc'd */
        char ak_sha256[65];      /* hex SHA-256 of the AK's TPM2B_PUBLIC */
        bool trusted;            /* the service trusts the AK (activated or certified) */
};

void shield_agent_state_clear(struct shield_agent_state *s);

/*
 * Read dir/SHIELD_AGENT_STATE_FILE. SHIELD_E_NOT_FOUND when absent,
 * SHIELD_E_FORMAT when it does not parse (unknown keys, wrong types).
 * *ret on success only.
 */
__attribute__((warn_unused_result))
int shield_agent_state_load(const char *dir, struct shield_agent_state *ret);

/* Write it atomically (0600), creating dir (and its parents, 0700) if missing. */
__attribute__((warn_unused_result))
int shield_agent_state_save(const char *dir, const struct shield_agent_state *s);

/* Forget the registration (removes the file; absent is fine). */
__attribute__((warn_unused_result))
int shield_agent_state_remove(const char *dir);

/* ---- Sealed credentials (docs/CREDENTIALS.md) ---- */
#define SHIELD_AGENT_CREDENTIAL_DIR "credential"    /* in the state directory */

/* What `shield credential unseal` found. */
struct shield_agent_unseal_result {
        char serial[33];
        char instance[SHIELD_AGENT_NAME_MAX + 4];
        int64_t not_after;
        uint16_t bank;                  /* of the sealed policy */
        uint32_t mask;                  /* its PCRs */
        struct shield_pcrs bound;       /* their sealed values */
        /* When the TPM refused: */
        uint32_t differ;                /* PCRs whose value now is not the sealed one */
        struct shield_pcrs now;         /* the PCRs now */
        uint64_t epoch, epoch_now;      /* the credential's epoch and the counter now (0 without one) */
        bool epoch_passed;
};

/*
 * Open the credential the agent keeps in state_dir with the TPM (tcti as
 * shield_tpm_open) and write out_dir/key.pem (0600), cert.pem and ca.pem
 * (out_dir made 0700 when missing). SHIELD_E_NOT_FOUND: no credential is
 * kept; SHIELD_E_VERIFY: the TPM refused (this boot is not the intended
 * one, or the epoch passed): ret->differ and ret->epoch_passed say why;
 * others with diag.
 */
__attribute__((warn_unused_result))
int shield_agent_credential_unseal(const char *state_dir, const char *tcti, const char *out_dir,
                                   struct shield_agent_unseal_result *ret, struct shield_diag *diag);
