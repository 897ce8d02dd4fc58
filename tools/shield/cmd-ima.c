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
        "Read Linux IMA runtime measurement lists: every file, buffer and key the\n"
        "kernel measured, and extended into PCR 10. LIST is a copy of\n"
        "/sys/kernel/security/ima/ascii_runtime_measurements or\n"
        "binary_runtime_measurements (or their per-bank _sha256, … forms); the\n"
        "form is detected. Templates: ima, ima-ng, ima-sig, ima-ngv2, ima-sigv2,\n"
        "ima-buf, ima-modsig and custom formats; any file hash algorithm.\n"
        "\n"
        "Commands:\n"
        "  show     list every measurement\n"
        "  replay   compute PCR 10 for a bank\n"
        "  verify   check template hashes, PCR 10 and boot_aggregate\n"
        "\n"
        "Run 'shield ima COMMAND --help' for details.\n";

static const char usage_show[] =
        "Usage: shield ima show LIST [--template-hash ALG] [--json]\n"
        "\n"
        "Print one line per measurement: its index (from 0), PCR, template, file\n"
        "digest as ALGO:HEX (the first 8 bytes) and path or event name.\n"
        "Violations (all-zero template hashes) are marked. Oddities of the list,\n"
        "such as stray bytes after the last binary record, follow as warnings.\n"
        "\n"
        "Options:\n"
        "  --template-hash ALG  the algorithm of the template hashes (sha1,\n"
        "                       sha256, sha384, sha512, sm3_256); by default it\n"
        "                       follows from their size\n"
        "  --json               every entry with full digests, line or offset,\n"
        "                       signature or buffer, as JSON\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status:\n"
        "  0  the list was shown\n"
        "  2  bad usage, or the list cannot be read or parsed (the message names\n"
        "     the line of an ASCII list or the byte offset and record of a\n"
        "     binary one)\n"
        "\n"
        "Examples:\n"
        "  shield ima show /sys/kernel/security/ima/ascii_runtime_measurements\n"
        "  shield ima show --json binary_runtime_measurements | jq '.entries[-1]'\n";

static const char usage_replay[] =
        "Usage: shield ima replay LIST [--bank ALG] [--pcr N] [--template-hash ALG] [--json]\n"
        "\n"
        "Replay a PCR (10 by default) from zero over the list's entries for that\n"
        "PCR, for one bank, and print \"BANK PCR HEX\". The default bank is the\n"
        "algorithm of the list's template hashes, which are extended as listed.\n"
        "For another bank each entry's template data is hashed with that bank's\n"
        "algorithm, as the kernel extends every bank the TPM has. Violations\n"
        "(all-zero template hashes) extend all ones, as the kernel does.\n"
        "\n"
        "Options:\n"
        "  --bank ALG           sha1, sha256, sha384, sha512 or sm3_256\n"
        "  --pcr N              the PCR to replay (0-23; default 10)\n"
        "  --template-hash ALG  the algorithm of the template hashes (see show)\n"
        "  --json               {\"bank\": …, \"pcr\": 10, \"value\": …, \"entries\": …}\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status:\n"
        "  0  replayed\n"
        "  2  bad usage, an unreadable or malformed list, or a bank that needs\n"
        "     template data the list does not hold\n"
        "\n"
        "Examples:\n"
        "  shield ima replay ascii_runtime_measurements\n"
        "  shield ima replay ascii_runtime_measurements --bank sha256\n"
        "  tpm2_pcrread sha256:10   # compare with the TPM\n";

