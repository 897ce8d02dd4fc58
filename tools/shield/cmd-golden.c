/* SPDX-License-Identifier: Apache-2.0 */
/* shield golden show|reset|export|import: an instance's golden measurement in the store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "shield/attest.h"
#include "shield/eventlog.h"
#include "shield/integrity.h"
#include "shield/store.h"
#include "shield/util.h"

#define STORE_HELP                                                                   \
        "  --instance ID      the instance (as `shield verify --instance` names it)\n" \
        "  --store FILE       the store (default $SHIELD_STORE, else\n"                  \
        "                     $XDG_STATE_HOME/shieldkit/shield.db, else\n"               \
        "                     ~/.local/state/shieldkit/shield.db)\n"                    \
        "  --server URL       shieldd's golden instead of the local store's\n"        \
        "  --cacert FILE      the CA (PEM) to check shieldd's TLS certificate with\n"   \
        "  --admin-token-file FILE\n"                                                 \
        "                     shieldd's admin token (reset needs it)\n"

static const char usage_family[] =
        "Usage: shield golden COMMAND --instance ID [--store FILE | --server URL] [OPTIONS]\n"
        "\n"
        "An instance's golden measurement: the PCR values and the event list of its\n"
        "first attestation, which `shield verify` records and compares every later\n"
        "boot with (green: the same; yellow: something new appeared; red: something\n"
        "changed). See docs/INTEGRITY.md.\n"
        "\n"
        "With --server URL the golden is shieldd's (GET /v1/instances/ID; reset\n"
        "is an admin call, --admin-token-file FILE): one golden per machine,\n"
        "whichever verifier it attests to.\n"
        "\n"
        "Commands:\n"
        "  show       the golden PCR values, its events and the last verdicts\n"
        "  reset      forget it: the next `shield verify` records a new one\n"
        "  export     the golden PCR values as PCRS.json, or the whole golden JSON\n"
        "  import     record a golden measurement from a golden JSON or evidence file\n"
        "\n"
        "Run 'shield golden COMMAND --help' for details.\n"
        "\n"
        "Exit status: 0 ok, 2 no golden measurement for the instance, or bad usage.\n";

static const char usage_show[] =
        "Usage: shield golden show --instance ID [--store FILE | --server URL [--cacert FILE]\n"
        "                          [--admin-token-file FILE]] [--history N] [--json]\n"
        "\n"
        "Print the instance's golden measurement: its PCR values per bank (PCRs\n"
        "still at their reset value left out), the events that produced them (PCR,\n"
        "index in the event log, type, a one-line summary), and the last N verdicts\n"
        "of `shield verify` for the instance (newest first, each with its reasons).\n"
        "\n"
        "Options:\n" STORE_HELP
        "  --history N        how many verdicts to show (default 5, 0 for none)\n"
        "  --json             {instance, golden: shieldkit-golden/1, history: [...]}\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 shown, 2 no golden measurement for the instance, no store,\n"
        "or bad usage.\n"
        "\n"
        "Example:\n"
        "  shield golden show --instance web-1 --history 10\n";

static const char usage_reset[] =
        "Usage: shield golden reset --instance ID [--store FILE | --server URL\n"
        "                           --admin-token-file FILE [--cacert FILE]] [--json]\n"
        "\n"
        "Forget the instance's golden measurement, after an intended change (a\n"
        "firmware or bootloader update): the next `shield verify` of the instance\n"
        "records a new one and is green. Prints what was forgotten (its PCR values\n"
        "and event count); the verdict history and the instance's AK are kept.\n"
        "\n"
        "Options:\n" STORE_HELP
        "  --json             what was reset, with the forgotten golden measurement\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 reset, 2 there was no golden measurement, no store, or bad\n"
        "usage.\n";

static const char usage_export[] =
        "Usage: shield golden export --instance ID [--store FILE | --server URL [--cacert FILE]\n"
        "                            [--admin-token-file FILE]] [--format pcrs|golden]\n"
        "                            [--pcrs LIST] [-o FILE]\n"
        "\n"
        "Write the golden measurement. --format pcrs (the default) writes its PCR\n"
        "values as PCRS.json ({\"sha256\": {\"0\": \"hex\", ...}}), to copy into a\n"
        "policy or a cloud console's expected values; --pcrs keeps only the PCRs\n"
        "listed. --format golden writes the whole \"shieldkit-golden/1\" JSON (values\n"
        "and events), which `shield golden import` and `shield verify --golden`\n"
        "read.\n"
        "\n"
        "Options:\n" STORE_HELP
        "  --format F         pcrs (default) or golden\n"
        "  --pcrs LIST        only these PCRs, e.g. 0,2,4-7 (pcrs format only)\n"
        "  -o, --output FILE  write to FILE (atomically) instead of stdout\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 written, 2 no golden measurement for the instance, no store,\n"
        "or bad usage.\n"
        "\n"
        "Example:\n"
        "  shield golden export --instance web-1 --pcrs 0,2,4,7 -o web-1.pcrs.json\n";

static const char usage_import[] =
        "Usage: shield golden import --instance ID [--store FILE] [--json] FILE\n"
        "\n"
        "Record the instance's golden measurement from FILE (or - for stdin):\n"
        "either a \"shieldkit-golden/1\" document (`shield golden export --format\n"
        "golden` of this or another verifier) or attestation evidence\n"
        "(\"shieldkit-evidence/1\", as `shield attest` writes it), whose PCR values\n"
        "and event log become the golden measurement. The evidence is not verified\n"
        "here: import only what you trust. An existing golden measurement is\n"
        "replaced.\n"
        "\n"
        "Options:\n" STORE_HELP
        "  --json             the recorded golden measurement as JSON\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 recorded, 2 FILE does not parse, no store, or bad usage.\n";

struct golden_args {
        const char *instance, *store, *format, *pcrs, *output, *file;
        const char *server, *cacert, *token_file;   /* --server: shieldd's golden, not the local store's */
        long history;
        bool json;
};

