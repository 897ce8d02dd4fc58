/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's half of credential activation: TPM2_MakeCredential done
 * in software (TPM 2.0 Part 1, 24 "Credential Protection", Annex B (RSA)
 * and Annex C (ECC) secret sharing; Part 1, 11.4.10 KDFa/KDFe), and the
 * matching recovery with an EK private key for tests. Nothing here talks to
 * a TPM: lib/tpm marshals the results.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "tpm-crypto.h"

/* Part 1, 24.4 and B.10.4: the label of the seed's OAEP / KDFe, NUL included. */
static const char label_identity[] = "IDENTITY";
static const char label_storage[] = "STORAGE";
static const char label_integrity[] = "INTEGRITY";

static const EVP_MD *md_of(uint16_t alg) {
        const char *n = shield_hash_name(alg);
        return n ? EVP_get_digestbyname(n) : NULL;
}

static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

/*
 * KDFa (Part 1, 11.4.10.2, SP 800-108 counter mode with HMAC):
 * K(i) = HMAC(key, [i]32 || label || 0x00 || contextU || contextV || [bits]32).
 */
static int kdfa(uint16_t alg, const uint8_t *key, size_t key_len, const char *label, const uint8_t *u, size_t u_len,
                const uint8_t *v, size_t v_len, unsigned bits, uint8_t *out) {
        const EVP_MD *md = md_of(alg);
        size_t dsize = shield_hash_size(alg), want = (bits + 7) / 8;
        uint8_t buf[4 + 16 + 2 * 66 + 4 + 2 * SHIELD_HASH_MAX_SIZE], block[EVP_MAX_MD_SIZE];
        size_t llen = strlen(label) + 1;

        if (!md || llen > 16 || u_len > 66 + SHIELD_HASH_MAX_SIZE || v_len > 66 + SHIELD_HASH_MAX_SIZE)
                return SHIELD_E_UNSUPPORTED;
        for (uint32_t i = 1, done = 0; done < want; i++) {
                size_t n = 0;
                unsigned blen = 0;
                put_be32(buf, i);
                n = 4;
                memcpy(buf + n, label, llen);
                n += llen;
                if (u_len)
                        memcpy(buf + n, u, u_len);
                n += u_len;
                if (v_len)
                        memcpy(buf + n, v, v_len);
                n += v_len;
                put_be32(buf + n, bits);
                n += 4;
                if (!HMAC(md, key, (int)key_len, buf, n, block, &blen) || blen != dsize) {
                        OPENSSL_cleanse(block, sizeof block);
                        return SHIELD_E_CRYPTO;
                }
                size_t take = want - done < dsize ? want - done : dsize;
                memcpy(out + done, block, take);
                done += (uint32_t)take;
        }
        OPENSSL_cleanse(block, sizeof block);
        /* Part 1, 11.4.10.2: unused bits of the last octet are cleared. */
        if (bits % 8)
                out[0] &= (uint8_t)((1u << (bits % 8)) - 1);
        return 0;
}

/*
 * KDFe (Part 1, 11.4.10.3, SP 800-56A concatenation KDF):
 * K(i) = H([i]32 || Z || label || 0x00 || partyUInfo || partyVInfo).
 */
static int kdfe(uint16_t alg, const uint8_t *z, size_t z_len, const char *label, const uint8_t *u, size_t u_len,
                const uint8_t *v, size_t v_len, size_t want, uint8_t *out) {
        const EVP_MD *md = md_of(alg);
        size_t dsize = shield_hash_size(alg);
        uint8_t cnt[4], block[EVP_MAX_MD_SIZE];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int r = SHIELD_E_CRYPTO;

        if (!md || !ctx) {
                EVP_MD_CTX_free(ctx);
                return md ? SHIELD_E_NOMEM : SHIELD_E_UNSUPPORTED;
        }
        for (uint32_t i = 1, done = 0; done < want; i++) {
                put_be32(cnt, i);
                if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, cnt, 4) ||
                    !EVP_DigestUpdate(ctx, z, z_len) || !EVP_DigestUpdate(ctx, label, strlen(label) + 1) ||
                    !EVP_DigestUpdate(ctx, u, u_len) || !EVP_DigestUpdate(ctx, v, v_len) ||
                    !EVP_DigestFinal_ex(ctx, block, NULL))
                        goto out;
                size_t take = want - done < dsize ? want - done : dsize;
                memcpy(out + done, block, take);
                done += (uint32_t)take;
        }
        r = 0;
