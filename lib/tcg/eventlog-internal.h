/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "shield/eventlog.h"

struct shield_eventlog {
        uint8_t *buf;                   /* the log's own copy */
        size_t len;
        size_t parsed_len;              /* bytes covered by events (padding excluded) */
        enum shield_eventlog_format format;
        bool has_specid;
        struct shield_specid specid;
        int startup_locality;           /* -1 when none */
        bool wbcl_noted;
        size_t n, cap;
        struct shield_event *events;
        struct shield_reasons quirks;
};

/* Add a quirk; allocation failure only loses the note, never the parse. */
void eventlog_quirk(struct shield_eventlog *log, const char *code, enum shield_severity sev, int pcr,
                    long index, size_t offset, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The digest of ev for bank alg, or NULL when the event has none. */
const struct shield_event_digest *eventlog_event_digest(const struct shield_event *ev, uint16_t alg);
