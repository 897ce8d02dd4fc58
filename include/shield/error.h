/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * Error model (see docs/ARCHITECTURE.md): every library function that can
 * fail returns 0 on success or one of these negative codes. The library
 * never prints or exits; only main() chooses an exit status.
 */
enum shield_error {
        SHIELD_OK = 0,
        SHIELD_E_INVAL = -1,       /* a caller passed a bad argument */
        SHIELD_E_NOMEM = -2,       /* allocation failed */
        SHIELD_E_SYSTEM = -3,      /* a system call failed: see errno */
        SHIELD_E_TRUNCATED = -4,   /* input ended before a structure did */
        SHIELD_E_FORMAT = -5,      /* input is malformed */
        SHIELD_E_UNSUPPORTED = -6, /* well-formed but a version/kind we do not handle */
        SHIELD_E_LIMIT = -7,       /* a length or count is over a named cap */
        SHIELD_E_CRYPTO = -8,      /* OpenSSL failed: see its error queue */
        SHIELD_E_TPM = -9,         /* the TPM or TSS failed: see the kept TSS2_RC */
        SHIELD_E_VERIFY = -10,     /* a verification did not pass */
        SHIELD_E_NOT_FOUND = -11,  /* a requested item does not exist */
        SHIELD_E_TRAILING = -12,   /* bytes left over after a complete structure */
};

/* A fixed English description of an error code; never NULL. */
const char *shield_strerror(int code);

/*
 * Where a parser stopped and why. Parsers take an optional (NULL allowed)
 * struct shield_diag and fill it on failure only, so a user can act on
 * "offset 0x1f4, event 12: digest count 3 but the log declares 2 banks".
 */
#define SHIELD_DIAG_MSG_MAX 256
struct shield_diag {
        size_t offset;                  /* byte offset into the input */
        long index;                     /* record/event index, -1 when none */
        char msg[SHIELD_DIAG_MSG_MAX];  /* what was expected and found */
};

/* Record a failure in diag (when diag is non-NULL) and return code. */
int shield_diag_fail(struct shield_diag *diag, int code, size_t offset, long index,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Render "offset 0x…, event N: msg" into buf (always NUL-terminated). */
void shield_diag_format(const struct shield_diag *diag, char *buf, size_t len);
