/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SB_EVENT lines for what one boot's firmware actually did: an event per
 * executable it loaded (the measured log) or refused (its console), judged
 * on the bytes it read, and the closing line with the boot's overall status.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shield/disk.h"
#include "shield/eventlog.h"
#include "shield/pe.h"
#include "shield/secureboot.h"
#include "shield/uefi.h"
#include "shield/util.h"

/* The file the boot manager loads from a device path without one (UEFI 2.10, 3.5.1.1, x64). */
#define REMOVABLE_MEDIA_FILE "\\EFI\\BOOT\\BOOTX64.EFI"

/*
 * OVMF's BdsDxe (edk2 OvmfPkg PlatformBootManagerLib / BmBoot.c,
 * EfiBootManagerBoot()): "starting" once LoadImage() accepted the option's
 * image, "failed to load" when it did not.
 */
#define BDS_FAILED "BdsDxe: failed to load Boot"
#define BDS_STARTING "BdsDxe: starting Boot"

static const char *const type_names[] = {
        [SHIELD_SB_FROM_FIXED_MEDIA] = "FromFixedMedia",
        [SHIELD_SB_FROM_REMOVABLE_MEDIA] = "FromRemovableMedia",
        [SHIELD_SB_FROM_OPROM] = "FromOpROM",
        [SHIELD_SB_FROM_FV] = "FromFv",
};

const char *shield_sb_image_type_name(enum shield_sb_image_type t) {
        return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "FromFixedMedia";
}

/* Does the text path hold a node named name: "name(" at its start or after a '/'? */
static bool has_node(const char *path, const char *name) {
        size_t n = strlen(name);
        for (const char *p = path; (p = strstr(p, name)); p += n)
                if ((p == path || p[-1] == '/') && p[n] == '(')
                        return true;
        return false;
}

enum shield_sb_image_type shield_sb_image_type_of_path(const char *path) {
        if (!path)
                return SHIELD_SB_FROM_FIXED_MEDIA;
        /* The order of edk2's GetImageType(): firmware volume, then the device kinds. */
        if (has_node(path, "Fv") || has_node(path, "FvFile"))
                return SHIELD_SB_FROM_FV;
        if (has_node(path, "Offset"))
                return SHIELD_SB_FROM_OPROM;
        static const char *const removable[] = { "USB", "UsbClass", "UsbWwid", "CDROM", "Floppy", "MAC" };
        for (size_t i = 0; i < sizeof removable / sizeof removable[0]; i++)
                if (has_node(path, removable[i]))
                        return SHIELD_SB_FROM_REMOVABLE_MEDIA;
        return SHIELD_SB_FROM_FIXED_MEDIA;
}

static void upper_hex(char *dst, size_t dst_len, const char *src) {
        size_t i = 0;
        for (; src[i] && i + 1 < dst_len; i++)
                dst[i] = src[i] >= 'a' && src[i] <= 'f' ? (char)(src[i] - 'a' + 'A') : src[i];
        dst[i] = '\0';
}

void shield_sb_event_from_verdict(const struct shield_sb_verdict *v, const char *path, struct shield_sb_event *ret) {
        struct shield_sb_event e = { 0 };
        e.pass = v->pass;
        e.have_verdict = true;
        e.image_type = shield_sb_image_type_of_path(path);
        snprintf(e.path, sizeof e.path, "%s", path ? path : "");
        /* Consoles name five matches; a certificate revoked by its TBS hash is a revoked certificate. */
        e.match = v->match && strcmp(v->match, "DBX_CERT_HASH_MATCH") == 0 ? "DBX_CERT_MATCH" : v->match;
        snprintf(e.cert_subject, sizeof e.cert_subject, "%s", v->cert_common_name);
        upper_hex(e.image_digest, sizeof e.image_digest, v->image_digest);
        snprintf(e.reason, sizeof e.reason, "%s", v->reason);
        *ret = e;
}

/* Append ", "key"SEP"value"" with value JSON-escaped; false when out of memory. */
static bool field(FILE *f, bool first, const char *key, const char *sep, const char *value) {
        json_t *s = json_string(value);
        char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        json_decref(s);
        if (!q)
                return false;
        fprintf(f, "%s\"%s\"%s%s", first ? "" : ", ", key, sep, q);
        free(q);
        return true;
}

