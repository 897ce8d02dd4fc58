#!/bin/bash
# shield ima: usage, exit codes and formats. Every list here is built by
# this script from the kernel's documented layouts, and every expected hash
# comes from the openssl CLI; boot_aggregate is checked against firmware
# PCRs that tpm2_eventlog (tpm2-tools) computes.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null && command -v xxd >/dev/null || { echo "skip: needs openssl and xxd"; exit 77; }

sha() { openssl dgst "-$1" -r | cut -d' ' -f1; } # sha ALG < data → hex
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x00\\x00"; }

for verb in show replay verify; do
        expect 0 "ima $verb --help" "$shield" ima "$verb" --help
        contains "^Usage: shield ima $verb" "$verb --help shows its synopsis"
        contains "^Exit status" "$verb --help has the exit status"
        contains "^Examples" "$verb --help has examples"
done
expect 0 "ima --help" "$shield" ima --help
contains "replay" "the family help lists the commands"
expect 2 "no command" "$shield" ima
expect 2 "unknown command" "$shield" ima frob

# One ima-ng entry for /tmp/hello: template data = u32 len ‖ "sha256:" NUL digest ‖ u32 len ‖ path NUL.
digest=$(printf 'hello' | sha sha256)
{ le32 40; printf 'sha256:\0'; printf '%s' "$digest" | xxd -r -p; le32 11; printf '/tmp/hello\0'; } >"$work/data"
th=$(sha sha1 <"$work/data")
th256=$(sha sha256 <"$work/data")
echo "10 $th ima-ng sha256:$digest /tmp/hello" >"$work/list"
pcr10=$( { printf '%040d' 0 | xxd -r -p; printf '%s' "$th" | xxd -r -p; } | sha sha1)
pcr10_256=$( { printf '%064d' 0 | xxd -r -p; printf '%s' "$th256" | xxd -r -p; } | sha sha256)

expect 2 "unknown option" "$shield" ima show --frob "$work/list"
expect 2 "no LIST" "$shield" ima show
expect 2 "two LISTs" "$shield" ima show "$work/list" "$work/list"
expect 2 "a missing file" "$shield" ima show "$work/absent"
expect 2 "an unknown bank" "$shield" ima replay --bank md5 "$work/list"
expect 2 "a bad --pcr" "$shield" ima replay --pcr 24 "$work/list"
expect 2 "--pcr10 that is not hex" "$shield" ima verify --pcr10 xyz "$work/list"
expect 2 "--pcr10 that fits no bank" "$shield" ima verify --pcr10 0011 "$work/list"
expect 2 "--bank without --pcr10" "$shield" ima verify --bank sha256 "$work/list"
expect 2 "--eventlog and --pcrs" "$shield" ima verify --eventlog a --pcrs b "$work/list"
expect 2 "an option of another verb" "$shield" ima show --bank sha1 "$work/list"

expect 0 "show" "$shield" ima show "$work/list"
contains "^ +0 +10 +ima-ng +sha256:2cf24dba5fb0a30e +/tmp/hello$" "show prints index, PCR, template, short digest, path"
expect 0 "show --json" "$shield" ima show --json "$work/list"
is_json "show --json"
if command -v jq >/dev/null; then
        [ "$(jq -r '.entries[0].file_hash' "$work/out")" = "$digest" ] && echo "ok: show --json has the full digest" ||
                { echo "FAIL: show --json digest"; fails=$((fails + 1)); }
        [ "$(jq -r '.entries[0].line' "$work/out")" = 1 ] && echo "ok: show --json has the line" ||
                { echo "FAIL: show --json line"; fails=$((fails + 1)); }
fi

expect 0 "a list whose template hash openssl computed verifies" "$shield" ima verify "$work/list"
contains "verified: 1 entries, 0 template hash mismatches" "verify says so"
expect 0 "replay" "$shield" ima replay "$work/list"
contains "^sha1 10 $pcr10$" "PCR 10 (sha1) equals openssl's extend"
expect 0 "replay --bank sha256" "$shield" ima replay --bank sha256 "$work/list"
contains "^sha256 10 $pcr10_256$" "PCR 10 (sha256) extends SHA-256 of the template data, as openssl computes"
expect 0 "replay --pcr 11" "$shield" ima replay --pcr 11 "$work/list"
contains "^sha1 11 0{40}$" "an unused PCR stays zero"
expect 0 "replay --json" "$shield" ima replay --json "$work/list"
is_json "replay --json"
expect 0 "verify --pcr10" "$shield" ima verify "$work/list" --pcr10 "$pcr10"
contains "PCR 10 replayed" "PCR 10 was compared"
expect 0 "verify --pcr10 --bank sha256" "$shield" ima verify "$work/list" --bank sha256 --pcr10 "$pcr10_256"
expect 1 "verify --pcr10 wrong" "$shield" ima verify "$work/list" --pcr10 "$(printf '%040d' 1)"
contains "PCR 10: expected 0{39}1, the list replays to $pcr10" "the PCR 10 difference is named with both values"

# The same entry in the binary form: PCR, template hash, name, data length, data.
{ le32 10; printf '%s' "$th" | xxd -r -p; le32 6; printf 'ima-ng'; le32 "$(stat -c %s "$work/data")"; cat "$work/data"; } >"$work/list.bin"
expect 0 "a binary list verifies" "$shield" ima verify "$work/list.bin" --pcr10 "$pcr10"
expect 0 "show --json of a binary list" "$shield" ima show --json "$work/list.bin"
contains '"format": "binary"' "the binary form is detected"
expect 2 "a truncated binary list" "$shield" ima show <(head -c 60 "$work/list.bin")
contains "offset 34" "the truncation names the offset of the template data length"