/* Parse the options of one verb; -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, const char *usage, bool want_file, struct golden_args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "instance", required_argument, NULL, 'i' },
                { "store", required_argument, NULL, 's' },   { "json", no_argument, NULL, 'j' },
                { "history", required_argument, NULL, 'H' }, { "format", required_argument, NULL, 'f' },
                { "pcrs", required_argument, NULL, 'p' },    { "output", required_argument, NULL, 'o' },
                { "server", required_argument, NULL, 'S' },  { "cacert", required_argument, NULL, 'C' },
                { "admin-token-file", required_argument, NULL, 'A' },
                {},
        };
        const char *verb = argv[0];
        bool is_show = strcmp(verb, "show") == 0, is_export = strcmp(verb, "export") == 0;
        int c;

        *a = (struct golden_args){ .history = 5 };
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, is_export ? "ho:" : "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage, stdout); return EXIT_OK;
                case 'i': a->instance = optarg; break;
                case 's': a->store = optarg; break;
                case 'j':
                        if (is_export)
                                return cli_usage_error(usage, "export: --json: use --format");
                        a->json = true;
                        break;
                case 'H': {
                        uint64_t n;
                        if (!is_show || shield_parse_u64(optarg, 10, SHIELD_STORE_HISTORY_MAX, &n) < 0)
                                return cli_usage_error(usage, "%s: --history %s: a number from 0 to %d%s", verb, optarg,
                                                       SHIELD_STORE_HISTORY_MAX, is_show ? "" : " (show only)");
                        a->history = (long)n;
                        break;
                }
                case 'f':
                        if (!is_export || (strcmp(optarg, "pcrs") != 0 && strcmp(optarg, "golden") != 0))
                                return cli_usage_error(usage, "%s: --format %s: expected pcrs or golden%s", verb, optarg,
                                                       is_export ? "" : " (export only)");
                        a->format = optarg;
                        break;
                case 'p':
                        if (!is_export)
                                return cli_usage_error(usage, "%s: --pcrs is an option of export", verb);
                        a->pcrs = optarg;
                        break;
                case 'o': a->output = optarg; break;
                case 'S': a->server = optarg; break;
                case 'C': a->cacert = optarg; break;
                case 'A': a->token_file = optarg; break;
                default: return cli_usage_error(usage, "%s: unknown option '%s'", verb, argv[optind - 1]);
                }
        if (!a->instance)
                return cli_usage_error(usage, "%s: --instance ID is required", verb);
        if ((a->cacert || a->token_file) && !a->server)
                return cli_usage_error(usage, "%s: --cacert and --admin-token-file go with --server", verb);
        if (a->server && a->store)
                return cli_usage_error(usage, "%s: --server and --store are two places: give one", verb);
        if (a->server && strcmp(verb, "reset") == 0 && !a->token_file)
                return cli_usage_error(usage, "reset: --server needs --admin-token-file FILE (an operator's call)");
        if (a->server && strcmp(verb, "import") == 0)
                return cli_usage_error(usage, "import: --server is not supported (shieldd records goldens from attestations)");
        if (want_file) {
                if (optind != argc - 1)
                        return cli_usage_error(usage, "%s: expected exactly one FILE", verb);
                a->file = argv[optind];
        } else if (optind != argc) {
                return cli_usage_error(usage, "%s: unexpected argument '%s'", verb, argv[optind]);
        }
        if (a->pcrs && a->format && strcmp(a->format, "golden") == 0)
                return cli_usage_error(usage, "export: --pcrs applies to --format pcrs only");
        return -1;
}

/* Open the store; a missing file is an error (reading commands must not create one). */
static int open_store(const struct golden_args *a, bool create, struct shield_store **ret) {
        struct shield_diag diag = { 0 };
        char *def = NULL;
        const char *path = a->store;
        int r = EXIT_BAD_INPUT;

        if (!path && !(path = def = shield_store_default_path())) {
                cli_error("no store: set $SHIELD_STORE or HOME, or give --store FILE");
                return EXIT_BAD_INPUT;
        }
        if (!create && access(path, F_OK) < 0) {
                cli_error("%s: no store there (nothing was ever verified with it)", path);
                goto out;
        }
        if (shield_store_open(path, ret, &diag) < 0) {
                cli_error("%s: %s", path, diag.msg);
                goto out;
        }
        r = 0;
out:
        free(def);
        return r;
}

