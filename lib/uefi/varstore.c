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
#include "util/wr.h"

/* PI 1.7 vol. 3, 3.2.1: EFI_FVH_SIGNATURE "_FVH" and EFI_FVH_REVISION. */
#define FV_SIGNATURE 0x4856465fu
#define FV_REVISION 2
#define FV_HEADER_FIXED 0x38    /* up to BlockMap[] */
#define FV_HEADER_MIN 0x48      /* fixed part + one block-map entry + the (0, 0) terminator */
#define FV_BLOCK_MAP_MAX 64     /* entries before the terminator; OVMF has one */
/* edk2 VariableFormat.h: VARIABLE_STORE_HEADER, 28 bytes. */
#define STORE_HEADER_SIZE 28
#define STORE_FORMATTED 0x5a    /* VARIABLE_STORE_FORMATTED */
#define STORE_HEALTHY 0xfe      /* VARIABLE_STORE_HEALTHY */
#define START_ID 0x55aa         /* VARIABLE_DATA */
#define FREE_ID 0xffff          /* erased flash: the first free byte */
#define AUTH_HEADER_SIZE 60     /* AUTHENTICATED_VARIABLE_HEADER */
#define PLAIN_HEADER_SIZE 32    /* VARIABLE_HEADER */
#define RECORD_ALIGN 4          /* HEADER_ALIGNMENT on x86 */

/* edk2 VariableFormat.h state values; each step clears bits of the last. */
#define VAR_IN_DELETED_TRANSITION 0xfe
#define VAR_DELETED 0xfd
#define VAR_HEADER_VALID_ONLY 0x7f
#define VAR_ADDED 0x3f

/* gEfiSystemNvDataFvGuid, gEfiAuthenticatedVariableGuid, gEfiVariableGuid (edk2 MdeModulePkg.dec). */
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
        size_t n, cap;
        struct shield_variable *vars;
};

static size_t header_size(const struct shield_varstore *vs) {
        return vs->authenticated ? AUTH_HEADER_SIZE : PLAIN_HEADER_SIZE;
}

/* Round up to RECORD_ALIGN; the caller guarantees v is far from SIZE_MAX (it lies inside a buffer). */
static size_t align_up(size_t v) {
        return (v + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1);
}

static enum shield_var_state decode_state(uint8_t s) {
        /*
         * Read the bits in the order the driver clears them, so that any
         * value a torn write can leave gets the meaning the firmware gives it.
         */
        if (s & (uint8_t)~VAR_ADDED)
                return SHIELD_VAR_INCOMPLETE; /* 0xff or VAR_HEADER_VALID_ONLY: never added */
        if (!(s & (uint8_t)~VAR_DELETED))
                return SHIELD_VAR_DELETED;
        if (!(s & (uint8_t)~VAR_IN_DELETED_TRANSITION))
                return SHIELD_VAR_IN_TRANSITION;
        return SHIELD_VAR_LIVE;
}

static void free_vars(struct shield_varstore *vs) {
        for (size_t i = 0; i < vs->n; i++)
                free(vs->vars[i].name);
        free(vs->vars);
        vs->vars = NULL;
        vs->n = vs->cap = 0;
}

/* Room for one more record in vs->vars. */
static int reserve_one(struct shield_varstore *vs) {
        if (vs->n < vs->cap)
                return 0;
        size_t ncap = vs->cap ? vs->cap * 2 : 32;
        struct shield_variable *nv = reallocarray(vs->vars, ncap, sizeof *nv);
        if (!nv)
                return SHIELD_E_NOMEM;
        vs->vars = nv;
        vs->cap = ncap;
        return 0;
}

/* A NameSize bytes UTF-16LE name: exactly one NUL, at the end (UEFI 2.10, 8.2.1: names are NUL-terminated). */
static bool name_ok(const uint8_t *name, size_t size) {
        for (size_t i = 0; i + 2 < size; i += 2)
                if (name[i] == 0 && name[i + 1] == 0)
                        return false;
        return name[size - 2] == 0 && name[size - 1] == 0;
}

