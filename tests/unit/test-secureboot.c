/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Secure Boot verdict (lib/secureboot/verdict.c) on a small PE32+ image
 * built here, signed with keys generated here. Every rule of edk2's
 * DxeImageVerificationHandler gets a case: unsigned images go by their hash,
 * signed ones by the first revocation met or any signature chaining to db,
 * corrupt certificate tables are refused. The same rules on real binaries
 * (shim, sbsign/sbattach output, efitools' hash lists) are in
 * tests/cli/cli-sb.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shield/authenticode.h"
#include "shield/crypto.h"
#include "shield/initial-state.h"
#include "shield/keys.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "shield/varstore.h"

#define LFANEW 0x40
#define OPT (LFANEW + 24)
#define SECTIONS (OPT + 240) /* PE32+ optional header with 16 data directories (PE/COFF 3.4) */
#define HEADERS 0x200

static struct shield_keypair key_a, key_b;

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, (uint16_t)v); w16(p + 2, (uint16_t)(v >> 16)); }

/* An unsigned PE32+ image: headers and one 0x200-byte section, no certificate table. */
static uint8_t *make_pe(size_t *ret_len) {
        size_t len = HEADERS + 0x200;
        uint8_t *b = calloc(1, len);
        assert_non_null(b);
        b[0] = 'M', b[1] = 'Z';
        w32(b + 0x3c, LFANEW);
        memcpy(b + LFANEW, "PE\0\0", 4);
        w16(b + LFANEW + 4, 0x8664);
        w16(b + LFANEW + 6, 1);
        w16(b + LFANEW + 20, 240);
        w16(b + OPT, 0x20b);
        w32(b + OPT + 60, HEADERS);
        w16(b + OPT + 68, 10);
        w32(b + OPT + 108, 16);
        memcpy(b + SECTIONS, ".text", 5);
        w32(b + SECTIONS + 8, 0x200);
        w32(b + SECTIONS + 12, 0x1000);
        w32(b + SECTIONS + 16, 0x200);
        w32(b + SECTIONS + 20, HEADERS);
        for (size_t i = HEADERS; i < len; i++)
                b[i] = (uint8_t)(i * 7);
        *ret_len = len;
        return b;
}

/* Sign (replacing or appending) with kp, through the library's Authenticode signer. */
static uint8_t *sign(const uint8_t *img, size_t len, const struct shield_keypair *kp, bool append, size_t *ret_len) {
        struct shield_pe pe;
        uint8_t *prepared, *sig, *out, digest[32];
        size_t plen, slen;
        assert_int_equal(shield_pe_parse(img, len, &pe, NULL), 0);
        assert_int_equal(shield_pe_prepare_for_signing(&pe, append, &prepared, &plen), 0);
        assert_int_equal(shield_pe_parse(prepared, plen, &pe, NULL), 0);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, digest), 0);
        assert_int_equal(shield_authenticode_sign(kp->key_pem, kp->key_pem_len, kp->cert_der, kp->cert_der_len, digest, &sig,
                                                  &slen),
                         0);
        assert_int_equal(shield_pe_add_signature(prepared, plen, sig, slen, &out, ret_len), 0);
        free(prepared);
        free(sig);
        return out;
}

/* One EFI_SIGNATURE_LIST (UEFI 2.10, 32.4.1) of one entry: type, zero owner, data. */
static uint8_t *esl(const char *type, const uint8_t *data, size_t size, size_t *ret_len) {
        shield_guid g;
        size_t len = 28 + 16 + size;
        uint8_t *b = calloc(1, len);
        assert_non_null(b);
        assert_int_equal(shield_guid_parse(type, &g), 0);
        memcpy(b, g.b, 16);
        w32(b + 16, (uint32_t)len);
        w32(b + 20, 0);
        w32(b + 24, (uint32_t)(16 + size));
        memcpy(b + 44, data, size);
        *ret_len = len;
        return b;
}

#define GUID_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define GUID_SHA256 "c1c41626-504c-4092-aca9-41f936934328"
#define GUID_X509_SHA384 "7076876e-80c2-4ee6-aad2-28b349a6865b"

