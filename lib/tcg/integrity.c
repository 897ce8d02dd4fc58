/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event integrity: for the event types whose digest the PC Client PFP
 * defines over the event data itself, recompute it. A log whose contents
 * were edited after the fact then no longer passes, even though its
 * digests still replay to the TPM's PCRs.
 *
 * Types whose digest covers something outside the log (images, firmware
 * volumes, MokList contents, kernel command lines) are not judged: a false
 * alarm on a real machine's log would be a bug.
 */
#include <stdio.h>
#include <string.h>

#include "eventlog-internal.h"
#include "shield/util.h"
#include "util/rd.h"

enum digest_rule {
        RULE_NONE,          /* not defined over the data: not judged */
        RULE_WHOLE_DATA,    /* digest = H(event data) */
        RULE_VARIABLE,      /* H(UEFI_VARIABLE_DATA), or, as older firmware does, H(VariableData) */
        RULE_GRUB_STRING,   /* grub's PCR 8 strings: H(string after the prefix) */
};

/*
 * grub (grub-core/commands/tpm.c and the RHEL/Fedora patches it grew from)
 * measures each command and kernel command line into PCR 8 as EV_IPL: the
 * event data is a prefix, the string and a NUL; the digest is over the
 * string alone (upstream) or the string and its NUL (RHEL). Every such
 * event in the real logs tests/conformance reads (860 events from 17 logs)
 * follows one of the two. Other EV_IPL events (grub's PCR 9 files, shim's
 * PCR 14 MOK lists, systemd's PCR 12 strings) cover bytes outside the log
 * and are not judged.
 */
#define GRUB_STRING_PCR 8
static const char *const grub_prefixes[] = {
        "grub_cmd: ", "kernel_cmdline: ", "module_cmdline: ", /* upstream grub 2.04+ */
        "grub_cmd ", "grub_kernel_cmdline ",                    /* RHEL / Fedora grub 2.02 */
};

/* Bytes of the grub prefix ev's data starts with, 0 when none. */
static size_t grub_prefix(const struct shield_event *ev) {
        for (size_t i = 0; i < sizeof grub_prefixes / sizeof grub_prefixes[0]; i++) {
                size_t n = strlen(grub_prefixes[i]);
                if (ev->data_size > n && memcmp(ev->data, grub_prefixes[i], n) == 0)
                        return n;
        }
        return 0;
}

static enum digest_rule rule_for(const struct shield_event *ev) {
        switch (ev->type) {
        case EV_SEPARATOR:                   /* PFP 1.05, 10.4.1: the digest of the 4-byte value */
        case EV_EFI_ACTION:                  /* the digest of the ASCII string */
        case EV_ACTION:
        case EV_EFI_GPT_EVENT:               /* the digest of UEFI_GPT_DATA */
        case EV_EFI_VARIABLE_AUTHORITY:      /* the digest of UEFI_VARIABLE_DATA */
                return RULE_WHOLE_DATA;
        case EV_EFI_VARIABLE_DRIVER_CONFIG:  /* PFP: UEFI_VARIABLE_DATA; TPM 1.2-era firmware: VariableData */
        case EV_EFI_VARIABLE_BOOT:
        case EV_EFI_VARIABLE_BOOT2:
                return RULE_VARIABLE;
        case EV_IPL:
                return ev->pcr == GRUB_STRING_PCR && grub_prefix(ev) ? RULE_GRUB_STRING : RULE_NONE;
        /*
         * Not judged, on purpose: EV_S_CRTM_VERSION (a real Dell server's digest is not over
         * its version string), EV_COMPACT_HASH and EV_PLATFORM_CONFIG_FLAGS (vendor-defined),
         * EV_POST_CODE, EV_S_CRTM_CONTENTS, firmware blobs and images (digests of code),
         * EV_EFI_HANDOFF_TABLES (the data holds pointers to the tables measured), EV_NO_ACTION
         * (never extended) and EV_EVENT_TAG (systemd's tagged events hash other bytes).
         */
        default:
                return RULE_NONE;
        }
}

/*
 * Bytes a UEFI_VARIABLE_DATA declares (header, name, data), or 0 when the
 * header does not parse. Old shim builds logged their "Shim" authority with
 * a few stray bytes after the declared structure and a digest over part of
 * them (dell-legacy-sha1.bin, event 26).
 */
