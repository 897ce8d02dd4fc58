/* SPDX-License-Identifier: Apache-2.0 */
/* PCR prediction from an event log and replaced boot components (include/shield/predict.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shield/authenticode.h"
#include "shield/crypto.h"
#include "shield/eventlog.h"
#include "shield/pe.h"
#include "shield/predict.h"
#include "shield/uefi.h"
#include "util/rd.h"

#define PCR_BOOT_APPS 4
#define PCR_SECURE_BOOT 7
#define PCR_INITRD 9
#define PCR_KERNEL_BOOT 11

/*
 * systemd 252's unified sections in the order its stub measures them
 * (src/fundamental/tpm-pcr.c unified_sections[], src/boot/efi/stub.c): every
 * one but .pcrsig. Later stubs add .ucode, .uname, .sbat and more.
 */
static const char *const stub_sections[] = { ".linux", ".osrel", ".cmdline", ".initrd",
                                             ".splash", ".dtb", ".pcrpkey" };
static const char *const stub_later_sections[] = { ".ucode", ".uname", ".sbat", ".profile" };

struct repl_state {
        const struct shield_predict_replacement *r;
        struct shield_pe pe;            /* when r->image */
        bool uki;
        size_t matches;
        /* the new PCR 7 authority (EFI_SIGNATURE_DATA of the db entry that verifies the image) */
        const uint8_t *signer;          /* points into the db event */
        size_t signer_len;
};

struct ctx {
        const struct shield_eventlog *log;
        struct shield_hasher *h;
        size_t n_banks;
        uint16_t algs[SHIELD_BANKS_MAX];
        struct repl_state *rs;
        size_t n_repl;
        struct shield_secureboot sb;
        struct shield_diag *diag;
        struct shield_prediction *p;
        /* per event and bank, the digest to extend instead of the logged one (NULL: the logged one) */
        uint8_t (*subst)[SHIELD_BANKS_MAX][SHIELD_HASH_MAX_SIZE];
        bool *substituted;
};

/* A refusal naming the event: "EV_… N (PCR P): what". */
static int fail_event(struct ctx *c, int code, const struct shield_event *ev, const char *what) {
        const char *tn = shield_event_type_name(ev->type);
        return shield_diag_fail(c->diag, code, ev->offset, (long)ev->index, "%s %u (PCR %u): %s", tn ? tn : "event",
                                ev->index, ev->pcr, what);
}

static const struct shield_event_digest *event_digest(const struct shield_event *ev, uint16_t alg) {
        for (size_t i = 0; i < ev->n_digests; i++)
                if (ev->digests[i].alg == alg && ev->digests[i].size == shield_hash_size(alg))
                        return &ev->digests[i];
        return NULL;
}

/* The device path ends in path (case-insensitively), at a node or component boundary. */
static bool path_matches(const char *devpath, const char *path) {
        size_t dl = strlen(devpath), pl = strlen(path);
        if (pl == 0 || pl > dl || strcasecmp(devpath + dl - pl, path) != 0)
                return false;
        if (pl == dl || path[0] == '\\' || path[0] == '/')
                return true;
        char before = devpath[dl - pl - 1];
        return before == '\\' || before == '/';
}

/* A UEFI_VARIABLE_DATA (PFP 1.05, 10.4.1): its GUID, whether the name is ascii_name, and its data. */
static int variable_data(const struct shield_event *ev, shield_guid *ret_guid, const char *ascii_name,
                         bool *ret_named, const uint8_t **ret_data, size_t *ret_size) {
        struct rd r = rd_init_sticky(ev->data, ev->data_size);
        uint64_t name_len = 0, data_len = 0;
        (void)rd_copy(&r, ret_guid, sizeof *ret_guid);
        (void)rd_le64(&r, &name_len);
        (void)rd_le64(&r, &data_len);
        if (rd_ok(&r) < 0 || name_len > rd_left(&r) / 2)
                return SHIELD_E_FORMAT;
        const uint8_t *name = NULL;
        (void)rd_bytes(&r, (size_t)name_len * 2, &name);
        if (rd_ok(&r) < 0 || data_len != rd_left(&r))
                return SHIELD_E_FORMAT;
        bool named = strlen(ascii_name) == name_len;
        for (size_t i = 0; named && i < name_len; i++)
                named = name[2 * i] == (uint8_t)ascii_name[i] && name[2 * i + 1] == 0;
        *ret_named = named;
        *ret_data = rd_cur(&r);
        *ret_size = (size_t)data_len;
        return 0;
}

