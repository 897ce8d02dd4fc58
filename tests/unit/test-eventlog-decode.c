/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding events and the Secure Boot findings, on events built here from
 * the layouts of the TCG PC Client PFP 1.05/1.06 (section 10.4) and UEFI
 * 2.10 (load options, device paths, GPT), well-formed and malformed, and,
 * when present, on real machines' logs from $SHIELD_SHARED_DATA.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log-builder.h"
#include "shield/eventlog-json.h"
#include "shield/uefi.h"
#include "shield/util.h"

static void u64(struct buf *b, uint64_t v) {
        u32(b, (uint32_t)v);
        u32(b, (uint32_t)(v >> 32));
}

static void utf16(struct buf *b, const char *s, bool nul) {
        for (; *s; s++)
                u16(b, (uint8_t)*s);
        if (nul)
                u16(b, 0);
}

/* UEFI_VARIABLE_DATA (PFP 1.05, 10.4.1) with an ASCII name. */
static void variable(struct buf *b, const shield_guid *g, const char *name, const void *data, size_t n) {
        put(b, g->b, 16);
        u64(b, strlen(name));
        u64(b, n);
        utf16(b, name, false);
        if (n)
                put(b, data, n);
}

/* PciRoot(0x0)/Pci(0x1,0x0)/\EFI\BOOT\BOOTX64.EFI (UEFI 2.10, 10.3). */
static void device_path(struct buf *b) {
        static const uint8_t acpi[] = { 0x02, 0x01, 0x0c, 0x00, 0xd0, 0x41, 0x03, 0x0a, 0, 0, 0, 0 };
        static const uint8_t pci[] = { 0x01, 0x01, 0x06, 0x00, 0x00, 0x01 };
        static const uint8_t end[] = { 0x7f, 0xff, 0x04, 0x00 };
        const char *file = "\\EFI\\BOOT\\BOOTX64.EFI";
        put(b, acpi, sizeof acpi);
        put(b, pci, sizeof pci);
        u16(b, 0x0404);
        u16(b, (uint16_t)(4 + 2 * (strlen(file) + 1)));
        utf16(b, file, true);
        put(b, end, sizeof end);
}

#define PATH_TEXT "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI"

/* A crypto-agile log with the Spec ID event and one event of the given content. */
static struct shield_eventlog *one_event_log(uint32_t pcr, uint32_t type, const void *data, size_t n) {
        static struct buf b;
        struct shield_eventlog *log = NULL;
        struct shield_diag diag = { 0 };

        memset(&b, 0, sizeof b);
        specid(&b, 2, 0);
        agile_event(&b, pcr, type, data, (uint32_t)n);
        assert_int_equal(shield_eventlog_parse(b.b, b.n, &log, &diag), 0);
        return log;
}

/* The summary and decoded JSON of a single event with this content. */
static char *decode_one(uint32_t pcr, uint32_t type, const void *data, size_t n, json_t **ret_json) {
        struct shield_eventlog *log = one_event_log(pcr, type, data, n);
        char *s = NULL;

        assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, 1), &s), 0);
        if (ret_json)
                assert_int_equal(shield_event_decode_json(log, shield_eventlog_event(log, 1), ret_json), 0);
        shield_eventlog_free(log);
        return s;
}

static void expect_summary(uint32_t type, const void *data, size_t n, const char *want) {
        char *s = decode_one(0, type, data, n, NULL);
        if (strcmp(s, want) != 0)
                fail_msg("summary \"%s\", expected \"%s\"", s, want);
        free(s);
}

/* The summary contains want and the JSON has (or has not) an "error" field. */
static void expect_contains(uint32_t type, const void *data, size_t n, const char *want, bool error) {
        json_t *j = NULL;
        char *s = decode_one(0, type, data, n, &j);
        if (!strstr(s, want))
                fail_msg("summary \"%s\" lacks \"%s\"", s, want);
        assert_int_equal(json_object_get(j, "error") != NULL, error);
        json_decref(j);
        free(s);
}

static const char *jstr(json_t *j, const char *key) {
        const char *s = json_string_value(json_object_get(j, key));
        assert_non_null(s);
        return s;
}

