/* SPDX-License-Identifier: Apache-2.0 */
/* shield initial-state create|show|resolve */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/util.h"
#include "shield/vm.h"

#define INPUT_MAX (16u << 20)

static const char usage_family[] =
        "Usage: shield initial-state COMMAND [OPTIONS]\n"
        "\n"
        "An image's Secure Boot initial state (initial_state_config): the PK,\n"
        "KEK, db and dbx values an instance's firmware starts with, in the JSON\n"
        "shape of the Compute Engine images API.\n"
        "\n"
        "Commands:\n"
        "  create    build initial_state.json from certificates and signature lists\n"
        "  show      list what an initial state holds\n"
        "  resolve   the effective values once the platform defaults fill the gaps\n"
        "\n"
        "Run 'shield initial-state COMMAND --help' for details.\n";

static const char usage_create[] =
        "Usage: shield initial-state create [--pk FILE] [--kek FILE…] [--db FILE…] [--dbx FILE…]\n"
        "                                   -o initial_state.json\n"
        "\n"
        "Each FILE is a certificate (.der, .crt or .pem: stored as X509, PEM\n"
        "converted to DER) or EFI signature lists / a signed update such as\n"
        "DBXUpdate.bin (stored as BIN). At most one PK, a certificate. Values\n"
        "not given (the PK too) are left out: at instance creation they take the\n"
        "platform's defaults (the PK: the platform key); a value given replaces\n"
        "its default, it is never merged.\n"
        "\n"
        "Options:\n"
        "  --pk FILE    the platform key certificate (default: the platform's PK)\n"
        "  --kek FILE   a key-exchange key (repeatable)\n"
        "  --db FILE    an allowed signer or hash list (repeatable)\n"
        "  --dbx FILE   a revoked signer or hash list (repeatable)\n"
        "  -o FILE      where to write the JSON\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or input.\n";

static const char usage_show[] =
        "Usage: shield initial-state show FILE [--json]\n"
        "\n"
        "List the values of an initial state: for each entry its type, and\n"
        "subjects, thumbprints and hash counts of what it holds. A value that is\n"
        "absent is shown as taking the platform default.\n"
        "\n"
        "Exit status: 0 shown, 2 the file is not a valid initial state.\n";

static const char usage_resolve[] =
        "Usage: shield initial-state resolve FILE [--defaults DIR] [--platform-pk CERT] [-o FILE] [--json]\n"
        "\n"
        "Apply the platform defaults as instance creation does: every value the\n"
        "initial state leaves out takes its default (PK: the platform key CERT, or\n"
        "the one kept in STATE/platform-pk/PK.der; KEK: Microsoft Corporation\n"
        "KEK CA 2011; db: Microsoft Windows Production PCA 2011 and Microsoft\n"
        "Corporation UEFI CA 2011; dbx: the UEFI revocation list, 443 hashes as\n"
        "shipped); a value given replaces its default. The defaults are the\n"
        "platform's (STATE/platform-defaults, made on first use; see 'shield\n"
        "defaults show'), or DIR's: certs/ (found by thumbprint, any file names)\n"
        "and dbx/DBXUpdate-amd64.bin. STATE is $SHIELD_STATE_DIR, else\n"
        "$XDG_STATE_HOME/shieldkit, else ~/.local/state/shieldkit.\n"
        "Warns when a custom db lacks the Microsoft UEFI CA.\n"
        "\n"
        "Options:\n"
        "  --defaults DIR      take the defaults from DIR instead of the platform's\n"
        "  --platform-pk CERT  the platform's PK, used when FILE has none (default:\n"
        "                      STATE/platform-pk/PK.der, made once with shield keys\n"
        "                      generate --out that directory, or by shield vm create)\n"
        "  -o FILE             also write the resolved initial state\n"
        "  --json              the resolved state as JSON on stdout\n"
        "\n"
        "Exit status: 0 resolved, 2 bad input or missing defaults.\n";

