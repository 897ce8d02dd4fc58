/* SPDX-License-Identifier: Apache-2.0 */
/* shield varstore create|show */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/initial-state.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"

#define DB_INPUT_MAX (16u << 20)
#define DEFAULT_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"

static const char usage_family[] =
        "Usage: shield varstore COMMAND [OPTIONS]\n"
        "\n"
        "edk2/OVMF firmware variable stores (OVMF_VARS*.fd): the non-volatile\n"
        "variables a virtual machine's UEFI firmware boots with.\n"
        "\n"
        "Commands:\n"
        "  create   write Secure Boot keys (PK, KEK, db, dbx) into a store\n"
        "  show     list every variable of a store\n"
        "\n"
        "Run 'shield varstore COMMAND --help' for details.\n";

static const char usage_create[] =
        "Usage: shield varstore create --pk FILE [--kek FILE…] [--db FILE…] [--dbx FILE…]\n"
        "                              [--owner GUID] [--template VARS.fd] [--force] -o VARS.fd\n"
        "       shield varstore create --initial-state FILE [--defaults DIR] [--platform-pk CERT]\n"
        "                              [--owner GUID] [--template VARS.fd] [--force] -o VARS.fd\n"
        "\n"
        "Copy a variable-store template and write PK, KEK, db and dbx into it as\n"
        "authenticated, non-volatile variables (attributes NV|BS|RT|AT), so that\n"
        "OVMF's secure-boot build boots with Secure Boot enforced under these keys\n"
        "(user mode: SetupMode 0, SecureBoot 1). Each FILE is an X.509\n"
        "certificate (DER or PEM; it becomes one EFI_CERT_X509 list owned by\n"
        "--owner), a file of EFI signature lists, or a signed update\n"
        "(EFI_VARIABLE_AUTHENTICATION_2) whose lists are taken. Several files for\n"
        "one database are concatenated in order. With --initial-state the four\n"
        "values come from an image's initial_state.json, the platform defaults\n"
        "filling what it leaves out (see 'shield initial-state resolve').\n"
        "The records carry a zero timestamp, so that any later signed update\n"
        "(such as a Microsoft DBX update) counts as newer.\n"
        "\n"
        "Options:\n"
        "  --pk FILE          the platform key: one X.509 certificate, or a signature\n"
        "                     list holding just one (required)\n"
        "  --kek FILE         a key-exchange key (repeatable)\n"
        "  --db FILE          an allowed signer or hash (repeatable)\n"
        "  --dbx FILE         a revoked signer or hash (repeatable)\n"
        "  --initial-state F  take PK, KEK, db and dbx from an initial_state.json\n"
        "  --defaults DIR     the platform defaults for values it leaves out\n"
        "  --platform-pk CERT the platform PK when it has none\n"
        "  --owner GUID       SignatureOwner for certificates (default: all zeros)\n"
        "  --template FILE    the empty store to start from (default " DEFAULT_TEMPLATE ")\n"
        "  --force            replace PK/KEK/db/dbx already in the template\n"
        "  -o FILE            the new store (written atomically)\n"
        "  -h, --help         this text\n"
        "\n"
        "Exit status: 0 written, 2 bad usage or input, or the store is full.\n"
        "\n"
        "Example:\n"
        "  shield varstore create --pk keys/PK.der --kek keys/KEK.der --db keys/db.der -o VARS.fd\n";

static const char usage_show[] =
        "Usage: shield varstore show VARS.fd [--json]\n"
        "\n"
        "List every variable record of an edk2/OVMF variable store in flash order:\n"
        "name, vendor GUID (with its well-known name), attributes (NV BS RT HR AW\n"
        "AT AP EA), state (live, deleted, in-transition, incomplete), data size\n"
        "and the authenticated-variable timestamp. PK, KEK, db, dbx and other\n"
        "signature databases are decoded (type, certificate subject and\n"
        "thumbprint, or hash). The firmware uses the live records, and an\n"
        "in-transition one only when a variable has no live record.\n"
        "\n"
        "Options:\n"
        "  --json       the records as JSON\n"
        "  -h, --help   this text\n"
        "\n"
        "Exit status: 0 shown, 2 not a variable store (the message gives the offset).\n";

