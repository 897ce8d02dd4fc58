/* SPDX-License-Identifier: Apache-2.0 */
/* Device paths and EFI_LOAD_OPTIONs (whose FilePathList is a device path) on the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = NULL;
        struct shield_load_option opt;
        struct shield_diag diag = { 0 };

        if (shield_devpath_to_text(data, size, &text, &diag) == 0) {
                (void)strlen(text);
                free(text);
        } else if (diag.offset > size) {
                abort();
        }
        if (shield_load_option_parse(data, size, &opt, &diag) == 0) {
                if (!opt.description || !opt.device_path || opt.optional_data + opt.optional_size != data + size)
                        abort();
                shield_load_option_clear(&opt);
        } else if (diag.offset > size) {
                abort();
        }
        return 0;
}
