/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding event data for people (a one-line summary) and for scripts (a
 * JSON object). Layouts are from the TCG PC Client PFP 1.05 section 10.4 and
 * UEFI 2.10. Every decoder reads through lib/util/rd.h and, on data that
 * does not fit its layout, says what is wrong instead of failing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode-internal.h"
#include "eventlog-internal.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "util/rd.h"

#define SUMMARY_MAX 240

struct decoded {
        json_t *j;
        char summary[SUMMARY_MAX];
        size_t used;
};

static void say(struct decoded *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct decoded *d, const char *fmt, ...) {
        va_list ap;

        if (d->used >= sizeof d->summary - 1)
                return;
        va_start(ap, fmt);
        int n = vsnprintf(d->summary + d->used, sizeof d->summary - d->used, fmt, ap);
        va_end(ap);
        if (n > 0)
                d->used += (size_t)n;
        if (d->used >= sizeof d->summary - 1) {
                /* Mark the cut so nobody mistakes it for the whole value. */
                d->used = sizeof d->summary - 1;
                memcpy(d->summary + sizeof d->summary - 4, "...", 3);
        }
}

static void malformed(struct decoded *d, const char *what, size_t offset, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void malformed(struct decoded *d, const char *what, size_t offset, const char *fmt, ...) {
        char msg[200];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        json_object_set_new(d->j, "error", json_sprintf("malformed %s at +0x%zx: %s", what, offset, msg));
        say(d, "malformed %s at +0x%zx: %s", what, offset, msg);
}

static bool printable(const uint8_t *p, size_t n) {
        while (n && p[n - 1] == 0)
                n--;
        if (!n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (p[i] < 0x20 || p[i] > 0x7e)
                        if (p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
                                return false;
        return true;
}

static size_t strip_nuls(const uint8_t *p, size_t n) {
        while (n && p[n - 1] == 0)
                n--;
        return n;
}

/* Text that is either ASCII or UTF-16LE (S-CRTM versions come both ways). */
static char *ascii_or_utf16(const uint8_t *p, size_t n) {
        char *s = NULL;
        if (printable(p, n))
                return strndup((const char *)p, strip_nuls(p, n));
        if (n >= 2 && n % 2 == 0 && shield_utf16le_to_utf8(p, n, &s) == 0)
                return s;
        return NULL;
}

static void hex_field(struct decoded *d, const char *key, const uint8_t *p, size_t n) {
        char *hex = malloc(2 * n + 1);
        if (!hex)
                return;
        shield_hex_encode(p, n, hex);
        json_object_set_new(d->j, key, json_string(hex));
        free(hex);
}

static void guid_field(json_t *o, const char *key, const shield_guid *g) {
        char s[SHIELD_GUID_STRING_SIZE];
        shield_guid_format(g, s);
        json_object_set_new(o, key, json_string(s));
}

static const char *guid_text(const shield_guid *g, char buf[SHIELD_GUID_STRING_SIZE]) {
        const char *name = shield_guid_name(g);
        if (name)
                return name;
        shield_guid_format(g, buf);
        return buf;
}

/* A signature-list database: every entry, certificates with their names. */
static void decode_siglist(struct decoded *d, const char *name, const uint8_t *p, size_t n) {
        struct shield_siglist list;
        struct shield_diag diag = { 0 };
        json_t *entries = json_array();
        size_t x509 = 0, hashes = 0, other = 0, shown = 0;

        if (shield_siglist_parse(p, n, &list, &diag) < 0) {
                json_decref(entries);
                malformed(d, "EFI_SIGNATURE_LIST", diag.offset, "%s", diag.msg);
                return;
        }
        shield_siglist_counts(&list, &x509, &hashes, &other);
        say(d, "%s: %zu certificate%s, %zu hash%s", name, x509, x509 == 1 ? "" : "s", hashes,
            hashes == 1 ? "" : "es");
        for (size_t i = 0; i < list.n; i++) {
                const struct shield_siglist_entry *e = &list.entries[i];
                json_t *o = json_object();
                char gb[SHIELD_GUID_STRING_SIZE];

                json_object_set_new(o, "type", json_string(guid_text(&e->type, gb)));
                json_object_set_new(o, "owner", json_string(guid_text(&e->owner, gb)));
                if (shield_guid_eq(&e->type, &SHIELD_GUID_CERT_X509)) {
                        struct shield_x509_info info;
                        if (shield_x509_info(e->data, e->size, &info) == 0) {
                                char sha1[41];
                                shield_hex_encode(info.sha1, 20, sha1);
                                json_object_set_new(o, "subject", json_string(info.subject));
                                json_object_set_new(o, "issuer", json_string(info.issuer));
                                json_object_set_new(o, "sha1", json_string(sha1));
                                if (shown++ < 3)
                                        say(d, "%s%s", shown == 1 ? " (" : "; ", info.subject);
                        } else {
                                json_object_set_new(o, "error", json_string("not a parsable X.509 certificate"));
                        }
                } else {
                        char *hex = malloc(2 * e->size + 1);
                        if (hex) {
                                shield_hex_encode(e->data, e->size, hex);
                                json_object_set_new(o, "data", json_string(hex));
                                free(hex);
                        }
                }
                json_array_append_new(entries, o);
        }
        if (shown)
                say(d, "%s)", shown < x509 ? "; ..." : "");
        if (other)
                say(d, ", %zu other", other);
        json_object_set_new(d->j, "signature_lists", json_integer((json_int_t)list.n_lists));
        json_object_set_new(d->j, "entries", entries);
        shield_siglist_clear(&list);
}

/* EV_EFI_VARIABLE_AUTHORITY data: one EFI_SIGNATURE_DATA (owner GUID + certificate), usually. */
static void decode_authority(struct decoded *d, const char *name, const uint8_t *p, size_t n) {
        struct shield_x509_info info;

        if (n > 16 && shield_x509_info(p + 16, n - 16, &info) == 0) {
                shield_guid owner;
                char sha1[41];
                memcpy(owner.b, p, 16);
                guid_field(d->j, "owner", &owner);
                shield_hex_encode(info.sha1, 20, sha1);
                json_object_set_new(d->j, "subject", json_string(info.subject));
                json_object_set_new(d->j, "issuer", json_string(info.issuer));
                json_object_set_new(d->j, "sha1", json_string(sha1));
                say(d, "%s authority: %s", name, info.subject);
                return;
        }
        if (n > 0 && shield_x509_info(p, n, &info) == 0) {
                json_object_set_new(d->j, "subject", json_string(info.subject));
                say(d, "%s authority: %s", name, info.subject);
                return;
        }
        say(d, "%s authority (%zu bytes, not a certificate)", name, n);
}

static void decode_load_option(struct decoded *d, const char *name, const uint8_t *p, size_t n) {
        struct shield_load_option opt;
        struct shield_diag diag = { 0 };

        if (shield_load_option_parse(p, n, &opt, &diag) < 0) {
                malformed(d, "EFI_LOAD_OPTION", diag.offset, "%s", diag.msg);
                return;
        }
        json_object_set_new(d->j, "attributes", json_integer(opt.attributes));
        json_object_set_new(d->j, "description", json_string(opt.description));
        json_object_set_new(d->j, "device_path", json_string(opt.device_path));
        json_object_set_new(d->j, "optional_data_size", json_integer((json_int_t)opt.optional_size));
        say(d, "%s \"%s\" %s%s", name, opt.description, opt.device_path, opt.attributes & 1 ? "" : " (inactive)");
        shield_load_option_clear(&opt);
}

static bool is_boot_option_name(const char *name) {
        /* Boot#### / Driver#### / SysPrep#### with four hex digits. */
        const char *prefixes[] = { "Boot", "Driver", "SysPrep", "PlatformRecovery" };
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
                size_t k = strlen(prefixes[i]);
                if (strncmp(name, prefixes[i], k) == 0 && strlen(name) == k + 4 &&
                    strspn(name + k, "0123456789abcdefABCDEF") == 4)
                        return true;
        }
        return false;
}

int decode_variable(const struct shield_event *ev, struct decoded_variable *ret) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint64_t name_len, data_len;
        const uint8_t *name = NULL;

        if (rd_copy(&r, ret->guid.b, 16) < 0 || rd_le64(&r, &name_len) < 0 || rd_le64(&r, &data_len) < 0)
                return shield_diag_fail(&ret->diag, SHIELD_E_TRUNCATED, r.off, (long)ev->index,
                                        "%u bytes, too few for a UEFI_VARIABLE_DATA header (32)", ev->data_size);
        if (name_len > rd_left(&r) / 2)
                return shield_diag_fail(&ret->diag, SHIELD_E_FORMAT, 16, (long)ev->index,
                                        "UnicodeNameLength %llu exceeds the data", (unsigned long long)name_len);
        (void)rd_bytes(&r, (size_t)name_len * 2, &name);
        if (data_len > rd_left(&r))
                return shield_diag_fail(&ret->diag, SHIELD_E_FORMAT, 24, (long)ev->index,
                                        "VariableDataLength %llu exceeds the %zu bytes left",
                                        (unsigned long long)data_len, rd_left(&r));
        if (shield_utf16le_to_utf8(name, (size_t)name_len * 2, &ret->name) < 0)
                return SHIELD_E_NOMEM;
        (void)rd_bytes(&r, (size_t)data_len, &ret->data);
        ret->data_size = (size_t)data_len;
        return 0;
}

static bool is_db_name(const char *name) {
        static const char *dbs[] = { "PK", "KEK", "db", "dbx", "dbt", "dbr", "MokList", "MokListX", "MokListRT",
                                     "MokListXRT", "MokListTrusted", "vendor_db", "vendor_dbx", "PKDefault",
                                     "KEKDefault", "dbDefault", "dbxDefault" };
        for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
                if (strcmp(name, dbs[i]) == 0)
                        return true;
        return false;
}

static void decode_uefi_variable(struct decoded *d, const struct shield_event *ev) {
        struct decoded_variable v = { 0 };
        char gb[SHIELD_GUID_STRING_SIZE];

        if (decode_variable(ev, &v) < 0) {
                malformed(d, "UEFI_VARIABLE_DATA", v.diag.offset, "%s", v.diag.msg);
                return;
        }
        guid_field(d->j, "variable_guid", &v.guid);
        if (shield_guid_name(&v.guid))
                json_object_set_new(d->j, "variable_guid_name", json_string(shield_guid_name(&v.guid)));
        json_object_set_new(d->j, "name", json_string(v.name));
        json_object_set_new(d->j, "data_size", json_integer((json_int_t)v.data_size));
        (void)gb;

        if (ev->type == EV_EFI_VARIABLE_AUTHORITY) {
                decode_authority(d, v.name, v.data, v.data_size);
        } else if (is_db_name(v.name)) {
                decode_siglist(d, v.name, v.data, v.data_size);
        } else if (v.data_size == 1 && (strcmp(v.name, "SecureBoot") == 0 || strcmp(v.name, "SetupMode") == 0 ||
                                        strcmp(v.name, "AuditMode") == 0 || strcmp(v.name, "DeployedMode") == 0)) {
                json_object_set_new(d->j, "value", json_integer(v.data[0]));
                say(d, "%s = %u", v.name, v.data[0]);
        } else if (strcmp(v.name, "BootOrder") == 0 && v.data_size % 2 == 0) {
                json_t *order = json_array();
                say(d, "BootOrder =");
                for (size_t i = 0; i < v.data_size; i += 2) {
                        unsigned n = v.data[i] | v.data[i + 1] << 8;
                        json_array_append_new(order, json_sprintf("Boot%04X", n));
                        say(d, "%s%04X", i ? "," : " ", n);
                }
                json_object_set_new(d->j, "boot_order", order);
        } else if (is_boot_option_name(v.name)) {
                decode_load_option(d, v.name, v.data, v.data_size);
        } else if (printable(v.data, v.data_size)) {
                size_t n = strip_nuls(v.data, v.data_size);
                json_object_set_new(d->j, "text", json_stringn((const char *)v.data, n));
                say(d, "%s = \"%.*s\"", v.name, (int)(n > 80 ? 80 : n), (const char *)v.data);
        } else {
                hex_field(d, "data", v.data, v.data_size);
                say(d, "%s (%zu bytes)", v.name, v.data_size);
        }
        free(v.name);
}

static void decode_image_load(struct decoded *d, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint64_t location, length, link, path_len;
        char *path = NULL;
        struct shield_diag diag = { 0 };

        if (rd_le64(&r, &location) || rd_le64(&r, &length) || rd_le64(&r, &link) || rd_le64(&r, &path_len)) {
                malformed(d, "UEFI_IMAGE_LOAD_EVENT", r.off, "%u bytes, too few for its header (32)", ev->data_size);
                return;
        }
        if (path_len > rd_left(&r)) {
                malformed(d, "UEFI_IMAGE_LOAD_EVENT", 24, "LengthOfDevicePath %llu exceeds the %zu bytes left",
                          (unsigned long long)path_len, rd_left(&r));
                return;
        }
        json_object_set_new(d->j, "image_location", json_integer((json_int_t)location));
        json_object_set_new(d->j, "image_length", json_integer((json_int_t)length));
        json_object_set_new(d->j, "link_time_address", json_integer((json_int_t)link));
        if (shield_devpath_to_text(rd_cur(&r), (size_t)path_len, &path, &diag) < 0) {
                malformed(d, "device path", 32 + diag.offset, "%s", diag.msg);
                return;
        }
        json_object_set_new(d->j, "device_path", json_string(path));
        if (length >= 1024 * 1024)
                say(d, "%s (%.1f MB)", *path ? path : "(no device path)", (double)length / (1024 * 1024));
        else
                say(d, "%s (%llu bytes)", *path ? path : "(no device path)", (unsigned long long)length);
        free(path);
}

static void decode_gpt(struct decoded *d, const struct shield_event *ev) {
        /* UEFI_GPT_DATA: EFI_PARTITION_TABLE_HEADER (UEFI 2.10, 5.3.2), NumberOfPartitions, entries. */
        struct rd r = rd_init(ev->data, ev->data_size), hdr;
        uint32_t header_size = 0, entry_size = 0;
        uint64_t count;
        shield_guid disk;
        json_t *parts = json_array();

        if (rd_sub(&r, 92, &hdr) < 0) {
                json_decref(parts);
                malformed(d, "UEFI_GPT_DATA", 0, "%u bytes, too few for a partition table header", ev->data_size);
                return;
        }
        if (memcmp(rd_cur(&hdr), "EFI PART", 8) != 0)
                json_object_set_new(d->j, "warning", json_string("partition table header signature is not \"EFI PART\""));
        (void)rd_skip(&hdr, 12);
        (void)rd_le32(&hdr, &header_size);
        (void)rd_skip(&hdr, 56 - 16);
        (void)rd_copy(&hdr, disk.b, 16);
        (void)rd_skip(&hdr, 12);
        (void)rd_le32(&hdr, &entry_size);
        if (rd_le64(&r, &count) < 0) {
                json_decref(parts);
                malformed(d, "UEFI_GPT_DATA", r.off, "no NumberOfPartitions");
                return;
        }
        if (entry_size < 128 || count > rd_left(&r) / entry_size) {
                json_decref(parts);
                malformed(d, "UEFI_GPT_DATA", r.off, "%llu partitions of %u bytes do not fit the %zu bytes left",
                          (unsigned long long)count, entry_size, rd_left(&r));
                return;
        }
        guid_field(d->j, "disk_guid", &disk);
        char gs[SHIELD_GUID_STRING_SIZE];
        shield_guid_format(&disk, gs);
        say(d, "GPT disk %s, %llu partition%s", gs, (unsigned long long)count, count == 1 ? "" : "s");
        for (uint64_t i = 0; i < count; i++) {
                struct rd e = { 0 };
                shield_guid type = { 0 }, unique = { 0 };
                uint64_t first = 0, last = 0, attrs = 0;
                char *name = NULL;

                (void)rd_sub(&r, entry_size, &e);
                (void)rd_copy(&e, type.b, 16);
                (void)rd_copy(&e, unique.b, 16);
                (void)rd_le64(&e, &first);
                (void)rd_le64(&e, &last);
                (void)rd_le64(&e, &attrs);
                if (shield_utf16le_to_utf8(rd_cur(&e), 72, &name) < 0)
                        name = NULL;
                json_t *o = json_object();
                guid_field(o, "type", &type);
                guid_field(o, "guid", &unique);
                json_object_set_new(o, "first_lba", json_integer((json_int_t)first));
                json_object_set_new(o, "last_lba", json_integer((json_int_t)last));
                json_object_set_new(o, "attributes", json_integer((json_int_t)attrs));
                json_object_set_new(o, "name", json_string(name ? name : ""));
                json_array_append_new(parts, o);
                if (i < 4)
                        say(d, "%s \"%s\"", i ? "," : ":", name ? name : "");
                free(name);
        }
        json_object_set_new(d->j, "partitions", parts);
}

static void decode_blob(struct decoded *d, const struct shield_event *ev, bool with_description) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint8_t desc_len = 0;
        const uint8_t *desc = NULL;
        uint64_t base, length;

        if (with_description && (rd_u8(&r, &desc_len) < 0 || rd_bytes(&r, desc_len, &desc) < 0)) {
                malformed(d, "UEFI_PLATFORM_FIRMWARE_BLOB2", r.off, "description runs past the data");
                return;
        }
        if (rd_le64(&r, &base) < 0 || rd_le64(&r, &length) < 0) {
                malformed(d, "UEFI_PLATFORM_FIRMWARE_BLOB", r.off, "%u bytes, too few for base and length",
                          ev->data_size);
                return;
        }
        json_object_set_new(d->j, "base", json_integer((json_int_t)base));
        json_object_set_new(d->j, "length", json_integer((json_int_t)length));
        if (desc) {
                json_object_set_new(d->j, "description", json_stringn((const char *)desc, strip_nuls(desc, desc_len)));
                say(d, "\"%.*s\" ", (int)strip_nuls(desc, desc_len), (const char *)desc);
        }
        say(d, "firmware blob at 0x%llx, %llu bytes", (unsigned long long)base, (unsigned long long)length);
}

