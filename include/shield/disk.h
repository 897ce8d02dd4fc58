/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Read-only disk parsers for `shield image check`: a block device (a raw
 * image file or memory), the partition table (legacy/protective MBR and
 * GPT, UEFI 2.10 section 5), and FAT12/16/32 file systems (Microsoft FAT
 * specification, "fatgen103", 2000) so the bootloader on the EFI System
 * Partition can be found and read.
 *
 * Disks can be many gigabytes: nothing here reads a whole disk. Every
 * structure is read through shield_blockdev_read() and then through the
 * bounds-checked reader. Failures fill the optional diag with a byte
 * offset in the disk (not in the partition) and what was expected.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/uefi.h"
#include "shield/util.h" /* shield_crc32 */

/* ---- block devices ---- */

/*
 * A readable disk of size bytes. read() reads exactly len bytes at off and
 * returns 0 or a negative SHIELD_E_*. Call it through shield_blockdev_read(),
 * which checks off and len against size first: the callbacks given here
 * rely on that check.
 */
struct shield_blockdev {
        uint64_t size;
        void *ctx;
        int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
};

/*
 * Open a raw image file or a block device read-only (O_CLOEXEC) for pread.
 * The size is the file's size (or the device's, via lseek). Returns
 * SHIELD_E_SYSTEM (see errno) with the path in diag. *ret is set only on
 * success; release it with shield_blockdev_close().
 */
__attribute__((warn_unused_result))
int shield_blockdev_open_file(const char *path, struct shield_blockdev *ret, struct shield_diag *diag);

/* Close what shield_blockdev_open_file() opened; accepts NULL and a zeroed or memory device. */
void shield_blockdev_close(struct shield_blockdev *dev);

/* A device over len bytes of memory (tests, fuzzers). buf is borrowed and must outlive *ret. */
void shield_blockdev_from_memory(const uint8_t *buf, size_t len, struct shield_blockdev *ret);

/*
 * Read len bytes at off. SHIELD_E_TRUNCATED when the range is not inside
 * the device (checked without overflow); otherwise what the device's read
 * callback returns (SHIELD_E_SYSTEM for an I/O error, SHIELD_E_TRUNCATED for
 * a file that shrank).
 */
__attribute__((warn_unused_result))
int shield_blockdev_read(const struct shield_blockdev *dev, uint64_t off, void *buf, size_t len);

/* ---- partition tables ---- */

/* Caps on untrusted input. UEFI requires room for at least 128 entries of 128 bytes (16 KiB). */
#define SHIELD_GPT_ENTRIES_MAX 4096u
#define SHIELD_GPT_ENTRY_SIZE_MAX 4096u
#define SHIELD_GPT_ENTRY_ARRAY_MAX (1u << 20) /* NumberOfPartitionEntries * SizeOfPartitionEntry */
/* A partition name: 36 UTF-16 code units (72 bytes) as UTF-8, at most 3 bytes each, plus NUL. */
#define SHIELD_GPT_NAME_MAX (72 * 3 + 1)

enum shield_partition_scheme {
        SHIELD_DISK_EMPTY,         /* no MBR signature (0x55AA) and no GPT: a blank or unknown disk */
        SHIELD_DISK_MBR,           /* a legacy MBR partition table and no protective entry (0xEE) */
        SHIELD_DISK_GPT,           /* a protective (or hybrid) MBR and a valid primary GPT */
        SHIELD_DISK_UNPARTITIONED, /* a FAT file system starts at sector 0 ("superfloppy") */
};

/* "empty", "MBR", "GPT" or "unpartitioned"; never NULL. */
const char *shield_disk_scheme_name(enum shield_partition_scheme s);

/* A used GPT entry (the type GUID is not all zeros). */
struct shield_gpt_partition {
        uint32_t index;            /* 1-based slot in the entry array, as Linux numbers partitions */
        shield_guid type_guid;     /* PartitionTypeGUID */
        shield_guid unique_guid;   /* UniquePartitionGUID */
        uint64_t first_lba, last_lba; /* inclusive, inside the header's usable range */
        uint64_t attributes;
        char name[SHIELD_GPT_NAME_MAX]; /* PartitionName as UTF-8; "" when empty */
};

/* One of the four MBR partition records whose type is not 0. */
struct shield_mbr_partition {
        uint32_t index;        /* 1..4 */
        uint8_t type;          /* OSType: 0xEE protective, 0xEF EFI System, 0x83 Linux, 0x0C FAT32 LBA, ... */
        bool bootable;         /* BootIndicator 0x80 */
        uint32_t first_lba, n_sectors;
};

struct shield_disk_layout {
        enum shield_partition_scheme scheme;
        uint32_t sector_size; /* 512, or 4096 when the GPT header is found at byte 4096 */
        uint64_t n_sectors;   /* the device's size in sectors (rounded down) */

        /*
         * MBR records with a non-zero type, for MBR and GPT (the protective
         * record and any hybrid ones); none for EMPTY and UNPARTITIONED.
         */
        size_t n_mbr_partitions;
        struct shield_mbr_partition mbr_partitions[4];

