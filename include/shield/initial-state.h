/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * An image's Secure Boot initial state, in the shape of the Compute Engine
 * images API's initial_state_config:
 *   {"pk": {"content": BASE64, "fileType": "X509"|"BIN"},
 *    "keks": [...], "dbs": [...], "dbxs": [...]}
 * X509 content is one DER certificate; BIN is EFI signature lists (or a
 * signed update wrapping them). A field left out means "the platform's
 * default"; a field given replaces the default, it is never merged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/reason.h"
#include "shield/uefi.h"

#define SHIELD_INITIAL_STATE_JSON_MAX (64u << 20)
#define SHIELD_INITIAL_STATE_ENTRIES_MAX 256u

enum shield_is_file_type {
        SHIELD_IS_X509,
        SHIELD_IS_BIN,
};

struct shield_is_entry {
        enum shield_is_file_type type;
        uint8_t *content;       /* DER certificate or signature lists, malloc'd */
        size_t len;
};

struct shield_is_value {
        bool set;               /* false: take the default */
        size_t n;
        struct shield_is_entry *entries;
};

struct shield_initial_state {
        struct shield_is_value pk, keks, dbs, dbxs;
};

/* The name of one of st's four values as the JSON spells it ("pk", "keks", "dbs", "dbxs"), for messages. */
const char *shield_initial_state_field(const struct shield_initial_state *st, const struct shield_is_value *v);

/*
 * Parse the JSON (len bytes, at most SHIELD_INITIAL_STATE_JSON_MAX). Checks:
 * an object with only the four known keys, none twice, pk an object and the
 * others non-empty arrays (at most SHIELD_INITIAL_STATE_ENTRIES_MAX
 * entries), fileType X509 or BIN, content base64 of one DER certificate
 * (X509) or of signature lists (BIN; a signed update is unwrapped to its
 * lists), the PK an X509. Returns 0, SHIELD_E_FORMAT or SHIELD_E_LIMIT with
 * diag saying which field and entry ("dbs[1]: content is not …"). *ret is
 * written only on success; free it with shield_initial_state_clear().
 */
__attribute__((warn_unused_result))
int shield_initial_state_parse(const char *text, size_t len, struct shield_initial_state *ret,
                               struct shield_diag *diag);

/*
 * The JSON text (malloc'd, NUL-terminated; NULL when out of memory): only
 * the fields that are set, content as base64 of the stored bytes, in the
 * images API's shape. shield_initial_state_parse() reads it back unchanged.
 */
char *shield_initial_state_to_json(const struct shield_initial_state *st);

/*
 * Add a file's bytes to a value (and mark it set): a certificate (DER, or
 * PEM converted to DER) becomes X509; signature lists, or a signed update
 * (EFI_VARIABLE_AUTHENTICATION_2) whose payload is signature lists, become
 * BIN holding the lists. SHIELD_E_FORMAT for anything else (including a DER
 * certificate with trailing bytes and an update with an empty payload),
 * SHIELD_E_LIMIT past SHIELD_INITIAL_STATE_ENTRIES_MAX; v is unchanged then.
 */
__attribute__((warn_unused_result))
int shield_initial_state_add(struct shield_is_value *v, const uint8_t *buf, size_t len);

/* Free every entry and zero st. NULL allowed; clearing twice is harmless. */
void shield_initial_state_clear(struct shield_initial_state *st);

/*
 * The platform defaults (Compute Engine's): a platform PK the owner keeps;
 * KEK = Microsoft Corporation KEK CA 2011; db = Microsoft Windows
 * Production PCA 2011 and Microsoft Corporation UEFI CA 2011; dbx = the
 * UEFI revocation list. Loaded from a directory laid out as
 * $SHIELD_SHARED_DATA/uefi-ms is:
 *   DIR/certs/… (or DIR/…)  certificates, DER or PEM, found by SHA-1
 *                           thumbprint whatever their file names
 *   DIR/dbx/DBXUpdate-amd64.bin  the x64 revocation list (a signed update;
 *                           also DBXUpdate.bin, or else the newest
 *                           DIR/revocationlist/dbxupdate_x64-*.bin)
 * with the PK from pk_der (the owner's platform key certificate; NULL
 * leaves pk unset). SHIELD_E_NOT_FOUND, with diag naming what is missing,
 * when a certificate or the revocation list is not there. *ret is written
 * only on success; free it with shield_initial_state_clear().
 */