static void test_strings_and_separators(void **state) {
        (void)state;
        struct buf b = { 0 };

        expect_summary(EV_POST_CODE, "POST CODE", 9, "\"POST CODE\""); /* Lenovo's 9 bytes */
        expect_summary(EV_EFI_ACTION, "Calling EFI Application from Boot Option", 40,
                       "\"Calling EFI Application from Boot Option\"");
        expect_summary(EV_EFI_HCRTM_EVENT, "HCRTM", 5, "\"HCRTM\"");
        expect_summary(EV_COMPACT_HASH, "abc", 3, "\"abc\"");
        /* grub measures menu entries with newlines; the summary stays on one line. */
        expect_summary(EV_IPL, "grub_cmd: menuentry x {\n\tlinux /vmlinuz\n}", 41,
                       "\"grub_cmd: menuentry x {\\n\\tlinux /vmlinuz\\n}\"");
        expect_summary(EV_IPL, "a\x1b[2Jb", 6, "6 bytes");
        /* systemd-stub measures UTF-16 strings. */
        utf16(&b, "root=/dev/sda1 ro", true);
        expect_summary(EV_IPL, b.b, b.n, "\"root=/dev/sda1 ro\"");
        /* A long string is cut on a character boundary and says so. */
        char *long_text = malloc(5000);
        memset(long_text, 'x', 5000);
        char *s = decode_one(8, EV_IPL, long_text, 5000, NULL);
        assert_true(strlen(s) < 330);
        assert_non_null(strstr(s, "...\""));
        free(s);
        free(long_text);

        uint8_t zero[4] = { 0 }, one[4] = { 1, 0, 0, 0 }, ones[4] = { 0xff, 0xff, 0xff, 0xff }, two[4] = { 2, 0, 0, 0 };
        expect_summary(EV_SEPARATOR, zero, 4, "separator");
        expect_summary(EV_SEPARATOR, one, 4, "separator: ERROR value 0x00000001");
        expect_summary(EV_SEPARATOR, ones, 4, "separator: ERROR value 0xffffffff");
        expect_summary(EV_SEPARATOR, two, 4, "separator 0x00000002 (0 expected)");
        expect_contains(EV_SEPARATOR, zero, 3, "malformed separator at +0x0: 3 bytes of data (4 expected)", true);

        /* S-CRTM version: UTF-16 (PFP 1.05, 10.4.1), a GUID (Dell), or empty (OVMF). */
        memset(&b, 0, sizeof b);
        utf16(&b, "1.08", true);
        expect_summary(EV_S_CRTM_VERSION, b.b, b.n, "\"1.08\"");
        static const uint8_t dell[16] = { 0x1e, 0xfb, 0x6b, 0x54, 0x0c, 0x1d, 0x55, 0x40,
                                          0xa4, 0xad, 0x4e, 0xf4, 0xbf, 0x17, 0xb8, 0x3a };
        expect_summary(EV_S_CRTM_VERSION, dell, 16, "version GUID 546bfb1e-1d0c-4055-a4ad-4ef4bf17b83a");
        expect_summary(EV_S_CRTM_VERSION, zero, 2, "\"\" (empty)");
}

/* An error separator: the digest is that of 1, the data is error information (PFP 1.05, 10.4.1). */
static void test_error_separator(void **state) {
        (void)state;
        struct buf b = { 0 };
        struct shield_eventlog *log = NULL;
        static const uint8_t one[4] = { 1, 0, 0, 0 };
        const char *info = "TPM error 42";
        char *s = NULL;

        specid(&b, 2, 0);
        u32(&b, 0);
        u32(&b, EV_SEPARATOR);
        u32(&b, 2);
        for (int i = 0; i < 2; i++) {
                uint8_t d[64];
                u16(&b, algs[i]);
                assert_int_equal(shield_hash(algs[i], one, 4, d), 0);
                put(&b, d, shield_hash_size(algs[i]));
        }
        u32(&b, (uint32_t)strlen(info));
        put(&b, info, strlen(info));
        assert_int_equal(shield_eventlog_parse(b.b, b.n, &log, NULL), 0);
        assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, 1), &s), 0);
        assert_string_equal(s, "separator: ERROR (digest of 1), 12 bytes of error information");
        free(s);

        struct shield_secureboot sb;
        assert_int_equal(shield_eventlog_secureboot(log, &sb), 0);
        bool found = false;
        for (size_t i = 0; i < sb.findings.n; i++)
                found |= strcmp(sb.findings.items[i].code, "separator-error") == 0 &&
                         sb.findings.items[i].event_index == 1 && sb.findings.items[i].pcr == 0;
        assert_true(found);
        shield_secureboot_clear(&sb);
        shield_eventlog_free(log);
}

