/* SPDX-License-Identifier: Apache-2.0 */
/* shield tpm provision | info | pcrs | ek | ak create | make-credential | activate | quote | verify-quote */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "shield/attest.h"
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
        "  provision        make and persist the EK and AK, certify them with a platform CA\n"
        "  info             manufacturer, firmware, spec level, PCR banks, size limits\n"
        "  pcrs             read PCRs 0-23 of every active bank (or of --bank)\n"
        "  ek               the EK public key and certificate\n"
        "  ak create        make an AK as a child of the EK (files, optionally persisted)\n"
        "  make-credential  protect a secret for an AK with the EK public (verifier, no TPM)\n"
        "  activate         recover a credential's secret with the TPM (EK + AK)\n"
        "  quote            quote the PCRs with the AK and write evidence JSON\n"
        "  verify-quote     check the quote in an evidence file (signature, nonce, PCRs, AK certificate)\n"
        "  policy-pcr       the PolicyPCR digest of PCR values, computed without a TPM\n"
        "  seal-key         a key sealed to a boot state (authPolicy), certified by the AK\n"
        "  verify-seal-key  check a sealing key's certification and policy, without a TPM\n"
        "  seal             seal data to a sealing key, without a TPM\n"
        "  unseal           open sealed data with the TPM: only in the sealed boot state\n"
        "  epoch            read (defining it first) or advance the epoch counter sealed data names\n"
        "\n"
        "TCTI strings are tpm2-tss's: swtpm:host=127.0.0.1,port=2321, device:/dev/tpmrm0,\n"
        "mssim:host=…,port=…; without --tcti, $SHIELD_TCTI, else $TPM2TOOLS_TCTI, else\n"
        "device:/dev/tpmrm0.\n"
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
        "Usage: shield tpm pcrs [--tcti T] [--bank ALG]... [--json]\n"
        "\n"
        "Read PCRs 0-23 of every active bank. Text: one \"BANK PCR HEX\" line per\n"
        "PCR; --json: the PCRS.json form {\"sha256\": {\"0\": \"hex\", …}, …}.\n"
        "\n"
        "Options:\n"
        "  --tcti T    the TPM (see 'shield tpm --help')\n"
        "  --bank ALG  only this bank (sha1, sha256, sha384, …); repeatable; a bank\n"
        "              the TPM does not have active is an error\n"
        "  --json      PCRS.json on stdout\n"
        "  -h, --help  this text\n"
        "\n"
        "Exit status: 0 read, 2 bad usage or a TPM error.\n";

static const char usage_quote[] =
        "Usage: shield tpm quote [--tcti T] --nonce HEX [--ak-handle H] -o FILE\n"
        "\n"
        "Quote PCRs 0-23 of every active bank with the AK (qualifyingData = the\n"
        "nonce) and write shieldkit-evidence/1 JSON (docs/FORMATS.md): the quote,\n"
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
        "Check the quote of an evidence file without a TPM, with the verifier's own\n"
        "checks (those of 'shield verify', over the quote alone): the attestation is\n"
        "a TPM-made quote, its signature verifies with the AK public key, it was\n"
        "signed by that AK, its extraData is the nonce, and its PCR digest is the\n"
        "digest of the PCR values reported (evidence without PCR values fails).\n"
        "With --ca, also the AK certificate: it certifies the AK's key, the CA\n"
        "signed it, and it is valid now. The event log and IMA list are not\n"
        "checked here.\n"
        "\n"
        "Options:\n"
        "  --evidence FILE  shieldkit-evidence/1 JSON (\"-\" for stdin)\n"
        "  --nonce HEX      the nonce issued (default: the evidence's own \"nonce\")\n"
        "  --ca CERT        the platform CA certificate (PEM or DER)\n"
        "  --json           {\"verified\": bool, \"steps\": […], \"reasons\": […], \"notes\": […]}\n"
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
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
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
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
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
                { "json", no_argument, NULL, 'j' }, { "bank", required_argument, NULL, 'b' }, {},
        };
        const char *tcti = NULL;
        bool json = false;
        uint16_t banks[SHIELD_BANKS_MAX];
        size_t n_banks = 0;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_pcrs, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'j': json = true; break;
                case 'b':
                        if (n_banks == SHIELD_BANKS_MAX || shield_hash_from_name(optarg, &banks[n_banks]) < 0)
                                return cli_usage_error(usage_pcrs, "pcrs: --bank '%s' is not a hash we know", optarg);
                        n_banks++;
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
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
        if (n_banks) {
                struct shield_pcrs keep = { 0 };
                for (size_t i = 0; i < n_banks; i++) {
                        const struct shield_pcr_bank *b = shield_pcrs_bank_const(&pcrs, banks[i]);
                        struct shield_pcr_bank *nb;
                        if (!b) {
                                cli_error("pcrs: the TPM has no active %s bank", shield_hash_name(banks[i]));
                                return EXIT_BAD_INPUT;
                        }
                        if (shield_pcrs_add_bank(&keep, b->alg, b->size, &nb) < 0)
                                return EXIT_BAD_INPUT;
                        *nb = *b;
                }
                pcrs = keep;
        }
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
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_quote, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'o': out = optarg; break;
                case 'a':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &ak) < 0)
                                return cli_usage_error(usage_quote, "quote: --ak-handle must be a TPM handle");
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
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

/*
 * The certificates --ca asks to check are input: one that does not parse is
 * bad input (exit 2), as before the checks moved into the verifier.
 */
static int certs_readable(const char *path, const struct shield_evidence *e, const char *ca_path, const uint8_t *ca,
                          size_t ca_len) {
        struct shield_x509_info info;
        uint8_t *der = NULL;
        size_t der_len = 0;
        if (!ca || !e->ak_public || !e->ak_cert)
                return 0;
        if (shield_x509_info(e->ak_cert, e->ak_cert_len, &info) < 0) {
                cli_error("%s: the AK certificate is not DER X.509", path);
                return EXIT_BAD_INPUT;
        }
        int r = shield_x509_load(ca, ca_len, &der, &der_len);
        if (r == 0)
                r = shield_x509_info(der, der_len, &info);
        free(der);
        if (r < 0) {
                cli_error("%s: the CA certificate is neither DER nor PEM X.509", ca_path);
                return EXIT_BAD_INPUT;
        }
        return 0;
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
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_verify, stdout); return EXIT_OK;
                case 'e': path = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'c': ca_path = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!path || optind != argc)
                return cli_usage_error(usage_verify, "verify-quote: --evidence FILE is required");

        uint8_t *nonce = NULL, *text = NULL, *ca = NULL;
        size_t nonce_len = 0, len = 0, ca_len = 0;
        struct shield_evidence e = { 0 };
        struct shield_evidence_result res = { 0 };
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
        if ((r = certs_readable(path, &e, ca_path, ca, ca_len)) != 0)
                goto out;

        /*
         * The verifier's checks over the quote alone: no logs, no golden, no
         * owner policy, no integrity policy (so no coverage requirement), and
         * the AK the evidence carries pinned; --ca adds the AK certificate.
         */
        struct shield_evidence q = {
                .secure_boot = -1, .setup_mode = -1,
                .has_pcrs = e.has_pcrs, .pcrs = e.pcrs,
                .quote = e.quote,
                .ak_public = e.ak_public, .ak_public_len = e.ak_public_len,
                .ak_cert = e.ak_cert, .ak_cert_len = e.ak_cert_len,
        };
        struct shield_evidence_policy policy = {
                .nonce = nonce ? nonce : e.nonce, .nonce_len = nonce ? nonce_len : e.nonce_len,
                .ak_public = e.ak_public, .ak_public_len = e.ak_public_len,
                .ca_cert = ca, .ca_cert_len = ca_len,
        };
        int k = shield_evidence_check(&q, &policy, &res);
        if (k < 0 && k != SHIELD_E_VERIFY) {
                cli_error("verify-quote: %s", shield_strerror(k));
                r = EXIT_BAD_INPUT;
                goto out;
        }
        bool has_quote = e.quote.attest && e.ak_public;
        if (has_quote && !res.quote_status.parsed) {
                /* A byte string that does not parse is bad input, not a failed check. */
                const struct shield_verify_step *s = shield_evidence_step(&res, SHIELD_STEP_QUOTE_STRUCTURE);
                cli_error("%s: %s", path, s ? s->detail : "the quote does not parse");
                r = EXIT_BAD_INPUT;
                goto out;
        }
        bool ok = k == 0;
        size_t failed = shield_reasons_count(&res.reasons, SHIELD_SEV_ERROR);
        if (json) {
                json_t *root = json_object(), *notes = json_array();
                for (size_t i = 0; i < e.n_notes; i++)
                        json_array_append_new(notes, json_string(e.notes[i]));
                json_object_set_new(root, "verified", json_boolean(ok));
                json_object_set_new(root, "ak_certificate_checked", json_boolean(ca && e.ak_cert));
                json_object_set_new(root, "steps", shield_steps_json(&res));
                json_object_set_new(root, "reasons", cli_reasons_json(&res.reasons));
                json_object_set_new(root, "notes", notes);
                cli_print_json(root);
        } else {
                for (size_t i = 0; i < res.reasons.n; i++) {
                        const struct shield_reason *x = &res.reasons.items[i];
                        printf("%-7s [%s] %s", shield_severity_name(x->severity), x->code, x->message);
                        /* Without a quote, the producer's notes say why it has none. */
                        for (size_t j = 0; !has_quote && x->severity == SHIELD_SEV_ERROR && j < e.n_notes; j++)
                                printf("%s%s", j ? "; " : ": ", e.notes[j]);
                        putchar('\n');
                }
                if (e.eventlog || e.ima_log)
                        printf("note    the evidence's event log and IMA list are not checked here (shield verify "
                               "checks them)\n");
                if (ok)
                        printf("%s: verified: quote signed by the AK%s, nonce and PCR values match\n", path,
                               ca ? " (certified by the CA)" : "");
                else
                        printf("%s: NOT verified: %zu failed check%s\n", path, failed, failed == 1 ? "" : "s");
        }
        r = ok ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        shield_evidence_result_clear(&res);
        shield_evidence_free(&e);
        free(text);
        free(ca);
        free(nonce);
        return r;
}

