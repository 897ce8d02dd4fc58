/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation tokens (lib/token over lib/crypto/jws.c): sign and verify
 * with ES256 and RS256, key storage as PKCS#8 PEM, JWKS with rotation, and
 * every refusal: alg none/HS256/alg confusion, tampered payload, signature
 * and header, exp/nbf at the edges of the 60 s leeway, unknown kid and
 * malformed segments. The independent oracle is Debian's PyJWT, both ways:
 * it verifies our tokens against our JWKS, and we verify tokens it signed
 * (tests/cli/cli-token.sh does the latter through `shield token verify`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "shield/token.h"
#include "shield/util.h"

#define NOW 1700000000LL

static struct shield_token_key *es, *rs;
static char dir[] = "/tmp/test-token.XXXXXX";
/* The oracle is Debian's PyJWT (python3-jwt): /usr/bin/python3, not whatever python3 is first on PATH. */
static const char python[] = "/usr/bin/python3";
static bool have_pyjwt;

static const char *path(const char *name) {
        static char buf[4][256];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, sizeof buf[0], "%s/%s", dir, name);
        return p;
}

static int setup(void **state) {
        (void)state;
        if (shield_token_key_generate("ES256", &es, NULL) < 0 || shield_token_key_generate("RS256", &rs, NULL) < 0)
                return -1;
        if (!mkdtemp(dir))
                return -1;
        const char *const probe[] = { python, "-c", "import jwt, cryptography", NULL };
        have_pyjwt = shield_run(probe, NULL, NULL) == 0;
        if (!have_pyjwt)
                fprintf(stderr, "test-token: %s cannot import jwt (Debian python3-jwt): PyJWT oracle skipped\n", python);
        return 0;
}

static int teardown(void **state) {
        (void)state;
        const char *const rm[] = { "rm", "-rf", dir, NULL };
        (void)!shield_run(rm, NULL, NULL);
        shield_token_key_free(es);
        shield_token_key_free(rs);
        return 0;
}

/* base64url without padding, written independently of lib/token (RFC 4648 5). */
static char *b64url(const char *in, size_t len) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char *out = malloc(len * 4 / 3 + 4), *o = out;
        uint32_t acc = 0;
        unsigned bits = 0;
        assert_non_null(out);
        for (size_t i = 0; i < len; i++) {
                acc = acc << 8 | (uint8_t)in[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        *o++ = a[(acc >> bits) & 63];
                }
        }
        if (bits)
                *o++ = a[(acc << (6 - bits)) & 63];
        *o = '\0';
        return out;
}

static char *claims_at(long long exp, long long nbf) {
        char *s = malloc(256);
        assert_non_null(s);
        snprintf(s, 256,
                 "{\"iss\": \"https://shieldd.test\", \"sub\": \"web-1\", \"aud\": \"shieldkit\", \"iat\": %lld, "
                 "\"nbf\": %lld, \"exp\": %lld, \"secboot\": true}",
                 nbf, nbf, exp);
        return s;
}

static char *sign_ok(const struct shield_token_key *k, const char *claims) {
        char *jwt = NULL;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_token_sign(k, claims, &jwt, &d), 0);
        assert_non_null(jwt);
        return jwt;
}

static char *jwks_of(struct shield_token_key *a, struct shield_token_key *b) {
        struct shield_token_key *keys[2] = { a, b };
        char *j = NULL;
        assert_int_equal(shield_token_jwks(keys, b ? 2 : 1, &j), 0);
        return j;
}

/* Verify and expect code; diag's message must then contain want (when given). */
static void expect_verify(const char *jwt, const char *jwks, int64_t now, int code, const char *want) {
        struct shield_diag d = { .msg = "" };
        char *claims = (char *)0xaa;
        int r = shield_token_verify(jwt, jwks, now, &claims, &d);
        if (r != code)
                fail_msg("expected %d, got %d (%s) for %.80s", code, r, d.msg, jwt);
        if (code == 0) {
                free(claims);
                return;
        }
        assert_ptr_equal(claims, (char *)0xaa); /* untouched on failure */
        if (want && !strstr(d.msg, want))
                fail_msg("diag \"%s\" lacks \"%s\"", d.msg, want);
}

