/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/error.h"
#include "shield/reason.h"

/*
 * Fit a message into out (size bytes with the NUL): a long one is cut in the
 * middle, "…" marking the cut, so both the start (what the reason is about:
 * an entry's name, a policy note) and the end (a verdict, "golden event N")
 * stay. Cuts fall on UTF-8 character boundaries.
 */
static void shorten_middle(const char *in, size_t len, char *out, size_t size) {
        if (len < size) {
                memcpy(out, in, len + 1);
                return;
        }
        size_t room = size - 1 - 3; /* "…" is 3 bytes */
        size_t head = room * 2 / 3, from = len - (room - head);
        while (head && ((unsigned char)in[head] & 0xC0) == 0x80)
                head--;
        while (from < len && ((unsigned char)in[from] & 0xC0) == 0x80)
                from++;
        memcpy(out, in, head);
        memcpy(out + head, "\xe2\x80\xa6", 3);
        memcpy(out + head + 3, in + from, len - from + 1);
}

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
        char full[4 * SHIELD_REASON_MSG_MAX];
        int n = vsnprintf(full, sizeof full, fmt, ap);
        va_end(ap);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof full ? (size_t)n : sizeof full - 1;
        full[len] = '\0';
        shorten_middle(full, len, r->message, sizeof r->message);
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
