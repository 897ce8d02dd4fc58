/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GUIDs, EFI_SIGNATURE_LIST, device paths and load options. Layouts are
 * from UEFI 2.10 (3.1.3, 10.3, 32.4.1); efitools' cert-to-efi-sig-list and
 * hash-to-efi-sig-list produce independent signature lists when installed.
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

#include "shield/crypto.h"
#include "shield/uefi.h"
#include "shield/util.h"

static void test_guid(void **state) {
        (void)state;
        shield_guid g;
        char s[SHIELD_GUID_STRING_SIZE];

        assert_int_equal(shield_guid_parse("8BE4DF61-93CA-11D2-AA0D-00E098032B8C", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_GLOBAL_VARIABLE));
        /* Wire order: the first three fields little-endian (UEFI 2.10, Appendix A). */
        assert_int_equal(g.b[0], 0x61);
        assert_int_equal(g.b[3], 0x8b);
        assert_int_equal(g.b[8], 0xaa);
        shield_guid_format(&g, s);
        assert_string_equal(s, "8be4df61-93ca-11d2-aa0d-00e098032b8c");
        assert_string_equal(shield_guid_name(&g), "EFI_GLOBAL_VARIABLE");
        assert_int_equal(shield_guid_parse("{a5c059a1-94e4-4aa7-87b5-ab155c2bf072}", &g), 0);
        assert_string_equal(shield_guid_name(&g), "EFI_CERT_X509_GUID");
        assert_int_equal(shield_guid_parse("a5c059a1-94e4-4aa7-87b5-ab155c2bf07", &g), SHIELD_E_FORMAT);
        assert_int_equal(shield_guid_parse("a5c059a1x94e4-4aa7-87b5-ab155c2bf072", &g), SHIELD_E_FORMAT);
        assert_int_equal(shield_guid_parse("g5c059a1-94e4-4aa7-87b5-ab155c2bf072", &g), SHIELD_E_FORMAT);
        assert_int_equal(shield_guid_parse("{a5c059a1-94e4-4aa7-87b5-ab155c2bf072", &g), SHIELD_E_FORMAT);
}

/* One EFI_SIGNATURE_LIST built from the spec layout. */
static size_t make_list(uint8_t *out, const shield_guid *type, uint32_t header_size, uint32_t sig_size,
                        unsigned count, uint8_t fill) {
        uint32_t list_size = 28 + header_size + sig_size * count;
        memcpy(out, type->b, 16);
        memcpy(out + 16, &list_size, 4);
        memcpy(out + 20, &header_size, 4);
        memcpy(out + 24, &sig_size, 4);
        memset(out + 28, fill, list_size - 28);
        return list_size;
}

static void test_siglist(void **state) {
        (void)state;
        uint8_t buf[512];
        struct shield_siglist l;
        struct shield_diag d;
        size_t x, h, o;

        size_t n = make_list(buf, &SHIELD_GUID_CERT_SHA256, 0, 48, 3, 0x11);
        n += make_list(buf + n, &SHIELD_GUID_CERT_X509_SHA256, 0, 64, 1, 0x22);
        assert_int_equal(shield_siglist_parse(buf, n, &l, &d), 0);
        assert_int_equal(l.n_lists, 2);
        assert_int_equal(l.n, 4);
        assert_int_equal(l.entries[1].offset, 28 + 48);
        assert_int_equal(l.entries[3].list_index, 1);
        assert_int_equal(l.entries[3].size, 48);
        shield_siglist_counts(&l, &x, &h, &o);
        assert_int_equal(x, 0);
        assert_int_equal(h, 4);
        shield_siglist_clear(&l);
        assert_int_equal(shield_siglist_parse(buf, 0, &l, &d), 0);
        assert_int_equal(l.n, 0);

        /* Each malformation is refused with the offset of the field at fault. */
        struct {
                const char *what;
                uint32_t list, header, sig;
                size_t cut, offset;
        } bad[] = {
                { "list size smaller than a header", 20, 0, 48, 0, 16 },
                { "list size past the end", 28 + 48 * 4, 0, 48, 0, 16 },
                { "header size past the body", 28 + 48, 49, 48, 0, 20 },
                { "signature size 16", 28 + 48, 0, 16, 0, 24 },
                { "signature size does not divide", 28 + 48, 0, 40, 0, 24 },
                { "truncated header", 28 + 48, 0, 48, 28 + 48 - 10, 0 },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                size_t len = make_list(buf, &SHIELD_GUID_CERT_SHA256, 0, 48, 1, 0);
                memcpy(buf + 16, &bad[i].list, 4);
                memcpy(buf + 20, &bad[i].header, 4);
                memcpy(buf + 24, &bad[i].sig, 4);
                if (bad[i].cut)
                        len = 20;
                memset(&d, 0, sizeof d);
                memset(&l, 0xaa, sizeof l);
                if (shield_siglist_parse(buf, len, &l, &d) == 0)
                        fail_msg("accepted: %s", bad[i].what);
                assert_int_equal(d.offset, bad[i].offset);
                assert_true(d.msg[0]);
        }
        /* A SHA-256 list whose entries are not 16 + 32 bytes. */
        n = make_list(buf, &SHIELD_GUID_CERT_SHA256, 0, 40, 2, 0);
        assert_int_equal(shield_siglist_parse(buf, n, &l, &d), SHIELD_E_FORMAT);
}

