/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk layouts and FAT. Oracles: sgdisk and sfdisk write the partition
 * tables, mkfs.fat (dosfstools) the file systems and mtools the files, all
 * independently of the parsers; the known CRC-32 check value is from the
 * CRC catalogue ("123456789" -> 0xCBF43926, as zlib computes it). Negative
 * cases corrupt copies of those images in memory at offsets taken from
 * UEFI 2.10 section 5 and fatgen103. Tests that need the tools skip when
 * they are missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shield/disk.h"
#include "shield/util.h"

#define MIB (1024u * 1024u)
#define DISK_SIZE (40u * MIB)
#define ESP_FIRST 2048u   /* sgdisk -n 1:2048:+34M */
#define ESP_LAST 71679u
#define ROOT_FIRST 71680u /* sgdisk -n 2:0:0 */
#define BOOT_LEN 100000u
#define ESP_OFF ((uint64_t)ESP_FIRST * 512)
#define ESP_SIZE ((uint64_t)(ESP_LAST - ESP_FIRST + 1) * 512)

static int run(const char *cmd) {
        return system(cmd);
}

static bool have(const char *tools) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "for t in %s; do command -v $t >/dev/null || exit 1; done", tools);
        return run(cmd) == 0;
}

static void read_in(const char *dir, const char *name, uint8_t **ret, size_t *ret_len) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (shield_read_file(path, 64u * MIB, ret, ret_len) != 0)
                fail_msg("cannot read %s", path);
}

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* UEFI 2.10, 5.3.2: recompute the entry array CRC (field 88) and then the header CRC (field 16, zeroed). */
static void fix_gpt_crcs(uint8_t *disk, uint64_t header_off) {
        uint8_t *h = disk + header_off;
        uint64_t entries = 0;
        for (int i = 7; i >= 0; i--)
                entries = entries << 8 | h[72 + i];
        put32(h + 88, shield_crc32(0, disk + entries * 512, (size_t)get32(h + 80) * get32(h + 84)));
        put32(h + 16, 0);
        put32(h + 16, shield_crc32(0, h, get32(h + 12)));
}

/*
 * The fixture: a 40 MiB GPT disk (sgdisk) with a 34 MiB FAT32 ESP
 * (mkfs.fat -F 32) holding \EFI\BOOT\BOOTX64.EFI and
 * \EFI\Microsoft\Boot\bootmgfw.efi (mtools), and a Linux partition.
 */
static char fixture_dir[64];
static uint8_t *disk_img, *boot_bin;
static size_t disk_len, boot_len;

static int setup_fixture(void **state) {
        (void)state;
        char cmd[4096];

        if (!have("sgdisk mkfs.fat mmd mcopy sfdisk"))
                return 0; /* the tests that need it skip */
        snprintf(fixture_dir, sizeof fixture_dir, "/tmp/test-disk-XXXXXX");
        if (!mkdtemp(fixture_dir))
                return -1;
        snprintf(cmd, sizeof cmd,
                 "cd %s && truncate -s 40M disk.img && "
                 "sgdisk -n 1:2048:+34M -t 1:ef00 -c 1:'EFI System' -n 2:0:0 -t 2:8300 -c 2:root disk.img "
                 ">/dev/null && "
                 "mkfs.fat -F 32 -s 1 -n SHIELDESP -C esp.img 34816 >/dev/null && "
                 "mmd -i esp.img ::/EFI ::/EFI/BOOT ::/EFI/Microsoft ::/EFI/Microsoft/Boot && "
                 "head -c %u /dev/urandom > boot.bin && "
                 "mcopy -i esp.img boot.bin ::/EFI/BOOT/BOOTX64.EFI && "
                 "mcopy -i esp.img boot.bin ::/EFI/Microsoft/Boot/bootmgfw.efi && "
                 "echo hello > hello.txt && mcopy -i esp.img hello.txt '::/EFI/A rather long file name.text' && "
                 "mcopy -i esp.img hello.txt ::/EFI/empty0 && : > empty && mcopy -o -i esp.img empty ::/EFI/empty0 && "
                 "dd if=esp.img of=disk.img bs=512 seek=2048 conv=notrunc status=none",
                 fixture_dir, BOOT_LEN);
        if (run(cmd) != 0)
                return -1;
        read_in(fixture_dir, "disk.img", &disk_img, &disk_len);
        read_in(fixture_dir, "boot.bin", &boot_bin, &boot_len);
        return 0;
}

static int teardown_fixture(void **state) {
        (void)state;
        free(disk_img);
        free(boot_bin);
        if (fixture_dir[0]) {
                char cmd[256];
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_dir);
                return run(cmd) == 0 ? 0 : -1;
        }
        return 0;
}

