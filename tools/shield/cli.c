/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shield/agent.h"
#include "shield/attest.h"
#include "shield/render.h"
#include "shield/crypto.h"
#include "shield/util.h"

void cli_error(const char *fmt, ...) {
        va_list ap;

        fputs("shield: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...) {
        va_list ap;

        fputs("shield: warning: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int cli_parse_failed(const char *path, int r, const struct shield_diag *diag) {
        char where[SHIELD_DIAG_MSG_MAX + 96];

        shield_diag_format(diag, where, sizeof where);
        cli_error("%s: %s: %s", path, shield_strerror(r), where);
        return EXIT_BAD_INPUT;
}

int cli_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len) {
        int r = shield_read_file(path, max, ret_buf, ret_len);

        if (r == SHIELD_E_SYSTEM)
                cli_error("%s: %s", path, strerror(errno));
        else if (r == SHIELD_E_LIMIT)
                cli_error("%s: larger than the %zu-byte limit", path, max);
        else if (r < 0)
                cli_error("%s: %s", path, shield_strerror(r));
        return r < 0 ? EXIT_BAD_INPUT : 0;
}

void cli_print_json(json_t *j) {
        if (!j) {
                cli_error("out of memory");
                return;
        }
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
}

json_t *cli_reasons_json(const struct shield_reasons *list) {
        json_t *a = shield_reasons_json(list);
        return a ? a : json_array();
}

void cli_print_reasons(FILE *f, const struct shield_reasons *list) {
        for (size_t i = 0; i < list->n; i++) {
                const struct shield_reason *r = &list->items[i];
                fprintf(f, "%-7s [%s] %s\n", shield_severity_name(r->severity), r->code, r->message);
        }
}

static const struct cli_verb *find_verb(const struct cli_verb *verbs, size_t n_verbs, const char *name) {
        for (size_t i = 0; i < n_verbs; i++)
                if (strcmp(name, verbs[i].name) == 0)
                        return &verbs[i];
        return NULL;
}

/* The command being run ("shield image create"), built by cli_dispatch() as it goes down. */
static char command[128] = "shield";

const char *cli_command(void) {
        return command;
}

int cli_usage_error(const char *usage, const char *fmt, ...) {
        va_list ap;

        /* One line saying what is wrong, and where the whole usage is: the synopsis drowned the message. */
        (void)usage;
        fputs("shield: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry '%s --help'.\n", command);
        return EXIT_BAD_INPUT;
}

/* The long option the user typed (argv[optind - 1], maybe abbreviated, maybe "=value"), by its full name. */
static const char *long_name(const char *typed, const struct option *longopts) {
        size_t n = strcspn(typed + 2, "=");
        for (size_t i = 0; longopts && longopts[i].name; i++)
                if (strncmp(longopts[i].name, typed + 2, n) == 0)
                        return longopts[i].name;
        return NULL;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts) {
        /* A leading ':' makes getopt tell a missing value (':') from an unknown option ('?'). */
        char opts[64];
        int n = snprintf(opts, sizeof opts, ":%s", shortopts);
        if (n < 0 || (size_t)n >= sizeof opts)
                return cli_usage_error(NULL, "internal error: option string too long"), '?';
        opterr = 0;
        int c = getopt_long(argc, argv, opts, longopts, NULL);
        if (c != ':' && c != '?')
                return c;
        const char *typed = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        bool is_long = strncmp(typed, "--", 2) == 0;
        const char *name = is_long ? long_name(typed, longopts) : NULL;
        if (c == ':') {
                if (name)
                        cli_usage_error(NULL, "%s: --%s needs a value", argv[0], name);
                else
                        cli_usage_error(NULL, "%s: -%c needs a value", argv[0], optopt);
        } else if (name && strchr(typed, '=')) {
                cli_usage_error(NULL, "%s: --%s takes no value", argv[0], name);
        } else if (!is_long && optopt) {
                cli_usage_error(NULL, "%s: unknown option '-%c'", argv[0], optopt);
        } else {
                cli_usage_error(NULL, "%s: unknown option '%.*s'", argv[0], (int)strcspn(typed, "="), typed);
        }
        return '?';
}

int cli_dispatch(int argc, char **argv, const char *usage, const struct cli_verb *verbs, size_t n_verbs) {
        /* The top level names no family in its messages: "shield: unknown command …". */
        bool top = strcmp(argv[0], "shield") == 0;
        if (top)
                snprintf(command, sizeof command, "shield");
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
                fputs(usage, stdout);
                return EXIT_OK;
        }
        const struct cli_verb *v = argc >= 2 ? find_verb(verbs, n_verbs, argv[1]) : NULL;
        if (!v) {
                /* The commands there are, on the one line: what to type instead. */
                char names[512] = "";
                size_t used = 0;
                for (size_t i = 0; i < n_verbs && used < sizeof names; i++) {
                        int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", verbs[i].name);
                        used += w > 0 ? (size_t)w : 0;
                }
                const char *family = top ? "" : argv[0], *sep = top ? "" : ": ";
                if (argc < 2)
                        return cli_usage_error(usage, "%s%sa command is required (%s)", family, sep, names);
                if (argv[1][0] == '-')
                        return cli_usage_error(usage, "%s%sunknown option '%s': a command comes first (%s)", family, sep,
                                               argv[1], names);
                return cli_usage_error(usage, "%s%sunknown command \"%s\" (%s)", family, sep, argv[1], names);
        }
        size_t len = strlen(command);
        snprintf(command + len, sizeof command - len, " %s", v->name);
        return v->run(argc - 1, argv + 1);
}