static void test_structures(void **state) {
        (void)state;
        struct buf b = { 0 };
        json_t *j = NULL;
        char *s;

        /* UEFI_PLATFORM_FIRMWARE_BLOB and BLOB2 (PFP 1.05, 10.2.5; 1.06). */
        u64(&b, 0x820000);
        u64(&b, 917504);
        expect_summary(EV_EFI_PLATFORM_FIRMWARE_BLOB, b.b, b.n, "firmware blob at 0x820000, 917504 bytes");
        expect_summary(EV_POST_CODE, b.b, b.n, "firmware blob at 0x820000, 917504 bytes");
        expect_contains(EV_EFI_PLATFORM_FIRMWARE_BLOB, b.b, 15, "malformed UEFI_PLATFORM_FIRMWARE_BLOB at +0x8", true);
        memset(&b, 0, sizeof b);
        uint8_t dlen = 6;
        put(&b, &dlen, 1);
        put(&b, "Fv(0)", 6);
        u64(&b, 0xffa00000);
        u64(&b, 2 << 20);
        expect_summary(EV_EFI_PLATFORM_FIRMWARE_BLOB2, b.b, b.n, "\"Fv(0)\" firmware blob at 0xffa00000, 2.0 MB");
        dlen = 200;
        memcpy(b.b, &dlen, 1);
        expect_contains(EV_EFI_PLATFORM_FIRMWARE_BLOB2, b.b, b.n, "malformed UEFI_PLATFORM_FIRMWARE_BLOB2", true);

        /* UEFI_HANDOFF_TABLE_POINTERS (PFP 1.05, 10.2.6). */
        memset(&b, 0, sizeof b);
        u64(&b, 1);
        put(&b, SHIELD_GUID_GLOBAL_VARIABLE.b, 16);
        u64(&b, 0x7f000000);
        s = decode_one(1, EV_EFI_HANDOFF_TABLES, b.b, b.n, &j);
        assert_string_equal(s, "1 configuration table: EFI_GLOBAL_VARIABLE");
        assert_int_equal(json_array_size(json_object_get(j, "tables")), 1);
        free(s), json_decref(j);
        b.b[0] = 2; /* two tables claimed, one present */
        expect_contains(EV_EFI_HANDOFF_TABLES, b.b, b.n, "malformed UEFI_HANDOFF_TABLE_POINTERS at +0x8", true);

        /* UEFI_IMAGE_LOAD_EVENT (PFP 1.05, 10.2.4). */
        memset(&b, 0, sizeof b);
        u64(&b, 0x7e000000);
        u64(&b, 966664);
        u64(&b, 0);
        size_t at = b.n;
        u64(&b, 0);
        device_path(&b);
        uint64_t path_len = b.n - at - 8;
        memcpy(b.b + at, &path_len, 8);
        s = decode_one(4, EV_EFI_BOOT_SERVICES_APPLICATION, b.b, b.n, &j);
        assert_string_equal(s, PATH_TEXT " (966664 bytes)");
        assert_string_equal(jstr(j, "device_path"), PATH_TEXT);
        assert_int_equal(json_integer_value(json_object_get(j, "image_length")), 966664);
        free(s), json_decref(j);
        b.b[at] = 0xff; /* device path length past the data */
        expect_contains(EV_EFI_BOOT_SERVICES_APPLICATION, b.b, b.n,
                        "malformed UEFI_IMAGE_LOAD_EVENT at +0x18: device path length", true);
        expect_contains(EV_EFI_BOOT_SERVICES_DRIVER, b.b, 20, "malformed UEFI_IMAGE_LOAD_EVENT", true);

        /* UEFI_GPT_DATA: header (UEFI 2.10, Table 5.5), count, entries (Table 5.6). */
        memset(&b, 0, sizeof b);
        put(&b, "EFI PART", 8);
        while (b.n < 56)
                put(&b, "\0", 1);
        put(&b, SHIELD_GUID_SHIM_LOCK.b, 16); /* disk GUID */
        while (b.n < 84)
                put(&b, "\0", 1);
        u32(&b, 128);
        while (b.n < 92)
                put(&b, "\0", 1);
        u64(&b, 1);
        at = b.n;
        put(&b, SHIELD_GUID_GLOBAL_VARIABLE.b, 16);
        put(&b, SHIELD_GUID_CERT_X509.b, 16);
        u64(&b, 2048);
        u64(&b, 206847);
        u64(&b, 0);
        utf16(&b, "EFI System Partition", true);
        while (b.n < at + 128)
                put(&b, "\0", 1);
        s = decode_one(5, EV_EFI_GPT_EVENT, b.b, b.n, &j);
        assert_string_equal(s, "GPT disk 605dab50-e046-4300-abb6-3dd810dd8b23, 1 partition: \"EFI System Partition\"");
        json_t *p = json_array_get(json_object_get(j, "partitions"), 0);
        assert_int_equal(json_integer_value(json_object_get(p, "first_lba")), 2048);
        assert_string_equal(jstr(p, "guid"), "a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
        free(s), json_decref(j);
        b.b[92] = 2; /* two partitions claimed, one present */
        expect_contains(EV_EFI_GPT_EVENT, b.b, b.n, "malformed UEFI_GPT_DATA at +0x64: 2 partitions of 128 bytes", true);
        expect_contains(EV_EFI_GPT_EVENT, b.b, 91, "too few for a partition table header", true);

        /* TCG_PCClientTaggedEvent (PFP 1.05, 10.4.2) as the Linux EFI stub writes it. */
        memset(&b, 0, sizeof b);
        u32(&b, 0x8F3B22EC);
        u32(&b, 13);
        put(&b, "Linux initrd", 13);
        expect_summary(EV_EVENT_TAG, b.b, b.n, "Linux initrd: \"Linux initrd\"");
        b.b[4] = 14;
        expect_contains(EV_EVENT_TAG, b.b, b.n, "malformed TCG_PCClientTaggedEvent", true);

        /* SPDM device security event (PFP 1.06, 10.4.7). */
        memset(&b, 0, sizeof b);
        put(&b, "SPDM Device Sec2", 16);
        u16(&b, 2);
        u16(&b, 0);
        expect_summary(EV_EFI_SPDM_FIRMWARE_BLOB, b.b, b.n, "SPDM Device Sec2 v2, 20 bytes");
}

static void test_no_action(void **state) {
        (void)state;
        struct buf b = { 0 };
        json_t *j = NULL;
        char *s;

        /* The Spec ID event itself. */
        struct shield_eventlog *log = one_event_log(0, EV_EFI_ACTION, "x", 1);
        assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, 0), &s), 0);
        assert_string_equal(s, "Spec ID Event03, spec 2.0 errata 0, banks sha1,sha256");
        free(s);
        assert_int_equal(shield_event_decode_json(log, shield_eventlog_event(log, 0), &j), 0);
        assert_int_equal(json_array_size(json_object_get(j, "algorithms")), 2);
        json_decref(j);
        shield_eventlog_free(log);

        put(&b, "StartupLocality", 16);
        put(&b, "\3", 1);
        s = decode_one(0, EV_NO_ACTION, b.b, b.n, &j);
        assert_string_equal(s, "StartupLocality 3");
        assert_int_equal(json_integer_value(json_object_get(j, "locality")), 3);
        free(s), json_decref(j);
        expect_contains(EV_NO_ACTION, b.b, 16, "malformed StartupLocality event", true);

        /* SP 800-155 Event3 (PFP 1.06, 10.4.5.3): strings, then RIM and platform-certificate locators. */
        memset(&b, 0, sizeof b);
        put(&b, "SP800-155 Event3", 16);
        u32(&b, 11129); /* IANA enterprise number */
        put(&b, SHIELD_GUID_CERT_SHA256.b, 16);
        static const char *const strings[] = { "Google, Inc.", "Google Compute Engine", "1", "Google, Inc." };
        for (size_t i = 0; i < 4; i++) {
                uint8_t n = (uint8_t)strlen(strings[i]);
                put(&b, &n, 1);
                put(&b, strings[i], n);
        }
        u32(&b, 11129);
        put(&b, "\3" "2.7", 4);
        u32(&b, 1);
        u32(&b, 19);
        put(&b, "https://example.com", 19);
        u32(&b, 0);
        u32(&b, 2);
        put(&b, "\xab\xcd", 2);
        s = decode_one(0, EV_NO_ACTION, b.b, b.n, &j);
        assert_string_equal(s, "SP 800-155 reference manifest: Google, Inc. Google Compute Engine 1, firmware Google, Inc. 2.7");
        assert_string_equal(jstr(json_object_get(j, "rim_locator"), "uri"), "https://example.com");
        assert_string_equal(jstr(json_object_get(j, "platform_cert_locator"), "data"), "abcd");
        assert_int_equal(json_integer_value(json_object_get(j, "platform_manufacturer_id")), 11129);
        free(s), json_decref(j);
        expect_contains(EV_NO_ACTION, b.b, b.n - 3, "malformed SP 800-155 Event3", true);
        expect_contains(EV_NO_ACTION, b.b, 40, "malformed SP 800-155 event", true);

        /* H-CRTM component measurement (PFP 1.06, 10.4.5.4). */
        memset(&b, 0, sizeof b);
        put(&b, "H-CRTM CompMeas", 16);
        put(&b, "\4" "BIOS", 5);
        put(&b, "\0", 1);
        u16(&b, 4);
        put(&b, "\1\2\3\4", 4);
        expect_summary(EV_NO_ACTION, b.b, b.n, "H-CRTM component \"BIOS\", 4-byte measurement");
        expect_contains(EV_NO_ACTION, b.b, b.n - 1, "malformed H-CRTM component event", true);

        /* NV index dynamic record (PFP 1.06, 10.4.5.5). */
        memset(&b, 0, sizeof b);
        put(&b, "NvIndexDynamic ", 16);
        u16(&b, 1);
        put(&b, "\0\0\0\0\0\0", 6);
        u64(&b, 7);
        u16(&b, 15);
        put(&b, "SPDM CHALLENGE", 15);
        u16(&b, 2);
        put(&b, "\x01\x02", 2);
        expect_summary(EV_NO_ACTION, b.b, b.n, "NV index dynamic record \"SPDM CHALLENGE\", 2 bytes");
        expect_contains(EV_NO_ACTION, b.b, b.n - 1, "malformed NvIndexDynamic event", true);

        expect_summary(EV_NO_ACTION, "Something Else\0\0\1\2", 18, "Something Else (18 bytes)");
        expect_summary(EV_NO_ACTION, "\1\2\3", 3, "3 bytes");
}

