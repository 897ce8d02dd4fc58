/* SPDX-License-Identifier: Apache-2.0 */
/* IMA lists: parse (both forms), check templates, replay, boot_aggregate. */
#include <string.h>

#include "shield/ima.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_ima_list *l = NULL;
        struct shield_reasons reasons = { 0 };
        struct shield_pcrs fw = { 0 };
        struct shield_pcr_bank *bank = NULL;
        uint8_t pcr[SHIELD_HASH_MAX_SIZE];

        if (shield_ima_parse(data, size, 0, &l, NULL) < 0)
                return 0;
        (void)!shield_ima_check_templates(l, NULL, &reasons);
        (void)!shield_ima_replay(l, SHIELD_ALG_SHA256, NULL, pcr);
        (void)!shield_ima_replay(l, shield_ima_template_hash_alg(l) ? shield_ima_template_hash_alg(l) : SHIELD_ALG_SHA1,
                                 NULL, pcr);
        if (shield_pcrs_add_bank(&fw, SHIELD_ALG_SHA1, 20, &bank) == 0)
                bank->present = 0xffffff;
        if (shield_pcrs_add_bank(&fw, SHIELD_ALG_SHA256, 32, &bank) == 0)
                bank->present = 0xffffff;
        (void)!shield_ima_check_boot_aggregate(l, &fw, &reasons);
        shield_reasons_clear(&reasons);
        shield_ima_free(l);
        return 0;
}
