/* SPDX-License-Identifier: Apache-2.0 */
/* PCI expansion ROMs: the image chain, PCI data structures and EFI headers (lib/uefi/optionrom.c). */
#include <stdlib.h>

#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_rom_image im[SHIELD_OPTION_ROM_IMAGES_MAX];
        size_t n = 0;
        struct shield_diag diag = { 0 };
        if (shield_option_rom_parse(data, size, im, SHIELD_OPTION_ROM_IMAGES_MAX, &n, &diag) == 0) {
                /* Every image and its PE part lies inside the input. */
                for (size_t i = 0; i < n; i++)
                        if (im[i].offset > size || im[i].length > size - im[i].offset ||
                            (im[i].efi && (im[i].pe_offset < im[i].offset ||
                                           im[i].pe_offset + im[i].pe_length != im[i].offset + im[i].length)))
                                abort();
        }
        return 0;
}
