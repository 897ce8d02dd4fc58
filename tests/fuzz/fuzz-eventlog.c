/* SPDX-License-Identifier: Apache-2.0 */
/* Event logs: parse, then everything that reads a parsed log. */
#include <stdlib.h>

#include "shield/eventlog-json.h"
#include "shield/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct shield_eventlog *log = NULL;
        struct shield_pcrs pcrs;
        struct shield_reasons reasons = { 0 };
        struct shield_secureboot sb;

        if (shield_eventlog_parse(data, size, &log, NULL) < 0)
                return 0;
        for (size_t i = 0; i < shield_eventlog_count(log); i++) {
                const struct shield_event *ev = shield_eventlog_event(log, i);
                char *summary = NULL;
                json_t *j = NULL;
                if (shield_event_summary(log, ev, &summary) == 0)
                        free(summary);
                if (shield_event_decode_json(log, ev, &j) == 0)
                        json_decref(j);
        }
        (void)!shield_eventlog_replay(log, NULL, &pcrs, &reasons);
        (void)!shield_eventlog_check_integrity(log, NULL, &reasons);
        if (shield_eventlog_secureboot(log, &sb) == 0)
                shield_secureboot_clear(&sb);
        shield_reasons_clear(&reasons);
        shield_eventlog_free(log);
        return 0;
}