__attribute__((warn_unused_result))
int shield_initial_state_defaults(const char *dir, const uint8_t *pk_der, size_t pk_len,
                                  struct shield_initial_state *ret, struct shield_diag *diag);

/*
 * A defaults directory may also hold, and then they win over the lookup
 * above, the values `shield defaults update` stored:
 *   DIR/KEK.esl, DIR/db.esl, DIR/dbx.esl   the value as EFI_SIGNATURE_LISTs
 *   DIR/sources.json                        where each value came from
 */
#define SHIELD_DEFAULTS_SOURCES_FILE "sources.json"
#define SHIELD_DEFAULTS_UPDATE_MAX (16u << 20) /* a signed update file */

/* Where one default value came from, as DIR/sources.json records it. */
struct shield_defaults_source {
        char source[128];       /* "Debian OVMF_VARS_4M.ms.fd", "the UEFI revocation list shipped with Shieldkit",
                                   "shield defaults update", … */
        char path[1024];        /* the file it was taken from ("" unknown) */
        char date[32];          /* the source's own date, YYYY-MM-DD ("" unknown) */
        char stored[32];        /* when it was stored here, "YYYY-MM-DDTHH:MM:SSZ" ("" unknown) */
        uint8_t timestamp[16];  /* EFI_TIME of the last signed update it holds; all zero: none */
};

/*
 * Read (get) or record (set: read-modify-write of DIR/sources.json, written
 * atomically) the source of one value, var "PK", "KEK", "db" or "dbx".
 * get: SHIELD_E_NOT_FOUND when nothing is recorded for var (*ret zeroed),
 * SHIELD_E_FORMAT when the file is not what set writes. set: SHIELD_E_SYSTEM
 * (errno) when the file cannot be written.
 */
__attribute__((warn_unused_result))
int shield_defaults_source_get(const char *dir, const char *var, struct shield_defaults_source *ret);
__attribute__((warn_unused_result))
int shield_defaults_source_set(const char *dir, const char *var, const struct shield_defaults_source *src);

/* Format an EFI_TIME as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void shield_efi_time_format(const uint8_t ts[16], char out[32]);
/* <0, 0, >0 as a is older than, the same second as, or newer than b (UEFI 2.10, 8.2: Year..Second). */
int shield_efi_time_cmp(const uint8_t a[16], const uint8_t b[16]);
/* Total signature entries (certificates and hashes) in buf's EFI_SIGNATURE_LISTs; 0 when malformed. */
size_t shield_esl_count(const uint8_t *buf, size_t len);

enum shield_defaults_refusal {
        SHIELD_DEFAULTS_APPLIED = 0,
        SHIELD_DEFAULTS_UNCHANGED,      /* verified, newer or as new, but every entry was there already */
        SHIELD_DEFAULTS_NOT_SIGNED,     /* no stored KEK (db, dbx) or PK (KEK) verifies the signature */
        SHIELD_DEFAULTS_OLDER,          /* TimeStamp older than the stored value's */
};

struct shield_defaults_update {
        enum shield_defaults_refusal outcome;
        char var[4];                    /* "KEK", "db" or "dbx" ("" when not verified) */
        bool append;                    /* signed with APPEND_WRITE: merged as firmware merges */
        uint8_t timestamp[16];          /* the update's TimeStamp */
        uint8_t stored_timestamp[16];   /* the stored value's, before */
        size_t entries_before, entries_after;
        char signer[256];               /* subject of the stored certificate it verified under */
        uint8_t signer_sha1[20];
};

