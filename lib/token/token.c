/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWTs (RFC 7519) in JWS compact serialization (RFC 7515 7.1) with
 * ES256/RS256 (RFC 7518 3.3, 3.4), and JWKS documents (RFC 7517 5). The
 * signature arithmetic is in lib/crypto/jws.c; this file owns the
 * encodings and the acceptance rules.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/jws.h"
#include "shield/token.h"
#include "shield/util.h"

/* Caps on untrusted input: a token, a JWKS document and the keys in it. */
#define TOKEN_MAX_LEN (64 * 1024)
#define TOKEN_JWKS_MAX_LEN (1024 * 1024)
#define TOKEN_JWKS_KEYS_MAX 64
#define TOKEN_KID_MAX_LEN 128
/* exp and nbf are checked with this much leeway for clock skew (RFC 7519 4.1.4 allows "some small leeway"). */
#define TOKEN_LEEWAY_SECONDS 60

struct shield_token_key {
        struct jws_key *key;
        enum jws_alg alg;
        char kid[TOKEN_KID_MAX_LEN + 1];
};

static int alg_from_name(const char *name, enum jws_alg *ret) {
        if (name && strcmp(name, "ES256") == 0)
                *ret = JWS_ES256;
        else if (name && strcmp(name, "RS256") == 0)
                *ret = JWS_RS256;
        else
                return SHIELD_E_UNSUPPORTED;
        return 0;
}

static const char *alg_name(enum jws_alg alg) {
        return alg == JWS_ES256 ? "ES256" : "RS256";
}

/* A kid we are willing to put into a header and compare: 1..128 printable ASCII characters. */
static bool kid_valid(const char *kid) {
        size_t len = strnlen(kid, TOKEN_KID_MAX_LEN + 1);
        if (len == 0 || len > TOKEN_KID_MAX_LEN)
                return false;
        for (size_t i = 0; i < len; i++)
                if (kid[i] < 0x21 || kid[i] > 0x7e)
                        return false;
        return true;
}

static int key_new(struct jws_key *jk, enum jws_alg alg, const char *kid, struct shield_token_key **ret) {
        struct shield_token_key *k = calloc(1, sizeof *k);
        if (!k)
                return SHIELD_E_NOMEM;
        if (kid) {
                memcpy(k->kid, kid, strlen(kid) + 1);
        } else {
                uint8_t id[JWS_KID_BYTES];
                int r = jws_key_id(jk, id);
                char *s = r < 0 ? NULL : shield_base64url_encode(id, sizeof id);
                if (!s) {
                        free(k);
                        return r < 0 ? r : SHIELD_E_NOMEM;
                }
                memcpy(k->kid, s, strlen(s) + 1); /* 16 characters */
                free(s);
        }
        k->key = jk;
        k->alg = alg;
        *ret = k;
        return 0;
}

int shield_token_key_generate(const char *alg, struct shield_token_key **ret, struct shield_diag *diag) {
        struct jws_key *jk = NULL;
        enum jws_alg a;
        int r;

        if (!ret)
                return SHIELD_E_INVAL;
        if (alg_from_name(alg, &a) < 0)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1, "algorithm %s: expected ES256 or RS256",
                                        alg ? alg : "(none)");
        if ((r = jws_key_generate(a, &jk)) < 0)
                return shield_diag_fail(diag, r, 0, -1, "%s key generation failed", alg);
        r = key_new(jk, a, NULL, ret);
        if (r < 0) {
                jws_key_free(jk);
                return shield_diag_fail(diag, r, 0, -1, "%s key id: %s", alg, shield_strerror(r));
        }
        return 0;
}

