/* SPDX-License-Identifier: Apache-2.0 */
/* shield ima show|replay|verify */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/eventlog.h"
#include "shield/ima.h"
#include "shield/util.h"

static const char usage_family[] =
        "Usage: shield ima COMMAND [OPTIONS] LIST\n"
        "\n"
        "Read Linux IMA runtime measurement lists: every file the kernel measured\n"
        "into PCR 10. LIST is /sys/kernel/security/ima/ascii_runtime_measurements\n"
        "or binary_runtime_measurements (detected), templates ima, ima-ng,\n"
        "ima-sig and ima-buf, any hash algorithm.\n"
        "\n"
        "Commands:\n"
        "  show     list every measurement\n"
        "  replay   compute PCR 10 for a bank\n"
        "  verify   check template hashes, PCR 10 and boot_aggregate\n"
        "\n"
        "Run 'shield ima COMMAND --help' for details.\n";

static const char usage_show[] =
        "Usage: shield ima show LIST [--json]\n"
        "\n"
        "One line per measurement: index, PCR, template, file digest, path.\n"
        "\n"
        "Options:\n"
        "  --json       every entry with full digests\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 shown, 2 the list cannot be read or parsed (the message\n"
        "names the line or byte offset).\n";

static const char usage_replay[] =
        "Usage: shield ima replay LIST [--bank ALG] [--json]\n"
        "\n"
        "Replay PCR 10 from zero for one bank (default: the algorithm of the\n"
        "list's template hashes). For another bank each entry's template data\n"
        "is hashed with that bank's algorithm, as the kernel extends every bank.\n"
        "Violations (zero template hashes) extend all ones. Prints \"BANK 10 HEX\".\n"
        "\n"
        "Options:\n"
        "  --bank ALG   sha1, sha256, sha384, sha512 or sm3_256\n"
        "  --json       {\"bank\": …, \"pcr\": 10, \"value\": …}\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 replayed, 2 bad input.\n";

static const char usage_verify[] =
        "Usage: shield ima verify LIST [--pcr10 HEX] [--bank ALG]\n"
        "                         [--eventlog LOG | --pcrs PCRS.json] [--json]\n"
        "\n"
        "Check an IMA list: every template hash must match its data; with\n"
        "--pcr10, the replay of PCR 10 (for --bank, by default the algorithm\n"
        "the value's length implies) must equal it; with --eventlog or --pcrs,\n"
        "the boot_aggregate entry must equal the hash of the firmware's PCRs\n"
        "0-7 (SHA-1) or 0-9 (other algorithms).\n"
        "\n"
        "Options:\n"
        "  --pcr10 HEX      PCR 10 as the TPM reports it (e.g. from a verified quote)\n"
        "  --bank ALG       the bank --pcr10 comes from\n"
        "  --eventlog LOG   the firmware event log, replayed for boot_aggregate\n"
        "  --pcrs FILE      firmware PCR values (PCRS.json) for boot_aggregate\n"
        "  --json           the result and every reason as JSON\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: 0 all checks pass, 1 a template hash, PCR 10 or\n"
        "boot_aggregate differs (each is named), 2 bad input.\n"
        "\n"
        "Example:\n"
        "  shield ima verify ascii_runtime_measurements --pcr10 $(tpm2_pcrread …) \\\n"
        "      --eventlog binary_bios_measurements\n";

enum { OPT_JSON = 0x100, OPT_BANK, OPT_PCR10, OPT_EVENTLOG, OPT_PCRS };

struct ima_args {
        const char *list, *bank, *pcr10, *eventlog, *pcrs;
        bool json;
};

static int parse_args(int argc, char **argv, const char *usage, unsigned allowed_mask, struct ima_args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "json", no_argument, NULL, OPT_JSON },
                { "bank", required_argument, NULL, OPT_BANK }, { "pcr10", required_argument, NULL, OPT_PCR10 },
                { "eventlog", required_argument, NULL, OPT_EVENTLOG }, { "pcrs", required_argument, NULL, OPT_PCRS },
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        return EXIT_OK;
                }
                if (c == '?' || c < OPT_JSON || !(allowed_mask & (1u << (c - OPT_JSON))))
                        return cli_usage_error(usage, "%s: unknown or misplaced option '%s'", argv[0], argv[optind - 1]);
                switch (c) {
                case OPT_JSON: a->json = true; break;
                case OPT_BANK: a->bank = optarg; break;
                case OPT_PCR10: a->pcr10 = optarg; break;
                case OPT_EVENTLOG: a->eventlog = optarg; break;
                case OPT_PCRS: a->pcrs = optarg; break;
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(usage, "%s: expected exactly one LIST argument", argv[0]);
        a->list = argv[optind];
        return -1;
}

#define ALLOW(opt) (1u << ((opt) - OPT_JSON))

