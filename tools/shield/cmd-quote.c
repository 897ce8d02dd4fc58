/* SPDX-License-Identifier: Apache-2.0 */
/* shield quote verify: a standalone TPM 2.0 quote in the files tpm2-tools and cloud vTPMs write. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/pcrs.h"
#include "shield/tpm.h"
#include "shield/util.h"

static const char usage_family[] =
        "Usage: shield quote COMMAND [OPTIONS]\n"
        "\n"
        "TPM 2.0 quotes as files, without a TPM.\n"
        "\n"
        "Commands:\n"
        "  verify   check a quote's signature, nonce and PCR digest\n"
        "\n"
        "Run 'shield quote COMMAND --help' for details.\n";

static const char usage_verify[] =
        "Usage: shield quote verify --ak-pub FILE --msg FILE --sig FILE [--pcrs FILE]\n"
        "                           [--nonce HEX | --nonce-file FILE] [--json]\n"
        "\n"
        "Check a TPM 2.0 quote (TPMS_ATTEST, as tpm2_quote -m writes): the signature\n"
        "verifies with the AK, extraData is the nonce, and, with --pcrs, pcrDigest is\n"
        "the digest of the PCR values given. Also prints what the quote says: clock,\n"
        "resetCount, restartCount, safe, firmware version and the PCR selection.\n"
        "Formats are detected:\n"
        "  --ak-pub  TPM2B_PUBLIC (tpm2_readpublic -o), TPMT_PUBLIC, DER\n"
        "            SubjectPublicKeyInfo or PEM\n"
        "  --sig     TPMT_SIGNATURE (tpm2_quote -s), or a bare RSASSA-PKCS1-v1_5\n"
        "            signature as long as the RSA modulus (hash: --sig-hash, else the\n"
        "            AK's scheme, else sha256)\n"
        "  --pcrs    PCRS.json ({\"sha256\": {\"0\": \"hex\", …}}) or tpm2-tools' PCR file\n"
        "            (tpm2_quote -o: TPML_PCR_SELECTION, count, TPML_DIGEST[])\n"
        "Without a nonce the quote's extraData must be empty. A TPM 1.2 quote\n"
        "(TPM_QUOTE_INFO) is not supported and says so.\n"
        "\n"
        "Options:\n"
        "  --ak-pub FILE      the AK public key\n"
        "  --msg FILE         the attestation (TPMS_ATTEST)\n"
        "  --sig FILE         the signature\n"
        "  --pcrs FILE        the PCR values the quote covers\n"
        "  --nonce HEX        the nonce issued (qualifyingData)\n"
        "  --nonce-file FILE  the same, binary\n"
        "  --sig-hash ALG     the hash of a bare RSASSA signature\n"
        "  --json             {\"verified\": bool, \"quote\": {…}, \"reasons\": […]}\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 verified, 1 a check failed (reasons printed), 2 bad usage or\n"
        "unreadable/malformed input.\n"
        "\n"
        "Example:\n"
        "  shield quote verify --ak-pub ak.pub --msg quote.msg --sig quote.sig --pcrs quote.pcrs --nonce aabbcc\n";

/* PCRS.json or tpm2-tools' binary PCR file. */
static int load_pcrs(const char *path, struct shield_pcrs *ret) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_diag diag = { 0 };
        int r = cli_read_file(path, SHIELD_PCRS_JSON_MAX, &buf, &len);
        if (r)
                return r;
        size_t i = 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
                i++;
        if (i < len && buf[i] == '{')
                r = shield_pcrs_parse_json((const char *)buf, len, ret, &diag);
        else
                r = shield_tpm_pcrs_parse_tools(buf, len, ret, &diag);
        free(buf);
        return r < 0 ? cli_parse_failed(path, r, &diag) : 0;
}

