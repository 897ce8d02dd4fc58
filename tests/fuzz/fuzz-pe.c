/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PE images: parse, hash under every algorithm, read every signature and its
 * chain, judge the image against an empty db and against a db/dbx made of
 * the image's own certificates and hash (so the verify and revocation paths
 * run), and re-sign the layout (prepare + add a dummy signature).
 */
#include <stdlib.h>
#include <string.h>

#include "shield/authenticode.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint16_t algs[] = { SHIELD_ALG_SHA1, SHIELD_ALG_SHA256, SHIELD_ALG_SHA384, SHIELD_ALG_SHA512 };
        static const shield_guid zero;
        struct shield_pe pe;
        uint8_t digest[64];
        struct shield_sb_databases dbs = { 0 };
        struct shield_sb_verdict v;
        uint8_t *db = NULL, *dbx = NULL;
        size_t db_len = 0, dbx_len = 0;

        if (shield_pe_parse(data, size, &pe, NULL) < 0)
                return 0;
        for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
                (void)!shield_pe_authenticode_hash(&pe, algs[i], digest);
        for (size_t i = 0; i < pe.n_signatures; i++) {
                struct shield_authenticode a;
                uint8_t **certs = NULL;
                size_t *lens = NULL, n = 0;
                (void)!shield_authenticode_parse(pe.signatures[i].data, pe.signatures[i].size, &a);
                if (shield_authenticode_chain(pe.signatures[i].data, pe.signatures[i].size, &certs, &lens, &n) < 0)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        (void)!shield_siglist_append_x509(k % 2 ? &dbx : &db, k % 2 ? &dbx_len : &db_len, &zero, certs[k],
                                                          lens[k]);
                        free(certs[k]);
                }
                free(certs);
                free(lens);
        }
        (void)!shield_sb_check(data, size, &dbs, &v, NULL);
        dbs = (struct shield_sb_databases){ db, db_len, dbx, dbx_len };
        (void)!shield_sb_check(data, size, &dbs, &v, NULL);
        if (shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, digest) == 0 &&
            shield_siglist_append_sha256(&db, &db_len, &zero, (const uint8_t(*)[32])digest, 1) == 0) {
                dbs = (struct shield_sb_databases){ db, db_len, NULL, 0 };
                (void)!shield_sb_check(data, size, &dbs, &v, NULL);
        }
        free(db);
        free(dbx);

        uint8_t *prepared = NULL, *signed_image = NULL;
        size_t prepared_len, signed_len;
        static const uint8_t dummy[40] = { 0x30 };
        if (shield_pe_prepare_for_signing(&pe, size % 2, &prepared, &prepared_len) == 0 &&
            shield_pe_add_signature(prepared, prepared_len, dummy, sizeof dummy, &signed_image, &signed_len) == 0) {
                struct shield_pe again;
                (void)!shield_pe_parse(signed_image, signed_len, &again, NULL);
        }
        free(prepared);
        free(signed_image);
        return 0;
}