out:
        OPENSSL_cleanse(block, sizeof block);
        EVP_MD_CTX_free(ctx);
        return r;
}

static int aes_cfb(bool enc, const uint8_t *key, unsigned bits, const uint8_t *in, size_t len, uint8_t *out) {
        const EVP_CIPHER *c = bits == 128 ? EVP_aes_128_cfb128() : bits == 256 ? EVP_aes_256_cfb128() : NULL;
        static const uint8_t iv[16]; /* Part 1, 24.4: the IV is zero */
        EVP_CIPHER_CTX *ctx;
        int n = 0, f = 0, r = SHIELD_E_CRYPTO;

        if (!c)
                return SHIELD_E_UNSUPPORTED;
        if (!(ctx = EVP_CIPHER_CTX_new()))
                return SHIELD_E_NOMEM;
        if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc ? 1 : 0) && EVP_CipherUpdate(ctx, out, &n, in, (int)len) &&
            EVP_CipherFinal_ex(ctx, out + n, &f) && (size_t)(n + f) == len)
                r = 0;
        EVP_CIPHER_CTX_free(ctx);
        return r;
}

/*
 * From the seed: encIdentity = CFB(KDFa(seed, "STORAGE", name), TPM2B_DIGEST
 * credential) and integrityHMAC = HMAC(KDFa(seed, "INTEGRITY"), encIdentity
 * || name) (Part 1, 24.4 and 24.5). id = TPM2B(HMAC) || encIdentity.
 */
static int protect(const struct tpmc_cred_params *p, const uint8_t *seed, size_t seed_len, const uint8_t *name,
                   size_t name_len, const uint8_t *cred, size_t cred_len, uint8_t *id, size_t *id_len) {
        size_t dsize = shield_hash_size(p->name_alg);
        uint8_t symkey[32], hkey[SHIELD_HASH_MAX_SIZE], plain[2 + SHIELD_HASH_MAX_SIZE];
        uint8_t mac_in[2 + SHIELD_HASH_MAX_SIZE + 2 + SHIELD_HASH_MAX_SIZE];
        const EVP_MD *md = md_of(p->name_alg);
        unsigned mlen = 0;
        int r;

        if (!md || dsize == 0 || (p->sym_bits != 128 && p->sym_bits != 256))
                return SHIELD_E_UNSUPPORTED;
        if (cred_len == 0 || cred_len > dsize || name_len > 2 + SHIELD_HASH_MAX_SIZE)
                return SHIELD_E_INVAL;
        if ((r = kdfa(p->name_alg, seed, seed_len, label_storage, name, name_len, NULL, 0, p->sym_bits, symkey)) < 0)
                goto out;
        plain[0] = (uint8_t)(cred_len >> 8);
        plain[1] = (uint8_t)cred_len;
        memcpy(plain + 2, cred, cred_len);
        uint8_t *enc = id + 2 + dsize;
        if ((r = aes_cfb(true, symkey, p->sym_bits, plain, 2 + cred_len, enc)) < 0)
                goto out;
        if ((r = kdfa(p->name_alg, seed, seed_len, label_integrity, NULL, 0, NULL, 0, (unsigned)(8 * dsize), hkey)) < 0)
                goto out;
        memcpy(mac_in, enc, 2 + cred_len);
        memcpy(mac_in + 2 + cred_len, name, name_len);
        if (!HMAC(md, hkey, (int)dsize, mac_in, 2 + cred_len + name_len, id + 2, &mlen) || mlen != dsize) {
                r = SHIELD_E_CRYPTO;
                goto out;
        }
        id[0] = (uint8_t)(dsize >> 8);
        id[1] = (uint8_t)dsize;
        *id_len = 2 + dsize + 2 + cred_len;
        r = 0;
out:
        OPENSSL_cleanse(symkey, sizeof symkey);
        OPENSSL_cleanse(hkey, sizeof hkey);
        OPENSSL_cleanse(plain, sizeof plain);
        return r;
}

