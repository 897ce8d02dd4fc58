/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * PCR prediction: the PCR values the next boot will have when boot
 * components change, from this boot's event log. Each replacement names a
 * boot application as the log does (the end of its UEFI_IMAGE_LOAD_EVENT
 * device path, e.g. "\EFI\BOOT\BOOTX64.EFI", compared case-insensitively)
 * and gives either the new PE image or its new Authenticode digest in one
 * bank.
 *
 *   PCR 4   the replaced EV_EFI_BOOT_SERVICES_APPLICATION events get the new
 *           image's Authenticode digest (shield_pe_authenticode_hash);
 *   PCR 7   with an image, the db certificate (from the log's own db event)
 *           that verifies its signature becomes the EV_EFI_VARIABLE_AUTHORITY
 *           that authorised the old image, as edk2 logs it; with a digest
 *           only, the signer is taken to be the old one (PCR 7 unchanged);
 *   PCR 11  a replaced unified kernel image (.linux and .osrel/.cmdline
 *           sections): systemd-stub 252's events (each section's name with
 *           its NUL, then its contents as loaded: VirtualSize bytes) when the
 *           log holds systemd-stub's PCR 11 events; else PCR 11 is left out
 *           with a note;
 *   others  carried over from the log's replay (PCR 9 is left out with a
 *           note when a UKI is replaced: the kernel's EFI stub measures the
 *           initrd there).
 *
 * It never guesses: an event of a PCR it recomputes that it does not
 * understand, a change that would add or remove events, or a path no event
 * names is a refusal that names the first event it cannot explain.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield/error.h"
#include "shield/eventlog.h"
#include "shield/pcrs.h"
#include "shield/reason.h"

#define SHIELD_PREDICT_REPLACEMENTS_MAX 16u
#define SHIELD_PREDICT_PATH_MAX 1024u

struct shield_predict_replacement {
        const char *path;               /* as the log names it; at most SHIELD_PREDICT_PATH_MAX bytes */
        const uint8_t *image;           /* the new PE image (caller's bytes), or NULL for a digest */
        size_t image_len;
        uint16_t alg;                   /* without an image: the bank of digest */
        uint8_t digest[SHIELD_HASH_MAX_SIZE];
};

struct shield_prediction {
        struct shield_pcrs pcrs;        /* predicted: the banks asked for; present = the PCRs predicted */
        struct shield_pcrs replayed;    /* this log's replay, the same banks */
        uint32_t changed;               /* bit i: PCR i's prediction differs from the replay in some bank */
        uint32_t left_out;              /* bit i: PCR i could not be predicted (a note says why) */
        struct shield_reasons notes;    /* "predict-*" reasons, severity info */
};

/*
 * Predict the PCRs of bank (a TPM_ALG_ID; 0: every bank the log carries
 * and we can compute) after the n replacements. *ret is written only on
 * success; release it with shield_prediction_clear(). Errors, with diag
 * (index: the event at fault, offset: its byte offset in the log; -1 and 0
 * when no event is at fault) saying why:
 *   SHIELD_E_INVAL        n is 0 or over SHIELD_PREDICT_REPLACEMENTS_MAX, a
 *                         path is empty or too long, a digest replacement
 *                         for a bank other than the one asked (or for
 *                         "every bank": the other banks are named);
 *   SHIELD_E_NOT_FOUND    the log has no such bank; no event names a path;
 *   SHIELD_E_FORMAT       an image is not a PE image; an event the prediction
 *                         reads (image load, db, authority) does not decode;
 *   SHIELD_E_VERIFY       Secure Boot is on and no db certificate of the
 *                         log verifies a new image's signature;
 *   SHIELD_E_UNSUPPORTED  the prediction would need what it cannot know: an
 *                         event it does not understand in a PCR it
 *                         recomputes, a change in the number of events,
 *                         a log whose replay does not match its events.
 */
__attribute__((warn_unused_result))
int shield_predict(const struct shield_eventlog *log, const struct shield_predict_replacement *repl, size_t n,
                   uint16_t bank, struct shield_prediction *ret, struct shield_diag *diag);

/* Release what a prediction holds (the notes); accepts a zeroed struct. */
void shield_prediction_clear(struct shield_prediction *p);
