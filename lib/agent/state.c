/* SPDX-License-Identifier: Apache-2.0 */
/* What the agent remembers between runs, and its timing: durations, backoff, jitter. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shield/agent.h"
#include "shield/util.h"

#define DURATION_MAX_MS (7ull * 24 * 3600 * 1000)
#define STATE_FILE_MAX 65536

int shield_agent_parse_duration(const char *s, uint64_t *ret_ms) {
        static const struct {
                const char *suffix;
                uint64_t ms;
        } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
        char num[32];
        uint64_t mult = 1000, v;
        size_t n;

        if (!s)
                return SHIELD_E_INVAL;
        n = strlen(s);
        /* Longest suffix first: "ms" before "s" and "m". */
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
                size_t k = strlen(units[i].suffix);
                if (n > k && strcmp(s + n - k, units[i].suffix) == 0) {
                        n -= k;
                        mult = units[i].ms;
                        break;
                }
        }
        if (n == 0 || n >= sizeof num)
                return SHIELD_E_FORMAT;
        memcpy(num, s, n);
        num[n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (num[i] < '0' || num[i] > '9')
                        return SHIELD_E_FORMAT;
        int r = shield_parse_u64(num, 10, DURATION_MAX_MS / mult, &v);
        if (r < 0)
                return r;
        if (v == 0)
                return SHIELD_E_LIMIT;
        *ret_ms = v * mult;
        return 0;
}

uint64_t shield_agent_jitter_ms(uint64_t ms, uint32_t rnd) {
        /* factor in [0.8, 1.2]: 0.8 + 0.4 * rnd / 2^32, in integer arithmetic (ms is at most days). */
        uint64_t spread = ms / 5 * 2 + (ms % 5) * 2 / 5; /* 40 % of ms */
        uint64_t low = ms - ms / 5;
        uint64_t add = (uint64_t)(((unsigned __int128)spread * rnd) / UINT32_MAX);
        uint64_t v = add > UINT64_MAX - low ? UINT64_MAX : low + add;
        return v ? v : 1;
}

uint64_t shield_agent_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t cap_ms, uint32_t rnd) {
        uint64_t d = base_ms ? base_ms : 1;
        if (cap_ms == 0)
                cap_ms = 1;
        for (unsigned i = 1; i < failures && d < cap_ms; i++)
                d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
        if (d > cap_ms)
                d = cap_ms;
        return shield_agent_jitter_ms(d, rnd);
}

int shield_agent_default_state_dir(char **ret) {
        const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        char *p = NULL;
        int n;
        if (xdg && xdg[0] == '/')
                n = asprintf(&p, "%s/shieldkit/agent", xdg);
        else if (home && home[0] == '/')
                n = asprintf(&p, "%s/.local/state/shieldkit/agent", home);
        else
                return SHIELD_E_NOT_FOUND;
        if (n < 0)
                return SHIELD_E_NOMEM;
        *ret = p;
        return 0;
}

void shield_agent_state_clear(struct shield_agent_state *s) {
        if (!s)
                return;
        free(s->server);
        free(s->name);
        memset(s, 0, sizeof *s);
}

static int state_path(const char *dir, char **ret) {
        if (!dir || !dir[0])
                return SHIELD_E_INVAL;
        return asprintf(ret, "%s/%s", dir, SHIELD_AGENT_STATE_FILE) < 0 ? SHIELD_E_NOMEM : 0;
}

static bool is_hex64(const char *s) {
        if (strlen(s) != 64)
                return false;
        for (; *s; s++)
                if (shield_hex_digit(*s) < 0)
                        return false;
        return true;
}

int shield_agent_state_load(const char *dir, struct shield_agent_state *ret) {
        char *path = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        json_t *j = NULL;
        struct shield_agent_state s = { 0 };
        int r = state_path(dir, &path);
        if (r < 0)
                return r;
        r = shield_read_file(path, STATE_FILE_MAX, &buf, &len);
        if (r == SHIELD_E_SYSTEM && errno == ENOENT)
                r = SHIELD_E_NOT_FOUND;
        if (r < 0)
                goto out;
        const char *server = NULL, *name = NULL, *ak = NULL;
        int trusted = 0;
        j = json_loadb((const char *)buf, len, 0, NULL);
        /* Strict: exactly these keys ("!"), so a file from a newer agent is noticed, not misread. */
        if (!j || json_unpack(j, "{s:s, s:s, s:s, s:b !}", "server", &server, "name", &name, "ak_sha256", &ak,
                              "trusted", &trusted) != 0 ||
            !is_hex64(ak)) {
                r = SHIELD_E_FORMAT;
                goto out;
        }
        if (!(s.server = strdup(server)) || !(s.name = strdup(name))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        memcpy(s.ak_sha256, ak, 65);
        s.trusted = trusted;
        *ret = s; /* transferred */
        memset(&s, 0, sizeof s);
        r = 0;
out:
        shield_agent_state_clear(&s);
        json_decref(j);
        free(buf);
        free(path);
        return r;
}

int shield_agent_state_save(const char *dir, const struct shield_agent_state *s) {
        char *path = NULL, *text = NULL;
        json_t *j = NULL;
        int r;
        if (!s || !s->server || !s->name || !is_hex64(s->ak_sha256))
                return SHIELD_E_INVAL;
        if ((r = state_path(dir, &path)) < 0)
                return r;
        if ((r = shield_mkdir_parents(dir, 0700, 0700)) < 0)
                goto out;
        j = json_pack("{s:s, s:s, s:s, s:b}", "server", s->server, "name", s->name, "ak_sha256", s->ak_sha256,
                      "trusted", s->trusted);
        if (!j || !(text = json_dumps(j, JSON_INDENT(2)))) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        r = shield_write_file_atomic(path, text, strlen(text), 0600);
out:
        free(text);
        json_decref(j);
        free(path);
        return r;
}

int shield_agent_state_remove(const char *dir) {
        char *path = NULL;
        int r = state_path(dir, &path);
        if (r < 0)
                return r;
        r = unlink(path) < 0 && errno != ENOENT ? SHIELD_E_SYSTEM : 0;
        free(path);
        return r;
}
