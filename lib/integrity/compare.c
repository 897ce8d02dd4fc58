/* SPDX-License-Identifier: Apache-2.0 */
/* Comparing a boot with its golden measurement: green, yellow, red (docs/INTEGRITY.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrity-internal.h"
#include "shield/util.h"

/* Cells of the longest-common-subsequence table for one PCR's events; past it events are matched by position. */
#define LCS_CELLS_MAX (1u << 22)

const char *shield_colour_name(enum shield_colour c) {
        switch (c) {
        case SHIELD_GREEN: return "green";
        case SHIELD_YELLOW: return "yellow";
        case SHIELD_RED: return "red";
        }
        return "unknown";
}

void shield_integrity_verdict_clear(struct shield_integrity_verdict *v) {
        if (!v)
                return;
        shield_reasons_clear(&v->reasons);
        v->colour = v->early = v->late = SHIELD_GREEN;
}

int shield_integrity_policy_parse(const char *spec, struct shield_integrity_policy *ret, struct shield_diag *diag) {
        struct shield_integrity_policy p = { 0 };

        if (!ret)
                return SHIELD_E_INVAL;
        if (!spec || !*spec || strcmp(spec, "gce") == 0) {
                memcpy(p.name, "gce", 4);
                p.early_mask = 0x00ffu;
                p.late_mask = 0xff00u;
        } else if (strcmp(spec, "oci") == 0) {
                memcpy(p.name, "oci", 4);
                p.early_mask = (1u << 0) | (1u << 2);
        } else if (strcmp(spec, "strict") == 0) {
                memcpy(p.name, "strict", 7);
                p.early_mask = 0x00ffu;
                p.late_mask = 0xff00u;
        } else {
                uint64_t mask;
                int r = shield_parse_index_list(spec, SHIELD_PCR_COUNT - 1, &mask);
                if (r < 0)
                        return shield_diag_fail(diag, r, 0, -1,
                                                "policy \"%s\": expected oci, gce, strict or a list of PCRs 0-23 such as \"0,2,4-7\"",
                                                spec);
                size_t n = strlen(spec);
                if (n < sizeof p.name)
                        memcpy(p.name, spec, n + 1);
                else
                        memcpy(p.name, "custom", 7);
                p.early_mask = (uint32_t)(mask & 0xffu);
                p.late_mask = (uint32_t)(mask & 0xffff00u);
        }
        *ret = p;
        return 0;
}

struct cmp {
        const struct shield_integrity_policy *p;
        const struct shield_golden *golden, *current;
        struct shield_reasons reasons;
        enum shield_colour early, late;
        enum shield_colour pcr_colour; /* of the PCR being compared, policy or not */
};

static bool in_policy(const struct cmp *c, unsigned pcr) {
        return pcr < 32 && ((c->p->early_mask | c->p->late_mask) >> pcr & 1u);
}

