/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding event data for people (a one-line summary) and for scripts (a
 * JSON object). Layouts are from the TCG PC Client PFP 1.05 section 10.4
 * (1.06 for the SP 800-155 Event2/Event3, NvIndex and SPDM records) and
 * UEFI 2.10. Every decoder reads through lib/util/rd.h and, on data that
 * does not fit its layout, says what is wrong instead of failing: the
 * summary names the structure, the offset and the problem, and the JSON
 * carries the same text in "error".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode-internal.h"
#include "eventlog-internal.h"
#include "shield/eventlog-json.h"
#include "shield/uefi.h"
#include "shield/util.h"
#include "util/rd.h"

/* Long enough for a device path with a file name; one terminal line or two. */
#define SUMMARY_MAX 320
/* Strings in summaries (grub commands, SBAT, descriptions) are cut here. */
#define SUMMARY_TEXT_MAX 160
/* Certificates named in a database's summary; the JSON lists them all. */
#define SUMMARY_CERTS_MAX 3
/* GPT partitions named in the summary. */
#define SUMMARY_PARTITIONS_MAX 4

/* Linux EFI stub tags (drivers/firmware/efi/libstub/efistub.h). */
#define TAG_LINUX_INITRD 0x8F3B22ECu
#define TAG_LINUX_LOAD_OPTIONS 0x8F3B22EDu

/* TCG locator types of the SP 800-155 Event3 (PFP 1.06, 10.4.5.3). */
static const char *const locator_types[] = { "raw", "uri", "device-path", "uefi-variable" };

struct decoded {
        json_t *j;
        char summary[SUMMARY_MAX];
        size_t used;
        bool cut;
};

static size_t utf8_sequence(const uint8_t *p, size_t n);

/*
 * Append to the summary with control characters and invalid UTF-8
 * escaped: the summary is one line of valid text whatever the event holds
 * (grub menu entries carry newlines, a forged log may carry terminal
 * escapes). A multi-byte character is copied whole or not at all.
 */
static void append_escaped(struct decoded *d, const char *s, size_t n) {
        const size_t cap = sizeof d->summary - 1;
        const uint8_t *u = (const uint8_t *)s;

        for (size_t i = 0; i < n && !d->cut;) {
                uint8_t c = u[i];
                char esc[5];
                const char *out = esc;
                size_t k, step = 1;

                if (c == '\n')
                        k = (size_t)snprintf(esc, sizeof esc, "\\n");
                else if (c == '\t')
                        k = (size_t)snprintf(esc, sizeof esc, "\\t");
                else if (c == '\r')
                        k = (size_t)snprintf(esc, sizeof esc, "\\r");
                else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8_sequence(u + i, n - i)))
                        k = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
                else
                        out = s + i, k = step = utf8_sequence(u + i, n - i);
                /* Keep room for "..." so nobody mistakes a cut summary for the whole value. */
                if (k > cap - 3 - d->used) {
                        memcpy(d->summary + d->used, "...", 3);
                        d->used += 3;
                        d->cut = true;
                        break;
                }
                memcpy(d->summary + d->used, out, k);
                d->used += k;
                i += step;
        }
        d->summary[d->used] = 0;
}

static void say(struct decoded *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct decoded *d, const char *fmt, ...) {
        char tmp[1024];
        va_list ap;

        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        append_escaped(d, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A quoted string, cut at SUMMARY_TEXT_MAX bytes. */
static void say_quoted(struct decoded *d, const char *s, size_t n) {
        size_t show = n;

        if (show > SUMMARY_TEXT_MAX) {
                /* Cut on a character boundary. */
                show = SUMMARY_TEXT_MAX;
                while (show && ((uint8_t)s[show] & 0xc0) == 0x80)
                        show--;
        }
        say(d, "\"");
        append_escaped(d, s, show);
        say(d, show < n ? "...\"" : "\"");
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

static size_t strip_nuls(const uint8_t *p, size_t n) {
        while (n && p[n - 1] == 0)
                n--;
        return n;
}

/* The length of the UTF-8 sequence starting at p (at most n bytes), or 0 when it is not valid UTF-8. */
static size_t utf8_sequence(const uint8_t *p, size_t n) {
        size_t len;
        uint32_t min, cp;

        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xe0) == 0xc0)
                len = 2, min = 0x80, cp = p[0] & 0x1f;
        else if ((p[0] & 0xf0) == 0xe0)
                len = 3, min = 0x800, cp = p[0] & 0x0f;
        else if ((p[0] & 0xf8) == 0xf0)
                len = 4, min = 0x10000, cp = p[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        /* No overlong forms, surrogates or code points past U+10FFFF (RFC 3629). */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/*
 * Text once trailing NULs are dropped: printable ASCII, tabs and line
 * breaks, and valid UTF-8 (grub logs commands with non-ASCII menu titles);
 * false when empty.
 */
static bool printable(const uint8_t *p, size_t n) {
        n = strip_nuls(p, n);
        if (!n)
                return false;
        for (size_t i = 0; i < n;) {
                if (p[i] >= 0x80) {
                        size_t k = utf8_sequence(p + i, n - i);
                        if (!k)
                                return false;
                        i += k;
                        continue;
                }
                if ((p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
                        return false;
                i++;
        }
        return true;
}

/*
 * UTF-16LE text: an even number of bytes, trailing NUL units dropped, no
 * control characters, and mostly ASCII. Arbitrary binary data (a GUID, a
 * hash) converts to "valid" UTF-16 too, so this refuses anything that
 * does not look like text a firmware or boot loader would write.
 */
static char *utf16_text(const uint8_t *p, size_t n) {
        struct rd r = rd_init(p, n);
        size_t units = 0, end = 0, ascii = 0;
        uint16_t u;
        char *s = NULL;

        if (n < 2 || n % 2)
                return NULL;
        while (rd_le16(&r, &u) == 0) {
                units++;
                if (u)
                        end = units;
                if (u && u < 0x20 && u != '\n' && u != '\t' && u != '\r')
                        return NULL;
                if (u == 0x7f || u == 0xfffe || u == 0xffff)
                        return NULL;
                ascii += u < 0x7f;
        }
        if (!end || ascii * 4 < units * 3)
                return NULL;
        /* NULs inside the text (not just trailing) mean it is not one string. */
        r = rd_init(p, end * 2);
        while (rd_le16(&r, &u) == 0)
                if (!u)
                        return NULL;
        if (shield_utf16le_to_utf8(p, end * 2, &s) < 0)
                return NULL;
        return s;
}

/* Text that is either ASCII or UTF-16LE (S-CRTM versions, EV_IPL from systemd come both ways). */
static char *ascii_or_utf16(const uint8_t *p, size_t n) {
        if (printable(p, n))
                return strndup((const char *)p, strip_nuls(p, n));
        return utf16_text(p, n);
}

static void hex_field(json_t *o, const char *key, const uint8_t *p, size_t n) {
        char *hex = malloc(2 * n + 1);
        if (!hex)
                return;
        shield_hex_encode(p, n, hex);
        json_object_set_new(o, key, json_string(hex));
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

/*
 * The part of a subject people recognise: its CN ("Microsoft Corporation
 * UEFI CA 2011"), else the whole subject. The JSON keeps the full DN.
 */
static void common_name(const char *subject, char *out, size_t size) {
        const char *cn = NULL;

        for (const char *p = subject; *p; p++)
                if ((p == subject || (p[-1] == ',' && (p - 1 == subject || p[-2] != '\\'))) && strncmp(p, "CN=", 3) == 0) {
                        cn = p + 3;
                        break;
                }
        if (!cn) {
                snprintf(out, size, "%s", subject);
                return;
        }
        size_t n = 0;
        while (cn[n] && !(cn[n] == ',' && (n == 0 || cn[n - 1] != '\\')))
                n++;
        snprintf(out, size, "%.*s", (int)n, cn);
}

static void cert_fields(json_t *o, const struct shield_x509_info *info) {
        char sha1[41];
        shield_hex_encode(info->sha1, 20, sha1);
        json_object_set_new(o, "subject", json_string(info->subject));
        json_object_set_new(o, "issuer", json_string(info->issuer));
        json_object_set_new(o, "sha1", json_string(sha1));
        json_object_set_new(o, "not_after", json_string(info->not_after));
}

static const char *hash_kind(const shield_guid *type) {
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_SHA256))
                return "sha256";
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_SHA1))
                return "sha1";
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_SHA384))
                return "sha384";
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_SHA512))
                return "sha512";
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_X509_SHA256))
                return "x509-sha256";
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_X509_SHA384))
                return "x509-sha384";
        if (shield_guid_eq(type, &SHIELD_GUID_CERT_X509_SHA512))
                return "x509-sha512";
        return NULL;
}

