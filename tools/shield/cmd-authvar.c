/* SPDX-License-Identifier: Apache-2.0 */
/* shield authvar sign|verify */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"

#define INPUT_MAX (16u << 20)

static const char usage_family[] =
        "Usage: shield authvar COMMAND [OPTIONS]\n"
        "\n"
        "Authenticated variable updates (EFI_VARIABLE_AUTHENTICATION_2, .auth\n"
        "files): how PK, KEK, db and dbx are changed on a running machine.\n"
        "\n"
        "Commands:\n"
        "  sign     sign a signature list as an update of PK, KEK, db or dbx\n"
        "  verify   check an update's signature against a certificate\n"
        "\n"
        "Run 'shield authvar COMMAND --help' for details.\n";

static const char usage_sign[] =
        "Usage: shield authvar sign --var PK|KEK|db|dbx --key KEY --cert CERT --esl FILE\n"
        "                           [--append] [--time \"YYYY-MM-DD HH:MM:SS\"] -o FILE.auth\n"
        "\n"
        "Make a time-based authenticated update (UEFI 2.10, 8.2.2): EFI_TIME, then\n"
        "a WIN_CERTIFICATE_UEFI_GUID holding a detached PKCS#7 SignedData\n"
        "(SHA-256) over VariableName, VendorGuid, Attributes, TimeStamp and the\n"
        "data, then the data. Attributes are NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE,\n"
        "plus APPEND_WRITE with --append. Sign PK and KEK updates with the PK, db\n"
        "and dbx updates with a KEK.\n"
        "\n"
        "Options:\n"
        "  --var NAME     PK, KEK, db or dbx\n"
        "  --key KEY      the signer's private key (PEM)\n"
        "  --cert CERT    the signer's certificate (DER or PEM)\n"
        "  --esl FILE     the new value: EFI signature lists\n"
        "  --append       append to the variable instead of replacing it\n"
        "  --time T       the timestamp (UTC; default: now)\n"
        "  -o FILE        where to write the .auth file\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or input.\n";

static const char usage_verify[] =
        "Usage: shield authvar verify FILE.auth --cert CERT [--var NAME] [--json]\n"
        "\n"
        "Check that an authenticated update is signed by CERT (or by a\n"
        "certificate chaining to it) over the given variable (default: tried as\n"
        "PK, KEK, db and dbx, with and without APPEND_WRITE).\n"
        "\n"
        "Exit status: 0 the signature verifies, 1 it does not, 2 bad input.\n";

static int parse_time(const char *s, uint8_t ts[16]) {
        struct tm tm = { 0 };
        time_t now = time(NULL);
        memset(ts, 0, 16);
        if (!s) {
                if (!gmtime_r(&now, &tm))
                        return -1;
        } else {
                const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
                if (!end || *end)
                        return -1;
        }
        shield_efi_time_encode(&tm, ts);
        return 0;
}

static int read_cert(const char *path, uint8_t **der, size_t *len) {
        uint8_t *buf = NULL;
        size_t blen;
        if (cli_read_file(path, INPUT_MAX, &buf, &blen) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_x509_load(buf, blen, der, len);
        free(buf);
        if (r < 0) {
                cli_error("%s: not an X.509 certificate", path);
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int verb_sign(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },     { "var", required_argument, NULL, 'v' },
                { "key", required_argument, NULL, 'k' }, { "cert", required_argument, NULL, 'c' },
                { "esl", required_argument, NULL, 'e' }, { "append", no_argument, NULL, 'a' },
                { "time", required_argument, NULL, 't' }, { "output", required_argument, NULL, 'o' }, {},
        };
        const char *var = NULL, *key = NULL, *cert = NULL, *esl = NULL, *time_s = NULL, *out = NULL;
        bool append = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_sign, stdout); return EXIT_OK;
                case 'v': var = optarg; break;
                case 'k': key = optarg; break;
                case 'c': cert = optarg; break;
                case 'e': esl = optarg; break;
                case 'a': append = true; break;
                case 't': time_s = optarg; break;
                case 'o': out = optarg; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        shield_guid vendor;
        uint8_t ts[16];
        if (!var || !key || !cert || !esl || !out || optind != argc)
                return cli_usage_error(usage_sign, "sign: --var, --key, --cert, --esl and -o are required");
        if (shield_secure_boot_var_vendor(var, &vendor) < 0)
                return cli_usage_error(usage_sign, "sign: --var must be PK, KEK, db or dbx, not '%s'", var);
        if (parse_time(time_s, ts) < 0)
                return cli_usage_error(usage_sign, "sign: --time takes \"YYYY-MM-DD HH:MM:SS\"");

        uint8_t *key_pem = NULL, *cert_der = NULL, *data = NULL, *tbs = NULL, *sig = NULL, *auth = NULL;
        size_t key_len, cert_len, data_len, tbs_len, sig_len, auth_len;
        struct shield_siglist check;
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        uint32_t attrs = SHIELD_VAR_SECURE_BOOT_DB | (append ? SHIELD_VAR_APPEND_WRITE : 0);

        if (cli_read_file(key, INPUT_MAX, &key_pem, &key_len) != 0 || read_cert(cert, &cert_der, &cert_len) != 0 ||
            cli_read_file(esl, INPUT_MAX, &data, &data_len) != 0)
                goto out;
        if (shield_siglist_parse(data, data_len, &check, &diag) < 0) {
                r = cli_parse_failed(esl, SHIELD_E_FORMAT, &diag);
                goto out;
        }
        shield_siglist_clear(&check);
        if (shield_authvar2_signed_bytes(var, &vendor, attrs, ts, data, data_len, &tbs, &tbs_len) < 0)
                goto out;
        int s = shield_pkcs7_sign_detached((const char *)key_pem, key_len, cert_der, cert_len, tbs, tbs_len, &sig, &sig_len);
        if (s < 0) {
                cli_error("signing failed: %s", s == SHIELD_E_INVAL ? "the key does not belong to the certificate"
                                                : s == SHIELD_E_FORMAT ? "the key is not a PEM private key"
                                                                      : shield_strerror(s));
                goto out;
        }
        if (shield_authvar2_serialize(ts, sig, sig_len, data, data_len, &auth, &auth_len) < 0 ||
            shield_write_file_atomic(out, auth, auth_len, 0644) < 0) {
                cli_error("%s: cannot write", out);
                goto out;
        }
        printf("%s: %s update, %zu bytes (PKCS#7 %zu bytes)\n", out, var, auth_len, sig_len);
        r = EXIT_OK;
out:
        if (key_pem)
                explicit_bzero(key_pem, key_len);
        free(key_pem);
        free(cert_der);
        free(data);
        free(tbs);
        free(sig);
        free(auth);
        return r;
}