/* Read the record at off into *v; the name is not converted yet. */
static int read_record(const struct shield_varstore *vs, size_t off, struct shield_variable *v, const uint8_t **ret_name,
                       size_t *ret_name_size, struct shield_diag *diag) {
        size_t header = header_size(vs);
        struct rd r = rd_init_sticky(vs->buf + off, vs->store_end - off);
        uint32_t name_size = 0, data_size = 0;
        uint16_t start_id = 0;
        uint8_t reserved = 0;

        *v = (struct shield_variable){ .offset = off };
        rd_le16(&r, &start_id);
        rd_u8(&r, &v->raw_state);
        rd_u8(&r, &reserved);
        rd_le32(&r, &v->attributes);
        if (vs->authenticated) {
                rd_le64(&r, &v->monotonic_count);
                rd_copy(&r, v->timestamp, sizeof v->timestamp);
                rd_le32(&r, &v->pubkey_index);
        }
        rd_le32(&r, &name_size);
        rd_le32(&r, &data_size);
        rd_copy(&r, v->vendor.b, sizeof v->vendor.b);
        if (rd_ok(&r) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off, (long)vs->n,
                                        "a %zu-byte variable header needs %zu bytes, the store has %zu left", header,
                                        header, vs->store_end - off);

        size_t name_at = off + header - 24; /* NameSize sits 24 bytes before the header's end in both layouts */
        if (name_size < 2 || name_size % 2 || name_size > SHIELD_VARSTORE_NAME_MAX)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, name_at, (long)vs->n,
                                        "NameSize %u: expected an even size from 2 to %u", name_size,
                                        SHIELD_VARSTORE_NAME_MAX);
        if (rd_bytes(&r, name_size, ret_name) < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, name_at, (long)vs->n,
                                        "NameSize %u runs past the end of the store (%zu bytes left)", name_size,
                                        rd_left(&r));
        if (!name_ok(*ret_name, name_size))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, off + header, (long)vs->n,
                                        "the name is not one NUL-terminated UTF-16 string of %u bytes", name_size);
        if (rd_bytes(&r, data_size, &v->data) < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, name_at + 4, (long)vs->n,
                                        "DataSize %u runs past the end of the store (%zu bytes left)", data_size,
                                        rd_left(&r));
        v->data_size = data_size;
        v->state = decode_state(v->raw_state);
        *ret_name_size = name_size;
        return 0;
}

/* Everything from off to the store's end must be erased flash. */
static int check_free(const struct shield_varstore *vs, size_t off, struct shield_diag *diag) {
        for (size_t i = off; i < vs->store_end; i++)
                if (vs->buf[i] != 0xff) {
                        bool record = i + 1 < vs->store_end && i % RECORD_ALIGN == 0 &&
                                      (vs->buf[i] | vs->buf[i + 1] << 8) == START_ID;
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, i, (long)vs->n,
                                                "%s in the free space that starts at 0x%zx (expected 0xff): the "
                                                "records do not chain to it",
                                                record ? "a variable record (StartId 0x55AA)" : "a non-erased byte",
                                                off);
                }
        return 0;
}

/* Walk the records from the store header to the first free slot. */
static int walk_records(struct shield_varstore *vs, struct shield_diag *diag) {
        size_t off = vs->store_start + STORE_HEADER_SIZE;

        for (;;) {
                if (vs->store_end - off < 2)
                        break; /* too small for another StartId: the store is full */
                uint16_t start_id = (uint16_t)(vs->buf[off] | vs->buf[off + 1] << 8);
                if (start_id == FREE_ID)
                        break;
                if (start_id != START_ID)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, off, (long)vs->n,
                                                "expected a variable StartId 0x55AA or free space 0xFFFF, found 0x%04X",
                                                start_id);
                if (vs->n == SHIELD_VARSTORE_VARIABLES_MAX)
                        return shield_diag_fail(diag, SHIELD_E_LIMIT, off, (long)vs->n, "more than %u variables",
                                                SHIELD_VARSTORE_VARIABLES_MAX);
                struct shield_variable v;
                const uint8_t *name = NULL;
                size_t name_size = 0;
                int r = read_record(vs, off, &v, &name, &name_size, diag);
                if (r < 0)
                        return r;
                if (reserve_one(vs) < 0 || shield_utf16le_to_utf8(name, name_size, &v.name) < 0)
                        return SHIELD_E_NOMEM;
                vs->vars[vs->n++] = v;
                /* The record lies inside store_end, so neither the sum nor the rounding can wrap. */
                size_t next = align_up(off + header_size(vs) + name_size + v.data_size);
                if (next >= vs->store_end) {
                        off = vs->store_end;
                        break;
                }
                off = next;
        }
        vs->free_offset = off;
        return check_free(vs, off, diag);
}

