/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FAT12/16/32, read-only. Layouts and rules from Microsoft's "FAT: General
 * Overview of On-Disk Format" (fatgen103, 2000): the BPB (section 3), the
 * FAT type decided by the cluster count alone (section 3.5), FAT entries
 * (section 4), directory entries (section 6) and long names (section 7).
 * Nothing is read in bulk: FAT entries through a one-block cache,
 * directories one sector or cluster at a time, files cluster by cluster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/disk.h"
#include "shield/util.h"
#include "util/rd.h"

#define BOOT_SECTOR 512
#define BOOT_SIGNATURE 0xaa55u     /* at byte 510 */
#define CLUSTER_MAX (64u << 10)    /* fatgen103 says 32 KiB; some formatters make 64 KiB */
#define FAT12_MAX_CLUSTERS 4085u   /* fatgen103 3.5: fewer clusters is FAT12 ... */
#define FAT16_MAX_CLUSTERS 65525u  /* ... fewer than this FAT16, else FAT32 */
#define FAT32_MAX_CLUSTERS 0x0ffffff5u
#define DIR_ENTRY 32
#define ATTR_VOLUME_ID 0x08
#define ATTR_DIRECTORY 0x10
#define ATTR_LONG_NAME 0x0f        /* READ_ONLY|HIDDEN|SYSTEM|VOLUME_ID, under the mask 0x3f */
#define LFN_LAST 0x40
#define LFN_ENTRIES_MAX 20         /* 255 characters at 13 per entry */
#define LFN_CHARS 13
#define NAME_MAX_BYTES 255
#define CACHE_SIZE 4096

struct shield_fat {
        const struct shield_blockdev *dev;
        uint64_t base, size;           /* the partition in the disk */
        unsigned bits;                 /* 12, 16 or 32 */
        uint32_t bytes_per_sector, cluster_size;
        uint32_t n_clusters;           /* data clusters: valid numbers are 2..n_clusters+1 */
        uint64_t fat_offset, fat_bytes; /* the FAT in use, in the disk */
        uint64_t root_offset;          /* FAT12/16: the fixed root directory */
        uint32_t root_entries;
        uint32_t root_cluster;         /* FAT32 */
        uint64_t data_offset;          /* cluster 2 */
        char label[12];
        uint64_t cache_off;            /* of cache[] within the FAT; valid when cache_len */
        size_t cache_len;
        uint8_t cache[CACHE_SIZE];
};

/* What a directory entry says about a file or directory. */
struct entry {
        bool is_dir;
        uint32_t cluster; /* 0: empty file, or the root for ".." */
        uint32_t size;
        uint64_t offset;  /* of the 32-byte entry in the disk; the root has none */
};

const char *shield_fat_type_name(const struct shield_fat *fat) {
        return !fat ? "?" : fat->bits == 12 ? "FAT12" : fat->bits == 16 ? "FAT16" : "FAT32";
}

const char *shield_fat_label(const struct shield_fat *fat) {
        return fat ? fat->label : "";
}

uint32_t shield_fat_cluster_size(const struct shield_fat *fat) {
        return fat ? fat->cluster_size : 0;
}

uint32_t shield_fat_cluster_count(const struct shield_fat *fat) {
        return fat ? fat->n_clusters : 0;
}

void shield_fat_close(struct shield_fat *fat) {
        free(fat);
}

static bool power_of_two(uint32_t v) {
        return v && !(v & (v - 1));
}

static int read_disk(const struct shield_fat *fat, uint64_t off, void *buf, size_t len, const char *what,
                     struct shield_diag *diag) {
        int r = shield_blockdev_read(fat->dev, off, buf, len);
        if (r < 0)
                return shield_diag_fail(diag, r, (size_t)off, -1, "cannot read the %s (%zu bytes at 0x%llx): %s", what,
                                        len, (unsigned long long)off, shield_strerror(r));
        return 0;
}