static void need_fixture(void) {
        if (!disk_img) {
                print_message("sgdisk, mkfs.fat, mtools or sfdisk missing: skipping\n");
                skip();
        }
}

/* A private copy of the fixture disk to corrupt. */
static uint8_t *disk_copy(void) {
        uint8_t *d = malloc(disk_len);
        assert_non_null(d);
        memcpy(d, disk_img, disk_len);
        return d;
}

/* read_layout must fail with code at offset, leave *ret alone, and say what. */
static void layout_fails(const uint8_t *d, size_t len, int code, size_t offset, const char *what) {
        struct shield_blockdev dev;
        struct shield_disk_layout l;
        struct shield_diag diag = { 0 };
        memset(&l, 0xaa, sizeof l);
        shield_blockdev_from_memory(d, len, &dev);
        int r = shield_disk_read_layout(&dev, &l, &diag);
        if (r != code || diag.offset != offset)
                fail_msg("%s: expected %s at 0x%zx, got %s at 0x%zx (%s)", what, shield_strerror(code), offset,
                         shield_strerror(r), diag.offset, diag.msg);
        assert_int_equal(l.sector_size, 0xaaaaaaaau);
        assert_true(diag.msg[0] != '\0');
}

static void test_crc32(void **state) {
        (void)state;
        assert_int_equal(shield_crc32(0, "123456789", 9), 0xcbf43926u);
        assert_int_equal(shield_crc32(0, "", 0), 0);
        /* Incremental use gives the same value. */
        assert_int_equal(shield_crc32(shield_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

static void test_blockdev(void **state) {
        (void)state;
        const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        uint8_t out[8];
        struct shield_blockdev dev;
        struct shield_diag d = { 0 };

        shield_blockdev_from_memory(bytes, sizeof bytes, &dev);
        assert_int_equal(dev.size, 8);
        assert_int_equal(shield_blockdev_read(&dev, 6, out, 2), 0);
        assert_int_equal(out[0], 7);
        assert_int_equal(shield_blockdev_read(&dev, 7, out, 2), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_blockdev_read(&dev, UINT64_MAX, out, 2), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_blockdev_read(&dev, 0, out, 9), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_blockdev_read(&dev, 8, out, 0), 0);
        shield_blockdev_close(&dev); /* a memory device: nothing to release */

        memset(&dev, 0xaa, sizeof dev);
        assert_int_equal(shield_blockdev_open_file("/nonexistent/disk.img", &dev, &d), SHIELD_E_SYSTEM);
        assert_non_null(strstr(d.msg, "/nonexistent/disk.img"));
        assert_int_equal(dev.size, 0xaaaaaaaaaaaaaaaau);
        assert_int_equal(shield_blockdev_open_file("/", &dev, &d), SHIELD_E_INVAL);
        shield_blockdev_close(NULL);
}

static void test_gpt_esp_fat32(void **state) {
        (void)state;
        need_fixture();
        char path[128];
        struct shield_blockdev dev;
        struct shield_disk_layout l;
        struct shield_diag d = { 0 };
        struct shield_fat *fat = NULL;
        char g[SHIELD_GUID_STRING_SIZE];

        snprintf(path, sizeof path, "%s/disk.img", fixture_dir);
        assert_int_equal(shield_blockdev_open_file(path, &dev, &d), 0);
        assert_int_equal(dev.size, DISK_SIZE);
        if (shield_disk_read_layout(&dev, &l, &d) != 0)
                fail_msg("layout: %s", d.msg);
        assert_int_equal(l.scheme, SHIELD_DISK_GPT);
        assert_string_equal(shield_disk_scheme_name(l.scheme), "GPT");
        assert_int_equal(l.sector_size, 512);
        assert_int_equal(l.n_sectors, DISK_SIZE / 512);
        assert_int_equal(l.n_mbr_partitions, 1);
        assert_int_equal(l.mbr_partitions[0].type, 0xee);
        assert_int_equal(l.mbr_partitions[0].first_lba, 1);
        assert_int_equal(l.n_entries, 128);
        assert_int_equal(l.entry_size, 128);
        assert_int_equal(l.first_usable_lba, 34);
        assert_int_equal(l.alternate_lba, DISK_SIZE / 512 - 1);
        assert_true(l.backup_valid);
        assert_string_equal(l.backup_problem, "");
        assert_int_equal(l.n_partitions, 2);

        const struct shield_gpt_partition *esp = shield_disk_find_esp(&l);
        assert_non_null(esp);
        assert_ptr_equal(esp, &l.partitions[0]);
        assert_int_equal(esp->index, 1);
        assert_int_equal(esp->first_lba, ESP_FIRST);
        assert_int_equal(esp->last_lba, ESP_LAST);
        assert_string_equal(esp->name, "EFI System");
        shield_guid_format(&esp->type_guid, g);
        assert_string_equal(g, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
        assert_false(shield_gpt_is_esp(&l.partitions[1]));
        assert_int_equal(l.partitions[1].index, 2);
        assert_int_equal(l.partitions[1].first_lba, ROOT_FIRST);
        assert_string_equal(l.partitions[1].name, "root");
        shield_guid_format(&l.partitions[1].type_guid, g);
        assert_string_equal(g, "0fc63daf-8483-4772-8e79-3d69d8477de4"); /* sgdisk 8300: Linux filesystem data */

        if (shield_fat_open(&dev, esp->first_lba * l.sector_size,
                            (esp->last_lba - esp->first_lba + 1) * l.sector_size, &fat, &d) != 0)
                fail_msg("fat: %s", d.msg);
        assert_string_equal(shield_fat_type_name(fat), "FAT32");
        assert_string_equal(shield_fat_label(fat), "SHIELDESP");
        assert_int_equal(shield_fat_cluster_size(fat), 512);
        assert_true(shield_fat_cluster_count(fat) >= 65525);

        /* Case-insensitive, either separator, against what mcopy wrote. */
        const char *names[] = { "\\EFI\\Boot\\bootx64.efi", "/EFI/BOOT/BOOTX64.EFI", "efi//boot/BootX64.Efi",
                                "\\EFI\\Microsoft\\Boot\\bootmgfw.efi", "/efi/microsoft/boot/BOOTMGFW.EFI",
                                "/EFI/./BOOT/../BOOT/BOOTX64.EFI" };
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
                uint8_t *buf = NULL;
                size_t len = 0;
                if (shield_fat_read_file(fat, names[i], 1u << 20, &buf, &len, &d) != 0)
                        fail_msg("%s: %s", names[i], d.msg);
                assert_int_equal(len, boot_len);
                assert_memory_equal(buf, boot_bin, boot_len);
                free(buf);
        }

        /* A long name (LFN only: spaces and more than 8.3), and its short alias. */
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(shield_fat_read_file(fat, "/EFI/a RATHER long file name.TEXT", 100, &buf, &len, &d), 0);
        assert_int_equal(len, 6);
        assert_memory_equal(buf, "hello\n", 6);
        free(buf);
        assert_int_equal(shield_fat_read_file(fat, "/EFI/arathe~1.tex", 100, &buf, &len, &d), 0);
        free(buf);
        /* An empty file: no cluster, no bytes. */
        assert_int_equal(shield_fat_read_file(fat, "/EFI/EMPTY0", 100, &buf, &len, &d), 0);
        assert_int_equal(len, 0);
        free(buf);

        bool is_dir = false;
        uint64_t size = 1;
        assert_int_equal(shield_fat_stat(fat, "\\EFI\\Microsoft", &is_dir, &size, &d), 0);
        assert_true(is_dir);
        assert_int_equal(size, 0);
        assert_int_equal(shield_fat_stat(fat, "/EFI/Boot/BOOTX64.efi", &is_dir, &size, &d), 0);
        assert_false(is_dir);
        assert_int_equal(size, BOOT_LEN);
        assert_int_equal(shield_fat_stat(fat, "\\", &is_dir, NULL, &d), 0);
        assert_true(is_dir);

        /* Missing files and directories, files used as directories, directories read as files, limits. */
        buf = (void *)0xaa;
        len = 0xaa;
        memset(&d, 0, sizeof d);
        assert_int_equal(shield_fat_read_file(fat, "/EFI/BOOT/grubx64.efi", 1u << 20, &buf, &len, &d),
                         SHIELD_E_NOT_FOUND);
        assert_ptr_equal(buf, (void *)0xaa);
        assert_int_equal(len, 0xaa);
        assert_non_null(strstr(d.msg, "grubx64.efi"));
        assert_true(d.offset > ESP_OFF && d.offset < ESP_OFF + ESP_SIZE);
        assert_int_equal(shield_fat_stat(fat, "/EFI/Linux/x.efi", NULL, NULL, &d), SHIELD_E_NOT_FOUND);
        assert_non_null(strstr(d.msg, "\"Linux\""));
        assert_int_equal(shield_fat_stat(fat, "/EFI/BOOT/BOOTX64.EFI/x", NULL, NULL, &d), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_fat_stat(fat, "/EFI/BOOTX64", NULL, NULL, &d), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_fat_read_file(fat, "/EFI/BOOT", 100, &buf, &len, &d), SHIELD_E_INVAL);
        assert_int_equal(shield_fat_read_file(fat, "/EFI/BOOT/BOOTX64.EFI", BOOT_LEN - 1, &buf, &len, &d),
                         SHIELD_E_LIMIT);
        assert_ptr_equal(buf, (void *)0xaa);

        shield_fat_close(fat);
        shield_disk_layout_free(&l);
        shield_disk_layout_free(&l); /* zeroed: a second free is harmless */
        shield_blockdev_close(&dev);
}

static void test_gpt_header_crc(void **state) {
        (void)state;
        need_fixture();
        uint8_t *d = disk_copy();
        struct shield_blockdev dev;
        struct shield_disk_layout l;
        struct shield_diag diag = { 0 };

        /* One changed byte in the primary header (FirstUsableLBA): the CRC at 512+16 no longer holds. */
        d[512 + 40] ^= 1;
        shield_blockdev_from_memory(d, disk_len, &dev);
        assert_int_equal(shield_disk_read_layout(&dev, &l, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, 512 + 16);
        assert_non_null(strstr(diag.msg, "CRC32"));
        assert_non_null(strstr(diag.msg, "backup GPT header at LBA 81919 is valid"));
        d[512 + 40] ^= 1;

        /* A changed entry (partition 1's name): the array CRC in the header, at 512+88, catches it. */
        d[1024 + 56] ^= 0x20;
        assert_int_equal(shield_disk_read_layout(&dev, &l, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, 512 + 88);
        assert_non_null(strstr(diag.msg, "PartitionEntryArrayCRC32"));
        assert_non_null(strstr(diag.msg, "backup GPT header at LBA 81919 is valid"));
        d[1024 + 56] ^= 0x20;
        d[512 + 40] ^= 1;

        /* With the backup gone too, no word about it. */
        memset(d + disk_len - 512, 0, 512);
        assert_int_equal(shield_disk_read_layout(&dev, &l, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, 512 + 16);
        assert_null(strstr(diag.msg, "backup"));
        free(d);
}

static void test_gpt_header_fields(void **state) {
        (void)state;
        need_fixture();
        uint8_t *d = disk_copy();
        uint8_t *h = d + 512;

        memcpy(h, "EFI PARX", 8);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512, "signature");
        memcpy(h, disk_img + 512, 512);

        put32(h + 8, 0x00020000);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_UNSUPPORTED, 512 + 8, "revision");
        memcpy(h, disk_img + 512, 512);

        put32(h + 12, 91);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 12, "header size");
        memcpy(h, disk_img + 512, 512);

        put32(h + 20, 1);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 20, "reserved");
        memcpy(h, disk_img + 512, 512);

        put64(h + 24, 2);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 24, "MyLBA");
        memcpy(h, disk_img + 512, 512);

        put64(h + 32, DISK_SIZE / 512);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 32, "AlternateLBA past the end");
        memcpy(h, disk_img + 512, 512);

        put64(h + 48, DISK_SIZE / 512);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 40, "LastUsableLBA past the end");
        memcpy(h, disk_img + 512, 512);

        put64(h + 40, 1);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 40, "usable range over the header");
        memcpy(h, disk_img + 512, 512);

        put64(h + 72, 10); /* 32 sectors of entries from LBA 10 run into FirstUsableLBA 34 */
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 72, "entry array placement");
        memcpy(h, disk_img + 512, 512);

        put32(h + 84, 100);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 84, "entry size under 128");
        put32(h + 84, 132);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 84, "entry size not a multiple of 8");
        memcpy(h, disk_img + 512, 512);

        put32(h + 80, SHIELD_GPT_ENTRIES_MAX + 1);
        put32(h + 16, 0);
        put32(h + 16, shield_crc32(0, h, 92));
        layout_fails(d, disk_len, SHIELD_E_LIMIT, 512 + 80, "entry count");
        memcpy(h, disk_img + 512, 512);

        /* A changed entry: the array CRC (header field 88) catches it. */
        d[1024 + 56] ^= 0x20;
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 512 + 88, "entry array CRC");
        free(d);
}

