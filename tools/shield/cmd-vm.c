/* SPDX-License-Identifier: Apache-2.0 */
/* shield vm create|start|stop|delete|console|list|run */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "platform-cli.h"
#include "shield/agent.h"
#include "shield/attest.h"
#include "shield/evidence.h"
#include "shield/image.h"
#include "shield/integrity.h"
#include "shield/store.h"
#include "shield/keys.h"
#include "shield/secureboot.h"
#include "shield/util.h"
#include "shield/vm.h"

static const char usage_family[] =
        "Usage: shield vm COMMAND [OPTIONS]\n"
        "\n"
        "Local shielded VMs: an instance of an image has its own copy-on-write\n"
        "disk, its own OVMF variable store holding the image's Secure Boot keys\n"
        "(Secure Boot on), and its own vTPM (swtpm) with an EK and an attestation\n"
        "key certified by the local platform CA. Boots run QEMU q35 with SMM and\n"
        "OVMF's secure-boot build under TCG emulation.\n"
        "\n"
        "Commands:\n"
        "  create     make an instance of an image\n"
        "  start      boot it in the background\n"
        "  stop       stop it\n"
        "  delete     remove it (stops it first)\n"
        "  console    print its serial console\n"
        "  list       the instances and whether they run\n"
        "  run        one boot from start to power-off: verdicts and evidence\n"
        "  show       its settings and boot entries\n"
        "  set        change its boot order, NIC or shielded-VM switches\n"
        "  migrate    move it as to new hardware (new vTPM, variable store from the image)\n"
        "\n"
        "Instances live in $SHIELD_STATE_DIR/instances (default\n"
        "$XDG_STATE_HOME/shieldkit, else ~/.local/state/shieldkit).\n"
        "Run 'shield vm COMMAND --help' for details.\n";

static const char usage_create[] =
        "Usage: shield vm create NAME --image IMAGE [--integrity-policy NAME|FILE]\n"
        "                        [--[no-]shielded-secure-boot] [--[no-]shielded-vtpm]\n"
        "                        [--[no-]shielded-integrity-monitoring] [--nic on|off] [--nic-rom FILE] [--json]\n"
        "\n"
        "Make an instance: a qcow2 overlay over the image's disk, a variable store\n"
        "with the image's effective initial state (its keys, the platform\n"
        "defaults for values it leaves unset), and a vTPM provisioned once with\n"
        "an EK (0x81010001, certificate in NV 0x01c00002) and a restricted\n"
        "attestation key (0x81010002, certificate in NV 0x01c10000) whose\n"
        "certificates the local platform CA ($SHIELD_STATE_DIR/platform-ca/ca.crt)\n"
        "issues, as a cloud's managed vTPM does.\n"
        "\n"
        "An instance is its name and its vTPM: when the store remembers an earlier\n"
        "instance of this name (deleted, then made again), its golden measurement,\n"
        "AK and quote clock are forgotten and the next boot becomes the new golden\n"
        "(history keeps the old verdicts and says \"new vTPM\").\n"
        "\n"
        "Options:\n"
        "  --image IMAGE      the registered image to make it from\n"
        "  --integrity-policy NAME|FILE\n"
        "                     which PCRs set its colour: gce (0-15, default), oci (0\n"
        "                     and 2), strict, a list such as 0,2,4-7, or a policy file\n"
        "%s"
        "  --json             the result as JSON\n"
        "\n"
        "Exit status: 0 created, 2 bad input or a tool failed (nothing left behind).\n";

static const char usage_migrate[] =
        "Usage: shield vm migrate NAME [--server URL --admin-token-file FILE [--cacert FILE]] [--json]\n"
        "\n"
        "Move a stopped instance as to new hardware, as a manual migration does:\n"
        "it gets a new vTPM (new EK and AK, certificates from the platform CA;\n"
        "nothing of the old TPM is kept) and a variable store rebuilt from its\n"
        "image's initial state (Secure Boot variable changes made at run time are\n"
        "lost); its disk is kept. The local store then treats the next boot as a\n"
        "new golden measurement with the reason \"migrated\", not as red.\n"
        "\n"
        "With --server, an admin call tells shieldd to accept the instance's next\n"
        "registration with a new EK/AK as this migration (that one only); the next\n"
        "`shield vm run NAME --server URL` registers it and records a new golden.\n"
        "\n"
        "Options:\n"
        "  --server URL             shieldd's URL\n"
        "  --admin-token-file FILE  the admin bearer token (shieldd wrote it on first start)\n"
        "  --cacert FILE            the CA (PEM) to check shieldd's TLS certificate with\n"
        "  --json                   the result as JSON\n"
        "\n"
        "Exit status: 0 migrated, 2 bad input, the instance runs, or a tool failed\n"
        "(the instance is left as it was).\n";

static const char usage_run[] =
        "Usage: shield vm run NAME [--nonce HEX | --server URL [--cacert FILE]] [--evidence FILE]\n"
        "                     [--integrity-policy NAME|FILE] [--timeout SECONDS] [--until TEXT] [--json]\n"
        "\n"
        "One boot from start to power-off, for tests and CI. NAME is an instance\n"
        "(its vTPM and variable store are kept: a second run is a reboot of the\n"
        "same machine) or an image (a throw-away instance is made and removed).\n"
        "\n"
        "Boots, then prints an SB_EVENT line per EFI executable the firmware\n"
        "loaded (from the event log it measured) or refused (from its console),\n"
        "in load order: the offline db/dbx verdict on the bytes on the\n"
        "instance's disk, under the keys in its variable store, with the device\n"
        "path the firmware named, then the closing line with\n"
        "Secure_Boot_Overall_Status (0 passed, 15 Access Denied, 26 Security\n"
        "Violation). When the boot program finishes, its\n"
        "evidence (event log, PCRs of every bank, a quote over the nonce, AK\n"
        "public key and certificate) is checked: the quote's signature, nonce\n"
        "and PCR digest, the AK certificate against the platform CA, and the\n"
        "event log replayed against the quoted PCRs.\n"
        "\n"
        "Options:\n"
        "  --nonce HEX       the nonce to quote over (default: 32 random bytes)\n"
        "  --server URL      attest through shieldd instead of the local store: the\n"
        "                    host registers the instance (its AK certificate from the\n"
        "                    platform CA, or credential activation with its vTPM),\n"
        "                    asks shieldd for the nonce, hands it to the guest, posts\n"
        "                    the evidence and prints shieldd's verdict and token\n"
        "  --cacert FILE     the CA (PEM) to check shieldd's TLS certificate with\n"
        "  --integrity-policy NAME|FILE\n"
        "                    which PCRs set the colour: gce (0-15, default), oci (0\n"
        "                    and 2), strict, a list such as 0,2,4-7, or a policy file\n"
        "                    (shieldkit-policy/1); what it ignores is still listed\n"
        "  --evidence FILE   write the evidence (docs/FORMATS.md JSON) to FILE\n"
        "  --timeout SECONDS give up after this long (default 90)\n"
        "  --memory MIB      guest memory (default 512)\n"
        "  --until TEXT      also count TEXT on the console as a finished boot, for\n"
        "                    boot programs that are not Shieldkit's agent (which\n"
        "                    then send no evidence), e.g. --until \"GNU GRUB\"\n"
        "  --json            the outcome as JSON on stdout\n"
        "  -h, --help        this text\n"
        "\n"
        "Exit status: 0 it booted and its evidence checks out; 1 the firmware\n"
        "refused it, or its evidence failed a check; 2 an error or a timeout.\n"
        "\n"
        "Example:\n"
        "  shield vm run web-1 --nonce $(openssl rand -hex 32) --evidence ev.json\n";