static const char usage_info[] =
        "Usage: shield tpm info [--tcti T] [--json]\n"
        "\n"
        "What the TPM says about itself (TPM2_GetCapability): manufacturer and\n"
        "vendor strings, firmware version, TPM 2.0 spec level and revision, the\n"
        "PCR banks with the PCRs allocated in each, and size limits (command,\n"
        "response, NV index, NV buffer).\n"
        "\n"
        "Options:\n"
        "  --tcti T    the TPM (see 'shield tpm --help')\n"
        "  --json      the same as JSON\n"
        "  -h, --help  this text\n"
        "\n"
        "Exit status: 0 read, 2 bad usage or a TPM error.\n";

static const char usage_ek[] =
        "Usage: shield tpm ek [--tcti T] [-o DIR] [--json]\n"
        "\n"
        "The RSA endorsement key: the one persisted at 0x81010001, else the key the\n"
        "TCG default template (EK Credential Profile B.3.3, L-1) derives, created\n"
        "transiently and flushed. The EK certificate is read from NV 0x01c00002\n"
        "when the index exists. With -o, writes DIR/ek.pub (TPM2B_PUBLIC, as\n"
        "tpm2_createek -u), DIR/ek.pem (SubjectPublicKeyInfo) and DIR/ek.crt (the\n"
        "certificate, PEM; only when there is one).\n"
        "\n"
        "Options:\n"
        "  --tcti T         the TPM (see 'shield tpm --help')\n"
        "  -o, --out DIR    write the files there (created if missing)\n"
        "  --json           handle, key type, name and certificate summary as JSON\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: 0 done, 2 bad usage or a TPM error.\n";

static const char usage_ak[] =
        "Usage: shield tpm ak create [--tcti T] [--algo rsa|ecc] -o DIR [--persist HANDLE] [--json]\n"
        "\n"
        "Make an attestation key as a child of the EK (see 'shield tpm ek'), the way\n"
        "tpm2_createak does: restricted signing (fixedtpm|fixedparent|\n"
        "sensitivedataorigin|userwithauth|restricted|sign), RSA-2048 RSASSA/SHA-256\n"
        "or ECC P-256 ECDSA/SHA-256, empty auth; the EK is authorised with a\n"
        "PolicySecret(TPM_RH_ENDORSEMENT) session. Writes DIR/ak.pub (TPM2B_PUBLIC),\n"
        "DIR/ak.priv (TPM2B_PRIVATE), DIR/ak.name (the binary name) and DIR/ak.pem.\n"
        "With --persist, also makes it persistent at HANDLE; otherwise it is loaded\n"
        "from the files when needed ('shield tpm activate --ak-ctx DIR').\n"
        "\n"
        "Options:\n"
        "  --tcti T           the TPM (see 'shield tpm --help')\n"
        "  --algo rsa|ecc     the key type (default rsa)\n"
        "  -o, --out DIR      where to write the files (created if missing)\n"
        "  --persist HANDLE   a free persistent handle (0x81xxxxxx)\n"
        "  --json             the files and the name as JSON\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 made, 2 bad usage or a TPM error.\n";

static const char usage_makecred[] =
        "Usage: shield tpm make-credential --ek-pub FILE --ak-name HEX|FILE --secret HEX -o BLOB\n"
        "\n"
        "The verifier's side of credential activation, in software (no TPM):\n"
        "TPM2_MakeCredential (TPM 2.0 Part 1, 24) protects SECRET so that only the\n"
        "TPM holding the EK, with the AK of that name loaded, can recover it. BLOB\n"
        "is tpm2_makecredential's file format (tpm2_activatecredential reads it).\n"
        "\n"
        "Options:\n"
        "  --ek-pub FILE      the EK public: TPM2B_PUBLIC (ek.pub), TPMT_PUBLIC, or a\n"
        "                     PEM/DER public key (then the TCG default template's\n"
        "                     SHA-256 and AES-128-CFB are assumed)\n"
        "  --ak-name HEX|FILE the AK's name (nameAlg || digest): hex, or a binary file\n"
        "                     (ak.name, tpm2_createak -n)\n"
        "  --secret HEX       1 to 32 bytes (SHA-256 EK)\n"
        "  -o, --out BLOB     the credential file\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or unusable input.\n";

static const char usage_activate[] =
        "Usage: shield tpm activate --blob FILE (--ak-handle H | --ak-ctx DIR) [--tcti T] [--json]\n"
        "\n"
        "The TPM's side: TPM2_ActivateCredential with the EK (authorised by a\n"
        "PolicySecret(TPM_RH_ENDORSEMENT) session) and the AK, and print the\n"
        "recovered secret as hex. A blob made for another AK or EK fails.\n"
        "\n"
        "Options:\n"
        "  --blob FILE      a credential (shield tpm make-credential, tpm2_makecredential)\n"
        "  --ak-handle H    a persistent AK\n"
        "  --ak-ctx DIR     an AK from 'shield tpm ak create -o DIR' (ak.pub, ak.priv)\n"
        "  --tcti T         the TPM (see 'shield tpm --help')\n"
        "  --json           {\"secret\": \"hex\"}\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: 0 recovered, 1 the TPM refused the credential (not for this\n"
        "AK/EK), 2 bad usage or a TPM error.\n";