int shield_token_key_from_pem(const char *alg, const char *kid, const char *pem, struct shield_token_key **ret,
                              struct shield_diag *diag) {
        struct jws_key *jk = NULL;
        enum jws_alg a;
        int r;

        if (!pem || !ret)
                return SHIELD_E_INVAL;
        if (alg_from_name(alg, &a) < 0)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, 0, -1, "algorithm %s: expected ES256 or RS256",
                                        alg ? alg : "(none)");
        if (kid && !kid_valid(kid))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "kid: expected 1 to %d printable ASCII characters",
                                        TOKEN_KID_MAX_LEN);
        r = jws_key_from_pem(a, pem, strlen(pem), &jk);
        if (r == SHIELD_E_FORMAT)
                return shield_diag_fail(diag, r, 0, -1, "not an unencrypted PKCS#8 PEM private key for %s (%s)", alg,
                                        a == JWS_ES256 ? "EC P-256" : "RSA, 2048 to 4096 bits");
        if (r < 0)
                return shield_diag_fail(diag, r, 0, -1, "%s private key: %s", alg, shield_strerror(r));
        /* A stored key keeps the kid it was published under; without one it gets the derived kid. */
        r = key_new(jk, a, kid, ret);
        if (r < 0) {
                jws_key_free(jk);
                return shield_diag_fail(diag, r, 0, -1, "%s key: %s", alg, shield_strerror(r));
        }
        return 0;
}

int shield_token_key_pem(const struct shield_token_key *k, char **ret) {
        size_t len;
        if (!k || !ret)
                return SHIELD_E_INVAL;
        return jws_key_pem(k->key, ret, &len);
}

const char *shield_token_key_kid(const struct shield_token_key *k) {
        return k ? k->kid : NULL;
}

const char *shield_token_key_alg(const struct shield_token_key *k) {
        return k ? alg_name(k->alg) : NULL;
}

void shield_token_key_free(struct shield_token_key *k) {
        if (!k)
                return;
        jws_key_free(k->key);
        free(k);
}

/* b64url(json compact) of j, or NULL. */
static char *json_b64url(const json_t *j) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
                return NULL;
        char *e = shield_base64url_encode((const uint8_t *)s, strlen(s));
        free(s);
        return e;
}

int shield_token_sign(const struct shield_token_key *k, const char *claims_json, char **ret, struct shield_diag *diag) {
        json_t *claims = NULL, *header = NULL;
        json_error_t jerr;
        char *h64 = NULL, *p64 = NULL, *s64 = NULL, *out = NULL;
        uint8_t sig[JWS_SIG_MAX];
        size_t sig_len = 0;
        int r;

        if (!k || !claims_json || !ret)
                return SHIELD_E_INVAL;
        claims = json_loads(claims_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!claims || !json_is_object(claims)) {
                r = claims ? shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "claims: expected a JSON object")
                           : shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)jerr.position, -1, "claims: %s", jerr.text);
                goto out;
        }
        header = json_pack("{s:s, s:s, s:s}", "alg", alg_name(k->alg), "typ", "JWT", "kid", k->kid);
        r = SHIELD_E_NOMEM;
        if (!header || !(h64 = json_b64url(header)) || !(p64 = json_b64url(claims)))
                goto out;
        size_t hlen = strlen(h64), plen = strlen(p64);
        /* header "." payload "." signature: at most 4/3 of JWS_SIG_MAX for the last part. */
        out = malloc(hlen + 1 + plen + 1 + (JWS_SIG_MAX + 2) / 3 * 4 + 1);
        if (!out)
                goto out;
        memcpy(out, h64, hlen);
        out[hlen] = '.';
        memcpy(out + hlen + 1, p64, plen);
        if ((r = jws_sign(k->key, (const uint8_t *)out, hlen + 1 + plen, sig, &sig_len)) < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "%s signature failed", alg_name(k->alg));
                goto out;
        }
        if (!(s64 = shield_base64url_encode(sig, sig_len))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        out[hlen + 1 + plen] = '.';
        memcpy(out + hlen + 1 + plen + 1, s64, strlen(s64) + 1);
        *ret = out;
        out = NULL; /* transferred */
        r = 0;
out:
        free(out);
        free(h64);
        free(p64);
        free(s64);
        json_decref(claims);
        json_decref(header);
        return r;
}

/* Add b64url(buf) as key name of o; false on allocation failure. */
static bool set_b64url(json_t *o, const char *name, const uint8_t *buf, size_t len) {
        char *s = shield_base64url_encode(buf, len);
        bool ok = s && json_object_set_new(o, name, json_string(s)) == 0;
        free(s);
        return ok;
}