static const char usage_simple[] =
        "Usage: shield vm start NAME [--memory MIB]\n"
        "       shield vm stop NAME\n"
        "       shield vm delete NAME\n"
        "       shield vm console NAME\n"
        "       shield vm list [--json]\n"
        "\n"
        "start: boot in the background (console in the instance's serial.log).\n"
        "stop: stop QEMU (its swtpm ends with it). delete: stop, then remove the\n"
        "instance with its disk overlay, variable store and vTPM. console: print\n"
        "the serial console of the current or last boot. list: every instance,\n"
        "its image and whether it runs.\n"
        "\n"
        "Exit status: 0 ok, 2 no such instance or bad usage.\n";

static bool quiet_progress;

static void progress(const char *step) {
        if (!quiet_progress)
                fprintf(stderr, "vm: %s…\n", step);
}

static void boot_progress(const char *step, double seconds) {
        if (!quiet_progress)
                fprintf(stderr, "vm: %s (%.1f s)\n", step, seconds);
}

/*
 * The shielded-VM switches shared by create and set: returns 1 when opt was
 * one of them (settings changed), 0 when not, -1 on a bad value (said).
 */
enum { O_SB = 300, O_NO_SB, O_TPM, O_NO_TPM, O_IM, O_NO_IM, O_NIC, O_NIC_ROM, O_BOOT_ORDER };
#define SETTINGS_OPTIONS                                                                                   \
        { "shielded-secure-boot", no_argument, NULL, O_SB },                                                 \
                { "no-shielded-secure-boot", no_argument, NULL, O_NO_SB },                                   \
                { "shielded-vtpm", no_argument, NULL, O_TPM }, { "no-shielded-vtpm", no_argument, NULL, O_NO_TPM }, \
                { "shielded-integrity-monitoring", no_argument, NULL, O_IM },                                \
                { "no-shielded-integrity-monitoring", no_argument, NULL, O_NO_IM },                          \
                { "nic", required_argument, NULL, O_NIC }, { "nic-rom", required_argument, NULL, O_NIC_ROM }

static int settings_option(int c, const char *arg, struct shield_instance_settings *s) {
        switch (c) {
        case O_SB: s->secure_boot = true; return 1;
        case O_NO_SB: s->secure_boot = false; return 1;
        case O_TPM: s->vtpm = true; return 1;
        case O_NO_TPM: s->vtpm = false; return 1;
        case O_IM: s->integrity_monitoring = true; return 1;
        case O_NO_IM: s->integrity_monitoring = false; return 1;
        case O_NIC:
                if (strcmp(arg, "on") && strcmp(arg, "off")) {
                        cli_error("--nic %s: on or off", arg);
                        return -1;
                }
                s->nic = strcmp(arg, "on") == 0;
                return 1;
        case O_NIC_ROM: {
                char *abs = realpath(arg, NULL);
                if (!abs) {
                        cli_error("--nic-rom %s: %s", arg, strerror(errno));
                        return -1;
                }
                free(s->nic_rom);
                s->nic_rom = abs;
                s->nic = true;
                return 1;
        }
        }
        return 0;
}

static const char settings_help[] =
        "  --shielded-secure-boot, --no-shielded-secure-boot\n"
        "                     Secure Boot on (default) or off: off writes the variable\n"
        "                     store without keys (setup mode), so unsigned code boots and\n"
        "                     the firmware measures SecureBoot = 0\n"
        "  --shielded-vtpm, --no-shielded-vtpm\n"
        "                     a vTPM (default), or none: no measured boot evidence, no colour\n"
        "  --shielded-integrity-monitoring, --no-shielded-integrity-monitoring\n"
        "                     compare boots with the golden measurement (default), or not\n"
        "  --nic on|off       a virtio-net NIC with no network backend (default off); the\n"
        "                     firmware judges its option ROM under Secure Boot\n"
        "  --nic-rom FILE     the NIC's option ROM (default QEMU's own iPXE ROM, which no\n"
        "                     db key signs); implies --nic on\n";

static void print_settings(const struct shield_instance_settings *s) {
        printf("  Secure Boot: %s; vTPM: %s; integrity monitoring: %s; NIC: %s%s%s\n", s->secure_boot ? "on" : "off",
               s->vtpm ? "on" : "off", s->integrity_monitoring ? "on" : "off", s->nic ? "on" : "off",
               s->nic && s->nic_rom ? ", option ROM " : s->nic ? ", QEMU's option ROM" : "", s->nic && s->nic_rom ? s->nic_rom : "");
}

/*
 * The local store learns that NAME has a new vTPM: an earlier instance of
 * the name is forgotten (golden, AK, clock; history kept) with reason, and
 * the integrity policy (NULL: unchanged) is recorded.
 */
static int local_identity(const char *name, const char *reason, const char *policy) {
        struct shield_store *s = NULL;
        struct shield_diag diag = { 0 };
        char *path = shield_store_default_path();
        int r = path ? shield_store_open(path, &s, &diag) : SHIELD_E_NOMEM;
        free(path);
        if (r < 0)
                return r;
        r = shield_store_instance_new_identity(s, name, reason, &diag);
        if (r == SHIELD_E_NOT_FOUND)
                r = 0; /* a name the store never saw: nothing to forget */
        if (r == 0 && policy)
                r = shield_store_instance_set_policy(s, name, policy, &diag);
        shield_store_close(s);
        return r;
}

