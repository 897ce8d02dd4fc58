#!/bin/bash
# The proof of a variable store is the firmware itself. Keys from
# `shield keys generate`, a store from `shield varstore create`, programs
# signed by sbsign; OVMF's secure-boot build decides:
#   signed (shield pe sign) with the db key → runs (SecureBoot=1, SetupMode=0 measured,
#                                         the db authority in PCR 7 is our db cert)
#   unsigned                           → refused
#   signed by a key not in db          → refused
#   signed with the db key, hash in dbx → refused (twice: a store made from an
#                                         initial_state.json with pesign's hash, and
#                                         one made from efitools' ESL files, whose
#                                         hash-to-efi-sig-list computes the hash itself)
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
for tool in qemu-system-x86_64 swtpm sbsign pesign python3; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-sb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$root/efi/build.sh" "$work/efi" >/dev/null || { echo "FAIL: building the EFI program"; exit 1; }
efi=$work/efi/shield-dump.efi
"$shield" keys generate --out "$work/owner" --cn-prefix "E2E Owner" >/dev/null 2>&1 || { bad "keys generate"; exit 1; }
"$shield" keys generate --out "$work/stranger" --cn-prefix "Stranger" >/dev/null 2>&1 || { bad "keys generate"; exit 1; }
guid=$(cat "$work/owner/owner.guid")

# Our own Authenticode signature for the owner's image (the firmware is the judge), sbsign's for the stranger.
"$shield" pe sign --key "$work/owner/db.key" --cert "$work/owner/db.crt" "$efi" -o "$work/signed.efi" >/dev/null ||
        { bad "pe sign"; exit 1; }