static int verb_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "cert", required_argument, NULL, 'c' },
                { "var", required_argument, NULL, 'v' }, { "json", no_argument, NULL, 'j' }, {},
        };
        const char *cert = NULL, *var = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_verify, stdout); return EXIT_OK;
                case 'c': cert = optarg; break;
                case 'v': var = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!cert || optind != argc - 1)
                return cli_usage_error(usage_verify, "verify: FILE.auth and --cert are required");
        shield_guid vendor;
        if (var && shield_secure_boot_var_vendor(var, &vendor) < 0)
                return cli_usage_error(usage_verify, "verify: --var must be PK, KEK, db or dbx");

        const char *path = argv[optind];
        uint8_t *buf = NULL, *cert_der = NULL;
        size_t len, cert_len;
        struct shield_authvar2 a;
        struct shield_diag diag = { 0 };
        if (cli_read_file(path, INPUT_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_authvar2_parse(buf, len, &a, &diag);
        if (r < 0) {
                free(buf);
                return cli_parse_failed(path, r, &diag);
        }
        if ((r = read_cert(cert, &cert_der, &cert_len)) != 0) {
                free(buf);
                return r;
        }
        static const char *names[] = { "PK", "KEK", "db", "dbx" };
        const char *matched = NULL;
        bool appended = false;
        int bad_format = 0;
        for (size_t i = 0; i < 4 && !matched; i++) {
                if (var && strcmp(var, names[i]) != 0)
                        continue;
                if (shield_secure_boot_var_vendor(names[i], &vendor) < 0)
                        continue;
                for (int ap = 0; ap < 2 && !matched; ap++) {
                        uint8_t *tbs = NULL;
                        size_t tbs_len;
                        uint32_t attrs = SHIELD_VAR_SECURE_BOOT_DB | (ap ? SHIELD_VAR_APPEND_WRITE : 0);
                        if (shield_authvar2_signed_bytes(names[i], &vendor, attrs, a.timestamp, a.payload, a.payload_size, &tbs,
                                                         &tbs_len) < 0)
                                continue;
                        int v = shield_pkcs7_verify_detached(a.pkcs7, a.pkcs7_size, tbs, tbs_len, cert_der, cert_len);
                        bad_format |= v == SHIELD_E_FORMAT;
                        if (v == 0) {
                                matched = names[i];
                                appended = ap;
                        }
                        free(tbs);
                }
        }
        free(buf);
        free(cert_der);
        if (bad_format && !matched) {
                cli_error("%s: the certificate data is not a PKCS#7 SignedData", path);
                return EXIT_BAD_INPUT;
        }
        if (json)
                cli_print_json(json_pack("{s:b, s:s?, s:b}", "verified", matched != NULL, "variable", matched, "append", appended));
        else if (matched)
                printf("%s: verified: a %s%s update signed by a certificate chaining to %s\n", path, matched,
                       appended ? " (append)" : "", cert);
        else
                printf("%s: NOT verified by %s%s%s\n", path, cert, var ? " as an update of " : "", var ? var : "");
        return matched ? EXIT_OK : EXIT_VERIFY_FAILED;
}

int cmd_authvar(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "sign", "sign an update", verb_sign },
                { "verify", "check an update", verb_verify },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