int shield_token_jwks(struct shield_token_key *const *keys, size_t n, char **ret) {
        json_t *doc = NULL, *arr = NULL;
        int r = SHIELD_E_NOMEM;

        if ((!keys && n) || !ret)
                return SHIELD_E_INVAL;
        doc = json_object();
        arr = json_array();
        if (!doc || !arr || json_object_set(doc, "keys", arr) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                struct jws_public pub;
                json_t *jwk;
                if (!keys[i]) {
                        r = SHIELD_E_INVAL;
                        goto out;
                }
                if ((r = jws_key_public(keys[i]->key, &pub)) < 0)
                        goto out;
                r = SHIELD_E_NOMEM;
                /* RFC 7517 4, RFC 7518 6.2.1 and 6.3.1. */
                if (keys[i]->alg == JWS_ES256)
                        jwk = json_pack("{s:s, s:s}", "kty", "EC", "crv", "P-256");
                else
                        jwk = json_pack("{s:s}", "kty", "RSA");
                if (!jwk || json_array_append_new(arr, jwk) < 0)
                        goto out;
                if (keys[i]->alg == JWS_ES256 ? !set_b64url(jwk, "x", pub.x, sizeof pub.x) ||
                                                        !set_b64url(jwk, "y", pub.y, sizeof pub.y)
                                              : !set_b64url(jwk, "n", pub.n, pub.n_len) ||
                                                        !set_b64url(jwk, "e", pub.e, pub.e_len))
                        goto out;
                if (json_object_set_new(jwk, "kid", json_string(keys[i]->kid)) < 0 ||
                    json_object_set_new(jwk, "alg", json_string(alg_name(keys[i]->alg))) < 0 ||
                    json_object_set_new(jwk, "use", json_string("sig")) < 0)
                        goto out;
        }
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!s)
                goto out;
        *ret = s;
        r = 0;
out:
        json_decref(arr);
        json_decref(doc);
        return r;
}

/* One of the three parts of a compact JWS, located in the token and decoded. */
struct segment {
        const char *name;
        size_t off, len;        /* where it is in the token */
        uint8_t *data;          /* decoded */
        size_t data_len;
};

static int segment_decode(const char *jwt, struct segment *s, struct shield_diag *diag) {
        size_t bad = 0;
        if (s->len == 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, s->off, -1, "%s segment is empty", s->name);
        int r = shield_base64url_decode(jwt + s->off, s->len, &s->data, &s->data_len, &bad);
        if (r == SHIELD_E_FORMAT) {
                if (bad == s->len)
                        return shield_diag_fail(diag, r, s->off, -1,
                                                "%s segment: %zu characters is not a base64url length", s->name, s->len);
                char c = jwt[s->off + bad];
                if (bad == s->len - 1 && shield_base64url_value(c) >= 0)
                        return shield_diag_fail(diag, r, s->off + bad, -1,
                                                "%s segment: last base64url character '%c' has unused bits set", s->name, c);
                if (c == '=')
                        return shield_diag_fail(diag, r, s->off + bad, -1,
                                                "%s segment: padding '=' is not allowed in base64url (RFC 7515 2)", s->name);
                return shield_diag_fail(diag, r, s->off + bad, -1, "%s segment: byte 0x%02x is not base64url", s->name,
                                        (unsigned char)c);
        }
        return r;
}

/* A JSON object from a decoded segment, duplicate member names refused (RFC 7515 5.2 step 4). */
static int segment_json(const struct segment *s, json_t **ret, struct shield_diag *diag) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)s->data, s->data_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, s->off, -1, "%s segment: not JSON: %s (at byte %d of %zu)",
                                        s->name, jerr.text, jerr.position, s->data_len);
        if (!json_is_object(j)) {
                json_decref(j);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, s->off, -1, "%s segment: expected a JSON object", s->name);
        }
        *ret = j;
        return 0;
}