/* The decoded header of jwt, parsed. */
static json_t *header_of(const char *jwt) {
        const char *dot = strchr(jwt, '.');
        char *std = strndup(jwt, (size_t)(dot - jwt));
        /* base64url -> JSON by hand: map the alphabet back and decode with a tiny loop. */
        size_t n = strlen(std), o = 0;
        char *out = calloc(1, n + 1);
        uint32_t acc = 0;
        unsigned bits = 0;
        for (size_t i = 0; i < n; i++) {
                char c = std[i];
                int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
                        : c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : 63;
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)(acc >> bits);
                }
        }
        json_t *h = json_loads(out, 0, NULL);
        free(std);
        free(out);
        assert_non_null(h);
        return h;
}

/* jwt with its header replaced by the JSON text h (signature kept). */
static char *with_header(const char *jwt, const char *h) {
        char *e = b64url(h, strlen(h)), *out = malloc(strlen(e) + strlen(jwt) + 1);
        memcpy(out, e, strlen(e));
        memcpy(out + strlen(e), strchr(jwt, '.'), strlen(strchr(jwt, '.')) + 1);
        free(e);
        return out;
}

static void round_trip(struct shield_token_key *k, const char *alg, size_t sig_chars) {
        char *claims = claims_at(NOW + 3600, NOW), *jwt = sign_ok(k, claims), *jwks = jwks_of(k, NULL), *got = NULL;
        struct shield_diag d = { 0 };

        assert_string_equal(shield_token_key_alg(k), alg);
        /* kid = base64url(SHA-256(SPKI)[0..12)): 16 characters. */
        assert_int_equal(strlen(shield_token_key_kid(k)), 16);
        assert_int_equal(shield_token_verify(jwt, jwks, NOW, &got, &d), 0);
        json_t *a = json_loads(claims, 0, NULL), *b = json_loads(got, 0, NULL);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        free(got);
        assert_int_equal(shield_token_verify(jwt, jwks, NOW, NULL, &d), 0);

        /* The header is exactly {alg, typ: JWT, kid}. */
        json_t *h = header_of(jwt);
        assert_int_equal(json_object_size(h), 3);
        assert_string_equal(json_string_value(json_object_get(h, "alg")), alg);
        assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
        assert_string_equal(json_string_value(json_object_get(h, "kid")), shield_token_key_kid(k));
        json_decref(h);
        /* ES256: R || S = 64 bytes = 86 characters; RS256-2048: 256 bytes = 342. No padding anywhere. */
        assert_int_equal(strlen(strrchr(jwt, '.') + 1), sig_chars);
        assert_null(strchr(jwt, '='));

        /* The JWK names the key, its alg and use. */
        json_t *doc = json_loads(jwks, 0, NULL), *jwk = json_array_get(json_object_get(doc, "keys"), 0);
        assert_string_equal(json_string_value(json_object_get(jwk, "kid")), shield_token_key_kid(k));
        assert_string_equal(json_string_value(json_object_get(jwk, "alg")), alg);
        assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
        if (strcmp(alg, "ES256") == 0) {
                assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
                assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
                assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
                assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
        } else {
                assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "RSA");
                assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
                assert_int_equal(strlen(json_string_value(json_object_get(jwk, "n"))), 342);
        }
        json_decref(doc);
        free(claims);
        free(jwt);
        free(jwks);
}

static void test_es256(void **state) {
        (void)state;
        round_trip(es, "ES256", 86);
}

static void test_rs256(void **state) {
        (void)state;
        round_trip(rs, "RS256", 342);
}

