/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden measurement JSON: parse; what parses is written back and parsed
 * again (the same text must come out), compared with itself (always green)
 * and with the empty golden measurement under the strict policy.
 */
#include <stdlib.h>
#include <string.h>

#include "shield/integrity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char empty[] = "{\"format\": \"shieldkit-golden/1\", \"pcrs\": {}, \"eventlog\": true, \"events\": []}";
        struct shield_golden *g = NULL, *again = NULL, *base = NULL;
        struct shield_integrity_policy strict;
        struct shield_integrity_verdict v = { 0 };
        struct shield_diag diag;
        char *text = NULL, *text2 = NULL;

        if (shield_golden_parse_json((const char *)data, size, &g, &diag) < 0)
                return 0;
        if (shield_golden_to_json(g, &text) == 0) {
                if (shield_golden_parse_json(text, strlen(text), &again, &diag) != 0)
                        abort(); /* what we write we must read */
                if (shield_golden_to_json(again, &text2) != 0 || strcmp(text, text2) != 0)
                        abort();
        }
        if (shield_integrity_compare(g, g, NULL, &v) == 0 && v.colour != SHIELD_GREEN)
                abort();
        shield_integrity_verdict_clear(&v);
        if (shield_integrity_policy_parse("strict", &strict, NULL) == 0 &&
            shield_golden_parse_json(empty, strlen(empty), &base, NULL) == 0) {
                (void)!shield_integrity_compare(base, g, &strict, &v);
                shield_integrity_verdict_clear(&v);
                (void)!shield_integrity_compare(g, base, &strict, &v);
                shield_integrity_verdict_clear(&v);
        }
        free(text);
        free(text2);
        shield_golden_free(g);
        shield_golden_free(again);
        shield_golden_free(base);
        return 0;
}