static int verb_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "image", required_argument, NULL, 'i' },
                { "json", no_argument, NULL, 'j' }, { "integrity-policy", required_argument, NULL, 'I' },
                SETTINGS_OPTIONS, {},
        };
        const char *image = NULL, *policy = NULL;
        struct shield_integrity_policy ip;
        struct shield_instance_settings settings;
        bool json = false, custom = false;
        int c, so;

        shield_instance_settings_default(&settings);

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': shield_instance_settings_clear(&settings); return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': printf(usage_create, settings_help); return EXIT_OK;
                case 'i': image = optarg; break;
                case 'j': json = true; break;
                case 'I':
                        if (cli_integrity_policy(optarg, &ip) != EXIT_OK)
                                return EXIT_BAD_INPUT;
                        policy = ip.name;
                        break;
                default:
                        if ((so = settings_option(c, optarg, &settings)) < 0) {
                                shield_instance_settings_clear(&settings);
                                return EXIT_BAD_INPUT;
                        }
                        if (so > 0) {
                                custom = true;
                                break;
                        }
                        shield_instance_settings_clear(&settings);
                        return cli_usage_error(usage_create, "create: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc - 1 || !image)
                return cli_usage_error(usage_create, "create: NAME and --image are required");
        char *state = cli_state_dir();
        struct shield_diag diag = { 0 };
        if (!state)
                return EXIT_BAD_INPUT;
        quiet_progress = json;
        int r = shield_instance_create(state, argv[optind], image, NULL, progress, &diag);
        if (r >= 0 && custom) {
                struct shield_instance inst = { 0 };
                if ((r = shield_instance_load(state, argv[optind], NULL, &inst, &diag)) >= 0)
                        r = shield_instance_apply_settings(state, &inst, &settings, &diag);
                shield_instance_clear(&inst);
        }
        shield_instance_settings_clear(&settings);
        if (r >= 0 && (r = local_identity(argv[optind], "new-vtpm", policy)) < 0)
                cli_error("create %s: the store: %s", argv[optind], shield_strerror(r));
        if (r < 0) {
                if (diag.msg[0])
                        cli_error("create %s: %s", argv[optind], diag.msg);
        } else if (json) {
                cli_print_json(json_pack("{s:s, s:s, s:s}", "name", argv[optind], "image", image, "state", state));
        } else {
                printf("instance %s created from image %s (vTPM provisioned: EK, AK + certificate)\n", argv[optind],
                       image);
        }
        free(state);
        return r < 0 ? EXIT_BAD_INPUT : EXIT_OK;
}

/*
 * The SB_EVENT lines of the boot that just ran: one per EFI executable its
 * firmware loaded (the measured log, when the guest sent one) or refused (its
 * console), judged offline on the bytes of the instance's disk under the db
 * and dbx of its variable store, then the closing line. --json: the same
 * fields as "sb_events" (one object per executable) and
 * "Secure_Boot_Overall_Status". *ret_disagrees: some offline verdict differs
 * from what the firmware did.
 */
static int offline_verdict(const struct shield_instance *inst, const struct shield_boot_result *boot,
                           const struct shield_evidence *ev, bool json, json_t *out, bool *ret_disagrees) {
        struct shield_sb_events sbe = { 0 };
        struct shield_diag diag = { 0 };
        if (shield_instance_sb_events(inst, ev ? ev->eventlog : NULL, ev ? ev->eventlog_len : 0, boot->console,
                                      boot->console_len, &sbe, &diag) < 0) {
                cli_error("%s: the Secure Boot events: %s", inst->name, diag.msg);
                return EXIT_BAD_INPUT;
        }
        json_t *arr = json_array();
        bool disagrees = false;
        for (size_t i = 0; i < sbe.n; i++) {
                const struct shield_sb_event *e = &sbe.events[i];
                char *line = shield_sb_event_line(e);
                if (!line)
                        continue;
                if (!json)
                        printf("%s\n", line);
                /* The line is the one rendering; JSON adds the reason in words. */
                json_t *o = json_loads(strchr(line, '{'), 0, NULL);
                if (o) {
                        if (e->reason[0])
                                json_object_set_new(o, "reason", json_string(e->reason));
                        json_object_set_new(o, "firmware_agrees", json_boolean(!e->firmware_disagrees));
                        json_array_append_new(arr, o);
                }
                disagrees |= e->firmware_disagrees;
                free(line);
        }
        char *closing = shield_sb_overall_line(sbe.overall_status);
        if (!json && closing)
                printf("%s\n", closing);
        free(closing);
        json_object_set_new(out, "sb_events", arr);
        json_object_set_new(out, "Secure_Boot_Overall_Status", json_integer(sbe.overall_status));
        if (!json && sbe.n_dropped)
                printf("note: %zu more executables not listed\n", sbe.n_dropped);
        shield_sb_events_clear(&sbe);
        *ret_disagrees = disagrees;
        return EXIT_OK;
}

static int load_ca(const char *state, uint8_t **ret, size_t *ret_len) {
        char *dir = NULL, *path = NULL;
        struct shield_diag diag = { 0 };
        int r = shield_platform_ca(state, &dir, &diag);
        if (r == 0 && asprintf(&path, "%s/ca.crt", dir) > 0)
                r = shield_read_file(path, 1u << 20, ret, ret_len);
        free(dir);
        free(path);
        return r;
}


/*
 * Register the instance with shieldd as its own agent would: the host runs
 * the instance's vTPM for a moment, sends its AK (and the AK/EK
 * certificates the platform CA put in NV), and completes credential
 * activation when the service asks for it.
 */
