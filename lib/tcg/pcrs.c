/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "shield/pcrs.h"
#include "shield/util.h"

struct shield_pcr_bank *shield_pcrs_bank(struct shield_pcrs *pcrs, uint16_t alg) {
        for (size_t i = 0; i < pcrs->n_banks; i++)
                if (pcrs->banks[i].alg == alg)
                        return &pcrs->banks[i];
        return NULL;
}

const struct shield_pcr_bank *shield_pcrs_bank_const(const struct shield_pcrs *pcrs, uint16_t alg) {
        return shield_pcrs_bank((struct shield_pcrs *)pcrs, alg);
}

int shield_pcrs_add_bank(struct shield_pcrs *pcrs, uint16_t alg, uint16_t size,
                         struct shield_pcr_bank **ret) {
        if (!pcrs || size == 0 || size > SHIELD_HASH_MAX_SIZE)
                return SHIELD_E_INVAL;
        struct shield_pcr_bank *b = shield_pcrs_bank(pcrs, alg);
        if (b) {
                if (b->size != size)
                        return SHIELD_E_INVAL;
        } else {
                if (pcrs->n_banks == SHIELD_BANKS_MAX)
                        return SHIELD_E_LIMIT;
                b = &pcrs->banks[pcrs->n_banks++];
                memset(b, 0, sizeof *b);
                b->alg = alg;
                b->size = size;
        }
        if (ret)
                *ret = b;
        return 0;
}

int shield_pcrs_parse_json(const char *text, size_t len, struct shield_pcrs *ret,
                           struct shield_diag *diag) {
        if (!text || !ret)
                return SHIELD_E_INVAL;
        if (len > SHIELD_PCRS_JSON_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1,
                                        "PCR file is %zu bytes, over the %u-byte limit", len,
                                        SHIELD_PCRS_JSON_MAX);
        json_error_t jerr;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)jerr.position, -1,
                                        "not JSON (line %d): %s", jerr.line, jerr.text);

        struct shield_pcrs *pcrs = calloc(1, sizeof *pcrs);
        int r = 0;
        if (!pcrs) {
                json_decref(root);
                return SHIELD_E_NOMEM;
        }
        if (!json_is_object(root)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                     "expected an object of banks {\"sha256\": {\"0\": \"hex\"}}");
                goto out;
        }
        const char *bank_name;
        json_t *bank_obj;
        json_object_foreach(root, bank_name, bank_obj) {
                uint16_t alg;
                struct shield_pcr_bank *bank;
                if (shield_hash_from_name(bank_name, &alg) < 0) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "unknown bank \"%s\"", bank_name);
                        goto out;
                }
                if (!json_is_object(bank_obj)) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                             "bank \"%s\": expected an object of PCR values", bank_name);
                        goto out;
                }
                r = shield_pcrs_add_bank(pcrs, alg, (uint16_t)shield_hash_size(alg), &bank);
                if (r < 0) {
                        r = shield_diag_fail(diag, r, 0, -1, "bank \"%s\": %s", bank_name, shield_strerror(r));
                        goto out;
                }
                const char *key;
                json_t *val;
                json_object_foreach(bank_obj, key, val) {
                        uint64_t idx;
                        uint8_t *bytes = NULL;
                        size_t n = 0;
                        if (shield_parse_u64(key, 10, SHIELD_PCR_COUNT - 1, &idx) < 0) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                     "bank \"%s\": \"%s\" is not a PCR index 0-23", bank_name, key);
                                goto out;
                        }
                        if (!json_is_string(val) || shield_hex_decode(json_string_value(val), &bytes, &n) < 0) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                     "%s PCR %s: value is not a hex string", bank_name, key);
                                goto out;
                        }
                        if (n != bank->size) {
                                free(bytes);
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                     "%s PCR %s: %zu bytes, a %s digest has %u", bank_name, key,
                                                     n, bank_name, bank->size);
                                goto out;
                        }
                        memcpy(bank->value[idx], bytes, n);
                        bank->present |= UINT32_C(1) << idx;
                        bank->extended |= UINT32_C(1) << idx;
                        free(bytes);
                }
        }
        *ret = *pcrs;
out:
        free(pcrs);
        json_decref(root);
        return r;
}

char *shield_pcrs_to_json(const struct shield_pcrs *pcrs) {
        json_t *root = json_object();
        char *text = NULL;

        if (!root)
                return NULL;
        for (size_t b = 0; b < pcrs->n_banks; b++) {
                const struct shield_pcr_bank *bank = &pcrs->banks[b];
                const char *name = shield_hash_name(bank->alg);
                char algname[16];
                json_t *obj = json_object();
                if (!obj)
                        goto out;
                if (!name) {
                        snprintf(algname, sizeof algname, "0x%04x", bank->alg);
                        name = algname;
                }
                json_object_set_new(root, name, obj);
                for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                        char key[4], hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                        if (!(bank->present & (UINT32_C(1) << i)))
                                continue;
                        snprintf(key, sizeof key, "%u", i);
                        shield_hex_encode(bank->value[i], bank->size, hex);
                        json_object_set_new(obj, key, json_string(hex));
                }
        }
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
        json_decref(root);
        return text;
}

int shield_pcrs_compare(const struct shield_pcrs *expected, const struct shield_pcrs *actual,
                        uint32_t ignore_mask, struct shield_reasons *out) {
        int differ = 0;

        for (size_t b = 0; b < expected->n_banks; b++) {
                const struct shield_pcr_bank *want = &expected->banks[b];
                const struct shield_pcr_bank *got = shield_pcrs_bank_const(actual, want->alg);
                const char *name = shield_hash_name(want->alg);

                for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                        uint32_t bit = UINT32_C(1) << i;
                        char w[2 * SHIELD_HASH_MAX_SIZE + 1], g[2 * SHIELD_HASH_MAX_SIZE + 1];
                        int r;

                        if (!(want->present & bit) || (ignore_mask & bit))
                                continue;
                        shield_hex_encode(want->value[i], want->size, w);
                        if (!got || !(got->present & bit)) {
                                r = shield_reasons_add(out, "pcr-missing", SHIELD_SEV_ERROR, want->alg, (int)i, -1,
                                                       SIZE_MAX, "%s PCR %u: expected %s, but no value to compare",
                                                       name ? name : "?", i, w);
                        } else if (memcmp(want->value[i], got->value[i], want->size) != 0) {
                                shield_hex_encode(got->value[i], got->size, g);
                                r = shield_reasons_add(out, "pcr-mismatch", SHIELD_SEV_ERROR, want->alg, (int)i, -1,
                                                       SIZE_MAX, "%s PCR %u: expected %s, computed %s",
                                                       name ? name : "?", i, w, g);
                        } else {
                                continue;
                        }
                        if (r < 0)
                                return r;
                        differ = 1;
                }
        }
        return differ ? SHIELD_E_VERIFY : 0;
}