/* A signature-list database: every entry, certificates with their names. */
static void decode_siglist(struct decoded *d, const char *name, const uint8_t *p, size_t n) {
        struct shield_siglist list;
        struct shield_diag diag = { 0 };
        json_t *entries, *hash_counts;
        size_t x509 = 0, hashes = 0, other = 0, shown = 0;

        if (shield_siglist_parse(p, n, &list, &diag) < 0) {
                malformed(d, "EFI_SIGNATURE_LIST", diag.offset, "%s", diag.msg);
                return;
        }
        entries = json_array();
        hash_counts = json_object();
        shield_siglist_counts(&list, &x509, &hashes, &other);
        say(d, "%s: %zu certificate%s, %zu hash%s", name, x509, x509 == 1 ? "" : "s", hashes,
            hashes == 1 ? "" : "es");
        for (size_t i = 0; i < list.n; i++) {
                const struct shield_siglist_entry *e = &list.entries[i];
                json_t *o = json_object();
                char gb[SHIELD_GUID_STRING_SIZE];
                const char *kind = hash_kind(&e->type);

                json_object_set_new(o, "type", json_string(guid_text(&e->type, gb)));
                json_object_set_new(o, "owner", json_string(guid_text(&e->owner, gb)));
                if (shield_guid_eq(&e->type, &SHIELD_GUID_CERT_X509)) {
                        struct shield_x509_info info;
                        if (shield_x509_info(e->data, e->size, &info) == 0) {
                                char cn[128];
                                cert_fields(o, &info);
                                common_name(info.subject, cn, sizeof cn);
                                if (shown++ < SUMMARY_CERTS_MAX)
                                        say(d, "%s%s", shown == 1 ? " (" : "; ", cn);
                        } else {
                                json_object_set_new(o, "error", json_string("not a parsable X.509 certificate"));
                        }
                } else {
                        hex_field(o, "data", e->data, e->size);
                        if (kind) {
                                json_t *c = json_object_get(hash_counts, kind);
                                json_object_set_new(hash_counts, kind,
                                                    json_integer(c ? json_integer_value(c) + 1 : 1));
                        }
                }
                json_array_append_new(entries, o);
        }
        if (shown)
                say(d, "%s)", shown > SUMMARY_CERTS_MAX ? "; ..." : "");
        if (json_object_size(hash_counts)) {
                const char *key;
                json_t *value;
                bool first = true;
                say(d, " [");
                json_object_foreach(hash_counts, key, value) {
                        say(d, "%s%s", first ? "" : ", ", key);
                        first = false;
                }
                say(d, "]");
        }
        if (other)
                say(d, ", %zu other", other);
        json_object_set_new(d->j, "signature_lists", json_integer((json_int_t)list.n_lists));
        json_object_set_new(d->j, "x509_count", json_integer((json_int_t)x509));
        json_object_set_new(d->j, "hash_count", json_integer((json_int_t)hashes));
        json_object_set_new(d->j, "hash_algorithms", hash_counts);
        json_object_set_new(d->j, "entries", entries);
        shield_siglist_clear(&list);
}

/*
 * EV_EFI_VARIABLE_AUTHORITY data (PFP 1.05, 3.3.4.8): usually one
 * EFI_SIGNATURE_DATA (owner GUID + DER certificate); some firmware logs
 * the bare certificate. Shim also logs its own variables this way
 * (SbatLevel as text, MokListTrusted as one byte).
 */
