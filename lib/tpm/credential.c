/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential blobs without a TPM: the EK public key and its parameters
 * from the forms a verifier holds, and tpm2_makecredential's file format
 * around lib/crypto's TPM2_MakeCredential.
 */
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "shield/crypto.h"
#include "shield/tpm.h"
#include "tpm-internal.h"
#include "util/wr.h"

/* The EK as a key plus credential parameters: TPM2B_PUBLIC, TPMT_PUBLIC, or SPKI (the TCG default template's). */
static int ek_parse(const uint8_t *buf, size_t len, struct tpmc_pkey **ret, struct tpmc_cred_params *ret_p,
                    struct shield_diag *diag) {
        TPMT_PUBLIC pub = { 0 };
        struct tpmc_key key;
        int r;

        if (!buf || len < 2)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1, "the EK public key is empty");
        if (buf[0] == 0x30 || (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0)) {
                if ((r = tpmc_pkey_from_spki(buf, len, ret)) < 0)
                        return shield_diag_fail(diag, r, 0, -1, "the EK public key (SPKI) does not parse");
                /* TCG EK Credential Profile, templates L-1 and L-2: SHA-256, AES-128-CFB. */
                *ret_p = (struct tpmc_cred_params){ .name_alg = SHIELD_ALG_SHA256, .sym_bits = 128 };
                return 0;
        }
        size_t declared = (size_t)buf[0] << 8 | buf[1];
        if (declared == len - 2) {
                TPM2B_PUBLIC p2;
                if ((r = tpm_parse_public(buf, len, &p2, -1, diag)) < 0)
                        return r;
                pub = p2.publicArea;
        } else {
                size_t off = 0;
                if (len > SHIELD_TPM_PUBLIC_MAX || Tss2_MU_TPMT_PUBLIC_Unmarshal(buf, len, &off, &pub) || off != len)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                                "the EK public key is neither TPM2B_PUBLIC, TPMT_PUBLIC nor SPKI");
        }
        const TPMT_SYM_DEF_OBJECT *sym = pub.type == TPM2_ALG_RSA   ? &pub.parameters.rsaDetail.symmetric
                                         : pub.type == TPM2_ALG_ECC ? &pub.parameters.eccDetail.symmetric
                                                                    : NULL;
        if (!sym)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 2, -1, "the EK is neither an RSA nor an ECC key");
        if (!(pub.objectAttributes & TPMA_OBJECT_RESTRICTED) || !(pub.objectAttributes & TPMA_OBJECT_DECRYPT))
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 2, -1,
                                        "the EK is not a restricted decryption key (attributes 0x%08x)",
                                        (unsigned)pub.objectAttributes);
        if (sym->algorithm != TPM2_ALG_AES || sym->mode.aes != TPM2_ALG_CFB ||
            (sym->keyBits.aes != 128 && sym->keyBits.aes != 256))
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 2, -1,
                                        "the EK's symmetric algorithm is not AES-128/256-CFB");
        if (shield_hash_size(pub.nameAlg) == 0)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 2, -1, "the EK's nameAlg 0x%04x is unknown",
                                        pub.nameAlg);
        if ((r = tpm_public_key(&pub, &key)) < 0 || (r = tpmc_pkey_new(&key, ret)) < 0)
                return shield_diag_fail(diag, r == SHIELD_E_UNSUPPORTED ? r : SHIELD_E_FORMAT, 2, -1,
                                        "the EK public key is not usable");
        *ret_p = (struct tpmc_cred_params){ .name_alg = pub.nameAlg, .sym_bits = sym->keyBits.aes };
        return 0;
}


static int check_name(const uint8_t *name, size_t name_len, struct shield_diag *diag) {
        if (!name || name_len < 2)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the AK name is empty");
        uint16_t alg = (uint16_t)(name[0] << 8 | name[1]);
        if (shield_hash_size(alg) == 0 || name_len != 2 + shield_hash_size(alg))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "the AK name is not nameAlg || digest (%zu bytes, algorithm 0x%04x)", name_len,
                                        alg);
        return 0;
}

int shield_credential_make(const uint8_t *ek_public, size_t ek_public_len, const uint8_t *name, size_t name_len,
                           const uint8_t *secret, size_t secret_len, uint8_t **ret_blob, size_t *ret_len,
                           struct shield_diag *diag) {
        struct tpmc_pkey *ek = NULL;
        struct tpmc_cred_params p;
        uint8_t id[TPMC_ID_OBJECT_MAX], enc[TPMC_SECRET_MAX];
        size_t id_len = 0, enc_len = 0;
        int r;

        if (!ret_blob || !ret_len || !secret)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, name_len, diag)) < 0)
                return r;
        if ((r = ek_parse(ek_public, ek_public_len, &ek, &p, diag)) < 0)
                return r;
        if (secret_len == 0 || secret_len > shield_hash_size(p.name_alg)) {
                tpmc_pkey_free(ek);
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "the secret must be 1 to %zu bytes",
                                        shield_hash_size(p.name_alg));
        }
        r = tpmc_make_credential(ek, &p, name, name_len, secret, secret_len, id, &id_len, enc, &enc_len);
        tpmc_pkey_free(ek);
        if (r < 0)
                return shield_diag_fail(diag, r, 0, -1, "TPM2_MakeCredential in software failed: %s",
                                        shield_strerror(r));
        size_t len = 8 + 2 + id_len + 2 + enc_len;
        uint8_t *b = malloc(len);
        if (!b)
                return SHIELD_E_NOMEM;
        /* tpm2_makecredential's file: be32 magic, be32 version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
        struct wr w = wr_init(b, len);
        wr_be32(&w, 0xbadcc0de);
        wr_be32(&w, 1);
        wr_be16(&w, (uint16_t)id_len);
        wr_bytes(&w, id, id_len);
        wr_be16(&w, (uint16_t)enc_len);
        wr_bytes(&w, enc, enc_len);
        if (wr_ok(&w) < 0) { /* not reached: len is the sum of what is written */
                free(b);
                return SHIELD_E_LIMIT;
        }
        *ret_blob = b;
        *ret_len = len;
        return 0;
}

int shield_credential_recover(const char *ek_private_pem, size_t pem_len, const uint8_t *ek_public,
                              size_t ek_public_len, const uint8_t *name, size_t name_len, const uint8_t *blob,
                              size_t blob_len, uint8_t *ret_secret, size_t *ret_len, struct shield_diag *diag) {
        TPM2B_ID_OBJECT id;
        TPM2B_ENCRYPTED_SECRET sec;
        struct tpmc_pkey *ek = NULL;
        struct tpmc_cred_params p;
        int r;

        if (!ek_private_pem || !ret_secret || !ret_len)
                return SHIELD_E_INVAL;
        if ((r = check_name(name, name_len, diag)) < 0 ||
            (r = tpm_credential_parse(blob, blob_len, &id, &sec, diag)) < 0 ||
            (r = ek_parse(ek_public, ek_public_len, &ek, &p, diag)) < 0)
                return r;
        tpmc_pkey_free(ek);
        r = tpmc_recover_credential(ek_private_pem, pem_len, &p, name, name_len, id.credential, id.size, sec.secret,
                                    sec.size, ret_secret, ret_len, NULL, NULL);
        if (r < 0)
                return shield_diag_fail(diag, r, 0, -1, "%s",
                                        r == SHIELD_E_VERIFY ? "the credential was not made for this name and EK"
                                                             : "the credential cannot be recovered");
        return 0;
}
