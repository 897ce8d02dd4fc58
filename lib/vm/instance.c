/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instances of images: everything a machine keeps between boots. The disk
 * is a qcow2 overlay over the image's disk (the image never changes), the
 * variable store starts from the image's effective Secure Boot keys, and the
 * vTPM is provisioned once, like a cloud's managed vTPM, so quotes from it
 * carry an AK certificate a verifier can check against the platform CA.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "process.h"
#include "shield/image.h"
#include "shield/keys.h"
#include "shield/tpm.h"
#include "shield/util.h"
#include "shield/varstore.h"
#include "settings.h"
#include "shield/vm.h"

/* The SignatureOwner of the platform's enrolled lists ("Shieldkit platform"). */
static const char PLATFORM_OWNER[] = "5348494c-4444-4b00-8000-504c4154464d";

int shield_platform_ca(const char *state, char **ret_dir, struct shield_diag *diag) {
        char *dir = NULL;
        if (asprintf(&dir, "%s/platform-ca", state) < 0)
                return SHIELD_E_NOMEM;
        int r = shield_mkdir_p(dir, 0700) < 0 ? shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", dir,
                                                                  strerror(errno))
                                               : shield_ca_ensure(dir, "Shieldkit local platform CA", NULL, diag);
        if (r < 0)
                free(dir);
        else
                *ret_dir = dir;
        return r;
}

static int fill_paths(struct shield_instance *inst) {
        if (asprintf(&inst->disk, "%s/disk.qcow2", inst->dir) < 0 || asprintf(&inst->vars, "%s/OVMF_VARS.fd", inst->dir) < 0 ||
            asprintf(&inst->tpm_dir, "%s/tpm", inst->dir) < 0 || asprintf(&inst->serial, "%s/serial.log", inst->dir) < 0)
                return SHIELD_E_NOMEM;
        return 0;
}

void shield_instance_clear(struct shield_instance *inst) {
        if (!inst)
                return;
        shield_instance_settings_clear(&inst->settings);
        free(inst->dir);
        free(inst->image);
        free(inst->image_disk);
        free(inst->disk);
        free(inst->vars);
        free(inst->tpm_dir);
        free(inst->serial);
        free(inst->created);
        memset(inst, 0, sizeof *inst);
}

/* The variable store: the empty template with the image's effective keys enrolled. */
static int write_vars(const char *state, const struct shield_image_record *img, const char *path,
                      struct shield_diag *diag) {
        struct shield_initial_state defaults = { 0 }, resolved = { 0 }, none = { 0 };
        struct shield_varstore *vs = NULL;
        uint8_t *tmpl = NULL;
        size_t len;
        shield_guid owner;
        int r;

        if (shield_guid_parse(PLATFORM_OWNER, &owner) < 0)
                return SHIELD_E_INVAL;
        const struct shield_initial_state *st = img->has_initial_state ? &img->initial_state : &none;
        bool need = !st->pk.set || !st->keks.set || !st->dbs.set || !st->dbxs.set;
        if (need && (r = shield_platform_defaults(state, &defaults, diag)) < 0)
                return r;
        if ((r = shield_initial_state_resolve(st, &defaults, &resolved, NULL)) < 0) {
                r = shield_diag_fail(diag, r, 0, -1, "image %s: its initial state cannot be resolved", img->name);
                goto out;
        }
        if (shield_read_file(SHIELD_OVMF_VARS_TEMPLATE, 64u << 20, &tmpl, &len) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s: %s (install ovmf)", SHIELD_OVMF_VARS_TEMPLATE,
                                     strerror(errno));
                goto out;
        }
        if ((r = shield_varstore_parse(tmpl, len, &vs, diag)) < 0 ||
            (r = shield_initial_state_enroll(vs, &resolved, &owner, diag)) < 0)
                goto out;
        const uint8_t *bytes = shield_varstore_bytes(vs, &len);
        if ((r = shield_write_file_atomic(path, bytes, len, 0600)) < 0)
                r = shield_diag_fail(diag, r, 0, -1, "%s: cannot write", path);
