/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark input: a large event log made of a real log's events repeated.
 *   mklog IN.bin OUT.bin MEGABYTES
 * Keeps IN's header (the Spec ID event of a crypto-agile log) once, then
 * appends IN's measured events (EV_NO_ACTION left out) until OUT reaches
 * MEGABYTES. Prints "events=N banks=B bytes=S" for the benchmark script.
 */
#include <stdio.h>
#include <stdlib.h>

#include "shield/eventlog.h"
#include "shield/util.h"

int main(int argc, char **argv) {
        uint8_t *in = NULL;
        size_t inlen = 0;
        uint64_t mb;
        struct shield_eventlog *log = NULL;
        struct shield_diag diag = { 0 };

        if (argc != 4 || shield_parse_u64(argv[3], 10, 1024, &mb) < 0) {
                fprintf(stderr, "usage: mklog IN.bin OUT.bin MEGABYTES\n");
                return 2;
        }
        if (shield_read_file(argv[1], SHIELD_EVENTLOG_MAX, &in, &inlen) < 0 ||
            shield_eventlog_parse(in, inlen, &log, &diag) < 0) {
                fprintf(stderr, "mklog: cannot read %s: %s\n", argv[1], diag.msg);
                return 2;
        }

        size_t target = (size_t)mb << 20, n = shield_eventlog_count(log);
        size_t first = shield_eventlog_format(log) == SHIELD_EVENTLOG_CRYPTO_AGILE ? 1 : 0;
        size_t head = first ? shield_eventlog_event(log, 0)->size : 0;
        uint8_t *out = malloc(target + inlen);
        size_t len = 0, events = first;
        if (!out)
                return 2;
        for (size_t i = 0; i < head; i++)
                out[len++] = in[i];
        size_t measured = 0;
        for (size_t i = first; i < n; i++)
                measured += shield_eventlog_event(log, i)->type != EV_NO_ACTION;
        if (!measured) {
                fprintf(stderr, "mklog: %s has no measured events to repeat\n", argv[1]);
                return 2;
        }
        while (len < target) {
                for (size_t i = first; i < n; i++) {
                        const struct shield_event *ev = shield_eventlog_event(log, i);
                        if (ev->type == EV_NO_ACTION)
                                continue;
                        for (size_t k = 0; k < ev->size; k++)
                                out[len + k] = in[ev->offset + k];
                        len += ev->size;
                        events++;
                }
        }
        if (shield_write_file_atomic(argv[2], out, len, 0644) < 0) {
                fprintf(stderr, "mklog: cannot write %s\n", argv[2]);
                return 2;
        }
        const struct shield_specid *spec = shield_eventlog_specid(log);
        printf("events=%zu banks=%u bytes=%zu\n", events, spec ? spec->n_algs : 1u, len);
        shield_eventlog_free(log);
        free(in);
        free(out);
        return 0;
}