static int parse_bpb(struct shield_fat *fat, const uint8_t *bs, struct shield_diag *diag) {
        struct rd r = rd_init_sticky(bs, BOOT_SECTOR);
        uint16_t bps, rsvd, root_entries, totsec16, fatsz16 = 0, ext_flags = 0, fs_ver = 0;
        uint32_t totsec32, fatsz32 = 0, root_cluster = 0;
        uint8_t spc, nfats, media;
        size_t at = (size_t)fat->base;

        /* fatgen103 section 3.1: BS_jmpBoot, BS_OEMName, then the BPB. */
        rd_skip(&r, 11);
        rd_le16(&r, &bps);
        rd_u8(&r, &spc);
        rd_le16(&r, &rsvd);
        rd_u8(&r, &nfats);
        rd_le16(&r, &root_entries);
        rd_le16(&r, &totsec16);
        rd_u8(&r, &media);
        rd_le16(&r, &fatsz16);
        rd_skip(&r, 8); /* BPB_SecPerTrk, BPB_NumHeads, BPB_HiddSec */
        rd_le32(&r, &totsec32);
        if (fatsz16 == 0) {
                /* fatgen103 section 3.3: the FAT32 extension. */
                rd_le32(&r, &fatsz32);
                rd_le16(&r, &ext_flags);
                rd_le16(&r, &fs_ver);
                rd_le32(&r, &root_cluster);
        }
        if (rd_ok(&r) < 0) /* not reached: the BPB and its FAT32 extension lie within the boot sector */
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, at, -1, "the boot sector is too short for a BPB");

        if (bps != 512 && bps != 1024 && bps != 2048 && bps != 4096)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x0b, -1,
                                        "not a FAT file system: BPB_BytsPerSec is %u, expected 512, 1024, 2048 or 4096",
                                        bps);
        if (!power_of_two(spc) || (uint32_t)spc * bps > CLUSTER_MAX)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x0d, -1,
                                        "not a FAT file system: BPB_SecPerClus is %u, expected a power of two with "
                                        "clusters of at most %u bytes",
                                        spc, CLUSTER_MAX);
        if (rsvd == 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x0e, -1,
                                        "not a FAT file system: BPB_RsvdSecCnt is 0, expected at least 1");
        if (nfats == 0 || nfats > 4)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x10, -1,
                                        "not a FAT file system: BPB_NumFATs is %u, expected 1 to 4", nfats);
        if (media != 0xf0 && media < 0xf8)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x15, -1,
                                        "not a FAT file system: BPB_Media is 0x%02x, expected 0xF0 or 0xF8..0xFF",
                                        media);
        uint64_t totsec = totsec16 ? totsec16 : totsec32;
        uint64_t fatsz = fatsz16 ? fatsz16 : fatsz32;
        if (totsec == 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + (totsec16 ? 0x13 : 0x20), -1,
                                        "not a FAT file system: BPB_TotSec16 and BPB_TotSec32 are both 0");
        if (fatsz == 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x24, -1,
                                        "not a FAT file system: BPB_FATSz16 and BPB_FATSz32 are both 0");
        if (totsec * bps > fat->size)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + (totsec16 ? 0x13 : 0x20), -1,
                                        "the FAT file system has %llu sectors of %u bytes, more than its partition's "
                                        "%llu bytes",
                                        (unsigned long long)totsec, bps, (unsigned long long)fat->size);

        /* fatgen103 section 3.5: the FAT type follows from the count of data clusters, nothing else. */
        uint64_t root_sectors = ((uint64_t)root_entries * DIR_ENTRY + bps - 1) / bps;
        uint64_t meta = rsvd + nfats * fatsz + root_sectors;
        if (meta >= totsec)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x0e, -1,
                                        "the reserved sectors, %u FATs and root directory take %llu of the volume's "
                                        "%llu sectors: no room for data",
                                        nfats, (unsigned long long)meta, (unsigned long long)totsec);
        uint64_t clusters = (totsec - meta) / spc;
        unsigned bits = clusters < FAT12_MAX_CLUSTERS ? 12 : clusters < FAT16_MAX_CLUSTERS ? 16 : 32;
        if (clusters == 0 || clusters > FAT32_MAX_CLUSTERS)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x0d, -1, "%llu data clusters: expected 1 to %u",
                                        (unsigned long long)clusters, FAT32_MAX_CLUSTERS);
        /* Cross-check the BPB's shape against the type: FAT32 has FATSz16 0 and no fixed root directory. */
        if ((bits == 32) != (fatsz16 == 0))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x16, -1,
                                        "%llu data clusters make this FAT%u, but BPB_FATSz16 is %u (%s)",
                                        (unsigned long long)clusters, bits, fatsz16,
                                        bits == 32 ? "FAT32 requires 0" : "0 is only for FAT32");
        if ((bits == 32) != (root_entries == 0))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x11, -1,
                                        "BPB_RootEntCnt is %u on FAT%u (expected %s)", root_entries, bits,
                                        bits == 32 ? "0" : "a non-zero count");
        uint64_t fat_need = ((clusters + 2) * bits + 7) / 8;
        if (fat_need > fatsz * bps)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + (fatsz16 ? 0x16 : 0x24), -1,
                                        "a FAT of %llu sectors (%llu bytes) cannot hold %llu FAT%u entries "
                                        "(%llu bytes)",
                                        (unsigned long long)fatsz, (unsigned long long)(fatsz * bps),
                                        (unsigned long long)(clusters + 2), bits, (unsigned long long)fat_need);
        unsigned active = 0;
        if (bits == 32) {
                if (fs_ver != 0)
                        return shield_diag_fail(diag, SHIELD_E_UNSUPPORTED, at + 0x2a, -1,
                                                "FAT32 BPB_FSVer is 0x%04x, only 0x0000 is defined", fs_ver);
                if (root_cluster < 2 || root_cluster > clusters + 1)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x2c, -1,
                                                "FAT32 BPB_RootClus is %u, expected a cluster from 2 to %llu",
                                                root_cluster, (unsigned long long)(clusters + 1));
                /* BPB_ExtFlags bit 7: mirroring off, bits 0-3 name the one FAT in use. */
                if (ext_flags & 0x80) {
                        active = ext_flags & 0x0f;
                        if (active >= nfats)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, at + 0x28, -1,
                                                        "FAT32 BPB_ExtFlags makes FAT %u active, but there are %u",
                                                        active, nfats);
                }
        }

        fat->bits = bits;
        fat->bytes_per_sector = bps;
        fat->cluster_size = (uint32_t)spc * bps;
        fat->n_clusters = (uint32_t)clusters;
        fat->fat_offset = fat->base + (rsvd + active * fatsz) * bps;
        fat->fat_bytes = fatsz * bps;
        fat->root_offset = fat->base + (rsvd + nfats * fatsz) * bps;
        fat->root_entries = root_entries;
        fat->root_cluster = root_cluster;
        fat->data_offset = fat->base + meta * bps;

        /* The boot sector's copy of the label, when the extended boot signature 0x29 says it is there. */
        size_t ext = bits == 32 ? 0x40 : 0x24;
        snprintf(fat->label, sizeof fat->label, "NO NAME");
        if (bs[ext + 2] == 0x29) {
                size_t n = 11;
                while (n > 0 && bs[ext + 7 + n - 1] == ' ')
                        n--;
                for (size_t i = 0; i < n; i++) {
                        uint8_t c = bs[ext + 7 + i];
                        fat->label[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
                }
                fat->label[n] = '\0';
        }
        return 0;
}