static void test_variables(void **state) {
        (void)state;
        struct buf b = { 0 }, opt = { 0 };
        json_t *j = NULL;
        uint8_t one = 1;
        char *s;

        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", &one, 1);
        s = decode_one(7, EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n, &j);
        assert_string_equal(s, "SecureBoot = 1");
        assert_string_equal(jstr(j, "name"), "SecureBoot");
        assert_string_equal(jstr(j, "variable_guid_name"), "EFI_GLOBAL_VARIABLE");
        assert_int_equal(json_integer_value(json_object_get(j, "value")), 1);
        free(s), json_decref(j);

        /* Malformed UEFI_VARIABLE_DATA: the name or the data past the end, too short a header. */
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", &one, 1);
        b.b[16] = 200;
        expect_contains(EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n,
                        "malformed UEFI_VARIABLE_DATA at +0x10: name length 200 (UTF-16 characters) exceeds the 21 bytes left",
                        true);
        b.b[16] = 10;
        b.b[24] = 9;
        expect_contains(EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n,
                        "malformed UEFI_VARIABLE_DATA at +0x18: data length 9 exceeds the 1 bytes left", true);
        expect_contains(EV_EFI_VARIABLE_BOOT, b.b, 31, "malformed UEFI_VARIABLE_DATA at +0x18: 31 bytes, too few", true);

        uint8_t order[6] = { 1, 0, 0, 0, 0x10, 0 };
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "BootOrder", order, 6);
        s = decode_one(1, EV_EFI_VARIABLE_BOOT, b.b, b.n, &j);
        assert_string_equal(s, "BootOrder = 0001,0000,0010");
        assert_string_equal(json_string_value(json_array_get(json_object_get(j, "boot_order"), 2)), "Boot0010");
        free(s), json_decref(j);

        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "BootNext", order, 2);
        expect_summary(EV_EFI_VARIABLE_BOOT, b.b, b.n, "BootNext = Boot0001");

        /* EFI_LOAD_OPTION (UEFI 2.10, 3.1.3): attributes, path length, description, path. */
        struct buf path = { 0 };
        device_path(&path);
        u32(&opt, 1);
        u16(&opt, (uint16_t)path.n);
        utf16(&opt, "debian", true);
        put(&opt, path.b, path.n);
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "Boot0001", opt.b, opt.n);
        s = decode_one(1, EV_EFI_VARIABLE_BOOT, b.b, b.n, &j);
        assert_string_equal(s, "Boot0001 \"debian\" " PATH_TEXT);
        assert_string_equal(jstr(j, "description"), "debian");
        free(s), json_decref(j);
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "Boot0001", opt.b, 7);
        expect_contains(EV_EFI_VARIABLE_BOOT, b.b, b.n, "malformed EFI_LOAD_OPTION", true);

        /* SbatLevel as shim measures it: text. */
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_SHIM_LOCK, "SbatLevel", "sbat,1,2021030218\n", 18);
        expect_summary(EV_EFI_VARIABLE_AUTHORITY, b.b, b.n, "SbatLevel = \"sbat,1,2021030218\\n\"");

        /* An empty db, a db that is not signature lists, and an absent variable. */
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "db", NULL, 0);
        expect_summary(EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n, "db: 0 certificates, 0 hashes");
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "dbx", "garbage!", 8);
        expect_contains(EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n, "malformed EFI_SIGNATURE_LIST", true);
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", NULL, 0);
        expect_summary(EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n, "SecureBoot: empty (the variable is not set)");

        /* dbx of hashes: a count and the algorithm. */
        uint8_t (*hashes)[32] = calloc(3, 32);
        uint8_t *list = NULL;
        size_t list_len = 0;
        assert_int_equal(shield_siglist_append_sha256(&list, &list_len, &SHIELD_GUID_GLOBAL_VARIABLE,
                                                      (const uint8_t(*)[32])hashes, 3),
                         0);
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "dbx", list, list_len);
        s = decode_one(7, EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n, &j);
        assert_string_equal(s, "dbx: 0 certificates, 3 hashes [sha256]");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "hash_algorithms"), "sha256")), 3);
        free(s), json_decref(j);
        free(list);
        free(hashes);
}

