/* SPDX-License-Identifier: Apache-2.0 */
/* shield siglist create|show */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/uefi.h"
#include "shield/util.h"

#define SIGLIST_FILE_MAX (16u << 20)

static const char usage_family[] =
        "Usage: shield siglist COMMAND [OPTIONS]\n"
        "\n"
        "EFI signature lists (EFI_SIGNATURE_LIST): the format of the PK, KEK,\n"
        "db and dbx Secure Boot databases.\n"
        "\n"
        "Commands:\n"
        "  create   build a signature list from certificates and hashes\n"
        "  show     list what a signature list (or a signed update) holds\n"
        "\n"
        "Run 'shield siglist COMMAND --help' for details.\n";

static const char usage_create[] =
        "Usage: shield siglist create (--x509 CERT | --sha256 HEX | --sha256-of FILE)… [--owner GUID]\n"
        "                             -o FILE.esl\n"
        "\n"
        "Build an EFI signature list file: one EFI_CERT_X509 list per certificate\n"
        "(DER or PEM), then one EFI_CERT_SHA256 list holding every hash, in the\n"
        "order given. The bytes equal efitools' cert-to-efi-sig-list -g GUID and\n"
        "hash-to-efi-sig-list for the same inputs.\n"
        "\n"
        "Options:\n"
        "  --x509 CERT    add a certificate (repeatable)\n"
        "  --sha256 HEX   add a SHA-256 hash, 64 hex digits (repeatable)\n"
        "  --sha256-of FILE  add the Authenticode SHA-256 of a PE/COFF image, the\n"
        "                 hash firmware looks up in db and dbx (repeatable)\n"
        "  --owner GUID   the SignatureOwner (default: all zeros)\n"
        "  -o FILE        where to write (written atomically)\n"
        "  -h, --help     this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or input.\n"
        "\n"
        "Example:\n"
        "  shield siglist create --x509 keys/db.der --owner $(cat keys/owner.guid) -o db.esl\n";

static const char usage_show[] =
        "Usage: shield siglist show FILE [--json]\n"
        "\n"
        "List every entry of an EFI signature list file: its type, owner, and\n"
        "for certificates the subject, issuer and SHA-1 thumbprint. A signed\n"
        "update (EFI_VARIABLE_AUTHENTICATION_2, such as Microsoft's\n"
        "DBXUpdate.bin) is unwrapped first.\n"
        "\n"
        "Options:\n"
        "  --json       the entries as JSON\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 shown, 2 the file is not a signature list (the message\n"
        "gives the byte offset).\n";

static int parse_sha256(const char *hex, uint8_t out[32]) {
        uint8_t *h = NULL;
        size_t len = 0;
        int r = shield_hex_decode(hex, &h, &len);
        if (r == 0 && len != 32)
                r = SHIELD_E_FORMAT;
        if (r == 0)
                memcpy(out, h, 32);
        free(h);
        return r;
}

/*
 * The Authenticode SHA-256 of a PE/COFF image: what firmware compares with
 * db and dbx hash entries (and what hash-to-efi-sig-list puts there). The
 * plain file hash would never match, so a file that is not a PE image is
 * refused rather than hashed whole.
 */