static void test_gpt_entries(void **state) {
        (void)state;
        need_fixture();
        uint8_t *d = disk_copy();
        uint8_t *e2 = d + 1024 + 128; /* the second entry */

        /* Partition 2 starting inside partition 1. */
        put64(e2 + 32, ESP_LAST);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 1024 + 128 + 32, "overlap");
        put64(e2 + 32, ROOT_FIRST);

        /* Past LastUsableLBA, and first > last. */
        put64(e2 + 40, DISK_SIZE / 512 - 1);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 1024 + 128 + 32, "past the usable range");
        put64(e2 + 40, ROOT_FIRST - 1);
        fix_gpt_crcs(d, 512);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 1024 + 128 + 32, "empty range");

        /* A backup that disagrees is reported beside a good layout, not as an error. */
        memcpy(d, disk_img, 34 * 512);
        d[disk_len - 512 + 16] ^= 1;
        struct shield_blockdev dev;
        struct shield_disk_layout l;
        shield_blockdev_from_memory(d, disk_len, &dev);
        assert_int_equal(shield_disk_read_layout(&dev, &l, NULL), 0);
        assert_false(l.backup_valid);
        assert_non_null(strstr(l.backup_problem, "backup GPT header CRC32"));
        assert_non_null(strstr(l.backup_problem, "0x27ffe10"));
        shield_disk_layout_free(&l);

        /* A truncated image: the backup (and AlternateLBA) lie past its end. */
        layout_fails(disk_img, 20u * MIB, SHIELD_E_FORMAT, 512 + 32, "truncated image");
        struct shield_diag diag = { 0 };
        shield_blockdev_from_memory(disk_img, 20u * MIB, &dev);
        assert_int_equal(shield_disk_read_layout(&dev, &l, &diag), SHIELD_E_FORMAT);
        assert_non_null(strstr(diag.msg, "truncated"));
        free(d);
}

