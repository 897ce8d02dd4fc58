/* SPDX-License-Identifier: Apache-2.0 */
/* shield eventlog show|replay|verify|secureboot */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/eventlog-json.h"
#include "shield/eventlog.h"
#include "shield/util.h"

static const char usage_family[] =
        "Usage: shield eventlog COMMAND [OPTIONS] LOG\n"
        "\n"
        "Read TCG PC Client firmware event logs: the record of every measurement\n"
        "the firmware (and boot loaders) extended into the TPM's PCRs. LOG is a\n"
        "binary log such as /sys/kernel/security/tpm0/binary_bios_measurements,\n"
        "in the legacy SHA-1 or the crypto-agile format, from any machine.\n"
        "\n"
        "Commands:\n"
        "  show        list every event, decoded\n"
        "  replay      compute the PCR values the log implies\n"
        "  verify      check the log against PCR values read from a TPM\n"
        "  secureboot  the Secure Boot state and structural findings\n"
        "\n"
        "Run 'shield eventlog COMMAND --help' for details.\n";

static const char usage_show[] =
        "Usage: shield eventlog show LOG [--pcr N[,N...]] [--verbose] [--json]\n"
        "\n"
        "List every event of LOG, one per line: its index, PCR, event type, the\n"
        "first 4 bytes of its digest in each bank the log carries (one column per\n"
        "bank, headed by the bank's name), and its content decoded: EFI variables\n"
        "(SecureBoot = 1; PK/KEK/db/dbx with their certificates' names; BootOrder;\n"
        "Boot#### with description and device path), boot applications and drivers\n"
        "with their device paths, GPT partitions, firmware blobs, handoff tables,\n"
        "actions, grub commands and kernel command lines, separators, Spec ID,\n"
        "StartupLocality and SP 800-155 records. Data that does not fit its type's\n"
        "layout is shown as \"malformed ... at +OFFSET: what is wrong\".\n"
        "Quirks of the firmware that wrote the log follow the table.\n"
        "\n"
        "Options:\n"
        "  --pcr LIST     only events for these PCRs (e.g. 0,2,4-7)\n"
        "  -v, --verbose  under each event: its offset and size, the full digest in\n"
        "                 every bank, and every decoded field (certificates with\n"
        "                 subject and SHA-1 thumbprint, partitions, tables)\n"
        "  --json         every event with full digests, its data (base64), a\n"
        "                 summary and the decoded fields (\"decoded\"; an \"error\"\n"
        "                 field when the data is malformed), and the quirks\n"
        "  -h, --help     this text\n"
        "\n"
        "Exit status:\n"
        "  0  the log was shown\n"
        "  2  bad usage, or LOG cannot be read or parsed (the message gives the\n"
        "     byte offset and event index)\n"
        "\n"
        "Examples:\n"
        "  shield eventlog show /sys/kernel/security/tpm0/binary_bios_measurements\n"
        "  shield eventlog show log.bin --pcr 7 --verbose\n"
        "  shield eventlog show log.bin --json | jq '.events[] | select(.pcr == 4) | .summary'\n";

static const char usage_replay[] =
        "Usage: shield eventlog replay LOG [--bank ALG] [--json]\n"
        "\n"
        "Replay LOG into the PCR values it implies, for every bank it carries:\n"
        "each event's digest is extended into its PCR, except EV_NO_ACTION events\n"
        "and Windows records (PCR 0xFFFFFFFF); PCR 0 starts at the StartupLocality\n"
        "the log records, PCRs 17-22 at all ones, the others at zero. Prints one\n"
        "line per PCR the log extended, banks in the log's order:\n"
        "\n"
        "  BANK PCR HEX        e.g. \"sha256 0 3d4580...\"\n"
        "\n"
        "Options:\n"
        "  --bank ALG   only this bank (sha1, sha256, sha384, sha512, sm3_256)\n"
        "  --json       the values as PCRS.json ({\"sha256\": {\"0\": \"hex\", ...}}),\n"
        "               the input format of 'shield eventlog verify --pcrs'\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status:\n"
        "  0  replayed\n"
        "  2  bad usage, LOG cannot be read or parsed, or it has no such bank\n"
        "\n"
        "Examples:\n"
        "  shield eventlog replay binary_bios_measurements --bank sha256\n"
        "  shield eventlog replay --json log.bin > pcrs.json\n";