sbsign --key "$work/stranger/db.key" --cert "$work/stranger/db.crt" --output "$work/stranger.efi" "$efi" 2>/dev/null
# A second image with another hash (only the COFF TimeDateStamp differs), signed by sbsign with the
# db key: the positive control for the revoking stores, whose dbx holds only the first image's hash.
python3 - "$efi" "$work/other.efi" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
pe = struct.unpack_from("<I", b, 0x3c)[0]          # e_lfanew (PE/COFF spec 3.2)
struct.pack_into("<I", b, pe + 8, struct.unpack_from("<I", b, pe + 8)[0] ^ 0x5a5a5a5a)  # TimeDateStamp
open(sys.argv[2], "wb").write(b)
PY
sbsign --key "$work/owner/db.key" --cert "$work/owner/db.crt" --output "$work/other-signed.efi" "$work/other.efi" 2>/dev/null
# dbx by image hash: the Authenticode SHA-256 (signatures excluded), as pesign computes it.
hash=$(pesign -h -i "$work/signed.efi" 2>/dev/null | awk '{print $NF}')
[ ${#hash} -eq 64 ] || { bad "pesign -h gave no hash"; exit 1; }
"$shield" siglist create --sha256 "$hash" --owner "$guid" -o "$work/dbx.esl" >/dev/null

"$shield" varstore create --pk "$work/owner/PK.der" --kek "$work/owner/KEK.der" --db "$work/owner/db.der" \
        --owner "$guid" -o "$work/VARS.fd" >/dev/null || { bad "varstore create"; exit 1; }
# The revoking store goes the way an image's keys do: initial_state.json, then the store.
"$shield" initial-state create --pk "$work/owner/PK.der" --kek "$work/owner/KEK.crt" --db "$work/owner/db.der" \
        --dbx "$work/dbx.esl" -o "$work/initial_state.json" >/dev/null || { bad "initial-state create"; exit 1; }
"$shield" varstore create --initial-state "$work/initial_state.json" --owner "$guid" -o "$work/VARS-dbx.fd" >/dev/null ||
        { bad "varstore create --initial-state"; exit 1; }
"$shield" varstore show "$work/VARS-dbx.fd" >"$work/show.txt" && grep -q "CN=E2E Owner db" "$work/show.txt" &&
        grep -q "$hash" "$work/show.txt" && ok "varstore show reads back db and dbx" || bad "varstore show"

# The raw-ESL path, with independent tools: efitools builds every list, hash included.
if command -v cert-to-efi-sig-list >/dev/null && command -v hash-to-efi-sig-list >/dev/null; then
        for k in PK KEK db; do
                cert-to-efi-sig-list -g "$guid" "$work/owner/$k.crt" "$work/$k.efitools.esl" >/dev/null
        done
        hash-to-efi-sig-list "$work/signed.efi" "$work/dbx.efitools.esl" >/dev/null
        "$shield" siglist show "$work/dbx.efitools.esl" | grep -qi "$hash" &&
                ok "hash-to-efi-sig-list and pesign -h agree on the image hash" || bad "efitools' dbx hash is not pesign's"
        "$shield" varstore create --pk "$work/PK.efitools.esl" --kek "$work/KEK.efitools.esl" --db "$work/db.efitools.esl" \
                --dbx "$work/dbx.efitools.esl" --owner "$guid" -o "$work/VARS-efitools.fd" >/dev/null ||
                bad "varstore create from efitools ESL files refused"
        cases="unsigned stranger revoked revoked-efitools"
else
        echo "note: efitools is not installed: the efitools-made store is not booted"
        cases="unsigned stranger revoked"
fi

boot() { # NAME PROGRAM VARS → exit code of the boot in $work/NAME.rc
        "$root/scripts/boot-ovmf" --efi "$2" --vars "$3" --out "$work/$1" --timeout 60 2>"$work/$1.log"
        echo $? >"$work/$1.rc"
}
boot signed "$work/signed.efi" "$work/VARS.fd" &
boot unsigned "$efi" "$work/VARS.fd" &
wait
boot stranger "$work/stranger.efi" "$work/VARS.fd" &
boot revoked "$work/signed.efi" "$work/VARS-dbx.fd" &
wait
boot control "$work/other-signed.efi" "$work/VARS-dbx.fd" &
if [ -f "$work/VARS-efitools.fd" ]; then
        boot revoked-efitools "$work/signed.efi" "$work/VARS-efitools.fd" &
        wait
        boot control-efitools "$work/other-signed.efi" "$work/VARS-efitools.fd"
fi
wait

[ "$(cat "$work/signed.rc")" = 0 ] && ok "signed with the db key: the firmware ran it" || { cat "$work/signed.log"; bad "signed program did not run"; }
for case in control control-efitools; do
        [ -f "$work/$case.rc" ] || continue
        [ "$(cat "$work/$case.rc")" = 0 ] && ok "$case: the revoking store runs a db-signed image whose hash is not in dbx" ||
                { cat "$work/$case.log"; bad "$case: exit $(cat "$work/$case.rc"), expected it to run"; }
done
for case in $cases; do
        if [ "$(cat "$work/$case.rc")" = 1 ] && grep -q "refused" "$work/$case.log"; then
                ok "$case: the firmware refused it ($(grep -m1 -oE 'Access Denied|Security Violation' "$work/$case.log"))"
        else
                cat "$work/$case.log"; bad "$case: exit $(cat "$work/$case.rc"), expected a refusal"
        fi
done

if [ -f "$work/signed/eventlog.bin" ]; then
        grep -q "secureboot=1 setupmode=0" "$work/signed/info.txt" && ok "the program read SecureBoot=1, SetupMode=0" || bad "info: $(cat "$work/signed/info.txt")"
        "$shield" eventlog verify "$work/signed/eventlog.bin" --pcrs "$work/signed/pcrs.json" >/dev/null &&
                ok "its event log replays to the TPM's PCRs" || bad "event log does not verify"
        "$shield" eventlog secureboot --json "$work/signed/eventlog.bin" >"$work/sb.json"
        python3 - "$work/sb.json" <<'PY' && ok "PCR 7: SecureBoot=1 and the db authority is our db certificate" || bad "PCR 7 does not show our db authority"
import json, sys
sb = json.load(open(sys.argv[1]))
assert sb["secure_boot"] == 1, sb["secure_boot"]
assert sb["db"]["x509"] == 1
assert any(a["variable"] == "db" and "E2E Owner db" in a.get("subject", "") for a in sb["authorities"]), sb["authorities"]
PY
        # tpm2-tools decodes the same log independently: the SecureBoot variable measured into PCR 7 is 01.
        if command -v tpm2_eventlog >/dev/null; then
                tpm2_eventlog "$work/signed/eventlog.bin" 2>/dev/null | grep -A4 "UnicodeName: SecureBoot$" |
                        grep -q "VariableData: \"01\"" && ok "tpm2_eventlog: SecureBoot = 01 was measured" ||
                        bad "tpm2_eventlog does not show SecureBoot = 01"
        fi
else
        bad "the signed boot sent back no event log"
fi
[ $fails -eq 0 ]