/* A member of a JWK as decoded base64url bytes. */
static int jwk_bytes(json_t *jwk, const char *name, const char *kid, uint8_t **ret, size_t *ret_len,
                     struct shield_diag *diag) {
        json_t *v = json_object_get(jwk, name);
        size_t bad;
        if (!json_is_string(v))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "JWKS: key %s: \"%s\" is missing or not a string",
                                        kid, name);
        int r = shield_base64url_decode(json_string_value(v), json_string_length(v), ret, ret_len, &bad);
        if (r == SHIELD_E_FORMAT)
                return shield_diag_fail(diag, r, 0, -1, "JWKS: key %s: \"%s\" is not base64url (character %zu)", kid,
                                        name, bad);
        return r;
}

static int jwk_key(json_t *jwk, const char *kid, enum jws_alg alg, struct jws_key **ret, struct shield_diag *diag) {
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        const char *jalg = json_string_value(json_object_get(jwk, "alg"));
        const char *use = json_string_value(json_object_get(jwk, "use"));
        uint8_t *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        int r;

        /* A JWK that names its algorithm or use binds the key to them (RFC 7517 4.2, 4.4). */
        if (jalg && strcmp(jalg, alg_name(alg)) != 0)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1, "key %s is for %s, the token says %s", kid, jalg,
                                        alg_name(alg));
        if (use && strcmp(use, "sig") != 0)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1, "key %s has use \"%s\", not \"sig\"", kid, use);
        if (alg == JWS_ES256) {
                const char *crv = json_string_value(json_object_get(jwk, "crv"));
                if (!kty || strcmp(kty, "EC") != 0 || !crv || strcmp(crv, "P-256") != 0)
                        return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                                "key %s is not an EC P-256 key (kty %s, crv %s), as ES256 needs", kid,
                                                kty ? kty : "missing", crv ? crv : "missing");
                if ((r = jwk_bytes(jwk, "x", kid, &a, &alen, diag)) < 0 || (r = jwk_bytes(jwk, "y", kid, &b, &blen, diag)) < 0)
                        goto out;
                r = jws_key_from_ec(a, alen, b, blen, ret);
        } else {
                if (!kty || strcmp(kty, "RSA") != 0)
                        return shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1,
                                                "key %s is not an RSA key (kty %s), as RS256 needs", kid,
                                                kty ? kty : "missing");
                if ((r = jwk_bytes(jwk, "n", kid, &a, &alen, diag)) < 0 || (r = jwk_bytes(jwk, "e", kid, &b, &blen, diag)) < 0)
                        goto out;
                r = jws_key_from_rsa(a, alen, b, blen, ret);
        }
        if (r == SHIELD_E_FORMAT)
                r = shield_diag_fail(diag, r, 0, -1, "JWKS: key %s is not a valid %s public key", kid, alg_name(alg));
        else if (r == SHIELD_E_UNSUPPORTED)
                r = shield_diag_fail(diag, r, 0, -1, "JWKS: key %s: RSA modulus outside 2048..4096 bits", kid);
        else if (r < 0)
                r = shield_diag_fail(diag, r, 0, -1, "JWKS: key %s: %s", kid, shield_strerror(r));
out:
        free(a);
        free(b);
        return r;
}

/* The key kid names in the JWKS document. */
static int jwks_find(const char *jwks_json, const char *kid, enum jws_alg alg, struct jws_key **ret,
                     struct shield_diag *diag) {
        json_error_t jerr;
        json_t *doc, *keys, *found = NULL;
        size_t len = strnlen(jwks_json, TOKEN_JWKS_MAX_LEN + 1);
        int r;

        if (len > TOKEN_JWKS_MAX_LEN)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "JWKS: over the %d-byte limit", TOKEN_JWKS_MAX_LEN);
        doc = json_loadb(jwks_json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)jerr.position, -1, "JWKS: not JSON: %s", jerr.text);
        keys = json_object_get(doc, "keys");
        if (!json_is_array(keys)) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "JWKS: expected an object with a \"keys\" array");
                goto out;
        }
        if (json_array_size(keys) > TOKEN_JWKS_KEYS_MAX) {
                r = shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "JWKS: %zu keys, over the limit of %d",
                                     json_array_size(keys), TOKEN_JWKS_KEYS_MAX);
                goto out;
        }
        for (size_t i = 0; i < json_array_size(keys); i++) {
                json_t *jwk = json_array_get(keys, i);
                const char *k = json_string_value(json_object_get(jwk, "kid"));
                if (!json_is_object(jwk)) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, (long)i, "JWKS: key %zu is not an object", i);
                        goto out;
                }
                if (!k || strcmp(k, kid) != 0)
                        continue;
                /* Two keys under one kid: which one signed is ambiguous, so neither is used. */
                if (found) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, (long)i, "JWKS: kid %s appears more than once", kid);
                        goto out;
                }
                found = jwk;
        }
        if (!found) {
                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1, "unknown kid %s: not in the JWKS", kid);
                goto out;
        }
        r = jwk_key(found, kid, alg, ret, diag);
