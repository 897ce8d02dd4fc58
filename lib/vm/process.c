/* SPDX-License-Identifier: Apache-2.0 */
/* Start, watch and stop the helper processes a VM needs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"

extern char **environ;

pid_t vm_spawn(const char *const argv[], const char *log) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        pid_t pid;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
        posix_spawnattr_init(&attr);
        /* Its own process group: a Ctrl-C at the terminal reaches us, and we stop it in order. */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        int r = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0) {
                errno = r;
                return -1;
        }
        return pid;
}

bool vm_alive(pid_t pid, int *status) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == 0)
                return true;
        if (r == pid && status)
                *status = st;
        if (r < 0 && errno == ECHILD)
                return kill(pid, 0) == 0; /* not our child (vm start): is it still there? */
        return false;
}

void vm_sleep_ms(unsigned ms) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

double vm_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vm_stop_process(pid_t pid, unsigned grace_ms) {
        if (pid <= 0 || !vm_alive(pid, NULL))
                return;
        kill(pid, SIGTERM);
        for (unsigned waited = 0; waited < grace_ms; waited += 20) {
                if (!vm_alive(pid, NULL))
                        return;
                vm_sleep_ms(20);
        }
        kill(pid, SIGKILL);
        for (unsigned waited = 0; waited < 2000 && vm_alive(pid, NULL); waited += 20)
                vm_sleep_ms(20);
}