int shield_fat_open(const struct shield_blockdev *dev, uint64_t offset, uint64_t size, struct shield_fat **ret,
                    struct shield_diag *diag) {
        uint8_t bs[BOOT_SECTOR];

        if (!dev || !ret)
                return SHIELD_E_INVAL;
        if (size > dev->size || offset > dev->size - size)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, (size_t)offset, -1,
                                        "the partition (%llu bytes at 0x%llx) runs past the end of the disk (%llu "
                                        "bytes)",
                                        (unsigned long long)size, (unsigned long long)offset,
                                        (unsigned long long)dev->size);
        if (size < BOOT_SECTOR)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)offset, -1,
                                        "not a FAT file system: the partition has %llu bytes, too few for a boot "
                                        "sector",
                                        (unsigned long long)size);
        struct shield_fat *fat = calloc(1, sizeof *fat);
        if (!fat)
                return SHIELD_E_NOMEM;
        fat->dev = dev;
        fat->base = offset;
        fat->size = size;
        int r = read_disk(fat, offset, bs, sizeof bs, "FAT boot sector", diag);
        if (r < 0)
                goto fail;
        uint16_t sig = (uint16_t)(bs[510] | bs[511] << 8);
        if (sig != BOOT_SIGNATURE) {
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)offset + 510, -1,
                                     "not a FAT file system: the boot-sector signature is 0x%04x, expected 0xAA55",
                                     sig);
                goto fail;
        }
        r = parse_bpb(fat, bs, diag);
        if (r < 0)
                goto fail;
        *ret = fat;
        return 0;