/* The field size of a TPM curve, 0 when unknown. */
static size_t ecc_field(uint16_t curve) {
        switch (curve) {
        case 0x0003: return 32;
        case 0x0004: return 48;
        case 0x0005: return 66;
        default: return 0;
        }
}

/* The marshalled TPMS_ECC_POINT of an EC key's public point (x, y of the field size). */
static int ec_point(EVP_PKEY *pkey, size_t fsize, uint8_t *out, size_t *out_len) {
        uint8_t pt[1 + 2 * 66];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len) != 1 ||
            len != 1 + 2 * fsize || pt[0] != 0x04)
                return SHIELD_E_CRYPTO;
        out[0] = (uint8_t)(fsize >> 8);
        out[1] = (uint8_t)fsize;
        memcpy(out + 2, pt + 1, fsize);
        out[2 + fsize] = (uint8_t)(fsize >> 8);
        out[3 + fsize] = (uint8_t)fsize;
        memcpy(out + 4 + fsize, pt + 1 + fsize, fsize);
        *out_len = 4 + 2 * fsize;
        return 0;
}

static int ecdh_z(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t fsize) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
        size_t len = fsize;
        int r = SHIELD_E_CRYPTO;
        if (ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
            EVP_PKEY_derive(ctx, z, &len) > 0 && len == fsize)
                r = 0;
        EVP_PKEY_CTX_free(ctx);
        return r;
}

int tpmc_make_credential(const struct tpmc_pkey *ek, const struct tpmc_cred_params *p, const uint8_t *name,
                         size_t name_len, const uint8_t *cred, size_t cred_len, uint8_t *id, size_t *id_len,
                         uint8_t *secret, size_t *secret_len) {
        size_t dsize = shield_hash_size(p->name_alg);
        uint8_t seed[SHIELD_HASH_MAX_SIZE], z[66];
        const EVP_MD *md = md_of(p->name_alg);
        EVP_PKEY *pkey = tpmc_pkey_get(ek), *eph = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        int r;

        if (!md || dsize == 0)
                return SHIELD_E_UNSUPPORTED;
        if (tpmc_pkey_kind(ek) == TPMC_RSA) {
                /* Annex B.10.3: seed of the nameAlg's size, RSA-OAEP with label "IDENTITY\0". */
                size_t out_len = TPMC_SECRET_MAX;
                unsigned char *label = OPENSSL_malloc(sizeof label_identity);
                r = SHIELD_E_CRYPTO;
                if (!label)
                        goto out;
                memcpy(label, label_identity, sizeof label_identity);
                ctx = EVP_PKEY_CTX_new(pkey, NULL);
                if (RAND_bytes(seed, (int)dsize) != 1 || !ctx || EVP_PKEY_encrypt_init(ctx) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
                    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, sizeof label_identity) <= 0) {
                        OPENSSL_free(label);
                        goto out;
                }
                if (EVP_PKEY_encrypt(ctx, secret, &out_len, seed, dsize) <= 0)
                        goto out;
                *secret_len = out_len;
        } else {
                /* Annex C.6.4: an ephemeral key on the EK's curve, Z = x(ECDH), seed = KDFe(Z, "IDENTITY", xe, xek). */
                size_t fsize = ecc_field(tpmc_pkey_curve(ek)), plen = 0;
                uint8_t ekpt[4 + 2 * 66];
                r = SHIELD_E_UNSUPPORTED;
                if (!fsize)
                        goto out;
                if ((r = ec_point(pkey, fsize, ekpt, &plen)) < 0)
                        goto out;
                r = SHIELD_E_CRYPTO;
                ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
                if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &eph) <= 0)
                        goto out;
                if ((r = ec_point(eph, fsize, secret, &plen)) < 0 || (r = ecdh_z(eph, pkey, z, fsize)) < 0)
                        goto out;
                if ((r = kdfe(p->name_alg, z, fsize, label_identity, secret + 2, fsize, ekpt + 2, fsize, dsize, seed)) < 0)
                        goto out;
                *secret_len = plen;
        }
        r = protect(p, seed, dsize, name, name_len, cred, cred_len, id, id_len);