static const char usage_verify[] =
        "Usage: shield ima verify LIST [--pcr10 HEX] [--bank ALG]\n"
        "                         [--eventlog LOG | --pcrs PCRS.json]\n"
        "                         [--template-hash ALG] [--json]\n"
        "\n"
        "Check an IMA list:\n"
        "  - every entry's template hash must equal the hash of its template data\n"
        "    (violations, all-zero template hashes, are noted, not failures; an\n"
        "    ASCII entry of a template whose fields are unknown is a warning: its\n"
        "    template hash still counts in the PCR 10 replay);\n"
        "  - with --pcr10, the replay of PCR 10 for the bank must equal HEX;\n"
        "  - with --eventlog or --pcrs, the first entry, boot_aggregate, must equal\n"
        "    the hash of the firmware's PCRs: SHA-1 over PCRs 0-7 of the sha1 bank,\n"
        "    or another bank's algorithm over its PCRs 0-9 (Linux 5.8 and later).\n"
        "Each failure is printed with its entry index and line (ASCII) or byte\n"
        "offset (binary), and what differs.\n"
        "\n"
        "Options:\n"
        "  --pcr10 HEX          PCR 10 as the TPM reports it (from a verified quote)\n"
        "  --bank ALG           the bank of --pcr10; by default the one its length\n"
        "                       implies (20 bytes sha1, 32 sha256, 48 sha384,\n"
        "                       64 sha512)\n"
        "  --eventlog LOG       the firmware's TCG event log\n"
        "                       (binary_bios_measurements), replayed for the PCRs\n"
        "  --pcrs FILE          the firmware's PCR values as PCRS.json\n"
        "  --template-hash ALG  the algorithm of the template hashes (see show)\n"
        "  --json               the result, the replayed value and every reason\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status:\n"
        "  0  every requested check passed\n"
        "  1  a template hash, PCR 10 or boot_aggregate differs, or boot_aggregate\n"
        "     could not be checked against the given firmware PCRs\n"
        "  2  bad usage, or an input cannot be read or parsed\n"
        "\n"
        "Examples:\n"
        "  shield ima verify ascii_runtime_measurements\n"
        "  shield ima verify ascii_runtime_measurements --bank sha256 \\\n"
        "      --pcr10 \"$(tpm2_pcrread sha256:10 -o /dev/stdout | xxd -p -c 64)\" \\\n"
        "      --eventlog /sys/kernel/security/tpm0/binary_bios_measurements\n"
        "  shield ima verify binary_runtime_measurements --pcrs pcrs.json --json\n";

enum { OPT_JSON = 0x100, OPT_BANK, OPT_PCR10, OPT_EVENTLOG, OPT_PCRS, OPT_PCR, OPT_TEMPLATE_HASH };

#define ALLOW(opt) (1u << ((opt) - OPT_JSON))

struct ima_args {
        const char *list, *bank, *pcr10, *eventlog, *pcrs, *pcr, *template_hash;
        bool json;
};

/* -1 to go on, or an exit code (--help, a usage error). */
static int parse_args(int argc, char **argv, const char *usage, unsigned allowed_mask, struct ima_args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, OPT_JSON },
                { "bank", required_argument, NULL, OPT_BANK },
                { "pcr10", required_argument, NULL, OPT_PCR10 },
                { "eventlog", required_argument, NULL, OPT_EVENTLOG },
                { "pcrs", required_argument, NULL, OPT_PCRS },
                { "pcr", required_argument, NULL, OPT_PCR },
                { "template-hash", required_argument, NULL, OPT_TEMPLATE_HASH },
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        return EXIT_OK;
                }
                if (c == '?')
                        return EXIT_BAD_INPUT; /* said by cli_getopt */
                if (c < OPT_JSON || !(allowed_mask & ALLOW(c)))
                        return cli_usage_error(usage, "%s: unknown or misplaced option '%s'", argv[0], argv[optind - 1]);
                switch (c) {
                case OPT_JSON: a->json = true; break;
                case OPT_BANK: a->bank = optarg; break;
                case OPT_PCR10: a->pcr10 = optarg; break;
                case OPT_EVENTLOG: a->eventlog = optarg; break;
                case OPT_PCRS: a->pcrs = optarg; break;
                case OPT_PCR: a->pcr = optarg; break;
                case OPT_TEMPLATE_HASH: a->template_hash = optarg; break;
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(usage, "%s: expected exactly one LIST argument", argv[0]);
        a->list = argv[optind];
        return -1;
}

/* A bank name ("sm3" too, the kernel's name); fallback when name is NULL. 0 or -1. */
static int alg_of(const char *name, uint16_t fallback, uint16_t *ret) {
        if (!name) {
                *ret = fallback;
                return 0;
        }
        if (strcmp(name, "sm3") == 0)
                name = "sm3_256";
        return shield_hash_from_name(name, ret) < 0 ? -1 : 0;
}

