/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run a helper program (mkfs.fat, mcopy, qemu-img, …) and wait for it.
 * Its stderr is kept so a failure can say what the tool said, not only
 * that it failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shield/error.h"
#include "shield/util.h"

extern char **environ;

/* The last non-empty line of what the tool wrote to stderr, for the message. */
static void last_line(int fd, char *out, size_t size) {
        char buf[4096];
        size_t used = 0;
        ssize_t n;

        out[0] = '\0';
        lseek(fd, 0, SEEK_SET);
        while ((n = read(fd, buf + used, sizeof buf - 1 - used)) > 0) {
                used += (size_t)n;
                if (used == sizeof buf - 1) { /* keep the tail */
                        memmove(buf, buf + sizeof buf / 2, used - sizeof buf / 2);
                        used -= sizeof buf / 2;
                }
        }
        buf[used] = '\0';
        while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == '\r'))
                buf[--used] = '\0';
        char *nl = strrchr(buf, '\n');
        const char *line = nl ? nl + 1 : buf;
        size_t keep = strnlen(line, size - 1);
        memcpy(out, line, keep);
        out[keep] = '\0';
}

int shield_run(const char *const argv[], const char *const env_extra[], struct shield_diag *diag) {
        if (!argv || !argv[0])
                return SHIELD_E_INVAL;

        char errpath[] = "/tmp/shield-run-XXXXXX";
        int errfd = mkstemp(errpath);
        if (errfd < 0)
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "temporary file: %s", strerror(errno));
        unlink(errpath);

        /* environ plus env_extra (NAME=VALUE), which wins over the same name in environ. */
        size_t n_env = 0, n_extra = 0;
        while (environ[n_env])
                n_env++;
        while (env_extra && env_extra[n_extra])
                n_extra++;
        char **envp = calloc(n_env + n_extra + 1, sizeof *envp);
        if (!envp) {
                close(errfd);
                return SHIELD_E_NOMEM;
        }
        size_t k = 0;
        for (size_t i = 0; i < n_extra; i++)
                envp[k++] = (char *)env_extra[i];
        for (size_t i = 0; i < n_env; i++) {
                bool shadowed = false;
                for (size_t j = 0; j < n_extra && !shadowed; j++) {
                        const char *eq = strchr(env_extra[j], '=');
                        size_t nl = eq ? (size_t)(eq - env_extra[j]) + 1 : strlen(env_extra[j]);
                        shadowed = strncmp(environ[i], env_extra[j], nl) == 0;
                }
                if (!shadowed)
                        envp[k++] = environ[i];
        }

        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);

        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        free(envp);
        if (r != 0) {
                close(errfd);
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "cannot run %s: %s", argv[0], strerror(r));
        }

        int status;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        close(errfd);
                        return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "waiting for %s: %s", argv[0],
                                                strerror(errno));
                }
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                close(errfd);
                return 0;
        }
        char said[512];
        last_line(errfd, said, sizeof said);
        close(errfd);
        if (WIFEXITED(status))
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s failed (exit %d)%s%s", argv[0],
                                        WEXITSTATUS(status), said[0] ? ": " : "", said);
        return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s killed by signal %d", argv[0],
                                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
