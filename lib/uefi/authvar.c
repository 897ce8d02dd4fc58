/* SPDX-License-Identifier: Apache-2.0 */
/* EFI_VARIABLE_AUTHENTICATION_2 layout (UEFI 2.10, 8.2.2 and 32.2.4). */
#include <string.h>

#include "shield/uefi.h"
#include "util/rd.h"

#define EFI_TIME_SIZE 16
#define WIN_CERT_REVISION_2_0 0x0200       /* UEFI 2.10, 32.2.4 */
#define WIN_CERT_TYPE_EFI_GUID 0x0EF1
#define WIN_CERT_UEFI_GUID_HEADER 24       /* dwLength, wRevision, wCertificateType, CertType */

int shield_authvar2_parse(const uint8_t *buf, size_t len, struct shield_authvar2 *ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;
        struct rd r = rd_init(buf, len);
        struct shield_authvar2 a = { 0 };
        uint32_t cert_len;
        uint16_t revision, type;
        shield_guid cert_type;

        if (rd_copy(&r, a.timestamp, EFI_TIME_SIZE) < 0 || rd_le32(&r, &cert_len) < 0 || rd_le16(&r, &revision) < 0 ||
            rd_le16(&r, &type) < 0 || rd_copy(&r, cert_type.b, 16) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1,
                                        "%zu bytes, too few for EFI_TIME and WIN_CERTIFICATE_UEFI_GUID (40)", len);
        if (revision != WIN_CERT_REVISION_2_0 || type != WIN_CERT_TYPE_EFI_GUID)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 20, -1,
                                        "WIN_CERTIFICATE revision 0x%04x type 0x%04x (0x0200 and 0x0EF1 expected)",
                                        revision, type);
        if (!shield_guid_eq(&cert_type, &SHIELD_GUID_CERT_TYPE_PKCS7))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 24, -1, "CertType is not EFI_CERT_TYPE_PKCS7_GUID");
        if (cert_len < WIN_CERT_UEFI_GUID_HEADER || cert_len - WIN_CERT_UEFI_GUID_HEADER > rd_left(&r))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 16, -1, "dwLength %u does not fit the %zu bytes after EFI_TIME",
                                        cert_len, len - EFI_TIME_SIZE);
        a.pkcs7_size = cert_len - WIN_CERT_UEFI_GUID_HEADER;
        (void)rd_bytes(&r, a.pkcs7_size, &a.pkcs7);
        a.payload = rd_cur(&r);
        a.payload_size = rd_left(&r);
        *ret = a;
        return 0;
}