static int load_list(const char *path, struct shield_ima_list **ret) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_diag diag = { 0 };

        if (cli_read_file(path, SHIELD_IMA_LIST_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_ima_parse(buf, len, 0, ret, &diag);
        free(buf);
        return r < 0 ? cli_parse_failed(path, r, &diag) : 0;
}

static char *hex(const uint8_t *p, size_t n) {
        char *s = malloc(2 * n + 1);
        if (s)
                shield_hex_encode(p, n, s);
        return s;
}

static int verb_show(int argc, char **argv) {
        struct ima_args a = { 0 };
        struct shield_ima_list *l = NULL;
        int r = parse_args(argc, argv, usage_show, ALLOW(OPT_JSON), &a);

        if (r >= 0)
                return r;
        if ((r = load_list(a.list, &l)) != 0)
                return r;
        size_t n = shield_ima_count(l);
        if (a.json) {
                json_t *root = json_object(), *arr = json_array();
                json_object_set_new(root, "format", json_string(shield_ima_format(l) == SHIELD_IMA_ASCII ? "ascii" : "binary"));
                for (size_t i = 0; i < n; i++) {
                        const struct shield_ima_entry *e = shield_ima_entry(l, i);
                        char *th = hex(e->template_hash, e->template_hash_size), *fh = hex(e->file_hash, e->file_hash_size);
                        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "index", (json_int_t)i, "pcr",
                                              (json_int_t)e->pcr, "template", e->template_name, "template_hash", th ? th : "",
                                              "file_hash_algorithm", e->file_hash_algo, "file_hash", fh ? fh : "", "path",
                                              e->path, "violation", e->violation);
                        if (e->sig_size) {
                                char *sh = hex(e->sig, e->sig_size);
                                json_object_set_new(o, "signature", json_string(sh ? sh : ""));
                                free(sh);
                        }
                        json_array_append_new(arr, o);
                        free(th);
                        free(fh);
                }
                json_object_set_new(root, "entries", arr);
                json_object_set_new(root, "quirks", cli_reasons_json(shield_ima_quirks(l)));
                cli_print_json(root);
        } else {
                printf("%6s %3s  %-8s  %-24s  %s\n", "ENTRY", "PCR", "TEMPLATE", "FILE DIGEST", "PATH");
                for (size_t i = 0; i < n; i++) {
                        const struct shield_ima_entry *e = shield_ima_entry(l, i);
                        char short_hash[17] = "";
                        shield_hex_encode(e->file_hash, e->file_hash_size < 8 ? e->file_hash_size : 8, short_hash);
                        printf("%6zu %3u  %-8s  %s%s%-*s  %s%s\n", i, e->pcr, e->template_name, e->file_hash_algo,
                               *e->file_hash_algo ? ":" : "", (int)(23 - strlen(e->file_hash_algo)), short_hash, e->path,
                               e->violation ? "  (violation)" : "");
                }
                cli_print_reasons(stdout, shield_ima_quirks(l));
        }
        shield_ima_free(l);
        return EXIT_OK;
}

static int bank_of(const char *name, uint16_t fallback, uint16_t *ret) {
        if (!name) {
                *ret = fallback;
                return 0;
        }
        if (strcmp(name, "sm3") == 0)
                name = "sm3_256";
        return shield_hash_from_name(name, ret);
}

