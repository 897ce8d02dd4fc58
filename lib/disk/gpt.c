/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partition tables: the legacy MBR and the protective MBR (UEFI 2.10, 5.2),
 * the GPT header and entry array (UEFI 2.10, 5.3). Only the primary GPT
 * decides; the backup is checked and its state reported beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/disk.h"
#include "shield/util.h"
#include "util/rd.h"

/* UEFI 2.10, 5.2.1 Table 5-1: the MBR's partition records and boot signature. */
#define MBR_SIZE 512
#define MBR_RECORDS_OFFSET 446
#define MBR_RECORD_SIZE 16
#define MBR_SIGNATURE_OFFSET 510
#define MBR_SIGNATURE 0xaa55u
/* UEFI 2.10, 5.2.3: the protective MBR's one record has OSType 0xEE and StartingLBA 1. */
#define MBR_TYPE_PROTECTIVE 0xee
/* UEFI 2.10, 5.3.2 Table 5-5: the GPT header. */
#define GPT_SIGNATURE "EFI PART"
#define GPT_REVISION 0x00010000u
#define GPT_HEADER_MIN 92
#define GPT_ENTRY_MIN 128
#define SECTOR_MAX 4096

/* UEFI 2.10, 5.3.3 Table 5-7. */
const shield_guid SHIELD_GUID_ESP = { { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9,
                                        0x3e, 0xc9, 0x3b } };

struct gpt_header {
        uint64_t offset; /* of the header in the disk */
        uint32_t header_size, header_crc;
        uint64_t my_lba, alternate_lba, first_usable, last_usable, entries_lba;
        shield_guid disk_guid;
        uint32_t n_entries, entry_size, entries_crc;
};

const char *shield_disk_scheme_name(enum shield_partition_scheme s) {
        switch (s) {
        case SHIELD_DISK_EMPTY: return "empty";
        case SHIELD_DISK_MBR: return "MBR";
        case SHIELD_DISK_GPT: return "GPT";
        case SHIELD_DISK_UNPARTITIONED: return "unpartitioned";
        }
        return "unknown";
}

bool shield_gpt_is_esp(const struct shield_gpt_partition *p) {
        return p && shield_guid_eq(&p->type_guid, &SHIELD_GUID_ESP);
}

const struct shield_gpt_partition *shield_disk_find_esp(const struct shield_disk_layout *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_partitions; i++)
                if (shield_gpt_is_esp(&l->partitions[i]))
                        return &l->partitions[i];
        return NULL;
}

void shield_disk_layout_free(struct shield_disk_layout *l) {
        if (!l)
                return;
        free(l->partitions);
        *l = (struct shield_disk_layout){ 0 };
}

/* A FAT boot sector at LBA 0 (fatgen103: the BS_FilSysType string of FAT12/16 or FAT32) rather than an MBR. */
static bool looks_like_fat(const uint8_t *s) {
        return (s[0] == 0xeb || s[0] == 0xe9) &&
               (memcmp(s + 0x36, "FAT12   ", 8) == 0 || memcmp(s + 0x36, "FAT16   ", 8) == 0 ||
                memcmp(s + 0x36, "FAT     ", 8) == 0 || memcmp(s + 0x52, "FAT32   ", 8) == 0);
}

/* The four records, those with a non-zero type kept. Returns the index of the first 0xEE record or -1. */
static int parse_mbr(const uint8_t *mbr, struct shield_disk_layout *l) {
        struct rd r = rd_init_sticky(mbr + MBR_RECORDS_OFFSET, 4 * MBR_RECORD_SIZE);
        int protective = -1;

        for (uint32_t i = 0; i < 4; i++) {
                uint8_t boot = 0, type = 0, chs[3];
                uint32_t first = 0, count = 0;
                rd_u8(&r, &boot);
                rd_copy(&r, chs, 3);
                rd_u8(&r, &type);
                rd_copy(&r, chs, 3);
                rd_le32(&r, &first);
                rd_le32(&r, &count);
                if (rd_ok(&r) < 0) /* not reached: the reader is exactly four records */
                        break;
                if (type == 0)
                        continue;
                if (type == MBR_TYPE_PROTECTIVE && protective < 0)
                        protective = (int)i;
                l->mbr_partitions[l->n_mbr_partitions++] = (struct shield_mbr_partition){
                        .index = i + 1, .type = type, .bootable = boot == 0x80, .first_lba = first, .n_sectors = count
                };
        }
        return protective;
}