static const char usage_verify[] =
        "Usage: shield eventlog verify LOG --pcrs PCRS.json [--ignore PCR[,PCR...]] [--json]\n"
        "\n"
        "Check that LOG explains the PCR values in PCRS.json (read from the TPM\n"
        "that recorded the log, e.g. by tpm2_pcrread or a verified quote): every\n"
        "PCR given must equal the replay, and every event whose digest the spec\n"
        "defines over its data (separators, EFI variables, actions, GPT...) must\n"
        "match its data, so a log with edited contents does not pass even when\n"
        "its digests were left alone.\n"
        "\n"
        "PCRS.json is {\"sha256\": {\"0\": \"hex\", ...}, \"sha1\": {...}}; only the\n"
        "banks and PCRs it lists are compared ('shield eventlog replay --json'\n"
        "writes this format).\n"
        "\n"
        "Options:\n"
        "  --pcrs FILE    the expected PCR values (required)\n"
        "  --ignore LIST  PCRs the log cannot explain, e.g. 10 (Linux IMA)\n"
        "  --json         the result, each difference and finding as JSON\n"
        "  -h, --help     this text\n"
        "\n"
        "Exit status:\n"
        "  0  every compared PCR matches and no event contradicts its digest\n"
        "  1  a PCR or an event differs (each bank, PCR and event is named)\n"
        "  2  bad usage, or LOG or PCRS.json cannot be read or parsed\n"
        "\n"
        "Examples:\n"
        "  shield eventlog verify binary_bios_measurements --pcrs pcrs.json --ignore 10\n"
        "  shield eventlog replay --json log.bin > x.json && shield eventlog verify log.bin --pcrs x.json\n";

static const char usage_secureboot[] =
        "Usage: shield eventlog secureboot LOG [--json]\n"
        "\n"
        "Report the Secure Boot state as the firmware measured it into PCR 7:\n"
        "SecureBoot, SetupMode, AuditMode, DeployedMode; the PK, KEK, db and dbx\n"
        "databases (certificates, hashes, SHA-256 of the data); which certificate\n"
        "authorised each boot application (EV_EFI_VARIABLE_AUTHORITY, including\n"
        "shim's); and findings, each with a stable code, the PCR, event and byte\n"
        "offset:\n"
        "\n"
        "  separator-missing / -duplicated / -error   PCRs 0-7 separators (error:\n"
        "                                the firmware reports a measurement error)\n"
        "  variable-after-separator      Secure Boot configuration measured into\n"
        "                                PCR 7 after the handover (error)\n"
        "  uefi-debugger                 \"UEFI Debug Mode\" in PCR 7 (error)\n"
        "  secure-boot-disabled          SecureBoot = 0 (warning)\n"
        "  boot-next, boot-order-changed, boot-order-fallback   the boot order was\n"
        "                                overridden or the first application loaded\n"
        "                                is not BootOrder's first entry\n"
        "  pcr7-unexpected-event         an event type PCR 7 should not hold\n"
        "  exit-boot-services-missing    no ExitBootServices action in PCR 5 (info)\n"
        "\n"
        "Options:\n"
        "  --json       the state, authorities and findings as JSON\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status:\n"
        "  0  no finding of error severity (Secure Boot off is a warning)\n"
        "  1  at least one error-severity finding\n"
        "  2  bad usage, or LOG cannot be read or parsed\n"
        "\n"
        "Examples:\n"
        "  shield eventlog secureboot /sys/kernel/security/tpm0/binary_bios_measurements\n"
        "  shield eventlog secureboot log.bin --json | jq .findings\n";

enum {
        OPT_JSON = 0x100,
        OPT_BANK,
        OPT_PCRS,
        OPT_IGNORE,
        OPT_PCR,
        OPT_VERBOSE,
};

struct eventlog_args {
        const char *log_path;
        const char *pcrs_path;
        const char *bank;
        uint64_t ignore_mask;
        uint64_t pcr_filter; /* 0: all */
        bool json;
        bool verbose;
};

/*
 * Parse the options every verb shares; allowed is the set of OPT_* this
 * verb takes. Returns -1 to go on, or an exit code.
 */