static int register_with(const char *server, const char *cacert, const struct shield_instance *inst,
                         struct shield_agent **ret) {
        struct shield_agent_error aerr = { 0 };
        struct shield_diag diag = { 0 };
        char tcti[64];
        int pid = -1;
        if (shield_instance_tpm_start(inst, tcti, &pid, &diag) < 0) {
                cli_error("%s: its vTPM: %s", inst->name, diag.msg);
                return EXIT_BAD_INPUT;
        }
        struct shield_agent_options ao = { .server = server, .name = inst->name, .tcti = tcti, .cacert = cacert,
                                           .producer = "shield vm run" };
        struct shield_agent *a = NULL;
        int r = shield_agent_new(&ao, &a, &aerr);
        if (r == 0)
                r = shield_agent_register(a, true, NULL, &aerr);
        shield_instance_tpm_stop(pid);
        if (r < 0) {
                cli_error("%s", aerr.msg);
                shield_agent_free(a);
                /* The service refused this machine (403 untrusted, 409 another AK for the name): not verified. */
                bool refused = aerr.kind == SHIELD_AGENT_FAIL_HTTP &&
                               (aerr.http_status == 401 || aerr.http_status == 403 || aerr.http_status == 409);
                return refused || r == SHIELD_E_VERIFY ? EXIT_VERIFY_FAILED : EXIT_BAD_INPUT;
        }
        *ret = a;
        return EXIT_OK;
}

/* Post the guest's evidence to shieldd and show its verdict and token. */
static int attest_through(struct shield_agent *a, const struct shield_evidence *ev, const char *name, bool json,
                          json_t *out) {
        struct shield_agent_verdict v = { 0 };
        struct shield_agent_error aerr = { 0 };
        int r = shield_agent_submit(a, ev, &v, &aerr);
        if (r < 0) {
                cli_error("%s", aerr.msg);
                json_object_set_new(out, "error", json_string(aerr.msg));
                return aerr.http_status >= 400 && aerr.http_status < 500 && aerr.http_status != 400 ? EXIT_VERIFY_FAILED
                                                                                                   : EXIT_BAD_INPUT;
        }
        json_t *answer = json_loads(v.json, 0, NULL);
        json_object_set_new(out, "attestation", answer ? answer : json_null());
        if (!json) {
                printf("shieldd: %s: %s%s%s (early boot %s, late boot %s)%s\n", name,
                       v.verified ? "verified" : "NOT verified", v.colour[0] ? ", " : "", v.colour,
                       v.early_boot[0] ? v.early_boot : "-", v.late_boot[0] ? v.late_boot : "-",
                       v.golden_recorded ? ", golden measurement recorded" : "");
                for (size_t i = 0; i < v.n_reasons; i++)
                        printf("  %-7s [%s] %s\n", strcmp(v.reasons[i].severity, "info") == 0 ? "note" : v.reasons[i].severity,
                               v.reasons[i].code, v.reasons[i].message);
                if (v.token)
                        printf("token: %s\n", v.token);
        }
        r = v.verified ? EXIT_OK : EXIT_VERIFY_FAILED;
        shield_agent_verdict_clear(&v);
        return r;
}

