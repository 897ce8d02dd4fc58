#!/usr/bin/env python3
"""Write the synthetic seed corpora of tests/fuzz/corpus/ (run once; output is committed).

Every seed is built here from the layouts in the TCG PC Client PFP, the UEFI
spec and the kernel's IMA documentation; nothing is copied from third-party
files. `--boot-log FILE` adds a log from our own OVMF boot (scripts/boot-ovmf).
"""
import hashlib, os, struct, subprocess, sys, tempfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def write(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def guid(s):
    a, b, c, d, e = s.split("-")
    return struct.pack("<IHH", int(a, 16), int(b, 16), int(c, 16)) + bytes.fromhex(d + e)

GLOBAL = guid("8be4df61-93ca-11d2-aa0d-00e098032b8c")
SECDB = guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
X509 = guid("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
SHA256 = guid("c1c41626-504c-4092-aca9-41f936934328")
OWNER = guid("11111111-2222-3333-4444-555555555555")

def cert():
    with tempfile.TemporaryDirectory() as t:
        subprocess.run(["openssl", "req", "-new", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=Shieldkit fuzz seed", "-days", "1", "-keyout", t + "/k",
                        "-outform", "DER", "-out", t + "/c"], check=True, capture_output=True)
        return open(t + "/c", "rb").read()

def esl(sigtype, entries, size):
    body = b"".join(OWNER + e for e in entries)
    return sigtype + struct.pack("<III", 28 + len(body), 0, size) + body

def var(g, name, data):
    n = name.encode("utf-16-le")
    return g + struct.pack("<QQ", len(name), len(data)) + n + data

def devpath():
    pci_root = struct.pack("<BBH", 2, 1, 12) + struct.pack("<II", 0x0a0341d0, 0)
    pci = struct.pack("<BBHBB", 1, 1, 6, 0, 1)
    hd = struct.pack("<BBH", 4, 1, 42) + struct.pack("<IQQ", 1, 2048, 0x1e000) + guid("5ca1ab1e-0000-4000-8000-000000000002") + bytes([2, 2])
    path = "\\EFI\\BOOT\\BOOTX64.EFI\0".encode("utf-16-le")
    fp = struct.pack("<BBH", 4, 4, 4 + len(path)) + path
    mac = struct.pack("<BBH", 3, 11, 37) + bytes.fromhex("525400123456") + bytes(26) + bytes([1])
    ipv4 = struct.pack("<BBH", 3, 12, 27) + bytes([10, 0, 2, 15, 10, 0, 2, 2]) + struct.pack("<HHHB", 0, 69, 17, 0) + bytes(8)
    fv = struct.pack("<BBH", 4, 7, 20) + guid("7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1")
    fvfile = struct.pack("<BBH", 4, 6, 20) + guid("462caa21-7614-4503-836e-8ab6f4662331")
    end = struct.pack("<BBH", 0x7F, 0xFF, 4)
    inst = struct.pack("<BBH", 0x7F, 0x01, 4)
    unknown = struct.pack("<BBH", 9, 9, 7) + b"abc"
    return {
        "disk": pci_root + pci + hd + fp + end,
        "pxe": pci_root + pci + mac + ipv4 + end,
        "fv": fv + fvfile + end,
        "instances": pci_root + inst + pci_root + pci + end,
        "unknown-node": unknown + end,
        "short-node": struct.pack("<BBH", 1, 1, 4) + end,
        "bad-length": struct.pack("<BBH", 1, 1, 2),
    }

def load_option(desc, dp):
    d = (desc + "\0").encode("utf-16-le")
    return struct.pack("<IH", 1, len(dp)) + d + dp

def legacy_event(pcr, etype, data, digest=None):
    digest = digest if digest is not None else hashlib.sha1(data).digest()
    return struct.pack("<II", pcr, etype) + digest + struct.pack("<I", len(data)) + data

BANKS = [(0x0004, "sha1", 20), (0x000B, "sha256", 32), (0x000C, "sha384", 48)]

def specid(banks, vendor=b""):
    s = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(banks))
    s += b"".join(struct.pack("<HH", a, n) for a, _, n in banks) + bytes([len(vendor)]) + vendor
    return legacy_event(0, 3, s, bytes(20))

def agile_event(pcr, etype, data, banks=BANKS, digests=None):
    out = struct.pack("<III", pcr, etype, len(banks))
    for a, name, n in banks:
        d = digests[name] if digests and name in digests else hashlib.new(name, data).digest()
        out += struct.pack("<H", a) + d
    return out + struct.pack("<I", len(data)) + data

def image_load(dp, length=1 << 20):
    return struct.pack("<QQQQ", 0x7e000000, length, 0, len(dp)) + dp

def gpt():
    hdr = b"EFI PART" + struct.pack("<IIII", 0x10000, 92, 0, 0) + struct.pack("<QQQQ", 1, 131071, 34, 131038)
    hdr += guid("5ca1ab1e-0000-4000-8000-000000000001") + struct.pack("<QIII", 2, 128, 128, 0)
    entry = guid("c12a7328-f81f-11d2-ba4b-00a0c93ec93b") + guid("5ca1ab1e-0000-4000-8000-000000000002")
    entry += struct.pack("<QQQ", 2048, 124927, 0) + "EFI System Partition".encode("utf-16-le").ljust(72, b"\0")
    return hdr + struct.pack("<Q", 1) + entry

def main():
    boot_log = sys.argv[sys.argv.index("--boot-log") + 1] if "--boot-log" in sys.argv else None
    c = cert()
    db = esl(X509, [c], 16 + len(c))
    dbx = esl(SHA256, [hashlib.sha256(b"revoked").digest(), hashlib.sha256(b"also").digest()], 48)
    write("fuzz-siglist", "x509", db)
    write("fuzz-siglist", "sha256", dbx)
    write("fuzz-siglist", "two-lists", db + dbx)
    write("fuzz-siglist", "empty", b"")
    write("fuzz-siglist", "bad-size", dbx[:16] + struct.pack("<III", 100, 0, 48) + dbx[28:])
    write("fuzz-siglist", "header-size", X509 + struct.pack("<III", 28 + 20, 4, 16) + bytes(20))

    dps = devpath()
    for name, dp in dps.items():
        write("fuzz-devpath", name, dp)
    write("fuzz-devpath", "load-option", load_option("UEFI Misc Device", dps["disk"]))
    write("fuzz-devpath", "load-option-no-nul", struct.pack("<IH", 1, 4) + "abc".encode("utf-16-le"))

    sb = var(GLOBAL, "SecureBoot", b"\x01")
    events = [
        specid(BANKS),
        agile_event(0, 3, b"StartupLocality\0\x03", digests={n: bytes(s) for _, n, s in BANKS}),
        agile_event(0, 8, "GCE Virtual Firmware v1\0".encode("utf-16-le")),
        agile_event(0, 0x80000008, struct.pack("<QQ", 0x820000, 0xe0000)),
        agile_event(7, 0x80000001, sb),
        agile_event(7, 0x80000001, var(SECDB, "db", db)),
        agile_event(7, 0x80000001, var(SECDB, "dbx", dbx)),
        agile_event(7, 4, bytes(4)),
        agile_event(1, 0x80000002, var(GLOBAL, "BootOrder", b"\x01\x00\x00\x00")),
        agile_event(1, 0x80000002, var(GLOBAL, "Boot0001", load_option("UEFI Misc Device", dps["disk"]))),
        agile_event(4, 0x80000007, b"Calling EFI Application from Boot Option"),
        agile_event(5, 0x80000006, gpt()),
        agile_event(7, 0x800000E0, var(SECDB, "db", OWNER + c)),
        agile_event(4, 0x80000003, image_load(dps["disk"])),
        agile_event(8, 13, b"grub_cmd linux /vmlinuz root=/dev/sda2\0"),
        agile_event(0xFFFFFFFF, 3, b"WBCL"),
        agile_event(5, 0x80000007, b"Exit Boot Services Invocation"),
    ]
    agile = b"".join(events)
    write("fuzz-eventlog", "agile-3-banks", agile)
    write("fuzz-eventlog", "agile-padded", agile + bytes(64))
    write("fuzz-eventlog", "agile-truncated", agile[:-7])
    write("fuzz-eventlog", "agile-sha256", specid(BANKS[1:2]) + agile_event(7, 4, bytes(4), banks=BANKS[1:2]))
    write("fuzz-eventlog", "specid-vendor-outside", specid(BANKS[:1], b"\xde\xad\xbe\xef")[:-4][:28] +
          struct.pack("<I", 37) + specid(BANKS[:1], b"\xde\xad\xbe\xef")[32:])
    legacy = legacy_event(0, 8, b"1.0\0") + legacy_event(0, 1, b"POST CODE") + legacy_event(7, 0x80000001, sb) + \
        legacy_event(7, 4, bytes(4)) + legacy_event(4, 0x80000003, image_load(dps["fv"]))
    write("fuzz-eventlog", "legacy", legacy)
    write("fuzz-eventlog", "locality-only", legacy_event(0, 3, b"StartupLocality\0\x00", bytes(20)))
    if boot_log:
        write("fuzz-eventlog", "ovmf-boot", open(boot_log, "rb").read())

    d = hashlib.sha256(b"file").digest()
    ng = lambda path, algo="sha256", dg=d: struct.pack("<I", len(algo) + 2 + len(dg)) + algo.encode() + b":\0" + dg + \
        struct.pack("<I", len(path) + 1) + path.encode() + b"\0"
    def bin_entry(tmpl, data, th=None):
        th = th if th is not None else hashlib.sha1(data).digest()
        return struct.pack("<I", 10) + th + struct.pack("<I", len(tmpl)) + tmpl.encode() + struct.pack("<I", len(data)) + data
    write("fuzz-ima", "binary-ima-ng", bin_entry("ima-ng", ng("boot_aggregate")) + bin_entry("ima-ng", ng("/init")) + b"\n")
    write("fuzz-ima", "binary-ima-sig", bin_entry("ima-sig", ng("/bin/sh") + struct.pack("<I", 3) + b"sig"))
    write("fuzz-ima", "binary-violation", bin_entry("ima-ng", ng("/tmp/x"), bytes(20)))
    legacy_data = hashlib.sha1(b"f").digest() + b"/etc/passwd".ljust(256, b"\0")
    write("fuzz-ima", "binary-ima", struct.pack("<I", 10) + hashlib.sha1(legacy_data).digest() + struct.pack("<I", 3) +
          b"ima" + hashlib.sha1(b"f").digest() + struct.pack("<I", 11) + b"/etc/passwd")
    th = hashlib.sha1(ng("/usr/bin/ls")).hexdigest()
    write("fuzz-ima", "ascii-ima-ng", f"10 {th} ima-ng sha256:{d.hex()} /usr/bin/ls\n10 {'0'*40} ima-ng sha256:{'0'*64} /v\n".encode())
    write("fuzz-ima", "ascii-ima", f"10 {hashlib.sha1(legacy_data).hexdigest()} ima {hashlib.sha1(b'f').hexdigest()} /etc/passwd\n".encode())
    write("fuzz-ima", "ascii-ima-sig", f"10 {th} ima-sig sha256:{d.hex()} /usr/bin/ls 030202\n10 {th} ima-sig sha256:{d.hex()} /a b \n".encode())
    write("fuzz-ima", "ascii-bad", b"10 zz ima-ng sha256:00 /x\n")

def store(records=b""):
    """A 16 KiB firmware volume with an authenticated variable store (PI vol. 3; edk2 VariableFormat.h)."""
    size = 0x4000
    hdr = bytearray(bytes(16) + guid("fff12b8d-7696-4c8b-a985-2747075b4f50") + struct.pack("<Q", size) + b"_FVH" +
                    struct.pack("<IHHHBB", 0x0004feff, 0x48, 0, 0, 0, 2) + struct.pack("<IIII", 4, 0x1000, 0, 0))
    total = sum(struct.unpack("<%dH" % (len(hdr) // 2), bytes(hdr))) & 0xffff
    hdr[0x32:0x34] = struct.pack("<H", (0x10000 - total) & 0xffff)
    vs = guid("aaf32c78-947b-439a-a180-2e144ec37792") + struct.pack("<IBBHI", 0x2000 - 0x48, 0x5a, 0xfe, 0, 0)
    body = bytes(hdr) + vs + records
    return body + b"\xff" * (size - len(body))

def record(name, vendor, data, state=0x3f, attrs=0x27):
    n = (name + "\0").encode("utf-16-le")
    r = struct.pack("<HBBIQ", 0x55AA, state, 0, attrs, 0) + bytes(16) + struct.pack("<III", 0, len(n), len(data)) + vendor + n + data
    return r + b"\0" * (-len(r) % 4)

def more_seeds():
    c = cert()
    db = esl(X509, [c], 16 + len(c))
    write("fuzz-varstore", "empty", store())
    write("fuzz-varstore", "db-and-deleted", store(record("db", SECDB, db, state=0x3c) + record("db", SECDB, db) +
                                                  record("SecureBootEnable", guid("f0a30bc7-af08-4556-99c4-001009c93a44"), b"\x01", attrs=3)))
    write("fuzz-varstore", "bad-record", store(struct.pack("<HBB", 0x55AA, 0x3f, 0) + b"\xff" * 60))
    auth = bytes(16) + struct.pack("<IHH", 24 + 5, 0x0200, 0x0EF1) + guid("4aafd29d-68df-49ee-8aa9-347d375665a7") + b"PKCS7"
    write("fuzz-authvar", "auth2-db", auth + db)
    write("fuzz-authvar", "auth2-empty", auth)
    write("fuzz-authvar", "auth2-short", auth[:30])
    write("fuzz-authvar", "esl", db)
    write("fuzz-authvar", "der", c)

if __name__ == "__main__":
    if "--only-new" in sys.argv:
        more_seeds()
        sys.exit(0)
    more_seeds()
    main()
