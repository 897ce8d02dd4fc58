/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A set of PCR values per bank: what a replay computes, what a TPM reports
 * and what PCRS.json files hold ({"sha256": {"0": "hex", …}, "sha1": {…}}).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "shield/reason.h"

#define SHIELD_PCR_COUNT 24
#define SHIELD_BANKS_MAX 8
#define SHIELD_PCRS_JSON_MAX (1u << 20) /* a PCRS.json larger than this is refused */

struct shield_pcr_bank {
        uint16_t alg;                   /* TPM_ALG_ID */
        uint16_t size;                  /* digest size */
        uint32_t present;               /* bit i set: value[i] is meaningful */
        uint32_t extended;              /* bit i set: the source changed PCR i from its reset value
                                         * (a replay: some event extended it; a TPM: = present) */
        uint8_t value[SHIELD_PCR_COUNT][SHIELD_HASH_MAX_SIZE];
};

struct shield_pcrs {
        size_t n_banks;
        struct shield_pcr_bank banks[SHIELD_BANKS_MAX];
};

/* The bank for alg, or NULL. */
struct shield_pcr_bank *shield_pcrs_bank(struct shield_pcrs *pcrs, uint16_t alg);
const struct shield_pcr_bank *shield_pcrs_bank_const(const struct shield_pcrs *pcrs, uint16_t alg);

/*
 * Add an empty bank (present = 0) for alg with digest size size, or return
 * the existing one. SHIELD_E_LIMIT when SHIELD_BANKS_MAX banks exist,
 * SHIELD_E_INVAL when size is 0 or over SHIELD_HASH_MAX_SIZE.
 */
__attribute__((warn_unused_result))
int shield_pcrs_add_bank(struct shield_pcrs *pcrs, uint16_t alg, uint16_t size,
                         struct shield_pcr_bank **ret);

/*
 * Parse PCRS.json text (len bytes). Bank names as shield_hash_name(); PCR
 * keys "0".."23"; values hex of the bank's digest size. Unknown banks,
 * bad indexes or wrong lengths are errors reported in diag (offset = the
 * JSON position where known). *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_pcrs_parse_json(const char *text, size_t len, struct shield_pcrs *ret,
                           struct shield_diag *diag);

/* The PCRS.json form of pcrs, only present values; malloc'd, NULL on ENOMEM. */
char *shield_pcrs_to_json(const struct shield_pcrs *pcrs);

/*
 * Compare every present value of expected against actual, skipping PCRs
 * whose bit is set in ignore_mask. Each difference is added to out as a
 * "pcr-mismatch" error (bank, pcr, both values); a bank or PCR that
 * expected has and actual lacks is "pcr-missing". Returns 0 when all
 * compared equal, SHIELD_E_VERIFY when any differ, or SHIELD_E_NOMEM.
 */
__attribute__((warn_unused_result))
int shield_pcrs_compare(const struct shield_pcrs *expected, const struct shield_pcrs *actual,
                        uint32_t ignore_mask, struct shield_reasons *out);