static int verb_run(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },        { "nonce", required_argument, NULL, 'n' },
                { "evidence", required_argument, NULL, 'e' }, { "timeout", required_argument, NULL, 't' },
                { "memory", required_argument, NULL, 'm' }, { "json", no_argument, NULL, 'j' },
                { "until", required_argument, NULL, 'u' }, { "integrity-policy", required_argument, NULL, 'I' },
                { "server", required_argument, NULL, 'S' }, { "cacert", required_argument, NULL, 'C' }, {},
        };
        const char *nonce_hex = NULL, *evidence_path = NULL, *until = NULL, *server = NULL, *cacert = NULL;
        uint64_t timeout = 90, memory = 512;
        struct shield_integrity_policy integrity;
        bool json = false, have_policy = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_run, stdout); return EXIT_OK;
                case 'n': nonce_hex = optarg; break;
                case 'e': evidence_path = optarg; break;
                case 't':
                        if (shield_parse_u64(optarg, 10, 3600, &timeout) < 0 || timeout == 0)
                                return cli_usage_error(usage_run, "run: --timeout %s: 1 to 3600 seconds", optarg);
                        break;
                case 'm':
                        if (shield_parse_u64(optarg, 10, 65536, &memory) < 0 || memory < 64)
                                return cli_usage_error(usage_run, "run: --memory %s: 64 to 65536 MiB", optarg);
                        break;
                case 'j': json = true; break;
                case 'u': until = optarg; break;
                case 'I':
                        if (cli_integrity_policy(optarg, &integrity) != EXIT_OK)
                                return EXIT_BAD_INPUT;
                        have_policy = true;
                        break;
                case 'S': server = optarg; break;
                case 'C': cacert = optarg; break;
                default: return cli_usage_error(usage_run, "run: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc - 1)
                return cli_usage_error(usage_run, "run: expected exactly one NAME (an instance or an image)");
        const char *name = argv[optind];

        if (server && nonce_hex)
                return cli_usage_error(usage_run, "run: --server asks shieldd for the nonce: give no --nonce");
        if (cacert && !server)
                return cli_usage_error(usage_run, "run: --cacert goes with --server");
        uint8_t *nonce = NULL;
        size_t nonce_len = 32;
        if (nonce_hex) {
                if (shield_hex_decode(nonce_hex, &nonce, &nonce_len) < 0 || nonce_len == 0 || nonce_len > 64) {
                        free(nonce);
                        return cli_usage_error(usage_run, "run: --nonce: 1 to 64 bytes of hex");
                }
        } else if (!(nonce = malloc(nonce_len)) || shield_random_bytes(nonce, nonce_len) < 0) {
                free(nonce);
                cli_error("no random nonce");
                return EXIT_BAD_INPUT;
        }
        quiet_progress = json;

        char *state = cli_state_dir(), *scratch = NULL;
        struct shield_instance inst = { 0 };
        struct shield_boot_result boot = { 0 };
        struct shield_frames frames = { 0 };
        struct shield_evidence ev = { 0 };
        struct shield_attest_outcome res = { 0 };
        struct shield_agent *agent = NULL;
        struct shield_diag diag = { 0 };
        uint8_t *ca = NULL;
        size_t ca_len = 0;
        bool have_ev = false;
        int r = EXIT_BAD_INPUT;
        json_t *out = json_object();

        if (!state)
                goto out;
        /* An instance by that name, else a throw-away instance of the image by that name. */
        if (shield_instance_load(state, name, NULL, &inst, &diag) < 0) {
                struct shield_image_record rec;
                struct shield_diag d2 = { 0 };
                if (shield_image_load(state, name, &rec, &d2) < 0) {
                        cli_error("no instance or image named %s", name);
                        goto out;
                }
                shield_image_record_clear(&rec);
                if (asprintf(&scratch, "%s/instances/.run-%s-%ld", state, name, (long)getpid()) < 0) {
                        scratch = NULL;
                        goto out;
                }
                if (shield_instance_create(state, name, name, scratch, progress, &diag) < 0 ||
                    shield_instance_load(state, name, scratch, &inst, &diag) < 0) {
                        cli_error("throw-away instance of %s: %s", name, diag.msg);
                        goto out;
                }
        }
        json_object_set_new(out, "instance", json_string(inst.name));
        json_object_set_new(out, "image", json_string(inst.image));

        if (server) {
                if (scratch) {
                        cli_error("--server attests a kept instance: create one with shield vm create first");
                        goto out;
                }
                if (!inst.settings.vtpm) {
                        cli_error("--server: %s has no vTPM (--no-shielded-vtpm): there is nothing to attest", inst.name);
                        goto out;
                }
                if ((r = register_with(server, cacert, &inst, &agent)) != EXIT_OK)
                        goto out;
                r = EXIT_BAD_INPUT;
                struct shield_agent_error aerr = { 0 };
                uint8_t *issued = NULL;
                size_t issued_len = 0;
                if (shield_agent_challenge(agent, &issued, &issued_len, &aerr) < 0) {
                        cli_error("%s", aerr.msg);
                        goto out;
                }
                free(nonce);
                nonce = issued;
                nonce_len = issued_len;
        }
        struct shield_boot_opts bo = { .nonce = nonce, .nonce_len = nonce_len, .timeout_s = (unsigned)timeout,
                                       .memory_mib = (unsigned)memory, .until = until,
                                       .progress = boot_progress };
        if (shield_instance_boot(&inst, &bo, &boot, &diag) < 0) {
                cli_error("boot: %s", diag.msg);
                goto out;
        }
        static const char *const outcomes[] = { "booted", "refused", "timeout", "exited" };
        json_object_set_new(out, "outcome", json_string(outcomes[boot.outcome]));
        json_object_set_new(out, "seconds", json_real(boot.seconds));
        if (boot.outcome == SHIELD_BOOT_REFUSED) {
                bool disagrees = false;
                if (offline_verdict(&inst, &boot, NULL, json, out, &disagrees) != EXIT_OK)
                        goto out;
                if (!json) {
                        printf("firmware refused the boot: %s (after %.1f s)\n", boot.detail, boot.seconds);
                        if (disagrees)
                                printf("note: the offline check said Pass; the firmware disagrees (keys changed in "
                                       "the variable store?)\n");
                }
                json_object_set_new(out, "firmware", json_string(boot.detail));
                r = EXIT_VERIFY_FAILED;
                goto out;
        }
        if (boot.outcome != SHIELD_BOOT_DONE) {
                cli_error("%s: %s (console: %s)", name, boot.detail, inst.serial);
                json_object_set_new(out, "error", json_string(boot.detail));
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if (!inst.settings.vtpm) {
                /* Without a vTPM nothing is measured into a TPM: there is no evidence to judge. */
                json_object_set_new(out, "vtpm", json_false());
                if (!json)
                        printf("booted in %.1f s; the instance has no vTPM (--no-shielded-vtpm): no measured boot "
                               "evidence, so no integrity colour\n", boot.seconds);
                r = EXIT_OK;
                goto out;
        }
        if (until && !strstr((const char *)boot.console, "SHIELD-BEGIN")) {
                /* Not the agent: the boot program ran, but it sends no evidence (nor a log: the console says what started). */
                bool disagrees = false;
                if (offline_verdict(&inst, &boot, NULL, json, out, &disagrees) != EXIT_OK)
                        goto out;
                if (!json)
                        printf("booted: the boot program ran (\"%s\" on the console after %.1f s); it sends no "
                               "evidence\n", until, boot.seconds);
                r = EXIT_OK;
                goto out;
        }
        if (shield_frames_parse(boot.console, boot.console_len, &frames, &diag) < 0 ||
            shield_evidence_from_frames(&frames, NULL, &ev, &diag) < 0) {
                cli_error("%s: the guest's evidence is damaged: %s (console offset %zu in %s)", name, diag.msg,
                          diag.offset, inst.serial);
                goto out;
        }
        have_ev = true;
        bool sb_disagrees = false;
        if (offline_verdict(&inst, &boot, &ev, json, out, &sb_disagrees) != EXIT_OK)
                goto out;
        if (!json && sb_disagrees)
                printf("note: the firmware loaded an executable the offline check refuses (keys changed in the variable "
                       "store?)\n");
        if (!ev.nonce && !(ev.nonce = malloc(nonce_len)))
                goto out;
        if (ev.nonce_len == 0) {
                memcpy(ev.nonce, nonce, nonce_len);
                ev.nonce_len = nonce_len;
        }
        if (evidence_path) {
                char *text = NULL;
                if (shield_evidence_to_json(&ev, &text) < 0 || shield_write_file_atomic(evidence_path, text, strlen(text), 0644) < 0) {
                        free(text);
                        cli_error("%s: cannot write the evidence", evidence_path);
                        goto out;
                }
                free(text);
        }
        if (load_ca(state, &ca, &ca_len) < 0) {
                cli_error("the platform CA cannot be read");
                goto out;
        }
        if (agent) {
                r = attest_through(agent, &ev, inst.name, json, out);
                goto out;
        }
        /* A kept instance is monitored: its first checked boot is the golden measurement, later boots get a colour. */
        struct shield_store *store = NULL;
        char *store_path = NULL;
        if (!inst.settings.integrity_monitoring && !json)
                printf("integrity monitoring is off for %s: the evidence is checked, not compared with a golden "
                       "measurement, and nothing is recorded\n", inst.name);
        if (!scratch && inst.settings.integrity_monitoring) {
                if (!(store_path = shield_store_default_path()) || shield_store_open(store_path, &store, &diag) < 0) {
                        cli_error("the store %s: %s", store_path ? store_path : "(none)", diag.msg);
                        free(store_path);
                        goto out;
                }
                free(store_path);
        }
        struct shield_attest_options opts = {
                .nonce_mode = SHIELD_NONCE_GIVEN, .nonce = nonce, .nonce_len = nonce_len, .ak_ca = ca,
                .ak_ca_len = ca_len, .integrity = have_policy ? &integrity : NULL,
        };
        int v = shield_attest_run(store, inst.name, &ev, &opts, &res, &diag);
        shield_store_close(store);
        if (v < 0 && v != SHIELD_E_VERIFY) {
                cli_error("checking the evidence: %s%s%s", shield_strerror(v), diag.msg[0] ? ": " : "", diag.msg);
                goto out;
        }
        const struct shield_evidence_result *chk_res = &res.check;
        char db_subject[256] = "";
        if (chk_res->has_secureboot)
                for (size_t i = 0; i < chk_res->secureboot.n_authorities; i++)
                        if (chk_res->secureboot.authorities[i].has_cert && !db_subject[0])
                                snprintf(db_subject, sizeof db_subject, "%s", chk_res->secureboot.authorities[i].subject);
        json_object_set_new(out, "secure_boot", ev.secure_boot < 0 ? json_null() : json_boolean(ev.secure_boot));
        json_object_set_new(out, "db_authority", db_subject[0] ? json_string(db_subject) : json_null());
        json_object_set_new(out, "attestation", shield_attest_outcome_json(&res));
        /* The flat members scripts read since the first release; "attestation" is the one rendering. */
        if (res.has_colour)
                json_object_set_new(out, "integrity", json_pack("{s:s, s:s, s:s}", "colour", shield_colour_name(res.colour),
                                                                "early_boot", shield_colour_name(res.early), "late_boot",
                                                                shield_colour_name(res.late)));
        json_object_set_new(out, "golden_recorded", json_boolean(res.golden_recorded));
        json_object_set_new(out, "quote_ok", json_boolean(chk_res->quote_ok));
        json_object_set_new(out, "ak_cert_ok", json_boolean(chk_res->ak_cert_ok));
        json_object_set_new(out, "eventlog_ok", json_boolean(chk_res->eventlog_ok));
        if (chk_res->ima_checked)
                json_object_set_new(out, "ima_ok", json_boolean(chk_res->ima_ok));
        json_object_set_new(out, "reasons", cli_reasons_json(&chk_res->reasons));
        if (!json) {
                printf("booted in %.1f s (boot program at %.1f s); SecureBoot=%d\n", boot.seconds, boot.firmware_seconds,
                       ev.secure_boot);
                printf("quote: %s; AK certificate: %s; event log replays to the quoted PCRs: %s%s%s\n",
                       chk_res->quote_ok ? "verified (AK signature, nonce, PCR digest)" : "FAILED",
                       chk_res->ak_cert_ok ? "issued by the platform CA" : res.ak_trust == SHIELD_AK_STORED ? "the AK on record"
                                                                                                 : "FAILED",
                       chk_res->eventlog_ok ? "yes" : "NO", chk_res->ima_checked ? "; IMA list replays to PCR 10: " : "",
                       chk_res->ima_checked ? (chk_res->ima_ok ? "yes" : "NO") : "");
                if (db_subject[0])
                        printf("db authority in PCR 7: %s\n", db_subject);
                cli_print_outcome(&res, inst.name);
                if (evidence_path)
                        printf("evidence: %s\n", evidence_path);
        }
        r = v == 0 ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        if (json)
                cli_print_json(out);
        else
                json_decref(out);
        if (have_ev)
                shield_evidence_free(&ev);
        shield_attest_outcome_clear(&res);
        shield_agent_free(agent);
        shield_frames_clear(&frames);
        shield_boot_result_clear(&boot);
        shield_instance_clear(&inst);
        if (scratch) {
                shield_remove_tree(scratch);
                free(scratch);
        }
        free(ca);
        free(nonce);
        free(state);
        return r;
}

static int verb_migrate(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },         { "server", required_argument, NULL, 'S' },
                { "cacert", required_argument, NULL, 'C' }, { "admin-token-file", required_argument, NULL, 'A' },
                { "json", no_argument, NULL, 'j' },         {},
        };
        const char *server = NULL, *cacert = NULL, *token_file = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_migrate, stdout); return EXIT_OK;
                case 'S': server = optarg; break;
                case 'C': cacert = optarg; break;
                case 'A': token_file = optarg; break;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_migrate, "migrate: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc - 1)
                return cli_usage_error(usage_migrate, "migrate: expected exactly one NAME");
        if (!server != !token_file)
                return cli_usage_error(usage_migrate, "migrate: --server and --admin-token-file go together");
        const char *name = argv[optind];
        char *state = cli_state_dir();
        struct shield_instance inst = { 0 };
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        if (!state)
                return EXIT_BAD_INPUT;
        quiet_progress = json;
        if (shield_instance_load(state, name, NULL, &inst, &diag) < 0) {
                cli_error("migrate: %s", diag.msg);
                goto out;
        }
        if (shield_instance_pid(&inst) > 0) {
                cli_error("migrate: %s is running: stop it first (shield vm stop %s)", name, name);
                goto out;
        }
        /* The service first: if it refuses, nothing local has changed yet. */
        if (server && cli_admin_post(server, cacert, token_file, name, "migrate") != EXIT_OK)
                goto out;
        if (shield_instance_migrate(state, &inst, progress, &diag) < 0) {
                cli_error("migrate %s: %s", name, diag.msg);
                goto out;
        }
        if (local_identity(name, "migrated", NULL) < 0) {
                cli_error("migrate %s: the local store could not record the migration", name);
                goto out;
        }
        if (json)
                cli_print_json(json_pack("{s:s, s:b, s:b}", "name", name, "migrated", 1, "server", server != NULL));
        else
                printf("instance %s migrated: a new vTPM (new EK and AK), its variable store rebuilt from image %s, "
                       "its disk kept; the next boot records a new golden measurement%s\n",
                       name, inst.image, server ? " (shieldd accepts its next registration as this migration)" : "");
        r = EXIT_OK;