static int parse_headers(struct shield_varstore *vs, struct shield_diag *diag) {
        struct rd r = rd_init(vs->buf, vs->len);
        shield_guid fs, store_guid;
        uint64_t fv_length;
        uint32_t signature, attributes, store_size;
        uint16_t header_length, checksum, ext;
        uint8_t reserved, revision, format, state;

        if (rd_skip(&r, 16) < 0 || rd_copy(&r, fs.b, 16) < 0 || rd_le64(&r, &fv_length) < 0 ||
            rd_le32(&r, &signature) < 0 || rd_le32(&r, &attributes) < 0 || rd_le16(&r, &header_length) < 0 ||
            rd_le16(&r, &checksum) < 0 || rd_le16(&r, &ext) < 0 || rd_u8(&r, &reserved) < 0 || rd_u8(&r, &revision) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1,
                                        "%zu bytes, too few for a firmware-volume header (%u)", vs->len,
                                        FV_HEADER_FIXED);
        if (signature != FV_SIGNATURE)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x28, -1,
                                        "expected the firmware-volume signature \"_FVH\", found 0x%08x", signature);
        if (!shield_guid_eq(&fs, &NV_DATA_FV))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x10, -1,
                                        "the firmware volume is not a variable volume (FileSystemGuid is not "
                                        "fff12b8d-7696-4c8b-a985-2747075b4f50)");
        if (revision != FV_REVISION)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0x37, -1,
                                        "firmware-volume revision %u (expected %u)", revision, FV_REVISION);
        if (fv_length != vs->len)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x20, -1,
                                        "FvLength 0x%llx but the file has 0x%zx bytes", (unsigned long long)fv_length,
                                        vs->len);
        if (header_length < FV_HEADER_MIN || header_length > vs->len || header_length % 2)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x30, -1,
                                        "HeaderLength 0x%x: expected an even size from 0x%x to the volume's 0x%zx",
                                        header_length, FV_HEADER_MIN, vs->len);

        /* PI 1.7 vol. 3, 3.2.1: the header, block map included, sums to zero in 16-bit words. */
        uint16_t sum = 0;
        for (size_t i = 0; i < header_length; i += 2)
                sum = (uint16_t)(sum + (vs->buf[i] | vs->buf[i + 1] << 8));
        if (sum != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0x32, -1,
                                        "firmware-volume header checksum: the header sums to 0x%04x, expected 0", sum);

        /* The block map: (NumBlocks, Length) pairs to a (0, 0) terminator, inside the header, covering FvLength. */
        struct rd m = rd_init(vs->buf + FV_HEADER_FIXED, header_length - FV_HEADER_FIXED);
        uint64_t covered = 0;
        for (size_t i = 0;; i++) {
                uint32_t blocks, length;
                size_t at = FV_HEADER_FIXED + m.off;
                if (rd_le32(&m, &blocks) < 0 || rd_le32(&m, &length) < 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at, -1,
                                                "the block map has no (0, 0) terminator within HeaderLength 0x%x",
                                                header_length);
                if (blocks == 0 && length == 0)
                        break;
                if (blocks == 0 || length == 0 || i == FV_BLOCK_MAP_MAX)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at, -1,
                                                "block-map entry %zu (%u blocks of 0x%x bytes) is empty or one too many",
                                                i, blocks, length);
                covered += (uint64_t)blocks * length; /* at most 64 entries of < 2^64 / 64 each: no wrap */
        }
        if (covered != fv_length)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, FV_HEADER_FIXED, -1,
                                        "the block map covers 0x%llx bytes, FvLength is 0x%llx",
                                        (unsigned long long)covered, (unsigned long long)fv_length);

        struct rd s = rd_init(vs->buf + header_length, vs->len - header_length);
        if (rd_copy(&s, store_guid.b, 16) < 0 || rd_le32(&s, &store_size) < 0 || rd_u8(&s, &format) < 0 ||
            rd_u8(&s, &state) < 0 || rd_skip(&s, STORE_HEADER_SIZE - 22) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, header_length, -1,
                                        "no room for the %u-byte variable-store header after the volume header",
                                        STORE_HEADER_SIZE);
        if (shield_guid_eq(&store_guid, &AUTH_STORE))
                vs->authenticated = true;
        else if (!shield_guid_eq(&store_guid, &PLAIN_STORE))
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, header_length, -1,
                                        "unknown variable-store GUID (expected gEfiAuthenticatedVariableGuid "
                                        "aaf32c78-947b-439a-a180-2e144ec37792 or gEfiVariableGuid)");
        if (format != STORE_FORMATTED || state != STORE_HEALTHY)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, header_length + 20, -1,
                                        "variable-store format 0x%02x state 0x%02x (expected 0x5a, 0xfe)", format,
                                        state);
        if (store_size < STORE_HEADER_SIZE || store_size > vs->len - header_length)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, header_length + 16, -1,
                                        "variable-store size 0x%x: expected 0x%x to the 0x%zx bytes after the volume "
                                        "header",
                                        store_size, STORE_HEADER_SIZE, vs->len - header_length);
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