/* Close the memory stream; its buffer is only final after fclose(). */
static char *finish(FILE *f, char **buf, bool ok) {
        if (fclose(f) != 0 || !ok) {
                free(*buf);
                return NULL;
        }
        return *buf;
}

char *shield_sb_event_line(const struct shield_sb_event *e) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        const char *msg = e->pass ? "The EFI executable loaded successfully"
                          : e->match && strncmp(e->match, "DBX_", 4) == 0
                                  ? "The EFI executable failed to load. Its hash or a certificate of its signature is revoked in DBX"
                                  : "The EFI executable failed to load. It's not signed, or the signature (or hash) did not match entries in DB";
        /* Spacing as the consoles print it: "status": and "msg": tight, the rest spaced; a Fail line's path tight. */
        fputs("SB_EVENT: { ", f);
        bool ok = field(f, true, "status", ": ", e->pass ? "Pass" : "Fail") && field(f, false, "msg", ": ", msg) &&
                  field(f, false, "EFI_Image_Type", " : ", shield_sb_image_type_name(e->image_type)) &&
                  field(f, false, "EFI_Image_Path", e->pass ? " : " : ": ", e->path);
        if (ok && e->match)
                ok = field(f, false, "SB_Variable_Match", " : ", e->match);
        if (ok && e->cert_subject[0])
                ok = field(f, false, "CertSubject", " : ", e->cert_subject);
        if (ok && e->image_digest[0])
                ok = field(f, false, "ImageDigest", " : ", e->image_digest);
        fputs(" }", f);
        return finish(f, &buf, ok);
}

char *shield_sb_overall_line(int status) {
        char *line = NULL;
        if (asprintf(&line, "SB_EVENT: { \"Secure_Boot_Overall_Status\" : %d, \"status\" : \"%s\", \"msg\" : \"%s\" }",
                     status, status == SHIELD_SB_OVERALL_PASS ? "Pass" : "Fail",
                     status == SHIELD_SB_OVERALL_PASS ? "SB_Event on Exit Boot Services" : "SB_Event on boot refusal") < 0)
                return NULL;
        return line;
}

/* ---- reading what the firmware read ---- */

/*
 * The file a text device path names on disk: the partition of its HD()
 * node (by the GPT unique GUID, else the number; none: the first ESP) and
 * the text after its last node that starts with '\' (none: the removable
 * media default). Returns 0 with the bytes, or a negative code.
 */
