#!/bin/bash
# shield eventlog: exit codes, formats and error messages, on seeds built by
# tests/fuzz/make-seeds.py, logs built here from the PFP 1.05 layouts, and,
# when present, real machines' logs (cross-checked against tpm2_eventlog).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=${SHIELD_SOURCE_ROOT:?}
seed=$root/tests/fuzz/corpus/fuzz-eventlog

"$shield" eventlog replay --json "$seed/agile-3-banks" >"$work/pcrs.json"

# Usage, --help and bad options for every verb.
for verb in show replay verify secureboot; do
        more=()
        [ "$verb" = verify ] && more=(--pcrs "$work/pcrs.json")
        expect 0 "eventlog $verb --help" "$shield" eventlog "$verb" --help
        contains "^Usage: shield eventlog $verb" "$verb --help shows its synopsis"
        contains "^Exit status" "$verb --help documents exit codes"
        contains "^Examples?:" "$verb --help has examples"
        contains "^Options:" "$verb --help lists options"
        expect 2 "$verb: unknown option" "$shield" eventlog "$verb" --frob "$seed/agile-3-banks"
        contains "unknown option '--frob'" "$verb names the unknown option"
        expect 2 "$verb: missing LOG" "$shield" eventlog "$verb"
        expect 2 "$verb: missing file" "$shield" eventlog "$verb" /nonexistent/log "${more[@]}"
        contains "No such file" "$verb names the missing file"
        expect 2 "$verb: truncated log" "$shield" eventlog "$verb" "$seed/agile-truncated" "${more[@]}"
        contains "offset [0-9]+ \(0x[0-9a-f]+\), record [0-9]+" "$verb: parse error gives offset and event index"
done
expect 2 "unknown verb" "$shield" eventlog frob
expect 0 "eventlog --help" "$shield" eventlog --help
expect 2 "verify without --pcrs" "$shield" eventlog verify "$seed/agile-3-banks"
expect 2 "bad --ignore" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs x --ignore 99
expect 2 "bad --pcr" "$shield" eventlog show "$seed/agile-3-banks" --pcr 7x
expect 2 "--verbose is show's only" "$shield" eventlog replay "$seed/agile-3-banks" --verbose
contains "the option '--verbose' does not apply here" "a misplaced option is named"
expect 2 "replay: unknown bank" "$shield" eventlog replay "$seed/agile-3-banks" --bank md5

# show
expect 0 "show" "$shield" eventlog show "$seed/agile-3-banks"
contains "^EVENT +PCR +TYPE +sha1 +sha256 +sha384 +CONTENT$" "show labels a digest column per bank"
contains "SecureBoot = 1" "show decodes SecureBoot"
contains 'HD\(1,GPT,5ca1ab1e-0000-4000-8000-000000000002,0x800,0x1e000\)/\\EFI\\BOOT\\BOOTX64.EFI' "show prints the device path"
contains "quirk-wbcl-records" "show lists quirks"
expect 0 "show --json" "$shield" eventlog show --json "$seed/agile-3-banks"
is_json "show --json"
contains '"quirks"' "show --json has the quirks"
contains '"decoded"' "show --json has the decoded fields"
expect 0 "show --pcr 7" "$shield" eventlog show "$seed/agile-3-banks" --pcr 7
if grep -qE '^ +[0-9]+ +[0-68] ' "$work/out"; then echo "FAIL: --pcr 7 shows other PCRs"; fails=$((fails + 1)); fi
expect 0 "show -v" "$shield" eventlog show -v "$seed/agile-3-banks" --pcr 7
contains "^        sha256 +[0-9a-f]{64}$" "--verbose prints full digests"
contains "^        record +0x[0-9a-f]+, [0-9]+ bytes" "--verbose prints where each event is"

# replay: exactly "BANK PCR HEX", banks in log order.
expect 0 "replay" "$shield" eventlog replay "$seed/agile-3-banks"
contains "^sha256 7 [0-9a-f]{64}$" "replay prints 'BANK PCR HEX'"
if grep -qvE '^(sha1 ([0-9]|1[0-9]|2[0-3]) [0-9a-f]{40}|sha256 ([0-9]|1[0-9]|2[0-3]) [0-9a-f]{64}|sha384 ([0-9]|1[0-9]|2[0-3]) [0-9a-f]{96})$' "$work/out"; then
        echo "FAIL: replay printed a line not of the form 'BANK PCR HEX'"; fails=$((fails + 1))
