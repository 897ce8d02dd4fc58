/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GUIDs, EFI_SIGNATURE_LIST, device paths and load options.
 *
 * Vectors: byte layouts are built here from UEFI 2.10 (3.1.3 load options,
 * 10.3 device path nodes, 32.4.1 signature lists) and the expected text is
 * written by hand from UEFI 2.10, 10.6 and the forms edk2's
 * DevicePathToText prints. Independent oracles: efitools'
 * cert-to-efi-sig-list / hash-to-efi-sig-list with openssl and pesign
 * (skipped when missing), and Microsoft's published db/dbx/KEK updates and
 * dbx_info_msft_latest.json in $SHIELD_SHARED_DATA/uefi-ms (skipped when
 * absent).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "shield/uefi.h"
#include "shield/util.h"

/* ---- little helpers that write the spec layouts ---- */

struct buf {
        uint8_t d[8192];
        size_t n;
};

static void put_le(struct buf *b, uint64_t v, size_t n) {
        assert_true(n <= sizeof b->d - b->n);
        for (size_t i = 0; i < n; i++)
                b->d[b->n++] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0; /* wider fields are zero-filled */
}

static void put_bytes(struct buf *b, const void *p, size_t n) {
        assert_true(n <= sizeof b->d - b->n);
        if (n)
                memcpy(b->d + b->n, p, n);
        b->n += n;
}

static void put_guid(struct buf *b, const char *text) {
        shield_guid g;
        assert_int_equal(shield_guid_parse(text, &g), 0);
        put_bytes(b, g.b, 16);
}

/* ASCII into UTF-16LE with its NUL. */
static void put_utf16(struct buf *b, const char *s) {
        for (size_t i = 0; i <= strlen(s); i++)
                put_le(b, (unsigned char)s[i], 2);
}

/* A device path node: the header, then the body the caller adds; node_end() fixes the length. */
static size_t node_begin(struct buf *b, uint8_t type, uint8_t sub) {
        size_t at = b->n;
        put_le(b, type, 1);
        put_le(b, sub, 1);
        put_le(b, 0, 2);
        return at;
}

static void node_end(struct buf *b, size_t at) {
        size_t len = b->n - at;
        b->d[at + 2] = (uint8_t)len;
        b->d[at + 3] = (uint8_t)(len >> 8);
}

static void end_entire(struct buf *b) {
        node_end(b, node_begin(b, 0x7f, 0xff));
}

static void end_instance(struct buf *b) {
        node_end(b, node_begin(b, 0x7f, 0x01));
}

static void pci_root(struct buf *b, uint32_t uid) {
        size_t at = node_begin(b, 2, 1);
        put_le(b, 0x0a0341d0, 4); /* EISA "PNP0A03" */
        put_le(b, uid, 4);
        node_end(b, at);
}

static void pci(struct buf *b, uint8_t device, uint8_t function) {
        size_t at = node_begin(b, 1, 1);
        put_le(b, function, 1);
        put_le(b, device, 1);
        node_end(b, at);
}

static void hd_gpt(struct buf *b, uint32_t part, uint64_t start, uint64_t size, const char *guid) {
        size_t at = node_begin(b, 4, 1);
        put_le(b, part, 4);
        put_le(b, start, 8);
        put_le(b, size, 8);
        put_guid(b, guid);
        put_le(b, 2, 1); /* PartitionFormat: GPT */
        put_le(b, 2, 1); /* SignatureType: GUID */
        node_end(b, at);
}

static void file_path(struct buf *b, const char *path) {
        size_t at = node_begin(b, 4, 4);
        put_utf16(b, path);
        node_end(b, at);
}

static void guid_node(struct buf *b, uint8_t type, uint8_t sub, const char *guid) {
        size_t at = node_begin(b, type, sub);
        put_guid(b, guid);
        node_end(b, at);
}

static void mac(struct buf *b, const uint8_t addr[6]) {
        size_t at = node_begin(b, 3, 11);
        uint8_t field[32] = { 0 };
        memcpy(field, addr, 6);
        put_bytes(b, field, 32);
        put_le(b, 1, 1); /* IfType: Ethernet */
        node_end(b, at);
}

static void expect_text(const struct buf *b, const char *want) {
        char *text = NULL;
        struct shield_diag d = { 0 };
        int r = shield_devpath_to_text(b->d, b->n, &text, &d);
        if (r != 0)
                fail_msg("devpath refused (%d): %s at 0x%zx", r, d.msg, d.offset);
        assert_string_equal(text, want);
        free(text);
}

/* ---- GUIDs ---- */