out:
        json_decref(doc);
        return r;
}

/* A NumericDate (RFC 7519 2) as whole seconds, clamped to int64_t. */
static int numeric_date(json_t *claims, const char *name, bool *ret_present, int64_t *ret, struct shield_diag *diag,
                        size_t off) {
        json_t *v = json_object_get(claims, name);
        *ret_present = v != NULL;
        if (!v)
                return 0;
        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (json_is_real(v)) {
                double d = json_real_value(v);
                /* 2^63 is exactly representable; anything at or above it saturates. */
                if (d >= 9223372036854775808.0)
                        *ret = INT64_MAX;
                else if (d <= -9223372036854775808.0)
                        *ret = INT64_MIN;
                else /* rounded down, so a fraction of a second past exp still counts as past */
                        *ret = (int64_t)d - ((double)(int64_t)d > d);
                return 0;
        }
        return shield_diag_fail(diag, SHIELD_E_FORMAT, off, -1, "payload segment: \"%s\" is not a number of seconds",
                                name);
}

static int check_times(json_t *claims, int64_t now, size_t off, struct shield_diag *diag) {
        bool has_exp, has_nbf;
        int64_t exp = 0, nbf = 0;
        int r;

        if ((r = numeric_date(claims, "exp", &has_exp, &exp, diag, off)) < 0 ||
            (r = numeric_date(claims, "nbf", &has_nbf, &nbf, diag, off)) < 0)
                return r;
        /* A token that never expires is not an attestation result anyone should accept. */
        if (!has_exp)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, off, -1, "the token has no \"exp\" claim");
        /* Written so neither side can overflow: now - leeway > exp, and nbf > now + leeway. */
        if (now >= INT64_MIN + TOKEN_LEEWAY_SECONDS && exp < now - TOKEN_LEEWAY_SECONDS)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, off, -1,
                                        "expired: exp %lld is %lld s before now (%lld), over the %d s leeway",
                                        (long long)exp, (long long)((uint64_t)now - (uint64_t)exp), (long long)now,
                                        TOKEN_LEEWAY_SECONDS);
        if (has_nbf && now <= INT64_MAX - TOKEN_LEEWAY_SECONDS && nbf > now + TOKEN_LEEWAY_SECONDS)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, off, -1,
                                        "not yet valid: nbf %lld is %lld s after now (%lld), over the %d s leeway",
                                        (long long)nbf, (long long)((uint64_t)nbf - (uint64_t)now), (long long)now,
                                        TOKEN_LEEWAY_SECONDS);
        return 0;
}

