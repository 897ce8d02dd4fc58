/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * One finding, verdict reason or quirk. The same type serves the CLI text,
 * --json, the API and the dashboard (docs/ARCHITECTURE.md), so a failed
 * check always says what went wrong and where.
 */
enum shield_severity {
        SHIELD_SEV_INFO = 0,    /* worth knowing, nothing wrong */
        SHIELD_SEV_WARNING = 1, /* odd or non-conformant, still accepted */
        SHIELD_SEV_ERROR = 2,   /* verification fails because of this */
};

#define SHIELD_REASON_MSG_MAX 320
struct shield_reason {
        const char *code;        /* stable kebab-case id, static storage */
        enum shield_severity severity;
        uint16_t bank;           /* TPM_ALG_ID of the bank, 0 when none */
        int pcr;                 /* -1 when none */
        long event_index;        /* -1 when none */
        size_t offset;           /* byte offset in the input, SIZE_MAX when none */
        char message[SHIELD_REASON_MSG_MAX];
};

struct shield_reasons {
        size_t n, cap;
        struct shield_reason *items;
};

/*
 * Append a reason. Returns 0 or SHIELD_E_NOMEM (the list is left as it
 * was). code must have static storage duration. A message longer than
 * SHIELD_REASON_MSG_MAX - 1 bytes is cut in the middle ("…" at the cut, on
 * UTF-8 boundaries): its start (what it is about, an entry's name) and its
 * end stay.
 */
__attribute__((warn_unused_result, format(printf, 8, 9)))
int shield_reasons_add(struct shield_reasons *list, const char *code, enum shield_severity sev,
                       uint16_t bank, int pcr, long event_index, size_t offset,
                       const char *fmt, ...);

/* Highest severity in the list, SHIELD_SEV_INFO when empty. */
enum shield_severity shield_reasons_max_severity(const struct shield_reasons *list);

/* Count of reasons with exactly this severity. */
size_t shield_reasons_count(const struct shield_reasons *list, enum shield_severity sev);

/* Free the items; the list becomes empty and reusable. NULL allowed. */
void shield_reasons_clear(struct shield_reasons *list);

/* "info", "warning", "error". */
const char *shield_severity_name(enum shield_severity sev);
