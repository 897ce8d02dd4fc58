#!/bin/bash
# `make run` (scripts/demo) as a user runs it, on this build: it must finish with exit 0 and tell
# the whole story, including sealed credentials (step 11): A works, B issued, A refused, upgrade,
# works. Independent checks on what it left: openssl verify -crl_check refuses A's certificate and
# accepts B's under the service's CRL; B's bootloader is what sbverify accepts with the db key.
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:-$root/build/tools/shield/shield}
for tool in qemu-system-x86_64 swtpm swtpm_setup tpm2_pcrextend sbsign sbverify openssl python3 curl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps)"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
work=$(mktemp -d /tmp/e2e-make-run.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

build=$(cd "$(dirname "$shield")/../.." && pwd)
SHIELD_BUILD_DIR=$build SHIELD_DEMO_DIR=$work/demo "$root/scripts/demo" </dev/null >"$work/demo.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "scripts/demo exits 0" || { bad "scripts/demo exit $rc"; tail -40 "$work/demo.out" | sed 's/^/  | /'; }
has() { grep -q -- "$1" "$work/demo.out" && ok "$2" || bad "$2 (no '$1' in the demo's output)"; }
has "== 11. Sealed machine credentials" "step 11 runs"
has "intent 1 (sealing-key" "intent A"
has "revoked 1 earlier credential" "intent B revokes A"
has "PCR 4 (sha256) differs from the sealed policy" "on A, B's credential is refused naming PCR 4"
has "refused (verify error" "the relying party refuses A"
[ "$(grep -c "relying party (openssl s_server -crl_check): accepted" "$work/demo.out")" = 2 ] &&
        ok "the relying party accepts A before, B after the upgrade" || bad "two acceptances"
c=$work/demo/credentials
openssl verify -crl_check -CAfile "$c/ca.pem" -CRLfile "$c/crl.pem" "$c/credB/cert.pem" >/dev/null 2>&1 &&
        ok "openssl verify -crl_check: B's certificate is good" || bad "B's certificate"
openssl verify -crl_check -CAfile "$c/ca.pem" -CRLfile "$c/crl.pem" "$c/credA/cert.pem" >"$work/v.out" 2>&1 &&
        bad "A's certificate passes the CRL" || { grep -q revoked "$work/v.out" && ok "openssl verify: A is revoked" ||
        bad "A refused, but not as revoked"; }
sbverify --cert "$work/demo/keys/db.crt" "$c/agent-b.signed.efi" >/dev/null 2>&1 && ok "sbverify accepts bootloader B" ||
        bad "sbverify rejects bootloader B"
echo "$fails failed"
[ $fails -eq 0 ]
