/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Walking a TCG PC Client event log (PFP 1.05 section 10): one pass over the
 * bytes, no allocation per event, every quirk of real firmware noted rather
 * than refused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventlog-internal.h"
#include "shield/util.h"
#include "util/rd.h"

/* PFP 1.05, 10.4.5.1: the signature of the crypto-agile Spec ID event. */
static const char SPECID_SIGNATURE[16] = "Spec ID Event03";
/* PFP 1.05, 10.4.5.3: a StartupLocality EV_NO_ACTION event's signature. */
static const char LOCALITY_SIGNATURE[16] = "StartupLocality";

#define SHA1_SIZE 20
#define LEGACY_HEADER_SIZE 32 /* PCRIndex, EventType, SHA-1 digest, EventSize */

void eventlog_quirk(struct shield_eventlog *log, const char *code, enum shield_severity sev, int pcr,
                    long index, size_t offset, const char *fmt, ...) {
        char msg[SHIELD_REASON_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        (void)!shield_reasons_add(&log->quirks, code, sev, 0, pcr, index, offset, "%s", msg);
}

/*
 * A quirk that may recur on every event: noted at its first occurrence
 * only; finish_quirks() adds how many events had it.
 */
static void quirk_repeated(struct shield_eventlog *log, enum eventlog_repeat kind, const char *code,
                           enum shield_severity sev, int pcr, long index, size_t offset, const char *fmt, ...)
        __attribute__((format(printf, 8, 9)));
static void quirk_repeated(struct shield_eventlog *log, enum eventlog_repeat kind, const char *code,
                           enum shield_severity sev, int pcr, long index, size_t offset, const char *fmt, ...) {
        char msg[SHIELD_REASON_MSG_MAX];
        va_list ap;

        if (log->repeats[kind].count++ > 0)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        size_t before = log->quirks.n;
        eventlog_quirk(log, code, sev, pcr, index, offset, "%s", msg);
        log->repeats[kind].item = log->quirks.n > before ? before : SIZE_MAX;
}

const struct shield_event_digest *eventlog_event_digest(const struct shield_event *ev, uint16_t alg) {
        for (unsigned i = 0; i < ev->n_digests; i++)
                if (ev->digests[i].alg == alg)
                        return &ev->digests[i];
        return NULL;
}

static struct shield_event *new_event(struct shield_eventlog *log) {
        if (log->n == log->cap) {
                size_t cap = log->cap ? log->cap * 2 : 64;
                struct shield_event *ev;

                if (cap > SHIELD_EVENTLOG_EVENTS_MAX)
                        cap = SHIELD_EVENTLOG_EVENTS_MAX;
                if (cap == log->n)
                        return NULL;
                ev = reallocarray(log->events, cap, sizeof *ev);
                if (!ev)
                        return NULL;
                log->events = ev;
                log->cap = cap;
        }
        struct shield_event *ev = &log->events[log->n];
        ev->index = (uint32_t)log->n;
        ev->n_digests = 0;
        return ev;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != v)
                        return false;
        return true;
}

/*
 * Firmware hands over its whole log area, so real logs end in zeros or
 * erased-flash 0xFF. Called where an event would start.
 */
static bool is_padding(const struct rd *r) {
        size_t left = rd_left(r);
        const uint8_t *p = rd_cur(r);

        if (left == 0)
                return false;
        return all_bytes(p, left, 0x00) || all_bytes(p, left, 0xFF);
}