static int load_golden(struct shield_store *s, const char *instance, struct shield_golden **ret) {
        struct shield_diag diag = { 0 };
        int r = shield_store_golden_get(s, instance, ret, &diag);
        if (r == SHIELD_E_NOT_FOUND) {
                cli_error("no golden measurement for instance \"%s\" (the next `shield verify --instance %s` records one)",
                          instance, instance);
                return EXIT_BAD_INPUT;
        }
        if (r < 0) {
                cli_error("%s", diag.msg);
                return EXIT_BAD_INPUT;
        }
        return 0;
}

/*
 * The instance as shieldd shows it (GET /v1/instances/NAME): its golden
 * into *ret (SHIELD's golden format, parsed) and its history into
 * *ret_history (may be NULL). EXIT_OK, or said and EXIT_BAD_INPUT.
 */
static int load_remote(const struct golden_args *a, struct shield_golden **ret, json_t **ret_history) {
        char *text = NULL;
        struct shield_diag diag = { 0 };
        int r = cli_admin_call(a->server, a->cacert, a->token_file, "GET", a->instance, NULL, NULL, &text);
        if (r != EXIT_OK)
                return r;
        json_t *j = json_loads(text, 0, NULL), *gj = json_object_get(j, "golden");
        free(text);
        r = EXIT_BAD_INPUT;
        if (!json_is_object(gj)) {
                cli_error("%s: no golden measurement for instance \"%s\" (its next attestation records one)", a->server,
                          a->instance);
                goto out;
        }
        char *gtext = json_dumps(gj, JSON_COMPACT);
        int p = gtext ? shield_golden_parse_json(gtext, strlen(gtext), ret, &diag) : SHIELD_E_NOMEM;
        free(gtext);
        if (p < 0) {
                cli_error("%s: the golden measurement it answered does not parse: %s", a->server, diag.msg);
                goto out;
        }
        if (ret_history) {
                json_t *h = json_object_get(j, "history");
                *ret_history = json_is_array(h) ? json_incref(h) : json_array();
        }
        r = EXIT_OK;
out:
        json_decref(j);
        return r;
}

