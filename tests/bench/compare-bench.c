/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The golden comparison on the largest log POST /v1/attest takes: a golden
 * of EVENTS events in PCR 9 (sha256, EV_IPL, distinct data) against
 *   one      the same log with its last event changed (a linear pass: the
 *            baseline the others are a ratio of),
 *   changed  every event changed (EVENTS event-changed reasons),
 *   shuffled the same events in a random order (event-moved reasons),
 * each repeated for at least SECONDS; and the making of the current
 * golden from its log (parse, replay, summaries) for scale.
 *   compare-bench EVENTS SECONDS
 * Prints "events=N one_us=… changed_us=… shuffled_us=… evidence_us=…
 * changed_reasons=… shuffled_reasons=…" (microseconds per call).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shield/crypto.h"
#include "shield/evidence.h"
#include "shield/integrity.h"
#include "shield/util.h"

struct log {
        uint8_t *b;
        size_t n, cap;
};

static void put(struct log *l, const void *p, size_t n) {
        if (n > l->cap - l->n) {
                l->cap = (l->cap + n) * 2;
                l->b = realloc(l->b, l->cap);
                if (!l->b)
                        abort();
        }
        memcpy(l->b + l->n, p, n);
        l->n += n;
}

static void le32(struct log *l, uint32_t v) {
        uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        put(l, x, 4);
}

/* A crypto-agile sha256 log (PFP 1.05, 10.4.5.1 Spec ID event; 10.2.2 TCG_PCR_EVENT2) of events "event <order[i]>". */
static void make_log(struct log *l, const uint32_t *order, size_t n, uint32_t last_tag) {
        static const uint8_t specid[] = { 'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n', 't', '0', '3', 0,
                                          0, 0, 0, 0, 0, 2, 0, 2, 1, 0, 0, 0, 0x0b, 0x00, 32, 0, 0 };
        uint8_t zero[20] = { 0 }, d[32];
        char data[48];

        l->n = 0;
        le32(l, 0);
        le32(l, EV_NO_ACTION);
        put(l, zero, sizeof zero);
        le32(l, sizeof specid);
        put(l, specid, sizeof specid);
        for (size_t i = 0; i < n; i++) {
                int len = snprintf(data, sizeof data, "event %u%s", order[i], i + 1 == n && last_tag ? " v2" : "");
                if (shield_hash(SHIELD_ALG_SHA256, data, (size_t)len, d) < 0)
                        abort();
                le32(l, 9);
                le32(l, EV_IPL);
                le32(l, 1);
                put(l, (uint8_t[]){ 0x0b, 0x00 }, 2);
                put(l, d, sizeof d);
                le32(l, (uint32_t)len);
                put(l, data, (size_t)len);
        }
}

static struct shield_golden *golden_of(const struct log *l) {
        struct shield_evidence e = { .secure_boot = -1, .setup_mode = -1, .eventlog = l->b, .eventlog_len = l->n };
        struct shield_golden *g = NULL;
        struct shield_diag diag = { 0 };
        if (shield_golden_from_evidence(&e, &g, &diag) < 0) {
                fprintf(stderr, "compare-bench: %s\n", diag.msg);
                exit(1);
        }
        return g;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Microseconds per comparison of golden with current, over at least seconds; *ret_reasons from the last one. */
static double time_compare(const struct shield_golden *golden, const struct shield_golden *current, double seconds,
                           size_t *ret_reasons) {
        unsigned long n = 0;
        double t0 = now(), t = t0;
        do {
                struct shield_integrity_verdict v = { 0 };
                if (shield_integrity_compare(golden, current, NULL, &v) < 0 || v.colour != SHIELD_RED) {
                        fprintf(stderr, "compare-bench: the comparison failed or was not red\n");
                        exit(1);
                }
                *ret_reasons = v.reasons.n;
                shield_integrity_verdict_clear(&v);
                n++;
                t = now();
        } while (t - t0 < seconds);
        return (t - t0) / (double)n * 1e6;
}

int main(int argc, char **argv) {
        uint64_t events, seconds;
        if (argc != 3 || shield_parse_u64(argv[1], 10, SHIELD_GOLDEN_EVENTS_MAX, &events) < 0 || events < 2 ||
            shield_parse_u64(argv[2], 10, 60, &seconds) < 0) {
                fprintf(stderr, "usage: compare-bench EVENTS SECONDS\n");
                return 2;
        }
        size_t n = (size_t)events;
        uint32_t *order = calloc(n, sizeof *order);
        struct log l = { 0 };
        if (!order)
                return 2;
        for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t)i;
        make_log(&l, order, n, 0);
        struct shield_golden *golden = golden_of(&l);

        make_log(&l, order, n, 1);
        struct shield_golden *one = golden_of(&l);
        unsigned long made = 0;
        double t0 = now(), t;
        do {
                shield_golden_free(golden_of(&l));
                made++;
                t = now();
        } while (t - t0 < (double)seconds);
        double evidence_us = (t - t0) / (double)made * 1e6;

        for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t)(i + n);
        make_log(&l, order, n, 0);
        struct shield_golden *changed = golden_of(&l);

        /* A fixed permutation (Fisher–Yates, a 64-bit LCG), so every run compares the same logs. */
        uint64_t s = 0x5eed;
        for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t)i;
        for (size_t i = n - 1; i > 0; i--) {
                s = s * 6364136223846793005u + 1442695040888963407u;
                size_t k = (size_t)((s >> 33) % (i + 1));
                uint32_t x = order[i];
                order[i] = order[k];
                order[k] = x;
        }
        make_log(&l, order, n, 0);
        struct shield_golden *shuffled = golden_of(&l);

        size_t r_one, r_changed, r_shuffled;
        double one_us = time_compare(golden, one, (double)seconds, &r_one);
        double changed_us = time_compare(golden, changed, (double)seconds, &r_changed);
        double shuffled_us = time_compare(golden, shuffled, (double)seconds, &r_shuffled);
        printf("events=%zu one_us=%.1f changed_us=%.1f shuffled_us=%.1f evidence_us=%.1f one_reasons=%zu changed_reasons=%zu shuffled_reasons=%zu\n",
               n, one_us, changed_us, shuffled_us, evidence_us, r_one, r_changed, r_shuffled);
        shield_golden_free(golden);
        shield_golden_free(one);
        shield_golden_free(changed);
        shield_golden_free(shuffled);
        free(order);
        free(l.b);
        return 0;
}