static bool is_uki(const struct shield_pe *pe) {
        bool linux_ = false, other = false;
        for (size_t i = 0; i < pe->n_sections; i++) {
                if (strcmp(pe->sections[i].name, ".linux") == 0)
                        linux_ = true;
                if (strcmp(pe->sections[i].name, ".osrel") == 0 || strcmp(pe->sections[i].name, ".cmdline") == 0)
                        other = true;
        }
        return linux_ && other;
}

static const struct shield_pe_section *pe_section(const struct shield_pe *pe, const char *name) {
        for (size_t i = 0; i < pe->n_sections; i++)
                if (strcmp(pe->sections[i].name, name) == 0)
                        return &pe->sections[i];
        return NULL;
}

/* A section's contents as the loader maps them: VirtualSize bytes, raw data then zeros. */
static int section_digest(const struct shield_pe *pe, const struct shield_pe_section *s, uint16_t alg, uint8_t *out) {
        struct shield_digest *d = NULL;
        int r = shield_digest_begin(alg, &d);
        if (r < 0)
                return r;
        size_t raw = s->raw_size < s->virtual_size ? s->raw_size : s->virtual_size;
        r = shield_digest_update(d, pe->buf + s->raw_offset, raw);
        static const uint8_t zeros[4096];
        for (size_t left = s->virtual_size - raw; r == 0 && left > 0;) { /* bounded by VirtualSize (32 bits) */
                size_t k = left < sizeof zeros ? left : sizeof zeros;
                r = shield_digest_update(d, zeros, k);
                left -= k;
        }
        if (r < 0) {
                shield_digest_abort(d);
                return r;
        }
        return shield_digest_finish(d, out);
}

/* The db entries that are X.509 certificates, from the log's db event. */
struct db_certs {
        struct shield_siglist list;
        const uint8_t **der;
        size_t *len;
        size_t *entry;                  /* index into list.entries */
        size_t n;
};

static void db_certs_clear(struct db_certs *d) {
        shield_siglist_clear(&d->list);
        free(d->der);
        free(d->len);
        free(d->entry);
        memset(d, 0, sizeof *d);
}

static int db_certs_load(struct ctx *c, struct db_certs *ret) {
        if (c->sb.db.event_index < 0)
                return shield_diag_fail(c->diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                        "Secure Boot is on but the log does not measure db: the signer of a new "
                                        "image cannot be found");
        const struct shield_event *ev = shield_eventlog_event(c->log, (size_t)c->sb.db.event_index);
        shield_guid g;
        bool named;
        const uint8_t *data;
        size_t size;
        if (variable_data(ev, &g, "db", &named, &data, &size) < 0 || !named)
                return fail_event(c, SHIELD_E_FORMAT, ev, "db does not decode as a UEFI_VARIABLE_DATA");
        struct db_certs d = { 0 };
        struct shield_diag sd = { 0 };
        if (shield_siglist_parse(data, size, &d.list, &sd) < 0)
                {
                char m[SHIELD_DIAG_MSG_MAX + 8];
                snprintf(m, sizeof m, "db: %s", sd.msg);
                return fail_event(c, SHIELD_E_FORMAT, ev, m);
        }
        d.der = calloc(d.list.n + 1, sizeof *d.der);
        d.len = calloc(d.list.n + 1, sizeof *d.len);
        d.entry = calloc(d.list.n + 1, sizeof *d.entry);
        if (!d.der || !d.len || !d.entry) {
                db_certs_clear(&d);
                return SHIELD_E_NOMEM;
        }
        for (size_t i = 0; i < d.list.n; i++)
                if (memcmp(&d.list.entries[i].type, &SHIELD_GUID_CERT_X509, sizeof(shield_guid)) == 0) {
                        d.der[d.n] = d.list.entries[i].data;
                        d.len[d.n] = d.list.entries[i].size;
                        d.entry[d.n++] = i;
                }
        *ret = d;
        return 0;
}

