#!/usr/bin/env python3
# Synthetic IMA seeds for tests/fuzz/corpus/fuzz-ima (kernel-documented layouts).
import hashlib, struct, sys, os
out = sys.argv[1]
def w(name, data):
    open(os.path.join(out, name), "wb").write(data)
def f(b, be=False): return struct.pack(">I" if be else "<I", len(b)) + b
def dng(prefix, dg, be=False): return f(prefix.encode() + b":\0" + dg, be)
def s(x, be=False): return f(x.encode() + b"\0", be)
def rec(name, data, alg="sha1", pcr=10, be=False, zero=False):
    th = bytes(hashlib.new(alg).digest_size) if zero else hashlib.new(alg, data).digest()
    e = ">I" if be else "<I"
    return struct.pack(e, pcr) + th + struct.pack(e, len(name)) + name.encode() + struct.pack(e, len(data)) + data
def line(tmpl, data, fields, alg="sha1", pcr=10):
    return f"{pcr:2d} {hashlib.new(alg, data).hexdigest()} {tmpl} {fields}\n".encode()
dg = hashlib.sha256(b"seed").digest()
sig = bytes.fromhex("030204aabbccdd")
d = dng("sha256", dg) + s("/bin/sh") + f(sig)
w("ascii-sig-empty", line("ima-sig", dng("sha256", dg) + s("/bin/sh") + f(b""), f"sha256:{dg.hex()} /bin/sh "))
w("ascii-buf", line("ima-buf", dng("sha256", dg) + s("kexec-cmdline") + f(b"ro quiet"), f"sha256:{dg.hex()} kexec-cmdline {b'ro quiet'.hex()}"))
w("ascii-modsig", line("ima-modsig", dng("sha256", dg) + s("/m.ko") + f(b"") + dng("sha256", dg) + f(sig),
                       f"sha256:{dg.hex()} /m.ko  sha256:{dg.hex()} {sig.hex()}"))
w("ascii-ngv2", line("ima-ngv2", dng("ima:sha256", dg) + s("/usr/bin/a"), f"ima:sha256:{dg.hex()} /usr/bin/a"))
w("ascii-custom", line("n-ng|d-ng|sig", s("/etc/x") + dng("sm3", dg) + f(sig), f"/etc/x sm3:{dg.hex()} {sig.hex()}"))
w("ascii-unknown-pcr9", line("ima-ng", dng("sha256", dg) + s("boot_aggregate"), f"sha256:{dg.hex()} boot_aggregate") +
  b" 9 " + b"11" * 20 + b" vendor-thing some opaque text\n")
w("ascii-sha256-bank", line("ima-ng", dng("sha384", hashlib.sha384(b"x").digest()) + s("/x"),
                            f"sha384:{hashlib.sha384(b'x').hexdigest()} /x", alg="sha256"))
w("binary-sha256-bank", rec("ima-ng", dng("sha256", dg) + s("/init"), alg="sha256") + rec("ima-ng", dng("sha256", dg) + s("/v"), alg="sha256", zero=True))
w("binary-sm3-bank", rec("ima-ng", dng("sm3", dg) + s("/init"), alg="sm3"))
w("binary-big-endian", rec("ima-sig", dng("sha256", dg, True) + s("/s390", True) + f(sig, True), be=True))
w("binary-modsig", rec("ima-modsig", dng("sha256", dg) + s("/m.ko") + f(b"") + dng("sha256", dg) + f(sig)))
w("binary-unknown-template", rec("vendor-x", b"opaque") + rec("d-ng|n-ng|evmsig|iuid", dng("sha1", dg[:20]) + s("/e") + f(b"") + f(b"\0\0\0\0")))
legacy = dg[:20] + b"/" + b"L" * 300
w("binary-legacy-long-name", struct.pack("<I", 10) + hashlib.sha1(dg[:20] + legacy[20:275] + b"\0").digest() + f(b"ima") + dg[:20] + f(legacy[20:]))
w("binary-cut-record", rec("ima-ng", dng("sha256", dg) + s("/init"))[:-3])
