/* SPDX-License-Identifier: Apache-2.0 */
/* Template hashes, PCR 10 replay and boot_aggregate (kernel security/integrity/ima). */
#include <stdio.h>
#include <string.h>

#include "ima-internal.h"
#include "shield/util.h"

/* The legacy template hashes the name padded with NULs to IMA_EVENT_NAME_LEN_MAX + 1. */
#define IMA_LEGACY_NAME_SIZE 256
#define IMA_LEGACY_DIGEST_SIZE 20

int ima_legacy_template_data(struct shield_ima_list *l, struct shield_ima_entry *e) {
        uint8_t *d = ima_arena_alloc(l, IMA_LEGACY_DIGEST_SIZE + IMA_LEGACY_NAME_SIZE);
        size_t n = strlen(e->path);

        if (!d)
                return SHIELD_E_NOMEM;
        memcpy(d, e->file_hash, IMA_LEGACY_DIGEST_SIZE);
        memset(d + IMA_LEGACY_DIGEST_SIZE, 0, IMA_LEGACY_NAME_SIZE);
        /* The kernel keeps at most 255 bytes of the name (IMA_EVENT_NAME_LEN_MAX). */
        memcpy(d + IMA_LEGACY_DIGEST_SIZE, e->path, n < IMA_LEGACY_NAME_SIZE - 1 ? n : IMA_LEGACY_NAME_SIZE - 1);
        e->template_data = d;
        e->template_data_size = IMA_LEGACY_DIGEST_SIZE + IMA_LEGACY_NAME_SIZE;
        return 0;
}

static uint8_t *put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
        return p + 4;
}

int ima_ng_template_data(struct shield_ima_list *l, struct shield_ima_entry *e) {
        /* d-ng: "algo:" NUL digest; n-ng: name NUL; sig / buf: the bytes. Each field has a u32 length. */
        size_t algo = strlen(e->file_hash_algo), name = strlen(e->path);
        bool third = strcmp(e->template_name, "ima-sig") == 0 || strcmp(e->template_name, "ima-buf") == 0;
        size_t d_len = algo + 2 + e->file_hash_size, n_len = name + 1;
        size_t total = 4 + d_len + 4 + n_len + (third ? 4 + e->sig_size : 0);
        uint8_t *out = ima_arena_alloc(l, total), *p = out;

        if (!out)
                return SHIELD_E_NOMEM;
        p = put_le32(p, (uint32_t)d_len);
        memcpy(p, e->file_hash_algo, algo);
        p += algo;
        *p++ = ':';
        *p++ = 0;
        memcpy(p, e->file_hash, e->file_hash_size);
        p += e->file_hash_size;
        p = put_le32(p, (uint32_t)n_len);
        memcpy(p, e->path, n_len);
        p += n_len;
        if (third) {
                p = put_le32(p, (uint32_t)e->sig_size);
                if (e->sig_size)
                        memcpy(p, e->sig, e->sig_size);
        }
        e->template_data = out;
        e->template_data_size = total;
        return 0;
}

uint16_t shield_ima_template_hash_alg(const struct shield_ima_list *l) {
        switch (l->n ? l->entries[0].template_hash_size : 20) {
        case 20: return SHIELD_ALG_SHA1;
        case 32: return SHIELD_ALG_SHA256;
        case 48: return SHIELD_ALG_SHA384;
        case 64: return SHIELD_ALG_SHA512;
        }
        return 0;
}

static int with_hasher(struct shield_hasher **h, struct shield_hasher **own) {
        *own = NULL;
        if (*h)
                return 0;
        int r = shield_hasher_new(own);
        *h = *own;
        return r;
}

int shield_ima_check_templates(const struct shield_ima_list *l, struct shield_hasher *h, struct shield_reasons *out) {
        struct shield_hasher *own;
        uint16_t alg = shield_ima_template_hash_alg(l);
        int r = with_hasher(&h, &own);

        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n && r == 0; i++) {
                const struct shield_ima_entry *e = &l->entries[i];
                uint8_t md[SHIELD_HASH_MAX_SIZE];
                char where[40];

                if (e->line)
                        snprintf(where, sizeof where, "line %zu", e->line);
                else
                        snprintf(where, sizeof where, "offset %zu", e->offset);
                if (e->violation) {
                        r = shield_reasons_add(out, "ima-violation", SHIELD_SEV_INFO, alg, (int)e->pcr, (long)i, e->offset,
                                               "entry %zu (%s) %s: a measurement violation (zero template hash; PCR extended with ones)",
                                               i, where, e->path);
                        continue;
                }
                if (!e->template_data) {
                        r = shield_reasons_add(out, "ima-template-unknown", SHIELD_SEV_WARNING, alg, (int)e->pcr, (long)i,
                                               e->offset, "entry %zu (%s): template '%s' cannot be checked", i, where,
                                               e->template_name);
                        continue;
                }
                r = shield_hasher_digest2(h, alg, e->template_data, e->template_data_size, NULL, 0, md);
                if (r < 0)
                        break;
                if (memcmp(md, e->template_hash, e->template_hash_size) != 0) {
                        char want[2 * SHIELD_HASH_MAX_SIZE + 1], got[2 * SHIELD_HASH_MAX_SIZE + 1];
                        shield_hex_encode(e->template_hash, e->template_hash_size, got);
                        shield_hex_encode(md, e->template_hash_size, want);
                        r = shield_reasons_add(out, "ima-template-hash-mismatch", SHIELD_SEV_ERROR, alg, (int)e->pcr, (long)i,
                                               e->offset, "entry %zu (%s) %s: template hash %s, but its data hashes to %s", i,
                                               where, e->path, got, want);
                }
        }
        shield_hasher_free(own);
        return r;
}