fail:
        free(fat);
        return r;
}

/* One byte of the FAT in use, through the cache; off < fat_bytes. */
static int fat_byte(struct shield_fat *fat, uint64_t off, uint8_t *ret, struct shield_diag *diag) {
        if (!fat->cache_len || off < fat->cache_off || off - fat->cache_off >= fat->cache_len) {
                uint64_t start = off - off % CACHE_SIZE;
                size_t len = fat->fat_bytes - start < CACHE_SIZE ? (size_t)(fat->fat_bytes - start) : CACHE_SIZE;
                fat->cache_len = 0;
                int r = read_disk(fat, fat->fat_offset + start, fat->cache, len, "FAT", diag);
                if (r < 0)
                        return r;
                fat->cache_off = start;
                fat->cache_len = len;
        }
        *ret = fat->cache[off - fat->cache_off];
        return 0;
}

/*
 * The cluster after c (2..n_clusters+1) in its chain, or 0 at the end of
 * the chain. A free, bad, reserved or out-of-range value is an error.
 */
static int chain_next(struct shield_fat *fat, uint32_t c, uint32_t *ret, struct shield_diag *diag) {
        uint64_t off = fat->bits == 12 ? (uint64_t)c + c / 2 : (uint64_t)c * (fat->bits / 8);
        uint8_t b[4] = { 0 };
        uint32_t v, eoc;
        int r;

        for (unsigned i = 0; i < (fat->bits == 32 ? 4u : 2u); i++) {
                r = fat_byte(fat, off + i, &b[i], diag);
                if (r < 0)
                        return r;
        }
        /* fatgen103 section 4: FAT12 packs two entries in three bytes; FAT32 entries are 28 bits. */
        if (fat->bits == 12) {
                v = (uint32_t)(b[0] | b[1] << 8);
                v = c & 1 ? v >> 4 : v & 0xfff;
                eoc = 0xff8;
        } else if (fat->bits == 16) {
                v = (uint32_t)(b[0] | b[1] << 8);
                eoc = 0xfff8;
        } else {
                v = ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24) & 0x0fffffffu;
                eoc = 0x0ffffff8u;
        }
        if (v >= eoc) {
                *ret = 0;
                return 0;
        }
        if (v < 2 || v > fat->n_clusters + 1)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)(fat->fat_offset + off), -1,
                                        "the FAT entry of cluster %u is 0x%x: %s", c, v,
                                        v == 0 ? "a free cluster inside a chain"
                                        : v == eoc - 1 ? "a bad cluster inside a chain"
                                                       : "not a cluster of this volume");
        *ret = v;
        return 0;
}

static uint64_t cluster_offset(const struct shield_fat *fat, uint32_t c) {
        return fat->data_offset + (uint64_t)(c - 2) * fat->cluster_size;
}

/* Long-name assembly across entries (fatgen103 section 7): ordinals count down to 1, each with the same checksum. */
struct lfn {
        int next; /* the ordinal expected next; 0 when complete; -1 when none */
        uint8_t sum;
        uint8_t units[LFN_ENTRIES_MAX * LFN_CHARS * 2]; /* UTF-16LE */
};

