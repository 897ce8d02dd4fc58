/* SPDX-License-Identifier: Apache-2.0 */
/* EFI_SIGNATURE_LIST databases and the certificates inside them. */
#include "shield/crypto.h"
#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_siglist list;
        size_t x509, hashes, other;

        if (shield_siglist_parse(data, size, &list, NULL) < 0)
                return 0;
        shield_siglist_counts(&list, &x509, &hashes, &other);
        for (size_t i = 0; i < list.n; i++) {
                struct shield_x509_info info;
                char guid[SHIELD_GUID_STRING_SIZE];
                shield_guid_format(&list.entries[i].owner, guid);
                (void)shield_guid_name(&list.entries[i].type);
                if (shield_guid_eq(&list.entries[i].type, &SHIELD_GUID_CERT_X509))
                        (void)!shield_x509_info(list.entries[i].data, list.entries[i].size, &info);
        }
        shield_siglist_clear(&list);
        return 0;
}