static void test_guid(void **state) {
        (void)state;
        shield_guid g;
        char s[SHIELD_GUID_STRING_SIZE];

        assert_int_equal(shield_guid_parse("8BE4DF61-93CA-11D2-AA0D-00E098032B8C", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_GLOBAL_VARIABLE));
        /* Wire order: the first three fields little-endian (UEFI 2.10, Appendix A). */
        static const uint8_t wire[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                          0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
        assert_memory_equal(g.b, wire, 16);
        shield_guid_format(&g, s);
        assert_string_equal(s, "8be4df61-93ca-11d2-aa0d-00e098032b8c");
        assert_int_equal(shield_guid_parse("{a5c059a1-94e4-4aa7-87b5-ab155c2bf072}", &g), 0);
        assert_true(shield_guid_eq(&g, &SHIELD_GUID_CERT_X509));
        assert_false(shield_guid_eq(&g, &SHIELD_GUID_CERT_SHA256));

        static const char *const bad[] = {
                "", "a5c059a1-94e4-4aa7-87b5-ab155c2bf07", "a5c059a1x94e4-4aa7-87b5-ab155c2bf072",
                "g5c059a1-94e4-4aa7-87b5-ab155c2bf072", "{a5c059a1-94e4-4aa7-87b5-ab155c2bf072",
                "a5c059a1-94e4-4aa7-87b5-ab155c2bf072}", "a5c059a1-94e4-4aa7-87b5-ab155c2bf0720",
                "a5c059a1-94e4-4aa787b5-ab155c2bf0720", " a5c059a1-94e4-4aa7-87b5-ab155c2bf072",
        };
        memset(&g, 0xaa, sizeof g);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (shield_guid_parse(bad[i], &g) != SHIELD_E_FORMAT)
                        fail_msg("accepted \"%s\"", bad[i]);
        for (size_t i = 0; i < 16; i++)
                assert_int_equal(g.b[i], 0xaa);
        assert_int_equal(shield_guid_parse(NULL, &g), SHIELD_E_INVAL);

        /* The public constants are the values their comments (and the spec) give. */
        static const struct {
                const shield_guid *g;
                const char *text;
        } constants[] = {
                { &SHIELD_GUID_GLOBAL_VARIABLE, "8be4df61-93ca-11d2-aa0d-00e098032b8c" },
                { &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "d719b2cb-3d3a-4596-a3bc-dad00e67656f" },
                { &SHIELD_GUID_SHIM_LOCK, "605dab50-e046-4300-abb6-3dd810dd8b23" },
                { &SHIELD_GUID_CERT_X509, "a5c059a1-94e4-4aa7-87b5-ab155c2bf072" },
                { &SHIELD_GUID_CERT_SHA1, "826ca512-cf10-4ac9-b187-be01496631bd" },
                { &SHIELD_GUID_CERT_SHA256, "c1c41626-504c-4092-aca9-41f936934328" },
                { &SHIELD_GUID_CERT_SHA384, "ff3e5307-9fd0-48c9-85f1-8ad56c701e01" },
                { &SHIELD_GUID_CERT_SHA512, "093e0fae-a6c4-4f50-9f1b-d41e2b89c19a" },
                { &SHIELD_GUID_CERT_X509_SHA256, "3bd2a492-96c0-4079-b420-fcf98ef103ed" },
                { &SHIELD_GUID_CERT_X509_SHA384, "7076876e-80c2-4ee6-aad2-28b349a6865b" },
                { &SHIELD_GUID_CERT_X509_SHA512, "446dbf63-2502-4cda-bcfa-2465d2b0fe9d" },
                { &SHIELD_GUID_CERT_TYPE_PKCS7, "4aafd29d-68df-49ee-8aa9-347d375665a7" },
        };
        for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
                shield_guid_format(constants[i].g, s);
                assert_string_equal(s, constants[i].text);
        }

        /* Names, with the GUID text from UEFI 2.10 (3.3, 32.4.1, 32.2.4), shim and edk2. */
        static const struct {
                const char *text, *name;
        } names[] = {
                { "8be4df61-93ca-11d2-aa0d-00e098032b8c", "EFI_GLOBAL_VARIABLE" },
                { "d719b2cb-3d3a-4596-a3bc-dad00e67656f", "EFI_IMAGE_SECURITY_DATABASE_GUID" },
                { "605dab50-e046-4300-abb6-3dd810dd8b23", "SHIM_LOCK_GUID" },
                { "a5c059a1-94e4-4aa7-87b5-ab155c2bf072", "EFI_CERT_X509_GUID" },
                { "826ca512-cf10-4ac9-b187-be01496631bd", "EFI_CERT_SHA1_GUID" },
                { "0b6e5233-a65c-44c9-9407-d9ab83bfc8bd", "EFI_CERT_SHA224_GUID" },
                { "c1c41626-504c-4092-aca9-41f936934328", "EFI_CERT_SHA256_GUID" },
                { "ff3e5307-9fd0-48c9-85f1-8ad56c701e01", "EFI_CERT_SHA384_GUID" },
                { "093e0fae-a6c4-4f50-9f1b-d41e2b89c19a", "EFI_CERT_SHA512_GUID" },
                { "3c5766e8-269c-4e34-aa14-ed776e85b3b6", "EFI_CERT_RSA2048_GUID" },
                { "67f8444f-8743-48f1-a328-1eaab8736080", "EFI_CERT_RSA2048_SHA1_GUID" },
                { "e2b36190-879b-4a3d-ad8d-f2e7bba32784", "EFI_CERT_RSA2048_SHA256_GUID" },
                { "3bd2a492-96c0-4079-b420-fcf98ef103ed", "EFI_CERT_X509_SHA256_GUID" },
                { "7076876e-80c2-4ee6-aad2-28b349a6865b", "EFI_CERT_X509_SHA384_GUID" },
                { "446dbf63-2502-4cda-bcfa-2465d2b0fe9d", "EFI_CERT_X509_SHA512_GUID" },
                { "4aafd29d-68df-49ee-8aa9-347d375665a7", "EFI_CERT_TYPE_PKCS7_GUID" },
                { "77fa9abd-0359-4d32-bd60-28f4e78f784b", "MICROSOFT_SIGNATURE_OWNER" },
                { "8868e871-e4f1-11d3-bc22-0080c73c8881", "EFI_ACPI_20_TABLE_GUID" },
                { "f2fd1544-9794-4a2c-992e-e5bbcf20e394", "SMBIOS3_TABLE_GUID" },
                { "462caa21-7614-4503-836e-8ab6f4662331", "UiApp" },
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                assert_int_equal(shield_guid_parse(names[i].text, &g), 0);
                const char *n = shield_guid_name(&g);
                if (!n || strcmp(n, names[i].name) != 0)
                        fail_msg("%s is named %s, not %s", names[i].text, n ? n : "(nothing)", names[i].name);
        }
        assert_int_equal(shield_guid_parse("11111111-2222-3333-4444-555555555555", &g), 0);
        assert_null(shield_guid_name(&g));
}

/* ---- signature lists ---- */

/* One EFI_SIGNATURE_LIST (UEFI 2.10, 32.4.1) with count entries of fill bytes. */
static void esl(struct buf *b, const char *type, uint32_t header_size, uint32_t sig_size, unsigned count,
                uint8_t fill) {
        put_guid(b, type);
        put_le(b, 28 + header_size + (uint64_t)sig_size * count, 4);
        put_le(b, header_size, 4);
        put_le(b, sig_size, 4);
        for (size_t i = 0; i < header_size + (size_t)sig_size * count; i++)
                put_le(b, fill, 1);
}

#define T_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define T_SHA256 "c1c41626-504c-4092-aca9-41f936934328"
#define T_SHA1 "826ca512-cf10-4ac9-b187-be01496631bd"
#define T_X509_SHA256 "3bd2a492-96c0-4079-b420-fcf98ef103ed"
#define T_RSA2048_SHA256 "e2b36190-879b-4a3d-ad8d-f2e7bba32784"
#define T_RSA2048 "3c5766e8-269c-4e34-aa14-ed776e85b3b6"
#define T_UNKNOWN "11111111-2222-3333-4444-555555555555"

static void test_siglist_parse(void **state) {
        (void)state;
        static struct buf b;
        struct shield_siglist l;
        struct shield_diag d;
        size_t x, h, o;

        b.n = 0;
        esl(&b, T_SHA256, 0, 48, 3, 0x11);
        esl(&b, T_X509_SHA256, 0, 64, 1, 0x22);
        esl(&b, T_X509, 4, 16 + 5, 2, 0x33); /* a header and odd-sized certificates are allowed */
        esl(&b, T_RSA2048_SHA256, 0, 16 + 256, 1, 0x44);
        esl(&b, T_RSA2048, 0, 16 + 256, 1, 0x55);
        esl(&b, T_UNKNOWN, 0, 17, 2, 0x66);
        esl(&b, T_SHA1, 0, 36, 0, 0); /* an empty list */
        assert_int_equal(shield_siglist_parse(b.d, b.n, &l, &d), 0);
        assert_int_equal(l.n_lists, 7);
        assert_int_equal(l.n, 10);
        assert_int_equal(l.entries[0].offset, 28);
        assert_int_equal(l.entries[1].offset, 28 + 48);
        assert_int_equal(l.entries[1].size, 32);
        assert_ptr_equal(l.entries[1].data, b.d + 28 + 48 + 16);
        assert_int_equal(l.entries[3].list_index, 1);
        assert_int_equal(l.entries[3].size, 48);
        size_t third = 2 * 28 + 3 * 48 + 64;
        assert_int_equal(l.entries[4].offset, third + 28 + 4);
        assert_int_equal(l.entries[5].offset, third + 28 + 4 + 21);
        assert_int_equal(l.entries[5].size, 5);
        assert_int_equal(l.entries[5].owner.b[0], 0x33);
        assert_true(shield_guid_eq(&l.entries[5].type, &SHIELD_GUID_CERT_X509));
        shield_siglist_counts(&l, &x, &h, &o);
        assert_int_equal(x, 2);
        assert_int_equal(h, 5); /* 3 SHA-256, 1 X509_SHA256, 1 RSA2048_SHA256 */
        assert_int_equal(o, 3); /* 1 RSA2048 key, 2 unknown */
        shield_siglist_counts(&l, NULL, NULL, NULL);
        shield_siglist_clear(&l);
        assert_null(l.entries);
        shield_siglist_clear(NULL);

        assert_int_equal(shield_siglist_parse(NULL, 0, &l, &d), 0);
        assert_int_equal(l.n, 0);
        assert_int_equal(l.n_lists, 0);
        shield_siglist_clear(&l);
        assert_int_equal(shield_siglist_parse(NULL, 1, &l, &d), SHIELD_E_INVAL);
        assert_int_equal(shield_siglist_parse(b.d, b.n, NULL, &d), SHIELD_E_INVAL);
}

