#!/bin/bash
# shield agent's first run on a machine as its TPM comes from the factory: an EK and the
# manufacturer's EK certificate in NV 0x01c00002, no AK. The "manufacturer" is a CA this test
# makes with openssl; swtpm_setup --create-ek-cert signs the EK certificate with it through
# swtpm_localca (--config, swtpm-localca.conf and .options all under the work directory).
#   the factory state is checked with independent tools (openssl verify, tpm2_readpublic)
#   shieldd --ek-ca (the manufacturer CA): --once creates an AK (said on stderr), registers
#   through credential activation and is green with a token; again: the same AK, no creation
#   an EK that is not persistent (evicted): derived from the TCG template, activation works
#   --ak-handle and --ak-alg ecc: an ECC AK at another handle, green
#   shieldd --ek-ca holding another CA: registration refused (exit 1, ek-untrusted), nothing green
# KEEP=1 keeps the work directory.
set -uo pipefail
source "$(dirname "$0")/../cli/lib.sh"
for tool in swtpm swtpm_setup swtpm_localca tpm2_pcrextend tpm2_readpublic tpm2_evictcontrol tpm2_nvread openssl \
        python3 curl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
shieldd=${SHIELDD_BIN:-$(dirname "$shield")/../../daemon/shieldd}
[ -x "$shieldd" ] && "$shieldd" --help >/dev/null 2>&1 || { echo "SKIP: shieldd is not built ($shieldd)"; exit 77; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
source "$(dirname "$0")/../lib/swtpm.sh"
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then echo "ok: $1"; else fail "$1"; fi; }

# mkca DIR CN → DIR/signkey.pem, DIR/issuercert.pem (a self-signed CA), DIR/certserial.
mkca() {
        mkdir -p "$1"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/signkey.pem" -out "$1/issuercert.pem" -days 3650 \
                -subj "/O=Shieldkit test/CN=$2" -addext basicConstraints=critical,CA:TRUE \
                -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 || return 1
        echo 1 >"$1/certserial"
}
mkca "$work/mfr" "Test TPM manufacturer CA" && mkca "$work/other" "Another TPM manufacturer CA" ||
        { echo "FAIL: openssl could not make the test CAs"; exit 1; }
# What shieldd trusts: directories holding only the CA certificates.
mkdir -p "$work/ek-ca" "$work/other-ca"
cp "$work/mfr/issuercert.pem" "$work/ek-ca/manufacturer.pem"
openssl x509 -in "$work/other/issuercert.pem" -outform der -out "$work/other-ca/other.der"

cat >"$work/swtpm-localca.conf" <<EOF
statedir = $work/mfr
signingkey = $work/mfr/signkey.pem
issuercert = $work/mfr/issuercert.pem
certserial = $work/mfr/certserial
EOF
cat >"$work/swtpm-localca.options" <<EOF
--platform-manufacturer Shieldkit
--platform-version 1.0
--platform-model test
EOF
cat >"$work/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $work/swtpm-localca.conf
create_certs_tool_options = $work/swtpm-localca.options
EOF

# manufacture NAME → a swtpm as it leaves the factory (EK persistent at 0x81010001, its certificate
# signed by the manufacturer CA in NV 0x01c00002, no AK), running; tcti_NAME as run_tpm sets it.
manufacture() {
        mkdir -p "$work/$1"
        TMPDIR=$work swtpm_setup --tpm2 --tpmstate "$work/$1" --pcr-banks sha1,sha256 --create-ek-cert \
                --config "$work/swtpm_setup.conf" >"$work/$1.setup.log" 2>&1 ||
                { echo "FAIL: swtpm_setup $1"; sed 's/^/  | /' "$work/$1.setup.log"; return 1; }
        run_tpm "$1" || { echo "FAIL: swtpm $1 did not start"; return 1; }
}

source "$(dirname "$0")/lib.sh"
# agent TCTI ARGS… (a firmware-like log that the TPM was extended to match)
agent() {
        local t=$1
        shift
        "$shield" agent --tcti "$t" --eventlog "$work/log.bin" --ima /nonexistent "$@"
}
readpub() { TPM2TOOLS_TCTI=$1 tpm2_readpublic -Q -c "$2" "${@:3}" >/dev/null 2>&1; }

mklog "$work/log.bin" v1

# 0. The factory state, judged by tpm2-tools and openssl.
manufacture fab1 || exit 1
t1=$tcti_fab1
extend "$t1" "$work/extend.txt"
check "fab1 holds no AK at 0x81010002" '! readpub "$t1" 0x81010002'
check "fab1's EK is persistent at 0x81010001" 'readpub "$t1" 0x81010001 -f pem -o "$work/fab1.ek.pem"'
TPM2TOOLS_TCTI=$t1 tpm2_nvread -Q 0x01c00002 -o "$work/fab1.ek.crt" >/dev/null 2>&1 || fail "tpm2_nvread 0x01c00002"
openssl x509 -inform der -in "$work/fab1.ek.crt" -out "$work/fab1.ek.crt.pem" 2>/dev/null
check "the EK certificate in NV 0x01c00002 chains to the manufacturer CA" \
        'openssl verify -CAfile "$work/mfr/issuercert.pem" "$work/fab1.ek.crt.pem" >/dev/null 2>&1'
