/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "shield/error.h"
#include "signer.h"

int crypto_load_signer(const char *key_pem, size_t key_len, const uint8_t *cert, size_t cert_len, EVP_PKEY **ret_key,
                       X509 **ret_cert) {
        if (key_len > INT32_MAX)
                return SHIELD_E_INVAL;
        BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
        EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
        const unsigned char *cp = cert;
        X509 *x = cert_len <= LONG_MAX ? d2i_X509(NULL, &cp, (long)cert_len) : NULL;
        int r = !key ? SHIELD_E_FORMAT : !x ? SHIELD_E_CRYPTO : X509_check_private_key(x, key) != 1 ? SHIELD_E_INVAL : 0;

        BIO_free(kb);
        if (r < 0) {
                EVP_PKEY_free(key);
                X509_free(x);
                return r;
        }
        *ret_key = key;
        *ret_cert = x;
        return 0;
}