static int image_sha256(const char *path, uint8_t out[32]) {
        uint8_t *buf = NULL;
        size_t len;
        struct shield_diag diag = { 0 };
        int r;

        if (cli_read_file(path, SHIELD_PE_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        struct shield_pe *pe = malloc(sizeof *pe);
        if (!pe) {
                free(buf);
                return EXIT_BAD_INPUT;
        }
        r = shield_pe_parse(buf, len, pe, &diag);
        if (r < 0) {
                r = cli_parse_failed(path, r, &diag);
                cli_error("--sha256-of takes a PE/COFF image; give other hashes with --sha256 HEX");
        } else if (shield_pe_authenticode_hash(pe, SHIELD_ALG_SHA256, out) < 0) {
                cli_error("%s: cannot compute the Authenticode hash", path);
                r = EXIT_BAD_INPUT;
        }
        free(pe);
        free(buf);
        return r;
}

static int verb_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },      { "x509", required_argument, NULL, 'x' },
                { "sha256", required_argument, NULL, 's' }, { "sha256-of", required_argument, NULL, 'f' },
                { "owner", required_argument, NULL, 'g' },  { "output", required_argument, NULL, 'o' }, {},
        };
        shield_guid owner = { 0 };
        const char *out = NULL;
        uint8_t *esl = NULL, (*hashes)[32] = NULL;
        size_t esl_len = 0, n_hashes = 0, n_certs = 0;
        int c, r = EXIT_BAD_INPUT;

        optind = 0;
        opterr = 0;
        /* First pass: the owner must be known before any list is built. */
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0) {
                if (c == 'h') {
                        fputs(usage_create, stdout);
                        return EXIT_OK;
                }
                if (c == '?')
                        return EXIT_BAD_INPUT; /* said by cli_getopt */
                if (c == 'g' && shield_guid_parse(optarg, &owner) < 0)
                        return cli_usage_error(usage_create, "create: '%s' is not a GUID", optarg);
                if (c == 'o')
                        out = optarg;
        }
        if (!out || optind != argc)
                return cli_usage_error(usage_create, "create: -o FILE is required, and no other arguments");
        optind = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0) {
                if (c == 'x') {
                        uint8_t *buf = NULL, *der = NULL;
                        size_t len, der_len;
                        if (cli_read_file(optarg, SIGLIST_FILE_MAX, &buf, &len) != 0)
                                goto out;
                        int x = shield_x509_load(buf, len, &der, &der_len);
                        free(buf);
                        if (x < 0) {
                                cli_error("%s: not an X.509 certificate (DER or PEM)", optarg);
                                goto out;
                        }
                        x = shield_siglist_append_x509(&esl, &esl_len, &owner, der, der_len);
                        free(der);
                        if (x < 0)
                                goto out;
                        n_certs++;
                } else if (c == 's' || c == 'f') {
                        uint8_t h[32];
                        if (c == 's' && parse_sha256(optarg, h) < 0) {
                                r = cli_usage_error(usage_create, "create: --sha256 takes 64 hex digits, not '%s'", optarg);
                                goto out;
                        }
                        if (c == 'f' && image_sha256(optarg, h) != 0)
                                goto out;
                        void *grown = reallocarray(hashes, n_hashes + 1, 32);
                        if (!grown)
                                goto out;
                        hashes = grown;
                        memcpy(hashes[n_hashes++], h, 32);
                }
        }
        if (n_hashes && shield_siglist_append_sha256(&esl, &esl_len, &owner, (const uint8_t(*)[32])hashes, n_hashes) < 0)
                goto out;
        if (!esl_len) {
                r = cli_usage_error(usage_create, "create: give at least one --x509, --sha256 or --sha256-of");
                goto out;
        }
        if (shield_write_file_atomic(out, esl, esl_len, 0644) < 0) {
                cli_error("%s: cannot write", out);
                goto out;
        }
        printf("%s: %zu certificate%s, %zu hash%s, %zu bytes\n", out, n_certs, n_certs == 1 ? "" : "s", n_hashes,
               n_hashes == 1 ? "" : "es", esl_len);
        r = EXIT_OK;
out:
        free(esl);
        free(hashes);
        return r;
}

/* Entries as JSON, shared with other commands that show databases. */
json_t *cli_siglist_json(const struct shield_siglist *list) {
        json_t *arr = json_array();

        for (size_t i = 0; i < list->n; i++) {
                const struct shield_siglist_entry *e = &list->entries[i];
                char type[SHIELD_GUID_STRING_SIZE], owner[SHIELD_GUID_STRING_SIZE];
                json_t *o = json_object();
                shield_guid_format(&e->type, type);
                shield_guid_format(&e->owner, owner);
                json_object_set_new(o, "type", json_string(shield_guid_name(&e->type) ? shield_guid_name(&e->type) : type));
                json_object_set_new(o, "owner", json_string(owner));
                json_object_set_new(o, "list", json_integer(e->list_index));
                struct shield_x509_info info;
                if (shield_guid_eq(&e->type, &SHIELD_GUID_CERT_X509) && shield_x509_info(e->data, e->size, &info) == 0) {
                        char sha1[41];
                        shield_hex_encode(info.sha1, 20, sha1);
                        json_object_set_new(o, "subject", json_string(info.subject));
                        json_object_set_new(o, "issuer", json_string(info.issuer));
                        json_object_set_new(o, "sha1", json_string(sha1));
                } else {
                        char *hex = malloc(2 * e->size + 1);
                        if (hex) {
                                shield_hex_encode(e->data, e->size, hex);
                                json_object_set_new(o, "data", json_string(hex));
                        }
                        free(hex);
                }
                json_array_append_new(arr, o);
        }
        return arr;
}