/* Read and parse LIST; 0, or an exit code after printing why. */
static int load_list(const struct ima_args *a, const char *usage, struct shield_ima_list **ret) {
        struct shield_ima_options opts = { 0 };
        struct shield_diag diag = { 0 };
        uint8_t *buf = NULL;
        size_t len = 0;

        if (alg_of(a->template_hash, 0, &opts.template_hash_alg) < 0)
                return cli_usage_error(usage, "unknown --template-hash algorithm '%s'", a->template_hash);
        if (cli_read_file(a->list, SHIELD_IMA_LIST_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_ima_parse(buf, len, &opts, ret, &diag);
        free(buf);
        return r < 0 ? cli_parse_failed(a->list, r, &diag) : 0;
}

static char *hex(const uint8_t *p, size_t n) {
        char *s = malloc(2 * n + 1);
        if (s)
                shield_hex_encode(p, n, s);
        return s;
}

static json_t *json_hex(const uint8_t *p, size_t n) {
        char *s = hex(p, n);
        json_t *j = json_string(s ? s : "");
        free(s);
        return j;
}

static json_t *entry_json(const struct shield_ima_entry *e) {
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer((json_int_t)e->index));
        if (e->line)
                json_object_set_new(o, "line", json_integer((json_int_t)e->line));
        else
                json_object_set_new(o, "offset", json_integer((json_int_t)e->offset));
        json_object_set_new(o, "pcr", json_integer(e->pcr));
        json_object_set_new(o, "template", json_string(e->template_name));
        json_object_set_new(o, "template_hash", json_hex(e->template_hash, e->template_hash_size));
        json_object_set_new(o, "template_known", json_boolean(e->template_known));
        if (e->file_hash) {
                json_object_set_new(o, "file_hash_algorithm", json_string(e->file_hash_algo));
                if (*e->file_hash_type)
                        json_object_set_new(o, "file_hash_type", json_string(e->file_hash_type));
                json_object_set_new(o, "file_hash", json_hex(e->file_hash, e->file_hash_size));
        }
        /* Paths are bytes; jansson needs UTF-8, so a name that is not is kept in hex. */
        json_t *path = json_string(e->path);
        if (!path) {
                json_object_set_new(o, "path_hex", json_hex((const uint8_t *)e->path, strlen(e->path)));
        } else {
                json_object_set_new(o, "path", path);
        }
        if (e->sig_size)
                json_object_set_new(o, "signature", json_hex(e->sig, e->sig_size));
        if (e->buf_size)
                json_object_set_new(o, "buffer", json_hex(e->buf, e->buf_size));
        json_object_set_new(o, "violation", json_boolean(e->violation));
        return o;
}

static int verb_show(int argc, char **argv) {
        struct ima_args a = { 0 };
        struct shield_ima_list *l = NULL;
        int r = parse_args(argc, argv, usage_show, ALLOW(OPT_JSON) | ALLOW(OPT_TEMPLATE_HASH), &a);

        if (r >= 0)
                return r;
        if ((r = load_list(&a, usage_show, &l)) != 0)
                return r;
        size_t n = shield_ima_count(l);
        uint16_t talg = shield_ima_template_hash_alg(l);
        if (a.json) {
                json_t *root = json_object(), *arr = json_array();
                json_object_set_new(root, "format",
                                    json_string(shield_ima_format(l) == SHIELD_IMA_ASCII ? "ascii" : "binary"));
                if (shield_ima_format(l) == SHIELD_IMA_BINARY)
                        json_object_set_new(root, "big_endian", json_boolean(shield_ima_big_endian(l)));
                json_object_set_new(root, "template_hash_algorithm", json_string(shield_hash_name(talg) ? shield_hash_name(talg) : ""));
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, entry_json(shield_ima_entry(l, i)));
                json_object_set_new(root, "entries", arr);
                json_object_set_new(root, "quirks", cli_reasons_json(shield_ima_quirks(l)));
                cli_print_json(root);
        } else {
                printf("%6s %3s  %-10s  %-26s  %s\n", "ENTRY", "PCR", "TEMPLATE", "FILE DIGEST", "PATH");
                for (size_t i = 0; i < n; i++) {
                        const struct shield_ima_entry *e = shield_ima_entry(l, i);
                        char digest[64] = "-", short_hash[17] = "";
                        if (e->file_hash) {
                                shield_hex_encode(e->file_hash, e->file_hash_size < 8 ? e->file_hash_size : 8, short_hash);
                                snprintf(digest, sizeof digest, "%s:%s", e->file_hash_algo, short_hash);
                        }
                        printf("%6zu %3u  %-10s  %-26s  %s%s\n", i, e->pcr, e->template_name, digest, e->path,
                               e->violation ? "  (violation)" : "");
                }
                cli_print_reasons(stdout, shield_ima_quirks(l));
        }
        shield_ima_free(l);
        return EXIT_OK;
}

