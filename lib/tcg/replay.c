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

static int replay_bank(const struct shield_eventlog *log, struct shield_hasher *h, struct shield_pcr_bank *bank,
                       unsigned slot, struct shield_reasons *skipped) {
        bool noted_missing = false;

        for (size_t i = 0; i < log->n; i++) {
                const struct shield_event *ev = &log->events[i];
                const struct shield_event_digest *d;

                if (ev->type == EV_NO_ACTION || ev->pcr >= SHIELD_PCR_COUNT)
                        continue;
                /* Digests almost always come in the Spec ID's order: try that slot first. */
                d = slot < ev->n_digests && ev->digests[slot].alg == bank->alg ? &ev->digests[slot]
                                                                               : eventlog_event_digest(ev, bank->alg);
                if (!d) {
                        if (!noted_missing && skipped) {
                                int r = shield_reasons_add(skipped, "replay-missing-digest", SHIELD_SEV_WARNING,
                                                           bank->alg, (int)ev->pcr, (long)i, ev->offset,
                                                           "event %zu has no %s digest; this bank's PCR %u cannot be replayed exactly",
                                                           i, shield_hash_name(bank->alg), ev->pcr);
                                if (r < 0)
                                        return r;
                                noted_missing = true;
                        }
                        continue;
                }
                int r = shield_hasher_extend(h, bank->alg, bank->value[ev->pcr], d->bytes);
                if (r < 0)
                        return r;
                bank->extended |= UINT32_C(1) << ev->pcr;
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
                r = replay_bank(log, hasher, bank, slot, ret_skipped);
                if (r < 0)
                        goto out;
        }
        *ret = pcrs;
out:
        shield_hasher_free(own);
        return r;
}
