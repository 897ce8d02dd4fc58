/* SPDX-License-Identifier: Apache-2.0 */
/* Writing the certificate table of a PE image (PE/COFF spec 5.1, "The Attribute Certificate Table"). */
#include <stdlib.h>
#include <string.h>

#include "shield/authenticode.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "util/rd.h"
#include "util/wr.h"

#define WIN_CERT_REVISION_2_0 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002

/* IMAGE_DATA_DIRECTORY of the certificate table (PE/COFF 3.4.3): u32 offset (a file offset here), u32 size. */
static int put_cert_dir(uint8_t *out, size_t len, size_t dir, uint32_t offset, uint32_t size) {
        if (dir > len)
                return SHIELD_E_LIMIT;
        struct wr w = wr_init(out + dir, len - dir);
        wr_le32(&w, offset);
        wr_le32(&w, size);
        return wr_ok(&w);
}

int shield_pe_prepare_for_signing(const struct shield_pe *pe, bool append, uint8_t **ret, size_t *ret_len) {
        if (!pe || !ret || !ret_len)
                return SHIELD_E_INVAL;
        if (!pe->cert_dir_offset)
                return SHIELD_E_UNSUPPORTED; /* no data directory for a certificate table */
        size_t keep = pe->len;
        if (pe->cert_table_size) {
                /* The table must be the file's tail for us to extend or drop it. */
                if ((size_t)pe->cert_table_offset + pe->cert_table_size != pe->len)
                        return SHIELD_E_UNSUPPORTED;
                if (!append)
                        keep = pe->cert_table_offset;
        }
        size_t padded = append && pe->cert_table_size ? keep : (keep + 7) & ~(size_t)7;
        if (padded > UINT32_MAX)
                return SHIELD_E_LIMIT;
        uint8_t *out = calloc(1, padded ? padded : 1);
        if (!out)
                return SHIELD_E_NOMEM;
        memcpy(out, pe->buf, keep);
        /* The directory lies in the headers shield_pe_parse read: it fits. */
        if (!(append && pe->cert_table_size) && put_cert_dir(out, padded, pe->cert_dir_offset, (uint32_t)padded, 0) < 0) {
                free(out);
                return SHIELD_E_LIMIT;
        }
        *ret = out;
        *ret_len = padded;
        return 0;
}

int shield_pe_add_signature(const uint8_t *prepared, size_t len, const uint8_t *signature, size_t sig_len, uint8_t **ret,
                            size_t *ret_len) {
        struct shield_pe pe;
        if (!prepared || !signature || !ret || !ret_len || sig_len > UINT32_MAX - 16)
                return SHIELD_E_INVAL;
        int r = shield_pe_parse(prepared, len, &pe, NULL);
        if (r < 0 && r != SHIELD_E_FORMAT)
                return r;
        /* prepared's directory points at its end (offset = len) with the current table size. */
        size_t dir = pe.cert_dir_offset;
        if (r < 0 || !dir)
                return SHIELD_E_FORMAT;
        uint32_t table_off = 0, table_size = 0;
        struct rd d = rd_init_sticky(prepared, len);
        rd_seek(&d, dir);
        rd_le32(&d, &table_off);
        rd_le32(&d, &table_size);
        if (rd_ok(&d) < 0)
                return SHIELD_E_FORMAT;
        size_t entry = 8 + sig_len, padded_entry = (entry + 7) & ~(size_t)7;
        if (len > SIZE_MAX - padded_entry || (uint64_t)table_size + padded_entry > UINT32_MAX)
                return SHIELD_E_LIMIT;
        uint8_t *out = calloc(1, len + padded_entry);
        if (!out)
                return SHIELD_E_NOMEM;
        memcpy(out, prepared, len);
        /* WIN_CERTIFICATE (PE/COFF 5.1): dwLength, wRevision, wCertificateType, bCertificate; zero padding after. */
        struct wr w = wr_init(out + len, padded_entry);
        wr_le32(&w, (uint32_t)entry);
        wr_le16(&w, WIN_CERT_REVISION_2_0);
        wr_le16(&w, WIN_CERT_TYPE_PKCS_SIGNED_DATA);
        wr_bytes(&w, signature, sig_len);
        if (wr_ok(&w) < 0 ||
            put_cert_dir(out, len, dir, table_size ? table_off : (uint32_t)len, table_size + (uint32_t)padded_entry) < 0) {
                free(out);
                return SHIELD_E_LIMIT;
        }
        *ret = out;
        *ret_len = len + padded_entry;
        return 0;
}

int shield_pe_sign(const uint8_t *img, size_t len, const char *key_pem, size_t key_len, const uint8_t *cert_der,
                   size_t cert_len, bool append, uint8_t **ret, size_t *ret_len, uint8_t digest[32]) {
        struct shield_pe pe, prepared;
        uint8_t *prep = NULL, *sig = NULL;
        size_t prep_len, sig_len;
        int r;

        if ((r = shield_pe_parse(img, len, &pe, NULL)) < 0)
                return r;
        if ((r = shield_pe_prepare_for_signing(&pe, append, &prep, &prep_len)) < 0)
                return r;
        if ((r = shield_pe_parse(prep, prep_len, &prepared, NULL)) == 0 &&
            (r = shield_pe_authenticode_hash(&prepared, SHIELD_ALG_SHA256, digest)) == 0 &&
            (r = shield_authenticode_sign(key_pem, key_len, cert_der, cert_len, digest, &sig, &sig_len)) == 0)
                r = shield_pe_add_signature(prep, prep_len, sig, sig_len, ret, ret_len);
        free(prep);
        free(sig);
        return r;
}
