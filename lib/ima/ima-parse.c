/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading IMA measurement lists in one pass. The binary layout follows the
 * kernel's security/integrity/ima/ima_fs.c ima_measurements_show(): per
 * entry the PCR (u32), the template hash, the template name (u32 length,
 * bytes), then, except for the legacy "ima" template, the template data
 * (u32 length, then each field as u32 length and bytes). The ASCII form
 * (ima_ascii_measurements_show) prints "%2d", the template hash in hex,
 * the name, then " " and each field's text, an empty field as nothing.
 * ASCII fields are turned back into the template data the kernel hashed,
 * so every template hash can be checked.
 *
 * Strings and decoded fields point into the list's own copy of the input
 * (ASCII tokens are cut there with NULs) or into an arena of large blocks:
 * no allocation per entry besides the entry array's growth.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ima-internal.h"
#include "shield/util.h"
#include "util/rd.h"
#include "util/wr.h"

#define ARENA_BLOCK (256u << 10)
/* "N " + 40 hex digits + " T F": the shortest line that can hold an entry. */
#define IMA_ASCII_LINE_MIN 46

struct parser {
        struct shield_ima_list *l;
        struct shield_diag *diag;
        size_t th_size;         /* template-hash size: given, detected, or from the first ASCII entry */
        /* The previous entry's template: lists repeat one template, so it is resolved once. */
        char prev_name[SHIELD_IMA_TEMPLATE_NAME_MAX + 1];
        size_t prev_len;
        const char *prev_interned;
        struct ima_template prev;
};

static void *ima_arena_alloc(struct shield_ima_list *l, size_t n) {
        size_t need = (n + 7) & ~(size_t)7;

        if (need < n)
                return NULL;
        if (!l->block || need > l->block_left) {
                size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
                struct arena_block *b = malloc(sizeof *b + size);
                if (!b)
                        return NULL;
                b->next = l->block;
                l->block = b;
                l->block_left = size;
                l->block_used = 0;
        }
        void *p = l->block->data + l->block_used;
        l->block_used += need;
        l->block_left -= need;
        return p;
}

static char *arena_strndup(struct shield_ima_list *l, const void *s, size_t n) {
        char *p = ima_arena_alloc(l, n + 1);
        if (p) {
                memcpy(p, s, n);
                p[n] = '\0';
        }
        return p;
}

/* The legacy template data of e from e->file_hash and the name, in the arena. */
static int legacy_template_data(struct shield_ima_list *l, struct shield_ima_entry *e, const char *name,
                                size_t name_len) {
        uint8_t *d = ima_arena_alloc(l, IMA_LEGACY_BUF_SIZE);

        if (!d)
                return SHIELD_E_NOMEM;
        ima_legacy_template_fill(d, e->file_hash, name, name_len);
        e->template_data = d;
        e->template_data_size = IMA_LEGACY_DIGEST_SIZE + IMA_LEGACY_NAME_SIZE;
        e->file_hash = d; /* keep pointing at list-owned bytes */
        return 0;
}

