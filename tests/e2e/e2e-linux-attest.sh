#!/bin/bash
# Row 7 of the shielded-VM matrix, the real-Linux path (docs/LINUX-BOOT.md):
# Debian 12's signed kernel with Shieldkit's initramfs as one UKI
# (scripts/make-linux-uki), signed with the image's db key, put on a shielded
# image by `shield image create`, booted by `shield vm run` with Secure Boot
# on and a provisioned vTPM. /init reads the nonce from fw_cfg and runs the
# real `shield attest` against /dev/tpmrm0 with IMA on; the evidence comes
# back on the serial console. Oracles besides shield's own checks:
#   - sbverify accepts the UKI; the firmware runs it; the kernel reports lockdown;
#   - tpm2_checkquote verifies the quote under the AK that tpm2_readpublic
#     reads from the instance's vTPM before the boot, with our nonce only;
#   - PCR 10 is not zero and the IMA list replays to it (shield ima verify);
#   - the firmware event log replays to PCRs 0-7 (shield eventlog verify).
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:-$root/build/tools/shield/shield}
for tool in qemu-system-x86_64 qemu-img swtpm swtpm_setup sbsign sbverify openssl python3 mkfs.fat mcopy \
        tpm2_readpublic tpm2_checkquote objcopy cpio; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps)"; exit 77; }
done
for f in /usr/share/OVMF/OVMF_CODE_4M.secboot.fd /usr/lib/systemd/boot/efi/linuxx64.efi.stub /bin/busybox; do
        [ -f "$f" ] || { echo "SKIP: $f is not installed (scripts/install-deps)"; exit 77; }
done

work=$(mktemp -d /tmp/e2e-linux.XXXXXX)
trap 'rm -rf "$work"' EXIT
export SHIELD_STATE_DIR=$work/state
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$shield" keys generate --out "$work/owner" --cn-prefix "E2E Linux" >/dev/null 2>&1 || { echo "FAIL: keys generate"; exit 1; }
o=$work/owner
"$root/scripts/make-linux-uki" --shield "$shield" --out "$work/uki.efi" --sign-key "$o/db.key" --sign-cert "$o/db.crt" \
        2>"$work/uki.log"
rc=$?
[ $rc -eq 77 ] && { cat "$work/uki.log"; echo "SKIP: cannot build the UKI (no network for the kernel package?)"; exit 77; }
[ $rc -eq 0 ] || { cat "$work/uki.log"; echo "FAIL: make-linux-uki exit $rc"; exit 1; }
sbverify --cert "$o/db.crt" "$work/uki.efi" >/dev/null 2>&1 && ok "sbverify accepts the signed UKI" || bad "sbverify rejects the UKI"

"$shield" image create -o "$work/linux.raw" --bootloader "$work/uki.efi" >/dev/null 2>&1 || { echo "FAIL: image create"; exit 1; }
"$shield" image register linux --source-disk "$work/linux.raw" --platform-key-file "$o/PK.der" \
        --key-exchange-key-file "$o/KEK.der" --signature-database-file "$o/db.der" >/dev/null 2>&1 ||
        { echo "FAIL: image register"; exit 1; }
"$shield" vm create lin --image linux >/dev/null 2>&1 || { echo "FAIL: vm create"; exit 1; }

# The AK as the vTPM itself reports it, read by tpm2-tools before the boot.
port=$((20000 + (RANDOM % 6000) * 2))
swtpm socket --tpm2 --tpmstate dir="$SHIELD_STATE_DIR/instances/lin/tpm" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear >/dev/null 2>&1 &
swtpm_pid=$!
for _ in $(seq 50); do TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$port tpm2_readpublic -Q -c 0x81010002 -f pem \
        -o "$work/ak.pem" 2>/dev/null && break; sleep 0.1; done
kill $swtpm_pid 2>/dev/null; wait $swtpm_pid 2>/dev/null
[ -s "$work/ak.pem" ] || { echo "FAIL: no AK in the vTPM"; exit 1; }

nonce=$(openssl rand -hex 20)
"$shield" vm run lin --nonce "$nonce" --evidence "$work/ev.json" --timeout 150 >"$work/run.out" 2>"$work/run.err"
rc=$?
cat "$work/run.out"
grep -E "boot program running|booted" "$work/run.err" "$work/run.out" | sed 's/^/  /'
serial=$SHIELD_STATE_DIR/instances/lin/serial.log
if [ $rc -eq 0 ] && grep -q '"status": "Pass"' "$work/run.out" && grep -q "quote: verified" "$work/run.out" &&
        grep -q "IMA list replays to PCR 10: yes" "$work/run.out"; then
        ok "shield vm run: the UKI boots under Secure Boot; quote, AK certificate, event log and IMA list check out"
else
        bad "shield vm run exit $rc"; sed 's/^/  | /' "$work/run.err" | tail -15; grep -a SHIELD "$serial" | head -20
fi
grep -qa "SHIELD-LINUX-KERNEL.*lockdown=integrity" "$serial" && ok "the kernel runs in lockdown (Secure Boot seen by Linux)" ||
        bad "no lockdown"
[ -f "$work/ev.json" ] || { echo "FAIL: no evidence"; exit 1; }

python3 - "$work/ev.json" "$work" <<'PY' || bad "evidence fields"
import base64, json, sys
e = json.load(open(sys.argv[1])); w = sys.argv[2]
for name, data in (("attest", e["quote"]["attest"]), ("sig", e["quote"]["signature"])):
    open(f"{w}/q-{name}.bin", "wb").write(base64.b64decode(data))
open(f"{w}/eventlog.bin", "wb").write(base64.b64decode(e["eventlog"]))
open(f"{w}/ima.bin", "wb").write(base64.b64decode(e["ima_log"]))
json.dump(e["pcrs"], open(f"{w}/pcrs.json", "w"))
assert e["secure_boot"] is True and e["setup_mode"] is False, "SecureBoot/SetupMode"
assert int(e["pcrs"]["sha256"]["10"], 16) != 0, "PCR 10 is zero"
PY
tpm2_checkquote -u "$work/ak.pem" -m "$work/q-attest.bin" -s "$work/q-sig.bin" -q "$nonce" -g sha256 >/dev/null 2>&1 &&
        ok "tpm2_checkquote: the quote verifies under the vTPM's AK with our nonce" || bad "tpm2_checkquote rejects the quote"
tpm2_checkquote -u "$work/ak.pem" -m "$work/q-attest.bin" -s "$work/q-sig.bin" -q "00$nonce" -g sha256 >/dev/null 2>&1 &&
        bad "tpm2_checkquote accepted another nonce" || ok "tpm2_checkquote refuses another nonce"
"$shield" ima verify "$work/ima.bin" --pcrs "$work/pcrs.json" >"$work/ima.out" 2>&1 &&
        ok "PCR 10 is not zero and the IMA list replays to it (shield ima verify)" ||
        { bad "shield ima verify"; head -5 "$work/ima.out"; }
"$shield" eventlog verify "$work/eventlog.bin" --pcrs "$work/pcrs.json" --ignore 10 >"$work/el.out" 2>&1 &&
        ok "the firmware event log replays to the quoted PCRs (shield eventlog verify)" ||
        { bad "shield eventlog verify"; head -5 "$work/el.out"; }
[ $fails -eq 0 ] && echo "linux path passed" || echo "$fails failed"
exit $((fails > 0))