check "the EK certificate certifies the EK" \
        '[ "$(openssl x509 -in "$work/fab1.ek.crt.pem" -noout -pubkey 2>/dev/null)" = "$(cat "$work/fab1.ek.pem")" ]'
check "the other CA did not sign it" \
        '! openssl verify -CAfile "$work/other/issuercert.pem" "$work/fab1.ek.crt.pem" >/dev/null 2>&1'

# 1. shieldd trusts the manufacturer: the first run creates the AK, registers through activation, green.
start_shieldd sd1 --no-tls --ek-ca "$work/ek-ca" || exit 1
expect 0 "first run: AK created, registered through activation, verified" \
        agent "$t1" --server "$url" --name m1 --state "$work/st1" --once
contains "m1: verified, green" "green"
contains "^token: [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$" "a token (JWT)"
contains "^shield: agent: created an AK \(rsa2048\) under the EK, persisted at 0x81010002$" \
        "the creation is said on stderr"
check "one line says it" '[ "$(grep -c "created an AK" "$work/out")" = 1 ]'
check "shieldd registered m1 by its manufacturer's certificate, awaiting activation" \
        'grep -q "registered m1 (EK certified by its manufacturer, awaiting activation)" "$work/sd1.log"'
check "the AK is persistent at 0x81010002" 'readpub "$t1" 0x81010002 -o "$work/fab1.ak.pub"'
grep -q '"trusted": true' "$work/st1/registration.json" 2>/dev/null && echo "ok: the state says trusted" ||
        fail "the state does not say trusted"

expect 0 "second run: registered already, verified" agent "$t1" --server "$url" --name m1 --state "$work/st1" --once
contains "m1: verified, green" "green again"
check "no AK created the second time" '! grep -q "created an AK" "$work/out"'
readpub "$t1" 0x81010002 -o "$work/fab1.ak2.pub"
check "the same AK" 'cmp -s "$work/fab1.ak.pub" "$work/fab1.ak2.pub"'
expect 0 "a fresh state directory: the same AK registers again, --json" \
        agent "$t1" --server "$url" --name m1 --state "$work/st1b" --once --json
is_json "agent --once --json"
contains '"colour": "green"' "green"

# 2. An EK that is not persistent: derived from the TCG default template, for the AK and for activation.
manufacture fab2 || exit 1
t2=$tcti_fab2
extend "$t2" "$work/extend.txt"
TPM2TOOLS_TCTI=$t2 tpm2_evictcontrol -Q -C o -c 0x81010001 >/dev/null 2>&1 || fail "tpm2_evictcontrol 0x81010001"
check "fab2 has no persistent EK" '! readpub "$t2" 0x81010001'
expect 0 "no persistent EK: AK created under the template EK, activated, verified" \
        agent "$t2" --server "$url" --name m2 --state "$work/st2" --once
contains "m2: verified, green" "green"
contains "created an AK \(rsa2048\)" "the creation is said"
check "shieldd registered m2 awaiting activation" 'grep -q "registered m2 (EK certified by its manufacturer, awaiting activation)" "$work/sd1.log"'
check "the agent did not persist the EK" '! readpub "$t2" 0x81010001'

# 3. --ak-handle and --ak-alg ecc.
expect 0 "an ECC AK at 0x81010010: created, activated, verified" \
        agent "$t2" --server "$url" --name m2e --state "$work/st2e" --once --ak-handle 0x81010010 --ak-alg ecc
contains "m2e: verified, green" "green"
contains "created an AK \(ecc-p256\) under the EK, persisted at 0x81010010" "the creation is said"
check "the ECC AK is at 0x81010010" 'TPM2TOOLS_TCTI=$t2 tpm2_readpublic -c 0x81010010 2>/dev/null | grep -A1 "^type:" | grep -q "value: ecc"'
expect 2 "--ak-handle that is not persistent" agent "$t2" --server "$url" --name m2e --once --ak-handle 0x80000001
expect 2 "--ak-alg nonsense" agent "$t2" --server "$url" --name m2e --once --ak-alg dsa
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null

# 4. A service that trusts another manufacturer: refused, nothing green, nothing registered.
start_shieldd sd2 --no-tls --ek-ca "$work/other-ca" || exit 1
manufacture fab3 || exit 1
t3=$tcti_fab3
extend "$t3" "$work/extend.txt"
expect 1 "an EK certificate from a CA the service does not trust: refused" \
        agent "$t3" --server "$url" --name m3 --state "$work/st3" --once
contains "ek-untrusted" "the refusal names ek-untrusted"
contains "$url/v1/instances" "and the URL"
check "not green" '! grep -qE "verified|green|^token:" "$work/out"'
check "no registration remembered" '[ ! -e "$work/st3/registration.json" ]'
expect 1 "the TPM that is green at sd1 is refused here too" \
        agent "$t1" --server "$url" --name m1 --state "$work/st4" --once
contains "ek-untrusted" "ek-untrusted"
check "not green" '! grep -qE "verified|green|^token:" "$work/out"'
curl -sf "$url/v1/instances" >"$work/list.json" || fail "GET /v1/instances"
check "sd2 has no instance" '[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/list.json")" = 0 ]'
kill "$sd_pid"; wait "$sd_pid" 2>/dev/null

finish
