/* SPDX-License-Identifier: Apache-2.0 */
/* Golden measurements: made from evidence, written and read as "shieldkit-golden/1" (docs/INTEGRITY.md). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "integrity-internal.h"
#include "shield/util.h"

const struct shield_pcrs *shield_golden_pcrs(const struct shield_golden *g) {
        return g ? &g->pcrs : NULL;
}

bool shield_golden_has_eventlog(const struct shield_golden *g) {
        return g && g->has_eventlog;
}

size_t shield_golden_event_count(const struct shield_golden *g) {
        return g ? g->n_events : 0;
}

const struct shield_golden_event *shield_golden_event(const struct shield_golden *g, size_t i) {
        return g && i < g->n_events ? &g->events[i] : NULL;
}

void shield_golden_free(struct shield_golden *g) {
        if (!g)
                return;
        for (size_t i = 0; i < g->n_events; i++)
                free(g->events[i].summary);
        free(g->events);
        free(g);
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max) {
        size_t n = strlen(s);
        if (n <= max)
                return;
        while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
                max--;
        s[max] = '\0';
}

static int golden_add_events(struct shield_golden *g, const struct shield_eventlog *log, struct shield_diag *diag) {
        size_t n = shield_eventlog_count(log), kept = 0;

        for (size_t i = 0; i < n; i++) {
                const struct shield_event *ev = shield_eventlog_event(log, i);
                if (ev->type != EV_NO_ACTION && ev->pcr < SHIELD_PCR_COUNT)
                        kept++;
        }
        if (kept > SHIELD_GOLDEN_EVENTS_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the event log has %zu measured events, over %u",
                                        kept, SHIELD_GOLDEN_EVENTS_MAX);
        if (kept == 0)
                return 0;
        g->events = calloc(kept, sizeof *g->events);
        if (!g->events)
                return SHIELD_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct shield_event *ev = shield_eventlog_event(log, i);
                if (ev->type == EV_NO_ACTION || ev->pcr >= SHIELD_PCR_COUNT)
                        continue;
                struct shield_golden_event *ge = &g->events[g->n_events];
                ge->pcr = ev->pcr;
                ge->index = ev->index;
                ge->type = ev->type;
                for (unsigned d = 0; d < ev->n_digests && d < SHIELD_EVENTLOG_ALGS_MAX; d++) {
                        if (ev->digests[d].size > SHIELD_HASH_MAX_SIZE)
                                continue; /* an algorithm we do not know of a size we cannot keep */
                        ge->digests[ge->n_digests].alg = ev->digests[d].alg;
                        ge->digests[ge->n_digests].size = ev->digests[d].size;
                        memcpy(ge->digests[ge->n_digests].bytes, ev->digests[d].bytes, ev->digests[d].size);
                        ge->n_digests++;
                }
                char *summary = NULL;
                if (shield_event_summary(log, ev, &summary) < 0 || !summary)
                        summary = strdup("");
                if (!summary)
                        return SHIELD_E_NOMEM;
                cut_utf8(summary, SHIELD_GOLDEN_SUMMARY_MAX);
                ge->summary = summary;
                g->n_events++;
        }
        return 0;
}

int shield_golden_from_parts(const struct shield_pcrs *pcrs, const struct shield_eventlog *log,
                             struct shield_golden **ret, struct shield_diag *diag) {
        struct shield_golden *g = NULL;
        int r;

        if (!ret)
                return SHIELD_E_INVAL;
        bool have_pcrs = pcrs && pcrs->n_banks > 0;
        if (!have_pcrs && !log)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "the evidence carries neither PCR values nor an event log");
        g = calloc(1, sizeof *g);
        if (!g)
                return SHIELD_E_NOMEM;
        if (log) {
                g->has_eventlog = true;
                if ((r = golden_add_events(g, log, diag)) < 0)
                        goto out;
        }
        if (have_pcrs) {
                g->pcrs = *pcrs;
        } else {
                r = shield_eventlog_replay(log, NULL, &g->pcrs, NULL);
                if (r < 0) {
                        shield_diag_fail(diag, r, 0, -1, "the event log cannot be replayed: %s", shield_strerror(r));
                        goto out;
                }
        }
        /* Only banks a PCRS.json can name are kept, so that what we write we can read. */
        for (size_t b = 0; b < g->pcrs.n_banks;) {
                if (shield_hash_name(g->pcrs.banks[b].alg) && shield_hash_size(g->pcrs.banks[b].alg) == g->pcrs.banks[b].size) {
                        b++;
                        continue;
                }
                memmove(&g->pcrs.banks[b], &g->pcrs.banks[b + 1], (g->pcrs.n_banks - b - 1) * sizeof g->pcrs.banks[0]);
                g->pcrs.n_banks--;
        }
        *ret = g;
        g = NULL;
        r = 0;