static void decode_authority(struct decoded *d, const char *name, const uint8_t *p, size_t n) {
        struct shield_x509_info info;
        char cn[128];

        if (n > 16 && shield_x509_info(p + 16, n - 16, &info) == 0) {
                shield_guid owner;
                memcpy(owner.b, p, 16);
                guid_field(d->j, "owner", &owner);
                cert_fields(d->j, &info);
                common_name(info.subject, cn, sizeof cn);
                say(d, "%s authority: %s", name, cn);
                return;
        }
        if (n > 0 && shield_x509_info(p, n, &info) == 0) {
                cert_fields(d->j, &info);
                common_name(info.subject, cn, sizeof cn);
                say(d, "%s authority: %s", name, cn);
                return;
        }
        if (printable(p, n)) {
                size_t len = strip_nuls(p, n);
                json_object_set_new(d->j, "text", json_stringn((const char *)p, len));
                say(d, "%s = ", name);
                say_quoted(d, (const char *)p, len);
                return;
        }
        if (n == 1) {
                json_object_set_new(d->j, "value", json_integer(p[0]));
                say(d, "%s = %u", name, p[0]);
                return;
        }
        hex_field(d->j, "data", p, n);
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
        json_object_set_new(d->j, "active", json_boolean(opt.attributes & 1));
        json_object_set_new(d->j, "description", json_string(opt.description));
        json_object_set_new(d->j, "device_path", json_string(opt.device_path));
        json_object_set_new(d->j, "optional_data_size", json_integer((json_int_t)opt.optional_size));
        /* UEFI 2.10, 3.1.3: LOAD_OPTION_ACTIVE is bit 0. */
        say(d, "%s \"%s\" %s%s", name, opt.description, opt.device_path, opt.attributes & 1 ? "" : " (inactive)");
        shield_load_option_clear(&opt);
}

/* Boot#### / Driver#### / SysPrep#### / PlatformRecovery#### with four hex digits (UEFI 2.10, 3.1). */
static bool is_load_option_name(const char *name) {
        static const char *const prefixes[] = { "Boot", "Driver", "SysPrep", "PlatformRecovery" };
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
                size_t k = strlen(prefixes[i]);
                if (strncmp(name, prefixes[i], k) == 0 && strlen(name) == k + 4 &&
                    strspn(name + k, "0123456789abcdefABCDEF") == 4)
                        return true;
        }
        return false;
}

int decode_variable(const struct shield_event *ev, struct decoded_variable *ret) {
        struct rd r = rd_init_sticky(ev->data, ev->data_size);
        uint64_t name_len, data_len;
        const uint8_t *name = NULL, *data = NULL;

        /* PFP 1.05, 10.4.1 UEFI_VARIABLE_DATA: GUID, u64 name length (chars), u64 data length, name, data. */
        rd_copy(&r, ret->guid.b, 16);
        rd_le64(&r, &name_len);
        rd_le64(&r, &data_len);
        if (rd_ok(&r) < 0)
                return shield_diag_fail(&ret->diag, SHIELD_E_TRUNCATED, r.off, (long)ev->index,
                                        "%u bytes, too few for a UEFI_VARIABLE_DATA header (32)", ev->data_size);
        if (name_len > rd_left(&r) / 2)
                return shield_diag_fail(&ret->diag, SHIELD_E_FORMAT, 16, (long)ev->index,
                                        "name length %llu (UTF-16 characters) exceeds the %zu bytes left",
                                        (unsigned long long)name_len, rd_left(&r));
        rd_bytes(&r, (size_t)name_len * 2, &name);
        if (data_len > rd_left(&r))
                return shield_diag_fail(&ret->diag, SHIELD_E_FORMAT, 24, (long)ev->index,
                                        "data length %llu exceeds the %zu bytes left", (unsigned long long)data_len,
                                        rd_left(&r));
        rd_bytes(&r, (size_t)data_len, &data);
        if (rd_ok(&r) < 0) /* not reached: both lengths were checked against what is left */
                return shield_diag_fail(&ret->diag, SHIELD_E_TRUNCATED, r.off, (long)ev->index,
                                        "the variable name and data run past the %u bytes of data", ev->data_size);
        if (shield_utf16le_to_utf8(name, (size_t)name_len * 2, &ret->name) < 0)
                return shield_diag_fail(&ret->diag, SHIELD_E_FORMAT, 32, (long)ev->index,
                                        "the variable name is not UTF-16");
        ret->data = data;
        ret->data_size = (size_t)data_len;
        ret->trailing = rd_left(&r);
        return 0;
}

bool decode_is_siglist_variable(const char *name) {
        static const char *const dbs[] = { "PK",       "KEK",           "db",          "dbx",       "dbt",
                                           "dbr",      "MokList",       "MokListX",    "MokListRT", "MokListXRT",
                                           "vendor_db", "vendor_dbx",   "PKDefault",   "KEKDefault", "dbDefault",
                                           "dbxDefault", "dbtDefault",  "dbrDefault" };
        for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
                if (strcmp(name, dbs[i]) == 0)
                        return true;
        return false;
}

/* UEFI 2.10, 3.3: single-byte mode variables. */
static bool is_mode_variable(const char *name) {
        return strcmp(name, "SecureBoot") == 0 || strcmp(name, "SetupMode") == 0 || strcmp(name, "AuditMode") == 0 ||
               strcmp(name, "DeployedMode") == 0 || strcmp(name, "MokSBState") == 0 ||
               strcmp(name, "MokListTrusted") == 0 || strcmp(name, "VendorKeys") == 0;
}

