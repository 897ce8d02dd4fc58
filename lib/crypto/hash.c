/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SHA*_Init/Update/Final calls are deprecated in OpenSSL 3 in favour of
 * EVP, but EVP's per-call dispatch costs about as much as hashing the 40-128
 * bytes of a PCR extend (and 3.0's one-shot SHA256() even fetches the
 * algorithm on every call), and a replay is millions of them. They stay the
 * fast path for extends; everything else uses EVP.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "shield/crypto.h"
#include "shield/error.h"

struct alg_desc {
        uint16_t id;
        size_t size;
        const char *name;       /* our name, as event logs and tpm2-tools spell it */
        const char *ossl_name;  /* OpenSSL's fetch name */
        const char *alias;
};

static const struct alg_desc algs[] = {
        { SHIELD_ALG_SHA1, 20, "sha1", "SHA1", "sha-1" },
        { SHIELD_ALG_SHA256, 32, "sha256", "SHA256", "sha-256" },
        { SHIELD_ALG_SHA384, 48, "sha384", "SHA384", "sha-384" },
        { SHIELD_ALG_SHA512, 64, "sha512", "SHA512", "sha-512" },
        { SHIELD_ALG_SM3_256, 32, "sm3_256", "SM3", "sm3" },
};
#define N_ALGS (sizeof algs / sizeof algs[0])

static int alg_slot(uint16_t alg) {
        for (size_t i = 0; i < N_ALGS; i++)
                if (algs[i].id == alg)
                        return (int)i;
        return -1;
}

size_t shield_hash_size(uint16_t alg) {
        int i = alg_slot(alg);
        return i < 0 ? 0 : algs[i].size;
}

const char *shield_hash_name(uint16_t alg) {
        int i = alg_slot(alg);
        return i < 0 ? NULL : algs[i].name;
}

int shield_hash_from_name(const char *name, uint16_t *ret_alg) {
        if (!name || !ret_alg)
                return SHIELD_E_INVAL;
        for (size_t i = 0; i < N_ALGS; i++)
                if (strcasecmp(name, algs[i].name) == 0 || strcasecmp(name, algs[i].alias) == 0) {
                        *ret_alg = algs[i].id;
                        return 0;
                }
        return SHIELD_E_NOT_FOUND;
}

int shield_hash(uint16_t alg, const void *data, size_t len, uint8_t *out) {
        int i = alg_slot(alg);
        if (i < 0 || !out || (!data && len))
                return SHIELD_E_INVAL;
        size_t outlen = 0;
        if (!EVP_Q_digest(NULL, algs[i].ossl_name, NULL, data, len, out, &outlen))
                return SHIELD_E_CRYPTO;
        return 0;
}

struct shield_hasher {
        EVP_MD *md[N_ALGS];
        EVP_MD_CTX *ctx;
};

int shield_hasher_new(struct shield_hasher **ret) {
        if (!ret)
                return SHIELD_E_INVAL;
        struct shield_hasher *h = calloc(1, sizeof *h);
        if (!h)
                return SHIELD_E_NOMEM;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx) {
                free(h);
                return SHIELD_E_CRYPTO;
        }
        /* SM3 may be absent from a FIPS-only provider set; it then stays NULL and is refused. */
        for (size_t i = 0; i < N_ALGS; i++)
                h->md[i] = EVP_MD_fetch(NULL, algs[i].ossl_name, NULL);
        *ret = h;
        return 0;
}

void shield_hasher_free(struct shield_hasher *h) {
        if (!h)
                return;
        for (size_t i = 0; i < N_ALGS; i++)
                EVP_MD_free(h->md[i]);
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

int shield_hasher_digest2(struct shield_hasher *h, uint16_t alg, const void *a, size_t alen,
                          const void *b, size_t blen, uint8_t *out) {
        int i = alg_slot(alg);
        if (!h || i < 0 || !h->md[i] || !out)
                return i < 0 ? SHIELD_E_UNSUPPORTED : SHIELD_E_INVAL;
        unsigned outlen = 0;
        if (!EVP_DigestInit_ex2(h->ctx, h->md[i], NULL) ||
            (alen && !EVP_DigestUpdate(h->ctx, a, alen)) ||
            (blen && !EVP_DigestUpdate(h->ctx, b, blen)) ||
            !EVP_DigestFinal_ex(h->ctx, out, &outlen))
                return SHIELD_E_CRYPTO;
        return 0;
}

int shield_hasher_extend(struct shield_hasher *h, uint16_t alg, uint8_t *pcr, const uint8_t *digest) {
        size_t n = shield_hash_size(alg);
        uint8_t tmp[SHIELD_HASH_MAX_SIZE];

        if (!n)
                return SHIELD_E_UNSUPPORTED;
        /* Stack contexts, no allocation, no provider dispatch: see the note at the top. */
        switch (alg) {
        case SHIELD_ALG_SHA1: {
                SHA_CTX c;
                if (!SHA1_Init(&c) || !SHA1_Update(&c, pcr, n) || !SHA1_Update(&c, digest, n) || !SHA1_Final(pcr, &c))
                        return SHIELD_E_CRYPTO;
                return 0;
        }
        case SHIELD_ALG_SHA256: {
                SHA256_CTX c;
                if (!SHA256_Init(&c) || !SHA256_Update(&c, pcr, n) || !SHA256_Update(&c, digest, n) ||
                    !SHA256_Final(pcr, &c))
                        return SHIELD_E_CRYPTO;
                return 0;
        }
        case SHIELD_ALG_SHA384:
        case SHIELD_ALG_SHA512: {
                SHA512_CTX c;
                bool is384 = alg == SHIELD_ALG_SHA384;
                if (!(is384 ? SHA384_Init(&c) : SHA512_Init(&c)) || !SHA512_Update(&c, pcr, n) ||
                    !SHA512_Update(&c, digest, n) || !(is384 ? SHA384_Final(pcr, &c) : SHA512_Final(pcr, &c)))
                        return SHIELD_E_CRYPTO;
                return 0;
        }
        }
        int r = shield_hasher_digest2(h, alg, pcr, n, digest, n, tmp);
        if (r < 0)
                return r;
        memcpy(pcr, tmp, n);
        return 0;
}

struct shield_digest {
        EVP_MD_CTX *ctx;
};

int shield_digest_begin(uint16_t alg, struct shield_digest **ret) {
        int i = alg_slot(alg);
        if (i < 0 || !ret)
                return SHIELD_E_INVAL;
        struct shield_digest *d = calloc(1, sizeof *d);
        if (!d)
                return SHIELD_E_NOMEM;
        d->ctx = EVP_MD_CTX_new();
        EVP_MD *md = EVP_MD_fetch(NULL, algs[i].ossl_name, NULL);
        int ok = d->ctx && md && EVP_DigestInit_ex2(d->ctx, md, NULL);
        EVP_MD_free(md);
        if (!ok) {
                shield_digest_abort(d);
                return SHIELD_E_CRYPTO;
        }
        *ret = d;
        return 0;
}

int shield_digest_update(struct shield_digest *d, const void *data, size_t len) {
        return len && !EVP_DigestUpdate(d->ctx, data, len) ? SHIELD_E_CRYPTO : 0;
}

int shield_digest_finish(struct shield_digest *d, uint8_t *out) {
        unsigned n = 0;
        int ok = EVP_DigestFinal_ex(d->ctx, out, &n);
        shield_digest_abort(d);
        return ok ? 0 : SHIELD_E_CRYPTO;
}

void shield_digest_abort(struct shield_digest *d) {
        if (!d)
                return;
        EVP_MD_CTX_free(d->ctx);
        free(d);
}