/*
 * A 4Kn disk built from UEFI 2.10 tables 5-4..5-6: 64 sectors of 4096
 * bytes, 128 entries of 128 bytes (4 sectors) after each header, one ESP.
 */
static void test_gpt_4k(void **state) {
        (void)state;
        const size_t ss = 4096, n = 64, len = ss * n;
        const uint64_t first = 6, last = n - 1 - 4 - 1;
        uint8_t *d = calloc(1, len);
        static const uint8_t esp_guid[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                              0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
        assert_non_null(d);

        d[446 + 4] = 0xee;
        put32(d + 446 + 8, 1);
        put32(d + 446 + 12, (uint32_t)(n - 1));
        d[510] = 0x55;
        d[511] = 0xaa;
        for (int copy = 0; copy < 2; copy++) {
                uint64_t my = copy ? n - 1 : 1, alt = copy ? 1 : n - 1, entries = copy ? last + 1 : 2;
                uint8_t *e = d + entries * ss, *h = d + my * ss;
                memcpy(e, esp_guid, 16);
                e[16] = 0x42;
                put64(e + 32, first);
                put64(e + 40, last);
                e[56] = 'E'; /* PartitionName "ESP" in UTF-16LE */
                e[58] = 'S';
                e[60] = 'P';
                memcpy(h, "EFI PART", 8);
                put32(h + 8, 0x00010000);
                put32(h + 12, 92);
                put64(h + 24, my);
                put64(h + 32, alt);
                put64(h + 40, first);
                put64(h + 48, last);
                h[56] = 0x11;
                put64(h + 72, entries);
                put32(h + 80, 128);
                put32(h + 84, 128);
                put32(h + 88, shield_crc32(0, e, 128 * 128));
                put32(h + 16, shield_crc32(0, h, 92));
        }

        struct shield_blockdev dev;
        struct shield_disk_layout l;
        struct shield_diag diag = { 0 };
        shield_blockdev_from_memory(d, len, &dev);
        if (shield_disk_read_layout(&dev, &l, &diag) != 0)
                fail_msg("4Kn: %s", diag.msg);
        assert_int_equal(l.scheme, SHIELD_DISK_GPT);
        assert_int_equal(l.sector_size, 4096);
        assert_int_equal(l.n_sectors, n);
        assert_true(l.backup_valid);
        assert_int_equal(l.n_partitions, 1);
        assert_true(shield_gpt_is_esp(&l.partitions[0]));
        assert_string_equal(l.partitions[0].name, "ESP");
        assert_int_equal(l.partitions[0].unique_guid.b[0], 0x42);
        assert_int_equal(l.disk_guid.b[0], 0x11);
        shield_disk_layout_free(&l);

        /* The same header CRC error is reported at 4096 + 16. */
        d[ss + 40] ^= 1;
        layout_fails(d, len, SHIELD_E_FORMAT, ss + 16, "4Kn header CRC");
        free(d);
}

static void test_mbr(void **state) {
        (void)state;
        need_fixture();
        uint8_t *d = disk_copy();
        struct shield_blockdev dev;
        struct shield_disk_layout l;

        /* The protective record must start at LBA 1. */
        put32(d + 446 + 8, 2);
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 446 + 8, "protective MBR start");
        /* A GPT header without the MBR's boot signature. */
        memcpy(d, disk_img, 512);
        d[511] = 0;
        layout_fails(d, disk_len, SHIELD_E_FORMAT, 510, "no boot signature");

        /* A blank disk. */
        memset(d, 0, 2 * 512);
        shield_blockdev_from_memory(d, disk_len, &dev);
        assert_int_equal(shield_disk_read_layout(&dev, &l, NULL), 0);
        assert_int_equal(l.scheme, SHIELD_DISK_EMPTY);
        shield_disk_layout_free(&l);
        free(d);

        /* Too small for an MBR. */
        layout_fails(disk_img, 100, SHIELD_E_TRUNCATED, 0, "tiny disk");

        /* An MBR-only disk from sfdisk: two records, no 0xEE. */
        char cmd[1024], path[128];
        snprintf(cmd, sizeof cmd,
                 "cd %s && truncate -s 8M mbr.img && printf 'label: dos\\n2048,4096,ef,*\\n6144,,83\\n' | "
                 "sfdisk -q mbr.img >/dev/null",
                 fixture_dir);
        assert_int_equal(run(cmd), 0);
        snprintf(path, sizeof path, "%s/mbr.img", fixture_dir);
        struct shield_diag diag = { 0 };
        assert_int_equal(shield_blockdev_open_file(path, &dev, &diag), 0);
        assert_int_equal(shield_disk_read_layout(&dev, &l, &diag), 0);
        assert_int_equal(l.scheme, SHIELD_DISK_MBR);
        assert_string_equal(shield_disk_scheme_name(l.scheme), "MBR");
        assert_int_equal(l.n_mbr_partitions, 2);
        assert_int_equal(l.mbr_partitions[0].type, 0xef);
        assert_true(l.mbr_partitions[0].bootable);
        assert_int_equal(l.mbr_partitions[0].first_lba, 2048);
        assert_int_equal(l.mbr_partitions[0].n_sectors, 4096);
        assert_int_equal(l.mbr_partitions[1].type, 0x83);
        assert_false(l.mbr_partitions[1].bootable);
        assert_int_equal(l.n_partitions, 0);
        assert_null(shield_disk_find_esp(&l));
        shield_disk_layout_free(&l);
        shield_blockdev_close(&dev);
}

