/* SPDX-License-Identifier: Apache-2.0 */
/* The service log on stderr: one line an event, RFC 3339 UTC time first, never a secret. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "shieldd.h"

void shieldd_time_text(int64_t t, char out[SHIELDD_TIME_TEXT]) {
        struct tm tm;
        time_t tt = (time_t)t;
        if (!gmtime_r(&tt, &tm) || strftime(out, SHIELDD_TIME_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, SHIELDD_TIME_TEXT, "@%lld", (long long)t); /* beyond what struct tm holds */
}

void shieldd_log(const char *fmt, ...) {
        char when[SHIELDD_TIME_TEXT], line[1024];
        shieldd_time_text((int64_t)time(NULL), when);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s shieldd: %s\n", when, line);
}

/* What a client sent goes into the log: no control characters, bounded. */
static void clean(const char *in, char *out, size_t len) {
        size_t o = 0;
        for (; in && *in && o + 1 < len; in++)
                out[o++] = (unsigned char)*in < 0x20 || *in == 0x7f || *in == ' ' ? '?' : *in;
        out[o] = '\0';
}

void shieldd_log_refusal(const char *remote, const char *method, const char *path, int status, const char *reason) {
        char m[16], p[300];
        clean(method, m, sizeof m);
        clean(path, p, sizeof p);
        shieldd_log("%s %s %s %d %s", remote ? remote : "-", m, p, status, reason);
}