static void decode_handoff(struct decoded *d, const struct shield_event *ev, bool with_description) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint8_t desc_len = 0;
        const uint8_t *desc = NULL;
        uint64_t count;
        json_t *tables = json_array();

        if ((with_description && (rd_u8(&r, &desc_len) < 0 || rd_bytes(&r, desc_len, &desc) < 0)) ||
            rd_le64(&r, &count) < 0 || count > rd_left(&r) / 24) {
                json_decref(tables);
                malformed(d, "UEFI_HANDOFF_TABLE_POINTERS", r.off, "table count does not fit the data");
                return;
        }
        if (desc)
                say(d, "\"%.*s\" ", (int)strip_nuls(desc, desc_len), (const char *)desc);
        say(d, "%llu configuration table%s", (unsigned long long)count, count == 1 ? "" : "s");
        for (uint64_t i = 0; i < count; i++) {
                shield_guid g;
                uint64_t ptr = 0;
                char gb[SHIELD_GUID_STRING_SIZE];
                (void)rd_copy(&r, g.b, 16);
                (void)rd_le64(&r, &ptr);
                json_array_append_new(tables, json_pack("{s:s, s:I}", "guid", guid_text(&g, gb), "address",
                                                        (json_int_t)ptr));
        }
        json_object_set_new(d->j, "tables", tables);
}

