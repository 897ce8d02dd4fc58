/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMA lists: parse (both forms, detected; and with a forced template-hash
 * algorithm and a small entry cap), read every entry, check templates,
 * replay each bank, check boot_aggregate.
 */
#include <string.h>

#include "shield/ima.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct shield_ima_list *l) {
        struct shield_reasons reasons = { 0 };
        struct shield_pcrs fw = { 0 };
        struct shield_pcr_bank *bank = NULL;
        uint8_t pcr[SHIELD_HASH_MAX_SIZE];
        static const uint16_t banks[] = { SHIELD_ALG_SHA1, SHIELD_ALG_SHA256, SHIELD_ALG_SHA384, SHIELD_ALG_SHA512,
                                          SHIELD_ALG_SM3_256 };
        size_t sum = 0;

        for (size_t i = 0; i < shield_ima_count(l); i++) {
                const struct shield_ima_entry *e = shield_ima_entry(l, i);
                /* Touch every byte an entry points to, so ASan sees any bad pointer. */
                sum += strlen(e->path) + strlen(e->template_name) + strlen(e->file_hash_algo) + strlen(e->file_hash_type);
                for (size_t k = 0; k < e->file_hash_size; k++)
                        sum += e->file_hash[k];
                for (size_t k = 0; k < e->sig_size; k++)
                        sum += e->sig[k];
                for (size_t k = 0; k < e->buf_size; k++)
                        sum += e->buf[k];
                for (size_t k = 0; k < e->template_data_size; k++)
                        sum += e->template_data[k];
                for (size_t k = 0; k < e->template_hash_size; k++)
                        sum += e->template_hash[k];
        }
        (void)sum;
        (void)!shield_ima_check_templates(l, NULL, &reasons);
        for (size_t b = 0; b < sizeof banks / sizeof banks[0]; b++)
                (void)!shield_ima_replay(l, SHIELD_IMA_PCR, banks[b], NULL, pcr);
        (void)!shield_ima_replay(l, 0, shield_ima_template_hash_alg(l), NULL, pcr);
        for (size_t b = 0; b < sizeof banks / sizeof banks[0]; b++)
                if (shield_pcrs_add_bank(&fw, banks[b], (uint16_t)shield_hash_size(banks[b]), &bank) == 0)
                        bank->present = 0xffffff;
        (void)!shield_ima_check_boot_aggregate(l, &fw, &reasons);
        shield_reasons_clear(&reasons);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_ima_list *l = NULL;
        struct shield_diag diag;
        struct shield_ima_options forced = { .template_hash_alg = SHIELD_ALG_SHA256, .max_entries = 4 };

        if (shield_ima_parse(data, size, NULL, &l, &diag) == 0) {
                exercise(l);
                shield_ima_free(l);
        }
        l = NULL;
        if (shield_ima_parse(data, size, &forced, &l, NULL) == 0) {
                exercise(l);
                shield_ima_free(l);
        }
        return 0;
}