struct bad_list {
        const char *what, *type;
        uint32_t list, header, sig;
        size_t body; /* bytes after the 28-byte header */
        size_t len;  /* bytes given to the parser; 0: the whole list */
        int code;
        size_t offset;
};

static void check_bad_list(const struct bad_list *t, size_t prefix) {
        static struct buf b;
        struct shield_siglist l;
        struct shield_diag d;

        b.n = 0;
        if (prefix)
                esl(&b, T_SHA256, 0, 48, 1, 0x77); /* a good list first: the error names list 1 */
        size_t at = b.n;
        esl(&b, t->type, 0, 1, (unsigned)t->body, 0);
        b.d[at + 16] = (uint8_t)t->list, b.d[at + 17] = (uint8_t)(t->list >> 8);
        b.d[at + 18] = (uint8_t)(t->list >> 16), b.d[at + 19] = (uint8_t)(t->list >> 24);
        b.d[at + 20] = (uint8_t)t->header, b.d[at + 24] = (uint8_t)t->sig;
        memset(b.d + at + 21, 0, 3);
        memset(b.d + at + 25, 0, 3);
        memset(&d, 0, sizeof d);
        memset(&l, 0xaa, sizeof l);
        int r = shield_siglist_parse(b.d, t->len ? at + t->len : b.n, &l, &d);
        if (r != t->code)
                fail_msg("%s: got %d, want %d (%s)", t->what, r, t->code, d.msg);
        assert_int_equal(d.offset, at + t->offset);
        assert_int_equal(d.index, prefix ? 1 : 0);
        assert_true(d.msg[0]);
        const uint8_t *p = (const uint8_t *)&l;
        for (size_t i = 0; i < sizeof l; i++)
                assert_int_equal(p[i], 0xaa); /* outputs are written only on success */
}

static void test_siglist_errors(void **state) {
        (void)state;
        static const struct bad_list bad[] = {
                { "truncated header", T_SHA256, 76, 0, 48, 48, 20, SHIELD_E_TRUNCATED, 0 },
                { "list size smaller than a header", T_SHA256, 20, 0, 48, 48, 0, SHIELD_E_FORMAT, 16 },
                { "list size past the end", T_SHA256, 28 + 48 * 4, 0, 48, 48, 0, SHIELD_E_FORMAT, 16 },
                { "list size past the end by one", T_SHA256, 28 + 48 + 1, 0, 48, 48, 0, SHIELD_E_FORMAT, 16 },
                { "list size of 4 GiB", T_SHA256, 0xffffffffu, 0, 48, 48, 0, SHIELD_E_FORMAT, 16 },
                { "header size past the body", T_SHA256, 28 + 48, 49, 48, 48, 0, SHIELD_E_FORMAT, 20 },
                { "signature size 0", T_UNKNOWN, 28 + 48, 0, 0, 48, 0, SHIELD_E_FORMAT, 24 },
                { "signature size 16 (owner only)", T_UNKNOWN, 28 + 48, 0, 16, 48, 0, SHIELD_E_FORMAT, 24 },
                { "signature size does not divide", T_UNKNOWN, 28 + 48, 0, 40, 48, 0, SHIELD_E_FORMAT, 24 },
                { "header leaves a part entry", T_SHA256, 28 + 48, 8, 48, 48, 0, SHIELD_E_FORMAT, 24 },
                { "SHA-256 list with 40-byte entries", T_SHA256, 28 + 80, 0, 40, 80, 0, SHIELD_E_FORMAT, 24 },
                { "SHA-1 list with 48-byte entries", T_SHA1, 28 + 48, 0, 48, 48, 0, SHIELD_E_FORMAT, 24 },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                check_bad_list(&bad[i], 0);
                check_bad_list(&bad[i], 1);
        }
}

static void test_siglist_cap(void **state) {
        (void)state;
        /* SHIELD_SIGLIST_ENTRIES_MAX entries of 17 bytes pass; one more, even in a second list, does not. */
        size_t body = (size_t)SHIELD_SIGLIST_ENTRIES_MAX * 17;
        size_t len = 28 + body + 28 + 17;
        uint8_t *p = calloc(1, len);
        struct shield_siglist l;
        struct shield_diag d;
        shield_guid t;

        assert_non_null(p);
        assert_int_equal(shield_guid_parse(T_UNKNOWN, &t), 0);
        memcpy(p, t.b, 16);
        uint32_t v[3] = { (uint32_t)(28 + body), 0, 17 };
        for (int i = 0; i < 3; i++)
                for (int k = 0; k < 4; k++)
                        p[16 + 4 * i + k] = (uint8_t)(v[i] >> (8 * k));
        memcpy(p + 28 + body, p, 28);
        p[28 + body + 16] = 28 + 17, p[28 + body + 17] = 0, p[28 + body + 18] = 0, p[28 + body + 19] = 0;

        assert_int_equal(shield_siglist_parse(p, 28 + body, &l, &d), 0);
        assert_int_equal(l.n, SHIELD_SIGLIST_ENTRIES_MAX);
        shield_siglist_clear(&l);
        assert_int_equal(shield_siglist_parse(p, len, &l, &d), SHIELD_E_LIMIT);
        assert_int_equal(d.offset, 28 + body);
        assert_int_equal(d.index, 1);
        free(p);
}

static int run(const char *cmd) {
        return system(cmd);
}

static void read_in(const char *dir, const char *name, uint8_t **ret, size_t *ret_len) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        assert_int_equal(shield_read_file(path, 1 << 22, ret, ret_len), 0);
}

static void test_siglist_efitools(void **state) {
        (void)state;
        char dir[] = "/tmp/test-uefi-XXXXXX", cmd[2048];
        uint8_t *esl_bytes = NULL, *der = NULL, *hash_text = NULL;
        size_t esl_len, der_len, hash_len;
        struct shield_siglist l;
        shield_guid owner;
        size_t x, h, o;

        if (run("command -v cert-to-efi-sig-list >/dev/null && command -v openssl >/dev/null") != 0) {
                print_message("efitools or openssl missing: skipping the efitools cross-check\n");
                skip();
        }
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof cmd,
                 "cd %s && openssl req -new -x509 -newkey rsa:2048 -nodes -subj /CN=test-uefi -days 1 -keyout k.pem "
                 "-out c.pem 2>/dev/null && openssl x509 -in c.pem -outform DER -out c.der && "
                 "cert-to-efi-sig-list -g 11111111-2222-3333-4444-555555555555 c.pem c.esl >/dev/null",
                 dir);
        assert_int_equal(run(cmd), 0);
        read_in(dir, "c.esl", &esl_bytes, &esl_len);
        read_in(dir, "c.der", &der, &der_len);
        assert_int_equal(shield_siglist_parse(esl_bytes, esl_len, &l, NULL), 0);
        assert_int_equal(l.n_lists, 1);
        assert_int_equal(l.n, 1);
        assert_true(shield_guid_eq(&l.entries[0].type, &SHIELD_GUID_CERT_X509));
        assert_int_equal(shield_guid_parse("11111111-2222-3333-4444-555555555555", &owner), 0);
        assert_true(shield_guid_eq(&l.entries[0].owner, &owner));
        assert_int_equal(l.entries[0].offset, 28);
        assert_int_equal(l.entries[0].size, der_len);
        assert_memory_equal(l.entries[0].data, der, der_len);
        shield_siglist_counts(&l, &x, &h, &o);
        assert_int_equal(x, 1);
        assert_int_equal(h + o, 0);
        shield_siglist_clear(&l);
        free(esl_bytes);
        free(der);

        /* hash-to-efi-sig-list needs a PE image; pesign computes the same Authenticode hash independently. */
        const char *pe = "/usr/lib/efitools/x86_64-linux-gnu/HelloWorld.efi";
        if (access(pe, R_OK) == 0 && run("command -v pesign >/dev/null && command -v hash-to-efi-sig-list >/dev/null") == 0) {
                snprintf(cmd, sizeof cmd,
                         "cd %s && hash-to-efi-sig-list %s h.esl >/dev/null && "
                         "pesign -h -i %s | sed -n 's/^hash: //p' | tr -d '\\n' > h.txt",
                         dir, pe, pe);
                assert_int_equal(run(cmd), 0);
                read_in(dir, "h.esl", &esl_bytes, &esl_len);
                read_in(dir, "h.txt", &hash_text, &hash_len);
                assert_int_equal(shield_siglist_parse(esl_bytes, esl_len, &l, NULL), 0);
                assert_int_equal(l.n, 1);
                assert_true(shield_guid_eq(&l.entries[0].type, &SHIELD_GUID_CERT_SHA256));
                assert_int_equal(l.entries[0].size, 32);
                char hex[65];
                shield_hex_encode(l.entries[0].data, 32, hex);
                assert_string_equal(hex, (const char *)hash_text);
                shield_siglist_counts(&l, &x, &h, &o);
                assert_int_equal(h, 1);
                shield_siglist_clear(&l);
                free(esl_bytes);
                free(hash_text);
        } else {
                print_message("no PE image or pesign: skipping the hash-to-efi-sig-list check\n");
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(run(cmd), 0);
}

