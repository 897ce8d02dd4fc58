#!/bin/bash
# Real boots: OVMF (secure-boot build, q35 + SMM, TCG) with swtpm runs
# efi/shield-dump.efi, which sends back the firmware's TCG event log and the
# TPM's own PCR values. Oracles: the TPM itself (its PCRs must equal our
# replay), tpm2_eventlog (its replay must equal the TPM's PCRs too), and the
# firmware's determinism (two boots of the same disk measure PCRs 0-7 alike).
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
for tool in qemu-system-x86_64 swtpm tpm2_eventlog python3; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$root/efi/build.sh" "$work/efi" >/dev/null || { echo "FAIL: building the EFI program"; exit 1; }
efi=$work/efi/shield-dump.efi

# Two boots at once (2 cores): three banks, and the default sha256 only.
"$root/scripts/boot-ovmf" --efi "$efi" --out "$work/a" --banks sha1,sha256,sha384 2>"$work/a.log" &
pa=$!
"$root/scripts/boot-ovmf" --efi "$efi" --out "$work/b" --banks sha256 2>"$work/b.log" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
[ $ra -eq 0 ] || { cat "$work/a.log"; bad "3-bank boot (exit $ra)"; exit 1; }
[ $rb -eq 0 ] || { cat "$work/b.log"; bad "sha256 boot (exit $rb)"; exit 1; }
ok "two real boots: $(tail -1 "$work/a.log" | sed 's/.*done in/done in/')"

for d in a b; do
        if "$shield" eventlog verify "$work/$d/eventlog.bin" --pcrs "$work/$d/pcrs.json" >"$work/$d.verify" 2>&1; then
                ok "boot $d: $(tail -1 "$work/$d.verify")"
        else
                cat "$work/$d.verify"; bad "boot $d: the replay does not equal the TPM's PCRs"
        fi
done

# tpm2_eventlog, an independent replay, must agree with the TPM as well.
if tpm2_eventlog "$work/a/eventlog.bin" >"$work/a.yaml" 2>&1; then
        python3 - "$work/a.yaml" "$work/a/pcrs.json" <<'PY' && ok "tpm2_eventlog's replay equals the TPM's PCRs (3 banks)" || bad "tpm2_eventlog disagrees with the TPM"
import json, re, sys
yaml, tpm = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
section = yaml.split("\npcrs:\n", 1)[1]
bank, compared = None, 0
for line in section.splitlines():
    m = re.match(r"^  (\w+):$", line)
    if m:
        bank = m.group(1); continue
    m = re.match(r"^\s+(\d+)\s*: 0x([0-9A-Fa-f]+)$", line)
    if m and bank in tpm:
        assert tpm[bank][m.group(1)] == m.group(2).lower(), (bank, m.group(1))
        compared += 1
assert compared >= 3 * 8, compared
PY
else
        bad "tpm2_eventlog cannot read our boot's log"
fi

# Identical disks measure identically: sha256 PCRs 0-7 of both boots agree.
python3 - "$work/a/pcrs.json" "$work/b/pcrs.json" <<'PY' && ok "both boots measured PCRs 0-7 identically (sha256)" || bad "two boots of one disk measured differently"
import json, sys
a, b = (json.load(open(p))["sha256"] for p in sys.argv[1:3])
assert all(a[str(i)] == b[str(i)] for i in range(8))
PY

# What the firmware reported booting.
"$shield" eventlog show "$work/a/eventlog.bin" >"$work/show.txt" || bad "eventlog show failed"
grep -q 'EV_EFI_BOOT_SERVICES_APPLICATION.*\\EFI\\BOOT\\BOOTX64.EFI' "$work/show.txt" && ok "show: the boot application is \\EFI\\BOOT\\BOOTX64.EFI" ||
        { grep BOOT "$work/show.txt"; bad "show does not name \\EFI\\BOOT\\BOOTX64.EFI"; }
grep -q "SecureBoot = 0" "$work/show.txt" && ok "show: SecureBoot = 0 measured (setup-mode varstore)" || bad "SecureBoot variable not decoded"

# A forged log: one byte of the SecureBoot variable's data changed (0 → 1).
off=$("$shield" eventlog show --json "$work/a/eventlog.bin" | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin)["events"] if e.get("decoded", {}).get("name") == "SecureBoot"][0]
print(ev["offset"] + ev["size"] - 1)')
cp "$work/a/eventlog.bin" "$work/forged.bin"
printf '\x01' | dd of="$work/forged.bin" bs=1 seek="$off" conv=notrunc status=none
"$shield" eventlog show "$work/forged.bin" | grep -q "SecureBoot = 1" || bad "the forgery did not take"
"$shield" eventlog verify "$work/forged.bin" --pcrs "$work/a/pcrs.json" >"$work/forged.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "EV_EFI_VARIABLE_DRIVER_CONFIG" "$work/forged.out" &&
        ok "a log claiming SecureBoot = 1 is refused (exit 1, event named)" || { cat "$work/forged.out"; bad "forged log: exit $rc"; }

# A PCR the TPM reports differently.
python3 - "$work/a/pcrs.json" "$work/edited.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["sha384"]["4"] = "00" * 48; json.dump(p, open(sys.argv[2], "w"))
PY
"$shield" eventlog verify "$work/a/eventlog.bin" --pcrs "$work/edited.json" >"$work/edited.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "sha384 PCR 4" "$work/edited.out" && ok "an edited PCR value is named (exit 1)" || { cat "$work/edited.out"; bad "edited PCR: exit $rc"; }

[ $fails -eq 0 ]
