/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Linux IMA runtime measurement lists, as the kernel exports them under
 * /sys/kernel/security/ima/:
 *   ascii_runtime_measurements[_ALG]   one text line per entry
 *   binary_runtime_measurements[_ALG]  packed records (security/integrity/ima/ima_fs.c)
 * Templates (Documentation/security/IMA-templates.rst): "ima" (d|n),
 * "ima-ng" (d-ng|n-ng), "ima-sig" (d-ng|n-ng|sig), "ima-ngv2", "ima-sigv2"
 * (d-ngv2), "ima-buf" (d-ng|n-ng|buf), "ima-modsig"
 * (d-ng|n-ng|sig|d-modsig|modsig), and custom templates, which the kernel
 * names by their format string ("d-ng|n-ng|sig"). A template whose fields
 * are not understood is carried as opaque template data: in a binary list
 * its template hash can still be checked, in an ASCII list it cannot.
 *
 * The kernel measures into PCR 10 (CONFIG_IMA_MEASURE_PCR_IDX); a policy
 * rule may pick another PCR for some entries, so replay takes the PCR.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "shield/pcrs.h"
#include "shield/reason.h"

#define SHIELD_IMA_LIST_MAX (512u << 20)        /* bytes in a whole list */
#define SHIELD_IMA_ENTRIES_MAX (8u << 20)       /* entries in one list */
#define SHIELD_IMA_TEMPLATE_DATA_MAX (1u << 20) /* one entry's template data */
#define SHIELD_IMA_TEMPLATE_NAME_MAX 255        /* a template name or custom format string */
#define SHIELD_IMA_NAME_MAX 4096                /* an event name (a path, PATH_MAX) */
#define SHIELD_IMA_PCR 10                       /* CONFIG_IMA_MEASURE_PCR_IDX */

enum shield_ima_format {
        SHIELD_IMA_ASCII = 1,
        SHIELD_IMA_BINARY = 2,
};

/*
 * One measurement. Every pointer points into memory the list owns and
 * stays valid until shield_ima_free(); strings are NUL-terminated.
 */
struct shield_ima_entry {
        size_t index;                   /* 0-based */
        size_t offset;                  /* byte offset of the entry in the input */
        size_t line;                    /* 1-based line in an ASCII list, 0 in a binary one */
        uint32_t pcr;
        const uint8_t *template_hash;   /* the list's digest of the template data */
        size_t template_hash_size;
        const char *template_name;      /* "ima-ng", …; a custom template's format string */
        bool template_known;            /* its fields were understood (digest, name, … filled in) */
        const char *file_hash_algo;     /* the kernel's name ("sha256", "sm3"), "" when none */
        const char *file_hash_type;     /* d-ngv2's digest type ("ima", "verity"), "" otherwise */
        uint16_t file_hash_alg;         /* TPM_ALG_ID, 0 when the TPM has none (md5, wp512, …) */
        const uint8_t *file_hash;       /* NULL/0 when the template has no digest field */
        size_t file_hash_size;
        const char *path;               /* the event name (n / n-ng), "" when none */
        const uint8_t *sig;             /* the sig field (ima-sig, ima-modsig); may be empty */
        size_t sig_size;
        const uint8_t *buf;             /* the buf field (ima-buf: a key, a kexec command line…) */
        size_t buf_size;
        const uint8_t *template_data;   /* the bytes the template hash covers; NULL when unknown */
        size_t template_data_size;
        bool violation;                 /* all-zero template hash: the kernel extended all ones */
};

/* How to read a list; a NULL pointer or zero fields mean the defaults. */
struct shield_ima_options {
        /*
         * TPM_ALG_ID of the template hashes: SHA-1 for the classic lists,
         * the bank's algorithm for the per-bank lists (…_sha256). 0: from
         * their size (20 sha1, 32 sha256 or sm3_256 — whichever the first
         * checkable entry matches —, 48 sha384, 64 sha512).
         */
        uint16_t template_hash_alg;
        /* At most this many entries; 0 or over SHIELD_IMA_ENTRIES_MAX means SHIELD_IMA_ENTRIES_MAX. */
        size_t max_entries;
};

struct shield_ima_list;

