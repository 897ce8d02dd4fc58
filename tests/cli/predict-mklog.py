#!/usr/bin/env python3
# Build a sha256-only crypto-agile event log (TCG PFP 1.05, 10.2.2 / 10.4.5.1) with Secure Boot on,
# db holding the given certificates, and one boot application loaded from \EFI\BOOT\BOOTX64.EFI with
# the given Authenticode digest (from pesign -h) authorised by the given db certificate.
# Prints the log's own replay of PCRs 4 and 7 (hashlib) as JSON: the oracle for shield predict.
# Usage: predict-mklog.py OUT AUTHENTICODE_HEX SIGNER_DER OWNER_GUID DB_DER...
import hashlib, json, struct, sys, uuid

out, digest_hex, signer, owner = sys.argv[1:5]
dbs = sys.argv[5:]
owner = uuid.UUID(open(owner).read().strip()).bytes_le
GLOBAL = uuid.UUID("8be4df61-93ca-11d2-aa0d-00e098032b8c").bytes_le
IMAGE_DB = uuid.UUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f").bytes_le
X509 = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072").bytes_le
EV_NO_ACTION, EV_SEPARATOR, EV_EFI_ACTION = 3, 4, 0x80000007
EV_VAR, EV_APP, EV_AUTH = 0x80000001, 0x80000003, 0x800000E0

def var(guid, name, data):
    n = name.encode("utf-16-le")
    return guid + struct.pack("<QQ", len(name), len(data)) + n + data

def sigdata(der):
    return owner + open(der, "rb").read()

def siglist(der):
    d = sigdata(der)
    return X509 + struct.pack("<III", 28 + len(d), 0, len(d)) + d

specid = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", 0xB, 32) + b"\0"
log = struct.pack("<II", 0, EV_NO_ACTION) + b"\0" * 20 + struct.pack("<I", len(specid)) + specid
pcrs = {4: b"\0" * 32, 7: b"\0" * 32}

def event(pcr, typ, data, digest=None):
    global log
    d = digest if digest is not None else hashlib.sha256(data).digest()
    log += struct.pack("<IIIH", pcr, typ, 1, 0xB) + d + struct.pack("<I", len(data)) + data
    if pcr in pcrs:
        pcrs[pcr] = hashlib.sha256(pcrs[pcr] + d).digest()

path = "\\EFI\\BOOT\\BOOTX64.EFI\0".encode("utf-16-le")
devpath = struct.pack("<BBH", 4, 4, 4 + len(path)) + path + bytes([0x7F, 0xFF, 4, 0])
image_load = struct.pack("<QQQQ", 0x7E000000, 0x1000, 0, len(devpath)) + devpath

event(7, EV_VAR, var(GLOBAL, "SecureBoot", b"\1"))
event(7, EV_VAR, var(IMAGE_DB, "db", b"".join(siglist(d) for d in dbs)))
event(7, EV_VAR, var(IMAGE_DB, "dbx", b""))
event(7, EV_SEPARATOR, b"\0\0\0\0")
event(4, EV_EFI_ACTION, b"Calling EFI Application from Boot Option")
event(4, EV_SEPARATOR, b"\0\0\0\0")
event(7, EV_AUTH, var(IMAGE_DB, "db", sigdata(signer)))
event(4, EV_APP, image_load, bytes.fromhex(digest_hex))
open(out, "wb").write(log)
print(json.dumps({str(k): v.hex() for k, v in pcrs.items()}))
