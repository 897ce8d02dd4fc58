#!/bin/bash
# shield verify and integrity monitoring against real swtpm TPMs. A small
# crypto-agile event log is written here and its events are extended into
# the TPM with tpm2_pcrextend (an independent producer), so the evidence
# from `shield attest` carries a log that replays to the quoted PCRs.
#   quote → verify: verified, first boot becomes the golden (green)
#   same PCRs again → green; PCR 9 (not in the golden) extended → yellow;
#   a golden PCR (4) extended → red, naming PCR 4
#   replayed nonce, wrong nonce, AK from another TPM, PCR values edited,
#   event log edited, quote signature flipped → each refused with its reason
set -uo pipefail
source "$(dirname "$0")/lib.sh"
for tool in swtpm swtpm_setup tpm2_pcrextend python3 openssl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
export SHIELD_STORE=$work/shield.db
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

source "$(dirname "$0")/../lib/swtpm.sh"
mkdir -p "$work/ca"
start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
start_tpm b || { echo "FAIL: swtpm b"; exit 1; }
tcti_a="swtpm:host=127.0.0.1,port=$port_a"
tcti_b="swtpm:host=127.0.0.1,port=$port_b"

extend_all() { extend "$tcti_a" "$work/extend.txt"; }
mklog "$work/log.bin" v1
extend_all
attest() { # TCTI OUT [LOG] → nonce in $nonce
        nonce=$(openssl rand -hex 20)
        "$shield" attest --tcti "$1" --nonce "$nonce" --eventlog "${3:-$work/log.bin}" --ima-log /nonexistent -o "$2" 2>/dev/null
}
ca=$work/ca/ca.crt

expect 0 "verify --help" "$shield" verify --help
expect 2 "verify without --nonce" "$shield" verify x.json --instance m
expect 2 "verify without a trust anchor" "$shield" verify x.json --nonce 00

attest "$tcti_a" "$work/e0.json"; n0=$nonce
expect 1 "an AK certificate issued to another name is not trusted for m1" "$shield" verify "$work/e0.json" --nonce "$n0" --instance m1 --ca "$ca"
contains "ak-cert-name-mismatch" "the name the platform CA certified is not m1"
contains "nothing recorded for m1" "nothing is recorded for unauthenticated evidence"
attest "$tcti_a" "$work/e1.json"; n1=$nonce
expect 0 "first attestation: verified" "$shield" verify "$work/e1.json" --nonce "$n1" --instance a --ca "$ca"
contains "eventlog +pass" "the event log replays to the quoted PCRs"
contains "golden measurement recorded" "the first boot becomes the golden"
attest "$tcti_a" "$work/e2.json"; n2=$nonce
expect 0 "second attestation, nothing changed" "$shield" verify "$work/e2.json" --nonce "$n2" --instance a --json
is_json "verify --json"
contains '"colour": "green"' "green"
contains '"rebooted": false' "no reboot between the first two attestations"
expect 1 "the same evidence and nonce again" "$shield" verify "$work/e2.json" --nonce "$n2" --instance a
contains "nonce-replayed" "a replayed nonce is refused"
TPM2TOOLS_TCTI=$tcti_a tpm2_readpublic -Q -c 0x81010002 -f pem -o "$work/ak-a.pem" 2>/dev/null
TPM2TOOLS_TCTI=$tcti_b tpm2_readpublic -Q -c 0x81010002 -f pem -o "$work/ak-b.pem" 2>/dev/null
expect 0 "--ak-pub as PEM (tpm2_readpublic -f pem)" "$shield" verify "$work/e1.json" --nonce "$n1" --ak-pub "$work/ak-a.pem"
contains "ak +pass" "the pinned AK matches"
expect 1 "--ak-pub of another TPM" "$shield" verify "$work/e1.json" --nonce "$n1" --ak-pub "$work/ak-b.pem"
contains "ak-mismatch" "reason ak-mismatch"
expect 0 "--ek-ca: the EK certificate chains to the CA directory" "$shield" verify "$work/e1.json" --nonce "$n1" \
        --ak-pub "$work/ak-a.pem" --ek-ca "$work/ca"
contains "ek +pass.*certifies the TPM's EK" "the EK certificate certifies the reported EK"
mkdir -p "$work/other-ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=Other -days 2 \
        -out "$work/other-ca/ca.crt" 2>/dev/null
expect 1 "--ek-ca of another vendor" "$shield" verify "$work/e1.json" --nonce "$n1" --ak-pub "$work/ak-a.pem" \
        --ek-ca "$work/other-ca"
contains "ek-cert-untrusted" "reason ek-cert-untrusted"
expect 1 "a wrong nonce" "$shield" verify "$work/e2.json" --nonce "$(openssl rand -hex 20)" --ak-pub /dev/null --ca "$ca"
contains "quote-nonce-mismatch" "reason quote-nonce-mismatch"

# A late-boot event appears (PCR 9): everything golden is unchanged → yellow.
mklog "$work/log9.bin" v1 late
tail -n 1 "$work/extend.txt" >"$work/extend9.txt"; cp "$work/extend9.txt" "$work/extend.txt"; extend_all
attest "$tcti_a" "$work/e3.json" "$work/log9.bin"; n3=$nonce
expect 0 "a new PCR (9) appeared: still verified" "$shield" verify "$work/e3.json" --nonce "$n3" --instance a
contains "eventlog +pass" "the new log replays"
contains "yellow" "yellow"
contains "PCR 9" "the new PCR is named"