/* The golden JSON as a jansson value. */
static json_t *golden_json(const struct shield_golden *g) {
        char *text = NULL;
        if (shield_golden_to_json(g, &text) < 0)
                return NULL;
        json_t *j = json_loads(text, 0, NULL);
        free(text);
        return j;
}

static void print_values(const struct shield_golden *g) {
        const struct shield_pcrs *p = shield_golden_pcrs(g);
        for (size_t b = 0; b < p->n_banks; b++) {
                const struct shield_pcr_bank *bank = &p->banks[b];
                unsigned shown = 0;
                printf("  %s:\n", shield_hash_name(bank->alg) ? shield_hash_name(bank->alg) : "unknown");
                for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                        char hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                        bool reset = true;
                        uint8_t want = i >= 17 && i <= 22 ? 0xff : 0;
                        if (!(bank->present & (UINT32_C(1) << i)))
                                continue;
                        for (unsigned k = 0; k < bank->size; k++)
                                reset &= bank->value[i][k] == want;
                        if (reset)
                                continue;
                        shield_hex_encode(bank->value[i], bank->size, hex);
                        printf("    %2u  %s\n", i, hex);
                        shown++;
                }
                if (!shown)
                        printf("    (every PCR at its reset value)\n");
        }
}

static void print_events(const struct shield_golden *g) {
        size_t n = shield_golden_event_count(g);
        if (!shield_golden_has_eventlog(g)) {
                printf("Events: none (the evidence carried no event log: later boots are compared by value)\n");
                return;
        }
        printf("Events (%zu):\n", n);
        for (size_t i = 0; i < n; i++) {
                const struct shield_golden_event *ev = shield_golden_event(g, i);
                const char *t = shield_event_type_name(ev->type);
                printf("  PCR %2u  #%-4u %-34s %s\n", ev->pcr, ev->index, t ? t : "EV_UNKNOWN", ev->summary);
        }
}

static void print_history(json_t *h) {
        size_t i;
        json_t *v;
        if (json_array_size(h) == 0) {
                printf("History: no verdicts yet\n");
                return;
        }
        printf("History (newest first):\n");
        json_array_foreach(h, i, v) {
                time_t t = (time_t)json_integer_value(json_object_get(v, "time"));
                struct tm tm;
                char when[32] = "?";
                if (gmtime_r(&t, &tm))
                        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
                printf("  %s  %-6s (early boot %s, late boot %s)\n", when,
                       json_string_value(json_object_get(v, "colour")) ?: "?",
                       json_string_value(json_object_get(v, "early")) ?: "?",
                       json_string_value(json_object_get(v, "late")) ?: "?");
                size_t k;
                json_t *r;
                json_array_foreach(json_object_get(v, "reasons"), k, r)
                        printf("      %-7s [%s] %s\n", json_string_value(json_object_get(r, "severity")) ?: "?",
                               json_string_value(json_object_get(r, "code")) ?: "?",
                               json_string_value(json_object_get(r, "message")) ?: "");
        }
}

