/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The decision UEFI firmware makes before it runs an image under Secure
 * Boot (UEFI 2.10, 32.5; edk2 DxeImageVerificationLib), step for step:
 * - unsigned (no certificate table): refused when its SHA-256 is in dbx,
 *   allowed when it is in db, refused otherwise;
 * - signed: every PKCS#7 WIN_CERTIFICATE in table order (others skipped):
 *   refused at the first signature that verifies to a dbx X.509 entry or
 *   carries a certificate whose TBS hash is in dbx (X509_SHA256/384/512),
 *   or when the image's hash under that signature's digest algorithm
 *   (SHA-1/256/384/512) is in dbx; allowed when some signature over this
 *   image verifies to a db certificate (the signer or any certificate of its
 *   chain, intermediates from the signature; no time or EKU checks) or the
 *   hash is in db, and no later signature is revoked; refused when the
 *   table's entries do not fill it exactly.
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
        char cert_subject[256];         /* the db/dbx certificate that decided, or the first signer */
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

/*
 * The firmware-console line: SB_EVENT: {"status":…,"msg":…,"SB_Variable_Match":…,
 * "CertSubject":…,"ImageDigest":…}, msg naming revocation for DBX_* refusals.
 * malloc'd; NULL when out of memory.
 */
char *shield_sb_event_line(const struct shield_sb_verdict *v);
