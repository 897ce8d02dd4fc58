/* SPDX-License-Identifier: Apache-2.0 */
/* Device paths and EFI_LOAD_OPTIONs on the same bytes. */
#include <stdlib.h>

#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = NULL;
        struct shield_load_option opt;

        if (shield_devpath_to_text(data, size, &text, NULL) == 0)
                free(text);
        if (shield_load_option_parse(data, size, &opt, NULL) == 0)
                shield_load_option_clear(&opt);
        return 0;
}
