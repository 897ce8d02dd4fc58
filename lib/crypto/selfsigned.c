/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/error.h"
#include "shield/keys.h"
#include "shield/tls.h"
#include "signer.h"

static bool is_ip(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The subjectAltName value in OpenSSL's config syntax; names were checked for commas. */
static char *san_value(const char *const *names, size_t n) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(names[i]) + 5;
        char *v = malloc(len), *p = v;
        if (!v)
                return NULL;
        *p = '\0';
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(p, len - (size_t)(p - v), "%s%s:%s", i ? "," : "", is_ip(names[i]) ? "IP" : "DNS",
                                 names[i]);
                if (w < 0 || (size_t)w >= len - (size_t)(p - v)) {
                        free(v);
                        return NULL;
                }
                p += w;
        }
        return v;
}

int shield_tls_self_signed(const char *common_name, const char *const *names, size_t n, unsigned days,
                           struct shield_keypair *ret) {
        if (!common_name || !*common_name || (n && !names) || n > SHIELD_TLS_NAMES_MAX || days == 0 || !ret)
                return SHIELD_E_INVAL;
        for (size_t i = 0; i < n; i++) {
                if (!names[i] || !*names[i] || strlen(names[i]) > 253)
                        return SHIELD_E_INVAL;
                for (const char *c = names[i]; *c; c++)
                        if (*c == ',' || (unsigned char)*c < 0x21 || *c == 0x7f)
                                return SHIELD_E_INVAL;
        }

        /* RFC 5280 4.2.1: a leaf the client pins directly; no CA powers. */
        struct crypto_ext exts[5] = {
                { NID_subject_key_identifier, "hash" },
                { NID_basic_constraints, "critical,CA:FALSE" },
                { NID_key_usage, "critical,digitalSignature" },
                { NID_ext_key_usage, "serverAuth" },
        };
        size_t n_exts = 4;
        char *san = NULL;
        if (n) {
                if (!(san = san_value(names, n)))
                        return SHIELD_E_NOMEM;
                exts[n_exts++] = (struct crypto_ext){ NID_subject_alt_name, san };
        }
        int r = crypto_self_signed(SHIELD_KEY_EC_P256, common_name, days, exts, n_exts, ret);
        free(san);
        return r;
}
