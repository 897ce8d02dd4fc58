/* SPDX-License-Identifier: Apache-2.0 */
/* shield tpm provision | pcrs | quote | verify-quote */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/tpm.h"
#include "shield/util.h"

static const char usage_family[] =
        "Usage: shield tpm COMMAND [OPTIONS]\n"
        "\n"
        "The TPM: keys and certificates for attestation, PCRs and quotes.\n"
        "\n"
        "Commands:\n"
        "  provision     make and persist the EK and AK, certify them with a platform CA\n"
        "  pcrs          read PCRs 0-23 of every active bank\n"
        "  quote         quote the PCRs with the AK and write evidence JSON\n"
        "  verify-quote  check the quote in an evidence file (signature, nonce, PCRs, AK certificate)\n"
        "\n"
        "TCTI strings are tpm2-tss's: swtpm:host=127.0.0.1,port=2321, device:/dev/tpmrm0,\n"
        "mssim:host=…,port=…; without --tcti, $TPM2TOOLS_TCTI or device:/dev/tpmrm0.\n"
        "\n"
        "Run 'shield tpm COMMAND --help' for details.\n";

static const char usage_provision[] =
        "Usage: shield tpm provision [--tcti T] --name NAME --ca-dir DIR [--days N] [--json]\n"
        "\n"
        "Make the TPM ready to attest (idempotent: keys already in place are kept):\n"
        "  EK  RSA-2048, TCG default template (policy A), persisted at 0x81010001,\n"
        "      certificate \"CN=NAME EK\" (keyEncipherment) in NV 0x01c00002;\n"
        "  AK  RSA-2048 restricted signing key (RSASSA/SHA-256), a primary of the\n"
        "      endorsement hierarchy, persisted at 0x81010002, certificate\n"
        "      \"CN=NAME AK\" (digitalSignature) in NV 0x01c10000.\n"
        "The certificates are issued by the platform CA in DIR (ca.key, ca.crt),\n"
        "which is made first when DIR has none (ECDSA P-256, ten years).\n"
        "Owner and endorsement hierarchies must have empty auth.\n"
        "\n"
        "Options:\n"
        "  --tcti T      the TPM (see 'shield tpm --help')\n"
        "  --name NAME   the instance name, in the certificates' subjects\n"
        "  --ca-dir DIR  the platform CA (created with mode 0700 if missing)\n"
        "  --days N      certificate validity (default 3650)\n"
        "  --json        handles, NV indexes and certificates as JSON\n"
        "  -h, --help    this text\n"
        "\n"
        "Exit status: 0 provisioned, 2 bad usage, a TPM or CA error.\n"
        "\n"
        "Example:\n"
        "  shield tpm provision --tcti swtpm:host=127.0.0.1,port=2321 --name vm1 --ca-dir ./ca\n";

static const char usage_pcrs[] =
        "Usage: shield tpm pcrs [--tcti T] [--json]\n"
        "\n"
        "Read PCRs 0-23 of every active bank. Text: one \"BANK PCR HEX\" line per\n"
        "PCR; --json: the PCRS.json form {\"sha256\": {\"0\": \"hex\", …}, …}.\n"
        "\n"
        "Options:\n"
        "  --tcti T    the TPM (see 'shield tpm --help')\n"
        "  --json      PCRS.json on stdout\n"
        "  -h, --help  this text\n"
        "\n"
        "Exit status: 0 read, 2 bad usage or a TPM error.\n";

static const char usage_quote[] =
        "Usage: shield tpm quote [--tcti T] --nonce HEX [--ak-handle H] -o FILE\n"
        "\n"
        "Quote PCRs 0-23 of every active bank with the AK (qualifyingData = the\n"
        "nonce) and write shieldkit-evidence/1 JSON (docs/EVIDENCE.md): the quote,\n"
        "the PCR values it covers, the AK public area and the AK/EK certificates\n"
        "when their NV indexes exist. No event log or IMA list: 'shield attest'\n"
        "adds those.\n"
        "\n"
        "Options:\n"
        "  --tcti T        the TPM (see 'shield tpm --help')\n"
        "  --nonce HEX     1 to 64 bytes from the verifier\n"
        "  --ak-handle H   the AK's persistent handle (default 0x81010002)\n"
        "  -o, --out FILE  where to write the evidence (\"-\" for stdout)\n"
        "  -h, --help      this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or a TPM error.\n";

