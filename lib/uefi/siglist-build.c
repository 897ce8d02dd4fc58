/* SPDX-License-Identifier: Apache-2.0 */
/* Writing EFI_SIGNATURE_LISTs (UEFI 2.10, 32.4.1). */
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/uefi.h"
#include "util/wr.h"

#define LIST_HEADER_SIZE 28
#define OWNER_SIZE 16

/* Append one list of count signatures of sig_size bytes (owner + data each). */
static int append_list(uint8_t **buf, size_t *len, const shield_guid *type, const shield_guid *owner,
                       const uint8_t *data, size_t data_size, size_t count) {
        if (!buf || !len || !owner || !type || !count || !data_size || data_size > UINT32_MAX - OWNER_SIZE)
                return SHIELD_E_INVAL;
        size_t sig_size = OWNER_SIZE + data_size;
        if (count > (UINT32_MAX - LIST_HEADER_SIZE) / sig_size)
                return SHIELD_E_INVAL;
        size_t list_size = LIST_HEADER_SIZE + sig_size * count;
        if (list_size > SIZE_MAX - *len)
                return SHIELD_E_INVAL;
        uint8_t *out = realloc(*buf, *len + list_size);
        if (!out)
                return SHIELD_E_NOMEM;
        struct wr w = wr_init(out + *len, list_size);
        wr_bytes(&w, type->b, 16);
        wr_le32(&w, (uint32_t)list_size);
        wr_le32(&w, 0);
        wr_le32(&w, (uint32_t)sig_size);
        for (size_t i = 0; i < count; i++) {
                wr_bytes(&w, owner->b, OWNER_SIZE);
                wr_bytes(&w, data + i * data_size, data_size);
        }
        if (wr_ok(&w) < 0 || w.len != list_size) {
                *buf = out; /* realloc'd: the caller's buffer now, its length unchanged */
                return SHIELD_E_INVAL;
        }
        *buf = out;
        *len += list_size;
        return 0;
}

int shield_siglist_append_x509(uint8_t **buf, size_t *len, const shield_guid *owner, const uint8_t *der,
                               size_t der_len) {
        return append_list(buf, len, &SHIELD_GUID_CERT_X509, owner, der, der_len, 1);
}

int shield_siglist_append_sha256(uint8_t **buf, size_t *len, const shield_guid *owner, const uint8_t (*hashes)[32],
                                 size_t n) {
        return append_list(buf, len, &SHIELD_GUID_CERT_SHA256, owner, hashes ? hashes[0] : NULL, 32, n);
}

static int append_bytes(uint8_t **buf, size_t *len, const uint8_t *p, size_t n) {
        if (n > SIZE_MAX - *len)
                return SHIELD_E_INVAL;
        uint8_t *out = realloc(*buf, *len + n ? *len + n : 1);
        if (!out)
                return SHIELD_E_NOMEM;
        if (n)
                memcpy(out + *len, p, n);
        *buf = out;
        *len += n;
        return 0;
}

int shield_siglist_append_input(uint8_t **buf, size_t *len, const shield_guid *owner, const uint8_t *in,
                                size_t in_len, bool *ret_was_cert) {
        struct shield_siglist list;
        struct shield_authvar2 auth;
        uint8_t *der = NULL;
        size_t der_len;
        int r;

        if (!buf || !len || !owner || (!in && in_len))
                return SHIELD_E_INVAL;
        if (shield_x509_load(in, in_len, &der, &der_len) == 0) {
                r = shield_siglist_append_x509(buf, len, owner, der, der_len);
                free(der);
                if (r == 0 && ret_was_cert)
                        *ret_was_cert = true;
                return r;
        }
        if (ret_was_cert)
                *ret_was_cert = false;
        if (in_len && shield_siglist_parse(in, in_len, &list, NULL) == 0) {
                shield_siglist_clear(&list);
                return append_bytes(buf, len, in, in_len);
        }
        if (shield_authvar2_parse(in, in_len, &auth, NULL) == 0 &&
            shield_siglist_parse(auth.payload, auth.payload_size, &list, NULL) == 0) {
                shield_siglist_clear(&list);
                return append_bytes(buf, len, auth.payload, auth.payload_size);
        }
        return SHIELD_E_FORMAT;
}
