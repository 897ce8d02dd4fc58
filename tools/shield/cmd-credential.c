/* SPDX-License-Identifier: Apache-2.0 */
/* shield credential: intents on shieldd, a credential's status, and unsealing the machine's credential (docs/CREDENTIALS.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shield/agent.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/predict.h"
#include "shield/util.h"

static const char usage[] =
        "Usage: shield credential intend --server URL [--cacert FILE] --admin-token-file FILE\n"
        "                                --instance NAME… [--replace PATH=FILE|PATH=sha256:HEX …]\n"
        "                                [--method sealing-key|import] [--pcrs LIST] [--json]\n"
        "       shield credential unseal [--state DIR] [--tcti T] -o DIR [--json]\n"
        "       shield credential status --server URL [--cacert FILE] SERIAL [--json]\n"
        "\n"
        "Sealed machine credentials: a key and a certificate from shieldd's machine CA\n"
        "that a machine can decrypt only when it booted what the fleet intends.\n"
        "\n"
        "intend   tell shieldd what the instances must boot. With no --replace, the state\n"
        "         their golden measured; each --replace names a boot application as the\n"
        "         event log does (\\EFI\\BOOT\\BOOTX64.EFI) and gives its new image (FILE)\n"
        "         or only its Authenticode digest (sha256:HEX; the signer is then the one\n"
        "         of the component it replaces). shieldd predicts the PCRs of that boot,\n"
        "         revokes the instances' current credentials, and issues new ones bound\n"
        "         to the prediction: on the agent's next round (sealing-key, the default:\n"
        "         the agent makes a TPM key with that policy), or at once to the EK\n"
        "         (import). All instances or none.\n"
        "unseal   open the credential `shield agent` keeps in the state directory with\n"
        "         this machine's TPM and write DIR/key.pem (0600), DIR/cert.pem and\n"
        "         DIR/ca.pem. Refused unless the PCRs are the sealed ones and the epoch\n"
        "         counter holds the credential's epoch: the PCRs that differ are named.\n"
        "status   what shieldd knows of a credential: instance, bound state, revoked.\n"
        "\n"
        "Options:\n"
        "  --server URL            shieldd's base URL\n"
        "  --cacert FILE           the CA (or pinned certificate) to verify shieldd with\n"
        "  --admin-token-file F    the admin bearer token\n"
        "  --instance NAME         an instance the intent is for (repeat for several)\n"
        "  --replace PATH=FILE|PATH=sha256:HEX  a boot component of the intended boot\n"
        "  --method M              sealing-key (default) or import (a TPM2 duplication\n"
        "                          blob to the instance's EK, no agent round first)\n"
        "  --pcrs LIST             the PCRs of the policy (default 0,2,4,7, and 11 for a\n"
        "                          unified kernel image)\n"
        "  --state DIR             the agent's state directory (default\n"
        "                          $XDG_STATE_HOME/shieldkit/agent)\n"
        "  --tcti T                the TPM (default $SHIELD_TCTI, else /dev/tpmrm0)\n"
        "  -o, --output DIR        where unseal writes the key and certificates\n"
        "  --json                  machine-readable output\n"
        "  -h, --help              this text\n"
        "\n"
        "Exit status: 0 done; 1 refused (unseal: this boot is not the intended one, or\n"
        "the credential was superseded; intend/status: the token was refused); 2 bad\n"
        "input or usage, no credential kept, the service unreachable.\n"
        "\n"
        "Examples:\n"
        "  shield credential intend --server https://shieldd:8443 --cacert tls.crt \\\n"
        "      --admin-token-file admin-token --instance web-1 \\\n"
        "      --replace '\\EFI\\BOOT\\BOOTX64.EFI=new-uki.efi'\n"
        "  shield credential unseal -o /run/credential\n";

/* One --replace as the API takes it: {"path", "image": base64} or {"path", "sha256": hex}. */
static int replacement_json(const char *arg, json_t *into) {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1])
                return cli_usage_error(usage, "credential: --replace wants PATH=FILE or PATH=sha256:HEX, not '%s'", arg);
        char *path = strndup(arg, (size_t)(eq - arg));
        const char *v = eq + 1;
        json_t *o = path ? json_pack("{s:s}", "path", path) : NULL;
        free(path);
        if (!o)
                return EXIT_BAD_INPUT;
        if (strncmp(v, "sha256:", 7) == 0 && access(v, F_OK) < 0) {
                uint8_t *d = NULL;
                size_t n = 0;
                if (shield_hex_decode(v + 7, &d, &n) < 0 || n != 32) {
                        free(d);
                        json_decref(o);
                        return cli_usage_error(usage, "credential: --replace %s: sha256 wants 32 bytes of hex", arg);
                }
                free(d);
                json_object_set_new(o, "sha256", json_string(v + 7));
        } else {
                uint8_t *img = NULL;
                size_t len = 0;
                int x = cli_read_file(v, SHIELD_PE_MAX, &img, &len);
                if (x != 0) {
                        json_decref(o);
                        return x;
                }
                char *b64 = shield_base64_encode(img, len);
                free(img);
                if (!b64) {
                        json_decref(o);
                        return EXIT_BAD_INPUT;
                }
                json_object_set_new(o, "image", json_string(b64));
                free(b64);
        }
        json_array_append_new(into, o);
        return 0;
}

