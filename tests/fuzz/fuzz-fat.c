/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FAT file systems as `shield image check` reads the ESP: open, then look
 * up and read the bootloader paths (short names, long names, case
 * folding), and stat directories. The input is a sparse disk, as for
 * fuzz-gpt (tests/fuzz/seeds/make-disk-seeds.py), holding the file system
 * at offset 0. A result that breaks the documented guarantees aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPARSE_DISK_MAX (1ull << 40)

struct sparse {
        const uint8_t *data;
        size_t size;
};

static uint64_t le(const uint8_t *p, unsigned n) {
        uint64_t v = 0;
        for (unsigned i = n; i > 0; i--)
                v = v << 8 | p[i - 1];
        return v;
}

/* Zeros, overlaid with every chunk that meets [off, off + len). */
static int sparse_read(void *ctx, uint64_t off, void *buf, size_t len) {
        const struct sparse *s = ctx;
        size_t pos = 8;

        memset(buf, 0, len);
        while (s->size - pos >= 10) {
                uint64_t at = le(s->data + pos, 8);
                size_t n = (size_t)le(s->data + pos + 8, 2);
                pos += 10;
                if (n > s->size - pos)
                        n = s->size - pos;
                /* off + len is inside the disk (shield_blockdev_read checked it); at + n must not wrap. */
                if (at <= UINT64_MAX - n && at < off + len && off < at + n) {
                        uint64_t from = at > off ? at : off, to = at + n < off + len ? at + n : off + len;
                        memcpy((uint8_t *)buf + (from - off), s->data + pos + (from - at), (size_t)(to - from));
                }
                pos += n;
        }
        return 0;
}

static void sparse_disk(const uint8_t *data, size_t size, struct sparse *s, struct shield_blockdev *ret) {
        *s = (struct sparse){ .data = data, .size = size };
        uint64_t disk = size >= 8 ? le(data, 8) : 0;
        if (size < 8)
                s->size = 8; /* no chunks */
        *ret = (struct shield_blockdev){ .size = disk > SPARSE_DISK_MAX ? SPARSE_DISK_MAX : disk, .ctx = s,
                                         .read = sparse_read };
}

static const char *const paths[] = {
        "\\EFI\\BOOT\\BOOTX64.EFI",
        "/efi/microsoft/boot/bootmgfw.efi",
        "/EFI/A long file name.text",
        "/EFI/./BOOT/../BOOT/bootx64.efi",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sparse s;
        struct shield_blockdev dev;
        struct shield_fat *fat = NULL;
        struct shield_diag d = { 0 };
        const size_t max = 1u << 20;

        sparse_disk(data, size, &s, &dev);
        if (shield_fat_open(&dev, 0, dev.size, &fat, &d) < 0) {
                if (!memchr(d.msg, 0, sizeof d.msg))
                        abort();
                return 0;
        }
        const char *type = shield_fat_type_name(fat);
        if (strcmp(type, "FAT12") && strcmp(type, "FAT16") && strcmp(type, "FAT32"))
                abort();
        if (!memchr(shield_fat_label(fat), 0, 12) || shield_fat_cluster_count(fat) == 0)
                abort();
        for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
                uint8_t *buf = NULL;
                size_t len = 0;
                bool is_dir = true;
                uint64_t fsize = 0;
                int r = shield_fat_read_file(fat, paths[i], max, &buf, &len, NULL);
                if (r == 0) {
                        if (len > max || (len && !buf))
                                abort();
                        /* What was read is what stat says. */
                        if (shield_fat_stat(fat, paths[i], &is_dir, &fsize, NULL) != 0 || is_dir || fsize != len)
                                abort();
                        free(buf);
                }
        }
        bool is_dir = false;
        if (shield_fat_stat(fat, "\\", &is_dir, NULL, NULL) != 0 || !is_dir)
                abort();
        uint64_t dsize = 1;
        if (shield_fat_stat(fat, "/EFI/BOOT", &is_dir, &dsize, NULL) == 0 && is_dir && dsize != 0)
                abort(); /* a directory's size is 0 */
        shield_fat_close(fat);
        return 0;
}