static void decode_uefi_variable(struct decoded *d, const struct shield_event *ev) {
        struct decoded_variable v = { 0 };

        if (decode_variable(ev, &v) < 0) {
                malformed(d, "UEFI_VARIABLE_DATA", v.diag.offset, "%s", v.diag.msg);
                return;
        }
        guid_field(d->j, "variable_guid", &v.guid);
        if (shield_guid_name(&v.guid))
                json_object_set_new(d->j, "variable_guid_name", json_string(shield_guid_name(&v.guid)));
        json_object_set_new(d->j, "name", json_string(v.name));
        json_object_set_new(d->j, "data_size", json_integer((json_int_t)v.data_size));
        if (v.trailing)
                json_object_set_new(d->j, "trailing_bytes", json_integer((json_int_t)v.trailing));

        if (ev->type == EV_EFI_VARIABLE_AUTHORITY || ev->type == EV_EFI_SPDM_DEVICE_AUTHORITY) {
                decode_authority(d, v.name, v.data, v.data_size);
        } else if (decode_is_siglist_variable(v.name) || ev->type == EV_EFI_SPDM_DEVICE_POLICY) {
                decode_siglist(d, v.name, v.data, v.data_size);
        } else if (v.data_size == 0) {
                /* PFP 1.05, 3.3.4.8: a variable that does not exist is measured with no data. */
                say(d, "%s: empty (the variable is not set)", v.name);
        } else if (v.data_size == 1 && is_mode_variable(v.name)) {
                json_object_set_new(d->j, "value", json_integer(v.data[0]));
                say(d, "%s = %u", v.name, v.data[0]);
        } else if (strcmp(v.name, "BootOrder") == 0 || strcmp(v.name, "DriverOrder") == 0) {
                /* UEFI 2.10, 3.3: an array of UINT16 option numbers. */
                struct rd r = rd_init(v.data, v.data_size);
                json_t *order = json_array();
                const char *prefix = v.name[0] == 'B' ? "Boot" : "Driver";
                uint16_t num;
                size_t k = 0;

                say(d, "%s =", v.name);
                while (rd_le16(&r, &num) == 0) {
                        json_array_append_new(order, json_sprintf("%s%04X", prefix, num));
                        say(d, "%s%04X", k++ ? "," : " ", num);
                }
                json_object_set_new(d->j, "boot_order", order);
                if (v.data_size % 2) {
                        say(d, "; ");
                        malformed(d, v.name, v.data_size - 1, "an odd number of bytes (%zu)", v.data_size);
                }
        } else if ((strcmp(v.name, "BootNext") == 0 || strcmp(v.name, "BootCurrent") == 0 ||
                    strcmp(v.name, "Timeout") == 0) &&
                   v.data_size == 2) {
                unsigned num = v.data[0] | (unsigned)v.data[1] << 8;
                json_object_set_new(d->j, "value", json_integer(num));
                if (v.name[0] == 'B') {
                        json_object_set_new(d->j, "option", json_sprintf("Boot%04X", num));
                        say(d, "%s = Boot%04X", v.name, num);
                } else {
                        say(d, "%s = %u s", v.name, num);
                }
        } else if (is_load_option_name(v.name)) {
                decode_load_option(d, v.name, v.data, v.data_size);
        } else if (printable(v.data, v.data_size)) {
                /* SbatLevel and other text variables. */
                size_t n = strip_nuls(v.data, v.data_size);
                json_object_set_new(d->j, "text", json_stringn((const char *)v.data, n));
                say(d, "%s = ", v.name);
                say_quoted(d, (const char *)v.data, n);
        } else {
                hex_field(d->j, "data", v.data, v.data_size);
                if (v.data_size == 1)
                        say(d, "%s = %u", v.name, v.data[0]);
                else
                        say(d, "%s (%zu bytes)", v.name, v.data_size);
        }
        free(v.name);
}

static void say_size(struct decoded *d, uint64_t length) {
        if (length >= 1024 * 1024)
                say(d, "%.1f MB", (double)length / (1024 * 1024));
        else
                say(d, "%llu bytes", (unsigned long long)length);
}

static void decode_image_load(struct decoded *d, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint64_t location, length, link, path_len;
        char *path = NULL;
        struct shield_diag diag = { 0 };

        /* PFP 1.05, 10.2.4 UEFI_IMAGE_LOAD_EVENT: four u64, then the device path. */
        if (rd_le64(&r, &location) || rd_le64(&r, &length) || rd_le64(&r, &link) || rd_le64(&r, &path_len)) {
                malformed(d, "UEFI_IMAGE_LOAD_EVENT", r.off, "%u bytes, too few for its header (32)", ev->data_size);
                return;
        }
        json_object_set_new(d->j, "image_location", json_integer((json_int_t)location));
        json_object_set_new(d->j, "image_length", json_integer((json_int_t)length));
        json_object_set_new(d->j, "link_time_address", json_integer((json_int_t)link));
        if (path_len > rd_left(&r)) {
                malformed(d, "UEFI_IMAGE_LOAD_EVENT", 24, "device path length %llu exceeds the %zu bytes left",
                          (unsigned long long)path_len, rd_left(&r));
                return;
        }
        if (shield_devpath_to_text(rd_cur(&r), (size_t)path_len, &path, &diag) < 0) {
                malformed(d, "device path", 32 + diag.offset, "%s", diag.msg);
                return;
        }
        json_object_set_new(d->j, "device_path", json_string(path));
        say(d, "%s (", *path ? path : "(no device path)");
        say_size(d, length);
        say(d, ")");
        free(path);
}

