#!/bin/bash
# Real boots: OVMF (secure-boot build, q35 + SMM, TCG) with swtpm runs
# efi/shield-dump.efi, which sends back the firmware's TCG event log and the
# TPM's own PCR values. Oracles, none of them our code:
#   - the TPM itself: its PCRs must equal our replay, for every active bank;
#   - tpm2_eventlog: it must parse the log, and its replay must equal the
#     TPM's PCRs too;
#   - pesign: the digest the firmware measured for the boot application is
#     the image's Authenticode SHA-256 that pesign computes;
#   - the firmware's determinism: two boots of the same disk measure PCRs
#     0-7 alike, whatever the bank set.
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
for tool in qemu-system-x86_64 swtpm swtpm_setup tpm2_eventlog python3 sgdisk mkfs.fat mcopy; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps)"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$root/efi/build.sh" "$work/efi" >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "FAIL: building the EFI program"; exit 1; }
efi=$work/efi/shield-dump.efi

# Two boots at once (2 cores): three banks, and the default (sha256 only).
"$root/scripts/boot-ovmf" --efi "$efi" --out "$work/a" --banks sha1,sha256,sha384 2>"$work/a.log" &
pa=$!
"$root/scripts/boot-ovmf" --efi "$efi" --out "$work/b" 2>"$work/b.log" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
if [ $ra -eq 77 ] || [ $rb -eq 77 ]; then cat "$work/a.log" "$work/b.log"; echo "SKIP: the harness lacks a tool"; exit 77; fi
[ $ra -eq 0 ] || { cat "$work/a.log"; bad "3-bank boot (exit $ra)"; exit 1; }
[ $rb -eq 0 ] || { cat "$work/b.log"; bad "sha256 boot (exit $rb)"; exit 1; }
ok "two real boots: $(tail -1 "$work/a.log" | sed 's/.*done in \([0-9.]* s\).*/\1/') and $(tail -1 "$work/b.log" | sed 's/.*done in \([0-9.]* s\).*/\1/')"

# What the program saw inside the guest (docs/REAL-BOOTS.md, the info frame).
grep -q "^secureboot=0 setupmode=1 .*active=sha1,sha256,sha384 truncated=0" "$work/a/info.txt" &&
        grep -q " active=sha256 truncated=0" "$work/b/info.txt" &&
        ok "info: setup mode, the banks swtpm_setup was asked for, log not truncated" ||
        { cat "$work/a/info.txt" "$work/b/info.txt"; bad "info frame"; }

# (a) The TPM's own PCR values equal our replay, every PCR of every bank.
for d in a b; do
        if "$shield" eventlog verify "$work/$d/eventlog.bin" --pcrs "$work/$d/pcrs.json" >"$work/$d.verify" 2>&1; then
                ok "boot $d: $(tail -1 "$work/$d.verify" | sed 's/^[^:]*: //')"
        else
                cat "$work/$d.verify"; bad "boot $d: the replay does not equal the TPM's PCRs"
        fi
done

# (b) tpm2_eventlog, an independent parser and replay, must agree with the TPM as well.
for d in a b; do
        if tpm2_eventlog "$work/$d/eventlog.bin" >"$work/$d.yaml" 2>"$work/$d.yaml.err"; then
                python3 - "$work/$d.yaml" "$work/$d/pcrs.json" <<'PY' && ok "boot $d: tpm2_eventlog's replay equals the TPM's PCRs" || bad "boot $d: tpm2_eventlog disagrees with the TPM"
import json, re, sys
yaml, tpm = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
section = yaml.split("\npcrs:\n", 1)[1]
bank, seen = None, {}
for line in section.splitlines():
    m = re.match(r"^  (\w+):$", line)
    if m:
        bank = m.group(1); continue
    m = re.match(r"^\s+(\d+)\s*: 0x([0-9A-Fa-f]+)$", line)
    if m:
        assert tpm[bank][m.group(1)] == m.group(2).lower(), (bank, m.group(1))
        seen.setdefault(bank, 0); seen[bank] += 1
