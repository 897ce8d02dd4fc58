#!/bin/bash
# shield eventlog: exit codes, formats and error messages, on seeds built by
# tests/fuzz/make-seeds.py and, when present, real machines' logs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=${SHIELD_SOURCE_ROOT:?}
seed=$root/tests/fuzz/corpus/fuzz-eventlog

for verb in show replay verify secureboot; do
        expect 0 "eventlog $verb --help" "$shield" eventlog "$verb" --help
        contains "^Usage: shield eventlog $verb" "$verb --help shows its synopsis"
        contains "Exit status" "$verb --help documents exit codes"
done
expect 2 "unknown verb" "$shield" eventlog frob
expect 2 "unknown option" "$shield" eventlog show --frob "$seed/agile-3-banks"
expect 2 "missing LOG" "$shield" eventlog replay
expect 2 "verify without --pcrs" "$shield" eventlog verify "$seed/agile-3-banks"
expect 2 "missing file" "$shield" eventlog show /nonexistent/log
contains "No such file" "missing file is named"
expect 2 "truncated log" "$shield" eventlog show "$seed/agile-truncated"
contains "offset [0-9]+ \(0x[0-9a-f]+\), record [0-9]+" "parse error gives offset and event index"
expect 2 "bad --ignore" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs x --ignore 99

expect 0 "show" "$shield" eventlog show "$seed/agile-3-banks"
contains "SecureBoot = 1" "show decodes SecureBoot"
contains 'HD\(1,GPT,5ca1ab1e-0000-4000-8000-000000000002,0x800,0x1e000\)/\\EFI\\BOOT\\BOOTX64.EFI' "show prints the device path"
contains "quirk-wbcl-records" "show lists quirks"
expect 0 "show --json" "$shield" eventlog show --json "$seed/agile-3-banks"
is_json "show --json"
expect 0 "show --pcr 7" "$shield" eventlog show "$seed/agile-3-banks" --pcr 7
if grep -qE '^ +[0-9]+ +[0-68] ' "$work/out"; then echo "FAIL: --pcr 7 shows other PCRs"; fails=$((fails + 1)); fi

expect 0 "replay" "$shield" eventlog replay "$seed/agile-3-banks"
contains "^sha256 7 [0-9a-f]{64}$" "replay prints 'BANK PCR HEX'"
expect 0 "replay --bank sha1" "$shield" eventlog replay "$seed/agile-3-banks" --bank sha1
if grep -q sha256 "$work/out"; then echo "FAIL: --bank sha1 printed sha256"; fails=$((fails + 1)); fi
expect 2 "replay --bank of a bank the log lacks" "$shield" eventlog replay "$seed/legacy" --bank sha256

# Round trip: replay --json is verify's --pcrs format.
"$shield" eventlog replay --json "$seed/agile-3-banks" >"$work/pcrs.json"
expect 0 "verify against its own replay" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs "$work/pcrs.json"
python3 - "$work/pcrs.json" "$work/bad.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["sha256"]["7"] = "11" * 32; json.dump(p, open(sys.argv[2], "w"))
PY
expect 1 "verify with an edited PCR" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs "$work/bad.json"
contains "sha256 PCR 7: expected 1111" "the differing bank and PCR are named"
expect 0 "--ignore 7 skips it" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs "$work/bad.json" --ignore 7
expect 1 "verify --json" "$shield" eventlog verify --json "$seed/agile-3-banks" --pcrs "$work/bad.json"
is_json "verify --json"
echo '{"sha256": {"0": "zz"}}' >"$work/broken.json"
expect 2 "unparsable PCRS.json" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs "$work/broken.json"

expect 0 "secureboot" "$shield" eventlog secureboot "$seed/agile-3-banks"
contains "SecureBoot +1" "secureboot state"
contains "db authority|event 12 +db" "the db authority is listed"
expect 0 "secureboot --json" "$shield" eventlog secureboot --json "$seed/agile-3-banks"
is_json "secureboot --json"

if have_data eventlogs; then
        for log in gce-rhel8-secureboot pc-workstation-arch-systemd-boot intel-nuc-legacy-sha1; do
                expect 0 "verify $log against the PCRs its TPM reported" \
                        "$shield" eventlog verify "$data/eventlogs/$log.bin" --pcrs "$data/eventlogs/$log.pcrs.json"
        done
        expect 0 "verify with --ignore 10 (IMA)" "$shield" eventlog verify "$data/eventlogs/gce-cos85-attested.bin" \
                --pcrs "$data/eventlogs/gce-cos85-attested.pcrs.json" --ignore 10
        expect 1 "without --ignore, PCR 10 differs" "$shield" eventlog verify "$data/eventlogs/gce-cos85-attested.bin" \
                --pcrs "$data/eventlogs/gce-cos85-attested.pcrs.json"
        contains "PCR 10" "PCR 10 is named"
        # A forged real log: flip a byte inside the dbx variable's data.
        off=$("$shield" eventlog show --json "$data/eventlogs/gce-rhel8-secureboot.bin" | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin)["events"] if e.get("decoded", {}).get("name") == "dbx"][0]
print(ev["offset"] + ev["size"] - 40)')
        cp "$data/eventlogs/gce-rhel8-secureboot.bin" "$work/forged.bin"
        printf '\xff' | dd of="$work/forged.bin" bs=1 seek="$off" conv=notrunc status=none
        expect 1 "a forged dbx is refused" "$shield" eventlog verify "$work/forged.bin" \
                --pcrs "$data/eventlogs/gce-rhel8-secureboot.pcrs.json"
        contains "PCR 7 event 7 EV_EFI_VARIABLE_DRIVER_CONFIG" "the forged event is named"
        # tpm2_eventlog as an independent replay.
        if command -v tpm2_eventlog >/dev/null; then
                "$shield" eventlog replay "$data/eventlogs/ovmf-ubuntu-grub-bootorder.bin" --bank sha256 >"$work/ours"
                tpm2_eventlog "$data/eventlogs/ovmf-ubuntu-grub-bootorder.bin" 2>/dev/null |
                        awk '/^pcrs:/ {on=1} on && /^  sha256:/ {b=1; next} on && /^  [a-z]/ {b=0} b && /: 0x/ {gsub(/ /, ""); split($0, a, ":0x"); print "sha256 " a[1] " " tolower(a[2])}' >"$work/theirs"
                grep -Ff "$work/ours" "$work/theirs" >/dev/null && [ "$(grep -cFf "$work/ours" "$work/theirs")" -eq "$(wc -l <"$work/ours")" ] &&
                        echo "ok: replay agrees with tpm2_eventlog" || { echo "FAIL: replay differs from tpm2_eventlog"; fails=$((fails + 1)); }
        fi
else
        echo "skip: no shared data (real-log checks)"
fi
finish