out:
        shield_varstore_free(vs);
        free(tmpl);
        shield_initial_state_clear(&defaults);
        shield_initial_state_clear(&resolved);
        return r;
}

/* The firmware's empty variable store: no PK, setup mode, Secure Boot off. */
static int write_empty_vars(const char *path, struct shield_diag *diag) {
        uint8_t *tmpl = NULL;
        size_t len;
        if (shield_read_file(SHIELD_OVMF_VARS_TEMPLATE, 64u << 20, &tmpl, &len) < 0)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s: %s (install ovmf)", SHIELD_OVMF_VARS_TEMPLATE,
                                        strerror(errno));
        int r = shield_write_file_atomic(path, tmpl, len, 0600);
        free(tmpl);
        return r < 0 ? shield_diag_fail(diag, r, 0, -1, "%s: cannot write", path) : 0;
}

/* A TCP port on 127.0.0.1 that is free now, with the next one free too (swtpm's control port). */
static int free_port_pair(void) {
        for (int attempt = 0; attempt < 50; attempt++) {
                uint16_t r;
                if (shield_random_bytes(&r, sizeof r) < 0)
                        r = (uint16_t)(getpid() + attempt * 7);
                int port = 10000 + (int)(r % 22000);
                bool ok = true;
                for (int k = 0; k < 2 && ok; k++) {
                        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port + k)),
                                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                        ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
                        if (s >= 0)
                                close(s);
                }
                if (ok)
                        return port;
        }
        return -1;
}

static bool port_open(int port) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        if (s >= 0)
                close(s);
        return ok;
}

/*
 * Run the vTPM in tpm_dir as a TCP swtpm on a free loopback port pair: its
 * TCTI into tcti, its process into *ret_pid. Ports lost to another process
 * are retried.
 */
static int vtpm_start(const char *dir, const char *tpm_dir, char tcti[64], int *ret_pid, struct shield_diag *diag) {
        char *log = NULL, *tpmstate = NULL;
        int r = SHIELD_E_SYSTEM;
        if (asprintf(&log, "%s/swtpm.log", dir) < 0 || asprintf(&tpmstate, "dir=%s", tpm_dir) < 0) {
                free(log);
                return SHIELD_E_NOMEM;
        }
        for (int attempt = 0; attempt < 5 && r == SHIELD_E_SYSTEM; attempt++) {
                int port = free_port_pair();
                char server[64], ctrl[64];
                snprintf(server, sizeof server, "type=tcp,port=%d,bindaddr=127.0.0.1", port);
                snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
                const char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", tpmstate, "--server", server,
                                       "--ctrl", ctrl, "--flags", "not-need-init,startup-clear", NULL };
                pid_t pid = port > 0 ? vm_spawn(argv, log) : -1;
                if (pid < 0) {
                        r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "cannot start swtpm: %s", strerror(errno));
                        break;
                }
                bool up = false;
                for (int i = 0; i < 250 && !up && vm_alive(pid, NULL); i++) {
                        up = port_open(port);
                        if (!up)
                                vm_sleep_ms(20);
                }
                if (!up) { /* lost the port to someone else, or swtpm failed: try another */
                        vm_stop_process(pid, 500);
                        continue;
                }
                snprintf(tcti, 64, "swtpm:host=127.0.0.1,port=%d", port);
                *ret_pid = pid;
                r = 0;
        }
        if (r == SHIELD_E_SYSTEM)
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "swtpm did not start on a free port (see %s)", log);
        free(log);
        free(tpmstate);
        return r;
}

int shield_instance_tpm_start(const struct shield_instance *inst, char tcti[64], int *ret_pid,
                              struct shield_diag *diag) {
        if (!inst || !inst->dir || !inst->tpm_dir || !ret_pid)
                return SHIELD_E_INVAL;
        return vtpm_start(inst->dir, inst->tpm_dir, tcti, ret_pid, diag);
}