static int verb_show(int argc, char **argv) {
        struct golden_args a;
        struct shield_store *s = NULL;
        struct shield_golden *g = NULL;
        struct shield_diag diag = { 0 };
        char *hist = NULL;
        json_t *h = NULL;
        int r = parse_args(argc, argv, usage_show, false, &a);

        if (r >= 0)
                return r;
        if (a.server) {
                if ((r = load_remote(&a, &g, &h)) != EXIT_OK)
                        return r;
                while (json_array_size(h) > (size_t)a.history)
                        json_array_remove(h, json_array_size(h) - 1);
        } else if ((r = open_store(&a, false, &s)) != 0)
                return r;
        if (!g && (r = load_golden(s, a.instance, &g)) != 0)
                goto out;
        r = EXIT_BAD_INPUT;
        if (h) {
                /* from shieldd */
        } else if (a.history > 0) {
                if (shield_history_text(s, a.instance, (size_t)a.history, &hist, &diag) < 0) {
                        cli_error("%s", diag.msg);
                        goto out;
                }
                h = json_loads(hist, 0, NULL);
        } else {
                h = json_array();
        }
        if (!h) {
                cli_error("out of memory");
                goto out;
        }
        if (a.json) {
                json_t *o = json_object(), *gj = golden_json(g);
                if (!o || !gj) {
                        json_decref(o);
                        json_decref(gj);
                        cli_error("out of memory");
                        goto out;
                }
                json_object_set_new(o, "instance", json_string(a.instance));
                json_object_set_new(o, "golden", gj);
                json_object_set(o, "history", h);
                cli_print_json(o);
        } else {
                printf("Golden measurement of %s\n", a.instance);
                printf("PCR values (reset values left out):\n");
                print_values(g);
                print_events(g);
                if (a.history > 0)
                        print_history(h);
        }
        r = EXIT_OK;
out:
        json_decref(h);
        free(hist);
        shield_golden_free(g);
        shield_store_close(s);
        return r;
}

static int verb_reset(int argc, char **argv) {
        struct golden_args a;
        struct shield_store *s = NULL;
        struct shield_golden *g = NULL;
        struct shield_diag diag = { 0 };
        int r = parse_args(argc, argv, usage_reset, false, &a);

        if (r >= 0)
                return r;
        if (a.server) {
                if ((r = load_remote(&a, &g, NULL)) != EXIT_OK)
                        return r;
                if ((r = cli_admin_post(a.server, a.cacert, a.token_file, a.instance, "golden/reset")) != EXIT_OK)
                        goto out;
                r = EXIT_BAD_INPUT;
                goto reported;
        }
        if ((r = open_store(&a, false, &s)) != 0)
                return r;
        if ((r = load_golden(s, a.instance, &g)) != 0)
                goto out;
        r = EXIT_BAD_INPUT;
        if (shield_store_golden_reset(s, a.instance, &diag) < 0) {
                cli_error("%s", diag.msg);
                goto out;
        }
reported:
        if (a.json) {
                json_t *o = json_object();
                json_object_set_new(o, "instance", json_string(a.instance));
                json_object_set_new(o, "reset", json_true());
                json_object_set_new(o, "golden", golden_json(g));
                cli_print_json(o);
        } else {
                printf("Forgot the golden measurement of %s (%zu events%s):\n", a.instance, shield_golden_event_count(g),
                       shield_golden_has_eventlog(g) ? "" : ", values only");
                print_values(g);
                printf("The next `shield verify --instance %s` records a new golden measurement.\n", a.instance);
        }
        r = EXIT_OK;
out:
        shield_golden_free(g);
        shield_store_close(s);
        return r;
}

static int write_out(const char *path, const char *text) {
        size_t len = strlen(text);
        if (!path || strcmp(path, "-") == 0) {
                fputs(text, stdout);
                fputc('\n', stdout);
                return EXIT_OK;
        }
        char *withnl = malloc(len + 2);
        if (!withnl) {
                cli_error("out of memory");
                return EXIT_BAD_INPUT;
        }
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        int r = shield_write_file_atomic(path, withnl, len + 1, 0644);
        free(withnl);
        if (r < 0) {
                cli_error("%s: cannot write: %s", path, shield_strerror(r));
                return EXIT_BAD_INPUT;
        }
        return EXIT_OK;
}

