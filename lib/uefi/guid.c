/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "shield/uefi.h"
#include "shield/util.h"

/* Wire order: Data1 (u32 LE), Data2 (u16 LE), Data3 (u16 LE), Data4[8]. */
#define GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                            \
        { { (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b) & 0xff, \
            ((b) >> 8) & 0xff, (c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7 } }

/* UEFI 2.10, 3.3 (global variables) and 32.4.1 (signature types); shim's own GUID. */
const shield_guid SHIELD_GUID_GLOBAL_VARIABLE = GUID(0x8be4df61, 0x93ca, 0x11d2, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c);
const shield_guid SHIELD_GUID_IMAGE_SECURITY_DATABASE = GUID(0xd719b2cb, 0x3d3a, 0x4596, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f);
const shield_guid SHIELD_GUID_SHIM_LOCK = GUID(0x605dab50, 0xe046, 0x4300, 0xab, 0xb6, 0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23);
const shield_guid SHIELD_GUID_CERT_X509 = GUID(0xa5c059a1, 0x94e4, 0x4aa7, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72);
const shield_guid SHIELD_GUID_CERT_SHA1 = GUID(0x826ca512, 0xcf10, 0x4ac9, 0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd);
const shield_guid SHIELD_GUID_CERT_SHA256 = GUID(0xc1c41626, 0x504c, 0x4092, 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28);
const shield_guid SHIELD_GUID_CERT_SHA384 = GUID(0xff3e5307, 0x9fd0, 0x48c9, 0x85, 0xf1, 0x8a, 0xd5, 0x6c, 0x70, 0x1e, 0x01);
const shield_guid SHIELD_GUID_CERT_SHA512 = GUID(0x093e0fae, 0xa6c4, 0x4f50, 0x9f, 0x1b, 0xd4, 0x1e, 0x2b, 0x89, 0xc1, 0x9a);
const shield_guid SHIELD_GUID_CERT_X509_SHA256 = GUID(0x3bd2a492, 0x96c0, 0x4079, 0xb4, 0x20, 0xfc, 0xf9, 0x8e, 0xf1, 0x03, 0xed);
const shield_guid SHIELD_GUID_CERT_X509_SHA384 = GUID(0x7076876e, 0x80c2, 0x4ee6, 0xaa, 0xd2, 0x28, 0xb3, 0x49, 0xa6, 0x86, 0x5b);
const shield_guid SHIELD_GUID_CERT_X509_SHA512 = GUID(0x446dbf63, 0x2502, 0x4cda, 0xbc, 0xfa, 0x24, 0x65, 0xd2, 0xb0, 0xfe, 0x9d);
const shield_guid SHIELD_GUID_CERT_TYPE_PKCS7 = GUID(0x4aafd29d, 0x68df, 0x49ee, 0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7);

/* UEFI 2.10, 32.4.1: the signature types without a public constant. */
static const shield_guid CERT_SHA224 = GUID(0x0b6e5233, 0xa65c, 0x44c9, 0x94, 0x07, 0xd9, 0xab, 0x83, 0xbf, 0xc8, 0xbd);
static const shield_guid CERT_RSA2048 = GUID(0x3c5766e8, 0x269c, 0x4e34, 0xaa, 0x14, 0xed, 0x77, 0x6e, 0x85, 0xb3, 0xb6);
static const shield_guid CERT_RSA2048_SHA256 = GUID(0xe2b36190, 0x879b, 0x4a3d, 0xad, 0x8d, 0xf2, 0xe7, 0xbb, 0xa3, 0x27, 0x84);
static const shield_guid CERT_RSA2048_SHA1 = GUID(0x67f8444f, 0x8743, 0x48f1, 0xa3, 0x28, 0x1e, 0xaa, 0xb8, 0x73, 0x60, 0x80);
/* UEFI 2.10, 32.2.4: WIN_CERTIFICATE_UEFI_GUID CertType for PKCS#1 v1.5 signatures. */
static const shield_guid CERT_TYPE_RSA2048_SHA256 = GUID(0xa7717414, 0xc616, 0x4977, 0x94, 0x20, 0x84, 0x47, 0x12, 0xa7, 0x35, 0xbf);
/* Microsoft's SignatureOwner in db/dbx/KEK (edk2 gMicrosoftVendorGuid). */
static const shield_guid MICROSOFT_OWNER = GUID(0x77fa9abd, 0x0359, 0x4d32, 0xbd, 0x60, 0x28, 0xf4, 0xe7, 0x8f, 0x78, 0x4b);

/* UEFI 2.10, 4.6: configuration tables that EV_EFI_HANDOFF_TABLES events name. */
static const shield_guid ACPI_20_TABLE = GUID(0x8868e871, 0xe4f1, 0x11d3, 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81);
static const shield_guid ACPI_10_TABLE = GUID(0xeb9d2d30, 0x2d88, 0x11d3, 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d);
static const shield_guid SMBIOS_TABLE = GUID(0xeb9d2d31, 0x2d88, 0x11d3, 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d);
static const shield_guid SMBIOS3_TABLE = GUID(0xf2fd1544, 0x9794, 0x4a2c, 0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94);

/*
 * edk2 variables and firmware files that event logs and Boot#### options
 * carry: SecurityPkg's Secure Boot setup variables, the UiApp and Shell
 * FFS file names and OVMF's DXE firmware volume (OvmfPkg *.fdf), as
 * printed by edk2's own boot manager.
 */
static const shield_guid SECURE_BOOT_ENABLE_DISABLE = GUID(0xf0a30bc7, 0xaf08, 0x4556, 0x99, 0xc4, 0x00, 0x10, 0x09, 0xc9, 0x3a, 0x44);
static const shield_guid CUSTOM_MODE_ENABLE = GUID(0xc076ec0c, 0x7028, 0x4399, 0xa0, 0x72, 0x71, 0xee, 0x5c, 0x44, 0x8b, 0x9f);
static const shield_guid VENDOR_KEYS_NV = GUID(0x9073e4e0, 0x60ec, 0x4b6e, 0x99, 0x03, 0x4c, 0x22, 0x3c, 0x26, 0x0f, 0x3c);
static const shield_guid CERT_DB = GUID(0xd9bee56e, 0x75dc, 0x49d9, 0xb4, 0xd7, 0xb5, 0x34, 0x21, 0x0f, 0x63, 0x7a);
static const shield_guid UI_APP_FILE = GUID(0x462caa21, 0x7614, 0x4503, 0x83, 0x6e, 0x8a, 0xb6, 0xf4, 0x66, 0x23, 0x31);
static const shield_guid UEFI_SHELL_FILE = GUID(0x7c04a583, 0x9e3e, 0x4f1c, 0xad, 0x65, 0xe0, 0x52, 0x68, 0xd0, 0xb4, 0xd1);
static const shield_guid OVMF_DXE_FV = GUID(0x7cb8bdc9, 0xf8eb, 0x4f34, 0xaa, 0xea, 0x3e, 0xe4, 0xaf, 0x65, 0x16, 0xa1);
/* The Linux EFI stub's initrd LoadFile2 vendor media path (linux/efi.h). */
static const shield_guid LINUX_INITRD_MEDIA = GUID(0x5568e427, 0x68fc, 0x4f3d, 0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68);

static const struct {
        const shield_guid *guid;
        const char *name;
} names[] = {
        { &SHIELD_GUID_GLOBAL_VARIABLE, "EFI_GLOBAL_VARIABLE" },
        { &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "EFI_IMAGE_SECURITY_DATABASE_GUID" },
        { &SHIELD_GUID_SHIM_LOCK, "SHIM_LOCK_GUID" },
        { &SHIELD_GUID_CERT_X509, "EFI_CERT_X509_GUID" },
        { &SHIELD_GUID_CERT_SHA1, "EFI_CERT_SHA1_GUID" },
        { &CERT_SHA224, "EFI_CERT_SHA224_GUID" },
        { &SHIELD_GUID_CERT_SHA256, "EFI_CERT_SHA256_GUID" },
        { &SHIELD_GUID_CERT_SHA384, "EFI_CERT_SHA384_GUID" },
        { &SHIELD_GUID_CERT_SHA512, "EFI_CERT_SHA512_GUID" },
        { &SHIELD_GUID_CERT_X509_SHA256, "EFI_CERT_X509_SHA256_GUID" },
        { &SHIELD_GUID_CERT_X509_SHA384, "EFI_CERT_X509_SHA384_GUID" },
        { &SHIELD_GUID_CERT_X509_SHA512, "EFI_CERT_X509_SHA512_GUID" },
        { &CERT_RSA2048, "EFI_CERT_RSA2048_GUID" },
        { &CERT_RSA2048_SHA256, "EFI_CERT_RSA2048_SHA256_GUID" },
        { &CERT_RSA2048_SHA1, "EFI_CERT_RSA2048_SHA1_GUID" },
        { &SHIELD_GUID_CERT_TYPE_PKCS7, "EFI_CERT_TYPE_PKCS7_GUID" },
        { &CERT_TYPE_RSA2048_SHA256, "EFI_CERT_TYPE_RSA2048_SHA256_GUID" },
        { &MICROSOFT_OWNER, "MICROSOFT_SIGNATURE_OWNER" },
        { &ACPI_20_TABLE, "EFI_ACPI_20_TABLE_GUID" },
        { &ACPI_10_TABLE, "ACPI_TABLE_GUID" },
        { &SMBIOS_TABLE, "SMBIOS_TABLE_GUID" },
        { &SMBIOS3_TABLE, "SMBIOS3_TABLE_GUID" },
        { &SECURE_BOOT_ENABLE_DISABLE, "EFI_SECURE_BOOT_ENABLE_DISABLE" },
        { &CUSTOM_MODE_ENABLE, "EFI_CUSTOM_MODE_ENABLE_GUID" },
        { &VENDOR_KEYS_NV, "EFI_VENDOR_KEYS_NV_GUID" },
        { &CERT_DB, "EFI_CERT_DB_GUID" },
        { &UI_APP_FILE, "UiApp" },
        { &UEFI_SHELL_FILE, "UEFI_SHELL_FILE" },
        { &OVMF_DXE_FV, "OVMF_DXEFV" },
        { &LINUX_INITRD_MEDIA, "LINUX_EFI_INITRD_MEDIA_GUID" },
};

void shield_guid_format(const shield_guid *g, char out[SHIELD_GUID_STRING_SIZE]) {
        const uint8_t *b = g->b;
        snprintf(out, SHIELD_GUID_STRING_SIZE,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2], b[1], b[0],
                 b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int shield_guid_parse(const char *s, shield_guid *ret) {
        /* Text byte i goes to wire byte order[i]: the first three fields are little-endian. */
        static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
        shield_guid g;
        size_t len, k = 0;
        bool braces;

        if (!s || !ret)
                return SHIELD_E_INVAL;
        len = strlen(s);
        braces = len == 38 && s[0] == '{' && s[37] == '}';
        if (braces)
                s++;
        else if (len != 36)
                return SHIELD_E_FORMAT;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return SHIELD_E_FORMAT;
                        continue;
                }
                int hi = shield_hex_digit(s[i]), lo = shield_hex_digit(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return SHIELD_E_FORMAT;
                g.b[order[k++]] = (uint8_t)(hi << 4 | lo);
                i++;
        }
        *ret = g;
        return 0;
}

bool shield_guid_eq(const shield_guid *a, const shield_guid *b) {
        return memcmp(a->b, b->b, sizeof a->b) == 0;
}

const char *shield_guid_name(const shield_guid *g) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (shield_guid_eq(g, names[i].guid))
                        return names[i].name;
        return NULL;
}