# tpm2_eventlog lists the PCRs the log touches (0-7 here); every bank of the TPM must be there.
assert set(seen) == set(tpm), (sorted(seen), sorted(tpm))
assert all(n >= 8 for n in seen.values()), seen
PY
        else
                cat "$work/$d.yaml.err"; bad "boot $d: tpm2_eventlog cannot read our boot's log"
        fi
done

# The firmware measured exactly our program: its EV_EFI_BOOT_SERVICES_APPLICATION
# digest is the image's Authenticode SHA-256 (pesign -h), read from tpm2_eventlog.
if command -v pesign >/dev/null; then
        want=$(pesign -h -i "$efi" 2>/dev/null | awk '{print $NF}')
        got=$(python3 - "$work/a.yaml" <<'PY'
import re, sys
y = open(sys.argv[1]).read()
ev = y.split("EventType: EV_EFI_BOOT_SERVICES_APPLICATION", 1)[1]
print(re.search(r"AlgorithmId: sha256\s+Digest: \"([0-9a-f]+)\"", ev).group(1))
PY
)
        [ -n "$want" ] && [ "$want" = "$got" ] && ok "PCR 4: the firmware's digest of BOOTX64.EFI is pesign's Authenticode hash" ||
                bad "PCR 4 application digest '$got' is not pesign's '$want'"
else
        echo "skip: pesign is not installed (Authenticode cross-check)"
fi

# Identical disks measure identically: sha256 PCRs 0-7 of both boots agree.
python3 - "$work/a/pcrs.json" "$work/b/pcrs.json" <<'PY' && ok "both boots measured PCRs 0-7 identically (sha256)" || bad "two boots of one disk measured differently"
import json, sys
a, b = (json.load(open(p))["sha256"] for p in sys.argv[1:3])
assert all(a[str(i)] == b[str(i)] for i in range(8))
PY

# (d) What the firmware reported booting.
"$shield" eventlog show "$work/a/eventlog.bin" >"$work/show.txt" || bad "eventlog show failed"
grep -q 'EV_EFI_BOOT_SERVICES_APPLICATION.*\\EFI\\BOOT\\BOOTX64.EFI' "$work/show.txt" && ok "show: the boot application is \\EFI\\BOOT\\BOOTX64.EFI" ||
        { grep BOOT "$work/show.txt"; bad "show does not name \\EFI\\BOOT\\BOOTX64.EFI"; }
grep -q "SecureBoot = 0" "$work/show.txt" && ok "show: SecureBoot = 0 measured (setup-mode varstore)" || bad "SecureBoot variable not decoded"

# (c) A forged log: one byte of the SecureBoot variable's data changed (0 → 1).
off=$("$shield" eventlog show --json "$work/a/eventlog.bin" | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin)["events"] if e.get("decoded", {}).get("name") == "SecureBoot"][0]
print(ev["offset"] + ev["size"] - 1)')
cp "$work/a/eventlog.bin" "$work/forged.bin"
printf '\x01' | dd of="$work/forged.bin" bs=1 seek="$off" conv=notrunc status=none
cmp -s "$work/a/eventlog.bin" "$work/forged.bin" && bad "the forgery did not change the log"
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

# The frames are checked: a serial log with one base64 character changed is rejected.
"$root/scripts/boot-ovmf" --from-serial "$work/a/serial.log" --out "$work/again" 2>/dev/null &&
        cmp -s "$work/again/eventlog.bin" "$work/a/eventlog.bin" || bad "re-reading the serial log"
python3 - "$work/a/serial.log" "$work/corrupt.log" <<'PY'
import sys
s = bytearray(open(sys.argv[1], "rb").read())
i = s.index(b"\n", s.index(b"SHIELD-BEGIN eventlog")) + 40
s[i] = ord("A") if s[i] != ord("A") else ord("B")
open(sys.argv[2], "wb").write(s)
PY
"$root/scripts/boot-ovmf" --from-serial "$work/corrupt.log" --out "$work/corrupt" 2>"$work/corrupt.err"
rc=$?
[ $rc -eq 2 ] && grep -q "CRC32" "$work/corrupt.err" && [ ! -e "$work/corrupt/eventlog.bin" ] &&
        ok "a corrupted frame is rejected (exit 2, nothing written)" || { cat "$work/corrupt.err"; bad "corrupted frame: exit $rc"; }

[ $fails -eq 0 ]