static int read_at(const struct shield_blockdev *dev, uint64_t off, void *buf, size_t len, const char *what,
                   struct shield_diag *diag) {
        int r = shield_blockdev_read(dev, off, buf, len);
        if (r == SHIELD_E_TRUNCATED)
                return shield_diag_fail(diag, r, (size_t)off, -1,
                                        "the disk (%llu bytes) ends inside the %s (%zu bytes at 0x%llx)",
                                        (unsigned long long)dev->size, what, len, (unsigned long long)off);
        if (r < 0)
                return shield_diag_fail(diag, r, (size_t)off, -1, "cannot read the %s (%zu bytes at 0x%llx)", what,
                                        len, (unsigned long long)off);
        return 0;
}

/* Read and check the header at lba; primary says which of the two (their placement rules differ). */
static int read_header(const struct shield_blockdev *dev, uint32_t ss, uint64_t n_sectors, uint64_t lba, bool primary,
                       struct gpt_header *h, struct shield_diag *diag) {
        uint8_t sector[SECTOR_MAX];
        const char *which = primary ? "primary" : "backup";
        uint64_t off = lba * ss;
        uint32_t revision = 0, reserved = 0;
        const uint8_t *sig = NULL;
        int r;

        if (lba >= n_sectors)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, (size_t)dev->size, -1,
                                        "the %s GPT header's LBA %llu is past the disk's last LBA %llu", which,
                                        (unsigned long long)lba, (unsigned long long)(n_sectors - 1));
        r = read_at(dev, off, sector, ss, primary ? "primary GPT header" : "backup GPT header", diag);
        if (r < 0)
                return r;

        struct rd rd = rd_init_sticky(sector, ss);
        *h = (struct gpt_header){ .offset = off };
        rd_bytes(&rd, 8, &sig);
        rd_le32(&rd, &revision);
        rd_le32(&rd, &h->header_size);
        rd_le32(&rd, &h->header_crc);
        rd_le32(&rd, &reserved);
        rd_le64(&rd, &h->my_lba);
        rd_le64(&rd, &h->alternate_lba);
        rd_le64(&rd, &h->first_usable);
        rd_le64(&rd, &h->last_usable);
        rd_copy(&rd, h->disk_guid.b, 16);
        rd_le64(&rd, &h->entries_lba);
        rd_le32(&rd, &h->n_entries);
        rd_le32(&rd, &h->entry_size);
        rd_le32(&rd, &h->entries_crc);
        if (rd_ok(&rd) < 0) /* not reached: a sector holds the 92-byte header */
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, (size_t)off, -1,
                                        "the %s GPT header does not fit a %u-byte sector", which, ss);

        if (memcmp(sig, GPT_SIGNATURE, 8) != 0) {
                char hex[17];
                shield_hex_encode(sig, 8, hex);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off, -1,
                                        "no %s GPT header at LBA %llu: expected the signature \"EFI PART\", found %s",
                                        which, (unsigned long long)lba, hex);
        }
        if (revision != GPT_REVISION)
                return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, (size_t)off + 8, -1,
                                        "%s GPT header revision 0x%08x (expected 0x%08x, 1.0)", which, revision,
                                        GPT_REVISION);
        if (h->header_size < GPT_HEADER_MIN || h->header_size > ss)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 12, -1,
                                        "%s GPT HeaderSize %u: expected %u to the sector size %u", which,
                                        h->header_size, GPT_HEADER_MIN, ss);
        /* UEFI 2.10, 5.3.2: HeaderCRC32 is computed over HeaderSize bytes with the field itself zeroed. */
        memset(sector + 16, 0, 4);
        uint32_t crc = shield_crc32(0, sector, h->header_size);
        if (crc != h->header_crc)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 16, -1,
                                        "%s GPT header CRC32 is 0x%08x but its %u bytes give 0x%08x: the header is "
                                        "corrupt",
                                        which, h->header_crc, h->header_size, crc);
        if (reserved != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 20, -1,
                                        "%s GPT header Reserved is 0x%08x, must be zero", which, reserved);
        if (h->my_lba != lba)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 24, -1,
                                        "%s GPT header MyLBA is %llu but it was read at LBA %llu", which,
                                        (unsigned long long)h->my_lba, (unsigned long long)lba);
        if (primary ? h->alternate_lba <= 1 || h->alternate_lba >= n_sectors : h->alternate_lba != 1)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 32, -1,
                                        "%s GPT header AlternateLBA %llu: expected %s (the disk has %llu sectors%s)",
                                        which, (unsigned long long)h->alternate_lba,
                                        primary ? "an LBA after 1 inside the disk" : "1, the primary header",
                                        (unsigned long long)n_sectors,
                                        primary && h->alternate_lba >= n_sectors ? ": was the image truncated?" : "");
        if (h->first_usable > h->last_usable || h->last_usable >= n_sectors)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 40, -1,
                                        "%s GPT usable LBAs %llu..%llu: expected a range inside the disk's %llu "
                                        "sectors",
                                        which, (unsigned long long)h->first_usable,
                                        (unsigned long long)h->last_usable, (unsigned long long)n_sectors);
        if (primary ? h->first_usable <= lba || h->last_usable >= h->alternate_lba
                    : h->last_usable >= lba || h->first_usable <= 1)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 40, -1,
                                        "%s GPT usable LBAs %llu..%llu include a GPT header (LBA 1 or %llu)", which,
                                        (unsigned long long)h->first_usable, (unsigned long long)h->last_usable,
                                        (unsigned long long)(primary ? h->alternate_lba : lba));
        /* UEFI 2.10, 5.3.2: SizeOfPartitionEntry is 128 * 2^n; we accept any multiple of 8 from 128. */
        if (h->entry_size < GPT_ENTRY_MIN || h->entry_size % 8 || h->entry_size > SHIELD_GPT_ENTRY_SIZE_MAX)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 84, -1,
                                        "%s GPT SizeOfPartitionEntry %u: expected a multiple of 8 from %u to %u", which,
                                        h->entry_size, GPT_ENTRY_MIN, SHIELD_GPT_ENTRY_SIZE_MAX);
        if (h->n_entries > SHIELD_GPT_ENTRIES_MAX ||
            (uint64_t)h->n_entries * h->entry_size > SHIELD_GPT_ENTRY_ARRAY_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, (size_t)off + 80, -1,
                                        "%s GPT NumberOfPartitionEntries %u of %u bytes: more than %u entries or %u "
                                        "bytes",
                                        which, h->n_entries, h->entry_size, SHIELD_GPT_ENTRIES_MAX,
                                        SHIELD_GPT_ENTRY_ARRAY_MAX);
        /* The array lies between the header and the usable range (primary) or after it (backup). */
        uint64_t array_sectors = ((uint64_t)h->n_entries * h->entry_size + ss - 1) / ss;
        bool placed = primary ? h->entries_lba >= 2 && h->entries_lba <= h->first_usable &&
                                        array_sectors <= h->first_usable - h->entries_lba
                              : h->entries_lba > h->last_usable && h->entries_lba < lba &&
                                        array_sectors <= lba - h->entries_lba;
        if (!placed)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 72, -1,
                                        "%s GPT PartitionEntryLBA %llu (%llu sectors of entries): expected the array "
                                        "%s",
                                        which, (unsigned long long)h->entries_lba, (unsigned long long)array_sectors,
                                        primary ? "between LBA 2 and FirstUsableLBA"
                                                : "between LastUsableLBA and the backup header");
        return 0;
}