static bool matches(const struct shield_variable *v, const char *name, const shield_guid *vendor) {
        return strcmp(v->name, name) == 0 && shield_guid_eq(&v->vendor, vendor);
}

const struct shield_variable *shield_varstore_find(const struct shield_varstore *vs, const char *name,
                                                   const shield_guid *vendor) {
        const struct shield_variable *transition = NULL;

        if (!vs || !name || !vendor)
                return NULL;
        for (size_t i = vs->n; i-- > 0;) {
                const struct shield_variable *v = &vs->vars[i];
                if (!matches(v, name, vendor))
                        continue;
                if (v->state == SHIELD_VAR_LIVE)
                        return v;
                /* A replacement interrupted before the new copy was added: the firmware keeps the old one. */
                if (v->state == SHIELD_VAR_IN_TRANSITION && !transition)
                        transition = v;
        }
        return transition;
}

int shield_varstore_get(const struct shield_varstore *vs, const char *name, const shield_guid *vendor,
                        const uint8_t **ret_data, size_t *ret_size, uint32_t *ret_attributes) {
        if (!vs || !name || !vendor || !ret_data || !ret_size)
                return SHIELD_E_INVAL;
        const struct shield_variable *v = shield_varstore_find(vs, name, vendor);
        if (!v)
                return SHIELD_E_NOT_FOUND;
        *ret_data = v->data;
        *ret_size = v->data_size;
        if (ret_attributes)
                *ret_attributes = v->attributes;
        return 0;
}