static int verb_info(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "tcti", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' }, {},
        };
        const char *tcti = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_info, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (optind != argc)
                return cli_usage_error(usage_info, "info: no arguments expected");
        struct shield_tpm *t = NULL;
        struct shield_tpm_info info;
        struct shield_diag diag = { 0 };
        int r = open_tpm(tcti, &t);
        if (r)
                return r;
        r = shield_tpm_get_info(t, &info, &diag);
        shield_tpm_close(t);
        if (r < 0)
                return tpm_failed("info", r, &diag);
        char fw[64], spec[32];
        snprintf(fw, sizeof fw, "%u.%u.%u.%u", (unsigned)(info.firmware_version_1 >> 16),
                 (unsigned)(info.firmware_version_1 & 0xffff), (unsigned)(info.firmware_version_2 >> 16),
                 (unsigned)(info.firmware_version_2 & 0xffff));
        snprintf(spec, sizeof spec, "%u.%02u", (unsigned)(info.spec_revision / 100),
                 (unsigned)(info.spec_revision % 100));
        if (json) {
                json_t *root = json_object(), *banks = json_array();
                json_object_set_new(root, "family", json_string(info.family));
                json_object_set_new(root, "manufacturer", json_string(info.manufacturer));
                json_object_set_new(root, "manufacturer_id", json_integer(info.manufacturer_id));
                json_object_set_new(root, "vendor", json_string(info.vendor));
                json_object_set_new(root, "vendor_tpm_type", json_integer(info.vendor_tpm_type));
                json_object_set_new(root, "firmware_version", json_string(fw));
                json_object_set_new(root, "firmware_version_1", json_integer(info.firmware_version_1));
                json_object_set_new(root, "firmware_version_2", json_integer(info.firmware_version_2));
                json_object_set_new(root, "spec_level", json_integer(info.spec_level));
                json_object_set_new(root, "spec_revision", json_string(spec));
                json_object_set_new(root, "spec_year", json_integer(info.spec_year));
                json_object_set_new(root, "spec_day_of_year", json_integer(info.spec_day_of_year));
                json_object_set_new(root, "pcr_count", json_integer(info.pcr_count));
                for (size_t i = 0; i < info.n_banks; i++) {
                        json_t *pcrs = json_array();
                        for (unsigned j = 0; j < 32; j++)
                                if (info.bank_allocated[i] & (1u << j))
                                        json_array_append_new(pcrs, json_integer(j));
                        const char *n = shield_hash_name(info.bank_alg[i]);
                        char id[16];
                        snprintf(id, sizeof id, "0x%04x", (unsigned)info.bank_alg[i]);
                        json_array_append_new(banks, json_pack("{s:s, s:o}", "bank", n ? n : id, "allocated", pcrs));
                }
                json_object_set_new(root, "pcr_banks", banks);
                json_object_set_new(root, "max_command_size", json_integer(info.max_command_size));
                json_object_set_new(root, "max_response_size", json_integer(info.max_response_size));
                json_object_set_new(root, "max_nv_index_size", json_integer(info.nv_index_max));
                json_object_set_new(root, "max_nv_buffer", json_integer(info.nv_buffer_max));
                json_object_set_new(root, "input_buffer", json_integer(info.input_buffer));
                cli_print_json(root);
                return EXIT_OK;
        }
        printf("family          %s\n", info.family);
        printf("manufacturer    %s (0x%08x)\n", info.manufacturer, (unsigned)info.manufacturer_id);
        printf("vendor          %s\n", info.vendor);
        printf("firmware        %s (0x%08x 0x%08x)\n", fw, (unsigned)info.firmware_version_1,
               (unsigned)info.firmware_version_2);
        printf("spec            level %u, revision %s, %u day %u\n", (unsigned)info.spec_level, spec,
               (unsigned)info.spec_year, (unsigned)info.spec_day_of_year);
        for (size_t i = 0; i < info.n_banks; i++) {
                const char *n = shield_hash_name(info.bank_alg[i]);
                unsigned count = (unsigned)__builtin_popcount(info.bank_allocated[i]);
                if (n)
                        printf("pcr bank        %-7s %u PCRs allocated (mask 0x%06x)\n", n, count,
                               (unsigned)info.bank_allocated[i]);
                else
                        printf("pcr bank        0x%04x  %u PCRs allocated (mask 0x%06x)\n",
                               (unsigned)info.bank_alg[i], count, (unsigned)info.bank_allocated[i]);
        }
        printf("max command     %u bytes\n", (unsigned)info.max_command_size);
        printf("max response    %u bytes\n", (unsigned)info.max_response_size);
        printf("max NV index    %u bytes\n", (unsigned)info.nv_index_max);
        printf("max NV buffer   %u bytes\n", (unsigned)info.nv_buffer_max);
        return EXIT_OK;
}

static int ensure_dir(const char *dir) {
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                cli_error("%s: %s", dir, strerror(errno));
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int write_in(const char *dir, const char *name, const void *buf, size_t len, unsigned mode) {
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return EXIT_BAD_INPUT;
        int r = shield_write_file_atomic(path, buf, len, mode);
        if (r < 0)
                cli_error("%s: %s", path, strerror(errno));
        free(path);
        return r < 0 ? EXIT_BAD_INPUT : 0;
}

/* PEM of a TPM2B_PUBLIC (or any public key form shield_ak_key_new reads), and its type. */
static int public_pem(const uint8_t *pub, size_t len, char **ret, char *type, size_t type_len) {
        struct shield_ak_key *k = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_ak_key_new(pub, len, &k, &diag);
        if (r < 0)
                return r;
        snprintf(type, type_len, "%s", shield_ak_key_type(k));
        r = shield_ak_key_pem(k, ret);
        shield_ak_key_free(k);
        return r;
}

static int verb_ek(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "tcti", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' }, { "out", required_argument, NULL, 'o' }, {},
        };
        const char *tcti = NULL, *dir = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_ek, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'j': json = true; break;
                case 'o': dir = optarg; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (optind != argc)
                return cli_usage_error(usage_ek, "ek: no arguments expected");
        struct shield_tpm *t = NULL;
        struct shield_tpm_ek ek = { 0 };
        struct shield_diag diag = { 0 };
        char *pem = NULL, *cert_pem = NULL, type[16] = "";
        int r = open_tpm(tcti, &t);
        if (r)
                return r;
        r = shield_tpm_read_ek(t, &ek, &diag);
        shield_tpm_close(t);
        if (r < 0)
                return tpm_failed("ek", r, &diag);
        if (public_pem(ek.public, ek.public_len, &pem, type, sizeof type) < 0 ||
            (ek.cert && shield_tpm_cert_pem(ek.cert, ek.cert_len, &cert_pem) < 0 && !cert_pem)) {
                if (!pem) {
                        cli_error("ek: the EK public key cannot be converted");
                        r = EXIT_BAD_INPUT;
                        goto out;
                }
                cli_warn("ek: the certificate in NV 0x01c00002 is not X.509 DER");
        }
        if (dir) {
                if ((r = ensure_dir(dir)) != 0 || (r = write_in(dir, "ek.pub", ek.public, ek.public_len, 0644)) != 0 ||
                    (r = write_in(dir, "ek.pem", pem, strlen(pem), 0644)) != 0 ||
                    (cert_pem && (r = write_in(dir, "ek.crt", cert_pem, strlen(cert_pem), 0644)) != 0))
                        goto out;
        }
        if (json) {
                json_t *root = json_object();
                json_object_set_new(root, "handle", ek.persistent ? json_string("0x81010001") : json_null());
                json_object_set_new(root, "persistent", json_boolean(ek.persistent));
                json_object_set_new(root, "key_type", json_string(type));
                json_object_set_new(root, "public_pem", json_string(pem));
                json_object_set_new(root, "certificate_nv", json_string("0x01c00002"));
                json_object_set_new(root, "certificate", cert_json(ek.cert, ek.cert_len));
                cli_print_json(root);
        } else {
                printf("EK %s, %s\n", type,
                       ek.persistent ? "persistent at 0x81010001" : "derived from the TCG template (not persistent)");
                if (ek.cert) {
                        struct shield_x509_info info;
                        if (shield_x509_info(ek.cert, ek.cert_len, &info) == 0)
                                printf("certificate in NV 0x01c00002: %s, issued by %s\n", info.subject, info.issuer);
                        else
                                printf("NV 0x01c00002 holds %zu bytes that are not a certificate\n", ek.cert_len);
                } else
                        printf("no EK certificate (NV 0x01c00002 is not defined)\n");
                fputs(pem, stdout);
        }
        r = EXIT_OK;
out:
        free(pem);
        free(cert_pem);
        shield_tpm_ek_clear(&ek);
        return r;
}

