/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build a shielded image's disk. libfdisk writes the GPT; mkfs.fat formats
 * the ESP in place (--offset) and mtools fills it, addressing the partition
 * as FILE@@OFFSET, so nothing needs loop devices or root. The disk is built
 * beside the output and renamed over it only when complete.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shield/crypto.h"
#include "shield/image.h"
#include "shield/util.h"

#define MIB (1ull << 20)
#define SECTOR 512ull

/* Fixed inputs of --reproducible: the build is a function of the files alone. */
#define REPRODUCIBLE_EPOCH "SOURCE_DATE_EPOCH=1262304000" /* 2010-01-01, a FAT-representable time */
#define REPRODUCIBLE_DISK_GUID "5348494c-4444-4b00-8000-000000000001"

#define ESP_TYPE "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define LINUX_ROOT_X86_64_TYPE "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
#define LINUX_DATA_TYPE "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

enum shield_image_role shield_image_partition_role(const shield_guid *type_guid) {
        char s[SHIELD_GUID_STRING_SIZE];
        shield_guid_format(type_guid, s);
        return strcasecmp(s, ESP_TYPE) == 0                ? SHIELD_IMAGE_ROLE_ESP
               : strcasecmp(s, LINUX_ROOT_X86_64_TYPE) == 0 ? SHIELD_IMAGE_ROLE_OS
                                                           : SHIELD_IMAGE_ROLE_DATA;
}

const char *shield_image_role_name(enum shield_image_role role) {
        return role == SHIELD_IMAGE_ROLE_ESP ? "ESP" : role == SHIELD_IMAGE_ROLE_OS ? "OS" : "data";
}

static uint64_t round_up(uint64_t v, uint64_t to) {
        return (v + to - 1) / to * to;
}

/* A version-4-shaped GUID derived from the disk GUID and the partition number, for --reproducible. */
static void derived_guid(const char *disk_guid, unsigned partno, char out[37]) {
        char seed[64];
        uint8_t d[32];
        snprintf(seed, sizeof seed, "%s/%u", disk_guid, partno);
        if (shield_hash(SHIELD_ALG_SHA256, seed, strlen(seed), d) < 0)
                memset(d, (int)partno, sizeof d);
        d[6] = (uint8_t)((d[6] & 0x0f) | 0x40);
        d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2],
                 d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
}

static int add_partition(struct fdisk_context *cxt, unsigned partno, uint64_t start, uint64_t size,
                         const char *type, const char *name, const char *uuid, struct shield_diag *diag) {
        struct fdisk_label *lb = fdisk_get_label(cxt, "gpt");
        struct fdisk_parttype *pt = fdisk_label_parse_parttype(lb, type);
        struct fdisk_partition *pa = fdisk_new_partition();
        int r = -1;

        if (pt && pa && fdisk_partition_set_partno(pa, partno) == 0 &&
            fdisk_partition_set_start(pa, start / SECTOR) == 0 && fdisk_partition_set_size(pa, size / SECTOR) == 0 &&
            fdisk_partition_set_type(pa, pt) == 0 && fdisk_partition_set_name(pa, name) == 0 &&
            (!uuid || fdisk_partition_set_uuid(pa, uuid) == 0))
                r = fdisk_add_partition(cxt, pa, NULL);
        fdisk_unref_partition(pa);
        fdisk_unref_parttype(pt);
        if (r < 0)
                return shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "libfdisk: cannot add partition %u (%s): %s",
                                        partno + 1, name, strerror(r < -1 ? -r : EINVAL));
        return 0;
}