static uint8_t *cert_esl(const struct shield_keypair *kp, size_t *ret_len) {
        return esl(GUID_X509, kp->cert_der, kp->cert_der_len, ret_len);
}

static uint8_t *hash_esl(const uint8_t *img, size_t len, size_t *ret_len) {
        struct shield_pe pe;
        uint8_t d[32];
        assert_int_equal(shield_pe_parse(img, len, &pe, NULL), 0);
        assert_int_equal(shield_pe_authenticode_hash(&pe, SHIELD_ALG_SHA256, d), 0);
        return esl(GUID_SHA256, d, 32, ret_len);
}

static struct shield_sb_verdict check(const uint8_t *img, size_t len, const uint8_t *db, size_t db_len, const uint8_t *dbx,
                                      size_t dbx_len) {
        struct shield_sb_databases dbs = { db, db_len, dbx, dbx_len };
        struct shield_sb_verdict v;
        memset(&v, 0xaa, sizeof v);
        assert_int_equal(shield_sb_check(img, len, &dbs, &v, NULL), 0);
        return v;
}

static int setup(void **state) {
        (void)state;
        if (shield_keypair_generate(SHIELD_KEY_RSA2048, "Test A", 30, &key_a) < 0 ||
            shield_keypair_generate(SHIELD_KEY_RSA2048, "Test B", 30, &key_b) < 0)
                return -1;
        return 0;
}

static int teardown(void **state) {
        (void)state;
        shield_keypair_clear(&key_a);
        shield_keypair_clear(&key_b);
        return 0;
}

static void test_unsigned(void **state) {
        (void)state;
        size_t len, hl;
        uint8_t *img = make_pe(&len), *h = hash_esl(img, len, &hl);

        struct shield_sb_verdict v = check(img, len, NULL, 0, NULL, 0);
        assert_false(v.pass);
        assert_string_equal(v.match, "NO_CERT_MATCH");
        assert_non_null(strstr(v.reason, "not signed"));
        assert_int_equal(v.n_signatures, 0);
        assert_string_equal(v.cert_subject, "");
        assert_int_equal(strlen(v.image_digest), 64);

        v = check(img, len, h, hl, NULL, 0);
        assert_true(v.pass);
        assert_string_equal(v.match, "DB_HASH_MATCH");

        /* dbx wins over db. */
        v = check(img, len, h, hl, h, hl);
        assert_false(v.pass);
        assert_string_equal(v.match, "DBX_HASH_MATCH");
        free(h);
        free(img);
}

static void test_signed(void **state) {
        (void)state;
        size_t len, slen, al, bl, hl;
        uint8_t *img = make_pe(&len), *s = sign(img, len, &key_a, false, &slen);
        uint8_t *a = cert_esl(&key_a, &al), *b = cert_esl(&key_b, &bl), *h = hash_esl(s, slen, &hl);

        struct shield_sb_verdict v = check(s, slen, a, al, NULL, 0);
        assert_true(v.pass);
        assert_string_equal(v.match, "DB_CERT_MATCH");
        assert_string_equal(v.cert_subject, "CN=Test A");
        assert_int_equal(v.n_signatures, 1);

        v = check(s, slen, b, bl, NULL, 0);
        assert_false(v.pass);
        assert_string_equal(v.match, "NO_CERT_MATCH");
        assert_non_null(strstr(v.reason, "does not chain"));
        assert_string_equal(v.cert_subject, "CN=Test A");

        /* Signed by a stranger, but its hash is in db: allowed. */
        v = check(s, slen, h, hl, NULL, 0);
        assert_true(v.pass);
        assert_string_equal(v.match, "DB_HASH_MATCH");

        v = check(s, slen, a, al, h, hl);
        assert_false(v.pass);
        assert_string_equal(v.match, "DBX_HASH_MATCH");

        v = check(s, slen, a, al, a, al);
        assert_false(v.pass);
        assert_string_equal(v.match, "DBX_CERT_MATCH");

        /* The signer revoked by the SHA-384 hash of its TBSCertificate (+ a zero EFI_TIME). */
        uint8_t tbs[48 + 16] = { 0 };
        size_t tl;
        assert_int_equal(shield_x509_tbs_hash(key_a.cert_der, key_a.cert_der_len, SHIELD_ALG_SHA384, tbs), 0);
        uint8_t *t = esl(GUID_X509_SHA384, tbs, sizeof tbs, &tl);
        v = check(s, slen, a, al, t, tl);
        assert_false(v.pass);
        assert_string_equal(v.match, "DBX_CERT_HASH_MATCH");
        assert_string_equal(v.cert_subject, "CN=Test A");

        /* Changed after signing: the signature no longer signs it. */
        s[HEADERS + 3] ^= 1;
        v = check(s, slen, a, al, NULL, 0);
        assert_false(v.pass);
        assert_string_equal(v.match, "NO_CERT_MATCH");
        assert_non_null(strstr(v.reason, "different digest"));
        free(t);
        free(h);
        free(a);
        free(b);
        free(s);
        free(img);
}

