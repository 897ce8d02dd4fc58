/* SPDX-License-Identifier: Apache-2.0 */
/* shield keys generate */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/keys.h"
#include "shield/uefi.h"
#include "shield/util.h"

static const char usage_family[] =
        "Usage: shield keys COMMAND [OPTIONS]\n"
        "\n"
        "Secure Boot owner keys.\n"
        "\n"
        "Commands:\n"
        "  generate   make PK, KEK and db key pairs with self-signed certificates\n"
        "\n"
        "Run 'shield keys COMMAND --help' for details.\n";

static const char usage_generate[] =
        "Usage: shield keys generate --out DIR [--cn-prefix NAME] [--algo ALGO] [--force] [--json]\n"
        "\n"
        "Make the three key pairs of a Secure Boot owner: the platform key (PK),\n"
        "a key-exchange key (KEK) and a signature-database key (db). Each gets a\n"
        "self-signed X.509 certificate (SHA-256, valid ten years, subject\n"
        "\"CN=<prefix> PK\" etc.), as openssl genrsa + openssl req -x509 would.\n"
        "\n"
        "Files in DIR: PK.key PK.der PK.crt, KEK.key KEK.der KEK.crt,\n"
        "db.key db.der db.crt (.key: PEM private key, mode 0600; .der: the\n"
        "certificate in DER; .crt: the certificate in PEM), and owner.guid: the\n"
        "owner GUID for signature lists, chosen once and kept on later runs.\n"
        "\n"
        "Options:\n"
        "  --out DIR         where to write (created with its parents if missing)\n"
        "  --cn-prefix NAME  subject prefix (default \"Shieldkit\")\n"
        "  --algo ALGO       rsa2048 (default), rsa3072, rsa4096 or ec-p256\n"
        "  --force           replace existing keys\n"
        "  --json            the files and certificate thumbprints as JSON\n"
        "  -h, --help        this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage, keys already present, or a write failed.\n"
        "\n"
        "Example:\n"
        "  shield keys generate --out ./keys --cn-prefix \"Example Corp\"\n";

static int write_or_fail(const char *dir, const char *name, const void *data, size_t len, unsigned mode) {
        char *path = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return EXIT_BAD_INPUT;
        r = shield_write_file_atomic(path, data, len, mode);
        if (r < 0)
                cli_error("%s: %s", path, strerror(errno));
        free(path);
        return r < 0 ? EXIT_BAD_INPUT : 0;
}

/* The owner GUID: kept in DIR/owner.guid once chosen. */
static int owner_guid(const char *dir, char out[SHIELD_GUID_STRING_SIZE]) {
        char *path = NULL;
        uint8_t *text = NULL;
        size_t len;
        shield_guid g;

        if (asprintf(&path, "%s/owner.guid", dir) < 0)
                return EXIT_BAD_INPUT;
        if (shield_read_file(path, 64, &text, &len) == 0) {
                while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
                        text[--len] = '\0';
                int r = shield_guid_parse((char *)text, &g);
                free(text);
                if (r < 0) {
                        cli_error("%s: not a GUID", path);
                        free(path);
                        return EXIT_BAD_INPUT;
                }
                free(path);
                shield_guid_format(&g, out);
                return 0;
        }
        free(path);
        if (shield_random_bytes(g.b, sizeof g.b) < 0) {
                cli_error("no randomness");
                return EXIT_BAD_INPUT;
        }
        g.b[7] = (uint8_t)((g.b[7] & 0x0f) | 0x40); /* RFC 4122 version 4, in EFI byte order */
        g.b[8] = (uint8_t)((g.b[8] & 0x3f) | 0x80);
        shield_guid_format(&g, out);
        char line[SHIELD_GUID_STRING_SIZE + 1];
        snprintf(line, sizeof line, "%s\n", out);
        return write_or_fail(dir, "owner.guid", line, strlen(line), 0644);
}


static int verb_generate(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },        { "out", required_argument, NULL, 'o' },
                { "cn-prefix", required_argument, NULL, 'c' }, { "algo", required_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },       { "json", no_argument, NULL, 'j' },
                {},
        };
        const char *out = NULL, *prefix = "Shieldkit", *algo_name = "rsa2048";
        bool force = false, json = false;
        enum shield_key_algo algo;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_generate, stdout); return EXIT_OK;
                case 'o': out = optarg; break;
                case 'c': prefix = optarg; break;
                case 'a': algo_name = optarg; break;
                case 'f': force = true; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!out || optind != argc)
                return cli_usage_error(usage_generate, "generate: --out DIR is required, and nothing else");
        if (shield_key_algo_from_name(algo_name, &algo) < 0)
                return cli_usage_error(usage_generate, "generate: unknown --algo '%s'", algo_name);
        if (shield_mkdir_parents(out, 0755, 0755) < 0) {
                cli_error("%s: %s", out, strerror(errno));
                return EXIT_BAD_INPUT;
        }
        static const char *names[] = { "PK", "KEK", "db" };
        for (size_t i = 0; i < 3 && !force; i++) {
                char *p = NULL;
                if (asprintf(&p, "%s/%s.key", out, names[i]) < 0)
                        return EXIT_BAD_INPUT;
                bool exists = access(p, F_OK) == 0;
                if (exists)
                        cli_error("%s exists: refusing to replace keys without --force", p);
                free(p);
                if (exists)
                        return EXIT_BAD_INPUT;
        }
        char guid[SHIELD_GUID_STRING_SIZE];
        int r = owner_guid(out, guid);
        if (r)
                return r;

        json_t *files = json_object();
        for (size_t i = 0; i < 3; i++) {
                struct shield_keypair kp;
                struct shield_x509_info info;
                char *cn = NULL, fname[16], sha1[41];

                fprintf(stderr, "keys: generating %s (%s)…\n", names[i], algo_name);
                if (asprintf(&cn, "%s %s", prefix, names[i]) < 0 ||
                    shield_keypair_generate(algo, cn, 3650, &kp) < 0) {
                        cli_error("generating the %s key failed", names[i]);
                        free(cn);
                        json_decref(files);
                        return EXIT_BAD_INPUT;
                }
                free(cn);
                snprintf(fname, sizeof fname, "%s.key", names[i]);
                r = write_or_fail(out, fname, kp.key_pem, kp.key_pem_len, 0600);
                snprintf(fname, sizeof fname, "%s.der", names[i]);
                r = r ? r : write_or_fail(out, fname, kp.cert_der, kp.cert_der_len, 0644);
                snprintf(fname, sizeof fname, "%s.crt", names[i]);
                r = r ? r : write_or_fail(out, fname, kp.cert_pem, kp.cert_pem_len, 0644);
                if (r == 0 && shield_x509_info(kp.cert_der, kp.cert_der_len, &info) == 0) {
                        shield_hex_encode(info.sha1, 20, sha1);
                        json_object_set_new(files, names[i], json_pack("{s:s, s:s, s:s}", "subject", info.subject,
                                                                       "sha1", sha1, "key_type", info.key_type));
                }
                shield_keypair_clear(&kp);
                if (r) {
                        json_decref(files);
                        return r;
                }
        }
        if (json) {
                json_t *root = json_pack("{s:s, s:s, s:o}", "directory", out, "owner_guid", guid, "keys", files);
                cli_print_json(root);
        } else {
                printf("wrote PK, KEK and db keys to %s (owner GUID %s)\n", out, guid);
                json_decref(files);
        }
        return EXIT_OK;
}

int cmd_keys(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "generate", "make key pairs", verb_generate },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