static void decode_string_field(struct rd *r, json_t *o, const char *key, bool *ok) {
        uint8_t n;
        const uint8_t *p;
        if (!*ok || rd_u8(r, &n) < 0 || rd_bytes(r, n, &p) < 0) {
                *ok = false;
                return;
        }
        json_object_set_new(o, key, json_stringn((const char *)p, strip_nuls(p, n)));
}

/* PFP 1.05, 10.4.5.2: the SP 800-155 reference-manifest event. */
static void decode_sp800_155(struct decoded *d, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint32_t vendor = 0, fw_vendor = 0;
        shield_guid manifest;
        bool ok = rd_skip(&r, 16) == 0 && rd_le32(&r, &vendor) == 0 && rd_copy(&r, manifest.b, 16) == 0;

        decode_string_field(&r, d->j, "platform_manufacturer", &ok);
        decode_string_field(&r, d->j, "platform_model", &ok);
        decode_string_field(&r, d->j, "platform_version", &ok);
        decode_string_field(&r, d->j, "firmware_manufacturer", &ok);
        ok = ok && rd_le32(&r, &fw_vendor) == 0;
        decode_string_field(&r, d->j, "firmware_version", &ok);
        if (!ok) {
                malformed(d, "SP 800-155 event", r.off, "the reference manifest fields run past the data");
                return;
        }
        json_object_set_new(d->j, "platform_manufacturer_id", json_integer(vendor));
        json_object_set_new(d->j, "firmware_manufacturer_id", json_integer(fw_vendor));
        guid_field(d->j, "reference_manifest_guid", &manifest);
        say(d, "SP 800-155 reference manifest: %s %s %s, firmware %s",
            json_string_value(json_object_get(d->j, "platform_manufacturer")),
            json_string_value(json_object_get(d->j, "platform_model")),
            json_string_value(json_object_get(d->j, "platform_version")),
            json_string_value(json_object_get(d->j, "firmware_version")));
}