/* edk2 stops at the first revoked signature: one revoked signature refuses the image in either order. */
static void test_two_signatures(void **state) {
        (void)state;
        size_t len, l1, l2, al, bl;
        uint8_t *img = make_pe(&len), *s1 = sign(img, len, &key_a, false, &l1), *s2 = sign(s1, l1, &key_b, true, &l2);
        uint8_t *a = cert_esl(&key_a, &al), *b = cert_esl(&key_b, &bl);

        struct shield_sb_verdict v = check(s2, l2, a, al, NULL, 0);
        assert_true(v.pass);
        assert_int_equal(v.n_signatures, 2);
        assert_string_equal(v.cert_subject, "CN=Test A");
        v = check(s2, l2, b, bl, NULL, 0);
        assert_true(v.pass);
        assert_string_equal(v.cert_subject, "CN=Test B");

        v = check(s2, l2, a, al, b, bl);
        assert_false(v.pass);
        assert_string_equal(v.match, "DBX_CERT_MATCH");
        assert_string_equal(v.cert_subject, "CN=Test B");
        v = check(s2, l2, b, bl, a, al);
        assert_false(v.pass);
        assert_string_equal(v.match, "DBX_CERT_MATCH");
        assert_string_equal(v.cert_subject, "CN=Test A");
        free(a);
        free(b);
        free(s2);
        free(s1);
        free(img);
}

static void test_corrupt_table(void **state) {
        (void)state;
        size_t len, slen, al;
        uint8_t *img = make_pe(&len), *s = sign(img, len, &key_a, false, &slen), *a = cert_esl(&key_a, &al);
        size_t dir = OPT + 112 + 4 * 8;
        uint32_t table = (uint32_t)s[dir] | (uint32_t)s[dir + 1] << 8 | (uint32_t)s[dir + 2] << 16 | (uint32_t)s[dir + 3] << 24;

        /* Four bytes of slack after the last WIN_CERTIFICATE: firmware refuses the image. */
        uint8_t *x = calloc(1, slen + 8);
        assert_non_null(x);
        memcpy(x, s, slen);
        uint32_t size = (uint32_t)x[dir + 4] | (uint32_t)x[dir + 5] << 8 | (uint32_t)x[dir + 6] << 16 | (uint32_t)x[dir + 7] << 24;
        w32(x + dir + 4, size + 4);
        struct shield_sb_verdict v = check(x, slen + 4, a, al, NULL, 0);
        assert_false(v.pass);
        assert_string_equal(v.match, "NO_CERT_MATCH");
        assert_non_null(strstr(v.reason, "corrupt"));

        /* Eight zero bytes read as a WIN_CERTIFICATE of dwLength 0: a malformed image, not a verdict. */
        w32(x + dir + 4, size + 8);
        struct shield_sb_databases dbs = { a, al, NULL, 0 };
        struct shield_diag d = { 0 };
        assert_int_equal(shield_sb_check(x, slen + 8, &dbs, &v, &d), SHIELD_E_FORMAT);
        assert_int_equal(d.offset, table + size);

        /* A WIN_CERTIFICATE that is not PKCS#7 is skipped; with nothing else, even a db hash does not help. */
        memcpy(x, s, slen);
        w16(x + table + 6, 0x0001); /* WIN_CERT_TYPE_X509 */
        size_t hl;
        uint8_t *h = hash_esl(x, slen, &hl);
        v = check(x, slen, h, hl, NULL, 0);
        assert_false(v.pass);
        assert_string_equal(v.match, "NO_CERT_MATCH");
        assert_non_null(strstr(v.reason, "not PKCS#7"));
        free(h);
        free(x);
        free(a);
        free(s);
        free(img);
}