static void decode_gpt(struct decoded *d, const struct shield_event *ev) {
        /* UEFI_GPT_DATA: EFI_PARTITION_TABLE_HEADER (UEFI 2.10, 5.3.2), u64 NumberOfPartitions, entries. */
        struct rd r = rd_init_sticky(ev->data, ev->data_size), hdr; /* reads checked once per block */
        const uint8_t *sig = NULL;
        uint32_t entry_size = 0;
        uint64_t count;
        shield_guid disk;
        char gs[SHIELD_GUID_STRING_SIZE];

        if (rd_sub(&r, 92, &hdr) < 0) {
                malformed(d, "UEFI_GPT_DATA", 0, "%u bytes, too few for a partition table header (92)",
                          ev->data_size);
                return;
        }
        /* Signature at 0, DiskGUID at offset 56, SizeOfPartitionEntry at 84 (UEFI 2.10, Table 5.5). */
        rd_bytes(&hdr, 8, &sig);
        rd_seek(&hdr, 56);
        rd_copy(&hdr, disk.b, 16);
        rd_seek(&hdr, 84);
        rd_le32(&hdr, &entry_size);
        if (rd_ok(&hdr) < 0) { /* not reached: hdr is the 92 bytes split off above */
                malformed(d, "UEFI_GPT_DATA", 0, "the partition table header runs past its 92 bytes");
                return;
        }
        if (memcmp(sig, "EFI PART", 8) != 0)
                json_object_set_new(d->j, "warning", json_string("partition table header signature is not \"EFI PART\""));
        if (rd_le64(&r, &count) < 0) {
                malformed(d, "UEFI_GPT_DATA", r.off, "no NumberOfPartitions after the header");
                return;
        }
        /* UEFI 2.10, 5.3.2: SizeOfPartitionEntry is 128 * 2^n. */
        if (entry_size < 128 || count > rd_left(&r) / entry_size) {
                malformed(d, "UEFI_GPT_DATA", r.off, "%llu partitions of %u bytes do not fit the %zu bytes left",
                          (unsigned long long)count, entry_size, rd_left(&r));
                return;
        }
        json_t *parts = json_array();
        guid_field(d->j, "disk_guid", &disk);
        shield_guid_format(&disk, gs);
        say(d, "GPT disk %s, %llu partition%s", gs, (unsigned long long)count, count == 1 ? "" : "s");
        for (uint64_t i = 0; i < count; i++) {
                struct rd e = { 0 };
                shield_guid type = { 0 }, unique = { 0 };
                uint64_t first = 0, last = 0, attrs = 0;
                char *name = NULL;
                const uint8_t *raw_name = NULL;

                /* EFI_PARTITION_ENTRY (UEFI 2.10, Table 5.6): 36 UTF-16 characters of name at 56. */
                rd_sub(&r, entry_size, &e);
                rd_copy(&e, type.b, 16);
                rd_copy(&e, unique.b, 16);
                rd_le64(&e, &first);
                rd_le64(&e, &last);
                rd_le64(&e, &attrs);
                rd_bytes(&e, 72, &raw_name);
                if (rd_ok(&r) < 0 || rd_ok(&e) < 0) /* not reached: count entries of >= 128 bytes fit, checked above */
                        break;
                if (strip_nuls(raw_name, 72))
                        name = utf16_text(raw_name, 72);
                json_t *o = json_object();
                guid_field(o, "type", &type);
                if (shield_guid_name(&type))
                        json_object_set_new(o, "type_name", json_string(shield_guid_name(&type)));
                guid_field(o, "guid", &unique);
                json_object_set_new(o, "first_lba", json_integer((json_int_t)first));
                json_object_set_new(o, "last_lba", json_integer((json_int_t)last));
                json_object_set_new(o, "attributes", json_integer((json_int_t)attrs));
                json_object_set_new(o, "name", json_string(name ? name : ""));
                json_array_append_new(parts, o);
                if (i < SUMMARY_PARTITIONS_MAX)
                        say(d, "%s \"%s\"", i ? "," : ":", name ? name : "");
                else if (i == SUMMARY_PARTITIONS_MAX)
                        say(d, ", ...");
                free(name);
        }
        json_object_set_new(d->j, "partitions", parts);
}

static void decode_blob(struct decoded *d, const struct shield_event *ev, bool with_description) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint8_t desc_len = 0;
        const uint8_t *desc = NULL;
        uint64_t base, length;

        /* PFP 1.05, 10.2.5 UEFI_PLATFORM_FIRMWARE_BLOB; 1.06 BLOB2 puts a u8-sized description first. */
        if (with_description && (rd_u8(&r, &desc_len) < 0 || rd_bytes(&r, desc_len, &desc) < 0)) {
                malformed(d, "UEFI_PLATFORM_FIRMWARE_BLOB2", r.off, "description of %u bytes runs past the %u bytes of data",
                          desc_len, ev->data_size);
                return;
        }
        if (rd_le64(&r, &base) < 0 || rd_le64(&r, &length) < 0) {
                malformed(d, with_description ? "UEFI_PLATFORM_FIRMWARE_BLOB2" : "UEFI_PLATFORM_FIRMWARE_BLOB", r.off,
                          "%u bytes, too few for base and length", ev->data_size);
                return;
        }
        json_object_set_new(d->j, "base", json_integer((json_int_t)base));
        json_object_set_new(d->j, "length", json_integer((json_int_t)length));
        if (desc) {
                size_t n = strip_nuls(desc, desc_len);
                json_object_set_new(d->j, "description", json_stringn((const char *)desc, n));
                say_quoted(d, (const char *)desc, n);
                say(d, " ");
        }
        say(d, "firmware blob at 0x%llx, ", (unsigned long long)base);
        say_size(d, length);
}

static void decode_handoff(struct decoded *d, const struct shield_event *ev, bool with_description) {
        struct rd r = rd_init_sticky(ev->data, ev->data_size); /* the tables are checked once each */
        uint8_t desc_len = 0;
        const uint8_t *desc = NULL;
        uint64_t count;

        /* PFP 1.05, 10.2.6 UEFI_HANDOFF_TABLE_POINTERS: u64 count, {GUID, u64 pointer} each; TABLES2 adds a description. */
        if (with_description && (rd_u8(&r, &desc_len) < 0 || rd_bytes(&r, desc_len, &desc) < 0)) {
                malformed(d, "UEFI_HANDOFF_TABLE_POINTERS2", r.off, "description of %u bytes runs past the data",
                          desc_len);
                return;
        }
        if (rd_le64(&r, &count) < 0 || count > rd_left(&r) / 24) {
                malformed(d, "UEFI_HANDOFF_TABLE_POINTERS", r.off, "%zu bytes cannot hold the table count or its tables",
                          rd_left(&r));
                return;
        }
        json_t *tables = json_array();
        if (desc) {
                size_t n = strip_nuls(desc, desc_len);
                json_object_set_new(d->j, "description", json_stringn((const char *)desc, n));
                say_quoted(d, (const char *)desc, n);
                say(d, " ");
        }
        say(d, "%llu configuration table%s", (unsigned long long)count, count == 1 ? "" : "s");
        for (uint64_t i = 0; i < count; i++) {
                shield_guid g;
                uint64_t ptr = 0;
                char gb[SHIELD_GUID_STRING_SIZE];
                rd_copy(&r, g.b, 16);
                rd_le64(&r, &ptr);
                if (rd_ok(&r) < 0) /* not reached: count tables of 24 bytes fit, checked above */
                        break;
                json_array_append_new(tables, json_pack("{s:s, s:I}", "guid", guid_text(&g, gb), "address",
                                                        (json_int_t)ptr));
                if (i < 3)
                        say(d, "%s%s", i ? ", " : ": ", guid_text(&g, gb));
        }
        json_object_set_new(d->j, "tables", tables);
}

/* A u8-length-prefixed string into o[key]; false (and nothing set) when it runs past the data. */
static bool read_string8(struct rd *r, json_t *o, const char *key) {
        uint8_t n;
        const uint8_t *p;
        if (rd_u8(r, &n) < 0 || rd_bytes(r, n, &p) < 0)
                return false;
        json_object_set_new(o, key, json_stringn((const char *)p, strip_nuls(p, n)));
        return true;
}

