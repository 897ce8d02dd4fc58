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