void shield_instance_tpm_stop(int pid) {
        if (pid > 0)
                vm_stop_process(pid, 2000);
}

/* Manufacture the vTPM and provision EK, AK and their certificates through a TCP swtpm. */
static int provision_tpm(const char *state, const char *name, const char *dir, const char *tpm_dir,
                         struct shield_diag *diag) {
        char *log = NULL, *ca = NULL, *ca_key = NULL, *ca_crt = NULL, *tpmstate = NULL;
        int r;

        if (asprintf(&log, "%s/swtpm.log", dir) < 0 || asprintf(&tpmstate, "dir=%s", tpm_dir) < 0)
                return SHIELD_E_NOMEM;
        if (shield_mkdir_p(tpm_dir, 0700) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", tpm_dir, strerror(errno));
                goto out;
        }
        const char *setup[] = { "swtpm_setup", "--tpm2", "--tpmstate", tpm_dir, "--pcr-banks", SHIELD_VM_TPM_BANKS,
                                "--overwrite", NULL };
        if ((r = shield_run(setup, NULL, diag)) < 0)
                goto out;
        if ((r = shield_platform_ca(state, &ca, diag)) < 0)
                goto out;
        if (asprintf(&ca_key, "%s/ca.key", ca) < 0 || asprintf(&ca_crt, "%s/ca.crt", ca) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        int pid;
        char tcti[64];
        if ((r = vtpm_start(dir, tpm_dir, tcti, &pid, diag)) < 0)
                goto out;
        struct shield_tpm *t = NULL;
        struct shield_tpm_provision_opts o = { .name = name, .ca_key_path = ca_key, .ca_cert_path = ca_crt };
        r = shield_tpm_open(tcti, &t, diag);
        if (r == 0)
                r = shield_tpm_provision(t, &o, diag);
        shield_tpm_close(t);
        vm_stop_process(pid, 2000);
        if (r == SHIELD_E_SYSTEM)
                r = SHIELD_E_TPM;
out:
        free(log);
        free(ca);
        free(ca_key);
        free(ca_crt);
        free(tpmstate);
        return r;
}

static int write_metadata(const struct shield_instance *inst, struct shield_diag *diag) {
        char *path = NULL;
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "format", "shieldkit-instance/1", "name", inst->name,
                              "image", inst->image, "image_disk", inst->image_disk, "created", inst->created,
                              "tpm_banks", SHIELD_VM_TPM_BANKS);
        json_t *settings = vm_settings_to_json(&inst->settings);
        if (j && settings)
                json_object_update(j, settings);
        json_decref(settings);
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        int r = text && asprintf(&path, "%s/instance.json", inst->dir) > 0
                        ? shield_write_file_atomic(path, text, strlen(text), 0644)
                        : SHIELD_E_NOMEM;
        if (r < 0)
                r = shield_diag_fail(diag, r, 0, -1, "%s/instance.json: cannot write", inst->dir);
        free(text);
        free(path);
        return r;
}

