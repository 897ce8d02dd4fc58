/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding events and the Secure Boot findings, on logs built here (PFP
 * 1.05 layouts) and, when present, real machines' logs.
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
#include "shield/uefi.h"
#include "shield/util.h"

/* UEFI_VARIABLE_DATA (PFP 10.4.1) with an ASCII name. */
static size_t variable(uint8_t *out, const shield_guid *g, const char *name, const void *data, size_t n) {
        uint64_t nl = strlen(name), dl = n;
        size_t at = 0;
        memcpy(out, g->b, 16);
        at = 16;
        memcpy(out + at, &nl, 8), at += 8;
        memcpy(out + at, &dl, 8), at += 8;
        for (size_t i = 0; i < nl; i++)
                out[at++] = (uint8_t)name[i], out[at++] = 0;
        if (n)
                memcpy(out + at, data, n);
        return at + n;
}

static struct shield_eventlog *parse(const struct buf *b) {
        struct shield_eventlog *log = NULL;
        assert_int_equal(shield_eventlog_parse(b->b, b->n, &log, NULL), 0);
        return log;
}

static char *summary(struct shield_eventlog *log, size_t i) {
        char *s = NULL;
        assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, i), &s), 0);
        return s;
}

static bool has_finding(const struct shield_secureboot *sb, const char *code) {
        for (size_t i = 0; i < sb->findings.n; i++)
                if (strcmp(sb->findings.items[i].code, code) == 0)
                        return true;
        return false;
}

static void test_decoders_and_findings(void **state) {
        (void)state;
        struct buf b = { 0 };
        uint8_t v[256], one = 1;
        uint32_t err = 1;
        size_t n;

        specid(&b, 2, 0);
        n = variable(v, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", &one, 1);
        agile_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, v, (uint32_t)n);              /* 1 */
        agile_event(&b, 7, EV_EFI_ACTION, "UEFI Debug Mode", 15);                       /* 2 */
        agile_event(&b, 7, EV_SEPARATOR, sep_zero, 4);                                  /* 3 */
        n = variable(v, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, "db", NULL, 0);
        agile_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, v, (uint32_t)n);              /* 4: after the separator */
        agile_event(&b, 0, EV_SEPARATOR, &err, 4);                                      /* 5: error value */
        uint8_t order[4] = { 1, 0, 0, 0 };
        n = variable(v, &SHIELD_GUID_GLOBAL_VARIABLE, "BootOrder", order, 4);
        agile_event(&b, 1, EV_EFI_VARIABLE_BOOT, v, (uint32_t)n);                       /* 6 */
        agile_event(&b, 4, EV_POST_CODE, "POST CODE", 9);                               /* 7: Lenovo's 9 bytes */
        n = variable(v, &SHIELD_GUID_GLOBAL_VARIABLE, "SecureBoot", &one, 1);
        v[16] = 200; /* name length past the data */
        agile_event(&b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, v, (uint32_t)n);              /* 8: malformed */
        struct shield_eventlog *log = parse(&b);

        char *s;
        assert_string_equal(s = summary(log, 1), "SecureBoot = 1"), free(s);
        assert_string_equal(s = summary(log, 2), "\"UEFI Debug Mode\""), free(s);
        assert_string_equal(s = summary(log, 3), "separator"), free(s);
        assert_string_equal(s = summary(log, 4), "db: 0 certificates, 0 hashes"), free(s);
        assert_string_equal(s = summary(log, 5), "separator: ERROR value 0x00000001"), free(s);
        assert_string_equal(s = summary(log, 6), "BootOrder = 0001,0000"), free(s);
        assert_string_equal(s = summary(log, 7), "\"POST CODE\""), free(s);
        s = summary(log, 8);
        assert_non_null(strstr(s, "malformed UEFI_VARIABLE_DATA"));
        free(s);

        json_t *j = NULL;
        assert_int_equal(shield_event_decode_json(log, shield_eventlog_event(log, 1), &j), 0);
        assert_string_equal(json_string_value(json_object_get(j, "name")), "SecureBoot");
        assert_int_equal(json_integer_value(json_object_get(j, "value")), 1);
        assert_string_equal(json_string_value(json_object_get(j, "variable_guid_name")), "EFI_GLOBAL_VARIABLE");
        json_decref(j);
        assert_int_equal(shield_event_decode_json(log, shield_eventlog_event(log, 8), &j), 0);
        assert_non_null(json_object_get(j, "error"));
        json_decref(j);

        struct shield_secureboot sb;
        assert_int_equal(shield_eventlog_secureboot(log, &sb), 0);
        assert_int_equal(sb.secure_boot, 1);
        assert_int_equal(sb.db.event_index, 4);
        assert_true(has_finding(&sb, "uefi-debugger"));
        assert_true(has_finding(&sb, "variable-after-separator"));
        assert_true(has_finding(&sb, "separator-error"));
        assert_true(has_finding(&sb, "separator-missing")); /* PCRs 2-6 have none */
        assert_true(has_finding(&sb, "variable-malformed"));
        assert_int_equal(shield_reasons_max_severity(&sb.findings), SHIELD_SEV_ERROR);
        shield_secureboot_clear(&sb);
        shield_eventlog_free(log);
}

static struct shield_eventlog *load_shared(const char *name) {
        const char *dir = getenv("SHIELD_SHARED_DATA");
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len;
        struct shield_eventlog *log = NULL;

        if (!dir || asprintf(&path, "%s/eventlogs/%s", dir, name) < 0 || access(path, R_OK) != 0) {
                free(path);
                return NULL;
        }
        assert_int_equal(shield_read_file(path, SHIELD_EVENTLOG_MAX, &buf, &len), 0);
        assert_int_equal(shield_eventlog_parse(buf, len, &log, NULL), 0);
        free(buf);
        free(path);
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
        bool shim = false;
        for (size_t i = 0; i < shield_eventlog_count(log); i++) {
                assert_int_equal(shield_event_summary(log, shield_eventlog_event(log, i), &s), 0);
                shim |= strstr(s, "\\EFI\\redhat\\shimx64.efi") != NULL;
                free(s);
        }
        assert_true(shim);
        shield_eventlog_free(log);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decoders_and_findings),
                cmocka_unit_test(test_real_secure_boot_log),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
