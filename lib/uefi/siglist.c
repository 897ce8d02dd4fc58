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
/* EFI_CERT_RSA2048*: a 2048-bit modulus or signature, 256 bytes (UEFI 2.10, 32.4.1). */
#define RSA2048_SIZE 256

enum kind { KIND_OTHER, KIND_X509, KIND_HASH };

/* Wire order: Data1 (u32 LE), Data2 (u16 LE), Data3 (u16 LE), Data4[8]. */
#define GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                            \
        { { (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b) & 0xff, \
            ((b) >> 8) & 0xff, (c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7 } }

struct known_type {
        shield_guid guid;
        enum kind kind;
        size_t data_size; /* SignatureData bytes the type implies; 0 = variable */
};

/*
 * UEFI 2.10, 32.4.1 fixes the SignatureSize of every type but X.509. The
 * RSA2048 hash signatures count as hashes: like SHA-256 entries in dbx they
 * match one image, not a signer.
 */
static const struct known_type types[] = {
        { GUID(0xa5c059a1, 0x94e4, 0x4aa7, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72), KIND_X509, 0 },  /* X509 */
        { GUID(0x826ca512, 0xcf10, 0x4ac9, 0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd), KIND_HASH, 20 }, /* SHA1 */
        { GUID(0x0b6e5233, 0xa65c, 0x44c9, 0x94, 0x07, 0xd9, 0xab, 0x83, 0xbf, 0xc8, 0xbd), KIND_HASH, 28 }, /* SHA224 */
        { GUID(0xc1c41626, 0x504c, 0x4092, 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28), KIND_HASH, 32 }, /* SHA256 */
        { GUID(0xff3e5307, 0x9fd0, 0x48c9, 0x85, 0xf1, 0x8a, 0xd5, 0x6c, 0x70, 0x1e, 0x01), KIND_HASH, 48 }, /* SHA384 */
        { GUID(0x093e0fae, 0xa6c4, 0x4f50, 0x9f, 0x1b, 0xd4, 0x1e, 0x2b, 0x89, 0xc1, 0x9a), KIND_HASH, 64 }, /* SHA512 */
        { GUID(0x3bd2a492, 0x96c0, 0x4079, 0xb4, 0x20, 0xfc, 0xf9, 0x8e, 0xf1, 0x03, 0xed), KIND_HASH,
          32 + EFI_TIME_SIZE }, /* X509_SHA256 */
        { GUID(0x7076876e, 0x80c2, 0x4ee6, 0xaa, 0xd2, 0x28, 0xb3, 0x49, 0xa6, 0x86, 0x5b), KIND_HASH,
          48 + EFI_TIME_SIZE }, /* X509_SHA384 */
        { GUID(0x446dbf63, 0x2502, 0x4cda, 0xbc, 0xfa, 0x24, 0x65, 0xd2, 0xb0, 0xfe, 0x9d), KIND_HASH,
          64 + EFI_TIME_SIZE }, /* X509_SHA512 */
        { GUID(0xe2b36190, 0x879b, 0x4a3d, 0xad, 0x8d, 0xf2, 0xe7, 0xbb, 0xa3, 0x27, 0x84), KIND_HASH,
          RSA2048_SIZE }, /* RSA2048_SHA256 */
        { GUID(0x67f8444f, 0x8743, 0x48f1, 0xa3, 0x28, 0x1e, 0xaa, 0xb8, 0x73, 0x60, 0x80), KIND_HASH,
          RSA2048_SIZE }, /* RSA2048_SHA1 */
        { GUID(0x3c5766e8, 0x269c, 0x4e34, 0xaa, 0x14, 0xed, 0x77, 0x6e, 0x85, 0xb3, 0xb6), KIND_OTHER,
          RSA2048_SIZE }, /* RSA2048 (a public key) */
};

static const struct known_type *known_type(const shield_guid *g) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                if (shield_guid_eq(g, &types[i].guid))
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
                        const char *name = shield_guid_name(&type);
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, (long)out.n_lists,
                                              "SignatureSize %u, but %s entries are %zu bytes", sig_size,
                                              name ? name : "this type's", OWNER_SIZE + kt->data_size);
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