static int verb_ak_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },       { "tcti", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' },       { "out", required_argument, NULL, 'o' },
                { "algo", required_argument, NULL, 'a' }, { "persist", required_argument, NULL, 'p' },
                {},
        };
        const char *tcti = NULL, *dir = NULL;
        enum shield_tpm_ak_alg alg = SHIELD_TPM_AK_RSA;
        uint64_t persist = 0;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_ak, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'j': json = true; break;
                case 'o': dir = optarg; break;
                case 'a':
                        if (strcmp(optarg, "rsa") == 0)
                                alg = SHIELD_TPM_AK_RSA;
                        else if (strcmp(optarg, "ecc") == 0)
                                alg = SHIELD_TPM_AK_ECC;
                        else
                                return cli_usage_error(usage_ak, "ak create: --algo is rsa or ecc");
                        break;
                case 'p':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &persist) < 0 || (persist >> 24) != 0x81)
                                return cli_usage_error(usage_ak, "ak create: --persist must be a handle 0x81xxxxxx");
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!dir || optind != argc)
                return cli_usage_error(usage_ak, "ak create: -o DIR is required");
        int r = ensure_dir(dir);
        if (r)
                return r;
        struct shield_tpm *t = NULL;
        struct shield_tpm_ak ak = { 0 };
        struct shield_diag diag = { 0 };
        char *pem = NULL, type[16] = "", name_hex[2 * sizeof ak.name + 1];
        if ((r = open_tpm(tcti, &t)) != 0)
                return r;
        r = shield_tpm_ak_create(t, alg, (uint32_t)persist, &ak, &diag);
        shield_tpm_close(t);
        if (r < 0)
                return tpm_failed("ak create", r, &diag);
        if (public_pem(ak.public, ak.public_len, &pem, type, sizeof type) < 0) {
                cli_error("ak create: the AK public key cannot be converted");
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if ((r = write_in(dir, "ak.pub", ak.public, ak.public_len, 0644)) != 0 ||
            (r = write_in(dir, "ak.priv", ak.private, ak.private_len, 0600)) != 0 ||
            (r = write_in(dir, "ak.name", ak.name, ak.name_len, 0644)) != 0 ||
            (r = write_in(dir, "ak.pem", pem, strlen(pem), 0644)) != 0)
                goto out;
        shield_hex_encode(ak.name, ak.name_len, name_hex);
        if (json) {
                char h[16];
                snprintf(h, sizeof h, "0x%08x", (unsigned)persist);
                json_t *root = json_object();
                json_object_set_new(root, "key_type", json_string(type));
                json_object_set_new(root, "name", json_string(name_hex));
                json_object_set_new(root, "handle", persist ? json_string(h) : json_null());
                json_object_set_new(root, "dir", json_string(dir));
                cli_print_json(root);
        } else {
                printf("AK %s, a child of the EK, name %s\n", type, name_hex);
                if (persist)
                        printf("persistent at 0x%08x\n", (unsigned)persist);
                printf("wrote %s/ak.pub, ak.priv, ak.name, ak.pem\n", dir);
        }
        r = EXIT_OK;
out:
        free(pem);
        shield_tpm_ak_clear(&ak);
        return r;
}

static int verb_ak(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "create", "make an AK as a child of the EK", verb_ak_create },
        };
        return cli_dispatch(argc, argv, usage_ak, verbs, ELEMENTS(verbs));
}

/* A name as hex, or a binary file holding it. */
static int read_name(const char *arg, uint8_t **ret, size_t *ret_len) {
        if (shield_hex_decode(arg, ret, ret_len) == 0 && *ret_len > 0)
                return 0;
        free(*ret);
        *ret = NULL;
        return cli_read_file(arg, 1024, ret, ret_len);
}

static int verb_make_credential(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "ek-pub", required_argument, NULL, 'e' },
                { "ak-name", required_argument, NULL, 'n' }, { "secret", required_argument, NULL, 's' },
                { "out", required_argument, NULL, 'o' },     {},
        };
        const char *ek_path = NULL, *name_arg = NULL, *secret_hex = NULL, *out = NULL;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_makecred, stdout); return EXIT_OK;
                case 'e': ek_path = optarg; break;
                case 'n': name_arg = optarg; break;
                case 's': secret_hex = optarg; break;
                case 'o': out = optarg; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!ek_path || !name_arg || !secret_hex || !out || optind != argc)
                return cli_usage_error(usage_makecred,
                                       "make-credential: --ek-pub, --ak-name, --secret and -o are required");
        uint8_t *secret = NULL, *ek = NULL, *name = NULL, *blob = NULL;
        size_t secret_len = 0, ek_len = 0, name_len = 0, blob_len = 0;
        struct shield_diag diag = { 0 };
        int r;
        if (shield_hex_decode(secret_hex, &secret, &secret_len) < 0 || secret_len == 0 ||
            secret_len > SHIELD_HASH_MAX_SIZE) {
                free(secret);
                return cli_usage_error(usage_makecred, "make-credential: --secret must be 1 to 32 bytes of hex");
        }
        if ((r = cli_read_file(ek_path, 1u << 16, &ek, &ek_len)) != 0 || (r = read_name(name_arg, &name, &name_len)) != 0)
                goto out;
        r = shield_credential_make(ek, ek_len, name, name_len, secret, secret_len, &blob, &blob_len, &diag);
        if (r < 0) {
                cli_error("make-credential: %s", diag.msg[0] ? diag.msg : shield_strerror(r));
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if (shield_write_file_atomic(out, blob, blob_len, 0644) < 0) {
                cli_error("%s: %s", out, strerror(errno));
                r = EXIT_BAD_INPUT;
                goto out;
        }
        r = EXIT_OK;
out:
        if (secret)
                explicit_bzero(secret, secret_len);
        free(secret);
        free(ek);
        free(name);
        free(blob);
        return r;
}