static int read_state(const char *path, struct shield_initial_state *ret) {
        uint8_t *buf = NULL;
        size_t len;
        struct shield_diag diag = { 0 };

        if (cli_read_file(path, SHIELD_INITIAL_STATE_JSON_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_initial_state_parse((const char *)buf, len, ret, &diag);
        free(buf);
        if (r < 0) {
                cli_error("%s: %s", path, diag.msg);
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int write_state(const struct shield_initial_state *st, const char *path) {
        char *text = shield_initial_state_to_json(st);
        int r = text ? shield_write_file_atomic(path, text, strlen(text), 0644) : SHIELD_E_NOMEM;
        free(text);
        if (r < 0)
                cli_error("%s: cannot write", path);
        return r < 0 ? EXIT_BAD_INPUT : 0;
}

static int verb_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "pk", required_argument, NULL, 'P' },
                { "kek", required_argument, NULL, 'K' }, { "db", required_argument, NULL, 'D' },
                { "dbx", required_argument, NULL, 'X' }, { "output", required_argument, NULL, 'o' }, {},
        };
        struct shield_initial_state st = { 0 };
        const char *out = NULL;
        int c, r = EXIT_BAD_INPUT;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0) {
                struct shield_is_value *v = c == 'P' ? &st.pk : c == 'K' ? &st.keks : c == 'D' ? &st.dbs : c == 'X' ? &st.dbxs : NULL;
                if (c == 'h') {
                        fputs(usage_create, stdout);
                        return EXIT_OK;
                }
                if (c == 'o') {
                        out = optarg;
                        continue;
                }
                if (!v) {
                        r = EXIT_BAD_INPUT; /* said by cli_getopt */
                        goto out;
                }
                uint8_t *buf = NULL;
                size_t len;
                if (cli_read_file(optarg, INPUT_MAX, &buf, &len) != 0)
                        goto out;
                int a = shield_initial_state_add(v, buf, len);
                free(buf);
                if (a < 0) {
                        cli_error("%s: not a certificate, signature list or signed update", optarg);
                        goto out;
                }
        }
        if (!out || optind != argc) {
                r = cli_usage_error(usage_create, "create: -o FILE is required, and no other arguments");
                goto out;
        }
        /* No --pk: the PK is left out, and takes the platform's at instance creation like any unset value. */
        if (st.pk.set && (st.pk.n != 1 || st.pk.entries[0].type != SHIELD_IS_X509)) {
                r = cli_usage_error(usage_create, "create: --pk takes exactly one X.509 certificate, once");
                goto out;
        }
        /* The option-ROM warning, now rather than at instance creation: resolving against no defaults gives it. */
        struct shield_initial_state none = { 0 }, resolved;
        struct shield_reasons warnings = { 0 };
        if (shield_initial_state_resolve(&st, &none, &resolved, &warnings) == 0)
                shield_initial_state_clear(&resolved);
        for (size_t i = 0; i < warnings.n; i++)
                cli_warn("%s", warnings.items[i].message);
        shield_reasons_clear(&warnings);
        r = write_state(&st, out);
        if (r == 0)
                printf("%s: %s, %zu keks, %zu dbs, %zu dbxs\n", out, st.pk.set ? "pk" : "pk (platform default)",
                       st.keks.n, st.dbs.n, st.dbxs.n);
out:
        shield_initial_state_clear(&st);
        return r;
}

static json_t *value_json(const struct shield_is_value *v) {
        json_t *arr = json_array();
        for (size_t i = 0; i < v->n; i++) {
                const struct shield_is_entry *e = &v->entries[i];
                if (e->type == SHIELD_IS_X509) {
                        struct shield_x509_info info;
                        char sha1[41] = "";
                        if (shield_x509_info(e->content, e->len, &info) == 0)
                                shield_hex_encode(info.sha1, 20, sha1);
                        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "fileType", "X509", "subject", info.subject,
                                                             "sha1", sha1));
                } else {
                        struct shield_siglist l;
                        if (shield_siglist_parse(e->content, e->len, &l, NULL) == 0) {
                                json_array_append_new(arr, json_pack("{s:s, s:o}", "fileType", "BIN", "entries",
                                                                     cli_siglist_json(&l)));
                                shield_siglist_clear(&l);
                        }
                }
        }
        return arr;
}

static void print_value(const char *name, const struct shield_is_value *v) {
        if (!v->set) {
                printf("%-5s (platform default)\n", name);
                return;
        }
        printf("%-5s %zu entr%s\n", name, v->n, v->n == 1 ? "y" : "ies");
        for (size_t i = 0; i < v->n; i++) {
                const struct shield_is_entry *e = &v->entries[i];
                if (e->type == SHIELD_IS_X509) {
                        struct shield_x509_info info;
                        char sha1[41] = "?";
                        if (shield_x509_info(e->content, e->len, &info) == 0)
                                shield_hex_encode(info.sha1, 20, sha1);
                        printf("      X509  %s  sha1 %s\n", info.subject, sha1);
                } else {
                        struct shield_siglist l;
                        printf("      BIN\n");
                        if (shield_siglist_parse(e->content, e->len, &l, NULL) == 0) {
                                cli_siglist_print(&l, "            ");
                                shield_siglist_clear(&l);
                        }
                }
        }
}

static int print_state(const struct shield_initial_state *st, bool json) {
        if (json) {
                json_t *root = json_object();
                const struct shield_is_value *vals[] = { &st->pk, &st->keks, &st->dbs, &st->dbxs };
                for (size_t k = 0; k < 4; k++)
                        json_object_set_new(root, shield_initial_state_field(st, vals[k]),
                                            vals[k]->set ? value_json(vals[k]) : json_string("default"));
                cli_print_json(root);
        } else {
                print_value("pk", &st->pk);
                print_value("keks", &st->keks);
                print_value("dbs", &st->dbs);
                print_value("dbxs", &st->dbxs);
        }
        return EXIT_OK;
}

