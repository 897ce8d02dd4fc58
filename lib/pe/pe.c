/* SPDX-License-Identifier: Apache-2.0 */
/* PE/COFF headers (Microsoft PE/COFF specification, sections 2-5). */
#include <stdio.h>
#include <string.h>

#include "shield/pe.h"
#include "util/rd.h"

#define PE_SIGNATURE 0x00004550u         /* "PE\0\0" */
#define PE32_MAGIC 0x10b
#define PE32_PLUS_MAGIC 0x20b
#define COFF_HEADER_SIZE 20
#define SECTION_HEADER_SIZE 40
#define DIR_SECURITY 4                   /* IMAGE_DIRECTORY_ENTRY_SECURITY */
#define WIN_CERT_HEADER 8

static int fail(struct shield_diag *diag, int code, size_t offset, const char *what) {
        return shield_diag_fail(diag, code, offset, -1, "%s", what);
}

static int parse_signatures(struct shield_pe *pe, struct shield_diag *diag) {
        struct rd r = rd_init_sticky(pe->buf + pe->cert_table_offset, pe->cert_table_size);

        while (rd_left(&r) >= WIN_CERT_HEADER) {
                size_t at = pe->cert_table_offset + r.off;
                uint32_t length = 0;
                struct shield_pe_signature s = { .offset = at };
                rd_le32(&r, &length);
                rd_le16(&r, &s.revision);
                rd_le16(&r, &s.type);
                if (length < WIN_CERT_HEADER || length - WIN_CERT_HEADER > rd_left(&r))
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at, (long)pe->n_signatures,
                                                "WIN_CERTIFICATE dwLength %u does not fit the certificate table", length);
                if (pe->n_signatures == SHIELD_PE_SIGNATURES_MAX)
                        return shield_diag_fail(diag, SHIELD_E_LIMIT, at, (long)pe->n_signatures,
                                                "more than %u signatures", SHIELD_PE_SIGNATURES_MAX);
                s.size = length - WIN_CERT_HEADER;
                rd_bytes(&r, s.size, &s.data);
                if (rd_ok(&r) < 0) /* not reached: the loop's condition and dwLength's check above */
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, at, (long)pe->n_signatures,
                                                "WIN_CERTIFICATE runs past the certificate table");
                pe->signatures[pe->n_signatures++] = s;
                /* Entries are padded to 8 bytes (PE/COFF 5.1). */
                size_t pad = (8 - length % 8) % 8;
                if (rd_skip(&r, pad < rd_left(&r) ? pad : rd_left(&r)) < 0)
                        break;
        }
        return 0;
}

