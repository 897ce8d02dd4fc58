/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The decision UEFI firmware makes before it runs an image under Secure
 * Boot (UEFI 2.10, 32.5; edk2 DxeImageVerificationLib): refused when the
 * image's hash, or a certificate its signature chains to (as X.509 or as a
 * TBS hash), is in dbx; allowed when its hash is in db or a signature that
 * matches the image chains to a db certificate; refused otherwise.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

/* db and dbx as EFI signature lists (either may be empty). */
struct shield_sb_databases {
        const uint8_t *db;
        size_t db_len;
        const uint8_t *dbx;
        size_t dbx_len;
};

struct shield_sb_verdict {
        bool pass;
        const char *match;              /* "DB_CERT_MATCH", "DB_HASH_MATCH", "DBX_HASH_MATCH",
                                         * "DBX_CERT_MATCH", "DBX_CERT_HASH_MATCH", "NO_CERT_MATCH" */
        char cert_subject[256];         /* the db/dbx certificate that decided, or the signer */
        char image_digest[65];          /* Authenticode SHA-256, hex */
        char reason[600];               /* why, in words: "unsigned", "signed by CN=… not in db", … */
        size_t n_signatures;
};

/*
 * Judge one image (PE bytes) against db/dbx. Returns 0 with the verdict
 * (pass or not), or an error when the image or a database cannot be read
 * (diag says where).
 */
__attribute__((warn_unused_result))
int shield_sb_check(const uint8_t *image, size_t len, const struct shield_sb_databases *dbs,
                    struct shield_sb_verdict *ret, struct shield_diag *diag);

/* The firmware-console line: SB_EVENT: {"status":…,"msg":…,…}. malloc'd. */
char *shield_sb_event_line(const struct shield_sb_verdict *v);