static int verb_activate(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },            { "tcti", required_argument, NULL, 't' },
                { "blob", required_argument, NULL, 'b' },      { "ak-handle", required_argument, NULL, 'a' },
                { "ak-ctx", required_argument, NULL, 'c' },    { "json", no_argument, NULL, 'j' },
                {},
        };
        const char *tcti = NULL, *blob_path = NULL, *ctx = NULL;
        uint64_t handle = 0;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_activate, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'b': blob_path = optarg; break;
                case 'c': ctx = optarg; break;
                case 'j': json = true; break;
                case 'a':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &handle) < 0 || handle == 0)
                                return cli_usage_error(usage_activate, "activate: --ak-handle must be a TPM handle");
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!blob_path || (!handle == !ctx) || optind != argc)
                return cli_usage_error(usage_activate,
                                       "activate: --blob and one of --ak-handle or --ak-ctx are required");
        uint8_t *blob = NULL, secret[SHIELD_HASH_MAX_SIZE];
        size_t blob_len = 0, secret_len = 0;
        struct shield_tpm_ak ak = { 0 };
        struct shield_tpm *t = NULL;
        struct shield_diag diag = { 0 };
        char *p = NULL;
        int r;
        if ((r = cli_read_file(blob_path, SHIELD_CREDENTIAL_MAX, &blob, &blob_len)) != 0)
                goto out;
        if (ctx) {
                if (asprintf(&p, "%s/ak.pub", ctx) < 0 || (r = cli_read_file(p, 4096, &ak.public, &ak.public_len)) != 0)
                        goto out;
                free(p);
                if (asprintf(&p, "%s/ak.priv", ctx) < 0 ||
                    (r = cli_read_file(p, 4096, &ak.private, &ak.private_len)) != 0)
                        goto out;
        }
        if ((r = open_tpm(tcti, &t)) != 0)
                goto out;
        r = shield_tpm_activate_credential(t, (uint32_t)handle, ctx ? &ak : NULL, blob, blob_len, secret, &secret_len,
                                           &diag);
        if (r == SHIELD_E_VERIFY) {
                cli_error("activate: the TPM refused the credential: not made for this AK and EK (%s)", diag.msg);
                r = EXIT_VERIFY_FAILED;
                goto out;
        }
        if (r < 0) {
                r = r == SHIELD_E_FORMAT || r == SHIELD_E_TRUNCATED || r == SHIELD_E_TRAILING ||
                                    r == SHIELD_E_UNSUPPORTED || r == SHIELD_E_LIMIT
                            ? cli_parse_failed(blob_path, r, &diag)
                            : tpm_failed("activate", r, &diag);
                goto out;
        }
        char hex[2 * SHIELD_HASH_MAX_SIZE + 1];
        shield_hex_encode(secret, secret_len, hex);
        if (json)
                cli_print_json(json_pack("{s:s}", "secret", hex));
        else
                puts(hex);
        explicit_bzero(hex, sizeof hex);
        explicit_bzero(secret, sizeof secret);
        r = EXIT_OK;
out:
        shield_tpm_close(t);
        shield_tpm_ak_clear(&ak);
        free(p);
        free(blob);
        return r;
}

static const char usage_policy_pcr[] =
        "Usage: shield tpm policy-pcr --pcrs PCRS.json --pcr-list LIST [--bank ALG] [--name-alg ALG]\n"
        "                             [--epoch-nv HEX --epoch N [--epoch-nv-name HEX | --tcti T]] [--json]\n"
        "\n"
        "The policy digest TPM2_PolicyPCR leaves in a fresh session for the PCRs in\n"
        "LIST of one bank at the values PCRS.json holds (TPM 2.0 Part 3, 23.7): the\n"
        "authPolicy a key sealed to that boot state carries, computed without a\n"
        "TPM. The same as `tpm2_startauthsession` + `tpm2_policypcr -l BANK:LIST -L`\n"
        "on a TPM whose PCRs hold those values.\n"
        "\n"
        "With --epoch-nv, then TPM2_PolicyNV on that epoch counter (Part 3, 23.9:\n"
        "operandB = N as 8 big-endian bytes, offset 0, TPM_EO_EQ), as\n"
        "`tpm2_policynv -i HEX eq` after tpm2_policypcr: sealed data opens only\n"
        "while the counter holds exactly N. The digest covers the counter's Name:\n"
        "give it with --epoch-nv-name (hex, `shield tpm epoch` prints it), or it\n"
        "is read from the TPM (--tcti; the counter is defined there if absent).\n"
        "\n"
        "Options:\n"
        "  --pcrs FILE          PCR values (PCRS.json: shield tpm pcrs --json, shield golden export)\n"
        "  --pcr-list LIST      the PCRs, e.g. 0,2,4,7 or 0-7\n"
        "  --bank ALG           the bank of the values (default sha256)\n"
        "  --name-alg ALG       the policy's hash, the sealed key's nameAlg (default sha256;\n"
        "                       sha256 only with --epoch-nv)\n"
        "  --epoch-nv HEX       the epoch counter's NV index (e.g. 0x0100534b)\n"
        "  --epoch N            the value the counter must hold\n"
        "  --epoch-nv-name HEX  the counter's Name (000b || SHA-256 of its public area)\n"
        "  --tcti T             read the Name from this TPM instead (see 'shield tpm --help')\n"
        "  --json               {\"bank\", \"pcrs\", \"name_alg\", \"policy_digest\"[, \"epoch_nv\", \"epoch\", \"epoch_nv_name\"]}\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status: 0 computed, 2 bad input (a PCR the file lacks is named).\n";

/* --epoch-nv HEX and --epoch N into p (the name is filled elsewhere); EXIT_OK or a usage error. */
static int epoch_args(const char *usage, const char *verb, const char *nv_hex, const char *epoch,
                      struct shield_seal_policy *p) {
        uint64_t v = 0;
        if (!nv_hex && !epoch)
                return EXIT_OK;
        if (!nv_hex || !epoch)
                return cli_usage_error(usage, "%s: --epoch-nv and --epoch go together", verb);
        if (shield_parse_u64(nv_hex, 16, UINT32_MAX, &v) < 0 || v >> 24 != 0x01)
                return cli_usage_error(usage, "%s: --epoch-nv %s: an NV index such as 0x0100534b", verb, nv_hex);
        p->epoch_nv = (uint32_t)v;
        if (shield_parse_u64(epoch, 10, UINT64_MAX, &p->epoch) < 0)
                return cli_usage_error(usage, "%s: --epoch %s: a counter value", verb, epoch);
        return EXIT_OK;
}

