#!/usr/bin/env python3
"""Extra synthetic fuzz-eventlog seeds (PFP 1.05 layouts): quirks and banks."""
import hashlib, struct, os
import sys
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "fuzz-eventlog")
H = {4: ("sha1", 20), 11: ("sha256", 32), 12: ("sha384", 48), 13: ("sha512", 64), 0x12: ("sm3", 32)}
def dig(alg, data, size):
    if alg in H:
        try: return hashlib.new(H[alg][0], data).digest()
        except ValueError: pass
    return b"\x5a" * size
def legacy(pcr, typ, data, digest=None):
    return struct.pack("<II", pcr, typ) + (digest if digest is not None else hashlib.sha1(data).digest()) + struct.pack("<I", len(data)) + data
def specid(banks, vendor=b"", cut=0, typ=3, minor=0):
    s = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, minor, 2, 0, 2, len(banks))
    for a, n in banks: s += struct.pack("<HH", a, n)
    s += bytes([len(vendor)]) + vendor
    return struct.pack("<II", 0, typ) + bytes(20) + struct.pack("<I", len(s) - cut) + s
def ev(banks, pcr, typ, data, digests=None, hashed=None):
    b = struct.pack("<III", pcr, typ, len(banks))
    for a, n in banks:
        b += struct.pack("<H", a) + (bytes(n) if typ == 3 else dig(a, data if hashed is None else hashed, n))
    return b + struct.pack("<I", len(data)) + data
def var(guid, name, data):
    n = name.encode("utf-16-le")
    return guid + struct.pack("<QQ", len(name), len(data)) + n + data
GLOBAL = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
B2 = [(4, 20), (11, 32)]
B3 = [(4, 20), (11, 32), (12, 48)]
ALL = [(4, 20), (11, 32), (12, 48), (13, 64), (0x12, 32), (0x4242, 24)]
loc = b"StartupLocality\0"
ebs = b"Exit Boot Services Invocation"
seeds = {}
seeds["quirks-lenovo-hcrtm"] = specid(B2) + ev(B2, 0, 3, loc + b"\x04") + ev(B2, 0, 0x80000010, b"HCRTM") + \
    ev(B2, 0, 1, b"ACPI DATA") + ev(B2, 0, 1, b"ACPI DATA") + ev(B2, 7, 4, bytes(4)) + ev(B2, 5, 0x80000007, ebs)
seeds["wbcl-pcr-index"] = specid(B2) + ev(B2, 7, 4, bytes(4)) + ev(B2, 0xFFFFFFFF, 6, b"wbcl") + ev(B2, 30, 5, b"odd") + bytes(16)
seeds["all-banks-unknown-alg"] = specid(ALL, b"vendor") + ev(ALL, 7, 4, bytes(4)) + ev(ALL, 4, 0x80000007, b"Calling EFI Application")
seeds["missing-digest"] = specid(B3) + ev(B3, 7, 4, bytes(4)) + ev(B3[1:], 2, 0x80000004, b"drv") + ev(B3[:1], 2, 0x80000004, b"drv")
seeds["secureboot-vars"] = specid(B2) + ev(B2, 7, 0x80000001, var(GLOBAL, "SecureBoot", b"\x01")) + \
    ev(B2, 7, 0x80000001, var(GLOBAL, "PK", b"")) + ev(B2, 7, 4, bytes(4)) + \
    ev(B2, 1, 0x80000002, var(GLOBAL, "Boot0000", b"\x01\x00\x00\x00\x04\x00A\x00\x00\x00\x7f\xff\x04\x00"), hashed=b"\x01\x00\x00\x00\x04\x00A\x00\x00\x00\x7f\xff\x04\x00") + \
    ev(B2, 7, 0x800000E0, var(bytes(16), "Shim", b"cert"))
cmd = b"grub_cmd: linux /vmlinuz root=/dev/sda1\0"
seeds["grub-strings"] = specid(B2) + ev(B2, 8, 0xD, cmd, hashed=cmd[10:-1]) + ev(B2, 9, 0xD, b"/boot/grub/grub.cfg\0") + \
    ev(B2, 8, 0xD, b"kernel_cmdline: /vmlinuz ro\0", hashed=b"/vmlinuz ro")
seeds["specid-hp-header"] = specid(B2, typ=5, minor=9) + ev(B2, 7, 4, bytes(4)) + b"\xff" * 9
seeds["legacy-padded-ff"] = legacy(0, 8, "GCE Virtual Firmware v1".encode("utf-16-le")) + legacy(7, 4, bytes(4)) + \
    legacy(4, 0x80000007, ebs) + b"\xff" * 32
seeds["legacy-specid00"] = legacy(0, 3, b"Spec ID Event00\0" + bytes(8), bytes(20)) + legacy(0, 1, b"ACPI DATA") + legacy(7, 4, b"\xff" * 4)
seeds["specid-bad-digest-size"] = specid([(11, 20)]) + ev([(11, 20)], 7, 4, bytes(4))
seeds["agile-no-banks"] = specid([])
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f: f.write(data)
    print(name, len(data))
