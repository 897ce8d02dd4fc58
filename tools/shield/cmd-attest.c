/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

int cmd_attest(int argc, char **argv) {
        (void)argc;
        (void)argv;
        cli_error("attest: not implemented yet");
        return EXIT_BAD_INPUT;
}