int shield_instance_create(const char *state, const char *name, const char *image, const char *dir,
                           void (*progress)(const char *step), struct shield_diag *diag) {
        struct shield_image_record img = { 0 };
        struct shield_instance inst = { 0 };
        struct stat st;
        int r;

        if (!shield_resource_name_valid(name))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                        "\"%s\" is not a valid instance name (a lowercase letter, then up to 62 of "
                                        "a-z 0-9 -)", name ? name : "");
        if ((r = shield_image_load(state, image, &img, diag)) < 0)
                return r;
        snprintf(inst.name, sizeof inst.name, "%s", name);
        shield_instance_settings_default(&inst.settings);
        if (dir ? !(inst.dir = strdup(dir)) : asprintf(&inst.dir, "%s/instances/%s", state, name) < 0) {
                inst.dir = NULL;
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (stat(inst.dir, &st) == 0) {
                r = shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "an instance named %s already exists", name);
                goto out;
        }
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        if ((r = fill_paths(&inst)) < 0 || !(inst.image = strdup(image)) || !(inst.image_disk = strdup(img.disk)) ||
            !(inst.created = strdup(when))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        if (shield_mkdir_p(inst.dir, 0700) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", inst.dir, strerror(errno));
                goto out;
        }
        if (progress)
                progress("copy-on-write disk over the image");
        const char *qemu_img[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", img.disk, inst.disk, NULL };
        if ((r = shield_run(qemu_img, NULL, diag)) < 0)
                goto fail;
        if (progress)
                progress("variable store with the image's Secure Boot keys");
        if ((r = write_vars(state, &img, inst.vars, diag)) < 0)
                goto fail;
        if (progress)
                progress("vTPM: EK and AK, certificates from the platform CA");
        if ((r = provision_tpm(state, name, inst.dir, inst.tpm_dir, diag)) < 0)
                goto fail;
        if ((r = write_metadata(&inst, diag)) < 0)
                goto fail;
        goto out;
fail:
        shield_remove_tree(inst.dir);
out:
        shield_instance_clear(&inst);
        shield_image_record_clear(&img);
        return r;
}

int shield_instance_load(const char *state, const char *name, const char *dir, struct shield_instance *ret,
                         struct shield_diag *diag) {
        struct shield_instance inst = { 0 };
        char *path = NULL;
        uint8_t *text = NULL;
        size_t len;
        json_t *j = NULL;
        int r;

        if (!dir && !shield_resource_name_valid(name))
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "\"%s\" is not a valid instance name", name);
        if (dir ? !(inst.dir = strdup(dir)) : asprintf(&inst.dir, "%s/instances/%s", state, name) < 0) {
                inst.dir = NULL;
                return SHIELD_E_NOMEM;
        }
        if ((r = fill_paths(&inst)) < 0 || asprintf(&path, "%s/instance.json", inst.dir) < 0) {
                r = SHIELD_E_NOMEM;
                goto fail;
        }
        if (shield_read_file(path, 1u << 20, &text, &len) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "no instance named %s", name);
                goto fail;
        }
        json_error_t err;
        const char *n = NULL, *image = NULL, *disk = NULL, *created = NULL;
        j = json_loadb((const char *)text, len, 0, &err);
        if (!j || json_unpack_ex(j, &err, 0, "{s:s, s:s, s:s, s:s}", "name", &n, "image", &image, "image_disk", &disk,
                                 "created", &created) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)err.position, -1, "%s: %s", path, err.text);
                goto fail;
        }
        if ((r = vm_settings_from_json(j, &inst.settings, diag)) < 0)
                goto fail;
        snprintf(inst.name, sizeof inst.name, "%s", n);
        inst.image = strdup(image);
        inst.image_disk = strdup(disk);
        inst.created = strdup(created);
        json_decref(j);
        free(text);
        free(path);
        *ret = inst;
        return 0;
fail:
        json_decref(j);
        free(text);
        free(path);
        shield_instance_clear(&inst);
        return r;
}

int shield_instance_names(const char *state, char ***ret, size_t *ret_n) {
        char *dir = NULL;
        if (asprintf(&dir, "%s/instances", state) < 0)
                return SHIELD_E_NOMEM;
        int r = shield_resource_names(dir, ret, ret_n);
        free(dir);
        return r;
}

int shield_instance_pid(const struct shield_instance *inst) {
        char *path = NULL;
        uint8_t *text = NULL;
        size_t len;
        uint64_t pid = 0;
        if (asprintf(&path, "%s/qemu.pid", inst->dir) < 0)
                return 0;
        if (shield_read_file(path, 64, &text, &len) == 0) {
                while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
                        text[--len] = '\0';
                if (shield_parse_u64((const char *)text, 10, INT32_MAX, &pid) < 0 || kill((pid_t)pid, 0) < 0)
                        pid = 0;
        }
        free(text);
        free(path);
        return (int)pid;
}

