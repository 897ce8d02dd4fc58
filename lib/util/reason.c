/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "shield/error.h"
#include "shield/reason.h"

int shield_reasons_add(struct shield_reasons *list, const char *code, enum shield_severity sev,
                       uint16_t bank, int pcr, long event_index, size_t offset,
                       const char *fmt, ...) {
        if (list->n == list->cap) {
                size_t cap = list->cap ? list->cap * 2 : 8;
                struct shield_reason *items = reallocarray(list->items, cap, sizeof *items);

                if (!items)
                        return SHIELD_E_NOMEM;
                list->items = items;
                list->cap = cap;
        }
        struct shield_reason *r = &list->items[list->n++];
        va_list ap;

        *r = (struct shield_reason){ .code = code, .severity = sev, .bank = bank, .pcr = pcr,
                                     .event_index = event_index, .offset = offset };
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
        return 0;
}

enum shield_severity shield_reasons_max_severity(const struct shield_reasons *list) {
        enum shield_severity max = SHIELD_SEV_INFO;

        for (size_t i = 0; i < list->n; i++)
                if (list->items[i].severity > max)
                        max = list->items[i].severity;
        return max;
}

size_t shield_reasons_count(const struct shield_reasons *list, enum shield_severity sev) {
        size_t n = 0;

        for (size_t i = 0; i < list->n; i++)
                n += list->items[i].severity == sev;
        return n;
}

void shield_reasons_clear(struct shield_reasons *list) {
        if (!list)
                return;
        free(list->items);
        *list = (struct shield_reasons){ 0 };
}

const char *shield_severity_name(enum shield_severity sev) {
        switch (sev) {
        case SHIELD_SEV_INFO: return "info";
        case SHIELD_SEV_WARNING: return "warning";
        case SHIELD_SEV_ERROR: return "error";
        }
        return "unknown";
}
