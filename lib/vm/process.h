/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Background helper processes of a VM (swtpm, QEMU). Internal to lib/vm. */
#include <stdbool.h>
#include <sys/types.h>

/* Start argv[0] (PATH) with stdin /dev/null and stdout+stderr appended to log; -1 with errno on failure. */
pid_t vm_spawn(const char *const argv[], const char *log);

/* True while pid runs; reaps it (storing its wait status in *status when given) once it has ended. */
bool vm_alive(pid_t pid, int *status);

/* SIGTERM, wait up to grace_ms, then SIGKILL; reaps it. */
void vm_stop_process(pid_t pid, unsigned grace_ms);

/* Sleep ms milliseconds. */
void vm_sleep_ms(unsigned ms);

/* Seconds on the monotonic clock. */
double vm_now(void);