static int run(const char *cmd) {
        return system(cmd);
}

static void test_siglist_against_efitools(void **state) {
        (void)state;
        char dir[] = "/tmp/test-uefi-XXXXXX", cmd[1024], path[128];
        uint8_t *esl = NULL, *der = NULL;
        size_t esl_len, der_len;
        struct shield_siglist l;
        shield_guid owner;

        if (run("command -v cert-to-efi-sig-list >/dev/null && command -v openssl >/dev/null") != 0) {
                print_message("efitools or openssl missing: skipping the efitools cross-check\n");
                skip();
        }
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof cmd,
                 "cd %s && openssl req -new -x509 -newkey rsa:2048 -nodes -subj /CN=test-uefi -days 1 -keyout k.pem "
                 "-out c.pem 2>/dev/null && openssl x509 -in c.pem -outform DER -out c.der && "
                 "cert-to-efi-sig-list -g 11111111-2222-3333-4444-555555555555 c.pem c.esl >/dev/null && "
                 "printf x > f && hash-to-efi-sig-list f h.esl >/dev/null 2>&1",
                 dir);
        assert_int_equal(run(cmd), 0);
        snprintf(path, sizeof path, "%s/c.esl", dir);
        assert_int_equal(shield_read_file(path, 1 << 20, &esl, &esl_len), 0);
        snprintf(path, sizeof path, "%s/c.der", dir);
        assert_int_equal(shield_read_file(path, 1 << 20, &der, &der_len), 0);
        assert_int_equal(shield_siglist_parse(esl, esl_len, &l, NULL), 0);
        assert_int_equal(l.n, 1);
        assert_true(shield_guid_eq(&l.entries[0].type, &SHIELD_GUID_CERT_X509));
        assert_int_equal(shield_guid_parse("11111111-2222-3333-4444-555555555555", &owner), 0);
        assert_true(shield_guid_eq(&l.entries[0].owner, &owner));
        assert_int_equal(l.entries[0].size, der_len);
        assert_memory_equal(l.entries[0].data, der, der_len);
        shield_siglist_clear(&l);
        free(esl);

        snprintf(path, sizeof path, "%s/h.esl", dir);
        assert_int_equal(shield_read_file(path, 1 << 20, &esl, &esl_len), 0);
        assert_int_equal(shield_siglist_parse(esl, esl_len, &l, NULL), 0);
        assert_int_equal(l.n, 1);
        assert_true(shield_guid_eq(&l.entries[0].type, &SHIELD_GUID_CERT_SHA256));
        shield_siglist_clear(&l);
        free(esl);
        free(der);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(run(cmd), 0);
}

/* Device-path nodes from UEFI 2.10, 10.3, with their text forms from 10.6. */
static size_t node(uint8_t *p, uint8_t type, uint8_t sub, const void *body, uint16_t n) {
        uint16_t len = (uint16_t)(4 + n);
        p[0] = type;
        p[1] = sub;
        memcpy(p + 2, &len, 2);
        if (n)
                memcpy(p + 4, body, n);
        return len;
}

static size_t file_node(uint8_t *p, const char *path) {
        uint8_t body[128];
        size_t n = strlen(path);
        for (size_t i = 0; i <= n; i++) {
                body[2 * i] = (uint8_t)path[i];
                body[2 * i + 1] = 0;
        }
        return node(p, 4, 4, body, (uint16_t)(2 * n + 2));
}

