/* SPDX-License-Identifier: Apache-2.0 */
/* shield sb check */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shield/initial-state.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"

#define DB_INPUT_MAX (16u << 20)

static const char usage_family[] =
        "Usage: shield sb COMMAND [OPTIONS]\n"
        "\n"
        "Secure Boot verdicts.\n"
        "\n"
        "Commands:\n"
        "  check   decide, offline, whether UEFI firmware would run each image\n"
        "\n"
        "Run 'shield sb COMMAND --help' for details.\n";

static const char usage_check[] =
        "Usage: shield sb check IMAGE… (--initial-state FILE [--defaults DIR] [--platform-pk CERT]\n"
        "                              | --varstore VARS.fd | --db FILE… [--dbx FILE…]) [--json]\n"
        "\n"
        "Make, for every image, the decision UEFI firmware makes under Secure\n"
        "Boot: Fail when the image's Authenticode hash or a certificate its\n"
        "signature chains to (as X.509 or as a TBS hash) is in dbx; Pass when its\n"
        "hash is in db (DB_HASH_MATCH) or a signature that signs this image chains\n"
        "to a db certificate (DB_CERT_MATCH); otherwise Fail (NO_CERT_MATCH).\n"
        "Unsigned images, signatures over another digest and unknown signers are\n"
        "named. One line per image, as firmware consoles print it (several images:\n"
        "each line starts with the file name and \": \"):\n"
        "  SB_EVENT: { \"status\": \"Pass\", \"msg\": …, \"EFI_Image_Type\" : \"FromFixedMedia\",\n"
        "    \"EFI_Image_Path\" : FILE, \"SB_Variable_Match\" : \"DB_CERT_MATCH\",\n"
        "    \"CertSubject\" : CN, \"ImageDigest\" : HEX }\n"
        "CertSubject is the deciding certificate's common name, ImageDigest the\n"
        "Authenticode SHA-256 in upper case.\n"
        "\n"
        "db and dbx come from an image's initial state (defaults applied), from\n"
        "an OVMF variable store, or from files (certificates, signature lists or\n"
        "signed updates).\n"
        "\n"
        "Options:\n"
        "  --initial-state FILE  an image's initial_state.json\n"
        "  --defaults DIR        the platform defaults it may lean on\n"
        "  --platform-pk CERT    the platform PK when it has none\n"
        "  --varstore VARS.fd    the db and dbx variables of a variable store\n"
        "  --db FILE             an allowed certificate or signature list (repeatable)\n"
        "  --dbx FILE            a revoked certificate, hash list or update (repeatable)\n"
        "  --json                a JSON array: per image the SB_EVENT fields, with\n"
        "                        \"File\" first, its \"reason\" and \"signatures\"\n"
        "  -h, --help            this text\n"
        "\n"
        "Exit status: 0 every image passes, 1 at least one fails, 2 bad input.\n"
        "\n"
        "Example:\n"
        "  shield sb check shimx64.efi grubx64.efi --varstore /usr/share/OVMF/OVMF_VARS_4M.ms.fd\n";

static int append_files(const char *const *files, size_t n, uint8_t **esl, size_t *len) {
        shield_guid zero = { 0 };
        for (size_t i = 0; i < n; i++) {
                uint8_t *buf = NULL;
                size_t blen;
                if (cli_read_file(files[i], DB_INPUT_MAX, &buf, &blen) != 0)
                        return EXIT_BAD_INPUT;
                int r = shield_siglist_append_input(esl, len, &zero, buf, blen, NULL);
                free(buf);
                if (r < 0) {
                        cli_error("%s: not a certificate, signature list or signed update", files[i]);
                        return EXIT_BAD_INPUT;
                }
        }
        return 0;
}

static int from_varstore(const char *path, uint8_t **db, size_t *db_len, uint8_t **dbx, size_t *dbx_len) {
        uint8_t *buf = NULL;
        size_t len;
        struct shield_varstore *vs = NULL;
        struct shield_diag diag = { 0 };

        if (cli_read_file(path, SHIELD_VARSTORE_MAX, &buf, &len) != 0)
                return EXIT_BAD_INPUT;
        int r = shield_varstore_parse(buf, len, &vs, &diag);
        free(buf);
        if (r < 0)
                return cli_parse_failed(path, r, &diag);
        const struct shield_variable *v[2] = {
                shield_varstore_find(vs, "db", &SHIELD_GUID_IMAGE_SECURITY_DATABASE),
                shield_varstore_find(vs, "dbx", &SHIELD_GUID_IMAGE_SECURITY_DATABASE),
        };
        uint8_t **out[2] = { db, dbx };
        size_t *out_len[2] = { db_len, dbx_len };
        for (int k = 0; k < 2; k++)
                if (v[k] && v[k]->data_size) {
                        *out[k] = malloc(v[k]->data_size);
                        if (!*out[k]) {
                                shield_varstore_free(vs);
                                return EXIT_BAD_INPUT;
                        }
                        memcpy(*out[k], v[k]->data, v[k]->data_size);
                        *out_len[k] = v[k]->data_size;
                }
        shield_varstore_free(vs);
        return 0;
}

