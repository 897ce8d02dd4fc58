#!/usr/bin/env python3
"""Small synthetic edk2 variable stores for fuzz-varstore (PI 1.7 vol. 3 3.2.1; edk2 VariableFormat.h)."""
import hashlib, os, struct, sys, uuid

OUT = sys.argv[1]
def guid(s): return uuid.UUID(s).bytes_le
NV = guid("fff12b8d-7696-4c8b-a985-2747075b4f50")
AUTH = guid("aaf32c78-947b-439a-a180-2e144ec37792")
PLAIN = guid("ddcf3616-3275-4164-98b6-fe85707ffe7d")
GLOBAL = guid("8be4df61-93ca-11d2-aa0d-00e098032b8c")
SECDB = guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
SHA256 = guid("c1c41626-504c-4092-aca9-41f936934328")
X509 = guid("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")

def fv(body, size=0x800, store_size=None, blockmap=((2, 0x400),), store_guid=AUTH, fix=True, revision=2):
    bm = b"".join(struct.pack("<II", n, l) for n, l in blockmap) + bytes(8)
    hlen = 0x38 + len(bm)
    hdr = bytearray(bytes(16) + NV + struct.pack("<Q", size) + b"_FVH" +
                    struct.pack("<IHHHBB", 0x0004feff, hlen, 0, 0, 0, revision) + bm)
    if fix:
        total = sum(struct.unpack("<%dH" % (len(hdr) // 2), bytes(hdr))) & 0xffff
        hdr[0x32:0x34] = struct.pack("<H", (0x10000 - total) & 0xffff)
    if store_size is None:
        store_size = size - 0x100 - hlen
    out = bytes(hdr) + store_guid + struct.pack("<IBBHI", store_size, 0x5a, 0xfe, 0, 0) + body
    out += b"\xff" * (hlen + store_size - len(out))
    return (out + b"\x5a" * (size - len(out)))[:size]   # the rest stands for the FTW area

def rec(name, vendor, data, state=0x3f, attrs=0x27, ts=bytes(16), auth=True, name_bytes=None):
    n = name_bytes if name_bytes is not None else (name + "\0").encode("utf-16-le")
    if auth:
        r = struct.pack("<HBBIQ", 0x55AA, state, 0, attrs, 0) + ts + struct.pack("<III", 0, len(n), len(data))
    else:
        r = struct.pack("<HBBIII", 0x55AA, state, 0, attrs, len(n), len(data))
    r += vendor + n + data
    return r + b"\xff" * (-len(r) % 4)

def esl_sha(*items):
    return SHA256 + struct.pack("<III", 28 + 48 * len(items), 0, 48) + b"".join(bytes(16) + hashlib.sha256(i).digest() for i in items)
def esl_x509(der):
    return X509 + struct.pack("<III", 28 + 16 + len(der), 0, 16 + len(der)) + bytes(16) + der

def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

t2025 = struct.pack("<HBBBBBBIhBB", 2025, 3, 10, 2, 53, 39, 0, 0, 0, 0, 0)
tlocal = struct.pack("<HBBBBBBIhBB", 2024, 12, 31, 23, 59, 59, 0, 999, 0x7ff, 0, 0)
keys = (rec("db", SECDB, esl_sha(b"a", b"b"), ts=t2025) + rec("dbx", SECDB, esl_sha(b"revoked")) +
        rec("KEK", GLOBAL, esl_x509(b"\x30\x03\x02\x01\x01")) + rec("PK", GLOBAL, esl_x509(b"\x30\x00"), ts=tlocal))
write("keys", fv(keys))
write("empty-auth", fv(b""))
write("empty-plain", fv(b"", store_guid=PLAIN))
write("plain-boot", fv(rec("Boot0000", GLOBAL, b"\x01\x00\x00\x00\x04\x00", attrs=7, auth=False) +
                       rec("Timeout", GLOBAL, b"\x05\x00", attrs=7, auth=False), store_guid=PLAIN))
write("replaced", fv(rec("db", SECDB, esl_sha(b"old"), state=0x3c) + rec("db", SECDB, esl_sha(b"new"))))
write("in-transition", fv(rec("KEK", GLOBAL, esl_sha(b"k"), state=0x3e) + rec("KEK", GLOBAL, esl_sha(b"l"), state=0x7f)))
write("states", fv(rec("A", GLOBAL, b"\x01", state=0x3d, attrs=3) + rec("B", GLOBAL, b"\x02", state=0xff, attrs=3) +
                   rec("C", GLOBAL, b"\x03", state=0x00, attrs=0x1ff)))
full = rec("F", GLOBAL, b"\x00" * (0x800 - 0x100 - 0x48 - 28 - 60 - 4), attrs=7)
write("full", fv(full))
write("almost-full", fv(rec("F", GLOBAL, b"\x00" * (0x800 - 0x100 - 0x48 - 28 - 60 - 4 - 70), attrs=7)))
write("two-blocks", fv(rec("X", GLOBAL, b"x", attrs=7), blockmap=((1, 0x400), (4, 0x100))))
write("bad-checksum", fv(b"", fix=False))
write("bad-revision", fv(b"", revision=1))
write("store-too-big", fv(b"", store_size=0x1000))
write("no-name-nul", fv(rec("", GLOBAL, b"d", attrs=7, name_bytes=b"A\x00B\x00")))
write("inner-nul", fv(rec("", GLOBAL, b"d", attrs=7, name_bytes=b"A\x00\x00\x00B\x00\x00\x00")))
write("name-past-end", fv(rec("N", GLOBAL, b"d", attrs=7)[:36] + struct.pack("<I", 0x7fe) + rec("N", GLOBAL, b"d", attrs=7)[40:]))
write("data-past-end", fv(rec("D", GLOBAL, b"d", attrs=7)[:40] + struct.pack("<I", 0x10000) + rec("D", GLOBAL, b"d", attrs=7)[44:]))
write("garbage-startid", fv(rec("G", GLOBAL, b"g", attrs=7) + b"\x34\x12" + b"\x00" * 10))
write("record-in-free-space", fv(rec("G", GLOBAL, b"g", attrs=7) + b"\xff" * 64 + rec("H", GLOBAL, b"h", attrs=7)))
write("header-cut", fv(b"\xaa\x55\x3f\x00" + b"\x07" * 20, store_size=28 + 24))
