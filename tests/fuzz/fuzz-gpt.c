/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partition tables as `shield image check` reads them: the layout, every
 * partition's fields, then the ESP's FAT file system and the bootloader on
 * it. The input is a sparse disk (tests/fuzz/seeds/make-disk-seeds.py):
 * le64 size, then chunks of (le64 offset, le16 length, bytes); everything
 * else reads as zeros, so a seed of a few KB stands for a disk of many MB.
 * A layout that breaks its own documented guarantees aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPARSE_DISK_MAX (1ull << 40)

struct sparse {
        const uint8_t *data;
        size_t size;
        bool fix_crcs; /* see fix_primary_crcs() */
};

static uint64_t le(const uint8_t *p, unsigned n) {
        uint64_t v = 0;
        for (unsigned i = n; i > 0; i--)
                v = v << 8 | p[i - 1];
        return v;
}

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static int sparse_read(void *ctx, uint64_t off, void *buf, size_t len);

/*
 * Random bytes almost never carry valid CRCs, so the checks behind them
 * (entry ranges, overlaps, names, the ESP) would go unexplored. In the
 * second pass the device rewrites the primary header's two CRCs (512-byte
 * sectors) to match whatever the input holds.
 */
static void fix_primary_crcs(const struct sparse *s, uint64_t off, uint8_t *buf, size_t len) {
        if (off > 512 || len < 512 + 92 - off)
                return;
        uint8_t *h = buf + (512 - off);
        uint32_t hs = (uint32_t)le(h + 12, 4), n = (uint32_t)le(h + 80, 4), es = (uint32_t)le(h + 84, 4);
        uint64_t entries = le(h + 72, 8), alen = (uint64_t)n * es;
        if (hs < 92 || hs > len - (512 - off))
                return;
        if (alen <= SHIELD_GPT_ENTRY_ARRAY_MAX && entries < (1ull << 31)) {
                struct sparse raw = *s;
                uint8_t *a = malloc(alen ? alen : 1);
                if (!a)
                        abort();
                raw.fix_crcs = false;
                (void)sparse_read(&raw, entries * 512, a, (size_t)alen);
                put32(h + 88, shield_crc32(0, a, (size_t)alen));
                free(a);
        }
        put32(h + 16, 0);
        put32(h + 16, shield_crc32(0, h, hs));
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
        if (s->fix_crcs)
                fix_primary_crcs(s, off, buf, len);
        return 0;
}

static void sparse_disk(const uint8_t *data, size_t size, struct sparse *s, struct shield_blockdev *ret) {
        *s = (struct sparse){ .data = data, .size = size, .fix_crcs = false };
        uint64_t disk = size >= 8 ? le(data, 8) : 0;
        if (size < 8)
                s->size = 8; /* no chunks */
        *ret = (struct shield_blockdev){ .size = disk > SPARSE_DISK_MAX ? SPARSE_DISK_MAX : disk, .ctx = s,
                                         .read = sparse_read };
}

static void read_esp(const struct shield_blockdev *dev, const struct shield_disk_layout *l,
                     const struct shield_gpt_partition *esp) {
        struct shield_fat *fat = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;

        if (shield_fat_open(dev, esp->first_lba * l->sector_size, (esp->last_lba - esp->first_lba + 1) * l->sector_size,
                            &fat, NULL) < 0)
                return;
        if (shield_fat_read_file(fat, "\\EFI\\BOOT\\BOOTX64.EFI", 1u << 20, &buf, &len, NULL) == 0) {
                if (len > (1u << 20) || (len && !buf))
                        abort();
                free(buf);
        }
        shield_fat_close(fat);
}

static void one_pass(const uint8_t *data, size_t size, bool fix_crcs) {
        struct sparse s;
        struct shield_blockdev dev;
        struct shield_disk_layout l;
        struct shield_diag d = { 0 };

        sparse_disk(data, size, &s, &dev);
        s.fix_crcs = fix_crcs;
        if (shield_disk_read_layout(&dev, &l, &d) < 0) {
                if (!memchr(d.msg, 0, sizeof d.msg))
                        abort();
                return;
        }
        if (l.scheme == SHIELD_DISK_GPT) {
                if ((l.sector_size != 512 && l.sector_size != 4096) || l.first_usable_lba > l.last_usable_lba ||
                    l.last_usable_lba >= l.n_sectors || l.n_partitions > l.n_entries)
                        abort();
                for (size_t i = 0; i < l.n_partitions; i++) {
                        const struct shield_gpt_partition *p = &l.partitions[i];
                        char g[SHIELD_GUID_STRING_SIZE];
                        if (p->first_lba > p->last_lba || p->first_lba < l.first_usable_lba ||
                            p->last_lba > l.last_usable_lba || !memchr(p->name, 0, sizeof p->name))
                                abort();
                        shield_guid_format(&p->unique_guid, g);
                        (void)shield_guid_name(&p->type_guid);
                        if (i > 0 && p->index <= l.partitions[i - 1].index)
                                abort();
                }
                const struct shield_gpt_partition *esp = shield_disk_find_esp(&l);
                if (esp)
                        read_esp(&dev, &l, esp);
        } else if (l.n_partitions || l.partitions) {
                abort();
        }
        shield_disk_layout_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        one_pass(data, size, false);
        one_pass(data, size, true);
        return 0;
}
