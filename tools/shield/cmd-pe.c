/* SPDX-License-Identifier: Apache-2.0 */
/* shield pe hash|show */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/authenticode.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/util.h"

static const char usage_family[] =
        "Usage: shield pe COMMAND [OPTIONS] FILE\n"
        "\n"
        "PE/COFF boot images (EFI applications, drivers, shim, grub, kernels).\n"
        "\n"
        "Commands:\n"
        "  hash   the Authenticode SHA-256 (what db/dbx hash entries and PCR 4 hold)\n"
        "  show   headers, sections and every signature\n"
        "  sign   add an Authenticode signature (as sbsign does)\n"
        "\n"
        "Run 'shield pe COMMAND --help' for details.\n";

static const char usage_hash[] =
        "Usage: shield pe hash FILE [--json]\n"
        "\n"
        "Print the Authenticode SHA-256 of a PE image, as UEFI firmware computes\n"
        "it (equal to pesign -h): the headers without CheckSum and the\n"
        "certificate-table entry, the sections in file order, then the data\n"
        "after them up to the signatures.\n"
        "\n"
        "Exit status: 0 printed, 2 not a valid PE image (the message gives the offset).\n";

static const char usage_show[] =
        "Usage: shield pe show FILE [--json]\n"
        "\n"
        "Show a PE image's headers, sections and data directories, and each\n"
        "Authenticode signature: signer, issuer, the digest it signs and whether\n"
        "that digest is the image's.\n"
        "\n"
        "Exit status: 0 shown and every signature signs this image, 1 a signature\n"
        "signs a different digest, 2 not a valid PE image.\n";

static const char usage_sign[] =
        "Usage: shield pe sign --key KEY --cert CERT IN -o OUT [--append]\n"
        "\n"
        "Sign a PE image with Authenticode, as sbsign does: a PKCS#7 SignedData\n"
        "(SHA-256) over the image's Authenticode digest, the signer certificate\n"
        "included, written to the certificate table. Without --append any\n"
        "existing signature is replaced; with it the new one is added after them.\n"
        "\n"
        "Options:\n"
        "  --key KEY     the signer's private key (PEM)\n"
        "  --cert CERT   the signer's certificate (DER or PEM)\n"
        "  --append      keep existing signatures\n"
        "  -o OUT        the signed image (written atomically)\n"
        "\n"
        "Exit status: 0 signed, 2 bad usage or input.\n";

