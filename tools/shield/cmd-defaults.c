/* SPDX-License-Identifier: Apache-2.0 */
/* shield defaults show|update: the platform's default PK, KEK, db and dbx */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/vm.h"

static const char usage_family[] =
        "Usage: shield defaults COMMAND [OPTIONS]\n"
        "\n"
        "The platform's default Secure Boot values: what an image gets for each\n"
        "of PK, KEK, db and dbx its initial state leaves out (shield vm create,\n"
        "shield varstore create --initial-state, shield initial-state resolve,\n"
        "shield image check).\n"
        "\n"
        "Commands:\n"
        "  show     the defaults: entries, certificates, where each came from\n"
        "  update   apply a signed Microsoft update (DBXUpdate.bin, DBUpdate*.bin, KEK)\n"
        "\n"
        "Run 'shield defaults COMMAND --help' for details.\n";

static const char usage_show[] =
        "Usage: shield defaults show [--json]\n"
        "\n"
        "Show the platform defaults as shield vm create applies them:\n"
        "  PK   the platform's own key, STATE/platform-pk/PK.der (made by the first\n"
        "       shield vm create; shown as not made yet before that)\n"
        "  KEK  Microsoft Corporation KEK CA 2011\n"
        "  db   Microsoft Windows Production PCA 2011, Microsoft Corporation UEFI CA 2011\n"
        "  dbx  the UEFI revocation list (Microsoft's signed x64 DBXUpdate.bin, shipped\n"
        "       with Shieldkit in data/uefi/dbx/: 443 SHA-256 hashes)\n"
        "For each: the number of entries (certificates and hashes), every\n"
        "certificate's subject and SHA-1 thumbprint, where the value came from\n"
        "(a file, Debian's OVMF_VARS_4M.ms.fd, the shipped revocation list, or\n"
        "shield defaults update), the source's date, when it was stored here and\n"
        "the TimeStamp of the signed update it holds.\n"
        "\n"
        "The defaults live in STATE/platform-defaults (STATE: $SHIELD_STATE_DIR,\n"
        "else $XDG_STATE_HOME/shieldkit, else ~/.local/state/shieldkit), made on\n"
        "first use; $SHIELD_DEFAULTS_DIR replaces that directory. A directory made\n"
        "by an earlier Shieldkit, whose dbx was OVMF's one placeholder hash, is\n"
        "upgraded to the revocation list the first time it is used.\n"
        "\n"
        "Options:\n"
        "  --json       the same as JSON: {\"dir\", \"PK\", \"KEK\", \"db\", \"dbx\"}, each\n"
        "               {\"certificates\", \"hashes\", \"entries\", \"certs\": [{\"subject\",\n"
        "               \"sha1\"}], \"source\", \"path\", \"date\", \"stored\", \"timestamp\"}\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 shown, 2 the defaults cannot be made or read (no\n"
        "OVMF_VARS_4M.ms.fd, no shipped revocation list).\n";

static const char usage_update[] =
        "Usage: shield defaults update FILE… [--json]\n"
        "\n"
        "Apply signed updates to the stored defaults, in the order given, as the\n"
        "firmware would apply them to a machine holding these defaults. Each FILE\n"
        "is an authenticated variable update (UEFI 2.10, 8.2.2\n"
        "EFI_VARIABLE_AUTHENTICATION_2) such as Microsoft's DBXUpdate.bin,\n"
        "DBUpdate*.bin or a KEKUpdate*.bin. A FILE is accepted only when:\n"
        "  - its PKCS#7 signature verifies over VariableName, VendorGuid,\n"
        "    Attributes (0x27, or 0x67 with APPEND_WRITE), TimeStamp and the data,\n"
        "    as an update of dbx or db (EFI_IMAGE_SECURITY_DATABASE_GUID) under a\n"
        "    certificate of the stored KEK, or of KEK (EFI_GLOBAL_VARIABLE) under\n"
        "    the platform PK; the variable is the one the signature names;\n"
        "  - its TimeStamp is not older than the one of the update the stored value\n"
        "    holds (both dates are printed when it is).\n"
        "An update signed with APPEND_WRITE (every Microsoft update is) is merged:\n"
        "entries the value holds already are not added twice, so re-applying a\n"
        "file, or an older list after a newer one, changes nothing. Otherwise the\n"
        "update replaces the value. The result is stored as\n"
        "STATE/platform-defaults/VAR.esl (or in $SHIELD_DEFAULTS_DIR) and is what\n"
        "instances created afterwards get; existing instances keep their store.\n"
        "PK updates are not taken: the platform PK is the owner's own key.\n"
        "\n"
        "Options:\n"
        "  --json       one object per FILE: {\"file\", \"outcome\" (applied, unchanged,\n"
        "               not-signed, older, invalid), \"variable\", \"append\", \"signer\",\n"
        "               \"signer_sha1\", \"timestamp\", \"stored_timestamp\",\n"
        "               \"entries_before\", \"entries_after\", \"message\"}\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 every FILE applied (or already in), 1 a FILE was refused\n"
        "(signature or TimeStamp; the files after it are still tried), 2 bad\n"
        "usage, a FILE that is not a signed update, or the defaults cannot be\n"
        "read or written.\n"
        "\n"
        "Example:\n"
        "  shield defaults update DBXUpdate.bin\n";