/* The header's rules (RFC 7515 4.1, RFC 8725 3.1): our two algorithms, typ JWT, no crit, a kid. */
static int check_header(json_t *h, const struct segment *s, enum jws_alg *ret_alg, const char **ret_kid,
                        struct shield_diag *diag) {
        json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ"), *kid = json_object_get(h, "kid");
        const char *a;

        if (!json_is_string(alg))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, s->off, -1, "header segment: \"alg\" is missing or not a string");
        a = json_string_value(alg);
        if (strcasecmp(a, "none") == 0)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, s->off, -1, "alg \"none\" (an unsigned token) is refused");
        if (strncmp(a, "HS", 2) == 0)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, s->off, -1,
                                        "alg \"%.16s\" (a shared-secret MAC) is refused: only ES256 and RS256", a);
        if (alg_from_name(a, ret_alg) < 0)
                return shield_diag_fail(diag, SHIELD_E_VERIFY, s->off, -1,
                                        "alg \"%.32s\" is refused: only ES256 and RS256", a);
        if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
                return shield_diag_fail(diag, SHIELD_E_VERIFY, s->off, -1, "header segment: typ is not \"JWT\"");
        if (json_object_get(h, "crit"))
                return shield_diag_fail(diag, SHIELD_E_VERIFY, s->off, -1,
                                        "header segment: \"crit\" names extensions we do not understand (RFC 7515 4.1.11)");
        if (!json_is_string(kid) || !kid_valid(json_string_value(kid)))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, s->off, -1,
                                        "header segment: \"kid\" is missing or not 1 to %d printable characters",
                                        TOKEN_KID_MAX_LEN);
        *ret_kid = json_string_value(kid);
        return 0;
}

int shield_token_verify(const char *jwt, const char *jwks_json, int64_t now, char **ret_claims,
                        struct shield_diag *diag) {
        struct segment seg[3] = { { .name = "header" }, { .name = "payload" }, { .name = "signature" } };
        json_t *header = NULL, *claims = NULL;
        struct jws_key *key = NULL;
        enum jws_alg alg = JWS_ES256;
        const char *kid = NULL;
        size_t len, dots = 0;
        int r;

        if (!jwt || !jwks_json)
                return SHIELD_E_INVAL;
        len = strnlen(jwt, TOKEN_MAX_LEN + 1);
        if (len > TOKEN_MAX_LEN)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "token over the %d-byte limit", TOKEN_MAX_LEN);
        for (size_t i = 0; i < len; i++)
                if (jwt[i] == '.') {
                        if (dots < 2)
                                seg[dots + 1].off = i + 1;
                        dots++;
                }
        if (dots != 2)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "expected 3 base64url segments separated by '.', found %zu", dots + 1);
        seg[0].len = seg[1].off - 1;
        seg[1].len = seg[2].off - 1 - seg[1].off;
        seg[2].len = len - seg[2].off;
        /* The header first, so an unsigned ("alg": "none", empty signature) token is named as such. */
        if ((r = segment_decode(jwt, &seg[0], diag)) < 0 || (r = segment_json(&seg[0], &header, diag)) < 0 ||
            (r = check_header(header, &seg[0], &alg, &kid, diag)) < 0)
                goto out;
        for (size_t i = 1; i < 3; i++)
                if ((r = segment_decode(jwt, &seg[i], diag)) < 0)
                        goto out;
        if ((r = jwks_find(jwks_json, kid, alg, &key, diag)) < 0)
                goto out;
        /* RFC 7515 5.2 step 8: the signing input is the encoded header and payload as they appear. */
        r = jws_verify(key, (const uint8_t *)jwt, seg[2].off - 1, seg[2].data, seg[2].data_len);
        if (r == SHIELD_E_VERIFY) {
                r = shield_diag_fail(diag, r, seg[2].off, -1, "the %s signature does not verify with key %s", alg_name(alg),
                                     kid);
                goto out;
        }
        if (r < 0) {
                r = shield_diag_fail(diag, r, seg[2].off, -1, "signature check: %s", shield_strerror(r));
                goto out;
        }
        /* Only now, with the signature good, is the payload worth reading. */
        if ((r = segment_json(&seg[1], &claims, diag)) < 0 || (r = check_times(claims, now, seg[1].off, diag)) < 0)
                goto out;
        if (ret_claims) {
                char *s = malloc(seg[1].data_len + 1);
                if (!s) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                memcpy(s, seg[1].data, seg[1].data_len);
                s[seg[1].data_len] = '\0';
                *ret_claims = s;
        }
        r = 0;
out:
        for (size_t i = 0; i < 3; i++)
                free(seg[i].data);
        jws_key_free(key);
        json_decref(header);
        json_decref(claims);
        return r;
}