/* Read the entry array and check its CRC; *ret_array is malloc'd (or NULL for no entries). */
static int read_entries(const struct shield_blockdev *dev, uint32_t ss, const struct gpt_header *h, bool primary,
                        uint8_t **ret_array, struct shield_diag *diag) {
        size_t len = (size_t)h->n_entries * h->entry_size;
        uint8_t *a = malloc(len ? len : 1);
        if (!a)
                return SHIELD_E_NOMEM;
        int r = read_at(dev, h->entries_lba * ss, a, len,
                        primary ? "primary GPT entry array" : "backup GPT entry array", diag);
        if (r < 0) {
                free(a);
                return r;
        }
        uint32_t crc = shield_crc32(0, a, len);
        if (crc != h->entries_crc) {
                free(a);
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)h->offset + 88, -1,
                                        "%s GPT PartitionEntryArrayCRC32 is 0x%08x but the %u entries at LBA %llu "
                                        "give 0x%08x",
                                        primary ? "primary" : "backup", h->entries_crc, h->n_entries,
                                        (unsigned long long)h->entries_lba, crc);
        }
        *ret_array = a;
        return 0;
}

static int by_first_lba(const void *a, const void *b) {
        const struct shield_gpt_partition *x = a, *y = b;
        return x->first_lba < y->first_lba ? -1 : x->first_lba > y->first_lba;
}