/* --pcr N: 0, or an exit code. */
static int pcr_of(const struct ima_args *a, const char *usage, uint32_t *ret) {
        uint64_t v = SHIELD_IMA_PCR;
        if (a->pcr && shield_parse_u64(a->pcr, 10, SHIELD_PCR_COUNT - 1, &v) < 0)
                return cli_usage_error(usage, "--pcr: '%s' is not a PCR number (0-%d)", a->pcr, SHIELD_PCR_COUNT - 1);
        *ret = (uint32_t)v;
        return 0;
}

static int verb_replay(int argc, char **argv) {
        struct ima_args a = { 0 };
        struct shield_ima_list *l = NULL;
        uint16_t alg;
        uint32_t pcr_index = SHIELD_IMA_PCR;
        uint8_t pcr[SHIELD_HASH_MAX_SIZE];
        int r = parse_args(argc, argv, usage_replay,
                           ALLOW(OPT_JSON) | ALLOW(OPT_BANK) | ALLOW(OPT_PCR) | ALLOW(OPT_TEMPLATE_HASH), &a);

        if (r >= 0)
                return r;
        if ((r = pcr_of(&a, usage_replay, &pcr_index)) != 0)
                return r;
        if (alg_of(a.bank, 0, &alg) < 0)
                return cli_usage_error(usage_replay, "replay: unknown bank '%s'", a.bank);
        if ((r = load_list(&a, usage_replay, &l)) != 0)
                return r;
        if (!a.bank)
                alg = shield_ima_template_hash_alg(l);
        size_t used = 0;
        for (size_t i = 0; i < shield_ima_count(l); i++)
                used += shield_ima_entry(l, i)->pcr == pcr_index;
        r = shield_ima_replay(l, pcr_index, alg, NULL, pcr);
        shield_ima_free(l);
        if (r < 0) {
                cli_error("%s: cannot replay the %s bank: %s%s", a.list, shield_hash_name(alg) ? shield_hash_name(alg) : "?",
                          shield_strerror(r),
                          r == SHIELD_E_UNSUPPORTED ? " (an entry's template data is unknown, so only the list's own "
                                                      "template-hash bank can be replayed)" : "");
                return EXIT_BAD_INPUT;
        }
        char *h = hex(pcr, shield_hash_size(alg));
        if (a.json)
                cli_print_json(json_pack("{s:s, s:i, s:s, s:I}", "bank", shield_hash_name(alg), "pcr", (int)pcr_index,
                                         "value", h ? h : "", "entries", (json_int_t)used));
        else
                printf("%s %u %s\n", shield_hash_name(alg), pcr_index, h ? h : "");
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
                r = shield_eventlog_parse_take(&buf, len, &log, &diag);
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
        uint8_t *want = NULL, got[SHIELD_HASH_MAX_SIZE];
        size_t want_len = 0;
        uint16_t alg = 0;
        bool pcr_checked = false, aggregate_checked = false;
        int r = parse_args(argc, argv, usage_verify,
                           ALLOW(OPT_JSON) | ALLOW(OPT_BANK) | ALLOW(OPT_PCR10) | ALLOW(OPT_EVENTLOG) | ALLOW(OPT_PCRS) |
                                   ALLOW(OPT_TEMPLATE_HASH),
                           &a);

        if (r >= 0)
                return r;
        if (a.eventlog && a.pcrs)
                return cli_usage_error(usage_verify, "verify: give --eventlog or --pcrs, not both");
        if (a.bank && !a.pcr10)
                return cli_usage_error(usage_verify, "verify: --bank names the bank of --pcr10, which is missing");
        if (a.pcr10) {
                if (shield_hex_decode(a.pcr10, &want, &want_len) < 0)
                        return cli_usage_error(usage_verify, "verify: --pcr10 is not hex");
                uint16_t guess = want_len == 20 ? SHIELD_ALG_SHA1 : want_len == 32 ? SHIELD_ALG_SHA256
                                 : want_len == 48 ? SHIELD_ALG_SHA384 : want_len == 64 ? SHIELD_ALG_SHA512 : 0;
                if (alg_of(a.bank, guess, &alg) < 0 || !alg || shield_hash_size(alg) != want_len) {
                        free(want);
                        return cli_usage_error(usage_verify, "verify: --pcr10 has %zu bytes, which fits no %s bank",
                                               want_len, a.bank ? a.bank : "known");
                }
        }
        if ((a.eventlog || a.pcrs) && (r = firmware_pcrs(&a, &fw)) != 0)
                goto out;
        if ((r = load_list(&a, usage_verify, &l)) != 0)
                goto out;

        r = shield_ima_check_templates(l, NULL, &reasons);
        if (r < 0)
                goto fail;
        if (a.pcr10) {
                r = shield_ima_replay(l, SHIELD_IMA_PCR, alg, NULL, got);
                if (r < 0)
                        goto fail;
                pcr_checked = true;
                if (memcmp(got, want, want_len) != 0) {
                        char *g = hex(got, want_len), *w = hex(want, want_len);
                        r = shield_reasons_add(&reasons, "ima-pcr10-mismatch", SHIELD_SEV_ERROR, alg, SHIELD_IMA_PCR, -1,
                                               SIZE_MAX, "%s PCR 10: expected %s, the list replays to %s",
                                               shield_hash_name(alg), w ? w : "?", g ? g : "?");
                        free(g);
                        free(w);
                        if (r < 0)
                                goto fail;
                }
        }
        if (a.eventlog || a.pcrs) {
                r = shield_ima_check_boot_aggregate(l, &fw, &reasons);
                if (r == SHIELD_E_NOT_FOUND) {
                        const struct shield_ima_entry *e0 = shield_ima_entry(l, 0);
                        if (strcmp(e0->path, "boot_aggregate") != 0)
                                r = shield_reasons_add(&reasons, "ima-boot-aggregate-unchecked", SHIELD_SEV_ERROR, 0,
                                                       SHIELD_IMA_PCR, 0, e0->offset, "entry 0 is '%s', not boot_aggregate",
                                                       e0->path);
                        else
                                r = shield_reasons_add(&reasons, "ima-boot-aggregate-unchecked", SHIELD_SEV_ERROR,
                                                       e0->file_hash_alg, SHIELD_IMA_PCR, 0, e0->offset,
                                                       "boot_aggregate is %s, and the firmware PCRs lack that bank or one "
                                                       "of its PCRs 0-9", e0->file_hash_algo);
                } else if (r == 0 || r == SHIELD_E_VERIFY) {
                        aggregate_checked = true;
                        r = 0;
                }
                if (r < 0)
                        goto fail;
        }

        bool ok = shield_reasons_max_severity(&reasons) < SHIELD_SEV_ERROR;
        size_t n = shield_ima_count(l), violations = 0, mismatches = 0;
        for (size_t i = 0; i < reasons.n; i++) {
                violations += strcmp(reasons.items[i].code, "ima-violation") == 0;
                mismatches += strcmp(reasons.items[i].code, "ima-template-hash-mismatch") == 0;
        }
        uint16_t talg = shield_ima_template_hash_alg(l);
        if (a.json) {
                json_t *root = json_pack("{s:b, s:I, s:s, s:I, s:I}", "verified", ok, "entries", (json_int_t)n,
                                         "template_hash_algorithm", shield_hash_name(talg) ? shield_hash_name(talg) : "",
                                         "template_hash_mismatches", (json_int_t)mismatches, "violations",
                                         (json_int_t)violations);
                if (pcr_checked) {
                        json_t *p = json_pack("{s:s, s:b}", "bank", shield_hash_name(alg), "match",
                                              memcmp(got, want, want_len) == 0);
                        json_object_set_new(p, "expected", json_hex(want, want_len));
                        json_object_set_new(p, "replayed", json_hex(got, want_len));
                        json_object_set_new(root, "pcr10", p);
                }
                json_object_set_new(root, "boot_aggregate_checked", json_boolean(aggregate_checked));
                json_object_set_new(root, "reasons", cli_reasons_json(&reasons));
                cli_print_json(root);
        } else {
                for (size_t i = 0; i < reasons.n; i++)
                        if (reasons.items[i].severity >= SHIELD_SEV_WARNING)
                                printf("%s: %s\n", reasons.items[i].severity == SHIELD_SEV_ERROR ? "error" : "warning",
                                       reasons.items[i].message);
                printf("%s: %s: %zu entries, %zu template hash mismatches, %zu violations%s%s\n", a.list,
                       ok ? "verified" : "NOT verified", n, mismatches, violations,
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