/*
 * Parse a list of len bytes at buf, telling ASCII from binary by its
 * first bytes (an ASCII list starts with the PCR number in decimal and a
 * space). buf is copied: the caller keeps it. A binary list is read in
 * the byte order its first record makes sense in (little-endian, as on
 * x86/arm64 or with ima_canonical_fmt; big-endian from s390x/ppc64).
 *
 * On success *ret is a new list to free with shield_ima_free(). On
 * failure *ret is untouched and diag (optional) names the byte offset,
 * the entry index and, in an ASCII list, the line:
 *   SHIELD_E_INVAL        buf NULL with len > 0, ret NULL, a bad option
 *   SHIELD_E_TRUNCATED    empty input, or a binary record cut short
 *   SHIELD_E_FORMAT       a malformed line, hex or field; no entries
 *   SHIELD_E_UNSUPPORTED  a file-hash algorithm the kernel does not name
 *   SHIELD_E_LIMIT        over SHIELD_IMA_LIST_MAX, the entry cap, a
 *                         template-data, template-name or event-name cap
 *   SHIELD_E_NOMEM
 * Fewer stray bytes after the last binary record than a record header
 * (real lists end with a newline) are accepted and noted as an
 * "ima-trailing-bytes" quirk; a longer cut-off record is an error.
 */
__attribute__((warn_unused_result))
int shield_ima_parse(const uint8_t *buf, size_t len, const struct shield_ima_options *opts,
                     struct shield_ima_list **ret, struct shield_diag *diag);

/* Free a list and everything its entries point to. NULL allowed. */
void shield_ima_free(struct shield_ima_list *list);

enum shield_ima_format shield_ima_format(const struct shield_ima_list *list);
/* True when a binary list was big-endian. */
bool shield_ima_big_endian(const struct shield_ima_list *list);
size_t shield_ima_count(const struct shield_ima_list *list);
/* Entry i (0-based), or NULL when i >= shield_ima_count(). */
const struct shield_ima_entry *shield_ima_entry(const struct shield_ima_list *list, size_t i);
/* Oddities noted while parsing (warnings); owned by the list. */
const struct shield_reasons *shield_ima_quirks(const struct shield_ima_list *list);

/* TPM_ALG_ID of the list's template hashes (see shield_ima_options). */
uint16_t shield_ima_template_hash_alg(const struct shield_ima_list *list);

/*
 * Recompute every template hash from its template data and append to out:
 *   "ima-template-hash-mismatch" (error): entry index, line or offset,
 *                                 the listed and the recomputed hash;
 *   "ima-violation" (info):       an all-zero template hash, which the
 *                                 kernel writes for a ToMToU/open-writers
 *                                 violation and extends as all ones;
 *   "ima-template-unknown" (warning): an ASCII entry of a template whose
 *                                 fields are not understood.
 * hasher is optional (NULL: one is made). Returns 0 (whatever was found),
 * SHIELD_E_NOMEM or SHIELD_E_CRYPTO.
 */
__attribute__((warn_unused_result))
int shield_ima_check_templates(const struct shield_ima_list *list, struct shield_hasher *hasher,
                               struct shield_reasons *out);

/*
 * Replay PCR pcr (normally SHIELD_IMA_PCR) for the bank alg from zero,
 * over the entries measured into that PCR, into ret_pcr
 * (shield_hash_size(alg) bytes, written only on success). For the list's
 * own template-hash algorithm the template hashes are extended; for
 * another bank each entry's template data is hashed with that bank's
 * algorithm, as the kernel extends every allocated bank. Violations extend
 * all ones of the bank's size. Errors: SHIELD_E_INVAL (unknown alg, NULL
 * ret_pcr), SHIELD_E_UNSUPPORTED (another bank, and an entry whose
 * template data is unknown), SHIELD_E_NOMEM, SHIELD_E_CRYPTO.
 */
__attribute__((warn_unused_result))
int shield_ima_replay(const struct shield_ima_list *list, uint32_t pcr, uint16_t alg, struct shield_hasher *hasher,
                      uint8_t *ret_pcr);

/*
 * Check the first entry, boot_aggregate, against firmware PCR values fw
 * (ima_calc_boot_aggregate in security/integrity/ima/ima_crypto.c): for
 * a SHA-1 boot_aggregate the SHA-1 over PCRs 0-7 of the sha1 bank; for
 * another algorithm that algorithm over PCRs 0-9 of its bank (kernel 5.8
 * and later). Returns 0 when equal; SHIELD_E_VERIFY after appending an
 * "ima-boot-aggregate-mismatch" error to out (an all-zero boot_aggregate
 * is named as "no TPM at boot"); SHIELD_E_NOT_FOUND when the first entry
 * is not boot_aggregate, its algorithm has no TPM bank, or fw lacks the
 * bank or one of its PCRs; SHIELD_E_NOMEM.
 */
__attribute__((warn_unused_result))
int shield_ima_check_boot_aggregate(const struct shield_ima_list *list, const struct shield_pcrs *fw,
                                    struct shield_reasons *out);
