/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token signing keys. The store holds them (so every shieldd on one
 * database publishes the same JWKS); this process signs with the newest
 * unexpired key of the configured algorithm and makes a new one when that
 * key is past its lifetime. Old keys stay in the JWKS until the last token
 * they signed has expired (not_after + SHIELDD_TOKEN_SECONDS).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shieldd.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct shield_token_key *current;
static int64_t current_not_after;

static void free_keys(struct shield_signing_key *k, size_t n) {
        for (size_t i = 0; i < n; i++)
                shield_signing_key_clear(&k[i]);
        free(k);
}

/* Under lock: pick the newest usable key from the store, or make and store one. */
static int load_or_make(struct shield_store *s, int64_t now, struct shield_diag *diag) {
        struct shield_signing_key *keys = NULL;
        size_t n = 0;
        int r = shield_store_keys(s, now, &keys, &n, diag);
        if (r < 0)
                return r;
        struct shield_token_key *k = NULL;
        int64_t not_after = 0;
        for (size_t i = 0; i < n && !k; i++) {
                if (strcmp(keys[i].alg, shieldd_cfg.token_alg) != 0 || keys[i].created > now + 300)
                        continue;
                if (shield_token_key_from_pem(keys[i].alg, keys[i].kid, keys[i].private_pem, &k, diag) == 0)
                        not_after = keys[i].not_after;
        }
        free_keys(keys, n);
        if (!k) {
                struct shield_signing_key rec = { 0 };
                if ((r = shield_token_key_generate(shieldd_cfg.token_alg, &k, diag)) < 0)
                        return r;
                if ((r = shield_token_key_pem(k, &rec.private_pem)) < 0) {
                        shield_token_key_free(k);
                        return r;
                }
                snprintf(rec.kid, sizeof rec.kid, "%s", shield_token_key_kid(k));
                snprintf(rec.alg, sizeof rec.alg, "%s", shieldd_cfg.token_alg);
                rec.created = now;
                rec.not_after = not_after = now + shieldd_cfg.key_lifetime;
                r = shield_store_key_add(s, &rec, diag);
                shield_signing_key_clear(&rec);
                if (r < 0) {
                        shield_token_key_free(k);
                        return r;
                }
                char until[SHIELDD_TIME_TEXT];
                shieldd_time_text(not_after, until);
                shieldd_log("new %s signing key %s (signs until %s)", shieldd_cfg.token_alg, shield_token_key_kid(k),
                            until);
        }
        shield_token_key_free(current);
        current = k;
        current_not_after = not_after;
        return 0;
}

int shieldd_keys_init(struct shield_store *s, struct shield_diag *diag) {
        pthread_mutex_lock(&lock);
        int r = load_or_make(s, (int64_t)time(NULL), diag);
        pthread_mutex_unlock(&lock);
        return r;
}

int shieldd_token_sign(struct shield_store *s, const char *claims_json, char **ret, struct shield_diag *diag) {
        int64_t now = (int64_t)time(NULL);
        int r = 0;
        pthread_mutex_lock(&lock);
        if (!current || now >= current_not_after)
                r = load_or_make(s, now, diag);
        if (r == 0)
                r = shield_token_sign(current, claims_json, ret, diag);
        pthread_mutex_unlock(&lock);
        return r;
}

int shieldd_jwks(struct shield_store *s, char **ret, struct shield_diag *diag) {
        struct shield_signing_key *keys = NULL;
        size_t n = 0;
        int64_t now = (int64_t)time(NULL);
        int r = shield_store_keys(s, now - SHIELDD_TOKEN_SECONDS, &keys, &n, diag);
        if (r < 0)
                return r;
        struct shield_token_key **tk = calloc(n ? n : 1, sizeof *tk);
        size_t m = 0;
        if (!tk) {
                free_keys(keys, n);
                return SHIELD_E_NOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (shield_token_key_from_pem(keys[i].alg, keys[i].kid, keys[i].private_pem, &tk[m], NULL) == 0)
                        m++;
        free_keys(keys, n);
        r = shield_token_jwks(tk, m, ret);
        for (size_t i = 0; i < m; i++)
                shield_token_key_free(tk[i]);
        free(tk);
        return r;
}

void shieldd_keys_free(void) {
        pthread_mutex_lock(&lock);
        shield_token_key_free(current);
        current = NULL;
        pthread_mutex_unlock(&lock);
}