static int print_answer(char *answer, bool json, void (*human)(json_t *)) {
        json_t *j = json_loads(answer, 0, NULL);
        free(answer);
        if (!j) {
                cli_error("the service's answer is not JSON");
                return EXIT_BAD_INPUT;
        }
        if (json)
                cli_print_json(j);
        else {
                human(j);
                json_decref(j);
        }
        return EXIT_OK;
}

static void print_pcrs(json_t *pcrs, const char *indent) {
        const char *k;
        json_t *v;
        json_object_foreach(pcrs, k, v) printf("%sPCR %s: %s\n", indent, k, json_string_value(v));
}

static void human_intents(json_t *j) {
        size_t i;
        json_t *in;
        json_array_foreach(json_object_get(j, "intents"), i, in) {
                printf("%s: intent %lld (%s, %s)\n", json_string_value(json_object_get(in, "instance")),
                       (long long)json_integer_value(json_object_get(in, "intent")),
                       json_string_value(json_object_get(j, "method")), json_string_value(json_object_get(in, "bank")));
                print_pcrs(json_object_get(in, "pcrs"), "  ");
                long long revoked = json_integer_value(json_object_get(in, "revoked"));
                if (revoked)
                        printf("  revoked %lld earlier credential%s\n", revoked, revoked == 1 ? "" : "s");
                const char *serial = json_string_value(json_object_get(in, "credential"));
                printf("  %s%s\n", serial ? "credential issued: " : "credential: on the agent's next round",
                       serial ? serial : "");
        }
}