out:
        shield_instance_clear(&inst);
        free(state);
        return r;
}

static const char usage_set[] =
        "Usage: shield vm set NAME [--boot-order LIST] [--nic on|off] [--nic-rom FILE]\n"
        "                     [--[no-]shielded-secure-boot] [--[no-]shielded-vtpm]\n"
        "                     [--[no-]shielded-integrity-monitoring] [--json]\n"
        "\n"
        "Change a stopped instance, as an operator would: its boot order (the\n"
        "entries as `shield vm show NAME` lists them, e.g. 0001,0002,0000 or\n"
        "Boot0001,Boot0000 — written to the instance's BootOrder variable; the\n"
        "firmware measures it into PCR 1, so the next boot's colour says so), its\n"
        "NIC and the shielded-VM switches.\n"
        "\n"
        "Options:\n"
        "  --boot-order LIST  the Boot#### entries in the order to try them\n"
        "%s"
        "  --json             the instance's settings and boot entries afterwards\n"
        "\n"
        "Exit status: 0 changed, 2 bad input, an unknown entry, or the instance runs.\n";

static const char usage_show[] =
        "Usage: shield vm show NAME [--json]\n"
        "\n"
        "An instance: its image, its shielded-VM settings (Secure Boot, vTPM,\n"
        "integrity monitoring, NIC and option ROM), whether it runs, and the boot\n"
        "entries in its variable store (Boot#### with description and device\n"
        "path) in BootOrder order, as `shield vm set --boot-order` takes them.\n"
        "The firmware makes the entries on the first boot.\n"
        "\n"
        "Exit status: 0 shown, 2 no such instance.\n";

