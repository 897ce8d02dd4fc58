/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading IMA measurement lists. The binary layout follows the kernel's
 * security/integrity/ima/ima_fs.c (per entry: PCR, template hash, template
 * name length and name, template data length except for the legacy "ima"
 * template, then the fields); the template data layout follows
 * Documentation/security/IMA-templates.rst. ASCII entries are turned back
 * into the same template data so their template hashes can be checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ima-internal.h"
#include "shield/util.h"
#include "util/rd.h"

#define ARENA_BLOCK (256u << 10)

static void *arena_alloc(struct shield_ima_list *l, size_t n) {
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

static char *arena_strndup(struct shield_ima_list *l, const char *s, size_t n) {
        char *p = arena_alloc(l, n + 1);
        if (p) {
                memcpy(p, s, n);
                p[n] = '\0';
        }
        return p;
}

static struct shield_ima_entry *new_entry(struct shield_ima_list *l) {
        if (l->n == l->cap) {
                if (l->n >= SHIELD_IMA_ENTRIES_MAX)
                        return NULL;
                size_t cap = l->cap ? l->cap * 2 : 256;
                struct shield_ima_entry *e = reallocarray(l->entries, cap, sizeof *e);
                if (!e)
                        return NULL;
                l->entries = e;
                l->cap = cap;
        }
        struct shield_ima_entry *e = &l->entries[l->n];
        memset(e, 0, sizeof *e);
        e->index = l->n;
        e->file_hash_algo = "";
        e->path = "";
        return e;
}

static int entry_fail(struct shield_ima_list *l, struct shield_diag *diag, int code, size_t offset, size_t line,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int entry_fail(struct shield_ima_list *l, struct shield_diag *diag, int code, size_t offset, size_t line,
                      const char *fmt, ...) {
        char msg[SHIELD_DIAG_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (line)
                return shield_diag_fail(diag, code, offset, (long)l->n, "line %zu: %s", line, msg);
        return shield_diag_fail(diag, code, offset, (long)l->n, "%s", msg);
}

/* "sha256" → TPM_ALG_ID; "sm3" is the kernel's name for sm3_256. */
static uint16_t algo_id(const char *name) {
        uint16_t alg = 0;
        if (strcmp(name, "sm3") == 0)
                return SHIELD_ALG_SM3_256;
        return shield_hash_from_name(name, &alg) == 0 ? alg : 0;
}

/* A d-ng field: "[type:]algo:\0" then the digest. */
static bool split_digest_ng(struct shield_ima_list *l, struct shield_ima_entry *e, const uint8_t *p, size_t n) {
        const uint8_t *nul = memchr(p, 0, n);
        if (!nul || nul == p || nul[-1] != ':')
                return false;
        size_t text = (size_t)(nul - p) - 1;
        const char *algo = (const char *)p;
        /* d-ngv2 prefixes a digest type ("ima:sha256"): the algorithm is the last part. */
        for (size_t i = 0; i < text; i++)
                if (p[i] == ':')
                        algo = (const char *)p + i + 1;
        e->file_hash_algo = arena_strndup(l, algo, (size_t)((const char *)p + text - algo));
        if (!e->file_hash_algo)
                return false;
        e->file_hash_alg = algo_id(e->file_hash_algo);
        e->file_hash = nul + 1;
        e->file_hash_size = n - (size_t)(nul + 1 - p);
        return true;
}

static bool is_ng_family(const char *t) {
        return strcmp(t, "ima-ng") == 0 || strcmp(t, "ima-sig") == 0 || strcmp(t, "ima-buf") == 0 ||
               strcmp(t, "ima-ngv2") == 0 || strcmp(t, "ima-sigv2") == 0 || strcmp(t, "ima-modsig") == 0;
}

/* Walk length-prefixed fields (ima-ng family) and pick out digest, name and signature/buffer. */
static bool split_ng_fields(struct shield_ima_list *l, struct shield_ima_entry *e) {
        struct rd r = rd_init(e->template_data, e->template_data_size);
        for (unsigned field = 0; rd_left(&r); field++) {
                uint32_t n;
                const uint8_t *p;
                if (rd_le32(&r, &n) < 0 || rd_bytes(&r, n, &p) < 0)
                        return false;
                if (field == 0 && !split_digest_ng(l, e, p, n))
                        return false;
                if (field == 1) {
                        size_t len = strnlen((const char *)p, n);
                        e->path = arena_strndup(l, (const char *)p, len);
                        if (!e->path)
                                return false;
                }
                if (field == 2) {
                        e->sig = p;
                        e->sig_size = n;
                }
        }
        return true;
}

static int parse_binary_entry(struct shield_ima_list *l, struct rd *r, size_t hash_size, struct shield_diag *diag) {
        size_t start = r->off;
        struct shield_ima_entry *e = new_entry(l);
        uint32_t name_len, data_len;
        const uint8_t *name;

        if (!e)
                return l->n >= SHIELD_IMA_ENTRIES_MAX
                               ? entry_fail(l, diag, SHIELD_E_LIMIT, start, 0, "more than %u entries", SHIELD_IMA_ENTRIES_MAX)
                               : SHIELD_E_NOMEM;
        e->offset = start;
        if (rd_le32(r, &e->pcr) < 0 || rd_bytes(r, hash_size, &e->template_hash) < 0 || rd_le32(r, &name_len) < 0)
                return entry_fail(l, diag, SHIELD_E_TRUNCATED, start, 0, "the list ends inside an entry header");
        e->template_hash_size = hash_size;
        if (name_len == 0 || name_len > 32 || rd_bytes(r, name_len, &name) < 0)
                return entry_fail(l, diag, SHIELD_E_FORMAT, r->off - 4, 0,
                                  "template name length %u (1-32 expected, %zu bytes left)", name_len, rd_left(r));
        e->template_name = arena_strndup(l, (const char *)name, name_len);
        if (!e->template_name)
                return SHIELD_E_NOMEM;

        if (strcmp(e->template_name, "ima") == 0) {
                /* Legacy: a bare 20-byte SHA-1 digest, then the name with a length and no NUL. */
                uint32_t path_len;
                const uint8_t *path;
                if (rd_bytes(r, 20, &e->file_hash) < 0 || rd_le32(r, &path_len) < 0)
                        return entry_fail(l, diag, SHIELD_E_TRUNCATED, r->off, 0, "the list ends inside an 'ima' entry");
                if (path_len > SHIELD_IMA_NAME_MAX || rd_bytes(r, path_len, &path) < 0)
                        return entry_fail(l, diag, SHIELD_E_FORMAT, r->off - 4, 0,
                                          "name length %u (at most %u, %zu bytes left)", path_len, SHIELD_IMA_NAME_MAX,
                                          rd_left(r));
                e->file_hash_size = 20;
                e->file_hash_algo = "sha1";
                e->file_hash_alg = SHIELD_ALG_SHA1;
                e->path = arena_strndup(l, (const char *)path, path_len);
                if (!e->path || ima_legacy_template_data(l, e) < 0)
                        return SHIELD_E_NOMEM;
        } else {
                if (rd_le32(r, &data_len) < 0)
                        return entry_fail(l, diag, SHIELD_E_TRUNCATED, r->off, 0, "the list ends before the template data length");
                if (data_len > SHIELD_IMA_TEMPLATE_DATA_MAX || rd_bytes(r, data_len, &e->template_data) < 0)
                        return entry_fail(l, diag, data_len > SHIELD_IMA_TEMPLATE_DATA_MAX ? SHIELD_E_LIMIT : SHIELD_E_TRUNCATED,
                                          r->off - 4, 0, "template data length %u (at most %u, %zu bytes left)", data_len,
                                          SHIELD_IMA_TEMPLATE_DATA_MAX, rd_left(r));
                e->template_data_size = data_len;
                if (is_ng_family(e->template_name) && !split_ng_fields(l, e))
                        return entry_fail(l, diag, SHIELD_E_FORMAT, r->off - data_len, 0,
                                          "%s template data does not hold length-prefixed digest and name fields",
                                          e->template_name);
        }
        e->violation = true;
        for (size_t i = 0; i < hash_size; i++)
                e->violation &= e->template_hash[i] == 0;
        l->n++;
        return 0;
}

/* The template-hash size of a binary list: the one that makes the first entry read sensibly. */
static size_t detect_hash_size(const uint8_t *buf, size_t len) {
        static const size_t sizes[] = { 20, 32, 48, 64 };
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                struct rd r = rd_init(buf, len);
                uint32_t pcr, name_len;
                const uint8_t *name;
                if (rd_le32(&r, &pcr) == 0 && rd_skip(&r, sizes[i]) == 0 && rd_le32(&r, &name_len) == 0 &&
                    name_len >= 3 && name_len <= 32 && rd_bytes(&r, name_len, &name) == 0 &&
                    memcmp(name, "ima", 3) == 0)
                        return sizes[i];
        }
        return 20;
}

static int parse_binary(struct shield_ima_list *l, size_t hash_size, struct shield_diag *diag) {
        struct rd r = rd_init(l->buf, l->len);

        if (!hash_size)
                hash_size = detect_hash_size(l->buf, l->len);
        while (rd_left(&r)) {
                /* Real lists end with a stray byte or a cut-off record header: note it, keep the rest. */
                if (rd_left(&r) < 4 + hash_size + 4) {
                        if (shield_reasons_add(&l->quirks, "ima-trailing-bytes", SHIELD_SEV_WARNING, 0, -1, (long)l->n,
                                               r.off, "%zu stray bytes after the last entry", rd_left(&r)) < 0)
                                return SHIELD_E_NOMEM;
                        break;
                }
                int rc = parse_binary_entry(l, &r, hash_size, diag);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static bool hex_to_arena(struct shield_ima_list *l, const char *hex, size_t n, const uint8_t **ret, size_t *ret_len) {
        if (n % 2)
                return false;
        uint8_t *out = arena_alloc(l, n / 2 + 1);
        if (!out)
                return false;
        for (size_t i = 0; i < n; i += 2) {
                int v = 0;
                for (int k = 0; k < 2; k++) {
                        char c = hex[i + k];
                        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                        if (d < 0)
                                return false;
                        v = v << 4 | d;
                }
                out[i / 2] = (uint8_t)v;
        }
        *ret = out;
        *ret_len = n / 2;
        return true;
}

/* Next space-separated token of [*p, end); false at the end. */
static bool token(const char **p, const char *end, const char **ret, size_t *ret_len) {
        while (*p < end && **p == ' ')
                (*p)++;
        if (*p >= end)
                return false;
        const char *s = *p;
        while (*p < end && **p != ' ')
                (*p)++;
        *ret = s;
        *ret_len = (size_t)(*p - s);
        return true;
}

static int parse_ascii_line(struct shield_ima_list *l, const char *line, const char *end, size_t offset,
                            size_t lineno, struct shield_diag *diag) {
        struct shield_ima_entry *e = new_entry(l);
        const char *p = line, *t;
        size_t tn;
        uint64_t pcr;
        char num[16];

        if (!e)
                return l->n >= SHIELD_IMA_ENTRIES_MAX
                               ? entry_fail(l, diag, SHIELD_E_LIMIT, offset, lineno, "more than %u entries", SHIELD_IMA_ENTRIES_MAX)
                               : SHIELD_E_NOMEM;
        e->offset = offset;
        e->line = lineno;
        if (!token(&p, end, &t, &tn) || tn >= sizeof num)
                return entry_fail(l, diag, SHIELD_E_FORMAT, offset, lineno, "expected a PCR number");
        memcpy(num, t, tn);
        num[tn] = '\0';
        if (shield_parse_u64(num, 10, UINT32_MAX, &pcr) < 0)
                return entry_fail(l, diag, SHIELD_E_FORMAT, offset, lineno, "'%s' is not a PCR number", num);
        e->pcr = (uint32_t)pcr;
        if (!token(&p, end, &t, &tn) || !hex_to_arena(l, t, tn, &e->template_hash, &e->template_hash_size) ||
            (e->template_hash_size != 20 && e->template_hash_size != 32 && e->template_hash_size != 48 &&
             e->template_hash_size != 64))
                return entry_fail(l, diag, SHIELD_E_FORMAT, offset + (size_t)(t - line), lineno,
                                  "the template hash is not 40, 64, 96 or 128 hex digits");
        if (!token(&p, end, &t, &tn) || tn > 32)
                return entry_fail(l, diag, SHIELD_E_FORMAT, offset + (size_t)(p - line), lineno, "expected a template name");
        e->template_name = arena_strndup(l, t, tn);
        if (!e->template_name)
                return SHIELD_E_NOMEM;
        if (!token(&p, end, &t, &tn))
                return entry_fail(l, diag, SHIELD_E_FORMAT, offset + (size_t)(p - line), lineno, "expected a file digest");

        size_t digest_at = (size_t)(t - line);
        if (strcmp(e->template_name, "ima") == 0) {
                if (!hex_to_arena(l, t, tn, &e->file_hash, &e->file_hash_size) || e->file_hash_size != 20)
                        return entry_fail(l, diag, SHIELD_E_FORMAT, offset + digest_at, lineno,
                                          "an 'ima' file digest is 40 hex digits");
                e->file_hash_algo = "sha1";
                e->file_hash_alg = SHIELD_ALG_SHA1;
        } else {
                const char *colon = memchr(t, ':', tn);
                if (!colon)
                        return entry_fail(l, diag, SHIELD_E_FORMAT, offset + digest_at, lineno,
                                          "expected ALGO:HEX as the file digest");
                /* d-ngv2 carries a digest type before the algorithm ("ima:sha256:…"). */
                const char *last = colon;
                for (const char *c = colon + 1; c < t + tn; c++)
                        if (*c == ':')
                                last = c;
                const char *algo_start = last == colon ? t : colon + 1;
                e->file_hash_algo = arena_strndup(l, algo_start, (size_t)(last - algo_start));
                if (!e->file_hash_algo)
                        return SHIELD_E_NOMEM;
                e->file_hash_alg = algo_id(e->file_hash_algo);
                if (!hex_to_arena(l, last + 1, (size_t)(t + tn - last - 1), &e->file_hash, &e->file_hash_size))
                        return entry_fail(l, diag, SHIELD_E_FORMAT, offset + digest_at, lineno, "the file digest is not hex");
                size_t want = e->file_hash_alg ? shield_hash_size(e->file_hash_alg) : 0;
                if (want && want != e->file_hash_size)
                        return entry_fail(l, diag, SHIELD_E_FORMAT, offset + digest_at, lineno,
                                          "a %s digest has %zu bytes, found %zu", e->file_hash_algo, want, e->file_hash_size);
        }
        /* The name runs to the end of the line, but ima-sig/ima-buf put one more hex field last. */
        while (p < end && *p == ' ')
                p++;
        const char *name_end = end;
        bool has_extra = strcmp(e->template_name, "ima-sig") == 0 || strcmp(e->template_name, "ima-buf") == 0 ||
                         strcmp(e->template_name, "ima-sigv2") == 0;
        if (has_extra) {
                const char *sp = end;
                while (sp > p && sp[-1] != ' ')
                        sp--;
                if (sp > p && hex_to_arena(l, sp, (size_t)(end - sp), &e->sig, &e->sig_size))
                        name_end = sp - 1;
                else if (sp == end && end > p) /* an empty signature leaves a trailing space */
                        name_end = end - 1;
                else
                        e->sig_size = 0;
        }
        if ((size_t)(name_end - p) > SHIELD_IMA_NAME_MAX)
                return entry_fail(l, diag, SHIELD_E_LIMIT, offset + (size_t)(p - line), lineno,
                                  "the name is over %u bytes", SHIELD_IMA_NAME_MAX);
        e->path = arena_strndup(l, p, (size_t)(name_end - p));
        if (!e->path)
                return SHIELD_E_NOMEM;
        e->violation = true;
        for (size_t i = 0; i < e->template_hash_size; i++)
                e->violation &= e->template_hash[i] == 0;
        int rc = strcmp(e->template_name, "ima") == 0 ? ima_legacy_template_data(l, e)
                 : is_ng_family(e->template_name)      ? ima_ng_template_data(l, e)
                                                       : 0;
        if (rc < 0)
                return rc;
        l->n++;
        return 0;
}

static int parse_ascii(struct shield_ima_list *l, struct shield_diag *diag) {
        const char *text = (const char *)l->buf, *end = text + l->len, *p = text;
        size_t lineno = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;
                lineno++;
                if (line_end > p && line_end[-1] == '\r')
                        line_end--;
                if (line_end > p) {
                        int rc = parse_ascii_line(l, p, line_end, (size_t)(p - text), lineno, diag);
                        if (rc < 0)
                                return rc;
                }
                p = nl ? nl + 1 : end;
        }
        return 0;
}

void *ima_arena_alloc(struct shield_ima_list *l, size_t n) {
        return arena_alloc(l, n);
}

int shield_ima_parse(const uint8_t *buf, size_t len, size_t template_hash_size, struct shield_ima_list **ret,
                     struct shield_diag *diag) {
        if (!ret || (!buf && len) || (template_hash_size && template_hash_size > SHIELD_HASH_MAX_SIZE))
                return SHIELD_E_INVAL;
        if (len == 0)
                return shield_diag_fail(diag, SHIELD_E_TRUNCATED, 0, -1, "the measurement list is empty");
        if (len > SHIELD_IMA_LIST_MAX)
                return shield_diag_fail(diag, SHIELD_E_LIMIT, 0, -1, "the list is %zu bytes, over the %u-byte limit",
                                        len, SHIELD_IMA_LIST_MAX);
        struct shield_ima_list *l = calloc(1, sizeof *l);
        if (!l)
                return SHIELD_E_NOMEM;
        l->buf = malloc(len);
        if (!l->buf) {
                free(l);
                return SHIELD_E_NOMEM;
        }
        memcpy(l->buf, buf, len);
        l->len = len;
        /* ASCII lists start with the PCR number in decimal and a space. */
        size_t digits = 0;
        while (digits < len && digits < 10 && buf[digits] >= '0' && buf[digits] <= '9')
                digits++;
        l->format = digits && digits < len && buf[digits] == ' ' ? SHIELD_IMA_ASCII : SHIELD_IMA_BINARY;
        int rc = l->format == SHIELD_IMA_ASCII ? parse_ascii(l, diag) : parse_binary(l, template_hash_size, diag);
        if (rc == 0 && l->n == 0)
                rc = shield_diag_fail(diag, SHIELD_E_FORMAT, 0, -1, "no measurement entries");
        if (rc == 0) {
                for (size_t i = 1; i < l->n; i++)
                        if (l->entries[i].template_hash_size != l->entries[0].template_hash_size) {
                                rc = entry_fail(l, diag, SHIELD_E_FORMAT, l->entries[i].offset, l->entries[i].line,
                                                "template hash size %zu differs from the first entry's %zu",
                                                l->entries[i].template_hash_size, l->entries[0].template_hash_size);
                                break;
                        }
        }
        if (rc < 0) {
                shield_ima_free(l);
                return rc;
        }
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

size_t shield_ima_count(const struct shield_ima_list *l) {
        return l->n;
}

const struct shield_ima_entry *shield_ima_entry(const struct shield_ima_list *l, size_t i) {
        return i < l->n ? &l->entries[i] : NULL;
}

const struct shield_reasons *shield_ima_quirks(const struct shield_ima_list *l) {
        return &l->quirks;
}