static int intend(int argc, char **argv) {
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },     { "server", required_argument, NULL, 's' },
                { "cacert", required_argument, NULL, 'c' }, { "admin-token-file", required_argument, NULL, 't' },
                { "instance", required_argument, NULL, 'i' }, { "replace", required_argument, NULL, 'r' },
                { "method", required_argument, NULL, 'm' }, { "pcrs", required_argument, NULL, 'p' },
                { "json", no_argument, NULL, 'j' },     {},
        };
        const char *server = NULL, *cacert = NULL, *token = NULL, *method = NULL;
        json_t *instances = json_array(), *repl = json_array(), *body = NULL;
        bool json = false;
        uint64_t mask = 0;
        int c, r = EXIT_BAD_INPUT;
        while ((c = cli_getopt(argc, argv, "h", opts)) >= 0) {
                switch (c) {
                case 'h': fputs(usage, stdout); r = EXIT_OK; goto out;
                case 's': server = optarg; break;
                case 'c': cacert = optarg; break;
                case 't': token = optarg; break;
                case 'i':
                        if (!shield_name_valid(optarg)) {
                                r = cli_usage_error(usage, "credential intend: --instance '%s' is not an instance name",
                                                    optarg);
                                goto out;
                        }
                        json_array_append_new(instances, json_string(optarg));
                        break;
                case 'r':
                        if ((r = replacement_json(optarg, repl)) != 0)
                                goto out;
                        r = EXIT_BAD_INPUT;
                        break;
                case 'm':
                        if (strcmp(optarg, "sealing-key") && strcmp(optarg, "import")) {
                                r = cli_usage_error(usage, "credential intend: --method is sealing-key or import");
                                goto out;
                        }
                        method = optarg;
                        break;
                case 'p':
                        if (shield_parse_index_list(optarg, 23, &mask) < 0 || !mask) {
                                r = cli_usage_error(usage, "credential intend: --pcrs wants a list of PCRs 0-23");
                                goto out;
                        }
                        break;
                case 'j': json = true; break;
                default: goto out;
                }
        }
        if (optind != argc || !server || !token || !json_array_size(instances)) {
                r = cli_usage_error(usage, "credential intend: --server, --admin-token-file and --instance are needed");
                goto out;
        }
        body = json_pack("{s:O, s:O}", "instances", instances, "replace", repl);
        if (method)
                json_object_set_new(body, "method", json_string(method));
        if (mask) {
                json_t *a = json_array();
                for (unsigned i = 0; i < 24; i++)
                        if (mask & (1ull << i))
                                json_array_append_new(a, json_integer(i));
                json_object_set_new(body, "pcrs", a);
        }
        char *text = json_dumps(body, JSON_COMPACT), *answer = NULL;
        r = text ? cli_service_call(server, cacert, token, "POST", "/v1/intents", text, &answer) : EXIT_BAD_INPUT;
        free(text);
        if (r == EXIT_OK)
                r = print_answer(answer, json, human_intents);
out:
        json_decref(body);
        json_decref(instances);
        json_decref(repl);
        return r;
}

static void human_status(json_t *j) {
        printf("serial:    %s\ninstance:  %s\nintent:    %lld (%s)\nrevoked:   %s\n",
               json_string_value(json_object_get(j, "serial")), json_string_value(json_object_get(j, "instance")),
               (long long)json_integer_value(json_object_get(j, "intent")), json_string_value(json_object_get(j, "method")),
               json_is_true(json_object_get(j, "revoked")) ? "yes" : "no");
        json_t *b = json_object_get(j, "bound");
        if (b) {
                printf("bound to:  %s\n", json_string_value(json_object_get(b, "bank")));
                print_pcrs(json_object_get(b, "pcrs"), "  ");
        }
}

static int status(int argc, char **argv) {
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' }, { "server", required_argument, NULL, 's' },
                { "cacert", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' }, {},
        };
        const char *server = NULL, *cacert = NULL;
        bool json = false;
        int c;
        while ((c = cli_getopt(argc, argv, "h", opts)) >= 0) {
                switch (c) {
                case 'h': fputs(usage, stdout); return EXIT_OK;
                case 's': server = optarg; break;
                case 'c': cacert = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT;
                }
        }
        if (optind + 1 != argc || !server)
                return cli_usage_error(usage, "credential status: --server URL and one SERIAL");
        const char *serial = argv[optind];
        for (const char *p = serial; *p; p++)
                if (shield_hex_digit(*p) < 0 || (*p >= 'A' && *p <= 'F'))
                        return cli_usage_error(usage, "credential status: a serial is lowercase hex");
        char path[128], *answer = NULL;
        if (strlen(serial) == 0 || strlen(serial) > 32)
                return cli_usage_error(usage, "credential status: a serial is 1 to 32 hex digits");
        snprintf(path, sizeof path, "/v1/credentials/%s", serial);
        int r = cli_service_call(server, cacert, NULL, "GET", path, NULL, &answer);
        return r == EXIT_OK ? print_answer(answer, json, human_status) : r;
}

static void pcr_hex(const struct shield_pcrs *p, uint16_t bank, unsigned pcr, char *out) {
        const struct shield_pcr_bank *b = shield_pcrs_bank_const(p, bank);
        if (b && (b->present & (1u << pcr)))
                shield_hex_encode(b->value[pcr], b->size, out);
        else
                snprintf(out, 2, "?");
}

