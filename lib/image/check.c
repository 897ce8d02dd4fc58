/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What keeps a disk from being a shielded image, in the order a firmware
 * meets it: the partition table, the ESP, its file system, the bootloader,
 * and Secure Boot's verdict on the bootloader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/disk.h"
#include "shield/image.h"
#include "shield/pe.h"
#include "shield/secureboot.h"

#define FIND(c, code, ...) shield_reasons_add(&(c)->findings, code, SHIELD_SEV_ERROR, 0, -1, -1, SIZE_MAX, __VA_ARGS__)

/* path: the bootloader's device path from the disk on, as the firmware's SB_EVENT line names it. */
static int check_esp(struct shield_image_check *c, const struct shield_blockdev *dev,
                     const struct shield_sb_databases *dbs, const char *path) {
        struct shield_fat *fat = NULL;
        struct shield_diag d = { 0 };
        int r;

        if (shield_fat_open(dev, c->esp_offset, c->esp_size, &fat, &d) < 0)
                return FIND(c, "esp-not-fat", "the EFI System Partition (partition %u) is not FAT: %s (disk offset %zu)",
                            c->esp_index, d.msg, d.offset);
        snprintf(c->esp_fs, sizeof c->esp_fs, "%s", shield_fat_type_name(fat));
        c->features_needed = SHIELD_FEATURE_UEFI_COMPATIBLE;
        bool is_dir;
        if (shield_fat_stat(fat, SHIELD_WINDOWS_BOOTMGR_PATH, &is_dir, NULL, NULL) == 0 && !is_dir)
                c->features_needed |= SHIELD_FEATURE_WINDOWS;

        memset(&d, 0, sizeof d);
        r = shield_fat_read_file(fat, SHIELD_BOOTLOADER_PATH, SHIELD_BOOTLOADER_MAX, &c->bootloader,
                                 &c->bootloader_len, &d);
        shield_fat_close(fat);
        if (r == SHIELD_E_NOT_FOUND)
                return FIND(c, "bootloader-missing", "no bootloader at %s on the EFI System Partition (%s)",
                            SHIELD_BOOTLOADER_PATH, d.msg);
        if (r < 0)
                return FIND(c, "bootloader-unreadable", "%s cannot be read: %s (disk offset %zu)", SHIELD_BOOTLOADER_PATH,
                            d.msg, d.offset);
        /* Firmware loads only PE/COFF images: whatever the keys, anything else is no bootloader. */
        struct shield_pe pe;
        memset(&d, 0, sizeof d);
        if (shield_pe_parse(c->bootloader, c->bootloader_len, &pe, &d) < 0)
                return FIND(c, "bootloader-not-pe", "%s (%zu bytes) is not a PE/COFF image the firmware can load: %s "
                            "(offset 0x%zx)", SHIELD_BOOTLOADER_PATH, c->bootloader_len, d.msg, d.offset);
        if (!dbs)
                return 0;

        struct shield_sb_verdict v;
        memset(&d, 0, sizeof d);
        if (shield_sb_check(c->bootloader, c->bootloader_len, dbs, &v, &d) < 0)
                return FIND(c, "bootloader-refused", "%s is not a PE image the firmware can run: %s",
                            SHIELD_BOOTLOADER_PATH, d.msg);
        c->sb_checked = true;
        c->sb_pass = v.pass;
        struct shield_sb_event e;
        shield_sb_event_from_verdict(&v, path, &e);
        c->sb_event = shield_sb_event_line(&e);
        snprintf(c->sb_match, sizeof c->sb_match, "%s", v.match ? v.match : "");
        if (!v.pass)
                return FIND(c, "bootloader-refused", "Secure Boot would refuse %s: %s (%s)", SHIELD_BOOTLOADER_PATH,
                            v.reason, v.match);
        return 0;
}

int shield_image_check(const char *disk, const struct shield_sb_databases *dbs, struct shield_image_check *ret,
                       struct shield_diag *diag) {
        struct shield_image_check c = { 0 };
        struct shield_blockdev dev;
        struct shield_disk_layout layout = { 0 };
        struct shield_diag d = { 0 };
        int r;

        if ((r = shield_blockdev_open_file(disk, &dev, diag)) < 0)
                return r;
        c.disk_size = dev.size;
        r = shield_disk_read_layout(&dev, &layout, &d);
        if (r == SHIELD_E_NOMEM || r == SHIELD_E_SYSTEM) {
                *diag = d;
                goto out;
        }
        if (r < 0) {
                /* A malformed table is a finding about the disk, not a failure to check it. */
                c.scheme = SHIELD_DISK_GPT;
                r = FIND(&c, "gpt-invalid", "the partition table is not valid: %s (disk offset %zu)", d.msg,
                         d.offset);
                goto done;
        }
        c.scheme = layout.scheme;
        switch (layout.scheme) {
        case SHIELD_DISK_MBR:
                r = FIND(&c, "gpt-required", "the disk has an MBR partition table only (%zu partitions): shielded "
                         "images need GPT", layout.n_mbr_partitions);
                goto done;
        case SHIELD_DISK_EMPTY:
                r = FIND(&c, "gpt-required", "the disk has no partition table: shielded images need GPT");
                goto done;
        case SHIELD_DISK_UNPARTITIONED:
                r = FIND(&c, "disk-unpartitioned", "the disk is one FAT file system with no partition table: shielded "
                         "images need GPT with an EFI System Partition");
                goto done;
        case SHIELD_DISK_GPT:
                break;
        }
        const struct shield_gpt_partition *esp = shield_disk_find_esp(&layout);
        if (!esp) {
                r = FIND(&c, "esp-missing", "the GPT has no EFI System Partition (type C12A7328-F81F-11D2-BA4B-"
                         "00A0C93EC93B) among its %zu partitions", layout.n_partitions);
                goto done;
        }
        c.esp_index = esp->index;
        c.esp_offset = esp->first_lba * layout.sector_size;
        c.esp_size = (esp->last_lba - esp->first_lba + 1) * layout.sector_size;
        char guid[SHIELD_GUID_STRING_SIZE], path[160];
        shield_guid_format(&esp->unique_guid, guid);
        snprintf(path, sizeof path, "HD(%u,GPT,%s,0x%llx,0x%llx)/%s", esp->index, guid, (unsigned long long)esp->first_lba,
                 (unsigned long long)(esp->last_lba - esp->first_lba + 1), SHIELD_BOOTLOADER_PATH);
        r = check_esp(&c, &dev, dbs, path);
done:
        if (r == 0) {
                *ret = c;
                memset(&c, 0, sizeof c);
        }
out:
        shield_image_check_clear(&c);
        shield_disk_layout_free(&layout);
        shield_blockdev_close(&dev);
        return r;
}

void shield_image_check_clear(struct shield_image_check *c) {
        if (!c)
                return;
        shield_reasons_clear(&c->findings);
        free(c->bootloader);
        free(c->sb_event);
        memset(c, 0, sizeof *c);
}