struct db_input {
        const char *name;
        const shield_guid *vendor;
        size_t n;
        const char *files[16];
};

static int load_store(const char *path, struct shield_varstore **ret) {
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_diag diag = { 0 };

        if (cli_read_file(path, SHIELD_VARSTORE_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_varstore_parse(buf, len, ret, &diag);
        free(buf);
        return r < 0 ? cli_parse_failed(path, r, &diag) : 0;
}

/* UEFI 2.10, 32.3.1: PK holds exactly one EFI_CERT_X509 entry. */
static bool one_x509(const uint8_t *esl, size_t len) {
        struct shield_siglist list;
        if (shield_siglist_parse(esl, len, &list, NULL) < 0)
                return false;
        bool ok = list.n == 1 && shield_guid_eq(&list.entries[0].type, &SHIELD_GUID_CERT_X509);
        shield_siglist_clear(&list);
        return ok;
}

static int build_db(const struct db_input *in, const shield_guid *owner, uint8_t **ret, size_t *ret_len) {
        for (size_t i = 0; i < in->n; i++) {
                uint8_t *buf = NULL;
                size_t len = 0;
                if (cli_read_file(in->files[i], DB_INPUT_MAX, &buf, &len) != 0)
                        return EXIT_BAD_INPUT;
                int r = shield_siglist_append_input(ret, ret_len, owner, buf, len, NULL);
                free(buf);
                if (r < 0) {
                        cli_error("%s: not an X.509 certificate, signature list or signed update", in->files[i]);
                        return EXIT_BAD_INPUT;
                }
        }
        if (strcmp(in->name, "PK") == 0 && !one_x509(*ret, *ret_len)) {
                cli_error("the PK must be exactly one X.509 certificate (a DER/PEM file or a one-entry signature list)");
                return EXIT_BAD_INPUT;
        }
        return 0;
}

static int verb_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },        { "pk", required_argument, NULL, 'P' },
                { "kek", required_argument, NULL, 'K' },   { "db", required_argument, NULL, 'D' },
                { "dbx", required_argument, NULL, 'X' },   { "owner", required_argument, NULL, 'g' },
                { "template", required_argument, NULL, 't' }, { "force", no_argument, NULL, 'f' },
                { "output", required_argument, NULL, 'o' }, { "initial-state", required_argument, NULL, 'i' },
                { "defaults", required_argument, NULL, 'd' }, { "platform-pk", required_argument, NULL, 'p' }, {},
        };
        const char *initial_state = NULL, *defaults = NULL, *platform_pk = NULL;
        struct db_input dbs[] = {
                { "PK", &SHIELD_GUID_GLOBAL_VARIABLE, 0, { 0 } },
                { "KEK", &SHIELD_GUID_GLOBAL_VARIABLE, 0, { 0 } },
                { "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, 0, { 0 } },
                { "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE, 0, { 0 } },
        };
        const char *template = DEFAULT_TEMPLATE, *out = NULL;
        shield_guid owner = { 0 };
        bool force = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "ho:", options)) >= 0) {
                struct db_input *in = c == 'P' ? &dbs[0] : c == 'K' ? &dbs[1] : c == 'D' ? &dbs[2] : c == 'X' ? &dbs[3] : NULL;
                if (in) {
                        if (in->n == ELEMENTS(in->files))
                                return cli_usage_error(usage_create, "create: too many --%s files", in->name);
                        in->files[in->n++] = optarg;
                        continue;
                }
                switch (c) {
                case 'h': fputs(usage_create, stdout); return EXIT_OK;
                case 'g':
                        if (shield_guid_parse(optarg, &owner) < 0)
                                return cli_usage_error(usage_create, "create: '%s' is not a GUID", optarg);
                        break;
                case 't': template = optarg; break;
                case 'f': force = true; break;
                case 'o': out = optarg; break;
                case 'i': initial_state = optarg; break;
                case 'd': defaults = optarg; break;
                case 'p': platform_pk = optarg; break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        }
        if (!out || optind != argc)
                return cli_usage_error(usage_create, "create: -o FILE is required, and no other arguments");
        if (initial_state && (dbs[0].n || dbs[1].n || dbs[2].n || dbs[3].n))
                return cli_usage_error(usage_create, "create: --initial-state replaces --pk/--kek/--db/--dbx");
        if (!initial_state && dbs[0].n != 1)
                return cli_usage_error(usage_create, "create: exactly one --pk (or --initial-state) is required");

        /* The four databases as signature lists, from files or from an initial state. */
        uint8_t *esl[4] = { 0 };
        size_t esl_len[4] = { 0 };
        bool present[4] = { false };
        struct shield_varstore *vs = NULL;
        int r = 0;
        if (initial_state) {
                struct shield_initial_state st;
                r = cli_resolve_initial_state(initial_state, defaults, platform_pk, &st);
                if (r)
                        return r;
                const struct shield_is_value *vals[4] = { &st.pk, &st.keks, &st.dbs, &st.dbxs };
                for (size_t k = 0; k < 4 && r == 0; k++) {
                        present[k] = vals[k]->n > 0;
                        if (present[k] && shield_initial_state_esl(vals[k], &owner, &esl[k], &esl_len[k]) < 0) {
                                cli_error("%s: cannot build the %s signature lists", initial_state, dbs[k].name);
                                r = EXIT_BAD_INPUT;
                        }
                }
                shield_initial_state_clear(&st);
        } else {
                for (size_t k = 0; k < 4 && r == 0; k++)
                        if ((present[k] = dbs[k].n > 0))
                                r = build_db(&dbs[k], &owner, &esl[k], &esl_len[k]);
        }
        if (r == 0)
                r = load_store(template, &vs);
        /* Write db, dbx, KEK, then PK: enrolling PK last is what ends setup mode. */
        static const size_t order[] = { 2, 3, 1, 0 };
        for (size_t k = 0; k < ELEMENTS(order) && r == 0; k++) {
                const struct db_input *in = &dbs[order[k]];
                if (!present[order[k]])
                        continue;
                if (esl_len[order[k]] == 0) {
                        /* SetVariable() with no data deletes: an empty database cannot be stored. */
                        cli_error("the %s value is empty; leave it out instead", in->name);
                        r = EXIT_BAD_INPUT;
                        break;
                }
                if (shield_varstore_find(vs, in->name, in->vendor) && !force) {
                        cli_error("%s: already holds %s; use --force to replace it", template, in->name);
                        r = EXIT_BAD_INPUT;
                        break;
                }
                int s = shield_varstore_set(vs, in->name, in->vendor, SHIELD_VAR_SECURE_BOOT_DB, NULL, esl[order[k]],
                                            esl_len[order[k]]);
                if (s == SHIELD_E_LIMIT) {
                        cli_error("%s: the variable store is full: %s needs %zu bytes of data, %zu bytes are free", template,
                                  in->name, esl_len[order[k]], shield_varstore_free_space(vs));
                        r = EXIT_BAD_INPUT;
                } else if (s < 0) {
                        cli_error("%s: cannot write %s: %s", template, in->name, shield_strerror(s));
                        r = EXIT_BAD_INPUT;
                }
        }
        if (r == 0) {
                size_t len;
                const uint8_t *bytes = shield_varstore_bytes(vs, &len);
                if (shield_write_file_atomic(out, bytes, len, 0644) < 0) {
                        cli_error("%s: cannot write", out);
                        r = EXIT_BAD_INPUT;
                } else {
                        printf("%s:", out);
                        for (size_t k = 0; k < 4; k++)
                                if (present[k])
                                        printf(" %s (%zu bytes)", dbs[k].name, esl_len[k]);
                        printf(" written; %zu bytes free\n", shield_varstore_free_space(vs));
                }
        }
        shield_varstore_free(vs);
        for (size_t k = 0; k < 4; k++)
                free(esl[k]);
        return r;
}

