/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * edk2/OVMF firmware variable stores (OVMF_VARS*.fd): a firmware volume
 * (PI spec vol. 3, EFI_FIRMWARE_VOLUME_HEADER) holding a variable store
 * (edk2 VARIABLE_STORE_HEADER) of authenticated or plain variable records.
 * Reading lists every record; writing appends records in the free space,
 * so OVMF boots with the variables as if they had always been set.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/uefi.h"

#define SHIELD_VARSTORE_MAX (64u << 20)
#define SHIELD_VARSTORE_VARIABLES_MAX 65536u

/* Variable attributes (UEFI 2.10, 8.2). */
#define SHIELD_VAR_NON_VOLATILE 0x01u
#define SHIELD_VAR_BOOTSERVICE_ACCESS 0x02u
#define SHIELD_VAR_RUNTIME_ACCESS 0x04u
#define SHIELD_VAR_HARDWARE_ERROR_RECORD 0x08u
#define SHIELD_VAR_AUTHENTICATED_WRITE_ACCESS 0x10u
#define SHIELD_VAR_TIME_BASED_AUTHENTICATED_WRITE_ACCESS 0x20u
#define SHIELD_VAR_APPEND_WRITE 0x40u
/* NV | BS | RT | time-based authenticated: how PK, KEK, db and dbx are stored. */
#define SHIELD_VAR_SECURE_BOOT_DB 0x27u

/* Record states (edk2 VariableFormat.h): flash bits are cleared, never set. */
enum shield_var_state {
        SHIELD_VAR_LIVE,         /* VAR_ADDED */
        SHIELD_VAR_DELETED,      /* VAR_DELETED cleared */
        SHIELD_VAR_IN_TRANSITION, /* VAR_IN_DELETED_TRANSITION cleared, still added */
        SHIELD_VAR_INCOMPLETE,   /* header written, data not (VAR_HEADER_VALID_ONLY) */
};

struct shield_variable {
        shield_guid vendor;
        char *name;                     /* UTF-8, malloc'd */
        uint32_t attributes;
        enum shield_var_state state;
        uint8_t raw_state;
        uint64_t monotonic_count;       /* authenticated stores only */
        uint8_t timestamp[16];          /* EFI_TIME, authenticated stores only */
        const uint8_t *data;            /* points into the store's own copy */
        size_t data_size;
        size_t offset;                  /* of the record in the file */
};

struct shield_varstore;

/*
 * Parse a variable-store file (the store keeps its own copy). Checks the
 * firmware-volume signature, header checksum and lengths, the variable-store
 * GUID (authenticated or plain), format and state, and every record's
 * sizes; errors name the byte offset.
 */
__attribute__((warn_unused_result))
int shield_varstore_parse(const uint8_t *buf, size_t len, struct shield_varstore **ret, struct shield_diag *diag);
void shield_varstore_free(struct shield_varstore *vs);

bool shield_varstore_authenticated(const struct shield_varstore *vs);
size_t shield_varstore_count(const struct shield_varstore *vs);
const struct shield_variable *shield_varstore_variable(const struct shield_varstore *vs, size_t i);

/* Bytes of free space left for new records. */
size_t shield_varstore_free_space(const struct shield_varstore *vs);

/* The live variable name/vendor, or NULL. */
const struct shield_variable *shield_varstore_find(const struct shield_varstore *vs, const char *name,
                                                   const shield_guid *vendor);

/*
 * Set a variable: an existing live record of the same name and vendor is
 * marked deleted and a new record appended (as firmware writes flash).
 * timestamp is an EFI_TIME (16 bytes) or NULL for zero. SHIELD_E_LIMIT when
 * the store has no room; SHIELD_E_UNSUPPORTED for authenticated attributes
 * in a plain store. On failure the store is unchanged.
 */
__attribute__((warn_unused_result))
int shield_varstore_set(struct shield_varstore *vs, const char *name, const shield_guid *vendor, uint32_t attributes,
                        const uint8_t *timestamp, const uint8_t *data, size_t data_size);

/* The whole file as it now stands (owned by the store). */
const uint8_t *shield_varstore_bytes(const struct shield_varstore *vs, size_t *ret_len);

/* "NV|BS|RT|AT" style text of attributes into buf. */
void shield_var_attributes_text(uint32_t attributes, char *buf, size_t len);