out:
        OPENSSL_cleanse(seed, sizeof seed);
        OPENSSL_cleanse(z, sizeof z);
        ERR_clear_error();
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(eph);
        return r;
}

int tpmc_recover_credential(const char *ek_priv_pem, size_t pem_len, const struct tpmc_cred_params *p,
                            const uint8_t *name, size_t name_len, const uint8_t *id, size_t id_len,
                            const uint8_t *secret, size_t secret_len, uint8_t *ret_cred, size_t *ret_cred_len,
                            uint8_t *ret_seed, size_t *ret_seed_len) {
        size_t dsize = shield_hash_size(p->name_alg);
        const EVP_MD *md = md_of(p->name_alg);
        uint8_t seed[512], z[66];
        uint8_t symkey[32], plain[2 + SHIELD_HASH_MAX_SIZE];
        size_t seed_len = sizeof seed;
        EVP_PKEY *priv = NULL, *peer = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        BIO *bio = NULL;
        int r = SHIELD_E_CRYPTO;

        if (!md || dsize == 0)
                return SHIELD_E_UNSUPPORTED;
        if (id_len < 2 + dsize + 2 || id_len > 2 + dsize + 2 + dsize || id[0] != (uint8_t)(dsize >> 8) ||
            id[1] != (uint8_t)dsize)
                return SHIELD_E_FORMAT;
        bio = BIO_new_mem_buf(ek_priv_pem, (int)pem_len);
        priv = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        if (!priv) {
                r = SHIELD_E_FORMAT;
                goto out;
        }
        if (EVP_PKEY_is_a(priv, "RSA")) {
                unsigned char *label = OPENSSL_malloc(sizeof label_identity);
                if (!label)
                        goto out;
                memcpy(label, label_identity, sizeof label_identity);
                ctx = EVP_PKEY_CTX_new(priv, NULL);
                if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
                    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, sizeof label_identity) <= 0) {
                        OPENSSL_free(label);
                        goto out;
                }
                if (EVP_PKEY_decrypt(ctx, seed, &seed_len, secret, secret_len) <= 0) {
                        r = SHIELD_E_VERIFY;
                        goto out;
                }
        } else {
                /* The ephemeral point from the secret; Z with the EK's private key. */
                char group[32];
                size_t glen = 0, fsize;
                uint8_t pt[1 + 2 * 66], ekx[1 + 2 * 66];
                size_t eklen = 0;
                if (EVP_PKEY_get_utf8_string_param(priv, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) != 1)
                        goto out;
                fsize = (EVP_PKEY_get_bits(priv) + 7) / 8;
                /* TPMS_ECC_POINT: TPM2B x, TPM2B y; a coordinate may come without its leading zeros. */
                size_t xl = secret_len >= 2 ? (size_t)secret[0] << 8 | secret[1] : SIZE_MAX;
                size_t yl = fsize <= 66 && xl <= fsize && secret_len >= 4 + xl
                                    ? (size_t)secret[2 + xl] << 8 | secret[3 + xl]
                                    : SIZE_MAX;
                if (fsize > 66 || yl > fsize || secret_len != 4 + xl + yl) {
                        r = SHIELD_E_FORMAT;
                        goto out;
                }
                memset(pt, 0, sizeof pt);
                pt[0] = 0x04;
                memcpy(pt + 1 + fsize - xl, secret + 2, xl);
                memcpy(pt + 1 + 2 * fsize - yl, secret + 4 + xl, yl);
                OSSL_PARAM params[] = {
                        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * fsize),
                        OSSL_PARAM_END,
                };
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
                if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
                    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                        r = SHIELD_E_FORMAT;
                        goto out;
                }
                if ((r = ecdh_z(priv, peer, z, fsize)) < 0)
                        goto out;
                r = SHIELD_E_CRYPTO;
                if (EVP_PKEY_get_octet_string_param(priv, OSSL_PKEY_PARAM_PUB_KEY, ekx, sizeof ekx, &eklen) != 1 ||
                    eklen != 1 + 2 * fsize)
                        goto out;
                if ((r = kdfe(p->name_alg, z, fsize, label_identity, secret + 2, xl, ekx + 1, fsize, dsize, seed)) < 0)
                        goto out;
                seed_len = dsize;
        }
        /* Verify before decrypting (Part 1, 24.5): the HMAC binds encIdentity to the name. */
        size_t enc_len = id_len - 2 - dsize;
        const uint8_t *enc = id + 2 + dsize;
        uint8_t hkey[SHIELD_HASH_MAX_SIZE], mac[EVP_MAX_MD_SIZE], mac_in[2 + SHIELD_HASH_MAX_SIZE + 2 + SHIELD_HASH_MAX_SIZE];
        unsigned mlen = 0;
        if (name_len > 2 + SHIELD_HASH_MAX_SIZE) {
                r = SHIELD_E_INVAL;
                goto out;
        }
        if ((r = kdfa(p->name_alg, seed, seed_len, label_integrity, NULL, 0, NULL, 0, (unsigned)(8 * dsize), hkey)) < 0)
                goto out;
        memcpy(mac_in, enc, enc_len);
        memcpy(mac_in + enc_len, name, name_len);
        r = SHIELD_E_CRYPTO;
        if (!HMAC(md, hkey, (int)dsize, mac_in, enc_len + name_len, mac, &mlen) || mlen != dsize)
                goto out;
        OPENSSL_cleanse(hkey, sizeof hkey);
        if (CRYPTO_memcmp(mac, id + 2, dsize) != 0) {
                r = SHIELD_E_VERIFY;
                goto out;
        }
        if ((r = kdfa(p->name_alg, seed, seed_len, label_storage, name, name_len, NULL, 0, p->sym_bits, symkey)) < 0 ||
            (r = aes_cfb(false, symkey, p->sym_bits, enc, enc_len, plain)) < 0)
                goto out;
        size_t n = (size_t)plain[0] << 8 | plain[1];
        if (n != enc_len - 2) {
                r = SHIELD_E_FORMAT;
                goto out;
        }
        memcpy(ret_cred, plain + 2, n);
        *ret_cred_len = n;
        if (ret_seed) {
                memcpy(ret_seed, seed, seed_len);
                *ret_seed_len = seed_len;
        }
        r = 0;
out:
        OPENSSL_cleanse(seed, sizeof seed);
        OPENSSL_cleanse(z, sizeof z);
        OPENSSL_cleanse(symkey, sizeof symkey);
        OPENSSL_cleanse(plain, sizeof plain);
        ERR_clear_error();
        BIO_free(bio);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(priv);
        EVP_PKEY_free(peer);
        return r;
}

int tpmc_credential_from_seed(const struct tpmc_cred_params *p, const uint8_t *seed, size_t seed_len,
                              const uint8_t *name, size_t name_len, const uint8_t *cred, size_t cred_len, uint8_t *id,
                              size_t *id_len) {
        return protect(p, seed, seed_len, name, name_len, cred, cred_len, id, id_len);
}