static void decode_no_action(struct decoded *d, const struct shield_eventlog *log, const struct shield_event *ev) {
        const uint8_t *p = ev->data;
        size_t n = ev->data_size;
        size_t sig_len = n < 16 ? n : 16;
        size_t text = strnlen((const char *)p, sig_len);

        if (n >= 16 && memcmp(p, "Spec ID Event03", 16) == 0 && ev->index == 0 && log->has_specid) {
                json_object_set_new(d->j, "signature", json_string("Spec ID Event03"));
                say(d, "Spec ID Event03, spec %u.%u, banks", log->specid.version_major, log->specid.version_minor);
                for (unsigned i = 0; i < log->specid.n_algs; i++) {
                        const char *name = shield_hash_name(log->specid.algs[i].alg);
                        if (name)
                                say(d, "%s%s", i ? "," : " ", name);
                        else
                                say(d, "%s0x%04x", i ? "," : " ", log->specid.algs[i].alg);
                }
                return;
        }
        if (n == 17 && memcmp(p, "StartupLocality", 16) == 0) {
                json_object_set_new(d->j, "signature", json_string("StartupLocality"));
                json_object_set_new(d->j, "locality", json_integer(p[16]));
                say(d, "StartupLocality %u", p[16]);
                return;
        }
        if (n >= 16 && memcmp(p, "SP800-155 Event", 16) == 0) {
                json_object_set_new(d->j, "signature", json_string("SP800-155 Event"));
                decode_sp800_155(d, ev);
                return;
        }
        if (text && printable(p, text)) {
                json_object_set_new(d->j, "signature", json_stringn((const char *)p, text));
                say(d, "%.*s (%zu bytes)", (int)text, (const char *)p, n);
                return;
        }
        say(d, "%zu bytes", n);
}

