/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decode the checksummed frames a guest prints on its serial console. The
 * console is untrusted and lossy (firmware escapes, CRs, a guest that dies
 * mid-frame): every frame is checked for length and CRC-32, and a damaged
 * one is an error that names its offset, never a partial result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/disk.h"
#include "shield/util.h"
#include "shield/vm.h"

/* One console line with CRs and ANSI escapes removed, at most cap-1 bytes (longer lines are cut). */
static size_t clean_line(const uint8_t *p, size_t n, char *out, size_t cap) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == 0x1b) {
                        /* ESC [ params letter, or ESC + one character. */
                        if (i + 1 < n && p[i + 1] == '[') {
                                i += 2;
                                while (i < n && !((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')))
                                        i++;
                        } else {
                                i++;
                        }
                        continue;
                }
                if (p[i] == '\r')
                        continue;
                if (o + 1 < cap)
                        out[o++] = (char)p[i];
        }
        out[o] = '\0';
        return o;
}

static bool name_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > SHIELD_FRAME_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

/* "SHIELD-BEGIN name len crc" → fields; false when the line is malformed. */
static bool parse_begin(const char *line, char name[SHIELD_FRAME_NAME_MAX + 1], uint64_t *len, uint32_t *crc) {
        const char *p = line + strlen("SHIELD-BEGIN ");
        size_t nl = strcspn(p, " ");
        if (nl == 0 || nl > SHIELD_FRAME_NAME_MAX || p[nl] != ' ')
                return false;
        memcpy(name, p, nl);
        name[nl] = '\0';
        p += nl + 1;
        size_t ll = strcspn(p, " ");
        char num[24], hex[16];
        if (ll == 0 || ll >= sizeof num || p[ll] != ' ')
                return false;
        memcpy(num, p, ll);
        num[ll] = '\0';
        p += ll + 1;
        if (strlen(p) != 8)
                return false;
        memcpy(hex, p, 9);
        uint64_t c;
        if (!name_ok(name) || shield_parse_u64(num, 10, SHIELD_FRAME_MAX_BYTES, len) < 0 ||
            shield_parse_u64(hex, 16, UINT32_MAX, &c) < 0)
                return false;
        *crc = (uint32_t)c;
        return true;
}

int shield_frames_parse(const uint8_t *text, size_t len, struct shield_frames *ret, struct shield_diag *diag) {
        struct shield_frames f = { 0 };
        char line[1024];
        char *b64 = NULL;
        size_t b64_len = 0, b64_cap = 0;
        bool in_frame = false;
        char name[SHIELD_FRAME_NAME_MAX + 1] = "";
        uint64_t want_len = 0;
        uint32_t want_crc = 0;
        size_t begin_at = 0;
        int r = 0;

        for (size_t at = 0; at < len;) {
                const uint8_t *nl = memchr(text + at, '\n', len - at);
                size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
                clean_line(text + at, n, line, sizeof line);
                size_t line_at = at;
                at += n + (nl != NULL);

                if (!in_frame) {
                        if (strncmp(line, "SHIELD-BEGIN ", 13) == 0) {
                                if (!parse_begin(line, name, &want_len, &want_crc)) {
                                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, line_at, -1,
                                                             "malformed frame header \"%.80s\"", line);
                                        goto out;
                                }
                                if (shield_frames_find(&f, name)) {
                                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, line_at, -1, "frame %s sent twice",
                                                             name);
                                        goto out;
                                }
                                in_frame = true;
                                begin_at = line_at;
                                b64_len = 0;
                        } else if (strcmp(line, "SHIELD-DONE") == 0) {
                                f.done = true;
                        } else if (strncmp(line, "SHIELD-ERROR", 12) == 0) {
                                if (f.n_errors++ == 0)
                                        snprintf(f.first_error, sizeof f.first_error, "%.255s", line);
                        }
                        continue;
                }
                if (strncmp(line, "SHIELD-END ", 11) == 0) {
                        if (strcmp(line + 11, name) != 0) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, line_at, -1,
                                                     "frame %s ends with \"%.60s\"", name, line);
                                goto out;
                        }
                        if (f.n == SHIELD_FRAMES_MAX) {
                                r = shield_diag_fail(diag, SHIELD_E_LIMIT, begin_at, -1, "more than %d frames",
                                                     SHIELD_FRAMES_MAX);
                                goto out;
                        }
                        struct shield_frame *fr = &f.items[f.n];
                        if (shield_base64_decode(b64 ? b64 : "", b64_len, &fr->data, &fr->len) < 0) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, begin_at, -1, "frame %s: bad base64", name);
                                goto out;
                        }
                        if (fr->len != want_len || shield_crc32(0, fr->data, fr->len) != want_crc) {
                                r = shield_diag_fail(diag, SHIELD_E_FORMAT, begin_at, -1,
                                                     "frame %s: %zu bytes with CRC-32 %08x arrived, the header says "
                                                     "%llu bytes, %08x (a damaged console?)", name, fr->len,
                                                     shield_crc32(0, fr->data, fr->len), (unsigned long long)want_len,
                                                     want_crc);
                                free(fr->data);
                                fr->data = NULL;
                                goto out;
                        }
                        snprintf(fr->name, sizeof fr->name, "%s", name);
                        fr->offset = begin_at;
                        f.n++;
                        in_frame = false;
                        continue;
                }
                /* A base64 line: keep only the base64 alphabet. */
                size_t ln = strlen(line);
                if (b64_len + ln + 1 > b64_cap) {
                        size_t cap = (b64_cap ? b64_cap * 2 : 4096) + ln;
                        if (cap > SHIELD_FRAME_MAX_BYTES / 3 * 4 + 4096) {
                                r = shield_diag_fail(diag, SHIELD_E_LIMIT, begin_at, -1, "frame %s is too large", name);
                                goto out;
                        }
                        char *grown = realloc(b64, cap);
                        if (!grown) {
                                r = SHIELD_E_NOMEM;
                                goto out;
                        }
                        b64 = grown;
                        b64_cap = cap;
                }
                for (size_t i = 0; i < ln; i++)
                        if (line[i] != ' ' && line[i] != '\t')
                                b64[b64_len++] = line[i];
        }
        if (in_frame) {
                r = shield_diag_fail(diag, SHIELD_E_TRUNCATED, begin_at, -1, "frame %s never ended (the guest stopped "
                                     "mid-frame?)", name);
                goto out;
        }
out:
        free(b64);
        if (r < 0) {
                shield_frames_clear(&f);
                return r;
        }
        *ret = f;
        return 0;
}

const struct shield_frame *shield_frames_find(const struct shield_frames *f, const char *name) {
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->items[i].name, name) == 0)
                        return &f->items[i];
        return NULL;
}

void shield_frames_clear(struct shield_frames *f) {
        if (!f)
                return;
        for (size_t i = 0; i < f->n; i++)
                free(f->items[i].data);
        memset(f, 0, sizeof *f);
}
