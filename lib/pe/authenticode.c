/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Authenticode image digest ("Windows Authenticode Portable Executable
 * Signature Format", "Calculating the PE Image Hash"), in the order UEFI
 * firmware computes it (edk2 DxeImageVerificationLib). Large contiguous
 * ranges go to one streaming digest: no copies.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/pe.h"

static int by_raw_offset(const void *a, const void *b) {
        const struct shield_pe_section *x = *(const struct shield_pe_section *const *)a;
        const struct shield_pe_section *y = *(const struct shield_pe_section *const *)b;
        return x->raw_offset < y->raw_offset ? -1 : x->raw_offset > y->raw_offset;
}

int shield_pe_authenticode_hash(const struct shield_pe *pe, uint16_t alg, uint8_t *out) {
        struct shield_digest *d = NULL;
        const struct shield_pe_section *order[SHIELD_PE_SECTIONS_MAX];
        const uint8_t *b = pe->buf;
        int r;

        if ((r = shield_digest_begin(alg, &d)) < 0)
                return r;
        /* Headers, less CheckSum and (when present) the certificate-table entry. */
        r = shield_digest_update(d, b, pe->checksum_offset);
        if (r == 0 && pe->cert_dir_offset) {
                r = shield_digest_update(d, b + pe->checksum_offset + 4, pe->cert_dir_offset - pe->checksum_offset - 4);
                if (r == 0)
                        r = shield_digest_update(d, b + pe->cert_dir_offset + 8, pe->size_of_headers - pe->cert_dir_offset - 8);
        } else if (r == 0) {
                r = shield_digest_update(d, b + pe->checksum_offset + 4, pe->size_of_headers - pe->checksum_offset - 4);
        }
        size_t hashed = pe->size_of_headers, n = 0;
        for (size_t i = 0; i < pe->n_sections; i++)
                if (pe->sections[i].raw_size)
                        order[n++] = &pe->sections[i];
        qsort(order, n, sizeof order[0], by_raw_offset);
        for (size_t i = 0; i < n && r == 0; i++) {
                r = shield_digest_update(d, b + order[i]->raw_offset, order[i]->raw_size);
                hashed += order[i]->raw_size;
        }
        /* Whatever follows the sections, up to the certificate table. */
        if (r == 0 && pe->len > hashed && pe->len - hashed > pe->cert_table_size)
                r = shield_digest_update(d, b + hashed, pe->len - hashed - pe->cert_table_size);
        if (r < 0) {
                shield_digest_abort(d);
                return r;
        }
        return shield_digest_finish(d, out);
}
