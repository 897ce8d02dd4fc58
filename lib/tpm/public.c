/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM2B_PUBLIC, the one reader every part of lib/tpm uses (quotes,
 * credentials, provisioning, sealing): the strict parse, the public key in
 * lib/crypto's terms, and the object's Name (TPM 2.0 Part 1, 16).
 */
#include <string.h>
#include <tss2/tss2_mu.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"

int tpm_parse_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *ret, long index, struct shield_diag *diag) {
        size_t off = 0;
        TPM2B_PUBLIC pub = { 0 };

        if (!buf || len < 2)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, index, "a TPM2B_PUBLIC needs at least 2 bytes");
        if (len > SHIELD_TPM_PUBLIC_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, index, "the public area has %zu bytes, over %u", len,
                                        SHIELD_TPM_PUBLIC_MAX);
        size_t declared = (size_t)buf[0] << 8 | buf[1];
        if (declared != len - 2)
                return shield_diag_fail(diag, declared > len - 2 ? SHIELD_E_TRUNCATED : SHIELD_E_TRAILING, 0, index,
                                        "TPM2B_PUBLIC.size is %zu but %zu bytes follow", declared, len - 2);
        uint16_t type = len >= 4 ? (uint16_t)(buf[2] << 8 | buf[3]) : 0;
        if (type != TPM2_ALG_RSA && type != TPM2_ALG_ECC && type != TPM2_ALG_KEYEDHASH && type != TPM2_ALG_SYMCIPHER)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 2, index,
                                        "TPMT_PUBLIC.type is 0x%04x, expected RSA, ECC, KEYEDHASH or SYMCIPHER", type);
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &pub))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 2, index,
                                        "TPMT_PUBLIC does not parse (unknown type, scheme or a length past its end)");
        if (off != len)
                return shield_diag_fail(diag, SHIELD_E_TRAILING, off, index, "%zu bytes after TPMT_PUBLIC", len - off);
        *ret = pub;
        return 0;
}

int tpm_public_key(const TPMT_PUBLIC *pub, struct tpmc_key *ret) {
        struct tpmc_key k = { 0 };
        if (pub->type == TPM2_ALG_RSA) {
                k.kind = TPMC_RSA;
                k.n = pub->unique.rsa.buffer;
                k.n_len = pub->unique.rsa.size;
                k.exponent = pub->parameters.rsaDetail.exponent;
        } else if (pub->type == TPM2_ALG_ECC) {
                k.kind = TPMC_EC;
                k.curve = pub->parameters.eccDetail.curveID;
                k.x = pub->unique.ecc.x.buffer;
                k.x_len = pub->unique.ecc.x.size;
                k.y = pub->unique.ecc.y.buffer;
                k.y_len = pub->unique.ecc.y.size;
        } else
                return SHIELD_E_UNSUPPORTED;
        *ret = k;
        return 0;
}

int shield_tpm_public_name(const uint8_t *pub, size_t len, uint8_t ret_name[SHIELD_TPM_NAME_MAX], size_t *ret_len,
                           struct shield_diag *diag) {
        TPM2B_PUBLIC p;
        uint8_t name[SHIELD_TPM_NAME_MAX];
        int r;

        if (!ret_name || !ret_len)
                return SHIELD_E_INVAL;
        /* Size matches len exactly, under SHIELD_TPM_PUBLIC_MAX, and the TPMT_PUBLIC parses with nothing after it. */
        if ((r = tpm_parse_public(pub, len, &p, -1, diag)) < 0)
                return r;
        size_t hs = shield_hash_size(p.publicArea.nameAlg);
        if (hs == 0 || 2 + hs > sizeof name)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 4, -1, "nameAlg 0x%04x has no digest here",
                                        p.publicArea.nameAlg);
        /* The digest is over the bytes as given: they are what the TPM marshalled (Part 1, 16). */
        name[0] = pub[4];
        name[1] = pub[5];
        if ((r = shield_hash(p.publicArea.nameAlg, pub + 2, len - 2, name + 2)) < 0)
                return r;
        memcpy(ret_name, name, 2 + hs);
        *ret_len = 2 + hs;
        return 0;
}