static int verb_policy_pcr(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "pcrs", required_argument, NULL, 'p' },
                { "pcr-list", required_argument, NULL, 'l' }, { "bank", required_argument, NULL, 'b' },
                { "name-alg", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
                { "epoch-nv", required_argument, NULL, 'E' }, { "epoch", required_argument, NULL, 'e' },
                { "epoch-nv-name", required_argument, NULL, 'N' }, { "tcti", required_argument, NULL, 't' },
                {},
        };
        const char *pcrs_path = NULL, *list = NULL, *bank_name = "sha256", *name_alg_name = "sha256";
        const char *nv_hex = NULL, *epoch = NULL, *nv_name_hex = NULL, *tcti = NULL;
        bool json = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_policy_pcr, stdout); return EXIT_OK;
                case 'p': pcrs_path = optarg; break;
                case 'l': list = optarg; break;
                case 'b': bank_name = optarg; break;
                case 'n': name_alg_name = optarg; break;
                case 'j': json = true; break;
                case 'E': nv_hex = optarg; break;
                case 'e': epoch = optarg; break;
                case 'N': nv_name_hex = optarg; break;
                case 't': tcti = optarg; break;
                default: return cli_usage_error(usage_policy_pcr, "policy-pcr: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc || !pcrs_path || !list)
                return cli_usage_error(usage_policy_pcr, "policy-pcr: --pcrs FILE and --pcr-list LIST are required");
        uint16_t bank = 0, name_alg = 0;
        uint64_t mask = 0;
        if (shield_hash_from_name(bank_name, &bank) < 0 || shield_hash_from_name(name_alg_name, &name_alg) < 0)
                return cli_usage_error(usage_policy_pcr, "policy-pcr: unknown hash %s or %s", bank_name, name_alg_name);
        if (shield_parse_index_list(list, SHIELD_PCR_COUNT - 1, &mask) < 0 || !mask)
                return cli_usage_error(usage_policy_pcr, "policy-pcr: --pcr-list %s: PCRs 0-23 such as 0,2,4-7", list);
        struct shield_seal_policy pol = { .bank = bank, .mask = (uint32_t)mask };
        if (epoch_args(usage_policy_pcr, "policy-pcr", nv_hex, epoch, &pol) != EXIT_OK)
                return EXIT_BAD_INPUT;
        if (pol.epoch_nv && name_alg != SHIELD_ALG_SHA256)
                return cli_usage_error(usage_policy_pcr, "policy-pcr: --epoch-nv makes a SHA-256 policy (--name-alg sha256)");
        if (!pol.epoch_nv && (nv_name_hex || tcti))
                return cli_usage_error(usage_policy_pcr, "policy-pcr: --epoch-nv-name and --tcti need --epoch-nv");
        uint8_t *text = NULL;
        size_t len = 0;
        struct shield_diag diag = { 0 };
        if (pol.epoch_nv && nv_name_hex) {
                uint8_t *name = NULL;
                size_t name_len = 0;
                if (shield_hex_decode(nv_name_hex, &name, &name_len) < 0 || name_len < 2 || name_len > SHIELD_TPM_NAME_MAX) {
                        free(name);
                        return cli_usage_error(usage_policy_pcr, "policy-pcr: --epoch-nv-name: a Name in hex (000b…)");
                }
                memcpy(pol.epoch_nv_name, name, name_len);
                pol.epoch_nv_name_len = name_len;
                free(name);
        } else if (pol.epoch_nv) {
                struct shield_tpm *t = NULL;
                struct shield_tpm_epoch e;
                if (open_tpm(tcti, &t) != 0)
                        return EXIT_BAD_INPUT;
                int k = shield_tpm_epoch_read(t, pol.epoch_nv, &e, &diag);
                shield_tpm_close(t);
                if (k < 0)
                        return tpm_failed("policy-pcr: the epoch counter", k, &diag);
                memcpy(pol.epoch_nv_name, e.name, e.name_len);
                pol.epoch_nv_name_len = e.name_len;
        }
        if (cli_read_file(pcrs_path, SHIELD_PCRS_JSON_MAX, &text, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_pcrs_parse_json((const char *)text, len, &pol.pcrs, &diag);
        free(text);
        if (r < 0)
                return cli_parse_failed(pcrs_path, r, &diag);
        uint8_t digest[SHIELD_HASH_MAX_SIZE];
        size_t dlen = 32;
        if (pol.epoch_nv)
                r = shield_seal_policy_digest(&pol, digest, &diag);
        else
                r = shield_policy_pcr_digest(name_alg, &pol.pcrs, bank, (uint32_t)mask, NULL, digest, &dlen, &diag);
        if (r < 0) {
                cli_error("%s: %s", pcrs_path, diag.msg[0] ? diag.msg : shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        char hex[2 * SHIELD_HASH_MAX_SIZE + 1], name_hex[2 * SHIELD_TPM_NAME_MAX + 1], index[11];
        shield_hex_encode(digest, dlen, hex);
        shield_hex_encode(pol.epoch_nv_name, pol.epoch_nv_name_len, name_hex);
        snprintf(index, sizeof index, "0x%08x", (unsigned)pol.epoch_nv);
        if (json && pol.epoch_nv)
                cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "bank", bank_name, "pcrs", list,
                                         "name_alg", name_alg_name, "policy_digest", hex, "epoch_nv", index, "epoch",
                                         (json_int_t)pol.epoch, "epoch_nv_name", name_hex));
        else if (json)
                cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "bank", bank_name, "pcrs", list, "name_alg",
                                         name_alg_name, "policy_digest", hex));
        else
                printf("%s\n", hex);
        return EXIT_OK;
}

static const char usage_seal_key[] =
        "Usage: shield tpm seal-key --policy HEX --nonce HEX -o DIR [--tcti T] [--ak-handle H] [--json]\n"
        "\n"
        "Make a key sealed to a boot state in this TPM, as a machine does before its\n"
        "credential service issues it a credential: an RSA-2048 RSA-OAEP decryption\n"
        "key under the EK whose authPolicy is HEX (a SHA-256 policy digest, e.g.\n"
        "`shield tpm policy-pcr` of the intended PCR values), fixedTPM, fixedParent\n"
        "and no userWithAuth, so only a session satisfying that policy can use it;\n"
        "then TPM2_Certify it with the AK over the service's nonce. Writes DIR/key.pub\n"
        "(TPM2B_PUBLIC), DIR/key.priv (TPM2B_PRIVATE, wrapped by the EK, 0600),\n"
        "DIR/key.name, DIR/certify.attest (TPMS_ATTEST) and DIR/certify.sig\n"
        "(TPMT_SIGNATURE): what `shield tpm verify-seal-key` and the service check.\n"
        "\n"
        "Exit status: 0 made, 2 bad input or the TPM refused.\n";

static const char usage_verify_seal_key[] =
        "Usage: shield tpm verify-seal-key --ak-pub FILE --dir DIR --nonce HEX --policy HEX [--json]\n"
        "\n"
        "Check a sealing key as its credential service does, without a TPM: the\n"
        "certification verifies under the AK, is a TPM-made TPM_ST_ATTEST_CERTIFY over\n"
        "the nonce of the key in DIR (its name), and the key carries authPolicy = HEX,\n"
        "fixedTPM, fixedParent, sensitiveDataOrigin and not userWithAuth.\n"
        "\n"
        "Exit status: 0 the key is bound to this TPM and policy, 1 a check failed,\n"
        "2 bad input.\n";

/* A fixed-size hex argument such as --policy (parse_nonce is the nonce's). */
static int hex_arg(const char *what, const char *hex, uint8_t **ret, size_t *ret_len, size_t min, size_t max) {
        if (!hex || shield_hex_decode(hex, ret, ret_len) < 0 || *ret_len < min || *ret_len > max) {
                free(*ret);
                *ret = NULL;
                cli_error("%s: %zu to %zu bytes of hex", what, min, max);
                return EXIT_BAD_INPUT;
        }
        return EXIT_OK;
}

static int verb_seal_key(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "tcti", required_argument, NULL, 't' },
                { "policy", required_argument, NULL, 'p' },   { "nonce", required_argument, NULL, 'n' },
                { "ak-handle", required_argument, NULL, 'a' }, { "json", no_argument, NULL, 'j' },
                {},
        };
        const char *tcti = NULL, *policy_hex = NULL, *nonce_hex = NULL, *out = NULL;
        uint64_t ak_handle = SHIELD_TPM_AK_HANDLE;
        bool json = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_seal_key, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'p': policy_hex = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'o': out = optarg; break;
                case 'a':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &ak_handle) < 0)
                                return cli_usage_error(usage_seal_key, "seal-key: --ak-handle %s: a handle", optarg);
                        break;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_seal_key, "seal-key: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc || !policy_hex || !nonce_hex || !out)
                return cli_usage_error(usage_seal_key, "seal-key: --policy, --nonce and -o DIR are required");
        uint8_t *policy = NULL, *nonce = NULL;
        size_t policy_len = 0, nonce_len = 0;
        struct shield_tpm *t = NULL;
        struct shield_tpm_sealing_key k = { 0 };
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        if (hex_arg("--policy", policy_hex, &policy, &policy_len, 32, 32) != EXIT_OK ||
            parse_nonce(nonce_hex, usage_seal_key, &nonce, &nonce_len) != 0)
                goto out;
        if (mkdir(out, 0700) < 0 && errno != EEXIST) {
                cli_error("%s: %s", out, strerror(errno));
                goto out;
        }
        if (shield_tpm_open(tcti, &t, &diag) < 0 ||
            shield_tpm_sealing_key_create(t, policy, policy_len, (uint32_t)ak_handle, nonce, nonce_len, &k, &diag) < 0) {
                cli_error("%s", diag.msg);
                goto out;
        }
        if (write_in(out, "key.pub", k.public, k.public_len, 0644) || write_in(out, "key.priv", k.private, k.private_len, 0600) ||
            write_in(out, "key.name", k.name, k.name_len, 0644) ||
            write_in(out, "certify.attest", k.certify_attest, k.certify_attest_len, 0644) ||
            write_in(out, "certify.sig", k.certify_signature, k.certify_signature_len, 0644))
                goto out;
        char name_hex[2 * SHIELD_TPM_NAME_MAX + 1];
        shield_hex_encode(k.name, k.name_len, name_hex);
        if (json)
                cli_print_json(json_pack("{s:s, s:s, s:s}", "dir", out, "name", name_hex, "policy", policy_hex));
        else
                printf("sealing key %s in %s (authPolicy %s), certified by the AK 0x%08x\n", name_hex, out, policy_hex,
                       (unsigned)ak_handle);
        r = EXIT_OK;