static int verb_export(int argc, char **argv) {
        struct golden_args a;
        struct shield_store *s = NULL;
        struct shield_golden *g = NULL;
        char *text = NULL;
        uint64_t keep = UINT64_MAX;
        int r = parse_args(argc, argv, usage_export, false, &a);

        if (r >= 0)
                return r;
        if (a.pcrs && shield_parse_index_list(a.pcrs, SHIELD_PCR_COUNT - 1, &keep) < 0)
                return cli_usage_error(usage_export, "export: --pcrs %s: expected PCRs 0-23 such as 0,2,4-7", a.pcrs);
        if (a.server) {
                if ((r = load_remote(&a, &g, NULL)) != EXIT_OK)
                        return r;
        } else if ((r = open_store(&a, false, &s)) != 0) {
                return r;
        }
        if (!g && (r = load_golden(s, a.instance, &g)) != 0)
                goto out;
        r = EXIT_BAD_INPUT;
        if (a.format && strcmp(a.format, "golden") == 0) {
                if (shield_golden_to_json(g, &text) < 0) {
                        cli_error("out of memory");
                        goto out;
                }
        } else {
                struct shield_pcrs p = *shield_golden_pcrs(g);
                for (size_t b = 0; b < p.n_banks; b++)
                        p.banks[b].present &= (uint32_t)keep;
                if (!(text = shield_pcrs_to_json(&p))) {
                        cli_error("out of memory");
                        goto out;
                }
        }
        r = write_out(a.output, text);
out:
        free(text);
        shield_golden_free(g);
        shield_store_close(s);
        return r;
}

static int verb_import(int argc, char **argv) {
        struct golden_args a;
        struct shield_store *s = NULL;
        struct shield_golden *g = NULL;
        struct shield_evidence e;
        struct shield_diag diag = { 0 };
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = parse_args(argc, argv, usage_import, true, &a), p;

        if (r >= 0)
                return r;
        if ((r = cli_read_file(a.file, SHIELD_EVIDENCE_JSON_MAX, &buf, &len)) != 0)
                return r;
        r = EXIT_BAD_INPUT;
        /* Which document it is: its "format" says. */
        json_t *root = json_loadb((const char *)buf, len, 0, NULL);
        const char *format = json_string_value(json_object_get(root, "format"));
        bool evidence = format && strcmp(format, SHIELD_EVIDENCE_FORMAT) == 0;
        json_decref(root);
        if (evidence) {
                if ((p = shield_evidence_parse_json((const char *)buf, len, &e, &diag)) < 0) {
                        r = cli_parse_failed(a.file, p, &diag);
                        goto out;
                }
                p = shield_golden_from_evidence(&e, &g, &diag);
                shield_evidence_free(&e);
        } else {
                p = shield_golden_parse_json((const char *)buf, len, &g, &diag);
        }
        if (p < 0) {
                r = cli_parse_failed(a.file, p, &diag);
                goto out;
        }
        if ((r = open_store(&a, true, &s)) != 0)
                goto out;
        r = EXIT_BAD_INPUT;
        if (shield_store_golden_set(s, a.instance, g, &diag) < 0) {
                cli_error("%s", diag.msg);
                goto out;
        }
        if (a.json) {
                json_t *o = json_object();
                json_object_set_new(o, "instance", json_string(a.instance));
                json_object_set_new(o, "golden", golden_json(g));
                cli_print_json(o);
        } else {
                printf("Recorded the golden measurement of %s from %s (%zu events%s)\n", a.instance, a.file,
                       shield_golden_event_count(g), shield_golden_has_eventlog(g) ? "" : ", values only");
        }
        r = EXIT_OK;
out:
        free(buf);
        shield_golden_free(g);
        shield_store_close(s);
        return r;
}

int cmd_golden(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "show", "the golden measurement and recent verdicts", verb_show },
                { "reset", "forget the golden measurement", verb_reset },
                { "export", "the golden PCR values or the golden JSON", verb_export },
                { "import", "record a golden measurement from a file", verb_import },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