static int verb_check(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },           { "json", no_argument, NULL, 'j' },
                { "initial-state", required_argument, NULL, 'i' }, { "defaults", required_argument, NULL, 'd' },
                { "platform-pk", required_argument, NULL, 'p' }, { "varstore", required_argument, NULL, 'v' },
                { "db", required_argument, NULL, 'D' },        { "dbx", required_argument, NULL, 'X' }, {},
        };
        const char *initial_state = NULL, *defaults = NULL, *platform_pk = NULL, *varstore = NULL;
        const char *db_files[64], *dbx_files[64];
        size_t n_db = 0, n_dbx = 0;
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = cli_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h': fputs(usage_check, stdout); return EXIT_OK;
                case 'j': json = true; break;
                case 'i': initial_state = optarg; break;
                case 'd': defaults = optarg; break;
                case 'p': platform_pk = optarg; break;
                case 'v': varstore = optarg; break;
                case 'D':
                        if (n_db == ELEMENTS(db_files))
                                return cli_usage_error(usage_check, "check: too many --db");
                        db_files[n_db++] = optarg;
                        break;
                case 'X':
                        if (n_dbx == ELEMENTS(dbx_files))
                                return cli_usage_error(usage_check, "check: too many --dbx");
                        dbx_files[n_dbx++] = optarg;
                        break;
                default: return EXIT_BAD_INPUT; /* said by cli_getopt */
                }
        int sources = (initial_state != NULL) + (varstore != NULL) + (n_db || n_dbx);
        if (sources != 1)
                return cli_usage_error(usage_check, "check: give exactly one of --initial-state, --varstore, or --db/--dbx");
        if (optind == argc)
                return cli_usage_error(usage_check, "check: no IMAGE given");

        uint8_t *db = NULL, *dbx = NULL;
        size_t db_len = 0, dbx_len = 0;
        int r = 0;
        if (initial_state) {
                struct shield_initial_state st;
                shield_guid zero = { 0 };
                r = cli_resolve_initial_state(initial_state, defaults, platform_pk, &st);
                if (r == 0 && (shield_initial_state_esl(&st.dbs, &zero, &db, &db_len) < 0 ||
                               shield_initial_state_esl(&st.dbxs, &zero, &dbx, &dbx_len) < 0))
                        r = EXIT_BAD_INPUT;
                if (!r || r == EXIT_BAD_INPUT)
                        shield_initial_state_clear(&st);
        } else if (varstore) {
                r = from_varstore(varstore, &db, &db_len, &dbx, &dbx_len);
        } else {
                r = append_files(db_files, n_db, &db, &db_len);
                if (r == 0)
                        r = append_files(dbx_files, n_dbx, &dbx, &dbx_len);
        }
        if (r)
                goto out;

        struct shield_sb_databases dbs = { db, db_len, dbx, dbx_len };
        json_t *arr = json ? json_array() : NULL;
        bool all_pass = true;
        for (int i = optind; i < argc; i++) {
                uint8_t *img = NULL;
                size_t len;
                struct shield_sb_verdict v;
                struct shield_diag diag = { 0 };
                if (cli_read_file(argv[i], SHIELD_PE_MAX, &img, &len) != 0) {
                        r = EXIT_BAD_INPUT;
                        continue;
                }
                int k = shield_sb_check(img, len, &dbs, &v, &diag);
                free(img);
                if (k < 0) {
                        r = cli_parse_failed(argv[i], k, &diag);
                        continue;
                }
                all_pass &= v.pass;
                struct shield_sb_event e;
                shield_sb_event_from_verdict(&v, argv[i], &e);
                char *line = shield_sb_event_line(&e);
                if (!line) {
                        cli_error("out of memory");
                        r = EXIT_BAD_INPUT;
                        continue;
                }
                if (json) {
                        /* The SB_EVENT object itself (the line is its one rendering), named by "File" first. */
                        json_t *o = json_pack("{s:s}", "File", argv[i]);
                        json_t *sb = json_loads(strchr(line, '{'), 0, NULL);
                        json_object_update(o, sb);
                        json_object_set_new(o, "reason", json_string(v.reason));
                        json_object_set_new(o, "signatures", json_integer((json_int_t)v.n_signatures));
                        json_decref(sb);
                        json_array_append_new(arr, o);
                } else {
                        /* One image: the console's line as it is; several: each line names its file first. */
                        if (argc - optind > 1)
                                printf("%s: ", argv[i]);
                        printf("%s\n", line);
                        fprintf(stderr, "%s: %s: %s\n", argv[i], v.pass ? "Pass" : "Fail", v.reason);
                }
                free(line);
        }
        if (json)
                cli_print_json(arr);
        if (r == 0)
                r = all_pass ? EXIT_OK : EXIT_VERIFY_FAILED;
out:
        free(db);
        free(dbx);
        return r;
}

int cmd_sb(int argc, char **argv) {
        static const struct cli_verb verbs[] = {
                { "check", "would firmware run these images?", verb_check },
        };
        return cli_dispatch(argc, argv, usage_family, verbs, ELEMENTS(verbs));
}
