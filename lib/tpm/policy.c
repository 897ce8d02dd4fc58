/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy digests a verifier computes in software, to know what authPolicy a
 * key sealed to a boot state carries without asking the TPM (TPM 2.0 Part
 * 1, 19.7: policy digests are extended like PCRs, from all zeros).
 */
#include <string.h>

#include <tss2/tss2_mu.h>

#include "shield/crypto.h"
#include "shield/tpm.h"

int shield_policy_pcr_digest(uint16_t name_alg, const struct shield_pcrs *pcrs, uint16_t bank, uint32_t mask,
                             const uint8_t *prev, uint8_t *ret, size_t *ret_len, struct shield_diag *diag) {
        size_t hs = shield_hash_size(name_alg), bs = shield_hash_size(bank);
        if (!pcrs || !ret || !ret_len || !hs || !bs)
                return SHIELD_E_INVAL;
        if (!mask || mask >> SHIELD_PCR_COUNT)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "a PCR policy selects 1 to 24 PCRs (0..23)");
        const struct shield_pcr_bank *b = NULL;
        for (size_t i = 0; i < pcrs->n_banks && !b; i++)
                if (pcrs->banks[i].alg == bank)
                        b = &pcrs->banks[i];
        if (!b)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no %s PCR values", shield_hash_name(bank));
        if ((b->present & mask) != mask)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s PCR values are missing (PCR mask 0x%06x)",
                                        shield_hash_name(bank), mask & ~b->present);

        /* Part 3, 23.7 TPM2_PolicyPCR: digestTPM = H(the selected values in selection order, PCR 0 first). */
        uint8_t concat[SHIELD_PCR_COUNT * SHIELD_HASH_MAX_SIZE], pcr_digest[SHIELD_HASH_MAX_SIZE];
        size_t n = 0;
        for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++)
                if (mask & (1u << i)) {
                        memcpy(concat + n, b->value[i], bs);
                        n += bs;
                }
        int r = shield_hash(name_alg, concat, n, pcr_digest);
        if (r < 0)
                return r;

        /* policyDigest_new = H_nameAlg(policyDigest_old || TPM_CC_PolicyPCR || pcrs || digestTPM). */
        TPML_PCR_SELECTION sel = { .count = 1 };
        sel.pcrSelections[0].hash = bank;
        sel.pcrSelections[0].sizeofSelect = 3;
        for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++)
                if (mask & (1u << i))
                        sel.pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
        uint8_t buf[SHIELD_HASH_MAX_SIZE + 4 + sizeof sel + SHIELD_HASH_MAX_SIZE];
        size_t off = 0;
        if (prev)
                memcpy(buf, prev, hs);
        else
                memset(buf, 0, hs);
        off = hs;
        if (Tss2_MU_TPM2_CC_Marshal(TPM2_CC_PolicyPCR, buf, sizeof buf, &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, buf, sizeof buf, &off) != TSS2_RC_SUCCESS)
                return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "marshalling the PCR selection failed");
        memcpy(buf + off, pcr_digest, hs);
        off += hs;
        if ((r = shield_hash(name_alg, buf, off, ret)) < 0)
                return r;
        *ret_len = hs;
        return 0;
}

int shield_seal_policy_digest(const struct shield_seal_policy *p, uint8_t ret[32], struct shield_diag *diag) {
        uint8_t pd[SHIELD_HASH_MAX_SIZE];
        size_t pd_len = 0;
        int r;

        if (!p || !ret)
                return SHIELD_E_INVAL;
        if (p->epoch_nv) {
                size_t hs = p->epoch_nv_name_len >= 2 && p->epoch_nv_name_len <= SHIELD_TPM_NAME_MAX
                                    ? shield_hash_size((uint16_t)(p->epoch_nv_name[0] << 8 | p->epoch_nv_name[1]))
                                    : 0;
                if (!hs || p->epoch_nv_name_len != 2 + hs)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                                "the epoch counter 0x%08x needs its Name (nameAlg || digest)",
                                                (unsigned)p->epoch_nv);
                if (p->epoch_nv >> 24 != TPM2_HT_NV_INDEX)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "0x%08x is not an NV index (0x01xxxxxx)",
                                                (unsigned)p->epoch_nv);
        }
        if ((r = shield_policy_pcr_digest(SHIELD_ALG_SHA256, &p->pcrs, p->bank, p->mask, NULL, pd, &pd_len, diag)) < 0)
                return r;
        if (p->epoch_nv) {
                /*
                 * Part 3, 23.9 TPM2_PolicyNV: args = H(operandB || offset || operation), then
                 * policyDigest_new = H(policyDigest_old || TPM_CC_PolicyNV || args || nvIndex->Name).
                 */
                uint8_t a[8 + 2 + 2], args[32], buf[32 + 4 + 32 + SHIELD_TPM_NAME_MAX];
                for (int i = 0; i < 8; i++)
                        a[i] = (uint8_t)(p->epoch >> (56 - 8 * i));
                a[8] = a[9] = 0;                                 /* offset 0 */
                a[10] = (uint8_t)(TPM2_EO_EQ >> 8);
                a[11] = (uint8_t)TPM2_EO_EQ;
                if ((r = shield_hash(SHIELD_ALG_SHA256, a, sizeof a, args)) < 0)
                        return r;
                size_t off = 0;
                memcpy(buf, pd, 32);
                off = 32;
                if (Tss2_MU_TPM2_CC_Marshal(TPM2_CC_PolicyNV, buf, sizeof buf, &off) != TSS2_RC_SUCCESS)
                        return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "marshalling TPM_CC_PolicyNV failed");
                memcpy(buf + off, args, 32);
                off += 32;
                memcpy(buf + off, p->epoch_nv_name, p->epoch_nv_name_len);
                off += p->epoch_nv_name_len;
                if ((r = shield_hash(SHIELD_ALG_SHA256, buf, off, pd)) < 0)
                        return r;
        }
        memcpy(ret, pd, 32);
        return 0;
}