void cli_siglist_print(const struct shield_siglist *list, const char *indent) {
        size_t x, h, o;

        shield_siglist_counts(list, &x, &h, &o);
        printf("%s%zu list%s: %zu certificate%s, %zu hash%s%s\n", indent, list->n_lists, list->n_lists == 1 ? "" : "s",
               x, x == 1 ? "" : "s", h, h == 1 ? "" : "es", o ? ", other entries" : "");
        for (size_t i = 0; i < list->n; i++) {
                const struct shield_siglist_entry *e = &list->entries[i];
                const char *type = shield_guid_name(&e->type);
                struct shield_x509_info info;
                if (shield_guid_eq(&e->type, &SHIELD_GUID_CERT_X509) && shield_x509_info(e->data, e->size, &info) == 0) {
                        char sha1[41];
                        shield_hex_encode(info.sha1, 20, sha1);
                        printf("%s  X509    %s  sha1 %s\n", indent, info.subject, sha1);
                } else if (h <= 8 || i < 4) {
                        char hex[65];
                        shield_hex_encode(e->data, e->size < 32 ? e->size : 32, hex);
                        /* "EFI_CERT_SHA256_GUID" → "SHA256". */
                        char shortname[40] = "?";
                        if (type) {
                                const char *t = strncmp(type, "EFI_CERT_", 9) == 0 ? type + 9 : type;
                                size_t n = strlen(t);
                                if (n > 5 && strcmp(t + n - 5, "_GUID") == 0)
                                        n -= 5;
                                snprintf(shortname, sizeof shortname, "%.*s", (int)n, t);
                        }
                        printf("%s  %-7s %s\n", indent, shortname, hex);
                } else if (i == 4) {
                        printf("%s  … %zu more\n", indent, list->n - 4);
                }
        }
}

static int verb_show(int argc, char **argv) {
        const char *path;
        bool json;
        int parsed = cli_parse_file_json(argc, argv, usage_show, &path, &json);
        if (parsed >= 0)
                return parsed;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (cli_read_file(path, SIGLIST_FILE_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;

        struct shield_siglist list;
        struct shield_diag diag = { 0 }, adiag = { 0 };
        struct shield_authvar2 auth;
        bool signed_update = false;
        int r = shield_siglist_parse(buf, len, &list, &diag);
        if (r < 0 && shield_authvar2_parse(buf, len, &auth, &adiag) == 0) {
                struct shield_diag inner = { 0 };
                r = shield_siglist_parse(auth.payload, auth.payload_size, &list, &inner);
                if (r < 0) {
                        diag = inner;
                        diag.offset += (size_t)(auth.payload - buf);
                } else {
                        signed_update = true;
                }
        }
        if (r < 0) {
                free(buf);
                return cli_parse_failed(path, r, &diag);
        }
        if (json) {
                json_t *root = json_pack("{s:b, s:I, s:o}", "signed_update", signed_update, "lists",
                                         (json_int_t)list.n_lists, "entries", cli_siglist_json(&list));
                cli_print_json(root);
        } else {
                if (signed_update)
                        printf("%s: a signed update (EFI_VARIABLE_AUTHENTICATION_2, %zu-byte PKCS#7)\n", path, auth.pkcs7_size);
                cli_siglist_print(&list, "");
        }
        shield_siglist_clear(&list);
        free(buf);
        return EXIT_OK;
}

int cmd_siglist(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "create", "build a signature list", verb_create },
                { "show", "show a signature list", verb_show },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