static void test_pem(void **state) {
        struct shield_token_key *k2 = NULL, *k3 = NULL;
        struct shield_diag d = { 0 };
        char *pem = NULL, *rpem = NULL, *claims = claims_at(NOW + 60, NOW), *jwks = jwks_of(es, NULL), *jwt;
        (void)state;

        assert_int_equal(shield_token_key_pem(es, &pem), 0);
        assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
        /* Reloaded without a kid: the kid is derived again and is the same. */
        assert_int_equal(shield_token_key_from_pem("ES256", NULL, pem, &k2, &d), 0);
        assert_string_equal(shield_token_key_kid(k2), shield_token_key_kid(es));
        jwt = sign_ok(k2, claims);
        expect_verify(jwt, jwks, NOW, 0, NULL);
        free(jwt);
        /* With a stored kid, that kid is kept. */
        assert_int_equal(shield_token_key_from_pem("ES256", "stored-1", pem, &k3, &d), 0);
        assert_string_equal(shield_token_key_kid(k3), "stored-1");
        shield_token_key_free(k3);
        k3 = (struct shield_token_key *)0xaa;
        assert_int_equal(shield_token_key_from_pem("ES256", "bad kid", pem, &k3, &d), SHIELD_E_INVAL);
        assert_int_equal(shield_token_key_from_pem("ES256", "", pem, &k3, &d), SHIELD_E_INVAL);
        /* Not a key of that alg, not a key, not PKCS#8, an unknown alg. */
        assert_int_equal(shield_token_key_from_pem("RS256", NULL, pem, &k3, &d), SHIELD_E_FORMAT);
        assert_non_null(strstr(d.msg, "PKCS#8"));
        assert_int_equal(shield_token_key_pem(rs, &rpem), 0);
        assert_int_equal(shield_token_key_from_pem("ES256", NULL, rpem, &k3, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_token_key_from_pem("ES256", NULL, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                                                   &k3, &d),
                         SHIELD_E_FORMAT);
        assert_int_equal(shield_token_key_from_pem("ES256", NULL, "", &k3, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_token_key_from_pem("HS256", NULL, pem, &k3, &d), SHIELD_E_UNSUPPORTED);
        assert_int_equal(shield_token_key_generate("HS256", &k3, &d), SHIELD_E_UNSUPPORTED);
        assert_int_equal(shield_token_key_generate("none", &k3, &d), SHIELD_E_UNSUPPORTED);
        assert_ptr_equal(k3, (struct shield_token_key *)0xaa);
        /* The RSA key survives the round trip too. */
        assert_int_equal(shield_token_key_from_pem("RS256", NULL, rpem, &k3, &d), 0);
        assert_string_equal(shield_token_key_kid(k3), shield_token_key_kid(rs));
        shield_token_key_free(k3);

        free(pem); /* a test key: the library's callers wipe theirs */
        free(rpem);
        free(claims);
        free(jwks);
        shield_token_key_free(k2);
}

static void test_tampered(void **state) {
        char *claims = claims_at(NOW + 3600, NOW), *other = claims_at(NOW + 7200, NOW);
        char *jwt = sign_ok(es, claims), *jwt2 = sign_ok(es, other), *jwks = jwks_of(es, rs), *t, *h;
        (void)state;

        /* Payload of another token under this token's signature. */
        const char *p1 = strchr(jwt, '.'), *p2 = strchr(jwt2, '.');
        t = malloc(strlen(jwt) + strlen(jwt2));
        size_t hl = (size_t)(p1 - jwt), pl = (size_t)(strrchr(jwt2, '.') - p2);
        memcpy(t, jwt, hl);
        memcpy(t + hl, p2, pl);
        memcpy(t + hl + pl, strrchr(jwt, '.'), strlen(strrchr(jwt, '.')) + 1);
        expect_verify(t, jwks, NOW, SHIELD_E_VERIFY, "signature does not verify");
        free(t);

        /* A flipped signature bit (the first character keeps the encoding canonical). */
        t = strdup(jwt);
        char *s = strrchr(t, '.') + 1;
        s[0] = s[0] == 'A' ? 'B' : 'A';
        expect_verify(t, jwks, NOW, SHIELD_E_VERIFY, "signature does not verify");
        /* A signature cut short or grown is a bad signature too. */
        s[0] = strrchr(jwt, '.')[1];
        s[strlen(s) - 2] = '\0';
        expect_verify(t, jwks, NOW, SHIELD_E_VERIFY, NULL);
        free(t);

        /* Header alg changed: none, HS256 (the classic public-key-as-HMAC-secret attack), RS256 on an EC key. */
        char hdr[256];
        snprintf(hdr, sizeof hdr, "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "\"none\"");
        *(strrchr(h, '.') + 1) = '\0'; /* the unsigned form proper: an empty signature */
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "\"none\"");
        free(h);
        snprintf(hdr, sizeof hdr, "{\"alg\":\"NONE\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "none");
        free(h);
        snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "HS256");
        free(h);
        snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "is for ES256");
        free(h);
        snprintf(hdr, sizeof hdr, "{\"alg\":\"ES384\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "only ES256 and RS256");
        free(h);
        /* Any other header change breaks the signature. */
        snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "signature does not verify");
        free(h);
        /* typ other than JWT, crit, no kid. */
        snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"typ\":\"JWE\",\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "typ");
        free(h);
        snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1,\"kid\":\"%s\"}", shield_token_key_kid(es));
        h = with_header(jwt, hdr);
        expect_verify(h, jwks, NOW, SHIELD_E_VERIFY, "crit");
        free(h);
        h = with_header(jwt, "{\"alg\":\"ES256\"}");
        expect_verify(h, jwks, NOW, SHIELD_E_FORMAT, "kid");
        free(h);

        free(claims);
        free(other);
        free(jwt);
        free(jwt2);
        free(jwks);
}

