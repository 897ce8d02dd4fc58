/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One boot of an instance: swtpm on the instance's TPM state, QEMU with
 * OVMF's secure-boot build, and a watch on the serial console. The firmware
 * never says "refused" and exits: it prints the refusal and waits at its
 * boot manager forever, so the console is the only way to end such a boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"
#include "shield/util.h"
#include "shield/vm.h"

/* What OVMF prints when Secure Boot refuses the boot program (../shared/notes/firmware-harness.md). */
static const char *const refusals[] = {
        "Access Denied",
        "Security Violation",
        "Press any key to enter the Boot Manager Menu",
};

/* Where the firmware hands over to the boot program, for timing. */
static const char *const started[] = { "SHIELD-BEGIN info", "SHIELD-LINUX-INIT", "EFI stub:" };

struct run {
        char *sock, *tpm_log, *qemu_log, *nonce_file, *tpmstate, *tpmsock_opt, *fwcfg, *code, *vars, *drive, *mem, *nic;
        pid_t swtpm, qemu;
};

static void run_clear(struct run *r) {
        vm_stop_process(r->qemu, 3000);
        vm_stop_process(r->swtpm, 2000);
        if (r->nonce_file)
                unlink(r->nonce_file);
        if (r->sock)
                unlink(r->sock);
        free(r->sock);
        free(r->nic);
        free(r->tpm_log);
        free(r->qemu_log);
        free(r->nonce_file);
        free(r->tpmstate);
        free(r->tpmsock_opt);
        free(r->fwcfg);
        free(r->code);
        free(r->vars);
        free(r->drive);
        free(r->mem);
        memset(r, 0, sizeof *r);
}