int shield_pe_parse(const uint8_t *buf, size_t len, struct shield_pe *ret, struct shield_diag *diag) {
        if (!buf || !ret)
                return SHIELD_E_INVAL;
        if (len > SHIELD_PE_MAX)
                return fail(diag, SHIELD_E_LIMIT, 0, "the image is over the size limit");

        struct shield_pe pe = { .buf = buf, .len = len };
        struct rd r = rd_init_sticky(buf, len); /* each failure returns at once; the tables are checked once */
        uint16_t mz, n_sections, opt_size, magic, characteristics;
        uint32_t lfanew, sig, n_dirs;

        if (rd_le16(&r, &mz) < 0 || mz != 0x5a4d)
                return fail(diag, SHIELD_E_FORMAT, 0, "no \"MZ\" DOS header: not a PE image");
        if (rd_seek(&r, 0x3c) < 0 || rd_le32(&r, &lfanew) < 0)
                return fail(diag, SHIELD_E_TRUNCATED, 0x3c, "the DOS header is cut short (e_lfanew)");
        if (rd_seek(&r, lfanew) < 0 || rd_le32(&r, &sig) < 0 || sig != PE_SIGNATURE)
                return fail(diag, SHIELD_E_FORMAT, 0x3c, "e_lfanew does not point at a \"PE\\0\\0\" signature");
        size_t coff = r.off;
        if (rd_le16(&r, &pe.machine) < 0 || rd_le16(&r, &n_sections) < 0 || rd_skip(&r, 12) < 0 ||
            rd_le16(&r, &opt_size) < 0 || rd_le16(&r, &characteristics) < 0)
                return fail(diag, SHIELD_E_TRUNCATED, coff, "the COFF header is cut short");
        if (n_sections > SHIELD_PE_SECTIONS_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, coff + 2, -1, "NumberOfSections %u is over %u", n_sections,
                                        SHIELD_PE_SECTIONS_MAX);
        size_t opt = r.off;
        struct rd o;
        if (rd_sub(&r, opt_size, &o) < 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, coff + 16, -1,
                                        "SizeOfOptionalHeader %u runs past the end of the file", opt_size);
        if (rd_le16(&o, &magic) < 0 || (magic != PE32_MAGIC && magic != PE32_PLUS_MAGIC))
                return fail(diag, SHIELD_E_UNSUPPORTED, opt, "optional header magic is neither PE32 nor PE32+");
        pe.pe32_plus = magic == PE32_PLUS_MAGIC;
        /* Field offsets in the optional header (PE/COFF 3.4): PE32+ has no BaseOfData and 8-byte sizes. */
        size_t dirs_count_at = pe.pe32_plus ? 108 : 92, dirs_at = pe.pe32_plus ? 112 : 96;
        if (rd_seek(&o, 16) < 0 || rd_le32(&o, &pe.entry_point) < 0)
                return fail(diag, SHIELD_E_TRUNCATED, opt + 16, "optional header too short");
        if (rd_seek(&o, 60) < 0 || rd_le32(&o, &pe.size_of_headers) < 0 || rd_le32(&o, &pe.checksum) < 0 ||
            rd_le16(&o, &pe.subsystem) < 0)
                return fail(diag, SHIELD_E_TRUNCATED, opt + 60, "optional header too short for SizeOfHeaders and CheckSum");
        pe.checksum_offset = opt + 64;
        if (rd_seek(&o, dirs_count_at) < 0 || rd_le32(&o, &n_dirs) < 0)
                return fail(diag, SHIELD_E_TRUNCATED, opt + dirs_count_at, "optional header too short for NumberOfRvaAndSizes");
        if (n_dirs > SHIELD_PE_DIRECTORIES_MAX || (size_t)n_dirs * 8 > opt_size - dirs_at)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, opt + dirs_count_at, -1,
                                        "NumberOfRvaAndSizes %u does not fit SizeOfOptionalHeader %u", n_dirs, opt_size);
        pe.n_directories = n_dirs;
        rd_seek(&o, dirs_at);
        for (unsigned i = 0; i < n_dirs; i++) {
                rd_le32(&o, &pe.directories[i].virtual_address);
                rd_le32(&o, &pe.directories[i].size);
        }
        if (rd_ok(&o) < 0) /* not reached: n_dirs was checked against SizeOfOptionalHeader */
                return fail(diag, SHIELD_E_TRUNCATED, opt + dirs_at, "the data directories run past the optional header");
        if (n_dirs > DIR_SECURITY) {
                pe.cert_dir_offset = opt + dirs_at + DIR_SECURITY * 8;
                pe.cert_table_offset = pe.directories[DIR_SECURITY].virtual_address;
                pe.cert_table_size = pe.directories[DIR_SECURITY].size;
        }
        if (pe.size_of_headers > len || pe.size_of_headers < r.off + (size_t)n_sections * SECTION_HEADER_SIZE)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, opt + 60, -1,
                                        "SizeOfHeaders %u does not cover the section table or runs past the file",
                                        pe.size_of_headers);
        for (unsigned i = 0; i < n_sections; i++) {
                struct shield_pe_section *s = &pe.sections[i];
                size_t at = r.off;
                rd_copy(&r, s->name, 8);
                s->name[8] = '\0';
                rd_le32(&r, &s->virtual_size);
                rd_le32(&r, &s->virtual_address);
                rd_le32(&r, &s->raw_size);
                rd_le32(&r, &s->raw_offset);
                rd_skip(&r, 12);
                rd_le32(&r, &s->characteristics);
                if (rd_ok(&r) < 0) /* not reached: SizeOfHeaders covers the section table, checked above */
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, at, (long)i,
                                                "section header %u runs past the file", i);
                if (s->raw_size && (s->raw_offset > len || s->raw_size > len - s->raw_offset))
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 16, (long)i,
                                                "section %u's raw data (0x%x bytes at 0x%x) runs past the file", i,
                                                s->raw_size, s->raw_offset);
                if (s->raw_size && s->raw_offset < pe.size_of_headers)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 20, (long)i,
                                                "section %u's raw data starts inside the headers", i);
                for (unsigned k = 0; k < i; k++) {
                        const struct shield_pe_section *t = &pe.sections[k];
                        if (s->raw_size && t->raw_size && s->raw_offset < t->raw_offset + t->raw_size &&
                            t->raw_offset < s->raw_offset + s->raw_size)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 20, (long)i,
                                                        "section %u's raw data overlaps section %u's", i, k);
                }
        }
        pe.n_sections = n_sections;
        if (pe.cert_table_size) {
                if (pe.cert_table_offset > len || pe.cert_table_size > len - pe.cert_table_offset)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, pe.cert_dir_offset, -1,
                                                "the certificate table (0x%x bytes at 0x%x) runs past the file",
                                                pe.cert_table_size, pe.cert_table_offset);
                if (pe.cert_table_offset % 8)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, pe.cert_dir_offset, -1,
                                                "the certificate table at 0x%x is not 8-byte aligned", pe.cert_table_offset);
                if (pe.cert_table_offset < pe.size_of_headers)
                        return fail(diag, SHIELD_E_FORMAT, pe.cert_dir_offset, "the certificate table overlaps the headers");
                /* The hash skips the table, so a table inside a section would leave signed bytes unhashed. */
                for (size_t i = 0; i < pe.n_sections; i++) {
                        const struct shield_pe_section *s = &pe.sections[i];
                        if (s->raw_size && pe.cert_table_offset < (uint64_t)s->raw_offset + s->raw_size &&
                            s->raw_offset < (uint64_t)pe.cert_table_offset + pe.cert_table_size)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, pe.cert_dir_offset, (long)i,
                                                        "the certificate table (0x%x bytes at 0x%x) overlaps section %zu's raw data",
                                                        pe.cert_table_size, pe.cert_table_offset, i);
                }
                int rc = parse_signatures(&pe, diag);
                if (rc < 0)
                        return rc;
        }
        *ret = pe;
        return 0;
}