out:
        shield_tpm_sealing_key_clear(&k);
        shield_tpm_close(t);
        free(policy);
        free(nonce);
        return r;
}

static int verb_verify_seal_key(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },         { "ak-pub", required_argument, NULL, 'a' },
                { "dir", required_argument, NULL, 'd' },    { "nonce", required_argument, NULL, 'n' },
                { "policy", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
                {},
        };
        const char *ak_path = NULL, *dir = NULL, *nonce_hex = NULL, *policy_hex = NULL;
        bool json = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_verify_seal_key, stdout); return EXIT_OK;
                case 'a': ak_path = optarg; break;
                case 'd': dir = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'p': policy_hex = optarg; break;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_verify_seal_key, "verify-seal-key: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc || !ak_path || !dir || !nonce_hex || !policy_hex)
                return cli_usage_error(usage_verify_seal_key, "verify-seal-key: --ak-pub, --dir, --nonce and --policy are required");
        uint8_t *policy = NULL, *nonce = NULL, *ak = NULL, *pub = NULL, *att = NULL, *sig = NULL;
        size_t policy_len = 0, nonce_len = 0, ak_len = 0, pub_len = 0, att_len = 0, sig_len = 0;
        char *p_pub = NULL, *p_att = NULL, *p_sig = NULL;
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        if (hex_arg("--policy", policy_hex, &policy, &policy_len, 32, 32) != EXIT_OK ||
            parse_nonce(nonce_hex, usage_verify_seal_key, &nonce, &nonce_len) != 0)
                goto out;
        if (asprintf(&p_pub, "%s/key.pub", dir) < 0 || asprintf(&p_att, "%s/certify.attest", dir) < 0 ||
            asprintf(&p_sig, "%s/certify.sig", dir) < 0)
                goto out;
        if (cli_read_file(ak_path, SHIELD_TPM_PUBLIC_MAX, &ak, &ak_len) || cli_read_file(p_pub, SHIELD_TPM_PUBLIC_MAX, &pub, &pub_len) ||
            cli_read_file(p_att, 4096, &att, &att_len) || cli_read_file(p_sig, 4096, &sig, &sig_len))
                goto out;
        int v = shield_sealing_key_check(ak, ak_len, att, att_len, sig, sig_len, pub, pub_len, nonce, nonce_len, policy,
                                         policy_len, &reasons, &diag);
        if (v < 0 && v != SHIELD_E_VERIFY) {
                cli_error("%s: %s", dir, diag.msg[0] ? diag.msg : shield_strerror(v));
                goto out;
        }
        if (json) {
                cli_print_json(json_pack("{s:b, s:o}", "verified", v == 0, "reasons", cli_reasons_json(&reasons)));
        } else {
                for (size_t i = 0; i < reasons.n; i++)
                        printf("  %-7s [%s] %s\n", shield_severity_name(reasons.items[i].severity), reasons.items[i].code,
                               reasons.items[i].message);
                printf("%s: %s\n", dir, v == 0 ? "the sealing key is bound to this TPM and this policy" : "NOT verified");
        }
        r = v == 0 ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        shield_reasons_clear(&reasons);
        free(policy);
        free(nonce);
        free(ak);
        free(pub);
        free(att);
        free(sig);
        free(p_pub);
        free(p_att);
        free(p_sig);
        return r;
}

static const char usage_seal[] =
        "Usage: shield tpm seal --key DIR --in FILE -o FILE\n"
        "\n"
        "Seal FILE to the sealing key in DIR (shield tpm seal-key), as a credential\n"
        "service does, without a TPM: a shieldkit-sealed/1 blob (a fresh AES-256 key\n"
        "RSA-OAEP-wrapped to the key, the data under AES-256-GCM) that only that\n"
        "TPM opens, and only in the boot state the key's policy names.\n"
        "\n"
        "Exit status: 0 sealed, 2 bad input.\n";

static const char usage_unseal[] =
        "Usage: shield tpm unseal --key DIR --pcr-list LIST [--bank ALG] [--epoch-nv HEX --epoch N]\n"
        "                         [--tcti T] --in FILE -o FILE\n"
        "\n"
        "Open a sealed blob with the TPM: the sealing key in DIR is loaded under the\n"
        "EK and used in a policy session of TPM2_PolicyPCR over LIST (the PCRs its\n"
        "policy was made from) as they are now, then, with --epoch-nv, of\n"
        "TPM2_PolicyNV: the epoch counter must hold exactly N (the --epoch the\n"
        "policy was made with, `shield tpm policy-pcr --epoch-nv`). Writes the data\n"
        "to FILE (0600).\n"
        "\n"
        "Options:\n"
        "  --key DIR       the sealing key (shield tpm seal-key)\n"
        "  --pcr-list LIST the PCRs of the policy, e.g. 0,2,4-7\n"
        "  --bank ALG      their bank (default sha256)\n"
        "  --epoch-nv HEX  the epoch counter's NV index, when the policy names one\n"
        "  --epoch N       the epoch the policy requires\n"
        "  --tcti T        the TPM (see 'shield tpm --help')\n"
        "  --in FILE       the sealed blob; -o FILE where the data goes\n"
        "\n"
        "Exit status: 0 opened, 1 the TPM refused (its PCRs are not the sealed state,\n"
        "or the epoch passed: the message says which) or the blob does not verify,\n"
        "2 bad input.\n";

static int read_in(const char *dir, const char *name, size_t max, uint8_t **ret, size_t *ret_len) {
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return EXIT_BAD_INPUT;
        int r = cli_read_file(path, max, ret, ret_len);
        free(path);
        return r;
}

static int verb_seal(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "key", required_argument, NULL, 'k' },
                { "in", required_argument, NULL, 'i' }, {},
        };
        const char *dir = NULL, *in = NULL, *out = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_seal, stdout); return EXIT_OK;
                case 'k': dir = optarg; break;
                case 'i': in = optarg; break;
                case 'o': out = optarg; break;
                default: return cli_usage_error(usage_seal, "seal: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc || !dir || !in || !out)
                return cli_usage_error(usage_seal, "seal: --key DIR, --in FILE and -o FILE are required");
        uint8_t *pub = NULL, *data = NULL, *blob = NULL;
        size_t pub_len = 0, data_len = 0, blob_len = 0;
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        if (read_in(dir, "key.pub", SHIELD_TPM_PUBLIC_MAX, &pub, &pub_len) || cli_read_file(in, SHIELD_SEALED_DATA_MAX, &data, &data_len))
                goto out;
        if (shield_seal_to_key(pub, pub_len, data, data_len, &blob, &blob_len, &diag) < 0) {
                cli_error("%s: %s", dir, diag.msg[0] ? diag.msg : "cannot seal to this key");
                goto out;
        }
        if (shield_write_file_atomic(out, blob, blob_len, 0644) < 0) {
                cli_error("%s: %s", out, strerror(errno));
                goto out;
        }
        r = EXIT_OK;
out:
        if (data)
                explicit_bzero(data, data_len);
        free(data);
        free(pub);
        free(blob);
        return r;
}

