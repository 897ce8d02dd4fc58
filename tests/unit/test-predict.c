/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCR prediction (lib/predict) on small crypto-agile logs (sha1 + sha256,
 * tests/unit/log-builder.h). Expected values are replayed here by hand from
 * the PFP 1.05 extend rule and, for PCR 11, systemd 252's stub.c (each
 * section: H(name + NUL), then H(VirtualSize bytes as loaded)). The Secure
 * Boot path (PCR 7, real sbsign signatures) is tests/cli/cli-predict.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log-builder.h"
#include "shield/crypto.h"
#include "shield/pe.h"
#include "shield/predict.h"

#define LFANEW 0x40
#define OPT (LFANEW + 24)
#define SECTIONS (OPT + 240)
#define HEADERS 0x200

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, (uint16_t)v); w16(p + 2, (uint16_t)(v >> 16)); }

/* A PE32+ UKI: .linux (VirtualSize over its raw data), .osrel (under it), .cmdline; no signature. */
static const char *const uki_names[] = { ".linux", ".osrel", ".cmdline" };
static const uint32_t uki_vsize[] = { 0x300, 0x10, 0x200 };

static uint8_t *make_uki(size_t *ret_len, uint8_t seed) {
        size_t len = HEADERS + 0x600;
        uint8_t *b = calloc(1, len);
        assert_non_null(b);
        b[0] = 'M', b[1] = 'Z';
        w32(b + 0x3c, LFANEW);
        memcpy(b + LFANEW, "PE\0\0", 4);
        w16(b + LFANEW + 4, 0x8664);
        w16(b + LFANEW + 6, 3);
        w16(b + LFANEW + 20, 240);
        w16(b + OPT, 0x20b);
        w32(b + OPT + 60, HEADERS);
        w16(b + OPT + 68, 10);
        w32(b + OPT + 108, 16);
        for (int i = 0; i < 3; i++) {
                uint8_t *s = b + SECTIONS + 40 * i;
                memcpy(s, uki_names[i], strlen(uki_names[i]));
                w32(s + 8, uki_vsize[i]);
                w32(s + 12, 0x1000 * (uint32_t)(i + 1));
                w32(s + 16, 0x200);
                w32(s + 20, HEADERS + 0x200 * (uint32_t)i);
        }
        for (size_t i = HEADERS; i < len; i++)
                b[i] = (uint8_t)(i * seed);
        *ret_len = len;
        return b;
}

/* UEFI_IMAGE_LOAD_EVENT (PFP 1.05, 10.2.4) with one media file path node for path (ASCII). */
static size_t image_load(uint8_t *out, const char *path) {
        size_t n = strlen(path), dp = 4 + 2 * (n + 1) + 4, o = 0;
        memset(out, 0, 32 + dp);
        out[24] = (uint8_t)dp; /* LengthOfDevicePath */
        o = 32;
        out[o] = 4, out[o + 1] = 4, w16(out + o + 2, (uint16_t)(4 + 2 * (n + 1)));
        for (size_t i = 0; i < n; i++)
                out[o + 4 + 2 * i] = (uint8_t)path[i];
        o += 4 + 2 * (n + 1);
        out[o] = 0x7f, out[o + 1] = 0xff, out[o + 2] = 4;
        return 32 + dp;
}

/* An event with a given digest in every bank (the image-measurement case). */
static void agile_event_digest(struct buf *b, uint32_t pcr, uint32_t type, const uint8_t *d1, const uint8_t *d256,
                               const void *data, uint32_t size) {
        u32(b, pcr);
        u32(b, type);
        u32(b, 2);
        u16(b, SHIELD_ALG_SHA1);
        put(b, d1, 20);
        u16(b, SHIELD_ALG_SHA256);
        put(b, d256, 32);
        u32(b, size);
        put(b, data, size);
}

static void utf16z(uint8_t *out, const char *s) {
        size_t n = strlen(s);
        for (size_t i = 0; i <= n; i++)
                out[2 * i] = (uint8_t)s[i], out[2 * i + 1] = 0;
}

static void extend(uint16_t alg, uint8_t *pcr, const void *data, size_t len) {
        uint8_t d[64], cat[128];
        size_t n = shield_hash_size(alg);
        assert_int_equal(shield_hash(alg, data, len, d), 0);
        memcpy(cat, pcr, n);
        memcpy(cat + n, d, n);
        assert_int_equal(shield_hash(alg, cat, 2 * n, pcr), 0);
}

static void extend_digest(uint16_t alg, uint8_t *pcr, const uint8_t *d) {
        uint8_t cat[128];
        size_t n = shield_hash_size(alg);
        memcpy(cat, pcr, n);
        memcpy(cat + n, d, n);
        assert_int_equal(shield_hash(alg, cat, 2 * n, pcr), 0);
}