static uint8_t *read_shared(const char *rel, size_t *len) {
        const char *dir = getenv("SHIELD_SHARED_DATA");
        char *path = NULL;
        uint8_t *buf = NULL;

        if (!dir || asprintf(&path, "%s/%s", dir, rel) < 0)
                return NULL;
        if (access(path, R_OK) != 0 || shield_read_file(path, SHIELD_EVENTLOG_MAX, &buf, len) < 0)
                buf = NULL;
        free(path);
        return buf;
}

/*
 * Certificates in db and in an authority: subject, issuer and SHA-1
 * thumbprint. The certificate is Microsoft's UEFI CA from the shared
 * data; its thumbprint is what `openssl x509 -fingerprint -sha1` prints
 * (recorded in the data's README).
 */
static void test_certificates(void **state) {
        (void)state;
        size_t der_len = 0, list_len = 0;
        uint8_t *der = read_shared("uefi-ms/certs/MicCorUEFCA2011_2011-06-27.der", &der_len), *list = NULL;
        struct buf b = { 0 }, auth = { 0 };
        json_t *j = NULL;
        char *s;

        if (!der) {
                print_message("no shared data: skipping the certificate decode checks\n");
                skip();
        }
        assert_int_equal(shield_siglist_append_x509(&list, &list_len, &SHIELD_GUID_GLOBAL_VARIABLE, der, der_len), 0);
        variable(&b, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "db", list, list_len);
        s = decode_one(7, EV_EFI_VARIABLE_DRIVER_CONFIG, b.b, b.n, &j);
        assert_string_equal(s, "db: 1 certificate, 0 hashes (Microsoft Corporation UEFI CA 2011)");
        json_t *e = json_array_get(json_object_get(j, "entries"), 0);
        assert_string_equal(jstr(e, "sha1"), "46def63b5ce61cf8ba0de2e6639c1019d0ed14f3");
        assert_non_null(strstr(jstr(e, "issuer"), "Microsoft Corporation Third Party Marketplace Root"));
        free(s), json_decref(j);

        /* EV_EFI_VARIABLE_AUTHORITY: one EFI_SIGNATURE_DATA (owner + DER), PFP 1.05, 3.3.4.8. */
        put(&auth, SHIELD_GUID_GLOBAL_VARIABLE.b, 16);
        put(&auth, der, der_len);
        memset(&b, 0, sizeof b);
        variable(&b, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "db", auth.b, auth.n);
        s = decode_one(7, EV_EFI_VARIABLE_AUTHORITY, b.b, b.n, &j);
        assert_string_equal(s, "db authority: Microsoft Corporation UEFI CA 2011");
        assert_string_equal(jstr(j, "sha1"), "46def63b5ce61cf8ba0de2e6639c1019d0ed14f3");
        free(s), json_decref(j);
        free(list);
        free(der);
}

