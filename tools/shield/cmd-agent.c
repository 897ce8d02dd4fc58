/* SPDX-License-Identifier: Apache-2.0 */
/* shield agent: register with shieldd and attest to it, once or periodically (docs/API.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "shield/agent.h"
#include "shield/util.h"

static const char usage_agent[] =
        "Usage: shield agent --server URL [--name NAME] [--interval 60s] [--once] [--tcti T]\n"
        "                    [--cacert FILE | --insecure] [--eventlog FILE] [--ima FILE]\n"
        "                    [--pcrs LIST] [--state DIR] [--ak-handle H] [--ak-alg rsa|ecc]\n"
        "                    [--json]\n"
        "\n"
        "The machine side of remote attestation with shieldd. Registers this machine\n"
        "once (its AK at 0x81010002, EK public area, EK and AK certificates from NV),\n"
        "answering the service's credential activation with the TPM, and remembers\n"
        "that in the state directory. On a machine whose TPM holds no AK yet (only\n"
        "its EK, persistent or derived from the TCG default template, and the\n"
        "manufacturer's EK certificate in NV 0x01c00002) the first run creates an\n"
        "AK under the EK and persists it; later runs reuse it.\n"
        "Then attests: asks the service for a nonce, collects evidence over it\n"
        "(quote, PCRs, event log, IMA list) and sends it; prints the verdict\n"
        "(colour, early and late boot, reasons) and the token.\n"
        "Every call is made by the agent (push model): it works behind NAT.\n"
        "\n"
        "Without --once it attests at start and then every --interval; a failure is\n"
        "retried after 2 s, doubling up to 5 minutes, each wait jittered by +-20 %.\n"
        "SIGTERM or SIGINT stops it (exit 0).\n"
        "\n"
        "Options:\n"
        "  --server URL     the service, e.g. https://attest.example:8443\n"
        "  --name NAME      the instance name (default: the host name)\n"
        "  --interval DUR   time between attestations: 60s, 5m, 1h, 500ms (default 60s)\n"
        "  --once           attest once and exit\n"
        "  --tcti T         the TPM (default $SHIELD_TCTI, $TPM2TOOLS_TCTI, else\n"
        "                   device:/dev/tpmrm0)\n"
        "  --cacert FILE    trust this CA (PEM) for the service's TLS certificate\n"
        "  --insecure       do not verify the service's TLS certificate (tests only)\n"
        "  --eventlog FILE  default /sys/kernel/security/tpm0/binary_bios_measurements\n"
        "  --ima FILE       default /sys/kernel/security/ima/binary_runtime_measurements\n"
        "  --pcrs LIST      quote only these PCRs, e.g. 0-15 (default 0-23)\n"
        "  --state DIR      where the registration is remembered (default\n"
        "                   $XDG_STATE_HOME/shieldkit/agent, else\n"
        "                   ~/.local/state/shieldkit/agent)\n"
        "  --ak-handle H    the AK's persistent handle (default 0x81010002)\n"
        "  --ak-alg ALG     the kind of AK to create when there is none: rsa\n"
        "                   (RSA-2048, the default) or ecc (NIST P-256)\n"
        "  --json           print the service's answers as JSON (one line each in a loop)\n"
        "  -h, --help       this text\n"
        "\n"
        "Exit status: --once: 0 verified (green or yellow), 1 not verified (red, or the\n"
        "service refused the evidence), 2 errors (bad usage, no service, no TPM).\n"
        "Loop: 0 when stopped by a signal, 2 on bad usage.\n";

#define BACKOFF_BASE_MS 2000u
#define BACKOFF_CAP_MS (5u * 60 * 1000)

static bool json_out;

/* The library made an AK: say so once, on stderr (stdout stays the verdict; --json keeps stderr quiet). */
static void ak_created(uint32_t handle, const char *type, void *userdata) {
        (void)userdata;
        if (!json_out)
                fprintf(stderr, "shield: agent: created an AK (%s) under the EK, persisted at 0x%08x\n", type,
                        (unsigned)handle);
}
static sigset_t stop_signals;

