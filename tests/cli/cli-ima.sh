#!/bin/bash
# shield ima: exit codes and formats; template hashes cross-checked with openssl.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=${SHIELD_SOURCE_ROOT:?}
seed=$root/tests/fuzz/corpus/fuzz-ima

for verb in show replay verify; do
        expect 0 "ima $verb --help" "$shield" ima "$verb" --help
        contains "^Usage: shield ima $verb" "$verb --help shows its synopsis"
done
expect 2 "unknown option" "$shield" ima show --frob "$seed/ascii-ima-ng"
expect 2 "bad list" "$shield" ima show "$seed/ascii-bad"
contains "line 1" "the line is named"
expect 0 "show" "$shield" ima show "$seed/ascii-ima-ng"
contains "/usr/bin/ls" "show lists paths"
expect 0 "show --json" "$shield" ima show --json "$seed/binary-ima-ng"
is_json "show --json"

# An ima-ng entry made here, its template hash computed by openssl.
digest=$(printf 'hello' | openssl dgst -sha256 -r | cut -d' ' -f1)
template_hash=$( { printf '\x28\x00\x00\x00sha256:\x00'; printf '%s' "$digest" | xxd -r -p; printf '\x0b\x00\x00\x00/tmp/hello\x00'; } | openssl dgst -sha1 -r | cut -d' ' -f1)
echo "10 $template_hash ima-ng sha256:$digest /tmp/hello" >"$work/list"
expect 0 "a list whose template hash openssl computed verifies" "$shield" ima verify "$work/list"
pcr10=$( { printf '%040d' 0 | xxd -r -p; printf '%s' "$template_hash" | xxd -r -p; } | openssl dgst -sha1 -r | cut -d' ' -f1)
expect 0 "replay" "$shield" ima replay "$work/list"
contains "^sha1 10 $pcr10$" "PCR 10 equals openssl's extend"
expect 0 "verify --pcr10" "$shield" ima verify "$work/list" --pcr10 "$pcr10"
expect 1 "verify --pcr10 wrong" "$shield" ima verify "$work/list" --pcr10 "$(printf '%040d' 1)"
contains "PCR 10: expected" "the PCR 10 difference is named"
sed 's/hello$/hellO/' "$work/list" >"$work/edited"
expect 1 "an edited path fails its template hash" "$shield" ima verify "$work/edited"
contains "line 1" "the entry's line is named"
expect 1 "verify --json" "$shield" ima verify --json "$work/edited"
is_json "verify --json"

if have_data ima; then
        expect 0 "boot_aggregate against the firmware log" "$shield" ima verify "$data/ima/openeuler-hyperv-ima-ng-sha256.ascii" \
                --eventlog "$data/eventlogs/hyperv-vm-openeuler.bin"
        contains "boot_aggregate checked" "boot_aggregate was checked"
        expect 1 "boot_aggregate against another machine's log" "$shield" ima verify "$data/ima/openeuler-hyperv-ima-ng-sha1.ascii" \
                --eventlog "$data/eventlogs/gce-rhel8-secureboot.bin"
        contains "boot_aggregate is" "the mismatch is named"
        expect 2 "a truncated binary record" "$shield" ima show "$data/ima/tpm2-tss-sml-ima-ng-sha1-invalidated.bin"
        contains "offset 34" "the offset is named"
else
        echo "skip: no shared data (real-list checks)"
fi
finish