static int read_from_disk(const struct shield_blockdev *disk, const char *path, uint8_t **ret, size_t *ret_len) {
        struct shield_disk_layout layout = { 0 };
        const struct shield_gpt_partition *part = NULL;
        struct shield_fat *fat = NULL;
        int r = shield_disk_read_layout(disk, &layout, NULL);
        if (r < 0)
                return r;
        if (layout.scheme != SHIELD_DISK_GPT) {
                r = SHIELD_E_NOT_FOUND;
                goto out;
        }
        const char *hd = strstr(path, "HD(");
        if (hd) {
                /* HD(n,GPT,guid,start,size): the form lib/uefi/devpath.c writes. */
                char num[16] = "", guid[SHIELD_GUID_STRING_SIZE] = "";
                const char *c1 = strchr(hd, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL, *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
                if (c1 && (size_t)(c1 - hd - 3) < sizeof num)
                        snprintf(num, sizeof num, "%.*s", (int)(c1 - hd - 3), hd + 3);
                if (c2 && c3 && strncmp(c1 + 1, "GPT,", 4) == 0 && (size_t)(c3 - c2 - 1) < sizeof guid)
                        snprintf(guid, sizeof guid, "%.*s", (int)(c3 - c2 - 1), c2 + 1);
                uint64_t index = 0;
                bool have_index = shield_parse_u64(num, 10, UINT32_MAX, &index) == 0;
                for (size_t i = 0; i < layout.n_partitions && !part; i++) {
                        char g[SHIELD_GUID_STRING_SIZE];
                        shield_guid_format(&layout.partitions[i].unique_guid, g);
                        if (guid[0] ? strcasecmp(g, guid) == 0 : have_index && layout.partitions[i].index == index)
                                part = &layout.partitions[i];
                }
        } else {
                part = shield_disk_find_esp(&layout);
        }
        if (!part) {
                r = SHIELD_E_NOT_FOUND;
                goto out;
        }
        const char *file = strrchr(path, '/');
        file = file ? file + 1 : path;
        if (file[0] != '\\')
                file = REMOVABLE_MEDIA_FILE;
        uint64_t off = part->first_lba * layout.sector_size, size = (part->last_lba - part->first_lba + 1) * layout.sector_size;
        if ((r = shield_fat_open(disk, off, size, &fat, NULL)) < 0)
                goto out;
        r = shield_fat_read_file(fat, file, SHIELD_PE_MAX, ret, ret_len, NULL);
out:
        shield_fat_close(fat);
        shield_disk_layout_free(&layout);
        return r;
}

/* "PCI/Offset(0xS,0xE)" of one EFI image of a ROM, as edk2's PciBus names it. */
static void rom_image_path(const struct shield_sb_rom *rom, const struct shield_rom_image *im, char *buf, size_t n) {
        snprintf(buf, n, "%s/Offset(0x%zX,0x%zX)", rom->pci_path, im->offset, im->offset + im->length - 1);
}

/* The PE bytes (a copy) of the ROM image path names; SHIELD_E_NOT_FOUND when none does, or it is compressed. */
static int read_from_roms(const struct shield_sb_boot *b, const char *path, uint8_t **ret, size_t *ret_len) {
        for (size_t i = 0; i < b->n_roms; i++) {
                struct shield_rom_image im[SHIELD_OPTION_ROM_IMAGES_MAX];
                size_t n = 0;
                if (shield_option_rom_parse(b->roms[i].bytes, b->roms[i].len, im, SHIELD_OPTION_ROM_IMAGES_MAX, &n,
                                            NULL) < 0)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        char p[1200];
                        rom_image_path(&b->roms[i], &im[k], p, sizeof p);
                        if (!im[k].efi || strcasecmp(p, path) != 0)
                                continue;
                        if (im[k].compression != 0)
                                return SHIELD_E_UNSUPPORTED; /* EFI-compressed: not judged here */
                        uint8_t *copy = malloc(im[k].pe_length);
                        if (!copy)
                                return SHIELD_E_NOMEM;
                        memcpy(copy, b->roms[i].bytes + im[k].pe_offset, im[k].pe_length);
                        *ret = copy;
                        *ret_len = im[k].pe_length;
                        return 0;
                }
        }
        return SHIELD_E_NOT_FOUND;
}

/* An event for path, judged on its bytes when they can be read; firmware_loaded: what the firmware did. */
static int judge(const struct shield_sb_boot *b, const char *path, bool firmware_loaded, const char *measured_digest,
                 struct shield_sb_event *ret) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        struct shield_sb_verdict v;
        struct shield_sb_event e = { 0 };
        enum shield_sb_image_type type = shield_sb_image_type_of_path(path);
        int r = type == SHIELD_SB_FROM_OPROM ? read_from_roms(b, path, &bytes, &len)
                : b->disk && type != SHIELD_SB_FROM_FV ? read_from_disk(b->disk, path, &bytes, &len)
                                                         : SHIELD_E_NOT_FOUND;
        if (r == SHIELD_E_NOMEM)
                return r;
        r = r == 0 ? shield_sb_check(bytes, len, b->dbs, &v, NULL) : r;
        free(bytes);
        if (r == SHIELD_E_NOMEM)
                return r;
        if (r == 0) {
                shield_sb_event_from_verdict(&v, path, &e);
                /*
                 * A ROM driver is measured before it is verified (edk2 runs the TPM
                 * handler before the image-verification one), so its event says
                 * nothing of what the firmware decided: the verdict stands alone.
                 */
                e.firmware_disagrees = type != SHIELD_SB_FROM_OPROM && v.pass != firmware_loaded;
        } else {
                e.pass = firmware_loaded;
                e.image_type = shield_sb_image_type_of_path(path);
                snprintf(e.path, sizeof e.path, "%s", path);
                upper_hex(e.image_digest, sizeof e.image_digest, measured_digest ? measured_digest : "");
                snprintf(e.reason, sizeof e.reason, "the executable's bytes are not on the boot disk (%s)", shield_strerror(r));
        }
        *ret = e;
        return 0;
}