static const char usage_verify[] =
        "Usage: shield tpm verify-quote --evidence FILE [--nonce HEX] [--ca CERT] [--json]\n"
        "\n"
        "Check the quote of an evidence file without a TPM: the attestation is a\n"
        "TPM-made quote, its signature verifies with the AK public key, it was\n"
        "signed by that AK, its extraData is the nonce, and its PCR digest is the\n"
        "digest of the PCR values reported. With --ca, also the AK certificate:\n"
        "it certifies the AK's key, the CA signed it, and it is valid now.\n"
        "\n"
        "Options:\n"
        "  --evidence FILE  shieldkit-evidence/1 JSON (\"-\" for stdin)\n"
        "  --nonce HEX      the nonce issued (default: the evidence's own \"nonce\")\n"
        "  --ca CERT        the platform CA certificate (PEM or DER)\n"
        "  --json           {\"verified\": bool, \"reasons\": […]}\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: 0 verified, 1 a check failed (reasons printed), 2 bad usage or\n"
        "unreadable input.\n"
        "\n"
        "Example:\n"
        "  shield tpm verify-quote --evidence ev.json --nonce 0011aabb --ca ca/ca.crt\n";

/* tss2 logs its errors to stderr; ours say the same with context. TSS2_LOG set by the user wins. */
static void quiet_tss(void) {
        setenv("TSS2_LOG", "all+NONE", 0);
}