else echo "ok: every replay line is 'BANK PCR HEX'"; fi
if [ "$(awk '{print $1}' "$work/out" | uniq | tr '\n' ' ')" = "sha1 sha256 sha384 " ]; then echo "ok: banks in log order"; else
        echo "FAIL: banks not in log order"; fails=$((fails + 1)); fi
expect 0 "replay --bank sha1" "$shield" eventlog replay "$seed/agile-3-banks" --bank sha1
if grep -q sha256 "$work/out"; then echo "FAIL: --bank sha1 printed sha256"; fails=$((fails + 1)); fi
expect 2 "replay --bank of a bank the log lacks" "$shield" eventlog replay "$seed/legacy" --bank sha256
expect 0 "replay --json" "$shield" eventlog replay --json "$seed/agile-3-banks"
is_json "replay --json"

# Round trip: replay --json (written above) is verify's --pcrs format.
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
contains '"verified": false' "verify --json says not verified"
echo '{"sha256": {"0": "zz"}}' >"$work/broken.json"
expect 2 "unparsable PCRS.json" "$shield" eventlog verify "$seed/agile-3-banks" --pcrs "$work/broken.json"

# secureboot
expect 0 "secureboot" "$shield" eventlog secureboot "$seed/agile-3-banks"
contains "SecureBoot +1" "secureboot state"
contains "db authority|event 12 +db" "the db authority is listed"
expect 0 "secureboot --json" "$shield" eventlog secureboot --json "$seed/agile-3-banks"
is_json "secureboot --json"
contains '"findings"' "secureboot --json has findings"

# A log built here (PFP 1.05, 10.2.1 and 10.4.5.1: Spec ID event, then
# TCG_PCR_EVENT2 records with a sha256 bank) whose PCR 7 says the firmware
# ran with a UEFI debugger: an error-severity finding, so exit 1.
python3 - "$work/debug.bin" <<'PY'
import hashlib, struct, sys
spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", 0x000B, 32) + b"\0"
log = struct.pack("<II", 0, 3) + b"\0" * 20 + struct.pack("<I", len(spec)) + spec
def event(pcr, typ, data):
    return struct.pack("<III", pcr, typ, 1) + struct.pack("<H", 0x000B) + hashlib.sha256(data).digest() + struct.pack("<I", len(data)) + data
def var(name, data):
    g = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
    return g + struct.pack("<QQ", len(name), len(data)) + name.encode("utf-16-le") + data
log += event(7, 0x80000001, var("SecureBoot", b"\1"))
log += event(7, 0x80000007, b"UEFI Debug Mode")
for pcr in range(8):
    log += event(pcr, 4, b"\0\0\0\0")
open(sys.argv[1], "wb").write(log)
PY
expect 1 "secureboot with a UEFI debugger is an error" "$shield" eventlog secureboot "$work/debug.bin"
contains "error +uefi-debugger +PCR 7, event 2, offset 0x[0-9a-f]+:" "the finding names its code, PCR, event and offset"
expect 0 "show decodes the built log" "$shield" eventlog show "$work/debug.bin"
contains '"UEFI Debug Mode"' "show prints the action"

if have_data eventlogs; then
        for log in gce-rhel8-secureboot pc-workstation-arch-systemd-boot intel-nuc-legacy-sha1; do
                expect 0 "verify $log against the PCRs its TPM reported" \
                        "$shield" eventlog verify "$data/eventlogs/$log.bin" --pcrs "$data/eventlogs/$log.pcrs.json"
                contains "verified" "verify says verified"
        done
        expect 0 "verify with --ignore 10 (IMA)" "$shield" eventlog verify "$data/eventlogs/gce-cos85-attested.bin" \
                --pcrs "$data/eventlogs/gce-cos85-attested.pcrs.json" --ignore 10
        expect 1 "without --ignore, PCR 10 differs" "$shield" eventlog verify "$data/eventlogs/gce-cos85-attested.bin" \
                --pcrs "$data/eventlogs/gce-cos85-attested.pcrs.json"
        contains "PCR 10" "PCR 10 is named"

        # A real log's PCR value edited: exit 1 naming bank and PCR.
        python3 - "$data/eventlogs/gce-rhel8-secureboot.pcrs.json" "$work/edited.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["sha1"]["4"] = "00" * 20; json.dump(p, open(sys.argv[2], "w"))