static int verb_replay(int argc, char **argv) {
        struct ima_args a = { 0 };
        struct shield_ima_list *l = NULL;
        uint16_t alg;
        uint8_t pcr[SHIELD_HASH_MAX_SIZE];
        int r = parse_args(argc, argv, usage_replay, ALLOW(OPT_JSON) | ALLOW(OPT_BANK), &a);

        if (r >= 0)
                return r;
        if ((r = load_list(a.list, &l)) != 0)
                return r;
        if (bank_of(a.bank, shield_ima_template_hash_alg(l), &alg) < 0) {
                shield_ima_free(l);
                return cli_usage_error(usage_replay, "replay: unknown bank '%s'", a.bank);
        }
        r = shield_ima_replay(l, alg, NULL, pcr);
        shield_ima_free(l);
        if (r < 0) {
                cli_error("%s: cannot replay the %s bank: %s", a.list, shield_hash_name(alg), shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        char *h = hex(pcr, shield_hash_size(alg));
        if (a.json)
                cli_print_json(json_pack("{s:s, s:i, s:s}", "bank", shield_hash_name(alg), "pcr", SHIELD_IMA_PCR, "value", h));
        else
                printf("%s %d %s\n", shield_hash_name(alg), SHIELD_IMA_PCR, h);
        free(h);
        return EXIT_OK;
}

/* Firmware PCRs for boot_aggregate, from a log or a PCRS.json; 0, or an exit code. */
static int firmware_pcrs(const struct ima_args *a, struct shield_pcrs *ret) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_diag diag = { 0 };
        const char *path = a->eventlog ? a->eventlog : a->pcrs;
        int r;

        if (cli_read_file(path, a->eventlog ? SHIELD_EVENTLOG_MAX : SHIELD_PCRS_JSON_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        if (a->eventlog) {
                struct shield_eventlog *log = NULL;
                r = shield_eventlog_parse(buf, len, &log, &diag);
                if (r == 0) {
                        r = shield_eventlog_replay(log, NULL, ret, NULL);
                        shield_eventlog_free(log);
                }
        } else {
                r = shield_pcrs_parse_json((const char *)buf, len, ret, &diag);
        }
        free(buf);
        return r < 0 ? cli_parse_failed(path, r, &diag) : 0;
}

static int verb_verify(int argc, char **argv) {
        struct ima_args a = { 0 };
        struct shield_ima_list *l = NULL;
        struct shield_reasons reasons = { 0 };
        struct shield_pcrs fw;
        uint8_t *want = NULL;
        size_t want_len = 0;
        uint16_t alg = 0;
        bool pcr_checked = false, aggregate_checked = false;
        int r = parse_args(argc, argv, usage_verify,
                           ALLOW(OPT_JSON) | ALLOW(OPT_BANK) | ALLOW(OPT_PCR10) | ALLOW(OPT_EVENTLOG) | ALLOW(OPT_PCRS), &a);

        if (r >= 0)
                return r;
        if (a.eventlog && a.pcrs)
                return cli_usage_error(usage_verify, "verify: give --eventlog or --pcrs, not both");
        if (a.pcr10 && shield_hex_decode(a.pcr10, &want, &want_len) < 0)
                return cli_usage_error(usage_verify, "verify: --pcr10 is not hex");
        if ((a.eventlog || a.pcrs) && (r = firmware_pcrs(&a, &fw)) != 0)
                goto out;
        if ((r = load_list(a.list, &l)) != 0)
                goto out;

        r = shield_ima_check_templates(l, NULL, &reasons);
        if (r < 0)
                goto fail;
        if (a.pcr10) {
                uint8_t got[SHIELD_HASH_MAX_SIZE];
                uint16_t guess = want_len == 20 ? SHIELD_ALG_SHA1 : want_len == 32 ? SHIELD_ALG_SHA256
                                 : want_len == 48 ? SHIELD_ALG_SHA384 : want_len == 64 ? SHIELD_ALG_SHA512 : 0;
                if (bank_of(a.bank, guess, &alg) < 0 || shield_hash_size(alg) != want_len) {
                        r = cli_usage_error(usage_verify, "verify: --pcr10 has %zu bytes, which does not fit the bank", want_len);
                        goto out;
                }
                r = shield_ima_replay(l, alg, NULL, got);
                if (r < 0)
                        goto fail;
                pcr_checked = true;
                if (memcmp(got, want, want_len) != 0) {
                        char *g = hex(got, want_len);
                        r = shield_reasons_add(&reasons, "ima-pcr10-mismatch", SHIELD_SEV_ERROR, alg, SHIELD_IMA_PCR, -1,
                                               SIZE_MAX, "%s PCR 10: expected %s, the list replays to %s",
                                               shield_hash_name(alg), a.pcr10, g ? g : "?");
                        free(g);
                        if (r < 0)
                                goto fail;
                }
        }
        if (a.eventlog || a.pcrs) {
                r = shield_ima_check_boot_aggregate(l, &fw, &reasons);
                if (r == SHIELD_E_NOT_FOUND)
                        r = shield_reasons_add(&reasons, "ima-boot-aggregate-unchecked", SHIELD_SEV_ERROR, 0, SHIELD_IMA_PCR, -1,
                                               SIZE_MAX, "no boot_aggregate entry, or the firmware PCRs lack its bank");
                else
                        aggregate_checked = true;
                if (r < 0 && r != SHIELD_E_VERIFY)
                        goto fail;
        }
        bool ok = shield_reasons_max_severity(&reasons) < SHIELD_SEV_ERROR;
        size_t n = shield_ima_count(l);
        if (a.json) {
                json_t *root = json_pack("{s:b, s:I, s:b, s:b}", "verified", ok, "entries", (json_int_t)n, "pcr10_checked",
                                         pcr_checked, "boot_aggregate_checked", aggregate_checked);
                json_object_set_new(root, "reasons", cli_reasons_json(&reasons));
                cli_print_json(root);
        } else {
                for (size_t i = 0; i < reasons.n; i++)
                        if (reasons.items[i].severity == SHIELD_SEV_ERROR)
                                printf("%s\n", reasons.items[i].message);
                size_t violations = shield_reasons_count(&reasons, SHIELD_SEV_INFO);
                printf("%s: %s: %zu entries, template hashes %s%s%s%s\n", a.list, ok ? "verified" : "NOT verified", n,
                       ok ? "match" : "checked", violations ? " (violations noted)" : "",
                       pcr_checked ? ", PCR 10 replayed" : "", aggregate_checked ? ", boot_aggregate checked" : "");
        }
        r = ok ? EXIT_OK : EXIT_VERIFY_FAILED;
        goto out;
fail:
        cli_error("%s: %s", a.list, shield_strerror(r));
        r = EXIT_BAD_INPUT;
out:
        free(want);
        shield_reasons_clear(&reasons);
        shield_ima_free(l);
        return r;
}

int cmd_ima(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "show", "list measurements", verb_show },
                { "replay", "compute PCR 10", verb_replay },
                { "verify", "check the list", verb_verify },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