/* Start swtpm and QEMU; the console goes to inst->serial (truncated first). */
static int launch(const struct shield_instance *inst, const uint8_t *nonce, size_t nonce_len, unsigned memory_mib,
                  bool detach, struct run *run, struct shield_diag *diag) {
        struct stat st;
        if (stat(SHIELD_OVMF_CODE, &st) < 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s is missing (install ovmf)", SHIELD_OVMF_CODE);
        if (asprintf(&run->sock, "%s/swtpm.sock", inst->dir) < 0 || asprintf(&run->tpm_log, "%s/swtpm.log", inst->dir) < 0 ||
            asprintf(&run->qemu_log, "%s/qemu.log", inst->dir) < 0 || asprintf(&run->tpmstate, "dir=%s", inst->tpm_dir) < 0 ||
            asprintf(&run->tpmsock_opt, "type=unixio,path=%s", run->sock) < 0 ||
            asprintf(&run->code, "if=pflash,format=raw,unit=0,readonly=on,file=%s", SHIELD_OVMF_CODE) < 0 ||
            asprintf(&run->vars, "if=pflash,format=raw,unit=1,file=%s", inst->vars) < 0 ||
            asprintf(&run->drive, "file=%s,format=qcow2,if=none,id=d0", inst->disk) < 0 ||
            asprintf(&run->mem, "%u", memory_mib ? memory_mib : 512) < 0)
                return SHIELD_E_NOMEM;
        if (nonce) {
                if (asprintf(&run->nonce_file, "%s/nonce.bin", inst->dir) < 0 ||
                    asprintf(&run->fwcfg, "name=opt/shieldkit/nonce,file=%s", run->nonce_file) < 0)
                        return SHIELD_E_NOMEM;
                if (shield_write_file_atomic(run->nonce_file, nonce, nonce_len, 0600) < 0)
                        return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: cannot write", run->nonce_file);
        }
        unlink(run->sock);
        int fd = open(inst->serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", inst->serial, strerror(errno));
        close(fd);

        if (inst->settings.vtpm) {
                /* --terminate: swtpm ends with QEMU's connection, so a crashed QEMU leaves nothing behind. */
                const char *swtpm[] = { "swtpm", "socket", "--tpm2", "--tpmstate", run->tpmstate, "--ctrl", run->tpmsock_opt,
                                        "--terminate", NULL };
                if ((run->swtpm = vm_spawn(swtpm, run->tpm_log)) < 0)
                        return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "cannot start swtpm: %s", strerror(errno));
                for (int i = 0; i < 250 && stat(run->sock, &st) < 0; i++) {
                        if (!vm_alive(run->swtpm, NULL))
                                return shield_diag_fail(diag, SHIELD_E_TPM, 0, -1, "swtpm ended at start (see %s)", run->tpm_log);
                        vm_sleep_ms(20);
                }
        }
        char serial[4200], chardev[4200];
        snprintf(serial, sizeof serial, "file:%s", inst->serial);
        snprintf(chardev, sizeof chardev, "socket,id=chrtpm,path=%s", run->sock);
        const char *argv[64] = {
                "qemu-system-x86_64", "-accel", "tcg", "-machine", "q35,smm=on", "-m", run->mem, "-nodefaults",
                "-vga", "none", "-display", "none", "-no-reboot",
                "-global", "driver=cfi.pflash01,property=secure,value=on", "-global", "ICH9-LPC.disable_s3=1",
                "-drive", run->code, "-drive", run->vars,
                "-drive", run->drive, "-device", "virtio-blk-pci,drive=d0,bootindex=1",
                "-serial", serial,
        };
        size_t n = 0;
        while (argv[n])
                n++;
        if (inst->settings.vtpm) {
                argv[n++] = "-chardev";
                argv[n++] = chardev;
                argv[n++] = "-tpmdev";
                argv[n++] = "emulator,id=tpm0,chardev=chrtpm";
                argv[n++] = "-device";
                argv[n++] = "tpm-tis,tpmdev=tpm0";
        }
        if (inst->settings.nic) {
                /* A NIC with no network backend: its option ROM is what the firmware judges. */
                const char *rom = inst->settings.nic_rom ? inst->settings.nic_rom : SHIELD_VM_NIC_ROM_DEFAULT;
                if (asprintf(&run->nic, "virtio-net-pci,addr=0x%x,romfile=%s", SHIELD_VM_NIC_PCI_SLOT, rom) < 0) {
                        run->nic = NULL;
                        return SHIELD_E_NOMEM;
                }
                argv[n++] = "-device";
                argv[n++] = run->nic;
        }
        if (run->fwcfg) {
                argv[n++] = "-fw_cfg";
                argv[n++] = run->fwcfg;
        }
        (void)detach;
        argv[n] = NULL;
        if ((run->qemu = vm_spawn(argv, run->qemu_log)) < 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "cannot start QEMU: %s", strerror(errno));
        return 0;
}

/* A Ctrl-C (or kill) while a boot runs: stop QEMU and swtpm before going, never leave them behind. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
        interrupted = sig;
}

static const char *find_any(const char *text, const char *const *needles, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strstr(text, needles[i]))
                        return needles[i];
        return NULL;
}

int shield_instance_boot(const struct shield_instance *inst, const struct shield_boot_opts *o,
                         struct shield_boot_result *ret, struct shield_diag *diag) {
        struct run run = { 0 };
        struct shield_boot_result res = { 0 };
        double t0 = vm_now(), timeout = o && o->timeout_s ? o->timeout_s : 90;
        int r;

        if (shield_instance_pid(inst) > 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "instance %s is running: stop it first", inst->name);
        if ((r = launch(inst, o ? o->nonce : NULL, o ? o->nonce_len : 0, o ? o->memory_mib : 0, false, &run, diag)) < 0) {
                run_clear(&run);
                return r;
        }
        if (o && o->progress)
                o->progress("booting OVMF + swtpm under TCG emulation", 0);
        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term, old_hup;
        sigemptyset(&sa.sa_mask);
        interrupted = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);

        bool told_started = false;
        for (;;) {
                uint8_t *text = NULL;
                size_t len = 0;
                int status = 0;
                bool alive = vm_alive(run.qemu, &status);
                if (shield_read_file(inst->serial, 512u << 20, &text, &len) < 0)
                        text = NULL;
                const char *s = text ? (const char *)text : "";
                double now = vm_now() - t0;
                if (!told_started && find_any(s, started, sizeof started / sizeof started[0])) {
                        told_started = true;
                        res.firmware_seconds = now;
                        if (o && o->progress)
                                o->progress("boot program running", now);
                }
                const char *refusal = find_any(s, refusals, sizeof refusals / sizeof refusals[0]);
                if (strstr(s, "SHIELD-DONE") || (o && o->until && strstr(s, o->until))) {
                        res.outcome = SHIELD_BOOT_DONE;
                } else if (refusal) {
                        res.outcome = SHIELD_BOOT_REFUSED;
                        if (!res.firmware_seconds)
                                res.firmware_seconds = now;
                        /* The whole line OVMF printed, for the user. */
                        const char *line = strstr(s, refusal);
                        while (line > s && line[-1] != '\n')
                                line--;
                        size_t ll = strcspn(line, "\r\n");
                        snprintf(res.detail, sizeof res.detail, "%.*s", (int)(ll < 200 ? ll : 200), line);
                } else if (!alive) {
                        res.outcome = SHIELD_BOOT_EXITED;
                        snprintf(res.detail, sizeof res.detail, "QEMU ended (status %d) before the boot finished; see %s",
                                 status, run.qemu_log);
                } else if (interrupted) {
                        res.outcome = SHIELD_BOOT_TIMEOUT;
                        snprintf(res.detail, sizeof res.detail, "interrupted by signal %d", (int)interrupted);
                } else if (now > timeout) {
                        res.outcome = SHIELD_BOOT_TIMEOUT;
                        snprintf(res.detail, sizeof res.detail, "no result within %.0f s", timeout);
                } else {
                        free(text);
                        vm_sleep_ms(50);
                        continue;
                }
                res.seconds = now;
                /* The agent powers off by itself after SHIELD-DONE; give it a moment before stopping QEMU. */
                for (int i = 0; res.outcome == SHIELD_BOOT_DONE && i < 40 && vm_alive(run.qemu, NULL); i++)
                        vm_sleep_ms(25);
                run_clear(&run);
                free(text);
                text = NULL;
                if (shield_read_file(inst->serial, 512u << 20, &res.console, &res.console_len) < 0)
                        res.console = NULL;
                break;
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        *ret = res;
        return 0;
}

