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
        /* Room for the whole message: shield_reasons_add() shortens it in the middle, keeping both ends. */
        char msg[4 * SHIELD_REASON_MSG_MAX];
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
        /* The note goes first: a long message is cut in the middle, the start stays. */
        bool note = !counts && col != SHIELD_GREEN;
        return shield_reasons_add(&c->reasons, code, sev, bank, pcr, event, SIZE_MAX, "%s%s%s%s",
                                  note ? "not counted by policy " : "", note ? c->p->name : "", note ? ": " : "", msg);
}

/*
 * Summaries in messages are at most SUMMARY_SHOWN bytes (+ "…"), or
 * SUMMARY_SHOWN_PAIR where one message holds two summaries and two digests
 * (so the whole fits SHIELD_REASON_MSG_MAX and neither digest is cut). A
 * long one is cut in the middle: the head names the entry (Boot0001 "UEFI
 * Misc Device", a variable's name, an application's description) and the
 * tail ends with the file name a device path leads to; both say which event
 * it is. The head is the leading name up to its closing quote when that
 * ends within SUMMARY_HEAD_MAX bytes and leaves SUMMARY_TAIL_MIN for the
 * tail, else half of what is shown.
 */
#define SUMMARY_SHOWN 72
#define SUMMARY_SHOWN_PAIR 44
#define SUMMARY_HEAD_MAX 48
#define SUMMARY_TAIL_MIN 12
static const char *shorten_to(const char *summary, size_t shown, char buf[static SUMMARY_SHOWN + 4]) {
        size_t n = strlen(summary);
        if (shown > SUMMARY_SHOWN)
                shown = SUMMARY_SHOWN;
        if (n <= shown)
                return summary;
        size_t head = shown / 2, name_max = shown - SUMMARY_TAIL_MIN < SUMMARY_HEAD_MAX ? shown - SUMMARY_TAIL_MIN
                                                                                          : SUMMARY_HEAD_MAX;
        const char *q = memchr(summary, '"', name_max);
        const char *end = q ? memchr(q + 1, '"', (size_t)(summary + name_max - (q + 1))) : NULL;
        if (end)
                head = (size_t)(end - summary) + 1;
        while (head && ((unsigned char)summary[head] & 0xC0) == 0x80)
                head--;
        /* The tail starts on a character boundary at or after n - (shown - head). */
        size_t from = n - (shown - head);
        while (from < n && ((unsigned char)summary[from] & 0xC0) == 0x80)
                from++;
        memcpy(buf, summary, head);
        memcpy(buf + head, "\xe2\x80\xa6", 3); /* … */
        memcpy(buf + head + 3, summary + from, n - from + 1);
        return buf;
}