out:
        shield_golden_free(g);
        return r;
}

int shield_golden_from_evidence(const struct shield_evidence *e, struct shield_golden **ret, struct shield_diag *diag) {
        struct shield_eventlog *log = NULL;
        if (!e || !ret)
                return SHIELD_E_INVAL;
        if (!e->has_pcrs && !e->eventlog)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1,
                                        "the evidence carries neither PCR values nor an event log");
        if (e->eventlog) {
                int r = shield_eventlog_parse(e->eventlog, e->eventlog_len, &log, diag);
                if (r < 0)
                        return r;
        }
        int r = shield_golden_from_parts(e->has_pcrs ? &e->pcrs : NULL, log, ret, diag);
        shield_eventlog_free(log);
        return r;
}

static void alg_key(uint16_t alg, char buf[static 8]) {
        const char *name = shield_hash_name(alg);
        if (name && strlen(name) < 8)
                memcpy(buf, name, strlen(name) + 1);
        else
                snprintf(buf, 8, "0x%04x", (unsigned)alg);
}

int shield_golden_to_json(const struct shield_golden *g, char **ret) {
        json_t *root = NULL, *pcrs = NULL, *events = NULL;
        char *text = NULL;
        int r = SHIELD_E_NOMEM;

        if (!g || !ret)
                return SHIELD_E_INVAL;
        char *ptext = shield_pcrs_to_json(&g->pcrs);
        if (!ptext)
                return SHIELD_E_NOMEM;
        pcrs = json_loads(ptext, 0, NULL);
        free(ptext);
        root = json_object();
        events = json_array();
        if (!pcrs || !root || !events)
                goto out;
        if (json_object_set_new(root, "format", json_string(SHIELD_GOLDEN_FORMAT)) ||
            json_object_set(root, "pcrs", pcrs) || json_object_set_new(root, "eventlog", json_boolean(g->has_eventlog)) ||
            json_object_set(root, "events", events))
                goto out;
        for (size_t i = 0; i < g->n_events; i++) {
                const struct shield_golden_event *ev = &g->events[i];
                const char *tname = shield_event_type_name(ev->type);
                json_t *o = json_object(), *d = json_object();
                if (!o || !d || json_array_append_new(events, o) || json_object_set_new(o, "pcr", json_integer(ev->pcr)) ||
                    json_object_set_new(o, "index", json_integer(ev->index)) ||
                    json_object_set_new(o, "type", json_integer(ev->type)) ||
                    (tname && json_object_set_new(o, "type_name", json_string(tname))) ||
                    json_object_set_new(o, "digests", d)) {
                        if (!o)
                                json_decref(d);
                        goto out;
                }
                for (unsigned k = 0; k < ev->n_digests; k++) {
                        char key[8], hex[2 * SHIELD_HASH_MAX_SIZE + 1];
                        alg_key(ev->digests[k].alg, key);
                        shield_hex_encode(ev->digests[k].bytes, ev->digests[k].size, hex);
                        if (json_object_set_new(d, key, json_string(hex)))
                                goto out;
                }
                json_t *s = json_stringn(ev->summary, strlen(ev->summary));
                if (!s || json_object_set_new(o, "summary", s))
                        goto out;
        }
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                goto out;
        *ret = text;
        r = 0;
out:
        json_decref(pcrs);
        json_decref(events);
        json_decref(root);
        return r;
}

static int check_keys(json_t *obj, const char *const *known, long index, struct shield_diag *diag) {
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v) {
                bool ok = false;
                for (size_t i = 0; known[i] && !ok; i++)
                        ok = strcmp(key, known[i]) == 0;
                if (!ok)
                        return index < 0 ? shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "unknown key \"%s\"", key)
                                         : shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                            "\"events\"[%ld]: unknown key \"%s\"", index, key);
        }
        return 0;
}

