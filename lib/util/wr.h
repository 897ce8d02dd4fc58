/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The one bounded writer of structures (the counterpart of rd.h):
 * little-endian, and the big-endian sizes of TPM files (wr_be16/wr_be32). A write that does not fit what is left ("n > cap - len", never
 * "len + n > cap") writes nothing and sets overflow; every write after it
 * writes nothing too, so a block of writes is checked once with wr_ok().
 * The buffer is the caller's; wr never allocates.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shield/error.h"

struct wr {
        uint8_t *p;
        size_t len, cap;
        bool overflow;
};

static inline struct wr wr_init(void *p, size_t cap) {
        return (struct wr){ .p = p, .cap = p ? cap : 0 };
}

/* 0 when every write fitted, else SHIELD_E_LIMIT. */
static inline int wr_ok(const struct wr *w) {
        return w->overflow ? SHIELD_E_LIMIT : 0;
}

/* Reserve n bytes: their start, or NULL (and overflow) when they do not fit. */
static inline uint8_t *wr_take(struct wr *w, size_t n) {
        if (w->overflow || n > w->cap - w->len) {
                w->overflow = true;
                return NULL;
        }
        uint8_t *at = w->p + w->len;
        w->len += n;
        return at;
}

static inline void wr_bytes(struct wr *w, const void *data, size_t n) {
        uint8_t *at = wr_take(w, n);
        if (at && n)
                memcpy(at, data, n);
}

static inline void wr_zero(struct wr *w, size_t n) {
        uint8_t *at = wr_take(w, n);
        if (at && n)
                memset(at, 0, n);
}

static inline void wr_le(struct wr *w, uint64_t v, size_t n) {
        uint8_t *at = wr_take(w, n);
        for (size_t i = 0; at && i < n; i++)
                at[i] = (uint8_t)(v >> (8 * i));
}

static inline void wr_u8(struct wr *w, uint8_t v) {
        wr_le(w, v, 1);
}

static inline void wr_le16(struct wr *w, uint16_t v) {
        wr_le(w, v, 2);
}

static inline void wr_le32(struct wr *w, uint32_t v) {
        wr_le(w, v, 4);
}

static inline void wr_le64(struct wr *w, uint64_t v) {
        wr_le(w, v, 8);
}

static inline void wr_be(struct wr *w, uint64_t v, size_t n) {
        uint8_t *at = wr_take(w, n);
        for (size_t i = 0; at && i < n; i++)
                at[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline void wr_be16(struct wr *w, uint16_t v) {
        wr_be(w, v, 2);
}

static inline void wr_be32(struct wr *w, uint32_t v) {
        wr_be(w, v, 4);
}
