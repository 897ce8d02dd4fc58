/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EFI_SIGNATURE_LIST databases and everything that reads a parsed one:
 * counts, GUID names and text, and the X.509 summary of certificate
 * entries. Also the GUID text parser, on the first bytes as a string.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_guid_text(const uint8_t *data, size_t size) {
        char s[41];
        shield_guid g;
        size_t n = size < sizeof s - 1 ? size : sizeof s - 1;

        memcpy(s, data, n);
        s[n] = '\0';
        if (shield_guid_parse(s, &g) == 0) {
                char back[SHIELD_GUID_STRING_SIZE];
                shield_guid_format(&g, back);
                if (strlen(back) != 36)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_siglist list;
        struct shield_diag diag = { 0 };
        size_t x509, hashes, other;

        fuzz_guid_text(data, size);
        if (shield_siglist_parse(data, size, &list, &diag) < 0) {
                if (diag.offset > size)
                        abort();
                return 0;
        }
        shield_siglist_counts(&list, &x509, &hashes, &other);
        if (x509 + hashes + other != list.n)
                abort();
        for (size_t i = 0; i < list.n; i++) {
                const struct shield_siglist_entry *e = &list.entries[i];
                char guid[SHIELD_GUID_STRING_SIZE];
                struct shield_x509_info info;

                /* Entries point inside the input, after their 16-byte owner. */
                if (e->offset > size || e->size > size - e->offset - 16 || e->data != data + e->offset + 16 ||
                    e->list_index >= list.n_lists)
                        abort();
                shield_guid_format(&e->owner, guid);
                (void)shield_guid_name(&e->type);
                if (shield_guid_eq(&e->type, &SHIELD_GUID_CERT_X509))
                        (void)!shield_x509_info(e->data, e->size, &info);
        }
        shield_siglist_clear(&list);
        return 0;
}
