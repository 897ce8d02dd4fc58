/* SPDX-License-Identifier: Apache-2.0 */
/* shield predict: the PCR values the next boot will have after replacing boot components (lib/predict). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/eventlog.h"
#include "shield/integrity.h"
#include "shield/pe.h"
#include "shield/predict.h"
#include "shield/store.h"
#include "shield/util.h"

static const char usage[] =
        "Usage: shield predict (--eventlog LOG | --instance NAME [--store FILE])\n"
        "                      --replace PATH=FILE|PATH=sha256:HEX … [--bank B] [--json]\n"
        "\n"
        "The PCR values the next boot will have when boot applications change: this\n"
        "boot's event log replayed with each replaced application's new digest.\n"
        "  PCR 4   the EV_EFI_BOOT_SERVICES_APPLICATION whose device path ends in PATH\n"
        "          (as the log names it, e.g. \\EFI\\BOOT\\BOOTX64.EFI; case-insensitive)\n"
        "          gets FILE's Authenticode digest, or HEX (then only that bank)\n"
        "  PCR 7   with FILE, the db certificate (from the log's db) that verifies\n"
        "          FILE's signature becomes the EV_EFI_VARIABLE_AUTHORITY of the old\n"
        "          image; with a digest the signer is taken to be the old one\n"
        "  PCR 11  FILE a unified kernel image: systemd-stub 252's section events,\n"
        "          when the log holds systemd-stub's PCR 11 events (else left out)\n"
        "  others  as the log replays (PCR 9 left out when a UKI is replaced)\n"
        "It refuses rather than guesses: an event it does not understand in a PCR it\n"
        "recomputes, a change in the number of events, a PATH no event names.\n"
        "\n"
        "Options:\n"
        "  --eventlog LOG       this boot's TCG event log (binary_bios_measurements)\n"
        "  --instance NAME      the instance's golden measurement in the local store\n"
        "                       (it keeps digests, not event data: see the message)\n"
        "  --store FILE         the store (default $SHIELD_STORE)\n"
        "  --replace PATH=FILE  a new image for the application loaded from PATH\n"
        "  --replace PATH=sha256:HEX  its new Authenticode digest instead\n"
        "  --bank B             the bank to predict (default sha256)\n"
        "  --json               {\"bank\": B, \"pcrs\": {\"4\": \"hex\", …}, \"changed\": [4, …], \"notes\": […]}\n"
        "  -h, --help           this text\n"
        "\n"
        "Exit status: 0 predicted, 1 the new image would not run (no db certificate\n"
        "verifies it), 2 bad usage, unreadable input, or a prediction it refuses.\n"
        "\n"
        "Example:\n"
        "  shield predict --eventlog /sys/kernel/security/tpm0/binary_bios_measurements \\\n"
        "          --replace '\\EFI\\BOOT\\BOOTX64.EFI=new-shim.efi'\n";

struct repl_arg {
        char *path;
        uint8_t *image;
        size_t len;
};

/* PATH=FILE or PATH=ALG:HEX (the first '=' ends PATH: device paths hold none). */
static int parse_replace(const char *arg, struct shield_predict_replacement *r, struct repl_arg *keep) {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1])
                return cli_usage_error(usage, "predict: --replace wants PATH=FILE or PATH=sha256:HEX, not '%s'", arg);
        keep->path = strndup(arg, (size_t)(eq - arg));
        if (!keep->path)
                return EXIT_BAD_INPUT;
        r->path = keep->path;
        const char *v = eq + 1, *colon = strchr(v, ':');
        uint16_t alg;
        if (colon && colon - v < 16) {
                char name[16];
                memcpy(name, v, (size_t)(colon - v));
                name[colon - v] = 0;
                if (shield_hash_from_name(name, &alg) == 0 && access(v, F_OK) < 0) {
                        uint8_t *d = NULL;
                        size_t n = 0;
                        if (shield_hex_decode(colon + 1, &d, &n) < 0 || n != shield_hash_size(alg)) {
                                free(d);
                                return cli_usage_error(usage, "predict: --replace %s: %s wants %zu bytes of hex",
                                                       keep->path, name, shield_hash_size(alg));
                        }
                        r->alg = alg;
                        memcpy(r->digest, d, n);
                        free(d);
                        return 0;
                }
        }
        int x = cli_read_file(v, SHIELD_PE_MAX, &keep->image, &keep->len);
        if (x != 0)
                return x;
        r->image = keep->image;
        r->image_len = keep->len;
        return 0;
}

static int instance_log(const char *instance, const char *store_path) {
        /* The golden keeps each event's type and digests, not its data (device paths, authority certificates). */
        struct shield_diag diag = { 0 };
        char *def = NULL;
        const char *path = store_path;
        if (!path && !(path = def = shield_store_default_path())) {
                cli_error("no store: set $SHIELD_STORE or HOME, or give --store FILE");
                return EXIT_BAD_INPUT;
        }
        struct shield_store *s = NULL;
        struct shield_golden *g = NULL;
        int r = EXIT_BAD_INPUT;
        if (access(path, F_OK) < 0) {
                cli_error("%s: no store there", path);
                goto out;
        }
        if (shield_store_open(path, &s, &diag) < 0) {
                cli_error("%s: %s", path, diag.msg);
                goto out;
        }
        if (shield_store_golden_get(s, instance, &g, &diag) < 0) {
                cli_error("no golden measurement for instance \"%s\"%s%s", instance, diag.msg[0] ? ": " : "", diag.msg);
                goto out;
        }
        cli_error("instance \"%s\": its golden measurement keeps %s, not the events' data (device paths, db, "
                  "authority certificates) that prediction needs: give this boot's log with --eventlog LOG "
                  "(e.g. from `shield attest` evidence or /sys/kernel/security/tpm0/binary_bios_measurements)",
                  instance, shield_golden_has_eventlog(g) ? "each event's type and digests" : "PCR values only");
out:
        shield_golden_free(g);
        if (s)
                shield_store_close(s);
        free(def);
        return r;
}