        /* GPT only (zero otherwise). */
        shield_guid disk_guid;
        uint64_t first_usable_lba, last_usable_lba;
        uint64_t alternate_lba;     /* where the primary header says the backup is */
        uint32_t n_entries, entry_size; /* the entry array's geometry */
        bool backup_valid;          /* the backup header at alternate_lba checks out and matches the primary */
        char backup_problem[SHIELD_DIAG_MSG_MAX]; /* why not, when !backup_valid ("" otherwise) */
        size_t n_partitions;        /* used entries, in slot order */
        struct shield_gpt_partition *partitions; /* owned by the layout */
};

/*
 * Read the partition table of dev. The primary GPT must be valid: signature
 * "EFI PART", revision 1.0, header size, header CRC32, MyLBA, the entry
 * array's place, entry size (>= 128, a multiple of 8) and count (capped),
 * entry array CRC32, every used partition inside the usable LBA range and
 * none overlapping. A bad primary is an error even when the backup is good;
 * the message then says so. The backup is checked too and its state put in
 * backup_valid/backup_problem, not returned as an error.
 *
 * An MBR without a 0xEE entry gives scheme SHIELD_DISK_MBR (the caller
 * refuses it), and no table at all gives SHIELD_DISK_EMPTY or
 * SHIELD_DISK_UNPARTITIONED: neither is an error here.
 *
 * Returns SHIELD_E_FORMAT, SHIELD_E_UNSUPPORTED (a GPT revision other than
 * 1.0), SHIELD_E_LIMIT, SHIELD_E_TRUNCATED (the disk ends before a
 * structure), SHIELD_E_SYSTEM, SHIELD_E_NOMEM. *ret is written only on
 * success; free it with shield_disk_layout_free().
 */
__attribute__((warn_unused_result))
int shield_disk_read_layout(const struct shield_blockdev *dev, struct shield_disk_layout *ret,
                            struct shield_diag *diag);

/* Free what the layout owns and zero it; accepts NULL. */
void shield_disk_layout_free(struct shield_disk_layout *l);

/* EFI System Partition type GUID C12A7328-F81F-11D2-BA4B-00A0C93EC93B (UEFI 2.10, 5.3.3). */
extern const shield_guid SHIELD_GUID_ESP;

bool shield_gpt_is_esp(const struct shield_gpt_partition *p);

/* The first ESP in the layout, or NULL. */
const struct shield_gpt_partition *shield_disk_find_esp(const struct shield_disk_layout *l);


/* ---- FAT ---- */

/* Caps: a FAT directory holds at most 65536 entries (fatgen103, "FAT Directories"). */
#define SHIELD_FAT_DIR_ENTRIES_MAX 65536u
#define SHIELD_FAT_PATH_DEPTH_MAX 32u

struct shield_fat;

/*
 * Open the FAT file system in the size bytes at offset of dev (a partition:
 * pass first_lba * sector_size and the partition's length). Checks the
 * boot-sector signature 0x55AA, the BIOS parameter block (bytes per sector
 * 512..4096, sectors per cluster a power of two, reserved sectors, FAT
 * count, root entries, sizes that fit the partition, a FAT large enough for
 * the clusters) and that the FAT type the cluster count implies matches
 * the BPB's layout. SHIELD_E_FORMAT with the offset of the bad field when
 * it is not FAT. dev is borrowed and must outlive the handle. *ret is set
 * only on success; release with shield_fat_close().
 */
__attribute__((warn_unused_result))
int shield_fat_open(const struct shield_blockdev *dev, uint64_t offset, uint64_t size, struct shield_fat **ret,
                    struct shield_diag *diag);

/* "FAT12", "FAT16" or "FAT32". */
const char *shield_fat_type_name(const struct shield_fat *fat);

/* The volume label from the boot sector ("NO NAME" when unset), spaces trimmed; owned by fat. */
const char *shield_fat_label(const struct shield_fat *fat);

/* Cluster size in bytes and number of data clusters. */
uint32_t shield_fat_cluster_size(const struct shield_fat *fat);
uint32_t shield_fat_cluster_count(const struct shield_fat *fat);

/* Accepts NULL. */
void shield_fat_close(struct shield_fat *fat);

/*
 * Read the file at path ("\\EFI\\Boot\\bootx64.efi" or "/EFI/BOOT/BOOTX64.EFI":
 * either separator, empty components ignored). Names match long (LFN) and
 * short 8.3 names with ASCII case folding. Refuses files over max bytes with
 * SHIELD_E_LIMIT. SHIELD_E_NOT_FOUND when a component is missing (diag says
 * which), SHIELD_E_INVAL when path names a directory or is not a usable
 * path, SHIELD_E_FORMAT for a broken chain (a cluster out of range, a free
 * or bad cluster, a loop, a chain shorter or longer than the file size).
 * *ret_buf (malloc'd, free()) and *ret_len are set only on success.
 */
__attribute__((warn_unused_result))
int shield_fat_read_file(struct shield_fat *fat, const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len,
                         struct shield_diag *diag);

/*
 * Look path up as shield_fat_read_file() does, without reading the data;
 * "\\" or "" is the root directory. Either output may be NULL; both are set
 * only on success (a directory's size is 0).
 */
__attribute__((warn_unused_result))
int shield_fat_stat(struct shield_fat *fat, const char *path, bool *ret_is_dir, uint64_t *ret_size,
                    struct shield_diag *diag);