/* ---- Microsoft's published updates ---- */

static const char *shared_dir(void) {
        const char *s = getenv("SHIELD_SHARED_DATA");
        static char path[512];
        if (!s)
                return NULL;
        snprintf(path, sizeof path, "%s/uefi-ms", s);
        return access(path, R_OK) == 0 ? path : NULL;
}

/*
 * The signature lists inside a signed update: skip EFI_TIME (16 bytes) and
 * the WIN_CERTIFICATE whose dwLength (UEFI 2.10, 8.2.2 and 32.2.4) covers
 * its own header and the PKCS#7 blob. Deliberately not authvar.c: this test
 * checks the signature-list parser alone.
 */
static void parse_update(const uint8_t *buf, size_t len, struct shield_siglist *l) {
        assert_true(len > 24);
        uint32_t dw = (uint32_t)buf[16] | (uint32_t)buf[17] << 8 | (uint32_t)buf[18] << 16 | (uint32_t)buf[19] << 24;
        assert_int_equal(buf[20] | buf[21] << 8, 0x0200);
        assert_int_equal(buf[22] | buf[23] << 8, 0x0ef1);
        assert_true(dw <= len - 16);
        struct shield_diag d = { 0 };
        int r = shield_siglist_parse(buf + 16 + dw, len - 16 - dw, l, &d);
        if (r != 0)
                fail_msg("refused: %s at 0x%zx", d.msg, d.offset);
        assert_true(l->n > 0);
}

static void check_contains_cert(const char *dir, const char *update, const char *cert) {
        uint8_t *buf, *der;
        size_t len, der_len;
        struct shield_siglist l;
        bool found = false;

        read_in(dir, update, &buf, &len);
        read_in(dir, cert, &der, &der_len);
        parse_update(buf, len, &l);
        for (size_t i = 0; i < l.n; i++)
                if (shield_guid_eq(&l.entries[i].type, &SHIELD_GUID_CERT_X509) && l.entries[i].size == der_len &&
                    memcmp(l.entries[i].data, der, der_len) == 0) {
                        assert_string_equal(shield_guid_name(&l.entries[i].owner), "MICROSOFT_SIGNATURE_OWNER");
                        found = true;
                }
        if (!found)
                fail_msg("%s does not hold %s", update, cert);
        shield_siglist_clear(&l);
        free(buf);
        free(der);
}

/* Every SHA-256 entry of the update is one of json[key][*][field], and the counts agree. */
static void check_hashes(const char *dir, const char *update, json_t *list, const char *field) {
        uint8_t *buf;
        size_t len, n = 0;
        struct shield_siglist l;

        read_in(dir, update, &buf, &len);
        parse_update(buf, len, &l);
        for (size_t i = 0; i < l.n; i++) {
                if (!shield_guid_eq(&l.entries[i].type, &SHIELD_GUID_CERT_SHA256))
                        continue;
                char hex[65];
                bool found = false;
                shield_hex_encode(l.entries[i].data, 32, hex);
                for (size_t k = 0; k < json_array_size(list) && !found; k++)
                        found = strcasecmp(json_string_value(json_object_get(json_array_get(list, k), field)), hex) == 0;
                if (!found)
                        fail_msg("%s: hash %s is not in dbx_info_msft_latest.json", update, hex);
                n++;
        }
        assert_int_equal(n, json_array_size(list));
        shield_siglist_clear(&l);
        free(buf);
}

static void test_siglist_microsoft(void **state) {
        (void)state;
        const char *dir = shared_dir();
        static const char *const subdirs[] = { "db", "dbx", "kek", "revocationlist" };
        char path[1024];
        unsigned files = 0;

        if (!dir) {
                print_message("SHIELD_SHARED_DATA/uefi-ms absent: skipping the Microsoft update check\n");
                skip();
        }
        /* Every published update parses to its last byte. */
        for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
                snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
                DIR *dp = opendir(path);
                assert_non_null(dp);
                for (struct dirent *de; (de = readdir(dp));) {
                        size_t nl = strlen(de->d_name);
                        if (nl < 4 || strcmp(de->d_name + nl - 4, ".bin") != 0)
                                continue;
                        uint8_t *buf;
                        size_t len;
                        struct shield_siglist l;
                        read_in(path, de->d_name, &buf, &len);
                        parse_update(buf, len, &l);
                        shield_siglist_clear(&l);
                        free(buf);
                        files++;
                }
                closedir(dp);
        }
        assert_true(files >= 10);

        /* The certificates Microsoft publishes separately are the ones inside the updates. */
        check_contains_cert(dir, "db/DBUpdate2024.bin", "certs/windows-uefi-ca-2023.der");
        check_contains_cert(dir, "db/DBUpdate3P2023.bin", "certs/microsoft-uefi-ca-2023.der");
        check_contains_cert(dir, "db/DBUpdateOROM2023.bin", "certs/microsoft-option-rom-uefi-ca-2023.der");
        check_contains_cert(dir, "kek/KEKUpdate_Dell_PK1.bin", "certs/microsoft-corporation-kek-2k-ca-2023.der");
        check_contains_cert(dir, "dbx/DBXUpdate2024-optional.bin", "certs/MicWinProPCA2011_2011-10-19.der");

        /* Microsoft's dbx JSON lists the same image hashes and SVN entries as the binaries. */
        snprintf(path, sizeof path, "%s/dbx/dbx_info_msft_latest.json", dir);
        json_error_t err;
        json_t *j = json_load_file(path, 0, &err);
        assert_non_null(j);
        json_t *images = json_object_get(j, "images");
        check_hashes(dir, "dbx/DBXUpdate-amd64.bin", json_object_get(images, "x64"), "authenticodeHash");
        check_hashes(dir, "dbx/DBXUpdate-arm64.bin", json_object_get(images, "aarch64"), "authenticodeHash");
        check_hashes(dir, "dbx/DBXUpdate-arm.bin", json_object_get(images, "arm"), "authenticodeHash");
        check_hashes(dir, "dbx/DBXUpdateSVN-optional.bin", json_object_get(j, "svns"), "value");
        json_decref(j);
}