/* Add a reason of colour col for pcr; outside the policy it is info and colours nothing. */
__attribute__((format(printf, 7, 8)))
static int add(struct cmp *c, enum shield_colour col, const char *code, uint16_t bank, int pcr, long event,
               const char *fmt, ...) {
        char msg[SHIELD_REASON_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        enum shield_severity sev = SHIELD_SEV_INFO;
        bool counts = pcr >= 0 && in_policy(c, (unsigned)pcr);
        if (counts) {
                sev = col == SHIELD_RED ? SHIELD_SEV_ERROR : col == SHIELD_YELLOW ? SHIELD_SEV_WARNING : SHIELD_SEV_INFO;
                enum shield_colour *side = pcr < 8 ? &c->early : &c->late;
                if (col > *side)
                        *side = col;
        }
        if (col > c->pcr_colour)
                c->pcr_colour = col;
        /* The note goes first: a long message is cut at the end. */
        bool note = !counts && col != SHIELD_GREEN;
        return shield_reasons_add(&c->reasons, code, sev, bank, pcr, event, SIZE_MAX, "%s%s%s%s",
                                  note ? "not counted by policy " : "", note ? c->p->name : "", note ? ": " : "", msg);
}

/* Summaries in messages keep their tail (a device path ends with the file name), at most SUMMARY_SHOWN bytes. */
#define SUMMARY_SHOWN 72
static const char *tail(const char *summary, char buf[static SUMMARY_SHOWN + 4]) {
        size_t n = strlen(summary);
        if (n <= SUMMARY_SHOWN)
                return summary;
        const char *t = summary + n - SUMMARY_SHOWN;
        while (((unsigned char)*t & 0xC0) == 0x80)
                t++;
        memcpy(buf, "\xe2\x80\xa6", 3); /* … */
        memcpy(buf + 3, t, strlen(t) + 1);
        return buf;
}

static bool is_reset_value(unsigned pcr, const uint8_t *v, size_t size) {
        uint8_t want = pcr >= 17 && pcr <= 22 ? 0xff : 0x00;
        for (size_t i = 0; i < size; i++)
                if (v[i] != want)
                        return false;
        return true;
}

static const char *alg_name(uint16_t alg) {
        const char *n = shield_hash_name(alg);
        return n ? n : "unknown-bank";
}

static const char *type_name(uint32_t type) {
        const char *n = shield_event_type_name(type);
        return n ? n : "EV_UNKNOWN";
}

/* The index of alg's digest in ev, or -1. */
static int digest_slot(const struct shield_golden_event *ev, uint16_t alg) {
        for (int k = 0; k < ev->n_digests; k++)
                if (ev->digests[k].alg == alg)
                        return k;
        return -1;
}

/* Same type and the same digest in every bank both carry (at least one). */
static bool event_equal(const struct shield_golden_event *a, const struct shield_golden_event *b) {
        unsigned common = 0;
        if (a->type != b->type)
                return false;
        for (int k = 0; k < a->n_digests; k++) {
                int j = digest_slot(b, a->digests[k].alg);
                if (j < 0)
                        continue;
                if (a->digests[k].size != b->digests[j].size ||
                    memcmp(a->digests[k].bytes, b->digests[j].bytes, a->digests[k].size) != 0)
                        return false;
                common++;
        }
        return common > 0;
}

/* The bank to show for a pair of events (b may be NULL): sha256 when both have it, else the first common one. */
static uint16_t show_alg(const struct shield_golden_event *a, const struct shield_golden_event *b) {
        if (digest_slot(a, SHIELD_ALG_SHA256) >= 0 && (!b || digest_slot(b, SHIELD_ALG_SHA256) >= 0))
                return SHIELD_ALG_SHA256;
        for (int k = 0; k < a->n_digests; k++)
                if (!b || digest_slot(b, a->digests[k].alg) >= 0)
                        return a->digests[k].alg;
        return a->n_digests ? a->digests[0].alg : 0;
}

static void digest_hex(const struct shield_golden_event *ev, uint16_t alg, char out[static 2 * SHIELD_HASH_MAX_SIZE + 1]) {
        int k = digest_slot(ev, alg);
        if (k < 0)
                memcpy(out, "(none)", 7);
        else
                shield_hex_encode(ev->digests[k].bytes, ev->digests[k].size, out);
}

static bool is_boot_order_variable(const struct shield_golden_event *ev) {
        return (ev->type == EV_EFI_VARIABLE_BOOT || ev->type == EV_EFI_VARIABLE_BOOT2) &&
               strncmp(ev->summary, "BootOrder", 9) == 0;
}

/* Events whose order is the boot order: boot applications and drivers, load options, IPL. */
static bool is_boot_event(const struct shield_golden_event *ev) {
        return ev->type == EV_EFI_BOOT_SERVICES_APPLICATION || ev->type == EV_EFI_BOOT_SERVICES_DRIVER ||
               ev->type == EV_EFI_VARIABLE_BOOT || ev->type == EV_EFI_VARIABLE_BOOT2 || ev->type == EV_IPL;
}

/* Pointers to the events of one PCR, in log order. */
static int pcr_events(const struct shield_golden *g, unsigned pcr, const struct shield_golden_event ***ret, size_t *ret_n) {
        size_t n = 0;
        for (size_t i = 0; i < g->n_events; i++)
                n += g->events[i].pcr == pcr;
        *ret = NULL;
        *ret_n = n;
        if (!n)
                return 0;
        const struct shield_golden_event **v = calloc(n, sizeof *v);
        if (!v)
                return SHIELD_E_NOMEM;
        n = 0;
        for (size_t i = 0; i < g->n_events; i++)
                if (g->events[i].pcr == pcr)
                        v[n++] = &g->events[i];
        *ret = v;
        return 0;
}

/*
 * Match golden events G to current events C in order (gm[i] = j or -1,
 * cm[j] = i or -1): common prefix and suffix, then the longest common
 * subsequence of the middle, or positional matching when it is too large.
 */
static int match_events(const struct shield_golden_event **G, size_t m, const struct shield_golden_event **C, size_t n,
                        long *gm, long *cm) {
        size_t pre = 0, suf = 0;
        for (size_t i = 0; i < m; i++)
                gm[i] = -1;
        for (size_t j = 0; j < n; j++)
                cm[j] = -1;
        while (pre < m && pre < n && event_equal(G[pre], C[pre])) {
                gm[pre] = (long)pre;
                cm[pre] = (long)pre;
                pre++;
        }
        while (suf < m - pre && suf < n - pre && event_equal(G[m - 1 - suf], C[n - 1 - suf])) {
                gm[m - 1 - suf] = (long)(n - 1 - suf);
                cm[n - 1 - suf] = (long)(m - 1 - suf);
                suf++;
        }
        size_t a = m - pre - suf, b = n - pre - suf;
        if (a == 0 || b == 0)
                return 0;
        if ((a + 1) > LCS_CELLS_MAX / (b + 1)) {
                for (size_t k = 0; k < a && k < b; k++)
                        if (event_equal(G[pre + k], C[pre + k])) {
                                gm[pre + k] = (long)(pre + k);
                                cm[pre + k] = (long)(pre + k);
                        }
                return 0;
        }
        /* L[i][j] = LCS length of G[pre+i..] and C[pre+j..]. */
        uint32_t *L = calloc((a + 1) * (b + 1), sizeof *L);
        if (!L)
                return SHIELD_E_NOMEM;
#define AT(i, j) L[(i) * (b + 1) + (j)]
        for (size_t i = a; i-- > 0;)
                for (size_t j = b; j-- > 0;)
                        AT(i, j) = event_equal(G[pre + i], C[pre + j]) ? AT(i + 1, j + 1) + 1
                                   : AT(i + 1, j) >= AT(i, j + 1)                   ? AT(i + 1, j)
                                                                                    : AT(i, j + 1);
        for (size_t i = 0, j = 0; i < a && j < b;) {
                if (event_equal(G[pre + i], C[pre + j]) && AT(i, j) == AT(i + 1, j + 1) + 1) {
                        gm[pre + i] = (long)(pre + j);
                        cm[pre + j] = (long)(pre + i);
                        i++;
                        j++;
                } else if (AT(i + 1, j) >= AT(i, j + 1)) {
                        i++;
                } else {
                        j++;
                }
        }
#undef AT
        free(L);
        return 0;
}

/* How many matched golden events come before golden position i (the gap i sits in). */
static size_t gap_of(const long *match, size_t i) {
        size_t k = 0;
        for (size_t x = 0; x < i; x++)
                k += match[x] >= 0;
        return k;
}

static int diff_events(struct cmp *c, unsigned pcr, const struct shield_golden_event **G, size_t m,
                       const struct shield_golden_event **C, size_t n) {
        long *gm = calloc(m ? m : 1, sizeof *gm), *cm = calloc(n ? n : 1, sizeof *cm);
        char h1[2 * SHIELD_HASH_MAX_SIZE + 1], h2[2 * SHIELD_HASH_MAX_SIZE + 1], sa[SUMMARY_SHOWN + 4], sb[SUMMARY_SHOWN + 4];
        int r = SHIELD_E_NOMEM;

        if (!gm || !cm)
                goto out;
        if ((r = match_events(G, m, C, n, gm, cm)) < 0)
                goto out;

        /* An event of the golden list found elsewhere: the order changed. */
        for (size_t i = 0; i < m; i++) {
                if (gm[i] >= 0)
                        continue;
                for (size_t j = 0; j < n; j++) {
                        if (cm[j] >= 0 || !event_equal(G[i], C[j]))
                                continue;
                        gm[i] = (long)j;
                        cm[j] = (long)i;
                        bool boot = is_boot_event(C[j]);
                        r = add(c, SHIELD_RED, boot ? "boot-order-changed" : "event-moved", show_alg(C[j], NULL), (int)pcr,
                                C[j]->index,
                                "PCR %u event %u %s %s was measured in another order: now number %zu of PCR %u's events, number %zu in the golden measurement (golden event %u)",
                                pcr, C[j]->index, type_name(C[j]->type), tail(C[j]->summary, sa), j + 1, pcr, i + 1, G[i]->index);
                        if (r < 0)
                                goto out;
                        break;
                }
        }
        /* A golden event replaced, in the same place, by one of the same type: it changed. */
        for (size_t i = 0; i < m; i++) {
                if (gm[i] >= 0)
                        continue;
                size_t gap = gap_of(gm, i);
                for (size_t j = 0; j < n; j++) {
                        if (cm[j] >= 0 || C[j]->type != G[i]->type || gap_of(cm, j) != gap)
                                continue;
                        gm[i] = (long)j;
                        cm[j] = (long)i;
                        uint16_t alg = show_alg(G[i], C[j]);
                        digest_hex(G[i], alg, h1);
                        digest_hex(C[j], alg, h2);
                        if (G[i]->type == EV_SEPARATOR)
                                r = add(c, SHIELD_RED, "separator-wrong", alg, (int)pcr, C[j]->index,
                                        "PCR %u event %u EV_SEPARATOR %s: %s digest changed from %s to %s", pcr,
                                        C[j]->index, tail(C[j]->summary, sa), alg_name(alg), h1, h2);
                        else if (is_boot_order_variable(G[i]))
                                r = add(c, SHIELD_RED, "boot-order-changed", alg, (int)pcr, C[j]->index,
                                        "PCR %u event %u %s boot order changed: %s (golden: %s)", pcr, C[j]->index,
                                        type_name(C[j]->type), tail(C[j]->summary, sa), tail(G[i]->summary, sb));
                        else if (strcmp(G[i]->summary, C[j]->summary) != 0)
                                r = add(c, SHIELD_RED, "event-changed", alg, (int)pcr, C[j]->index,
                                        "PCR %u event %u %s %s %s digest changed from %s to %s (golden: %s)", pcr,
                                        C[j]->index, type_name(C[j]->type), tail(C[j]->summary, sa), alg_name(alg), h1,
                                        h2, tail(G[i]->summary, sb));
                        else
                                r = add(c, SHIELD_RED, "event-changed", alg, (int)pcr, C[j]->index,
                                        "PCR %u event %u %s %s %s digest changed from %s to %s", pcr, C[j]->index,
                                        type_name(C[j]->type), tail(C[j]->summary, sa), alg_name(alg), h1, h2);
                        if (r < 0)
                                goto out;
                        break;
                }
        }
        for (size_t i = 0; i < m; i++) {
                if (gm[i] >= 0)
                        continue;
                uint16_t alg = show_alg(G[i], NULL);
                digest_hex(G[i], alg, h1);
                r = add(c, SHIELD_RED, G[i]->type == EV_SEPARATOR ? "separator-wrong" : "event-removed", alg, (int)pcr,
                        G[i]->index, "PCR %u golden event %u %s %s (%s %s) is missing", pcr, G[i]->index,
                        type_name(G[i]->type), tail(G[i]->summary, sb), alg_name(alg), h1);
                if (r < 0)
                        goto out;
        }
        for (size_t j = 0; j < n; j++) {
                if (cm[j] >= 0)
                        continue;
                uint16_t alg = show_alg(C[j], NULL);
                digest_hex(C[j], alg, h1);
                const struct shield_golden_event *later_app = NULL;
                if (C[j]->type == EV_EFI_BOOT_SERVICES_APPLICATION)
                        for (size_t k = j + 1; k < n && !later_app; k++)
                                if (cm[k] >= 0 && C[k]->type == EV_EFI_BOOT_SERVICES_APPLICATION)
                                        later_app = C[k];
                if (C[j]->type == EV_SEPARATOR)
                        r = add(c, SHIELD_RED, "separator-wrong", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u EV_SEPARATOR %s was added (%s %s)", pcr, C[j]->index, tail(C[j]->summary, sa),
                                alg_name(alg), h1);
                else if (later_app)
                        r = add(c, SHIELD_RED, "boot-order-changed", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s %s (%s %s) was added and runs before the golden boot application %s (event %u)",
                                pcr, C[j]->index, type_name(C[j]->type), tail(C[j]->summary, sa), alg_name(alg), h1,
                                tail(later_app->summary, sb), later_app->index);
                else
                        r = add(c, SHIELD_YELLOW, "event-added", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s %s was added (%s %s)", pcr, C[j]->index, type_name(C[j]->type),
                                tail(C[j]->summary, sa), alg_name(alg), h1);
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        free(gm);
        free(cm);
        return r;
}

static int compare_pcr(struct cmp *c, unsigned pcr) {
        const struct shield_pcrs *gp = &c->golden->pcrs, *cp = &c->current->pcrs;
        const struct shield_pcr_bank *show_g = NULL, *show_c = NULL;
        size_t n_golden = 0, n_common = 0, n_differ = 0;
        char h1[2 * SHIELD_HASH_MAX_SIZE + 1], h2[2 * SHIELD_HASH_MAX_SIZE + 1];
        uint32_t bit = UINT32_C(1) << pcr;
        int r;

        c->pcr_colour = SHIELD_GREEN;
        for (size_t b = 0; b < gp->n_banks; b++) {
                const struct shield_pcr_bank *g = &gp->banks[b];
                if (!(g->present & bit))
                        continue;
                n_golden++;
                const struct shield_pcr_bank *cur = shield_pcrs_bank_const(cp, g->alg);
                if (!cur || !(cur->present & bit) || cur->size != g->size)
                        continue;
                n_common++;
                if (memcmp(g->value[pcr], cur->value[pcr], g->size) == 0)
                        continue;
                n_differ++;
                if (!show_g || g->alg == SHIELD_ALG_SHA256) {
                        show_g = g;
                        show_c = cur;
                }
        }
        if (n_golden == 0) {
                /* The golden measurement has no value here: any non-reset value now is new. */
                for (size_t b = 0; b < cp->n_banks; b++) {
                        const struct shield_pcr_bank *cur = &cp->banks[b];
                        if (!(cur->present & bit) || is_reset_value(pcr, cur->value[pcr], cur->size))
                                continue;
                        shield_hex_encode(cur->value[pcr], cur->size, h2);
                        return add(c, SHIELD_YELLOW, "pcr-new", cur->alg, (int)pcr, -1,
                                   "PCR %u has a value the golden measurement did not record (%s %s)", pcr,
                                   alg_name(cur->alg), h2);
                }
                return 0;
        }
        if (n_common == 0)
                return add(c, SHIELD_RED, "pcr-missing", 0, (int)pcr, -1,
                           "PCR %u: no value in any bank the golden measurement has", pcr);
        if (n_differ == 0)
                return 0;

        bool golden_reset = is_reset_value(pcr, show_g->value[pcr], show_g->size);
        shield_hex_encode(show_g->value[pcr], show_g->size, h1);
        shield_hex_encode(show_c->value[pcr], show_c->size, h2);

        const struct shield_golden_event **G = NULL, **C = NULL;
        size_t m = 0, n = 0;
        if ((r = pcr_events(c->golden, pcr, &G, &m)) < 0 || (r = pcr_events(c->current, pcr, &C, &n)) < 0)
                goto out;
        bool by_events = c->golden->has_eventlog && c->current->has_eventlog && (m > 0 || (n > 0 && golden_reset));
        if (!by_events) {
                if (golden_reset)
                        r = add(c, SHIELD_YELLOW, "pcr-new", show_c->alg, (int)pcr, -1,
                                "PCR %u has a value the golden measurement did not record (%s %s)", pcr,
                                alg_name(show_c->alg), h2);
                else
                        r = add(c, SHIELD_RED, "pcr-changed", show_c->alg, (int)pcr, -1,
                                "PCR %u %s changed from %s to %s", pcr, alg_name(show_c->alg), h1, h2);
                goto out;
        }
        if (m == 0) {
                r = add(c, SHIELD_YELLOW, "pcr-new", show_c->alg, (int)pcr, -1,
                        "PCR %u is new: %zu event%s from event %u (%s %s)", pcr, n, n == 1 ? "" : "s", C[0]->index,
                        alg_name(show_c->alg), h2);
                if (r < 0)
                        goto out;
        }
        size_t before = c->reasons.n;
        if ((r = diff_events(c, pcr, G, m, C, n)) < 0)
                goto out;
        if (c->reasons.n == before)
                r = add(c, SHIELD_RED, "pcr-changed", show_c->alg, (int)pcr, -1,
                        "PCR %u %s changed from %s to %s, yet its events are those of the golden measurement (the log does not account for the value)",
                        pcr, alg_name(show_c->alg), h1, h2);
out:
        free(G);
        free(C);
        return r;
}

int shield_integrity_compare(const struct shield_golden *golden, const struct shield_golden *current,
                             const struct shield_integrity_policy *p, struct shield_integrity_verdict *ret) {
        struct shield_integrity_policy def;
        struct cmp c = { .golden = golden, .current = current };
        int r;

        if (!golden || !current || !ret)
                return SHIELD_E_INVAL;
        if (!p) {
                r = shield_integrity_policy_parse(NULL, &def, NULL);
                if (r < 0)
                        return r;
                p = &def;
        }
        c.p = p;
        /* A whole bank gone is worth saying once; the other banks still decide. */
        for (size_t b = 0; b < golden->pcrs.n_banks; b++)
                if (!shield_pcrs_bank_const(&current->pcrs, golden->pcrs.banks[b].alg)) {
                        r = add(&c, SHIELD_GREEN, "bank-missing", golden->pcrs.banks[b].alg, -1, -1,
                                "the %s bank of the golden measurement is not in this boot's PCR values",
                                alg_name(golden->pcrs.banks[b].alg));
                        if (r < 0)
                                goto fail;
                }
        for (unsigned pcr = 0; pcr < SHIELD_PCR_COUNT; pcr++)
                if ((r = compare_pcr(&c, pcr)) < 0)
                        goto fail;
        ret->early = c.early;
        ret->late = c.late;
        ret->colour = c.early > c.late ? c.early : c.late;
        ret->reasons = c.reasons;
        return 0;
fail:
        shield_reasons_clear(&c.reasons);
        return r;
}