void shield_boot_result_clear(struct shield_boot_result *r) {
        if (!r)
                return;
        free(r->console);
        memset(r, 0, sizeof *r);
}

int shield_instance_start(const struct shield_instance *inst, unsigned memory_mib, struct shield_diag *diag) {
        struct run run = { 0 };
        char *pidfile = NULL;
        int r;

        if (shield_instance_pid(inst) > 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "instance %s is already running", inst->name);
        if ((r = launch(inst, NULL, 0, memory_mib, true, &run, diag)) < 0) {
                run_clear(&run);
                return r;
        }
        /* Both pids: swtpm ends with QEMU's connection, but only once QEMU has connected. */
        char pid[32], tpm_pid[32];
        snprintf(pid, sizeof pid, "%d\n", (int)run.qemu);
        snprintf(tpm_pid, sizeof tpm_pid, "%d\n", (int)run.swtpm);
        char *tpm_pidfile = NULL;
        if (asprintf(&pidfile, "%s/qemu.pid", inst->dir) < 0 || asprintf(&tpm_pidfile, "%s/swtpm.pid", inst->dir) < 0 ||
            shield_write_file_atomic(tpm_pidfile, tpm_pid, strlen(tpm_pid), 0644) < 0 ||
            shield_write_file_atomic(pidfile, pid, strlen(pid), 0644) < 0) {
                run_clear(&run);
                free(pidfile);
                free(tpm_pidfile);
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s/qemu.pid: cannot write", inst->dir);
        }
        free(pidfile);
        free(tpm_pidfile);
        /* Leave both running. */
        run.qemu = run.swtpm = 0;
        run_clear(&run);
        return 0;
}

int shield_instance_stop(const struct shield_instance *inst, struct shield_diag *diag) {
        int pid = shield_instance_pid(inst);
        char *pidfile = NULL;
        if (pid <= 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "instance %s is not running", inst->name);
        vm_stop_process(pid, 5000);
        if (asprintf(&pidfile, "%s/qemu.pid", inst->dir) > 0)
                unlink(pidfile);
        free(pidfile);
        /* swtpm: stop it too if it is still the process we started (it may never have seen QEMU connect). */
        uint8_t *text = NULL;
        size_t len;
        uint64_t tpm_pid = 0;
        if (asprintf(&pidfile, "%s/swtpm.pid", inst->dir) > 0 && shield_read_file(pidfile, 64, &text, &len) == 0) {
                while (len && text[len - 1] == '\n')
                        text[--len] = '\0';
                char exe[64], cmd[256] = "";
                snprintf(exe, sizeof exe, "/proc/%s/cmdline", (const char *)text);
                FILE *f = fopen(exe, "re");
                if (f) {
                        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
                        cmd[n] = '\0';
                        fclose(f);
                }
                if (strcmp(cmd, "swtpm") == 0 && shield_parse_u64((const char *)text, 10, INT32_MAX, &tpm_pid) == 0)
                        vm_stop_process((pid_t)tpm_pid, 2000);
                unlink(pidfile);
        }
        free(text);
        free(pidfile);
        return 0;
}
