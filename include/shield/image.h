/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Custom shielded images: build a disk (GPT, a FAT EFI System Partition with
 * the bootloader at \EFI\Boot\bootx64.efi, an OS partition, data partitions)
 * and keep a local registry of images with their Secure Boot initial state,
 * the local counterpart of a cloud's image API.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/initial-state.h"
#include "shield/uefi.h"

#define SHIELD_IMAGE_DATA_MAX 8
#define SHIELD_IMAGE_ESP_DEFAULT (100ull << 20)
#define SHIELD_IMAGE_OS_DEFAULT (16ull << 20)
#define SHIELD_IMAGE_DISK_MAX (16ull << 40)     /* --size cap: 16 TiB (the file is sparse) */

struct shield_image_data_partition {
        uint64_t size;
        const char *label;      /* GPT partition name; NULL: "data<N>" */
};

struct shield_image_spec {
        const char *output;             /* the raw disk to write (replaced atomically) */
        const char *bootloader;         /* EFI program copied to \EFI\Boot\bootx64.efi */
        uint64_t esp_size;              /* 0: SHIELD_IMAGE_ESP_DEFAULT */
        const char *esp_dir;            /* optional: its contents go to the ESP's root */
        uint64_t os_size;               /* 0: SHIELD_IMAGE_OS_DEFAULT (ignored with os_image or disk_size) */
        const char *os_image;           /* optional: the OS partition's bytes */
        uint64_t disk_size;             /* 0: just big enough; else the whole disk, a multiple of 512, the
                                         * OS partition taking what the ESP and data partitions leave */
        size_t n_data;
        struct shield_image_data_partition data[SHIELD_IMAGE_DATA_MAX];
        const char *disk_guid;          /* optional: the GPT disk GUID */
        bool reproducible;              /* fixed GUIDs, volume id and timestamps */
};

/*
 * Write the disk: GPT (libfdisk) with 1 MiB alignment: ESP, then the OS
 * partition, then the data partitions; the ESP formatted FAT32 (FAT16 when
 * smaller than 64 MiB) by mkfs.fat and filled by mtools (no loop devices,
 * no root). With disk_size the disk is that big and the OS partition gets
 * the rest (rounded down to 1 MiB, room left for the backup GPT):
 * SHIELD_E_INVAL with diag giving the sizes when less than 1 MiB is left
 * (or less than os_image needs). progress (may be NULL) is told each step.
 * 0 or SHIELD_E_* with diag saying which step failed and what the tool said.
 */
__attribute__((warn_unused_result))
int shield_image_create(const struct shield_image_spec *spec, void (*progress)(const char *step),
                        struct shield_diag *diag);

/* What a partition of a disk shield_image_create() wrote is, by its type GUID. */
enum shield_image_role {
        SHIELD_IMAGE_ROLE_ESP,          /* C12A7328-F81F-11D2-BA4B-00A0C93EC93B */
        SHIELD_IMAGE_ROLE_OS,           /* Linux root (x86-64), 4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 */
        SHIELD_IMAGE_ROLE_DATA,         /* anything else */
};
enum shield_image_role shield_image_partition_role(const shield_guid *type_guid);
/* "ESP", "OS" or "data". */
const char *shield_image_role_name(enum shield_image_role role);

/* Guest OS features an image declares (the images API's guestOsFeatures). */
enum {
        SHIELD_FEATURE_UEFI_COMPATIBLE = 1u << 0,
        SHIELD_FEATURE_WINDOWS = 1u << 1,
};
/* "UEFI_COMPATIBLE,WINDOWS" → bits; SHIELD_E_FORMAT naming an unknown feature in diag. */
__attribute__((warn_unused_result))
int shield_features_parse(const char *list, unsigned *ret, struct shield_diag *diag);
/* The names of the bits set, comma-separated, into buf. */
void shield_features_text(unsigned features, char *buf, size_t size);

/* An image in the local registry: STATE/images/NAME/{image.json,disk.raw}. */
struct shield_image_record {
        char name[64];
        char *dir;                      /* STATE/images/NAME */
        char *disk;                     /* STATE/images/NAME/disk.raw */
        uint64_t disk_size;
        char disk_sha256[65];
        char *source_disk;              /* where it was registered from, or NULL */
        char *source_image;             /* the image it was made from, or NULL */
        char *created;                  /* RFC 3339 UTC */
        unsigned features;
        bool has_initial_state;         /* false: every value takes the platform default */
        struct shield_initial_state initial_state;
};