static int fail_event(struct shield_diag *diag, int code, size_t offset, size_t index, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int fail_event(struct shield_diag *diag, int code, size_t offset, size_t index, const char *fmt, ...) {
        char msg[SHIELD_DIAG_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return shield_diag_fail(diag, code, offset, (long)index, "%s", msg);
}

/* EventSize and event data, shared by both record formats. */
static int read_event_data(struct rd *r, struct shield_event *ev, size_t start, struct shield_diag *diag) {
        uint32_t size;

        if (rd_le32(r, &size) < 0)
                return fail_event(diag, SHIELD_E_TRUNCATED, r->off, ev->index,
                                  "log ends inside the event header (EventSize)");
        if (size > SHIELD_EVENT_DATA_MAX)
                return fail_event(diag, SHIELD_E_LIMIT, r->off - 4, ev->index,
                                  "EventSize %u is over the %u-byte limit", size, SHIELD_EVENT_DATA_MAX);
        if (rd_bytes(r, size, &ev->data) < 0)
                return fail_event(diag, SHIELD_E_TRUNCATED, r->off, ev->index,
                                  "EventSize %u but only %zu bytes are left in the log", size, rd_left(r));
        ev->data_size = size;
        ev->offset = start;
        ev->size = r->off - start;
        return 0;
}

static int parse_legacy_event(struct rd *r, struct shield_event *ev, struct shield_diag *diag) {
        size_t start = r->off;
        const uint8_t *digest;

        if (rd_le32(r, &ev->pcr) < 0 || rd_le32(r, &ev->type) < 0 || rd_bytes(r, SHA1_SIZE, &digest) < 0) {
                r->off = start;
                return fail_event(diag, SHIELD_E_TRUNCATED, start, ev->index,
                                  "log ends inside an event header (%zu of %u bytes left)", rd_left(r),
                                  LEGACY_HEADER_SIZE);
        }
        ev->n_digests = 1;
        ev->digests[0] = (struct shield_event_digest){ SHIELD_ALG_SHA1, SHA1_SIZE, digest };
        int rc = read_event_data(r, ev, start, diag);
        if (rc < 0)
                r->off = start;
        return rc;
}

static int parse_agile_event(struct shield_eventlog *log, struct rd *r, struct shield_event *ev,
                             struct shield_diag *diag) {
        const struct shield_specid *spec = &log->specid;
        size_t start = r->off;
        uint32_t count;
        int rc;

        if (rd_le32(r, &ev->pcr) < 0 || rd_le32(r, &ev->type) < 0 || rd_le32(r, &count) < 0) {
                rc = fail_event(diag, SHIELD_E_TRUNCATED, start, ev->index,
                                "log ends inside a TCG_PCR_EVENT2 header (%zu bytes left)", rd_left(r));
                goto fail;
        }
        if (count == 0 || count > spec->n_algs) {
                rc = fail_event(diag, SHIELD_E_FORMAT, start + 8, ev->index,
                                "digest count %u, but the Spec ID event declares %u bank%s", count,
                                spec->n_algs, spec->n_algs == 1 ? "" : "s");
                goto fail;
        }
        for (uint32_t i = 0; i < count; i++) {
                size_t at = r->off;
                uint16_t alg;
                unsigned k;

                if (rd_le16(r, &alg) < 0) {
                        rc = fail_event(diag, SHIELD_E_TRUNCATED, at, ev->index, "log ends inside digest %u", i);
                        goto fail;
                }
                for (k = 0; k < spec->n_algs && spec->algs[k].alg != alg; k++)
                        ;
                if (k == spec->n_algs) {
                        rc = fail_event(diag, SHIELD_E_FORMAT, at, ev->index,
                                        "digest %u uses algorithm 0x%04x, which the Spec ID event does not declare",
                                        i, alg);
                        goto fail;
                }
                if (eventlog_event_digest(ev, alg)) {
                        rc = fail_event(diag, SHIELD_E_FORMAT, at, ev->index,
                                        "digest %u repeats algorithm 0x%04x", i, alg);
                        goto fail;
                }
                struct shield_event_digest *d = &ev->digests[ev->n_digests];
                d->alg = alg;
                d->size = spec->algs[k].size;
                if (rd_bytes(r, d->size, &d->bytes) < 0) {
                        rc = fail_event(diag, SHIELD_E_TRUNCATED, r->off, ev->index,
                                        "log ends inside a %u-byte digest", d->size);
                        goto fail;
                }
                ev->n_digests++;
        }
        rc = read_event_data(r, ev, start, diag);
        if (rc < 0)
                goto fail;
        if (count < spec->n_algs)
                quirk_repeated(log, EVENTLOG_REPEAT_MISSING_DIGEST, "quirk-missing-bank-digest", SHIELD_SEV_WARNING,
                               (int)ev->pcr, ev->index, start, "event %u carries %u of the %u declared digests",
                               ev->index, count, spec->n_algs);
        return 0;
fail:
        r->off = start;
        ev->n_digests = 0;
        return rc;
}

/*
 * TCG_EfiSpecIDEventStruct (PFP 1.05, 10.4.5.1). after_event reads on past
 * the event's data: one real log declares vendor info that lies beyond its
 * EventSize, and tpm2_eventlog accepts it, so we take it from there.
 */
static int parse_specid(struct shield_eventlog *log, const struct shield_event *ev, struct rd *after_event,
                        struct shield_diag *diag) {
        struct shield_specid spec = { 0 };
        struct rd r = rd_init(ev->data, ev->data_size);
        size_t base = ev->offset + LEGACY_HEADER_SIZE;

        if (rd_skip(&r, sizeof SPECID_SIGNATURE) < 0 || rd_le32(&r, &spec.platform_class) < 0 ||
            rd_u8(&r, &spec.version_minor) < 0 || rd_u8(&r, &spec.version_major) < 0 ||
            rd_u8(&r, &spec.errata) < 0 || rd_u8(&r, &spec.uintn_size) < 0 || rd_le32(&r, &spec.n_algs) < 0)
                return fail_event(diag, SHIELD_E_TRUNCATED, base + r.off, 0,
                                  "Spec ID event is %u bytes, too short for its header", ev->data_size);
        if (spec.n_algs == 0)
                return fail_event(diag, SHIELD_E_FORMAT, base + r.off - 4, 0,
                                  "Spec ID event declares no digest algorithms");
        if (spec.n_algs > SHIELD_EVENTLOG_ALGS_MAX)
                return fail_event(diag, SHIELD_E_LIMIT, base + r.off - 4, 0,
                                  "Spec ID event declares %u algorithms, over the limit of %u", spec.n_algs,
                                  SHIELD_EVENTLOG_ALGS_MAX);
        for (uint32_t i = 0; i < spec.n_algs; i++) {
                size_t at = base + r.off;
                uint16_t alg, size;
                size_t known;

                if (rd_le16(&r, &alg) < 0 || rd_le16(&r, &size) < 0)
                        return fail_event(diag, SHIELD_E_TRUNCATED, at, 0,
                                          "Spec ID event ends inside algorithm %u of %u", i, spec.n_algs);
                known = shield_hash_size(alg);
                if (known && known != size)
                        return fail_event(diag, SHIELD_E_FORMAT, at, 0,
                                          "Spec ID algorithm %s declares digest size %u, expected %zu",
                                          shield_hash_name(alg), size, known);
                if (size == 0 || size > SHIELD_HASH_MAX_SIZE)
                        return fail_event(diag, SHIELD_E_FORMAT, at, 0,
                                          "Spec ID algorithm 0x%04x declares digest size %u (1-%u allowed)", alg,
                                          size, SHIELD_HASH_MAX_SIZE);
                for (uint32_t k = 0; k < i; k++)
                        if (spec.algs[k].alg == alg)
                                return fail_event(diag, SHIELD_E_FORMAT, at, 0,
                                                  "Spec ID event declares algorithm 0x%04x twice", alg);
                if (!known)
                        eventlog_quirk(log, "quirk-unknown-algorithm", SHIELD_SEV_INFO, -1, 0, at,
                                       "bank 0x%04x (%u-byte digests) is carried but cannot be replayed", alg,
                                       size);
                spec.algs[i].alg = alg;
                spec.algs[i].size = size;
        }
        if (rd_u8(&r, &spec.vendor_info_size) < 0)
                return fail_event(diag, SHIELD_E_TRUNCATED, base + r.off, 0,
                                  "Spec ID event ends before vendorInfoSize");
        if (rd_bytes(&r, spec.vendor_info_size, &spec.vendor_info) < 0) {
                size_t inside = rd_left(&r), outside = spec.vendor_info_size - inside;

                /* The vendor info must then continue right after the event: take it from there. */
                if (inside != 0 || rd_bytes(after_event, outside, &spec.vendor_info) < 0)
                        return fail_event(diag, SHIELD_E_TRUNCATED, base + r.off, 0,
                                          "vendorInfoSize %u exceeds the %zu bytes left", spec.vendor_info_size,
                                          inside + rd_left(after_event));
                eventlog_quirk(log, "quirk-specid-vendor-info-outside-event", SHIELD_SEV_WARNING, -1, 0,
                               ev->offset,
                               "Spec ID vendor info (%u bytes) lies after the event's declared EventSize %u",
                               spec.vendor_info_size, ev->data_size);
        } else if (rd_left(&r)) {
                eventlog_quirk(log, "quirk-specid-trailing-bytes", SHIELD_SEV_WARNING, -1, 0, base + r.off,
                               "%zu bytes after the Spec ID vendor info", rd_left(&r));
        }
        if (spec.vendor_info_size)
                eventlog_quirk(log, "quirk-specid-vendor-info", SHIELD_SEV_INFO, -1, 0, ev->offset,
                               "Spec ID event carries %u bytes of vendor info", spec.vendor_info_size);
        /* PFP 1.05, 10.4.5.1: specVersionMajor 2, specVersionMinor 0 for this structure. */
        if (spec.version_major != 2 || spec.version_minor != 0)
                eventlog_quirk(log, "quirk-specid-version", SHIELD_SEV_WARNING, -1, 0, ev->offset,
                               "Spec ID event version %u.%u errata %u (2.0 expected)", spec.version_major,
                               spec.version_minor, spec.errata);
        if (spec.uintn_size != 1 && spec.uintn_size != 2)
                eventlog_quirk(log, "quirk-specid-uintn-size", SHIELD_SEV_WARNING, -1, 0, ev->offset,
                               "Spec ID uintnSize is %u (1 or 2 expected)", spec.uintn_size);
        if (ev->type != EV_NO_ACTION || ev->pcr != 0)
                eventlog_quirk(log, "quirk-specid-header", SHIELD_SEV_WARNING, (int)ev->pcr, 0, ev->offset,
                               "Spec ID event has PCR %u and type 0x%x (PCR 0, EV_NO_ACTION expected)", ev->pcr,
                               ev->type);
        log->specid = spec;
        log->has_specid = true;
        return 0;
}

static bool is_specid(const struct shield_event *ev) {
        return ev->data_size >= sizeof SPECID_SIGNATURE &&
               memcmp(ev->data, SPECID_SIGNATURE, sizeof SPECID_SIGNATURE) == 0;
}

/* PFP 1.05, 10.4.4: the EV_EFI_ACTION strings logged at ExitBootServices(). */
static const char EBS_ACTION[] = "Exit Boot Services";

static bool data_starts_with(const struct shield_event *ev, const char *s, size_t n) {
        return ev->data_size >= n && memcmp(ev->data, s, n) == 0;
}

static void note_startup_locality(struct shield_eventlog *log, const struct shield_event *ev) {
        uint8_t locality = ev->data[sizeof LOCALITY_SIGNATURE];

        if (log->startup_locality >= 0)
                eventlog_quirk(log, "quirk-startup-locality-repeated", SHIELD_SEV_WARNING, 0, ev->index, ev->offset,
                               "a second StartupLocality event (%u); the first (%d) sets PCR 0", locality,
                               log->startup_locality);
        else if (ev->pcr != 0)
                eventlog_quirk(log, "quirk-startup-locality-pcr", SHIELD_SEV_WARNING, (int)ev->pcr, ev->index,
                               ev->offset, "StartupLocality event logged for PCR %u, not 0", ev->pcr);
        if (locality > 4)
                eventlog_quirk(log, "quirk-startup-locality-value", SHIELD_SEV_WARNING, 0, ev->index, ev->offset,
                               "StartupLocality %u (0-4 expected)", locality);
        else if (log->startup_locality < 0)
                eventlog_quirk(log, "quirk-startup-locality", SHIELD_SEV_INFO, 0, ev->index, ev->offset,
                               "StartupLocality %u%s: PCR 0 starts at 00..0%u", locality,
                               locality == 4 ? " (H-CRTM)" : locality == 3 ? " (locality-3 start)" : "",
                               locality);
        if (log->startup_locality < 0)
                log->startup_locality = locality;
}

/*
 * Notes on one parsed event that concern the whole log. Runs on every event
 * of a 30 MB log: only a switch on the type and the PCR in the common case.
 */
static void note_event(struct shield_eventlog *log, const struct shield_event *ev) {
        switch (ev->type) {
        case EV_NO_ACTION:
                if (ev->data_size == sizeof LOCALITY_SIGNATURE + 1 &&
                    data_starts_with(ev, LOCALITY_SIGNATURE, sizeof LOCALITY_SIGNATURE))
                        note_startup_locality(log, ev);
                break;
        case EV_POST_CODE:
                /*
                 * PFP 1.05, 10.4.1 (EV_POST_CODE): a UEFI_PLATFORM_FIRMWARE_BLOB (16 bytes:
                 * base and length). Lenovo and HP log the 9-byte string "ACPI DATA" instead;
                 * the digest still covers the firmware, so only the description is odd.
                 */
                if (ev->data_size != 16)
                        quirk_repeated(log, EVENTLOG_REPEAT_POST_CODE, "quirk-post-code-string", SHIELD_SEV_INFO,
                                       (int)ev->pcr, ev->index, ev->offset,
                                       "EV_POST_CODE with %u bytes of data (\"%.*s\"), not a 16-byte UEFI_PLATFORM_FIRMWARE_BLOB",
                                       ev->data_size, (int)(ev->data_size < 32 ? ev->data_size : 32),
                                       (const char *)ev->data);
                break;
        case EV_EFI_ACTION:
                if (data_starts_with(ev, EBS_ACTION, sizeof EBS_ACTION - 1))
                        log->seen_exit_boot_services = true;
                break;
        case EV_EFI_HCRTM_EVENT:
                log->seen_hcrtm = true;
                break;
        default:
                break;
        }
        if (ev->type >= EV_EFI_EVENT_BASE)
                log->seen_efi = true;
        if (ev->pcr < SHIELD_PCR_COUNT)
                return;
        if (ev->pcr == SHIELD_PCR_INDEX_WBCL)
                /* Windows keeps its own records in the log with this index; they are never extended. */
                quirk_repeated(log, EVENTLOG_REPEAT_WBCL, "quirk-wbcl-records", SHIELD_SEV_INFO, -1, ev->index,
                               ev->offset, "Windows (WBCL) records with PCR index 0xFFFFFFFF, not extended");
        else
                quirk_repeated(log, EVENTLOG_REPEAT_PCR_INDEX, "quirk-pcr-index", SHIELD_SEV_WARNING, -1, ev->index,
                               ev->offset, "event for PCR %u, which does not exist; not extended", ev->pcr);
}

/* Findings about the log as a whole, and the counts of repeated quirks. */
static void finish_quirks(struct shield_eventlog *log) {
        if (log->seen_hcrtm && log->startup_locality != 4)
                eventlog_quirk(log, "quirk-hcrtm-without-locality", SHIELD_SEV_WARNING, 0, -1, SIZE_MAX,
                               "an EV_EFI_HCRTM_EVENT but no StartupLocality 4 event: PCR 0 is replayed from %s",
                               log->startup_locality >= 0 ? "the logged locality" : "zero");
        /*
         * PFP 1.05, 10.4.4: firmware logs EV_EFI_ACTION "Exit Boot Services Invocation" in
         * PCR 5. Without it PCR 5 cannot replay to the TPM's value (the firmware extended
         * it, or the OS read the log before it was written).
         */
        if (log->seen_efi && !log->seen_exit_boot_services)
                eventlog_quirk(log, "quirk-no-exit-boot-services", SHIELD_SEV_WARNING, 5, -1, SIZE_MAX,
                               "no \"Exit Boot Services\" EV_EFI_ACTION event: PCR 5 may not replay to the TPM's value");
        for (unsigned k = 0; k < EVENTLOG_REPEAT_MAX; k++) {
                size_t count = log->repeats[k].count, item = log->repeats[k].item;
                if (count < 2 || item >= log->quirks.n)
                        continue;
                char *msg = log->quirks.items[item].message;
                size_t used = strlen(msg);
                snprintf(msg + used, SHIELD_REASON_MSG_MAX - used, " (%zu events in all)", count);
        }
}

static int parse_events(struct shield_eventlog *log, struct rd *r, struct shield_diag *diag) {
        while (rd_left(r)) {
                if (is_padding(r)) {
                        eventlog_quirk(log, "quirk-trailing-padding", SHIELD_SEV_INFO, -1, (long)log->n, r->off,
                                       "%zu bytes of padding (0x%02x) after the last event", rd_left(r),
                                       *rd_cur(r));
                        break;
                }
                struct shield_event *ev = new_event(log);
                if (!ev)
                        return log->n >= SHIELD_EVENTLOG_EVENTS_MAX
                                       ? fail_event(diag, SHIELD_E_LIMIT, r->off, log->n,
                                                    "more than %u events", SHIELD_EVENTLOG_EVENTS_MAX)
                                       : SHIELD_E_NOMEM;
                int rc = log->format == SHIELD_EVENTLOG_CRYPTO_AGILE ? parse_agile_event(log, r, ev, diag)
                                                                     : parse_legacy_event(r, ev, diag);
                if (rc < 0)
                        return rc;
                log->n++;
                note_event(log, ev);
        }
        log->parsed_len = r->off;
        return 0;
}

static int parse_owned(uint8_t *buf, size_t len, struct shield_eventlog **ret, struct shield_diag *diag);

int shield_eventlog_parse(const uint8_t *buf, size_t len, struct shield_eventlog **ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;
        /* Refuse an oversized log before copying it, not after. */
        if (len > SHIELD_EVENTLOG_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the log is %zu bytes, over the %u-byte limit",
                                        len, SHIELD_EVENTLOG_MAX);
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
                return SHIELD_E_NOMEM;
        if (len)
                memcpy(copy, buf, len);
        return parse_owned(copy, len, ret, diag);
}

int shield_eventlog_parse_take(uint8_t **buf, size_t len, struct shield_eventlog **ret, struct shield_diag *diag) {
        if (!buf || !*buf || !ret) {
                if (buf) {
                        free(*buf); /* the contract: taken whatever happens */
                        *buf = NULL;
                }
                return SHIELD_E_INVAL;
        }
        int rc = parse_owned(*buf, len, ret, diag);
        *buf = NULL; /* taken either way: parse_owned freed it on failure */
        return rc;
}

static int parse_owned(uint8_t *buf, size_t len, struct shield_eventlog **ret, struct shield_diag *diag) {
        int rc;

        if (len == 0 || len > SHIELD_EVENTLOG_MAX) {
                free(buf);
                if (len == 0)
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1, "the event log is empty");
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the log is %zu bytes, over the %u-byte limit",
                                        len, SHIELD_EVENTLOG_MAX);
        }
        struct shield_eventlog *log = calloc(1, sizeof *log);
        if (!log) {
                free(buf);
                return SHIELD_E_NOMEM;
        }
        log->startup_locality = -1;
        log->format = SHIELD_EVENTLOG_LEGACY_SHA1;
        log->buf = buf;
        log->len = len;

        struct rd r = rd_init(log->buf, len);
        /* Every log starts with a legacy-format record; a Spec ID Event03 there makes it crypto-agile. */
        struct shield_event *first = new_event(log);
        if (!first) {
                rc = SHIELD_E_NOMEM;
                goto fail;
        }
        rc = parse_legacy_event(&r, first, diag);
        if (rc < 0)
                goto fail;
        log->n = 1;
        if (is_specid(first)) {
                rc = parse_specid(log, first, &r, diag);
                if (rc < 0)
                        goto fail;
                log->format = SHIELD_EVENTLOG_CRYPTO_AGILE;
                if (!all_bytes(first->digests[0].bytes, SHA1_SIZE, 0))
                        eventlog_quirk(log, "quirk-specid-digest", SHIELD_SEV_WARNING, 0, 0, 0,
                                       "Spec ID event digest is not zero");
        } else {
                /*
                 * No Spec ID Event03: TCG 1.2 records throughout. Real SHA-1 logs start with
                 * whatever the firmware measured first (GCE and HP: EV_S_CRTM_VERSION), and
                 * TCG 1.2 EFI firmware may log a "Spec ID Event00" header, which is a plain
                 * EV_NO_ACTION record here.
                 */
                const char *name = shield_event_type_name(first->type);
                eventlog_quirk(log, "quirk-legacy-format", SHIELD_SEV_INFO, -1, 0, 0,
                               "no Spec ID Event03: a legacy SHA-1 log whose first event is %s (PCR %u)",
                               name ? name : "of an unknown type", first->pcr);
                note_event(log, first);
        }
        if (log->format == SHIELD_EVENTLOG_CRYPTO_AGILE) {
                /*
                 * Size the events array for the smallest possible event once: untouched pages
                 * cost nothing, while growing by copies would move the whole array repeatedly.
                 */
                size_t min_event = 16;
                for (unsigned i = 0; i < log->specid.n_algs; i++)
                        min_event += 2 + log->specid.algs[i].size;
                size_t want = len / min_event + 2;
                if (want > SHIELD_EVENTLOG_EVENTS_MAX)
                        want = SHIELD_EVENTLOG_EVENTS_MAX;
                if (want > log->cap) {
                        struct shield_event *ev = shield_alloc_large(want * sizeof *ev);
                        if (!ev) {
                                rc = SHIELD_E_NOMEM;
                                goto fail;
                        }
                        memcpy(ev, log->events, log->n * sizeof *ev);
                        free(log->events);
                        log->events = ev;
                        log->cap = want;
                }
        }
        rc = parse_events(log, &r, diag);
        if (rc < 0)
                goto fail;
        finish_quirks(log);
        *ret = log;
        return 0;
fail:
        shield_eventlog_free(log);
        return rc;
}

void shield_eventlog_free(struct shield_eventlog *log) {
        if (!log)
                return;
        free(log->events);
        free(log->buf);
        shield_reasons_clear(&log->quirks);
        free(log);
}

enum shield_eventlog_format shield_eventlog_format(const struct shield_eventlog *log) {
        return log->format;
}

const struct shield_specid *shield_eventlog_specid(const struct shield_eventlog *log) {
        return log->has_specid ? &log->specid : NULL;
}

int shield_eventlog_startup_locality(const struct shield_eventlog *log) {
        return log->startup_locality;
}

size_t shield_eventlog_count(const struct shield_eventlog *log) {
        return log->n;
}

const struct shield_event *shield_eventlog_event(const struct shield_eventlog *log, size_t i) {
        return i < log->n ? &log->events[i] : NULL;
}

const uint8_t *shield_eventlog_bytes(const struct shield_eventlog *log, size_t *ret_len) {
        if (ret_len)
                *ret_len = log->len;
        return log->buf;
}

const struct shield_reasons *shield_eventlog_quirks(const struct shield_eventlog *log) {
        return &log->quirks;
}