/* ---- device paths ---- */

static void test_devpath_disks(void **state) {
        (void)state;
        static struct buf b;
        size_t at;

        /* An NVMe boot disk as OVMF or a laptop reports it. */
        b.n = 0;
        pci_root(&b, 0);
        pci(&b, 0x1, 0x0);
        pci(&b, 0x0, 0x0);
        at = node_begin(&b, 3, 23); /* NVMe namespace: NSID, EUI-64 least significant byte first */
        put_le(&b, 1, 4);
        put_le(&b, 0x0807060504030201ull, 8);
        node_end(&b, at);
        hd_gpt(&b, 1, 0x800, 0x100000, "5ca1ab1e-0000-4000-8000-000000000002");
        file_path(&b, "\\EFI\\BOOT\\BOOTX64.EFI");
        end_entire(&b);
        expect_text(&b, "PciRoot(0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/NVMe(0x1,08-07-06-05-04-03-02-01)/"
                        "HD(1,GPT,5ca1ab1e-0000-4000-8000-000000000002,0x800,0x100000)/\\EFI\\BOOT\\BOOTX64.EFI");

        /* A SATA disk with an MBR partition, shim's path. */
        b.n = 0;
        pci_root(&b, 0);
        pci(&b, 0x1f, 0x2);
        at = node_begin(&b, 3, 18);
        put_le(&b, 0, 2);
        put_le(&b, 0xffff, 2); /* no port multiplier */
        put_le(&b, 0, 2);
        node_end(&b, at);
        at = node_begin(&b, 4, 1);
        put_le(&b, 2, 4);
        put_le(&b, 0x1000, 8);
        put_le(&b, 0x2000, 8);
        put_le(&b, 0x12345678, 4); /* MBR disk signature, then 12 zero bytes */
        put_le(&b, 0, 8);
        put_le(&b, 0, 4);
        put_le(&b, 1, 1);
        put_le(&b, 1, 1);
        node_end(&b, at);
        file_path(&b, "\\EFI\\ubuntu\\shimx64.efi");
        end_entire(&b);
        expect_text(&b, "PciRoot(0x0)/Pci(0x1f,0x2)/Sata(0x0,0xffff,0x0)/HD(2,MBR,0x12345678,0x1000,0x2000)/"
                        "\\EFI\\ubuntu\\shimx64.efi");

        /* SCSI, USB, SD, eMMC, CD-ROM, ATAPI and a logical unit. */
        b.n = 0;
        at = node_begin(&b, 3, 2);
        put_le(&b, 0, 2);
        put_le(&b, 1, 2);
        node_end(&b, at);
        at = node_begin(&b, 3, 5);
        put_le(&b, 3, 1);
        put_le(&b, 0, 1);
        node_end(&b, at);
        at = node_begin(&b, 3, 26);
        put_le(&b, 0, 1);
        node_end(&b, at);
        at = node_begin(&b, 3, 29);
        put_le(&b, 1, 1);
        node_end(&b, at);
        at = node_begin(&b, 4, 2);
        put_le(&b, 1, 4);
        put_le(&b, 0x10, 8);
        put_le(&b, 0x20, 8);
        node_end(&b, at);
        at = node_begin(&b, 3, 1);
        put_le(&b, 1, 1);
        put_le(&b, 0, 1);
        put_le(&b, 0, 2);
        node_end(&b, at);
        at = node_begin(&b, 3, 17);
        put_le(&b, 2, 1);
        node_end(&b, at);
        at = node_begin(&b, 3, 25);
        put_le(&b, 0, 1);
        put_le(&b, 1, 1);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "Scsi(0x0,0x1)/USB(0x3,0x0)/SD(0x0)/eMMC(0x1)/CDROM(0x1,0x10,0x20)/Ata(Secondary,Master,0x0)/"
                        "Unit(0x2)/UFS(0x0,0x1)");
}

static void test_devpath_network(void **state) {
        (void)state;
        static const uint8_t addr[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        static struct buf b;
        size_t at;

        /* OVMF's "UEFI PXEv4" option: a 27-byte IPv4 node, all zero. */
        b.n = 0;
        pci_root(&b, 0);
        pci(&b, 0x3, 0x0);
        mac(&b, addr);
        at = node_begin(&b, 3, 12);
        put_le(&b, 0, 23);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "PciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,0x1)/IPv4(0.0.0.0,0x0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0)");

        /* HTTP boot: a filled IPv4 node then a URI; a 19-byte (UEFI 2.0) IPv4 node has no gateway. */
        b.n = 0;
        mac(&b, addr);
        at = node_begin(&b, 3, 12);
        put_bytes(&b, (const uint8_t[]){ 10, 0, 2, 15, 10, 0, 2, 2 }, 8);
        put_le(&b, 68, 2);
        put_le(&b, 67, 2);
        put_le(&b, 17, 2); /* UDP */
        put_le(&b, 1, 1);  /* static */
        put_bytes(&b, (const uint8_t[]){ 10, 0, 2, 1, 255, 255, 255, 0 }, 8);
        node_end(&b, at);
        at = node_begin(&b, 3, 24);
        put_bytes(&b, "http://10.0.2.2/boot.efi", 24);
        node_end(&b, at);
        at = node_begin(&b, 3, 12);
        put_bytes(&b, (const uint8_t[]){ 10, 0, 2, 15, 10, 0, 2, 2 }, 8);
        put_le(&b, 0, 2);
        put_le(&b, 0, 2);
        put_le(&b, 6, 2); /* TCP */
        put_le(&b, 0, 1);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "MAC(525400123456,0x1)/IPv4(10.0.2.2,UDP,Static,10.0.2.15,10.0.2.1,255.255.255.0)/"
                        "Uri(http://10.0.2.2/boot.efi)/IPv4(10.0.2.2,TCP,DHCP,10.0.2.15)");

        /* IPv6 (60-byte node), VLAN, DNS. */
        b.n = 0;
        at = node_begin(&b, 3, 20);
        put_le(&b, 100, 2);
        node_end(&b, at);
        at = node_begin(&b, 3, 13);
        put_bytes(&b, (const uint8_t[]){ 0xfe, 0x80, [15] = 0x02 }, 16);
        put_bytes(&b, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 }, 16);
        put_le(&b, 0, 2);
        put_le(&b, 0, 2);
        put_le(&b, 6, 2);
        put_le(&b, 1, 1);  /* stateless autoconfiguration */
        put_le(&b, 64, 1); /* prefix length */
        put_bytes(&b, (const uint8_t[]){ 0xfe, 0x80, [15] = 0x01 }, 16);
        node_end(&b, at);
        at = node_begin(&b, 3, 31);
        put_le(&b, 0, 1);
        put_bytes(&b, (const uint8_t[]){ 10, 0, 2, 3, [15] = 0 }, 16);
        put_bytes(&b, (const uint8_t[]){ 8, 8, 8, 8, [15] = 0 }, 16);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "Vlan(100)/IPv6(2001:0db8:0000:0000:0000:0000:0000:0001,TCP,StatelessAutoConfigure,"
                        "fe80:0000:0000:0000:0000:0000:0000:0002,0x40,fe80:0000:0000:0000:0000:0000:0000:0001)/"
                        "Dns(10.0.2.3,8.8.8.8)");
}

