/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
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

int cli_usage_error(const char *usage, const char *fmt, ...) {
        va_list ap;

        fputs("shield: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (usage) {
                /* Only the synopsis: the first paragraph of the usage text. */
                const char *end = strstr(usage, "\n\n");
                fprintf(stderr, "%.*s\nTry --help for more.\n", end ? (int)(end - usage) : (int)strlen(usage), usage);
        }
        return EXIT_BAD_INPUT;
}

int cli_dispatch(int argc, char **argv, const char *usage, const struct cli_verb *verbs, size_t n_verbs) {
        /* The top level names no family in its messages: "shield: unknown command …". */
        bool top = strcmp(argv[0], "shield") == 0;
        if (argc < 2)
                return top ? cli_usage_error(usage, "a command is required")
                           : cli_usage_error(usage, "%s: a command is required", argv[0]);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(usage, stdout);
                return EXIT_OK;
        }
        for (size_t i = 0; i < n_verbs; i++)
                if (strcmp(argv[1], verbs[i].name) == 0)
                        return verbs[i].run(argc - 1, argv + 1);
        return top ? cli_usage_error(usage, "unknown command \"%s\"", argv[1])
                   : cli_usage_error(usage, "%s: unknown command \"%s\"", argv[0], argv[1]);
}

int cli_parse_file_json(int argc, char **argv, const char *usage, const char **ret_path, bool *ret_json) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }, {},
        };
        int c;

        *ret_json = false;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        return EXIT_OK;
                }
                if (c != 'j')
                        return cli_usage_error(usage, "%s: unknown option '%s'", argv[0], argv[optind - 1]);
                *ret_json = true;
        }
        if (optind != argc - 1)
                return cli_usage_error(usage, "%s: expected exactly one FILE", argv[0]);
        *ret_path = argv[optind];
        return -1;
}