static int parse_entries(const uint8_t *array, uint32_t ss, const struct gpt_header *h, struct shield_disk_layout *l,
                         struct shield_diag *diag) {
        static const shield_guid unused = { { 0 } };
        struct shield_gpt_partition *parts = NULL, *sorted = NULL;
        uint64_t base = h->entries_lba * ss;
        size_t n = 0;
        int r = 0;

        if (h->n_entries) {
                parts = calloc(h->n_entries, sizeof *parts);
                if (!parts)
                        return SHIELD_E_NOMEM;
        }
        for (uint32_t i = 0; i < h->n_entries; i++) {
                struct rd rd = rd_init_sticky(array + (size_t)i * h->entry_size, h->entry_size);
                struct shield_gpt_partition p = { .index = i + 1 };
                const uint8_t *name16 = NULL;
                char *name = NULL;
                size_t at = (size_t)(base + (uint64_t)i * h->entry_size);

                /* UEFI 2.10, 5.3.3 Table 5-6: the GPT partition entry. */
                rd_copy(&rd, p.type_guid.b, 16);
                rd_copy(&rd, p.unique_guid.b, 16);
                rd_le64(&rd, &p.first_lba);
                rd_le64(&rd, &p.last_lba);
                rd_le64(&rd, &p.attributes);
                rd_bytes(&rd, 72, &name16);
                if (rd_ok(&rd) < 0) { /* not reached: SizeOfPartitionEntry was checked to be >= 128 */
                        r = shield_diag_fail(diag, SHIELD_E_TRUNCATED, at, (long)p.index,
                                             "GPT partition entry %u is shorter than 128 bytes", p.index);
                        goto out;
                }
                if (shield_guid_eq(&p.type_guid, &unused))
                        continue;
                if (p.first_lba > p.last_lba || p.first_lba < h->first_usable || p.last_lba > h->last_usable) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, at + 32, (long)p.index,
                                             "partition %u spans LBAs %llu..%llu: expected a non-empty range inside "
                                             "the usable LBAs %llu..%llu",
                                             p.index, (unsigned long long)p.first_lba, (unsigned long long)p.last_lba,
                                             (unsigned long long)h->first_usable, (unsigned long long)h->last_usable);
                        goto out;
                }
                if (shield_utf16le_to_utf8(name16, 72, &name) < 0) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                snprintf(p.name, sizeof p.name, "%s", name);
                free(name);
                parts[n++] = p;
        }

        if (n > 1) {
                sorted = malloc(n * sizeof *sorted);
                if (!sorted) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
                memcpy(sorted, parts, n * sizeof *sorted);
                qsort(sorted, n, sizeof *sorted, by_first_lba);
                for (size_t i = 1; i < n; i++)
                        if (sorted[i].first_lba <= sorted[i - 1].last_lba) {
                                const struct shield_gpt_partition *a = &sorted[i - 1], *b = &sorted[i];
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT,
                                                     (size_t)(base + (uint64_t)(b->index - 1) * h->entry_size + 32),
                                                     (long)b->index,
                                                     "partition %u (LBAs %llu..%llu) overlaps partition %u (LBAs "
                                                     "%llu..%llu)",
                                                     b->index, (unsigned long long)b->first_lba,
                                                     (unsigned long long)b->last_lba, a->index,
                                                     (unsigned long long)a->first_lba, (unsigned long long)a->last_lba);
                                goto out;
                        }
        }
        l->partitions = parts;
        l->n_partitions = n;
        parts = NULL; /* transferred */
out:
        free(sorted);
        free(parts);
        return r;
}

/* The backup header and array: valid, pointing back at the primary, and the same entries. */
static int check_backup(const struct shield_blockdev *dev, uint32_t ss, uint64_t n_sectors,
                        const struct gpt_header *primary, struct shield_diag *diag) {
        struct gpt_header b;
        uint8_t *array = NULL;
        int r = read_header(dev, ss, n_sectors, primary->alternate_lba, false, &b, diag);
        if (r < 0)
                return r;
        if (b.n_entries != primary->n_entries || b.entry_size != primary->entry_size ||
            b.entries_crc != primary->entries_crc || b.first_usable != primary->first_usable ||
            b.last_usable != primary->last_usable || !shield_guid_eq(&b.disk_guid, &primary->disk_guid))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)b.offset, -1,
                                        "the backup GPT header differs from the primary (disk GUID, usable LBAs or "
                                        "entry array)");
        r = read_entries(dev, ss, &b, false, &array, diag);
        free(array);
        return r;
}

