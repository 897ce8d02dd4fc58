/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The one bounds-checked reader for untrusted bytes. Every read checks
 * "n > len - off" (never "off + n > len", which can wrap), returns 0 or
 * SHIELD_E_TRUNCATED, and leaves the cursor where it was on failure.
 * Multi-byte reads name their byte order; nothing reads host-endian.
 * Inline because the event-log replay runs millions of these a second.
 *
 * Sticky mode (rd_init_sticky, inherited by rd_sub children): the first
 * failure is kept in r->err (SHIELD_E_TRUNCATED, the one failure a read
 * has), and every read after it fails too, writing nothing and leaving the
 * cursor alone. A block of reads is
 * then checked once with rd_ok(), as sshbuf's callers check one return,
 * instead of one length check up front and many unchecked reads.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shield/error.h"

struct rd {
        const uint8_t *p;
        size_t len, off;
        bool sticky;    /* keep the first failure in err and refuse every read after it */
        int err;        /* 0, or the first failure of a sticky reader */
};

static inline struct rd rd_init(const void *p, size_t len) {
        return (struct rd){ .p = p, .len = p ? len : 0, .off = 0 };
}

static inline struct rd rd_init_sticky(const void *p, size_t len) {
        return (struct rd){ .p = p, .len = p ? len : 0, .off = 0, .sticky = true };
}

/* 0 when no read of a sticky reader has failed, else the first failure's code. */
static inline int rd_ok(const struct rd *r) {
        return r->err;
}

static inline size_t rd_left(const struct rd *r) {
        return r->len - r->off;
}

static inline int rd_need(const struct rd *r, size_t n) {
        return r->err || n > r->len - r->off ? SHIELD_E_TRUNCATED : 0;
}

/* rd_need for a read: a sticky reader keeps the failure (the only one a read has). */
static inline int rd_take(struct rd *r, size_t n) {
        if (!rd_need(r, n))
                return 0;
        if (r->sticky)
                r->err = SHIELD_E_TRUNCATED;
        return SHIELD_E_TRUNCATED;
}

static inline const uint8_t *rd_cur(const struct rd *r) {
        return r->p + r->off;
}

static inline int rd_u8(struct rd *r, uint8_t *ret) {
        if (rd_take(r, 1))
                return SHIELD_E_TRUNCATED;
        *ret = r->p[r->off++];
        return 0;
}

static inline int rd_le16(struct rd *r, uint16_t *ret) {
        if (rd_take(r, 2))
                return SHIELD_E_TRUNCATED;
        const uint8_t *b = r->p + r->off;
        *ret = (uint16_t)(b[0] | (b[1] << 8));
        r->off += 2;
        return 0;
}

static inline int rd_le32(struct rd *r, uint32_t *ret) {
        if (rd_take(r, 4))
                return SHIELD_E_TRUNCATED;
        const uint8_t *b = r->p + r->off;
        *ret = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        r->off += 4;
        return 0;
}

static inline int rd_le64(struct rd *r, uint64_t *ret) {
        if (rd_take(r, 8))
                return SHIELD_E_TRUNCATED;
        const uint8_t *b = r->p + r->off;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | b[i];
        *ret = v;
        r->off += 8;
        return 0;
}

static inline int rd_be16(struct rd *r, uint16_t *ret) {
        if (rd_take(r, 2))
                return SHIELD_E_TRUNCATED;
        const uint8_t *b = r->p + r->off;
        *ret = (uint16_t)(b[0] << 8 | b[1]);
        r->off += 2;
        return 0;
}

static inline int rd_be32(struct rd *r, uint32_t *ret) {
        if (rd_take(r, 4))
                return SHIELD_E_TRUNCATED;
        const uint8_t *b = r->p + r->off;
        *ret = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
        r->off += 4;
        return 0;
}

static inline int rd_be64(struct rd *r, uint64_t *ret) {
        if (rd_take(r, 8))
                return SHIELD_E_TRUNCATED;
        const uint8_t *b = r->p + r->off;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | b[i];
        *ret = v;
        r->off += 8;
        return 0;
}

/* Point *ret at the next n bytes (no copy) and advance. */
static inline int rd_bytes(struct rd *r, size_t n, const uint8_t **ret) {
        if (rd_take(r, n))
                return SHIELD_E_TRUNCATED;
        *ret = r->p + r->off;
        r->off += n;
        return 0;
}

static inline int rd_copy(struct rd *r, void *dst, size_t n) {
        if (rd_take(r, n))
                return SHIELD_E_TRUNCATED;
        memcpy(dst, r->p + r->off, n);
        r->off += n;
        return 0;
}

static inline int rd_skip(struct rd *r, size_t n) {
        if (rd_take(r, n))
                return SHIELD_E_TRUNCATED;
        r->off += n;
        return 0;
}

/* Move to an absolute offset within the reader; never past its end. */
static inline int rd_seek(struct rd *r, size_t off) {
        if (r->err || off > r->len) {
                if (r->sticky)
                        r->err = SHIELD_E_TRUNCATED;
                return SHIELD_E_TRUNCATED;
        }
        r->off = off;
        return 0;
}

/*
 * Split off the next n bytes as a child reader and advance past them. The
 * child's offsets start at 0: add the parent's offset before the split to
 * report absolute positions.
 */
static inline int rd_sub(struct rd *r, size_t n, struct rd *ret_child) {
        if (rd_take(r, n))
                return SHIELD_E_TRUNCATED;
        *ret_child = r->sticky ? rd_init_sticky(r->p + r->off, n) : rd_init(r->p + r->off, n);
        r->off += n;
        return 0;
}