/* The platform PK when it exists; never made here (shield vm create makes it). */
static int read_platform_pk(const char *state, char **ret_path, uint8_t **ret, size_t *ret_len) {
        char *path = NULL;
        *ret = NULL;
        *ret_len = 0;
        if (asprintf(&path, "%s/platform-pk/PK.der", state) < 0)
                return SHIELD_E_NOMEM;
        if (shield_read_file(path, 1u << 20, ret, ret_len) < 0) {
                *ret = NULL;
                *ret_len = 0;
        }
        *ret_path = path;
        return 0;
}

static int load(char **ret_state, char **ret_dir, char **ret_pk_path, struct shield_initial_state *ret) {
        struct shield_diag diag = { 0 };
        char *state = shield_state_dir(), *dir = NULL, *pk_path = NULL;
        uint8_t *pk = NULL;
        size_t pk_len = 0;
        int r;

        if (!state) {
                cli_error("out of memory");
                return EXIT_BAD_INPUT;
        }
        if ((r = shield_platform_defaults_dir(state, &dir, &diag)) < 0) {
                cli_error("platform defaults: %s", diag.msg[0] ? diag.msg : shield_strerror(r));
                free(state);
                return EXIT_BAD_INPUT;
        }
        if (read_platform_pk(state, &pk_path, &pk, &pk_len) < 0 ||
            shield_initial_state_defaults(dir, pk, pk_len, ret, &diag) < 0) {
                cli_error("platform defaults: %s", diag.msg[0] ? diag.msg : "out of memory");
                free(state);
                free(dir);
                free(pk_path);
                free(pk);
                return EXIT_BAD_INPUT;
        }
        free(pk);
        *ret_state = state;
        *ret_dir = dir;
        *ret_pk_path = pk_path;
        return EXIT_OK;
}

