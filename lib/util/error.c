/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "shield/error.h"

const char *shield_strerror(int code) {
        switch (code) {
        case SHIELD_OK: return "success";
        case SHIELD_E_INVAL: return "invalid argument";
        case SHIELD_E_NOMEM: return "out of memory";
        case SHIELD_E_SYSTEM: return "system error";
        case SHIELD_E_TRUNCATED: return "input is truncated";
        case SHIELD_E_FORMAT: return "input is malformed";
        case SHIELD_E_UNSUPPORTED: return "unsupported format or version";
        case SHIELD_E_LIMIT: return "input exceeds a size limit";
        case SHIELD_E_CRYPTO: return "cryptographic operation failed";
        case SHIELD_E_TPM: return "TPM operation failed";
        case SHIELD_E_VERIFY: return "verification failed";
        case SHIELD_E_NOT_FOUND: return "not found";
        case SHIELD_E_TRAILING: return "trailing bytes after the structure";
        default: return "unknown error";
        }
}

int shield_diag_fail(struct shield_diag *diag, int code, size_t offset, long index,
                     const char *fmt, ...) {
        if (diag) {
                va_list ap;

                diag->offset = offset;
                diag->index = index;
                va_start(ap, fmt);
                vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
                va_end(ap);
        }
        return code;
}

void shield_diag_format(const struct shield_diag *diag, char *buf, size_t len) {
        if (!len)
                return;
        if (diag->index >= 0)
                snprintf(buf, len, "offset %zu (0x%zx), record %ld: %s", diag->offset, diag->offset,
                         diag->index, diag->msg);
        else
                snprintf(buf, len, "offset %zu (0x%zx): %s", diag->offset, diag->offset, diag->msg);
}
