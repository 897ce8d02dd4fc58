/* SPDX-License-Identifier: Apache-2.0 */
/* EFI_VARIABLE_AUTHENTICATION_2 layout (UEFI 2.10, 8.2.2 and 32.2.4). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shield/uefi.h"
#include "util/rd.h"
#include "util/wr.h"

#define EFI_TIME_SIZE 16
#define WIN_CERT_REVISION_2_0 0x0200       /* UEFI 2.10, 32.2.4 */
#define WIN_CERT_TYPE_EFI_GUID 0x0EF1
#define WIN_CERT_UEFI_GUID_HEADER 24       /* dwLength, wRevision, wCertificateType, CertType */

int shield_authvar2_parse(const uint8_t *buf, size_t len, struct shield_authvar2 *ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;
        struct rd r = rd_init_sticky(buf, len);
        struct shield_authvar2 a = { 0 };
        uint32_t cert_len = 0;
        uint16_t revision, type;
        shield_guid cert_type;

        rd_copy(&r, a.timestamp, EFI_TIME_SIZE);
        rd_le32(&r, &cert_len);
        rd_le16(&r, &revision);
        rd_le16(&r, &type);
        rd_copy(&r, cert_type.b, 16);
        if (rd_ok(&r) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1,
                                        "%zu bytes, too few for EFI_TIME and WIN_CERTIFICATE_UEFI_GUID (40)", len);
        if (revision != WIN_CERT_REVISION_2_0 || type != WIN_CERT_TYPE_EFI_GUID)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 20, -1,
                                        "WIN_CERTIFICATE revision 0x%04x type 0x%04x (0x0200 and 0x0EF1 expected)",
                                        revision, type);
        if (!shield_guid_eq(&cert_type, &SHIELD_GUID_CERT_TYPE_PKCS7))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 24, -1, "CertType is not EFI_CERT_TYPE_PKCS7_GUID");
        if (cert_len <= WIN_CERT_UEFI_GUID_HEADER)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 16, -1,
                                        "dwLength %u leaves no PKCS#7 after the %u-byte WIN_CERTIFICATE_UEFI_GUID header",
                                        cert_len, WIN_CERT_UEFI_GUID_HEADER);
        if (cert_len - WIN_CERT_UEFI_GUID_HEADER > rd_left(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 16, -1, "dwLength %u does not fit the %zu bytes after EFI_TIME",
                                        cert_len, len - EFI_TIME_SIZE);
        a.pkcs7_size = cert_len - WIN_CERT_UEFI_GUID_HEADER;
        rd_bytes(&r, a.pkcs7_size, &a.pkcs7);
        if (rd_ok(&r) < 0) /* not reached: dwLength was checked against what is left */
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1, "the PKCS#7 data is truncated");
        a.payload = rd_cur(&r);
        a.payload_size = rd_left(&r);
        *ret = a;
        return 0;
}

int shield_secure_boot_var_vendor(const char *name, shield_guid *ret) {
        if (!name || !ret)
                return SHIELD_E_INVAL;
        if (strcmp(name, "PK") == 0 || strcmp(name, "KEK") == 0)
                *ret = SHIELD_GUID_GLOBAL_VARIABLE;
        else if (strcmp(name, "db") == 0 || strcmp(name, "dbx") == 0 || strcmp(name, "dbt") == 0 || strcmp(name, "dbr") == 0)
                *ret = SHIELD_GUID_IMAGE_SECURITY_DATABASE;
        else
                return SHIELD_E_NOT_FOUND;
        return 0;
}

int shield_authvar2_signed_bytes(const char *name, const shield_guid *vendor, uint32_t attributes,
                                 const uint8_t timestamp[16], const uint8_t *data, size_t len, uint8_t **ret,
                                 size_t *ret_len) {
        if (!name || !vendor || !timestamp || (!data && len) || !ret || !ret_len)
                return SHIELD_E_INVAL;
        size_t n = strlen(name);
        if (len > SIZE_MAX - 2 * n - 36)
                return SHIELD_E_INVAL;
        size_t total = 2 * n + 16 + 4 + 16 + len;
        uint8_t *out = malloc(total);
        if (!out)
                return SHIELD_E_NOMEM;
        struct wr w = wr_init(out, total);
        /* UEFI 2.10, 8.2.2: VariableName (UCS-2, no NUL) ‖ VendorGuid ‖ Attributes ‖ TimeStamp ‖ Data. */
        for (size_t i = 0; i < n; i++)
                wr_le16(&w, (uint8_t)name[i]);
        wr_bytes(&w, vendor->b, 16);
        wr_le32(&w, attributes);
        wr_bytes(&w, timestamp, 16);
        wr_bytes(&w, data, len);
        if (wr_ok(&w) < 0 || w.len != total) {
                free(out);
                return SHIELD_E_LIMIT;
        }
        *ret = out;
        *ret_len = total;
        return 0;
}

int shield_authvar2_serialize(const uint8_t timestamp[16], const uint8_t *pkcs7, size_t pkcs7_len, const uint8_t *data,
                              size_t len, uint8_t **ret, size_t *ret_len) {
        if (!timestamp || !pkcs7 || (!data && len) || !ret || !ret_len || pkcs7_len > UINT32_MAX - WIN_CERT_UEFI_GUID_HEADER)
                return SHIELD_E_INVAL;
        size_t total = EFI_TIME_SIZE + WIN_CERT_UEFI_GUID_HEADER + pkcs7_len + len;
        uint8_t *out = malloc(total);
        if (!out)
                return SHIELD_E_NOMEM;
        uint32_t cert_len = (uint32_t)(WIN_CERT_UEFI_GUID_HEADER + pkcs7_len);
        struct wr w = wr_init(out, total);
        wr_bytes(&w, timestamp, EFI_TIME_SIZE);
        wr_le32(&w, cert_len);
        wr_le16(&w, WIN_CERT_REVISION_2_0);
        wr_le16(&w, WIN_CERT_TYPE_EFI_GUID);
        wr_bytes(&w, SHIELD_GUID_CERT_TYPE_PKCS7.b, 16);
        wr_bytes(&w, pkcs7, pkcs7_len);
        wr_bytes(&w, data, len);
        if (wr_ok(&w) < 0 || w.len != total) {
                free(out);
                return SHIELD_E_LIMIT;
        }
        *ret = out;
        *ret_len = total;
        return 0;
}

void shield_efi_time_encode(const struct tm *tm, uint8_t ret[16]) {
        unsigned year = (unsigned)tm->tm_year + 1900;
        memset(ret, 0, 16);
        ret[0] = (uint8_t)year;
        ret[1] = (uint8_t)(year >> 8);
        ret[2] = (uint8_t)(tm->tm_mon + 1);
        ret[3] = (uint8_t)tm->tm_mday;
        ret[4] = (uint8_t)tm->tm_hour;
        ret[5] = (uint8_t)tm->tm_min;
        ret[6] = (uint8_t)tm->tm_sec;
}
