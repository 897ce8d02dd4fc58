/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "shield/error.h"
#include "crypto/tpm-crypto.h"

/*
 * Parse a TPM2B_PUBLIC (size included, exactly len bytes) into *ret;
 * failures are recorded in diag with diag->index = index.
 */
int tpm_parse_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *ret, long index, struct shield_diag *diag);

/* The public key of pub (pointing into pub). SHIELD_E_UNSUPPORTED for other than RSA and ECC keys. */
int tpm_public_key(const TPMT_PUBLIC *pub, struct tpmc_key *ret);