# Reboot with another bootloader: PCRs reset, a log whose PCR 4 boot application differs → red.
kill "$pid_a"; wait "$pid_a" 2>/dev/null
run_tpm a || { echo "FAIL: restarting swtpm a"; exit 1; }
tcti_a="swtpm:host=127.0.0.1,port=$port_a"
mklog "$work/log-v2.bin" v2
extend_all
attest "$tcti_a" "$work/e4.json" "$work/log-v2.bin"; n4=$nonce
expect 1 "the boot application in PCR 4 changed" "$shield" verify "$work/e4.json" --nonce "$n4" --instance a --json
contains '"colour": "red"' "red"
contains '"rebooted": true' "the reboot between the attestations is recognised (resetCount)"
contains "PCR 4" "PCR 4 is named"
contains "PCR 4 event 4 .*BOOTX64.EFI.* digest changed" "the changed event is named"
"$shield" golden export --instance a --format golden -o "$work/golden-a.json" >/dev/null 2>&1
expect 0 "policy oci: the same PCR 4 change does not set the colour" "$shield" verify "$work/e4.json" --nonce "$n4" \
        --ca "$ca" --golden "$work/golden-a.json" --integrity-policy oci
contains "verified, green" "policy oci: green"
contains "note +\[event-changed\].*PCR 4" "policy oci: the PCR 4 change is still listed, as a note"

attest "$tcti_b" "$work/other.json"; nb=$nonce
expect 1 "an AK from another TPM" "$shield" verify "$work/other.json" --nonce "$nb" --instance a
contains "ak-mismatch" "reason ak-mismatch"

edit() { # IN OUT PYTHON-EXPR-ON-e
        python3 - "$1" "$2" "$3" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(e, open(sys.argv[2], "w"))
PY
}
edit "$work/e2.json" "$work/pcr-edited.json" 'e["pcrs"]["sha256"]["0"] = "11" * 32'
expect 1 "PCR values edited" "$shield" verify "$work/pcr-edited.json" --nonce "$n2" --ca "$ca"
contains "quote-pcr-digest-mismatch" "reason quote-pcr-digest-mismatch"
edit "$work/e2.json" "$work/log-edited.json" '
log = bytearray(base64.b64decode(e["eventlog"])); log[-30] ^= 1; e["eventlog"] = base64.b64encode(bytes(log)).decode()'
expect 1 "event log edited" "$shield" verify "$work/log-edited.json" --nonce "$n2" --ca "$ca"
contains "eventlog +fail" "the eventlog step fails"
edit "$work/e2.json" "$work/sig-flipped.json" '
s = bytearray(base64.b64decode(e["quote"]["signature"])); s[-1] ^= 1; e["quote"]["signature"] = base64.b64encode(bytes(s)).decode()'
expect 1 "quote signature flipped" "$shield" verify "$work/sig-flipped.json" --nonce "$n2" --ca "$ca"
contains "quote-signature-invalid" "reason quote-signature-invalid"

# Golden: show, export, reset; after a reset the next attestation is the new golden.
expect 0 "golden show" "$shield" golden show --instance a
expect 0 "golden export" "$shield" golden export --instance a
is_json "golden export"
expect 0 "golden reset" "$shield" golden reset --instance a
attest "$tcti_a" "$work/e5.json" "$work/log-v2.bin"; n5=$nonce
expect 0 "after a reset the next attestation is the golden" "$shield" verify "$work/e5.json" --nonce "$n5" --instance a
contains "golden measurement recorded" "recorded again"

# --pcrs: only the PCRs asked for are quoted and reported; an unquoted value added later is ignored.
nonce=$(openssl rand -hex 16)
expect 0 "attest --pcrs 0-7" "$shield" attest --tcti "$tcti_a" --nonce "$nonce" --pcrs 0-7 --eventlog "$work/log-v2.bin" \
        --ima /nonexistent -o "$work/e07.json"
python3 - "$work/e07.json" <<'PY' && echo "ok: only PCRs 0-7 reported" || { echo "FAIL: --pcrs"; fails=$((fails + 1)); }
import json, sys
e = json.load(open(sys.argv[1]))
sys.exit(0 if all(sorted(map(int, b)) == list(range(8)) for b in e["pcrs"].values()) and "ek_public" in e else 1)
PY
expect 1 "a 0-7 quote does not satisfy policy gce (PCRs 0-15)" "$shield" verify "$work/e07.json" --nonce "$nonce" --ca "$ca"
contains "quote-pcrs-insufficient" "reason quote-pcrs-insufficient"
expect 0 "verify the 0-7 quote under a 0-7 policy" "$shield" verify "$work/e07.json" --nonce "$nonce" --ca "$ca" --integrity 0-7
edit "$work/e07.json" "$work/e07-extra.json" 'e["pcrs"]["sha256"]["12"] = "ab" * 32'
expect 0 "an unquoted PCR value is ignored, not trusted" "$shield" verify "$work/e07-extra.json" --nonce "$nonce" --ca "$ca" --integrity 0-7
contains "pcr-unquoted" "warning pcr-unquoted"

printf '{"require_secure_boot": true, "integrity": "oci"}' >"$work/policy.json"
attest "$tcti_a" "$work/e6.json" "$work/log-v2.bin"; n6=$nonce
expect 1 "policy: Secure Boot required, the evidence says off" "$shield" verify "$work/e6.json" --nonce "$n6" --ca "$ca" --policy "$work/policy.json"
contains "policy-secure-boot" "reason policy-secure-boot"
printf '{"bogus": 1}' >"$work/bad-policy.json"
expect 2 "a bad policy file" "$shield" verify "$work/e6.json" --nonce "$n6" --ca "$ca" --policy "$work/bad-policy.json"
finish