int cli_parse_file_json(int argc, char **argv, const char *usage, const char **ret_path, bool *ret_json) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }, {},
        };
        int c;

        *ret_json = false;
        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        return EXIT_OK;
                }
                if (c != 'j')
                        return EXIT_BAD_INPUT; /* said by cli_getopt */
                *ret_json = true;
        }
        if (optind != argc - 1)
                return cli_usage_error(usage, "%s: expected exactly one FILE", argv[0]);
        *ret_path = argv[optind];
        return -1;
}

void cli_print_outcome(const struct shield_attest_outcome *o, const char *instance) {
        const struct shield_quote_info *q = &o->check.quote;
        if (o->golden_recorded)
                printf("integrity: first boot of %s, recorded as its golden measurement (policy %s)\n", instance,
                       o->integrity.name);
        else if (o->has_colour)
                printf("integrity: %s (early boot %s, late boot %s) under policy %s\n", shield_colour_name(o->colour),
                       shield_colour_name(o->early), shield_colour_name(o->late), o->integrity.name);
        if (o->golden_note[0])
                printf("%s\n", o->golden_note);
        switch (o->clock) {
        case SHIELD_CLOCK_REBOOTED:
                printf("rebooted since the last attestation (resetCount %u → %u)\n", o->prev_reset_count, q->reset_count);
                break;
        case SHIELD_CLOCK_WENT_BACK:
                printf("the TPM clock went back (resetCount %u → %u): a cleared TPM, or not the same TPM\n",
                       o->prev_reset_count, q->reset_count);
                break;
        case SHIELD_CLOCK_RESUMED:
                printf("resumed or restarted since the last attestation (restartCount %u → %u)\n", o->prev_restart_count,
                       q->restart_count);
                break;
        case SHIELD_CLOCK_SAME_BOOT: printf("no reboot since the last attestation\n"); break;
        default: break;
        }
        /* Every reason, info too: what the policy ignores is still news ("note"). */
        for (size_t i = 0; i < o->check.reasons.n; i++) {
                const struct shield_reason *x = &o->check.reasons.items[i];
                printf("  %-7s [%s] %s\n", x->severity == SHIELD_SEV_INFO ? "note" : shield_severity_name(x->severity),
                       x->code, x->message);
        }
        if (instance && o->refusal != SHIELD_REFUSED_NONE)
                printf("nothing recorded for %s: %s\n", instance, shield_attest_refusal_code(o->refusal));
}

int cli_integrity_policy(const char *arg, struct shield_integrity_policy *ret) {
        struct shield_diag diag = { 0 };
        char spec[64];
        if (access(arg, F_OK) == 0) {
                /* A file: the owner's policy (shieldkit-policy/1), whose "integrity" names the PCRs that count. */
                uint8_t *text = NULL;
                size_t len = 0;
                struct shield_attest_policy owner = { 0 };
                if (cli_read_file(arg, 1u << 20, &text, &len) != 0)
                        return EXIT_BAD_INPUT;
                int r = shield_attest_policy_parse((const char *)text, len, &owner, &diag);
                free(text);
                if (r < 0)
                        return cli_parse_failed(arg, r, &diag);
                snprintf(spec, sizeof spec, "%s", owner.integrity[0] ? owner.integrity : "gce");
        } else {
                snprintf(spec, sizeof spec, "%s", arg);
        }
        if (shield_integrity_policy_parse(spec, ret, &diag) < 0) {
                cli_error("--integrity-policy %s: %s (gce, oci, strict, a PCR list such as 0,2,4-7, or a policy file)",
                          arg, diag.msg);
                return EXIT_BAD_INPUT;
        }
        return EXIT_OK;
}

int cli_service_call(const char *server, const char *cacert, const char *token_file, const char *method,
                     const char *path, const char *body, char **ret_json) {
        struct shield_operator *o = NULL;
        struct shield_agent_error err = { 0 };
        char *answer = NULL;
        int r = shield_operator_new(server, cacert, token_file, &o, &err);
        if (r == 0)
                r = shield_operator_call(o, method, path, body, NULL, &answer, &err);
        shield_operator_free(o);
        if (r < 0) {
                cli_error("%s", err.msg);
                return err.kind == SHIELD_AGENT_FAIL_HTTP && (err.http_status == 401 || err.http_status == 403)
                               ? EXIT_VERIFY_FAILED
                               : EXIT_BAD_INPUT;
        }
        if (ret_json)
                *ret_json = answer;
        else
                free(answer);
        return EXIT_OK;
}

int cli_admin_call(const char *server, const char *cacert, const char *token_file, const char *method,
                   const char *instance, const char *verb, const char *body, char **ret_json) {
        struct shield_operator *o = NULL;
        struct shield_agent_error err = { 0 };
        char *esc = NULL, *path = NULL;
        /* Only for the escaping of the name. */
        if (shield_operator_new(server, cacert, NULL, &o, &err) < 0) {
                cli_error("%s", err.msg);
                return EXIT_BAD_INPUT;
        }
        if (!(esc = shield_operator_escape(o, instance)) ||
            asprintf(&path, "/v1/instances/%s%s%s", esc, verb ? "/" : "", verb ? verb : "") < 0) {
                free(esc);
                shield_operator_free(o);
                cli_error("out of memory");
                return EXIT_BAD_INPUT;
        }
        free(esc);
        shield_operator_free(o);
        int r = cli_service_call(server, cacert, token_file, method, path, body, ret_json);
        free(path);
        return r;
}

int cli_admin_post(const char *server, const char *cacert, const char *token_file, const char *instance,
                   const char *verb) {
        return cli_admin_call(server, cacert, token_file, "POST", instance, verb, "{}", NULL);
}