static void decode_text_or_blob(struct decoded *d, const struct shield_event *ev) {
        char *s = ascii_or_utf16(ev->data, ev->data_size);

        if (s) {
                json_object_set_new(d->j, "text", json_string(s));
                say(d, "\"%s\"", s);
                free(s);
        } else if (ev->data_size) {
                hex_field(d, "data", ev->data, ev->data_size);
                say(d, "%u bytes", ev->data_size);
        }
}

static void decode_separator(struct decoded *d, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint32_t v;

        if (ev->data_size != 4 || rd_le32(&r, &v) < 0) {
                say(d, "separator with %u bytes of data (4 expected)", ev->data_size);
                return;
        }
        json_object_set_new(d->j, "value", json_integer(v));
        /* PFP 1.05, 10.4.1: 0 normally; 1 (or all ones, as some firmware writes) reports an error. */
        say(d, v == 0 ? "separator" : v == 1 || v == 0xffffffffu ? "separator: ERROR value 0x%08x" : "separator 0x%08x",
            v);
}

static void decode_post_code(struct decoded *d, const struct shield_event *ev) {
        /* A string ("POST CODE", 9 bytes on Lenovo) or a UEFI_PLATFORM_FIRMWARE_BLOB (16 bytes). */
        if (ev->data_size == 16 && !printable(ev->data, ev->data_size))
                decode_blob(d, ev, false);
        else
                decode_text_or_blob(d, ev);
}