static int parse_args(int argc, char **argv, const char *usage, const int *allowed, size_t n_allowed,
                      struct eventlog_args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },       { "json", no_argument, NULL, OPT_JSON },
                { "bank", required_argument, NULL, OPT_BANK }, { "pcrs", required_argument, NULL, OPT_PCRS },
                { "ignore", required_argument, NULL, OPT_IGNORE }, { "pcr", required_argument, NULL, OPT_PCR },
                { "verbose", no_argument, NULL, OPT_VERBOSE },
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "hv", options)) >= 0) {
                bool ok = c == 'h';
                /* -v is --verbose, for the verbs that take it. */
                if (c == 'v')
                        c = OPT_VERBOSE;
                for (size_t i = 0; i < n_allowed; i++)
                        ok |= allowed[i] == c;
                if (c == '?')
                        return EXIT_BAD_INPUT; /* said by cli_getopt */
                if (!ok) {
                        /* A known option another verb takes: name it, not its argument. */
                        const char *name = "?";
                        for (size_t i = 0; options[i].name; i++)
                                if (options[i].val == c)
                                        name = options[i].name;
                        return cli_usage_error(usage, "%s: the option '--%s' does not apply here", argv[0], name);
                }
                switch (c) {
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                case OPT_JSON:
                        a->json = true;
                        break;
                case OPT_VERBOSE:
                        a->verbose = true;
                        break;
                case OPT_BANK:
                        a->bank = optarg;
                        break;
                case OPT_PCRS:
                        a->pcrs_path = optarg;
                        break;
                case OPT_IGNORE:
                case OPT_PCR:
                        if (shield_parse_index_list(optarg, SHIELD_PCR_COUNT - 1,
                                                    c == OPT_PCR ? &a->pcr_filter : &a->ignore_mask) < 0)
                                return cli_usage_error(usage, "%s: '%s' is not a PCR list like 0,2,4-7 (PCRs 0-23)",
                                                       argv[0], optarg);
                        break;
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(usage, "%s: expected exactly one LOG argument", argv[0]);
        a->log_path = argv[optind];
        return -1;
}

static int load_log(const char *path, struct shield_eventlog **ret) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_diag diag = { 0 };

        if (cli_read_file(path, SHIELD_EVENTLOG_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_eventlog_parse_take(&buf, len, ret, &diag);
        if (r < 0)
                return cli_parse_failed(path, r, &diag);
        return 0;
}

static const char *bank_name(uint16_t alg, char *buf, size_t len) {
        const char *name = shield_hash_name(alg);
        if (name)
                return name;
        snprintf(buf, len, "0x%04x", alg);
        return buf;
}

static json_t *event_json(const struct shield_eventlog *log, const struct shield_event *ev) {
        json_t *o = json_object(), *digests = json_object(), *decoded = NULL;
        const char *type = shield_event_type_name(ev->type);
        char *summary = NULL;

        json_object_set_new(o, "index", json_integer(ev->index));
        json_object_set_new(o, "pcr", json_integer((json_int_t)ev->pcr));
        json_object_set_new(o, "type", type ? json_string(type) : json_sprintf("0x%08x", ev->type));
        json_object_set_new(o, "type_value", json_integer((json_int_t)ev->type));
        json_object_set_new(o, "offset", json_integer((json_int_t)ev->offset));
        json_object_set_new(o, "size", json_integer((json_int_t)ev->size));
        for (unsigned k = 0; k < ev->n_digests; k++) {
                char hex[2 * SHIELD_HASH_MAX_SIZE + 1], nb[8];
                shield_hex_encode(ev->digests[k].bytes, ev->digests[k].size, hex);
                json_object_set_new(digests, bank_name(ev->digests[k].alg, nb, sizeof nb), json_string(hex));
        }
        json_object_set_new(o, "digests", digests);
        json_object_set_new(o, "data_size", json_integer(ev->data_size));
        if (shield_event_summary(log, ev, &summary) == 0)
                json_object_set_new(o, "summary", json_string(summary));
        free(summary);
        if (shield_event_decode_json(log, ev, &decoded) == 0)
                json_object_set_new(o, "decoded", decoded);
        char *data = shield_base64_encode(ev->data, ev->data_size);
        json_object_set_new(o, "data", data ? json_string(data) : json_null());
        free(data);
        return o;
}

static json_t *log_header_json(const struct shield_eventlog *log) {
        json_t *o = json_object();
        const struct shield_specid *spec = shield_eventlog_specid(log);
        size_t len;

        shield_eventlog_bytes(log, &len);
        json_object_set_new(o, "format", json_string(shield_eventlog_format(log) == SHIELD_EVENTLOG_CRYPTO_AGILE
                                                             ? "crypto-agile"
                                                             : "legacy-sha1"));
        json_object_set_new(o, "size", json_integer((json_int_t)len));
        json_object_set_new(o, "events", json_integer((json_int_t)shield_eventlog_count(log)));
        if (spec) {
                json_t *algs = json_array();
                for (unsigned i = 0; i < spec->n_algs; i++) {
                        char nb[8];
                        json_array_append_new(algs, json_pack("{s:s, s:i}", "algorithm",
                                                              bank_name(spec->algs[i].alg, nb, sizeof nb),
                                                              "digest_size", spec->algs[i].size));
                }
                json_object_set_new(o, "spec_version", json_sprintf("%u.%u errata %u", spec->version_major,
                                                                    spec->version_minor, spec->errata));
                json_object_set_new(o, "platform_class", json_integer(spec->platform_class));
                json_object_set_new(o, "banks", algs);
        }
        int locality = shield_eventlog_startup_locality(log);
        json_object_set_new(o, "startup_locality", locality >= 0 ? json_integer(locality) : json_null());
        return o;
}

static void print_header(const struct shield_eventlog *log, const char *path) {
        const struct shield_specid *spec = shield_eventlog_specid(log);
        size_t len;

        shield_eventlog_bytes(log, &len);
        printf("%s: %s log, %zu bytes, %zu events", path,
               shield_eventlog_format(log) == SHIELD_EVENTLOG_CRYPTO_AGILE ? "crypto-agile" : "legacy SHA-1", len,
               shield_eventlog_count(log));
        if (spec) {
                printf(", banks");
                for (unsigned i = 0; i < spec->n_algs; i++) {
                        char nb[8];
                        printf("%s%s", i ? "," : " ", bank_name(spec->algs[i].alg, nb, sizeof nb));
                }
        }
        if (shield_eventlog_startup_locality(log) >= 0)
                printf(", StartupLocality %d", shield_eventlog_startup_locality(log));
        printf("\n");
}

/* Print s with control characters escaped, so a forged log cannot drive the terminal. */
static void print_escaped(const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '\n')
                        fputs("\\n", stdout);
                else if (c == '\t')
                        fputs("\\t", stdout);
                else if (c < 0x20 || c == 0x7f)
                        printf("\\x%02x", c);
                else
                        putchar(c);
        }
}

