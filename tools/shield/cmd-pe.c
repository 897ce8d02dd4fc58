/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

int cmd_pe(int argc, char **argv) {
        (void)argc;
        cli_error("%s: not implemented yet", argv[0]);
        return EXIT_BAD_INPUT;
}
