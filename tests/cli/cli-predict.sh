#!/bin/bash
# shield predict: a log with version 1 of a bootloader (PCR 4: its Authenticode digest as sbsign
# computed and signed it, read back with sbattach + openssl asn1parse (pesign -h does not load make_pe's minimal
# headers); PCR 7: the db certificate that signed it), predicted with version 2, against a log
# built for version 2 and replayed by Python's hashlib (tests/cli/predict-mklog.py).
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

expect 2 "no arguments: usage error" "$shield" predict
contains "give one of --eventlog LOG or --instance NAME" "says what is missing"
expect 0 "--help" "$shield" predict --help
contains "--replace PATH=FILE" "help names --replace"
expect 2 "--replace without =" "$shield" predict --eventlog /dev/null --replace nothing
contains "PATH=FILE or PATH=sha256:HEX" "says the form"

for t in sbsign sbattach openssl; do
        command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
"$shield" keys generate --out "$work/k1" --cn-prefix One >/dev/null 2>&1
"$shield" keys generate --out "$work/k2" --cn-prefix Two >/dev/null 2>&1
cp "$work/k1/owner.guid" "$work/k2/owner.guid"
make_pe "$work/base.efi"
python3 - "$work/base.efi" "$work/v1u.efi" "$work/v2u.efi" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i, out in enumerate(sys.argv[2:]):
    b[0x210] = 0x41 + i            # inside the first section: another version
    open(out, "wb").write(b)
PY
sbsign --key "$work/k1/db.key" --cert "$work/k1/db.crt" --output "$work/v1.efi" "$work/v1u.efi" >/dev/null 2>&1
sbsign --key "$work/k2/db.key" --cert "$work/k2/db.crt" --output "$work/v2.efi" "$work/v2u.efi" >/dev/null 2>&1
sbsign --key "$work/k1/db.key" --cert "$work/k1/db.crt" --output "$work/v2same.efi" "$work/v2u.efi" >/dev/null 2>&1
# The digest sbsign signed: the first 32-byte OCTET STRING of the SignedData (SpcIndirectDataContent).
h() {
        rm -f "$work/sig.p7"
        sbattach --detach "$work/sig.p7" "$1" >/dev/null 2>&1 &&
                openssl asn1parse -inform DER -in "$work/sig.p7" | awk -F: '/l=  32 prim: OCTET STRING/ {print tolower($NF); exit}'
}
h1=$(h "$work/v1.efi") h2=$(h "$work/v2.efi") h2s=$(h "$work/v2same.efi")
[ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" != "$h2" ] && echo "ok: sbsign signed two versions' digests" ||
        { echo "FAIL: sbsign digests: '$h1' '$h2'"; fails=$((fails + 1)); }

mk() { python3 "$here/predict-mklog.py" "$1" "$2" "$3" "$work/k1/owner.guid" "$work/k1/db.der" "$work/k2/db.der"; }
mk "$work/log1" "$h1" "$work/k1/db.der" >/dev/null
want2=$(mk "$work/log2" "$h2" "$work/k2/db.der")
want2s=$(mk "$work/log2s" "$h2s" "$work/k1/db.der")
want1=$(mk "$work/log1b" "$h1" "$work/k1/db.der")

# check DESCRIPTION WANT_JSON CHANGED: the last output's PCRs 4 and 7 and its changed list.
check() {
        if python3 - "$work/out" "$2" "$3" <<'PY'; then echo "ok: $1"; else echo "FAIL: $1"; sed 's/^/  | /' "$work/out" | head -20; fails=$((fails + 1)); fi
import json, sys
got, want, changed = json.load(open(sys.argv[1])), json.loads(sys.argv[2]), json.loads(sys.argv[3])
ok = got["bank"] == "sha256" and all(got["pcrs"][k] == v for k, v in want.items()) and got["changed"] == changed
if not ok: print("want", want, "changed", changed, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

expect 0 "the log replays to itself" "$shield" eventlog replay "$work/log1" --json
expect 0 "v2 signed by another db key" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI='"$work/v2.efi" --json
is_json "predict --json"
check "PCRs 4 and 7 = the v2 log's replay" "$want2" "[4, 7]"
contains "another db certificate" "a note says the authority changes"

expect 0 "v2 signed by the same db key" "$shield" predict --eventlog "$work/log1" --replace '\efi\boot\bootx64.efi='"$work/v2same.efi" --json
check "PCR 4 = the v2 log's, PCR 7 unchanged (path case-insensitive)" "$want2s" "[4]"

expect 0 "the same image: nothing changes" "$shield" predict --eventlog "$work/log1" --replace 'BOOTX64.EFI='"$work/v1.efi" --json
check "v1 for v1: nothing changed" "$want1" "[]"

expect 0 "a digest" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI=sha256:'"$h2s" --json
check "sha256:HEX: PCR 4, signer kept" "$want2s" "[4]"
contains "taken to be the old image" "a note says the signer is assumed"

expect 0 "text output" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI='"$work/v2.efi"
contains "^  4  [0-9a-f]{64}  \* changed" "PCR 4 marked changed"
contains "^  0  0{64}$" "PCR 0 carried over"

expect 2 "a path no event names" "$shield" predict --eventlog "$work/log1" --replace '\EFI\ubuntu\grubx64.efi='"$work/v2.efi"
contains "no EV_EFI_BOOT_SERVICES_APPLICATION in PCR 4 is loaded from .EFI.ubuntu.grubx64.efi" "names the path"
expect 1 "an unsigned image: the firmware would not run it" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI='"$work/v2u.efi"
contains "no db certificate of the log verifies" "says why"
expect 2 "a bank the log lacks" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI='"$work/v2.efi" --bank sha1
contains "the log has no sha1 bank" "names the bank"
expect 2 "a short digest" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI=sha256:abcd'
expect 2 "not a PE image" "$shield" predict --eventlog "$work/log1" --replace '\EFI\BOOT\BOOTX64.EFI='"$work/log1"
contains "not a PE image" "says so"
expect 2 "--instance without a store" "$shield" predict --instance nosuch --store "$work/none.db" --replace 'X=sha256:'"$h2"
finish