/* systemd-stub 252's PCR 11 for an image made by make_uki (by hand from the layout above). */
static void stub_pcr11(const uint8_t *img, uint16_t alg, uint8_t *pcr) {
        memset(pcr, 0, 64);
        for (int i = 0; i < 3; i++) {
                extend(alg, pcr, uki_names[i], strlen(uki_names[i]) + 1);
                uint8_t mem[0x300] = { 0 };
                memcpy(mem, img + HEADERS + 0x200 * i, uki_vsize[i] < 0x200 ? uki_vsize[i] : 0x200);
                extend(alg, pcr, mem, uki_vsize[i]);
        }
}

static const char boot_path[] = "\\EFI\\BOOT\\BOOTX64.EFI";

/*
 * A log: separators, the calling action, the application from path with
 * digests d1/d256, and (stub) systemd-stub's PCR 11 events of old_uki, or
 * (extra_pcr, extra_type) one more event.
 */
static void build_log(struct buf *b, const uint8_t *d1, const uint8_t *d256, const uint8_t *old_uki,
                      uint32_t extra_pcr, uint32_t extra_type) {
        uint8_t ev[256];
        specid(b, 2, 0);
        for (uint32_t p = 0; p < 8; p++)
                agile_event(b, p, EV_SEPARATOR, sep_zero, 4);
        agile_event(b, 4, EV_EFI_ACTION, "Calling EFI Application from Boot Option", 40);
        size_t n = image_load(ev, boot_path);
        agile_event_digest(b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, d1, d256, ev, (uint32_t)n);
        if (old_uki)
                for (int i = 0; i < 3; i++) {
                        uint8_t name[32] = { 0 }, mem[0x300] = { 0 };
                        utf16z(name, uki_names[i]);
                        uint32_t nl = (uint32_t)(2 * (strlen(uki_names[i]) + 1));
                        uint8_t h1[20], h256[32];
                        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, uki_names[i], strlen(uki_names[i]) + 1, h1), 0);
                        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, uki_names[i], strlen(uki_names[i]) + 1, h256), 0);
                        agile_event_digest(b, 11, EV_IPL, h1, h256, name, nl);
                        memcpy(mem, old_uki + HEADERS + 0x200 * i, uki_vsize[i] < 0x200 ? uki_vsize[i] : 0x200);
                        assert_int_equal(shield_hash(SHIELD_ALG_SHA1, mem, uki_vsize[i], h1), 0);
                        assert_int_equal(shield_hash(SHIELD_ALG_SHA256, mem, uki_vsize[i], h256), 0);
                        agile_event_digest(b, 11, EV_IPL, h1, h256, name, nl);
                }
        if (extra_type)
                agile_event(b, extra_pcr, extra_type, "extra", 5);
}

static struct shield_eventlog *parse(const struct buf *b) {
        struct shield_eventlog *log = NULL;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_eventlog_parse(b->b, b->n, &log, &d), 0);
        return log;
}

static const uint8_t old1[20] = { 1 }, old256[32] = { 2 };

/* PCR 4 by hand: separator, action, then the application's digest. */
static void pcr4(uint16_t alg, const uint8_t *app, uint8_t *pcr) {
        memset(pcr, 0, 64);
        extend(alg, pcr, sep_zero, 4);
        extend(alg, pcr, "Calling EFI Application from Boot Option", 40);
        extend_digest(alg, pcr, app);
}

static void test_digest_one_bank(void **state) {
        (void)state;
        struct buf b = { 0 };
        build_log(&b, old1, old256, NULL, 0, 0);
        struct shield_eventlog *log = parse(&b);
        struct shield_predict_replacement r = { .path = "\\efi\\boot\\bootx64.efi", .alg = SHIELD_ALG_SHA256 };
        memset(r.digest, 0x5a, 32);
        struct shield_prediction p;
        memset(&p, 0xaa, sizeof p);
        struct shield_diag d = { 0 };
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), 0);
        assert_int_equal(p.pcrs.n_banks, 1);
        uint8_t want[64];
        pcr4(SHIELD_ALG_SHA256, r.digest, want);
        assert_memory_equal(p.pcrs.banks[0].value[4], want, 32);
        assert_int_equal(p.changed, 1u << 4);
        assert_int_equal(p.left_out, 0);
        assert_memory_equal(p.pcrs.banks[0].value[0], p.replayed.banks[0].value[0], 32);
        shield_prediction_clear(&p);

        /* Every bank: the sha1 bank cannot come from a sha256 digest, and the error names it. */
        struct shield_prediction untouched;
        memset(&untouched, 0xaa, sizeof untouched);
        assert_int_equal(shield_predict(log, &r, 1, 0, &untouched, &d), SHIELD_E_INVAL);
        assert_non_null(strstr(d.msg, "not sha1"));
        assert_int_equal(((uint8_t *)&untouched)[0], 0xaa);
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA384, &p, &d), SHIELD_E_NOT_FOUND);
        assert_int_equal(shield_predict(log, &r, 0, SHIELD_ALG_SHA256, &p, &d), SHIELD_E_INVAL);
        shield_eventlog_free(log);
}

