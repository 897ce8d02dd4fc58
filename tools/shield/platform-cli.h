/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/initial-state.h"

/* The platform state directory (shield_state_dir), or NULL after printing an error. */
char *cli_state_dir(void);

/* st (NULL: nothing set) with the platform defaults filling the gaps; warnings printed unless quiet. EXIT_* code. */
int cli_effective_state(const char *state, const struct shield_initial_state *st, bool quiet,
                        struct shield_initial_state *ret);

/* db and dbx of a resolved state as signature lists (malloc'd), for shield_sb_check. EXIT_* code. */
int cli_sb_databases(const struct shield_initial_state *resolved, uint8_t **db, size_t *db_len, uint8_t **dbx,
                     size_t *dbx_len);
