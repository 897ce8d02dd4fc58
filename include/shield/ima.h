/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Linux IMA runtime measurement lists (Documentation/security/IMA-templates
 * in the kernel): the ASCII form (ascii_runtime_measurements) and the
 * binary form (binary_runtime_measurements[_ALG]), templates ima, ima-ng,
 * ima-sig and ima-buf, any file-hash algorithm. IMA extends PCR 10.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "shield/pcrs.h"
#include "shield/reason.h"

#define SHIELD_IMA_LIST_MAX (512u << 20)        /* whole list */
#define SHIELD_IMA_ENTRIES_MAX (8u << 20)       /* entries in one list */
#define SHIELD_IMA_TEMPLATE_DATA_MAX (1u << 20) /* one entry's template data */
#define SHIELD_IMA_NAME_MAX 4096                /* a path (PATH_MAX) */
#define SHIELD_IMA_PCR 10                       /* CONFIG_IMA_MEASURE_PCR_IDX */

enum shield_ima_format {
        SHIELD_IMA_ASCII = 1,
        SHIELD_IMA_BINARY = 2,
};

/* One measurement. Pointers stay valid until the list is freed. */
struct shield_ima_entry {
        size_t index;                   /* 0-based */
        size_t offset;                  /* byte offset of the entry in the input */
        size_t line;                    /* 1-based line in an ASCII list, 0 for binary */
        uint32_t pcr;
        const uint8_t *template_hash;
        size_t template_hash_size;
        const char *template_name;      /* "ima-ng", … */
        const char *file_hash_algo;     /* "sha256", "" when the template has none */
        uint16_t file_hash_alg;         /* TPM_ALG_ID, 0 when unknown */
        const uint8_t *file_hash;
        size_t file_hash_size;
        const char *path;               /* the event name */
        const uint8_t *sig;             /* ima-sig signature or ima-buf buffer, may be empty */
        size_t sig_size;
        const uint8_t *template_data;   /* the bytes the template hash covers, NULL when unknown */
        size_t template_data_size;
        bool violation;                 /* all-zero template hash: the kernel extends all ones */
};

struct shield_ima_list;

/*
 * Parse a list, detecting ASCII or binary. template_hash_size is the size
 * of each entry's template hash in a binary list (20 for the SHA-1 list, or
 * the bank's size for binary_runtime_measurements_ALG), 0 to detect it.
 * Errors name the byte offset, the entry index and (ASCII) the line.
 * Stray bytes after the last binary record, too few for a record header,
 * are accepted and noted as a quirk.
 */
__attribute__((warn_unused_result))
int shield_ima_parse(const uint8_t *buf, size_t len, size_t template_hash_size, struct shield_ima_list **ret,
                     struct shield_diag *diag);
void shield_ima_free(struct shield_ima_list *list);

enum shield_ima_format shield_ima_format(const struct shield_ima_list *list);
size_t shield_ima_count(const struct shield_ima_list *list);
const struct shield_ima_entry *shield_ima_entry(const struct shield_ima_list *list, size_t i);
const struct shield_reasons *shield_ima_quirks(const struct shield_ima_list *list);

/* The algorithm of the template hashes (by their size: 20 sha1, 32 sha256, …). */
uint16_t shield_ima_template_hash_alg(const struct shield_ima_list *list);

/*
 * Recompute every template hash from the template data. Mismatches are
 * "ima-template-hash-mismatch" errors; violations are "ima-violation" infos;
 * unknown templates "ima-template-unknown" warnings. Returns 0 or an error.
 */
__attribute__((warn_unused_result))
int shield_ima_check_templates(const struct shield_ima_list *list, struct shield_hasher *hasher,
                               struct shield_reasons *out);

/*
 * Replay PCR 10 for bank alg into ret_pcr (shield_hash_size(alg) bytes),
 * starting from zero. For the list's own template-hash algorithm the
 * template hashes are extended; for another bank the template data is
 * hashed with that bank's algorithm, as the kernel does for each bank.
 * Violations extend all ones. Returns SHIELD_E_UNSUPPORTED when an entry's
 * template data is unknown and the bank needs it.
 */
__attribute__((warn_unused_result))
int shield_ima_replay(const struct shield_ima_list *list, uint16_t alg, struct shield_hasher *hasher,
                      uint8_t *ret_pcr);

/*
 * Check the boot_aggregate entry against firmware PCR values: for a SHA-1
 * boot_aggregate the SHA-1 of PCRs 0-7 of the sha1 bank, for another
 * algorithm that algorithm over PCRs 0-9 of its bank. Returns 0 when equal,
 * SHIELD_E_VERIFY with an "ima-boot-aggregate-mismatch" reason when not,
 * SHIELD_E_NOT_FOUND when the list has no boot_aggregate or fw lacks the bank.
 */
__attribute__((warn_unused_result))
int shield_ima_check_boot_aggregate(const struct shield_ima_list *list, const struct shield_pcrs *fw,
                                    struct shield_reasons *out);
