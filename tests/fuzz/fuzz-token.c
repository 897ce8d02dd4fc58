/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation tokens: shield_token_verify on arbitrary bytes as the JWT,
 * against a fixed JWKS (one ES256 and one RS256 key, made with Python's
 * cryptography; the committed corpus holds tokens PyJWT signed with them,
 * valid at the fixed time below, and broken variants). An input holding a
 * newline is also tried as "JWT\nJWKS", to reach the JWKS parser.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shield/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inside the corpus tokens' [nbf, exp] window. */
#define FUZZ_NOW 1700000100

static const char fixed_jwks[] =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"gABtI6isgM7SSm4c9VSrjStpSOO6Xlrfm6NBAN0Va7w"
        "\",\"y\":\"KLw4LzrfO9oW1d2xe7jrx1gQvZqCLCXeKICODFNGW6o\",\"kid\":\"Pa8MFoon9yn1OVoP\",\"alg\":\""
        "ES256\",\"use\":\"sig\"},{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n\":\"lwLgRT9oQ2SjNNvWqHpQY"
        "pHLIzKhP_oaK-89bgVSiITs0HtMgZkFsIeoSnNLm4sePfuskZUu-tkQm7zewHcKjeUa9CqpGW2xTgAb9CUhHa2xrRzbbryb7"
        "W251nO6xEAjbsI0XiGpIlgw3Bfg7Fnsp0IR99V6b5vSdN1nRz5QD8OXI8j5YZRjHzSehQRhY7iBHu1LErNGmGxvo6gc1-g5u"
        "kn12EI8dOmTEALLLPUsW1A1JHefdazzcZdtPMTWwfZT7yc5YXZOX4i36DsstzqiedPfkRly94deYhSUNUk2mxUHHD3qqI7I-"
        "yUGMUas8Xntt6UIu9-zeM4G0yueYX8n_Q\",\"e\":\"AQAB\",\"kid\":\"PWGfwwSyPQ2xLbmb\",\"alg\":\"RS256"
        "\",\"use\":\"sig\"}]}";

static void verify_one(const char *jwt, const char *jwks) {
        struct shield_diag diag;
        char *claims = NULL;

        if (shield_token_verify(jwt, jwks, FUZZ_NOW, &claims, &diag) != 0)
                return;
        /* What verifies is a JSON object with an exp. */
        json_t *j = json_loads(claims, 0, NULL);
        if (!json_is_object(j) || !json_object_get(j, "exp"))
                abort();
        json_decref(j);
        free(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        verify_one(s, fixed_jwks);
        char *nl = strchr(s, '\n');
        if (nl) {
                *nl = '\0';
                verify_one(s, nl + 1);
        }
        free(s);
        return 0;
}
