/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local platform's own material: its state directory, its platform key
 * and its default Secure Boot values. A cloud keeps these for its images;
 * here they live under one directory the owner can inspect and back up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shield/keys.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"
#include "shield/vm.h"

char *shield_state_dir(void) {
        const char *s = getenv("SHIELD_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        char *dir = NULL;

        if (s && *s)
                return strdup(s);
        if (xdg && *xdg)
                return asprintf(&dir, "%s/shieldkit", xdg) < 0 ? NULL : dir;
        return asprintf(&dir, "%s/.local/state/shieldkit", home && *home ? home : "/tmp") < 0 ? NULL : dir;
}

int shield_platform_pk(const char *state, uint8_t **ret_der, size_t *ret_len, struct shield_diag *diag) {
        char *dir = NULL, *der = NULL, *key = NULL;
        int r;

        if (asprintf(&dir, "%s/platform-pk", state) < 0 || asprintf(&der, "%s/PK.der", dir) < 0 ||
            asprintf(&key, "%s/PK.key", dir) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (shield_read_file(der, 1u << 20, ret_der, ret_len) == 0) {
                r = 0;
                goto out;
        }
        /* First use: the platform makes its key, as a cloud has one for its images. */
        struct shield_keypair kp;
        if (shield_mkdir_p(dir, 0700) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
                goto out;
        }
        if ((r = shield_keypair_generate(SHIELD_KEY_RSA2048, "Shieldkit local platform PK", 3650, &kp)) < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "cannot generate the platform key");
                goto out;
        }
        r = shield_write_file_atomic(key, kp.key_pem, kp.key_pem_len, 0600);
        if (r == 0)
                r = shield_write_file_atomic(der, kp.cert_der, kp.cert_der_len, 0644);
        if (r == 0) {
                *ret_der = kp.cert_der;
                *ret_len = kp.cert_der_len;
                kp.cert_der = NULL;
        } else {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: cannot write the platform key", dir);
        }
        shield_keypair_clear(&kp);
out:
        free(dir);
        free(der);
        free(key);
        return r;
}

/* Write each X.509 certificate of a signature-list variable as DIR/certs/<prefix>-<i>.der. */
static int export_certs(const struct shield_varstore *vs, const char *name, const shield_guid *vendor,
                        const char *certs) {
        const uint8_t *data;
        size_t size;
        struct shield_siglist list;

        if (shield_varstore_get(vs, name, vendor, &data, &size, NULL) < 0 || shield_siglist_parse(data, size, &list, NULL) < 0)
                return SHIELD_E_NOT_FOUND;
        int r = 0;
        for (size_t i = 0; i < list.n && r == 0; i++) {
                char *path = NULL;
                if (!shield_guid_eq(&list.entries[i].type, &SHIELD_GUID_CERT_X509))
                        continue;
                if (asprintf(&path, "%s/%s-%zu.der", certs, name, i) < 0)
                        r = SHIELD_E_NOMEM;
                else
                        r = shield_write_file_atomic(path, list.entries[i].data, list.entries[i].size, 0644);
                free(path);
        }
        shield_siglist_clear(&list);
        return r;
}

/* STATE/platform-defaults from the Microsoft keys in Debian's OVMF_VARS_4M.ms.fd. */
static int make_defaults(const char *dir, struct shield_diag *diag) {
        uint8_t *buf = NULL;
        size_t len;
        struct shield_varstore *vs = NULL;
        char *certs = NULL, *dbxdir = NULL, *dbx = NULL;
        int r;

        if (shield_read_file(SHIELD_OVMF_VARS_MS, 16u << 20, &buf, &len) < 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                        "no platform defaults: %s is missing (install ovmf) and SHIELD_DEFAULTS_DIR "
                                        "is not set", SHIELD_OVMF_VARS_MS);
        if ((r = shield_varstore_parse(buf, len, &vs, diag)) < 0)
                goto out;
        if (asprintf(&certs, "%s/certs", dir) < 0 || asprintf(&dbxdir, "%s/dbx", dir) < 0 ||
            asprintf(&dbx, "%s/DBXUpdate.bin", dbxdir) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (shield_mkdir_p(certs, 0755) < 0 || shield_mkdir_p(dbxdir, 0755) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
                goto out;
        }
        const uint8_t *data;
        size_t size;
        if (export_certs(vs, "KEK", &SHIELD_GUID_GLOBAL_VARIABLE, certs) < 0 ||
            export_certs(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, certs) < 0 ||
            shield_varstore_get(vs, "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &data, &size, NULL) < 0 ||
            shield_write_file_atomic(dbx, data, size, 0644) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: no KEK, db or dbx to take the defaults from",
                                     SHIELD_OVMF_VARS_MS);
                goto out;
        }
        r = 0;
out:
        shield_varstore_free(vs);
        free(buf);
        free(certs);
        free(dbxdir);
        free(dbx);
        return r;
}

int shield_platform_defaults(const char *state, struct shield_initial_state *ret, struct shield_diag *diag) {
        const char *env = getenv("SHIELD_DEFAULTS_DIR");
        char *dir = NULL;
        uint8_t *pk = NULL;
        size_t pk_len = 0;
        int r;

        if (env && *env)
                dir = strdup(env);
        else if (asprintf(&dir, "%s/platform-defaults", state) < 0)
                dir = NULL;
        if (!dir)
                return SHIELD_E_NOMEM;
        struct stat st;
        if (!(env && *env) && stat(dir, &st) < 0 && (r = make_defaults(dir, diag)) < 0)
                goto out;
        if ((r = shield_platform_pk(state, &pk, &pk_len, diag)) < 0)
                goto out;
        r = shield_initial_state_defaults(dir, pk, pk_len, ret, diag);
out:
        free(pk);
        free(dir);
        return r;
}