static int push(struct shield_sb_events *out, const struct shield_sb_event *e) {
        if (out->n == SHIELD_SB_EVENTS_MAX) {
                out->n_dropped++;
                return 0;
        }
        struct shield_sb_event *grown = realloc(out->events, (out->n + 1) * sizeof *grown);
        if (!grown)
                return SHIELD_E_NOMEM;
        out->events = grown;
        out->events[out->n++] = *e;
        return 0;
}

static int from_log(const struct shield_sb_boot *b, struct shield_sb_events *out, struct shield_diag *diag) {
        struct shield_eventlog *log = NULL;
        int r = shield_eventlog_parse(b->eventlog, b->eventlog_len, &log, diag);
        if (r < 0)
                return r;
        /* One pass over the log's events: linear in the log. */
        for (size_t i = 0, n = shield_eventlog_count(log); i < n && r == 0; i++) {
                const struct shield_event *ev = shield_eventlog_event(log, i);
                struct shield_image_load_event il;
                if (ev->type != EV_EFI_BOOT_SERVICES_APPLICATION && ev->type != EV_EFI_BOOT_SERVICES_DRIVER)
                        continue;
                if (shield_event_image_load(ev, &il, NULL) < 0)
                        continue; /* a malformed event names no executable; lib/tcg's findings report it */
                char digest[65] = "";
                for (size_t k = 0; k < ev->n_digests; k++)
                        if (ev->digests[k].alg == SHIELD_ALG_SHA256 && ev->digests[k].size == 32)
                                shield_hex_encode(ev->digests[k].bytes, 32, digest);
                struct shield_sb_event e;
                r = judge(b, il.device_path, true, digest, &e);
                if (r == 0)
                        r = push(out, &e);
                shield_image_load_event_clear(&il);
        }
        shield_eventlog_free(log);
        return r;
}

/*
 * The console's refusals, in order: BdsDxe: failed to load Boot0001 "DESC" from PATH: STATUS;
 * with started (a boot that sent no log), also what it started: BdsDxe: starting Boot0001 "DESC" from PATH
 */
/*
 * The ROM images the log does not name: the firmware refused them. They
 * go first, in ROM order (bounded: SHIELD_OPTION_ROM_IMAGES_MAX per ROM,
 * each checked against the events so far).
 */
static int from_roms(const struct shield_sb_boot *b, struct shield_sb_events *out) {
        struct shield_sb_events refused = { 0 };
        int r = 0;
        for (size_t i = 0; i < b->n_roms && r == 0; i++) {
                struct shield_rom_image im[SHIELD_OPTION_ROM_IMAGES_MAX];
                size_t n = 0;
                if (shield_option_rom_parse(b->roms[i].bytes, b->roms[i].len, im, SHIELD_OPTION_ROM_IMAGES_MAX, &n,
                                            NULL) < 0)
                        continue;
                for (size_t k = 0; k < n && r == 0; k++) {
                        char p[1200];
                        bool loaded = false;
                        if (!im[k].efi)
                                continue;
                        rom_image_path(&b->roms[i], &im[k], p, sizeof p);
                        for (size_t e = 0; e < out->n && !loaded; e++)
                                loaded = strcasecmp(out->events[e].path, p) == 0;
                        if (loaded)
                                continue;
                        struct shield_sb_event ev;
                        if ((r = judge(b, p, false, NULL, &ev)) == 0) {
                                ev.pass = false; /* what the firmware did: it never loaded it */
                                r = push(&refused, &ev);
                        }
                }
        }
        if (r == 0 && refused.n) {
                struct shield_sb_event *all = realloc(refused.events, (refused.n + out->n) * sizeof *all);
                if (!all) {
                        r = SHIELD_E_NOMEM;
                } else {
                        if (out->n)
                                memcpy(all + refused.n, out->events, out->n * sizeof *all);
                        free(out->events);
                        out->events = all;
                        out->n += refused.n;
                        refused.events = NULL;
                }
        }
        free(refused.events);
        return r;
}

