/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance over real machines' event logs ($SHIELD_SHARED_DATA/eventlogs,
 * provenance in its README): every log parses to its last byte (or names
 * the quirk), has no event whose data contradicts its digest, and replays
 * to every PCR its .pcrs.json lists, apart from those REPLAY-NOTES.json
 * explains. tpm2_eventlog is an independent second opinion for the replay
 * of the logs without expected PCRs.
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

#include "shield/eventlog.h"
#include "shield/util.h"

static char *data_dir;

static char *path_of(const char *name) {
        char *p = NULL;
        if (asprintf(&p, "%s/eventlogs/%s", data_dir, name) < 0)
                return NULL;
        return p;
}

/* The .bin files of the directory, sorted. */
static size_t list_logs(char ***ret) {
        char *dir = path_of("");
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        size_t count = 0;
        char **logs = calloc(n > 0 ? (size_t)n : 1, sizeof *logs);

        for (int i = 0; i < n; i++) {
                size_t len = strlen(names[i]->d_name);
                if (len > 4 && strcmp(names[i]->d_name + len - 4, ".bin") == 0)
                        logs[count++] = strdup(names[i]->d_name);
                free(names[i]);
        }
        free(names);
        free(dir);
        *ret = logs;
        return count;
}

static struct shield_eventlog *load(const char *name) {
        char *path = path_of(name);
        uint8_t *buf = NULL;
        size_t len = 0;
        struct shield_eventlog *log = NULL;
        struct shield_diag diag = { 0 };

        assert_int_equal(shield_read_file(path, SHIELD_EVENTLOG_MAX, &buf, &len), 0);
        int r = shield_eventlog_parse(buf, len, &log, &diag);
        if (r < 0)
                print_error("%s: %s at offset %zu, event %ld: %s\n", name, shield_strerror(r), diag.offset,
                            diag.index, diag.msg);
        assert_int_equal(r, 0);
        free(buf);
        free(path);
        return log;
}

/* PCRs REPLAY-NOTES.json says cannot be reproduced from this log, for bank. */
static uint32_t explained_pcrs(json_t *notes, const char *log, const char *bank) {
        json_t *banks = json_object_get(json_object_get(notes, log), bank);
        uint32_t mask = 0;
        size_t i;
        json_t *v;

        json_array_foreach(banks, i, v) {
                uint64_t pcr;
                if (json_is_string(v) && shield_parse_u64(json_string_value(v), 10, 23, &pcr) == 0)
                        mask |= UINT32_C(1) << pcr;
        }
        return mask;
}

static void test_all_logs_parse_to_the_end(void **state) {
        (void)state;
        char **logs = NULL;
        size_t n = list_logs(&logs);

        assert_true(n >= 30);
        for (size_t i = 0; i < n; i++) {
                struct shield_eventlog *log = load(logs[i]);
                size_t len, n_events = shield_eventlog_count(log);
                const struct shield_event *last = shield_eventlog_event(log, n_events - 1);
                const struct shield_reasons *quirks = shield_eventlog_quirks(log);
                bool padding = false;

                shield_eventlog_bytes(log, &len);
                for (size_t q = 0; q < quirks->n; q++)
                        padding |= strcmp(quirks->items[q].code, "quirk-trailing-padding") == 0 ||
                                   strcmp(quirks->items[q].code, "quirk-specid-vendor-info-outside-event") == 0;
                /* To the last byte, or the quirk that explains the rest is named. */
                if (last->offset + last->size != len && !padding)
                        fail_msg("%s: parsed %zu of %zu bytes without naming why", logs[i],
                                 last->offset + last->size, len);
                shield_eventlog_free(log);
                free(logs[i]);
        }
        free(logs);
}

