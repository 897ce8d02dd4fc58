#!/bin/bash
# Every shield colour, produced by real firmware (OVMF secure-boot build under
# QEMU, swtpm), and the shielded-VM switches (issue 11, section 3):
#   1 the first boot is the golden; the reboot is green;
#   2 a new signed application on the instance's ESP (\EFI\Shieldkit\extra.efi,
#     which the agent loads: the firmware checks it against db and measures
#     it into PCR 4) → yellow, the added event named, the instance booted;
#     golden reset → the next boot is the new golden, then green;
#   3 an operator changes the boot order (shield vm set --boot-order, the
#     entries as shield vm show lists them) → the instance boots but is red,
#     the reason naming BootOrder and the entries; reset → green;
#   4 the golden download (shield golden export) equals the quoted PCRs;
#   5 a NIC with QEMU's own option ROM (no db key signs it): the SB_EVENT line
#     Fail, FromOpROM, its PCI path and Offset(start,end), NO_CERT_MATCH, and
#     the instance still boots from its disk; the same driver signed with the
#     db key in a ROM of its own: Pass, DB_CERT_MATCH (the verdict follows db);
#   6 --no-shielded-secure-boot: an unsigned bootloader runs, SecureBoot = 0;
#   7 --no-shielded-vtpm: it boots, no evidence, no colour, and says so.
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
for tool in qemu-system-x86_64 qemu-img swtpm swtpm_setup mformat mkfs.fat mcopy mmd sbsign python3 openssl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-colours.XXXXXX)
trap 'rm -rf "$work"' EXIT
export SHIELD_STATE_DIR=$work/state
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
show() { sed 's/^/  | /' "$1" | grep -v quirk | head -30; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

"$root/efi/build.sh" "$work/efi" >/dev/null || { echo "FAIL: building the agent"; exit 1; }
export SHIELD_AGENT_EFI=$work/efi/shield-agent.efi
"$shield" keys generate --out "$work/k" --cn-prefix "Colours Owner" >/dev/null 2>&1 || { bad "keys"; exit 1; }
k=$work/k
keys=(--platform-key-file "$k/PK.der" --key-exchange-key-file "$k/KEK.der" --signature-database-file "$k/db.der")
"$shield" image create -o "$work/img.raw" --bootloader agent --sign-key "$k/db.key" --sign-cert "$k/db.der" \
        --reproducible >/dev/null 2>&1 && "$shield" image register img --source-disk "$work/img.raw" "${keys[@]}" \
        >/dev/null 2>&1 || { bad "image img"; exit 1; }
"$shield" image create -o "$work/unsigned.raw" --bootloader agent --reproducible >/dev/null 2>&1 &&
        "$shield" image register unsigned --source-disk "$work/unsigned.raw" "${keys[@]}" >/dev/null 2>&1 ||
        bad "image unsigned"

run() { # LABEL NAME → $work/LABEL.{out,json,rc}
        local label=$1 name=$2
        "$shield" vm run "$name" --timeout 120 >"$work/$label.out" 2>"$work/$label.err"
        echo $? >"$work/$label.rc"
}
rc() { cat "$work/$1.rc"; }
has() { grep -qE -- "$2" "$work/$1.out"; }

"$shield" vm create c --image img >/dev/null 2>&1 || { bad "vm create c"; exit 1; }
# ---- 1 ----
run r1 c
check "1 the first boot is the golden" has r1 "recorded as its golden measurement"
run r2 c
check "1 the reboot is green" has r2 "integrity: green"

# ---- 2: a new signed application on the instance's ESP ----
openssl x509 -inform DER -in "$k/db.der" -out "$k/db.pem"
sbsign --key "$k/db.key" --cert "$k/db.pem" --output "$work/extra.efi" "$SHIELD_AGENT_EFI" >/dev/null 2>&1 || bad "sbsign"
disk=$SHIELD_STATE_DIR/instances/c/disk.qcow2
qemu-img convert -O raw "$disk" "$work/c.raw"
esp=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(2048); print(struct.unpack("<Q", b[1024+32:1024+40])[0] * 512)' "$work/c.raw")
mmd -i "$work/c.raw@@$esp" ::/EFI/Shieldkit && mcopy -i "$work/c.raw@@$esp" "$work/extra.efi" ::/EFI/Shieldkit/extra.efi ||
        bad "2 copying extra.efi onto the ESP"
qemu-img convert -O qcow2 "$work/c.raw" "$disk"
run r3 c
if [ "$(rc r3)" = 0 ] && has r3 "integrity: yellow" && has r3 "event-added.*PCR 4.*extra.efi"; then
        ok "2 a new signed application measured: yellow, the added event named, it booted"
else bad "2 yellow (exit $(rc r3))"; show "$work/r3.out"; fi
grep -aq "loaded .EFI.Shieldkit.extra.efi" "$SHIELD_STATE_DIR/instances/c/serial.log" &&
        ok "2 the firmware loaded it (Secure Boot passed it under db)" || bad "2 the firmware did not load extra.efi"
"$shield" golden reset --instance c >/dev/null 2>&1 || bad "2 golden reset"
run r4 c
check "2 after the reset the next boot is the new golden" has r4 "recorded as its golden measurement"
run r5 c
check "2 then green" has r5 "integrity: green"

# ---- 3: the boot order ----
order=$("$shield" vm show c --json | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["boot_order"]))')
new=$(python3 -c 'import sys; o=sys.argv[1].split(","); print(",".join(o[:1] + o[1:][::-1]))' "$order")
if "$shield" vm set c --boot-order "$new" >"$work/set.out" 2>&1; then ok "3 vm set --boot-order $new (was $order)"
else bad "3 vm set --boot-order"; show "$work/set.out"; fi
"$shield" vm set c --boot-order Boot9999 >/dev/null 2>&1
check "3 an unknown entry is refused (2)" [ $? = 2 ]
run r6 c
if [ "$(rc r6)" = 1 ] && has r6 "integrity: red" && has r6 "boot-order-changed.*BootOrder"; then
        ok "3 it boots but is red, the reason naming BootOrder"
