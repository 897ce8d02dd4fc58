#!/bin/bash
# The attestation pipeline's guarantees, tried as an attacker would over
# loopback against a fresh shieldd (docs/API.md, "Registration and trust"
# and "Attest"). Each case reproduces an attack that fooled the first
# service and asserts the refusal, and that nothing recorded changed:
#   1. a machine with no TPM: a software EK and AK (made here from openssl
#      keys), even with an "EK certificate" from the attacker's own CA →
#      403 ek-untrusted, no instance;
#   2. an AK certificate the platform CA issued to machine "a" used for
#      another name → 403 name-mismatch; with --require-enrolment a genuine
#      TPM cannot claim a name without the operator → 403 enrolment-required;
#   3. an edited SecureBoot event that still replays (its digest kept) →
#      event-data fails: not verified, no token, no secboot claim;
#   4. unauthenticated evidence (no "ak", a flipped signature) → 422, the
#      instance's colour, status and history unchanged;
#   5. a first quote over PCR 16 only, no event log, made-up values for
#      PCRs 0-15 → not verified, no golden recorded;
#   6. 65,000 reasons (a 65,000-event log whose every separator lies) →
#      an answer under 200 KB, store growth under 1 MB, reasons capped.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
need_tools swtpm swtpm_setup tpm2_pcrextend tpm2_readpublic tpm2_nvread curl python3 openssl

start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
start_tpm b v1 || { echo "FAIL: swtpm b"; exit 1; }
start_shieldd s --no-tls --state "$work/state" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 2 || exit 1
base=$base_s
admin=$(cat "$work/state/admin-token")

# tpm2b_rsa FILE.pem OUT ATTRS-HEX → a TPM2B_PUBLIC (RSA-2048, SHA-256 name) for that key, made in software.
tpm2b_rsa() {
        local modulus
        modulus=$(openssl rsa -in "$1" -noout -modulus | cut -d= -f2)
        python3 - "$modulus" "$2" "$3" <<'PY'
import struct, sys
n = bytes.fromhex(sys.argv[1]); attrs = int(sys.argv[3], 16)
restricted_sign = attrs & 0x00040000 and not attrs & 0x00020000
scheme = struct.pack(">HH", 0x0014, 0x000B) if restricted_sign else struct.pack(">H", 0x0010)
sym = struct.pack(">H", 0x0010) if restricted_sign else struct.pack(">HHH", 0x0006, 128, 0x0043)
t = struct.pack(">HHI", 0x0001, 0x000B, attrs) + struct.pack(">H", 0) + sym + scheme + struct.pack(">HI", 2048, 0)
t += struct.pack(">H", len(n)) + n
open(sys.argv[2], "wb").write(struct.pack(">H", len(t)) + t)
PY
}
history_len() { http GET "/v1/instances/$1"; jget 'len(j["history"])'; }

# ---- 1. no TPM at all ----
openssl genrsa -out "$work/soft-ek.pem" 2048 2>/dev/null
openssl genrsa -out "$work/soft-ak.pem" 2048 2>/dev/null
tpm2b_rsa "$work/soft-ek.pem" "$work/soft-ek.pub" 000300b2   # fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt
tpm2b_rsa "$work/soft-ak.pem" "$work/soft-ak.pub" 00050072   # fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign
register_body "$work/soft.json" soft "$work/soft-ak.pub" "$work/soft-ek.pub"
http POST /v1/instances "$work/soft.json"
expect_status 403 "1 a software EK without a certificate is refused"
body_has '"ek-untrusted"' "1 reason ek-untrusted"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/evil-ca.key" -out "$work/evil-ca.crt" -subj "/CN=Evil TPM CA" \
        -days 30 2>/dev/null
openssl rsa -in "$work/soft-ek.pem" -pubout -out "$work/soft-ek-pub.pem" 2>/dev/null
openssl x509 -new -CA "$work/evil-ca.crt" -CAkey "$work/evil-ca.key" -force_pubkey "$work/soft-ek-pub.pem" \
        -subj "/CN=soft EK" -days 30 -outform DER -out "$work/soft-ek.crt" 2>/dev/null ||
        openssl req -new -key "$work/soft-ek.pem" -subj "/CN=soft EK" 2>/dev/null |
                openssl x509 -req -CA "$work/evil-ca.crt" -CAkey "$work/evil-ca.key" -CAcreateserial -days 30 \
                        -outform DER -out "$work/soft-ek.crt" 2>/dev/null
register_body "$work/soft2.json" soft "$work/soft-ak.pub" "$work/soft-ek.pub" "" "$work/soft-ek.crt"
http POST /v1/instances "$work/soft2.json"
expect_status 403 "1 a software EK certified by the attacker's own CA is refused"
http GET /v1/instances/soft
expect_status 404 "1 no instance was made"
tpm2b_rsa "$work/soft-ak.pem" "$work/soft-signer.pub" 00060072  # sign|decrypt: could sign anything
register_body "$work/soft3.json" soft3 "$work/soft-signer.pub" "$work/a.ek.pub" "" "$work/a.ek.crt"
http POST /v1/instances "$work/soft3.json"
expect_status 400 "1 an AK that is not a restricted signing key is refused"
body_has '"ak-not-restricted"' "1 reason ak-not-restricted"