static void test_esp_not_fat(void **state) {
        (void)state;
        need_fixture();
        uint8_t *d = disk_copy();
        struct shield_blockdev dev;
        struct shield_fat *fat = (void *)0xaa;
        struct shield_diag diag = { 0 };
        uint8_t *bs = d + ESP_OFF;

        shield_blockdev_from_memory(d, disk_len, &dev);
        /* Wiped: no 0x55AA. */
        memset(bs, 0, 512);
        assert_int_equal(shield_fat_open(&dev, ESP_OFF, ESP_SIZE, &fat, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, ESP_OFF + 510);
        assert_non_null(strstr(diag.msg, "not a FAT file system"));
        assert_ptr_equal(fat, (void *)0xaa);

        /* BPB fields one at a time (fatgen103 section 3.1 offsets). */
        struct {
                size_t at;
                uint8_t value;
                int code;
                size_t where;
                const char *what;
        } cases[] = {
                { 0x0c, 0x03, SHIELD_E_FORMAT, 0x0b, "BytsPerSec 0x300" },
                { 0x0d, 3, SHIELD_E_FORMAT, 0x0d, "SecPerClus not a power of two" },
                { 0x0e, 0, SHIELD_E_FORMAT, 0x0e, "RsvdSecCnt 0 (low byte; mkfs.fat uses 32)" },
                { 0x10, 0, SHIELD_E_FORMAT, 0x10, "NumFATs 0" },
                { 0x15, 0x12, SHIELD_E_FORMAT, 0x15, "Media" },
                { 0x11, 1, SHIELD_E_FORMAT, 0x11, "RootEntCnt on FAT32" },
                { 0x16, 1, SHIELD_E_FORMAT, 0x16, "FATSz16 on FAT32" },
                { 0x2a, 1, SHIELD_E_UNSUPPORTED, 0x2a, "FSVer" },
                { 0x2c, 0, SHIELD_E_FORMAT, 0x2c, "RootClus 0" },
                { 0x22, 0x10, SHIELD_E_FORMAT, 0x20, "TotSec32 past the partition" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                memcpy(bs, disk_img + ESP_OFF, 512);
                if (cases[i].at == 0x0e)
                        bs[0x0f] = 0;
                bs[cases[i].at] = cases[i].value;
                fat = (void *)0xaa;
                int r = shield_fat_open(&dev, ESP_OFF, ESP_SIZE, &fat, &diag);
                if (r != cases[i].code || diag.offset != ESP_OFF + cases[i].where)
                        fail_msg("%s: expected %s at 0x%llx, got %s at 0x%zx (%s)", cases[i].what,
                                 shield_strerror(cases[i].code), (unsigned long long)(ESP_OFF + cases[i].where),
                                 shield_strerror(r), diag.offset, diag.msg);
                assert_ptr_equal(fat, (void *)0xaa);
        }

        /* The partition itself: past the disk, or too small for a boot sector. */
        assert_int_equal(shield_fat_open(&dev, ESP_OFF, disk_len, &fat, &diag), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_fat_open(&dev, ESP_OFF, 100, &fat, &diag), SHIELD_E_FORMAT);
        /* The Linux partition is all zeros. */
        assert_int_equal(shield_fat_open(&dev, (uint64_t)ROOT_FIRST * 512, 1 * MIB, &fat, &diag), SHIELD_E_FORMAT);
        assert_int_equal(diag.offset, (uint64_t)ROOT_FIRST * 512 + 510);
        free(d);
}

/*
 * A FAT16 (or FAT12) volume without a partition table, holding one file
 * /BIG.BIN of 3000 bytes: in a fresh volume with a fixed root directory,
 * its chain is clusters 2, 3, 4 ... (mkfs.fat -s 1: 512-byte clusters).
 */
static void fat_image(const char *name, const char *fatbits, unsigned kib, uint8_t **ret, size_t *ret_len) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "cd %s && rm -f %s && mkfs.fat -F %s -s 1 -C %s %u >/dev/null && "
                 "head -c 3000 /dev/urandom > big.bin && "
                 "mcopy -i %s big.bin ::/BIG.BIN && mmd -i %s ::/EFI ::/EFI/BOOT && "
                 "mcopy -i %s big.bin ::/EFI/BOOT/BOOTX64.EFI",
                 fixture_dir, name, fatbits, name, kib, name, name, name);
        assert_int_equal(run(cmd), 0);
        read_in(fixture_dir, name, ret, ret_len);
}

