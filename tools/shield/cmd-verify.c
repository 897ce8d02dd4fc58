/* SPDX-License-Identifier: Apache-2.0 */
/* shield verify: the verifier's side of attestation, step by step. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "shield/attest.h"
#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/integrity.h"
#include "shield/store.h"
#include "shield/util.h"

static const char usage[] =
        "Usage: shield verify EVIDENCE --nonce HEX (--ak-pub FILE | --instance ID | --ca CERT)\n"
        "                     [--golden FILE] [--policy FILE] [--integrity-policy SPEC] [--ek-ca DIR]\n"
        "                     [--store FILE] [--json]\n"
        "\n"
        "Check attestation evidence (docs/FORMATS.md) the way a verifier does, in\n"
        "this order, reporting each step:\n"
        "  quote-signature  the AK's signature over TPMS_ATTEST (RSASSA, RSAPSS, ECDSA)\n"
        "  quote-structure  magic TPM_GENERATED_VALUE and type TPM_ST_ATTEST_QUOTE\n"
        "  nonce            extraData equals the nonce this verifier issued, and the\n"
        "                   nonce was not used before (with a store)\n"
        "  pcr-digest       the reported PCR values hash to the quote's pcrDigest\n"
        "  eventlog         the firmware event log replays to the reported PCRs\n"
        "                   (naming the first PCR that differs)\n"
        "  ima              the IMA list replays to PCR 10\n"
        "  ak               the AK is the one trusted for this machine (--ak-pub, or\n"
        "                   the instance's AK in the store) or certified by --ca\n"
        "  ek               with --ek-ca: the EK certificate chains to a vendor CA and\n"
        "                   certifies the EK the TPM reported\n"
        "  policy           the owner's policy (--policy FILE, shieldkit-policy/1)\n"
        "  golden           the golden measurement: green (all equal), yellow (new\n"
        "                   PCR values or events appeared), red (a golden PCR or event\n"
        "                   changed, boot order changed), early (PCRs 0-7) and late\n"
        "                   (8-15) boot given separately\n"
        "It also reports the quote's clock, resetCount and restartCount.\n"
        "\n"
        "With --instance ID the store keeps the instance's AK (trusted on first use\n"
        "when --ak-pub or --ca vouches for it), the nonces used, the golden\n"
        "measurement (the first attestation that passes becomes it; `shield golden\n"
        "reset` makes the next one the new golden) and the verdict history.\n"
        "\n"
        "Options:\n"
        "  --nonce HEX        the nonce this verifier issued (required)\n"
        "  --ak-pub FILE      the trusted AK: TPM2B_PUBLIC (tpm2_readpublic -o), TPMT_PUBLIC,\n"
        "                     or a PEM/DER public key\n"
        "  --instance ID      the machine's identity in the store\n"
        "  --ca CERT          trust AKs certified by this CA (e.g. the platform CA)\n"
        "  --ek-ca DIR        vendor CA certificates (DER or PEM) for EK certificates\n"
        "  --golden FILE      a golden measurement (shield golden export --format golden)\n"
        "                     or PCR values (PCRS.json) to compare against\n"
        "  --policy FILE      the owner's policy (docs/FORMATS.md)\n"
        "  --integrity-policy SPEC, --integrity SPEC\n"
        "                     which PCRs set the colour: gce (default: the instance's\n"
        "                     policy in the store, else 0-15), oci (0 and 2), strict,\n"
        "                     or a list such as 0,2,4-7; what it ignores is still\n"
        "                     listed as notes\n"
        "  --store FILE       the store (default $SHIELD_STORE, else\n"
        "                     $XDG_STATE_HOME/shieldkit/shield.db)\n"
        "  --json             the steps, reasons and colour as JSON\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 verified (green or yellow), 1 a check failed (or red),\n"
        "2 bad input or usage.\n"
        "\n"
        "Example:\n"
        "  shield verify evidence.json --nonce $NONCE --instance web-1 --ca platform-ca/ca.crt\n";

/* A golden measurement from a file: golden JSON, or PCR values only (PCRS.json). */
static int load_golden(const char *path, struct shield_golden **ret) {
        uint8_t *text = NULL;
        size_t len;
        struct shield_diag diag = { 0 }, d2 = { 0 };
        if (cli_read_file(path, 64u << 20, &text, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_golden_parse_json((const char *)text, len, ret, &diag);
        if (r < 0) {
                struct shield_evidence e = { 0 };
                e.secure_boot = e.setup_mode = -1;
                if (shield_pcrs_parse_json((const char *)text, len, &e.pcrs, &d2) == 0) {
                        e.has_pcrs = true;
                        r = shield_golden_from_evidence(&e, ret, &d2);
                }
        }
        free(text);
        if (r < 0) {
                cli_error("%s: neither a golden measurement (%s) nor PCR values (%s)", path, diag.msg, d2.msg);
                return EXIT_BAD_INPUT;
        }
        return EXIT_OK;
}

/* One line about the quote's clock against the last attestation, "" when nothing is known. */
static void clock_note(const struct shield_attest_outcome *o, char *buf, size_t size) {
        const struct shield_quote_info *q = &o->check.quote;
        switch (o->clock) {
        case SHIELD_CLOCK_REBOOTED:
                snprintf(buf, size, "rebooted since the last attestation (resetCount %u → %u)", o->prev_reset_count,
                         q->reset_count);
                break;
        case SHIELD_CLOCK_WENT_BACK:
                snprintf(buf, size, "the TPM clock went back (resetCount %u → %u): a cleared TPM, or not the same TPM",
                         o->prev_reset_count, q->reset_count);
                break;
        case SHIELD_CLOCK_RESUMED:
                snprintf(buf, size, "resumed or restarted since the last attestation (restartCount %u → %u)",
                         o->prev_restart_count, q->restart_count);
                break;
        case SHIELD_CLOCK_SAME_BOOT: snprintf(buf, size, "no reboot since the last attestation"); break;
        default: buf[0] = '\0'; break;
        }
}

int cmd_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "nonce", required_argument, NULL, 'n' },
                { "ak-pub", required_argument, NULL, 'a' },   { "instance", required_argument, NULL, 'i' },
                { "ca", required_argument, NULL, 'c' },       { "golden", required_argument, NULL, 'g' },
                { "policy", required_argument, NULL, 'p' },   { "integrity", required_argument, NULL, 'I' },
                { "integrity-policy", required_argument, NULL, 'I' },
                { "store", required_argument, NULL, 's' },    { "json", no_argument, NULL, 'j' },
                { "ek-ca", required_argument, NULL, 'E' },
                {},
        };
        const char *nonce_hex = NULL, *ak_path = NULL, *instance = NULL, *ca_path = NULL, *golden_path = NULL,
                   *policy_path = NULL, *integrity_spec = NULL, *store_path = NULL, *ek_ca = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage, stdout); return EXIT_OK;
                case 'n': nonce_hex = optarg; break;
                case 'a': ak_path = optarg; break;
                case 'i': instance = optarg; break;
                case 'c': ca_path = optarg; break;
                case 'g': golden_path = optarg; break;
                case 'p': policy_path = optarg; break;
                case 'I': integrity_spec = optarg; break;
                case 's': store_path = optarg; break;
                case 'E': ek_ca = optarg; break;
                case 'j': json = true; break;
                default: return cli_usage_error(usage, "verify: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc - 1)
                return cli_usage_error(usage, "verify: expected exactly one EVIDENCE file");
        if (!nonce_hex)
                return cli_usage_error(usage, "verify: --nonce is required (the nonce this verifier issued)");
        if (!ak_path && !instance && !ca_path)
                return cli_usage_error(usage, "verify: say which AK to trust: --ak-pub FILE, --instance ID or --ca CERT");
        const char *path = argv[optind];

        uint8_t *nonce = NULL, *text = NULL, *ak = NULL, *ca = NULL;
        size_t nonce_len = 0, len = 0, ak_len = 0, ca_len = 0;
        struct shield_evidence ev = { 0 };
        struct shield_attest_outcome res = { 0 };
        struct shield_attest_policy owner = { 0 };
        struct shield_integrity_policy integrity;
        struct shield_golden *golden = NULL;
        struct shield_store *store = NULL;
        struct shield_diag diag = { 0 };
        char *default_store = NULL;
        bool have_ev = false;
        int r = EXIT_BAD_INPUT;

        if (shield_hex_decode(nonce_hex, &nonce, &nonce_len) < 0 || nonce_len == 0 || nonce_len > SHIELD_TPM_NONCE_MAX) {
                cli_error("--nonce: 1 to %d bytes of hex", SHIELD_TPM_NONCE_MAX);
                goto out;
        }
        if (cli_read_file(path, SHIELD_EVIDENCE_JSON_MAX, &text, &len) != 0)
                goto out;
        int s = shield_evidence_parse_json((const char *)text, len, &ev, &diag);
        if (s < 0) {
                r = cli_parse_failed(path, s, &diag);
                goto out;
        }
        have_ev = true;
        if (ak_path && cli_read_file(ak_path, SHIELD_TPM_PUBLIC_MAX, &ak, &ak_len) != 0)
                goto out;
        if (ca_path && cli_read_file(ca_path, 1u << 20, &ca, &ca_len) != 0)
                goto out;
        if (policy_path) {
                uint8_t *ptext = NULL;
                size_t plen;
                if (cli_read_file(policy_path, 1u << 20, &ptext, &plen) != 0)
                        goto out;
                s = shield_attest_policy_parse((const char *)ptext, plen, &owner, &diag);
                free(ptext);
                if (s < 0) {
                        r = cli_parse_failed(policy_path, s, &diag);
                        goto out;
                }
        }
        const char *spec = integrity_spec ? integrity_spec : owner.integrity[0] ? owner.integrity : NULL;
        if (spec && shield_integrity_policy_parse(spec, &integrity, &diag) < 0) {
                cli_error("--integrity %s: %s", spec ? spec : "", diag.msg);
                goto out;
        }
        if (golden_path && load_golden(golden_path, &golden) != EXIT_OK)
                goto out;

        if (instance) {
                if (!store_path && !(store_path = default_store = shield_store_default_path())) {
                        cli_error("out of memory");
                        goto out;
                }
                if (shield_store_open(store_path, &store, &diag) < 0) {
                        cli_error("%s: %s", store_path, diag.msg);
                        goto out;
                }
        }
        struct shield_attest_options opts = {
                .nonce_mode = SHIELD_NONCE_GIVEN, .nonce = nonce, .nonce_len = nonce_len, .ak_public = ak,
                .ak_public_len = ak_len, .ak_ca = ca, .ak_ca_len = ca_len, .ek_ca_dir = ek_ca,
                .owner = policy_path ? &owner : NULL, .golden = golden, .integrity = spec ? &integrity : NULL,
        };
        int v = shield_attest_run(store, instance, &ev, &opts, &res, &diag);
        if (v < 0 && v != SHIELD_E_VERIFY) {
                cli_error("checking %s: %s%s%s", path, shield_strerror(v), diag.msg[0] ? ": " : "", diag.msg);
                goto out;
        }
        char note[200];
        clock_note(&res, note, sizeof note);
        if (json) {
                json_t *j = shield_attest_outcome_json(&res);
                json_object_set_new(j, "evidence", json_string(path));
                if (note[0])
                        json_object_set_new(j, "clock_note", json_string(note));
                cli_print_json(j);
        } else {
                for (size_t i = 0; i < res.check.n_steps; i++)
                        printf("%-16s %-4s  %s\n", res.check.steps[i].name,
                               shield_step_status_name(res.check.steps[i].status), res.check.steps[i].detail);
                if (res.check.has_quote_info)
                        printf("quote clock: %llu ms, resetCount %u, restartCount %u%s\n",
                               (unsigned long long)res.check.quote.clock, res.check.quote.reset_count,
                               res.check.quote.restart_count, res.check.quote.safe ? "" : " (clock not safe)");
                if (note[0])
                        printf("%s\n", note);
                /* Every reason, info too: what the policy ignores is still news ("note"). */
                for (size_t i = 0; i < res.check.reasons.n; i++) {
                        const struct shield_reason *x = &res.check.reasons.items[i];
                        printf("  %-7s [%s] %s\n", x->severity == SHIELD_SEV_INFO ? "note" : shield_severity_name(x->severity),
                               x->code, x->message);
                }
                if (res.golden_recorded)
                        printf("golden measurement recorded for %s: later boots are compared with this one\n", instance);
                else if (res.golden_note[0])
                        printf("%s\n", res.golden_note);
                if (store && !res.recorded)
                        printf("nothing recorded for %s: %s\n", instance,
                               res.refusal ? shield_attest_refusal_code(res.refusal) : "not authenticated");
                printf("%s: %s%s%s\n", path, v == 0 ? "verified" : "NOT verified", res.has_colour ? ", " : "",
                       res.has_colour ? shield_colour_name(res.colour) : "");
        }
        r = v == 0 ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        if (have_ev)
                shield_evidence_free(&ev);
        shield_attest_outcome_clear(&res);
        shield_golden_free(golden);
        shield_store_close(store);
        free(default_store);
        free(nonce);
        free(text);
        free(ak);
        free(ca);
        return r;
}
