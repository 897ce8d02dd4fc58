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
#include <time.h>
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

#ifndef SHIELD_DEFAULT_DBX_SOURCE
#define SHIELD_DEFAULT_DBX_SOURCE ""
#endif
#ifndef SHIELD_DEFAULT_DBX_INSTALLED
#define SHIELD_DEFAULT_DBX_INSTALLED "/usr/share/shieldkit/uefi/dbx/DBXUpdate-amd64.bin"
#endif
#ifndef SHIELD_DEFAULT_DBX_DATE
#define SHIELD_DEFAULT_DBX_DATE ""
#endif
#define DBX_SOURCE_NAME "the UEFI revocation list shipped with Shieldkit"
#define OVMF_SOURCE_NAME "Debian OVMF_VARS_4M.ms.fd"

const char *shield_default_dbx_path(const char **ret_date) {
        const char *env = getenv("SHIELD_DEFAULT_DBX");
        if (ret_date)
                *ret_date = env && *env ? "" : SHIELD_DEFAULT_DBX_DATE;
        if (env && *env)
                return env;
        if (SHIELD_DEFAULT_DBX_SOURCE[0] && access(SHIELD_DEFAULT_DBX_SOURCE, R_OK) == 0)
                return SHIELD_DEFAULT_DBX_SOURCE;
        return SHIELD_DEFAULT_DBX_INSTALLED;
}

