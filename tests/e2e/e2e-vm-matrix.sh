#!/bin/bash
# The shielded-VM scenario matrix (issue: custom shielded images and the local
# shielded VM). Every row is a real boot: OVMF's secure-boot build under QEMU
# with swtpm, images from `shield image create`, instances from `shield vm
# create`, verdicts from `shield vm run`. Boots run two at a time.
#   1 agent signed with the image's db key → boots, SB Pass, quote verifies (shield and
#     tpm2_checkquote), the event log replays, PCR 7's db authority is the image's db cert
#   2 unsigned                    → refused by the firmware, SB Fail NO_CERT_MATCH
#   3 signed by a key not in db   → refused, NO_CERT_MATCH
#   4 signed, but its hash in dbx → refused, DBX_HASH_MATCH
#   5 Debian's Microsoft-signed shim: passes under the default keys, refused under custom keys
#   6 two boots of one instance measure PCRs 0–7 identically; the first is the golden, the second green
# The real-Linux row (7) is tests/e2e/e2e-linux-attest.sh.
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
for tool in qemu-system-x86_64 qemu-img swtpm swtpm_setup mformat mkfs.fat tpm2_checkquote python3; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
export SHIELD_STATE_DIR=$work/state
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
t0=$(date +%s.%N)

"$root/efi/build.sh" "$work/efi" >/dev/null || { echo "FAIL: building the agent"; exit 1; }
export SHIELD_AGENT_EFI=$work/efi/shield-agent.efi
"$shield" keys generate --out "$work/owner" --cn-prefix "Matrix Owner" >/dev/null 2>&1 || { bad "keys"; exit 1; }
"$shield" keys generate --out "$work/stranger" --cn-prefix "Stranger" >/dev/null 2>&1 || { bad "keys"; exit 1; }
o=$work/owner
keys=(--platform-key-file "$o/PK.der" --key-exchange-key-file "$o/KEK.der" --signature-database-file "$o/db.der")

# Images: build, check, register.
mk() { # NAME CREATE-ARGS… -- REGISTER-ARGS…
        local name=$1; shift
        local create=() reg=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do create+=("$1"); shift; done
        shift
        reg=("$@")
        "$shield" image create -o "$work/$name.raw" "${create[@]}" --reproducible >/dev/null 2>&1 ||
                { bad "image create $name"; return 1; }
        "$shield" image register "$name" --source-disk "$work/$name.raw" "${reg[@]}" >/dev/null 2>&1 ||
                { bad "image register $name"; return 1; }
}
mk signed --bootloader agent --sign-key "$o/db.key" --sign-cert "$o/db.der" -- "${keys[@]}"
mk unsigned --bootloader agent -- "${keys[@]}"
mk stranger --bootloader agent --sign-key "$work/stranger/db.key" --sign-cert "$work/stranger/db.der" -- "${keys[@]}"
# dbx: the Authenticode SHA-256 of the signed agent as the firmware computes it.
"$shield" image check "$work/signed.raw" --image signed --json >"$work/signed-check.json" 2>/dev/null
digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secure_boot"]["ImageDigest"].lower())' "$work/signed-check.json")
printf '%s\n' "$digest" >"$work/revoked.hex"
python3 - "$digest" "$work/dbx.esl" <<'PY'
import sys, struct, uuid
h = bytes.fromhex(sys.argv[1])
sha256 = uuid.UUID("c1c41626-504c-4092-aca9-41f936934328").bytes_le
owner = uuid.UUID("11111111-2222-3333-4444-555555555555").bytes_le
open(sys.argv[2], "wb").write(sha256 + struct.pack("<III", 28 + 48, 0, 48) + owner + h)
PY
mk revoked --bootloader agent --sign-key "$o/db.key" --sign-cert "$o/db.der" -- "${keys[@]}" --forbidden-database-file "$work/dbx.esl"

source "$root/tests/cli/fetch-debian-efi.sh"
if [ "$have_debian_efi" = 1 ]; then
        mkdir -p "$work/espdir/EFI/Boot"
        cp "$debian_efi/grubx64.efi.signed" "$work/espdir/EFI/Boot/grubx64.efi"
        mk shim-default --bootloader "$debian_efi/shimx64.efi.signed" --esp-dir "$work/espdir" --
        mk shim-custom --bootloader "$debian_efi/shimx64.efi.signed" --esp-dir "$work/espdir" -- "${keys[@]}"
else
        echo "note: Debian's shim could not be downloaded; row 5 is skipped"
fi
"$shield" vm create vm-signed --image signed >/dev/null 2>&1 || bad "vm create vm-signed"