static const char *jstr(const json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

/* A locator of the SP 800-155 Event3: u32 type, u32 length, bytes. */
static bool read_locator(struct rd *r, json_t *o, const char *key) {
        uint32_t type, len;
        const uint8_t *p;
        json_t *l;

        if (rd_le32(r, &type) < 0 || rd_le32(r, &len) < 0 || rd_bytes(r, len, &p) < 0)
                return false;
        l = json_object();
        json_object_set_new(l, "type", type < sizeof locator_types / sizeof locator_types[0]
                                               ? json_string(locator_types[type])
                                               : json_integer(type));
        if (type == 1 && printable(p, len))
                json_object_set_new(l, "uri", json_stringn((const char *)p, strip_nuls(p, len)));
        else
                hex_field(l, "data", p, len);
        json_object_set_new(o, key, l);
        return true;
}

/*
 * SP 800-155 reference-manifest records (PFP 1.05, 10.4.5.2 "SP800-155
 * Event"; 1.06 adds Event2 and Event3 with RIM and platform-certificate
 * locators): vendor ID, manifest GUID, then length-prefixed strings.
 */
static void decode_sp800_155(struct decoded *d, struct rd *r, int version) {
        uint32_t vendor = 0, fw_vendor = 0;
        shield_guid manifest;
        uint8_t fwv_len = 0;
        const uint8_t *fwv = NULL;

        if (rd_le32(r, &vendor) < 0 || rd_copy(r, manifest.b, 16) < 0) {
                malformed(d, "SP 800-155 event", r->off, "too short for the vendor ID and manifest GUID");
                return;
        }
        json_object_set_new(d->j, "platform_manufacturer_id", json_integer(vendor));
        guid_field(d->j, "reference_manifest_guid", &manifest);
        /* The 1.05 record may end here; later ones always carry the strings. */
        if (version == 1 && rd_left(r) == 0) {
                say(d, "SP 800-155 reference manifest: vendor %u", vendor);
                return;
        }
        if (!read_string8(r, d->j, "platform_manufacturer") || !read_string8(r, d->j, "platform_model") ||
            !read_string8(r, d->j, "platform_version") || !read_string8(r, d->j, "firmware_manufacturer") ||
            rd_le32(r, &fw_vendor) < 0 || rd_u8(r, &fwv_len) < 0 || rd_bytes(r, fwv_len, &fwv) < 0) {
                malformed(d, "SP 800-155 event", r->off, "the reference manifest strings run past the data");
                return;
        }
        json_object_set_new(d->j, "firmware_manufacturer_id", json_integer(fw_vendor));
        if (printable(fwv, fwv_len))
                json_object_set_new(d->j, "firmware_version", json_stringn((const char *)fwv, strip_nuls(fwv, fwv_len)));
        else
                hex_field(d->j, "firmware_version", fwv, fwv_len);
        if (version == 3 && (!read_locator(r, d->j, "rim_locator") || !read_locator(r, d->j, "platform_cert_locator"))) {
                malformed(d, "SP 800-155 Event3", r->off, "a locator runs past the data");
                return;
        }
        say(d, "SP 800-155 reference manifest: %s %s %s, firmware %s %s", jstr(d->j, "platform_manufacturer"),
            jstr(d->j, "platform_model"), jstr(d->j, "platform_version"), jstr(d->j, "firmware_manufacturer"),
            jstr(d->j, "firmware_version"));
}

/* H-CRTM component measurement (PFP 1.06, 10.4.5.4): description, format type, measurement. */
static void decode_hcrtm_component(struct decoded *d, struct rd *r) {
        uint8_t desc_len, format;
        uint16_t meas_len;
        const uint8_t *desc, *meas;

        if (rd_u8(r, &desc_len) < 0 || rd_bytes(r, desc_len, &desc) < 0 || rd_u8(r, &format) < 0 ||
            rd_le16(r, &meas_len) < 0 || rd_bytes(r, meas_len, &meas) < 0) {
                malformed(d, "H-CRTM component event", r->off, "the fields run past the data");
                return;
        }
        json_object_set_new(d->j, "component", json_stringn((const char *)desc, strip_nuls(desc, desc_len)));
        json_object_set_new(d->j, "measurement_format", json_integer(format));
        hex_field(d->j, "measurement", meas, meas_len);
        say(d, "H-CRTM component ");
        say_quoted(d, (const char *)desc, strip_nuls(desc, desc_len));
        say(d, ", %u-byte measurement", meas_len);
}

/* NV index extend records (PFP 1.06, 10.4.5.5): version, reserved, then instance or dynamic data. */
static void decode_nv_index(struct decoded *d, struct rd *r, bool dynamic) {
        uint16_t version;
        uint64_t uid = 0;
        uint16_t desc_len = 0, data_len = 0;
        const uint8_t *desc = NULL, *data = NULL;

        if (rd_le16(r, &version) < 0 || rd_skip(r, 6) < 0) {
                malformed(d, dynamic ? "NvIndexDynamic event" : "NvIndexInstance event", r->off,
                          "too short for the version");
                return;
        }
        json_object_set_new(d->j, "version", json_integer(version));
        if (!dynamic) {
                json_object_set_new(d->j, "device_security_data_size", json_integer((json_int_t)rd_left(r)));
                say(d, "NV index instance record v%u, %zu bytes of device security data", version, rd_left(r));
                return;
        }
        if (rd_le64(r, &uid) < 0 || rd_le16(r, &desc_len) < 0 || rd_bytes(r, desc_len, &desc) < 0 ||
            rd_le16(r, &data_len) < 0 || rd_bytes(r, data_len, &data) < 0) {
                malformed(d, "NvIndexDynamic event", r->off, "the fields run past the data");
                return;
        }
        json_object_set_new(d->j, "uid", json_integer((json_int_t)uid));
        json_object_set_new(d->j, "description", json_stringn((const char *)desc, strip_nuls(desc, desc_len)));
        hex_field(d->j, "data", data, data_len);
        say(d, "NV index dynamic record ");
        say_quoted(d, (const char *)desc, strip_nuls(desc, desc_len));
        say(d, ", %u bytes", data_len);
}

static void decode_specid(struct decoded *d, const struct shield_eventlog *log) {
        const struct shield_specid *s = &log->specid;
        json_t *algs = json_array();

        json_object_set_new(d->j, "platform_class", json_integer(s->platform_class));
        json_object_set_new(d->j, "spec_version", json_sprintf("%u.%u", s->version_major, s->version_minor));
        json_object_set_new(d->j, "errata", json_integer(s->errata));
        json_object_set_new(d->j, "uintn_size", json_integer(s->uintn_size));
        say(d, "Spec ID Event03, spec %u.%u errata %u, banks", s->version_major, s->version_minor, s->errata);
        for (unsigned i = 0; i < s->n_algs && i < SHIELD_EVENTLOG_ALGS_MAX; i++) {
                const char *name = shield_hash_name(s->algs[i].alg);
                json_array_append_new(algs, json_pack("{s:o, s:i}", "algorithm",
                                                      name ? json_string(name) : json_integer(s->algs[i].alg),
                                                      "digest_size", s->algs[i].size));
                if (name)
                        say(d, "%s%s", i ? "," : " ", name);
                else
                        say(d, "%s0x%04x", i ? "," : " ", s->algs[i].alg);
        }
        json_object_set_new(d->j, "algorithms", algs);
        if (s->vendor_info_size) {
                hex_field(d->j, "vendor_info", s->vendor_info, s->vendor_info_size);
                say(d, ", %u bytes of vendor info", s->vendor_info_size);
        }
}

static void decode_no_action(struct decoded *d, const struct shield_eventlog *log, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        const uint8_t *sig = NULL;
        char name[17] = "";

        /* PFP 1.05, 10.4.5: EV_NO_ACTION data starts with a 16-byte NUL-padded signature. */
        if (rd_bytes(&r, 16, &sig) == 0 && printable(sig, 16) && !memchr(sig, '\n', 16))
                memcpy(name, sig, strip_nuls(sig, 16));
        if (!name[0]) {
                if (ev->data_size)
                        hex_field(d->j, "data", ev->data, ev->data_size);
                say(d, "%u bytes", ev->data_size);
                return;
        }
        json_object_set_new(d->j, "signature", json_string(name));
        if (strcmp(name, "Spec ID Event03") == 0 && ev->index == 0 && log->has_specid) {
                decode_specid(d, log);
        } else if (strcmp(name, "StartupLocality") == 0) {
                uint8_t locality;
                if (rd_u8(&r, &locality) < 0) {
                        malformed(d, "StartupLocality event", r.off, "no locality byte");
                        return;
                }
                json_object_set_new(d->j, "locality", json_integer(locality));
                say(d, "StartupLocality %u", locality);
        } else if (strcmp(name, "SP800-155 Event") == 0) {
                decode_sp800_155(d, &r, 1);
        } else if (strcmp(name, "SP800-155 Event2") == 0) {
                decode_sp800_155(d, &r, 2);
        } else if (strcmp(name, "SP800-155 Event3") == 0) {
                decode_sp800_155(d, &r, 3);
        } else if (strcmp(name, "H-CRTM CompMeas") == 0) {
                decode_hcrtm_component(d, &r);
        } else if (strcmp(name, "NvIndexInstance") == 0) {
                decode_nv_index(d, &r, false);
        } else if (strncmp(name, "NvIndexDynamic", 14) == 0) {
                decode_nv_index(d, &r, true);
        } else {
                say(d, "%s (%u bytes)", name, ev->data_size);
                if (rd_left(&r))
                        hex_field(d->j, "data", rd_cur(&r), rd_left(&r));
        }
}

static void decode_text_or_blob(struct decoded *d, const struct shield_event *ev) {
        char *s = ascii_or_utf16(ev->data, ev->data_size);

        if (s) {
                json_object_set_new(d->j, "text", json_string(s));
                say_quoted(d, s, strlen(s));
                free(s);
        } else if (ev->data_size) {
                hex_field(d->j, "data", ev->data, ev->data_size);
                say(d, "%u bytes", ev->data_size);
        } else {
                say(d, "(no data)");
        }
}

/* Whether some digest of ev equals H(le32 1), the error separator's (PFP 1.05, 10.4.1 EV_SEPARATOR). */
static bool error_separator_digest(const struct shield_event *ev) {
        static const uint8_t one[4] = { 1, 0, 0, 0 };
        for (unsigned k = 0; k < ev->n_digests && k < SHIELD_EVENTLOG_ALGS_MAX; k++) {
                uint8_t h[SHIELD_HASH_MAX_SIZE];
                size_t n = shield_hash_size(ev->digests[k].alg);
                if (n && n == ev->digests[k].size && shield_hash(ev->digests[k].alg, one, 4, h) == 0)
                        return memcmp(h, ev->digests[k].bytes, n) == 0;
        }
        return false;
}

int decode_separator_value(const struct shield_event *ev, uint32_t *ret) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint32_t v;

        /*
         * PFP 1.05, 10.4.1 and 3.3.2.2: the data is 0 normally; an error is
         * logged as the digest of 1 with error information as the data.
         * Some firmware writes all ones.
         */
        if (ev->data_size == 4 && rd_le32(&r, &v) == 0) {
                *ret = v;
                return 0;
        }
        if (error_separator_digest(ev)) {
                *ret = 1;
                return 1;
        }
        return SHIELD_E_FORMAT;
}