static void test_times(void **state) {
        char *jwks = jwks_of(es, NULL), *c, *jwt;
        (void)state;

        /* exp: 59 s ago passes (leeway), 61 s ago fails. */
        c = claims_at(NOW - 59, NOW - 3600);
        jwt = sign_ok(es, c);
        expect_verify(jwt, jwks, NOW, 0, NULL);
        expect_verify(jwt, jwks, NOW + 2, SHIELD_E_VERIFY, "expired");
        free(c);
        free(jwt);
        /* nbf: 59 s ahead passes, 61 s ahead fails. */
        c = claims_at(NOW + 3600, NOW + 59);
        jwt = sign_ok(es, c);
        expect_verify(jwt, jwks, NOW, 0, NULL);
        expect_verify(jwt, jwks, NOW - 2, SHIELD_E_VERIFY, "not yet valid");
        free(c);
        free(jwt);
        /* No exp at all; a non-numeric exp; a fractional exp; extreme values do not overflow. */
        jwt = sign_ok(es, "{\"sub\": \"x\"}");
        expect_verify(jwt, jwks, NOW, SHIELD_E_VERIFY, "no \"exp\"");
        free(jwt);
        jwt = sign_ok(es, "{\"exp\": \"tomorrow\"}");
        expect_verify(jwt, jwks, NOW, SHIELD_E_FORMAT, "payload segment");
        free(jwt);
        jwt = sign_ok(es, "{\"exp\": 1700000000.5}");
        expect_verify(jwt, jwks, NOW + 60, 0, NULL);
        expect_verify(jwt, jwks, NOW + 61, SHIELD_E_VERIFY, "expired");
        free(jwt);
        jwt = sign_ok(es, "{\"exp\": -9223372036854775808, \"nbf\": 9223372036854775807}");
        expect_verify(jwt, jwks, INT64_MIN, SHIELD_E_VERIFY, "not yet valid");
        expect_verify(jwt, jwks, INT64_MAX, SHIELD_E_VERIFY, "expired");
        free(jwt);
        jwt = sign_ok(es, "{\"exp\": 1e300}");
        expect_verify(jwt, jwks, NOW, 0, NULL);
        free(jwt);
        free(jwks);
}

