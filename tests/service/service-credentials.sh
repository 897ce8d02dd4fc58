#!/bin/bash
# Sealed machine credentials against a real shieldd and a swtpm (docs/CREDENTIALS.md):
#   boot A (a log extended into the swtpm), attest → golden; intent A → the agent's next round
#   makes a sealing key, the credential comes back sealed to it; unseal works; mutual TLS with
#   `openssl s_server -Verify 1 -crl_check` and s_client using the unsealed key/cert works,
#   and so does POST /v1/cluster/join; a TPM booted with another PCR 4 → unseal exits 1
#   naming PCR 4; intent B (a new boot application by its Authenticode digest) → A's
#   certificate is on the CRL (openssl verify -crl_check fails, cluster/join 403), the
#   machine still on A cannot unseal B's credential (exit 1, PCR 4); "boot B" (restart the
#   swtpm, extend B's events) → unseal works, mutual TLS works. Rollback: A's old sealed blob
#   put back in the state → refused (the epoch counter passed it), although the PCRs are A's.
#   Oracles: openssl (verify, s_server/s_client, crl), tpm2_nvreadpublic, tpm2_policypcr.
# KEEP=1 keeps the work directory.
set -uo pipefail
source "$(dirname "$0")/../cli/lib.sh"
for tool in swtpm swtpm_setup tpm2_pcrextend tpm2_nvreadpublic tpm2_policypcr tpm2_policynv tpm2_print xxd python3 openssl curl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
shieldd=${SHIELDD_BIN:-$(dirname "$shield")/../../daemon/shieldd}
[ -x "$shieldd" ] || { echo "SKIP: shieldd is not built ($shieldd)"; exit 77; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
source "$(dirname "$0")/../lib/swtpm.sh"
source "$(dirname "$0")/../agent/lib.sh"

# A boot: a crypto-agile log (sha1 + sha256) whose PCR 4 loads \EFI\BOOT\BOOTX64.EFI with the
# given Authenticode digest (sha256; sha1 derived), Secure Boot off; the tpm2_pcrextend lines in $2.
bootlog() {
        python3 - "$1" "$2" "$3" <<'PY'
import hashlib, struct, sys, uuid
out, ext, digest = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
banks = [(0x0004, "sha1", 20), (0x000B, "sha256", 32)]
spec = b"Spec ID Event03\0" + struct.pack("<IBBBB", 0, 0, 2, 0, 2) + struct.pack("<I", len(banks))
for alg, _, size in banks:
    spec += struct.pack("<HH", alg, size)
spec += b"\0"
log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
GLOBAL = uuid.UUID("8be4df61-93ca-11d2-aa0d-00e098032b8c").bytes_le
def var(name, data):
    n = name.encode("utf-16-le")
    return GLOBAL + struct.pack("<QQ", len(name), len(data)) + n + data
path = "\\EFI\\BOOT\\BOOTX64.EFI\0".encode("utf-16-le")
devpath = struct.pack("<BBH", 4, 4, 4 + len(path)) + path + bytes([0x7F, 0xFF, 4, 0])
image = struct.pack("<QQQQ", 0x7E000000, 0x1000, 0, len(devpath)) + devpath
events = [(0, 0x80000008, b"firmware blob", None), (7, 0x80000001, var("SecureBoot", b"\0"), None),
          (0, 4, b"\0" * 4, None), (2, 4, b"\0" * 4, None), (7, 4, b"\0" * 4, None),
          (4, 0x80000007, b"Calling EFI Application from Boot Option", None), (4, 4, b"\0" * 4, None),
          (4, 0x80000003, image, {"sha1": hashlib.sha1(digest).digest(), "sha256": digest})]
lines = []
for pcr, etype, data, given in events:
    ev = struct.pack("<III", pcr, etype, len(banks))
    parts = []
    for alg, name, size in banks:
        d = given[name] if given else hashlib.new(name, data).digest()
        ev += struct.pack("<H", alg) + d
        parts.append(f"{name}=0x{d.hex()}")
    log += ev + struct.pack("<I", len(data)) + data
    lines.append(f"{pcr}:" + ",".join(parts))
open(out, "wb").write(log)
open(ext, "w").write("\n".join(lines) + "\n")
PY
}
boot() { # boot LOGNAME DIGEST: a reboot of the swtpm into that boot
        bootlog "$work/$1.log" "$work/$1.ext" "$2"
        restart_tpm m1 || { echo "FAIL: swtpm restart"; exit 1; }
        tcti=$tcti_m1
        extend "$tcti" "$work/$1.ext"
}

start_tpm m1 || { echo "FAIL: swtpm or shield tpm provision"; exit 1; }
dA=$(printf 'boot application A' | sha256sum | cut -c1-64)
dB=$(printf 'boot application B' | sha256sum | cut -c1-64)
dX=$(printf 'something else' | sha256sum | cut -c1-64)
boot A "$dA"

start_shieldd sd --ak-ca "$work/ca/ca.crt" --credential-validity 1h || exit 1
cacert=$work/sd/tls.crt
admin=$work/sd/admin-token
st=$work/state
round() { "$shield" agent --server "$url" --cacert "$cacert" --tcti "$tcti" --name m1 --state "$st" \
        --eventlog "$work/$1.log" --ima /nonexistent --once --json; }
unseal() { "$shield" credential unseal --state "$st" --tcti "$tcti" "$@"; }
intend() { "$shield" credential intend --server "$url" --cacert "$cacert" --admin-token-file "$admin" --instance m1 "$@"; }
crl() { # the service's CRL as PEM
        curl -sS --cacert "$cacert" "$url/v1/ca/crl" -o "$work/crl.der" &&
                openssl crl -inform DER -in "$work/crl.der" -out "$work/crl.pem" 2>/dev/null
}
join() { curl -sS -o "$work/join.out" -w '%{http_code}' --cacert "$cacert" --cert "$1/cert.pem" --key "$1/key.pem" \
        -X POST "$url/v1/cluster/join"; }
mtls() { # mtls DIR: openssl s_server requiring a client certificate from the machine CA, checking the CRL
        local port=$((20000 + RANDOM % 20000))
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=relying-party -days 1 \
                -keyout "$work/rp.key" -out "$work/rp.crt" >/dev/null 2>&1
        openssl s_server -accept "$port" -naccept 1 -cert "$work/rp.crt" -key "$work/rp.key" -Verify 1 \
                -CAfile "$work/ca.pem" -CRL "$work/crl.pem" -crl_check -verify_return_error -www \
                >"$work/s_server.out" 2>&1 &
        local sp=$!
        for _ in $(seq 50); do grep -q ACCEPT "$work/s_server.out" && break; sleep 0.1; done
        printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" -cert "$1/cert.pem" \
                -key "$1/key.pem" -quiet >"$work/s_client.out" 2>&1
        kill $sp 2>/dev/null; wait $sp 2>/dev/null
        grep -q "HTTP/1.0 200 ok" "$work/s_client.out"
}

expect 0 "shield credential --help" "$shield" credential --help
contains "intend" "the usage names intend"
expect 2 "unseal without -o" "$shield" credential unseal
expect 2 "unseal with no credential kept" unseal -o "$work/none"
contains "no credential is kept" "says no credential is kept"
expect 2 "intend without --instance" "$shield" credential intend --server "$url" --admin-token-file "$admin"

# Boot A: the first round records the golden, with its event log.
expect 0 "boot A: the first round is verified" round A
contains '"golden_recorded": true' "the golden is recorded"

# Intent A: the state the golden measured.
echo not-the-admin-token >"$work/wrong-token"
expect 1 "intend with a wrong admin token is refused" "$shield" credential intend --server "$url" --cacert "$cacert" \
        --admin-token-file "$work/wrong-token" --instance m1
expect 0 "intent A (no --replace): the golden's state" intend --json
is_json "intend --json"
python3 - "$work/out" "$dA" <<'PY' && echo "ok: intent A predicts PCRs 0, 2, 4 and 7" || { echo "FAIL: intent A"; cat "$work/out"; fails=$((fails + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))["intents"][0]
assert j["instance"] == "m1" and j["bank"] == "sha256" and sorted(j["pcrs"]) == ["0", "2", "4", "7"], j
PY
expect 0 "the next round: a sealing key for the offer, a credential back" round A
python3 - "$work/out" <<'PY' && echo "ok: the answer carries the credential" || { echo "FAIL: no credential in the answer"; cat "$work/out"; fails=$((fails + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j.get("credential_new") is True and len(j["credential_kept"]) == 32, j
PY
serialA=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credential_kept"])' "$work/out")
[ -f "$st/credential/sealed.bin" ] && [ -f "$st/credential/key.priv" ] && echo "ok: the state keeps the sealed credential" ||
        { echo "FAIL: no $st/credential"; fails=$((fails + 1)); }
# Oracles for the sealing key: tpm2_print reads its authPolicy; tpm2_policypcr + tpm2_policynv in a
# trial session (the PCRs as boot A left them, the epoch the credential names) compute the same digest.
epochA=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["epoch"]["value"])' "$st/credential/credential.json")
digestA=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["policy_digest"])' "$st/credential/credential.json")
printf '%016x' "$epochA" | xxd -r -p >"$work/operand.bin"
( export TPM2TOOLS_TCTI=$tcti
  tpm2_startauthsession -S "$work/trial.ctx" && tpm2_policypcr -S "$work/trial.ctx" -l sha256:0,2,4,7 &&
          tpm2_policynv -S "$work/trial.ctx" -i "$work/operand.bin" -L "$work/trial.dat" 0x0100534b eq
  tpm2_flushcontext "$work/trial.ctx" ) >"$work/trial.log" 2>&1
[ "$(xxd -p -c 256 "$work/trial.dat" 2>/dev/null)" = "$digestA" ] &&
        echo "ok: tpm2_policypcr + tpm2_policynv compute the credential's policy ($digestA)" ||
        { echo "FAIL: tpm2-tools' trial policy differs from $digestA"; cat "$work/trial.log"; fails=$((fails + 1)); }
tpm2_print -t TPM2B_PUBLIC "$st/credential/key.pub" >"$work/keypub.txt" 2>&1
grep -qi "authorization policy: *$digestA" "$work/keypub.txt" && grep -q "fixedtpm|fixedparent" "$work/keypub.txt" &&
        ! grep -q userwithauth "$work/keypub.txt" &&
        echo "ok: tpm2_print: the sealing key has that authPolicy, fixedTPM|fixedParent, no userWithAuth" ||
        { echo "FAIL: tpm2_print of the sealing key"; sed 's/^/  | /' "$work/keypub.txt"; fails=$((fails + 1)); }
TPM2TOOLS_TCTI=$tcti tpm2_nvreadpublic 0x0100534b >"$work/nv.txt" 2>&1
grep -q "nt=0x1" "$work/nv.txt" && echo "ok: tpm2_nvreadpublic shows the epoch counter" ||
        { echo "FAIL: no epoch counter"; cat "$work/nv.txt"; fails=$((fails + 1)); }

expect 0 "boot A: unseal works" unseal -o "$work/credA" --json
contains '"unsealed": true' "unsealed"
[ "$(stat -c %a "$work/credA/key.pem")" = 600 ] && echo "ok: key.pem is 0600" || { echo "FAIL: key.pem mode"; fails=$((fails + 1)); }
curl -sS --cacert "$cacert" "$url/v1/ca/cert" -o "$work/ca.pem"
expect 0 "openssl verify: the certificate chains to the machine CA" openssl verify -CAfile "$work/ca.pem" "$work/credA/cert.pem"
openssl x509 -in "$work/credA/cert.pem" -noout -serial | tr 'A-F' 'a-f' | grep -q "$serialA" &&
        echo "ok: the certificate's serial is the one shieldd reported" || { echo "FAIL: serial"; fails=$((fails + 1)); }
crl || { echo "FAIL: GET /v1/ca/crl"; fails=$((fails + 1)); }
expect 0 "openssl verify -crl_check: A is not revoked" openssl verify -crl_check -CAfile "$work/ca.pem" \
        -CRLfile "$work/crl.pem" "$work/credA/cert.pem"
mtls "$work/credA" && echo "ok: mutual TLS with openssl s_server -crl_check accepts A" ||
        { echo "FAIL: mutual TLS with A"; sed 's/^/  | /' "$work/s_client.out" "$work/s_server.out" | tail -20; fails=$((fails + 1)); }
[ "$(join "$work/credA")" = 200 ] && echo "ok: POST /v1/cluster/join admits A" ||
        { echo "FAIL: cluster/join with A"; cat "$work/join.out"; fails=$((fails + 1)); }
[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$cacert" -X POST "$url/v1/cluster/join")" = 401 ] &&
        echo "ok: cluster/join without a certificate: 401" || { echo "FAIL: cluster/join without a certificate"; fails=$((fails + 1)); }
expect 0 "credential status" "$shield" credential status --server "$url" --cacert "$cacert" "$serialA" --json
contains '"revoked": false' "status: not revoked"

# Another boot (PCR 4 differs): the TPM refuses, and PCR 4 is named.
boot X "$dX"
expect 1 "a TPM booted with another PCR 4: unseal exits 1" unseal -o "$work/credX"
contains "PCR 4" "the differing PCR is named"
[ ! -e "$work/credX/key.pem" ] && echo "ok: nothing written" || { echo "FAIL: a key was written"; fails=$((fails + 1)); }
boot A "$dA"
cp -r "$st/credential" "$work/credential-A" # for the rollback below

# Intent B: a new boot application, by its Authenticode digest. A is revoked at once.
expect 0 "intent B (--replace by digest)" intend --replace "\\EFI\\BOOT\\BOOTX64.EFI=sha256:$dB" --json
python3 - "$work/out" <<'PY' && echo "ok: intent B changes PCR 4 and revokes A" || { echo "FAIL: intent B"; cat "$work/out"; fails=$((fails + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))["intents"][0]
assert j["changed"] == [4] and j["revoked"] == 1, j
PY
crl
expect 2 "openssl verify -crl_check: A's certificate is revoked" openssl verify -crl_check -CAfile "$work/ca.pem" \
        -CRLfile "$work/crl.pem" "$work/credA/cert.pem"
contains "revoked" "openssl says revoked"
mtls "$work/credA" && { echo "FAIL: s_server accepted revoked A"; fails=$((fails + 1)); } ||
        echo "ok: mutual TLS with -crl_check refuses A"
[ "$(join "$work/credA")" = 403 ] && grep -q credential-revoked "$work/join.out" && echo "ok: cluster/join refuses A (403 revoked)" ||
        { echo "FAIL: cluster/join with revoked A"; cat "$work/join.out"; fails=$((fails + 1)); }
expect 0 "the machine on A: its next round brings B's credential" round A
serialB=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credential_kept"])' "$work/out")
[ -n "$serialB" ] && [ "$serialB" != "$serialA" ] && echo "ok: a new credential for B" || { echo "FAIL: no B credential"; fails=$((fails + 1)); }
expect 1 "still on A: B's credential does not unseal" unseal -o "$work/credB"
contains "PCR 4" "PCR 4 is named"

# "Boot B": restart the swtpm and extend B's measurements.
boot B "$dB"
expect 0 "booted B: unseal works" unseal -o "$work/credB"
crl
expect 0 "openssl verify -crl_check: B is good" openssl verify -crl_check -CAfile "$work/ca.pem" -CRLfile "$work/crl.pem" \
        "$work/credB/cert.pem"
mtls "$work/credB" && echo "ok: mutual TLS accepts B" || { echo "FAIL: mutual TLS with B"; fails=$((fails + 1)); }
[ "$(join "$work/credB")" = 200 ] && echo "ok: cluster/join admits B" || { echo "FAIL: cluster/join with B"; cat "$work/join.out"; fails=$((fails + 1)); }

# Rollback: A's sealed credential put back, on a machine booted into A again: the epoch passed.
boot A "$dA"
rm -rf "$st/credential" && cp -r "$work/credential-A" "$st/credential"
expect 1 "an old sealed credential replayed in A's boot: refused" unseal -o "$work/credOld"
contains "epoch" "the epoch is named"
finish
