/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The local shielded-VM platform: where its state lives, its platform key
 * and default Secure Boot values, the image registry and instances (an
 * overlay disk, an OVMF variable store and a vTPM), and one boot under QEMU.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/initial-state.h"

#define SHIELD_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define SHIELD_OVMF_VARS_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define SHIELD_OVMF_VARS_MS "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"

/*
 * The platform's state directory: $SHIELD_STATE_DIR, else
 * $XDG_STATE_HOME/shieldkit, else ~/.local/state/shieldkit. malloc'd.
 */
char *shield_state_dir(void);

/* mkdir -p with mode for the last component. */
__attribute__((warn_unused_result))
int shield_mkdir_p(const char *path, unsigned mode);

/* rm -rf of a directory tree the platform owns (instances, scratch). */
int shield_remove_tree(const char *path);

/*
 * The platform's PK certificate (DER), made once: STATE/platform-pk/PK.der
 * with its key PK.key (0600), RSA-2048 self-signed. This is the PK an
 * image gets when its initial state leaves pk unset.
 */
__attribute__((warn_unused_result))
int shield_platform_pk(const char *state, uint8_t **ret_der, size_t *ret_len, struct shield_diag *diag);

/*
 * The platform defaults (see shield_initial_state_defaults) with the
 * platform PK. The directory is $SHIELD_DEFAULTS_DIR when set, else
 * STATE/platform-defaults, filled once from the Microsoft certificates and
 * dbx that Debian's OVMF_VARS_4M.ms.fd carries.
 */
__attribute__((warn_unused_result))
int shield_platform_defaults(const char *state, struct shield_initial_state *ret, struct shield_diag *diag);