static void test_kid_rotation(void **state) {
        struct shield_token_key *old = NULL;
        char *claims = claims_at(NOW + 3600, NOW), *jwt_old, *jwt_rs, *jwt_es, *both, *only_new, *empty = NULL;
        (void)state;

        assert_int_equal(shield_token_key_generate("ES256", &old, NULL), 0);
        assert_string_not_equal(shield_token_key_kid(old), shield_token_key_kid(es));
        jwt_old = sign_ok(old, claims);
        jwt_es = sign_ok(es, claims);
        jwt_rs = sign_ok(rs, claims);
        both = jwks_of(old, es);
        only_new = jwks_of(es, rs);
        /* During rotation both keys are published: tokens of either verify. */
        expect_verify(jwt_old, both, NOW, 0, NULL);
        expect_verify(jwt_es, both, NOW, 0, NULL);
        expect_verify(jwt_rs, only_new, NOW, 0, NULL);
        expect_verify(jwt_es, only_new, NOW, 0, NULL);
        /* Once the old key is gone, its tokens name an unknown kid. */
        expect_verify(jwt_old, only_new, NOW, SHIELD_E_VERIFY, "unknown kid");
        expect_verify(jwt_rs, both, NOW, SHIELD_E_VERIFY, "unknown kid");
        assert_int_equal(shield_token_jwks(NULL, 0, &empty), 0);
        expect_verify(jwt_es, empty, NOW, SHIELD_E_VERIFY, "unknown kid");

        /* A token re-labelled with another published kid fails on the signature. */
        char hdr[256];
        snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", shield_token_key_kid(old));
        char *h = with_header(jwt_es, hdr);
        expect_verify(h, both, NOW, SHIELD_E_VERIFY, "signature does not verify");
        free(h);

        free(claims);
        free(jwt_old);
        free(jwt_es);
        free(jwt_rs);
        free(both);
        free(only_new);
        free(empty);
        shield_token_key_free(old);
}