static bool has_finding(const struct shield_secureboot *sb, const char *code) {
        for (size_t i = 0; i < sb->findings.n; i++)
                if (strcmp(sb->findings.items[i].code, code) == 0)
                        return true;
        return false;
}

static const struct shield_reason *finding_of(const struct shield_secureboot *sb, const char *code) {
        for (size_t i = 0; i < sb->findings.n; i++)
                if (strcmp(sb->findings.items[i].code, code) == 0)
                        return &sb->findings.items[i];
        return NULL;
}

static void var_event(struct buf *log, uint32_t pcr, uint32_t type, const shield_guid *g, const char *name,
                      const void *data, size_t n) {
        struct buf v = { 0 };
        variable(&v, g, name, data, n);
        agile_event(log, pcr, type, v.b, (uint32_t)v.n);
}

static void test_findings(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t one = 1, zero = 0;
        uint32_t err = 1;

        specid(&b, 2, 0);
        var_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", &zero, 1); /* 1 */
        agile_event(&b, 7, EV_EFI_ACTION, "UEFI Debug Mode", 15);                                              /* 2 */
        agile_event(&b, 7, EV_SEPARATOR, sep_zero, 4);                                                          /* 3 */
        var_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "db", NULL, 0);  /* 4 */
        agile_event(&b, 0, EV_SEPARATOR, &err, 4);                                                              /* 5 */
        agile_event(&b, 1, EV_SEPARATOR, sep_zero, 4);                                                          /* 6 */
        agile_event(&b, 1, EV_SEPARATOR, sep_zero, 4);                                                          /* 7 */
        agile_event(&b, 7, EV_IPL, "x", 1);                                                                     /* 8 */
        uint8_t order[4] = { 1, 0, 0, 0 };
        var_event(&b, 1, EV_EFI_VARIABLE_BOOT, &SHIELD_GUID_GLOBAL_VARIABLE, "BootNext", order, 2);            /* 9 */
        var_event(&b, 1, EV_EFI_VARIABLE_BOOT, &SHIELD_GUID_GLOBAL_VARIABLE, "BootOrder", order, 4);           /* 10 */
        var_event(&b, 1, EV_EFI_VARIABLE_BOOT, &SHIELD_GUID_GLOBAL_VARIABLE, "BootOrder", order, 2);           /* 11 */
        agile_event(&b, 5, EV_EFI_ACTION, "Exit Boot Services Returned with Success", 40);                     /* 12 */
        var_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, &SHIELD_GUID_SHIM_LOCK, "MokListTrusted", &one, 1);    /* 13 */
        struct buf bad = { 0 };
        variable(&bad, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", &one, 1);
        bad.b[16] = 200;
        agile_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, bad.b, (uint32_t)bad.n);                              /* 14 */
        agile_event(&b, 7, EV_EFI_ACTION, "DMA Protection Disabled", 23);                                      /* 15 */
        struct shield_eventlog *log = NULL;
        assert_int_equal(shield_eventlog_parse(b.b, b.n, &log, NULL), 0);

        struct shield_secureboot sb;
        assert_int_equal(shield_eventlog_secureboot(log, &sb), 0);
        assert_int_equal(sb.secure_boot, 0);
        assert_int_equal(sb.setup_mode, -1);
        assert_int_equal(sb.db.event_index, 4);
        assert_int_equal(sb.pk.event_index, -1);
        const struct shield_reason *x = finding_of(&sb, "uefi-debugger");
        assert_non_null(x);
        assert_int_equal(x->severity, SHIELD_SEV_ERROR);
        assert_int_equal(x->pcr, 7);
        assert_int_equal(x->event_index, 2);
        assert_int_equal(x->offset, shield_eventlog_event(log, 2)->offset);
        assert_non_null(x = finding_of(&sb, "variable-after-separator"));
        assert_int_equal(x->event_index, 4);
        assert_non_null(x = finding_of(&sb, "shim-variable-after-separator"));
        assert_int_equal(x->severity, SHIELD_SEV_INFO);
        assert_non_null(x = finding_of(&sb, "separator-error"));
        assert_int_equal(x->pcr, 0);
        assert_non_null(x = finding_of(&sb, "separator-duplicated"));
        assert_int_equal(x->event_index, 7);
        assert_non_null(x = finding_of(&sb, "separator-missing")); /* PCRs 2-6 have none */
        assert_int_equal(x->pcr, 2);
        assert_non_null(x = finding_of(&sb, "pcr7-unexpected-event"));
        assert_int_equal(x->event_index, 8);
        assert_non_null(x = finding_of(&sb, "boot-next"));
        assert_int_equal(x->event_index, 9);
        assert_non_null(x = finding_of(&sb, "boot-order-changed"));
        assert_int_equal(x->event_index, 11);
        assert_non_null(x = finding_of(&sb, "variable-malformed"));
        assert_int_equal(x->event_index, 14);
        assert_true(has_finding(&sb, "secure-boot-disabled"));
        assert_true(has_finding(&sb, "exit-boot-services-missing"));
        assert_true(has_finding(&sb, "dma-protection-disabled"));
        assert_int_equal(shield_reasons_max_severity(&sb.findings), SHIELD_SEV_ERROR);
        shield_secureboot_clear(&sb);
        shield_secureboot_clear(&sb); /* idempotent */
        shield_eventlog_free(log);
        assert_int_equal(shield_eventlog_secureboot(NULL, &sb), SHIELD_E_INVAL);
}

