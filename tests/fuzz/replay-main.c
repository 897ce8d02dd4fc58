/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays a fuzz target's committed corpus (every file of the directories
 * or files given) without libFuzzer, so the ordinary suite under gcc and
 * the sanitizers exercises every parser on every seed and past crash.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shield/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *count) {
        uint8_t *buf = NULL;
        size_t len = 0;

        if (shield_read_file(path, 64u << 20, &buf, &len) < 0) {
                fprintf(stderr, "replay: cannot read %s\n", path);
                return -1;
        }
        /* A private copy of exactly len bytes lets ASan see reads past the end. */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) {
                free(buf);
                return -1;
        }
        memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        (*count)++;
        return 0;
}

static int run_path(const char *path, unsigned *count) {
        struct stat st;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "replay: %s: not found\n", path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path, count);

        struct dirent **names = NULL;
        int n = scandir(path, &names, NULL, alphasort), rc = 0;
        if (n < 0)
                return -1;
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        char *child = NULL;
                        if (asprintf(&child, "%s/%s", path, names[i]->d_name) < 0)
                                rc = -1;
                        else if (run_path(child, count) < 0)
                                rc = -1;
                        free(child);
                }
                free(names[i]);
        }
        free(names);
        return rc;
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int rc = 0;

        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &count) < 0)
                        rc = 1;
        printf("replayed %u inputs\n", count);
        if (count == 0) {
                fprintf(stderr, "replay: empty corpus\n");
                return 1;
        }
        return rc;
}
