/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

int cmd_quote(int argc, char **argv) {
        (void)argc;
        (void)argv;
        cli_error("quote: not implemented yet");
        return EXIT_BAD_INPUT;
}
