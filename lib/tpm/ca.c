/* SPDX-License-Identifier: Apache-2.0 */
/* The local platform CA that certifies EKs and AKs (shield tpm provision --ca-dir). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shield/tpm.h"
#include "shield/util.h"
#include "crypto/tpm-crypto.h"

int shield_ca_ensure(const char *dir, const char *common_name, bool *ret_created, struct shield_diag *diag) {
        char *key_path = NULL, *cert_path = NULL, *key = NULL, *cert = NULL;
        size_t key_len = 0, cert_len = 0;
        int r;

        if (!dir || !*dir)
                return SHIELD_E_INVAL;
        if (asprintf(&key_path, "%s/ca.key", dir) < 0)
                return SHIELD_E_NOMEM;
        if (asprintf(&cert_path, "%s/ca.crt", dir) < 0) {
                free(key_path);
                return SHIELD_E_NOMEM;
        }
        bool have_key = access(key_path, F_OK) == 0, have_cert = access(cert_path, F_OK) == 0;
        if (have_key) {
                r = have_cert ? 0
                              : shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                                 "%s exists but %s does not: not replacing a CA key", key_path,
                                                 cert_path);
                if (r == 0 && ret_created)
                        *ret_created = false;
                goto out;
        }
        r = tpmc_ca_create(common_name ? common_name : "Shieldkit platform CA", 3650, &key, &key_len, &cert,
                           &cert_len);
        if (r < 0) {
                shield_diag_fail(diag, r, 0, -1, "making the CA key and certificate failed");
                goto out;
        }
        /* The certificate first: a crash in between leaves no key without its certificate. */
        r = shield_write_file_atomic(cert_path, cert, cert_len, 0644);
        if (r == 0)
                r = shield_write_file_atomic(key_path, key, key_len, 0600);
        if (r < 0) {
                shield_diag_fail(diag, r, 0, -1, "writing %s: %s", r == SHIELD_E_SYSTEM ? dir : key_path,
                                 strerror(errno));
                goto out;
        }
        if (ret_created)
                *ret_created = true;
out:
        if (key) {
                explicit_bzero(key, key_len);
                free(key);
        }
        free(cert);
        free(key_path);
        free(cert_path);
        return r;
}