static int write_gpt(const char *path, const struct shield_image_spec *spec, uint64_t esp_size, uint64_t os_size,
                     struct shield_diag *diag) {
        struct fdisk_context *cxt = fdisk_new_context();
        char uuid[37];
        int r;

        if (!cxt)
                return SHIELD_E_NOMEM;
        if ((r = fdisk_assign_device(cxt, path, 0)) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "libfdisk: cannot open %s: %s", path, strerror(-r));
                goto out;
        }
        fdisk_disable_dialogs(cxt, 1);
        if ((r = fdisk_create_disklabel(cxt, "gpt")) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "libfdisk: cannot create a GPT: %s", strerror(-r));
                goto out;
        }
        const char *disk_guid = spec->disk_guid ? spec->disk_guid
                                : spec->reproducible ? REPRODUCIBLE_DISK_GUID
                                                     : NULL;
        if (disk_guid && (r = fdisk_set_disklabel_id_from_string(cxt, disk_guid)) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "disk GUID %s: not accepted by libfdisk", disk_guid);
                goto out;
        }
        /* Partition GUIDs follow the disk GUID when it is fixed, so equal inputs give equal disks. */
        uint64_t at = MIB;
        unsigned partno = 0;
        if (disk_guid)
                derived_guid(disk_guid, partno, uuid);
        if ((r = add_partition(cxt, partno++, at, esp_size, ESP_TYPE, "EFI System Partition",
                               disk_guid ? uuid : NULL, diag)) < 0)
                goto out;
        at += esp_size;
        if (disk_guid)
                derived_guid(disk_guid, partno, uuid);
        if ((r = add_partition(cxt, partno++, at, os_size, LINUX_ROOT_X86_64_TYPE, "os", disk_guid ? uuid : NULL,
                               diag)) < 0)
                goto out;
        at += os_size;
        for (size_t i = 0; i < spec->n_data; i++) {
                char name[64];
                snprintf(name, sizeof name, "%s", spec->data[i].label ? spec->data[i].label : "");
                if (!name[0])
                        snprintf(name, sizeof name, "data%zu", i + 1);
                if (disk_guid)
                        derived_guid(disk_guid, partno, uuid);
                if ((r = add_partition(cxt, partno++, at, round_up(spec->data[i].size, MIB), LINUX_DATA_TYPE, name,
                                       disk_guid ? uuid : NULL, diag)) < 0)
                        goto out;
                at += round_up(spec->data[i].size, MIB);
        }
        if ((r = fdisk_write_disklabel(cxt)) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "libfdisk: cannot write the GPT: %s", strerror(-r));
                goto out;
        }
        r = 0;
out:
        if (fdisk_deassign_device(cxt, 0) < 0 && r == 0)
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "libfdisk: cannot close %s", path);
        fdisk_unref_context(cxt);
        return r;
}

/* Copy src's bytes into dst at offset (the OS partition from --os-image). */
static int copy_into(const char *src, const char *dst, uint64_t offset, uint64_t max, struct shield_diag *diag) {
        int in = open(src, O_RDONLY | O_CLOEXEC), out = open(dst, O_WRONLY | O_CLOEXEC);
        int r = 0;
        struct stat st;

        if (in < 0 || out < 0 || fstat(in, &st) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", in < 0 ? src : dst, strerror(errno));
                goto out;
        }
        if ((uint64_t)st.st_size > max) {
                r = shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%s: larger than its partition", src);
                goto out;
        }
        loff_t off_in = 0, off_out = (loff_t)offset;
        for (uint64_t left = (uint64_t)st.st_size; left > 0;) {
                ssize_t n = copy_file_range(in, &off_in, out, &off_out, left, 0);
                if (n <= 0) {
                        r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "copying %s: %s", src,
                                             n < 0 ? strerror(errno) : "short copy");
                        goto out;
                }
                left -= (uint64_t)n;
        }