static void test_devpath_firmware(void **state) {
        (void)state;
        static struct buf b;
        size_t at;

        /* OVMF's UiApp and Shell boot options. */
        b.n = 0;
        guid_node(&b, 4, 7, "7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1");
        guid_node(&b, 4, 6, "462caa21-7614-4503-836e-8ab6f4662331");
        end_entire(&b);
        expect_text(&b, "Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)");

        b.n = 0;
        at = node_begin(&b, 1, 3);
        put_le(&b, 0xb, 4); /* EfiMemoryMappedIO */
        put_le(&b, 0x900000, 8);
        put_le(&b, 0x9fffff, 8);
        node_end(&b, at);
        guid_node(&b, 4, 6, "7c04a583-9e3e-4f1c-ad65-e05268d0b4d1");
        end_entire(&b);
        expect_text(&b, "MemoryMapped(0xb,0x900000,0x9fffff)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)");

        /* Vendor nodes with and without data (virtio-mmio, the Linux initrd), an offset range, a RAM disk. */
        b.n = 0;
        at = node_begin(&b, 1, 4);
        put_guid(&b, "837dca9e-e874-4d82-b29a-23fe0e23d1e2");
        put_le(&b, 0x0a000000, 8);
        node_end(&b, at);
        guid_node(&b, 4, 3, "5568e427-68fc-4f3d-ac74-ca555231cc68");
        guid_node(&b, 3, 10, "e0c14753-f9be-11d2-9a0c-0090273fc14d");
        at = node_begin(&b, 4, 8);
        put_le(&b, 0, 4);
        put_le(&b, 0x200, 8);
        put_le(&b, 0xfff, 8);
        node_end(&b, at);
        at = node_begin(&b, 4, 9);
        put_le(&b, 0x1000, 8);
        put_le(&b, 0x1fff, 8);
        put_guid(&b, "77ab535a-45fc-624b-5560-f7b281d1f96e");
        put_le(&b, 0, 2);
        node_end(&b, at);
        guid_node(&b, 4, 5, "964e5b22-6459-11d2-8e39-00a0c969723b");
        at = node_begin(&b, 1, 5);
        put_le(&b, 0, 4);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "VenHw(837dca9e-e874-4d82-b29a-23fe0e23d1e2,0000000a00000000)/"
                        "VenMedia(5568e427-68fc-4f3d-ac74-ca555231cc68)/VenMsg(e0c14753-f9be-11d2-9a0c-0090273fc14d)/"
                        "Offset(0x200,0xfff)/RamDisk(0x1000,0x1fff,0,77ab535a-45fc-624b-5560-f7b281d1f96e)/"
                        "Media(964e5b22-6459-11d2-8e39-00a0c969723b)/Ctrl(0x0)");

        /* A legacy BBS option. */
        b.n = 0;
        at = node_begin(&b, 5, 1);
        put_le(&b, 2, 2); /* BBS_TYPE_HARDDRIVE */
        put_le(&b, 0, 2);
        put_bytes(&b, "Disk\0", 5);
        node_end(&b, at);
        at = node_begin(&b, 5, 1);
        put_le(&b, 0x80, 2); /* BEV: no name */
        put_le(&b, 1, 2);
        put_bytes(&b, "NIC\x01", 4);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "BBS(HD,Disk,0x0)/BBS(0x80,NIC\\x01,0x1)");
}

static void test_devpath_acpi(void **state) {
        (void)state;
        static struct buf b;
        size_t at;
        static const struct {
                uint32_t hid, uid;
        } nodes[] = {
                { 0x0a0341d0, 1 }, { 0x0a0841d0, 0 }, { 0x050141d0, 0 }, { 0x030141d0, 0 },
                { 0x060441d0, 1 }, { 0x040141d0, 0 }, { 0x0a0541d0, 2 }, { 0x12345678, 3 },
        };

        b.n = 0;
        for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
                at = node_begin(&b, 2, 1);
                put_le(&b, nodes[i].hid, 4);
                put_le(&b, nodes[i].uid, 4);
                node_end(&b, at);
        }
        end_entire(&b);
        expect_text(&b, "PciRoot(0x1)/PcieRoot(0x0)/Serial(0x0)/Keyboard(0x0)/Floppy(0x1)/ParallelPort(0x0)/"
                        "Acpi(PNP0A05,0x2)/Acpi(0x12345678,0x3)");

        /* Expanded ACPI: numeric ids only; a UID string alone (AcpiExp); HID and CID strings; _ADR lists. */
        b.n = 0;
        at = node_begin(&b, 2, 2);
        put_le(&b, 0x0a0841d0, 4);
        put_le(&b, 0, 4);
        put_le(&b, 0x0a0341d0, 4);
        put_bytes(&b, "\0\0\0", 3);
        node_end(&b, at);
        at = node_begin(&b, 2, 2);
        put_le(&b, 0x0a0341d0, 4);
        put_le(&b, 0, 4);
        put_le(&b, 0, 4);
        put_bytes(&b, "\0ROOT\0\0", 7);
        node_end(&b, at);
        at = node_begin(&b, 2, 2);
        put_le(&b, 0, 4);
        put_le(&b, 5, 4);
        put_le(&b, 0, 4);
        put_bytes(&b, "ACPI0007\0\0PNP0A03", 17); /* the last string without its NUL */
        node_end(&b, at);
        at = node_begin(&b, 2, 3);
        put_le(&b, 0x80010100, 4);
        put_le(&b, 0x80010200, 4);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "AcpiEx(PNP0A08,PNP0A03,0x0,,,)/AcpiExp(PNP0A03,0,ROOT)/AcpiEx(@@@0000,@@@0000,0x5,ACPI0007,PNP0A03,)/"
                        "AcpiAdr(0x80010100,0x80010200)");
}

static void test_devpath_misc_messaging(void **state) {
        (void)state;
        static struct buf b;
        size_t at;

        b.n = 0;
        at = node_begin(&b, 3, 14); /* UART 115200 8N1 */
        put_le(&b, 0, 4);
        put_le(&b, 115200, 8);
        put_le(&b, 8, 1);
        put_le(&b, 1, 1);
        put_le(&b, 1, 1);
        node_end(&b, at);
        at = node_begin(&b, 3, 14); /* all defaults */
        put_le(&b, 0, 4 + 8 + 3);
        node_end(&b, at);
        at = node_begin(&b, 3, 15);
        put_le(&b, 0x46d, 2);
        put_le(&b, 0xc52b, 2);
        put_le(&b, 3, 1);
        put_le(&b, 1, 1);
        put_le(&b, 2, 1);
        node_end(&b, at);
        at = node_begin(&b, 3, 16);
        put_le(&b, 0, 2);
        put_le(&b, 0x781, 2);
        put_le(&b, 0x5567, 2);
        put_utf16(&b, "SN01");
        node_end(&b, at);
        at = node_begin(&b, 3, 3);
        put_le(&b, 0, 4);
        put_le(&b, 0x5000c5000000abcdull, 8);
        put_le(&b, 0, 8);
        node_end(&b, at);
        at = node_begin(&b, 3, 6);
        put_le(&b, 7, 4);
        node_end(&b, at);
        at = node_begin(&b, 3, 28);
        uint8_t ssid[32] = "home";
        put_bytes(&b, ssid, 32);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "Uart(115200,8,N,1)/Uart(DEFAULT,DEFAULT,D,D)/UsbClass(0x46d,0xc52b,0x3,0x1,0x2)/"
                        "UsbWwid(0x781,0x5567,0x0,\"SN01\")/Fibre(0x5000c5000000abcd,0x0)/I2O(0x7)/Wi-Fi(home)");

        /* iSCSI with its target name, SAS Ex. */
        b.n = 0;
        at = node_begin(&b, 3, 19);
        put_le(&b, 0, 2);      /* TCP */
        put_le(&b, 0x1002, 2); /* header digest CRC32C, CHAP_UNI */
        put_le(&b, 0x0100000000000000ull, 8);
        put_le(&b, 1, 2);
        put_bytes(&b, "iqn.2024-01.org.example:disk", 28);
        node_end(&b, at);
        at = node_begin(&b, 3, 22);
        put_bytes(&b, (const uint8_t[]){ 0x50, 0, 0, 0, 0, 0, 0, 1 }, 8);
        put_le(&b, 0, 8);
        put_le(&b, 0x0012, 2); /* SATA, internal, direct, one byte of drive bay */
        put_le(&b, 3, 2);
        node_end(&b, at);
        end_entire(&b);
        expect_text(&b, "iSCSI(iqn.2024-01.org.example:disk,0x1,0x0000000000000001,CRC32C,None,CHAP_UNI,TCP)/"
                        "SasEx(0x5000000000000001,0x0000000000000000,0x3,SATA,Internal,Direct,0x1)");
}

