/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm2-tools' "serialized" PCR values file (tpm2_quote -o, tpm2_pcrread -o;
 * tpm2-tools lib/pcr.c pcr_fwrite_serialized): the in-memory structs
 * TPML_PCR_SELECTION and TPML_DIGEST written little-endian with their C
 * padding. Untrusted bytes: every count is checked against its array.
 */
#include <string.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "util/rd.h"

#define SEL_SIZE 132      /* u32 count + 16 x {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], pad} */
#define DIGESTS_SIZE 532  /* u32 count + 8 x {u16 size, u8 buffer[64]} */
#define SEL_MAX 16
#define DIGESTS_MAX 8
#define LISTS_MAX 64      /* 16 banks x 32 PCRs / 8 per list */

int shield_tpm_pcrs_parse_tools(const uint8_t *buf, size_t len, struct shield_pcrs *ret, struct shield_diag *diag) {
        struct shield_pcrs pcrs = { 0 };
        struct rd r = { .p = buf, .len = buf ? len : 0 };
        uint32_t nsel, nlists;
        int e;

        if (!ret)
                return SHIELD_E_INVAL;
        if (len < SEL_SIZE + 4)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1,
                                        "a tpm2-tools PCR file has at least %d bytes, this has %zu", SEL_SIZE + 4, len);
        if ((e = rd_le32(&r, &nsel)) < 0)
                return shield_diag_fail(diag, e, 0, -1, "TPML_PCR_SELECTION.count");
        if (nsel == 0 || nsel > SEL_MAX)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "TPML_PCR_SELECTION.count is %u, expected 1 to %d",
                                        (unsigned)nsel, SEL_MAX);
        uint16_t alg[SEL_MAX];
        uint32_t mask[SEL_MAX];
        for (uint32_t i = 0; i < SEL_MAX; i++) {
                uint16_t h;
                uint8_t size;
                const uint8_t *sel;
                size_t at = r.off;
                if ((e = rd_le16(&r, &h)) < 0 || (e = rd_u8(&r, &size)) < 0 || (e = rd_bytes(&r, 4, &sel)) < 0 ||
                    (e = rd_skip(&r, 1)) < 0)
                        return shield_diag_fail(diag, e, at, (long)i, "TPMS_PCR_SELECTION");
                if (i >= nsel)
                        continue;
                if (size > 4)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 2, (long)i, "sizeofSelect %u, over 4",
                                                (unsigned)size);
                if (shield_hash_size(h) == 0)
                        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, at, (long)i,
                                                "bank 0x%04x is not a hash we know", (unsigned)h);
                alg[i] = h;
                mask[i] = 0;
                for (unsigned b = 0; b < size; b++)
                        mask[i] |= (uint32_t)sel[b] << (8 * b);
                if (mask[i] >> SHIELD_PCR_COUNT)
                        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, at + 3, (long)i,
                                                "PCRs above %d are selected", SHIELD_PCR_COUNT - 1);
        }
        if ((e = rd_le32(&r, &nlists)) < 0)
                return shield_diag_fail(diag, e, r.off, -1, "the TPML_DIGEST count");
        if (nlists > LISTS_MAX || (size_t)nlists * DIGESTS_SIZE != len - r.off)
                return shield_diag_fail(diag, nlists > LISTS_MAX ? SHIELD_E_LIMIT : SHIELD_E_FORMAT, SEL_SIZE, -1,
                                        "%u TPML_DIGESTs declared, %zu bytes follow (%d each)", (unsigned)nlists,
                                        len - r.off, DIGESTS_SIZE);
        /* Walk the selection in order, taking values from the lists in order (list k at a fixed offset). */
        const size_t base = SEL_SIZE + 4;
        uint32_t li = 0, lk = 0, lcount = 0;
        for (uint32_t i = 0; i < nsel; i++) {
                struct shield_pcr_bank *bank;
                if ((e = shield_pcrs_add_bank(&pcrs, alg[i], (uint16_t)shield_hash_size(alg[i]), &bank)) < 0)
                        return shield_diag_fail(diag, e, 0, (long)i, "too many banks");
                for (unsigned j = 0; j < SHIELD_PCR_COUNT; j++) {
                        if (!(mask[i] & (1u << j)))
                                continue;
                        while (lk == lcount) {
                                if (li == nlists)
                                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, len, -1,
                                                                "the values end before %s PCR %u",
                                                                shield_hash_name(alg[i]), j);
                                const uint8_t *l = buf + base + (size_t)li * DIGESTS_SIZE;
                                lcount = (uint32_t)l[0] | (uint32_t)l[1] << 8 | (uint32_t)l[2] << 16 |
                                         (uint32_t)l[3] << 24;
                                if (lcount > DIGESTS_MAX)
                                        return shield_diag_fail(diag, SHIELD_E_FORMAT, base + (size_t)li * DIGESTS_SIZE,
                                                                (long)li, "TPML_DIGEST.count is %u, over 8",
                                                                (unsigned)lcount);
                                li++;
                                lk = 0;
                        }
                        size_t at = base + (size_t)(li - 1) * DIGESTS_SIZE + 4 + 66 * (size_t)lk;
                        uint16_t size = (uint16_t)(buf[at] | buf[at + 1] << 8);
                        if (size != bank->size)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, at, (long)(li - 1),
                                                        "%s PCR %u has %u bytes, expected %u",
                                                        shield_hash_name(alg[i]), j, (unsigned)size,
                                                        (unsigned)bank->size);
                        memcpy(bank->value[j], buf + at + 2, size);
                        bank->present |= 1u << j;
                        bank->extended |= 1u << j;
                        lk++;
                }
        }
        if (lk != lcount || li != nlists)
                return shield_diag_fail(diag, SHIELD_E_TRAILING, base + (size_t)li * DIGESTS_SIZE, (long)li,
                                        "more values than PCRs selected");
        *ret = pcrs;
        return 0;
}