static void test_path_not_found(void **state) {
        (void)state;
        struct buf b = { 0 };
        build_log(&b, old1, old256, NULL, 0, 0);
        struct shield_eventlog *log = parse(&b);
        struct shield_predict_replacement r = { .path = "\\EFI\\ubuntu\\shimx64.efi", .alg = SHIELD_ALG_SHA256 };
        struct shield_prediction p;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), SHIELD_E_NOT_FOUND);
        assert_non_null(strstr(d.msg, "shimx64.efi"));
        /* A suffix inside a component is not the path. */
        r.path = "OOTX64.EFI";
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), SHIELD_E_NOT_FOUND);
        shield_eventlog_free(log);
}

static void test_unknown_event_refused(void **state) {
        (void)state;
        struct buf b = { 0 };
        build_log(&b, old1, old256, NULL, 4, EV_IPL);
        struct shield_eventlog *log = parse(&b);
        struct shield_predict_replacement r = { .path = boot_path, .alg = SHIELD_ALG_SHA256 };
        struct shield_prediction p;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), SHIELD_E_UNSUPPORTED);
        assert_int_equal(d.index, (long)shield_eventlog_count(log) - 1);
        assert_non_null(strstr(d.msg, "EV_IPL"));
        shield_eventlog_free(log);
}

static void test_uki_pcr11(void **state) {
        (void)state;
        size_t len_old, len_new;
        uint8_t *old_img = make_uki(&len_old, 3), *new_img = make_uki(&len_new, 7);
        struct buf b = { 0 };
        build_log(&b, old1, old256, old_img, 0, 0);
        struct shield_eventlog *log = parse(&b);
        struct shield_predict_replacement r = { .path = boot_path, .image = new_img, .image_len = len_new };
        struct shield_prediction p;
        struct shield_diag d = { 0 };
        assert_int_equal(shield_predict(log, &r, 1, 0, &p, &d), 0);
        assert_int_equal(p.pcrs.n_banks, 2);
        struct shield_pe pe;
        assert_int_equal(shield_pe_parse(new_img, len_new, &pe, &d), 0);
        for (size_t k = 0; k < 2; k++) {
                uint16_t alg = p.pcrs.banks[k].alg;
                uint8_t app[64], want[64];
                assert_int_equal(shield_pe_authenticode_hash(&pe, alg, app), 0);
                pcr4(alg, app, want);
                assert_memory_equal(p.pcrs.banks[k].value[4], want, shield_hash_size(alg));
                stub_pcr11(new_img, alg, want);
                assert_memory_equal(p.pcrs.banks[k].value[11], want, shield_hash_size(alg));
                stub_pcr11(old_img, alg, want);
                assert_memory_equal(p.replayed.banks[k].value[11], want, shield_hash_size(alg));
        }
        assert_int_equal(p.changed, (1u << 4) | (1u << 11));
        shield_prediction_clear(&p);

        /* The same UKI again: PCR 11 as it was. */
        r.image = old_img;
        r.image_len = len_old;
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), 0);
        assert_false(p.changed & (1u << 11));
        shield_prediction_clear(&p);
        shield_eventlog_free(log);

        /* No systemd-stub events: PCR 11 left out, with a note. */
        struct buf b2 = { 0 };
        build_log(&b2, old1, old256, NULL, 0, 0);
        log = parse(&b2);
        r.image = new_img;
        r.image_len = len_new;
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), 0);
        assert_true(p.left_out & (1u << 11));
        assert_false(p.pcrs.banks[0].present & (1u << 11));
        assert_true(p.notes.n >= 1);
        shield_prediction_clear(&p);
        shield_eventlog_free(log);

        /* Stub events and one it does not know in PCR 11: refused, naming it. */
        struct buf b3 = { 0 };
        build_log(&b3, old1, old256, old_img, 11, EV_EVENT_TAG);
        log = parse(&b3);
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), SHIELD_E_UNSUPPORTED);
        assert_int_equal(d.index, (long)shield_eventlog_count(log) - 1);
        shield_eventlog_free(log);

        /* Not a PE image. */
        struct buf b4 = { 0 };
        build_log(&b4, old1, old256, NULL, 0, 0);
        log = parse(&b4);
        r.image_len = 100;
        assert_int_equal(shield_predict(log, &r, 1, SHIELD_ALG_SHA256, &p, &d), SHIELD_E_FORMAT);
        shield_eventlog_free(log);
        free(old_img);
        free(new_img);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digest_one_bank),
                cmocka_unit_test(test_path_not_found),
                cmocka_unit_test(test_unknown_event_refused),
                cmocka_unit_test(test_uki_pcr11),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