static json_t *quote_json(const struct shield_quote_info *q) {
        char hex[2 * (SHIELD_TPM_NONCE_MAX + 2) + 1], fw[32];
        json_t *sel = json_array();
        shield_hex_encode(q->extra_data, q->extra_data_len, hex);
        snprintf(fw, sizeof fw, "0x%016llx", (unsigned long long)q->firmware_version);
        for (size_t i = 0; i < q->n_banks; i++) {
                json_t *pcrs = json_array();
                for (unsigned j = 0; j < 32; j++)
                        if (q->masks[i] & (1u << j))
                                json_array_append_new(pcrs, json_integer(j));
                const char *n = shield_hash_name(q->banks[i]);
                json_array_append_new(sel, json_pack("{s:s, s:o}", "bank", n ? n : "unknown", "pcrs", pcrs));
        }
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:b, s:s}", "extra_data", hex, "clock", (json_int_t)q->clock,
                              "reset_count", (json_int_t)q->reset_count, "restart_count",
                              (json_int_t)q->restart_count, "safe", q->safe, "firmware_version", fw);
        char dig[2 * SHIELD_HASH_MAX_SIZE + 1];
        shield_hex_encode(q->pcr_digest, q->pcr_digest_len, dig);
        json_object_set_new(o, "pcr_select", sel);
        json_object_set_new(o, "pcr_digest", json_string(dig));
        return o;
}

static void quote_print(const struct shield_quote_info *q) {
        printf("clock %llu ms, resetCount %u, restartCount %u, safe %s\n", (unsigned long long)q->clock,
               (unsigned)q->reset_count, (unsigned)q->restart_count, q->safe ? "yes" : "no");
        printf("firmware version 0x%08x.%08x\n", (unsigned)(q->firmware_version >> 32),
               (unsigned)(q->firmware_version & 0xffffffffu));
        for (size_t i = 0; i < q->n_banks; i++) {
                const char *n = shield_hash_name(q->banks[i]);
                printf("quotes %s PCRs", n ? n : "unknown");
                for (unsigned j = 0; j < 32; j++)
                        if (q->masks[i] & (1u << j))
                                printf(" %u", j);
                putchar('\n');
        }
}

