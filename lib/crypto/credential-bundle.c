/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credential bundle (shield/machine-ca.h, docs/FORMATS.md): three PEM
 * blocks, key, certificate, CA certificate. OpenSSL's PEM reader decodes
 * each block and its DER decoders read them; the only text looked at here
 * is what lies between the blocks (blank lines and nothing else), so a
 * diagnostic can name the part and where it starts.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "machine-cert.h"
#include "shield/machine-ca.h"

void shield_credential_bundle_clear(struct shield_credential_bundle *b) {
        if (!b)
                return;
        crypto_free_secret(b->key_pem);
        free(b->cert_pem);
        free(b->ca_pem);
        memset(b, 0, sizeof *b);
}

/* Each part ends in a newline; a missing one is added so the blocks stay on their own lines. */
int shield_credential_bundle_make(const struct shield_issued_credential *c, const char *ca_cert_pem, char **ret,
                                  size_t *ret_len) {
        if (!c || !c->key_pem || !c->cert_pem || !ca_cert_pem || !ret || !ret_len)
                return SHIELD_E_INVAL;
        const char *parts[3] = { c->key_pem, c->cert_pem, ca_cert_pem };
        size_t len = 0, lens[3];
        for (size_t i = 0; i < 3; i++) {
                lens[i] = strnlen(parts[i], SHIELD_CA_BUNDLE_MAX + 1);
                len += lens[i] + 1;
                if (len > SHIELD_CA_BUNDLE_MAX)
                        return SHIELD_E_LIMIT;
        }
        char *text = malloc(len + 1), *p = text;
        if (!text)
                return SHIELD_E_NOMEM;
        for (size_t i = 0; i < 3; i++) {
                memcpy(p, parts[i], lens[i]);
                p += lens[i];
                if (lens[i] == 0 || parts[i][lens[i] - 1] != '\n')
                        *p++ = '\n';
        }
        *p = '\0';
        len = (size_t)(p - text);

        /* Never hand out a bundle the machine would refuse. */
        struct shield_credential_bundle check;
        int r = shield_credential_bundle_parse(text, len, &check, NULL);
        if (r < 0) {
                OPENSSL_cleanse(text, len);
                free(text);
                return r;
        }
        shield_credential_bundle_clear(&check);
        *ret = text; /* transferred */
        *ret_len = len;
        return 0;
}

static const char *const part_name[3] = { "part 1 (private key)", "part 2 (certificate)", "part 3 (CA certificate)" };

/* Skip the blank lines before a block or at the end: "\n" or "\r\n" only. */
static size_t skip_blank(const char *text, size_t len, size_t off) {
        while (off < len && (text[off] == '\n' || (text[off] == '\r' && len - off > 1 && text[off + 1] == '\n')))
                off += text[off] == '\r' ? 2 : 1;
        return off;
}

/*
 * One PEM block of label at *off (the BIO stands there), its DER in
 * *ret_data (OPENSSL_secure_clear_free it; the key's bytes are secret).
 */
static int read_block(BIO *bio, const char *text, size_t len, size_t *off, int part, const char *label,
                      unsigned char **ret_data, long *ret_len, struct shield_diag *diag) {
        static const char begin[] = "-----BEGIN ";
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        size_t start = skip_blank(text, len, *off);
        int r;

        if (start == len)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1, "%s: missing (the bundle ends)",
                                        part_name[part]);
        if (len - start < sizeof begin - 1 || memcmp(text + start, begin, sizeof begin - 1) != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1, "%s: expected \"-----BEGIN %s-----\"",
                                        part_name[part], label);
        /* The BIO skips the same blank lines; PEM_FLAG_SECURE wipes its buffers of the key's base64. */
        if (PEM_read_bio_ex(bio, &name, &header, &data, &dlen, PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) != 1) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1, "%s: not a valid PEM block", part_name[part]);
                goto out;
        }
        if (strcmp(name, label) != 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1,
                                     "%s: a \"%.40s\" block where \"%s\" belongs (the order is key, certificate, CA "
                                     "certificate)",
                                     part_name[part], name, label);
                goto out;
        }
        if (header[0] != '\0') {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1, "%s: PEM headers (an encrypted key?)",
                                     part_name[part]);
                goto out;
        }
        *ret_data = data; /* transferred */
        *ret_len = dlen;
        data = NULL;
        *off = len - (size_t)BIO_pending(bio);
        r = 0;
out:
        if (name)
                OPENSSL_secure_clear_free(name, strlen(name) + 1);
        if (header)
                OPENSSL_secure_clear_free(header, strlen(header) + 1);
        if (data)
                OPENSSL_secure_clear_free(data, (size_t)dlen);
        return r;
}