else bad "3 boot order red (exit $(rc r6))"; show "$work/r6.out"; fi
check "3 the reason names the entries" has r6 "BootOrder = ${new//Boot/}"
check "3 the instance booted all the same (the agent ran)" has r6 "quote: verified"
"$shield" golden reset --instance c >/dev/null 2>&1
run r7 c
run r8 c
check "3 reset → a new golden, then green" has r8 "integrity: green"

# ---- 4: the golden download equals the quote ----
"$shield" vm run c --timeout 120 --evidence "$work/ev.json" >/dev/null 2>&1
"$shield" golden export --instance c -o "$work/golden.json" >/dev/null 2>&1 || bad "4 golden export"
python3 - "$work/golden.json" "$work/ev.json" <<'PY' && ok "4 golden export equals the quoted PCR values" || bad "4 golden export differs from the quote"
import json, sys
g, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(not g or not all(g[b][i] == e["pcrs"][b][i] for b in g for i in g[b]))
PY

# The image leaves dbx to the platform default: the firmware measured the whole UEFI revocation list.
python3 - "$work/ev.json" "$work/ev.log" <<'PY'
import base64, json, sys
open(sys.argv[2], "wb").write(base64.b64decode(json.load(open(sys.argv[1]))["eventlog"]))
PY
"$shield" eventlog show --json "$work/ev.log" >"$work/ev-show.json" 2>/dev/null
dbx=$(python3 - "$work/ev-show.json" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["events"]:
    d = e.get("decoded") or {}
    if e.get("pcr") == 7 and d.get("name") == "dbx":
        print(d.get("hash_count", 0) + d.get("x509_count", 0))
        break
PY
)
check "4 PCR 7's dbx event holds the default revocation list (443 or more entries: $dbx)" [ "${dbx:-0}" -ge 443 ] 2>/dev/null

# ---- 5: a NIC with an option ROM no db key signs ----
"$shield" vm create n --image img --nic on >/dev/null 2>&1 || bad "5 vm create --nic on"
run r9 n
if [ "$(rc r9)" = 0 ] && has r9 "quote: verified"; then ok "5 with QEMU's unsigned NIC ROM it still boots from its disk"
else bad "5 NIC (exit $(rc r9))"; show "$work/r9.out"; fi
check "5 vm show lists the NIC" sh -c "'$shield' vm show n | grep -q 'NIC: on'"
if has r9 '"status": "Fail", "msg": "The EFI executable failed to load. It.s not signed, or the signature \(or hash\) did not match entries in DB", "EFI_Image_Type" : "FromOpROM", "EFI_Image_Path": "PciRoot\(0x0\)/Pci\(0x2,0x0\)/Offset\(0x[0-9a-fA-F]+,0x[0-9a-fA-F]+\)", "SB_Variable_Match" : "NO_CERT_MATCH"'; then
        ok "5 the ROM's SB_EVENT: Fail, FromOpROM, its PCI path and offset, NO_CERT_MATCH"
