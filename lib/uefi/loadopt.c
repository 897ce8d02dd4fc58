/* SPDX-License-Identifier: Apache-2.0 */
/* EFI_LOAD_OPTION (UEFI 2.10, 3.1.3): what Boot####, Driver#### and SysPrep#### variables hold. */
#include <stdlib.h>

#include "shield/uefi.h"
#include "shield/util.h"
#include "util/rd.h"

/*
 * Advance past the Description, a UTF-16 string whose NUL must lie inside
 * the buffer; *ret_units is its length in code units, without the NUL.
 */
static int skip_description(struct rd *r, size_t *ret_units, struct shield_diag *diag) {
        size_t start = r->off, units = 0;
        uint16_t unit;

        for (;;) {
                if (rd_le16(r, &unit) < 0)
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, start, -1,
                                                "the Description has no terminating NUL before the end (%zu bytes)",
                                                r->len);
                if (unit == 0)
                        break;
                units++;
        }
        *ret_units = units;
        return 0;
}

int shield_load_option_parse(const uint8_t *buf, size_t len, struct shield_load_option *ret,
                             struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;

        struct rd r = rd_init(buf, len);
        struct shield_load_option opt = { 0 };
        uint16_t path_len;
        size_t desc_units = 0;
        const uint8_t *path;
        int rc;

        if (rd_le32(&r, &opt.attributes) < 0 || rd_le16(&r, &path_len) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1,
                                        "%zu bytes, too few for Attributes and FilePathListLength (6)", len);
        size_t desc_start = r.off;
        rc = skip_description(&r, &desc_units, diag);
        if (rc < 0)
                return rc;
        size_t path_start = r.off;
        if (rd_bytes(&r, path_len, &path) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, path_start, -1,
                                        "FilePathListLength %u exceeds the %zu bytes left", path_len, rd_left(&r));
        rc = shield_utf16le_to_utf8(buf + desc_start, desc_units * 2, &opt.description);
        if (rc < 0)
                return rc;
        /*
         * FilePathList may hold several device paths; the first, up to its
         * End Entire node, is the one the boot manager loads and the one
         * shown. Errors inside it are reported at offsets into the option.
         */
        rc = shield_devpath_to_text(path, path_len, &opt.device_path, diag);
        if (rc < 0) {
                if (diag)
                        diag->offset += path_start;
                free(opt.description);
                return rc;
        }
        opt.optional_data = rd_cur(&r);
        opt.optional_size = rd_left(&r);
        *ret = opt;
        return 0;
}

void shield_load_option_clear(struct shield_load_option *opt) {
        if (!opt)
                return;
        free(opt->description);
        free(opt->device_path);
        *opt = (struct shield_load_option){ 0 };
}