/*
 * Apply a signed update (EFI_VARIABLE_AUTHENTICATION_2, as Microsoft's
 * DBXUpdate.bin, DBUpdate*.bin and KEK updates) to the defaults in dir
 * (defaults is what shield_initial_state_defaults() loaded from dir; its pk
 * is the platform PK). It is accepted only when its PKCS#7 signature
 * verifies (UEFI 2.10, 8.2.2: over VariableName ‖ VendorGuid ‖ Attributes
 * ‖ TimeStamp ‖ Data, attributes 0x27, or 0x67 with APPEND_WRITE) as an
 * update of dbx or db under a certificate of the stored KEK, or of KEK
 * under the stored PK; and when its TimeStamp is not older than the one
 * recorded for that value. An append merges (entries already present,
 * same type and data, are not added twice: UEFI 2.10, 8.2.1 SetVariable);
 * otherwise the payload replaces the value. The result is written to
 * DIR/VAR.esl and recorded in DIR/sources.json (source path names the
 * file, for the record).
 * Returns 0 (applied or unchanged: ret->outcome), SHIELD_E_VERIFY with
 * ret->outcome NOT_SIGNED or OLDER and diag saying why (both dates for
 * OLDER), SHIELD_E_FORMAT (diag) when buf is not a signed update of
 * signature lists, SHIELD_E_UNSUPPORTED for a deletion (empty payload
 * without APPEND_WRITE), SHIELD_E_SYSTEM when dir cannot be written. *ret is
 * written on 0 and SHIELD_E_VERIFY.
 */
__attribute__((warn_unused_result))
int shield_defaults_update(const char *dir, const struct shield_initial_state *defaults, const uint8_t *buf, size_t len,
                           const char *source_path, struct shield_defaults_update *ret, struct shield_diag *diag);

/*
 * The effective state, as the platform applies it at instance creation:
 * each value of st that is set, else the default's; a value given replaces
 * the default whole, never merged. Adds a "db-without-microsoft-uefi-ca"
 * warning to warnings (may be NULL) when a custom db lacks the Microsoft
 * Corporation UEFI CA 2011 (option ROMs need it on real hardware): a
 * warning, not a refusal. SHIELD_E_NOT_FOUND when neither st nor defaults
 * has a PK. *ret (deep copies) is written only on success.
 */
__attribute__((warn_unused_result))
int shield_initial_state_resolve(const struct shield_initial_state *st, const struct shield_initial_state *defaults,
                                 struct shield_initial_state *ret, struct shield_reasons *warnings);

/*
 * THE way to get a (resolved) value as the bytes firmware stores: PK, KEK,
 * db or dbx as one buffer of EFI_SIGNATURE_LISTs (UEFI 2.10, 32.4.1). Each
 * X509 entry becomes one EFI_CERT_X509 list with SignatureOwner owner (as
 * cert-to-efi-sig-list -g makes it); BIN entries are copied as they are, in
 * order. The varstore writer and the `sb check` verdict engine call this on
 * the output of shield_initial_state_resolve():
 *     shield_initial_state_esl(&resolved.dbs, &owner, &db, &db_len)
 * *ret is malloc'd (NULL with *ret_len 0 for a value with no entries).
 * SHIELD_E_FORMAT if an entry is corrupt; outputs untouched on failure.
 */
__attribute__((warn_unused_result))
int shield_initial_state_esl(const struct shield_is_value *v, const shield_guid *owner, uint8_t **ret, size_t *ret_len);

struct shield_varstore;
/*
 * Write the values of a resolved state into vs (db, dbx, KEK, then PK),
 * each as shield_initial_state_esl() builds it with SignatureOwner owner.
 * Values with no entries are left out. SHIELD_E_LIMIT when the store is
 * full; diag names the value.
 */
__attribute__((warn_unused_result))
int shield_initial_state_enroll(struct shield_varstore *vs, const struct shield_initial_state *st,
                                const shield_guid *owner, struct shield_diag *diag);