int shield_varstore_set(struct shield_varstore *vs, const char *name, const shield_guid *vendor, uint32_t attributes,
                        const uint8_t *timestamp, const uint8_t *data, size_t data_size) {
        if (!vs || !name || !*name || !vendor || !data || data_size == 0 || data_size > UINT32_MAX)
                return SHIELD_E_INVAL;
        if (!(attributes & SHIELD_VAR_NON_VOLATILE) || (attributes & SHIELD_VAR_APPEND_WRITE))
                return SHIELD_E_INVAL;
        if (!vs->authenticated && (attributes & (SHIELD_VAR_TIME_BASED_AUTHENTICATED_WRITE_ACCESS |
                                                 SHIELD_VAR_AUTHENTICATED_WRITE_ACCESS)))
                return SHIELD_E_UNSUPPORTED;
        size_t name_units = strlen(name) + 1;
        if (name_units > SHIELD_VARSTORE_NAME_MAX / 2)
                return SHIELD_E_INVAL;
        size_t name_size = 2 * name_units;
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c >= 0x80)
                        return SHIELD_E_INVAL; /* names here are ASCII, so one byte is one UTF-16 unit */
        size_t header = header_size(vs), room = vs->store_end - vs->free_offset;
        if (data_size > room || header + name_size > room - data_size)
                return SHIELD_E_LIMIT;
        if (vs->n == SHIELD_VARSTORE_VARIABLES_MAX)
                return SHIELD_E_LIMIT;

        /* Everything that can fail happens before the first byte is written. */
        char *copy = strdup(name);
        if (!copy || reserve_one(vs) < 0) {
                free(copy);
                return SHIELD_E_NOMEM;
        }

        size_t off = vs->free_offset;
        uint8_t *p = vs->buf + off;
        struct shield_variable v = {
                .vendor = *vendor,
                .name = copy,
                .attributes = attributes,
                .state = SHIELD_VAR_LIVE,
                .raw_state = VAR_ADDED,
                .data_size = data_size,
                .offset = off,
        };
        /* VARIABLE_HEADER / AUTHENTICATED_VARIABLE_HEADER (edk2 VariableFormat.h), then the name and the data. */
        struct wr w = wr_init(p, header + name_size + data_size);
        wr_le16(&w, START_ID);
        wr_u8(&w, VAR_ADDED);
        wr_u8(&w, 0); /* Reserved */
        wr_le32(&w, attributes);
        if (vs->authenticated) {
                /* MonotonicCount and PubKeyIndex stay 0: they belong to the count-based scheme, unused here. */
                wr_le64(&w, 0);
                if (timestamp) {
                        wr_bytes(&w, timestamp, 16);
                        memcpy(v.timestamp, timestamp, 16);
                } else
                        wr_zero(&w, 16);
                wr_le32(&w, 0);
        }
        wr_le32(&w, (uint32_t)name_size);
        wr_le32(&w, (uint32_t)data_size);
        wr_bytes(&w, vendor->b, 16);
        wr_zero(&w, header > w.len ? header - w.len : 0);
        for (size_t i = 0; i < name_units; i++)
                wr_le16(&w, (unsigned char)name[i]);
        wr_bytes(&w, data, data_size);
        if (wr_ok(&w) < 0 || w.len != header + name_size + data_size) {
                free(copy); /* not reached: the room was checked above */
                return SHIELD_E_LIMIT;
        }
        v.data = p + header + name_size;

        /* Retire older copies only now, as the firmware does after the new record is added. */
        for (size_t i = 0; i < vs->n; i++) {
                struct shield_variable *old = &vs->vars[i];
                if ((old->state == SHIELD_VAR_LIVE || old->state == SHIELD_VAR_IN_TRANSITION) &&
                    matches(old, name, vendor)) {
                        vs->buf[old->offset + 2] &= VAR_DELETED & VAR_IN_DELETED_TRANSITION;
                        old->raw_state = vs->buf[old->offset + 2];
                        old->state = decode_state(old->raw_state);
                }
        }
        vs->vars[vs->n++] = v;
        /* Alignment padding stays 0xff, as erased flash; the next record starts aligned, as walk_records() expects. */
        size_t next = align_up(off + header + name_size + data_size);
        vs->free_offset = next >= vs->store_end ? vs->store_end : next;
        return 0;
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
                { SHIELD_VAR_NON_VOLATILE, "NV" },
                { SHIELD_VAR_BOOTSERVICE_ACCESS, "BS" },
                { SHIELD_VAR_RUNTIME_ACCESS, "RT" },
                { SHIELD_VAR_HARDWARE_ERROR_RECORD, "HR" },
                { SHIELD_VAR_AUTHENTICATED_WRITE_ACCESS, "AW" },
                { SHIELD_VAR_TIME_BASED_AUTHENTICATED_WRITE_ACCESS, "AT" },
                { SHIELD_VAR_APPEND_WRITE, "AP" },
                { SHIELD_VAR_ENHANCED_AUTHENTICATED_ACCESS, "EA" },
        };
        size_t used = 0;
        uint32_t rest = a;

        if (!buf || len == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (a & names[i].bit) {
                        rest &= ~names[i].bit;
                        if (used < len)
                                used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
                                                         names[i].name);
                }
        if (rest && used < len)
                used += (size_t)snprintf(buf + used, len - used, "%s0x%x", used ? "|" : "", rest);
        if (!used)
                snprintf(buf, len, "-");
}

bool shield_var_time_text(const uint8_t t[16], char *buf, size_t len) {
        static const uint8_t zero[16] = { 0 };

        if (!buf || len == 0)
                return false;
        if (!t || memcmp(t, zero, sizeof zero) == 0) {
                snprintf(buf, len, "-");
                return false;
        }
        /* UEFI 2.10, 8.3 EFI_TIME: Year u16, Month, Day, Hour, Minute, Second, Pad1, Nanosecond u32, TimeZone i16, Daylight, Pad2. */
        unsigned year = (unsigned)(t[0] | t[1] << 8);
        int16_t tz = (int16_t)(uint16_t)(t[12] | t[13] << 8);
        char zone[24];
        if (tz == 0)
                snprintf(zone, sizeof zone, "Z");
        else if (tz == 0x07ff) /* EFI_UNSPECIFIED_TIMEZONE: local time */
                zone[0] = '\0';
        else
                snprintf(zone, sizeof zone, " (TimeZone %d min)", tz);
        snprintf(buf, len, "%04u-%02u-%02uT%02u:%02u:%02u%s", year, t[2], t[3], t[4], t[5], t[6], zone);
        return true;
}