static int open_tpm(const char *tcti, struct shield_tpm **ret) {
        struct shield_diag diag = { 0 };
        quiet_tss();
        int r = shield_tpm_open(tcti, ret, &diag);
        if (r < 0) {
                cli_error("%s", diag.msg[0] ? diag.msg : shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int tpm_failed(const char *what, int r, const struct shield_diag *diag) {
        cli_error("%s: %s", what, diag->msg[0] ? diag->msg : shield_strerror(r));
        return EXIT_BAD_INPUT;
}

static int parse_nonce(const char *hex, const char *usage, uint8_t **ret, size_t *ret_len) {
        if (shield_hex_decode(hex, ret, ret_len) < 0 || *ret_len == 0 || *ret_len > SHIELD_TPM_NONCE_MAX) {
                free(*ret);
                *ret = NULL;
                return cli_usage_error(usage, "--nonce must be 1 to %d bytes of hex", SHIELD_TPM_NONCE_MAX);
        }
        return 0;
}

static json_t *cert_json(const uint8_t *der, size_t len) {
        struct shield_x509_info info;
        char sha256[65];
        if (!der || shield_x509_info(der, len, &info) < 0)
                return json_null();
        shield_hex_encode(info.sha256, 32, sha256);
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "subject", info.subject, "issuer", info.issuer, "not_after",
                         info.not_after, "key_type", info.key_type, "sha256", sha256);
}

static int verb_provision(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "tcti", required_argument, NULL, 't' },
                { "name", required_argument, NULL, 'n' },    { "ca-dir", required_argument, NULL, 'c' },
                { "days", required_argument, NULL, 'd' },    { "json", no_argument, NULL, 'j' },
                {},
        };
        const char *tcti = NULL, *name = NULL, *ca_dir = NULL;
        uint64_t days = 3650;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage_provision, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'n': name = optarg; break;
                case 'c': ca_dir = optarg; break;
                case 'd':
                        if (shield_parse_u64(optarg, 10, 36500, &days) < 0 || days == 0)
                                return cli_usage_error(usage_provision, "provision: --days must be 1 to 36500");
                        break;
                case 'j': json = true; break;
                default:
                        return cli_usage_error(usage_provision, "provision: unknown option '%s'", argv[optind - 1]);
                }
        if (!name || !*name || !ca_dir || optind != argc)
                return cli_usage_error(usage_provision, "provision: --name NAME and --ca-dir DIR are required");

        if (mkdir(ca_dir, 0700) < 0 && errno != EEXIST) {
                cli_error("%s: %s", ca_dir, strerror(errno));
                return EXIT_BAD_INPUT;
        }
        struct shield_diag diag = { 0 };
        bool created = false;
        int r = shield_ca_ensure(ca_dir, NULL, &created, &diag);
        if (r < 0)
                return tpm_failed(ca_dir, r, &diag);
        if (created && !json)
                fprintf(stderr, "tpm: made a platform CA in %s\n", ca_dir);

        char *key_path = NULL, *cert_path = NULL;
        struct shield_tpm *t = NULL;
        uint8_t *ak_cert = NULL, *ek_cert = NULL, *ak_pub = NULL;
        size_t ak_cert_len = 0, ek_cert_len = 0, ak_pub_len = 0;
        if (asprintf(&key_path, "%s/ca.key", ca_dir) < 0 || asprintf(&cert_path, "%s/ca.crt", ca_dir) < 0) {
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if ((r = open_tpm(tcti, &t)) != 0)
                goto out;
        struct shield_tpm_provision_opts o = {
                .name = name, .ca_key_path = key_path, .ca_cert_path = cert_path, .days = (unsigned)days,
        };
        r = shield_tpm_provision(t, &o, &diag);
        if (r < 0) {
                r = tpm_failed("provision", r, &diag);
                goto out;
        }
        /* Read back what an agent will read. */
        if ((r = shield_tpm_nv_read(t, SHIELD_TPM_AK_CERT_NV, &ak_cert, &ak_cert_len, &diag)) < 0 ||
            (r = shield_tpm_nv_read(t, SHIELD_TPM_EK_CERT_NV, &ek_cert, &ek_cert_len, &diag)) < 0 ||
            (r = shield_tpm_read_public(t, SHIELD_TPM_AK_HANDLE, &ak_pub, &ak_pub_len, &diag)) < 0) {
                r = tpm_failed("reading back", r, &diag);
                goto out;
        }
        if (json) {
                json_t *root = json_object();
                json_object_set_new(root, "ca_created", json_boolean(created));
                json_object_set_new(root, "ca_certificate", json_string(cert_path));
                json_object_set_new(root, "ek_handle", json_string("0x81010001"));
                json_object_set_new(root, "ek_certificate_nv", json_string("0x01c00002"));
                json_object_set_new(root, "ek_certificate", cert_json(ek_cert, ek_cert_len));
                json_object_set_new(root, "ak_handle", json_string("0x81010002"));
                json_object_set_new(root, "ak_certificate_nv", json_string("0x01c10000"));
                json_object_set_new(root, "ak_certificate", cert_json(ak_cert, ak_cert_len));
                char *b64 = shield_base64_encode(ak_pub, ak_pub_len);
                json_object_set_new(root, "ak_public", b64 ? json_string(b64) : json_null());
                free(b64);
                cli_print_json(root);
        } else {
                printf("EK 0x81010001, certificate in NV 0x01c00002 (%zu bytes)\n", ek_cert_len);
                printf("AK 0x81010002, certificate in NV 0x01c10000 (%zu bytes)\n", ak_cert_len);
                printf("issued by %s\n", cert_path);
        }
        r = EXIT_OK;
out:
        shield_tpm_close(t);
        free(ak_cert);
        free(ek_cert);
        free(ak_pub);
        free(key_path);
        free(cert_path);
        return r;
}