/* The banks to show as digest columns: the Spec ID's, or sha1 for a legacy log. */
static size_t show_banks(const struct shield_eventlog *log, uint16_t banks[SHIELD_EVENTLOG_ALGS_MAX]) {
        const struct shield_specid *spec = shield_eventlog_specid(log);
        size_t n = 0;

        if (!spec) {
                banks[0] = SHIELD_ALG_SHA1;
                return 1;
        }
        for (unsigned i = 0; i < spec->n_algs && n < SHIELD_EVENTLOG_ALGS_MAX; i++)
                banks[n++] = spec->algs[i].alg;
        return n;
}

static const struct shield_event_digest *find_digest(const struct shield_event *ev, uint16_t alg) {
        for (unsigned k = 0; k < ev->n_digests && k < SHIELD_EVENTLOG_ALGS_MAX; k++)
                if (ev->digests[k].alg == alg)
                        return &ev->digests[k];
        return NULL;
}

/* The decoded fields, one per line under the event, for --verbose. */
static void print_decoded_details(json_t *decoded) {
        const char *key;
        json_t *value;

        json_object_foreach(decoded, key, value) {
                if (json_is_string(value) || json_is_integer(value) || json_is_boolean(value)) {
                        printf("        %-24s ", key);
                        if (json_is_string(value))
                                print_escaped(json_string_value(value));
                        else if (json_is_integer(value))
                                printf("%" JSON_INTEGER_FORMAT, json_integer_value(value));
                        else
                                printf("%s", json_is_true(value) ? "true" : "false");
                        printf("\n");
                } else if (strcmp(key, "entries") == 0) {
                        size_t i;
                        json_t *e;
                        json_array_foreach(value, i, e) {
                                const char *subject = json_string_value(json_object_get(e, "subject"));
                                if (!subject)
                                        continue;
                                printf("        certificate %-12zu ", i);
                                print_escaped(subject);
                                printf("  sha1 %s\n", json_string_value(json_object_get(e, "sha1")));
                        }
                } else if (strcmp(key, "partitions") == 0) {
                        size_t i;
                        json_t *p;
                        json_array_foreach(value, i, p) {
                                printf("        partition %-14zu %s %s LBA %" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT " \"",
                                       i + 1, json_string_value(json_object_get(p, "type")),
                                       json_string_value(json_object_get(p, "guid")),
                                       json_integer_value(json_object_get(p, "first_lba")),
                                       json_integer_value(json_object_get(p, "last_lba")));
                                print_escaped(json_string_value(json_object_get(p, "name")));
                                printf("\"\n");
                        }
                } else if ((json_is_object(value) && json_object_size(value)) ||
                           (json_is_array(value) && json_array_size(value))) {
                        /* Small structures (tables, locators, algorithms): compact JSON. */
                        char *text = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);
                        if (text) {
                                printf("        %-24s %s\n", key, text);
                                free(text);
                        }
                }
        }
}

