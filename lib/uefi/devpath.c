/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device paths to the text form of UEFI 2.10, 10.6 ("Device Path Text
 * Representation"). Node layouts are from UEFI 2.10, 10.3. The forms are
 * the long ones (DisplayOnly and AllowShortcuts both false), as edk2's boot
 * manager prints them, except that hex digits and GUIDs are lower case like
 * every other GUID Shieldkit prints (edk2 prints them upper case; the values
 * are the same). Unknown nodes, and nodes shorter than their type's layout,
 * are printed generically: a real machine's device path is never refused
 * for its content, only for a broken node length.
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

/* UEFI 2.10, 10.3.3: a compressed EISA id whose vendor part is "PNP". */
#define EISA_PNP 0x41d0u

/* UEFI 2.10, 10.3.5.14 (IPv4) and 10.3.5.15 (IPv6): body sizes with the gateway fields. */
#define IPV4_FULL_BODY 23
#define IPV6_FULL_BODY 56

/*
 * A node writer reads its whole fixed layout from r before it prints
 * anything, and returns false (having printed nothing) when the node is too
 * short, so the caller can print the node generically instead.
 */
typedef bool (*node_writer)(FILE *f, struct rd *r);

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

/*
 * An ASCII string from a node (URI, BBS description, ACPI _HID strings),
 * up to its NUL or n bytes. Bytes outside printable ASCII are escaped as
 * \xNN so the text stays valid UTF-8 whatever the firmware wrote.
 */
static void put_ascii(FILE *f, const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n && p[i]; i++) {
                if (p[i] >= 0x20 && p[i] < 0x7f)
                        fputc(p[i], f);
                else
                        fprintf(f, "\\x%02x", p[i]);
        }
}

