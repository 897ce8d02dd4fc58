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

/* One list's header fields, and its signatures once the header bytes are skipped. */
struct list_header {
        shield_guid type;
        uint32_t header_size, sig_size;
        struct rd sigs;
};

/* Read and check the EFI_SIGNATURE_LIST at r's cursor (start is its offset in the input). */
static int read_list(struct rd *r, long index, struct list_header *h, struct shield_diag *diag) {
        size_t start = r->off;
        uint32_t list_size = 0;

        /* A sticky view of r: the header's reads are checked once, r moves only past a whole list. */
        struct rd s = *r;
        s.sticky = true;
        rd_copy(&s, h->type.b, 16);
        rd_le32(&s, &list_size);
        rd_le32(&s, &h->header_size);
        rd_le32(&s, &h->sig_size);
        if (rd_ok(&s) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, start, index,
                                        "%zu bytes left, too few for an EFI_SIGNATURE_LIST header (28)", rd_left(r));
        if (list_size < LIST_HEADER_SIZE || list_size - LIST_HEADER_SIZE > rd_left(&s))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start + 16, index,
                                        "SignatureListSize %u does not fit the %zu bytes from here", list_size,
                                        r->len - start);
        rd_sub(&s, list_size - LIST_HEADER_SIZE, &h->sigs); /* fits: checked just above */
        r->off = s.off;
        if (rd_skip(&h->sigs, h->header_size) < 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start + 20, index,
                                        "SignatureHeaderSize %u exceeds the list body (%u bytes)", h->header_size,
                                        list_size - LIST_HEADER_SIZE);
        if (h->sig_size <= OWNER_SIZE)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, index,
                                        "SignatureSize %u cannot hold the 16-byte owner and data", h->sig_size);
        if (rd_left(&h->sigs) % h->sig_size)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, index,
                                        "SignatureSize %u does not divide the %zu bytes of signatures", h->sig_size,
                                        rd_left(&h->sigs));
        const struct known_type *kt = known_type(&h->type);
        if (kt && kt->data_size && h->sig_size != OWNER_SIZE + kt->data_size) {
                const char *name = shield_guid_name(&h->type);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start + 24, index,
                                        "SignatureSize %u, but %s entries are %zu bytes", h->sig_size,
                                        name ? name : "this type's", OWNER_SIZE + kt->data_size);
        }
        return 0;
}

/* Make room for n entries in total (n is under the cap, so the doubling cannot overflow). */
static int reserve(struct shield_siglist *out, size_t *cap, size_t n) {
        if (n <= *cap)
                return 0;
        size_t ncap = *cap ? *cap : 16;
        while (ncap < n)
                ncap *= 2;
        struct shield_siglist_entry *e = reallocarray(out->entries, ncap, sizeof *e);
        if (!e)
                return SHIELD_E_NOMEM;
        out->entries = e;
        *cap = ncap;
        return 0;
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
                struct list_header h = { 0 };

                rc = read_list(&r, (long)out.n_lists, &h, diag);
                if (rc < 0)
                        goto fail;
                size_t count = rd_left(&h.sigs) / h.sig_size;
                if (count > SHIELD_SIGLIST_ENTRIES_MAX - out.n) {
                        rc = shield_diag_fail(diag, SHIELD_E_LIMIT, start, (long)out.n_lists,
                                              "more than %u signatures", SHIELD_SIGLIST_ENTRIES_MAX);
                        goto fail;
                }
                rc = reserve(&out, &cap, out.n + count);
                if (rc < 0)
                        goto fail;
                for (size_t i = 0; i < count; i++) {
                        struct shield_siglist_entry *e = &out.entries[out.n++];

                        e->type = h.type;
                        e->offset = start + LIST_HEADER_SIZE + h.sigs.off;
                        rd_copy(&h.sigs, e->owner.b, OWNER_SIZE);
                        rd_bytes(&h.sigs, h.sig_size - OWNER_SIZE, &e->data);
                        e->size = h.sig_size - OWNER_SIZE;
                        e->list_index = (unsigned)out.n_lists;
                }
                /* Not reached: SignatureSize divides the body, so count whole signatures fit. */
                if (rd_ok(&h.sigs) < 0) {
                        rc = shield_diag_fail(diag, SHIELD_E_TRUNCATED, start, (long)out.n_lists, "a signature is truncated");
                        goto fail;
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
