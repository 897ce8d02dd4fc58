/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "shield/ima.h"

/* Entries' strings and rebuilt template data live in blocks that never move. */
struct arena_block {
        struct arena_block *next;
        _Alignas(8) uint8_t data[];
};

struct shield_ima_list {
        uint8_t *buf;
        size_t len;
        enum shield_ima_format format;
        size_t n, cap;
        struct shield_ima_entry *entries;
        struct arena_block *block;
        size_t block_used, block_left;
        struct shield_reasons quirks;
};

void *ima_arena_alloc(struct shield_ima_list *l, size_t n);

/* Rebuild e->template_data from the parsed fields (legacy "ima" / the ima-ng family). */
int ima_legacy_template_data(struct shield_ima_list *l, struct shield_ima_entry *e);
int ima_ng_template_data(struct shield_ima_list *l, struct shield_ima_entry *e);