static const char *state_name(enum shield_var_state s) {
        switch (s) {
        case SHIELD_VAR_LIVE: return "live";
        case SHIELD_VAR_DELETED: return "deleted";
        case SHIELD_VAR_IN_TRANSITION: return "in-transition";
        case SHIELD_VAR_INCOMPLETE: return "incomplete";
        }
        return "?";
}

static int verb_show(int argc, char **argv) {
        const char *path;
        bool json;
        int parsed = cli_parse_file_json(argc, argv, usage_show, &path, &json);
        if (parsed >= 0)
                return parsed;
        struct shield_varstore *vs = NULL;
        int r = load_store(path, &vs);
        if (r)
                return r;
        json_t *arr = json ? json_array() : NULL;
        if (!json)
                printf("%s: %s variable store, %zu records, %zu bytes free\n", path,
                       shield_varstore_authenticated(vs) ? "authenticated" : "plain", shield_varstore_count(vs),
                       shield_varstore_free_space(vs));
        for (size_t i = 0; i < shield_varstore_count(vs); i++) {
                const struct shield_variable *v = shield_varstore_variable(vs, i);
                char guid[SHIELD_GUID_STRING_SIZE], attrs[64], when[48];
                bool timed = shield_var_time_text(v->timestamp, when, sizeof when);
                const char *gname = shield_guid_name(&v->vendor);
                struct shield_siglist list;
                bool is_db = shield_siglist_parse(v->data, v->data_size, &list, NULL) == 0 && list.n > 0 &&
                             (shield_guid_eq(&v->vendor, &SHIELD_GUID_GLOBAL_VARIABLE) ||
                              shield_guid_eq(&v->vendor, &SHIELD_GUID_IMAGE_SECURITY_DATABASE) ||
                              shield_guid_eq(&v->vendor, &SHIELD_GUID_SHIM_LOCK));
                shield_guid_format(&v->vendor, guid);
                shield_var_attributes_text(v->attributes, attrs, sizeof attrs);
                if (json) {
                        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "name", v->name, "vendor", guid,
                                              "attributes", attrs, "attributes_value", (json_int_t)v->attributes, "state",
                                              state_name(v->state), "size", (json_int_t)v->data_size, "offset",
                                              (json_int_t)v->offset);
                        if (gname)
                                json_object_set_new(o, "vendor_name", json_string(gname));
                        json_object_set_new(o, "raw_state", json_integer(v->raw_state));
                        json_object_set_new(o, "timestamp", timed ? json_string(when) : json_null());
                        if (shield_varstore_authenticated(vs)) {
                                json_object_set_new(o, "monotonic_count", json_integer((json_int_t)v->monotonic_count));
                                json_object_set_new(o, "pubkey_index", json_integer(v->pubkey_index));
                        }
                        if (is_db)
                                json_object_set_new(o, "signatures", cli_siglist_json(&list));
                        else if (v->data_size <= 64) {
                                char hex[129];
                                shield_hex_encode(v->data, v->data_size, hex);
                                json_object_set_new(o, "data", json_string(hex));
                        }
                        json_array_append_new(arr, o);
                } else {
                        printf("%-24s %-36s %-12s %-13s %6zu bytes", v->name, gname ? gname : guid, attrs,
                               state_name(v->state), v->data_size);
                        if (v->data_size == 1)
                                printf("  = %u", v->data[0]);
                        if (timed)
                                printf("  time %s", when);
                        printf("\n");
                        if (is_db && v->state == SHIELD_VAR_LIVE)
                                cli_siglist_print(&list, "    ");
                }
                if (is_db)
                        shield_siglist_clear(&list);
        }
        if (json)
                cli_print_json(json_pack("{s:b, s:I, s:o}", "authenticated", shield_varstore_authenticated(vs), "free_bytes",
                                         (json_int_t)shield_varstore_free_space(vs), "variables", arr));
        shield_varstore_free(vs);
        return EXIT_OK;
}

int cmd_varstore(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "create", "write Secure Boot keys into a store", verb_create },
                { "show", "list a store's variables", verb_show },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