static json_t *instance_json(const struct shield_instance *inst) {
        struct shield_boot_entries e = { 0 };
        struct shield_diag diag = { 0 };
        json_t *entries = json_array(), *order = json_array();
        if (shield_instance_boot_entries(inst, &e, &diag) == 0) {
                for (size_t i = 0; i < e.n; i++) {
                        char num[9];
                        snprintf(num, sizeof num, "Boot%04X", e.items[i].number);
                        json_array_append_new(entries, json_pack("{s:s, s:s, s:s, s:b}", "entry", num, "description",
                                                                 e.items[i].description ? e.items[i].description : "",
                                                                 "device_path",
                                                                 e.items[i].device_path ? e.items[i].device_path : "",
                                                                 "active", (e.items[i].attributes & 1) != 0));
                }
                for (size_t i = 0; i < e.n_order; i++) {
                        char num[9];
                        snprintf(num, sizeof num, "Boot%04X", e.order[i]);
                        json_array_append_new(order, json_string(num));
                }
        }
        shield_boot_entries_clear(&e);
        const struct shield_instance_settings *st = &inst->settings;
        return json_pack("{s:s, s:s, s:s, s:b, s:{s:b, s:b, s:b}, s:{s:b, s:s?}, s:o, s:o}", "name", inst->name, "image",
                         inst->image, "created", inst->created, "running", shield_instance_pid(inst) > 0, "shielded",
                         "secure_boot", st->secure_boot, "vtpm", st->vtpm, "integrity_monitoring",
                         st->integrity_monitoring, "nic", "enabled", st->nic, "rom", st->nic_rom, "boot_entries", entries,
                         "boot_order", order);
}

static void print_instance(const struct shield_instance *inst) {
        struct shield_boot_entries e = { 0 };
        struct shield_diag diag = { 0 };
        printf("%s (image %s, created %s)%s\n", inst->name, inst->image, inst->created,
               shield_instance_pid(inst) > 0 ? ", running" : "");
        print_settings(&inst->settings);
        if (shield_instance_boot_entries(inst, &e, &diag) < 0 || e.n == 0) {
                printf("  boot entries: none yet (the firmware makes them on the first boot)\n");
        } else {
                printf("  BootOrder:");
                for (size_t i = 0; i < e.n_order; i++)
                        printf("%s%04X", i ? "," : " ", e.order[i]);
                printf("\n");
                for (size_t i = 0; i < e.n; i++)
                        printf("  Boot%04X \"%s\"  %s\n", e.items[i].number, e.items[i].description ? e.items[i].description : "",
                               e.items[i].device_path ? e.items[i].device_path : "");
        }
        shield_boot_entries_clear(&e);
}

/* "0001,Boot0000,2" → numbers. */
static int parse_boot_order(const char *text, uint16_t *ret, size_t *ret_n) {
        size_t n = 0;
        for (const char *p = text;;) {
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                char tok[16];
                uint64_t v;
                if (len >= sizeof tok || n == SHIELD_BOOT_ENTRIES_MAX)
                        return -1;
                memcpy(tok, p, len);
                tok[len] = '\0';
                const char *hex = strncasecmp(tok, "Boot", 4) == 0 ? tok + 4 : tok;
                if (!*hex || strlen(hex) > 4 || shield_parse_u64(hex, 16, 0xffff, &v) < 0)
                        return -1;
                ret[n++] = (uint16_t)v;
                if (!end)
                        break;
                p = end + 1;
        }
        *ret_n = n;
        return 0;
}

static int verb_set(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' },
                { "boot-order", required_argument, NULL, O_BOOT_ORDER }, SETTINGS_OPTIONS, {},
        };
        struct shield_instance inst = { 0 };
        struct shield_instance_settings next;
        struct shield_diag diag = { 0 };
        const char *order_text = NULL;
        bool json = false, changed = false;
        int c, so, r = EXIT_BAD_INPUT;
        char *state = NULL;

        shield_instance_settings_default(&next);
        optind = 0;
        opterr = 0;
        /* Options are applied on the instance's own settings: read them first. */
        for (int i = 1; i < argc; i++)
                if (argv[i][0] != '-') {
                        state = cli_state_dir();
                        if (state && shield_instance_load(state, argv[i], NULL, &inst, &diag) == 0) {
                                next = inst.settings;
                                next.nic_rom = inst.settings.nic_rom ? strdup(inst.settings.nic_rom) : NULL;
                        }
                        break;
                }
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': goto out; /* said by cli_getopt; r is EXIT_BAD_INPUT */
                case 'h': printf(usage_set, settings_help); r = EXIT_OK; goto out;
                case 'j': json = true; break;
                case O_BOOT_ORDER: order_text = optarg; break;
                default:
                        if ((so = settings_option(c, optarg, &next)) < 0)
                                goto out;
                        if (so > 0) {
                                changed = true;
                                break;
                        }
                        r = cli_usage_error(usage_set, "set: unknown option '%s'", argv[optind - 1]);
                        goto out;
                }
        if (optind != argc - 1) {
                r = cli_usage_error(usage_set, "set: expected exactly one NAME");
                goto out;
        }
        if (!order_text && !changed) {
                r = cli_usage_error(usage_set, "set: nothing to change (give --boot-order or a setting)");
                goto out;
        }
        if (!inst.dir) {
                cli_error("set: %s", diag.msg[0] ? diag.msg : "no such instance");
                goto out;
        }
        if (shield_instance_pid(&inst) > 0) {
                cli_error("set: %s is running: stop it first (shield vm stop %s)", inst.name, inst.name);
                goto out;
        }
        if (order_text) {
                uint16_t order[SHIELD_BOOT_ENTRIES_MAX];
                size_t n = 0;
                if (parse_boot_order(order_text, order, &n) < 0) {
                        r = cli_usage_error(usage_set, "set: --boot-order %s: entries such as 0001,0000 (hex) or "
                                            "Boot0001,Boot0000", order_text);
                        goto out;
                }
                if (shield_instance_set_boot_order(&inst, order, n, &diag) < 0) {
                        cli_error("set: %s", diag.msg);
                        goto out;
                }
        }
        if (changed && shield_instance_apply_settings(state, &inst, &next, &diag) < 0) {
                cli_error("set: %s", diag.msg);
                goto out;
        }
        if (json)
                cli_print_json(instance_json(&inst));
        else
                print_instance(&inst);
        r = EXIT_OK;