static void decode_separator(struct decoded *d, const struct shield_event *ev) {
        uint32_t v = 0;
        int r = decode_separator_value(ev, &v);

        if (r == 0) {
                json_object_set_new(d->j, "value", json_integer(v));
                if (v == 0)
                        say(d, "separator");
                else if (v == 1 || v == 0xffffffffu)
                        say(d, "separator: ERROR value 0x%08x", v);
                else
                        say(d, "separator 0x%08x (0 expected)", v);
        } else if (r == 1) {
                json_object_set_new(d->j, "value", json_integer(1));
                hex_field(d->j, "error_info", ev->data, ev->data_size);
                say(d, "separator: ERROR (digest of 1), %u bytes of error information", ev->data_size);
        } else {
                malformed(d, "separator", 0, "%u bytes of data (4 expected)", ev->data_size);
        }
}

static void decode_tagged(struct decoded *d, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        uint32_t id, size;
        const uint8_t *p;

        /* PFP 1.05, 10.4.2 TCG_PCClientTaggedEvent: u32 id, u32 size, data. */
        if (rd_le32(&r, &id) < 0 || rd_le32(&r, &size) < 0 || rd_bytes(&r, size, &p) < 0) {
                malformed(d, "TCG_PCClientTaggedEvent", r.off, "%u bytes cannot hold the tag's header and data",
                          ev->data_size);
                return;
        }
        json_object_set_new(d->j, "tagged_event_id", json_integer(id));
        json_object_set_new(d->j, "tagged_data_size", json_integer(size));
        if (id == TAG_LINUX_INITRD)
                say(d, "Linux initrd: ");
        else if (id == TAG_LINUX_LOAD_OPTIONS)
                say(d, "Linux command line: ");
        else
                say(d, "tag 0x%08x: ", id);
        if (printable(p, size)) {
                size_t n = strip_nuls(p, size);
                json_object_set_new(d->j, "tagged_text", json_stringn((const char *)p, n));
                say_quoted(d, (const char *)p, n);
        } else {
                hex_field(d->j, "tagged_data", p, size);
                say(d, "%u bytes", size);
        }
}