static void test_errors(void **state) {
        (void)state;
        size_t len;
        uint8_t *img = make_pe(&len), junk[40] = { 1, 2, 3 };
        struct shield_sb_databases dbs = { junk, sizeof junk, NULL, 0 };
        struct shield_sb_verdict v, poison;
        struct shield_diag d = { 0 };

        memset(&v, 0xaa, sizeof v);
        memcpy(&poison, &v, sizeof v);
        assert_int_equal(shield_sb_check(img, len, &dbs, &v, &d), SHIELD_E_FORMAT);
        assert_memory_equal(&v, &poison, sizeof v);
        dbs = (struct shield_sb_databases){ NULL, 0, junk, sizeof junk };
        assert_true(shield_sb_check(img, len, &dbs, &v, &d) < 0);
        dbs = (struct shield_sb_databases){ 0 };
        assert_true(shield_sb_check(img, 0x100, &dbs, &v, &d) < 0);
        assert_int_equal(shield_sb_check((const uint8_t *)"MZ", 2, &dbs, &v, NULL), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_sb_check(NULL, 0, &dbs, &v, NULL), SHIELD_E_INVAL);
        assert_memory_equal(&v, &poison, sizeof v);
        free(img);
}

/* The three lines of the console shape we follow, reproduced byte for byte (their "..." path kept). */
static void test_event_line(void **state) {
        (void)state;
        char *l = shield_sb_overall_line(SHIELD_SB_OVERALL_PASS);
        assert_string_equal(l, "SB_EVENT: { \"Secure_Boot_Overall_Status\" : 0, \"status\" : \"Pass\", \"msg\" : \"SB_Event on "
                               "Exit Boot Services\" }");
        free(l);
        l = shield_sb_overall_line(SHIELD_SB_OVERALL_ACCESS_DENIED);
        assert_string_equal(l, "SB_EVENT: { \"Secure_Boot_Overall_Status\" : 15, \"status\" : \"Fail\", \"msg\" : \"SB_Event on "
                               "boot refusal\" }");
        free(l);

        struct shield_sb_verdict v = { .pass = false, .match = "NO_CERT_MATCH" };
        struct shield_sb_event e;
        memset(&e, 0xaa, sizeof e);
        shield_sb_event_from_verdict(&v, "PciRoot(0x0)/Pci(0x2,0x0)/Offset(0x10A00,0x245FF)", &e);
        assert_int_equal(e.image_type, SHIELD_SB_FROM_OPROM);
        l = shield_sb_event_line(&e);
        assert_string_equal(l, "SB_EVENT: { \"status\": \"Fail\", \"msg\": \"The EFI executable failed to load. It's not signed, "
                               "or the signature (or hash) did not match entries in DB\", \"EFI_Image_Type\" : \"FromOpROM\", "
                               "\"EFI_Image_Path\": \"PciRoot(0x0)/Pci(0x2,0x0)/Offset(0x10A00,0x245FF)\", "
                               "\"SB_Variable_Match\" : \"NO_CERT_MATCH\" }");
        free(l);

        v = (struct shield_sb_verdict){ .pass = true, .match = "DB_CERT_MATCH",
                                        .cert_subject = "CN=Microsoft Corporation UEFI CA 2011,O=Microsoft Corporation",
                                        .cert_common_name = "Microsoft Corporation UEFI CA 2011",
                                        .image_digest = "dd35b574d149aa48e3611ffcc336acd76fde79ad817b081fe5cc093789b92e90" };
        shield_sb_event_from_verdict(&v, "PciRoot(0x0)/Pci(0x12,0x7)/Pci(0x0 ... 2000)//EFI/redhat/shimx64.efi", &e);
        assert_int_equal(e.image_type, SHIELD_SB_FROM_FIXED_MEDIA);
        l = shield_sb_event_line(&e);
        assert_string_equal(l, "SB_EVENT: { \"status\": \"Pass\", \"msg\": \"The EFI executable loaded successfully\", "
                               "\"EFI_Image_Type\" : \"FromFixedMedia\", \"EFI_Image_Path\" : \"PciRoot(0x0)/Pci(0x12,0x7)/Pci(0x0 "
                               "... 2000)//EFI/redhat/shimx64.efi\", \"SB_Variable_Match\" : \"DB_CERT_MATCH\", \"CertSubject\" "
                               ": \"Microsoft Corporation UEFI CA 2011\", \"ImageDigest\" : "
                               "\"DD35B574D149AA48E3611FFCC336ACD76FDE79AD817B081FE5CC093789B92E90\" }");
        free(l);

        /* Escaping, revocation wording, and the TBS-hash revocation under the consoles' name. */
        v = (struct shield_sb_verdict){ .pass = false, .match = "DBX_CERT_HASH_MATCH", .cert_common_name = "A \"quoted\"" };
        shield_sb_event_from_verdict(&v, NULL, &e);
        assert_string_equal(e.match, "DBX_CERT_MATCH");
        l = shield_sb_event_line(&e);
        assert_non_null(strstr(l, "revoked in DBX"));
        assert_non_null(strstr(l, "\"EFI_Image_Path\": \"\""));
        assert_non_null(strstr(l, "\"CertSubject\" : \"A \\\"quoted\\\"\""));
        free(l);
}

