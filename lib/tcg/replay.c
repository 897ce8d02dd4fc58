/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "eventlog-internal.h"

/* PFP 1.05, 3.3.4.x: the PCRs a TPM resets to all-ones (the dynamic-launch PCRs). */
#define FIRST_ONES_PCR 17
#define LAST_ONES_PCR 22

static void reset_bank(struct shield_pcr_bank *bank, int locality) {
        for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++)
                memset(bank->value[i], i >= FIRST_ONES_PCR && i <= LAST_ONES_PCR ? 0xff : 0x00, bank->size);
        bank->present = (UINT32_C(1) << SHIELD_PCR_COUNT) - 1;
        bank->extended = 0;
        if (locality > 0) {
                /* PFP 1.05, 10.4.5.3: an H-CRTM or locality-3/4 start leaves PCR 0 at 00…0N. */
                bank->value[0][bank->size - 1] = (uint8_t)locality;
                bank->extended |= 1;
        }
}

struct replay_bank {
        struct shield_pcr_bank *pcrs;
        unsigned slot;          /* where this bank's digest usually sits in an event */
        bool noted_missing;
};

/* One pass over the events for all banks: the events array is the big memory traffic. */
static int replay_banks(const struct shield_eventlog *log, struct shield_hasher *h, struct replay_bank *banks,
                        size_t n_banks, struct shield_reasons *skipped) {
        /* The Spec ID header is never a measurement, whatever type the firmware gave it. */
        for (size_t i = log->has_specid ? 1 : 0; i < log->n; i++) {
                const struct shield_event *ev = &log->events[i];

                if (ev->type == EV_NO_ACTION || ev->pcr >= SHIELD_PCR_COUNT)
                        continue;
                for (size_t b = 0; b < n_banks; b++) {
                        struct replay_bank *rb = &banks[b];
                        uint16_t alg = rb->pcrs->alg;
                        /* Digests almost always come in the Spec ID's order: try that slot first. */
                        const struct shield_event_digest *d =
                                rb->slot < ev->n_digests && ev->digests[rb->slot].alg == alg ? &ev->digests[rb->slot]
                                                                                         : eventlog_event_digest(ev, alg);
                        if (!d) {
                                if (!rb->noted_missing && skipped) {
                                        int r = shield_reasons_add(skipped, "replay-missing-digest", SHIELD_SEV_WARNING,
                                                                   alg, (int)ev->pcr, (long)i, ev->offset,
                                                                   "event %zu has no %s digest; this bank's PCR %u cannot be replayed exactly",
                                                                   i, shield_hash_name(alg), ev->pcr);
                                        if (r < 0)
                                                return r;
                                        rb->noted_missing = true;
                                }
                                continue;
                        }
                        int r = shield_hasher_extend(h, alg, rb->pcrs->value[ev->pcr], d->bytes);
                        if (r < 0)
                                return r;
                        rb->pcrs->extended |= UINT32_C(1) << ev->pcr;
                }
        }
        return 0;
}

int shield_eventlog_replay(const struct shield_eventlog *log, struct shield_hasher *hasher,
                           struct shield_pcrs *ret, struct shield_reasons *ret_skipped) {
        if (!log || !ret)
                return SHIELD_E_INVAL;

        struct shield_hasher *own = NULL;
        struct shield_pcrs pcrs = { 0 };
        unsigned n_algs = log->has_specid ? log->specid.n_algs : 1;
        int r = 0;

        if (!hasher) {
                r = shield_hasher_new(&own);
                if (r < 0)
                        return r;
                hasher = own;
        }
        struct replay_bank banks[SHIELD_EVENTLOG_ALGS_MAX];
        size_t n_banks = 0;
        for (unsigned slot = 0; slot < n_algs; slot++) {
                uint16_t alg = log->has_specid ? log->specid.algs[slot].alg : SHIELD_ALG_SHA1;
                uint16_t size = log->has_specid ? log->specid.algs[slot].size : 20;
                struct shield_pcr_bank *bank;

                if (shield_hash_size(alg) != size) {
                        if (ret_skipped) {
                                r = shield_reasons_add(ret_skipped, "replay-unknown-bank", SHIELD_SEV_INFO, alg, -1,
                                                       -1, SIZE_MAX,
                                                       "bank 0x%04x cannot be replayed: unknown hash algorithm", alg);
                                if (r < 0)
                                        goto out;
                        }
                        continue;
                }
                r = shield_pcrs_add_bank(&pcrs, alg, size, &bank);
                if (r < 0)
                        goto out;
                reset_bank(bank, log->startup_locality);
                banks[n_banks++] = (struct replay_bank){ .pcrs = bank, .slot = slot };
        }
        r = replay_banks(log, hasher, banks, n_banks, ret_skipped);
        if (r < 0)
                goto out;
        *ret = pcrs;
out:
        shield_hasher_free(own);
        return r;
}
