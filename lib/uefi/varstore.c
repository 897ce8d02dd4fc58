/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edk2 variable stores. Layouts: EFI_FIRMWARE_VOLUME_HEADER (PI 1.7 vol. 3,
 * 3.2.1), VARIABLE_STORE_HEADER and (AUTHENTICATED_)VARIABLE_HEADER
 * (edk2 MdeModulePkg/Include/Guid/VariableFormat.h), checked against
 * Debian's OVMF_VARS files (../shared/notes/firmware-harness.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/util.h"
#include "shield/varstore.h"
#include "util/rd.h"

#define FV_SIGNATURE 0x4856465fu /* "_FVH" */
#define FV_HEADER_MIN 0x48       /* fixed part + one block-map entry + terminator */
#define STORE_HEADER_SIZE 28
#define STORE_FORMATTED 0x5a
#define STORE_HEALTHY 0xfe
#define START_ID 0x55aa
#define AUTH_HEADER_SIZE 60
#define PLAIN_HEADER_SIZE 32
#define RECORD_ALIGN 4

/* edk2 VariableFormat.h state bits. */
#define VAR_IN_DELETED_TRANSITION 0xfe
#define VAR_DELETED 0xfd
#define VAR_HEADER_VALID_ONLY 0x7f
#define VAR_ADDED 0x3f

/* gEfiSystemNvDataFvGuid, gEfiAuthenticatedVariableGuid, gEfiVariableGuid. */
static const shield_guid NV_DATA_FV = { { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c, 0xa9, 0x85, 0x27, 0x47, 0x07,
                                          0x5b, 0x4f, 0x50 } };
static const shield_guid AUTH_STORE = { { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43, 0xa1, 0x80, 0x2e, 0x14, 0x4e,
                                          0xc3, 0x77, 0x92 } };
static const shield_guid PLAIN_STORE = { { 0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41, 0x98, 0xb6, 0xfe, 0x85, 0x70,
                                           0x7f, 0xfe, 0x7d } };

struct shield_varstore {
        uint8_t *buf;
        size_t len;
        size_t store_start, store_end; /* the variable store's bytes in buf */
        size_t free_offset;            /* where the next record goes */
        bool authenticated;
        size_t n;
        struct shield_variable *vars;
};

static size_t align_up(size_t v) {
        return (v + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1);
}

static enum shield_var_state decode_state(uint8_t s) {
        /* States only ever clear bits: added, then in-transition, then deleted. */
        if (s == VAR_ADDED)
                return SHIELD_VAR_LIVE;
        if (s == VAR_HEADER_VALID_ONLY)
                return SHIELD_VAR_INCOMPLETE;
        if ((s & ~VAR_DELETED & 0xff) == 0)
                return SHIELD_VAR_DELETED;
        if (s == (VAR_ADDED & VAR_IN_DELETED_TRANSITION))
                return SHIELD_VAR_IN_TRANSITION;
        return SHIELD_VAR_DELETED;
}

static void free_vars(struct shield_varstore *vs) {
        for (size_t i = 0; i < vs->n; i++)
                free(vs->vars[i].name);
        free(vs->vars);
        vs->vars = NULL;
        vs->n = 0;
}

/* Walk the records from store_start + header to the first free slot. */
static int walk_records(struct shield_varstore *vs, struct shield_diag *diag) {
        size_t header = vs->authenticated ? AUTH_HEADER_SIZE : PLAIN_HEADER_SIZE, cap = 0;
        size_t off = vs->store_start + STORE_HEADER_SIZE;

        free_vars(vs);
        for (;;) {
                struct rd r = rd_init(vs->buf + off, vs->store_end - off);
                uint16_t start_id;
                if (rd_le16(&r, &start_id) < 0 || start_id != START_ID)
                        break; /* free space (0xffff) or the end of the store */
                struct shield_variable v = { 0 };
                uint32_t name_size = 0, data_size = 0;
                uint8_t reserved;
                v.offset = off;
                if (rd_left(&r) < header - 2)
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off, (long)vs->n,
                                                "a variable header runs past the end of the store");
                (void)rd_u8(&r, &v.raw_state);
                (void)rd_u8(&r, &reserved);
                (void)rd_le32(&r, &v.attributes);
                if (vs->authenticated) {
                        uint32_t pubkey_index;
                        (void)rd_le64(&r, &v.monotonic_count);
                        (void)rd_copy(&r, v.timestamp, 16);
                        (void)rd_le32(&r, &pubkey_index);
                }
                (void)rd_le32(&r, &name_size);
                (void)rd_le32(&r, &data_size);
                (void)rd_copy(&r, v.vendor.b, 16);
                const uint8_t *name;
                if (name_size < 2 || name_size % 2 || rd_bytes(&r, name_size, &name) < 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, off + header - 24, (long)vs->n,
                                                "NameSize %u is odd, empty or runs past the store", name_size);
                if (rd_bytes(&r, data_size, &v.data) < 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, off + header - 20, (long)vs->n,
                                                "DataSize %u runs past the end of the store", data_size);
                v.data_size = data_size;
                v.state = decode_state(v.raw_state);
                if (vs->n == SHIELD_VARSTORE_VARIABLES_MAX)
                        return shield_diag_fail(diag, SHIELD_E_LIMIT, off, (long)vs->n, "more than %u variables",
                                                SHIELD_VARSTORE_VARIABLES_MAX);
                if (shield_utf16le_to_utf8(name, name_size, &v.name) < 0)
                        return SHIELD_E_NOMEM;
                if (vs->n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        struct shield_variable *nv = reallocarray(vs->vars, ncap, sizeof *nv);
                        if (!nv) {
                                free(v.name);
                                return SHIELD_E_NOMEM;
                        }
                        vs->vars = nv;
                        cap = ncap;
                }
                vs->vars[vs->n++] = v;
                size_t next = align_up(off + header + name_size + data_size);
                if (next >= vs->store_end) {
                        off = vs->store_end;
                        break;
                }
                off = next;
        }
        vs->free_offset = off;
        return 0;
}