static void test_image_type(void **state) {
        (void)state;
        static const struct {
                const char *path;
                enum shield_sb_image_type t;
        } cases[] = {
                { "PciRoot(0x0)/Pci(0x1,0x0)/HD(1,GPT,0f2b7c1e-0000-4000-8000-000000000001,0x800,0x32000)/\\EFI\\BOOT\\BOOTX64.EFI",
                  SHIELD_SB_FROM_FIXED_MEDIA },
                { "PciRoot(0x0)/Pci(0x1,0x0)", SHIELD_SB_FROM_FIXED_MEDIA },
                { "PciRoot(0x0)/Pci(0x2,0x0)/Offset(0x10a00,0x245ff)", SHIELD_SB_FROM_OPROM },
                { "PciRoot(0x0)/Pci(0x1d,0x0)/USB(0x1,0x0)/HD(1,MBR,0x12345678,0x800,0x1000)", SHIELD_SB_FROM_REMOVABLE_MEDIA },
                { "PciRoot(0x0)/Pci(0x1f,0x2)/Sata(0x0,0xffff,0x0)/CDROM(0x1,0x0,0x100)", SHIELD_SB_FROM_REMOVABLE_MEDIA },
                { "PciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,0x1)", SHIELD_SB_FROM_REMOVABLE_MEDIA },
                { "Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)", SHIELD_SB_FROM_FV },
                { "MemoryMapped(0xb,0x900000,0x10fffff)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)", SHIELD_SB_FROM_FV },
                /* A file whose name merely contains a keyword is not that node. */
                { "PciRoot(0x0)/Pci(0x1,0x0)/HD(1,GPT,0f2b7c1e-0000-4000-8000-000000000001,0x800,0x32000)/\\EFI\\xUSB(1).efi",
                  SHIELD_SB_FROM_FIXED_MEDIA },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(shield_sb_image_type_of_path(cases[i].path), cases[i].t);
        assert_int_equal(shield_sb_image_type_of_path(NULL), SHIELD_SB_FROM_FIXED_MEDIA);
        assert_string_equal(shield_sb_image_type_name(SHIELD_SB_FROM_FV), "FromFv");
        assert_string_equal(shield_sb_image_type_name(SHIELD_SB_FROM_REMOVABLE_MEDIA), "FromRemovableMedia");
}

/* Refusals from an OVMF console (the harness notes' line), with \r and escapes as the serial port gives them. */
static void test_boot_events_console(void **state) {
        (void)state;
        static const char console[] =
                "\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x1,0x0)\r\n"
                "BdsDxe: failed to load Boot0001 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x1,0x0): Access Denied\r\n"
                "BdsDxe: failed to load Boot0002 \"UEFI PXEv4\" from PciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,0x1): Not Found\r\n"
                "BdsDxe: failed to load Boot0000 \"EFI Internal Shell\" from "
                "Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1): Security Violation\r\n"
                "BdsDxe: failed to load Boot0003 \"truncated";
        struct shield_sb_databases dbs = { 0 };
        struct shield_sb_boot b = { .console = (const uint8_t *)console, .console_len = sizeof console - 1, .dbs = &dbs };
        struct shield_sb_events ev;
        memset(&ev, 0xaa, sizeof ev);
        assert_int_equal(shield_sb_boot_events(&b, &ev, NULL), 0);
        assert_int_equal(ev.n, 2);
        assert_int_equal(ev.overall_status, SHIELD_SB_OVERALL_ACCESS_DENIED);
        assert_false(ev.events[0].pass);
        assert_false(ev.events[0].have_verdict);
        assert_string_equal(ev.events[0].path, "PciRoot(0x0)/Pci(0x1,0x0)");
        assert_int_equal(ev.events[0].image_type, SHIELD_SB_FROM_FIXED_MEDIA);
        assert_int_equal(ev.events[1].image_type, SHIELD_SB_FROM_FV);
        char *l = shield_sb_event_line(&ev.events[0]);
        assert_string_equal(l, "SB_EVENT: { \"status\": \"Fail\", \"msg\": \"The EFI executable failed to load. It's not signed, "
                               "or the signature (or hash) did not match entries in DB\", \"EFI_Image_Type\" : "
                               "\"FromFixedMedia\", \"EFI_Image_Path\": \"PciRoot(0x0)/Pci(0x1,0x0)\" }");
        free(l);
        shield_sb_events_clear(&ev);

        /* A passing boot with no log and no refusal: nothing listed, overall 0. */
        b.console_len = 0;
        assert_int_equal(shield_sb_boot_events(&b, &ev, NULL), 0);
        assert_int_equal(ev.n, 0);
        assert_int_equal(ev.overall_status, SHIELD_SB_OVERALL_PASS);
        shield_sb_events_clear(&ev);

        /* A log that is not a log is an error, and leaves the output alone. */
        static const uint8_t junk[5] = { 1, 2, 3, 4, 5 }; /* shorter than any event header */
        b.eventlog = junk;
        b.eventlog_len = sizeof junk;
        memset(&ev, 0xaa, sizeof ev);
        struct shield_sb_events poison;
        memcpy(&poison, &ev, sizeof ev);
        assert_true(shield_sb_boot_events(&b, &ev, NULL) < 0);
        assert_memory_equal(&ev, &poison, sizeof ev);
        assert_int_equal(shield_sb_boot_events(NULL, &ev, NULL), SHIELD_E_INVAL);
        shield_sb_events_clear(NULL);
}

/* ---- stored defaults: signed updates (lib/secureboot/defaults.c) ---- */

static void efi_time(uint8_t ts[16], unsigned year, unsigned month, unsigned day) {
        memset(ts, 0, 16);
        w16(ts, (uint16_t)year);
        ts[2] = (uint8_t)month;
        ts[3] = (uint8_t)day;
}

/* A signed dbx update holding SHA-256 hashes (each 32 bytes of one fill byte), signed by key. */
static uint8_t *signed_dbx(const struct shield_keypair *key, const char *var, bool append, const uint8_t ts[16],
                           const uint8_t *fills, size_t n, size_t *ret_len) {
        static const shield_guid owner = { 0 };
        uint8_t (*h)[32] = calloc(n, 32), *esl = NULL, *tbs = NULL, *sig = NULL, *out = NULL;
        size_t esl_len = 0, tbs_len, sig_len;
        shield_guid vendor;
        assert_non_null(h);
        for (size_t i = 0; i < n; i++)
                memset(h[i], fills[i], 32);
        assert_int_equal(shield_siglist_append_sha256(&esl, &esl_len, &owner, (const uint8_t(*)[32])h, n), 0);
        assert_int_equal(shield_secure_boot_var_vendor(var, &vendor), 0);
        uint32_t attrs = SHIELD_VAR_SECURE_BOOT_DB | (append ? SHIELD_VAR_APPEND_WRITE : 0);
        assert_int_equal(shield_authvar2_signed_bytes(var, &vendor, attrs, ts, esl, esl_len, &tbs, &tbs_len), 0);
        assert_int_equal(shield_pkcs7_sign_detached(key->key_pem, key->key_pem_len, key->cert_der, key->cert_der_len, tbs,
                                                    tbs_len, &sig, &sig_len), 0);
        assert_int_equal(shield_authvar2_serialize(ts, sig, sig_len, esl, esl_len, &out, ret_len), 0);
        free(h);
        free(esl);
        free(tbs);
        free(sig);
        return out;
}

/* defaults: PK = key_b, KEK = key_a, db empty-ish, dbx = one hash of 0x01. */
static void make_defaults(struct shield_initial_state *d) {
        static const shield_guid owner = { 0 };
        uint8_t h[1][32];
        uint8_t *esl = NULL;
        size_t len = 0;
        memset(d, 0, sizeof *d);
        memset(h[0], 0x01, 32);
        assert_int_equal(shield_initial_state_add(&d->pk, key_b.cert_der, key_b.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&d->keks, key_a.cert_der, key_a.cert_der_len), 0);
        assert_int_equal(shield_initial_state_add(&d->dbs, key_a.cert_der, key_a.cert_der_len), 0);
        assert_int_equal(shield_siglist_append_sha256(&esl, &len, &owner, (const uint8_t(*)[32])h, 1), 0);
        assert_int_equal(shield_initial_state_add(&d->dbxs, esl, len), 0);
        free(esl);
}

static void reload(const char *dir, struct shield_initial_state *d) {
        uint8_t *esl = NULL;
        size_t len = 0;
        char path[512];
        snprintf(path, sizeof path, "%s/dbx.esl", dir);
        struct shield_initial_state old = { .dbxs = d->dbxs }; /* only the dbx is replaced */
        shield_initial_state_clear(&old);
        d->dbxs = (struct shield_is_value){ 0 };
        assert_int_equal(shield_read_file(path, 1 << 20, &esl, &len), 0);
        assert_int_equal(shield_initial_state_add(&d->dbxs, esl, len), 0);
        free(esl);
}

static void test_efi_time(void **state) {
        (void)state;
        uint8_t a[16], b[16];
        char s[32];
        efi_time(a, 2010, 3, 6);
        efi_time(b, 2010, 3, 7);
        assert_true(shield_efi_time_cmp(a, b) < 0);
        assert_true(shield_efi_time_cmp(b, a) > 0);
        b[3] = 6;
        b[12] = 0x55; /* TimeZone and the pads do not count: UEFI 2.10, 8.2 compares Year..Second */
        assert_int_equal(shield_efi_time_cmp(a, b), 0);
        efi_time(b, 2009, 12, 31);
        assert_true(shield_efi_time_cmp(a, b) > 0);
        a[4] = 19, a[5] = 17, a[6] = 21;
        shield_efi_time_format(a, s);
        assert_string_equal(s, "2010-03-06T19:17:21Z");
}

static void test_defaults_update(void **state) {
        (void)state;
        char dir[] = "/tmp/test-defaults.XXXXXX";
        assert_non_null(mkdtemp(dir));
        struct shield_initial_state d;
        struct shield_defaults_update u;
        struct shield_diag diag = { 0 };
        uint8_t t2025[16], t2026[16];
        efi_time(t2025, 2025, 6, 1);
        efi_time(t2026, 2026, 1, 2);
        make_defaults(&d);

        /* An append under the KEK: merged, the entry already there not added twice. */
        static const uint8_t fills1[] = { 0x01, 0x02, 0x03, 0x02 };
        size_t len;
        uint8_t *f = signed_dbx(&key_a, "dbx", true, t2026, fills1, 4, &len);
        memset(&u, 0xaa, sizeof u);
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f1", &u, &diag), 0);
        assert_int_equal(u.outcome, SHIELD_DEFAULTS_APPLIED);
        assert_string_equal(u.var, "dbx");
        assert_true(u.append);
        assert_int_equal(u.entries_before, 1);
        assert_int_equal(u.entries_after, 3);
        struct shield_x509_info info;
        assert_int_equal(shield_x509_info(key_a.cert_der, key_a.cert_der_len, &info), 0);
        assert_memory_equal(u.signer_sha1, info.sha1, 20);
        struct shield_defaults_source src;
        assert_int_equal(shield_defaults_source_get(dir, "dbx", &src), 0);
        assert_string_equal(src.source, "shield defaults update");
        assert_string_equal(src.path, "f1");
        assert_int_equal(shield_efi_time_cmp(src.timestamp, t2026), 0);
        reload(dir, &d);
        /* The same file again: nothing changes. */
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f1", &u, &diag), 0);
        assert_int_equal(u.outcome, SHIELD_DEFAULTS_UNCHANGED);
        free(f);

        /* Older: refused whatever it holds, both dates in the message. */
        static const uint8_t fills2[] = { 0x09 };
        f = signed_dbx(&key_a, "dbx", true, t2025, fills2, 1, &len);
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f2", &u, &diag), SHIELD_E_VERIFY);
        assert_int_equal(u.outcome, SHIELD_DEFAULTS_OLDER);
        assert_non_null(strstr(diag.msg, "2025-06-01T00:00:00Z"));
        assert_non_null(strstr(diag.msg, "2026-01-02T00:00:00Z"));
        free(f);

        /* Signed by the PK (key_b), not a KEK, as a dbx update: refused. */
        f = signed_dbx(&key_b, "dbx", true, t2026, fills2, 1, &len);
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f3", &u, &diag), SHIELD_E_VERIFY);
        assert_int_equal(u.outcome, SHIELD_DEFAULTS_NOT_SIGNED);
        free(f);

        /* One byte of the data changed: the signature no longer verifies. */
        f = signed_dbx(&key_a, "dbx", true, t2026, fills2, 1, &len);
        f[len - 1] ^= 1;
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f4", &u, &diag), SHIELD_E_VERIFY);
        f[len - 1] ^= 1;
        /* ... and the intact one is applied. */
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f4", &u, &diag), 0);
        assert_int_equal(u.entries_after, 4);
        reload(dir, &d);
        free(f);

        /* Without APPEND_WRITE the update replaces the value. */
        static const uint8_t fills3[] = { 0x07, 0x08 };
        f = signed_dbx(&key_a, "dbx", false, t2026, fills3, 2, &len);
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f5", &u, &diag), 0);
        assert_false(u.append);
        assert_int_equal(u.entries_before, 4);
        assert_int_equal(u.entries_after, 2);
        free(f);

        /* A KEK update is checked against the PK: key_b signs it, key_a does not. */
        f = signed_dbx(&key_a, "KEK", true, t2026, fills3, 2, &len);
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f6", &u, &diag), SHIELD_E_VERIFY);
        free(f);
        f = signed_dbx(&key_b, "KEK", true, t2026, fills3, 2, &len);
        assert_int_equal(shield_defaults_update(dir, &d, f, len, "f7", &u, &diag), 0);
        assert_string_equal(u.var, "KEK");
        free(f);

        /* Not a signed update; truncated. */
        uint8_t junk[64] = { 0 };
        assert_int_equal(shield_defaults_update(dir, &d, junk, sizeof junk, "j", &u, &diag), SHIELD_E_FORMAT);
        assert_int_equal(shield_defaults_update(dir, &d, junk, 10, "j", &u, &diag), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_defaults_update(NULL, &d, junk, 10, "j", &u, &diag), SHIELD_E_INVAL);

        shield_initial_state_clear(&d);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unsigned),       cmocka_unit_test(test_signed),  cmocka_unit_test(test_two_signatures),
                cmocka_unit_test(test_corrupt_table), cmocka_unit_test(test_errors), cmocka_unit_test(test_event_line),
                cmocka_unit_test(test_efi_time),      cmocka_unit_test(test_defaults_update),
                cmocka_unit_test(test_image_type),    cmocka_unit_test(test_boot_events_console),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
