/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Building event logs in tests from the PFP 1.05 layouts (10.2: legacy
 * records; 10.4.5.1: the Spec ID event; 10.2.2: TCG_PCR_EVENT2). Logs carry
 * sha1 + sha256 and digests computed over the data given.
 */
#include <string.h>

#include "shield/eventlog.h"

struct buf {
        uint8_t b[8192];
        size_t n;
};

static inline void put(struct buf *b, const void *p, size_t n) {
        assert_true(b->n + n <= sizeof b->b);
        memcpy(b->b + b->n, p, n);
        b->n += n;
}

static inline void u16(struct buf *b, uint16_t v) {
        uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
        put(b, x, 2);
}

static inline void u32(struct buf *b, uint32_t v) {
        uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        put(b, x, 4);
}

static inline void legacy_event(struct buf *b, uint32_t pcr, uint32_t type, const void *data, uint32_t size) {
        uint8_t d[20];
        u32(b, pcr);
        u32(b, type);
        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, data, size, d), 0);
        put(b, d, 20);
        u32(b, size);
        put(b, data, size);
}

static const uint16_t algs[] = { SHIELD_ALG_SHA1, SHIELD_ALG_SHA256 };

/* Spec ID Event03 declaring sha1 + sha256 (PFP 10.4.5.1). */
static inline void specid(struct buf *b, uint32_t n_algs, uint8_t vendor_size) {
        struct buf s = { 0 };
        put(&s, "Spec ID Event03", 16);
        u32(&s, 0);
        uint8_t v[4] = { 0, 2, 0, 2 };
        put(&s, v, 4);
        u32(&s, n_algs);
        for (uint32_t i = 0; i < n_algs && i < 2; i++) {
                u16(&s, algs[i]);
                u16(&s, (uint16_t)shield_hash_size(algs[i]));
        }
        put(&s, &vendor_size, 1);
        for (unsigned i = 0; i < vendor_size; i++)
                put(&s, "v", 1);
        uint8_t zero[20] = { 0 };
        u32(b, 0);
        u32(b, EV_NO_ACTION);
        put(b, zero, 20);
        u32(b, (uint32_t)s.n);
        put(b, s.b, s.n);
}

static inline void agile_event(struct buf *b, uint32_t pcr, uint32_t type, const void *data, uint32_t size) {
        u32(b, pcr);
        u32(b, type);
        u32(b, 2);
        for (int i = 0; i < 2; i++) {
                uint8_t d[64];
                u16(b, algs[i]);
                assert_int_equal(shield_hash(algs[i], data, size, d), 0);
                if (type == EV_NO_ACTION)
                        memset(d, 0, sizeof d);
                put(b, d, shield_hash_size(algs[i]));
        }
        u32(b, size);
        put(b, data, size);
}

static const uint8_t sep_zero[4] = { 0, 0, 0, 0 };