int shield_instance_migrate(const char *state, const struct shield_instance *inst, void (*progress)(const char *step),
                            struct shield_diag *diag) {
        struct shield_image_record img = { 0 };
        char *tpm_new = NULL, *vars_new = NULL, *tpm_old = NULL;
        int r;

        if (!state || !inst || !inst->dir)
                return SHIELD_E_INVAL;
        if ((r = shield_image_load(state, inst->image, &img, diag)) < 0)
                return r;
        if (asprintf(&tpm_new, "%s/tpm.migrating", inst->dir) < 0 || asprintf(&vars_new, "%s.migrating", inst->vars) < 0 ||
            asprintf(&tpm_old, "%s/tpm.before-migration", inst->dir) < 0) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        /* Build the new parts beside the old ones, then swap: a failure leaves the instance as it was. */
        shield_remove_tree(tpm_new);
        if (progress)
                progress("variable store rebuilt from the image's initial state");
        if ((r = write_vars(state, &img, vars_new, diag)) < 0)
                goto out;
        if (progress)
                progress("a new vTPM: new EK and AK, certificates from the platform CA");
        if ((r = provision_tpm(state, inst->name, inst->dir, tpm_new, diag)) < 0)
                goto out;
        shield_remove_tree(tpm_old);
        if (rename(inst->tpm_dir, tpm_old) < 0 || rename(tpm_new, inst->tpm_dir) < 0 || rename(vars_new, inst->vars) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: swapping in the new vTPM: %s", inst->dir,
                                     strerror(errno));
                goto out;
        }
        /* Nothing of the old TPM is kept: migration to new hardware keeps no TPM data. */
        shield_remove_tree(tpm_old);
        r = 0;
out:
        if (r < 0) {
                shield_remove_tree(tpm_new);
                if (vars_new)
                        unlink(vars_new);
        }
        free(tpm_new);
        free(vars_new);
        free(tpm_old);
        shield_image_record_clear(&img);
        return r;
}

int shield_instance_apply_settings(const char *state, struct shield_instance *inst,
                                   const struct shield_instance_settings *s, struct shield_diag *diag) {
        struct shield_image_record img = { 0 };
        struct shield_instance_settings next = *s;
        char *tmp = NULL;
        int r;

        if (!state || !inst || !s)
                return SHIELD_E_INVAL;
        if (shield_instance_pid(inst) > 0)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "%s is running: stop it first", inst->name);
        next.nic_rom = s->nic_rom ? strdup(s->nic_rom) : NULL;
        if (s->nic_rom && !next.nic_rom)
                return SHIELD_E_NOMEM;
        if (s->secure_boot != inst->settings.secure_boot) {
                /* Keys in, or a store in setup mode: built beside the old one, then swapped. */
                if ((r = shield_image_load(state, inst->image, &img, diag)) < 0)
                        goto out;
                if (asprintf(&tmp, "%s.new", inst->vars) < 0) {
                        tmp = NULL;
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                r = s->secure_boot ? write_vars(state, &img, tmp, diag) : write_empty_vars(tmp, diag);
                if (r < 0)
                        goto out;
                if (rename(tmp, inst->vars) < 0) {
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", inst->vars, strerror(errno));
                        goto out;
                }
        }
        struct shield_instance_settings old = inst->settings;
        inst->settings = next;
        next = old; /* freed below: the previous settings */
        if ((r = write_metadata(inst, diag)) < 0)
                goto out;
        r = 0;
out:
        if (tmp) {
                unlink(tmp);
                free(tmp);
        }
        shield_instance_settings_clear(&next);
        shield_image_record_clear(&img);
        return r;
}