/* One value: counts, certificates, and its recorded source. */
static json_t *value_json(const char *dir, const char *var, const struct shield_is_value *v, const char *pk_path) {
        json_t *certs = json_array();
        size_t n_certs = 0, n_hashes = 0, n_other = 0;
        for (size_t i = 0; i < v->n; i++) {
                const struct shield_is_entry *e = &v->entries[i];
                struct shield_siglist l = { 0 };
                const uint8_t *der[SHIELD_INITIAL_STATE_ENTRIES_MAX];
                size_t der_len[SHIELD_INITIAL_STATE_ENTRIES_MAX], nd = 0;
                if (e->type == SHIELD_IS_X509) {
                        der[nd] = e->content;
                        der_len[nd++] = e->len;
                } else if (shield_siglist_parse(e->content, e->len, &l, NULL) == 0) {
                        size_t x = 0, h = 0, o = 0;
                        shield_siglist_counts(&l, &x, &h, &o);
                        n_hashes += h;
                        n_other += o;
                        for (size_t k = 0; k < l.n && nd < SHIELD_INITIAL_STATE_ENTRIES_MAX; k++)
                                if (shield_guid_eq(&l.entries[k].type, &SHIELD_GUID_CERT_X509)) {
                                        der[nd] = l.entries[k].data;
                                        der_len[nd++] = l.entries[k].size;
                                }
                        n_certs += x - nd; /* counted below, once each */
                }
                for (size_t k = 0; k < nd; k++) {
                        struct shield_x509_info info;
                        char sha1[41] = "";
                        n_certs++;
                        if (shield_x509_info(der[k], der_len[k], &info) < 0) {
                                json_array_append_new(certs, json_pack("{s:s, s:s}", "subject", "(unreadable)", "sha1", ""));
                                continue;
                        }
                        shield_hex_encode(info.sha1, 20, sha1);
                        json_array_append_new(certs, json_pack("{s:s, s:s, s:s, s:s}", "subject", info.subject, "sha1", sha1,
                                                               "not_before", info.not_before, "not_after", info.not_after));
                }
                shield_siglist_clear(&l);
        }
        json_t *o = json_pack("{s:I, s:I, s:I, s:o}", "entries", (json_int_t)(n_certs + n_hashes + n_other), "certificates",
                              (json_int_t)n_certs, "hashes", (json_int_t)n_hashes, "certs", certs);
        struct shield_defaults_source src;
        if (strcmp(var, "PK") == 0) {
                bool made = v->n > 0;
                json_object_set_new(o, "source", json_string(made ? "the platform key" : "not made yet (shield vm create makes it)"));
                json_object_set_new(o, "path", json_string(pk_path));
                const char *nb = made ? json_string_value(json_object_get(json_array_get(certs, 0), "not_before")) : NULL;
                json_object_set_new(o, "date", json_string(nb ? nb : ""));
        } else if (shield_defaults_source_get(dir, var, &src) == 0) {
                char ts[32] = "";
                static const uint8_t zero[16];
                if (shield_efi_time_cmp(src.timestamp, zero) != 0)
                        shield_efi_time_format(src.timestamp, ts);
                json_object_set_new(o, "source", json_string(src.source));
                json_object_set_new(o, "path", json_string(src.path));
                json_object_set_new(o, "date", json_string(src.date));
                json_object_set_new(o, "stored", json_string(src.stored));
                json_object_set_new(o, "timestamp", ts[0] ? json_string(ts) : json_null());
        } else {
                json_object_set_new(o, "source", json_string("files in the defaults directory"));
                json_object_set_new(o, "path", json_string(dir));
                json_object_set_new(o, "date", json_string(""));
        }
        return o;
}

static const char *str(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static void print_value(const char *var, json_t *o) {
        printf("%-4s %" JSON_INTEGER_FORMAT " entr%s: %" JSON_INTEGER_FORMAT " certificate%s, %" JSON_INTEGER_FORMAT
               " hash%s\n",
               var, json_integer_value(json_object_get(o, "entries")),
               json_integer_value(json_object_get(o, "entries")) == 1 ? "y" : "ies",
               json_integer_value(json_object_get(o, "certificates")),
               json_integer_value(json_object_get(o, "certificates")) == 1 ? "" : "s",
               json_integer_value(json_object_get(o, "hashes")), json_integer_value(json_object_get(o, "hashes")) == 1 ? "" : "es");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(o, "certs"), i, c)
                printf("     X509  %s  sha1 %s\n", str(c, "subject"), str(c, "sha1"));
        printf("     from  %s%s%s%s%s\n", str(o, "source"), str(o, "path")[0] ? " (" : "", str(o, "path"),
               str(o, "path")[0] ? ")" : "", "");
        if (str(o, "date")[0])
                printf("     date  %s\n", str(o, "date"));
        if (str(o, "stored")[0])
                printf("     stored %s%s%s\n", str(o, "stored"), str(o, "timestamp")[0] ? ", signed TimeStamp " : "",
                       str(o, "timestamp"));
}

static int verb_show(int argc, char **argv) {
        static const struct option options[] = { { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }, {} };
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage_show, stdout); return EXIT_OK;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_show, "show: unknown option '%s'", argv[optind - 1]);
                }
        if (optind != argc)
                return cli_usage_error(usage_show, "show: no arguments expected");
        char *state = NULL, *dir = NULL, *pk_path = NULL;
        struct shield_initial_state d = { 0 };
        int r = load(&state, &dir, &pk_path, &d);
        if (r)
                return r;
        static const char *const vars[] = { "PK", "KEK", "db", "dbx" };
        const struct shield_is_value *vals[] = { &d.pk, &d.keks, &d.dbs, &d.dbxs };
        json_t *root = json_pack("{s:s}", "dir", dir);
        for (size_t k = 0; k < 4; k++)
                json_object_set_new(root, vars[k], value_json(dir, vars[k], vals[k], pk_path));
        if (json) {
                cli_print_json(root);
        } else {
                printf("platform defaults: %s\n", dir);
                for (size_t k = 0; k < 4; k++)
                        print_value(vars[k], json_object_get(root, vars[k]));
                json_decref(root);
        }
        shield_initial_state_clear(&d);
        free(state);
        free(dir);
        free(pk_path);
        return EXIT_OK;
}