static void check_small_fat(const char *name, const char *fatbits, unsigned kib, const char *type) {
        uint8_t *img, *big, *buf = NULL;
        size_t img_len, big_len, len;
        struct shield_blockdev dev;
        struct shield_disk_layout l;
        struct shield_fat *fat = NULL;
        struct shield_diag d = { 0 };

        fat_image(name, fatbits, kib, &img, &img_len);
        read_in(fixture_dir, "big.bin", &big, &big_len);
        shield_blockdev_from_memory(img, img_len, &dev);
        assert_int_equal(shield_disk_read_layout(&dev, &l, &d), 0);
        assert_int_equal(l.scheme, SHIELD_DISK_UNPARTITIONED);
        shield_disk_layout_free(&l);

        if (shield_fat_open(&dev, 0, img_len, &fat, &d) != 0)
                fail_msg("%s: %s", name, d.msg);
        assert_string_equal(shield_fat_type_name(fat), type);
        assert_int_equal(shield_fat_read_file(fat, "big.bin", 1u << 20, &buf, &len, &d), 0);
        assert_int_equal(len, 3000);
        assert_memory_equal(buf, big, 3000);
        free(buf);
        assert_int_equal(shield_fat_read_file(fat, "\\efi\\boot\\bootx64.efi", 1u << 20, &buf, &len, &d), 0);
        assert_memory_equal(buf, big, 3000);
        free(buf);
        assert_int_equal(shield_fat_read_file(fat, "\\efi\\boot\\bootia32.efi", 1u << 20, &buf, &len, &d),
                         SHIELD_E_NOT_FOUND);
        shield_fat_close(fat);

        /* Break the chain of /BIG.BIN (clusters 2..7) in the FAT, at BPB_RsvdSecCnt * 512. */
        size_t fat_off = (size_t)(img[0x0e] | img[0x0f] << 8) * 512;
        bool twelve = strcmp(type, "FAT12") == 0;
        struct {
                uint16_t value; /* the entry of cluster 2 */
                const char *what;
        } cases[] = {
                { 2, "loops to itself" },
                { 0, "free cluster" },
                { 0xfff7, "bad cluster" },
                { 0xffff, "ends early" },
                { 0x7ff0, "out of range" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                uint8_t save[3];
                memcpy(save, img + fat_off + 3, 3);
                if (twelve) {
                        /* Cluster 2 is the low 12 bits of bytes 3..4. */
                        uint16_t v = (uint16_t)(cases[i].value & 0xfff);
                        img[fat_off + 3] = (uint8_t)v;
                        img[fat_off + 4] = (uint8_t)((img[fat_off + 4] & 0xf0) | (v >> 8));
                } else {
                        img[fat_off + 4] = (uint8_t)cases[i].value;
                        img[fat_off + 5] = (uint8_t)(cases[i].value >> 8);
                }
                assert_int_equal(shield_fat_open(&dev, 0, img_len, &fat, &d), 0);
                buf = (void *)0xaa;
                int r = shield_fat_read_file(fat, "/BIG.BIN", 1u << 20, &buf, &len, &d);
                if (r != SHIELD_E_FORMAT)
                        fail_msg("%s %s: expected a format error, got %s", type, cases[i].what, shield_strerror(r));
                assert_ptr_equal(buf, (void *)0xaa);
                assert_true(d.msg[0] != '\0');
                shield_fat_close(fat);
                memcpy(img + fat_off + 3, save, 3);
        }
        /*
         * A directory's chain looping: /EFI's first cluster points at itself,
         * and its free entries are marked deleted so the walk goes on.
         */
        if (!twelve) {
                size_t root = fat_off + (size_t)img[0x10] * (img[0x16] | img[0x17] << 8) * 512;
                size_t root_len = (size_t)(img[0x11] | img[0x12] << 8) * 32, efi = 0;
                for (size_t i = 0; i < root_len; i += 32)
                        if (memcmp(img + root + i, "EFI        ", 11) == 0)
                                efi = img[root + i + 26] | img[root + i + 27] << 8;
                assert_true(efi >= 2);
                uint8_t *cl = img + root + root_len + (efi - 2) * 512;
                for (size_t i = 3 * 32; i < 512; i += 32)
                        cl[i] = 0xe5;
                img[fat_off + 2 * efi] = (uint8_t)efi;
                img[fat_off + 2 * efi + 1] = (uint8_t)(efi >> 8);
                assert_int_equal(shield_fat_open(&dev, 0, img_len, &fat, &d), 0);
                assert_int_equal(shield_fat_stat(fat, "/EFI/nothere", NULL, NULL, &d), SHIELD_E_FORMAT);
                assert_non_null(strstr(d.msg, "loops"));
                /* The files in it stay readable: the loop is only found past them. */
                assert_int_equal(shield_fat_stat(fat, "/EFI/BOOT", NULL, NULL, &d), 0);
                shield_fat_close(fat);
        }
        free(img);
        free(big);
}

/* A directory of more than SHIELD_FAT_DIR_ENTRIES_MAX entries (all deleted, on a valid chain) is refused. */
static void test_fat_dir_limit(void **state) {
        (void)state;
        need_fixture();
        uint8_t *img;
        size_t img_len;
        struct shield_blockdev dev;
        struct shield_fat *fat = NULL;
        struct shield_diag d = { 0 };

        fat_image("limit.img", "16", 8192, &img, &img_len);
        size_t fat_off = (size_t)(img[0x0e] | img[0x0f] << 8) * 512;
        size_t root = fat_off + (size_t)img[0x10] * (img[0x16] | img[0x17] << 8) * 512;
        size_t data = root + (size_t)(img[0x11] | img[0x12] << 8) * 32, efi = 0;
        for (size_t i = 0; i < 512 * 32; i += 32)
                if (memcmp(img + root + i, "EFI        ", 11) == 0)
                        efi = img[root + i + 26] | img[root + i + 27] << 8;
        assert_true(efi >= 2 && efi < 100);

        /* /EFI: its own cluster, then clusters 100..4199 (free in a fresh volume), 4101 clusters of 16 entries. */
        for (size_t i = 3 * 32; i < 512; i += 32) /* after ".", ".." and BOOT */
                img[data + (efi - 2) * 512 + i] = 0xe5;
        uint32_t prev = (uint32_t)efi;
        for (uint32_t c = 100; c < 4200; c++) {
                img[fat_off + 2 * prev] = (uint8_t)c;
                img[fat_off + 2 * prev + 1] = (uint8_t)(c >> 8);
                memset(img + data + (size_t)(c - 2) * 512, 0, 512);
                for (size_t i = 0; i < 512; i += 32)
                        img[data + (size_t)(c - 2) * 512 + i] = 0xe5;
                prev = c;
        }
        img[fat_off + 2 * prev] = 0xff;
        img[fat_off + 2 * prev + 1] = 0xff;
        shield_blockdev_from_memory(img, img_len, &dev);
        assert_int_equal(shield_fat_open(&dev, 0, img_len, &fat, &d), 0);
        assert_int_equal(shield_fat_stat(fat, "/EFI/missing", NULL, NULL, &d), SHIELD_E_LIMIT);
        assert_non_null(strstr(d.msg, "65536"));
        assert_true(d.offset >= data && d.offset < img_len);
        shield_fat_close(fat);
        free(img);
}

static void test_fat16(void **state) {
        (void)state;
        need_fixture();
        check_small_fat("fat16.img", "16", 8192, "FAT16");
}

static void test_fat12(void **state) {
        (void)state;
        need_fixture();
        check_small_fat("fat12.img", "12", 1440, "FAT12");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32),          cmocka_unit_test(test_blockdev),
                cmocka_unit_test(test_gpt_esp_fat32),  cmocka_unit_test(test_gpt_header_crc),
                cmocka_unit_test(test_gpt_header_fields), cmocka_unit_test(test_gpt_entries),
                cmocka_unit_test(test_gpt_4k),
                cmocka_unit_test(test_mbr),            cmocka_unit_test(test_esp_not_fat),
                cmocka_unit_test(test_fat16),          cmocka_unit_test(test_fat12),
                cmocka_unit_test(test_fat_dir_limit),
        };
        return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