/* Quirks of real firmware the data's README describes, each named where it occurs. */
static void test_known_quirks_are_named(void **state) {
        (void)state;
        static const struct {
                const char *log, *quirk;
        } known[] = {
                { "fragment-specid-vendordata.bin", "quirk-specid-vendor-info-outside-event" },
                { "edge-short-no-action.bin", "quirk-legacy-format" },
                { "edge-short-no-action.bin", "quirk-startup-locality" },
                { "hp-ebs-missing-legacy-sha1.bin", "quirk-no-exit-boot-services" },
                { "hp-windows-option-rom-legacy-sha1.bin", "quirk-wbcl-records" },
                { "lenovo-thinkpad-n40et41w.bin", "quirk-post-code-string" },
                { "gce-debian10-legacy-sha1.bin", "quirk-legacy-format" },
                { "dell-server-gdc-host-sha256.bin", "quirk-startup-locality" },
                { "hygon-dhyana-hcrtm.bin", "quirk-hcrtm-without-locality" },
        };
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
                struct shield_eventlog *log = load(known[i].log);
                const struct shield_reasons *q = shield_eventlog_quirks(log);
                bool found = false;
                for (size_t k = 0; k < q->n; k++)
                        if (strcmp(q->items[k].code, known[i].quirk) == 0) {
                                found = true;
                                assert_true(q->items[k].severity != SHIELD_SEV_ERROR);
                        }
                if (!found)
                        fail_msg("%s: %s not reported", known[i].log, known[i].quirk);
                shield_eventlog_free(log);
        }
        struct shield_eventlog *log = load("edge-short-no-action.bin");
        assert_int_equal(shield_eventlog_format(log), SHIELD_EVENTLOG_LEGACY_SHA1);
        assert_int_equal(shield_eventlog_startup_locality(log), 3);
        shield_eventlog_free(log);
}

static void test_no_event_contradicts_its_digest(void **state) {
        (void)state;
        char **logs = NULL;
        size_t n = list_logs(&logs);

        for (size_t i = 0; i < n; i++) {
                struct shield_eventlog *log = load(logs[i]);
                struct shield_reasons reasons = { 0 };

                assert_int_equal(shield_eventlog_check_integrity(log, NULL, &reasons), 0);
                for (size_t k = 0; k < reasons.n; k++)
                        if (reasons.items[k].severity == SHIELD_SEV_ERROR)
                                print_error("%s: %s\n", logs[i], reasons.items[k].message);
                assert_int_equal(shield_reasons_count(&reasons, SHIELD_SEV_ERROR), 0);
                shield_reasons_clear(&reasons);
                shield_eventlog_free(log);
                free(logs[i]);
        }
        free(logs);
}

static void test_replay_matches_expected_pcrs(void **state) {
        (void)state;
        char **logs = NULL;
        size_t n = list_logs(&logs), checked = 0, values = 0;
        char *notes_path = path_of("REPLAY-NOTES.json");
        json_t *notes = json_load_file(notes_path, 0, NULL);

        assert_non_null(notes);
        for (size_t i = 0; i < n; i++) {
                char *pcrs_name = NULL, *pcrs_path;
                uint8_t *text = NULL;
                size_t len;
                struct shield_pcrs expected, replayed;
                struct shield_diag diag = { 0 };

                assert_true(asprintf(&pcrs_name, "%.*s.pcrs.json", (int)strlen(logs[i]) - 4, logs[i]) > 0);
                pcrs_path = path_of(pcrs_name);
                if (access(pcrs_path, R_OK) != 0)
                        goto next;
                assert_int_equal(shield_read_file(pcrs_path, SHIELD_PCRS_JSON_MAX, &text, &len), 0);
                assert_int_equal(shield_pcrs_parse_json((char *)text, len, &expected, &diag), 0);

                struct shield_eventlog *log = load(logs[i]);
                assert_int_equal(shield_eventlog_replay(log, NULL, &replayed, NULL), 0);
                for (size_t b = 0; b < expected.n_banks; b++) {
                        struct shield_pcrs one = { .n_banks = 1, .banks = { expected.banks[b] } };
                        struct shield_reasons reasons = { 0 };
                        uint32_t ignore = explained_pcrs(notes, logs[i], shield_hash_name(expected.banks[b].alg));

                        if (shield_pcrs_compare(&one, &replayed, ignore, &reasons) != 0) {
                                for (size_t k = 0; k < reasons.n; k++)
                                        print_error("%s: %s\n", logs[i], reasons.items[k].message);
                                fail();
                        }
                        values += (size_t)__builtin_popcount(expected.banks[b].present & ~ignore);
                        shield_reasons_clear(&reasons);
                }
                checked++;
                shield_eventlog_free(log);
                free(text);
next:
                free(pcrs_path);
                free(pcrs_name);
                free(logs[i]);
        }
        print_message("replay: %zu logs, %zu PCR values equal\n", checked, values);
        assert_true(checked >= 20);
        json_decref(notes);
        free(notes_path);
        free(logs);
}