static void print_event_verbose(const struct shield_eventlog *log, const struct shield_event *ev) {
        json_t *decoded = NULL;

        printf("        %-24s 0x%zx, %zu bytes, %u bytes of data\n", "record", ev->offset, ev->size, ev->data_size);
        for (unsigned k = 0; k < ev->n_digests && k < SHIELD_EVENTLOG_ALGS_MAX; k++) {
                char hex[2 * SHIELD_HASH_MAX_SIZE + 1], nb[8];
                shield_hex_encode(ev->digests[k].bytes, ev->digests[k].size, hex);
                printf("        %-24s %s\n", bank_name(ev->digests[k].alg, nb, sizeof nb), hex);
        }
        if (shield_event_decode_json(log, ev, &decoded) == 0) {
                print_decoded_details(decoded);
                json_decref(decoded);
        }
}

/* Reasons for people: severity, code, where (PCR, event, offset), message. */
static void print_findings(const struct shield_reasons *list) {
        for (size_t i = 0; i < list->n; i++) {
                const struct shield_reason *x = &list->items[i];
                char where[64] = "";
                size_t used = 0;

                if (x->pcr >= 0)
                        used += (size_t)snprintf(where + used, sizeof where - used, "PCR %d", x->pcr);
                if (x->event_index >= 0 && used < sizeof where)
                        used += (size_t)snprintf(where + used, sizeof where - used, "%sevent %ld", used ? ", " : "",
                                                 x->event_index);
                if (x->offset != SIZE_MAX && used < sizeof where)
                        snprintf(where + used, sizeof where - used, "%soffset 0x%zx", used ? ", " : "", x->offset);
                printf("  %-7s %-32s %s%s%s\n", shield_severity_name(x->severity), x->code, where, *where ? ": " : "",
                       x->message);
        }
}

static void print_show_text(const struct shield_eventlog *log, const char *path, const struct eventlog_args *a) {
        uint16_t banks[SHIELD_EVENTLOG_ALGS_MAX];
        size_t n_banks = show_banks(log, banks), n = shield_eventlog_count(log);
        int width[SHIELD_EVENTLOG_ALGS_MAX];

        print_header(log, path);
        printf("%5s %4s  %-32s", "EVENT", "PCR", "TYPE");
        for (size_t b = 0; b < n_banks; b++) {
                char nb[8];
                const char *name = bank_name(banks[b], nb, sizeof nb);
                width[b] = strlen(name) > 8 ? (int)strlen(name) : 8;
                printf("  %-*s", width[b], name);
        }
        printf("  %s\n", "CONTENT");
        for (size_t i = 0; i < n; i++) {
                const struct shield_event *ev = shield_eventlog_event(log, i);
                const char *type = shield_event_type_name(ev->type);
                char typebuf[16], pcr[12];
                char *summary = NULL;

                if (a->pcr_filter && (ev->pcr >= 64 || !(a->pcr_filter & (UINT64_C(1) << ev->pcr))))
                        continue;
                if (!type) {
                        snprintf(typebuf, sizeof typebuf, "0x%08x", ev->type);
                        type = typebuf;
                }
                if (ev->pcr == SHIELD_PCR_INDEX_WBCL)
                        snprintf(pcr, sizeof pcr, "-");
                else
                        snprintf(pcr, sizeof pcr, "%u", ev->pcr);
                printf("%5u %4s  %-32s", ev->index, pcr, type);
                /* The first 4 bytes of each bank: enough to tell events apart at a glance. */
                for (size_t b = 0; b < n_banks; b++) {
                        const struct shield_event_digest *dg = find_digest(ev, banks[b]);
                        char hex[9] = "-";
                        if (dg)
                                shield_hex_encode(dg->bytes, dg->size < 4 ? dg->size : 4, hex);
                        printf("  %-*s", width[b], hex);
                }
                if (shield_event_summary(log, ev, &summary) < 0)
                        summary = NULL;
                printf("  %s\n", summary ? summary : "");
                free(summary);
                if (a->verbose)
                        print_event_verbose(log, ev);
        }
        const struct shield_reasons *quirks = shield_eventlog_quirks(log);
        if (quirks->n) {
                printf("\nQuirks of the firmware that wrote this log:\n");
                print_findings(quirks);
        }
}

