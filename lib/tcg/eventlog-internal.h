/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "shield/eventlog.h"

/* Per-event quirks noted once per log (with a count). */
enum eventlog_repeat {
        EVENTLOG_REPEAT_MISSING_DIGEST,
        EVENTLOG_REPEAT_PCR_INDEX,
        EVENTLOG_REPEAT_WBCL,
        EVENTLOG_REPEAT_POST_CODE,
        EVENTLOG_REPEAT_MAX,
};

struct shield_eventlog {
        uint8_t *buf;                   /* the log's own copy */
        size_t len;
        size_t parsed_len;              /* bytes covered by events (padding excluded) */
        enum shield_eventlog_format format;
        bool has_specid;
        struct shield_specid specid;
        int startup_locality;           /* -1 when none */
        bool seen_efi;                  /* some event has an EV_EFI_* type */
        bool seen_exit_boot_services;   /* the "Exit Boot Services …" EV_EFI_ACTION */
        bool seen_hcrtm;                /* an EV_EFI_HCRTM_EVENT */
        /*
         * Quirks that can recur on every event are noted once, at their first
         * occurrence, and the count is added when the parse ends: a 30 MB log
         * must not carry a million copies of the same note.
         */
        struct {
                size_t count;
                size_t item;            /* index in quirks, SIZE_MAX when the note was lost */
        } repeats[EVENTLOG_REPEAT_MAX];
        size_t n, cap;
        struct shield_event *events;
        struct shield_reasons quirks;
};

/* Add a quirk; allocation failure only loses the note, never the parse. */
void eventlog_quirk(struct shield_eventlog *log, const char *code, enum shield_severity sev, int pcr,
                    long index, size_t offset, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The digest of ev for bank alg, or NULL when the event has none. */
const struct shield_event_digest *eventlog_event_digest(const struct shield_event *ev, uint16_t alg);