static const char *outcome_name(enum shield_defaults_refusal o) {
        switch (o) {
        case SHIELD_DEFAULTS_APPLIED: return "applied";
        case SHIELD_DEFAULTS_UNCHANGED: return "unchanged";
        case SHIELD_DEFAULTS_NOT_SIGNED: return "not-signed";
        case SHIELD_DEFAULTS_OLDER: return "older";
        }
        return "invalid";
}

static int verb_update(int argc, char **argv) {
        static const struct option options[] = { { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }, {} };
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': fputs(usage_update, stdout); return EXIT_OK;
                case 'j': json = true; break;
                default: return cli_usage_error(usage_update, "update: unknown option '%s'", argv[optind - 1]);
                }
        if (optind >= argc)
                return cli_usage_error(usage_update, "update: expected at least one FILE");

        char *state = NULL, *dir = NULL, *pk_path = NULL;
        int rc = EXIT_OK;
        json_t *results = json_array();
        for (int i = optind; i < argc; i++) {
                const char *path = argv[i];
                struct shield_initial_state d = { 0 };
                /* Reloaded for every file: each one applies to what the one before it left. */
                free(state), free(dir), free(pk_path);
                state = dir = pk_path = NULL;
                int r = load(&state, &dir, &pk_path, &d);
                if (r) {
                        rc = r;
                        break;
                }
                uint8_t *buf = NULL;
                size_t len = 0;
                if (cli_read_file(path, SHIELD_DEFAULTS_UPDATE_MAX, &buf, &len) != 0) {
                        shield_initial_state_clear(&d);
                        rc = EXIT_BAD_INPUT;
                        continue;
                }
                struct shield_defaults_update u = { 0 };
                struct shield_diag diag = { 0 };
                int s = shield_defaults_update(dir, &d, buf, len, path, &u, &diag);
                free(buf);
                shield_initial_state_clear(&d);
                char ts[32] = "", stored[32] = "", sha1[41] = "";
                shield_efi_time_format(u.timestamp, ts);
                shield_efi_time_format(u.stored_timestamp, stored);
                shield_hex_encode(u.signer_sha1, 20, sha1);
                const char *outcome = s == 0 || s == SHIELD_E_VERIFY ? outcome_name(u.outcome) : "invalid";
                if (json) {
                        json_array_append_new(results,
                                              json_pack("{s:s, s:s, s:s?, s:b, s:s?, s:s?, s:s, s:s, s:I, s:I, s:s?}", "file",
                                                        path, "outcome", outcome, "variable", u.var[0] ? u.var : NULL,
                                                        "append", u.append, "signer", u.signer[0] ? u.signer : NULL,
                                                        "signer_sha1", u.signer[0] ? sha1 : NULL, "timestamp", ts,
                                                        "stored_timestamp", stored, "entries_before",
                                                        (json_int_t)u.entries_before, "entries_after",
                                                        (json_int_t)u.entries_after, "message", s < 0 ? diag.msg : NULL));
                } else if (s == 0 && u.outcome == SHIELD_DEFAULTS_APPLIED) {
                        printf("%s: applied: %s%s update signed under %s (sha1 %s), TimeStamp %s; %s: %zu -> %zu entries\n",
                               path, u.var, u.append ? " (append)" : "", u.signer, sha1, ts, u.var, u.entries_before,
                               u.entries_after);
                } else if (s == 0) {
                        printf("%s: unchanged: the stored %s holds every entry of this %s update already (%zu entries)\n",
                               path, u.var, u.var, u.entries_after);
                } else if (s == SHIELD_E_VERIFY) {
                        printf("%s: refused: %s\n", path, diag.msg);
                } else {
                        cli_error("%s: %s", path, diag.msg[0] ? diag.msg : shield_strerror(s));
                }
                if (s == SHIELD_E_VERIFY && rc == EXIT_OK)
                        rc = EXIT_VERIFY_FAILED;
                else if (s < 0 && s != SHIELD_E_VERIFY)
                        rc = EXIT_BAD_INPUT;
        }
        if (json)
                cli_print_json(results);
        else
                json_decref(results);
        free(state);
        free(dir);
        free(pk_path);
        return rc;
}

int cmd_defaults(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "show", "show the platform defaults", verb_show },
                { "update", "apply a signed update to them", verb_update },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