int shield_ima_replay(const struct shield_ima_list *l, uint16_t alg, struct shield_hasher *h, uint8_t *ret_pcr) {
        size_t size = shield_hash_size(alg);
        uint8_t pcr[SHIELD_HASH_MAX_SIZE] = { 0 }, ones[SHIELD_HASH_MAX_SIZE], md[SHIELD_HASH_MAX_SIZE];
        struct shield_hasher *own;
        bool own_alg = alg == shield_ima_template_hash_alg(l);
        int r;

        if (!size || !ret_pcr)
                return SHIELD_E_INVAL;
        if ((r = with_hasher(&h, &own)) < 0)
                return r;
        memset(ones, 0xff, sizeof ones);
        for (size_t i = 0; i < l->n; i++) {
                const struct shield_ima_entry *e = &l->entries[i];
                const uint8_t *digest;

                if (e->pcr != SHIELD_IMA_PCR)
                        continue;
                if (e->violation) {
                        digest = ones;
                } else if (own_alg) {
                        digest = e->template_hash;
                } else if (e->template_data) {
                        r = shield_hasher_digest2(h, alg, e->template_data, e->template_data_size, NULL, 0, md);
                        if (r < 0)
                                break;
                        digest = md;
                } else {
                        r = SHIELD_E_UNSUPPORTED;
                        break;
                }
                if ((r = shield_hasher_extend(h, alg, pcr, digest)) < 0)
                        break;
        }
        shield_hasher_free(own);
        if (r == 0)
                memcpy(ret_pcr, pcr, size);
        return r;
}

int shield_ima_check_boot_aggregate(const struct shield_ima_list *l, const struct shield_pcrs *fw,
                                    struct shield_reasons *out) {
        const struct shield_ima_entry *e = NULL;

        for (size_t i = 0; i < l->n && !e; i++)
                if (strcmp(l->entries[i].path, "boot_aggregate") == 0)
                        e = &l->entries[i];
        if (!e || !e->file_hash_alg)
                return SHIELD_E_NOT_FOUND;

        const struct shield_pcr_bank *bank = shield_pcrs_bank_const(fw, e->file_hash_alg);
        /* SHA-1 covers PCRs 0-7; other banks also 8 and 9 (kernel 5.8 and later). */
        unsigned last = e->file_hash_alg == SHIELD_ALG_SHA1 ? 7 : 9;
        uint8_t buf[10 * SHIELD_HASH_MAX_SIZE], md[SHIELD_HASH_MAX_SIZE];

        if (!bank || (bank->present & ((UINT32_C(2) << last) - 1)) != (UINT32_C(2) << last) - 1)
                return SHIELD_E_NOT_FOUND;
        for (unsigned i = 0; i <= last; i++)
                memcpy(buf + i * bank->size, bank->value[i], bank->size);
        int r = shield_hash(e->file_hash_alg, buf, (size_t)(last + 1) * bank->size, md);
        if (r < 0)
                return r;
        if (e->file_hash_size == bank->size && memcmp(md, e->file_hash, bank->size) == 0)
                return 0;
        char want[2 * SHIELD_HASH_MAX_SIZE + 1], got[2 * SHIELD_HASH_MAX_SIZE + 1];
        shield_hex_encode(e->file_hash, e->file_hash_size < SHIELD_HASH_MAX_SIZE ? e->file_hash_size : SHIELD_HASH_MAX_SIZE, got);
        shield_hex_encode(md, bank->size, want);
        r = shield_reasons_add(out, "ima-boot-aggregate-mismatch", SHIELD_SEV_ERROR, e->file_hash_alg, SHIELD_IMA_PCR,
                               (long)e->index, e->offset,
                               "boot_aggregate is %s, but %s over PCRs 0-%u of the firmware log is %s", got,
                               shield_hash_name(e->file_hash_alg), last, want);
        return r < 0 ? r : SHIELD_E_VERIFY;
}