static void test_malformed(void **state) {
        char *claims = claims_at(NOW + 3600, NOW), *jwt = sign_ok(es, claims), *jwks = jwks_of(es, NULL), *t;
        const char *kid = shield_token_key_kid(es);
        char buf[1024];
        (void)state;

        expect_verify("", jwks, NOW, SHIELD_E_FORMAT, "found 1");
        expect_verify("a.b", jwks, NOW, SHIELD_E_FORMAT, "found 2");
        snprintf(buf, sizeof buf, "%s.x", jwt);
        expect_verify(buf, jwks, NOW, SHIELD_E_FORMAT, "found 4");
        expect_verify("..", jwks, NOW, SHIELD_E_FORMAT, "header segment is empty");
        /* A character outside base64url, padding, a length no encoding has, stray low bits. */
        t = strdup(jwt);
        t[3] = '+';
        expect_verify(t, jwks, NOW, SHIELD_E_FORMAT, "header segment: byte 0x2b");
        free(t);
        snprintf(buf, sizeof buf, "%.*s=%s", (int)(strchr(jwt, '.') - jwt), jwt, strchr(jwt, '.'));
        expect_verify(buf, jwks, NOW, SHIELD_E_FORMAT, "padding");
        snprintf(buf, sizeof buf, "%.*s*%s", (int)(strrchr(jwt, '.') - jwt), jwt, strrchr(jwt, '.'));
        expect_verify(buf, jwks, NOW, SHIELD_E_FORMAT, "payload segment: byte 0x2a");
        /* A payload of 4k+1 characters is no base64url length at all. */
        size_t plen = (size_t)(strrchr(jwt, '.') - strchr(jwt, '.')) - 1;
        snprintf(buf, sizeof buf, "%.*s%.*s%s", (int)(strrchr(jwt, '.') - jwt), jwt, (int)((5 - plen % 4) % 4), "AAAA",
                 strrchr(jwt, '.'));
        expect_verify(buf, jwks, NOW, SHIELD_E_FORMAT, "not a base64url length");
        snprintf(buf, sizeof buf, "%s", jwt);
        buf[strlen(buf) - 1] = buf[strlen(buf) - 1] == 'B' ? 'C' : 'B'; /* 86 chars: the last holds 2 spare bits */
        expect_verify(buf, jwks, NOW, SHIELD_E_FORMAT, "unused bits");
        snprintf(buf, sizeof buf, "%.*s.", (int)(strrchr(jwt, '.') - jwt), jwt);
        expect_verify(buf, jwks, NOW, SHIELD_E_FORMAT, "signature segment is empty");
        /* Header not JSON, not an object, duplicate names. */
        t = with_header(jwt, "{\"alg\":");
        expect_verify(t, jwks, NOW, SHIELD_E_FORMAT, "header segment: not JSON");
        free(t);
        t = with_header(jwt, "[\"ES256\"]");
        expect_verify(t, jwks, NOW, SHIELD_E_FORMAT, "header segment: expected a JSON object");
        free(t);
        snprintf(buf, sizeof buf, "{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"%s\"}", kid);
        t = with_header(jwt, buf);
        expect_verify(t, jwks, NOW, SHIELD_E_FORMAT, "header segment");
        free(t);
        t = with_header(jwt, "{\"alg\":5,\"kid\":\"x\"}");
        expect_verify(t, jwks, NOW, SHIELD_E_FORMAT, "alg");
        free(t);
        /* A signed payload without exp. */
        char *arr = sign_ok(es, "{}");
        expect_verify(arr, jwks, NOW, SHIELD_E_VERIFY, "exp");
        free(arr);
        /* Oversized token. */
        char *big = malloc(70000);
        memset(big, 'A', 69999);
        big[69999] = '\0';
        expect_verify(big, jwks, NOW, SHIELD_E_LIMIT, NULL);
        free(big);

        /* JWKS documents: not JSON, no keys, a key not an object, the kid twice, a wrong curve, off-curve point. */
        expect_verify(jwt, "", NOW, SHIELD_E_FORMAT, "JWKS: not JSON");
        expect_verify(jwt, "{\"keys\": {}}", NOW, SHIELD_E_FORMAT, "\"keys\" array");
        expect_verify(jwt, "{\"keys\": [1]}", NOW, SHIELD_E_FORMAT, "not an object");
        json_t *doc = json_loads(jwks, 0, NULL), *keys = json_object_get(doc, "keys");
        json_t *jwk = json_array_get(keys, 0);
        json_array_append_new(keys, json_deep_copy(jwk));
        char *dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_FORMAT, "more than once");
        free(dup);
        json_array_remove(keys, 1);
        json_object_set_new(jwk, "crv", json_string("P-384"));
        dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_VERIFY, "not an EC P-256 key");
        free(dup);
        json_object_set_new(jwk, "crv", json_string("P-256"));
        json_object_set_new(jwk, "use", json_string("enc"));
        dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_VERIFY, "use");
        free(dup);
        json_object_del(jwk, "use");
        json_object_set_new(jwk, "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_FORMAT, "not a valid ES256 public key");
        free(dup);
        json_object_set_new(jwk, "y", json_string("AAAA"));
        dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_FORMAT, "not a valid ES256 public key");
        free(dup);
        json_object_set_new(jwk, "y", json_string("AA=="));
        dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_FORMAT, "not base64url");
        free(dup);
        json_object_del(jwk, "y");
        dup = json_dumps(doc, 0);
        expect_verify(jwt, dup, NOW, SHIELD_E_FORMAT, "\"y\" is missing");
        free(dup);
        json_decref(doc);

        /* RSA JWKs: a 1024-bit modulus, a leading zero, an even exponent. */
        char *rjwt = sign_ok(rs, claims), *rjwks = jwks_of(rs, NULL);
        doc = json_loads(rjwks, 0, NULL);
        jwk = json_array_get(json_object_get(doc, "keys"), 0);
        char *n = strdup(json_string_value(json_object_get(jwk, "n")));
        n[172] = '\0'; /* 129 bytes: 1032 bits */
        json_object_set_new(jwk, "n", json_string(n));
        dup = json_dumps(doc, 0);
        expect_verify(rjwt, dup, NOW, SHIELD_E_UNSUPPORTED, "2048..4096");
        free(dup);
        free(n);
        json_object_set_new(jwk, "n", json_string("AAAA"));
        dup = json_dumps(doc, 0);
        expect_verify(rjwt, dup, NOW, SHIELD_E_FORMAT, NULL);
        free(dup);
        json_decref(doc);
        doc = json_loads(rjwks, 0, NULL);
        jwk = json_array_get(json_object_get(doc, "keys"), 0);
        json_object_set_new(jwk, "e", json_string("AQAA"));
        dup = json_dumps(doc, 0);
        expect_verify(rjwt, dup, NOW, SHIELD_E_FORMAT, NULL);
        free(dup);
        json_decref(doc);

        /* Sign refuses claims that are not a JSON object. */
        struct shield_diag d = { 0 };
        char *out = (char *)0xaa;
        assert_int_equal(shield_token_sign(es, "[1]", &out, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_token_sign(es, "{\"a\":", &out, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_token_sign(es, "{\"a\":1,\"a\":2}", &out, &d), SHIELD_E_FORMAT);
        assert_ptr_equal(out, (char *)0xaa);
        assert_int_equal(shield_token_sign(NULL, "{}", &out, &d), SHIELD_E_INVAL);
        assert_int_equal(shield_token_verify(NULL, jwks, NOW, NULL, &d), SHIELD_E_INVAL);

        free(rjwt);
        free(rjwks);
        free(claims);
        free(jwt);
        free(jwks);
}

static void write_text(const char *p, const char *text) {
        assert_int_equal(shield_write_file_atomic(p, text, strlen(text), 0600), 0);
}

/* PyJWT verifies a token with the JWK its header's kid names, audience and issuer checked. */
static const char py_verify[] =
        "import json, sys, jwt\n"
        "jwks = json.load(open(sys.argv[1])); tok = open(sys.argv[2]).read().strip()\n"
        "kid = jwt.get_unverified_header(tok)['kid']\n"
        "jwk = [k for k in jwks['keys'] if k['kid'] == kid][0]\n"
        "c = jwt.decode(tok, key=jwt.PyJWK(jwk).key, algorithms=[sys.argv[3]], audience='shieldkit',\n"
        "               issuer='https://shieldd.test', options={'require': ['exp', 'iat', 'nbf']})\n"
        "assert c['sub'] == 'web-1' and c['secboot'] is True, c\n";

/* Our tokens verify under PyJWT (and a tampered one does not, so the check has teeth). */
static void test_pyjwt_verifies_ours(void **state) {
        (void)state;
        if (!have_pyjwt)
                skip();
        struct shield_token_key *keys[] = { es, rs };
        for (size_t i = 0; i < 2; i++) {
                long long now = (long long)time(NULL);
                char *claims = claims_at(now + 3600, now), *jwt = sign_ok(keys[i], claims), *jwks = NULL;
                const char *alg = shield_token_key_alg(keys[i]);
                assert_int_equal(shield_token_jwks(keys, 2, &jwks), 0);
                write_text(path("jwks.json"), jwks);
                write_text(path("token"), jwt);
                const char *const argv[] = { python, "-c", py_verify, path("jwks.json"), path("token"), alg, NULL };
                struct shield_diag d = { .msg = "" };
                if (shield_run(argv, NULL, &d) != 0)
                        fail_msg("PyJWT refused our %s token: %s", alg, d.msg);
                char *s = strrchr(jwt, '.') + 1;
                s[0] = s[0] == 'A' ? 'B' : 'A';
                write_text(path("token"), jwt);
                assert_int_not_equal(shield_run(argv, NULL, NULL), 0);
                free(claims);
                free(jwt);
                free(jwks);
        }
}

/* PyJWT signs with its own keys; their JWKs (with our kid rule) go into a JWKS; we verify. */
static const char py_sign[] =
        "import base64, hashlib, json, sys, time, jwt\n"
        "from cryptography.hazmat.primitives.asymmetric import ec, rsa\n"
        "from cryptography.hazmat.primitives import serialization as s\n"
        "d = sys.argv[1]; keys = []; now = int(time.time())\n"
        "claims = {'iss': 'https://shieldd.test', 'sub': 'web-1', 'aud': 'shieldkit', 'iat': now, 'nbf': now,\n"
        "          'exp': now + 600, 'secboot': True}\n"
        "for alg, k, A in (('ES256', ec.generate_private_key(ec.SECP256R1()), jwt.algorithms.ECAlgorithm),\n"
        "                  ('RS256', rsa.generate_private_key(65537, 2048), jwt.algorithms.RSAAlgorithm)):\n"
        "    der = k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)\n"
        "    kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).rstrip(b'=').decode()\n"
        "    jwk = json.loads(A.to_jwk(k.public_key())); jwk.update(kid=kid, alg=alg, use='sig'); keys.append(jwk)\n"
        "    open(d + '/py-' + alg, 'w').write(jwt.encode(claims, k, algorithm=alg, headers={'kid': kid}))\n"
        "    open(d + '/py-' + alg + '.pem', 'w').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,\n"
        "                                                 s.NoEncryption()).decode())\n"
        "    open(d + '/py-' + alg + '.kid', 'w').write(kid)\n"
        "open(d + '/py-jwks.json', 'w').write(json.dumps({'keys': keys}))\n";

static char *read_text(const char *p) {
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(shield_read_file(p, 1 << 20, &buf, &len), 0);
        return (char *)buf;
}

static void test_we_verify_pyjwt(void **state) {
        (void)state;
        if (!have_pyjwt)
                skip();
        const char *const argv[] = { python, "-c", py_sign, dir, NULL };
        struct shield_diag d = { .msg = "" };
        if (shield_run(argv, NULL, &d) != 0)
                fail_msg("PyJWT could not sign: %s", d.msg);
        char *jwks = read_text(path("py-jwks.json"));
        static const char *const algs[] = { "ES256", "RS256" };
        for (size_t i = 0; i < 2; i++) {
                char name[32], *jwt, *claims = NULL, *pem, *kid;
                snprintf(name, sizeof name, "py-%s", algs[i]);
                jwt = read_text(path(name));
                assert_int_equal(shield_token_verify(jwt, jwks, (int64_t)time(NULL), &claims, &d), 0);
                json_t *c = json_loads(claims, 0, NULL);
                assert_string_equal(json_string_value(json_object_get(c, "sub")), "web-1");
                json_decref(c);
                free(claims);
                /* Their PKCS#8 key loads as ours, with the same kid derived. */
                snprintf(name, sizeof name, "py-%s.pem", algs[i]);
                pem = read_text(path(name));
                snprintf(name, sizeof name, "py-%s.kid", algs[i]);
                kid = read_text(path(name));
                struct shield_token_key *k = NULL;
                assert_int_equal(shield_token_key_from_pem(algs[i], NULL, pem, &k, &d), 0);
                assert_string_equal(shield_token_key_kid(k), kid);
                shield_token_key_free(k);
                free(pem);
                free(kid);
                free(jwt);
        }
        free(jwks);
}

/* Only unencrypted PKCS#8 is a stored key: a traditional ("EC PRIVATE KEY") or encrypted PEM is not (no prompt). */
static void test_pem_forms(void **state) {
        char *pem = NULL;
        (void)state;
        assert_int_equal(shield_token_key_pem(es, &pem), 0);
        write_text(path("k.pem"), pem);
        free(pem);
        const char *const trad[] = { "openssl", "pkey", "-in", path("k.pem"), "-traditional", "-out", path("trad.pem"), NULL };
        const char *const enc[] = { "openssl", "pkcs8", "-topk8", "-in", path("k.pem"), "-v2", "aes256", "-passout", "pass:x",
                                    "-out", path("enc.pem"), NULL };
        if (shield_run(trad, NULL, NULL) != 0 || shield_run(enc, NULL, NULL) != 0)
                skip();
        static const char *const names[] = { "trad.pem", "enc.pem" };
        for (size_t i = 0; i < 2; i++) {
                struct shield_token_key *k = (struct shield_token_key *)0xaa;
                struct shield_diag d = { 0 };
                char *text = read_text(path(names[i]));
                assert_int_equal(shield_token_key_from_pem("ES256", NULL, text, &k, &d), SHIELD_E_FORMAT);
                assert_ptr_equal(k, (struct shield_token_key *)0xaa);
                free(text);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_es256),    cmocka_unit_test(test_rs256),         cmocka_unit_test(test_pem),
                cmocka_unit_test(test_tampered), cmocka_unit_test(test_times),         cmocka_unit_test(test_kid_rotation),
                cmocka_unit_test(test_malformed), cmocka_unit_test(test_pyjwt_verifies_ours),
                cmocka_unit_test(test_we_verify_pyjwt), cmocka_unit_test(test_pem_forms),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
