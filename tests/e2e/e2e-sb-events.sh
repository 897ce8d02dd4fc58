#!/bin/bash
# SB_EVENT lines for what actually booted (issue 11, section 2), on real firmware:
#   1 an instance boots its image's signed agent: one Pass line, FromFixedMedia, the
#     device path the firmware measured, DB_CERT_MATCH, the db certificate's CN, and
#     ImageDigest equal to the SHA-256 the firmware extended into PCR 4 for it; then
#     the closing line with Secure_Boot_Overall_Status 0; --json carries the same fields
#   2 the instance's bootloader is replaced on the instance's own disk (its qcow2
#     overlay; the image is untouched) by the agent signed with a second db key: the
#     line names the new signer, and ImageDigest follows the new bytes and equals the
#     new PCR 4 measurement (not the image's bootloader)
#   3 the instance's bootloader replaced by an unsigned agent: the firmware refuses
#     it, a Fail line (NO_CERT_MATCH) for the boot option it names, and the closing
#     line with Secure_Boot_Overall_Status 15 (EFI_ACCESS_DENIED)
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
for tool in qemu-system-x86_64 qemu-img swtpm swtpm_setup mformat mcopy mkfs.fat sbsign python3; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-sbev.XXXXXX)
trap 'rm -rf "$work"' EXIT
export SHIELD_STATE_DIR=$work/state
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
show() { sed 's/^/  | /' "$@" | head -30; }

"$root/efi/build.sh" "$work/efi" >/dev/null || { echo "FAIL: building the agent"; exit 1; }
agent=$work/efi/shield-agent.efi
export SHIELD_AGENT_EFI=$agent
"$shield" keys generate --out "$work/owner" --cn-prefix "Events Owner" >/dev/null 2>&1 || { bad "keys"; exit 1; }
"$shield" keys generate --out "$work/second" --cn-prefix "Second Signer" >/dev/null 2>&1 || { bad "keys"; exit 1; }
o=$work/owner
# db holds both signers' certificates: the replaced bootloader still boots.
"$shield" image create -o "$work/img.raw" --bootloader "$agent" --sign-key "$o/db.key" --sign-cert "$o/db.der" \
        --reproducible >/dev/null 2>&1 || { bad "image create"; exit 1; }
"$shield" image register ev --source-disk "$work/img.raw" --platform-key-file "$o/PK.der" \
        --key-exchange-key-file "$o/KEK.der" --signature-database-file "$o/db.der,$work/second/db.der" \
        >/dev/null 2>&1 || { bad "image register"; exit 1; }
"$shield" vm create ev-1 --image ev >/dev/null 2>&1 || { bad "vm create"; exit 1; }
inst=$SHIELD_STATE_DIR/instances/ev-1

# The firmware's own record: the SHA-256 of every EV_EFI_BOOT_SERVICES_APPLICATION, in order, upper case.
pcr4_apps() {
        python3 - "$1" <<'PY'
import base64, json, struct, sys
log = base64.b64decode(json.load(open(sys.argv[1]))["eventlog"])
# TCG PC Client PFP 1.05, 10.2.1 (the legacy Spec ID event) then 10.2.2 TCG_PCR_EVENT2 records.
off = 32 + struct.unpack_from("<I", log, 28)[0]
spec = log[32:off]
n_algs = struct.unpack_from("<I", spec, 24)[0]
sizes = {struct.unpack_from("<H", spec, 28 + 4 * i)[0]: struct.unpack_from("<H", spec, 30 + 4 * i)[0] for i in range(n_algs)}
while off + 12 <= len(log):
    pcr, etype, count = struct.unpack_from("<III", log, off); off += 12
    if pcr == 0xffffffff or count == 0 and etype == 0:
        break
    sha256 = None
    for _ in range(count):
        alg = struct.unpack_from("<H", log, off)[0]; off += 2
        if alg == 0x000b:
            sha256 = log[off:off + 32].hex().upper()
        off += sizes[alg]
    size = struct.unpack_from("<I", log, off)[0]; off += 4 + size
    if etype == 0x80000003 and pcr == 4:
        print(sha256)
PY
}
# The SB_EVENT lines of one run that name an executable (not the closing line).
exe_lines() { grep '^SB_EVENT: { "status"' "$1"; }
digest_of() { sed -n 's/.*"ImageDigest" : "\([0-9A-F]*\)".*/\1/p'; }

# 1: the image's own bootloader.
"$shield" vm run ev-1 --timeout 120 --evidence "$work/ev1.json" >"$work/r1.out" 2>"$work/r1.err"; rc=$?
lines=$(exe_lines "$work/r1.out")
d1=$(printf '%s\n' "$lines" | digest_of)
m1=$(pcr4_apps "$work/ev1.json" 2>/dev/null)
if [ $rc = 0 ] && [ "$(printf '%s\n' "$lines" | grep -c .)" = 1 ] &&
        printf '%s\n' "$lines" | grep -q '^SB_EVENT: { "status": "Pass", "msg": "The EFI executable loaded successfully", "EFI_Image_Type" : "FromFixedMedia", "EFI_Image_Path" : "PciRoot(0x0)/Pci(0x[0-9a-f]*,0x0)/HD(1,GPT,[0-9a-f-]*,0x800,0x[0-9a-f]*)/\\\\EFI\\\\BOOT\\\\BOOTX64.EFI", "SB_Variable_Match" : "DB_CERT_MATCH", "CertSubject" : "Events Owner db", "ImageDigest" : "[0-9A-F]\{64\}" }$'; then
        ok "1 one Pass line in the specified shape, with the device path the firmware measured"
else
        bad "1 the SB_EVENT line (exit $rc)"; show "$work/r1.out" "$work/r1.err"