else bad "5 no FromOpROM Fail line"; grep SB_EVENT "$work/r9.out" | sed 's/^/  | /'; fi
# The same driver signed with the instance's db key, in a ROM of its own: the verdict follows db.
python3 - "$k" "$work" <<'PY' || bad "5 building a signed ROM"
import struct, subprocess, sys
k, w = sys.argv[1], sys.argv[2]
rom = open("/usr/lib/ipxe/qemu/efi-virtio.rom", "rb").read()
off = 0
while True:  # the EFI image of the chain (code type 3)
    pcir = off + struct.unpack("<H", rom[off + 0x18:off + 0x1a])[0]
    length = struct.unpack("<H", rom[pcir + 0x10:pcir + 0x12])[0] * 512
    if rom[pcir + 0x14] == 3:
        break
    off += length
hdr = bytearray(rom[off:off + struct.unpack("<H", rom[off + 0x16:off + 0x18])[0]])
pe = rom[off + len(hdr):off + length]
def sign(data):
    open(f"{w}/u.efi", "wb").write(data)
    subprocess.run(["sbsign", "--key", f"{k}/db.key", "--cert", f"{k}/db.pem", "--output", f"{w}/s.efi", f"{w}/u.efi"],
                   capture_output=True, check=True)
    return open(f"{w}/s.efi", "rb").read()
# The ROM image must end where the signature does: Authenticode hashes what follows the last section.
s = len(sign(pe)) - len(pe)
pad = (-(len(hdr) + len(pe) + s)) % 512
if (len(pe) + pad) % 8:  # sbsign places the signature 8-aligned: the sizes above must allow it
    sys.exit("the ROM's EFI image cannot be padded to end with its signature")
img = hdr + sign(pe + b"\0" * pad)
img += b"\0" * (-len(img) % 512)
units, pcir = len(img) // 512, struct.unpack("<H", img[0x18:0x1a])[0]
struct.pack_into("<H", img, 2, units)
struct.pack_into("<H", img, pcir + 0x10, units)
img[pcir + 0x15] |= 0x80
open(f"{w}/signed.rom", "wb").write(img)
PY
"$shield" vm set n --nic-rom "$work/signed.rom" >/dev/null 2>&1 || bad "5 vm set --nic-rom"
run r9b n
if has r9b '"status": "Pass", "msg": "The EFI executable loaded successfully", "EFI_Image_Type" : "FromOpROM".*"SB_Variable_Match" : "DB_CERT_MATCH", "CertSubject" : "Colours Owner db"'; then
        ok "5 a ROM signed by a db key: Pass, DB_CERT_MATCH (the verdict follows db)"
else bad "5 the signed ROM"; grep SB_EVENT "$work/r9b.out" | sed 's/^/  | /'; fi

# ---- 6: Secure Boot off ----
"$shield" vm create u --image unsigned --no-shielded-secure-boot >/dev/null 2>&1 || bad "6 vm create --no-shielded-secure-boot"
run r10 u
if [ "$(rc r10)" = 0 ] && has r10 "SecureBoot=0"; then ok "6 Secure Boot off: the unsigned bootloader runs, SecureBoot=0"
else bad "6 Secure Boot off (exit $(rc r10))"; show "$work/r10.out"; show "$work/r10.err"; fi

# ---- 7: no vTPM ----
"$shield" vm create t --image img --no-shielded-vtpm >/dev/null 2>&1 || bad "7 vm create --no-shielded-vtpm"
run r11 t
if [ "$(rc r11)" = 0 ] && has r11 "no vTPM" && ! has r11 "integrity:"; then ok "7 no vTPM: it boots, no evidence, no colour, said so"
else bad "7 no vTPM (exit $(rc r11))"; show "$work/r11.out"; show "$work/r11.err"; fi

[ $fails -eq 0 ] && echo "all colour checks passed" || echo "$fails failed"
exit $((fails > 0))
