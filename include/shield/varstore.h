/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * edk2/OVMF firmware variable stores (OVMF_VARS*.fd): a firmware volume
 * (PI 1.7 vol. 3, 3.2.1 EFI_FIRMWARE_VOLUME_HEADER) whose body is a
 * variable store (edk2 VARIABLE_STORE_HEADER) of authenticated or plain
 * variable records, followed by free space (0xff) and, in OVMF, the
 * fault-tolerant-write area, which this module never touches.
 *
 * Reading lists every record, live or not. Writing appends records in the
 * free space and retires older copies by clearing state bits, exactly as
 * the firmware's own variable driver writes flash, so OVMF boots with the
 * variables as if they had always been set. The firmware-volume header is
 * never modified, so its checksum stays valid.
 *
 * The module knows nothing about Secure Boot: callers write "these named
 * variables (name, vendor GUID, attributes, data)" into a template.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/uefi.h"

/* Caps on untrusted input: OVMF's stores are 128 KiB and 528 KiB. */
#define SHIELD_VARSTORE_MAX (64u << 20)
#define SHIELD_VARSTORE_VARIABLES_MAX 65536u
/* A variable name, in bytes of UTF-16 including its NUL (edk2 has no fixed cap; 1024 characters is generous). */
#define SHIELD_VARSTORE_NAME_MAX 2048u

/* Variable attributes (UEFI 2.10, 8.2.1 GetVariable()). */
#define SHIELD_VAR_NON_VOLATILE 0x01u
#define SHIELD_VAR_BOOTSERVICE_ACCESS 0x02u
#define SHIELD_VAR_RUNTIME_ACCESS 0x04u
#define SHIELD_VAR_HARDWARE_ERROR_RECORD 0x08u
#define SHIELD_VAR_AUTHENTICATED_WRITE_ACCESS 0x10u
#define SHIELD_VAR_TIME_BASED_AUTHENTICATED_WRITE_ACCESS 0x20u
#define SHIELD_VAR_APPEND_WRITE 0x40u
#define SHIELD_VAR_ENHANCED_AUTHENTICATED_ACCESS 0x80u
/* NV | BS | RT | time-based authenticated: how PK, KEK, db and dbx are stored. */
#define SHIELD_VAR_SECURE_BOOT_DB 0x27u

/*
 * Record states (edk2 VariableFormat.h). Flash bits are only ever cleared:
 * 0xff (nothing written) → 0x7f (header valid) → 0x3f (added) → 0x3e (being
 * replaced) → 0x3c (deleted). The firmware uses added records, and
 * in-transition ones only when no added copy of the variable exists.
 */
enum shield_var_state {
        SHIELD_VAR_LIVE,          /* VAR_ADDED */
        SHIELD_VAR_DELETED,       /* VAR_DELETED bit cleared */
        SHIELD_VAR_IN_TRANSITION, /* VAR_IN_DELETED_TRANSITION bit cleared, not yet deleted */
        SHIELD_VAR_INCOMPLETE,    /* header (or less) written, never added */
};

struct shield_variable {
        shield_guid vendor;
        char *name;               /* UTF-8, owned by the store */
        uint32_t attributes;
        enum shield_var_state state;
        uint8_t raw_state;
        uint64_t monotonic_count; /* authenticated stores only, else 0 */
        uint8_t timestamp[16];    /* EFI_TIME (UEFI 2.10, 8.3), authenticated stores only, else zeros */
        uint32_t pubkey_index;    /* authenticated stores only, else 0 */
        const uint8_t *data;      /* points into the store's own copy of the file */
        size_t data_size;
        size_t offset;            /* of the record (its StartId) in the file */
};

struct shield_varstore;

/*
 * Parse a variable-store file; the store keeps its own copy of buf.
 * Checks, failing with SHIELD_E_TRUNCATED/FORMAT/UNSUPPORTED/LIMIT and the
 * byte offset in diag: the "_FVH" signature, FileSystemGuid
 * (gEfiSystemNvDataFvGuid), revision 2, FvLength equal to the file size,
 * the block map covering FvLength, the 16-bit header checksum; the store
 * GUID (authenticated or plain), format, state and size; every record's
 * StartId, NameSize (even, NUL-terminated, under SHIELD_VARSTORE_NAME_MAX)
 * and DataSize against what is left; and that everything after the last
 * record is free space (0xff). *ret is set only on success; free it with
 * shield_varstore_free().
 */
__attribute__((warn_unused_result))
int shield_varstore_parse(const uint8_t *buf, size_t len, struct shield_varstore **ret, struct shield_diag *diag);
/* Accepts NULL. */
void shield_varstore_free(struct shield_varstore *vs);

/* True for an authenticated store (AUTHENTICATED_VARIABLE_HEADER records). */
bool shield_varstore_authenticated(const struct shield_varstore *vs);
/* Every record in file order, including deleted ones. */
size_t shield_varstore_count(const struct shield_varstore *vs);
/* Record i, or NULL past the end. Valid until the store is changed or freed. */
const struct shield_variable *shield_varstore_variable(const struct shield_varstore *vs, size_t i);

/* Bytes of free space left for new records. */
size_t shield_varstore_free_space(const struct shield_varstore *vs);

/*
 * The variable the firmware would read for name/vendor: the live record,
 * else an in-transition one, else NULL. Valid until the store is changed
 * or freed.
 */
const struct shield_variable *shield_varstore_find(const struct shield_varstore *vs, const char *name,
                                                   const shield_guid *vendor);

/*
 * The data of the variable shield_varstore_find() returns, pointing into
 * the store. SHIELD_E_NOT_FOUND when there is none; outputs set only on
 * success; ret_attributes may be NULL.
 */
__attribute__((warn_unused_result))
int shield_varstore_get(const struct shield_varstore *vs, const char *name, const shield_guid *vendor,
                        const uint8_t **ret_data, size_t *ret_size, uint32_t *ret_attributes);

/*
 * Set a non-volatile variable: a new record is appended and then every
 * live or in-transition record of the same name and vendor is marked
 * deleted, as firmware writes flash. name is ASCII; attributes must
 * include SHIELD_VAR_NON_VOLATILE and not SHIELD_VAR_APPEND_WRITE (a
 * SetVariable() flag, never stored); data_size is at least 1 (an empty
 * SetVariable() deletes). timestamp is an EFI_TIME (16 bytes) for the
 * record, or NULL for zeros, which lets any later signed update through.
 * Errors: SHIELD_E_INVAL for bad arguments, SHIELD_E_UNSUPPORTED for
 * authenticated attributes in a plain store, SHIELD_E_LIMIT when the store
 * has no room (or too many records), SHIELD_E_NOMEM. On failure the store
 * is unchanged.
 */
__attribute__((warn_unused_result))
int shield_varstore_set(struct shield_varstore *vs, const char *name, const shield_guid *vendor, uint32_t attributes,
                        const uint8_t *timestamp, const uint8_t *data, size_t data_size);

/* The whole file as it now stands (owned by the store, same size as parsed). */
const uint8_t *shield_varstore_bytes(const struct shield_varstore *vs, size_t *ret_len);

/* "NV|BS|RT|AT" text of attributes into buf (unknown bits as "0x…", none as "-"); always NUL-terminated. */
void shield_var_attributes_text(uint32_t attributes, char *buf, size_t len);

/*
 * An EFI_TIME as ISO 8601 ("2025-03-10T02:53:39Z", with the offset when
 * TimeZone is set) into buf. Returns false, leaving "-" in buf, for an
 * all-zero time; fields out of range are printed as they are.
 */
bool shield_var_time_text(const uint8_t timestamp[16], char *buf, size_t len);