static void now_utc(char out[32]) {
        time_t t = time(NULL);
        struct tm tm;
        out[0] = 0;
        if (gmtime_r(&t, &tm))
                strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* DIR/dbx/DBXUpdate-amd64.bin = the shipped list, kept signed; its source recorded. */
static int install_dbx(const char *dir, struct shield_diag *diag) {
        const char *date = NULL, *from = shield_default_dbx_path(&date);
        uint8_t *buf = NULL;
        size_t len = 0;
        char *dbxdir = NULL, *to = NULL;
        struct shield_authvar2 a;
        int r;

        if (shield_read_file(from, SHIELD_DEFAULTS_UPDATE_MAX, &buf, &len) < 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                        "no default dbx: %s: %s (the revocation list shipped in data/uefi/dbx; "
                                        "$SHIELD_DEFAULT_DBX overrides)", from, strerror(errno));
        /* It must be what it claims: a signed update of signature lists. */
        if ((r = shield_authvar2_parse(buf, len, &a, diag)) < 0 || shield_esl_count(a.payload, a.payload_size) == 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: not a signed update of signature lists", from);
                goto out;
        }
        if (asprintf(&dbxdir, "%s/dbx", dir) < 0 || asprintf(&to, "%s/DBXUpdate-amd64.bin", dbxdir) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        struct shield_defaults_source src = { 0 };
        snprintf(src.source, sizeof src.source, "%s", DBX_SOURCE_NAME);
        snprintf(src.path, sizeof src.path, "%s", from);
        snprintf(src.date, sizeof src.date, "%s", date);
        now_utc(src.stored);
        memcpy(src.timestamp, a.timestamp, 16);
        if (shield_mkdir_p(dbxdir, 0755) < 0 || shield_write_file_atomic(to, buf, len, 0644) < 0 ||
            shield_defaults_source_set(dir, "dbx", &src) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
                goto out;
        }
        r = 0;
out:
        free(buf);
        free(dbxdir);
        free(to);
        return r;
}

static int record_ovmf(const char *dir, const char *var) {
        struct shield_defaults_source src = { 0 };
        struct stat st;
        snprintf(src.source, sizeof src.source, "%s", OVMF_SOURCE_NAME);
        snprintf(src.path, sizeof src.path, "%s", SHIELD_OVMF_VARS_MS);
        now_utc(src.stored);
        /* The package's file date: when Debian built the store the certificates were taken from. */
        struct tm tm;
        if (stat(SHIELD_OVMF_VARS_MS, &st) == 0 && gmtime_r(&st.st_mtime, &tm))
                strftime(src.date, sizeof src.date, "%Y-%m-%d", &tm);
        return shield_defaults_source_set(dir, var, &src);
}

/* STATE/platform-defaults: KEK and db from the Microsoft keys in Debian's OVMF_VARS_4M.ms.fd, dbx shipped. */
static int make_defaults(const char *dir, struct shield_diag *diag) {
        uint8_t *buf = NULL;
        size_t len;
        struct shield_varstore *vs = NULL;
        char *certs = NULL;
        int r;

        if (shield_read_file(SHIELD_OVMF_VARS_MS, 16u << 20, &buf, &len) < 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1,
                                        "no platform defaults: %s is missing (install ovmf) and SHIELD_DEFAULTS_DIR "
                                        "is not set", SHIELD_OVMF_VARS_MS);
        if ((r = shield_varstore_parse(buf, len, &vs, diag)) < 0)
                goto out;
        if (asprintf(&certs, "%s/certs", dir) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (shield_mkdir_p(certs, 0755) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
                goto out;
        }
        if (export_certs(vs, "KEK", &SHIELD_GUID_GLOBAL_VARIABLE, certs) < 0 ||
            export_certs(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, certs) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "%s: no KEK or db to take the defaults from",
                                     SHIELD_OVMF_VARS_MS);
                goto out;
        }
        if (record_ovmf(dir, "KEK") < 0 || record_ovmf(dir, "db") < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir, strerror(errno));
                goto out;
        }
        /* OVMF's own dbx is one placeholder (the SHA-256 of nothing): the default is the revocation list. */
        r = install_dbx(dir, diag);
out:
        shield_varstore_free(vs);
        free(buf);
        free(certs);
        return r;
}

/* The dbx a platform made before the list was shipped: exactly one EFI_CERT_SHA256 entry, SHA-256(""). */
static bool is_placeholder_dbx(const char *path) {
        static const uint8_t empty_sha256[32] = { 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                                  0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                                  0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_siglist l;
        bool yes = false;
        if (shield_read_file(path, 1u << 20, &buf, &len) == 0 && shield_siglist_parse(buf, len, &l, NULL) == 0) {
                yes = l.n == 1 && shield_guid_eq(&l.entries[0].type, &SHIELD_GUID_CERT_SHA256) && l.entries[0].size == 32 &&
                      memcmp(l.entries[0].data, empty_sha256, 32) == 0;
                shield_siglist_clear(&l);
        }
        free(buf);
        return yes;
}

/*
 * A directory made before the list was shipped holds dbx/DBXUpdate.bin =
 * OVMF's placeholder and no sources.json entry for dbx. Anything else
 * (a list the owner put there, a stored update) is left alone.
 */
static int upgrade_defaults(const char *dir, struct shield_diag *diag) {
        char *esl = NULL, *signed_list = NULL, *old = NULL;
        int r = 0;

        if (asprintf(&esl, "%s/dbx.esl", dir) < 0 || asprintf(&signed_list, "%s/dbx/DBXUpdate-amd64.bin", dir) < 0 ||
            asprintf(&old, "%s/dbx/DBXUpdate.bin", dir) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (access(esl, F_OK) == 0 || access(signed_list, F_OK) == 0)
                goto out;
        if (access(old, F_OK) == 0 && !is_placeholder_dbx(old))
                goto out;
        struct shield_defaults_source src;
        if (shield_defaults_source_get(dir, "KEK", &src) == SHIELD_E_NOT_FOUND && record_ovmf(dir, "KEK") < 0)
                r = SHIELD_E_SYSTEM;
        if (r == 0 && shield_defaults_source_get(dir, "db", &src) == SHIELD_E_NOT_FOUND && record_ovmf(dir, "db") < 0)
                r = SHIELD_E_SYSTEM;
        if (r < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "%s: %s", dir, strerror(errno));
                goto out;
        }
        if ((r = install_dbx(dir, diag)) == 0 && unlink(old) < 0 && errno != ENOENT)
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", old, strerror(errno));
out:
        free(esl);
        free(signed_list);
        free(old);
        return r;
}

int shield_platform_defaults_dir(const char *state, char **ret_dir, struct shield_diag *diag) {
        const char *env = getenv("SHIELD_DEFAULTS_DIR");
        char *dir = NULL;
        int r;

        if (!ret_dir)
                return SHIELD_E_INVAL;
        if (env && *env) {
                if (!(dir = strdup(env)))
                        return SHIELD_E_NOMEM;
                *ret_dir = dir;
                return 0;
        }
        if (!state || asprintf(&dir, "%s/platform-defaults", state) < 0)
                return state ? SHIELD_E_NOMEM : SHIELD_E_INVAL;
        struct stat st;
        r = stat(dir, &st) < 0 ? make_defaults(dir, diag) : upgrade_defaults(dir, diag);
        if (r < 0) {
                free(dir);
                return r;
        }
        *ret_dir = dir;
        return 0;
}

int shield_platform_defaults(const char *state, struct shield_initial_state *ret, struct shield_diag *diag) {
        char *dir = NULL;
        uint8_t *pk = NULL;
        size_t pk_len = 0;
        int r;

        if ((r = shield_platform_defaults_dir(state, &dir, diag)) < 0)
                return r;
        if ((r = shield_platform_pk(state, &pk, &pk_len, diag)) < 0)
                goto out;
        r = shield_initial_state_defaults(dir, pk, pk_len, ret, diag);
out:
        free(pk);
        free(dir);
        return r;
}