static int get_uint(json_t *o, const char *key, uint64_t max, long index, uint64_t *ret, struct shield_diag *diag) {
        json_t *v = json_object_get(o, key);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                        "\"events\"[%ld]: \"%s\" must be an integer from 0 to %llu", index, key,
                                        (unsigned long long)max);
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

static int parse_digests(json_t *d, long index, struct shield_golden_event *ev, struct shield_diag *diag) {
        const char *key;
        json_t *v;

        if (!json_is_object(d) || json_object_size(d) == 0 || json_object_size(d) > SHIELD_EVENTLOG_ALGS_MAX)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                        "\"events\"[%ld]: \"digests\" must be an object of 1 to %d digests", index,
                                        SHIELD_EVENTLOG_ALGS_MAX);
        json_object_foreach(d, key, v) {
                uint16_t alg;
                size_t want = 0;
                uint64_t num;
                if (shield_hash_from_name(key, &alg) == 0) {
                        want = shield_hash_size(alg);
                } else if (strncmp(key, "0x", 2) == 0 && strlen(key) == 6 && shield_parse_u64(key, 16, 0xffff, &num) == 0) {
                        alg = (uint16_t)num;
                        if (shield_hash_name(alg))
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                        "\"events\"[%ld]: digest \"%s\" must be named \"%s\"", index,
                                                        key, shield_hash_name(alg));
                } else {
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                "\"events\"[%ld]: unknown digest algorithm \"%s\"", index, key);
                }
                for (unsigned k = 0; k < ev->n_digests; k++)
                        if (ev->digests[k].alg == alg)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                        "\"events\"[%ld]: digest \"%s\" given twice", index, key);
                uint8_t *bytes = NULL;
                size_t len = 0;
                if (!json_is_string(v) || json_string_length(v) > 2 * SHIELD_HASH_MAX_SIZE ||
                    shield_hex_decode(json_string_value(v), &bytes, &len) < 0 || len == 0 || (want && len != want)) {
                        free(bytes);
                        if (want)
                                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                        "\"events\"[%ld]: digest \"%s\" must be %zu bytes of hex", index,
                                                        key, want);
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                "\"events\"[%ld]: digest \"%s\" must be 1 to %d bytes of hex", index,
                                                key, SHIELD_HASH_MAX_SIZE);
                }
                ev->digests[ev->n_digests].alg = alg;
                ev->digests[ev->n_digests].size = (uint16_t)len;
                memcpy(ev->digests[ev->n_digests].bytes, bytes, len);
                ev->n_digests++;
                free(bytes);
        }
        return 0;
}

static int parse_event(json_t *o, long index, struct shield_golden_event *ev, struct shield_diag *diag) {
        static const char *const keys[] = { "pcr", "index", "type", "type_name", "digests", "summary", NULL };
        uint64_t pcr, idx, type;
        int r;

        if (!json_is_object(o))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index, "\"events\"[%ld] must be an object", index);
        if ((r = check_keys(o, keys, index, diag)) < 0 ||
            (r = get_uint(o, "pcr", SHIELD_PCR_COUNT - 1, index, &pcr, diag)) < 0 ||
            (r = get_uint(o, "index", UINT32_MAX, index, &idx, diag)) < 0 ||
            (r = get_uint(o, "type", UINT32_MAX, index, &type, diag)) < 0)
                return r;
        if (type == EV_NO_ACTION)
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                        "\"events\"[%ld]: EV_NO_ACTION events are not measured and not kept", index);
        json_t *tn = json_object_get(o, "type_name");
        if (tn) {
                const char *want = shield_event_type_name((uint32_t)type);
                if (!json_is_string(tn) || !want || strcmp(json_string_value(tn), want) != 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                                "\"events\"[%ld]: \"type_name\" does not name type 0x%08x", index,
                                                (unsigned)type);
        }
        json_t *s = json_object_get(o, "summary");
        if (!json_is_string(s) || json_string_length(s) > SHIELD_GOLDEN_SUMMARY_MAX ||
            strlen(json_string_value(s)) != json_string_length(s))
                return shield_diag_fail(diag, SHIELD_E_FORMAT, 0, index,
                                        "\"events\"[%ld]: \"summary\" must be a string of at most %d bytes", index,
                                        SHIELD_GOLDEN_SUMMARY_MAX);
        ev->pcr = (uint32_t)pcr;
        ev->index = (uint32_t)idx;
        ev->type = (uint32_t)type;
        if ((r = parse_digests(json_object_get(o, "digests"), index, ev, diag)) < 0)
                return r;
        ev->summary = strdup(json_string_value(s));
        return ev->summary ? 0 : SHIELD_E_NOMEM;
}