static int verb_show(int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, OPT_PCR, OPT_VERBOSE };
        struct eventlog_args a = { 0 };
        struct shield_eventlog *log = NULL;
        int r = parse_args(argc, argv, usage_show, allowed, ELEMENTS(allowed), &a);

        if (r >= 0)
                return r;
        if ((r = load_log(a.log_path, &log)) != 0)
                return r;

        size_t n = shield_eventlog_count(log);
        if (a.json) {
                json_t *root = log_header_json(log), *events = json_array();
                for (size_t i = 0; i < n; i++) {
                        const struct shield_event *ev = shield_eventlog_event(log, i);
                        if (!a.pcr_filter || (ev->pcr < 64 && (a.pcr_filter & (UINT64_C(1) << ev->pcr))))
                                json_array_append_new(events, event_json(log, ev));
                }
                json_object_set_new(root, "events", events);
                json_object_set_new(root, "quirks", cli_reasons_json(shield_eventlog_quirks(log)));
                cli_print_json(root);
        } else {
                print_show_text(log, a.log_path, &a);
        }
        shield_eventlog_free(log);
        return EXIT_OK;
}

static int replay_log(const struct shield_eventlog *log, const char *path, struct shield_pcrs *ret,
                      struct shield_reasons *skipped) {
        int r = shield_eventlog_replay(log, NULL, ret, skipped);
        if (r < 0) {
                cli_error("%s: replay failed: %s", path, shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int verb_replay(int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, OPT_BANK };
        struct eventlog_args a = { 0 };
        struct shield_eventlog *log = NULL;
        struct shield_pcrs pcrs;
        struct shield_reasons skipped = { 0 };
        uint16_t only = 0;
        int r = parse_args(argc, argv, usage_replay, allowed, ELEMENTS(allowed), &a);

        if (r >= 0)
                return r;
        if (a.bank && shield_hash_from_name(a.bank, &only) < 0)
                return cli_usage_error(usage_replay, "replay: unknown bank '%s'", a.bank);
        if ((r = load_log(a.log_path, &log)) != 0)
                return r;
        r = replay_log(log, a.log_path, &pcrs, &skipped);
        shield_eventlog_free(log);
        if (r != 0)
                goto out;
        if (only) {
                const struct shield_pcr_bank *bank = shield_pcrs_bank_const(&pcrs, only);
                if (!bank) {
                        cli_error("%s: the log has no %s bank", a.log_path, a.bank);
                        r = EXIT_BAD_INPUT;
                        goto out;
                }
                struct shield_pcrs one = { .n_banks = 1, .banks = { *bank } };
                pcrs = one;
        }
        for (size_t b = 0; b < pcrs.n_banks; b++)
                pcrs.banks[b].present = pcrs.banks[b].extended;
        if (a.json) {
                char *text = shield_pcrs_to_json(&pcrs);
                if (!text) {
                        cli_error("out of memory");
                        r = EXIT_BAD_INPUT;
                        goto out;
                }
                puts(text);
                free(text);
        } else {
                for (size_t b = 0; b < pcrs.n_banks; b++) {
                        const struct shield_pcr_bank *bank = &pcrs.banks[b];
                        for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                                char hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                                if (!(bank->present & (UINT32_C(1) << i)))
                                        continue;
                                shield_hex_encode(bank->value[i], bank->size, hex);
                                printf("%s %u %s\n", shield_hash_name(bank->alg), i, hex);
                        }
                }
        }
        for (size_t i = 0; i < skipped.n; i++)
                cli_warn("%s", skipped.items[i].message);
out:
        shield_reasons_clear(&skipped);
        return r;
}

static int verb_verify(int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, OPT_PCRS, OPT_IGNORE };
        struct eventlog_args a = { 0 };
        struct shield_eventlog *log = NULL;
        struct shield_pcrs expected, replayed;
        struct shield_reasons reasons = { 0 };
        struct shield_diag diag = { 0 };
        uint8_t *text = NULL;
        size_t len = 0;
        int r = parse_args(argc, argv, usage_verify, allowed, ELEMENTS(allowed), &a);

        if (r >= 0)
                return r;
        if (!a.pcrs_path)
                return cli_usage_error(usage_verify, "verify: --pcrs PCRS.json is required");
        if (cli_read_file(a.pcrs_path, SHIELD_PCRS_JSON_MAX, &text, &len) != 0)
                return EXIT_BAD_INPUT;
        r = shield_pcrs_parse_json((const char *)text, len, &expected, &diag);
        free(text);
        if (r < 0)
                return cli_parse_failed(a.pcrs_path, r, &diag);
        if ((r = load_log(a.log_path, &log)) != 0)
                return r;
        if ((r = replay_log(log, a.log_path, &replayed, &reasons)) != 0)
                goto out;

        int cmp = shield_pcrs_compare(&expected, &replayed, (uint32_t)a.ignore_mask, &reasons);
        int integ = shield_eventlog_check_integrity(log, NULL, &reasons);
        if ((cmp < 0 && cmp != SHIELD_E_VERIFY) || integ < 0) {
                cli_error("%s: %s", a.log_path, shield_strerror(cmp < 0 && cmp != SHIELD_E_VERIFY ? cmp : integ));
                r = EXIT_BAD_INPUT;
                goto out;
        }
        size_t compared = 0;
        for (size_t b = 0; b < expected.n_banks; b++)
                compared += (size_t)__builtin_popcount(expected.banks[b].present & ~(uint32_t)a.ignore_mask);
        bool ok = shield_reasons_max_severity(&reasons) < SHIELD_SEV_ERROR;

        if (a.json) {
                json_t *root = json_object();
                json_object_set_new(root, "verified", json_boolean(ok));
                json_object_set_new(root, "pcrs_compared", json_integer((json_int_t)compared));
                json_object_set_new(root, "reasons", cli_reasons_json(&reasons));
                cli_print_json(root);
        } else {
                for (size_t i = 0; i < reasons.n; i++) {
                        const struct shield_reason *x = &reasons.items[i];
                        /* Info-level notes are in --json; text shows what a person must act on. */
                        if (x->severity == SHIELD_SEV_ERROR)
                                printf("%s\n", x->message);
                        else if (x->severity == SHIELD_SEV_WARNING)
                                fprintf(stderr, "warning: %s\n", x->message);
                }
                if (ok)
                        printf("%s: verified: %zu PCR value%s equal the replay; no event contradicts its digest\n",
                               a.log_path, compared, compared == 1 ? "" : "s");
                else
                        printf("%s: NOT verified: %zu difference%s\n", a.log_path,
                               shield_reasons_count(&reasons, SHIELD_SEV_ERROR),
                               shield_reasons_count(&reasons, SHIELD_SEV_ERROR) == 1 ? "" : "s");
        }
        r = ok ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        shield_reasons_clear(&reasons);
        shield_eventlog_free(log);
        return r;
}

