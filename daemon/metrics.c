/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus counters (text exposition format 0.0.4), lock-free. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "shieldd.h"

static const char *const verdict_names[SHIELDD_V_N] = { "green", "yellow", "red", "failed" };
static atomic_uint_fast64_t attestations[SHIELDD_V_N];

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])
static atomic_uint_fast64_t bucket_counts[N_BUCKETS + 1];
static atomic_uint_fast64_t seconds_sum_us, seconds_count;

static atomic_uint_fast64_t store_errors;

static const int codes[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 500, 503 };
#define N_CODES (sizeof codes / sizeof codes[0])
static atomic_uint_fast64_t code_counts[N_CODES + 1]; /* + other */

void shieldd_metrics_request(int status) {
        size_t i = 0;
        while (i < N_CODES && codes[i] != status)
                i++;
        atomic_fetch_add_explicit(&code_counts[i], 1, memory_order_relaxed);
}

void shieldd_metrics_attestation(enum shieldd_verdict v, double seconds) {
        if ((unsigned)v < SHIELDD_V_N)
                atomic_fetch_add_explicit(&attestations[v], 1, memory_order_relaxed);
        size_t b = 0;
        while (b < N_BUCKETS && seconds > buckets[b])
                b++;
        atomic_fetch_add_explicit(&bucket_counts[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&seconds_sum_us, (uint_fast64_t)(seconds * 1e6), memory_order_relaxed);
        atomic_fetch_add_explicit(&seconds_count, 1, memory_order_relaxed);
}

void shieldd_metrics_store_error(void) {
        atomic_fetch_add_explicit(&store_errors, 1, memory_order_relaxed);
}

char *shieldd_metrics_text(void) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        fputs("# HELP shieldd_attestations_total Attestations answered, by verdict.\n"
              "# TYPE shieldd_attestations_total counter\n", f);
        for (size_t i = 0; i < SHIELDD_V_N; i++)
                fprintf(f, "shieldd_attestations_total{verdict=\"%s\"} %llu\n", verdict_names[i],
                        (unsigned long long)atomic_load(&attestations[i]));
        fputs("# HELP shieldd_attestation_seconds Time to check one attestation.\n"
              "# TYPE shieldd_attestation_seconds histogram\n", f);
        uint64_t cum = 0;
        for (size_t b = 0; b <= N_BUCKETS; b++) {
                cum += atomic_load(&bucket_counts[b]);
                if (b < N_BUCKETS)
                        fprintf(f, "shieldd_attestation_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
                                (unsigned long long)cum);
                else
                        fprintf(f, "shieldd_attestation_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        fprintf(f, "shieldd_attestation_seconds_sum %.6f\n", (double)atomic_load(&seconds_sum_us) / 1e6);
        fprintf(f, "shieldd_attestation_seconds_count %llu\n", (unsigned long long)atomic_load(&seconds_count));
        fputs("# HELP shieldd_store_errors_total Store operations that failed.\n"
              "# TYPE shieldd_store_errors_total counter\n", f);
        fprintf(f, "shieldd_store_errors_total %llu\n", (unsigned long long)atomic_load(&store_errors));
        fputs("# HELP shieldd_requests_total HTTP requests answered, by status code.\n"
              "# TYPE shieldd_requests_total counter\n", f);
        for (size_t i = 0; i <= N_CODES; i++) {
                uint64_t n = atomic_load(&code_counts[i]);
                if (i < N_CODES)
                        fprintf(f, "shieldd_requests_total{code=\"%d\"} %llu\n", codes[i], (unsigned long long)n);
                else
                        fprintf(f, "shieldd_requests_total{code=\"other\"} %llu\n", (unsigned long long)n);
        }
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