/* Parse tpm2_eventlog's "pcrs:" YAML section into *ret (banks it printed). */
static bool tpm2_eventlog_pcrs(const char *path, struct shield_pcrs *ret) {
        char *cmd = NULL, line[512];
        bool in_pcrs = false;
        struct shield_pcr_bank *bank = NULL;
        FILE *f;

        if (asprintf(&cmd, "tpm2_eventlog '%s' 2>/dev/null", path) < 0)
                return false;
        f = popen(cmd, "r");
        free(cmd);
        if (!f)
                return false;
        memset(ret, 0, sizeof *ret);
        while (fgets(line, sizeof line, f)) {
                char name[16], hex[160];
                uint16_t alg;
                unsigned idx;

                if (strncmp(line, "pcrs:", 5) == 0) {
                        in_pcrs = true;
                        continue;
                }
                if (!in_pcrs)
                        continue;
                /* "  sha256:" then "    0 : 0x…". */
                if (line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
                        size_t k = 0;
                        for (const char *p = line + 2; *p && *p != ':' && k < sizeof name - 1; p++)
                                name[k++] = *p;
                        name[k] = '\0';
                        bank = NULL;
                        if (shield_hash_from_name(name, &alg) == 0 &&
                            shield_pcrs_add_bank(ret, alg, (uint16_t)shield_hash_size(alg), &bank) != 0)
                                bank = NULL;
                        continue;
                }
                char *colon = strstr(line, " : 0x");
                uint64_t v;
                if (!bank || !colon)
                        continue;
                *colon = '\0';
                char *num = line;
                while (*num == ' ')
                        num++;
                if (shield_parse_u64(num, 10, 23, &v) < 0)
                        continue;
                idx = (unsigned)v;
                size_t k = 0;
                for (const char *p = colon + 5; *p && *p != '\n' && k < sizeof hex - 1; p++)
                        hex[k++] = *p;
                hex[k] = '\0';
                uint8_t *bytes = NULL;
                size_t n = 0;
                if (shield_hex_decode(hex, &bytes, &n) == 0 && n == bank->size) {
                        memcpy(bank->value[idx], bytes, n);
                        bank->present |= UINT32_C(1) << idx;
                }
                free(bytes);
        }
        return pclose(f) == 0 && ret->n_banks > 0;
}

static void test_replay_agrees_with_tpm2_eventlog(void **state) {
        (void)state;
        char **logs = NULL;
        size_t n = list_logs(&logs), compared = 0;

        if (system("command -v tpm2_eventlog >/dev/null 2>&1") != 0) {
                print_message("tpm2_eventlog is not installed: skipping the second opinion\n");
                skip();
        }
        for (size_t i = 0; i < n; i++) {
                char *path = path_of(logs[i]);
                struct shield_pcrs theirs, ours;
                struct shield_eventlog *log = load(logs[i]);

                /* tpm2_eventlog refuses some real logs; those get no second opinion. */
                if (tpm2_eventlog_pcrs(path, &theirs)) {
                        struct shield_reasons reasons = { 0 };
                        assert_int_equal(shield_eventlog_replay(log, NULL, &ours, NULL), 0);
                        if (shield_pcrs_compare(&theirs, &ours, 0, &reasons) != 0) {
                                for (size_t k = 0; k < reasons.n; k++)
                                        print_error("%s: %s\n", logs[i], reasons.items[k].message);
                                fail();
                        }
                        shield_reasons_clear(&reasons);
                        compared++;
                }
                shield_eventlog_free(log);
                free(path);
                free(logs[i]);
        }
        print_message("tpm2_eventlog agrees on %zu logs\n", compared);
        assert_true(compared >= 10);
        free(logs);
}

int main(void) {
        const char *shared = getenv("SHIELD_SHARED_DATA");
        char *probe = NULL;

        if (!shared || asprintf(&probe, "%s/eventlogs", shared) < 0 || access(probe, R_OK) != 0) {
                printf("conformance-eventlogs: skipped: no shared data at %s (a fresh clone has none)\n",
                       shared ? shared : "(SHIELD_SHARED_DATA unset)");
                free(probe);
                return 77;
        }
        free(probe);
        data_dir = strdup(shared);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_logs_parse_to_the_end),
                cmocka_unit_test(test_known_quirks_are_named),
                cmocka_unit_test(test_no_event_contradicts_its_digest),
                cmocka_unit_test(test_replay_matches_expected_pcrs),
                cmocka_unit_test(test_replay_agrees_with_tpm2_eventlog),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        free(data_dir);
        return rc;
}