static void put_ipv4(FILE *f, const uint8_t *a) {
        fprintf(f, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* edk2 prints all eight groups in full, without "::" compression. */
static void put_ipv6(FILE *f, const uint8_t *a) {
        for (int i = 0; i < 16; i += 2)
                fprintf(f, "%s%02x%02x", i ? ":" : "", a[i], a[i + 1]);
}

/* UEFI 2.10, 10.6.1.5: RFC 1700 protocol numbers by name. */
static void put_protocol(FILE *f, uint16_t p) {
        if (p == 6)
                fputs("TCP", f);
        else if (p == 17)
                fputs("UDP", f);
        else
                fprintf(f, "0x%x", p);
}

/* "PNP0A03": three 5-bit letters and a 16-bit product number (UEFI 2.10, 10.3.3). */
static void put_eisa(FILE *f, uint32_t id) {
        fprintf(f, "%c%c%c%04X", (int)(((id >> 10) & 0x1f) + 'A' - 1), (int)(((id >> 5) & 0x1f) + 'A' - 1),
                (int)((id & 0x1f) + 'A' - 1), (unsigned)(id >> 16));
}

static void generic(FILE *f, uint8_t type, uint8_t sub, const uint8_t *body, size_t n) {
        fprintf(f, "Path(%u,%u", type, sub);
        if (n) {
                fputc(',', f);
                put_hex(f, body, n);
        }
        fputc(')', f);
}

/* Vendor-defined nodes of any type: a GUID and optional data (10.3.2.4, 10.3.5.17, 10.3.6.3). */
static bool vendor(FILE *f, struct rd *r, const char *name) {
        const uint8_t *g;

        if (rd_bytes(r, 16, &g))
                return false;
        fprintf(f, "%s(", name);
        put_guid(f, g);
        if (rd_left(r)) {
                fputc(',', f);
                put_hex(f, rd_cur(r), rd_left(r));
        }
        fputc(')', f);
        return true;
}

/* ---- Hardware (UEFI 2.10, 10.3.2) ---- */

static bool hw_pci(FILE *f, struct rd *r) {
        uint8_t function, device;

        if (rd_u8(r, &function) || rd_u8(r, &device))
                return false;
        fprintf(f, "Pci(0x%x,0x%x)", device, function);
        return true;
}

static bool hw_pccard(FILE *f, struct rd *r) {
        uint8_t function;

        if (rd_u8(r, &function))
                return false;
        fprintf(f, "PcCard(0x%x)", function);
        return true;
}

static bool hw_memmap(FILE *f, struct rd *r) {
        uint32_t type;
        uint64_t start, end;

        if (rd_le32(r, &type) || rd_le64(r, &start) || rd_le64(r, &end))
                return false;
        fprintf(f, "MemoryMapped(0x%x,0x%llx,0x%llx)", type, (unsigned long long)start, (unsigned long long)end);
        return true;
}

static bool hw_vendor(FILE *f, struct rd *r) {
        return vendor(f, r, "VenHw");
}

static bool hw_controller(FILE *f, struct rd *r) {
        uint32_t n;

        if (rd_le32(r, &n))
                return false;
        fprintf(f, "Ctrl(0x%x)", n);
        return true;
}

static bool hw_bmc(FILE *f, struct rd *r) {
        uint8_t type;
        uint64_t base;

        if (rd_u8(r, &type) || rd_le64(r, &base))
                return false;
        fprintf(f, "BMC(0x%x,0x%llx)", type, (unsigned long long)base);
        return true;
}

/* ---- ACPI (UEFI 2.10, 10.3.3) ---- */

static bool acpi_hid(FILE *f, struct rd *r) {
        /* PNP ids with their own keyword in UEFI 2.10, 10.6.1.3. */
        static const struct {
                uint16_t id;
                const char *name;
        } named[] = {
                { 0x0a03, "PciRoot" }, { 0x0a08, "PcieRoot" }, { 0x0604, "Floppy" },
                { 0x0301, "Keyboard" }, { 0x0501, "Serial" }, { 0x0401, "ParallelPort" },
        };
        uint32_t hid, uid;

        if (rd_le32(r, &hid) || rd_le32(r, &uid))
                return false;
        if ((hid & 0xffff) != EISA_PNP) {
                fprintf(f, "Acpi(0x%08x,0x%x)", hid, uid);
                return true;
        }
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
                if (hid >> 16 == named[i].id) {
                        fprintf(f, "%s(0x%x)", named[i].name, uid);
                        return true;
                }
        fprintf(f, "Acpi(PNP%04X,0x%x)", hid >> 16, uid);
        return true;
}

/* Split off the next NUL-terminated string; a missing one is empty, an unterminated one runs to the end. */
static void next_string(struct rd *r, const uint8_t **ret, size_t *ret_len) {
        const uint8_t *nul = memchr(rd_cur(r), 0, rd_left(r));
        size_t n = nul ? (size_t)(nul - rd_cur(r)) : rd_left(r);

        *ret = rd_cur(r);
        *ret_len = n;
        rd_skip(r, nul ? n + 1 : n); /* at most what is left: a sticky caller's rd_ok() says so */
}

static bool acpi_expanded(FILE *f, struct rd *probe) {
        uint32_t hid = 0, uid = 0, cid = 0;
        const uint8_t *hs, *us, *cs;
        size_t hn, un, cn;
        struct rd s = *probe, *r = &s;

        /* The node's fields and strings are read sticky and checked once. */
        s.sticky = true;
        rd_le32(r, &hid);
        rd_le32(r, &uid);
        rd_le32(r, &cid);
        /* The strings follow in the order HIDSTR, UIDSTR, CIDSTR. */
        next_string(r, &hs, &hn);
        next_string(r, &us, &un);
        next_string(r, &cs, &cn);
        if (rd_ok(r) < 0)
                return false;
        probe->off = s.off;
        if (hn == 0 && cn == 0 && un > 0) {
                fputs("AcpiExp(", f);
                put_eisa(f, hid);
                fputc(',', f);
                if (cid)
                        put_eisa(f, cid);
                else
                        fputc('0', f);
                fputc(',', f);
                put_ascii(f, us, un);
                fputc(')', f);
                return true;
        }
        fputs("AcpiEx(", f);
        put_eisa(f, hid);
        fputc(',', f);
        put_eisa(f, cid);
        fprintf(f, ",0x%x,", uid);
        put_ascii(f, hs, hn);
        fputc(',', f);
        put_ascii(f, cs, cn);
        fputc(',', f);
        put_ascii(f, us, un);
        fputc(')', f);
        return true;
}

static bool acpi_adr(FILE *f, struct rd *r) {
        uint32_t adr;

        if (rd_le32(r, &adr))
                return false;
        fprintf(f, "AcpiAdr(0x%x", adr);
        /* Further _ADRs follow for multi-output display devices. */
        while (rd_le32(r, &adr) == 0)
                fprintf(f, ",0x%x", adr);
        fputc(')', f);
        return true;
}

/* ---- Messaging (UEFI 2.10, 10.3.4) ---- */

static bool msg_atapi(FILE *f, struct rd *r) {
        uint8_t secondary, slave;
        uint16_t lun;

        if (rd_u8(r, &secondary) || rd_u8(r, &slave) || rd_le16(r, &lun))
                return false;
        fprintf(f, "Ata(%s,%s,0x%x)", secondary == 1 ? "Secondary" : "Primary", slave == 1 ? "Slave" : "Master", lun);
        return true;
}

static bool msg_scsi(FILE *f, struct rd *r) {
        uint16_t pun, lun;

        if (rd_le16(r, &pun) || rd_le16(r, &lun))
                return false;
        fprintf(f, "Scsi(0x%x,0x%x)", pun, lun);
        return true;
}

static bool msg_fibre(FILE *f, struct rd *r) {
        uint64_t wwn, lun;

        if (rd_skip(r, 4) || rd_le64(r, &wwn) || rd_le64(r, &lun))
                return false;
        fprintf(f, "Fibre(0x%llx,0x%llx)", (unsigned long long)wwn, (unsigned long long)lun);
        return true;
}

static bool msg_1394(FILE *f, struct rd *r) {
        uint64_t guid;

        if (rd_skip(r, 4) || rd_le64(r, &guid))
                return false;
        fprintf(f, "I1394(%016llx)", (unsigned long long)guid);
        return true;
}

static bool msg_usb(FILE *f, struct rd *r) {
        uint8_t port, interface;

        if (rd_u8(r, &port) || rd_u8(r, &interface))
                return false;
        fprintf(f, "USB(0x%x,0x%x)", port, interface);
        return true;
}

static bool msg_i2o(FILE *f, struct rd *r) {
        uint32_t tid;

        if (rd_le32(r, &tid))
                return false;
        fprintf(f, "I2O(0x%x)", tid);
        return true;
}

static bool msg_infiniband(FILE *f, struct rd *r) {
        uint32_t flags;
        const uint8_t *gid;
        uint64_t service, target, device;

        if (rd_le32(r, &flags) || rd_bytes(r, 16, &gid) || rd_le64(r, &service) || rd_le64(r, &target) ||
            rd_le64(r, &device))
                return false;
        fprintf(f, "Infiniband(0x%x,", flags);
        put_guid(f, gid);
        fprintf(f, ",0x%llx,0x%llx,0x%llx)", (unsigned long long)service, (unsigned long long)target,
                (unsigned long long)device);
        return true;
}

static bool msg_vendor(FILE *f, struct rd *r) {
        return vendor(f, r, "VenMsg");
}

static bool msg_mac(FILE *f, struct rd *r) {
        const uint8_t *addr;
        uint8_t if_type;

        if (rd_bytes(r, 32, &addr) || rd_u8(r, &if_type))
                return false;
        fputs("MAC(", f);
        /* Ethernet (IfType 0 or 1, RFC 3232) uses 6 of the 32 address bytes. */
        put_hex(f, addr, if_type == 0 || if_type == 1 ? 6 : 32);
        fprintf(f, ",0x%x)", if_type);
        return true;
}

static bool msg_ipv4(FILE *f, struct rd *r) {
        const uint8_t *local, *remote, *gateway = NULL, *mask = NULL;
        uint16_t local_port, remote_port, protocol;
        uint8_t is_static;
        bool full = rd_left(r) == IPV4_FULL_BODY;

        if (rd_bytes(r, 4, &local) || rd_bytes(r, 4, &remote) || rd_le16(r, &local_port) ||
            rd_le16(r, &remote_port) || rd_le16(r, &protocol) || rd_u8(r, &is_static))
                return false;
        if (full)
                (void)(rd_bytes(r, 4, &gateway) || rd_bytes(r, 4, &mask));
        fputs("IPv4(", f);
        put_ipv4(f, remote);
        fputc(',', f);
        put_protocol(f, protocol);
        fprintf(f, ",%s,", is_static ? "Static" : "DHCP");
        put_ipv4(f, local);
        if (full) {
                fputc(',', f);
                put_ipv4(f, gateway);
                fputc(',', f);
                put_ipv4(f, mask);
        }
        fputc(')', f);
        return true;
}

static bool msg_ipv6(FILE *f, struct rd *r) {
        static const char *const origins[] = { "Static", "StatelessAutoConfigure", "StatefulAutoConfigure" };
        const uint8_t *local, *remote, *gateway = NULL;
        uint16_t local_port, remote_port, protocol;
        uint8_t origin, prefix = 0;
        bool full = rd_left(r) == IPV6_FULL_BODY;

        if (rd_bytes(r, 16, &local) || rd_bytes(r, 16, &remote) || rd_le16(r, &local_port) ||
            rd_le16(r, &remote_port) || rd_le16(r, &protocol) || rd_u8(r, &origin))
                return false;
        if (full)
                (void)(rd_u8(r, &prefix) || rd_bytes(r, 16, &gateway));
        fputs("IPv6(", f);
        put_ipv6(f, remote);
        fputc(',', f);
        put_protocol(f, protocol);
        fprintf(f, ",%s,", origins[origin < 2 ? origin : 2]);
        put_ipv6(f, local);
        if (full) {
                fprintf(f, ",0x%x,", prefix);
                put_ipv6(f, gateway);
        }
        fputc(')', f);
        return true;
}

static bool msg_uart(FILE *f, struct rd *r) {
        static const char parity_names[] = "DNEOMS";
        static const char *const stop_names[] = { "D", "1", "1.5", "2" };
        uint64_t baud;
        uint8_t data_bits, parity, stop_bits;

        if (rd_skip(r, 4) || rd_le64(r, &baud) || rd_u8(r, &data_bits) || rd_u8(r, &parity) ||
            rd_u8(r, &stop_bits))
                return false;
        if (baud)
                fprintf(f, "Uart(%llu,", (unsigned long long)baud);
        else
                fputs("Uart(DEFAULT,", f);
        if (data_bits)
                fprintf(f, "%u,", data_bits);
        else
                fputs("DEFAULT,", f);
        fprintf(f, "%c,%s)", parity < 6 ? parity_names[parity] : 'x', stop_bits < 4 ? stop_names[stop_bits] : "x");
        return true;
}

static bool msg_usb_class(FILE *f, struct rd *r) {
        uint16_t vendor_id, product_id;
        uint8_t class, subclass, protocol;

        if (rd_le16(r, &vendor_id) || rd_le16(r, &product_id) || rd_u8(r, &class) || rd_u8(r, &subclass) ||
            rd_u8(r, &protocol))
                return false;
        fprintf(f, "UsbClass(0x%x,0x%x,0x%x,0x%x,0x%x)", vendor_id, product_id, class, subclass, protocol);
        return true;
}

static bool msg_usb_wwid(FILE *f, struct rd *r) {
        uint16_t interface, vendor_id, product_id;
        char *serial = NULL;

        if (rd_le16(r, &interface) || rd_le16(r, &vendor_id) || rd_le16(r, &product_id))
                return false;
        if (shield_utf16le_to_utf8(rd_cur(r), rd_left(r) & ~(size_t)1, &serial) < 0)
                return false;
        fprintf(f, "UsbWwid(0x%x,0x%x,0x%x,\"%s\")", vendor_id, product_id, interface, serial);
        free(serial);
        return true;
}

static bool msg_unit(FILE *f, struct rd *r) {
        uint8_t lun;

        if (rd_u8(r, &lun))
                return false;
        fprintf(f, "Unit(0x%x)", lun);
        return true;
}

static bool msg_sata(FILE *f, struct rd *r) {
        uint16_t hba, pm, lun;

        if (rd_le16(r, &hba) || rd_le16(r, &pm) || rd_le16(r, &lun))
                return false;
        fprintf(f, "Sata(0x%x,0x%x,0x%x)", hba, pm, lun);
        return true;
}

static bool msg_iscsi(FILE *f, struct rd *r) {
        uint16_t protocol, options, tag;
        const uint8_t *lun;

        if (rd_le16(r, &protocol) || rd_le16(r, &options) || rd_bytes(r, 8, &lun) || rd_le16(r, &tag))
                return false;
        /* LoginOption bits (UEFI 2.10, 10.3.4.20): digests at 1 and 3, authentication at 11-12. */
        fputs("iSCSI(", f);
        put_ascii(f, rd_cur(r), rd_left(r));
        fprintf(f, ",0x%x,0x", tag);
        put_hex(f, lun, 8);
        fprintf(f, ",%s,%s,%s,%s)", options & 0x2 ? "CRC32C" : "None", options & 0x8 ? "CRC32C" : "None",
                options & 0x800 ? "None" : options & 0x1000 ? "CHAP_UNI" : "CHAP_BI", protocol == 0 ? "TCP" : "reserved");
        return true;
}

static bool msg_vlan(FILE *f, struct rd *r) {
        uint16_t id;

        if (rd_le16(r, &id))
                return false;
        fprintf(f, "Vlan(%u)", id);
        return true;
}

static bool msg_fibre_ex(FILE *f, struct rd *r) {
        const uint8_t *wwn, *lun;

        if (rd_skip(r, 4) || rd_bytes(r, 8, &wwn) || rd_bytes(r, 8, &lun))
                return false;
        fputs("FibreEx(0x", f);
        put_hex(f, wwn, 8);
        fputs(",0x", f);
        put_hex(f, lun, 8);
        fputc(')', f);
        return true;
}

/* SAS topology bits, UEFI 2.10, 10.3.4.18. */
static void put_sas_topology(FILE *f, uint16_t t) {
        if ((t & 0x0f) == 0 && !(t & 0x80)) {
                fputs("NoTopology,0,0,0", f);
        } else if ((t & 0x0f) <= 2 && !(t & 0x80)) {
                fprintf(f, "%s,%s,%s,", t & 0x10 ? "SATA" : "SAS", t & 0x20 ? "External" : "Internal",
                        t & 0x40 ? "Expanded" : "Direct");
                if ((t & 0x0f) == 1)
                        fputc('0', f);
                else
                        fprintf(f, "0x%x", ((t >> 8) & 0xff) + 1);
        } else {
                fprintf(f, "0x%x,0,0,0", t);
        }
}

static bool msg_sas_ex(FILE *f, struct rd *r) {
        const uint8_t *addr, *lun;
        uint16_t topology, port;

        if (rd_bytes(r, 8, &addr) || rd_bytes(r, 8, &lun) || rd_le16(r, &topology) || rd_le16(r, &port))
                return false;
        fputs("SasEx(0x", f);
        put_hex(f, addr, 8);
        fputs(",0x", f);
        put_hex(f, lun, 8);
        fprintf(f, ",0x%x,", port);
        put_sas_topology(f, topology);
        fputc(')', f);
        return true;
}

static bool msg_nvme(FILE *f, struct rd *r) {
        uint32_t nsid;
        const uint8_t *e;

        if (rd_le32(r, &nsid) || rd_bytes(r, 8, &e))
                return false;
        /* The EUI-64 is stored least significant byte first and printed the other way round. */
        fprintf(f, "NVMe(0x%x,%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x)", nsid, e[7], e[6], e[5], e[4], e[3], e[2],
                e[1], e[0]);
        return true;
}

static bool msg_uri(FILE *f, struct rd *r) {
        fputs("Uri(", f);
        put_ascii(f, rd_cur(r), rd_left(r));
        fputc(')', f);
        return true;
}

static bool msg_ufs(FILE *f, struct rd *r) {
        uint8_t pun, lun;

        if (rd_u8(r, &pun) || rd_u8(r, &lun))
                return false;
        fprintf(f, "UFS(0x%x,0x%x)", pun, lun);
        return true;
}

static bool msg_sd(FILE *f, struct rd *r) {
        uint8_t slot;

        if (rd_u8(r, &slot))
                return false;
        fprintf(f, "SD(0x%x)", slot);
        return true;
}

static bool msg_bluetooth(FILE *f, struct rd *r) {
        const uint8_t *addr;

        if (rd_bytes(r, 6, &addr))
                return false;
        fputs("Bluetooth(", f);
        put_hex(f, addr, 6);
        fputc(')', f);
        return true;
}

static bool msg_wifi(FILE *f, struct rd *r) {
        const uint8_t *ssid;

        if (rd_bytes(r, 32, &ssid))
                return false;
        fputs("Wi-Fi(", f);
        put_ascii(f, ssid, 32);
        fputc(')', f);
        return true;
}

static bool msg_emmc(FILE *f, struct rd *r) {
        uint8_t slot;

        if (rd_u8(r, &slot))
                return false;
        fprintf(f, "eMMC(0x%x)", slot);
        return true;
}

static bool msg_bluetooth_le(FILE *f, struct rd *r) {
        const uint8_t *addr;
        uint8_t type;

        if (rd_bytes(r, 6, &addr) || rd_u8(r, &type))
                return false;
        fputs("BluetoothLE(", f);
        put_hex(f, addr, 6);
        fprintf(f, ",0x%02x)", type);
        return true;
}

static bool msg_dns(FILE *f, struct rd *r) {
        uint8_t is_ipv6;
        const uint8_t *a;

        /* IsIPv6, then EFI_IP_ADDRESS entries of 16 bytes each (UEFI 2.10, 10.3.4.30). */
        if (rd_u8(r, &is_ipv6) || rd_left(r) < 16 || rd_left(r) % 16)
                return false;
        fputs("Dns(", f);
        for (bool first = true; rd_bytes(r, 16, &a) == 0; first = false) {
                if (!first)
                        fputc(',', f);
                if (is_ipv6)
                        put_ipv6(f, a);
                else
                        put_ipv4(f, a);
        }
        fputc(')', f);
        return true;
}

/* ---- Media (UEFI 2.10, 10.3.5) ---- */

static bool media_hd(FILE *f, struct rd *r) {
        uint32_t part;
        uint64_t start, size;
        const uint8_t *sig;
        uint8_t format, sig_type;

        if (rd_le32(r, &part) || rd_le64(r, &start) || rd_le64(r, &size) || rd_bytes(r, 16, &sig) ||
            rd_u8(r, &format) || rd_u8(r, &sig_type))
                return false;
        fprintf(f, "HD(%u,", part);
        if (sig_type == 2) { /* a GPT partition's unique GUID */
                fputs("GPT,", f);
                put_guid(f, sig);
        } else if (sig_type == 1) { /* the MBR disk signature at 0x1b8 */
                fprintf(f, "MBR,0x%08x", sig[0] | sig[1] << 8 | sig[2] << 16 | (uint32_t)sig[3] << 24);
        } else {
                fprintf(f, "%u,0", sig_type);
        }
        fprintf(f, ",0x%llx,0x%llx)", (unsigned long long)start, (unsigned long long)size);
        return true;
}

static bool media_cdrom(FILE *f, struct rd *r) {
        uint32_t entry;
        uint64_t start, size;

        if (rd_le32(r, &entry) || rd_le64(r, &start) || rd_le64(r, &size))
                return false;
        fprintf(f, "CDROM(0x%x,0x%llx,0x%llx)", entry, (unsigned long long)start, (unsigned long long)size);
        return true;
}

static bool media_vendor(FILE *f, struct rd *r) {
        return vendor(f, r, "VenMedia");
}

/* A file path is UTF-16 up to its NUL, printed as it is: "\EFI\BOOT\BOOTX64.EFI". */
static bool media_file(FILE *f, struct rd *r) {
        char *text = NULL;

        if (shield_utf16le_to_utf8(rd_cur(r), rd_left(r) & ~(size_t)1, &text) < 0)
                return false;
        fputs(text, f);
        free(text);
        return true;
}

static bool guid_node(FILE *f, struct rd *r, const char *name) {
        const uint8_t *g;

        if (rd_bytes(r, 16, &g))
                return false;
        fprintf(f, "%s(", name);
        put_guid(f, g);
        fputc(')', f);
        return true;
}

static bool media_protocol(FILE *f, struct rd *r) {
        return guid_node(f, r, "Media");
}

static bool media_fv_file(FILE *f, struct rd *r) {
        return guid_node(f, r, "FvFile");
}

static bool media_fv(FILE *f, struct rd *r) {
        return guid_node(f, r, "Fv");
}

static bool media_offset(FILE *f, struct rd *r) {
        uint64_t start, end;

        if (rd_skip(r, 4) || rd_le64(r, &start) || rd_le64(r, &end))
                return false;
        fprintf(f, "Offset(0x%llx,0x%llx)", (unsigned long long)start, (unsigned long long)end);
        return true;
}

static bool media_ram_disk(FILE *f, struct rd *r) {
        uint64_t start, end;
        const uint8_t *type;
        uint16_t instance;

        if (rd_le64(r, &start) || rd_le64(r, &end) || rd_bytes(r, 16, &type) || rd_le16(r, &instance))
                return false;
        fprintf(f, "RamDisk(0x%llx,0x%llx,%u,", (unsigned long long)start, (unsigned long long)end, instance);
        put_guid(f, type);
        fputc(')', f);
        return true;
}

/* ---- BIOS Boot Specification (UEFI 2.10, 10.3.7) ---- */

static bool bbs(FILE *f, struct rd *r) {
        static const char *const kinds[] = { NULL, "Floppy", "HD", "CDROM", "PCMCIA", "USB", "Network" };
        uint16_t type, status;

        if (rd_le16(r, &type) || rd_le16(r, &status))
                return false;
        if (type < sizeof kinds / sizeof kinds[0] && kinds[type])
                fprintf(f, "BBS(%s,", kinds[type]);
        else
                fprintf(f, "BBS(0x%x,", type);
        put_ascii(f, rd_cur(r), rd_left(r));
        fprintf(f, ",0x%x)", status);
        return true;
}

static const struct {
        uint8_t type, sub;
        node_writer write;
} writers[] = {
        { TYPE_HARDWARE, 1, hw_pci },
        { TYPE_HARDWARE, 2, hw_pccard },
        { TYPE_HARDWARE, 3, hw_memmap },
        { TYPE_HARDWARE, 4, hw_vendor },
        { TYPE_HARDWARE, 5, hw_controller },
        { TYPE_HARDWARE, 6, hw_bmc },
        { TYPE_ACPI, 1, acpi_hid },
        { TYPE_ACPI, 2, acpi_expanded },
        { TYPE_ACPI, 3, acpi_adr },
        { TYPE_MESSAGING, 1, msg_atapi },
        { TYPE_MESSAGING, 2, msg_scsi },
        { TYPE_MESSAGING, 3, msg_fibre },
        { TYPE_MESSAGING, 4, msg_1394 },
        { TYPE_MESSAGING, 5, msg_usb },
        { TYPE_MESSAGING, 6, msg_i2o },
        { TYPE_MESSAGING, 9, msg_infiniband },
        { TYPE_MESSAGING, 10, msg_vendor },
        { TYPE_MESSAGING, 11, msg_mac },
        { TYPE_MESSAGING, 12, msg_ipv4 },
        { TYPE_MESSAGING, 13, msg_ipv6 },
        { TYPE_MESSAGING, 14, msg_uart },
        { TYPE_MESSAGING, 15, msg_usb_class },
        { TYPE_MESSAGING, 16, msg_usb_wwid },
        { TYPE_MESSAGING, 17, msg_unit },
        { TYPE_MESSAGING, 18, msg_sata },
        { TYPE_MESSAGING, 19, msg_iscsi },
        { TYPE_MESSAGING, 20, msg_vlan },
        { TYPE_MESSAGING, 21, msg_fibre_ex },
        { TYPE_MESSAGING, 22, msg_sas_ex },
        { TYPE_MESSAGING, 23, msg_nvme },
        { TYPE_MESSAGING, 24, msg_uri },
        { TYPE_MESSAGING, 25, msg_ufs },
        { TYPE_MESSAGING, 26, msg_sd },
        { TYPE_MESSAGING, 27, msg_bluetooth },
        { TYPE_MESSAGING, 28, msg_wifi },
        { TYPE_MESSAGING, 29, msg_emmc },
        { TYPE_MESSAGING, 30, msg_bluetooth_le },
        { TYPE_MESSAGING, 31, msg_dns },
        { TYPE_MEDIA, 1, media_hd },
        { TYPE_MEDIA, 2, media_cdrom },
        { TYPE_MEDIA, 3, media_vendor },
        { TYPE_MEDIA, 4, media_file },
        { TYPE_MEDIA, 5, media_protocol },
        { TYPE_MEDIA, 6, media_fv_file },
        { TYPE_MEDIA, 7, media_fv },
        { TYPE_MEDIA, 8, media_offset },
        { TYPE_MEDIA, 9, media_ram_disk },
        { TYPE_BBS, 1, bbs },
};

static void write_node(FILE *f, uint8_t type, uint8_t sub, struct rd body) {
        for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++)
                if (writers[i].type == type && writers[i].sub == sub) {
                        struct rd probe = body;
                        if (writers[i].write(f, &probe))
                                return;
                        break;
                }
        /* Unknown, or shorter than its type's layout. */
        generic(f, type, sub, rd_cur(&body), rd_left(&body));
}

/* Walk the nodes into f; returns 0 or a negative code with diag filled. */
static int walk(FILE *f, const uint8_t *buf, size_t len, struct shield_diag *diag) {
        struct rd r = rd_init(buf, len);
        bool need_slash = false;
        unsigned nodes = 0;

        while (rd_left(&r)) {
                size_t start = r.off;
                uint8_t type, sub;
                uint16_t node_len;
                struct rd body;

                if (rd_u8(&r, &type) || rd_u8(&r, &sub) || rd_le16(&r, &node_len))
                        return shield_diag_fail(diag, SHIELD_E_TRUNCATED, start, (long)nodes,
                                                "%zu bytes left, too few for a device path node header (4)",
                                                len - start);
                if (node_len < NODE_HEADER_SIZE || rd_sub(&r, node_len - NODE_HEADER_SIZE, &body) < 0)
                        return shield_diag_fail(diag, SHIELD_E_FORMAT, start + 2, (long)nodes,
                                                "device path node length %u (4 to %zu allowed)", node_len,
                                                len - start);
                if (type == TYPE_END && sub == END_ENTIRE)
                        break;
                if (nodes == SHIELD_DEVPATH_NODES_MAX)
                        return shield_diag_fail(diag, SHIELD_E_LIMIT, start, (long)nodes,
                                                "more than %u device path nodes", SHIELD_DEVPATH_NODES_MAX);
                nodes++;
                if (type == TYPE_END && sub == END_INSTANCE) {
                        fputc(',', f);
                        need_slash = false;
                        continue;
                }
                if (need_slash)
                        fputc('/', f);
                need_slash = true;
                write_node(f, type, sub, body);
        }
        return 0;
}

int shield_devpath_to_text(const uint8_t *buf, size_t len, char **ret, struct shield_diag *diag) {
        if (!ret || (!buf && len))
                return SHIELD_E_INVAL;

        char *text = NULL;
        size_t text_len = 0;
        FILE *f = open_memstream(&text, &text_len);
        if (!f)
                return SHIELD_E_NOMEM;

        int rc = walk(f, buf, len, diag);
        if (fclose(f) != 0 && rc == 0)
                rc = SHIELD_E_NOMEM;
        if (rc < 0) {
                free(text);
                return rc;
        }
        *ret = text;
        return 0;
}