static int verb_unseal(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "key", required_argument, NULL, 'k' },
                { "in", required_argument, NULL, 'i' },        { "pcr-list", required_argument, NULL, 'l' },
                { "bank", required_argument, NULL, 'b' },      { "tcti", required_argument, NULL, 't' },
                { "epoch-nv", required_argument, NULL, 'E' },  { "epoch", required_argument, NULL, 'e' },
                {},
        };
        const char *dir = NULL, *in = NULL, *out = NULL, *list = NULL, *bank_name = "sha256", *tcti = NULL;
        const char *nv_hex = NULL, *epoch = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_unseal, stdout); return EXIT_OK;
                case 'k': dir = optarg; break;
                case 'i': in = optarg; break;
                case 'o': out = optarg; break;
                case 'l': list = optarg; break;
                case 'b': bank_name = optarg; break;
                case 't': tcti = optarg; break;
                case 'E': nv_hex = optarg; break;
                case 'e': epoch = optarg; break;
                default: return cli_usage_error(usage_unseal, "unseal: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc || !dir || !in || !out || !list)
                return cli_usage_error(usage_unseal, "unseal: --key DIR, --pcr-list LIST, --in FILE and -o FILE are required");
        uint16_t bank = 0;
        uint64_t mask = 0;
        if (shield_hash_from_name(bank_name, &bank) < 0)
                return cli_usage_error(usage_unseal, "unseal: unknown --bank %s", bank_name);
        if (shield_parse_index_list(list, SHIELD_PCR_COUNT - 1, &mask) < 0 || !mask)
                return cli_usage_error(usage_unseal, "unseal: --pcr-list %s: PCRs 0-23 such as 0,2,4-7", list);
        struct shield_seal_policy pol = { .bank = bank, .mask = (uint32_t)mask };
        if (epoch_args(usage_unseal, "unseal", nv_hex, epoch, &pol) != EXIT_OK)
                return EXIT_BAD_INPUT;
        uint8_t *pub = NULL, *priv = NULL, *blob = NULL, *data = NULL;
        size_t pub_len = 0, priv_len = 0, blob_len = 0, data_len = 0;
        struct shield_tpm *t = NULL;
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        if (read_in(dir, "key.pub", SHIELD_TPM_PUBLIC_MAX, &pub, &pub_len) || read_in(dir, "key.priv", 4096, &priv, &priv_len) ||
            cli_read_file(in, SHIELD_SEALED_DATA_MAX + 4096, &blob, &blob_len))
                goto out;
        if (shield_tpm_open(tcti, &t, &diag) < 0) {
                cli_error("%s", diag.msg);
                goto out;
        }
        int v = shield_tpm_unseal(t, pub, pub_len, priv, priv_len, &pol, blob, blob_len, &data, &data_len,
                                  &diag);
        if (v < 0) {
                cli_error("unseal: %s", diag.msg[0] ? diag.msg : shield_strerror(v));
                r = v == SHIELD_E_VERIFY ? EXIT_VERIFY_FAILED : EXIT_BAD_INPUT;
                goto out;
        }
        if (shield_write_file_atomic(out, data, data_len, 0600) < 0) {
                cli_error("%s: %s", out, strerror(errno));
                goto out;
        }
        r = EXIT_OK;
out:
        if (data)
                explicit_bzero(data, data_len);
        free(data);
        free(pub);
        free(priv);
        free(blob);
        shield_tpm_close(t);
        return r;
}

static const char usage_epoch[] =
        "Usage: shield tpm epoch [--tcti T] [--index HEX] [--json]\n"
        "       shield tpm epoch advance --to N [--tcti T] [--index HEX]\n"
        "\n"
        "The epoch counter sealed credentials name in their policy (TPM2_PolicyNV):\n"
        "read it, defining it first when the TPM has none (an owner-defined\n"
        "TPM_NT_COUNTER, AUTHWRITE|AUTHREAD|OWNERREAD|NO_DA, empty auth, SHA-256,\n"
        "incremented once so its Name is final); prints the index, the value and the\n"
        "Name (what `shield tpm policy-pcr --epoch-nv-name` takes). `advance` counts\n"
        "it up to at least N (at most 64 increments), which retires every blob\n"
        "sealed to an older epoch; a counter never goes back.\n"
        "\n"
        "Options:\n"
        "  --tcti T     the TPM (see 'shield tpm --help')\n"
        "  --index HEX  the NV index (default 0x0100534b)\n"
        "  --to N       advance: the value to reach\n"
        "  --json       {\"index\", \"value\", \"name\", \"nv_public\"} (hex)\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 done, 2 bad usage or a TPM error (an index of another kind\n"
        "is left alone).\n";

static int verb_epoch(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },        { "tcti", required_argument, NULL, 't' },
                { "index", required_argument, NULL, 'i' }, { "json", no_argument, NULL, 'j' },
                { "to", required_argument, NULL, 'T' },    {},
        };
        const char *tcti = NULL, *to = NULL;
        uint64_t index = SHIELD_TPM_EPOCH_NV, target = 0;
        bool json = false, advance = false;
        int c;
        if (argc >= 2 && strcmp(argv[1], "advance") == 0) {
                advance = true;
                argc--;
                argv++;
        }
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_epoch, stdout); return EXIT_OK;
                case 't': tcti = optarg; break;
                case 'i':
                        if (shield_parse_u64(optarg, 16, UINT32_MAX, &index) < 0 || index >> 24 != 0x01)
                                return cli_usage_error(usage_epoch, "epoch: --index %s: an NV index such as 0x0100534b", optarg);
                        break;
                case 'j': json = true; break;
                case 'T': to = optarg; break;
                default: return cli_usage_error(usage_epoch, "epoch: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc)
                return cli_usage_error(usage_epoch, "epoch: unexpected '%s' (read, or 'advance --to N')", argv[optind]);
        if (advance != (to != NULL))
                return cli_usage_error(usage_epoch, advance ? "epoch advance: --to N is required" : "epoch: --to goes with 'advance'");
        if (advance && shield_parse_u64(to, 10, UINT64_MAX, &target) < 0)
                return cli_usage_error(usage_epoch, "epoch advance: --to %s: a counter value", to);
        struct shield_tpm *t = NULL;
        struct shield_tpm_epoch e;
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT, k;
        if (open_tpm(tcti, &t) != 0)
                return EXIT_BAD_INPUT;
        if (advance && (k = shield_tpm_epoch_advance(t, (uint32_t)index, target, &diag)) < 0) {
                r = tpm_failed("epoch advance", k, &diag);
                goto out;
        }
        if ((k = shield_tpm_epoch_read(t, (uint32_t)index, &e, &diag)) < 0) {
                r = tpm_failed("epoch", k, &diag);
                goto out;
        }
        char name[2 * SHIELD_TPM_NAME_MAX + 1], pub[2 * sizeof e.nv_public + 1], idx[11];
        shield_hex_encode(e.name, e.name_len, name);
        shield_hex_encode(e.nv_public, e.nv_public_len, pub);
        snprintf(idx, sizeof idx, "0x%08x", (unsigned)e.index);
        if (json)
                cli_print_json(json_pack("{s:s, s:I, s:s, s:s}", "index", idx, "value", (json_int_t)e.value, "name", name,
                                         "nv_public", pub));
        else
                printf("index %s\nvalue %llu\nname %s\n", idx, (unsigned long long)e.value, name);
        r = EXIT_OK;
out:
        shield_tpm_close(t);
        return r;
}

int cmd_tpm(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "provision", "make and certify the EK and AK", verb_provision },
                { "info", "what the TPM says about itself", verb_info },
                { "pcrs", "read PCRs", verb_pcrs },
                { "ek", "the EK public key and certificate", verb_ek },
                { "ak", "make an AK as a child of the EK", verb_ak },
                { "make-credential", "protect a secret for an AK (no TPM)", verb_make_credential },
                { "activate", "recover a credential's secret with the TPM", verb_activate },
                { "quote", "quote PCRs into evidence JSON", verb_quote },
                { "verify-quote", "check the quote of an evidence file", verb_verify },
                { "policy-pcr", "the PolicyPCR digest of PCR values, in software", verb_policy_pcr },
                { "seal-key", "a key sealed to a boot state, certified by the AK", verb_seal_key },
                { "verify-seal-key", "check a sealing key as a credential service does", verb_verify_seal_key },
                { "seal", "seal data to a sealing key (no TPM)", verb_seal },
                { "unseal", "open sealed data with the TPM, in the sealed state only", verb_unseal },
                { "epoch", "read or advance the epoch counter", verb_epoch },
                { "quote-check", "the same as verify-quote", verb_verify },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