/*
 * Which image each authority let load: the firmware logs the authority
 * before the image; shim (depending on version) before or after.
 */
static void test_authorities(void **state) {
        (void)state;
        size_t der_len = 0;
        uint8_t *der = read_shared("uefi-ms/certs/MicCorUEFCA2011_2011-06-27.der", &der_len);
        struct buf b = { 0 }, auth = { 0 }, img = { 0 };

        if (!der) {
                print_message("no shared data: skipping the authority checks\n");
                skip();
        }
        put(&auth, SHIELD_GUID_GLOBAL_VARIABLE.b, 16);
        put(&auth, der, der_len);
        u64(&img, 0);
        u64(&img, 4096);
        u64(&img, 0);
        u64(&img, 0);
        specid(&b, 2, 0);
        var_event(&b, 7, EV_EFI_VARIABLE_AUTHORITY, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "db", auth.b, auth.n); /* 1 */
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, img.b, (uint32_t)img.n);                        /* 2: shim */
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, img.b, (uint32_t)img.n);                        /* 3: grub */
        var_event(&b, 7, EV_EFI_VARIABLE_AUTHORITY, &SHIELD_GUID_SHIM_LOCK, "Shim", auth.b, auth.n);         /* 4 -> 3 */
        var_event(&b, 7, EV_EFI_VARIABLE_AUTHORITY, &SHIELD_GUID_SHIM_LOCK, "SbatLevel", "sbat,1\n", 7);     /* 5 */
        var_event(&b, 7, EV_EFI_VARIABLE_AUTHORITY, &SHIELD_GUID_SHIM_LOCK, "MokListRT", auth.b, auth.n);    /* 6 -> 7 */
        agile_event(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, img.b, (uint32_t)img.n);                        /* 7: kernel */
        struct shield_eventlog *log = NULL;
        assert_int_equal(shield_eventlog_parse(b.b, b.n, &log, NULL), 0);
        struct shield_secureboot sb;
        assert_int_equal(shield_eventlog_secureboot(log, &sb), 0);
        assert_int_equal(sb.n_authorities, 4);
        assert_string_equal(sb.authorities[0].variable, "db");
        assert_true(sb.authorities[0].has_cert);
        assert_string_equal(sb.authorities[0].subject,
                            "CN=Microsoft Corporation UEFI CA 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US");
        assert_int_equal(sb.authorities[0].applies_to, 2);
        assert_int_equal(sb.authorities[1].applies_to, 3);
        assert_false(sb.authorities[2].has_cert);
        assert_int_equal(sb.authorities[2].applies_to, -1);
        assert_string_equal(sb.authorities[3].variable, "MokListRT");
        assert_int_equal(sb.authorities[3].applies_to, 7);
        shield_secureboot_clear(&sb);
        shield_eventlog_free(log);
        free(der);
}

static struct shield_eventlog *load_shared(const char *name) {
        char *rel = NULL;
        size_t len;
        uint8_t *buf;
        struct shield_eventlog *log = NULL;

        if (asprintf(&rel, "eventlogs/%s", name) < 0)
                return NULL;
        buf = read_shared(rel, &len);
        free(rel);
        if (!buf)
                return NULL;
        assert_int_equal(shield_eventlog_parse(buf, len, &log, NULL), 0);
        free(buf);
        return log;
}