out:
        shield_instance_settings_clear(&next);
        shield_instance_clear(&inst);
        free(state);
        return r;
}

static int verb_show(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }, {},
        };
        bool json = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_show, stdout); return EXIT_OK;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_show, "show: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc - 1)
                return cli_usage_error(usage_show, "show: expected exactly one NAME");
        char *state = cli_state_dir();
        struct shield_instance inst = { 0 };
        struct shield_diag diag = { 0 };
        int r = EXIT_BAD_INPUT;
        if (state && shield_instance_load(state, argv[optind], NULL, &inst, &diag) == 0) {
                if (json)
                        cli_print_json(instance_json(&inst));
                else
                        print_instance(&inst);
                r = EXIT_OK;
        } else {
                cli_error("show: %s", diag.msg[0] ? diag.msg : "no state directory");
        }
        shield_instance_clear(&inst);
        free(state);
        return r;
}

static int verb_simple(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' },
                { "memory", required_argument, NULL, 'm' }, {},
        };
        const char *verb = argv[0];
        bool json = false;
        uint64_t memory = 512;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case '?': return EXIT_BAD_INPUT; /* said by cli_getopt */
                case 'h': fputs(usage_simple, stdout); return EXIT_OK;
                case 'j': json = true; break;
                case 'm':
                        if (shield_parse_u64(optarg, 10, 65536, &memory) < 0 || memory < 64)
                                return cli_usage_error(usage_simple, "%s: --memory %s: 64 to 65536 MiB", verb, optarg);
                        break;
                default: return cli_usage_error(usage_simple, "%s: unknown option '%s'", verb, argv[optind - 1]);
                }
        bool is_list = strcmp(verb, "list") == 0;
        if (is_list ? optind != argc : optind != argc - 1)
                return cli_usage_error(usage_simple, is_list ? "list: takes no arguments" : "%s: expected one NAME", verb);

        char *state = cli_state_dir();
        struct shield_diag diag = { 0 };
        struct shield_instance inst = { 0 };
        int r = EXIT_BAD_INPUT;
        if (!state)
                return EXIT_BAD_INPUT;
        if (is_list) {
                char **names = NULL;
                size_t n = 0;
                json_t *arr = json_array();
                if (shield_instance_names(state, &names, &n) == 0) {
                        if (!json && n)
                                printf("%-24s %-24s %s\n", "NAME", "IMAGE", "STATUS");
                        for (size_t i = 0; i < n; i++) {
                                if (shield_instance_load(state, names[i], NULL, &inst, NULL) == 0) {
                                        int pid = shield_instance_pid(&inst);
                                        if (json)
                                                json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "name", inst.name,
                                                                                     "image", inst.image, "running",
                                                                                     pid > 0));
                                        else
                                                printf("%-24s %-24s %s\n", inst.name, inst.image,
                                                       pid > 0 ? "running" : "stopped");
                                        shield_instance_clear(&inst);
                                }
                                free(names[i]);
                        }
                        free(names);
                        r = EXIT_OK;
                }
                if (json)
                        cli_print_json(arr);
                else
                        json_decref(arr);
                free(state);
                return r;
        }
        if (shield_instance_load(state, argv[optind], NULL, &inst, &diag) < 0) {
                cli_error("%s", diag.msg);
                free(state);
                return EXIT_BAD_INPUT;
        }
        if (strcmp(verb, "start") == 0) {
                if (shield_instance_start(&inst, (unsigned)memory, &diag) < 0)
                        cli_error("start %s: %s", inst.name, diag.msg);
                else {
                        printf("instance %s started (console: shield vm console %s)\n", inst.name, inst.name);
                        r = EXIT_OK;
                }
        } else if (strcmp(verb, "stop") == 0) {
                if (shield_instance_stop(&inst, &diag) < 0)
                        cli_error("stop %s: %s", inst.name, diag.msg);
                else {
                        printf("instance %s stopped\n", inst.name);
                        r = EXIT_OK;
                }
        } else if (strcmp(verb, "delete") == 0) {
                if (shield_instance_pid(&inst) > 0 && shield_instance_stop(&inst, &diag) < 0)
                        cli_error("delete %s: %s", inst.name, diag.msg);
                else if (shield_remove_tree(inst.dir) < 0)
                        cli_error("delete %s: %s", inst.dir, strerror(errno));
                else {
                        printf("instance %s deleted\n", inst.name);
                        r = EXIT_OK;
                }
        } else { /* console: the log without the firmware's escape sequences */
                uint8_t *text = NULL;
                size_t len;
                if (shield_read_file(inst.serial, 512u << 20, &text, &len) < 0) {
                        cli_error("%s: no console yet (the instance never booted)", inst.name);
                } else {
                        for (size_t i = 0; i < len; i++) {
                                if (text[i] == 0x1b && i + 1 < len && text[i + 1] == '[') {
                                        for (i += 2; i < len && !((text[i] >= 'A' && text[i] <= 'Z') ||
                                                                  (text[i] >= 'a' && text[i] <= 'z'));
                                             i++)
                                                ;
                                        continue;
                                }
                                if (text[i] != '\r')
                                        putchar(text[i]);
                        }
                        free(text);
                        r = EXIT_OK;
                }
        }
        shield_instance_clear(&inst);
        free(state);
        return r;
}

int cmd_vm(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "create", "make an instance", verb_create }, { "start", "start it", verb_simple },
                { "stop", "stop it", verb_simple },           { "delete", "delete it", verb_simple },
                { "console", "its console", verb_simple },    { "list", "list instances", verb_simple },
                { "run", "one boot", verb_run },              { "migrate", "move it to new hardware", verb_migrate },
                { "set", "change it", verb_set },             { "show", "show it", verb_show },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