# ---- 2. names are bound to identities ----
register_body "$work/squat.json" victim "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/squat.json"
expect_status 403 "2 a's AK certificate does not vouch for another name"
body_has '"name-mismatch"' "2 reason name-mismatch"
http POST /v1/instances "$work/squat.json" -H "Authorization: Bearer $admin"
expect_status 201 "2 the operator may enrol the name (admin token)"
start_shieldd e --no-tls --state "$work/state-e" --ek-ca "$work/ca" --require-enrolment --threads 2 || exit 1
base=$base_e
register_body "$work/claim.json" anyname "$work/b.ak.pub" "$work/b.ek.pub" "" "$work/b.ek.crt"
http POST /v1/instances "$work/claim.json"
expect_status 403 "2 --require-enrolment: a genuine TPM cannot claim a name by itself"
body_has '"enrolment-required"' "2 reason enrolment-required"
http POST /v1/instances "$work/claim.json" -H "Authorization: Bearer $(cat "$work/state-e/admin-token")"
expect_status 201 "2 --require-enrolment: the operator enrols it"
base=$base_s

# ---- 3. an edited SecureBoot event that still replays ----
# A log with a real EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot event (UEFI_VARIABLE_DATA, PFP 10.4.4)
# measured as SecureBoot = 0, then the data edited to 1 with the digest kept.
python3 - "$work/sb-log.bin" "$work/sb-extend.txt" "$work/sb-forged.bin" <<'PY'
import hashlib, struct, sys, uuid
banks = [(0x0004, "sha1"), (0x000B, "sha256")]
spec = b"Spec ID Event03\0" + struct.pack("<IBBBB", 0, 0, 2, 0, 2) + struct.pack("<I", len(banks))
for alg, name in banks:
    spec += struct.pack("<HH", alg, hashlib.new(name).digest_size)
spec += b"\0"
head = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
def var(value):
    name = "SecureBoot".encode("utf-16-le")
    return (uuid.UUID("8be4df61-93ca-11d2-aa0d-00e098032b8c").bytes_le + struct.pack("<QQ", 10, 1) + name +
            bytes([value]))
events = [(0, 0x80000008, b"firmware blob", None), (7, 0x80000001, var(0), var(1)), (7, 4, b"\0" * 4, None),
          (0, 4, b"\0" * 4, None), (4, 0x80000003, b"boot application", None), (4, 4, b"\0" * 4, None)]
log, forged, ext = head, head, []
for pcr, etype, data, lie in events:
    ev = struct.pack("<III", pcr, etype, len(banks))
    parts = []
    for alg, name in banks:
        d = hashlib.new(name, data).digest()
        ev += struct.pack("<H", alg) + d
        parts.append(f"{name}=0x{d.hex()}")
    ext.append(f"{pcr}:" + ",".join(parts))
    log += ev + struct.pack("<I", len(data)) + data
    shown = lie if lie is not None else data
    forged += ev + struct.pack("<I", len(shown)) + shown