int shield_disk_read_layout(const struct shield_blockdev *dev, struct shield_disk_layout *ret,
                            struct shield_diag *diag) {
        struct shield_disk_layout l = { .scheme = SHIELD_DISK_EMPTY, .sector_size = 512 };
        uint8_t mbr[MBR_SIZE], sig[8];
        struct gpt_header h;
        uint8_t *array = NULL;
        int r;

        if (!dev || !ret)
                return SHIELD_E_INVAL;
        r = read_at(dev, 0, mbr, MBR_SIZE, "master boot record", diag);
        if (r < 0)
                return r;
        uint16_t boot_sig = (uint16_t)(mbr[MBR_SIGNATURE_OFFSET] | mbr[MBR_SIGNATURE_OFFSET + 1] << 8);
        bool gpt_at_1 = shield_blockdev_read(dev, 512, sig, 8) == 0 && memcmp(sig, GPT_SIGNATURE, 8) == 0;

        l.n_sectors = dev->size / 512;
        if (boot_sig != MBR_SIGNATURE) {
                if (gpt_at_1)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, MBR_SIGNATURE_OFFSET, -1,
                                                "a GPT header at LBA 1 but no protective MBR: the boot signature is "
                                                "0x%04x, expected 0xAA55",
                                                boot_sig);
                *ret = l;
                return 0;
        }
        if (looks_like_fat(mbr)) {
                l.scheme = SHIELD_DISK_UNPARTITIONED;
                *ret = l;
                return 0;
        }
        int protective = parse_mbr(mbr, &l);
        if (protective < 0) {
                l.scheme = SHIELD_DISK_MBR;
                *ret = l;
                return 0;
        }
        /* UEFI 2.10, 5.2.3: StartingLBA 1; the size may be capped at 0xFFFFFFFF, so it is not checked. */
        for (size_t i = 0; i < l.n_mbr_partitions; i++) {
                const struct shield_mbr_partition *pm = &l.mbr_partitions[i];
                if (pm->index == (uint32_t)protective + 1 && pm->first_lba != 1)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT,
                                                MBR_RECORDS_OFFSET + (size_t)protective * MBR_RECORD_SIZE + 8, -1,
                                                "the protective MBR record %u (type 0xEE) starts at LBA %u: UEFI "
                                                "2.10 5.2.3 requires LBA 1",
                                                pm->index, pm->first_lba);
        }

        /* 4Kn disks put the header at byte 4096; look there only when byte 512 has none. */
        if (!gpt_at_1 && shield_blockdev_read(dev, SECTOR_MAX, sig, 8) == 0 && memcmp(sig, GPT_SIGNATURE, 8) == 0) {
                l.sector_size = SECTOR_MAX;
                l.n_sectors = dev->size / SECTOR_MAX;
        }
        r = read_header(dev, l.sector_size, l.n_sectors, 1, true, &h, diag);
        if (r >= 0)
                r = read_entries(dev, l.sector_size, &h, true, &array, diag);
        if (r < 0) {
                /* Say whether the backup at the disk's end would have been usable: it tells corruption from junk. */
                struct gpt_header b;
                uint8_t *barray = NULL;
                if (diag && r != SHIELD_E_NOMEM && l.n_sectors > 2 &&
                    read_header(dev, l.sector_size, l.n_sectors, l.n_sectors - 1, false, &b, NULL) == 0 &&
                    read_entries(dev, l.sector_size, &b, false, &barray, NULL) == 0) {
                        size_t used = strnlen(diag->msg, sizeof diag->msg - 1);
                        snprintf(diag->msg + used, sizeof diag->msg - used,
                                 " (the backup GPT header at LBA %llu is valid)",
                                 (unsigned long long)(l.n_sectors - 1));
                }
                free(barray);
                return r;
        }
        r = parse_entries(array, l.sector_size, &h, &l, diag);
        free(array);
        if (r < 0)
                return r;

        l.scheme = SHIELD_DISK_GPT;
        l.disk_guid = h.disk_guid;
        l.first_usable_lba = h.first_usable;
        l.last_usable_lba = h.last_usable;
        l.alternate_lba = h.alternate_lba;
        l.n_entries = h.n_entries;
        l.entry_size = h.entry_size;

        struct shield_diag bd = { .index = -1 };
        r = check_backup(dev, l.sector_size, l.n_sectors, &h, &bd);
        if (r == SHIELD_E_NOMEM) {
                shield_disk_layout_free(&l);
                return r;
        }
        l.backup_valid = r == 0;
        if (r < 0)
                shield_diag_format(&bd, l.backup_problem, sizeof l.backup_problem);
        *ret = l;
        return 0;
}