static size_t variable_declared_size(const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint64_t name_len, data_len;

        if (rd_skip(&r, 16) < 0 || rd_le64(&r, &name_len) < 0 || rd_le64(&r, &data_len) < 0)
                return 0;
        if (name_len > rd_left(&r) / 2 || data_len > rd_left(&r) - name_len * 2)
                return 0;
        return r.off + (size_t)name_len * 2 + (size_t)data_len;
}

/* The most stray bytes after a variable's declared structure we look past. */
#define VARIABLE_STRAY_BYTES_MAX 16

/*
 * Does the digest cover the declared structure plus some of the stray bytes
 * after it? Decoders read only the declared structure, so nothing a reader
 * sees escapes the check.
 */
static int digest_over_prefix(struct shield_hasher *h, const struct shield_event *ev,
                              const struct shield_event_digest *d, bool *ret) {
        size_t declared = variable_declared_size(ev);
        uint8_t md[SHIELD_HASH_MAX_SIZE];

        *ret = false;
        if (!declared || declared >= ev->data_size || ev->data_size - declared > VARIABLE_STRAY_BYTES_MAX)
                return 0;
        for (size_t k = declared; k < ev->data_size; k++) {
                int r = shield_hasher_digest2(h, d->alg, ev->data, k, NULL, 0, md);
                if (r < 0)
                        return r;
                if (memcmp(md, d->bytes, d->size) == 0) {
                        *ret = true;
                        return 0;
                }
        }
        return 0;
}

/* The VariableData part of a UEFI_VARIABLE_DATA, or false when it does not parse. */
static bool variable_data(const struct shield_event *ev, const uint8_t **ret, size_t *ret_len) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint64_t name_len, data_len;

        if (rd_skip(&r, 16) < 0 || rd_le64(&r, &name_len) < 0 || rd_le64(&r, &data_len) < 0)
                return false;
        if (name_len > rd_left(&r) / 2 || rd_skip(&r, (size_t)name_len * 2) < 0 || data_len != rd_left(&r))
                return false;
        *ret = rd_cur(&r);
        *ret_len = (size_t)data_len;
        return true;
}

/* Does d match the grub string: with or without its NUL, after the prefix (or, defensively, with it)? */
static int grub_string_matches(struct shield_hasher *h, const struct shield_event *ev,
                               const struct shield_event_digest *d, bool *ret) {
        size_t prefix = grub_prefix(ev), n = ev->data_size;
        size_t nul = ev->data[n - 1] == 0 ? 1 : 0;
        const struct {
                size_t off, len;
        } spans[] = { { prefix, n - prefix - nul }, { prefix, n - prefix }, { 0, n - nul }, { 0, n } };
        uint8_t md[SHIELD_HASH_MAX_SIZE];

        *ret = false;
        for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
                if (i % 2 == 1 && !nul)
                        continue; /* the same span as the one before */
                int r = shield_hasher_digest2(h, d->alg, ev->data + spans[i].off, spans[i].len, NULL, 0, md);
                if (r < 0)
                        return r;
                if (memcmp(md, d->bytes, d->size) == 0) {
                        *ret = true;
                        return 0;
                }
        }
        return 0;
}

static int report(struct shield_reasons *out, const struct shield_event *ev, const struct shield_event_digest *d,
                  const uint8_t *computed) {
        char logged[2 * SHIELD_HASH_MAX_SIZE + 1], want[2 * SHIELD_HASH_MAX_SIZE + 1];
        const char *type = shield_event_type_name(ev->type);

        shield_hex_encode(d->bytes, d->size, logged);
        shield_hex_encode(computed, d->size, want);
        return shield_reasons_add(out, "event-digest-mismatch", SHIELD_SEV_ERROR, d->alg, (int)ev->pcr,
                                  (long)ev->index, ev->offset,
                                  "PCR %u event %u %s: the %s digest %s does not match its data (%s)", ev->pcr,
                                  ev->index, type ? type : "(unknown type)", shield_hash_name(d->alg), logged,
                                  want);
}