static int parse_headers(struct shield_varstore *vs, struct shield_diag *diag) {
        struct rd r = rd_init(vs->buf, vs->len);
        shield_guid fs, store_guid;
        uint64_t fv_length;
        uint32_t signature, attributes, store_size;
        uint16_t header_length, checksum, ext;
        uint8_t format, state;

        if (rd_skip(&r, 16) < 0 || rd_copy(&r, fs.b, 16) < 0 || rd_le64(&r, &fv_length) < 0 || rd_le32(&r, &signature) < 0 ||
            rd_le32(&r, &attributes) < 0 || rd_le16(&r, &header_length) < 0 || rd_le16(&r, &checksum) < 0 ||
            rd_le16(&r, &ext) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1, "%zu bytes, too few for a firmware-volume header",
                                        vs->len);
        if (signature != FV_SIGNATURE)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x28, -1, "no \"_FVH\" firmware-volume signature");
        if (!shield_guid_eq(&fs, &NV_DATA_FV))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x10, -1,
                                        "the firmware volume is not an NV variable volume (FileSystemGuid)");
        if (fv_length > vs->len || header_length < FV_HEADER_MIN || header_length > fv_length || header_length % 2)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x20, -1,
                                        "FvLength 0x%llx / HeaderLength 0x%x do not fit the %zu-byte file",
                                        (unsigned long long)fv_length, header_length, vs->len);
        uint16_t sum = 0;
        for (size_t i = 0; i < header_length; i += 2)
                sum = (uint16_t)(sum + (vs->buf[i] | vs->buf[i + 1] << 8));
        if (sum != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x32, -1,
                                        "firmware-volume header checksum is wrong (sum 0x%04x)", sum);

        struct rd s = rd_init(vs->buf + header_length, (size_t)fv_length - header_length);
        if (rd_copy(&s, store_guid.b, 16) < 0 || rd_le32(&s, &store_size) < 0 || rd_u8(&s, &format) < 0 ||
            rd_u8(&s, &state) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, header_length, -1, "no variable-store header");
        if (shield_guid_eq(&store_guid, &AUTH_STORE))
                vs->authenticated = true;
        else if (!shield_guid_eq(&store_guid, &PLAIN_STORE))
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, header_length, -1, "unknown variable-store GUID");
        if (format != STORE_FORMATTED || state != STORE_HEALTHY)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, header_length + 20, -1,
                                        "variable store format 0x%02x state 0x%02x (0x5a, 0xfe expected)", format, state);
        if (store_size < STORE_HEADER_SIZE || store_size > fv_length - header_length)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, header_length + 16, -1,
                                        "variable-store size 0x%x does not fit the volume", store_size);
        vs->store_start = header_length;
        vs->store_end = header_length + (size_t)store_size;
        return 0;
}

int shield_varstore_parse(const uint8_t *buf, size_t len, struct shield_varstore **ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;
        if (len > SHIELD_VARSTORE_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%zu bytes, over the %u-byte limit", len,
                                        SHIELD_VARSTORE_MAX);
        struct shield_varstore *vs = calloc(1, sizeof *vs);
        if (!vs)
                return SHIELD_E_NOMEM;
        vs->buf = malloc(len ? len : 1);
        if (!vs->buf) {
                free(vs);
                return SHIELD_E_NOMEM;
        }
        if (len)
                memcpy(vs->buf, buf, len);
        vs->len = len;
        int r = parse_headers(vs, diag);
        if (r == 0)
                r = walk_records(vs, diag);
        if (r < 0) {
                shield_varstore_free(vs);
                return r;
        }
        *ret = vs;
        return 0;
}