static int unseal(int argc, char **argv) {
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' }, { "state", required_argument, NULL, 'S' },
                { "tcti", required_argument, NULL, 'T' }, { "output", required_argument, NULL, 'o' },
                { "json", no_argument, NULL, 'j' }, {},
        };
        const char *state = NULL, *tcti = NULL, *out = NULL;
        char *def = NULL;
        bool json = false;
        int c;
        while ((c = cli_getopt(argc, argv, "ho:", opts)) >= 0) {
                switch (c) {
                case 'h': fputs(usage, stdout); return EXIT_OK;
                case 'S': state = optarg; break;
                case 'T': tcti = optarg; break;
                case 'o': out = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT;
                }
        }
        if (optind != argc || !out)
                return cli_usage_error(usage, "credential unseal: -o DIR is needed");
        if (!state) {
                if (shield_agent_default_state_dir(&def) < 0) {
                        cli_error("credential unseal: neither $XDG_STATE_HOME nor $HOME is set: give --state DIR");
                        return EXIT_BAD_INPUT;
                }
                state = def;
        }
        struct shield_agent_unseal_result res;
        struct shield_diag diag = { 0 };
        int r = shield_agent_credential_unseal(state, tcti, out, &res, &diag);
        free(def);
        json_t *differ = json_array();
        char want[2 * SHIELD_HASH_MAX_SIZE + 1], now[2 * SHIELD_HASH_MAX_SIZE + 1];
        for (unsigned i = 0; r == SHIELD_E_VERIFY && i < SHIELD_PCR_COUNT; i++)
                if (res.differ & (1u << i)) {
                        pcr_hex(&res.bound, res.bank, i, want);
                        pcr_hex(&res.now, res.bank, i, now);
                        json_array_append_new(differ, json_pack("{s:i, s:s, s:s, s:s}", "pcr", i, "bank",
                                                                shield_hash_name(res.bank), "sealed", want, "now", now));
                }
        if (json && (r == 0 || r == SHIELD_E_VERIFY)) {
                json_t *j = json_pack("{s:b, s:s, s:o}", "unsealed", r == 0, "serial", res.serial, "differ", differ);
                if (r == 0) {
                        json_object_set_new(j, "instance", json_string(res.instance));
                        json_object_set_new(j, "not_after", json_integer(res.not_after));
                        json_object_set_new(j, "directory", json_string(out));
                } else {
                        json_object_set_new(j, "message", json_string(diag.msg));
                        json_object_set_new(j, "epoch_passed", json_boolean(res.epoch_passed));
                }
                cli_print_json(j);
                differ = NULL;
        }
        if (r == 0) {
                if (!json)
                        printf("unsealed credential %s for %s into %s (key.pem, cert.pem, ca.pem)\n", res.serial,
                               res.instance, out);
                json_decref(differ);
                return EXIT_OK;
        }
        if (r == SHIELD_E_VERIFY) {
                cli_error("credential %s: the TPM refused to unseal it: %s", res.serial, diag.msg);
                for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++)
                        if (res.differ & (1u << i)) {
                                pcr_hex(&res.bound, res.bank, i, want);
                                pcr_hex(&res.now, res.bank, i, now);
                                cli_error("PCR %u (%s) differs from the sealed policy: sealed %s, now %s", i,
                                          shield_hash_name(res.bank), want, now);
                        }
                if (res.epoch_passed)
                        cli_error("the epoch counter is at %llu, the credential's epoch was %llu: it was superseded",
                                  (unsigned long long)res.epoch_now, (unsigned long long)res.epoch);
                json_decref(differ);
                return EXIT_VERIFY_FAILED;
        }
        json_decref(differ);
        cli_error("credential unseal: %s", diag.msg[0] ? diag.msg : shield_strerror(r));
        return EXIT_BAD_INPUT;
}

int cmd_credential(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "intend", "tell shieldd what instances must boot", intend },
                { "unseal", "open this machine's sealed credential", unseal },
                { "status", "a credential as shieldd knows it", status },
        };
        return cli_dispatch(argc, argv, usage, verbs, sizeof verbs / sizeof verbs[0]);
}
