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

/* Names of the four values as the JSON spells them, for messages. */
const char *shield_initial_state_field(const struct shield_initial_state *st, const struct shield_is_value *v);

/*
 * Parse the JSON. Checks: an object with only the four known keys, pk an
 * object and the others arrays, fileType X509 or BIN, content base64 of a
 * certificate (X509) or of signature lists (BIN), exactly one X509 PK.
 * Errors say which field and entry.
 */
__attribute__((warn_unused_result))
int shield_initial_state_parse(const char *text, size_t len, struct shield_initial_state *ret,
                               struct shield_diag *diag);

/* The JSON text (malloc'd), only the fields that are set. */
char *shield_initial_state_to_json(const struct shield_initial_state *st);

/*
 * Add a file's bytes to a value: a certificate (DER or PEM) becomes X509,
 * signature lists or a signed update become BIN. SHIELD_E_FORMAT otherwise.
 */
__attribute__((warn_unused_result))
int shield_initial_state_add(struct shield_is_value *v, const uint8_t *buf, size_t len);

void shield_initial_state_clear(struct shield_initial_state *st);

/*
 * The platform defaults (Compute Engine's): a platform PK the owner keeps;
 * KEK = Microsoft Corporation KEK CA 2011; db = Microsoft Windows
 * Production PCA 2011 and Microsoft Corporation UEFI CA 2011; dbx = the
 * UEFI revocation list. Loaded from a directory laid out as
 *   DIR/certs/…  certificates, found by SHA-1 thumbprint (any file name)
 *   DIR/dbx/DBXUpdate-amd64.bin  the x64 revocation list (a signed update)
 * with the PK from pk_der (the owner's platform key certificate).
 */
__attribute__((warn_unused_result))
int shield_initial_state_defaults(const char *dir, const uint8_t *pk_der, size_t pk_len,
                                  struct shield_initial_state *ret, struct shield_diag *diag);

/*
 * The effective state: each field of st that is set, else the default's.
 * Adds a "db-without-microsoft-uefi-ca" warning to warnings (may be NULL)
 * when a custom db lacks the Microsoft UEFI CA (option ROMs need it on real
 * hardware).
 */
__attribute__((warn_unused_result))
int shield_initial_state_resolve(const struct shield_initial_state *st, const struct shield_initial_state *defaults,
                                 struct shield_initial_state *ret, struct shield_reasons *warnings);

/* One value as EFI signature lists (certificates owned by owner), malloc'd. */
__attribute__((warn_unused_result))
int shield_initial_state_esl(const struct shield_is_value *v, const shield_guid *owner, uint8_t **ret, size_t *ret_len);