PY
        expect 1 "verify a real log against an edited PCR value" "$shield" eventlog verify \
                "$data/eventlogs/gce-rhel8-secureboot.bin" --pcrs "$work/edited.json"
        contains "sha1 PCR 4" "the edited bank and PCR are named"

        # A truncated real log: exit 2 with the offset.
        head -c 20000 "$data/eventlogs/gce-rhel8-secureboot.bin" >"$work/truncated.bin"
        expect 2 "verify a truncated real log" "$shield" eventlog verify "$work/truncated.bin" \
                --pcrs "$data/eventlogs/gce-rhel8-secureboot.pcrs.json"
        contains "offset [0-9]+ \(0x[0-9a-f]+\), record [0-9]+" "the truncation is located"

        # Forged real logs: flip a byte inside dbx, and turn SecureBoot = 1 into 0; the digests stay.
        "$shield" eventlog show --json "$data/eventlogs/gce-rhel8-secureboot.bin" >"$work/rhel8.json"
        for target in "dbx 40 event 7" "SecureBoot 1 event 3"; do
                set -- $target
                off=$(python3 - "$work/rhel8.json" "$1" "$2" <<'PY'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["events"] if e.get("decoded", {}).get("name") == sys.argv[2]][0]
print(ev["offset"] + ev["size"] - int(sys.argv[3]))
PY
)
                cp "$data/eventlogs/gce-rhel8-secureboot.bin" "$work/forged.bin"
                if [ "$1" = SecureBoot ]; then byte='\x00'; else byte='\xff'; fi
                printf "$byte" | dd of="$work/forged.bin" bs=1 seek="$off" conv=notrunc status=none
                expect 1 "a forged $1 is refused" "$shield" eventlog verify "$work/forged.bin" \
                        --pcrs "$data/eventlogs/gce-rhel8-secureboot.pcrs.json"
                contains "PCR 7 $3 $4 EV_EFI_VARIABLE_DRIVER_CONFIG" "the forged $1 event is named"
        done
        expect 0 "the forged log still shows" "$shield" eventlog show "$work/forged.bin" --pcr 7
        contains "SecureBoot = 0" "show decodes what the forged log claims"

        # Real logs' Secure Boot state.
        expect 0 "secureboot on a real log" "$shield" eventlog secureboot "$data/eventlogs/gce-rhel8-secureboot.bin"
        contains "^SecureBoot +1$" "SecureBoot = 1 as measured"
        contains "Microsoft Corporation UEFI CA 2011.*sha1 46def63b5ce61cf8ba0de2e6639c1019d0ed14f3" \
                "the db authority with its thumbprint"
        expect 0 "secureboot --json on a real log" "$shield" eventlog secureboot --json "$data/eventlogs/gce-rhel8-secureboot.bin"
        is_json "secureboot --json (real)"
        expect 0 "show --json on a real log" "$shield" eventlog show --json "$data/eventlogs/hygon-dhyana-hcrtm.bin"
        is_json "show --json (real, three banks with sm3_256)"

        # tpm2_eventlog as an independent replay: the same PCRs, banks and values.
        if command -v tpm2_eventlog >/dev/null; then
                for log in gce-rhel8-secureboot ovmf-ubuntu-grub-bootorder hygon-dhyana-hcrtm intel-nuc-legacy-sha1 \
                        pc-workstation-arch-systemd-boot dell-ubuntu; do
                        "$shield" eventlog replay "$data/eventlogs/$log.bin" | sort >"$work/ours"
                        tpm2_eventlog "$data/eventlogs/$log.bin" 2>/dev/null |
                                awk '/^pcrs:/ {on=1; next}
                                     on && /^  [a-z0-9_]+:$/ {bank=$1; sub(":", "", bank); next}
                                     on && /^    [0-9]+ *: 0x/ {gsub(/ /, ""); split($0, a, ":0x"); print bank " " a[1] " " tolower(a[2])}' |
                                sort >"$work/theirs"
                        if [ -s "$work/ours" ] && cmp -s "$work/ours" "$work/theirs"; then
                                echo "ok: replay of $log agrees with tpm2_eventlog ($(wc -l <"$work/ours") PCR values)"
                        else
                                echo "FAIL: replay of $log differs from tpm2_eventlog"
                                diff "$work/ours" "$work/theirs" | head -10 | sed 's/^/  | /'
                                fails=$((fails + 1))
                        fi
                done
        else
                echo "skip: tpm2_eventlog not installed (cross-check)"
        fi
else
        echo "skip: no shared data (real-log checks)"
fi
finish
