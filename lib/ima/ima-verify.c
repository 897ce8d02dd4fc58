/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Template hashes, PCR replay and boot_aggregate, as the kernel computes
 * them (security/integrity/ima/ima_crypto.c ima_calc_field_array_hash,
 * ima_queue.c ima_add_template_entry, ima_init.c ima_add_boot_aggregate).
 */
#include <stdio.h>
#include <string.h>

#include "ima-internal.h"
#include "shield/util.h"

static int with_hasher(struct shield_hasher **h, struct shield_hasher **own) {
        *own = NULL;
        if (*h)
                return 0;
        int r = shield_hasher_new(own);
        *h = *own;
        return r;
}

static void where(const struct shield_ima_entry *e, char *buf, size_t len) {
        if (e->line)
                snprintf(buf, len, "line %zu", e->line);
        else
                snprintf(buf, len, "offset %zu", e->offset);
}

int shield_ima_check_templates(const struct shield_ima_list *l, struct shield_hasher *h, struct shield_reasons *out) {
        struct shield_hasher *own;
        uint16_t alg = l->template_alg;
        int r = with_hasher(&h, &own);

        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n && r == 0; i++) {
                const struct shield_ima_entry *e = &l->entries[i];
                uint8_t md[SHIELD_HASH_MAX_SIZE];
                char at[40];

                where(e, at, sizeof at);
                if (e->violation) {
                        r = shield_reasons_add(out, "ima-violation", SHIELD_SEV_INFO, alg, (int)e->pcr, (long)i, e->offset,
                                               "entry %zu (%s) %s: a measurement violation (zero template hash; the "
                                               "kernel extended all ones)", i, at, e->path);
                        continue;
                }
                if (!e->template_data) {
                        r = shield_reasons_add(out, "ima-template-unknown", SHIELD_SEV_WARNING, alg, (int)e->pcr, (long)i,
                                               e->offset, "entry %zu (%s): template '%s' cannot be checked in this form", i,
                                               at, e->template_name);
                        continue;
                }
                r = shield_hasher_digest2(h, alg, e->template_data, e->template_data_size, NULL, 0, md);
                if (r < 0)
                        break;
                if (memcmp(md, e->template_hash, e->template_hash_size) != 0) {
                        char want[2 * SHIELD_HASH_MAX_SIZE + 1], got[2 * SHIELD_HASH_MAX_SIZE + 1];
                        shield_hex_encode(e->template_hash, e->template_hash_size, got);
                        shield_hex_encode(md, e->template_hash_size, want);
                        r = shield_reasons_add(out, "ima-template-hash-mismatch", SHIELD_SEV_ERROR, alg, (int)e->pcr, (long)i,
                                               e->offset, "entry %zu (%s) %s: template hash %s, but its %s data hashes to %s",
                                               i, at, e->path, got, e->template_name, want);
                }
        }
        shield_hasher_free(own);
        return r;
}

int shield_ima_replay(const struct shield_ima_list *l, uint32_t pcr_index, uint16_t alg, struct shield_hasher *h,
                      uint8_t *ret_pcr) {
        size_t size = shield_hash_size(alg);
        uint8_t pcr[SHIELD_HASH_MAX_SIZE] = { 0 }, ones[SHIELD_HASH_MAX_SIZE], md[SHIELD_HASH_MAX_SIZE];
        struct shield_hasher *own;
        bool own_alg = alg == l->template_alg;
        int r;

        if (!size || !ret_pcr)
                return SHIELD_E_INVAL;
        if ((r = with_hasher(&h, &own)) < 0)
                return r;
        /* ima_queue.c: a violation extends every bank with 0xff bytes of its digest size. */
        memset(ones, 0xff, sizeof ones);
        for (size_t i = 0; i < l->n; i++) {
                const struct shield_ima_entry *e = &l->entries[i];
                const uint8_t *digest;

                if (e->pcr != pcr_index)
                        continue;
                if (e->violation) {
                        digest = ones;
                } else if (own_alg) {
                        digest = e->template_hash;
                } else if (e->template_data) {
                        r = shield_hasher_digest2(h, alg, e->template_data, e->template_data_size, NULL, 0, md);
                        if (r < 0)
                                break;
                        digest = md;
                } else {
                        r = SHIELD_E_UNSUPPORTED;
                        break;
                }
                if ((r = shield_hasher_extend(h, alg, pcr, digest)) < 0)
                        break;
        }
        shield_hasher_free(own);
        if (r == 0)
                memcpy(ret_pcr, pcr, size);
        return r;
}

int shield_ima_check_boot_aggregate(const struct shield_ima_list *l, const struct shield_pcrs *fw,
                                    struct shield_reasons *out) {
        const struct shield_ima_entry *e = l->n ? &l->entries[0] : NULL;

        /* ima_init.c measures boot_aggregate first, before any file. */
        if (!e || strcmp(e->path, "boot_aggregate") != 0 || !e->file_hash_alg || !fw)
                return SHIELD_E_NOT_FOUND;

        const struct shield_pcr_bank *bank = shield_pcrs_bank_const(fw, e->file_hash_alg);
        /*
         * ima_calc_boot_aggregate: PCRs 0-7; PCRs 8 and 9 (kernel command
         * line and image in the usual allocation) only for banks other than
         * SHA-1, since kernel 5.8.
         */
        unsigned last = e->file_hash_alg == SHIELD_ALG_SHA1 ? 7 : 9;
        uint32_t need = (UINT32_C(2) << last) - 1;
        uint8_t buf[10 * SHIELD_HASH_MAX_SIZE], md[SHIELD_HASH_MAX_SIZE];

        if (!bank || (bank->present & need) != need || bank->size != e->file_hash_size)
                return SHIELD_E_NOT_FOUND;
        for (unsigned i = 0; i <= last; i++)
                memcpy(buf + i * bank->size, bank->value[i], bank->size);
        int r = shield_hash(e->file_hash_alg, buf, (size_t)(last + 1) * bank->size, md);
        if (r < 0)
                return r;
        if (memcmp(md, e->file_hash, bank->size) == 0)
                return 0;

        char want[2 * SHIELD_HASH_MAX_SIZE + 1], got[2 * SHIELD_HASH_MAX_SIZE + 1];
        bool zero = true;
        for (size_t i = 0; i < e->file_hash_size; i++)
                zero &= e->file_hash[i] == 0;
        shield_hex_encode(e->file_hash, e->file_hash_size, got);
        shield_hex_encode(md, bank->size, want);
        r = shield_reasons_add(out, "ima-boot-aggregate-mismatch", SHIELD_SEV_ERROR, e->file_hash_alg, SHIELD_IMA_PCR, 0,
                               e->offset, "entry 0 boot_aggregate is %s%s, but %s over PCRs 0-%u of the firmware is %s",
                               got, zero ? " (all zeros: the kernel found no TPM when it booted)" : "",
                               e->file_hash_algo, last, want);
        return r < 0 ? r : SHIELD_E_VERIFY;
}