static int from_console(const struct shield_sb_boot *b, bool started, struct shield_sb_events *out) {
        const char *c = (const char *)b->console, *end = c + b->console_len;
        size_t prefix = strlen(BDS_FAILED), sprefix = strlen(BDS_STARTING);
        int r = 0;
        /* Each byte is looked at a bounded number of times: linear in the console. */
        for (const char *line = c; line < end && r == 0;) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                const char *eol = nl ? nl : end;
                size_t n = (size_t)(eol - line);
                const char *at = n >= prefix ? memmem(line, n, BDS_FAILED, prefix) : NULL;
                const char *start = started && !at && n >= sprefix ? memmem(line, n, BDS_STARTING, sprefix) : NULL;
                line = nl ? nl + 1 : end;
                if (start) {
                        const char *sfrom = memmem(start, (size_t)(eol - start), "\" from ", 7);
                        if (!sfrom)
                                continue;
                        sfrom += 7;
                        size_t pl = (size_t)(eol - sfrom);
                        while (pl && (sfrom[pl - 1] == '\r' || sfrom[pl - 1] == ' '))
                                pl--;
                        char spath[1024];
                        snprintf(spath, sizeof spath, "%.*s", (int)(pl < sizeof spath ? pl : sizeof spath - 1), sfrom);
                        struct shield_sb_event e;
                        if ((r = judge(b, spath, true, NULL, &e)) == 0)
                                r = push(out, &e);
                        continue;
                }
                if (!at)
                        continue;
                /* The path runs from " from " to the last ": " of the line; the status after it. */
                const char *from = memmem(at, (size_t)(eol - at), "\" from ", 7), *colon = NULL;
                if (!from)
                        continue;
                from += 7;
                for (const char *p = from; p + 1 < eol; p++)
                        if (p[0] == ':' && p[1] == ' ')
                                colon = p;
                if (!colon)
                        continue;
                char status[64];
                size_t sl = (size_t)(eol - colon - 2);
                while (sl && (colon[2 + sl - 1] == '\r' || colon[2 + sl - 1] == ' '))
                        sl--;
                snprintf(status, sizeof status, "%.*s", (int)(sl < sizeof status ? sl : sizeof status - 1), colon + 2);
                int overall = strncmp(status, "Access Denied", 13) == 0          ? SHIELD_SB_OVERALL_ACCESS_DENIED
                              : strncmp(status, "Security Violation", 18) == 0 ? SHIELD_SB_OVERALL_SECURITY_VIOLATION
                                                                              : 0;
                if (!overall)
                        continue; /* not a Secure Boot refusal (Not Found, a device error) */
                char path[1024];
                snprintf(path, sizeof path, "%.*s", (int)((size_t)(colon - from) < sizeof path ? colon - from : (long)sizeof path - 1),
                         from);
                struct shield_sb_event e;
                if ((r = judge(b, path, false, NULL, &e)) == 0)
                        r = push(out, &e);
                if (out->overall_status == SHIELD_SB_OVERALL_PASS)
                        out->overall_status = overall;
        }
        return r;
}

int shield_sb_boot_events(const struct shield_sb_boot *boot, struct shield_sb_events *ret, struct shield_diag *diag) {
        if (!boot || !ret || !boot->dbs)
                return SHIELD_E_INVAL;
        struct shield_sb_events out = { .overall_status = SHIELD_SB_OVERALL_PASS };
        int r = 0;
        if (boot->eventlog && boot->eventlog_len)
                r = from_log(boot, &out, diag);
        if (r == 0 && boot->n_roms)
                r = from_roms(boot, &out);
        if (r == 0 && boot->console)
                r = from_console(boot, !(boot->eventlog && boot->eventlog_len), &out);
        if (r < 0) {
                shield_sb_events_clear(&out);
                return r;
        }
        *ret = out;
        return 0;
}

void shield_sb_events_clear(struct shield_sb_events *e) {
        if (!e)
                return;
        free(e->events);
        memset(e, 0, sizeof *e);
}