# Failures name the entry.
{ cat "$work/list"; sed 's/hello$/hellO/' "$work/list"; } >"$work/edited"
expect 1 "an edited path fails its template hash" "$shield" ima verify "$work/edited"
contains "entry 1 \(line 2\) /tmp/hellO: template hash $th" "the entry, its line and the listed hash are named"
expect 1 "verify --json" "$shield" ima verify --json "$work/edited"
is_json "verify --json"
contains '"ima-template-hash-mismatch"' "the JSON reason has its code"
{ cat "$work/list"; echo "10 $th ima-ng sha256:zz /x"; } >"$work/badhex"
expect 2 "bad hex" "$shield" ima show "$work/badhex"
contains "line 2" "the line is named"
echo "10 $th ima-ng whirl:00 /x" >"$work/badalg"
expect 2 "an unknown algorithm" "$shield" ima verify "$work/badalg"
contains "unknown file hash algorithm 'whirl'" "the algorithm is named"

# An invalidated entry (all-zero template hash): noted, extended as all ones.
{ cat "$work/list"; echo "10 $(printf '%040d' 0) ima-ng sha256:$(printf '%064d' 0) /tmp/violated"; } >"$work/violation"
ones=$( { printf '%s' "$pcr10" | xxd -r -p; printf '%040d' 0 | tr 0 f | xxd -r -p; } | sha sha1)
expect 0 "a violation is not a failure" "$shield" ima verify "$work/violation" --pcr10 "$ones"
contains "1 violations" "the violation is counted"

if have_data ima && [ -f "$data/eventlogs/hyperv-vm-openeuler.bin" ]; then
        list256=$data/ima/openeuler-hyperv-ima-ng-sha256.ascii
        expect 0 "boot_aggregate against the firmware log" "$shield" ima verify "$list256" \
                --eventlog "$data/eventlogs/hyperv-vm-openeuler.bin"
        contains "boot_aggregate checked" "boot_aggregate was checked"
        expect 1 "boot_aggregate against another machine's log" "$shield" ima verify \
                "$data/ima/openeuler-hyperv-ima-ng-sha1.ascii" --eventlog "$data/eventlogs/gce-rhel8-secureboot.bin"
        contains "boot_aggregate is" "the mismatch is named"
        expect 2 "a truncated binary record (real)" "$shield" ima show "$data/ima/tpm2-tss-sml-ima-ng-sha1-invalidated.bin"
        contains "offset 34" "the offset is named"
        expect 0 "the sm3 list verifies with SM3 template hashes" "$shield" ima verify "$data/ima/keylime-ima-ng-sm3_256.ascii"
        expect 1 "the sm3 list read as SHA-256 does not" "$shield" ima verify --template-hash sha256 \
                "$data/ima/keylime-ima-ng-sm3_256.ascii"
        contains "entry 1 \(line 2\)" "the mismatching entry is named"

        # PCRs 0-9 of the sha256 bank by tpm2_eventlog; boot_aggregate = SHA-256 over them (openssl).
        if command -v tpm2_eventlog >/dev/null; then
                tpm2_eventlog "$data/eventlogs/hyperv-vm-openeuler.bin" 2>/dev/null |
                        sed -n '/^pcrs:/,$p' | awk '/^  sha256:/ {b=1; next} /^  [a-z]/ {b=0} b && $1 ~ /^[0-9]+$/ {print $1, $3}' \
                        >"$work/pcrs.txt"
                pcr_value() { local v; v=$(awk -v i="$1" '$1 == i {print substr($2, 3)}' "$work/pcrs.txt"); echo "${v:-$(printf '%064d' 0)}"; }
                agg=$(for i in 0 1 2 3 4 5 6 7 8 9; do pcr_value $i; done | tr -d '\n' | xxd -r -p | sha sha256)
                if head -1 "$list256" | grep -q "sha256:$agg boot_aggregate"; then
                        echo "ok: openssl over tpm2_eventlog's PCRs 0-9 gives the list's boot_aggregate"
                else
                        echo "FAIL: boot_aggregate $agg is not in the list's first line"; fails=$((fails + 1))
                fi
                python3 - "$work/pcrs.txt" "$work/pcrs.json" <<'EOF'
import json, sys
vals = {int(l.split()[0]): l.split()[1][2:] for l in open(sys.argv[1]) if l.strip()}
json.dump({"sha256": {str(i): vals.get(i, "00" * 32) for i in range(10)}}, open(sys.argv[2], "w"))
EOF
                expect 0 "boot_aggregate against PCRS.json from tpm2_eventlog" "$shield" ima verify "$list256" --pcrs "$work/pcrs.json"
                contains "boot_aggregate checked" "boot_aggregate was checked"
                sed 's/"3": "3d/"3": "4d/' "$work/pcrs.json" >"$work/pcrs-bad.json"
                expect 1 "one firmware PCR changed" "$shield" ima verify "$list256" --pcrs "$work/pcrs-bad.json" --json
                contains '"ima-boot-aggregate-mismatch"' "the mismatch has its code"
                expect 1 "a sha1 boot_aggregate with only sha256 PCRs" "$shield" ima verify \
                        "$data/ima/openeuler-hyperv-ima-ng-sha1.ascii" --pcrs "$work/pcrs.json"
                contains "lack that bank" "the missing bank is named"
        else
                echo "skip: no tpm2_eventlog (PCRS.json checks)"
        fi
else
        echo "skip: no shared data (real-list checks)"
fi
finish