static int verb_show(int argc, char **argv) {
        const char *path;
        bool json;
        int parsed = cli_parse_file_json(argc, argv, usage_show, &path, &json);
        if (parsed >= 0)
                return parsed;
        struct shield_initial_state st;
        int r = read_state(path, &st);
        if (r)
                return r;
        r = print_state(&st, json);
        shield_initial_state_clear(&st);
        return r;
}

/*
 * The platform PK the owner generated once and keeps, for states that leave
 * pk to the platform: STATE/platform-pk/PK.der (STATE as shield_state_dir()
 * says: $SHIELD_STATE_DIR, else $XDG_STATE_HOME/shieldkit, else
 * ~/.local/state/shieldkit), as `shield keys generate --out` that directory writes
 * it. Never generated here: a platform key made silently in a test or a
 * build would differ on every machine. NULL when there is no state dir.
 */
static char *platform_pk_dir(void) {
        char *state = shield_state_dir(), *dir = NULL;
        if (state && asprintf(&dir, "%s/platform-pk", state) < 0)
                dir = NULL;
        free(state);
        return dir;
}

/* Shared with `varstore create --initial-state`: FILE resolved against the defaults. */
int cli_resolve_initial_state(const char *path, const char *defaults_dir, const char *platform_pk,
                              struct shield_initial_state *ret) {
        struct shield_initial_state st = { 0 }, defaults = { 0 };
        struct shield_reasons warnings = { 0 };
        struct shield_diag diag = { 0 };
        uint8_t *pk = NULL;
        size_t pk_len = 0;
        char *kept_dir = NULL, *kept = NULL, *platform_dir = NULL;
        int r = read_state(path, &st);

        if (r)
                return r;
        if (!st.pk.set && !platform_pk && (kept_dir = platform_pk_dir()) &&
            asprintf(&kept, "%s/PK.der", kept_dir) > 0 && access(kept, R_OK) == 0)
                platform_pk = kept;
        if (platform_pk && cli_read_file(platform_pk, INPUT_MAX, &pk, &pk_len) != 0) {
                r = EXIT_BAD_INPUT;
                goto out;
        }
        bool need_defaults = !st.keks.set || !st.dbs.set || !st.dbxs.set;
        if (need_defaults && !defaults_dir) {
                /* The platform's own defaults, as `shield vm create` applies them (made on first use). */
                char *state = shield_state_dir();
                int d = state ? shield_platform_defaults_dir(state, &platform_dir, &diag) : SHIELD_E_NOMEM;
                free(state);
                if (d < 0) {
                        cli_error("platform defaults: %s", diag.msg[0] ? diag.msg : shield_strerror(d));
                        r = EXIT_BAD_INPUT;
                        goto out;
                }
                defaults_dir = platform_dir;
        }
        if (!st.pk.set && !platform_pk) {
                r = cli_usage_error(NULL,
                                    "%s has no pk: give --platform-pk CERT, or keep a platform key in %s "
                                    "(shield keys generate --out %s)",
                                    path, kept_dir ? kept_dir : "$XDG_STATE_HOME/shieldkit/platform-pk",
                                    kept_dir ? kept_dir : "DIR");
                goto out;
        }
        if (need_defaults && shield_initial_state_defaults(defaults_dir, pk, pk_len, &defaults, &diag) < 0) {
                cli_error("defaults: %s", diag.msg);
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if (!need_defaults && pk && shield_initial_state_add(&defaults.pk, pk, pk_len) < 0) {
                cli_error("%s: not a certificate", platform_pk);
                r = EXIT_BAD_INPUT;
                goto out;
        }
        if (shield_initial_state_resolve(&st, &defaults, ret, &warnings) < 0) {
                cli_error("%s: cannot resolve", path);
                r = EXIT_BAD_INPUT;
                goto out;
        }
        for (size_t i = 0; i < warnings.n; i++)
                cli_warn("%s", warnings.items[i].message);
out:
        free(pk);
        free(kept);
        free(kept_dir);
        free(platform_dir);
        shield_reasons_clear(&warnings);
        shield_initial_state_clear(&defaults);
        shield_initial_state_clear(&st);
        return r;
}

static int verb_resolve(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' }, { "defaults", required_argument, NULL, 'd' },
                { "platform-pk", required_argument, NULL, 'p' }, { "output", required_argument, NULL, 'o' },
                { "json", no_argument, NULL, 'j' }, {},
        };
        const char *defaults = NULL, *pk = NULL, *out = NULL;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_resolve, stdout); return EXIT_OK;
                case 'd': defaults = optarg; break;
                case 'p': pk = optarg; break;
                case 'o': out = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        if (optind != argc - 1)
                return cli_usage_error(usage_resolve, "resolve: expected exactly one FILE");
        struct shield_initial_state st;
        int r = cli_resolve_initial_state(argv[optind], defaults, pk, &st);
        if (r)
                return r;
        if (out)
                r = write_state(&st, out);
        if (r == 0)
                r = print_state(&st, json);
        shield_initial_state_clear(&st);
        return r;
}

int cmd_initial_state(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "create", "build an initial state", verb_create },
                { "show", "show an initial state", verb_show },
                { "resolve", "apply the platform defaults", verb_resolve },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
