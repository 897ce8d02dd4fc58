#!/bin/bash
# shield vm: usage, instance life cycle without a full boot (the boots are
# tests/e2e/e2e-vm-matrix.sh). The vTPM is checked with tpm2-tools.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
for tool in swtpm swtpm_setup qemu-img qemu-system-x86_64 mkfs.fat tpm2_nvread; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_VARS_4M.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
export SHIELD_STATE_DIR=$work/state

expect 0 "vm --help" "$shield" vm --help
expect 0 "vm run --help" "$shield" vm run --help
contains "--evidence FILE" "run --help documents --evidence"
expect 2 "vm create without --image" "$shield" vm create a
expect 2 "vm create from a missing image" "$shield" vm create a --image nothing
expect 2 "vm run of nothing" "$shield" vm run nothing
expect 2 "vm run with a bad nonce" "$shield" vm run nothing --nonce xyz
expect 2 "vm unknown verb" "$shield" vm frobnicate

make_pe "$work/fake.efi"
"$shield" image create -o "$work/d.raw" --bootloader "$work/fake.efi" --esp-size 64M >/dev/null 2>&1
"$shield" image register img --source-disk "$work/d.raw" >/dev/null 2>&1 || { echo "FAIL: register"; exit 1; }
expect 0 "vm create" "$shield" vm create web-1 --image img
expect 2 "vm create twice" "$shield" vm create web-1 --image img
expect 2 "vm create with a bad name" "$shield" vm create Web_1 --image img
inst=$SHIELD_STATE_DIR/instances/web-1
qemu-img info "$inst/disk.qcow2" >"$work/out" 2>&1
contains "backing file: .*images/img/disk.raw" "the disk is an overlay of the image"
"$shield" varstore show "$inst/OVMF_VARS.fd" >"$work/out" 2>&1
contains "^PK " "the variable store holds PK"
contains "^dbx " "... and dbx (the platform default)"
contains "0 certificates, 443 hashes" "... the default dbx is the full UEFI revocation list (443 hashes, data/uefi/dbx)"
[ -f "$SHIELD_STATE_DIR/platform-ca/ca.crt" ] && echo "ok: the platform CA exists" || { echo "FAIL: no platform CA"; fails=$((fails + 1)); }

# The vTPM, read by tpm2-tools: the AK certificate in NV 0x01c10000 is issued by the platform CA.
port=$((20000 + RANDOM % 10000))
swtpm socket --tpm2 --tpmstate dir="$inst/tpm" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear &
swtpm_pid=$!
sleep 0.5
export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$port
tpm2_nvread 0x01c10000 -o "$work/ak.der" >/dev/null 2>&1
tpm2_readpublic -c 0x81010002 >"$work/out" 2>&1
contains "restricted" "the AK at 0x81010002 is a restricted key"
tpm2_getcap pcrs >"$work/pcrs.txt" 2>&1
kill $swtpm_pid 2>/dev/null; wait $swtpm_pid 2>/dev/null
if openssl verify -CAfile "$SHIELD_STATE_DIR/platform-ca/ca.crt" <(openssl x509 -inform DER -in "$work/ak.der") >/dev/null 2>&1; then
        echo "ok: openssl verifies the AK certificate against the platform CA"
else
        echo "FAIL: the AK certificate does not verify"; fails=$((fails + 1))
fi
grep -q "sha1: \[ 0," "$work/pcrs.txt" && grep -q "sha256: \[ 0," "$work/pcrs.txt" && ! grep -q "sha384: \[ 0" "$work/pcrs.txt" &&
        echo "ok: banks sha1 and sha256 active" || { echo "FAIL: banks"; cat "$work/pcrs.txt" | head; fails=$((fails + 1)); }

expect 2 "console before any boot" "$shield" vm console web-1
expect 0 "vm list" "$shield" vm list --json
is_json "vm list --json"
contains '"running": false' "stopped"
expect 0 "vm start" "$shield" vm start web-1
expect 0 "vm list while running" "$shield" vm list
contains "web-1 +img +running" "running"
expect 2 "vm start twice" "$shield" vm start web-1
sleep 1
expect 0 "vm console" "$shield" vm console web-1
expect 0 "vm stop" "$shield" vm stop web-1
expect 2 "vm stop twice" "$shield" vm stop web-1
expect 2 "an image in use is not deleted" "$shield" image delete img
contains "used by instances web-1" "the instance is named"
expect 0 "vm delete" "$shield" vm delete web-1
[ ! -e "$inst" ] && echo "ok: deleted" || { echo "FAIL: instance left"; fails=$((fails + 1)); }
expect 0 "the image is deleted once unused" "$shield" image delete img
finish