static void print_prediction(const struct shield_prediction *p, uint16_t bank, bool json) {
        const struct shield_pcr_bank *pb = shield_pcrs_bank_const(&p->pcrs, bank);
        const struct shield_pcr_bank *old = shield_pcrs_bank_const(&p->replayed, bank);
        char hex[2 * SHIELD_HASH_MAX_SIZE + 1];
        if (json) {
                json_t *pcrs = json_object(), *changed = json_array(), *notes = json_array();
                for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                        if (!(pb->present & (1u << i)))
                                continue;
                        char key[4];
                        snprintf(key, sizeof key, "%u", i);
                        shield_hex_encode(pb->value[i], pb->size, hex);
                        json_object_set_new(pcrs, key, json_string(hex));
                        if (p->changed & (1u << i))
                                json_array_append_new(changed, json_integer(i));
                }
                for (size_t i = 0; i < p->notes.n; i++)
                        json_array_append_new(notes, json_string(p->notes.items[i].message));
                cli_print_json(json_pack("{s:s, s:o, s:o, s:o}", "bank", shield_hash_name(bank), "pcrs", pcrs, "changed",
                                         changed, "notes", notes));
                return;
        }
        printf("PCR  %-*s  (%s)\n", 2 * pb->size, "predicted", shield_hash_name(bank));
        for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++) {
                if (p->left_out & (1u << i)) {
                        printf("%3u  %-*s\n", i, 2 * pb->size, "(left out: see the notes)");
                        continue;
                }
                if (!(pb->present & (1u << i)))
                        continue;
                shield_hex_encode(pb->value[i], pb->size, hex);
                printf("%3u  %s%s\n", i, hex, p->changed & (1u << i) ? "  * changed" : "");
                if (p->changed & (1u << i)) {
                        shield_hex_encode(old->value[i], old->size, hex);
                        printf("     %s  (this boot)\n", hex);
                }
        }
        for (size_t i = 0; i < p->notes.n; i++)
                printf("note: %s\n", p->notes.items[i].message);
}

int cmd_predict(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "eventlog", required_argument, NULL, 'e' },
                { "instance", required_argument, NULL, 'i' }, { "store", required_argument, NULL, 's' },
                { "replace", required_argument, NULL, 'r' },  { "bank", required_argument, NULL, 'b' },
                { "json", no_argument, NULL, 'j' },           {},
        };
        const char *log_path = NULL, *instance = NULL, *store = NULL, *bank_name = "sha256";
        const char *replace[SHIELD_PREDICT_REPLACEMENTS_MAX];
        size_t n = 0;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT;
                case 'h': fputs(usage, stdout); return EXIT_OK;
                case 'e': log_path = optarg; break;
                case 'i': instance = optarg; break;
                case 's': store = optarg; break;
                case 'b': bank_name = optarg; break;
                case 'j': json = true; break;
                case 'r':
                        if (n == SHIELD_PREDICT_REPLACEMENTS_MAX)
                                return cli_usage_error(usage, "predict: at most %u --replace", SHIELD_PREDICT_REPLACEMENTS_MAX);
                        replace[n++] = optarg;
                        break;
                default: return cli_usage_error(usage, "predict: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc)
                return cli_usage_error(usage, "predict: unexpected argument '%s'", argv[optind]);
        if (!log_path == !instance)
                return cli_usage_error(usage, "predict: give one of --eventlog LOG or --instance NAME");
        if (n == 0)
                return cli_usage_error(usage, "predict: nothing to predict: give --replace PATH=FILE");
        uint16_t bank;
        if (shield_hash_from_name(bank_name, &bank) < 0)
                return cli_usage_error(usage, "predict: unknown bank '%s'", bank_name);
        if (instance)
                return instance_log(instance, store);

        struct shield_predict_replacement repl[SHIELD_PREDICT_REPLACEMENTS_MAX] = { 0 };
        struct repl_arg keep[SHIELD_PREDICT_REPLACEMENTS_MAX] = { 0 };
        struct shield_eventlog *log = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = EXIT_OK;
        for (size_t i = 0; i < n && r == EXIT_OK; i++)
                r = parse_replace(replace[i], &repl[i], &keep[i]);
        if (r == EXIT_OK)
                r = cli_read_file(log_path, SHIELD_EVENTLOG_MAX, &buf, &len);
        if (r == EXIT_OK) {
                struct shield_diag diag = { 0 };
                int x = shield_eventlog_parse_take(&buf, len, &log, &diag);
                if (x < 0)
                        r = cli_parse_failed(log_path, x, &diag);
        }
        if (r == EXIT_OK) {
                struct shield_prediction p;
                struct shield_diag diag = { .index = -1 };
                int x = shield_predict(log, repl, n, bank, &p, &diag);
                if (x < 0) {
                        cli_error("cannot predict (%s): %s", shield_strerror(x), diag.msg[0] ? diag.msg : "internal error");
                        r = x == SHIELD_E_VERIFY ? EXIT_VERIFY_FAILED : EXIT_BAD_INPUT;
                } else {
                        print_prediction(&p, bank, json);
                        shield_prediction_clear(&p);
                }
        }
        shield_eventlog_free(log);
        free(buf);
        for (size_t i = 0; i < n; i++) {
                free(keep[i].path);
                free(keep[i].image);
        }
        return r;
}