/*
 * Which db certificate verifies the image's signature (and signs its
 * digest): its EFI_SIGNATURE_DATA (owner GUID + certificate) as edk2
 * measures it into EV_EFI_VARIABLE_AUTHORITY.
 */
static int find_signer(struct ctx *c, struct repl_state *s, const struct db_certs *db, const uint8_t *db_data) {
        uint8_t digest[32];
        int r = shield_pe_authenticode_hash(&s->pe, SHIELD_ALG_SHA256, digest);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->pe.n_signatures; i++) {
                const struct shield_pe_signature *sig = &s->pe.signatures[i];
                struct shield_authenticode a;
                size_t anchor;
                if (sig->type != 0x0002 || shield_authenticode_parse(sig->data, sig->size, &a) < 0)
                        continue;
                if (a.digest_alg != SHIELD_ALG_SHA256 || a.digest_size != 32 || memcmp(a.digest, digest, 32) != 0)
                        continue;
                if (shield_authenticode_verify(sig->data, sig->size, db->der, db->len, db->n, &anchor) < 0)
                        continue;
                const struct shield_siglist_entry *e = &db->list.entries[db->entry[anchor]];
                /* EFI_SIGNATURE_DATA = SignatureOwner (16 bytes) + SignatureData, contiguous in the list. */
                s->signer = e->data - sizeof(shield_guid);
                s->signer_len = e->size + sizeof(shield_guid);
                (void)db_data;
                return 0;
        }
        return shield_diag_fail(c->diag, SHIELD_E_VERIFY, 0, -1,
                                "%s: no db certificate of the log verifies the new image's signature: the firmware "
                                "would not run it",
                                s->r->path);
}

/* The data edk2 measures for an authority from db (DxeImageVerificationLib: MeasureVariable of db). */
static int authority_data(const uint8_t *sigdata, size_t len, uint8_t **ret, size_t *ret_len) {
        size_t n = 16 + 8 + 8 + 4 + len;
        uint8_t *b = malloc(n);
        if (!b)
                return SHIELD_E_NOMEM;
        memcpy(b, &SHIELD_GUID_IMAGE_SECURITY_DATABASE, 16);
        uint64_t name_len = 2, data_len = len;
        for (int i = 0; i < 8; i++) {
                b[16 + i] = (uint8_t)(name_len >> (8 * i));
                b[24 + i] = (uint8_t)(data_len >> (8 * i));
        }
        memcpy(b + 32, "d\0b\0", 4);
        memcpy(b + 36, sigdata, len);
        *ret = b;
        *ret_len = n;
        return 0;
}

static const struct shield_sb_authority *authority_for(const struct ctx *c, size_t app_index) {
        for (size_t i = 0; i < c->sb.n_authorities; i++)
                if (c->sb.authorities[i].applies_to == (long)app_index)
                        return &c->sb.authorities[i];
        return NULL;
}

static bool event_data_is(const struct shield_event *ev, const uint8_t *data, size_t len) {
        return ev->data_size == len && memcmp(ev->data, data, len) == 0;
}

static int set_subst_hash(struct ctx *c, size_t index, const uint8_t *data, size_t len) {
        for (size_t b = 0; b < c->n_banks; b++) {
                int r = shield_hasher_digest2(c->h, c->algs[b], data, len, NULL, 0, c->subst[index][b]);
                if (r < 0)
                        return r;
        }
        c->substituted[index] = true;
        return 0;
}