/*
 * Local resource names (images, instances): valid names (shield_name_valid)
 * of a narrower profile, as cloud resource names: a lowercase letter, then
 * up to 62 of [-a-z0-9], not ending in '-'. They name directories of the
 * registry and QEMU's -name, and stay valid shieldd instance names.
 */
bool shield_resource_name_valid(const char *name);

struct shield_image_register_opts {
        const char *name;
        const char *source_disk;        /* one of source_disk / source_image */
        const char *source_image;
        unsigned features;              /* 0: UEFI_COMPATIBLE (+ WINDOWS when the disk needs it) */
        bool keys_given;                /* any of the four key options was given */
        struct shield_initial_state keys; /* the values given (replace the defaults, never merged) */
};

/*
 * Register an image: copy the source disk (or the source image's disk) into
 * the registry with its metadata. Without any key option, an image made
 * from another image inherits that image's initial state; with key options
 * only the values given are set (the rest take the defaults at instance
 * creation). SHIELD_E_INVAL for a bad or taken name.
 */
__attribute__((warn_unused_result))
int shield_image_register(const char *state, const struct shield_image_register_opts *opts,
                          struct shield_diag *diag);
__attribute__((warn_unused_result))
int shield_image_load(const char *state, const char *name, struct shield_image_record *ret, struct shield_diag *diag);
void shield_image_record_clear(struct shield_image_record *rec);
/* The entries of dir that are valid resource names, sorted; *ret is a malloc'd array of malloc'd strings (none: an empty list). */
__attribute__((warn_unused_result))
int shield_resource_names(const char *dir, char ***ret, size_t *ret_n);
/* Names of registered images, sorted; *ret is a malloc'd array of malloc'd strings. */
__attribute__((warn_unused_result))
int shield_image_names(const char *state, char ***ret, size_t *ret_n);
/* The record as JSON text (malloc'd): what image.json holds plus the paths. */
char *shield_image_record_json(const struct shield_image_record *rec);
__attribute__((warn_unused_result))
int shield_image_delete(const char *state, const char *name, struct shield_diag *diag);

struct shield_sb_databases;

/* What `shield image check` found on a disk. */
struct shield_image_check {
        struct shield_reasons findings;         /* errors keep it from being a shielded image */
        int scheme;                             /* enum shield_partition_scheme */
        uint64_t disk_size;
        uint32_t esp_index;                     /* GPT slot of the ESP, 0 when none */
        uint64_t esp_offset, esp_size;
        char esp_fs[8];                         /* "FAT32" etc., "" when not FAT */
        uint8_t *bootloader;                    /* \EFI\Boot\bootx64.efi, malloc'd, or NULL */
        size_t bootloader_len;
        bool sb_checked;                        /* the bootloader was checked against db/dbx */
        bool sb_pass;
        char *sb_event;                         /* the SB_EVENT line, malloc'd, or NULL */
        char sb_match[32];
        unsigned features_needed;               /* UEFI_COMPATIBLE, + WINDOWS with bootmgfw.efi */
};

#define SHIELD_BOOTLOADER_PATH "\\EFI\\Boot\\bootx64.efi"
#define SHIELD_WINDOWS_BOOTMGR_PATH "\\EFI\\Microsoft\\Boot\\bootmgfw.efi"
#define SHIELD_BOOTLOADER_MAX (256u << 20)

/*
 * Check a raw disk: GPT (MBR only is refused), an ESP, the ESP formatted
 * FAT, the bootloader at \EFI\Boot\bootx64.efi (names case-insensitive),
 * and, when dbs is given, the firmware's verdict on the bootloader. Every
 * problem is an error finding with a stable code: gpt-required,
 * disk-unpartitioned, gpt-invalid, esp-missing, esp-not-fat,
 * bootloader-missing, bootloader-unreadable, bootloader-not-pe (with or
 * without dbs: not a PE/COFF image), bootloader-refused. Returns 0
 * when the checks ran (look at findings), SHIELD_E_* when the disk cannot be
 * read at all. Free with shield_image_check_clear().
 */
__attribute__((warn_unused_result))
int shield_image_check(const char *disk, const struct shield_sb_databases *dbs, struct shield_image_check *ret,
                       struct shield_diag *diag);
void shield_image_check_clear(struct shield_image_check *c);