static void decode_crtm_version(struct decoded *d, const struct shield_event *ev) {
        /* PFP 1.05, 10.4.1 EV_S_CRTM_VERSION: a UTF-16 string, or a GUID on some platforms. */
        char *s = utf16_text(ev->data, ev->data_size);
        if (!s && printable(ev->data, ev->data_size))
                s = strndup((const char *)ev->data, strip_nuls(ev->data, ev->data_size));
        if (s) {
                json_object_set_new(d->j, "text", json_string(s));
                say_quoted(d, s, strlen(s));
                free(s);
                return;
        }
        if (ev->data_size == 16) {
                shield_guid g;
                char gb[SHIELD_GUID_STRING_SIZE];
                memcpy(g.b, ev->data, 16);
                guid_field(d->j, "guid", &g);
                say(d, "version GUID %s", guid_text(&g, gb));
                return;
        }
        if (strip_nuls(ev->data, ev->data_size) == 0) {
                json_object_set_new(d->j, "text", json_string(""));
                say(d, "\"\" (empty)");
                return;
        }
        decode_text_or_blob(d, ev);
}

static void decode_spdm(struct decoded *d, const struct shield_event *ev) {
        struct rd r = rd_init(ev->data, ev->data_size);
        const uint8_t *sig;
        uint16_t version = 0;

        /* PFP 1.06, 10.4.7 TCG_DEVICE_SECURITY_EVENT_DATA: "SPDM Device Sec" / "SPDM Device Sec2" header. */
        if (rd_bytes(&r, 16, &sig) == 0 && printable(sig, 16) && rd_le16(&r, &version) == 0) {
                json_object_set_new(d->j, "signature", json_stringn((const char *)sig, strip_nuls(sig, 16)));
                json_object_set_new(d->j, "version", json_integer(version));
                json_object_set_new(d->j, "data_size", json_integer(ev->data_size));
                say(d, "%.*s v%u, %u bytes", (int)strip_nuls(sig, 16), (const char *)sig, version, ev->data_size);
                return;
        }
        json_object_set_new(d->j, "data_size", json_integer(ev->data_size));
        say(d, "%u bytes of device security data", ev->data_size);
}

static void decode_event(struct decoded *d, const struct shield_eventlog *log, const struct shield_event *ev) {
        switch (ev->type) {
        case EV_EFI_VARIABLE_DRIVER_CONFIG:
        case EV_EFI_VARIABLE_BOOT:
        case EV_EFI_VARIABLE_BOOT2:
        case EV_EFI_VARIABLE_AUTHORITY:
        case EV_EFI_SPDM_DEVICE_POLICY:
        case EV_EFI_SPDM_DEVICE_AUTHORITY:
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
        case EV_S_CRTM_CONTENTS:
                /* A string ("POST CODE", 9 bytes on Lenovo), else a UEFI_PLATFORM_FIRMWARE_BLOB (PFP 1.05, 10.4.1). */
                if (ev->data_size == 16 && !printable(ev->data, ev->data_size))
                        decode_blob(d, ev, false);
                else
                        decode_text_or_blob(d, ev);
                break;
        case EV_POST_CODE2:
                if (printable(ev->data, ev->data_size))
                        decode_text_or_blob(d, ev);
                else
                        decode_blob(d, ev, true);
                break;
        case EV_S_CRTM_VERSION:
                decode_crtm_version(d, ev);
                break;
        case EV_EVENT_TAG:
                decode_tagged(d, ev);
                break;
        case EV_EFI_SPDM_FIRMWARE_BLOB:
        case EV_EFI_SPDM_FIRMWARE_CONFIG:
                decode_spdm(d, ev);
                break;
        default:
                /*
                 * Strings (EV_ACTION, EV_EFI_ACTION, EV_IPL grub commands and
                 * kernel command lines, EV_COMPACT_HASH, EV_EFI_HCRTM_EVENT
                 * "HCRTM", EV_OMIT_BOOT_DEVICE_EVENTS) or opaque data.
                 */
                decode_text_or_blob(d, ev);
                break;
        }
}

/* Decode one event into d (a new JSON object and the summary); 0 or an error code. */
static int decode(const struct shield_eventlog *log, const struct shield_event *ev, struct decoded *d) {
        if (!log || !ev)
                return SHIELD_E_INVAL;
        *d = (struct decoded){ .j = json_object() };
        if (!d->j)
                return SHIELD_E_NOMEM;
        decode_event(d, log, ev);
        return 0;
}

int shield_event_summary(const struct shield_eventlog *log, const struct shield_event *ev, char **ret) {
        struct decoded d;
        int r = ret ? decode(log, ev, &d) : SHIELD_E_INVAL;

        if (r < 0)
                return r;
        json_decref(d.j);
        *ret = strdup(d.summary);
        return *ret ? 0 : SHIELD_E_NOMEM;
}

int shield_event_decode_json(const struct shield_eventlog *log, const struct shield_event *ev, json_t **ret) {
        struct decoded d;
        int r = ret ? decode(log, ev, &d) : SHIELD_E_INVAL;

        if (r < 0)
                return r;
        *ret = d.j;
        return 0;
}