# Boots, two at a time. Each writes DIR/<row>.{out,rc}.
nonce=$(openssl rand -hex 32)
boot() { # ROW NAME ARGS…
        local row=$1 name=$2; shift 2
        "$shield" vm run "$name" --timeout 120 "$@" >"$work/$row.out" 2>"$work/$row.err"
        echo $? >"$work/$row.rc"
}
pair() { boot "$@" & }
pair r1 vm-signed --nonce "$nonce" --evidence "$work/ev1.json"
boot r2 unsigned
wait
pair r3 stranger
boot r4 revoked
wait
if [ "$have_debian_efi" = 1 ]; then
        pair r5a shim-default --until GRUB
        boot r5b shim-custom
        wait
fi
nonce2=$(openssl rand -hex 32) # a reboot answers a fresh nonce: the store spends each one once
boot r6 vm-signed --nonce "$nonce2" --evidence "$work/ev2.json"
wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")

rc() { cat "$work/$1.rc" 2>/dev/null || echo none; }
has() { grep -q -- "$2" "$work/$1.out"; }
show() { sed 's/^/  | /' "$work/$1.out" "$work/$1.err" | head -20; }

# 1: boots, SB Pass, quote and replay verified by shield; tpm2_checkquote agrees; PCR 7 names our db cert.
if [ "$(rc r1)" = 0 ] && has r1 '"status": "Pass"' && has r1 'quote: verified' && has r1 'replays to the quoted PCRs: yes' &&
        has r1 'db authority in PCR 7: CN=Matrix Owner db'; then
        ok "1 signed with the image's db key: boots, SB Pass, quote verified, event log replays, PCR 7 authority = the image's db"
else
        bad "1 signed agent"; show r1
fi
python3 - "$work/ev1.json" "$work" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1])); w = sys.argv[2]
for name, data in (("attest", e["quote"]["attest"]), ("sig", e["quote"]["signature"]), ("pub", e["ak"]["public"])):
    open(f"{w}/q-{name}.bin", "wb").write(base64.b64decode(data))
PY
if tpm2_checkquote -u "$work/q-pub.bin" -m "$work/q-attest.bin" -s "$work/q-sig.bin" -q "$nonce" -g sha256 >/dev/null 2>&1; then
        ok "1 tpm2_checkquote accepts the quote with the nonce"
else
        bad "1 tpm2_checkquote rejects the quote"
fi
if ! tpm2_checkquote -u "$work/q-pub.bin" -m "$work/q-attest.bin" -s "$work/q-sig.bin" -q "00$nonce" -g sha256 >/dev/null 2>&1; then
        ok "1 tpm2_checkquote rejects another nonce"
else
        bad "1 tpm2_checkquote accepted a wrong nonce"
fi
for row in r2:unsigned r3:stranger; do
        r=${row%%:*}
        if [ "$(rc "$r")" = 1 ] && has "$r" '"status": "Fail"' && has "$r" 'NO_CERT_MATCH' && has "$r" 'Access Denied'; then
                ok "${row#*:}: refused by the firmware (Access Denied), SB Fail NO_CERT_MATCH"
        else
                bad "${row#*:} not refused as expected (exit $(rc "$r"))"; show "$r"
        fi
done
if [ "$(rc r4)" = 1 ] && has r4 'DBX_HASH_MATCH' && has r4 'Access Denied'; then
        ok "4 hash in dbx: refused by the firmware, SB Fail DBX_HASH_MATCH"
else
        bad "4 revoked not refused as expected (exit $(rc r4))"; show r4
fi
if [ "$have_debian_efi" = 1 ]; then
        if [ "$(rc r5a)" = 0 ] && has r5a '"status": "Pass"' && has r5a 'Microsoft Corporation UEFI CA 2011' && has r5a 'booted'; then
                ok "5 Debian's shim passes Secure Boot under the default keys (grub runs)"
        else
                bad "5 shim under default keys (exit $(rc r5a))"; show r5a
        fi
        if [ "$(rc r5b)" = 1 ] && has r5b 'NO_CERT_MATCH' && has r5b 'Access Denied'; then
                ok "5 Debian's shim is refused under custom keys"
        else
                bad "5 shim under custom keys (exit $(rc r5b))"; show r5b
        fi
fi
if [ "$(rc r6)" = 0 ] && python3 - "$work/ev1.json" "$work/ev2.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["pcrs"] for p in sys.argv[1:3])
sys.exit(0 if a.keys() == b.keys() and all(a[k][str(i)] == b[k][str(i)] for k in a for i in range(8)) else 1)
PY
then
        ok "6 two boots of the same instance measure PCRs 0-7 identically (every bank)"
        if has r1 "recorded as its golden measurement" && has r6 "integrity: green"; then
                ok "6 the first boot became the golden measurement; the reboot is green"
        else
                bad "6 golden/green not reported"; show r1; show r6
        fi
else
        bad "6 second boot (exit $(rc r6))"; show r6
fi
echo "matrix wall time: $wall s"
[ $fails -eq 0 ] && echo "all matrix rows passed" || echo "$fails failed"
exit $((fails > 0))