static int verb_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },            { "ak-pub", required_argument, NULL, 'a' },
                { "msg", required_argument, NULL, 'm' },       { "sig", required_argument, NULL, 's' },
                { "pcrs", required_argument, NULL, 'p' },      { "nonce", required_argument, NULL, 'n' },
                { "nonce-file", required_argument, NULL, 'N' }, { "sig-hash", required_argument, NULL, 'g' },
                { "json", no_argument, NULL, 'j' },            {},
        };
        const char *ak_path = NULL, *msg_path = NULL, *sig_path = NULL, *pcrs_path = NULL, *nonce_hex = NULL,
                   *nonce_path = NULL;
        uint16_t sig_hash = 0;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_verify, stdout); return EXIT_OK;
                case 'a': ak_path = optarg; break;
                case 'm': msg_path = optarg; break;
                case 's': sig_path = optarg; break;
                case 'p': pcrs_path = optarg; break;
                case 'n': nonce_hex = optarg; break;
                case 'N': nonce_path = optarg; break;
                case 'g':
                        if (shield_hash_from_name(optarg, &sig_hash) < 0)
                                return cli_usage_error(usage_verify, "verify: --sig-hash '%s' is unknown", optarg);
                        break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (!ak_path || !msg_path || !sig_path || optind != argc)
                return cli_usage_error(usage_verify, "verify: --ak-pub, --msg and --sig are required");
        if (nonce_hex && nonce_path)
                return cli_usage_error(usage_verify, "verify: --nonce and --nonce-file exclude each other");

        uint8_t *ak = NULL, *msg = NULL, *sig = NULL, *nonce = NULL;
        size_t ak_len = 0, msg_len = 0, sig_len = 0, nonce_len = 0;
        struct shield_ak_key *key = NULL;
        struct shield_pcrs pcrs;
        struct shield_reasons reasons = { 0 };
        struct shield_quote_info info;
        struct shield_diag diag = { 0 };
        int r;

        if (nonce_hex && (shield_hex_decode(nonce_hex, &nonce, &nonce_len) < 0 || nonce_len > SHIELD_TPM_NONCE_MAX)) {
                free(nonce);
                return cli_usage_error(usage_verify, "verify: --nonce must be 0 to %d bytes of hex",
                                       SHIELD_TPM_NONCE_MAX);
        }
        if ((nonce_path && (r = cli_read_file(nonce_path, SHIELD_TPM_NONCE_MAX, &nonce, &nonce_len)) != 0) ||
            (r = cli_read_file(ak_path, 1u << 16, &ak, &ak_len)) != 0 ||
            (r = cli_read_file(msg_path, SHIELD_TPM_ATTEST_MAX, &msg, &msg_len)) != 0 ||
            (r = cli_read_file(sig_path, SHIELD_TPM_SIGNATURE_MAX, &sig, &sig_len)) != 0 ||
            (pcrs_path && (r = load_pcrs(pcrs_path, &pcrs)) != 0))
                goto out;
        /* TPM 1.2, TPM_QUOTE_INFO (TPM 1.2 Part 2, 11.3): version 1.1.0.0 then "QUOT". */
        if (msg_len == 48 && memcmp(msg + 4, "QUOT", 4) == 0) {
                cli_error("%s: a TPM 1.2 quote (TPM_QUOTE_INFO) is not supported; only TPM 2.0 TPMS_ATTEST",
                          msg_path);
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if ((r = shield_quote_parse(msg, msg_len, &info, &diag)) < 0) {
                r = cli_parse_failed(msg_path, r, &diag);
                goto out;
        }
        if ((r = shield_ak_key_new(ak, ak_len, &key, &diag)) < 0) {
                r = cli_parse_failed(ak_path, r, &diag);
                goto out;
        }
        struct shield_quote_input in = {
                .attest = msg, .attest_len = msg_len, .signature = sig, .signature_len = sig_len,
                .nonce = nonce, .nonce_len = nonce_len, .pcrs = pcrs_path ? &pcrs : NULL, .raw_sig_hash = sig_hash,
        };
        r = shield_quote_check_with_key(key, &in, &reasons, &diag);
        if (r < 0 && r != SHIELD_E_VERIFY) {
                r = cli_parse_failed(diag.index == 1 ? sig_path : msg_path, r, &diag);
                goto out;
        }
        if (!pcrs_path && shield_reasons_add(&reasons, "quote-pcrs-absent", SHIELD_SEV_WARNING, 0, -1, -1, SIZE_MAX,
                                             "no PCR values given: pcrDigest not checked") < 0) {
                r = EXIT_BAD_INPUT;
                goto out;
        }
        bool ok = shield_reasons_max_severity(&reasons) < SHIELD_SEV_ERROR;
        if (json) {
                json_t *root = json_object();
                json_object_set_new(root, "verified", json_boolean(ok));
                json_object_set_new(root, "ak_format", json_string(shield_ak_key_format(key)));
                json_object_set_new(root, "ak_type", json_string(shield_ak_key_type(key)));
                json_object_set_new(root, "quote", quote_json(&info));
                json_object_set_new(root, "pcrs_checked", json_boolean(pcrs_path != NULL));
                json_object_set_new(root, "reasons", cli_reasons_json(&reasons));
                cli_print_json(root);
        } else {
                printf("AK %s (%s)\n", shield_ak_key_type(key), shield_ak_key_format(key));
                quote_print(&info);
                cli_print_reasons(stdout, &reasons);
                if (ok)
                        printf("%s: verified: signed by the AK, nonce%s match\n", msg_path,
                               pcrs_path ? " and PCR values" : "");
                else
                        printf("%s: NOT verified: %zu failed check%s\n", msg_path,
                               shield_reasons_count(&reasons, SHIELD_SEV_ERROR),
                               shield_reasons_count(&reasons, SHIELD_SEV_ERROR) == 1 ? "" : "s");
        }
        r = ok ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        shield_reasons_clear(&reasons);
        shield_ak_key_free(key);
        free(ak);
        free(msg);
        free(sig);
        free(nonce);
        return r;
}

int cmd_quote(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "verify", "check a quote's signature, nonce and PCR digest", verb_verify },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
