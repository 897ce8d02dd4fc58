/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device paths to the text form of UEFI 2.10, 10.6 ("Device Path Text
 * Representation"), as firmware consoles and edk2 print them. Node types
 * and layouts are from UEFI 2.10, 10.3. Unknown or short nodes are printed
 * generically: a real machine's device path is never refused for content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shield/uefi.h"
#include "shield/util.h"
#include "util/rd.h"

#define NODE_HEADER_SIZE 4

/* UEFI 2.10, 10.3.1: node types. */
enum {
        TYPE_HARDWARE = 0x01,
        TYPE_ACPI = 0x02,
        TYPE_MESSAGING = 0x03,
        TYPE_MEDIA = 0x04,
        TYPE_BBS = 0x05,
        TYPE_END = 0x7f,
};
#define END_INSTANCE 0x01
#define END_ENTIRE 0xff

/* EISA ids of PCI root bridges (UEFI 2.10, 10.3.3): PNP0A03 and PNP0A08 compressed. */
#define EISA_PNP_ID(id) ((uint32_t)(((id) << 16) | 0x41d0))

static void put_guid(FILE *f, const uint8_t *b) {
        shield_guid g;
        char s[SHIELD_GUID_STRING_SIZE];

        memcpy(g.b, b, 16);
        shield_guid_format(&g, s);
        fputs(s, f);
}

static void put_hex(FILE *f, const uint8_t *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%02x", b[i]);
}

static void generic(FILE *f, uint8_t type, uint8_t sub, const uint8_t *body, size_t n) {
        fprintf(f, "Path(%u,%u", type, sub);
        if (n) {
                fputc(',', f);
                put_hex(f, body, n);
        }
        fputc(')', f);
}

static void vendor(FILE *f, const char *name, const uint8_t *body, size_t n) {
        fprintf(f, "%s(", name);
        put_guid(f, body);
        if (n > 16) {
                fputc(',', f);
                put_hex(f, body + 16, n - 16);
        }
        fputc(')', f);
}

static bool hardware(FILE *f, uint8_t sub, struct rd *r) {
        uint8_t a, b;
        uint32_t u32;
        uint64_t start, end;

        switch (sub) {
        case 1: /* PCI: Function, Device */
                if (rd_u8(r, &a) || rd_u8(r, &b))
                        return false;
                fprintf(f, "Pci(0x%x,0x%x)", b, a);
                return true;
        case 2:
                if (rd_u8(r, &a))
                        return false;
                fprintf(f, "PcCard(0x%x)", a);
                return true;
        case 3:
                if (rd_le32(r, &u32) || rd_le64(r, &start) || rd_le64(r, &end))
                        return false;
                fprintf(f, "MemoryMapped(0x%x,0x%llx,0x%llx)", u32, (unsigned long long)start,
                        (unsigned long long)end);
                return true;
        case 4:
                if (rd_left(r) < 16)
                        return false;
                vendor(f, "VenHw", rd_cur(r), rd_left(r));
                return true;
        case 5:
                if (rd_le32(r, &u32))
                        return false;
                fprintf(f, "Ctrl(0x%x)", u32);
                return true;
        }
        return false;
}

static bool acpi(FILE *f, uint8_t sub, struct rd *r) {
        uint32_t hid, uid;

        switch (sub) {
        case 1:
                if (rd_le32(r, &hid) || rd_le32(r, &uid))
                        return false;
                if (hid == EISA_PNP_ID(0x0a03))
                        fprintf(f, "PciRoot(0x%x)", uid);
                else if (hid == EISA_PNP_ID(0x0a08))
                        fprintf(f, "PcieRoot(0x%x)", uid);
                else if ((hid & 0xffff) == 0x41d0)
                        fprintf(f, "Acpi(PNP%04X,0x%x)", hid >> 16, uid);
                else
                        fprintf(f, "Acpi(0x%08x,0x%x)", hid, uid);
                return true;
        case 3:
                if (rd_le32(r, &uid))
                        return false;
                fprintf(f, "AcpiAdr(0x%x)", uid);
                return true;
        }
        return false;
}

static void put_ipv4(FILE *f, const uint8_t *a) {
        fprintf(f, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static const char *ip_protocol(uint16_t p) {
        return p == 6 ? "TCP" : p == 17 ? "UDP" : NULL;
}

static bool messaging(FILE *f, uint8_t sub, struct rd *r) {
        uint8_t a, b;
        uint16_t x, y, z;
        uint32_t u32;
        const uint8_t *p;

        switch (sub) {
        case 1: /* ATAPI */
                if (rd_u8(r, &a) || rd_u8(r, &b) || rd_le16(r, &x))
                        return false;
                fprintf(f, "Ata(%s,%s,0x%x)", a ? "Secondary" : "Primary", b ? "Slave" : "Master", x);
                return true;
        case 2:
                if (rd_le16(r, &x) || rd_le16(r, &y))
                        return false;
                fprintf(f, "Scsi(0x%x,0x%x)", x, y);
                return true;
        case 5:
                if (rd_u8(r, &a) || rd_u8(r, &b))
                        return false;
                fprintf(f, "USB(0x%x,0x%x)", a, b);
                return true;
        case 10:
                if (rd_left(r) < 16)
                        return false;
                vendor(f, "VenMsg", rd_cur(r), rd_left(r));
                return true;
        case 11: /* MAC: 32-byte address field, IfType; Ethernet uses 6 bytes of it */
                if (rd_bytes(r, 32, &p) || rd_u8(r, &a))
                        return false;
                fputs("MAC(", f);
                put_hex(f, p, a == 0 || a == 1 ? 6 : 32);
                fprintf(f, ",0x%x)", a);
                return true;
        case 12: { /* IPv4 */
                const uint8_t *local, *remote;
                uint8_t is_static;
                if (rd_bytes(r, 4, &local) || rd_bytes(r, 4, &remote) || rd_le16(r, &x) || rd_le16(r, &y) ||
                    rd_le16(r, &z) || rd_u8(r, &is_static))
                        return false;
                fputs("IPv4(", f);
                put_ipv4(f, remote);
                if (ip_protocol(z))
                        fprintf(f, ",%s", ip_protocol(z));
                else
                        fprintf(f, ",0x%x", z);
                fprintf(f, ",%s,", is_static ? "Static" : "DHCP");
                put_ipv4(f, local);
                fputc(')', f);
                return true;
        }
        case 13: { /* IPv6: local, remote (16 each) */
                const uint8_t *local, *remote;
                if (rd_bytes(r, 16, &local) || rd_bytes(r, 16, &remote))
                        return false;
                fputs("IPv6(", f);
                for (int i = 0; i < 16; i += 2)
                        fprintf(f, "%s%x", i ? ":" : "", remote[i] << 8 | remote[i + 1]);
                fputc(')', f);
                return true;
        }
        case 17:
                if (rd_u8(r, &a))
                        return false;
                fprintf(f, "Unit(0x%x)", a);
                return true;
        case 18:
                if (rd_le16(r, &x) || rd_le16(r, &y) || rd_le16(r, &z))
                        return false;
                fprintf(f, "Sata(0x%x,0x%x,0x%x)", x, y, z);
                return true;
        case 23: /* NVMe: namespace id, EUI-64 printed most significant byte first, as edk2 does */
                if (rd_le32(r, &u32) || rd_bytes(r, 8, &p))
                        return false;
                fprintf(f, "NVMe(0x%x,%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x)", u32, p[7], p[6], p[5], p[4], p[3],
                        p[2], p[1], p[0]);
                return true;
        case 24: /* URI: the rest of the node */
                fprintf(f, "Uri(%.*s)", (int)rd_left(r), (const char *)rd_cur(r));
                return true;
        case 26:
                if (rd_u8(r, &a))
                        return false;
                fprintf(f, "SD(0x%x)", a);
                return true;
        case 29:
                if (rd_u8(r, &a))
                        return false;
                fprintf(f, "eMMC(0x%x)", a);
                return true;
        }
        return false;
}

static bool media(FILE *f, uint8_t sub, struct rd *r) {
        uint32_t part;
        uint64_t start, size;
        const uint8_t *sig;
        uint8_t mbr_type, sig_type;
        char *text = NULL;

        switch (sub) {
        case 1: /* Hard drive */
                if (rd_le32(r, &part) || rd_le64(r, &start) || rd_le64(r, &size) || rd_bytes(r, 16, &sig) ||
                    rd_u8(r, &mbr_type) || rd_u8(r, &sig_type))
                        return false;
                fprintf(f, "HD(%u,", part);
                if (sig_type == 2) {
                        fputs("GPT,", f);
                        put_guid(f, sig);
                } else if (sig_type == 1) {
                        fprintf(f, "MBR,0x%08x", sig[0] | sig[1] << 8 | sig[2] << 16 | (uint32_t)sig[3] << 24);
                } else {
                        fprintf(f, "%u,0", sig_type);
                }
                fprintf(f, ",0x%llx,0x%llx)", (unsigned long long)start, (unsigned long long)size);
                return true;
        case 2:
                if (rd_le32(r, &part) || rd_le64(r, &start) || rd_le64(r, &size))
                        return false;
                fprintf(f, "CDROM(0x%x,0x%llx,0x%llx)", part, (unsigned long long)start, (unsigned long long)size);
                return true;
        case 3:
                if (rd_left(r) < 16)
                        return false;
                vendor(f, "VenMedia", rd_cur(r), rd_left(r));
                return true;
        case 4: /* File path: UTF-16, printed as is */
                if (shield_utf16le_to_utf8(rd_cur(r), rd_left(r) & ~(size_t)1, &text) < 0)
                        return false;
                fputs(text, f);
                free(text);
                return true;
        case 5:
        case 6:
        case 7:
                if (rd_left(r) < 16)
                        return false;
                fputs(sub == 5 ? "Media(" : sub == 6 ? "FvFile(" : "Fv(", f);
                put_guid(f, rd_cur(r));
                fputc(')', f);
                return true;
        case 8:
                if (rd_skip(r, 4) || rd_le64(r, &start) || rd_le64(r, &size))
                        return false;
                fprintf(f, "Offset(0x%llx,0x%llx)", (unsigned long long)start, (unsigned long long)size);
                return true;
        }
        return false;
}

static bool bbs(FILE *f, uint8_t sub, struct rd *r) {
        uint16_t dev, status;

        if (sub != 1 || rd_le16(r, &dev) || rd_le16(r, &status))
                return false;
        /* The description is a NUL-terminated ASCII string. */
        size_t n = strnlen((const char *)rd_cur(r), rd_left(r));
        fprintf(f, "BBS(0x%x,%.*s,0x%x)", dev, (int)n, (const char *)rd_cur(r), status);
        return true;
}

int shield_devpath_to_text(const uint8_t *buf, size_t len, char **ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;

        char *text = NULL;
        size_t text_len = 0;
        FILE *f = open_memstream(&text, &text_len);
        struct rd r = rd_init(buf, len);
        bool need_slash = false;
        unsigned nodes = 0;
        int rc = 0;

        if (!f)
                return SHIELD_E_NOMEM;
        while (rd_left(&r)) {
                size_t start = r.off;
                uint8_t type, sub;
                uint16_t node_len;
                struct rd body;

                if (++nodes > SHIELD_DEVPATH_NODES_MAX) {
                        rc = shield_diag_fail(diag, SHIELD_E_LIMIT, start, nodes - 1, "more than %u device path nodes",
                                              SHIELD_DEVPATH_NODES_MAX);
                        break;
                }
                if (rd_u8(&r, &type) || rd_u8(&r, &sub) || rd_le16(&r, &node_len)) {
                        rc = shield_diag_fail(diag, SHIELD_E_TRUNCATED, start, nodes - 1,
                                              "%zu bytes left, too few for a device path node header", len - start);
                        break;
                }
                if (node_len < NODE_HEADER_SIZE || rd_sub(&r, node_len - NODE_HEADER_SIZE, &body) < 0) {
                        r.off = start;
                        rc = shield_diag_fail(diag, SHIELD_E_FORMAT, start + 2, nodes - 1,
                                              "device path node length %u (4 to %zu allowed)", node_len, len - start);
                        break;
                }
                if (type == TYPE_END && sub == END_ENTIRE)
                        break;
                if (type == TYPE_END && sub == END_INSTANCE) {
                        fputc(',', f);
                        need_slash = false;
                        continue;
                }
                if (need_slash)
                        fputc('/', f);
                need_slash = true;

                /* Each writer reads its whole layout before it prints anything. */
                struct rd probe = body;
                bool ok = type == TYPE_HARDWARE  ? hardware(f, sub, &probe)
                          : type == TYPE_ACPI    ? acpi(f, sub, &probe)
                          : type == TYPE_MESSAGING ? messaging(f, sub, &probe)
                          : type == TYPE_MEDIA   ? media(f, sub, &probe)
                          : type == TYPE_BBS     ? bbs(f, sub, &probe)
                                                 : false;
                if (!ok) {
                        /* Unknown, or shorter than its type's layout: print it generically. */
                        generic(f, type, sub, rd_cur(&body), rd_left(&body));
                }
        }
        if (fclose(f) != 0 && rc == 0)
                rc = SHIELD_E_NOMEM;
        if (rc < 0) {
                free(text);
                return rc;
        }
        *ret = text;
        return 0;
}