static int verb_pcrs(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "tcti", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' }, {},
        };
        const char *tcti = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage_pcrs, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_pcrs, "pcrs: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc)
                return cli_usage_error(usage_pcrs, "pcrs: no arguments expected");

        struct shield_tpm *t = NULL;
        struct shield_pcrs pcrs;
        struct shield_diag diag = { 0 };
        int r = open_tpm(tcti, &t);
        if (r)
                return r;
        r = shield_tpm_read_pcrs(t, &pcrs, &diag);
        shield_tpm_close(t);
        if (r < 0)
                return tpm_failed("pcrs", r, &diag);
        if (json) {
                char *text = shield_pcrs_to_json(&pcrs);
                if (!text) {
                        cli_error("out of memory");
                        return EXIT_BAD_INPUT;
                }
                puts(text);
                free(text);
                return EXIT_OK;
        }
        for (size_t b = 0; b < pcrs.n_banks; b++) {
                const struct shield_pcr_bank *bank = &pcrs.banks[b];
                char hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                for (int i = 0; i < SHIELD_PCR_COUNT; i++) {
                        if (!(bank->present & (1u << i)))
                                continue;
                        shield_hex_encode(bank->value[i], bank->size, hex);
                        printf("%-7s %2d %s\n", shield_hash_name(bank->alg), i, hex);
                }
        }
        return EXIT_OK;
}

static int write_output(const char *path, const char *text) {
        size_t len = strlen(text);
        if (strcmp(path, "-") == 0) {
                if (fwrite(text, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
                        cli_error("stdout: %s", strerror(errno));
                        return EXIT_BAD_INPUT;
                }
                return 0;
        }
        char *withnl = NULL;
        if (asprintf(&withnl, "%s\n", text) < 0)
                return EXIT_BAD_INPUT;
        int r = shield_write_file_atomic(path, withnl, len + 1, 0644);
        free(withnl);
        if (r < 0) {
                cli_error("%s: %s", path, strerror(errno));
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int verb_quote(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "tcti", required_argument, NULL, 't' },
                { "nonce", required_argument, NULL, 'n' },   { "ak-handle", required_argument, NULL, 'a' },
                { "out", required_argument, NULL, 'o' },     {},
        };
        const char *tcti = NULL, *nonce_hex = NULL, *out = NULL;
        uint64_t ak = SHIELD_TPM_AK_HANDLE;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage_quote, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'o': out = optarg; break;
                case 'a':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &ak) < 0)
                                return cli_usage_error(usage_quote, "quote: --ak-handle must be a TPM handle");
                        break;
                default: return cli_usage_error(usage_quote, "quote: unknown option '%s'", argv[optind - 1]);
                }
        if (!nonce_hex || !out || optind != argc)
                return cli_usage_error(usage_quote, "quote: --nonce HEX and -o FILE are required");

        uint8_t *nonce = NULL;
        size_t nonce_len = 0;
        int r = parse_nonce(nonce_hex, usage_quote, &nonce, &nonce_len);
        if (r)
                return r;
        struct shield_tpm *t = NULL;
        struct shield_evidence e = { 0 };
        struct shield_diag diag = { 0 };
        char *text = NULL;
        if ((r = open_tpm(tcti, &t)) != 0)
                goto out;
        if ((r = shield_evidence_collect(t, (uint32_t)ak, nonce, nonce_len, &e, &diag)) < 0) {
                r = tpm_failed("quote", r, &diag);
                goto out;
        }
        e.producer = strdup("shield tpm quote " SHIELD_VERSION);
        if (!e.producer || shield_evidence_to_json(&e, &text) < 0) {
                cli_error("out of memory");
                r = EXIT_BAD_INPUT;
                goto out;
        }
        for (size_t i = 0; i < e.n_notes; i++)
                cli_warn("%s", e.notes[i]);
        r = write_output(out, text);
out:
        free(text);
        shield_evidence_free(&e);
        shield_tpm_close(t);
        free(nonce);
        return r;
}

