/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What every `shield` subcommand shares: exit codes, error printing, JSON
 * output and reading inputs. Each cmd-<noun>.c exports one cmd_<noun>()
 * that main.c dispatches to with argv[0] = the noun.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/reason.h"

/* The same exit codes everywhere (docs/ARCHITECTURE.md). */
enum {
        EXIT_OK = 0,
        EXIT_VERIFY_FAILED = 1, /* the input was read and did not verify */
        EXIT_BAD_INPUT = 2,     /* bad usage, unreadable or malformed input, internal error */
};

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* Subcommand families. */
int cmd_eventlog(int argc, char **argv);
int cmd_ima(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_siglist(int argc, char **argv);
int cmd_varstore(int argc, char **argv);
int cmd_initial_state(int argc, char **argv);
int cmd_defaults(int argc, char **argv);
int cmd_pe(int argc, char **argv);
int cmd_authvar(int argc, char **argv);
int cmd_sb(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_tpm(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_quote(int argc, char **argv);
int cmd_golden(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_credential(int argc, char **argv);

struct shield_initial_state;
/* Read an initial state and fill what it leaves out from the platform defaults; 0 or an exit code. */
int cli_resolve_initial_state(const char *path, const char *defaults_dir, const char *platform_pk,
                              struct shield_initial_state *ret);

struct shield_siglist;
/* A signature list's entries as JSON, and printed for people (each line prefixed by indent). */
json_t *cli_siglist_json(const struct shield_siglist *list);
void cli_siglist_print(const struct shield_siglist *list, const char *indent);

/* "shield: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "shield: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report a parse failure of path with the parser's diag ("PATH: offset 0x…,
 * event N: …") and return EXIT_BAD_INPUT.
 */
int cli_parse_failed(const char *path, int r, const struct shield_diag *diag);

/*
 * Read a whole input file (or "-"), printing a clear error on failure.
 * Returns 0 or EXIT_BAD_INPUT. *ret_buf is NUL-terminated (see shield_read_file).
 */
int cli_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len);

/* Print a JSON value to stdout (indented, keys in insertion order) and decref it. */
void cli_print_json(json_t *j);

/* The reasons as a JSON array of objects {code, severity, bank, pcr, event, offset, message}. */
json_t *cli_reasons_json(const struct shield_reasons *list);

struct shield_attest_outcome;
struct shield_integrity_policy;
/* An attestation's outcome for people: colour, golden, clock, every reason (info as "note"), a refusal. */
void cli_print_outcome(const struct shield_attest_outcome *o, const char *instance);
/*
 * An operator's call to shieldd: METHOD /v1/instances/INSTANCE[/VERB] with
 * the admin token from token_file (NULL: none) and body (JSON text or
 * NULL). *ret_json (may be NULL) gets the answer. EXIT_OK, else the error
 * is said and EXIT_BAD_INPUT (EXIT_VERIFY_FAILED for 401/403).
 */
int cli_admin_call(const char *server, const char *cacert, const char *token_file, const char *method,
                   const char *instance, const char *verb, const char *body, char **ret_json);
/* METHOD path with the token (NULL: none) and body (NULL: none); as cli_admin_call. */
int cli_service_call(const char *server, const char *cacert, const char *token_file, const char *method,
                     const char *path, const char *body, char **ret_json);
/* POST /v1/instances/INSTANCE/VERB {} with the admin token. */
int cli_admin_post(const char *server, const char *cacert, const char *token_file, const char *instance,
                   const char *verb);
/* --integrity-policy NAME|FILE (a PCR list, gce/oci/strict, or a shieldkit-policy/1 file): EXIT_OK or EXIT_BAD_INPUT (said). */
int cli_integrity_policy(const char *arg, struct shield_integrity_policy *ret);

/* Print each reason on its own line "severity: [code] message" to f. */
void cli_print_reasons(FILE *f, const struct shield_reasons *list);

/*
 * A usage error: "shield: <message>" and "Try 'shield image create --help'."
 * (the command cli_dispatch() got to), one line each: the message must say
 * what is wrong by itself. usage is no longer printed. Returns EXIT_BAD_INPUT.
 */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The command being run as the user typed it down to the verb: "shield image create". */
const char *cli_command(void);

struct option;
/*
 * getopt_long for every verb (the caller sets optind = 0 first; shortopts
 * without a leading ':'): the next option, -1 after the last, or '?' once
 * the problem has been said as a usage error: "VERB: --defaults needs a
 * value" for a missing value, "VERB: unknown option '--x'" otherwise. The
 * caller then returns EXIT_BAD_INPUT without saying more.
 */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/*
 * The options of a verb that takes one FILE and an optional --json (the
 * "show"-like verbs): -1 to go on with *ret_path and *ret_json set, or an
 * exit code (EXIT_OK after --help, EXIT_BAD_INPUT on bad usage).
 */
int cli_parse_file_json(int argc, char **argv, const char *usage, const char **ret_path, bool *ret_json);

/* A subcommand: a name, a one-line summary and a function taking argv[0] = name. */
struct cli_verb {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
};

/*
 * Dispatch argv[1] to one of verbs (argv[0] = the family name); prints
 * the family's usage for --help/no verb and an error for an unknown verb.
 */
int cli_dispatch(int argc, char **argv, const char *usage, const struct cli_verb *verbs, size_t n_verbs);