static void lfn_add(struct lfn *l, const uint8_t *e) {
        static const uint8_t at[LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
        uint8_t ord = e[0], sum = e[13];

        if (ord & LFN_LAST) {
                int n = ord & 0x3f;
                if (n < 1 || n > LFN_ENTRIES_MAX) {
                        l->next = -1;
                        return;
                }
                memset(l->units, 0, sizeof l->units);
                l->next = n;
                l->sum = sum;
        }
        if (l->next < 1 || (ord & 0x3f) != l->next || sum != l->sum) {
                l->next = -1; /* an orphan or out-of-order piece: ignore the name, as Windows does */
                return;
        }
        for (size_t i = 0; i < LFN_CHARS; i++)
                memcpy(l->units + ((size_t)(l->next - 1) * LFN_CHARS + i) * 2, e + at[i], 2);
        l->next--;
}

/* fatgen103 section 7.2: the checksum of the 11-byte short name that the long-name entries carry. */
static uint8_t short_sum(const uint8_t *name) {
        uint8_t s = 0;
        for (size_t i = 0; i < 11; i++)
                s = (uint8_t)(((s & 1) << 7) + (s >> 1) + name[i]);
        return s;
}

static bool eq_fold(const char *a, size_t alen, const char *b) {
        size_t blen = strlen(b);
        if (alen != blen)
                return false;
        for (size_t i = 0; i < alen; i++) {
                unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
                if (x >= 'a' && x <= 'z')
                        x = (unsigned char)(x - 32);
                if (y >= 'a' && y <= 'z')
                        y = (unsigned char)(y - 32);
                if (x != y)
                        return false;
        }
        return true;
}

/* "NAME.EXT" from the 11-byte 8.3 form; 0x05 in the first byte stands for 0xE5. */
static void short_name(const uint8_t *e, char out[13]) {
        size_t n = 0, base = 8, ext = 3;
        while (base > 0 && e[base - 1] == ' ')
                base--;
        while (ext > 0 && e[8 + ext - 1] == ' ')
                ext--;
        for (size_t i = 0; i < base; i++)
                out[n++] = i == 0 && e[0] == 0x05 ? (char)0xe5 : (char)e[i];
        if (ext) {
                out[n++] = '.';
                for (size_t i = 0; i < ext; i++)
                        out[n++] = (char)e[8 + i];
        }
        out[n] = '\0';
}

/* 1 and *ret when entry e (at disk offset off) is named name, 0 when not, or an error. */
static int match_entry(struct shield_fat *fat, const uint8_t *e, uint64_t off, const struct lfn *l, const char *name,
                       size_t name_len, struct entry *ret, struct shield_diag *diag) {
        char sn[13];
        bool hit = false;

        short_name(e, sn);
        if (l->next == 0 && l->sum == short_sum(e)) {
                char *lfn = NULL;
                if (shield_utf16le_to_utf8(l->units, sizeof l->units, &lfn) < 0)
                        return SHIELD_E_NOMEM;
                hit = eq_fold(name, name_len, lfn);
                free(lfn);
        }
        if (!hit && !eq_fold(name, name_len, sn))
                return 0;

        uint32_t lo = (uint32_t)(e[26] | e[27] << 8), hi = (uint32_t)(e[20] | e[21] << 8);
        struct entry x = {
                .is_dir = e[11] & ATTR_DIRECTORY,
                .cluster = fat->bits == 32 ? hi << 16 | lo : lo,
                .size = (uint32_t)e[28] | (uint32_t)e[29] << 8 | (uint32_t)e[30] << 16 | (uint32_t)e[31] << 24,
                .offset = off,
        };
        if (x.cluster == 0 && x.is_dir && strcmp(sn, "..") != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 26, -1,
                                        "directory \"%s\" starts at cluster 0: expected a cluster from 2 to %u", sn,
                                        fat->n_clusters + 1);
        if (x.cluster != 0 && (x.cluster < 2 || x.cluster > fat->n_clusters + 1))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 26, -1,
                                        "\"%s\" starts at cluster %u: expected a cluster from 2 to %u", sn, x.cluster,
                                        fat->n_clusters + 1);
        if (x.cluster == 0 && !x.is_dir && x.size != 0)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)off + 28, -1,
                                        "file \"%s\" has %u bytes but no first cluster", sn, x.size);
        if (x.is_dir)
                x.size = 0;
        *ret = x;
        return 1;
}