open(sys.argv[1], "wb").write(log)
open(sys.argv[2], "w").write("\n".join(ext) + "\n")
open(sys.argv[3], "wb").write(forged)
PY
certify_tpm b sb || bad "certificates for sb"
register_body "$work/reg-sb.json" sb "$work/b.ak.pub" "$work/b.ek.pub" "$work/b.ak.crt"
http POST /v1/instances "$work/reg-sb.json"
expect_status 201 "3 register sb"
restart_tpm b
extend "$tcti_b" "$work/sb-extend.txt"
challenge sb
collect "$tcti_b" "$nonce" "$work/sb-forged.json" "$work/sb-forged.bin"
attest_body "$work/a-sb.json" sb "$work/sb-forged.json"
http POST /v1/attest "$work/a-sb.json"
expect_status 200 "3 the forged SecureBoot log is answered (authenticated, recorded)"
check "3 not verified" [ "$(jget 'j["verified"]')" = False ]
check "3 the event-data step fails" [ "$(jget '[s["status"] for s in j["steps"] if s["step"] == "event-data"][0]')" = fail ]
check "3 no token" [ "$(jget '"token" in j')" = False ]
body_has '"event-digest-mismatch"' "3 reason event-digest-mismatch"
challenge sb
collect "$tcti_b" "$nonce" "$work/sb-honest.json" "$work/sb-log.bin"
attest_body "$work/a-sb2.json" sb "$work/sb-honest.json"
http POST /v1/attest "$work/a-sb2.json"
expect_status 200 "3 the honest log of the same boot"
check "3 the honest log verifies" [ "$(jget 'j["verified"]')" = True ]
token=$(jget 'j.get("token", "")')
claims=$(python3 -c 'import base64, sys; p = sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$token")
check "3 its token says secboot false (the log measured SecureBoot = 0)" grep -q '"secboot":false' <<<"$claims"

# ---- 4. unauthenticated evidence changes nothing ----
mklog "$work/log.bin" v1
certify_tpm a m1 || bad "certificates for m1"
register_body "$work/reg-m1.json" m1 "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/reg-m1.json"
expect_status 201 "4 register m1"
restart_tpm a
extend "$tcti_a" "$work/extend.txt"
challenge m1
collect "$tcti_a" "$nonce" "$work/e1.json" "$work/log.bin"
attest_body "$work/a1.json" m1 "$work/e1.json"
http POST /v1/attest "$work/a1.json"
check "4 m1 is green" [ "$(jget 'j.get("colour")')" = green ]
before=$(history_len m1)
for variant in noak badsig; do
        challenge m1
        collect "$tcti_a" "$nonce" "$work/e-$variant.json" "$work/log.bin"
        python3 - "$work/e-$variant.json" "$variant" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
sig = bytearray(base64.b64decode(e["quote"]["signature"])); sig[-1] ^= 1
e["quote"]["signature"] = base64.b64encode(bytes(sig)).decode()
if sys.argv[2] == "noak":
    e.pop("ak", None)
for bank in e["pcrs"].values():   # what the attacker wants recorded: a changed boot application
    bank["4"] = "ab" * (len(bank["4"]) // 2)
json.dump(e, open(sys.argv[1], "w"))
PY
        attest_body "$work/a-$variant.json" m1 "$work/e-$variant.json"
        http POST /v1/attest "$work/a-$variant.json"
        expect_status 422 "4 unauthenticated evidence ($variant) is refused"
        body_has '"unauthenticated"' "4 reason unauthenticated ($variant)"
done
http GET /v1/instances/m1
check "4 m1 is still green" [ "$(jget 'j["colour"]')" = green ]
check "4 m1's history did not grow" [ "$(history_len m1)" = "$before" ]

# ---- 5. a golden from values nobody quoted ----
certify_tpm a m5 || bad "certificates for m5"
register_body "$work/reg-m5.json" m5 "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/reg-m5.json"
expect_status 201 "5 register m5"
challenge m5
"$shield" attest --tcti "$tcti_a" --nonce "$nonce" --pcrs 16 --eventlog /nonexistent --ima-log /nonexistent \
        -o "$work/e16.json" 2>/dev/null || bad "5 shield attest --pcrs 16"
python3 - "$work/e16.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
for bank in e["pcrs"].values():
    for i in range(16):
        bank[str(i)] = "00" * (len(bank["16"]) // 2)
json.dump(e, open(sys.argv[1], "w"))
PY
attest_body "$work/a16.json" m5 "$work/e16.json"
http POST /v1/attest "$work/a16.json"
check "5 a PCR-16-only first quote is not verified" [ "$(jget 'j["verified"]')" = False ]
body_has '"quote-pcrs-insufficient"' "5 reason quote-pcrs-insufficient"
check "5 no golden recorded" [ "$(jget 'j["golden_recorded"]')" = False ]
http GET /v1/instances/m5
check "5 m5 has no golden measurement" [ "$(jget 'j["golden"]')" = None ]

# ---- 6. 65,000 reasons ----
# bigger EVIDENCE OUT [badsig]: the evidence with 65,000 separators appended whose digests are not H(their data)
bigger() {
        python3 - "$@" <<'PY'
import base64, json, struct, sys
e = json.load(open(sys.argv[1]))
log = base64.b64decode(e["eventlog"])
ev = struct.pack("<III", 0, 4, 2) + struct.pack("<H", 4) + b"\x11" * 20 + struct.pack("<H", 11) + b"\x22" * 32
ev += struct.pack("<I", 4) + b"\0" * 4
e["eventlog"] = base64.b64encode(log + ev * 65000).decode()
if len(sys.argv) > 3:
    sig = bytearray(base64.b64decode(e["quote"]["signature"])); sig[-1] ^= 1
    e["quote"]["signature"] = base64.b64encode(bytes(sig)).decode()
json.dump(e, open(sys.argv[2], "w"))
PY
}
for variant in authenticated badsig; do
        size0=$(du -sb "$work/state" | cut -f1)
        challenge m1
        collect "$tcti_a" "$nonce" "$work/e-big0.json" "$work/log.bin"
        if [ $variant = badsig ]; then bigger "$work/e-big0.json" "$work/e-big.json" badsig
        else bigger "$work/e-big0.json" "$work/e-big.json"; fi
        attest_body "$work/a-big.json" m1 "$work/e-big.json"
        http POST /v1/attest "$work/a-big.json"
        answer=$(stat -c %s "$work/body")
        want=200; [ $variant = badsig ] && want=422
        expect_status $want "6 65,000 lying events ($variant)"
        check "6 the answer is under 200 KB ($variant: $answer bytes)" [ "$answer" -lt 200000 ]
        check "6 at most 256 reasons and the rest counted ($variant)" \
                [ "$(jget 'len(j["reasons"]) <= 258 and any(r["code"] == "reasons-cut" for r in j["reasons"])')" = True ]
        size1=$(du -sb "$work/state" | cut -f1)
        check "6 the store grew by under 1 MB ($variant: $((size1 - size0)) bytes)" [ $((size1 - size0)) -lt 1000000 ]
done

finish