static int fail(struct parser *ps, int code, size_t offset, size_t line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int fail(struct parser *ps, int code, size_t offset, size_t line, const char *fmt, ...) {
        char msg[SHIELD_DIAG_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (line)
                return shield_diag_fail(ps->diag, code, offset, (long)ps->l->n, "line %zu: %s", line, msg);
        return shield_diag_fail(ps->diag, code, offset, (long)ps->l->n, "%s", msg);
}

static struct shield_ima_entry *new_entry(struct shield_ima_list *l) {
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 256;
                if (cap > l->max_entries)
                        cap = l->max_entries;
                struct shield_ima_entry *e = reallocarray(l->entries, cap, sizeof *e);
                if (!e)
                        return NULL;
                l->entries = e;
                l->cap = cap;
        }
        struct shield_ima_entry *e = &l->entries[l->n];
        *e = (struct shield_ima_entry){ .index = l->n, .template_name = "", .file_hash_algo = "",
                                        .file_hash_type = "", .path = "" };
        return e;
}

static int entry_begin(struct parser *ps, size_t offset, size_t line, struct shield_ima_entry **ret) {
        if (ps->l->n >= ps->l->max_entries)
                return fail(ps, SHIELD_E_LIMIT, offset, line, "more than %zu entries (the cap)", ps->l->max_entries);
        struct shield_ima_entry *e = new_entry(ps->l);
        if (!e)
                return SHIELD_E_NOMEM;
        e->offset = offset;
        e->line = line;
        *ret = e;
        return 0;
}

static void entry_end(struct shield_ima_list *l, struct shield_ima_entry *e) {
        e->violation = true;
        for (size_t i = 0; i < e->template_hash_size; i++)
                e->violation &= e->template_hash[i] == 0;
        l->n++;
}

/* Resolve a template name; *ret_name is a NUL-terminated copy the list owns (or a static built-in name). */
static int template_of(struct parser *ps, const char *name, size_t len, bool in_place, const char **ret_name,
                       struct ima_template *ret) {
        if (len != ps->prev_len || memcmp(name, ps->prev_name, len) != 0 || !ps->prev_interned) {
                ima_template_lookup(name, len, &ps->prev);
                memcpy(ps->prev_name, name, len);
                ps->prev_len = len;
                ps->prev_interned = ps->prev.name;
                if (!ps->prev_interned) {
                        ps->prev_interned = in_place ? name : arena_strndup(ps->l, name, len);
                        if (!ps->prev_interned)
                                return SHIELD_E_NOMEM;
                }
        }
        /* An in-place name is cut with a NUL by the caller; each line keeps its own copy. */
        *ret_name = ps->prev.name ? ps->prev.name : in_place ? name : ps->prev_interned;
        *ret = ps->prev;
        return 0;
}

/* "[type:]algo:" NUL digest (d-ng, d-ngv2, d-modsig): fill the entry's file digest. */
static int split_digest(struct parser *ps, struct shield_ima_entry *e, enum ima_field f, const uint8_t *p, size_t n,
                        size_t offset, size_t line) {
        const uint8_t *nul = memchr(p, 0, n);
        if (!nul || nul == p || nul[-1] != ':')
                return fail(ps, SHIELD_E_FORMAT, offset, line, "a %s field is \"%salgo:\" NUL digest",
                            f == IMA_F_D_NGV2 ? "d-ngv2" : "d-ng", f == IMA_F_D_NGV2 ? "type:" : "");
        size_t text = (size_t)(nul - p) - 1; /* without the final ':' */
        const char *algo = (const char *)p;
        const char *type = "";
        if (f == IMA_F_D_NGV2) {
                /* Documentation/security/IMA-templates.rst: d-ngv2 prefixes "ima:" or "verity:". */
                if (text > 4 && memcmp(p, "ima:", 4) == 0)
                        type = "ima";
                else if (text > 7 && memcmp(p, "verity:", 7) == 0)
                        type = "verity";
                else
                        return fail(ps, SHIELD_E_FORMAT, offset, line, "a d-ngv2 digest type is \"ima\" or \"verity\"");
                algo += strlen(type) + 1;
        }
        size_t algo_len = (size_t)((const char *)p + text - algo);
        const struct ima_algo *a = ima_algo_lookup(algo, algo_len);
        if (!a)
                return fail(ps, SHIELD_E_UNSUPPORTED, offset, line, "unknown file hash algorithm '%.*s'",
                            (int)(algo_len > 32 ? 32 : algo_len), algo);
        size_t size = n - (size_t)(nul + 1 - p);
        if (size != a->size)
                return fail(ps, SHIELD_E_FORMAT, offset, line, "a %s digest has %u bytes, found %zu", a->name, a->size,
                            size);
        if (f == IMA_F_D_MODSIG)
                return 0; /* the file's own digest stays the d-ng one */
        e->file_hash_algo = a->name;
        e->file_hash_type = type;
        e->file_hash_alg = a->tpm_alg;
        e->file_hash = nul + 1;
        e->file_hash_size = size;
        return 0;
}

/* A 'd' field: a bare SHA-1 digest (or MD5, which ima_hash=md5 allowed for this field). */
static int bare_digest(struct parser *ps, struct shield_ima_entry *e, const uint8_t *p, size_t n, size_t offset,
                       size_t line) {
        if (n != 20 && n != 16)
                return fail(ps, SHIELD_E_FORMAT, offset, line, "a 'd' digest has 20 (sha1) or 16 (md5) bytes, found %zu",
                            n);
        const struct ima_algo *a = ima_algo_lookup(n == 20 ? "sha1" : "md5", n == 20 ? 4 : 3);
        e->file_hash_algo = a->name;
        e->file_hash_alg = a->tpm_alg;
        e->file_hash = p;
        e->file_hash_size = n;
        return 0;
}

static bool read_u32(struct rd *r, bool be, uint32_t *ret) {
        return (be ? rd_be32(r, ret) : rd_le32(r, ret)) == 0;
}

/* Walk the template data of a known non-legacy template and pick out its fields. */
static int split_fields(struct parser *ps, struct shield_ima_entry *e, const struct ima_template *t, size_t at) {
        struct rd r = rd_init(e->template_data, e->template_data_size);

        for (unsigned i = 0; i < t->n; i++) {
                size_t field_at = at + r.off;
                uint32_t n;
                const uint8_t *p;
                if (!read_u32(&r, ps->l->big_endian, &n) || rd_bytes(&r, n, &p) < 0)
                        return fail(ps, SHIELD_E_FORMAT, field_at, 0,
                                    "%s template data ends inside field %u of %u (length %u, %zu bytes left)",
                                    e->template_name, i + 1, t->n, n, rd_left(&r));
                int rc = 0;
                switch (t->fields[i]) {
                case IMA_F_D:
                        rc = bare_digest(ps, e, p, n, field_at, 0);
                        break;
                case IMA_F_D_NG:
                case IMA_F_D_NGV2:
                        rc = split_digest(ps, e, t->fields[i], p, n, field_at, 0);
                        break;
                case IMA_F_D_MODSIG:
                        if (n)
                                rc = split_digest(ps, e, IMA_F_D_MODSIG, p, n, field_at, 0);
                        break;
                case IMA_F_N:
                case IMA_F_N_NG:
                        if (n > SHIELD_IMA_NAME_MAX + 1)
                                return fail(ps, SHIELD_E_LIMIT, field_at, 0, "an event name of %u bytes (at most %u)",
                                            n, SHIELD_IMA_NAME_MAX);
                        /* The kernel stores the name with its NUL; without one, copy it out. */
                        if (n && p[n - 1] == 0)
                                e->path = (const char *)p;
                        else if (!(e->path = arena_strndup(ps->l, p, n)))
                                return SHIELD_E_NOMEM;
                        break;
                case IMA_F_SIG:
                        e->sig = p;
                        e->sig_size = n;
                        break;
                case IMA_F_BUF:
                        e->buf = p;
                        e->buf_size = n;
                        break;
                default:
                        break;
                }
                if (rc < 0)
                        return rc;
        }
        if (rd_left(&r))
                return fail(ps, SHIELD_E_TRAILING, at + r.off, 0, "%zu bytes after the %u fields of %s template data",
                            rd_left(&r), t->n, e->template_name);
        return 0;
}

static int parse_binary_entry(struct parser *ps, struct rd *r) {
        struct shield_ima_list *l = ps->l;
        bool be = l->big_endian;
        size_t start = r->off;
        struct shield_ima_entry *e;
        struct ima_template t;
        uint32_t name_len, data_len;
        const uint8_t *name;
        int rc = entry_begin(ps, start, 0, &e);

        if (rc < 0)
                return rc;
        if (!read_u32(r, be, &e->pcr) || rd_bytes(r, ps->th_size, &e->template_hash) < 0 || !read_u32(r, be, &name_len))
                return fail(ps, SHIELD_E_TRUNCATED, start, 0, "the list ends inside an entry header");
        e->template_hash_size = ps->th_size;
        if (name_len == 0 || name_len > SHIELD_IMA_TEMPLATE_NAME_MAX)
                return fail(ps, name_len ? SHIELD_E_LIMIT : SHIELD_E_FORMAT, r->off - 4, 0,
                            "template name length %u (1-%u expected)", name_len, SHIELD_IMA_TEMPLATE_NAME_MAX);
        if (rd_bytes(r, name_len, &name) < 0)
                return fail(ps, SHIELD_E_TRUNCATED, r->off - 4, 0, "template name length %u, %zu bytes left", name_len,
                            rd_left(r));
        if ((rc = template_of(ps, (const char *)name, name_len, false, &e->template_name, &t)) < 0)
                return rc;
        e->template_known = t.known;

        if (t.legacy) {
                /* ima_fs.c: the "ima" template writes its digest bare and its name without the NUL. */
                uint32_t path_len;
                const uint8_t *path;
                if (rd_bytes(r, IMA_LEGACY_DIGEST_SIZE, &e->file_hash) < 0 || !read_u32(r, be, &path_len))
                        return fail(ps, SHIELD_E_TRUNCATED, r->off, 0, "the list ends inside an 'ima' entry");
                if (path_len > SHIELD_IMA_NAME_MAX)
                        return fail(ps, SHIELD_E_LIMIT, r->off - 4, 0, "an event name of %u bytes (at most %u)", path_len,
                                    SHIELD_IMA_NAME_MAX);
                if (rd_bytes(r, path_len, &path) < 0)
                        return fail(ps, SHIELD_E_TRUNCATED, r->off - 4, 0, "name length %u, %zu bytes left", path_len,
                                    rd_left(r));
                e->file_hash_size = IMA_LEGACY_DIGEST_SIZE;
                e->file_hash_algo = "sha1";
                e->file_hash_alg = SHIELD_ALG_SHA1;
                if (legacy_template_data(l, e, (const char *)path, path_len) < 0)
                        return SHIELD_E_NOMEM;
                if (memchr(path, 0, path_len) || path_len >= IMA_LEGACY_NAME_SIZE)
                        e->path = arena_strndup(l, path, path_len);
                else
                        e->path = (const char *)e->template_data + IMA_LEGACY_DIGEST_SIZE;
                if (!e->path)
                        return SHIELD_E_NOMEM;
        } else {
                if (!read_u32(r, be, &data_len))
                        return fail(ps, SHIELD_E_TRUNCATED, r->off, 0, "the list ends before the template data length");
                if (data_len > SHIELD_IMA_TEMPLATE_DATA_MAX)
                        return fail(ps, SHIELD_E_LIMIT, r->off - 4, 0, "template data length %u (at most %u)", data_len,
                                    SHIELD_IMA_TEMPLATE_DATA_MAX);
                if (rd_bytes(r, data_len, &e->template_data) < 0)
                        return fail(ps, SHIELD_E_TRUNCATED, r->off - 4, 0, "template data length %u, %zu bytes left",
                                    data_len, rd_left(r));
                e->template_data_size = data_len;
                if (t.known && (rc = split_fields(ps, e, &t, r->off - data_len)) < 0)
                        return rc;
        }
        entry_end(l, e);
        return 0;
}

/* Whether a binary list read with this byte order and template-hash size starts with a sensible record. */
static bool binary_start_fits(const uint8_t *buf, size_t len, bool be, size_t hash_size) {
        struct rd r = rd_init(buf, len);
        uint32_t pcr, name_len, data_len;
        const uint8_t *name;
        struct ima_template t;

        /* TPM 2.0 PC Client PTP: 24 PCRs. */
        if (!read_u32(&r, be, &pcr) || pcr >= 24 || rd_skip(&r, hash_size) < 0 || !read_u32(&r, be, &name_len) ||
            name_len == 0 || name_len > SHIELD_IMA_TEMPLATE_NAME_MAX || rd_bytes(&r, name_len, &name) < 0)
                return false;
        ima_template_lookup((const char *)name, name_len, &t);
        if (!t.known)
                return false;
        if (t.legacy)
                return true;
        return read_u32(&r, be, &data_len) && data_len <= rd_left(&r);
}

static int parse_binary(struct parser *ps) {
        struct shield_ima_list *l = ps->l;
        static const size_t sizes[] = { 20, 32, 48, 64 };
        bool found = false;

        for (int be = 0; be < 2 && !found; be++)
                for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !found; i++) {
                        if (ps->th_size && ps->th_size != sizes[i])
                                continue;
                        if (binary_start_fits(l->buf, l->len, be, sizes[i])) {
                                found = true;
                                l->big_endian = be;
                                ps->th_size = sizes[i];
                        }
                }
        /* Nothing fits: read it as the common case, so the error names what is wrong with entry 0. */
        if (!ps->th_size)
                ps->th_size = 20;

        struct rd r = rd_init(l->buf, l->len);
        while (rd_left(&r)) {
                /* Real lists end with a stray newline or a cut-off header: note it, keep the rest. */
                if (rd_left(&r) < 4 + ps->th_size + 4) {
                        if (shield_reasons_add(&l->quirks, "ima-trailing-bytes", SHIELD_SEV_WARNING, 0, -1, (long)l->n,
                                               r.off, "%zu stray bytes after the last entry (offset %zu)", rd_left(&r),
                                               r.off) < 0)
                                return SHIELD_E_NOMEM;
                        break;
                }
                int rc = parse_binary_entry(ps, &r);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

/* Decode n hex digits (n even) into out; false on a non-hex digit. */
static bool unhex(const char *hex, size_t n, uint8_t *out) {
        for (size_t i = 0; i < n; i += 2) {
                int hi = shield_hex_digit(hex[i]), lo = shield_hex_digit(hex[i + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                out[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        return true;
}

struct token {
        char *s;
        size_t n;
};

/*
 * Assign the space-separated fields text [p, end) to t->n tokens. The
 * kernel turns spaces in names into '_' (ima_write_template_field_data),
 * so a kernel line has exactly one token per field. Lines from other
 * tools may lack trailing empty fields (treated as empty) or have spaces
 * in the name (the name field takes the surplus).
 */
static bool assign_tokens(char *p, char *end, const struct ima_template *t, struct token *tok) {
        size_t spaces = 0;
        unsigned name_idx = t->n;

        for (char *c = p; (c = memchr(c, ' ', (size_t)(end - c))); c++)
                spaces++;
        for (unsigned i = t->n; i-- > 0;)
                if (t->fields[i] == IMA_F_N || t->fields[i] == IMA_F_N_NG)
                        name_idx = i;
        for (unsigned i = 0; i < t->n; i++)
                tok[i] = (struct token){ end, 0 };
        if (spaces + 1 <= t->n) {
                for (size_t i = 0; i <= spaces; i++) {
                        char *sp = memchr(p, ' ', (size_t)(end - p)), *tend = sp ? sp : end;
                        tok[i] = (struct token){ p, (size_t)(tend - p) };
                        p = tend + 1;
                }
                return true;
        }
        if (name_idx == t->n)
                return false;
        /* More tokens than fields: n - 1 of the spaces separate fields, the rest belong to the name. */
        for (unsigned i = 0; i < name_idx; i++) {
                char *sp = memchr(p, ' ', (size_t)(end - p));
                tok[i] = (struct token){ p, (size_t)(sp - p) };
                p = sp + 1;
        }
        for (unsigned i = t->n - 1; i > name_idx; i--) {
                char *sp = memrchr(p, ' ', (size_t)(end - p));
                tok[i] = (struct token){ sp + 1, (size_t)(end - sp - 1) };
                end = sp;
        }
        tok[name_idx] = (struct token){ p, (size_t)(end - p) };
        return true;
}

/* The byte length a field's token stands for in the template data; SIZE_MAX when malformed. */
static size_t field_bytes(enum ima_field f, const struct token *k) {
        const char *colon;
        switch (f) {
        case IMA_F_N:
        case IMA_F_N_NG:
                return k->n + 1;
        case IMA_F_D_NG:
        case IMA_F_D_NGV2:
        case IMA_F_D_MODSIG:
                if (k->n == 0)
                        return f == IMA_F_D_MODSIG ? 0 : SIZE_MAX;
                colon = memrchr(k->s, ':', k->n);
                if (!colon || colon == k->s || (k->n - (size_t)(colon + 1 - k->s)) % 2)
                        return SIZE_MAX;
                return (size_t)(colon - k->s) + 2 + (k->n - (size_t)(colon + 1 - k->s)) / 2;
        default:
                return k->n % 2 ? SIZE_MAX : k->n / 2;
        }
}

static int ascii_fields(struct parser *ps, struct shield_ima_entry *e, const struct ima_template *t, char *line,
                        char *p, char *end) {
        struct shield_ima_list *l = ps->l;
        struct token tok[IMA_FIELDS_MAX];
        size_t sizes[IMA_FIELDS_MAX], total = 0;
        static const char *const what[] = {
                [IMA_F_D] = "a 40-digit hex digest", [IMA_F_N] = "a name", [IMA_F_D_NG] = "ALGO:HEX as the file digest",
                [IMA_F_D_NGV2] = "TYPE:ALGO:HEX as the file digest", [IMA_F_N_NG] = "a name", [IMA_F_SIG] = "a hex signature",
                [IMA_F_BUF] = "a hex buffer", [IMA_F_D_MODSIG] = "ALGO:HEX or nothing", [IMA_F_MODSIG] = "a hex signature",
                [IMA_F_OTHER] = "a field",
        };

        if (!assign_tokens(p, end, t, tok))
                return fail(ps, SHIELD_E_FORMAT, e->offset + (size_t)(p - line), e->line,
                            "more fields than the %u of template %s", t->n, e->template_name);
        for (unsigned i = 0; i < t->n; i++) {
                sizes[i] = field_bytes(t->fields[i], &tok[i]);
                if (sizes[i] == SIZE_MAX)
                        return fail(ps, SHIELD_E_FORMAT, e->offset + (size_t)(tok[i].s - line), e->line,
                                    "field %u of %s: expected %s", i + 1, e->template_name, what[t->fields[i]]);
                if ((t->fields[i] == IMA_F_N || t->fields[i] == IMA_F_N_NG) && tok[i].n > SHIELD_IMA_NAME_MAX)
                        return fail(ps, SHIELD_E_LIMIT, e->offset + (size_t)(tok[i].s - line), e->line,
                                    "an event name of %zu bytes (at most %u)", tok[i].n, SHIELD_IMA_NAME_MAX);
                if (sizes[i] > SHIELD_IMA_TEMPLATE_DATA_MAX)
                        return fail(ps, SHIELD_E_LIMIT, e->offset + (size_t)(tok[i].s - line), e->line,
                                    "field %u of %s is over the %u-byte template-data cap", i + 1, e->template_name,
                                    SHIELD_IMA_TEMPLATE_DATA_MAX);
                total += 4 + sizes[i];
        }
        if (total > SHIELD_IMA_TEMPLATE_DATA_MAX)
                return fail(ps, SHIELD_E_LIMIT, e->offset, e->line, "template data of %zu bytes (at most %u)", total,
                            SHIELD_IMA_TEMPLATE_DATA_MAX);

        /* Rebuild the template data: u32 length and bytes per field (little-endian, as x86/arm64 hash it). */
        uint8_t *data = ima_arena_alloc(l, total);
        if (!data)
                return SHIELD_E_NOMEM;
        struct wr w = wr_init(data, total);
        for (unsigned i = 0; i < t->n; i++) {
                enum ima_field f = t->fields[i];
                const struct token *k = &tok[i];
                size_t at = e->offset + (size_t)(k->s - line);
                wr_le32(&w, (uint32_t)sizes[i]); /* under SHIELD_IMA_TEMPLATE_DATA_MAX */
                uint8_t *field = wr_take(&w, sizes[i]);
                int rc = 0;
                if (!field) /* not reached: total is the sum of what is written */
                        return fail(ps, SHIELD_E_LIMIT, e->offset, e->line, "template data over its %zu bytes", total);
                if (f == IMA_F_N || f == IMA_F_N_NG) {
                        memcpy(field, k->s, k->n);
                        field[k->n] = 0;
                        e->path = (const char *)field;
                } else if (f == IMA_F_D_NG || f == IMA_F_D_NGV2 || f == IMA_F_D_MODSIG) {
                        if (!k->n)
                                continue;
                        size_t prefix = (size_t)((char *)memrchr(k->s, ':', k->n) - k->s);
                        memcpy(field, k->s, prefix);
                        field[prefix] = ':';
                        field[prefix + 1] = 0;
                        if (!unhex(k->s + prefix + 1, k->n - prefix - 1, field + prefix + 2))
                                return fail(ps, SHIELD_E_FORMAT, at, e->line, "field %u of %s: the digest is not hex",
                                            i + 1, e->template_name);
                        rc = split_digest(ps, e, f, field, sizes[i], at, e->line);
                } else {
                        if (!unhex(k->s, k->n, field))
                                return fail(ps, SHIELD_E_FORMAT, at, e->line, "field %u of %s: expected %s", i + 1,
                                            e->template_name, what[f]);
                        if (f == IMA_F_D)
                                rc = bare_digest(ps, e, field, sizes[i], at, e->line);
                        else if (f == IMA_F_SIG)
                                e->sig = field, e->sig_size = sizes[i];
                        else if (f == IMA_F_BUF)
                                e->buf = field, e->buf_size = sizes[i];
                }
                if (rc < 0)
                        return rc;
        }
        if (t->legacy) {
                /* The "ima" template hashes digest ‖ name padded, not length-prefixed fields. */
                if (e->file_hash_size != IMA_LEGACY_DIGEST_SIZE)
                        return fail(ps, SHIELD_E_FORMAT, e->offset + (size_t)(tok[0].s - line), e->line,
                                    "an 'ima' file digest is 40 hex digits");
                int rc = legacy_template_data(l, e, e->path, strlen(e->path));
                if (rc < 0)
                        return rc;
                return 0;
        }
        e->template_data = data;
        e->template_data_size = total;
        return 0;
}

/* The next token ending at a single space; NULL when the line ends first. The space becomes a NUL. */
static char *next_token(char **p, char *end, size_t *ret_len) {
        char *s = *p, *sp = memchr(s, ' ', (size_t)(end - s));
        if (!sp)
                return NULL;
        *sp = '\0';
        *ret_len = (size_t)(sp - s);
        *p = sp + 1;
        return s;
}

static int parse_ascii_line(struct parser *ps, char *line, char *end, size_t lineno) {
        struct shield_ima_list *l = ps->l;
        size_t offset = (size_t)((uint8_t *)line - l->buf), n;
        struct shield_ima_entry *e;
        struct ima_template t;
        char *p = line, *s;
        uint64_t pcr;
        int rc = entry_begin(ps, offset, lineno, &e);

        if (rc < 0)
                return rc;
        /* "%2d ": PCRs below 10 have a leading space. */
        while (p < end && *p == ' ')
                p++;
        if (!(s = next_token(&p, end, &n)) || n == 0 || n > 10 || shield_parse_u64(s, 10, UINT32_MAX, &pcr) < 0)
                return fail(ps, SHIELD_E_FORMAT, offset, lineno, "expected a PCR number and a space");
        e->pcr = (uint32_t)pcr;

        if (!(s = next_token(&p, end, &n)))
                return fail(ps, SHIELD_E_FORMAT, offset + (size_t)(p - line), lineno,
                            "expected a template hash and a space");
        if (n % 2 || n / 2 > SHIELD_HASH_MAX_SIZE || (ps->th_size && n / 2 != ps->th_size) ||
            (n != 40 && n != 64 && n != 96 && n != 128))
                return fail(ps, SHIELD_E_FORMAT, offset + (size_t)(s - line), lineno,
                            "a template hash of %zu hex digits (expected %zu)", n, ps->th_size ? 2 * ps->th_size : 40);
        uint8_t *th = ima_arena_alloc(l, n / 2);
        if (!th)
                return SHIELD_E_NOMEM;
        if (!unhex(s, n, th))
                return fail(ps, SHIELD_E_FORMAT, offset + (size_t)(s - line), lineno, "the template hash is not hex");
        e->template_hash = th;
        e->template_hash_size = n / 2;
        ps->th_size = n / 2;

        s = p;
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp || sp == s)
                return fail(ps, SHIELD_E_FORMAT, offset + (size_t)(p - line), lineno,
                            sp ? "expected a template name" : "expected the template's fields after its name");
        n = (size_t)(sp - s);
        if (n > SHIELD_IMA_TEMPLATE_NAME_MAX)
                return fail(ps, SHIELD_E_LIMIT, offset + (size_t)(s - line), lineno,
                            "a template name of %zu bytes (at most %u)", n, SHIELD_IMA_TEMPLATE_NAME_MAX);
        if ((rc = template_of(ps, s, n, true, &e->template_name, &t)) < 0)
                return rc;
        *sp = '\0';
        p = sp + 1;
        e->template_known = t.known && t.ascii_ok;
        if (e->template_known && (rc = ascii_fields(ps, e, &t, line, p, end)) < 0)
                return rc;
        entry_end(l, e);
        return 0;
}

static int parse_ascii(struct parser *ps) {
        struct shield_ima_list *l = ps->l;
        char *text = (char *)l->buf, *end = text + l->len, *p = text;
        size_t lineno = 0, lines = 1;

        /*
         * One newline per entry: size the entry array once. No entry line is
         * shorter than IMA_ASCII_LINE_MIN, so a list of blank lines cannot
         * make it large.
         */
        for (char *c = text; (c = memchr(c, '\n', (size_t)(end - c))); c++)
                lines++;
        if (lines > l->len / IMA_ASCII_LINE_MIN + 1)
                lines = l->len / IMA_ASCII_LINE_MIN + 1;
        l->cap = lines < l->max_entries ? lines : l->max_entries;
        if (!(l->entries = reallocarray(NULL, l->cap, sizeof *l->entries)))
                return SHIELD_E_NOMEM;
        while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                char *line_end = nl ? nl : end;
                lineno++;
                if (line_end > p && line_end[-1] == '\r')
                        line_end--;
                *line_end = '\0'; /* the buffer has one byte more than the input */
                if (line_end > p) {
                        int rc = parse_ascii_line(ps, p, line_end, lineno);
                        if (rc < 0)
                                return rc;
                }
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* Which algorithm made 32-byte template hashes: SHA-256, unless the first checkable entry says SM3. */
static uint16_t detect_template_alg(const struct shield_ima_list *l, size_t size) {
        switch (size) {
        case 20: return SHIELD_ALG_SHA1;
        case 48: return SHIELD_ALG_SHA384;
        case 64: return SHIELD_ALG_SHA512;
        case 32: break;
        default: return 0;
        }
        for (size_t i = 0; i < l->n; i++) {
                const struct shield_ima_entry *e = &l->entries[i];
                uint8_t md[SHIELD_HASH_MAX_SIZE];
                if (e->violation || !e->template_data)
                        continue;
                if (shield_hash(SHIELD_ALG_SHA256, e->template_data, e->template_data_size, md) == 0 &&
                    memcmp(md, e->template_hash, 32) == 0)
                        return SHIELD_ALG_SHA256;
                if (shield_hash(SHIELD_ALG_SM3_256, e->template_data, e->template_data_size, md) == 0 &&
                    memcmp(md, e->template_hash, 32) == 0)
                        return SHIELD_ALG_SM3_256;
                break;
        }
        return SHIELD_ALG_SHA256;
}

int shield_ima_parse(const uint8_t *buf, size_t len, const struct shield_ima_options *opts,
                     struct shield_ima_list **ret, struct shield_diag *diag) {
        struct parser ps = { .diag = diag };
        uint16_t alg = opts ? opts->template_hash_alg : 0;

        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;
        if (alg && shield_hash_size(alg) == 0)
                return SHIELD_E_INVAL;
        if (len == 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1, "the measurement list is empty");
        if (len > SHIELD_IMA_LIST_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the list is %zu bytes, over the %u-byte cap", len,
                                        SHIELD_IMA_LIST_MAX);
        struct shield_ima_list *l = calloc(1, sizeof *l);
        if (!l)
                return SHIELD_E_NOMEM;
        ps.l = l;
        ps.th_size = alg ? shield_hash_size(alg) : 0;
        l->max_entries = opts && opts->max_entries && opts->max_entries < SHIELD_IMA_ENTRIES_MAX ? opts->max_entries
                                                                                                 : SHIELD_IMA_ENTRIES_MAX;
        l->buf = malloc(len + 1);
        if (!l->buf) {
                free(l);
                return SHIELD_E_NOMEM;
        }
        memcpy(l->buf, buf, len);
        l->buf[len] = 0;
        l->len = len;

        /* ASCII lists start with the PCR number in decimal ("%2d"), then a space. */
        size_t i = 0;
        while (i < len && i < 2 && buf[i] == ' ')
                i++;
        size_t digits = 0;
        while (i + digits < len && digits < 10 && buf[i + digits] >= '0' && buf[i + digits] <= '9')
                digits++;
        l->format = digits && i + digits < len && buf[i + digits] == ' ' ? SHIELD_IMA_ASCII : SHIELD_IMA_BINARY;
        int rc = l->format == SHIELD_IMA_ASCII ? parse_ascii(&ps) : parse_binary(&ps);
        if (rc == 0 && l->n == 0)
                rc = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "no measurement entries");
        if (rc < 0) {
                shield_ima_free(l);
                return rc;
        }
        l->template_alg = alg ? alg : detect_template_alg(l, ps.th_size);
        *ret = l;
        return 0;
}

void shield_ima_free(struct shield_ima_list *l) {
        if (!l)
                return;
        while (l->block) {
                struct arena_block *next = l->block->next;
                free(l->block);
                l->block = next;
        }
        free(l->entries);
        free(l->buf);
        shield_reasons_clear(&l->quirks);
        free(l);
}

enum shield_ima_format shield_ima_format(const struct shield_ima_list *l) {
        return l->format;
}

bool shield_ima_big_endian(const struct shield_ima_list *l) {
        return l->big_endian;
}

size_t shield_ima_count(const struct shield_ima_list *l) {
        return l->n;
}

const struct shield_ima_entry *shield_ima_entry(const struct shield_ima_list *l, size_t i) {
        return i < l->n ? &l->entries[i] : NULL;
}

const struct shield_reasons *shield_ima_quirks(const struct shield_ima_list *l) {
        return &l->quirks;
}

uint16_t shield_ima_template_hash_alg(const struct shield_ima_list *l) {
        return l->template_alg;
}
