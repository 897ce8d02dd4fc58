/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "shield/ima.h"

/* Template field ids (Documentation/security/IMA-templates.rst, "supported template fields"). */
enum ima_field {
        IMA_F_D,        /* digest, 20 bytes (the legacy "ima" template) */
        IMA_F_N,        /* name, at most 255 bytes */
        IMA_F_D_NG,     /* "algo:" NUL digest */
        IMA_F_D_NGV2,   /* "type:algo:" NUL digest */
        IMA_F_N_NG,     /* name NUL */
        IMA_F_SIG,      /* security.ima signature */
        IMA_F_BUF,      /* a buffer (ima-buf) */
        IMA_F_D_MODSIG, /* "algo:" NUL digest of the file without its appended signature */
        IMA_F_MODSIG,   /* the appended signature */
        IMA_F_OTHER,    /* evmsig, xattr*, iuid, igid, imode: carried, shown only in binary lists */
};

/* IMA_TEMPLATE_NUM_FIELDS_MAX in security/integrity/ima/ima.h. */
#define IMA_FIELDS_MAX 15

struct ima_template {
        const char *name;       /* static: a built-in name, or NULL for a custom format */
        bool legacy;            /* the "ima" template: its own binary layout and hash */
        bool known;             /* every field id was recognised */
        bool ascii_ok;          /* every field has an ASCII form we can turn back into bytes */
        uint8_t n;
        uint8_t fields[IMA_FIELDS_MAX];
};

/*
 * Resolve a template name (not NUL-terminated, len bytes): a built-in
 * descriptor, or a custom format string "d-ng|n-ng|…". An unresolvable
 * name gives known = false and n = 0.
 */
void ima_template_lookup(const char *name, size_t len, struct ima_template *ret);

/* A file-hash algorithm the kernel names (crypto/hash_info.c hash_algo_name). */
struct ima_algo {
        const char *name;
        uint16_t size;
        uint16_t tpm_alg; /* TPM_ALG_ID, 0 when none */
};

/* The algorithm named by name[0..len), or NULL. */
const struct ima_algo *ima_algo_lookup(const char *name, size_t len);

/* Entries' rebuilt template data and copied strings live in blocks that never move. */
struct arena_block {
        struct arena_block *next;
        _Alignas(8) uint8_t data[];
};

struct shield_ima_list {
        uint8_t *buf; /* our copy of the input, plus a NUL; ASCII tokens are cut in place */
        size_t len;
        enum shield_ima_format format;
        bool big_endian;
        uint16_t template_alg;
        size_t n, cap, max_entries;
        struct shield_ima_entry *entries;
        struct arena_block *block;
        size_t block_used, block_left;
        struct shield_reasons quirks;
};

/* The legacy "ima" template hashes the name padded with NULs to IMA_EVENT_NAME_LEN_MAX + 1. */
#define IMA_LEGACY_NAME_SIZE 256
#define IMA_LEGACY_DIGEST_SIZE 20
/* The legacy template data, plus one NUL so the name inside is always terminated. */
#define IMA_LEGACY_BUF_SIZE (IMA_LEGACY_DIGEST_SIZE + IMA_LEGACY_NAME_SIZE + 1)

/*
 * Fill d (IMA_LEGACY_BUF_SIZE bytes) with the legacy template data, digest
 * (20 bytes) ‖ name[0..name_len) padded to 256; the kernel keeps at most
 * 255 bytes of the name. The caller owns d: the template code allocates
 * nothing, so it depends on no parser state.
 */
void ima_legacy_template_fill(uint8_t *d, const uint8_t *digest, const char *name, size_t name_len);
