/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI expansion ROMs (PCI Firmware 3.0, 5.1; UEFI 2.10, 14.4.2): a chain of
 * images, each "55 AA" with a pointer to its PCI Data Structure ("PCIR":
 * vendor, device, image length in 512-byte units, code type, the
 * last-image indicator). An EFI image (code type 3) starts with
 * EFI_PCI_EXPANSION_ROM_HEADER: signature 0x0EF1, subsystem, machine type,
 * compression type and the offset of its PE/COFF image. The firmware loads
 * each EFI image as a driver, so Secure Boot judges it: these are the
 * bytes it judges.
 */
#include <string.h>

#include "shield/uefi.h"
#include "util/rd.h"

#define ROM_SIGNATURE 0xAA55u           /* PCI Firmware 3.0, 5.1.1 */
#define ROM_EFI_SIGNATURE 0x0EF1u       /* UEFI 2.10, 14.4.2, Table 14-21 */
#define ROM_CODE_TYPE_EFI 0x03u         /* PCI Firmware 3.0, 5.1.3: 3 = EFI image */
#define ROM_LAST_IMAGE 0x80u            /* Indicator bit 7 */

int shield_option_rom_parse(const uint8_t *buf, size_t len, struct shield_rom_image *ret, size_t max, size_t *ret_n,
                            struct shield_diag *diag) {
        size_t n = 0, off = 0;

        if (!buf || !ret || !ret_n)
                return SHIELD_E_INVAL;
        if (len > SHIELD_OPTION_ROM_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the ROM has %zu bytes, over %u", len,
                                        SHIELD_OPTION_ROM_MAX);
        for (;;) {
                if (n == max || n == SHIELD_OPTION_ROM_IMAGES_MAX)
                        return shield_diag_fail(diag, SHIELD_E_LIMIT, off, (long)n, "more than %zu images",
                                                max < SHIELD_OPTION_ROM_IMAGES_MAX ? max : (size_t)SHIELD_OPTION_ROM_IMAGES_MAX);
                struct rd image = rd_init_sticky(buf + off, len - off);
                uint16_t sig = 0, pcir_ptr = 0;
                (void)rd_le16(&image, &sig);
                (void)rd_skip(&image, 0x16);
                (void)rd_le16(&image, &pcir_ptr);
                if (rd_ok(&image))
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off, (long)n, "image %zu: its header is cut off",
                                                n);
                if (sig != ROM_SIGNATURE)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, off, (long)n,
                                                "image %zu: signature 0x%04x, expected 0xAA55", n, sig);
                struct rd pcir = rd_init_sticky(buf + off, len - off);
                const uint8_t *magic = NULL;
                uint8_t code_type = 0, indicator = 0;
                uint16_t vendor = 0, device = 0, units = 0;
                (void)rd_skip(&pcir, pcir_ptr);
                (void)rd_bytes(&pcir, 4, &magic);
                (void)rd_le16(&pcir, &vendor);
                (void)rd_le16(&pcir, &device);
                (void)rd_skip(&pcir, 8);        /* device list pointer, length, revision, class code */
                (void)rd_le16(&pcir, &units);
                (void)rd_skip(&pcir, 2);        /* code revision */
                (void)rd_u8(&pcir, &code_type);
                (void)rd_u8(&pcir, &indicator);
                if (rd_ok(&pcir))
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off + pcir_ptr, (long)n,
                                                "image %zu: its PCI data structure at +0x%x is cut off", n, pcir_ptr);
                if (memcmp(magic, "PCIR", 4) != 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, off + pcir_ptr, (long)n,
                                                "image %zu: no \"PCIR\" at +0x%x", n, pcir_ptr);
                size_t length = (size_t)units * 512;
                if (length == 0 || length > len - off)
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, off, (long)n,
                                                "image %zu: %zu bytes declared, %zu left", n, length, len - off);
                struct shield_rom_image im = { .offset = off, .length = length, .vendor = vendor, .device = device,
                                               .code_type = code_type };
                if (code_type == ROM_CODE_TYPE_EFI) {
                        struct rd efi = rd_init_sticky(buf + off, length);
                        uint32_t esig = 0;
                        uint16_t pe_off = 0;
                        (void)rd_skip(&efi, 4);
                        (void)rd_le32(&efi, &esig);
                        (void)rd_le16(&efi, &im.subsystem);
                        (void)rd_le16(&efi, &im.machine);
                        (void)rd_le16(&efi, &im.compression);
                        (void)rd_skip(&efi, 8);
                        (void)rd_le16(&efi, &pe_off);
                        if (rd_ok(&efi) || esig != ROM_EFI_SIGNATURE || pe_off >= length)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, off, (long)n,
                                                        "image %zu: an EFI image without a valid EFI header "
                                                        "(signature 0x%x, image at +0x%x of %zu)", n, esig, pe_off, length);
                        im.efi = true;
                        im.pe_offset = off + pe_off;
                        im.pe_length = length - pe_off;
                }
                ret[n++] = im;
                off += length;
                if ((indicator & ROM_LAST_IMAGE) || off == len)
                        break;
        }
        *ret_n = n;
        return 0;
}
