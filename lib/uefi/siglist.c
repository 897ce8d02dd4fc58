/* SPDX-License-Identifier: Apache-2.0 */
/* EFI_SIGNATURE_LIST databases (UEFI 2.10, 32.4.1): PK, KEK, db, dbx, MokList. */
#include <stdlib.h>
#include <string.h>

#include "shield/uefi.h"
#include "util/rd.h"

#define LIST_HEADER_SIZE 28 /* SignatureType, SignatureListSize, SignatureHeaderSize, SignatureSize */
#define OWNER_SIZE 16

/* EFI_CERT_X509_SHA*: the TBS hash followed by an EFI_TIME of revocation (UEFI 2.10, 32.4.1). */
#define EFI_TIME_SIZE 16

enum kind { KIND_OTHER, KIND_X509, KIND_HASH };

struct known_type {
        const shield_guid *guid;
        enum kind kind;
        size_t data_size; /* SignatureData bytes; 0 = variable (X.509) */
};

static const struct known_type *known_type(const shield_guid *g) {
        static const struct known_type types[] = {
                { &SHIELD_GUID_CERT_X509, KIND_X509, 0 },
                { &SHIELD_GUID_CERT_SHA1, KIND_HASH, 20 },
                { &SHIELD_GUID_CERT_SHA256, KIND_HASH, 32 },
                { &SHIELD_GUID_CERT_SHA384, KIND_HASH, 48 },
                { &SHIELD_GUID_CERT_SHA512, KIND_HASH, 64 },
                { &SHIELD_GUID_CERT_X509_SHA256, KIND_HASH, 32 + EFI_TIME_SIZE },
                { &SHIELD_GUID_CERT_X509_SHA384, KIND_HASH, 48 + EFI_TIME_SIZE },
                { &SHIELD_GUID_CERT_X509_SHA512, KIND_HASH, 64 + EFI_TIME_SIZE },
        };
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                if (shield_guid_eq(g, types[i].guid))
                        return &types[i];
        return NULL;
}

int shield_siglist_parse(const uint8_t *buf, size_t len, struct shield_siglist *ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;

        struct rd r = rd_init(buf, len);
        struct shield_siglist out = { 0 };
        size_t cap = 0;
        int rc = 0;

        while (rd_left(&r)) {
                size_t start = r.off;
                shield_guid type;
                uint32_t list_size = 0, header_size = 0, sig_size = 0;
                struct rd list;

                if (rd_left(&r) < LIST_HEADER_SIZE) {
                        rc = shield_diag_fail(diag, SHIELD_E_TRUNCATED, start, (long)out.n_lists,
                                              "%zu bytes left, too few for an EFI_SIGNATURE_LIST header (28)",
                                              rd_left(&r));
                        goto fail;
                }
                (void)rd_copy(&r, type.b, 16);
                (void)rd_le32(&r, &list_size);
                (void)rd_le32(&r, &header_size);
                (void)rd_le32(&r, &sig_size);
                if (list_size < LIST_HEADER_SIZE || list_size - LIST_HEADER_SIZE > rd_left(&r)) {
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 16, (long)out.n_lists,
                                              "SignatureListSize %u does not fit the %zu bytes from here", list_size,
                                              len - start);
                        goto fail;
                }
                (void)rd_sub(&r, list_size - LIST_HEADER_SIZE, &list);
                if (header_size > rd_left(&list)) {
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 20, (long)out.n_lists,
                                              "SignatureHeaderSize %u exceeds the list body (%zu bytes)", header_size,
                                              rd_left(&list));
                        goto fail;
                }
                (void)rd_skip(&list, header_size);
                if (sig_size <= OWNER_SIZE) {
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, (long)out.n_lists,
                                              "SignatureSize %u cannot hold the 16-byte owner and data", sig_size);
                        goto fail;
                }
                if (rd_left(&list) % sig_size) {
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, (long)out.n_lists,
                                              "SignatureSize %u does not divide the %zu bytes of signatures",
                                              sig_size, rd_left(&list));
                        goto fail;
                }
                const struct known_type *kt = known_type(&type);
                if (kt && kt->data_size && sig_size != OWNER_SIZE + kt->data_size) {
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, (long)out.n_lists,
                                              "SignatureSize %u, but %s entries are %zu bytes", sig_size,
                                              shield_guid_name(&type), OWNER_SIZE + kt->data_size);
                        goto fail;
                }
                size_t count = rd_left(&list) / sig_size;
                if (count > SHIELD_SIGLIST_ENTRIES_MAX - out.n) {
                        rc = shield_diag_fail(diag, SHIELD_E_LIMIT, start, (long)out.n_lists,
                                              "more than %u signatures", SHIELD_SIGLIST_ENTRIES_MAX);
                        goto fail;
                }
                if (out.n + count > cap) {
                        size_t ncap = cap ? cap : 16;
                        while (ncap < out.n + count)
                                ncap *= 2;
                        struct shield_siglist_entry *e = reallocarray(out.entries, ncap, sizeof *e);
                        if (!e) {
                                rc = SHIELD_E_NOMEM;
                                goto fail;
                        }
                        out.entries = e;
                        cap = ncap;
                }
                for (size_t i = 0; i < count; i++) {
                        struct shield_siglist_entry *e = &out.entries[out.n++];
                        size_t at = start + LIST_HEADER_SIZE + list.off;

                        e->type = type;
                        (void)rd_copy(&list, e->owner.b, OWNER_SIZE);
                        (void)rd_bytes(&list, sig_size - OWNER_SIZE, &e->data);
                        e->size = sig_size - OWNER_SIZE;
                        e->offset = at;
                        e->list_index = (unsigned)out.n_lists;
                }
                out.n_lists++;
        }
        *ret = out;
        return 0;
fail:
        free(out.entries);
        return rc;
}

void shield_siglist_clear(struct shield_siglist *list) {
        if (!list)
                return;
        free(list->entries);
        *list = (struct shield_siglist){ 0 };
}

void shield_siglist_counts(const struct shield_siglist *list, size_t *ret_x509, size_t *ret_hashes,
                           size_t *ret_other) {
        size_t x = 0, h = 0, o = 0;

        for (size_t i = 0; i < list->n; i++) {
                const struct known_type *kt = known_type(&list->entries[i].type);
                if (kt && kt->kind == KIND_X509)
                        x++;
                else if (kt && kt->kind == KIND_HASH)
                        h++;
                else
                        o++;
        }
        if (ret_x509)
                *ret_x509 = x;
        if (ret_hashes)
                *ret_hashes = h;
        if (ret_other)
                *ret_other = o;
}
