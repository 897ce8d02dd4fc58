/* SPDX-License-Identifier: Apache-2.0 */
/* shieldkit-sealed/1 blobs (lib/crypto/sealed.c): parse, then try to open with a fixed key (the tag must refuse). */
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_sealed s;
        struct shield_diag diag = { 0 };
        if (shield_sealed_parse(data, size, &s, &diag) == 0) {
                if (s.wrapped + s.wrapped_len > data + size || s.tag + 16 != data + size)
                        abort();
                static const uint8_t key[32] = { 1 };
                uint8_t *out = NULL;
                size_t n = 0;
                if (shield_sealed_open(&s, key, &out, &n) == 0)
                        free(out); /* a forged tag matching is astronomically unlikely; not an error here */
        }
        return 0;
}