static void decode_event(struct decoded *d, const struct shield_eventlog *log, const struct shield_event *ev) {
        switch (ev->type) {
        case EV_EFI_VARIABLE_DRIVER_CONFIG:
        case EV_EFI_VARIABLE_BOOT:
        case EV_EFI_VARIABLE_BOOT2:
        case EV_EFI_VARIABLE_AUTHORITY:
                decode_uefi_variable(d, ev);
                break;
        case EV_EFI_BOOT_SERVICES_APPLICATION:
        case EV_EFI_BOOT_SERVICES_DRIVER:
        case EV_EFI_RUNTIME_SERVICES_DRIVER:
                decode_image_load(d, ev);
                break;
        case EV_EFI_GPT_EVENT:
        case EV_EFI_GPT_EVENT2:
                decode_gpt(d, ev);
                break;
        case EV_EFI_PLATFORM_FIRMWARE_BLOB:
                decode_blob(d, ev, false);
                break;
        case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
                decode_blob(d, ev, true);
                break;
        case EV_EFI_HANDOFF_TABLES:
                decode_handoff(d, ev, false);
                break;
        case EV_EFI_HANDOFF_TABLES2:
                decode_handoff(d, ev, true);
                break;
        case EV_SEPARATOR:
                decode_separator(d, ev);
                break;
        case EV_NO_ACTION:
                decode_no_action(d, log, ev);
                break;
        case EV_POST_CODE:
                decode_post_code(d, ev);
                break;
        case EV_EVENT_TAG: {
                struct rd r = rd_init(ev->data, ev->data_size);
                uint32_t id, size;
                if (rd_le32(&r, &id) == 0 && rd_le32(&r, &size) == 0 && size <= rd_left(&r)) {
                        json_object_set_new(d->j, "tagged_event_id", json_integer(id));
                        json_object_set_new(d->j, "tagged_data_size", json_integer(size));
                        say(d, "tagged event 0x%x, %u bytes", id, size);
                } else {
                        decode_text_or_blob(d, ev);
                }
                break;
        }
        case EV_COMPACT_HASH:
        case EV_S_CRTM_CONTENTS:
        case EV_CPU_MICROCODE:
        case EV_TABLE_OF_DEVICES:
        case EV_PLATFORM_CONFIG_FLAGS:
        case EV_NONHOST_CODE:
        case EV_NONHOST_CONFIG:
        case EV_NONHOST_INFO:
        case EV_EFI_SPDM_FIRMWARE_BLOB:
        case EV_EFI_SPDM_FIRMWARE_CONFIG:
        case EV_EFI_SPDM_DEVICE_POLICY:
        case EV_EFI_SPDM_DEVICE_AUTHORITY:
        default:
                /* Strings (actions, IPL commands, S-CRTM versions, H-CRTM) or opaque data. */
                decode_text_or_blob(d, ev);
                break;
        }
}

int shield_event_summary(const struct shield_eventlog *log, const struct shield_event *ev, char **ret) {
        struct decoded d = { .j = json_object() };

        if (!log || !ev || !ret)
                return SHIELD_E_INVAL;
        if (!d.j)
                return SHIELD_E_NOMEM;
        decode_event(&d, log, ev);
        json_decref(d.j);
        *ret = strdup(d.summary);
        return *ret ? 0 : SHIELD_E_NOMEM;
}

int shield_event_decode_json(const struct shield_eventlog *log, const struct shield_event *ev, json_t **ret) {
        struct decoded d = { .j = json_object() };

        if (!log || !ev || !ret)
                return SHIELD_E_INVAL;
        if (!d.j)
                return SHIELD_E_NOMEM;
        decode_event(&d, log, ev);
        *ret = d.j;
        return 0;
}