/* Polled by libcurl during transfers: a pending SIGTERM/SIGINT (blocked in loop mode) cancels. */
static bool stop_pending(void *userdata) {
        (void)userdata;
        sigset_t pending;
        if (sigpending(&pending) < 0)
                return false;
        return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

static uint32_t random_u32(void) {
        uint32_t v = 0;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
                v = (uint32_t)time(NULL) * 2654435761u ^ (uint32_t)getpid();
        return v;
}

static const char *paint(const char *colour) {
        static int tty = -1;
        if (tty < 0)
                tty = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        if (!tty)
                return "";
        if (strcmp(colour, "green") == 0)
                return "\033[32m";
        if (strcmp(colour, "yellow") == 0)
                return "\033[33m";
        if (strcmp(colour, "red") == 0)
                return "\033[31m";
        return "";
}

static void print_verdict(const char *name, const struct shield_agent_verdict *v, bool once) {
        if (json_out) {
                /* The service's answer, with what the agent did with it: the sealed credential it keeps. */
                json_t *j = json_loads(v->json, 0, NULL);
                if (j) {
                        json_object_del(j, "credential"); /* its sealed bytes are in the state directory */
                        json_object_set_new(j, "credential_kept",
                                            v->credential_serial[0] ? json_string(v->credential_serial) : json_null());
                        json_object_set_new(j, "credential_new", json_boolean(v->credential_new));
                        if (v->credential_refused[0])
                                json_object_set_new(j, "credential_note", json_string(v->credential_refused));
                }
                /* --once: indented; a loop: one line per attestation (JSON Lines for a log shipper). */
                char *text = j ? json_dumps(j, (once ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER) : NULL;
                puts(text ? text : v->json);
                free(text);
                json_decref(j);
                fflush(stdout);
                return;
        }
        const char *c = v->colour[0] ? v->colour : "unknown";
        const char *end = paint(c)[0] ? "\033[0m" : "";
        printf("%s: %s, %s%s%s (early boot %s, late boot %s)%s%s\n", name, v->verified ? "verified" : "NOT verified",
               paint(c), c, end, v->early_boot[0] ? v->early_boot : "-", v->late_boot[0] ? v->late_boot : "-",
               v->golden_recorded ? ", golden measurement recorded" : "", v->rebooted ? ", rebooted" : "");
        if (v->credential_serial[0])
                printf("  credential %s %s\n", v->credential_serial, v->credential_new ? "issued and kept" : "kept");
        if (v->credential_refused[0])
                printf("  credential: %s\n", v->credential_refused);
        for (size_t i = 0; i < v->n_reasons; i++) {
                const struct shield_agent_reason *r = &v->reasons[i];
                printf("  %-7s [%s]", r->severity[0] ? r->severity : "-", r->code);
                if (r->bank[0] || r->pcr >= 0) {
                        printf(" (%s%s", r->bank, r->bank[0] && r->pcr >= 0 ? " " : "");
                        if (r->pcr >= 0)
                                printf("PCR %d", r->pcr);
                        putchar(')');
                }
                printf(" %s\n", r->message);
        }
        if (v->token)
                printf("token: %s\n", v->token);
        fflush(stdout);
}

/* One attestation; EXIT_OK verified, EXIT_VERIFY_FAILED not, EXIT_BAD_INPUT error (printed). */
static int attest_once(struct shield_agent *a, const char *name, bool once, bool *ret_error) {
        struct shield_agent_verdict v = { 0 };
        struct shield_agent_error err = { 0 };
        int r = shield_agent_attest(a, &v, &err);
        if (r < 0) {
                *ret_error = true;
                if (err.kind == SHIELD_AGENT_FAIL_CANCELLED)
                        return EXIT_BAD_INPUT;
                cli_error("agent: %s", err.msg[0] ? err.msg : shield_strerror(r));
                /* The service refused us (nonce, trust, activation): a verification failure, not an outage. */
                return err.kind == SHIELD_AGENT_FAIL_HTTP && (err.http_status == 401 || err.http_status == 403)
                               ? EXIT_VERIFY_FAILED
                               : EXIT_BAD_INPUT;
        }
        *ret_error = false;
        print_verdict(name, &v, once);
        r = v.verified ? EXIT_OK : EXIT_VERIFY_FAILED;
        shield_agent_verdict_clear(&v);
        return r;
}

/* Wait ms with the stop signals blocked; true when one arrived. */
static bool wait_or_stop(uint64_t ms) {
        struct timespec end, now;
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += (time_t)(ms / 1000);
        end.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (end.tv_nsec >= 1000000000L) {
                end.tv_sec++;
                end.tv_nsec -= 1000000000L;
        }
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                struct timespec left = { end.tv_sec - now.tv_sec, end.tv_nsec - now.tv_nsec };
                if (left.tv_nsec < 0) {
                        left.tv_sec--;
                        left.tv_nsec += 1000000000L;
                }
                if (left.tv_sec < 0)
                        return false;
                int s = sigtimedwait(&stop_signals, NULL, &left);
                if (s == SIGTERM || s == SIGINT)
                        return true;
                if (s < 0 && errno == EAGAIN)
                        return false;
        }
}

static int run_loop(struct shield_agent *a, const char *name, uint64_t interval_ms) {
        unsigned failures = 0;
        uint64_t base = interval_ms < BACKOFF_BASE_MS ? interval_ms : BACKOFF_BASE_MS;
        for (;;) {
                bool error = false;
                (void)attest_once(a, name, false, &error);
                if (stop_pending(NULL))
                        break;
                uint64_t ms = interval_ms;
                if (error) {
                        if (failures < 64)
                                failures++;
                        ms = shield_agent_backoff_ms(failures, base, BACKOFF_CAP_MS, random_u32());
                        fprintf(stderr, "shield: agent: retrying in %.1f s (failure %u)\n", (double)ms / 1000.0,
                                failures);
                } else
                        failures = 0;
                if (wait_or_stop(ms))
                        break;
        }
        fprintf(stderr, "shield: agent: stopped\n");
        return EXIT_OK;
}

int cmd_agent(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },          { "server", required_argument, NULL, 's' },
                { "name", required_argument, NULL, 'n' },    { "interval", required_argument, NULL, 'I' },
                { "once", no_argument, NULL, '1' },          { "tcti", required_argument, NULL, 't' },
                { "cacert", required_argument, NULL, 'c' },  { "insecure", no_argument, NULL, 'k' },
                { "eventlog", required_argument, NULL, 'e' }, { "ima", required_argument, NULL, 'i' },
                { "ima-log", required_argument, NULL, 'i' }, { "pcrs", required_argument, NULL, 'p' },
                { "state", required_argument, NULL, 'S' },   { "json", no_argument, NULL, 'j' },
                { "ak-handle", required_argument, NULL, 'a' }, { "ak-alg", required_argument, NULL, 'A' },
                {},
        };
        struct shield_agent_options o = { .producer = "shield agent " SHIELD_VERSION, .ak_created = ak_created };
        uint64_t interval_ms = 60000, pcr_mask = 0xffffff, ak_handle = 0;
        bool once = false;
        char host[256], *state_dir = NULL;
        int c;

        json_out = false;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_agent, stdout); return EXIT_OK;
                case 's': o.server = optarg; break;
                case 'n': o.name = optarg; break;
                case 'I':
                        if (shield_agent_parse_duration(optarg, &interval_ms) < 0)
                                return cli_usage_error(usage_agent,
                                                       "agent: --interval %s: a duration such as 60s, 5m, 1h or "
                                                       "500ms (at most 7 days)",
                                                       optarg);
                        break;
                case '1': once = true; break;
                case 't': o.tcti = optarg; break;
                case 'c': o.cacert = optarg; break;
                case 'k': o.insecure = true; break;
                case 'e': o.eventlog = optarg; break;
                case 'i': o.ima_log = optarg; break;
                case 'p':
                        if (shield_parse_index_list(optarg, 23, &pcr_mask) < 0 || pcr_mask == 0)
                                return cli_usage_error(usage_agent, "agent: --pcrs %s: a list such as 0-15 or "
                                                       "0,2,4-7 (PCRs 0 to 23)", optarg);
                        break;
                case 'S': o.state_dir = optarg; break;
                case 'j': json_out = true; break;
                case 'a':
                        if (shield_parse_u64(optarg, 0, UINT32_MAX, &ak_handle) < 0 || (ak_handle >> 24) != 0x81)
                                return cli_usage_error(usage_agent, "agent: --ak-handle %s: a persistent handle "
                                                       "(0x81000000 to 0x81ffffff)", optarg);
                        o.ak_handle = (uint32_t)ak_handle;
                        break;
                case 'A':
                        if (strcmp(optarg, "rsa") == 0)
                                o.ak_alg = SHIELD_TPM_AK_RSA;
                        else if (strcmp(optarg, "ecc") == 0)
                                o.ak_alg = SHIELD_TPM_AK_ECC;
                        else
                                return cli_usage_error(usage_agent, "agent: --ak-alg %s: rsa or ecc", optarg);
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (optind != argc)
                return cli_usage_error(usage_agent, "agent: unexpected argument '%s'", argv[optind]);
        if (!o.server)
                return cli_usage_error(usage_agent, "agent: --server URL is required");
        if (o.cacert && o.insecure)
                return cli_usage_error(usage_agent, "agent: --cacert and --insecure exclude each other");
        if (o.cacert && access(o.cacert, R_OK) < 0) {
                cli_error("agent: --cacert %s: %s", o.cacert, strerror(errno));
                return EXIT_BAD_INPUT;
        }
        if (!o.name) {
                if (gethostname(host, sizeof host) < 0 || !host[0]) {
                        cli_error("agent: no host name to register under; give --name NAME");
                        return EXIT_BAD_INPUT;
                }
                host[sizeof host - 1] = '\0';
                o.name = host;
        }
        if (!o.state_dir) {
                if (shield_agent_default_state_dir(&state_dir) < 0) {
                        cli_error("agent: neither $XDG_STATE_HOME nor $HOME is set: give --state DIR");
                        return EXIT_BAD_INPUT;
                }
                o.state_dir = state_dir;
        }
        o.pcr_mask = (uint32_t)pcr_mask;
        /* tss2 would log to stderr on its own; our errors say it with context. */
        setenv("TSS2_LOG", "all+NONE", 0);

        struct shield_agent *a = NULL;
        struct shield_agent_error err = { 0 };
        int r;
        if (!once) {
                /* Blocked: delivered only where we wait for them, and seen by libcurl as pending. */
                sigemptyset(&stop_signals);
                sigaddset(&stop_signals, SIGTERM);
                sigaddset(&stop_signals, SIGINT);
                sigprocmask(SIG_BLOCK, &stop_signals, NULL);
                o.cancelled = stop_pending;
        }
        if (shield_agent_new(&o, &a, &err) < 0) {
                cli_error("agent: %s", err.msg);
                r = EXIT_BAD_INPUT;
        } else if (once) {
                bool error = false;
                r = attest_once(a, o.name, true, &error);
        } else
                r = run_loop(a, o.name, interval_ms);
        shield_agent_free(a);
        free(state_dir);
        return r;
}