static void test_real_secure_boot_log(void **state) {
        (void)state;
        struct shield_eventlog *log = load_shared("gce-rhel8-secureboot.bin");
        struct shield_secureboot sb;
        if (!log) {
                print_message("no shared data: skipping the real-log decode checks\n");
                skip();
        }
        assert_int_equal(shield_eventlog_secureboot(log, &sb), 0);
        assert_int_equal(sb.secure_boot, 1);
        assert_int_equal(sb.db.n_x509, 2);
        assert_int_equal(sb.dbx.n_hashes, 183);
        assert_true(sb.n_authorities >= 2);
        /* The firmware's db authority for shim: Microsoft's UEFI CA (SHA-1 46 de f6 3b …), for the next image. */
        assert_non_null(strstr(sb.authorities[0].subject, "Microsoft Corporation UEFI CA 2011"));
        assert_int_equal(sb.authorities[0].sha1[0], 0x46);
        assert_int_equal(sb.authorities[0].sha1[1], 0xde);
        assert_true(sb.authorities[0].applies_to > sb.authorities[0].event_index);
        assert_int_equal(shield_reasons_max_severity(&sb.findings) < SHIELD_SEV_ERROR, true);
        shield_secureboot_clear(&sb);

        char *s = NULL;
        bool shim = false, db = false;
        for (size_t i = 0; i < shield_eventlog_count(log); i++) {
                assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, i), &s), 0);
                shim |= strstr(s, "\\EFI\\redhat\\shimx64.efi") != NULL;
                db |= strncmp(s, "db: ", 4) == 0 && strstr(s, "Microsoft Corporation UEFI CA 2011") != NULL;
                free(s);
        }
        assert_true(shim);
        assert_true(db);
        shield_eventlog_free(log);
}

/* Every event of every shared log decodes to a non-empty one-line summary and a JSON object. */
static void test_real_logs_decode(void **state) {
        (void)state;
        static const char *const logs[] = { "dell-server-gdc-host-sha256.bin", "gce-v2-sp800-155.bin",
                                             "hygon-dhyana-hcrtm.bin", "intel-nuc-legacy-sha1.bin",
                                             "ovmf-rhel-moklisttrusted-sha256.bin", "supermicro-pxe-postcode.bin",
                                             "lenovo-thinkpad-n40et41w.bin" };
        size_t tested = 0;

        for (size_t k = 0; k < sizeof logs / sizeof logs[0]; k++) {
                struct shield_eventlog *log = load_shared(logs[k]);
                if (!log)
                        continue;
                tested++;
                for (size_t i = 0; i < shield_eventlog_count(log); i++) {
                        const struct shield_event *ev = shield_eventlog_event(log, i);
                        char *s = NULL;
                        json_t *j = NULL;
                        assert_int_equal(shield_event_summary(log, ev, &s), 0);
                        assert_true(strlen(s) > 0);
                        assert_null(strchr(s, '\n'));
                        assert_int_equal(shield_event_decode_json(log, ev, &j), 0);
                        assert_true(json_is_object(j));
                        /* Real firmware's events are well-formed, so none carries an error. */
                        if (json_object_get(j, "error"))
                                fail_msg("%s event %zu: %s", logs[k], i, json_string_value(json_object_get(j, "error")));
                        json_decref(j);
                        free(s);
                }
                shield_eventlog_free(log);
        }
        if (!tested) {
                print_message("no shared data: skipping the real-log decode checks\n");
                skip();
        }
        /* The SP 800-155 record of Google's firmware (PFP 1.06 Event3). */
        struct shield_eventlog *log = load_shared("gce-v2-sp800-155.bin");
        if (log) {
                char *s = NULL;
                assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, 1), &s), 0);
                assert_non_null(strstr(s, "SP 800-155 reference manifest: Google, Inc. Google Compute Engine"));
                free(s);
                shield_eventlog_free(log);
        }
}

static void test_invalid_arguments(void **state) {
        (void)state;
        struct shield_eventlog *log = one_event_log(0, EV_EFI_ACTION, "x", 1);
        char *s = NULL;
        json_t *j = NULL;

        assert_int_equal(shield_event_summary(NULL, shield_eventlog_event(log, 1), &s), SHIELD_E_INVAL);
        assert_int_equal(shield_event_summary(log, NULL, &s), SHIELD_E_INVAL);
        assert_int_equal(shield_event_decode_json(log, shield_eventlog_event(log, 1), NULL), SHIELD_E_INVAL);
        assert_null(j);
        shield_eventlog_free(log);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings_and_separators),
                cmocka_unit_test(test_error_separator),
                cmocka_unit_test(test_structures),
                cmocka_unit_test(test_no_action),
                cmocka_unit_test(test_variables),
                cmocka_unit_test(test_certificates),
                cmocka_unit_test(test_findings),
                cmocka_unit_test(test_authorities),
                cmocka_unit_test(test_real_secure_boot_log),
                cmocka_unit_test(test_real_logs_decode),
                cmocka_unit_test(test_invalid_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
