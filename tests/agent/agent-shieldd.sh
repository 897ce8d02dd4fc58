#!/bin/bash
# shield agent against a real shieldd and a swtpm provisioned with `shield tpm provision`.
# The swtpm's PCRs are extended with tpm2_pcrextend from a small crypto-agile event log
# written here (as tests/cli/cli-verify.sh does), so the evidence replays.
#   TLS (self-signed, --cacert) and --ak-ca: --once → 0, green, a token; again → green
#   TLS without --cacert → 2, the certificate is named
#   no --ak-ca: credential activation with the TPM, then green; the state remembers it
#   the service down → 2 with the URL and why
#   a stale registration (the service lost the instance) → registered again, green
#   loop --interval 1s for ~3.5 s, SIGTERM → 0 after at least 2 attestations; with the service
#   down the failures are retried with backoff and SIGTERM still exits 0
#   --insecure; a PCR moved without its event → not verified, red, exit 1, no token
# KEEP=1 keeps the work directory (logs of swtpm and each shieldd).
set -uo pipefail
source "$(dirname "$0")/../cli/lib.sh"
for tool in swtpm swtpm_setup tpm2_pcrextend python3; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
shieldd=${SHIELDD_BIN:-$(dirname "$shield")/../../daemon/shieldd}
[ -x "$shieldd" ] && "$shieldd" --help >/dev/null 2>&1 || { echo "SKIP: shieldd is not built ($shieldd)"; exit 77; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# A swtpm, manufactured and provisioned, and a firmware-like log extended into it.
source "$(dirname "$0")/../lib/swtpm.sh"
start_tpm agenttpm m1 || { echo "FAIL: swtpm or shield tpm provision"; exit 1; }
tcti=$tcti_agenttpm
mklog "$work/log.bin" v1
extend "$tcti" "$work/extend.txt"
[ "$fails" -eq 0 ] || exit 1

source "$(dirname "$0")/lib.sh"
agent() { "$shield" agent --tcti "$tcti" --eventlog "$work/log.bin" --ima /nonexistent "$@"; }

expect 0 "agent --help" "$shield" agent --help
expect 2 "agent without --server" "$shield" agent --once
expect 2 "agent --interval nonsense" "$shield" agent --server http://127.0.0.1:1 --interval 5parsecs
expect 2 "agent --cacert with --insecure" "$shield" agent --server https://x --cacert /dev/null --insecure

# 1. TLS with shieldd's self-signed certificate; AKs certified by the platform CA are trusted at once.
start_shieldd sd1 --ak-ca "$work/ca/ca.crt" || exit 1
expect 2 "TLS is verified by default: the self-signed certificate is refused" \
        agent --server "$url" --name m1 --state "$work/st1" --once
contains "$url/v1/instances" "the error names the URL"
contains "cacert" "the error suggests --cacert"
expect 0 "--once with --cacert: verified" agent --server "$url" --cacert "$work/sd1/tls.crt" --name m1 \
        --state "$work/st1" --once
contains "m1: verified, green" "green"
contains "^token: [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$" "a token (JWT) is printed"
[ -f "$work/st1/registration.json" ] && echo "ok: the registration is remembered" ||
        { echo "FAIL: no $work/st1/registration.json"; fails=$((fails + 1)); }
expect 0 "a second --once: verified again" agent --server "$url" --cacert "$work/sd1/tls.crt" --name m1 \
        --state "$work/st1" --once --json
is_json "agent --once --json"
contains '"colour": "green"' "green again"
contains '"token": "' "a token again"
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null

# 2. No --ak-ca: the service answers with a credential the TPM activates.
start_shieldd sd2 --no-tls --ek-ca "$work/ca" || exit 1
expect 0 "registration with credential activation, then verified" agent --server "$url" --name m2 \
        --state "$work/st2" --once
contains "m2: verified, green" "green after activation"
grep -q '"trusted": true' "$work/st2/registration.json" 2>/dev/null && echo "ok: the state says trusted" ||
        { echo "FAIL: the state does not say trusted"; fails=$((fails + 1)); }
grep -q "registered m2 (.*awaiting activation)" "$work/sd2.log" && echo "ok: shieldd made a credential (no --ak-ca)" ||
        { echo "FAIL: shieldd did not log an activation for m2"; fails=$((fails + 1)); }
expect 0 "again: registered already, verified" agent --server "$url" --name m2 --state "$work/st2" --once
contains "m2: verified, green" "green"
expect 0 "a fresh state directory: the same AK registers again (idempotent)" agent --server "$url" --name m2 \
        --state "$work/st2-fresh" --once
contains "m2: verified, green" "green"

# 3. The service down: exit 2, the URL and the reason.
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null
expect 2 "the service is down" agent --server "$url" --name m2 --state "$work/st2" --once
contains "$url/v1/challenge.*(Couldn't connect|Connection refused|Failed to connect)" "the error names the URL and why"

# 4. Loop mode: the attestation at start and every second; SIGTERM stops it cleanly.
start_shieldd sd2 --no-tls --ek-ca "$work/ca" || exit 1
# Not through the agent() function: a backgrounded function is a subshell that SIGTERM would kill instead.
"$shield" agent --tcti "$tcti" --eventlog "$work/log.bin" --ima /nonexistent --server "$url" --name m2 \
        --state "$work/st2" --interval 1s --json >"$work/loop.out" 2>"$work/loop.err" &
apid=$!
sleep 3.5
kill -TERM $apid
wait $apid
rc=$?
n=$(grep -c '"verified":true' "$work/loop.out")
if [ "$rc" -eq 0 ] && [ "$n" -ge 2 ]; then echo "ok: loop: exit 0 after $n attestations"; else
        echo "FAIL: loop: exit $rc after $n attestations"; sed 's/^/  | /' "$work/loop.err" | head; fails=$((fails + 1)); fi
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null

# 5. The service lost the instance (a new database): the remembered registration is stale (404),
#    the agent registers again (activation) and the attestation is retried.
start_shieldd sd3 --no-tls --ek-ca "$work/ca" || exit 1
python3 - "$work/st2/registration.json" "$url" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["server"] = sys.argv[2]; json.dump(s, open(sys.argv[1], "w"))
PY
expect 0 "a stale registration: registered again and verified" agent --server "$url" --name m2 \
        --state "$work/st2" --once
contains "m2: verified, green" "green"
grep -q "registered m2 (.*awaiting activation)" "$work/sd3.log" && echo "ok: registered (and activated) again" ||
        { echo "FAIL: sd3 did not see a registration"; fails=$((fails + 1)); }
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null

# 6. Loop mode with the service down: retried with backoff, SIGTERM still exits 0.
"$shield" agent --tcti "$tcti" --eventlog "$work/log.bin" --ima /nonexistent --server "$url" --name m2 \
        --state "$work/st2" --interval 1s >"$work/loop.out" 2>"$work/loop.err" &
apid=$!
sleep 2.5
kill -TERM $apid
wait $apid
rc=$?
if [ "$rc" -eq 0 ] && grep -q "retrying in" "$work/loop.err"; then echo "ok: loop: failures are retried, SIGTERM exits 0"
else echo "FAIL: loop with the service down: exit $rc"; sed 's/^/  | /' "$work/loop.err" | head; fails=$((fails + 1)); fi

# 7. Not verified → exit 1 (a PCR moved without its event: the log no longer replays); --insecure.
start_shieldd sd4 --ek-ca "$work/ca" || exit 1
expect 0 "--insecure skips the TLS check" agent --server "$url" --insecure --name m4 --state "$work/st4" --once
contains "m4: verified, green" "green"
TPM2TOOLS_TCTI=$tcti tpm2_pcrextend "4:sha1=0x$(printf '%040d' 1),sha256=0x$(printf '%064d' 1)" >/dev/null 2>&1 ||
        echo "FAIL: tpm2_pcrextend"
expect 1 "evidence that does not verify: exit 1" agent --server "$url" --insecure --name m4 --state "$work/st4" --once
contains "m4: NOT verified, red" "red"
[ "$(grep -c '^token:' "$work/out")" = 0 ] && echo "ok: no token" || { echo "FAIL: a token for red"; fails=$((fails + 1)); }
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null

finish