/*
 * Look name up in the directory at cluster dir (0: the FAT12/16 fixed
 * root). 1 with *ret when found, 0 when not. Bounded by the entry cap and,
 * for cluster chains, by the cluster count.
 */
static int dir_lookup(struct shield_fat *fat, uint32_t dir, const char *name, size_t name_len, struct entry *ret,
                      struct shield_diag *diag) {
        bool fixed = dir == 0;
        size_t seg_len = fixed ? fat->bytes_per_sector : fat->cluster_size;
        uint64_t root_bytes = (uint64_t)fat->root_entries * DIR_ENTRY, done = 0;
        struct lfn l = { .next = -1 };
        /* Brent's cycle detection: a loop is named as one within twice its length, long before the entry cap. */
        uint32_t c = dir, steps = 0, tortoise = 0, power = 1, lam = 0;
        size_t seen = 0;
        int r = 0;

        uint8_t *buf = malloc(seg_len);
        if (!buf)
                return SHIELD_E_NOMEM;
        for (;;) {
                uint64_t off;
                size_t len = seg_len;
                if (fixed) {
                        if (done >= root_bytes)
                                break;
                        off = fat->root_offset + done;
                        if (root_bytes - done < len)
                                len = (size_t)(root_bytes - done);
                        done += len;
                } else {
                        if (c == 0)
                                break;
                        if (c == tortoise || ++steps > fat->n_clusters) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)cluster_offset(fat, dir), -1,
                                                     "the cluster chain of the directory at cluster %u loops back to "
                                                     "cluster %u",
                                                     dir, c);
                                goto out;
                        }
                        if (++lam == power) {
                                tortoise = c;
                                power *= 2;
                                lam = 0;
                        }
                        off = cluster_offset(fat, c);
                }
                r = read_disk(fat, off, buf, len, "directory", diag);
                if (r < 0)
                        goto out;
                for (size_t i = 0; i + DIR_ENTRY <= len; i += DIR_ENTRY) {
                        const uint8_t *e = buf + i;
                        if (e[0] == 0x00) /* fatgen103 section 6.1: no entries follow */
                                goto out;
                        if (seen++ == SHIELD_FAT_DIR_ENTRIES_MAX) {
                                r = shield_diag_fail(diag, SHIELD_E_LIMIT, (size_t)(off + i), -1,
                                                     "a directory with more than %u entries",
                                                     SHIELD_FAT_DIR_ENTRIES_MAX);
                                goto out;
                        }
                        if (e[0] == 0xe5) {
                                l.next = -1;
                                continue;
                        }
                        if ((e[11] & 0x3f) == ATTR_LONG_NAME) {
                                lfn_add(&l, e);
                                continue;
                        }
                        if (e[11] & ATTR_VOLUME_ID) {
                                l.next = -1;
                                continue;
                        }
                        r = match_entry(fat, e, off + i, &l, name, name_len, ret, diag);
                        if (r != 0)
                                goto out;
                        l.next = -1;
                }
                if (!fixed) {
                        r = chain_next(fat, c, &c, diag);
                        if (r < 0)
                                goto out;
                }
        }
out:
        free(buf);
        return r;
}