void shield_varstore_free(struct shield_varstore *vs) {
        if (!vs)
                return;
        free_vars(vs);
        free(vs->buf);
        free(vs);
}

bool shield_varstore_authenticated(const struct shield_varstore *vs) {
        return vs->authenticated;
}

size_t shield_varstore_count(const struct shield_varstore *vs) {
        return vs->n;
}

const struct shield_variable *shield_varstore_variable(const struct shield_varstore *vs, size_t i) {
        return i < vs->n ? &vs->vars[i] : NULL;
}

size_t shield_varstore_free_space(const struct shield_varstore *vs) {
        return vs->store_end - vs->free_offset;
}

const struct shield_variable *shield_varstore_find(const struct shield_varstore *vs, const char *name,
                                                   const shield_guid *vendor) {
        for (size_t i = vs->n; i-- > 0;)
                if (vs->vars[i].state == SHIELD_VAR_LIVE && strcmp(vs->vars[i].name, name) == 0 &&
                    shield_guid_eq(&vs->vars[i].vendor, vendor))
                        return &vs->vars[i];
        return NULL;
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

int shield_varstore_set(struct shield_varstore *vs, const char *name, const shield_guid *vendor, uint32_t attributes,
                        const uint8_t *timestamp, const uint8_t *data, size_t data_size) {
        if (!vs || !name || !*name || !vendor || (!data && data_size) || data_size > UINT32_MAX)
                return SHIELD_E_INVAL;
        if (!vs->authenticated && (attributes & SHIELD_VAR_TIME_BASED_AUTHENTICATED_WRITE_ACCESS))
                return SHIELD_E_UNSUPPORTED;
        size_t header = vs->authenticated ? AUTH_HEADER_SIZE : PLAIN_HEADER_SIZE;
        size_t name_units = strlen(name) + 1, name_size = 2 * name_units;
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c >= 0x80)
                        return SHIELD_E_INVAL; /* variable names here are ASCII */
        size_t record = header + name_size + data_size;
        if (record > vs->store_end - vs->free_offset)
                return SHIELD_E_LIMIT;

        uint8_t *p = vs->buf + vs->free_offset;
        memset(p, 0, header);
        put_le(p, START_ID, 2);
        p[2] = VAR_ADDED;
        put_le(p + 4, attributes, 4);
        size_t at = 8;
        if (vs->authenticated) {
                at += 8; /* MonotonicCount 0 */
                if (timestamp)
                        memcpy(p + at, timestamp, 16);
                at += 16 + 4; /* TimeStamp, PubKeyIndex 0 */
        }
        put_le(p + at, name_size, 4);
        put_le(p + at + 4, data_size, 4);
        memcpy(p + at + 8, vendor->b, 16);
        for (size_t i = 0; i < name_units; i++)
                put_le(p + header + 2 * i, (unsigned char)name[i], 2);
        if (data_size)
                memcpy(p + header + name_size, data, data_size);

        /* Only now retire the old copy: a failure above left the store as it was. */
        const struct shield_variable *old = shield_varstore_find(vs, name, vendor);
        if (old)
                vs->buf[old->offset + 2] &= VAR_DELETED & VAR_IN_DELETED_TRANSITION;
        return walk_records(vs, NULL);
}

const uint8_t *shield_varstore_bytes(const struct shield_varstore *vs, size_t *ret_len) {
        if (ret_len)
                *ret_len = vs->len;
        return vs->buf;
}

void shield_var_attributes_text(uint32_t a, char *buf, size_t len) {
        static const struct {
                uint32_t bit;
                const char *name;
        } names[] = {
                { SHIELD_VAR_NON_VOLATILE, "NV" }, { SHIELD_VAR_BOOTSERVICE_ACCESS, "BS" },
                { SHIELD_VAR_RUNTIME_ACCESS, "RT" }, { SHIELD_VAR_HARDWARE_ERROR_RECORD, "HR" },
                { SHIELD_VAR_AUTHENTICATED_WRITE_ACCESS, "AW" },
                { SHIELD_VAR_TIME_BASED_AUTHENTICATED_WRITE_ACCESS, "AT" }, { SHIELD_VAR_APPEND_WRITE, "AP" },
        };
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof names / sizeof names[0] && used < len; i++)
                if (a & names[i].bit)
                        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i].name);
        if (!used)
                snprintf(buf, len, "-");
}