static int load(const char *path, uint8_t **buf, size_t *len, struct shield_pe *pe) {
        struct shield_diag diag = { 0 };
        if (cli_read_file(path, SHIELD_PE_MAX, buf, len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_pe_parse(*buf, *len, pe, &diag);
        if (r < 0) {
                free(*buf);
                return cli_parse_failed(path, r, &diag);
        }
        return 0;
}

static int verb_hash(int argc, char **argv) {
        const char *path;
        bool json;
        int r = cli_parse_file_json(argc, argv, usage_hash, &path, &json);
        if (r >= 0)
                return r;
        uint8_t *buf, digest[32];
        size_t len;
        struct shield_pe pe;
        char hex[65];
        if ((r = load(path, &buf, &len, &pe)) != 0)
                return r;
        r = shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, digest);
        free(buf);
        if (r < 0) {
                cli_error("%s: %s", path, shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        shield_hex_encode(digest, 32, hex);
        if (json)
                cli_print_json(json_pack("{s:s, s:s, s:s}", "file", path, "algorithm", "sha256", "authenticode", hex));
        else
                printf("%s  %s\n", hex, path);
        return EXIT_OK;
}

/* Data directory names, by index (PE/COFF 3.4.3). */
static const char *const dir_names[SHIELD_PE_DIRECTORIES_MAX] = {
        "export", "import", "resource", "exception", "certificate", "base-relocation", "debug", "architecture",
        "global-ptr", "tls", "load-config", "bound-import", "iat", "delay-import", "clr-runtime", "reserved",
};

/* The certificates a signature carries, signer's chain first as the bag holds them: subject and issuer each. */
static json_t *chain_json(const struct shield_pe_signature *s, bool print) {
        uint8_t **certs = NULL;
        size_t *lens = NULL, n = 0;
        json_t *arr = json_array();
        if (shield_authenticode_chain(s->data, s->size, &certs, &lens, &n) < 0)
                return arr;
        for (size_t i = 0; i < n; i++) {
                struct shield_x509_info info;
                if (shield_x509_info(certs[i], lens[i], &info) == 0) {
                        json_array_append_new(arr, json_pack("{s:s, s:s}", "subject", info.subject, "issuer", info.issuer));
                        if (print)
                                printf("      cert %zu: %s\n              issued by %s\n", i, info.subject, info.issuer);
                }
                free(certs[i]);
        }
        free(certs);
        free(lens);
        return arr;
}

static int verb_show(int argc, char **argv) {
        const char *path;
        bool json;
        int r = cli_parse_file_json(argc, argv, usage_show, &path, &json);
        if (r >= 0)
                return r;
        uint8_t *buf, digest[32];
        size_t len;
        struct shield_pe pe;
        char hex[65];
        if ((r = load(path, &buf, &len, &pe)) != 0)
                return r;
        if (shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, digest) < 0) {
                free(buf);
                return EXIT_BAD_INPUT;
        }
        shield_hex_encode(digest, 32, hex);
        bool all_match = true;
        json_t *root = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I}", "file", path, "format",
                                 pe.pe32_plus ? "PE32+" : "PE32", "machine", (json_int_t)pe.machine, "subsystem",
                                 (json_int_t)pe.subsystem, "entry_point", (json_int_t)pe.entry_point, "checksum",
                                 (json_int_t)pe.checksum, "size_of_headers", (json_int_t)pe.size_of_headers,
                                 "authenticode_sha256", hex, "size", (json_int_t)len, "number_of_sections",
                                 (json_int_t)pe.n_sections);
        json_t *secs = json_array(), *dirs = json_array(), *sigs = json_array();
        if (!json)
                printf("%s: %s, machine 0x%04x, subsystem %u, %zu bytes\n"
                       "entry point 0x%08x, SizeOfHeaders 0x%x, CheckSum 0x%08x\n"
                       "Authenticode SHA-256  %s\n%-8s %10s %10s %10s %10s\n",
                       path, pe.pe32_plus ? "PE32+" : "PE32", pe.machine, pe.subsystem, len, pe.entry_point,
                       pe.size_of_headers, pe.checksum, hex, "SECTION", "VADDR", "VSIZE", "RAWOFF", "RAWSIZE");
        for (size_t i = 0; i < pe.n_sections; i++) {
                const struct shield_pe_section *s = &pe.sections[i];
                json_array_append_new(secs, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "name", s->name, "virtual_address",
                                                      (json_int_t)s->virtual_address, "virtual_size", (json_int_t)s->virtual_size,
                                                      "raw_offset", (json_int_t)s->raw_offset, "raw_size", (json_int_t)s->raw_size,
                                                      "characteristics", (json_int_t)s->characteristics));
                if (!json)
                        printf("%-8s 0x%08x 0x%08x 0x%08x 0x%08x\n", s->name, s->virtual_address, s->virtual_size,
                               s->raw_offset, s->raw_size);
        }
        if (!json)
                printf("Data directories: %zu\n", pe.n_directories);
        for (size_t i = 0; i < pe.n_directories; i++) {
                json_array_append_new(dirs, json_pack("{s:s, s:I, s:I}", "name", dir_names[i], "virtual_address",
                                                      (json_int_t)pe.directories[i].virtual_address, "size",
                                                      (json_int_t)pe.directories[i].size));
                if (!json && (pe.directories[i].virtual_address || pe.directories[i].size))
                        printf("  %-16s 0x%08x 0x%08x%s\n", dir_names[i], pe.directories[i].virtual_address,
                               pe.directories[i].size, i == 4 ? " (file offset)" : "");
        }
        if (!json)
                printf("Signatures: %zu (certificate table 0x%x bytes at 0x%x)\n", pe.n_signatures, pe.cert_table_size,
                       pe.cert_table_offset);
        for (size_t i = 0; i < pe.n_signatures; i++) {
                struct shield_authenticode a;
                char d[129] = "", sha1[41] = "";
                uint8_t own[64];
                bool ok = shield_authenticode_parse(pe.signatures[i].data, pe.signatures[i].size, &a) == 0;
                /* Compare with the image's digest under the signature's own algorithm, as firmware does. */
                size_t size = ok ? shield_hash_size(a.digest_alg) : 0;
                bool matches = size && a.digest_size == size && shield_pe_authenticode_hash(&pe, a.digest_alg, own) == 0 &&
                               memcmp(a.digest, own, size) == 0;
                const char *alg = ok && shield_hash_name(a.digest_alg) ? shield_hash_name(a.digest_alg) : "?";
                all_match &= matches;
                if (ok) {
                        shield_hex_encode(a.digest, a.digest_size, d);
                        shield_hex_encode(a.signer_sha1, 20, sha1);
                }
                if (!json) {
                        if (ok)
                                printf("  [%zu] signer %s\n      issuer %s\n      signs %s %s (%s)\n", i, a.signer_subject,
                                       a.signer_issuer, alg, d, matches ? "matches the image" : "DOES NOT match the image");
                        else
                                printf("  [%zu] not an Authenticode PKCS#7 signature (WIN_CERTIFICATE type 0x%04x, %zu bytes)\n", i,
                                       pe.signatures[i].type, pe.signatures[i].size);
                }
                json_t *chain = ok ? chain_json(&pe.signatures[i], !json) : NULL;
                json_array_append_new(sigs, ok ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:o}", "signer", a.signer_subject,
                                                           "issuer", a.signer_issuer, "signer_sha1", sha1, "digest_algorithm", alg,
                                                           "signed_digest", d, "matches_image", matches, "certificates",
                                                           (json_int_t)a.n_certs, "chain", chain)
                                                 : json_pack("{s:s, s:I}", "error", "not an Authenticode PKCS#7 signature",
                                                             "type", (json_int_t)pe.signatures[i].type));
        }
        json_object_set_new(root, "sections", secs);
        json_object_set_new(root, "data_directories", dirs);
        json_object_set_new(root, "signatures", sigs);
        if (json)
                cli_print_json(root);
        else
                json_decref(root);
        free(buf);
        return all_match ? EXIT_OK : EXIT_VERIFY_FAILED;
}