out:
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copy every entry of dir into the ESP's root, merging directories that exist (mcopy -s -D o). */
static int copy_esp_dir(const char *dir, const char *at, bool reproducible, const char *const *env,
                        void (*progress)(const char *step), struct shield_diag *diag) {
        DIR *d = opendir(dir);
        char **names = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;

        if (!d)
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "--esp-dir %s: %s", dir, strerror(errno));
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char **grown = realloc(names, (n + 1) * sizeof *names);
                if (!grown || asprintf(&grown[n], "%s/%s", dir, de->d_name) < 0) {
                        names = grown ? grown : names;
                        r = SHIELD_E_NOMEM;
                        break;
                }
                names = grown;
                n++;
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof *names, cmp_str);
        if (r == 0 && n && progress)
                progress("copying --esp-dir to the ESP");
        for (size_t i = 0; i < n && r == 0; i++) {
                const char *argv[] = { "mcopy", "-s", "-n", "-D", "o", "-i", at, reproducible ? "-m" : "-p", names[i],
                                       "::/", NULL };
                r = shield_run(argv, env, diag);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int shield_image_create(const struct shield_image_spec *spec, void (*progress)(const char *step),
                        struct shield_diag *diag) {
        if (!spec || !spec->output || !spec->bootloader || spec->n_data > SHIELD_IMAGE_DATA_MAX)
                return SHIELD_E_INVAL;

        if (spec->esp_size > SHIELD_IMAGE_DISK_MAX || spec->os_size > SHIELD_IMAGE_DISK_MAX ||
            spec->disk_size > SHIELD_IMAGE_DISK_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "sizes are capped at %llu GiB",
                                        SHIELD_IMAGE_DISK_MAX >> 30);
        uint64_t esp_size = round_up(spec->esp_size ? spec->esp_size : SHIELD_IMAGE_ESP_DEFAULT, MIB);
        uint64_t os_size = spec->os_size ? spec->os_size : SHIELD_IMAGE_OS_DEFAULT;
        uint64_t os_image_size = 0;
        struct stat st;
        if (spec->os_image) {
                if (stat(spec->os_image, &st) < 0)
                        return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "%s: %s", spec->os_image,
                                                strerror(errno));
                os_size = os_image_size = (uint64_t)st.st_size;
        }
        os_size = round_up(os_size ? os_size : MIB, MIB);
        if (esp_size < 33 * MIB / 10)
                return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "ESP of %llu bytes is too small for FAT",
                                        (unsigned long long)esp_size);
        if (stat(spec->bootloader, &st) < 0 || !S_ISREG(st.st_mode))
                return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, 0, -1, "bootloader %s: %s", spec->bootloader,
                                        errno ? strerror(errno) : "not a file");

        /* Every size is capped at SHIELD_IMAGE_DISK_MAX and there are at most 8 data partitions: no overflow. */
        uint64_t data_total = 0;
        for (size_t i = 0; i < spec->n_data; i++)
                data_total += round_up(spec->data[i].size ? spec->data[i].size : MIB, MIB);
        uint64_t total = MIB + esp_size + os_size + MIB + data_total; /* + primary and backup GPT room */
        if (spec->disk_size) {
                /*
                 * The OS partition takes the rest: what lies between the ESP
                 * and the data partitions once the first MiB (protective MBR,
                 * primary GPT, alignment) and the backup GPT (header and
                 * 128 entries: 33 sectors, UEFI 2.10 5.3.1) are set aside,
                 * rounded down so the data partitions stay 1 MiB aligned.
                 */
                if (spec->disk_size % SECTOR)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1, "disk size %llu is not a multiple of %llu bytes",
                                                (unsigned long long)spec->disk_size, SECTOR);
                uint64_t fixed = MIB + esp_size + data_total + 33 * SECTOR;
                uint64_t rest = spec->disk_size > fixed ? (spec->disk_size - fixed) / MIB * MIB : 0;
                uint64_t need = round_up(os_image_size ? os_image_size : MIB, MIB);
                if (rest < need)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                                "a %llu MiB disk leaves %llu MiB for the OS partition (ESP %llu MiB, data "
                                                "%llu MiB, GPT 1 MiB + 33 sectors): at least %llu MiB %s needed",
                                                (unsigned long long)(spec->disk_size >> 20), (unsigned long long)(rest >> 20),
                                                (unsigned long long)(esp_size >> 20), (unsigned long long)(data_total >> 20),
                                                (unsigned long long)((fixed + need + MIB - 1) >> 20),
                                                os_image_size ? "for --os-image are" : "are");
                os_size = rest;
                total = spec->disk_size;
        }

        char *tmp = NULL, *at = NULL;
        if (asprintf(&tmp, "%s.tmp.%ld", spec->output, (long)getpid()) < 0)
                return SHIELD_E_NOMEM;
        int r;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)total) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", tmp, strerror(errno));
                if (fd >= 0)
                        close(fd);
                goto fail;
        }
        close(fd);

        if (progress)
                progress("partitioning (GPT)");
        if ((r = write_gpt(tmp, spec, esp_size, os_size, diag)) < 0)
                goto fail;

        /* mkfs.fat counts in 1 KiB blocks and its --offset in sectors. */
        char offset_sectors[32], blocks[32];
        snprintf(offset_sectors, sizeof offset_sectors, "%llu", (unsigned long long)(MIB / SECTOR));
        snprintf(blocks, sizeof blocks, "%llu", (unsigned long long)(esp_size / 1024));
        if (progress)
                progress("formatting the EFI System Partition (FAT)");
        /*
         * For FAT32, mkfs.fat 4.2 picks the cluster size from the size of the
         * whole file, not from the block count it is given: on a disk much
         * larger than the ESP it picks clusters too big for FAT32's minimum of
         * 65525 (the FAT would then be misread as FAT16). Name the size the
         * ESP itself calls for (Microsoft's FAT32 table, as mkfs.fat uses it).
         */
        const char *cluster = esp_size <= 260 * MIB ? "1" : esp_size <= (8ull << 30) ? "8" : esp_size <= (16ull << 30) ? "16"
                              : esp_size <= (32ull << 30) ? "32" : "64";
        const char *mkfs_fat32[] = { "mkfs.fat", "-F", "32", "-s", cluster, "-n", "ESP", "--offset", offset_sectors,
                                     spec->reproducible ? "--invariant" : "-v", tmp, blocks, NULL };
        const char *mkfs_fat16[] = { "mkfs.fat", "-F", "16", "-n", "ESP", "--offset", offset_sectors,
                                     spec->reproducible ? "--invariant" : "-v", tmp, blocks, NULL };
        const char *const *mkfs = esp_size >= 64 * MIB ? mkfs_fat32 : mkfs_fat16;
        if ((r = shield_run(mkfs, NULL, diag)) < 0)
                goto fail;

        /* mtools addresses the partition inside the disk file as FILE@@OFFSET (as long as the path is). */
        if (asprintf(&at, "%s@@%llu", tmp, (unsigned long long)MIB) < 0) {
                at = NULL;
                r = SHIELD_E_NOMEM;
                goto fail;
        }
        const char *env_repro[] = { REPRODUCIBLE_EPOCH, "MTOOLS_SKIP_CHECK=1", NULL };
        const char *env_plain[] = { "MTOOLS_SKIP_CHECK=1", NULL };
        const char *const *env = spec->reproducible ? env_repro : env_plain;
        const char *mmd[] = { "mmd", "-i", at, "::/EFI", "::/EFI/Boot", NULL };
        if ((r = shield_run(mmd, env, diag)) < 0)
                goto fail;
        /* --esp-dir first, merged entry by entry (sorted, for reproducibility); the bootloader last, so it wins. */
        if (spec->esp_dir && (r = copy_esp_dir(spec->esp_dir, at, spec->reproducible, env, progress, diag)) < 0)
                goto fail;
        if (progress)
                progress("copying the bootloader to \\EFI\\Boot\\bootx64.efi");
        const char *mcopy[] = { "mcopy", "-n", "-D", "o", "-i", at, spec->reproducible ? "-m" : "-p", spec->bootloader,
                                "::/EFI/Boot/bootx64.efi", NULL };
        if ((r = shield_run(mcopy, env, diag)) < 0)
                goto fail;
        if (spec->os_image) {
                if (progress)
                        progress("copying the OS image");
                if ((r = copy_into(spec->os_image, tmp, MIB + esp_size, os_size, diag)) < 0)
                        goto fail;
        }
        if (rename(tmp, spec->output) < 0) {
                r = shield_diag_fail(diag, SHIELD_E_SYSTEM, 0, -1, "%s: %s", spec->output, strerror(errno));
                goto fail;
        }
        free(at);
        free(tmp);
        return 0;
fail:
        unlink(tmp);
        free(at);
        free(tmp);
        return r;
}
