/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sealed blob (docs/FORMATS.md, "shieldkit-sealed/1"): a fresh 256-bit
 * key wrapped with RSA-OAEP (SHA-256, label "SHIELDKIT-SEAL\0") to a TPM's
 * sealing key, and the data under AES-256-GCM with that key. Only the TPM
 * holding the sealing key, in a session that satisfies its policy, can
 * unwrap the key (TPM2_RSA_Decrypt), so only the intended boot reads it.
 *   "SKSEAL1\0" | u16 wrapped length | wrapped | 12-byte IV | u32 length | ciphertext | 16-byte tag
 * (little-endian lengths; the header up to the IV is the GCM associated data).
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "tpm-crypto.h"
#include "util/rd.h"
#include "util/wr.h"

static const char magic[8] = "SKSEAL1";
const uint8_t shield_seal_label[15] = "SHIELDKIT-SEAL"; /* with its NUL, as TPM2_RSA_Decrypt wants a label */

int tpmc_seal(const struct tpmc_pkey *key, const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len) {
        EVP_PKEY *pkey = tpmc_pkey_get(key);
        EVP_PKEY_CTX *ctx = NULL;
        EVP_CIPHER_CTX *c = NULL;
        uint8_t k[32], iv[12], wrapped[512], tag[16];
        size_t wrapped_len = sizeof wrapped;
        uint8_t *out = NULL;
        int r = SHIELD_E_CRYPTO, n = 0;

        if (!pkey || !data || len > SHIELD_SEALED_DATA_MAX || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
                return SHIELD_E_INVAL;
        unsigned char *label = OPENSSL_malloc(sizeof shield_seal_label);
        if (!label)
                return SHIELD_E_NOMEM;
        memcpy(label, shield_seal_label, sizeof shield_seal_label);
        if (RAND_bytes(k, sizeof k) != 1 || RAND_bytes(iv, sizeof iv) != 1 || !(ctx = EVP_PKEY_CTX_new(pkey, NULL)) ||
            EVP_PKEY_encrypt_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
            EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, sizeof shield_seal_label) <= 0) {
                OPENSSL_free(label);
                goto out;
        }
        if (EVP_PKEY_encrypt(ctx, wrapped, &wrapped_len, k, sizeof k) <= 0)
                goto out;
        size_t total = sizeof magic + 2 + wrapped_len + sizeof iv + 4 + len + sizeof tag;
        if (!(out = malloc(total))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        struct wr w = wr_init(out, total);
        wr_bytes(&w, magic, sizeof magic);
        wr_le16(&w, (uint16_t)wrapped_len);
        wr_bytes(&w, wrapped, wrapped_len);
        size_t aad_len = w.len;
        wr_bytes(&w, iv, sizeof iv);
        wr_le32(&w, (uint32_t)len);
        if (wr_ok(&w) < 0)
                goto out;
        if (!(c = EVP_CIPHER_CTX_new()) || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, iv) != 1 ||
            EVP_EncryptUpdate(c, NULL, &n, out, (int)aad_len) != 1 ||
            EVP_EncryptUpdate(c, out + w.len, &n, data, (int)len) != 1 || EVP_EncryptFinal_ex(c, out + w.len + n, &n) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, sizeof tag, tag) != 1)
                goto out;
        memcpy(out + w.len + len, tag, sizeof tag);
        *ret = out;
        *ret_len = total;
        out = NULL;
        r = 0;
out:
        OPENSSL_cleanse(k, sizeof k);
        EVP_CIPHER_CTX_free(c);
        EVP_PKEY_CTX_free(ctx);
        free(out);
        return r;
}

int shield_sealed_parse(const uint8_t *blob, size_t len, struct shield_sealed *ret, struct shield_diag *diag) {
        struct rd r = rd_init_sticky(blob, len);
        const uint8_t *m = NULL;
        uint16_t wl = 0;
        uint32_t dl = 0;
        struct shield_sealed s = { 0 };
        (void)rd_bytes(&r, sizeof magic, &m);
        if (rd_ok(&r) || memcmp(m, magic, sizeof magic) != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "not a shieldkit-sealed/1 blob (magic)");
        (void)rd_le16(&r, &wl);
        (void)rd_bytes(&r, wl, &s.wrapped);
        s.wrapped_len = wl;
        s.aad = blob;
        s.aad_len = r.off;
        (void)rd_bytes(&r, 12, &s.iv);
        (void)rd_le32(&r, &dl);
        if (rd_ok(&r) || dl > SHIELD_SEALED_DATA_MAX)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1, "the sealed blob is cut off or too large");
        (void)rd_bytes(&r, dl, &s.ciphertext);
        s.ciphertext_len = dl;
        (void)rd_bytes(&r, 16, &s.tag);
        if (rd_ok(&r))
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, r.off, -1, "the sealed blob's data or tag is cut off");
        if (rd_left(&r))
                return shield_diag_fail(diag, SHIELD_E_TRAILING, r.off, -1, "%zu bytes after the sealed blob", rd_left(&r));
        *ret = s;
        return 0;
}

int shield_sealed_open(const struct shield_sealed *s, const uint8_t key[32], uint8_t **ret, size_t *ret_len) {
        EVP_CIPHER_CTX *c = NULL;
        uint8_t *out = malloc(s->ciphertext_len ? s->ciphertext_len : 1);
        int n = 0, r = SHIELD_E_VERIFY;
        if (!out)
                return SHIELD_E_NOMEM;
        if (!(c = EVP_CIPHER_CTX_new()) || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, s->iv) != 1 ||
            EVP_DecryptUpdate(c, NULL, &n, s->aad, (int)s->aad_len) != 1 ||
            EVP_DecryptUpdate(c, out, &n, s->ciphertext, (int)s->ciphertext_len) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)s->tag) != 1 || EVP_DecryptFinal_ex(c, out + n, &n) != 1) {
                /* Verified before released: nothing of a forged blob leaves here. */
                OPENSSL_cleanse(out, s->ciphertext_len);
                free(out);
                out = NULL;
        } else {
                *ret = out;
                *ret_len = s->ciphertext_len;
                out = NULL;
                r = 0;
        }
        EVP_CIPHER_CTX_free(c);
        free(out);
        return r;
}