int shield_eventlog_check_integrity(const struct shield_eventlog *log, struct shield_hasher *hasher,
                                    struct shield_reasons *out) {
        if (!log || !out)
                return SHIELD_E_INVAL;
        struct shield_hasher *own = NULL;
        int r = 0;

        if (!hasher) {
                r = shield_hasher_new(&own);
                if (r < 0)
                        return r;
                hasher = own;
        }
        /* The Spec ID header (event 0 of a crypto-agile log) is not a measurement. */
        for (size_t i = log->has_specid ? 1 : 0; i < log->n; i++) {
                const struct shield_event *ev = &log->events[i];
                enum digest_rule rule = rule_for(ev);
                const uint8_t *vdata = NULL;
                size_t vlen = 0;
                bool have_vdata = rule == RULE_VARIABLE && variable_data(ev, &vdata, &vlen);

                bool noted = false; /* a quirk is reported once per event, not once per bank */

                if (rule == RULE_NONE || ev->pcr >= SHIELD_PCR_COUNT)
                        continue;
                for (unsigned k = 0; k < ev->n_digests; k++) {
                        const struct shield_event_digest *d = &ev->digests[k];
                        uint8_t whole[SHIELD_HASH_MAX_SIZE], part[SHIELD_HASH_MAX_SIZE];

                        if (shield_hash_size(d->alg) != d->size)
                                continue; /* a bank we cannot compute */
                        if (rule == RULE_GRUB_STRING) {
                                bool ok;
                                r = grub_string_matches(hasher, ev, d, &ok);
                                if (r < 0)
                                        goto out;
                                if (!ok) {
                                        /* Show what upstream grub would have logged: the string without its NUL. */
                                        size_t p = grub_prefix(ev), n = ev->data_size - p;
                                        n -= ev->data[ev->data_size - 1] == 0;
                                        r = shield_hasher_digest2(hasher, d->alg, ev->data + p, n, NULL, 0, whole);
                                        if (r < 0)
                                                goto out;
                                        r = report(out, ev, d, whole);
                                        if (r < 0)
                                                goto out;
                                }
                                continue;
                        }
                        r = shield_hasher_digest2(hasher, d->alg, ev->data, ev->data_size, NULL, 0, whole);
                        if (r < 0)
                                goto out;
                        if (memcmp(whole, d->bytes, d->size) == 0)
                                continue;
                        if (have_vdata) {
                                r = shield_hasher_digest2(hasher, d->alg, vdata, vlen, NULL, 0, part);
                                if (r < 0)
                                        goto out;
                                /*
                                 * Older firmware measures only VariableData: accepted, but the
                                 * variable's name and GUID are then not covered by any digest.
                                 */
                                if (memcmp(part, d->bytes, d->size) == 0) {
                                        if (!noted) {
                                                /* edk2 measures Boot#### this way; for Secure Boot policy it is a gap. */
                                                bool boot = ev->type != EV_EFI_VARIABLE_DRIVER_CONFIG;
                                                r = shield_reasons_add(out, boot ? "quirk-boot-variable-data-only" : "quirk-variable-data-only",
                                                                       boot ? SHIELD_SEV_INFO : SHIELD_SEV_WARNING, 0,
                                                                       (int)ev->pcr, (long)ev->index, ev->offset,
                                                                       "event %u: the firmware measured only the variable's data; its name and GUID are not covered by the digest",
                                                                       ev->index);
                                                if (r < 0)
                                                        goto out;
                                                noted = true;
                                        }
                                        continue;
                                }
                        }
                        if (ev->type != EV_SEPARATOR && ev->type != EV_EFI_ACTION && ev->type != EV_ACTION &&
                            ev->type != EV_EFI_GPT_EVENT) {
                                bool prefix;
                                r = digest_over_prefix(hasher, ev, d, &prefix);
                                if (r < 0)
                                        goto out;
                                if (prefix && noted)
                                        continue;
                                if (prefix) {
                                        noted = true;
                                        r = shield_reasons_add(out, "quirk-variable-stray-bytes", SHIELD_SEV_INFO,
                                                               0, (int)ev->pcr, (long)ev->index, ev->offset,
                                                               "event %u: bytes after the declared UEFI_VARIABLE_DATA, partly covered by the digest (old shim)",
                                                               ev->index);
                                        if (r < 0)
                                                goto out;
                                        continue;
                                }
                        }
                        r = report(out, ev, d, whole);
                        if (r < 0)
                                goto out;
                }
        }
out:
        shield_hasher_free(own);
        return r;
}