/* Walk path from the root. Components are split at '/' or '\\'; empty ones are skipped. */
static int resolve(struct shield_fat *fat, const char *path, struct entry *ret, struct shield_diag *diag) {
        struct entry cur = { .is_dir = true, .cluster = fat->bits == 32 ? fat->root_cluster : 0 };
        const char *p = path;
        unsigned depth = 0;

        if (!path)
                return SHIELD_E_INVAL;
        for (;;) {
                while (*p == '/' || *p == '\\')
                        p++;
                if (!*p)
                        break;
                size_t n = strcspn(p, "/\\");
                if (n > NAME_MAX_BYTES || ++depth > SHIELD_FAT_PATH_DEPTH_MAX)
                        return shield_diag_fail(diag, SHIELD_E_INVAL, 0, -1,
                                                "path \"%.64s\": a name over %u bytes or more than %u levels", path,
                                                NAME_MAX_BYTES, SHIELD_FAT_PATH_DEPTH_MAX);
                if (!cur.is_dir)
                        return shield_diag_fail(diag, SHIELD_E_NOT_FOUND, (size_t)cur.offset, -1,
                                                "\"%.*s\" in \"%.128s\" is a file, not a directory", (int)(p - path),
                                                path, path);
                uint32_t dir = cur.cluster == 0 && fat->bits == 32 ? fat->root_cluster : cur.cluster;
                struct entry next;
                int r = dir_lookup(fat, dir, p, n, &next, diag);
                if (r < 0)
                        return r;
                if (r == 0)
                        return shield_diag_fail(diag, SHIELD_E_NOT_FOUND,
                                                (size_t)(dir == 0 ? fat->root_offset : cluster_offset(fat, dir)), -1,
                                                "no \"%.*s\" in the directory \"%.*s\" (%s)", (int)n, p,
                                                (int)(p - path), p == path ? "\\" : path, shield_fat_type_name(fat));
                cur = next;
                p += n;
        }
        *ret = cur;
        return 0;
}

int shield_fat_stat(struct shield_fat *fat, const char *path, bool *ret_is_dir, uint64_t *ret_size,
                    struct shield_diag *diag) {
        struct entry e;

        if (!fat)
                return SHIELD_E_INVAL;
        int r = resolve(fat, path, &e, diag);
        if (r < 0)
                return r;
        if (ret_is_dir)
                *ret_is_dir = e.is_dir;
        if (ret_size)
                *ret_size = e.size;
        return 0;
}

int shield_fat_read_file(struct shield_fat *fat, const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len,
                         struct shield_diag *diag) {
        struct entry e;

        if (!fat || !ret_buf || !ret_len)
                return SHIELD_E_INVAL;
        int r = resolve(fat, path, &e, diag);
        if (r < 0)
                return r;
        if (e.is_dir)
                return shield_diag_fail(diag, SHIELD_E_INVAL, (size_t)e.offset, -1, "\"%.128s\" is a directory",
                                        path);
        if (e.size > max)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, (size_t)e.offset + 28, -1,
                                        "\"%.128s\" has %u bytes, more than the %zu allowed", path, e.size, max);
        uint64_t need = ((uint64_t)e.size + fat->cluster_size - 1) / fat->cluster_size;
        if (need > fat->n_clusters)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)e.offset + 28, -1,
                                        "\"%.128s\" has %u bytes, %llu clusters, but the volume has %u", path, e.size,
                                        (unsigned long long)need, fat->n_clusters);
        uint8_t *buf = malloc(e.size ? e.size : 1);
        if (!buf)
                return SHIELD_E_NOMEM;
        uint32_t c = e.cluster;
        size_t done = 0;
        for (uint64_t i = 0; i < need; i++) {
                if (c == 0) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)e.offset + 28, -1,
                                             "\"%.128s\" has %u bytes but its cluster chain ends after %llu clusters "
                                             "(%llu bytes)",
                                             path, e.size, (unsigned long long)i,
                                             (unsigned long long)i * fat->cluster_size);
                        goto fail;
                }
                size_t n = e.size - done < fat->cluster_size ? e.size - done : fat->cluster_size;
                r = read_disk(fat, cluster_offset(fat, c), buf + done, n, "file data", diag);
                if (r < 0)
                        goto fail;
                done += n;
                r = chain_next(fat, c, &c, diag);
                if (r < 0)
                        goto fail;
        }
        if (c != 0) {
                /* Longer than the size says: a cross-link, a loop, or a size that was cut short. */
                r = shield_diag_fail(diag, SHIELD_E_FORMAT, (size_t)e.offset + 28, -1,
                                     "\"%.128s\" has %u bytes (%llu clusters) but its cluster chain goes on to "
                                     "cluster %u",
                                     path, e.size, (unsigned long long)need, c);
                goto fail;
        }
        *ret_buf = buf;
        *ret_len = e.size;
        return 0;
fail:
        free(buf);
        return r;
}
