/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SB_EVENT lines of an instance's boot, from what was really there: the
 * db and dbx of the instance's own variable store (what its firmware read),
 * and the executables' bytes from the instance's own disk (its qcow2
 * overlay, written out as a raw image for lib/disk to read), not the image's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shield/disk.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"
#include "shield/vm.h"

int shield_instance_sb_events(const struct shield_instance *inst, const uint8_t *eventlog, size_t eventlog_len,
                              const uint8_t *console, size_t console_len, struct shield_sb_events *ret,
                              struct shield_diag *diag) {
        if (!inst || !ret)
                return SHIELD_E_INVAL;
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_varstore *vs = NULL;
        struct shield_blockdev dev = { 0 };
        char *raw = NULL;
        bool have_raw = false;
        int r = shield_read_file(inst->vars, SHIELD_VARSTORE_MAX, &buf, &len);
        if (r < 0) {
                shield_diag_fail(diag, r, 0, -1, "%s: cannot be read", inst->vars);
                goto out;
        }
        if ((r = shield_varstore_parse(buf, len, &vs, diag)) < 0)
                goto out;
        const uint8_t *data[2] = { NULL, NULL };
        size_t size[2] = { 0, 0 };
        static const char *const names[2] = { "db", "dbx" };
        for (int k = 0; k < 2; k++)
                if (shield_varstore_get(vs, names[k], &SHIELD_GUID_IMAGE_SECURITY_DATABASE, &data[k], &size[k], NULL) < 0) {
                        data[k] = NULL;
                        size[k] = 0;
                }
        struct shield_sb_databases dbs = { data[0], size[0], data[1], size[1] };

        /* qemu-img writes the overlay over its backing image as one sparse raw file. */
        if (asprintf(&raw, "%s/.sb-disk-%ld.raw", inst->dir, (long)getpid()) < 0) {
                raw = NULL;
                r = SHIELD_E_NOMEM;
                goto out;
        }
        const char *convert[] = { "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", inst->disk, raw, NULL };
        struct shield_diag d = { 0 };
        have_raw = shield_run(convert, NULL, &d) == 0 && shield_blockdev_open_file(raw, &dev, &d) == 0;
        /* The NIC's option ROM, as QEMU gave it to the firmware. */
        uint8_t *rom = NULL;
        size_t rom_len = 0;
        struct shield_sb_rom roms[1];
        size_t n_roms = 0;
        if (inst->settings.nic &&
            shield_read_file(inst->settings.nic_rom ? inst->settings.nic_rom : SHIELD_VM_NIC_ROM_DEFAULT,
                             SHIELD_OPTION_ROM_MAX, &rom, &rom_len) == 0)
                roms[n_roms++] = (struct shield_sb_rom){ SHIELD_VM_NIC_PCI_PATH, rom, rom_len };
        struct shield_sb_boot b = { .eventlog = eventlog, .eventlog_len = eventlog_len, .console = console,
                                    .console_len = console_len, .disk = have_raw ? &dev : NULL, .dbs = &dbs,
                                    .roms = roms, .n_roms = n_roms };
        r = shield_sb_boot_events(&b, ret, diag);
        free(rom);
out:
        if (have_raw)
                shield_blockdev_close(&dev);
        if (raw)
                unlink(raw);
        free(raw);
        shield_varstore_free(vs);
        free(buf);
        return r;
}