static void test_devpath(void **state) {
        (void)state;
        uint8_t dp[512];
        size_t n = 0;
        char *text = NULL;
        struct shield_diag d;

        uint32_t acpi[2] = { 0x0a0341d0, 0 };
        n += node(dp + n, 2, 1, acpi, 8);
        uint8_t pci[2] = { 0, 1 }; /* function 0, device 1 */
        n += node(dp + n, 1, 1, pci, 2);
        uint8_t hd[38] = { 1 };
        uint64_t start = 0x800, size = 0x1e000;
        memcpy(hd + 4, &start, 8);
        memcpy(hd + 12, &size, 8);
        shield_guid part;
        assert_int_equal(shield_guid_parse("5ca1ab1e-0000-4000-8000-000000000002", &part), 0);
        memcpy(hd + 20, part.b, 16);
        hd[36] = 2;
        hd[37] = 2;
        n += node(dp + n, 4, 1, hd, 38);
        n += file_node(dp + n, "\\EFI\\BOOT\\BOOTX64.EFI");
        n += node(dp + n, 0x7f, 0xff, NULL, 0);
        assert_int_equal(shield_devpath_to_text(dp, n, &text, &d), 0);
        assert_string_equal(text,
                            "PciRoot(0x0)/Pci(0x1,0x0)/HD(1,GPT,5ca1ab1e-0000-4000-8000-000000000002,0x800,0x1e000)/"
                            "\\EFI\\BOOT\\BOOTX64.EFI");
        free(text);

        /* MAC + IPv4 (PXE), an unknown node, an instance break. */
        n = 0;
        uint8_t mac[33] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        mac[32] = 1;
        n += node(dp + n, 3, 11, mac, 33);
        uint8_t ip[23] = { 10, 0, 2, 15, 10, 0, 2, 2, 0, 0, 0x45, 0, 17, 0, 0 };
        n += node(dp + n, 3, 12, ip, 23);
        n += node(dp + n, 0x7f, 0x01, NULL, 0);
        n += node(dp + n, 9, 9, "ab", 2);
        n += node(dp + n, 0x7f, 0xff, NULL, 0);
        assert_int_equal(shield_devpath_to_text(dp, n, &text, &d), 0);
        assert_string_equal(text, "MAC(525400123456,0x1)/IPv4(10.0.2.2,UDP,DHCP,10.0.2.15),Path(9,9,6162)");
        free(text);

        /* A PCI node too short for its layout is printed generically, not refused. */
        n = node(dp, 1, 1, pci, 1);
        assert_int_equal(shield_devpath_to_text(dp, n, &text, &d), 0);
        assert_string_equal(text, "Path(1,1,00)");
        free(text);

        /* Lengths under 4 or past the end are refused with the offset. */
        n = node(dp, 1, 1, pci, 2);
        dp[n] = 1, dp[n + 1] = 1, dp[n + 2] = 3, dp[n + 3] = 0;
        text = (char *)0xaa;
        assert_int_equal(shield_devpath_to_text(dp, n + 4, &text, &d), SHIELD_E_FORMAT);
        assert_ptr_equal(text, (char *)0xaa);
        assert_int_equal(d.offset, n + 2);
        dp[n + 2] = 40;
        assert_int_equal(shield_devpath_to_text(dp, n + 4, &text, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_devpath_to_text(dp, n + 3, &text, &d), SHIELD_E_TRUNCATED);

        /* The node cap. */
        uint8_t *many = calloc(SHIELD_DEVPATH_NODES_MAX + 1, 6);
        for (unsigned i = 0; i <= SHIELD_DEVPATH_NODES_MAX; i++)
                node(many + 6 * i, 1, 1, pci, 2);
        assert_int_equal(shield_devpath_to_text(many, 6 * (SHIELD_DEVPATH_NODES_MAX + 1), &text, &d), SHIELD_E_LIMIT);
        free(many);
}

static void test_load_option(void **state) {
        (void)state;
        uint8_t buf[256];
        size_t n = 0;
        uint32_t attrs = 1;
        uint8_t fv[16];
        struct shield_load_option opt;
        struct shield_diag d;
        uint8_t path[64];
        size_t plen = 0;

        shield_guid g;
        assert_int_equal(shield_guid_parse("7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1", &g), 0);
        memcpy(fv, g.b, 16);
        plen += node(path + plen, 4, 7, fv, 16);
        plen += node(path + plen, 0x7f, 0xff, NULL, 0);
        memcpy(buf, &attrs, 4);
        uint16_t pl = (uint16_t)plen;
        memcpy(buf + 4, &pl, 2);
        n = 6;
        const char *desc = "UiApp";
        for (size_t i = 0; i <= strlen(desc); i++) {
                buf[n++] = (uint8_t)desc[i];
                buf[n++] = 0;
        }
        memcpy(buf + n, path, plen);
        n += plen;
        buf[n++] = 0xab; /* optional data */
        assert_int_equal(shield_load_option_parse(buf, n, &opt, &d), 0);
        assert_string_equal(opt.description, "UiApp");
        assert_string_equal(opt.device_path, "Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)");
        assert_int_equal(opt.attributes, 1);
        assert_int_equal(opt.optional_size, 1);
        shield_load_option_clear(&opt);

        /* FilePathListLength past the end; a description without its NUL. */
        assert_int_equal(shield_load_option_parse(buf, n - 2 - plen + 4, &opt, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_load_option_parse(buf, 10, &opt, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(shield_load_option_parse(buf, 5, &opt, &d), SHIELD_E_TRUNCATED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_guid),       cmocka_unit_test(test_siglist),
                cmocka_unit_test(test_siglist_against_efitools), cmocka_unit_test(test_devpath),
                cmocka_unit_test(test_load_option),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
