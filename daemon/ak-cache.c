/* SPDX-License-Identifier: Apache-2.0 */
/* The worker threads' caches of parsed AK keys (shieldd.h), apart from the routes that use them. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "shieldd.h"

/*
 * Parsed AK keys, per worker thread, keyed by the AK's bytes: setting up a
 * public key in OpenSSL costs more than the signature check itself, and a
 * fleet attests with the same few keys over and over.
 */
#define AK_CACHE 64
static __thread struct {
        uint8_t digest[32];
        bool used;
        struct shield_ak_key *key;
} ak_cache[AK_CACHE];
static __thread unsigned ak_cache_next;

void shieldd_ak_cache_clear(void) {
        for (size_t i = 0; i < AK_CACHE; i++) {
                shield_ak_key_free(ak_cache[i].key);
                ak_cache[i].key = NULL;
                ak_cache[i].used = false;
        }
}

const struct shield_ak_key *shieldd_ak_key_cached(const uint8_t *ak, size_t len) {
        uint8_t digest[32];
        if (!ak || shield_hash(SHIELD_ALG_SHA256, ak, len, digest) < 0)
                return NULL;
        for (size_t i = 0; i < AK_CACHE; i++)
                if (ak_cache[i].used && memcmp(ak_cache[i].digest, digest, sizeof digest) == 0)
                        return ak_cache[i].key;
        struct shield_ak_key *key = NULL;
        if (shield_ak_key_new(ak, len, &key, NULL) < 0)
                return NULL;
        unsigned slot = ak_cache_next++ % AK_CACHE;
        shield_ak_key_free(ak_cache[slot].key);
        memcpy(ak_cache[slot].digest, digest, sizeof digest);
        ak_cache[slot].key = key;
        ak_cache[slot].used = true;
        return key;
}
