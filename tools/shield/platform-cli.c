/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's view of the local platform: its state directory and an image's effective keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform-cli.h"
#include "shield/uefi.h"
#include "shield/vm.h"

char *cli_state_dir(void) {
        char *state = shield_state_dir();
        if (!state)
                cli_error("out of memory");
        return state;
}

int cli_effective_state(const char *state, const struct shield_initial_state *st, bool quiet,
                        struct shield_initial_state *ret) {
        struct shield_initial_state defaults = { 0 };
        struct shield_diag diag = { 0 };
        struct shield_reasons warnings = { 0 };
        bool need = !st || !st->pk.set || !st->keks.set || !st->dbs.set || !st->dbxs.set;
        struct shield_initial_state none = { 0 };

        if (need && shield_platform_defaults(state, &defaults, &diag) < 0) {
                cli_error("platform defaults: %s", diag.msg);
                return EXIT_BAD_INPUT;
        }
        int r = shield_initial_state_resolve(st ? st : &none, &defaults, ret, &warnings);
        shield_initial_state_clear(&defaults);
        if (r < 0) {
                cli_error("cannot resolve the initial state: %s", shield_strerror(r));
                shield_reasons_clear(&warnings);
                return EXIT_BAD_INPUT;
        }
        for (size_t i = 0; i < warnings.n && !quiet; i++)
                cli_warn("%s", warnings.items[i].message);
        shield_reasons_clear(&warnings);
        return EXIT_OK;
}

int cli_sb_databases(const struct shield_initial_state *resolved, uint8_t **db, size_t *db_len, uint8_t **dbx,
                     size_t *dbx_len) {
        static const shield_guid owner = { 0 };
        *db = *dbx = NULL;
        *db_len = *dbx_len = 0;
        if (shield_initial_state_esl(&resolved->dbs, &owner, db, db_len) < 0 ||
            shield_initial_state_esl(&resolved->dbxs, &owner, dbx, dbx_len) < 0) {
                free(*db);
                cli_error("cannot build db/dbx from the initial state");
                return EXIT_BAD_INPUT;
        }
        return EXIT_OK;
}