int shield_golden_parse_json(const char *text, size_t len, struct shield_golden **ret, struct shield_diag *diag) {
        static const char *const keys[] = { "format", "pcrs", "eventlog", "events", NULL };
        struct shield_golden *g = NULL;
        json_error_t jerr;
        json_t *root, *v;
        int r;

        if (!text || !ret)
                return SHIELD_E_INVAL;
        if (len > SHIELD_GOLDEN_JSON_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the golden measurement is %zu bytes, over %u", len,
                                        SHIELD_GOLDEN_JSON_MAX);
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                /* jansson's position is just past the byte that failed. */
                return shield_diag_fail(diag, SHIELD_E_FORMAT, jerr.position > 0 ? (size_t)jerr.position - 1 : 0, -1,
                                        "not JSON: %s (line %d)",
                                        jerr.text, jerr.line);
        r = SHIELD_E_FORMAT;
        if (!json_is_object(root)) {
                shield_diag_fail(diag, r, 0, -1, "a golden measurement must be a JSON object");
                goto out;
        }
        v = json_object_get(root, "format");
        if (!json_is_string(v) || strcmp(json_string_value(v), SHIELD_GOLDEN_FORMAT) != 0) {
                r = v ? SHIELD_E_UNSUPPORTED : SHIELD_E_FORMAT;
                shield_diag_fail(diag, r, 0, -1, "\"format\" must be \"%s\"%s", SHIELD_GOLDEN_FORMAT, v ? "" : " (missing)");
                goto out;
        }
        if ((r = check_keys(root, keys, -1, diag)) < 0)
                goto out;
        r = SHIELD_E_FORMAT;
        g = calloc(1, sizeof *g);
        if (!g) {
                r = SHIELD_E_NOMEM;
                goto out;
        }
        v = json_object_get(root, "pcrs");
        {
                char *sub = json_is_object(v) ? json_dumps(v, JSON_COMPACT) : NULL;
                if (!sub) {
                        shield_diag_fail(diag, r, 0, -1, "\"pcrs\" must be a PCRS.json object");
                        goto out;
                }
                struct shield_diag pd = { 0 };
                r = shield_pcrs_parse_json(sub, strlen(sub), &g->pcrs, &pd);
                free(sub);
                if (r < 0) {
                        shield_diag_fail(diag, r, 0, -1, "\"pcrs\": %s", pd.msg);
                        goto out;
                }
                r = SHIELD_E_FORMAT;
        }
        v = json_object_get(root, "eventlog");
        if (!json_is_boolean(v)) {
                shield_diag_fail(diag, r, 0, -1, "\"eventlog\" must be true or false");
                goto out;
        }
        g->has_eventlog = json_is_true(v);
        v = json_object_get(root, "events");
        if (!json_is_array(v)) {
                shield_diag_fail(diag, r, 0, -1, "\"events\" must be an array");
                goto out;
        }
        if (json_array_size(v) > SHIELD_GOLDEN_EVENTS_MAX) {
                r = shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "%zu events, over %u", json_array_size(v),
                                     SHIELD_GOLDEN_EVENTS_MAX);
                goto out;
        }
        if (json_array_size(v) && !g->has_eventlog) {
                shield_diag_fail(diag, r, 0, -1, "\"events\" must be empty when \"eventlog\" is false");
                goto out;
        }
        if (json_array_size(v)) {
                g->events = calloc(json_array_size(v), sizeof *g->events);
                if (!g->events) {
                        r = SHIELD_E_NOMEM;
                        goto out;
                }
        }
        size_t i;
        json_t *o;
        json_array_foreach(v, i, o) {
                struct shield_golden_event *ev = &g->events[i];
                if ((r = parse_event(o, (long)i, ev, diag)) < 0)
                        goto out; /* the summary is set last: nothing of ev to free */
                g->n_events++;
                if (i > 0 && ev->index <= g->events[i - 1].index) {
                        r = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, (long)i,
                                             "\"events\"[%zu]: \"index\" %u does not follow %u (events are in log order)",
                                             i, ev->index, g->events[i - 1].index);
                        goto out;
                }
        }
        *ret = g;
        g = NULL;
        r = 0;
out:
        shield_golden_free(g);
        json_decref(root);
        return r;
}
