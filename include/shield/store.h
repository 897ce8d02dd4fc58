/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The verifier's store (docs/INTEGRITY.md): per instance its AK, its golden
 * measurement and the verdict of every attestation; plus every nonce spent,
 * and the service's records (shieldd, docs/API.md) at the end of this file.
 *
 * Two backends behind one table of function pointers (lib/store/
 * store-internal.h), with one schema and one list of numbered migrations:
 *  - SQLite (a plain path or "sqlite:PATH"): WAL mode with a busy timeout, so
 *    several processes may open the same file;
 *  - PostgreSQL ("postgresql://…" or "postgres://…", libpq's URI syntax):
 *    one connection per handle; several processes or hosts may share one
 *    database.
 * Each write is one transaction; the schema carries its version (table
 * schema_version) and is migrated forward on open, once even when several
 * processes open at the same moment. lib/store is the only code that
 * includes <sqlite3.h> or <libpq-fe.h>. A handle is not for concurrent use
 * by several threads; open one per thread.
 *
 * Instance names follow shield_name_valid (shield/util.h): 1 to
 * SHIELD_STORE_NAME_MAX bytes, no control bytes, no '/', not starting with
 * '.' (SHIELD_E_INVAL otherwise). Database failures are
 * SHIELD_E_SYSTEM with the database's message in diag (never a password).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/integrity.h"

#define SHIELD_STORE_NAME_MAX 256       /* bytes in an instance name: SHIELD_NAME_MAX */
#define SHIELD_STORE_BUSY_TIMEOUT_MS 10000
#define SHIELD_STORE_HISTORY_MAX 10000  /* verdicts one history call returns at most */
#define SHIELD_STORE_KEY_MAX 4096       /* bytes in a TPM2B_PUBLIC (AK, EK) */
#define SHIELD_STORE_CERT_MAX 16384     /* bytes in a DER certificate (EK, AK) */
#define SHIELD_STORE_KEYS_MAX 256       /* signing keys one shield_store_keys call returns at most */

struct shield_store;

/*
 * The default store file: $SHIELD_STORE, else $SHIELD_STATE_DIR/shield.db
 * (beside the local platform's images and instances), else
 * $XDG_STATE_HOME/shieldkit/shield.db, else ~/.local/state/shieldkit/shield.db.
 * malloc'd; NULL when none can be made (no HOME) or on ENOMEM.
 */
char *shield_store_default_path(void);

/*
 * Open (creating the file, its missing parent directories with mode 0700,
 * and the schema) the store at path: a file path, "sqlite:PATH" or a
 * PostgreSQL URL (shield_store_is_postgresql; the database must exist, its
 * tables are made). SHIELD_E_UNSUPPORTED when the schema is newer than this
 * build knows. *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_store_open(const char *path, struct shield_store **ret, struct shield_diag *diag);

/* NULL allowed. */
void shield_store_close(struct shield_store *s);

/* The schema version the open store records (this build migrates to its newest on open). */
__attribute__((warn_unused_result))
int shield_store_schema_version(struct shield_store *s, int *ret_version, struct shield_diag *diag);

/* The instance's golden measurement; SHIELD_E_NOT_FOUND when none is recorded. */
__attribute__((warn_unused_result))
int shield_store_golden_get(struct shield_store *s, const char *instance, struct shield_golden **ret,
                            struct shield_diag *diag);

/*
 * Record (or replace) the instance's golden measurement; the instance is
 * created when new. Clears the instance's golden_reason.
 */
__attribute__((warn_unused_result))
int shield_store_golden_set(struct shield_store *s, const char *instance, const struct shield_golden *g,
                            struct shield_diag *diag);

/*
 * Forget the golden measurement: the next attestation becomes the golden.
 * SHIELD_E_NOT_FOUND when there was none. History and AK are kept.
 */
__attribute__((warn_unused_result))
int shield_store_golden_reset(struct shield_store *s, const char *instance, struct shield_diag *diag);

/*
 * Append a verdict to the instance's history (the instance is created when
 * new). evidence_sha256 (hex of the evidence document, may be NULL or "")
 * links it to what was checked.
 */
__attribute__((warn_unused_result))
int shield_store_verdict_add(struct shield_store *s, const char *instance, int64_t unix_time,
                             const struct shield_integrity_verdict *v, const char *evidence_sha256,
                             struct shield_diag *diag);

/* One verdict of an instance's history, as stored (rendered by shield_history_json, shield/attest.h). */
struct shield_verdict_row {
        int64_t time;                   /* unix time */
        char colour[8], early[8], late[8]; /* "green", "yellow", "red" */
        char evidence_sha256[65];       /* "" when none was recorded */
        char *reasons_json;             /* the verdict's reasons as recorded (shield_reasons_json), malloc'd */
};
/*
 * The instance's last max verdicts (at most SHIELD_STORE_HISTORY_MAX),
 * newest first: *ret a malloc'd array of *ret_n rows (an unknown instance
 * has none); free with shield_verdict_rows_free().
 */
__attribute__((warn_unused_result))
int shield_store_history_rows(struct shield_store *s, const char *instance, size_t max,
                              struct shield_verdict_row **ret, size_t *ret_n, struct shield_diag *diag);
void shield_verdict_rows_free(struct shield_verdict_row *rows, size_t n);

/*
 * Spend a nonce (1 to 64 bytes): 0 the first time, SHIELD_E_VERIFY when it
 * was spent before (a replayed quote).
 */
__attribute__((warn_unused_result))
int shield_store_nonce_use(struct shield_store *s, const uint8_t *nonce, size_t len, int64_t unix_time,
                           struct shield_diag *diag);

/* Record the instance's AK public area (TPM2B_PUBLIC, 1 to 4096 bytes); the instance is created when new. */
__attribute__((warn_unused_result))
int shield_store_instance_set_ak(struct shield_store *s, const char *instance, const uint8_t *ak_public, size_t len,
                                 struct shield_diag *diag);

/* The instance's AK public area (malloc'd); SHIELD_E_NOT_FOUND when none. */
__attribute__((warn_unused_result))
int shield_store_instance_get_ak(struct shield_store *s, const char *instance, uint8_t **ret, size_t *ret_len,
                                 struct shield_diag *diag);

/*
 * Every instance name, sorted. *ret is a malloc'd array of *ret_n malloc'd
 * strings (followed by a NULL entry); free each and the array.
 */
__attribute__((warn_unused_result))
int shield_store_instances(struct shield_store *s, char ***ret, size_t *ret_n);

/* The quote's clock fields (TPMS_CLOCK_INFO) of an attestation. */
struct shield_store_clock {
        uint32_t reset_count;   /* TPM resets (reboots) since the TPM was cleared */
        uint32_t restart_count; /* restarts/resumes since the last reset */
        uint64_t clock;         /* milliseconds the TPM has been powered */
};

/*
 * Record now as the instance's latest quote clock and return the previous
 * one (*ret_had_prev false for the first). A resetCount that grew means the
 * machine rebooted between the two attestations; one that shrank, or a
 * clock that went back within the same reset, means the TPM was cleared or
 * the quote is not from the same TPM.
 */
__attribute__((warn_unused_result))
int shield_store_instance_clock(struct shield_store *s, const char *instance, const struct shield_store_clock *now,
                                struct shield_store_clock *ret_prev, bool *ret_had_prev, struct shield_diag *diag);


/* ---- the service's records (shieldd, docs/API.md) ----
 * shield_store_open() also takes "sqlite:PATH" and "postgresql://…" (or
 * "postgres://…") URLs; a plain path is SQLite. Both backends sit behind one
 * table of function pointers and share the schema and migrations. */

/* Whether path names PostgreSQL. */
bool shield_store_is_postgresql(const char *path);

struct shield_instance_record {
        char name[SHIELD_STORE_NAME_MAX + 1];
        uint8_t *ak_public;             /* TPM2B_PUBLIC; malloc'd (get: NULL for a row the CLI made without an AK) */
        size_t ak_public_len;
        uint8_t *ek_public;             /* TPM2B_PUBLIC or NULL */
        size_t ek_public_len;
        uint8_t *ek_cert, *ak_cert;     /* DER or NULL */
        size_t ek_cert_len, ak_cert_len;
        bool trusted;                   /* activated, or AK certified by a trusted CA */
        int ak_trust;                   /* enum shield_ak_trust: how it came to be trusted (0 unknown) */
        char integrity[32];             /* integrity policy spec ("gce", "oci", "strict", "0,2"); "" = gce */
        char golden_reason[16];         /* why the next golden is new: "new-vtpm", "migrated"; "" none */
        bool migrate_pending;           /* the next registration may bring a new AK (an operator's migration) */
        uint8_t activation_hash[32];    /* SHA-256 of the credential secret while !trusted */
        int64_t registered;             /* unix time (register: 0 means now; get: when first recorded) */
        /* the last attestation (0 / -1 / NULL before the first) */
        int64_t last_attestation;
        int colour, early, late;        /* enum shield_colour, -1 none */
        bool last_verified;
        char *last_pcrs_json;           /* PCRS.json of the last attestation, malloc'd or NULL */
        char *last_reasons_json;        /* reasons of the last verdict (the differences), malloc'd or NULL */
};
/* Free what the record holds and reset it (colours -1); NULL allowed. */
void shield_store_instance_record_clear(struct shield_instance_record *r);

/*
 * Register an instance (copies every field given: ak_public required, at
 * most SHIELD_STORE_KEY_MAX bytes; ek_public likewise but optional;
 * certificates at most SHIELD_STORE_CERT_MAX, SHIELD_E_LIMIT beyond;
 * activation_hash kept only while !trusted; the last-attestation fields are
 * ignored). SHIELD_E_INVAL with "exists" in diag when the name is taken by
 * another AK (registered, or pinned by `shield verify --instance`); the same
 * AK again is success (returns 1 instead of 0 so the caller can answer 200
 * vs 201) and changes nothing. A row made by the CLI (golden, verdicts)
 * without an AK is claimed (0). Of two registrations racing, one wins.
 */
__attribute__((warn_unused_result))
int shield_store_instance_register(struct shield_store *s, const struct shield_instance_record *r,
                                   struct shield_diag *diag);
/* *ret (a record the caller clears) is written only on success. SHIELD_E_NOT_FOUND when absent. */
__attribute__((warn_unused_result))
int shield_store_instance_get(struct shield_store *s, const char *name, struct shield_instance_record *ret,
                              struct shield_diag *diag);
/* Mark trusted and forget the activation hash. SHIELD_E_NOT_FOUND when absent. */
__attribute__((warn_unused_result))
int shield_store_instance_set_trusted(struct shield_store *s, const char *name, struct shield_diag *diag);
/*
 * The instance now has another TPM (re-created, or migrated to new
 * hardware): forget its AK, EK, certificates, trust, quote clock, golden
 * and open challenges, keep its history, and record reason ("new-vtpm",
 * "migrated") for its next golden. SHIELD_E_NOT_FOUND when absent.
 */
__attribute__((warn_unused_result))
int shield_store_instance_new_identity(struct shield_store *s, const char *name, const char *reason,
                                       struct shield_diag *diag);
/* Let the instance's next registration bring a new AK/EK, as a migration (once). SHIELD_E_NOT_FOUND when absent. */
__attribute__((warn_unused_result))
int shield_store_instance_allow_migration(struct shield_store *s, const char *name, struct shield_diag *diag);
/* Set the instance's integrity policy (NULL or "": the default gce); the instance is created when new. */
__attribute__((warn_unused_result))
int shield_store_instance_set_policy(struct shield_store *s, const char *name, const char *policy,
                                     struct shield_diag *diag);
/* Delete an instance with its golden, verdicts and challenges. SHIELD_E_NOT_FOUND when absent. */
__attribute__((warn_unused_result))
int shield_store_instance_delete(struct shield_store *s, const char *name, struct shield_diag *diag);
/*
 * Record the outcome of an attestation on the instance's row (what list and
 * get show). Colours are enum shield_colour or -1 (none); SHIELD_E_INVAL
 * otherwise. The JSON texts (may be NULL) are stored as given.
 * SHIELD_E_NOT_FOUND when absent.
 */
__attribute__((warn_unused_result))
int shield_store_instance_status(struct shield_store *s, const char *name, int64_t when, bool verified, int colour,
                                 int early, int late, const char *pcrs_json, const char *reasons_json,
                                 struct shield_diag *diag);
/* One instance as the fleet list shows it. */
struct shield_instance_summary {
        char name[SHIELD_STORE_NAME_MAX + 1];
        bool trusted;
        int colour, early, late;        /* enum shield_colour, -1 none */
        int64_t last_attestation;       /* unix time, 0 never */
};
/* Every instance, sorted by name: *ret malloc'd (never NULL on success), *ret_n rows; free(*ret). */
__attribute__((warn_unused_result))
int shield_store_instance_summaries(struct shield_store *s, struct shield_instance_summary **ret, size_t *ret_n,
                                    struct shield_diag *diag);

/*
 * A nonce (1 to 64 bytes) issued to an instance, valid until expires (unix
 * time, inclusive). SHIELD_E_NOT_FOUND when the instance is not in the
 * store; SHIELD_E_INVAL when the nonce was issued before (to anyone).
 */
__attribute__((warn_unused_result))
int shield_store_challenge_add(struct shield_store *s, const char *instance, const uint8_t *nonce, size_t len,
                               int64_t expires, struct shield_diag *diag);
/*
 * Spend a challenge atomically (one winner across processes and replicas):
 * 0 when it was issued to instance, unused and unexpired at now; it is then
 * gone. SHIELD_E_VERIFY otherwise (never issued, another instance's,
 * expired or already spent). Expired challenges are purged now and then.
 */
__attribute__((warn_unused_result))
int shield_store_challenge_take(struct shield_store *s, const char *instance, const uint8_t *nonce, size_t len,
                                int64_t now, struct shield_diag *diag);

/* Token signing keys: the private key PEM is stored (the store file is the service's secret, 0600). */
struct shield_signing_key {
        char kid[64];
        char alg[8];                    /* "ES256" | "RS256" */
        char *private_pem;              /* malloc'd */
        int64_t created, not_after;     /* signs until not_after; published until not_after + token lifetime */
};
/* Wipe and free private_pem, zero the rest; NULL allowed. */
void shield_signing_key_clear(struct shield_signing_key *k);
/* kid 1 to 63 bytes, alg "ES256" or "RS256", private_pem required (SHIELD_E_INVAL); an existing kid is SHIELD_E_INVAL ("exists"). */
__attribute__((warn_unused_result))
int shield_store_key_add(struct shield_store *s, const struct shield_signing_key *k, struct shield_diag *diag);
/*
 * Keys with not_after > since, newest (created) first, at most
 * SHIELD_STORE_KEYS_MAX; *ret a malloc'd array (never NULL on success, also
 * when *ret_n is 0): clear each of *ret_n keys, then free the array.
 */
__attribute__((warn_unused_result))
int shield_store_keys(struct shield_store *s, int64_t since, struct shield_signing_key **ret, size_t *ret_n,
                      struct shield_diag *diag);

/* The admin token's SHA-256 (32 bytes). get: SHIELD_E_NOT_FOUND when none was set; set replaces. */
__attribute__((warn_unused_result))
int shield_store_admin_hash_get(struct shield_store *s, uint8_t hash[32], struct shield_diag *diag);
__attribute__((warn_unused_result))
int shield_store_admin_hash_set(struct shield_store *s, const uint8_t hash[32], struct shield_diag *diag);

/*
 * Group writes into one transaction (one commit instead of one per call):
 * every store call between begin and commit joins it; a failed write makes
 * commit roll back and fail. Nestable; rollback abandons it at any depth.
 * A service should not hold one across slow work: SQLite has one writer.
 */
__attribute__((warn_unused_result))
int shield_store_begin(struct shield_store *s, struct shield_diag *diag);
__attribute__((warn_unused_result))
int shield_store_commit(struct shield_store *s, struct shield_diag *diag);
void shield_store_rollback(struct shield_store *s);

/* ---- sealed machine credentials (docs/CREDENTIALS.md) ---- */

#define SHIELD_STORE_EVENTLOG_MAX (32u << 20)   /* bytes of a golden's event log */
#define SHIELD_STORE_SEALED_MAX (256u << 10)    /* bytes of a sealed credential */
#define SHIELD_STORE_SETTING_MAX (64u << 10)    /* bytes of a setting's value */

/*
 * The event log the instance's golden was recorded from (1 to
 * SHIELD_STORE_EVENTLOG_MAX bytes): set on the golden now recorded
 * (SHIELD_E_NOT_FOUND without one); a new golden forgets it. get: *ret
 * malloc'd; SHIELD_E_NOT_FOUND when no golden or no log was kept.
 */
__attribute__((warn_unused_result))
int shield_store_golden_eventlog_set(struct shield_store *s, const char *instance, const uint8_t *log, size_t len,
                                     struct shield_diag *diag);
__attribute__((warn_unused_result))
int shield_store_golden_eventlog_get(struct shield_store *s, const char *instance, uint8_t **ret, size_t *ret_len,
                                     struct shield_diag *diag);

/* How a credential reaches its machine. */
enum shield_credential_method {
        SHIELD_CREDENTIAL_SEALING_KEY = 1,      /* sealed to a TPM-certified key the agent made for the intent */
        SHIELD_CREDENTIAL_IMPORT = 2,           /* a duplication blob to the EK (no agent round first) */
};

/* What an instance must boot: the PCR values predicted for it. */
struct shield_intent_record {
        int64_t id;                     /* add: set by the store */
        char instance[SHIELD_STORE_NAME_MAX + 1];
        int64_t created;                /* unix time */
        int method;                     /* enum shield_credential_method */
        uint16_t bank;                  /* TPM_ALG_ID */
        uint32_t mask;                  /* the PCRs of the policy */
        char *pcrs_json;                /* {"4":"hex",…}: the predicted values of mask, malloc'd */
        char *describe_json;            /* what was asked (the replacements), malloc'd */
        bool active;
};
void shield_intent_record_clear(struct shield_intent_record *r);

/*
 * Record an intent as the instance's active one (the instance must exist:
 * SHIELD_E_NOT_FOUND). Ends its other intents and revokes, at created,
 * every unrevoked credential of the instance; *ret_revoked (may be NULL)
 * says how many. r->id is set. One transaction.
 */
__attribute__((warn_unused_result))
int shield_store_intent_add(struct shield_store *s, struct shield_intent_record *r, size_t *ret_revoked,
                            struct shield_diag *diag);
/* The instance's active intent; SHIELD_E_NOT_FOUND when none. *ret on success (clear it). */
__attribute__((warn_unused_result))
int shield_store_intent_active(struct shield_store *s, const char *instance, struct shield_intent_record *ret,
                               struct shield_diag *diag);

struct shield_credential_record {
        char serial[33];                /* hex, as the certificate's */
        char instance[SHIELD_STORE_NAME_MAX + 1];
        int64_t intent;                 /* the intent it is bound to */
        int method;                     /* enum shield_credential_method */
        int64_t issued, not_after;      /* unix time */
        uint8_t policy[32];             /* the sealed object's authPolicy */
        uint32_t epoch_nv;              /* 0: no epoch */
        uint64_t epoch;
        uint8_t *cert_der;              /* malloc'd */
        size_t cert_der_len;
        uint8_t *sealed;                /* the sealed bundle as delivered, malloc'd */
        size_t sealed_len;
        int64_t revoked;                /* unix time; 0 not revoked */
};
void shield_credential_record_clear(struct shield_credential_record *r);

/* Record an issued credential (serial new: SHIELD_E_INVAL "exists" otherwise). */
__attribute__((warn_unused_result))
int shield_store_credential_add(struct shield_store *s, const struct shield_credential_record *r,
                                struct shield_diag *diag);
/* By serial; SHIELD_E_NOT_FOUND when unknown. *ret on success (clear it). */
__attribute__((warn_unused_result))
int shield_store_credential_get(struct shield_store *s, const char *serial, struct shield_credential_record *ret,
                                struct shield_diag *diag);
/* The instance's newest unrevoked credential; SHIELD_E_NOT_FOUND when none. */
__attribute__((warn_unused_result))
int shield_store_credential_current(struct shield_store *s, const char *instance,
                                    struct shield_credential_record *ret, struct shield_diag *diag);
/* Whether the intent has a credential (revoked or not): *ret_has. */
__attribute__((warn_unused_result))
int shield_store_intent_issued(struct shield_store *s, int64_t intent, bool *ret_has, struct shield_diag *diag);

/* A revoked credential as the CRL lists it. */
struct shield_store_revocation {
        char serial[33];
        int64_t revoked;
};
/* Every revoked credential, oldest first: *ret malloc'd (never NULL on success); free(*ret). */
__attribute__((warn_unused_result))
int shield_store_revocations(struct shield_store *s, struct shield_store_revocation **ret, size_t *ret_n,
                             struct shield_diag *diag);

/*
 * A service secret made once (the machine CA): when name has no value yet,
 * record value (1 to SHIELD_STORE_SETTING_MAX bytes); either way *ret (malloc'd,
 * NUL-terminated) is the value the store holds — of two services racing,
 * both get the winner's.
 */
__attribute__((warn_unused_result))
int shield_store_setting_init(struct shield_store *s, const char *name, const uint8_t *value, size_t len,
                              uint8_t **ret, size_t *ret_len, struct shield_diag *diag);