static int verb_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "evidence", required_argument, NULL, 'e' },
                { "nonce", required_argument, NULL, 'n' },   { "ca", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },          {},
        };
        const char *path = NULL, *nonce_hex = NULL, *ca_path = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage_verify, stdout); return EXIT_OK;
                case 'e': path = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'c': ca_path = optarg; break;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_verify, "verify-quote: unknown option '%s'", argv[optind - 1]);
                }
        if (!path || optind != argc)
                return cli_usage_error(usage_verify, "verify-quote: --evidence FILE is required");

        uint8_t *nonce = NULL, *text = NULL, *ca = NULL;
        size_t nonce_len = 0, len = 0, ca_len = 0;
        struct shield_evidence e = { 0 };
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        int r;

        if (nonce_hex && (r = parse_nonce(nonce_hex, usage_verify, &nonce, &nonce_len)) != 0)
                return r;
        if ((r = cli_read_file(path, SHIELD_EVIDENCE_JSON_MAX, &text, &len)) != 0)
                goto out;
        if (ca_path && (r = cli_read_file(ca_path, 1u << 20, &ca, &ca_len)) != 0)
                goto out;
        r = shield_evidence_parse_json((const char *)text, len, &e, &diag);
        if (r < 0) {
                r = cli_parse_failed(path, r, &diag);
                goto out;
        }
        struct shield_quote_input in = {
                .attest = e.quote.attest, .attest_len = e.quote.attest_len,
                .signature = e.quote.signature, .signature_len = e.quote.signature_len,
                .ak_public = e.ak_public, .ak_public_len = e.ak_public_len,
                .nonce = nonce ? nonce : e.nonce, .nonce_len = nonce ? nonce_len : e.nonce_len,
                .pcrs = e.has_pcrs ? &e.pcrs : NULL,
        };
        if (!e.quote.attest || !e.ak_public) {
                if (shield_reasons_add(&reasons, "quote-missing", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                       "the evidence has no quote or no AK public area%s%s",
                                       e.n_notes ? ": " : "", e.n_notes ? e.notes[0] : "") < 0) {
                        r = EXIT_BAD_INPUT;
                        goto out;
                }
        } else {
                int q = shield_quote_check(&in, &reasons, &diag);
                if (q < 0 && q != SHIELD_E_VERIFY) {
                        r = cli_parse_failed(path, q, &diag);
                        goto out;
                }
        }
        if (!e.has_pcrs && shield_reasons_add(&reasons, "quote-pcrs-absent", SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX,
                                              "the evidence reports no PCR values: pcrDigest not checked") < 0) {
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if (ca && e.ak_public) {
                if (!e.ak_cert) {
                        if (shield_reasons_add(&reasons, "ak-cert-missing", SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX,
                                               "--ca given but the evidence has no AK certificate") < 0) {
                                r = EXIT_BAD_INPUT;
                                goto out;
                        }
                } else {
                        struct shield_diag cd = { 0 };
                        int k = shield_ak_cert_check(e.ak_public, e.ak_public_len, e.ak_cert, e.ak_cert_len, ca, ca_len,
                                                     &reasons, &cd);
                        if (k < 0 && k != SHIELD_E_VERIFY) {
                                r = cli_parse_failed(cd.index == 2 ? path : ca_path, k, &cd);
                                goto out;
                        }
                }
        }
        bool ok = shield_reasons_max_severity(&reasons) < SHIELD_SEV_ERROR;
        if (json) {
                json_t *root = json_object();
                json_object_set_new(root, "verified", json_boolean(ok));
                json_object_set_new(root, "ak_certificate_checked", json_boolean(ca && e.ak_cert));
                json_object_set_new(root, "reasons", cli_reasons_json(&reasons));
                cli_print_json(root);
        } else {
                cli_print_reasons(stdout, &reasons);
                if (ok)
                        printf("%s: verified: quote signed by the AK%s, nonce and PCR values match\n", path,
                               ca ? " (certified by the CA)" : "");
                else
                        printf("%s: NOT verified: %zu failed check%s\n", path,
                               shield_reasons_count(&reasons, SHIELD_SEV_ERROR),
                               shield_reasons_count(&reasons, SHIELD_SEV_ERROR) == 1 ? "" : "s");
        }
        r = ok ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        shield_reasons_clear(&reasons);
        shield_evidence_free(&e);
        free(text);
        free(ca);
        free(nonce);
        return r;
}

int cmd_tpm(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "provision", "make and certify the EK and AK", verb_provision },
                { "pcrs", "read PCRs", verb_pcrs },
                { "quote", "quote PCRs into evidence JSON", verb_quote },
                { "verify-quote", "check the quote of an evidence file", verb_verify },
                { "quote-check", "the same as verify-quote", verb_verify },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