static const char *tristate(int v) {
        return v < 0 ? "not measured" : v ? "1" : "0";
}

static json_t *tristate_json(int v) {
        return v < 0 ? json_null() : json_integer(v);
}

static json_t *db_json(const struct shield_sb_db *db) {
        char hex[65];
        if (db->event_index < 0)
                return json_null();
        shield_hex_encode(db->sha256, 32, hex);
        return json_pack("{s:I, s:I, s:I, s:I, s:s}", "event", (json_int_t)db->event_index, "x509",
                         (json_int_t)db->n_x509, "hashes", (json_int_t)db->n_hashes, "other", (json_int_t)db->n_other,
                         "sha256", hex);
}

static void print_db(const char *name, const struct shield_sb_db *db) {
        char hex[65];

        if (db->event_index < 0) {
                printf("  %-4s  not measured\n", name);
                return;
        }
        shield_hex_encode(db->sha256, 32, hex);
        printf("  %-4s  %4zu certificate%s %5zu hash%s%s  (event %ld, sha256 %.16s...)\n", name, db->n_x509,
               db->n_x509 == 1 ? ", " : "s,", db->n_hashes, db->n_hashes == 1 ? "  " : "es",
               db->n_other ? ", other entries" : "", db->event_index, hex);
}

static int verb_secureboot(int argc, char **argv) {
        static const int allowed[] = { OPT_JSON };
        struct eventlog_args a = { 0 };
        struct shield_eventlog *log = NULL;
        struct shield_secureboot sb;
        int r = parse_args(argc, argv, usage_secureboot, allowed, ELEMENTS(allowed), &a);

        if (r >= 0)
                return r;
        if ((r = load_log(a.log_path, &log)) != 0)
                return r;
        r = shield_eventlog_secureboot(log, &sb);
        if (r < 0) {
                cli_error("%s: %s", a.log_path, shield_strerror(r));
                shield_eventlog_free(log);
                return EXIT_BAD_INPUT;
        }
        bool ok = shield_reasons_max_severity(&sb.findings) < SHIELD_SEV_ERROR;

        if (a.json) {
                json_t *root = json_object(), *auths = json_array();
                json_object_set_new(root, "secure_boot", tristate_json(sb.secure_boot));
                json_object_set_new(root, "setup_mode", tristate_json(sb.setup_mode));
                json_object_set_new(root, "audit_mode", tristate_json(sb.audit_mode));
                json_object_set_new(root, "deployed_mode", tristate_json(sb.deployed_mode));
                json_object_set_new(root, "pk", db_json(&sb.pk));
                json_object_set_new(root, "kek", db_json(&sb.kek));
                json_object_set_new(root, "db", db_json(&sb.db));
                json_object_set_new(root, "dbx", db_json(&sb.dbx));
                for (size_t i = 0; i < sb.n_authorities; i++) {
                        const struct shield_sb_authority *x = &sb.authorities[i];
                        char sha1[41];
                        json_t *o = json_pack("{s:I, s:s}", "event", (json_int_t)x->event_index, "variable",
                                              x->variable);
                        if (x->has_cert) {
                                shield_hex_encode(x->sha1, 20, sha1);
                                json_object_set_new(o, "subject", json_string(x->subject));
                                json_object_set_new(o, "issuer", json_string(x->issuer));
                                json_object_set_new(o, "sha1", json_string(sha1));
                        }
                        json_object_set_new(o, "applies_to",
                                            x->applies_to >= 0 ? json_integer(x->applies_to) : json_null());
                        json_array_append_new(auths, o);
                }
                json_object_set_new(root, "authorities", auths);
                json_object_set_new(root, "findings", cli_reasons_json(&sb.findings));
                cli_print_json(root);
        } else {
                printf("SecureBoot    %s\n", tristate(sb.secure_boot));
                printf("SetupMode     %s\n", tristate(sb.setup_mode));
                printf("AuditMode     %s\n", tristate(sb.audit_mode));
                printf("DeployedMode  %s\n", tristate(sb.deployed_mode));
                printf("Databases as measured:\n");
                print_db("PK", &sb.pk);
                print_db("KEK", &sb.kek);
                print_db("db", &sb.db);
                print_db("dbx", &sb.dbx);
                if (sb.n_authorities) {
                        printf("Authorities (what allowed each boot application):\n");
                        for (size_t i = 0; i < sb.n_authorities; i++) {
                                const struct shield_sb_authority *x = &sb.authorities[i];
                                char sha1[41] = "";
                                if (x->has_cert)
                                        shield_hex_encode(x->sha1, 20, sha1);
                                printf("  event %-4ld %-10s %s%s%s", x->event_index, x->variable,
                                       x->has_cert ? x->subject : "(not a certificate)", x->has_cert ? "  sha1 " : "",
                                       sha1);
                                if (x->applies_to >= 0)
                                        printf("  → event %ld", x->applies_to);
                                printf("\n");
                        }
                }
                if (sb.findings.n) {
                        printf("Findings:\n");
                        print_findings(&sb.findings);
                } else {
                        printf("Findings: none\n");
                }
        }
        shield_secureboot_clear(&sb);
        shield_eventlog_free(log);
        return ok ? EXIT_OK : EXIT_VERIFY_FAILED;
}

int cmd_eventlog(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "show", "list every event", verb_show },
                { "replay", "compute PCR values", verb_replay },
                { "verify", "check against PCR values", verb_verify },
                { "secureboot", "Secure Boot state and findings", verb_secureboot },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
