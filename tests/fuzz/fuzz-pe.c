/* SPDX-License-Identifier: Apache-2.0 */
/* PE images: parse, hash, read every signature, and the verdict against an empty db. */
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/secureboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_pe pe;
        uint8_t digest[32];
        struct shield_sb_databases dbs = { 0 };
        struct shield_sb_verdict v;

        if (shield_pe_parse(data, size, &pe, NULL) < 0)
                return 0;
        (void)!shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, digest);
        for (size_t i = 0; i < pe.n_signatures; i++) {
                struct shield_authenticode a;
                (void)!shield_authenticode_parse(pe.signatures[i].data, pe.signatures[i].size, &a);
        }
        (void)!shield_sb_check(data, size, &dbs, &v, NULL);
        return 0;
}