static const char *shorten(const char *summary, char buf[static SUMMARY_SHOWN + 4]) {
        return shorten_to(summary, SUMMARY_SHOWN, buf);
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
        /* O(m + n). */
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
        /*
         * L[i][j] = LCS length of G[pre+i..] and C[pre+j..]. O(a·b), capped at
         * LCS_CELLS_MAX cells for each PCR (past it, the positional pass above).
         */
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

/*
 * Finding moved events. event_equal() compares only the banks both events
 * carry, so it is not an equivalence (an sha256-only event can equal two
 * sha1+sha256 events that differ from each other) and events cannot simply
 * be hashed. It is one within a bank set, though: events are grouped by the
 * banks they carry (their "bank set"), and for each bank set B of current
 * events and each intersection I of B with a bank set of golden events, the
 * current events of B are sorted by their type and digests in I. A golden
 * event then finds its equals with one binary search per current bank set.
 * Event logs put every bank in every event (PFP 1.05, 10.2.2), so there is
 * usually one bank set a side; a log declares at most SHIELD_EVENTLOG_ALGS_MAX
 * banks, so there are at most 2^8 - 1 of them.
 */
_Static_assert(SHIELD_EVENTLOG_ALGS_MAX <= 8, "an intersection is a byte of bank-set positions");

/* The banks of one event that the other side also has, by algorithm, and where each sits in the event. */
struct bankset {
        uint8_t n;
        uint16_t alg[SHIELD_EVENTLOG_ALGS_MAX];
        uint8_t slot[SHIELD_EVENTLOG_ALGS_MAX];
};

/* One index: the current events of bank set b, keyed by type and the digests of b's positions in mask. */
struct moved_index {
        const struct bankset *b;
        uint8_t mask;
        size_t start, end; /* in moved.ent */
};

struct moved_ent {
        const struct shield_golden_event *ev;
        const struct bankset *bs; /* ev's own: the same algorithms as the index's, its own slots */
        const struct moved_index *ix;
        size_t pos;               /* in C */
};

static int cmp_u16(const void *a, const void *b) {
        uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
        return x < y ? -1 : x > y;
}

/* The sorted distinct algorithms of the events E[pos[0..k)]. */
static int algs_of(const struct shield_golden_event **E, const size_t *pos, size_t k, uint16_t **ret, size_t *ret_n) {
        uint16_t *v = calloc(k * SHIELD_EVENTLOG_ALGS_MAX + 1, sizeof *v);
        size_t n = 0;
        if (!v)
                return SHIELD_E_NOMEM;
        for (size_t x = 0; x < k; x++)
                for (int d = 0; d < E[pos[x]]->n_digests; d++)
                        v[n++] = E[pos[x]]->digests[d].alg;
        qsort(v, n, sizeof *v, cmp_u16);
        size_t u = 0;
        for (size_t x = 0; x < n; x++)
                if (u == 0 || v[u - 1] != v[x])
                        v[u++] = v[x];
        *ret = v;
        *ret_n = u;
        return 0;
}

/* ev's banks whose algorithm is in other[0..n_other), sorted by algorithm. */
static void bankset_of(const struct shield_golden_event *ev, const uint16_t *other, size_t n_other, struct bankset *ret) {
        struct bankset s = { 0 };
        for (int d = 0; d < ev->n_digests && s.n < SHIELD_EVENTLOG_ALGS_MAX; d++) {
                uint16_t alg = ev->digests[d].alg;
                if (!bsearch(&alg, other, n_other, sizeof *other, cmp_u16))
                        continue;
                unsigned k = s.n++;
                for (; k > 0 && s.alg[k - 1] > alg; k--) {
                        s.alg[k] = s.alg[k - 1];
                        s.slot[k] = s.slot[k - 1];
                }
                s.alg[k] = alg;
                s.slot[k] = (uint8_t)d;
        }
        *ret = s;
}

static int bankset_cmp(const struct bankset *x, const struct bankset *y) {
        if (x->n != y->n)
                return x->n < y->n ? -1 : 1;
        for (unsigned k = 0; k < x->n; k++)
                if (x->alg[k] != y->alg[k])
                        return x->alg[k] < y->alg[k] ? -1 : 1;
        return 0;
}

struct bs_pos {
        const struct bankset *bs;
        size_t pos;
};

static int cmp_bs_pos(const void *a, const void *b) {
        const struct bs_pos *x = a, *y = b;
        int r = bankset_cmp(x->bs, y->bs);
        return r ? r : x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Order two events by type and the digests at positions mask of bank set b;
 * xs and ys give where each of b's algorithms sits in x and y.
 */
static int key_cmp(const struct shield_golden_event *x, const uint8_t *xs, const struct shield_golden_event *y,
                   const uint8_t *ys, const struct bankset *b, uint8_t mask) {
        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        for (unsigned k = 0; k < b->n; k++) {
                if (!(mask >> k & 1u))
                        continue;
                uint16_t sx = x->digests[xs[k]].size, sy = y->digests[ys[k]].size;
                if (sx != sy)
                        return sx < sy ? -1 : 1;
                int r = memcmp(x->digests[xs[k]].bytes, y->digests[ys[k]].bytes, sx);
                if (r)
                        return r;
        }
        return 0;
}

static int cmp_moved_ent(const void *a, const void *b) {
        const struct moved_ent *x = a, *y = b;
        int r = key_cmp(x->ev, x->bs->slot, y->ev, y->bs->slot, x->ix->b, x->ix->mask);
        return r ? r : x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The positions of b's algorithms that a carries, as a mask. */
static uint8_t bankset_common(const struct bankset *a, const struct bankset *b) {
        uint8_t mask = 0;
        for (unsigned k = 0, i = 0; k < b->n; k++) {
                while (i < a->n && a->alg[i] < b->alg[k])
                        i++;
                if (i < a->n && a->alg[i] == b->alg[k])
                        mask |= (uint8_t)(1u << k);
        }
        return mask;
}

/* bs[0..k) sorted by bank set (then position), and how many distinct bank sets there are. */
static int classes_of(const struct bankset *bs, size_t k, struct bs_pos **ret_sorted, size_t *ret_n_classes) {
        struct bs_pos *v = calloc(k ? k : 1, sizeof *v);
        if (!v)
                return SHIELD_E_NOMEM;
        for (size_t x = 0; x < k; x++)
                v[x] = (struct bs_pos){ .bs = &bs[x], .pos = x };
        qsort(v, k, sizeof *v, cmp_bs_pos);
        size_t nc = 0;
        for (size_t x = 0; x < k; x++)
                nc += x == 0 || bankset_cmp(v[x - 1].bs, v[x].bs) != 0;
        *ret_sorted = v;
        *ret_n_classes = nc;
        return 0;
}

/*
 * An event of the golden list found elsewhere: the order changed. For each
 * golden event left unmatched, in order, the first unmatched current event
 * equal to it; reported as today's nested scan did, without the m·n scan.
 */
static int match_moved(struct cmp *c, unsigned pcr, const struct shield_golden_event **G, size_t m,
                       const struct shield_golden_event **C, size_t n, long *gm, long *cm) {
        size_t *ug = NULL, *uc = NULL, nug = 0, nuc = 0, n_galgs = 0, n_calgs = 0, n_gc = 0, n_cc = 0, n_ix = 0;
        uint16_t *galgs = NULL, *calgs = NULL;
        struct bankset *gbs = NULL, *cbs = NULL;
        struct bs_pos *gsorted = NULL, *csorted = NULL;
        size_t *gclass = NULL, *cstart = NULL, *ccount = NULL, *cur = NULL;
        const struct bankset **gcls = NULL, **ccls = NULL;
        struct moved_index *ix = NULL;
        long *ix_of = NULL;
        struct moved_ent *ent = NULL;
        char sa[SUMMARY_SHOWN + 4];
        int r = SHIELD_E_NOMEM;

        ug = calloc(m ? m : 1, sizeof *ug);
        uc = calloc(n ? n : 1, sizeof *uc);
        if (!ug || !uc)
                goto out;
        for (size_t i = 0; i < m; i++)
                if (gm[i] < 0)
                        ug[nug++] = i;
        for (size_t j = 0; j < n; j++)
                if (cm[j] < 0)
                        uc[nuc++] = j;
        r = 0;
        if (nug == 0 || nuc == 0)
                goto out;
        if ((r = algs_of(G, ug, nug, &galgs, &n_galgs)) < 0 || (r = algs_of(C, uc, nuc, &calgs, &n_calgs)) < 0)
                goto out;
        r = SHIELD_E_NOMEM;
        gbs = calloc(nug, sizeof *gbs);
        cbs = calloc(nuc, sizeof *cbs);
        if (!gbs || !cbs)
                goto out;
        /* O(m + n): each event carries at most SHIELD_EVENTLOG_ALGS_MAX digests. */
        for (size_t x = 0; x < nug; x++)
                bankset_of(G[ug[x]], calgs, n_calgs, &gbs[x]);
        for (size_t x = 0; x < nuc; x++)
                bankset_of(C[uc[x]], galgs, n_galgs, &cbs[x]);
        if ((r = classes_of(gbs, nug, &gsorted, &n_gc)) < 0 || (r = classes_of(cbs, nuc, &csorted, &n_cc)) < 0)
                goto out;
        r = SHIELD_E_NOMEM;
        gclass = calloc(nug, sizeof *gclass);
        gcls = calloc(n_gc, sizeof *gcls);
        ccls = calloc(n_cc, sizeof *ccls);
        cstart = calloc(n_cc, sizeof *cstart);
        ccount = calloc(n_cc, sizeof *ccount);
        if (!gclass || !gcls || !ccls || !cstart || !ccount)
                goto out;
        for (size_t x = 0, k = 0; x < nug; x++) {
                if (x > 0 && bankset_cmp(gsorted[x - 1].bs, gsorted[x].bs) != 0)
                        k++;
                gclass[gsorted[x].pos] = k;
                gcls[k] = gsorted[x].bs;
        }
        for (size_t x = 0, k = 0; x < nuc; x++) {
                if (x > 0 && bankset_cmp(csorted[x - 1].bs, csorted[x].bs) != 0)
                        k++;
                if (!ccls[k])
                        cstart[k] = x;
                ccls[k] = csorted[x].bs;
                ccount[k]++;
        }
        /*
         * ix_of[a * n_cc + b]: the index golden bank set a searches for current
         * bank set b, or -1 when they share no bank. O(gs·cs) for gs golden and
         * cs current bank sets; cs is at most 255 for an event log.
         */
        if (n_gc > SIZE_MAX / sizeof *ix_of / n_cc)
                goto out;
        ix_of = calloc(n_gc * n_cc, sizeof *ix_of);
        ix = calloc(n_gc * n_cc, sizeof *ix);
        if (!ix_of || !ix)
                goto out;
        size_t n_ent = 0;
        for (size_t b = 0; b < n_cc; b++) {
                size_t first = n_ix;
                for (size_t a = 0; a < n_gc; a++) {
                        uint8_t mask = bankset_common(gcls[a], ccls[b]);
                        long found = -1;
                        for (size_t x = first; x < n_ix && found < 0; x++)
                                if (ix[x].mask == mask)
                                        found = (long)x;
                        if (mask && found < 0) {
                                found = (long)n_ix;
                                ix[n_ix++] = (struct moved_index){ .b = ccls[b], .mask = mask };
                                n_ent += ccount[b];
                        }
                        ix_of[a * n_cc + b] = mask ? found : -1;
                }
        }
        ent = calloc(n_ent ? n_ent : 1, sizeof *ent);
        cur = calloc(n_ent ? n_ent : 1, sizeof *cur);
        if (!ent || !cur)
                goto out;
        /*
         * Every index holds the events of its current bank set: at most
         * n·min(gs, 255) entries, sorted in O(E log E).
         */
        n_ent = 0;
        for (size_t x = 0, b = 0; x < n_ix; x++) {
                while (ccls[b] != ix[x].b)
                        b++;
                ix[x].start = n_ent;
                for (size_t k = 0; k < ccount[b]; k++) {
                        const struct bs_pos *p = &csorted[cstart[b] + k];
                        ent[n_ent] = (struct moved_ent){ .ev = C[uc[p->pos]], .bs = p->bs, .ix = &ix[x], .pos = uc[p->pos] };
                        cur[n_ent] = n_ent;
                        n_ent++;
                }
                ix[x].end = n_ent;
                qsort(&ent[ix[x].start], ix[x].end - ix[x].start, sizeof *ent, cmp_moved_ent);
        }
        /*
         * O(m·cs·log E) searches; each entry is stepped over at most once
         * when it has been matched (cur[] remembers where a key's run got to).
         */
        for (size_t x = 0; x < nug; x++) {
                size_t i = ug[x], a = gclass[x];
                long best = -1;
                for (size_t b = 0; b < n_cc; b++) {
                        long q = ix_of[a * n_cc + b];
                        if (q < 0)
                                continue;
                        const struct moved_index *X = &ix[q];
                        uint8_t gs[SHIELD_EVENTLOG_ALGS_MAX] = { 0 };
                        for (unsigned k = 0; k < X->b->n; k++)
                                if (X->mask >> k & 1u)
                                        gs[k] = (uint8_t)digest_slot(G[i], X->b->alg[k]);
                        size_t lo = X->start, hi = X->end;
                        while (lo < hi) {
                                size_t mid = lo + (hi - lo) / 2;
                                if (key_cmp(ent[mid].ev, ent[mid].bs->slot, G[i], gs, X->b, X->mask) < 0)
                                        lo = mid + 1;
                                else
                                        hi = mid;
                        }
                        if (lo == X->end || key_cmp(ent[lo].ev, ent[lo].bs->slot, G[i], gs, X->b, X->mask) != 0)
                                continue;
                        size_t p = cur[lo];
                        while (p < X->end && cm[ent[p].pos] >= 0 &&
                               key_cmp(ent[p].ev, ent[p].bs->slot, G[i], gs, X->b, X->mask) == 0)
                                p++;
                        cur[lo] = p;
                        if (p < X->end && cm[ent[p].pos] < 0 &&
                            key_cmp(ent[p].ev, ent[p].bs->slot, G[i], gs, X->b, X->mask) == 0 &&
                            (best < 0 || (long)ent[p].pos < best))
                                best = (long)ent[p].pos;
                }
                if (best < 0)
                        continue;
                size_t j = (size_t)best;
                gm[i] = (long)j;
                cm[j] = (long)i;
                bool boot = is_boot_event(C[j]);
                r = add(c, SHIELD_RED, boot ? "boot-order-changed" : "event-moved", show_alg(C[j], NULL), (int)pcr,
                        C[j]->index,
                        "PCR %u event %u %s %s was measured in another order: now number %zu of PCR %u's events, number %zu in the golden measurement (golden event %u)",
                        pcr, C[j]->index, type_name(C[j]->type), shorten(C[j]->summary, sa), j + 1, pcr, i + 1, G[i]->index);
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        free(ug);
        free(uc);
        free(galgs);
        free(calgs);
        free(gbs);
        free(cbs);
        free(gsorted);
        free(csorted);
        free(gclass);
        free(gcls);
        free(ccls);
        free(cstart);
        free(ccount);
        free(ix_of);
        free(ix);
        free(ent);
        free(cur);
        return r;
}

/* An unmatched current event by the gap between matched events it sits in (matched events before it). */
struct gap_ent {
        size_t gap;
        uint32_t type;
        size_t pos;
};

static int cmp_gap_ent(const void *a, const void *b) {
        const struct gap_ent *x = a, *y = b;
        if (x->gap != y->gap)
                return x->gap < y->gap ? -1 : 1;
        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * A golden event replaced, in the same place, by one of the same type: it
 * changed. "The same place" is the same gap: as many matched events before
 * it on both sides. Matched events pair one golden with one current event,
 * so gap k of one side faces gap k of the other, and a pair made here sits
 * at the same rank on both sides: it splits the two gaps in step. So within
 * a gap the golden events, in order, take the first current event of their
 * type after the last one taken, which is what rescanning every gap count
 * after each pair did in O(m·n²).
 */
static int match_changed(struct cmp *c, unsigned pcr, const struct shield_golden_event **G, size_t m,
                         const struct shield_golden_event **C, size_t n, long *gm, long *cm) {
        char h1[2 * SHIELD_HASH_MAX_SIZE + 1], h2[2 * SHIELD_HASH_MAX_SIZE + 1], sa[SUMMARY_SHOWN + 4], sb[SUMMARY_SHOWN + 4];
        size_t *ggap = calloc(m ? m : 1, sizeof *ggap), nu = 0;
        struct gap_ent *u = calloc(n ? n : 1, sizeof *u);
        int r = SHIELD_E_NOMEM;

        if (!ggap || !u)
                goto out;
        /* O(m + n log n): the gaps as they were before any pair is made here, sorted once. */
        for (size_t i = 0, k = 0; i < m; k += gm[i] >= 0, i++)
                ggap[i] = k;
        for (size_t j = 0, k = 0; j < n; k += cm[j] >= 0, j++)
                if (cm[j] < 0)
                        u[nu++] = (struct gap_ent){ .gap = k, .type = C[j]->type, .pos = j };
        qsort(u, nu, sizeof *u, cmp_gap_ent);
        /* O(m log n): one binary search per unmatched golden event. */
        size_t gap = SIZE_MAX, from = 0;
        for (size_t i = 0; i < m; i++) {
                if (gm[i] >= 0)
                        continue;
                if (ggap[i] != gap) {
                        gap = ggap[i];
                        from = 0;
                }
                struct gap_ent want = { .gap = gap, .type = G[i]->type, .pos = from };
                size_t lo = 0, hi = nu;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (cmp_gap_ent(&u[mid], &want) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                if (lo == nu || u[lo].gap != gap || u[lo].type != G[i]->type)
                        continue;
                size_t j = u[lo].pos;
                from = j + 1;
                gm[i] = (long)j;
                cm[j] = (long)i;
                uint16_t alg = show_alg(G[i], C[j]);
                digest_hex(G[i], alg, h1);
                digest_hex(C[j], alg, h2);
                if (G[i]->type == EV_SEPARATOR)
                        r = add(c, SHIELD_RED, "separator-wrong", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u EV_SEPARATOR %s: %s digest changed from %s to %s", pcr,
                                C[j]->index, shorten(C[j]->summary, sa), alg_name(alg), h1, h2);
                else if (is_boot_order_variable(G[i]))
                        r = add(c, SHIELD_RED, "boot-order-changed", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s boot order changed: %s (golden: %s)", pcr, C[j]->index,
                                type_name(C[j]->type), shorten(C[j]->summary, sa), shorten(G[i]->summary, sb));
                else if (strcmp(G[i]->summary, C[j]->summary) != 0)
                        r = add(c, SHIELD_RED, "event-changed", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s %s %s digest changed from %s to %s (golden: %s)", pcr,
                                C[j]->index, type_name(C[j]->type), shorten_to(C[j]->summary, SUMMARY_SHOWN_PAIR, sa),
                                alg_name(alg), h1, h2, shorten_to(G[i]->summary, SUMMARY_SHOWN_PAIR, sb));
                else
                        r = add(c, SHIELD_RED, "event-changed", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s %s %s digest changed from %s to %s", pcr, C[j]->index,
                                type_name(C[j]->type), shorten(C[j]->summary, sa), alg_name(alg), h1, h2);
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        free(ggap);
        free(u);
        return r;
}

static int diff_events(struct cmp *c, unsigned pcr, const struct shield_golden_event **G, size_t m,
                       const struct shield_golden_event **C, size_t n) {
        long *gm = calloc(m ? m : 1, sizeof *gm), *cm = calloc(n ? n : 1, sizeof *cm);
        const struct shield_golden_event **later_app = calloc(n ? n : 1, sizeof *later_app);
        char h1[2 * SHIELD_HASH_MAX_SIZE + 1], sa[SUMMARY_SHOWN + 4], sb[SUMMARY_SHOWN + 4];
        int r = SHIELD_E_NOMEM;

        if (!gm || !cm || !later_app)
                goto out;
        if ((r = match_events(G, m, C, n, gm, cm)) < 0 || (r = match_moved(c, pcr, G, m, C, n, gm, cm)) < 0 ||
            (r = match_changed(c, pcr, G, m, C, n, gm, cm)) < 0)
                goto out;
        /* O(m). */
        for (size_t i = 0; i < m; i++) {
                if (gm[i] >= 0)
                        continue;
                uint16_t alg = show_alg(G[i], NULL);
                digest_hex(G[i], alg, h1);
                r = add(c, SHIELD_RED, G[i]->type == EV_SEPARATOR ? "separator-wrong" : "event-removed", alg, (int)pcr,
                        G[i]->index, "PCR %u golden event %u %s %s (%s %s) is missing", pcr, G[i]->index,
                        type_name(G[i]->type), shorten(G[i]->summary, sb), alg_name(alg), h1);
                if (r < 0)
                        goto out;
        }
        /* The first matched boot application after each current event, in one backward pass: O(n). */
        const struct shield_golden_event *next_app = NULL;
        for (size_t j = n; j-- > 0;) {
                later_app[j] = next_app;
                if (cm[j] >= 0 && C[j]->type == EV_EFI_BOOT_SERVICES_APPLICATION)
                        next_app = C[j];
        }
        /* O(n). */
        for (size_t j = 0; j < n; j++) {
                if (cm[j] >= 0)
                        continue;
                uint16_t alg = show_alg(C[j], NULL);
                digest_hex(C[j], alg, h1);
                const struct shield_golden_event *app =
                        C[j]->type == EV_EFI_BOOT_SERVICES_APPLICATION ? later_app[j] : NULL;
                if (C[j]->type == EV_SEPARATOR)
                        r = add(c, SHIELD_RED, "separator-wrong", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u EV_SEPARATOR %s was added (%s %s)", pcr, C[j]->index, shorten(C[j]->summary, sa),
                                alg_name(alg), h1);
                else if (app)
                        r = add(c, SHIELD_RED, "boot-order-changed", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s %s (%s %s) was added and runs before the golden boot application %s (event %u)",
                                pcr, C[j]->index, type_name(C[j]->type), shorten(C[j]->summary, sa), alg_name(alg), h1,
                                shorten(app->summary, sb), app->index);
                else
                        r = add(c, SHIELD_YELLOW, "event-added", alg, (int)pcr, C[j]->index,
                                "PCR %u event %u %s %s was added (%s %s)", pcr, C[j]->index, type_name(C[j]->type),
                                shorten(C[j]->summary, sa), alg_name(alg), h1);
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        free(gm);
        free(cm);
        free(later_app);
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
        /* Each PCR looks at every event once to find its own: O(24·(m + n)) besides the diff. */
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