/* PCR 7: the authority event of each replaced application (see the header). */
static int predict_authority(struct ctx *c, struct repl_state *s, const struct shield_event *app, struct db_certs *db,
                             bool *db_loaded) {
        if (c->sb.secure_boot != 1)
                return 0;
        if (!s->r->image)
                return shield_reasons_add(&c->p->notes, "predict-signer-assumed", SHIELD_SEV_INFO, 0, PCR_SECURE_BOOT,
                                          (long)app->index, app->offset,
                                          "%s: a digest only: its signer is taken to be the old image's (PCR 7 kept)",
                                          s->r->path);
        if (!*db_loaded) {
                int r = db_certs_load(c, db);
                if (r < 0)
                        return r;
                *db_loaded = true;
        }
        if (!s->signer) {
                int r = find_signer(c, s, db, NULL);
                if (r < 0)
                        return r;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        int r = authority_data(s->signer, s->signer_len, &data, &len);
        if (r < 0)
                return r;
        const struct shield_sb_authority *a = authority_for(c, app->index);
        /* edk2 measures each authority once per boot: an earlier event with the same data is reused. */
        long earlier = -1;
        size_t limit = a ? (size_t)a->event_index : app->index;
        for (size_t i = 0; i < limit; i++) {
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (ev->pcr == PCR_SECURE_BOOT && ev->type == EV_EFI_VARIABLE_AUTHORITY && event_data_is(ev, data, len)) {
                        earlier = (long)i;
                        break;
                }
        }
        if (!a) {
                free(data);
                if (earlier >= 0)
                        return 0;
                return fail_event(c, SHIELD_E_UNSUPPORTED, app,
                                  "the new image's db certificate has not been measured before "
                                  "it: the firmware would log a new EV_EFI_VARIABLE_AUTHORITY (the number of events changes)");
        }
        const struct shield_event *aev = shield_eventlog_event(c->log, (size_t)a->event_index);
        if (event_data_is(aev, data, len)) {
                free(data);
                return shield_reasons_add(&c->p->notes, "predict-signer-same", SHIELD_SEV_INFO, 0, PCR_SECURE_BOOT,
                                          (long)aev->index, aev->offset,
                                          "%s is signed by the db certificate that authorised the old image (event %u): "
                                          "PCR 7 unchanged", s->r->path, aev->index);
        }
        if (strcmp(a->variable, "db") != 0) {
                free(data);
                return fail_event(c, SHIELD_E_UNSUPPORTED, aev, "the old image was authorised by something other than db (shim?): cannot predict");
        }
        if (earlier >= 0) {
                free(data);
                return fail_event(c, SHIELD_E_UNSUPPORTED, aev, "the new signer was measured earlier: the firmware would not log this authority "
                                  "again (the number of events changes)");
        }
        /*
         * The old certificate may have authorised a later application too,
         * whose authority edk2 then did not log again: with it gone from
         * here, the firmware would log it there. We cannot tell, so refuse.
         */
        for (size_t i = app->index + 1; i < shield_eventlog_count(c->log); i++) {
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (ev->pcr == PCR_BOOT_APPS && ev->type == EV_EFI_BOOT_SERVICES_APPLICATION && !c->substituted[i] &&
                    !authority_for(c, i)) {
                        free(data);
                        return fail_event(c, SHIELD_E_UNSUPPORTED, ev, "a later application whose authority was measured earlier: it may need the "
                                          "old signer's event, which would move (the events change)");
                }
        }
        r = set_subst_hash(c, aev->index, data, len);
        free(data);
        if (r < 0)
                return r;
        return shield_reasons_add(&c->p->notes, "predict-signer-changed", SHIELD_SEV_INFO, 0, PCR_SECURE_BOOT,
                                  (long)aev->index, aev->offset,
                                  "%s is signed by another db certificate: EV_EFI_VARIABLE_AUTHORITY event %u changes",
                                  s->r->path, aev->index);
}

/* Whether ev is one of systemd-stub's PCR 11 events: EV_IPL, data = the section name in UTF-16 with its NUL. */
static const char *stub_event_name(const struct shield_event *ev, bool *ret_later) {
        *ret_later = false;
        if (ev->type != EV_IPL || ev->data_size < 4 || ev->data_size > 32 || ev->data_size % 2)
                return NULL;
        char name[17];
        size_t n = ev->data_size / 2;
        for (size_t i = 0; i < n; i++) {
                if (ev->data[2 * i + 1] != 0)
                        return NULL;
                name[i] = (char)ev->data[2 * i];
        }
        if (name[n - 1] != 0)
                return NULL;
        for (size_t i = 0; i < sizeof stub_sections / sizeof *stub_sections; i++)
                if (strcmp(name, stub_sections[i]) == 0)
                        return stub_sections[i];
        for (size_t i = 0; i < sizeof stub_later_sections / sizeof *stub_later_sections; i++)
                if (strcmp(name, stub_later_sections[i]) == 0) {
                        *ret_later = true;
                        return stub_later_sections[i];
                }
        return NULL;
}

/*
 * PCR 11 from the new UKI: recomputed here into c->p->pcrs directly, since
 * the number of its events follows the UKI's sections. Returns 1 when PCR
 * 11 was predicted, 0 when it is left out (a note says why).
 */
static int predict_pcr11(struct ctx *c, const struct repl_state *s) {
        const struct shield_event *first_stub = NULL;
        for (size_t i = 0; i < shield_eventlog_count(c->log); i++) {
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (ev->pcr != PCR_KERNEL_BOOT || ev->type == EV_NO_ACTION)
                        continue;
                bool later;
                const char *name = stub_event_name(ev, &later);
                if (!name)
                        return fail_event(c, SHIELD_E_UNSUPPORTED, ev, "not a systemd-stub section event: PCR 11 cannot be predicted");
                if (later)
                        return fail_event(c, SHIELD_E_UNSUPPORTED, ev, "measured by a systemd-stub newer than 252 (.ucode/.uname/.sbat/.profile): "
                                          "its rules are not implemented");
                if (!first_stub)
                        first_stub = ev;
        }
        if (!first_stub) {
                c->p->left_out |= 1u << PCR_KERNEL_BOOT;
                return shield_reasons_add(&c->p->notes, "predict-pcr-left-out", SHIELD_SEV_INFO, 0, PCR_KERNEL_BOOT, -1,
                                          SIZE_MAX,
                                          "PCR 11 left out: %s is a UKI but the log has no systemd-stub PCR 11 events",
                                          s->r->path);
        }
        for (size_t b = 0; b < c->n_banks; b++) {
                uint16_t alg = c->algs[b];
                struct shield_pcr_bank *pb = shield_pcrs_bank(&c->p->pcrs, alg);
                uint8_t v[SHIELD_HASH_MAX_SIZE] = { 0 }, d[SHIELD_HASH_MAX_SIZE];
                for (size_t k = 0; k < sizeof stub_sections / sizeof *stub_sections; k++) {
                        const struct shield_pe_section *sec = pe_section(&s->pe, stub_sections[k]);
                        if (!sec)
                                continue;
                        int r = shield_hasher_digest2(c->h, alg, stub_sections[k], strlen(stub_sections[k]) + 1, NULL, 0, d);
                        if (r >= 0)
                                r = shield_hasher_extend(c->h, alg, v, d);
                        if (r >= 0)
                                r = section_digest(&s->pe, sec, alg, d);
                        if (r >= 0)
                                r = shield_hasher_extend(c->h, alg, v, d);
                        if (r < 0)
                                return r;
                }
                memcpy(pb->value[PCR_KERNEL_BOOT], v, pb->size);
        }
        return 1;
}

/* Replay PCR pcr of every bank from the events, with the substitutions when subst is set. */
static int replay_pcr(struct ctx *c, unsigned pcr, bool subst, uint8_t out[SHIELD_BANKS_MAX][SHIELD_HASH_MAX_SIZE]) {
        memset(out, 0, SHIELD_BANKS_MAX * SHIELD_HASH_MAX_SIZE);
        for (size_t i = 0; i < shield_eventlog_count(c->log); i++) { /* linear in the log */
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (ev->pcr != pcr || ev->type == EV_NO_ACTION)
                        continue;
                for (size_t b = 0; b < c->n_banks; b++) {
                        const struct shield_event_digest *d = event_digest(ev, c->algs[b]);
                        const uint8_t *bytes = subst && c->substituted[i] ? c->subst[i][b] : d ? d->bytes : NULL;
                        if (!bytes)
                                return fail_event(c, SHIELD_E_UNSUPPORTED, ev, "lacks a digest of a bank the prediction needs");
                        int r = shield_hasher_extend(c->h, c->algs[b], out[b], bytes);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static bool pcr4_type_known(uint32_t type) {
        return type == EV_EFI_BOOT_SERVICES_APPLICATION || type == EV_EFI_BOOT_SERVICES_DRIVER ||
               type == EV_EFI_RUNTIME_SERVICES_DRIVER || type == EV_EFI_ACTION || type == EV_SEPARATOR ||
               type == EV_OMIT_BOOT_DEVICE_EVENTS;
}

static bool pcr7_type_known(uint32_t type) {
        return type == EV_EFI_VARIABLE_DRIVER_CONFIG || type == EV_EFI_VARIABLE_AUTHORITY || type == EV_SEPARATOR ||
               type == EV_EFI_ACTION;
}

static int check_types(struct ctx *c, unsigned pcr, bool (*known)(uint32_t)) {
        for (size_t i = 0; i < shield_eventlog_count(c->log); i++) {
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (ev->pcr == pcr && ev->type != EV_NO_ACTION && !known(ev->type))
                        return fail_event(c, SHIELD_E_UNSUPPORTED, ev, "an event type the prediction of this PCR does not understand");
        }
        return 0;
}

static int prepare(struct ctx *c, const struct shield_predict_replacement *repl, size_t n, uint16_t bank) {
        if (n == 0 || n > SHIELD_PREDICT_REPLACEMENTS_MAX)
                return shield_diag_fail(c->diag, SHIELD_E_INVAL, 0, -1, "%zu replacements (1 to %u)", n,
                                        SHIELD_PREDICT_REPLACEMENTS_MAX);
        for (size_t i = 0; i < n; i++) {
                struct repl_state *s = &c->rs[i];
                s->r = &repl[i];
                size_t pl = repl[i].path ? strnlen(repl[i].path, SHIELD_PREDICT_PATH_MAX + 1) : 0;
                if (pl == 0 || pl > SHIELD_PREDICT_PATH_MAX)
                        return shield_diag_fail(c->diag, SHIELD_E_INVAL, 0, -1, "replacement %zu: a path of 1 to %u bytes",
                                                i + 1, SHIELD_PREDICT_PATH_MAX);
                if (repl[i].image) {
                        struct shield_diag pd = { 0 };
                        if (shield_pe_parse(repl[i].image, repl[i].image_len, &s->pe, &pd) < 0)
                                return shield_diag_fail(c->diag, SHIELD_E_FORMAT, pd.offset, -1,
                                                        "%s: the new image is not a PE image: %s", repl[i].path, pd.msg);
                        s->uki = is_uki(&s->pe);
                        continue;
                }
                if (shield_hash_size(repl[i].alg) == 0)
                        return shield_diag_fail(c->diag, SHIELD_E_INVAL, 0, -1, "%s: a digest of an unknown algorithm",
                                                repl[i].path);
                if (bank != repl[i].alg || c->n_banks != 1) {
                        char others[128] = "";
                        size_t off = 0;
                        for (size_t b = 0; b < c->n_banks; b++)
                                if (c->algs[b] != repl[i].alg && off < sizeof others) {
                                        int w = snprintf(others + off, sizeof others - off, "%s%s", off ? ", " : "",
                                                         shield_hash_name(c->algs[b]));
                                        off += w > 0 ? (size_t)w : 0;
                                }
                        return shield_diag_fail(c->diag, SHIELD_E_INVAL, 0, -1,
                                                "%s: a %s digest predicts only the %s bank, not %s (give the image, or "
                                                "ask for bank %s only)",
                                                repl[i].path, shield_hash_name(repl[i].alg), shield_hash_name(repl[i].alg),
                                                others, shield_hash_name(repl[i].alg));
                }
        }
        size_t n_uki = 0;
        for (size_t i = 0; i < n; i++)
                n_uki += c->rs[i].uki;
        if (n_uki > 1)
                return shield_diag_fail(c->diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                        "more than one replaced UKI: which one systemd-stub measures is unknown");
        return 0;
}

static int predict(struct ctx *c, const struct shield_predict_replacement *repl, size_t n, uint16_t bank) {
        struct shield_prediction *p = c->p;
        struct shield_pcrs all;
        int r = shield_eventlog_replay(c->log, c->h, &all, NULL);
        if (r < 0)
                return r;
        for (size_t b = 0; b < all.n_banks; b++) {
                if (bank != 0 && all.banks[b].alg != bank)
                        continue;
                p->replayed.banks[p->replayed.n_banks++] = all.banks[b];
                c->algs[c->n_banks++] = all.banks[b].alg;
        }
        if (c->n_banks == 0)
                return shield_diag_fail(c->diag, SHIELD_E_NOT_FOUND, 0, -1, "the log has no %s bank",
                                        bank ? shield_hash_name(bank) : "computable");
        p->pcrs = p->replayed;
        r = prepare(c, repl, n, bank);
        if (r < 0)
                return r;
        r = shield_eventlog_secureboot(c->log, &c->sb);
        if (r < 0)
                return r;

        /* PCR 4: the applications each path names. */
        size_t count = shield_eventlog_count(c->log);
        const struct repl_state *uki = NULL;
        size_t uki_event = 0;
        for (size_t i = 0; i < count; i++) { /* linear in the log times the (capped) replacements */
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (ev->pcr != PCR_BOOT_APPS || ev->type != EV_EFI_BOOT_SERVICES_APPLICATION)
                        continue;
                struct shield_image_load_event le = { 0 };
                struct shield_diag ld = { 0 };
                if (shield_event_image_load(ev, &le, &ld) < 0)
                        {
                        char m[SHIELD_DIAG_MSG_MAX + 32];
                        snprintf(m, sizeof m, "UEFI_IMAGE_LOAD_EVENT: %s", ld.msg);
                        return fail_event(c, SHIELD_E_FORMAT, ev, m);
                }
                for (size_t k = 0; k < n; k++) {
                        struct repl_state *s = &c->rs[k];
                        if (!path_matches(le.device_path, s->r->path))
                                continue;
                        s->matches++;
                        for (size_t b = 0; b < c->n_banks; b++) {
                                if (s->r->image)
                                        r = shield_pe_authenticode_hash(&s->pe, c->algs[b], c->subst[i][b]);
                                else
                                        memcpy(c->subst[i][b], s->r->digest, shield_hash_size(s->r->alg));
                                if (r < 0)
                                        break;
                        }
                        if (r < 0)
                                break;
                        c->substituted[i] = true;
                        if (s->uki) {
                                uki = s;
                                uki_event = i;
                        }
                        break;
                }
                shield_image_load_event_clear(&le);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < n; k++)
                if (c->rs[k].matches == 0)
                        return shield_diag_fail(c->diag, SHIELD_E_NOT_FOUND, 0, -1,
                                                "no EV_EFI_BOOT_SERVICES_APPLICATION in PCR 4 is loaded from %s",
                                                c->rs[k].r->path);
        if (uki)
                for (size_t i = uki_event + 1; i < count; i++) {
                        const struct shield_event *ev = shield_eventlog_event(c->log, i);
                        if (ev->pcr == PCR_BOOT_APPS && ev->type == EV_EFI_BOOT_SERVICES_APPLICATION &&
                            !c->substituted[i])
                                return fail_event(c, SHIELD_E_UNSUPPORTED, ev, "loaded after the replaced UKI, perhaps from it (its kernel): cannot "
                                                  "predict its digest");
                }

        /* PCR 7: the authorities of the applications replaced by an image. */
        struct db_certs db = { 0 };
        bool db_loaded = false;
        for (size_t i = 0; i < count && r >= 0; i++) {
                const struct shield_event *ev = shield_eventlog_event(c->log, i);
                if (!c->substituted[i] || ev->pcr != PCR_BOOT_APPS)
                        continue;
                struct shield_image_load_event le = { 0 };
                if (shield_event_image_load(ev, &le, NULL) < 0)
                        continue; /* decoded above */
                for (size_t k = 0; k < n; k++)
                        if (path_matches(le.device_path, c->rs[k].r->path)) {
                                r = predict_authority(c, &c->rs[k], ev, &db, &db_loaded);
                                break;
                        }
                shield_image_load_event_clear(&le);
        }
        db_certs_clear(&db);
        if (r < 0)
                return r;
        if (c->sb.secure_boot != 1)
                r = shield_reasons_add(&p->notes, "predict-secureboot-off", SHIELD_SEV_INFO, 0, PCR_SECURE_BOOT, -1,
                                       SIZE_MAX, "Secure Boot is %s: PCR 7 does not depend on the images' signers",
                                       c->sb.secure_boot == 0 ? "off" : "not measured");
        if (r < 0)
                return r;

        /* Recompute the PCRs with a substitution, after checking their events replay to the log's values. */
        static const unsigned recomputed[] = { PCR_BOOT_APPS, PCR_SECURE_BOOT };
        static bool (*const known[])(uint32_t) = { pcr4_type_known, pcr7_type_known };
        for (size_t k = 0; k < 2; k++) {
                unsigned pcr = recomputed[k];
                bool touched = false;
                for (size_t i = 0; i < count; i++)
                        touched |= c->substituted[i] && shield_eventlog_event(c->log, i)->pcr == pcr;
                if (!touched)
                        continue;
                r = check_types(c, pcr, known[k]);
                if (r < 0)
                        return r;
                uint8_t v[SHIELD_BANKS_MAX][SHIELD_HASH_MAX_SIZE];
                r = replay_pcr(c, pcr, false, v);
                if (r < 0)
                        return r;
                for (size_t b = 0; b < c->n_banks; b++)
                        if (memcmp(v[b], p->replayed.banks[b].value[pcr], p->replayed.banks[b].size) != 0)
                                return shield_diag_fail(c->diag, SHIELD_E_UNSUPPORTED, 0, -1,
                                                        "PCR %u's events do not replay to its %s value: the log does not "
                                                        "account for it", pcr, shield_hash_name(c->algs[b]));
                r = replay_pcr(c, pcr, true, v);
                if (r < 0)
                        return r;
                for (size_t b = 0; b < c->n_banks; b++)
                        memcpy(p->pcrs.banks[b].value[pcr], v[b], p->pcrs.banks[b].size);
        }

        if (uki) {
                r = predict_pcr11(c, uki);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < count; i++) {
                        const struct shield_event *ev = shield_eventlog_event(c->log, i);
                        if (ev->pcr == PCR_INITRD && ev->type != EV_NO_ACTION) {
                                p->left_out |= 1u << PCR_INITRD;
                                r = shield_reasons_add(&p->notes, "predict-pcr-left-out", SHIELD_SEV_INFO, 0, PCR_INITRD,
                                                       (long)i, ev->offset,
                                                       "PCR 9 left out: the kernel's EFI stub measures the new UKI's "
                                                       "initrd and load options there, which is not implemented");
                                break;
                        }
                }
                if (r < 0)
                        return r;
        }
        for (size_t b = 0; b < c->n_banks; b++) {
                struct shield_pcr_bank *pb = &p->pcrs.banks[b];
                pb->present &= ~p->left_out;
                for (unsigned i = 0; i < SHIELD_PCR_COUNT; i++)
                        if ((pb->present & (1u << i)) &&
                            memcmp(pb->value[i], p->replayed.banks[b].value[i], pb->size) != 0) {
                                p->changed |= 1u << i;
                                pb->extended |= 1u << i;
                        }
        }
        return 0;
}

int shield_predict(const struct shield_eventlog *log, const struct shield_predict_replacement *repl, size_t n,
                   uint16_t bank, struct shield_prediction *ret, struct shield_diag *diag) {
        if (!log || !ret || (n && !repl))
                return SHIELD_E_INVAL;
        size_t count = shield_eventlog_count(log);
        struct shield_prediction *p = calloc(1, sizeof *p);
        struct ctx c = { .log = log, .diag = diag, .p = p };
        c.rs = calloc(n ? n : 1, sizeof *c.rs);
        c.subst = calloc(count ? count : 1, sizeof *c.subst);
        c.substituted = calloc(count ? count : 1, sizeof *c.substituted);
        int r = !p || !c.rs || !c.subst || !c.substituted ? SHIELD_E_NOMEM : shield_hasher_new(&c.h);
        if (r >= 0)
                r = predict(&c, repl, n, bank);
        shield_secureboot_clear(&c.sb);
        shield_hasher_free(c.h);
        free(c.rs);
        free(c.subst);
        free(c.substituted);
        if (r < 0) {
                if (p)
                        shield_reasons_clear(&p->notes);
                free(p);
                return r;
        }
        *ret = *p; /* transferred */
        free(p);
        return 0;
}

void shield_prediction_clear(struct shield_prediction *p) {
        if (!p)
                return;
        shield_reasons_clear(&p->notes);
}