static void test_devpath_generic_and_structure(void **state) {
        (void)state;
        static struct buf b;
        size_t at;
        char *text = NULL;
        struct shield_diag d;

        /* An instance break, an unknown node, a known node too short for its layout, bytes after the end. */
        b.n = 0;
        pci_root(&b, 0);
        end_instance(&b);
        pci_root(&b, 1);
        pci(&b, 2, 0);
        at = node_begin(&b, 9, 9);
        put_bytes(&b, "ab", 2);
        node_end(&b, at);
        at = node_begin(&b, 1, 1);
        put_le(&b, 0, 1);
        node_end(&b, at);
        node_end(&b, node_begin(&b, 4, 6)); /* FvFile without a GUID */
        at = node_begin(&b, 3, 11);         /* MAC one byte short */
        put_le(&b, 0, 32);
        node_end(&b, at);
        end_entire(&b);
        put_bytes(&b, "\xff\xff", 2);
        expect_text(&b, "PciRoot(0x0),PciRoot(0x1)/Pci(0x2,0x0)/Path(9,9,6162)/Path(1,1,00)/Path(4,6)/"
                        "Path(3,11,0000000000000000000000000000000000000000000000000000000000000000)");

        /* No End Entire is accepted; nothing at all is the empty path. */
        b.n = 0;
        pci(&b, 1, 1);
        expect_text(&b, "Pci(0x1,0x1)");
        b.n = 0;
        expect_text(&b, "");
        end_entire(&b);
        expect_text(&b, "");

        /* A URI with bytes that are not printable ASCII stays valid UTF-8. */
        b.n = 0;
        at = node_begin(&b, 3, 24);
        put_bytes(&b, "a\xc3\n", 3);
        node_end(&b, at);
        expect_text(&b, "Uri(a\\xc3\\x0a)");

        /* A file path with a non-ASCII name. */
        b.n = 0;
        at = node_begin(&b, 4, 4);
        put_le(&b, 0x5c, 2);
        put_le(&b, 0xe9, 2); /* é */
        put_le(&b, 0, 2);
        node_end(&b, at);
        expect_text(&b, "\\\xc3\xa9");

        /* Lengths under 4 or past the end are refused with the offset of the length field; outputs untouched. */
        b.n = 0;
        pci(&b, 1, 0);
        size_t bad_at = b.n;
        put_bytes(&b, (const uint8_t[]){ 1, 1, 3, 0 }, 4);
        text = (char *)0xaa;
        memset(&d, 0, sizeof d);
        assert_int_equal(shield_devpath_to_text(b.d, b.n, &text, &d), SHIELD_E_FORMAT);
        assert_ptr_equal(text, (char *)0xaa);
        assert_int_equal(d.offset, bad_at + 2);
        assert_int_equal(d.index, 1);
        assert_true(d.msg[0]);
        b.d[bad_at + 2] = 0;
        assert_int_equal(shield_devpath_to_text(b.d, b.n, &text, &d), SHIELD_E_FORMAT);
        b.d[bad_at + 2] = 5; /* one byte past the end */
        assert_int_equal(shield_devpath_to_text(b.d, b.n, &text, &d), SHIELD_E_FORMAT);
        assert_int_equal(d.offset, bad_at + 2);
        b.d[bad_at + 2] = 0xff, b.d[bad_at + 3] = 0xff;
        assert_int_equal(shield_devpath_to_text(b.d, b.n, &text, &d), SHIELD_E_FORMAT);
        assert_int_equal(shield_devpath_to_text(b.d, bad_at + 3, &text, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(d.offset, bad_at);
        assert_ptr_equal(text, (char *)0xaa);
        assert_int_equal(shield_devpath_to_text(NULL, 1, &text, &d), SHIELD_E_INVAL);
        assert_int_equal(shield_devpath_to_text(b.d, b.n, NULL, &d), SHIELD_E_INVAL);
}

static void test_devpath_cap(void **state) {
        (void)state;
        size_t n = SHIELD_DEVPATH_NODES_MAX + 1;
        uint8_t *p = calloc(n + 1, 6);
        char *text = NULL;
        struct shield_diag d;

        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
                p[6 * i] = 1, p[6 * i + 1] = 1, p[6 * i + 2] = 6;
        }
        /* Exactly the cap, then End Entire: accepted. */
        memcpy(p + 6 * (n - 1), (const uint8_t[]){ 0x7f, 0xff, 4, 0 }, 4);
        assert_int_equal(shield_devpath_to_text(p, 6 * (n - 1) + 4, &text, &d), 0);
        assert_int_equal(strlen(text), SHIELD_DEVPATH_NODES_MAX * strlen("/Pci(0x0,0x0)") - 1);
        free(text);
        /* One more node: refused at that node. */
        memcpy(p + 6 * (n - 1), (const uint8_t[]){ 1, 1, 6, 0, 0, 0 }, 6);
        assert_int_equal(shield_devpath_to_text(p, 6 * n, &text, &d), SHIELD_E_LIMIT);
        assert_int_equal(d.offset, 6 * (n - 1));
        assert_int_equal(d.index, SHIELD_DEVPATH_NODES_MAX);
        free(p);
}

/* ---- load options ---- */

static size_t load_option(struct buf *b, uint32_t attrs, const char *desc, const struct buf *path, size_t path_len,
                          const void *opt, size_t opt_len) {
        b->n = 0;
        put_le(b, attrs, 4);
        put_le(b, path_len, 2);
        put_utf16(b, desc);
        size_t path_at = b->n;
        put_bytes(b, path->d, path->n);
        put_bytes(b, opt, opt_len);
        return path_at;
}

static void test_load_option(void **state) {
        (void)state;
        static struct buf path, b;
        struct shield_load_option opt;
        struct shield_diag d;

        path.n = 0;
        hd_gpt(&path, 1, 0x800, 0x100000, "5ca1ab1e-0000-4000-8000-000000000002");
        file_path(&path, "\\EFI\\ubuntu\\shimx64.efi");
        end_entire(&path);

        /* LOAD_OPTION_ACTIVE with shim's optional data (a UTF-16 loader path). */
        size_t path_at = load_option(&b, 0x1, "ubuntu", &path, path.n, "\\\0g\0", 4);
        assert_int_equal(shield_load_option_parse(b.d, b.n, &opt, &d), 0);
        assert_int_equal(opt.attributes, 1);
        assert_string_equal(opt.description, "ubuntu");
        assert_string_equal(opt.device_path,
                            "HD(1,GPT,5ca1ab1e-0000-4000-8000-000000000002,0x800,0x100000)/\\EFI\\ubuntu\\shimx64.efi");
        assert_ptr_equal(opt.optional_data, b.d + path_at + path.n);
        assert_int_equal(opt.optional_size, 4);
        shield_load_option_clear(&opt);
        assert_null(opt.description);
        shield_load_option_clear(NULL);

        /* An empty description, no optional data, a hidden category-app option. */
        load_option(&b, 0x0100000b, "", &path, path.n, NULL, 0);
        assert_int_equal(shield_load_option_parse(b.d, b.n, &opt, &d), 0);
        assert_int_equal(opt.attributes, 0x0100000b);
        assert_string_equal(opt.description, "");
        assert_int_equal(opt.optional_size, 0);
        shield_load_option_clear(&opt);

        /* Errors, each with its offset; the output is untouched. */
        memset(&opt, 0xaa, sizeof opt);
        assert_int_equal(shield_load_option_parse(b.d, 5, &opt, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(d.offset, 0);
        static const uint8_t no_nul[] = { 1, 0, 0, 0, 4, 0, 'a', 0, 'b', 0, 'c' };
        assert_int_equal(shield_load_option_parse(no_nul, sizeof no_nul, &opt, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(d.offset, 6);
        assert_true(strstr(d.msg, "NUL") != NULL);
        path_at = load_option(&b, 1, "ubuntu", &path, path.n + 1, NULL, 0);
        assert_int_equal(shield_load_option_parse(b.d, b.n, &opt, &d), SHIELD_E_TRUNCATED);
        assert_int_equal(d.offset, path_at);
        /* A broken node inside FilePathList: the offset is into the whole option. */
        path_at = load_option(&b, 1, "x", &path, path.n, NULL, 0);
        b.d[path_at + 2] = 2;
        assert_int_equal(shield_load_option_parse(b.d, b.n, &opt, &d), SHIELD_E_FORMAT);
        assert_int_equal(d.offset, path_at + 2);
        const uint8_t *p = (const uint8_t *)&opt;
        for (size_t i = 0; i < sizeof opt; i++)
                assert_int_equal(p[i], 0xaa);
        assert_int_equal(shield_load_option_parse(NULL, 1, &opt, &d), SHIELD_E_INVAL);

        /* FilePathListLength may hold more than one path; the text is the first (UEFI 2.10, 3.1.3). */
        static struct buf two;
        two.n = 0;
        put_bytes(&two, path.d, path.n);
        guid_node(&two, 4, 6, "462caa21-7614-4503-836e-8ab6f4662331");
        end_entire(&two);
        load_option(&b, 1, "two", &two, two.n, NULL, 0);
        assert_int_equal(shield_load_option_parse(b.d, b.n, &opt, &d), 0);
        assert_string_equal(opt.device_path,
                            "HD(1,GPT,5ca1ab1e-0000-4000-8000-000000000002,0x800,0x100000)/\\EFI\\ubuntu\\shimx64.efi");
        assert_int_equal(opt.optional_size, 0);
        shield_load_option_clear(&opt);
}

/* A PCI expansion ROM built here: a legacy image, then an EFI image (PCI Firmware 3.0, 5.1; UEFI 2.10, 14.4.2). */
static size_t rom_image(uint8_t *img, uint8_t code_type, bool last, uint16_t units, uint16_t compression) {
        memset(img, 0, (size_t)units * 512);
        img[0] = 0x55;
        img[1] = 0xaa;
        img[0x18] = 0x40; /* the PCIR offset */
        memcpy(img + 0x40, "PCIR", 4);
        img[0x44] = 0xf4, img[0x45] = 0x1a, img[0x46] = 0x41, img[0x47] = 0x10;
        img[0x50] = (uint8_t)units, img[0x51] = (uint8_t)(units >> 8);
        img[0x54] = code_type;
        img[0x55] = last ? 0x80 : 0;
        if (code_type == 3) {
                img[4] = 0xf1, img[5] = 0x0e;           /* EfiSignature 0x0EF1 */
                img[8] = 0x0b;                          /* EfiSubsystem: boot-service driver */
                img[0xa] = 0x64, img[0xb] = 0x86;       /* x64 */
                img[0xc] = (uint8_t)compression;
                img[0x16] = 0x80;                       /* EfiImageHeaderOffset */
                img[0x80] = 'M', img[0x81] = 'Z';
        }
        return (size_t)units * 512;
}

static void test_option_rom(void **state) {
        (void)state;
        uint8_t rom[3 * 512];
        size_t len = rom_image(rom, 0, false, 1, 0);
        len += rom_image(rom + len, 3, true, 2, 0);
        struct shield_rom_image im[4];
        size_t n = 99;
        struct shield_diag diag = { 0 };
        assert_int_equal(shield_option_rom_parse(rom, len, im, 4, &n, &diag), 0);
        assert_int_equal(n, 2);
        assert_false(im[0].efi);
        assert_int_equal(im[0].offset, 0);
        assert_int_equal(im[0].length, 512);
        assert_true(im[1].efi);
        assert_int_equal(im[1].offset, 512);
        assert_int_equal(im[1].length, 1024);
        assert_int_equal(im[1].vendor, 0x1af4);
        assert_int_equal(im[1].device, 0x1041);
        assert_int_equal(im[1].machine, 0x8664);
        assert_int_equal(im[1].subsystem, 0x0b);
        assert_int_equal(im[1].compression, 0);
        assert_int_equal(im[1].pe_offset, 512 + 0x80);
        assert_int_equal(im[1].pe_length, 1024 - 0x80);
        assert_memory_equal(rom + im[1].pe_offset, "MZ", 2);
        /* Errors name the image and the offset. */
        assert_int_equal(shield_option_rom_parse(rom, len - 100, im, 4, &n, &diag), SHIELD_E_TRUNCATED);
        assert_int_equal(diag.offset, 512);
        rom[512] = 0;
        assert_int_equal(shield_option_rom_parse(rom, len, im, 4, &n, &diag), SHIELD_E_FORMAT);
        assert_non_null(strstr(diag.msg, "image 1"));
        rom[512] = 0x55;
        rom[512 + 4] = 0;
        assert_int_equal(shield_option_rom_parse(rom, len, im, 4, &n, &diag), SHIELD_E_FORMAT);
        rom[512 + 4] = 0xf1;
        memcpy(rom + 512 + 0x40, "XXXX", 4);
        assert_int_equal(shield_option_rom_parse(rom, len, im, 4, &n, &diag), SHIELD_E_FORMAT);
        memcpy(rom + 512 + 0x40, "PCIR", 4);
        assert_int_equal(shield_option_rom_parse(rom, len, im, 1, &n, &diag), SHIELD_E_LIMIT);
        assert_int_equal(shield_option_rom_parse(NULL, len, im, 4, &n, &diag), SHIELD_E_INVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_guid),
                cmocka_unit_test(test_siglist_parse),
                cmocka_unit_test(test_siglist_errors),
                cmocka_unit_test(test_siglist_cap),
                cmocka_unit_test(test_siglist_efitools),
                cmocka_unit_test(test_siglist_microsoft),
                cmocka_unit_test(test_devpath_disks),
                cmocka_unit_test(test_devpath_network),
                cmocka_unit_test(test_devpath_firmware),
                cmocka_unit_test(test_devpath_acpi),
                cmocka_unit_test(test_devpath_misc_messaging),
                cmocka_unit_test(test_devpath_generic_and_structure),
                cmocka_unit_test(test_devpath_cap),
                cmocka_unit_test(test_load_option),
                cmocka_unit_test(test_option_rom),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