static int read_cert(BIO *bio, const char *text, size_t len, size_t *off, int part, X509 **ret,
                     struct shield_diag *diag) {
        size_t start = skip_blank(text, len, *off);
        unsigned char *data = NULL;
        long dlen = 0;
        int r = read_block(bio, text, len, off, part, "CERTIFICATE", &data, &dlen, diag);
        if (r < 0)
                return r;
        const unsigned char *p = data;
        X509 *x = d2i_X509(NULL, &p, dlen);
        if (!x || p != data + dlen) {
                X509_free(x);
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1, "%s: not exactly one DER certificate",
                                     part_name[part]);
        } else {
                *ret = x;
        }
        OPENSSL_secure_clear_free(data, (size_t)dlen);
        return r;
}

static int read_key(BIO *bio, const char *text, size_t len, size_t *off, EVP_PKEY **ret, struct shield_diag *diag) {
        size_t start = skip_blank(text, len, *off);
        unsigned char *data = NULL;
        long dlen = 0;
        int r = read_block(bio, text, len, off, 0, "PRIVATE KEY", &data, &dlen, diag);
        if (r < 0)
                return r;
        const unsigned char *p = data;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, dlen);
        EVP_PKEY *key = p8 && p == data + dlen ? EVP_PKCS82PKEY(p8) : NULL;
        if (!key)
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, start, -1, "%s: not one PKCS#8 private key", part_name[0]);
        else
                *ret = key;
        PKCS8_PRIV_KEY_INFO_free(p8);
        OPENSSL_secure_clear_free(data, (size_t)dlen);
        return r;
}

int shield_credential_bundle_parse(const char *text, size_t len, struct shield_credential_bundle *ret,
                                   struct shield_diag *diag) {
        if ((!text && len) || !ret)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "no bundle or result");
        if (len > SHIELD_CA_BUNDLE_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, SHIELD_CA_BUNDLE_MAX, -1,
                                        "%zu bytes: a bundle is at most %u", len, SHIELD_CA_BUNDLE_MAX);
        const char *nul = len ? memchr(text, '\0', len) : NULL;
        if (nul)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)(nul - text), -1, "a NUL byte in PEM text");

        struct shield_credential_bundle b = { 0 };
        BIO *bio = BIO_new_mem_buf(len ? text : "", (int)len);
        EVP_PKEY *key = NULL;
        X509 *cert = NULL, *ca = NULL;
        size_t off = 0, cert_at, ca_at, end;
        int r;

        if (!bio) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if ((r = read_key(bio, text, len, &off, &key, diag)) < 0)
                goto out;
        cert_at = skip_blank(text, len, off);
        if ((r = read_cert(bio, text, len, &off, 1, &cert, diag)) < 0)
                goto out;
        ca_at = skip_blank(text, len, off);
        if ((r = read_cert(bio, text, len, &off, 2, &ca, diag)) < 0)
                goto out;
        if ((end = skip_blank(text, len, off)) != len) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, end, -1, "%zu bytes after %s", len - end, part_name[2]);
                goto out;
        }
        r = SHIELD_E_FORMAT;
        if (X509_check_private_key(cert, key) != 1) {
                shield_diag_fail(diag, r, cert_at, -1, "%s: its public key is not part 1's", part_name[1]);
                goto out;
        }
        if (X509_check_ca(ca) != 1 || X509_check_issued(ca, cert) != X509_V_OK ||
            X509_verify(cert, X509_get0_pubkey(ca)) != 1) {
                shield_diag_fail(diag, r, ca_at, -1, "%s: not a CA that signed part 2", part_name[2]);
                goto out;
        }
        if (!crypto_cert_serial(cert, b.serial) || !crypto_cert_instance(cert, b.instance) ||
            !crypto_time_unix(X509_get0_notAfter(cert), &b.not_after)) {
                shield_diag_fail(diag, r, cert_at, -1, "%s: no 16-byte serial, instance URI or notAfter",
                                 part_name[1]);
                goto out;
        }
        if ((r = crypto_key_pem(key, &b.key_pem)) < 0 || (r = crypto_cert_pem(cert, &b.cert_pem)) < 0 ||
            (r = crypto_cert_pem(ca, &b.ca_pem)) < 0)
                goto out;
        *ret = b; /* transferred */
        memset(&b, 0, sizeof b);
        r = 0;
out:
        shield_credential_bundle_clear(&b);
        BIO_free(bio);
        EVP_PKEY_free(key);
        X509_free(cert);
        X509_free(ca);
        ERR_clear_error();
        return r;
}