fi
if [ -n "$d1" ] && [ "$d1" = "$m1" ]; then
        ok "1 ImageDigest = the PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION digest ($d1)"
else
        bad "1 ImageDigest $d1, PCR 4 measured '$m1'"
fi
if grep -qx 'SB_EVENT: { "Secure_Boot_Overall_Status" : 0, "status" : "Pass", "msg" : "SB_Event on Exit Boot Services" }' \
        "$work/r1.out" && [ "$(tail -n +1 "$work/r1.out" | grep -n '^SB_EVENT' | tail -1 | cut -d: -f1)" -lt \
        "$(grep -n '^booted in' "$work/r1.out" | cut -d: -f1)" ]; then
        ok "1 the closing line, overall status 0, before the evidence's verdict"
else
        bad "1 the closing line"; show "$work/r1.out"
fi
"$shield" vm run ev-1 --timeout 120 --json >"$work/r1.json" 2>"$work/r1j.err"
if python3 - "$work/r1.json" "$d1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["sb_events"]
assert j["Secure_Boot_Overall_Status"] == 0, j
assert len(e) == 1 and list(e[0])[:7] == ["status", "msg", "EFI_Image_Type", "EFI_Image_Path", "SB_Variable_Match",
                                          "CertSubject", "ImageDigest"], e
assert e[0]["status"] == "Pass" and e[0]["ImageDigest"] == sys.argv[2] and e[0]["CertSubject"] == "Events Owner db", e
PY
then ok "1 --json: sb_events with the same fields, and the overall status"
else bad "1 --json"; show "$work/r1.json" "$work/r1j.err"; fi

# Replace \EFI\Boot\bootx64.efi on the instance's own disk: overlay → raw, mtools, → overlay again.
replace_bootloader() { # EFI-FILE
        qemu-img convert -q -f qcow2 -O raw "$inst/disk.qcow2" "$work/inst.raw" &&
                mcopy -o -i "$work/inst.raw@@1M" "$1" ::/EFI/Boot/bootx64.efi &&
                qemu-img convert -q -f raw -O qcow2 "$work/inst.raw" "$inst/disk.qcow2" && rm -f "$work/inst.raw"
}
# 2: another build of the agent (its PE MajorImageVersion bumped: the Authenticode hash
# covers it, a signature does not), signed with the second db key, on the instance only.
python3 - "$agent" "$work/v2.efi" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
opt = struct.unpack_from("<I", b, 0x3c)[0] + 24   # PE/COFF 3.4: the optional header after "PE\0\0" and the COFF header
struct.pack_into("<H", b, opt + 44, struct.unpack_from("<H", b, opt + 44)[0] + 1)  # MajorImageVersion
open(sys.argv[2], "wb").write(b)
PY
sbsign --key "$work/second/db.key" --cert "$work/second/db.crt" --output "$work/second.efi" "$work/v2.efi" 2>/dev/null ||
        { bad "sbsign"; exit 1; }
replace_bootloader "$work/second.efi" || { bad "replacing the instance's bootloader"; exit 1; }
"$shield" vm run ev-1 --timeout 120 --evidence "$work/ev2.json" >"$work/r2.out" 2>"$work/r2.err"; rc=$?
lines=$(exe_lines "$work/r2.out")
d2=$(printf '%s\n' "$lines" | digest_of)
m2=$(pcr4_apps "$work/ev2.json" 2>/dev/null)
# The changed boot is red against the first boot's golden (PCR 4 and 7 changed): it still booted and was checked.
if grep -q '^booted in' "$work/r2.out" && printf '%s\n' "$lines" | grep -q '"status": "Pass".*"CertSubject" : "Second Signer db"'; then
        ok "2 the changed bootloader passes and its line names the new signer"
else
        bad "2 the changed bootloader (exit $rc)"; show "$work/r2.out" "$work/r2.err"
fi
if [ -n "$d2" ] && [ "$d2" = "$m2" ] && [ "$d2" != "$d1" ]; then
        ok "2 ImageDigest follows the instance's disk: = the new PCR 4 digest ($d2), not the image's ($d1)"
else
        bad "2 ImageDigest $d2, PCR 4 measured '$m2', first boot $d1"
fi

# 3: an unsigned agent on the instance's disk: the firmware refuses it.
replace_bootloader "$agent" || { bad "replacing the instance's bootloader"; exit 1; }
"$shield" vm run ev-1 --timeout 120 >"$work/r3.out" 2>"$work/r3.err"; rc=$?
want=$("$shield" pe hash "$agent" | cut -d' ' -f1 | tr a-f A-F) # unsigned: the agent's own bytes
if [ $rc = 1 ] && grep -q '^SB_EVENT: { "status": "Fail", "msg": "The EFI executable failed to load. It.s not signed, or the signature (or hash) did not match entries in DB", "EFI_Image_Type" : "FromFixedMedia", "EFI_Image_Path": "PciRoot(0x0)/Pci(0x[0-9a-f]*,0x0)", "SB_Variable_Match" : "NO_CERT_MATCH", "ImageDigest" : "'"$want"'" }$' "$work/r3.out" &&
        grep -qx 'SB_EVENT: { "Secure_Boot_Overall_Status" : 15, "status" : "Fail", "msg" : "SB_Event on boot refusal" }' "$work/r3.out" &&
        grep -q 'Access Denied' "$work/r3.out"; then
        ok "3 refused by the firmware: a Fail line for the boot option it names (the unsigned file's digest), overall 15"
else
        bad "3 the refused bootloader (exit $rc)"; show "$work/r3.out" "$work/r3.err"
fi
[ $fails -eq 0 ] && echo "all SB_EVENT rows passed" || echo "$fails failed"
exit $((fails > 0))