static int verb_sign(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },       { "key", required_argument, NULL, 'k' },
                { "cert", required_argument, NULL, 'c' }, { "append", no_argument, NULL, 'a' },
                { "output", required_argument, NULL, 'o' }, {},
        };
        const char *key = NULL, *cert = NULL, *out = NULL;
        bool append = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_sign, stdout); return EXIT_OK;
                case 'k': key = optarg; break;
                case 'c': cert = optarg; break;
                case 'a': append = true; break;
                case 'o': out = optarg; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!key || !cert || !out || optind != argc - 1)
                return cli_usage_error(usage_sign, "sign: --key, --cert, -o and one IN image are required");

        uint8_t *img = NULL, *key_pem = NULL, *cert_buf = NULL, *cert_der = NULL, *signed_img = NULL;
        size_t img_len, key_len, cert_len, der_len, signed_len;
        struct shield_pe pe;
        uint8_t digest[32];
        int r = EXIT_BAD_INPUT;

        if ((r = load(argv[optind], &img, &img_len, &pe)) != 0)
                return r;
        r = EXIT_BAD_INPUT;
        if (cli_read_file(key, 1 << 20, &key_pem, &key_len) != 0 || cli_read_file(cert, 1 << 20, &cert_buf, &cert_len) != 0)
                goto out;
        if (shield_x509_load(cert_buf, cert_len, &cert_der, &der_len) < 0) {
                cli_error("%s: not an X.509 certificate", cert);
                goto out;
        }
        int s = shield_pe_sign(img, img_len, (const char *)key_pem, key_len, cert_der, der_len, append, &signed_img,
                               &signed_len, digest);
        if (s < 0) {
                cli_error("%s: cannot sign: %s", argv[optind],
                          s == SHIELD_E_UNSUPPORTED ? "no room for a certificate table, or it is not at the end of the file"
                          : s == SHIELD_E_INVAL     ? "the key does not belong to the certificate"
                          : s == SHIELD_E_FORMAT    ? "the key is not a PEM private key"
                                                    : shield_strerror(s));
                goto out;
        }
        if (shield_write_file_atomic(out, signed_img, signed_len, 0644) < 0) {
                cli_error("%s: cannot write", out);
                goto out;
        }
        char hex[65];
        shield_hex_encode(digest, 32, hex);
        printf("%s: signed (Authenticode SHA-256 %s)\n", out, hex);
        r = EXIT_OK;
out:
        if (key_pem)
                explicit_bzero(key_pem, key_len);
        free(key_pem);
        free(img);
        free(cert_buf);
        free(cert_der);
        free(signed_img);
        return r;
}

int cmd_pe(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "hash", "Authenticode SHA-256", verb_hash },
                { "show", "headers and signatures", verb_show },
                { "sign", "add an Authenticode signature", verb_sign },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
