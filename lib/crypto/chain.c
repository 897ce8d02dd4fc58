/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chain a certificate (an EK certificate, typically) to a directory of
 * vendor CA certificates: self-signed ones are the trust anchors, the rest
 * serve as intermediates. TPM vendors' certificates carry critical
 * extensions OpenSSL does not know (TCG's subject directory attributes) and
 * validity periods that outlive or predate the machine, so neither is held
 * against them.
 */
#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/crypto.h"
#include "shield/error.h"
#include "shield/util.h"

/* Self-signed: a trust anchor (the store keeps its own reference); else an intermediate (the stack takes ours). */
static void add_cert(X509 *x, X509_STORE *trusted, STACK_OF(X509) *untrusted, size_t *n) {
        if (X509_check_issued(x, x) == X509_V_OK) {
                if (X509_STORE_add_cert(trusted, x))
                        (*n)++;
                X509_free(x);
        } else if (sk_X509_push(untrusted, x)) {
                (*n)++;
        } else {
                X509_free(x);
        }
}

/* Every certificate in one file: PEM (one or more) or a single DER; other files are skipped. */
static void load_file(const char *path, X509_STORE *trusted, STACK_OF(X509) *untrusted, size_t *n) {
        uint8_t *buf = NULL;
        size_t len;
        if (shield_read_file(path, 1u << 20, &buf, &len) < 0)
                return;
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        X509 *x;
        bool pem = false;
        while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                pem = true;
                add_cert(x, trusted, untrusted, n);
        }
        BIO_free(bio);
        if (!pem) {
                const unsigned char *p = buf;
                x = d2i_X509(NULL, &p, (long)len);
                if (x && p == buf + len)
                        add_cert(x, trusted, untrusted, n);
                else
                        X509_free(x);
        }
        ERR_clear_error();
        free(buf);
}

int shield_x509_chain_dir(const uint8_t *der, size_t len, const char *dir, uint8_t **ret_spki, size_t *ret_spki_len,
                          struct shield_diag *diag) {
        const unsigned char *p = der;
        X509 *leaf = d2i_X509(NULL, &p, (long)len);
        X509_STORE *trusted = X509_STORE_new();
        STACK_OF(X509) *untrusted = sk_X509_new_null();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        int r;

        if (!leaf || p != der + len) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "not a DER certificate");
                goto out;
        }
        if (!trusted || !untrusted || !ctx) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        DIR *d = opendir(dir);
        if (!d) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s: cannot open the CA directory", dir);
                goto out;
        }
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                char *path = NULL;
                if (de->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        continue;
                load_file(path, trusted, untrusted, &n);
                free(path);
        }
        closedir(d);
        if (n == 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s: no certificates", dir);
                goto out;
        }
        X509_STORE_set_flags(trusted, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_IGNORE_CRITICAL);
        X509_STORE_set_purpose(trusted, X509_PURPOSE_ANY);
        if (!X509_STORE_CTX_init(ctx, trusted, leaf, untrusted)) {
                r = SHIELD_E_CRYPTO;
                goto out;
        }
        if (X509_verify_cert(ctx) != 1) {
                r = shield_diag_fail(diag, SHIELD_E_VERIFY, 0, -1, "does not chain to a CA in %s: %s", dir,
                                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
                goto out;
        }
        r = 0;
        if (ret_spki) {
                unsigned char *spki = NULL;
                int n_spki = i2d_PUBKEY(X509_get0_pubkey(leaf), &spki);
                if (n_spki <= 0) {
                        r = SHIELD_E_CRYPTO;
                } else {
                        *ret_spki = malloc((size_t)n_spki);
                        if (*ret_spki) {
                                memcpy(*ret_spki, spki, (size_t)n_spki);
                                *ret_spki_len = (size_t)n_spki;
                        } else {
                                r = SHIELD_E_NOMEM;
                        }
                }
                OPENSSL_free(spki);
        }
out:
        X509_STORE_CTX_free(ctx);
        sk_X509_pop_free(untrusted, X509_free);
        X509_STORE_free(trusted);
        X509_free(leaf);
        ERR_clear_error();
        return r;
}
