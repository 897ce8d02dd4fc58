/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * PE/COFF images as UEFI loads them (Microsoft PE/COFF specification), their
 * Authenticode hash, and the certificate table that carries signatures
 * (Microsoft "Windows Authenticode Portable Executable Signature Format").
 * The signatures themselves (PKCS#7: read, verify, make) are
 * shield/authenticode.h, in lib/crypto.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"

#define SHIELD_PE_MAX (512u << 20)           /* file size */
#define SHIELD_PE_SECTIONS_MAX 96u           /* the PE/COFF spec's own limit */
#define SHIELD_PE_SIGNATURES_MAX 32u
#define SHIELD_PE_DIRECTORIES_MAX 16u        /* IMAGE_NUMBEROF_DIRECTORY_ENTRIES (PE/COFF 3.4.3) */

struct shield_pe_section {
        char name[9];
        uint32_t virtual_size, virtual_address;
        uint32_t raw_size, raw_offset;
        uint32_t characteristics;
};

/* One WIN_CERTIFICATE of the certificate table (PE/COFF spec 5.1). */
struct shield_pe_signature {
        uint16_t revision, type;        /* 0x0200, 0x0002 = PKCS#7 SignedData */
        const uint8_t *data;            /* bCertificate, points into the image */
        size_t size;
        size_t offset;
};

struct shield_pe {
        const uint8_t *buf;             /* the caller's bytes: they must outlive this */
        size_t len;
        bool pe32_plus;
        uint16_t machine, subsystem;
        uint32_t entry_point, size_of_headers;
        size_t checksum_offset;         /* the CheckSum field */
        size_t cert_dir_offset;         /* the certificate-table data directory entry, 0 when absent */
        uint32_t cert_table_offset, cert_table_size;
        uint32_t checksum;
        size_t n_directories;           /* NumberOfRvaAndSizes */
        struct {
                uint32_t virtual_address; /* a file offset for the certificate table (index 4) */
                uint32_t size;
        } directories[SHIELD_PE_DIRECTORIES_MAX];
        size_t n_sections;
        struct shield_pe_section sections[SHIELD_PE_SECTIONS_MAX];
        size_t n_signatures;
        struct shield_pe_signature signatures[SHIELD_PE_SIGNATURES_MAX];
};

/*
 * Parse and validate a PE image against its size: headers inside the file,
 * section raw data inside the file and not overlapping, the certificate
 * table inside the file, 8-aligned, clear of the headers and of every
 * section, holding whole WIN_CERTIFICATEs. PE32 and PE32+ alike. Errors
 * (SHIELD_E_FORMAT, SHIELD_E_TRUNCATED, SHIELD_E_LIMIT for the caps above,
 * SHIELD_E_UNSUPPORTED for an unknown optional-header magic) give the
 * offset of the field at fault; *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_pe_parse(const uint8_t *buf, size_t len, struct shield_pe *ret, struct shield_diag *diag);

/*
 * The Authenticode digest (alg: a TPM_ALG_ID, SHA-256 in practice): the
 * headers without CheckSum and the certificate-table entry, the sections in
 * file order, then any data after them up to the certificate table.
 */
__attribute__((warn_unused_result))
int shield_pe_authenticode_hash(const struct shield_pe *pe, uint16_t alg, uint8_t *out);

/*
 * Sign a PE image: a new image (malloc'd) whose certificate table holds
 * signature as a WIN_CERTIFICATE (PKCS_SIGNED_DATA), appended after the
 * existing ones when append is set, replacing them otherwise. The image is
 * padded to 8 bytes before the table, as the table must be aligned; the
 * digest to sign is that of the padded image (shield_pe_prepare_for_signing).
 */
__attribute__((warn_unused_result))
int shield_pe_prepare_for_signing(const struct shield_pe *pe, bool append, uint8_t **ret, size_t *ret_len);
__attribute__((warn_unused_result))
int shield_pe_add_signature(const uint8_t *prepared, size_t len, const uint8_t *signature, size_t sig_len,
                            uint8_t **ret, size_t *ret_len);


/*
 * The whole signing step: prepare, hash (SHA-256 into digest), sign with
 * key_pem/cert_der and add the signature. Errors as the steps': notably
 * SHIELD_E_UNSUPPORTED (no room for a certificate table), SHIELD_E_INVAL
 * (the key does not belong to the certificate), SHIELD_E_FORMAT (not a PE
 * image or not a PEM key).
 */
__attribute__((warn_unused_result))
int shield_pe_sign(const uint8_t *img, size_t len, const char *key_pem, size_t key_len, const uint8_t *cert_der,
                   size_t cert_len, bool append, uint8_t **ret, size_t *ret_len, uint8_t digest[32]);
