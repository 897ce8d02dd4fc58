/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY: the import method lands with lib/tpm/duplicate.c and import.c; remove this file then. */
#include "shield/tpm.h"

int shield_seal_to_ek(const uint8_t *ek_public, size_t ek_public_len, const uint8_t *policy, size_t policy_len,
                      const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len, struct shield_diag *diag) {
        (void)ek_public, (void)ek_public_len, (void)policy, (void)policy_len, (void)data, (void)len, (void)ret, (void)ret_len;
        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1, "the import method is not built yet");
}

int shield_tpm_unseal_imported(struct shield_tpm *t, const struct shield_seal_policy *p, const uint8_t *blob,
                               size_t blob_len, uint8_t **ret, size_t *ret_len, struct shield_diag *diag) {
        (void)t, (void)p, (void)blob, (void)blob_len, (void)ret, (void)ret_len;
        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1, "the import method is not built yet");
}
