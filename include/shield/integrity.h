/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Integrity monitoring (docs/INTEGRITY.md): the first attestation of an
 * instance records its golden measurement (PCR values per bank plus the
 * event list that produced them); later boots are compared with it and get
 * a colour:
 *   green   everything the policy counts is as in the golden measurement;
 *   yellow  something new appeared (a PCR the golden never extended, events
 *           appended after all golden events, which are unchanged);
 *   red     a golden PCR value or event changed, went missing or moved
 *           (boot order), or a separator is wrong.
 * Early boot (PCRs 0–7) and late boot (8–23) get their own colour; the
 * overall colour is the worse of the two.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/eventlog.h"
#include "shield/evidence.h"
#include "shield/pcrs.h"
#include "shield/reason.h"

#define SHIELD_GOLDEN_FORMAT "shieldkit-golden/1"
#define SHIELD_GOLDEN_JSON_MAX (64u << 20)    /* a golden JSON document larger than this is refused */
#define SHIELD_GOLDEN_EVENTS_MAX 65536u       /* events kept in one golden measurement */
#define SHIELD_GOLDEN_SUMMARY_MAX 256         /* bytes of one event summary (longer ones are cut) */

enum shield_colour { SHIELD_GREEN = 0, SHIELD_YELLOW = 1, SHIELD_RED = 2 };

/* "green", "yellow", "red" (anything else: "unknown"). */
const char *shield_colour_name(enum shield_colour c);

/* One measured event as the golden measurement keeps it. */
struct shield_golden_event {
        uint32_t pcr;                   /* 0..23 (events of other indexes are not kept) */
        uint32_t index;                 /* position in the firmware event log it came from */
        uint32_t type;                  /* EventType */
        uint8_t n_digests;
        struct {
                uint16_t alg;           /* TPM_ALG_ID */
                uint16_t size;
                uint8_t bytes[SHIELD_HASH_MAX_SIZE];
        } digests[SHIELD_EVENTLOG_ALGS_MAX];
        char *summary;                  /* shield_event_summary(), at most SHIELD_GOLDEN_SUMMARY_MAX bytes; never NULL */
};

struct shield_golden; /* opaque */

/*
 * Make a golden measurement from evidence: e->pcrs (when e->has_pcrs; else
 * the replay of the event log) and e->eventlog's events (EV_NO_ACTION and
 * PCR indexes over 23 left out). The log may be absent: the golden then
 * holds values only and is compared by value. SHIELD_E_FORMAT when the
 * evidence carries neither PCR values nor an event log, or the log does not
 * parse (diag says where); SHIELD_E_LIMIT over SHIELD_GOLDEN_EVENTS_MAX
 * events. *ret is written only on success; free with shield_golden_free().
 */
__attribute__((warn_unused_result))
int shield_golden_from_evidence(const struct shield_evidence *e, struct shield_golden **ret, struct shield_diag *diag);

/*
 * The same from parts already decoded (a verifier parses the log once):
 * pcrs (NULL or no banks: the replay of log) and log's events (NULL: values
 * only). Neither is kept: g holds copies.
 */
__attribute__((warn_unused_result))
int shield_golden_from_parts(const struct shield_pcrs *pcrs, const struct shield_eventlog *log,
                             struct shield_golden **ret, struct shield_diag *diag);

/* The "shieldkit-golden/1" JSON text of g (docs/INTEGRITY.md), malloc'd. SHIELD_E_NOMEM. */
__attribute__((warn_unused_result))
int shield_golden_to_json(const struct shield_golden *g, char **ret);

/*
 * Parse "shieldkit-golden/1" JSON (len bytes, at most SHIELD_GOLDEN_JSON_MAX).
 * Strict: unknown or duplicate keys, wrong types, bad hex, digest sizes
 * that do not fit the algorithm, PCR indexes over 23, events out of log
 * order and counts over the caps are errors; diag carries the byte offset
 * of a JSON syntax error, or the event index and key of a semantic one.
 * Another "format" is SHIELD_E_UNSUPPORTED. *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_golden_parse_json(const char *text, size_t len, struct shield_golden **ret, struct shield_diag *diag);

/* The golden PCR values (every bank, as recorded). Owned by g. */
const struct shield_pcrs *shield_golden_pcrs(const struct shield_golden *g);

/* Whether the golden measurement came with an event log. */
bool shield_golden_has_eventlog(const struct shield_golden *g);

/* The recorded events in log order; owned by g. NULL past the end. */
size_t shield_golden_event_count(const struct shield_golden *g);
const struct shield_golden_event *shield_golden_event(const struct shield_golden *g, size_t i);

/* NULL allowed. */
void shield_golden_free(struct shield_golden *g);

/*
 * Which PCRs give the colour. A PCR in neither mask is still compared, but
 * what changed there is reported with severity info and no colour.
 */
struct shield_integrity_policy {
        char name[32];          /* "oci", "gce", "strict" or the custom list as given */
        uint32_t early_mask;    /* bit i: PCR i (0..7) counts for the early-boot colour */
        uint32_t late_mask;     /* bit i: PCR i (8..23) counts for the late-boot colour */
};

/*
 * Parse a policy: NULL, "" or "gce" (early 0–7, late 8–15), "oci" (PCRs 0
 * and 2 only), "strict" (0–15), or a list of PCRs "0,2,4-7" (0..23; PCRs
 * 0–7 go to the early mask, the rest to the late one). SHIELD_E_FORMAT or
 * SHIELD_E_LIMIT with diag on a bad list. *ret is written only on success.
 */
__attribute__((warn_unused_result))
int shield_integrity_policy_parse(const char *spec, struct shield_integrity_policy *ret, struct shield_diag *diag);

/*
 * The result of a comparison. Reason codes (docs/INTEGRITY.md):
 * pcr-changed, pcr-new, pcr-missing, bank-missing, event-changed,
 * event-added, event-removed, event-moved, boot-order-changed,
 * separator-wrong. Severity error = red, warning = yellow, info = outside
 * the policy or nothing wrong. Each names the PCR, the bank and (for event
 * reasons) the event's index in the current log (the golden log's index
 * for a removed event).
 */
struct shield_integrity_verdict {
        enum shield_colour colour;      /* the worse of early and late */
        enum shield_colour early;       /* PCRs 0–7 in the policy */
        enum shield_colour late;        /* PCRs 8–23 in the policy */
        struct shield_reasons reasons;
};

/*
 * Compare current with golden under policy p (NULL: the default "gce").
 * Per PCR: equal values in every bank both carry are green. Otherwise,
 * when both carry an event log, the PCR's events are diffed (appended or
 * inserted events with every golden event unchanged and in order: yellow;
 * anything changed, removed or moved: red; an added separator or a boot
 * application added before a golden one: red). Without logs: a PCR the
 * golden left at its reset value that now has a value is yellow, any other
 * difference red. *ret is overwritten (not cleared first): start from
 * zero, and release with shield_integrity_verdict_clear(). SHIELD_E_INVAL
 * or SHIELD_E_NOMEM (then *ret is left as it was).
 */
__attribute__((warn_unused_result))
int shield_integrity_compare(const struct shield_golden *golden, const struct shield_golden *current,
                             const struct shield_integrity_policy *p, struct shield_integrity_verdict *ret);

/* Free the reasons and reset to green. NULL allowed. */
void shield_integrity_verdict_clear(struct shield_integrity_verdict *v);
