#!/bin/bash
# A local shielded VM attesting through shieldd, and the instance's identity
# (issue "One attestation pipeline"), on real firmware (OVMF secure-boot
# build under QEMU, swtpm vTPM):
#   1 `vm run --server`: the host registers the instance (AK certificate from
#     the platform CA), takes shieldd's nonce, boots, posts the evidence →
#     verified, green, golden recorded, a token; again → green, no new golden;
#   2 the same evidence through `shield verify` (a fresh store) gives the
#     same outcome JSON as shieldd answered (verified, colours, golden,
#     policy, evidence hash, steps and reason codes);
#   3 `golden show|export --server` give shieldd's golden, whose PCR values
#     equal the quoted ones; `golden reset --server` → the next boot records
#     a new golden;
#   4 `vm delete` + `vm create` of the same name (a new vTPM): locally the next
#     boot is a new golden ("new vTPM"), not red; shieldd refuses the new AK
#     for the name (409) until the operator deletes it; then a new golden;
#   5 `vm migrate --server`: a new vTPM and variable store, disk kept; shieldd
#     accepts the next registration as the migration → a new golden with the
#     reason "migrated", locally too; a different AK without such a call
#     stays refused;
#   6 `--integrity-policy oci`: only PCRs 0 and 2 count.
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
shieldd=${SHIELDD_BIN:?SHIELDD_BIN is set by meson}
for tool in qemu-system-x86_64 qemu-img swtpm swtpm_setup mformat mkfs.fat python3 curl; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-server.XXXXXX)
sd_pid=
trap '[ -n "$sd_pid" ] && kill $sd_pid 2>/dev/null; rm -rf "$work"' EXIT
export SHIELD_STATE_DIR=$work/state
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
show() { sed 's/^/  | /' "$1" | head -40; }
jq1() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

"$root/efi/build.sh" "$work/efi" >/dev/null || { echo "FAIL: building the agent"; exit 1; }
export SHIELD_AGENT_EFI=$work/efi/shield-agent.efi
"$shield" keys generate --out "$work/owner" --cn-prefix "Server Owner" >/dev/null 2>&1 || { bad "keys"; exit 1; }
o=$work/owner
"$shield" image create -o "$work/img.raw" --bootloader agent --sign-key "$o/db.key" --sign-cert "$o/db.der" \
        --reproducible >/dev/null 2>&1 || { bad "image create"; exit 1; }
"$shield" image register img --source-disk "$work/img.raw" --platform-key-file "$o/PK.der" \
        --key-exchange-key-file "$o/KEK.der" --signature-database-file "$o/db.der" >/dev/null 2>&1 ||
        { bad "image register"; exit 1; }
"$shield" vm create s1 --image img >/dev/null 2>&1 || { bad "vm create s1"; exit 1; }
ca=$SHIELD_STATE_DIR/platform-ca

port=$((20000 + RANDOM % 10000))
"$shieldd" --listen 127.0.0.1:$port --no-tls --state "$work/sd" --ak-ca "$ca/ca.crt" --ek-ca "$ca" --threads 2 \
        2>"$work/sd.log" &
sd_pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf -o /dev/null "$url/jwks" && break; sleep 0.1; done
admin=$work/sd/admin-token

run() { # LABEL ARGS… → $work/LABEL.{json,rc}
        local label=$1; shift
        "$shield" vm run "$@" --timeout 120 --json >"$work/$label.json" 2>"$work/$label.err"
        echo $? >"$work/$label.rc"
}
rc() { cat "$work/$1.rc"; }
att() { jq1 "$work/$1.json" "j['attestation']$2"; }

# ---- 1 ----
run r1 s1 --server "$url" --evidence "$work/ev1.json"
if [ "$(rc r1)" = 0 ] && [ "$(att r1 "['verified']")" = True ] && [ "$(att r1 "['colour']")" = green ] &&
        [ "$(att r1 "['golden_recorded']")" = True ]; then
        ok "1 vm run --server: verified, green, the first boot is shieldd's golden"
else bad "1 vm run --server (exit $(rc r1))"; show "$work/r1.err"; show "$work/r1.json"; fi
check "1 shieldd's token" [ -n "$(att r1 ".get('token', '')")" ]
run r2 s1 --server "$url"
check "1 the second boot: green against the golden, none recorded" \
        [ "$(att r2 "['colour']")/$(att r2 "['golden_recorded']")" = green/False ]

# ---- 2 ----
nonce=$(jq1 "$work/ev1.json" "j['nonce']")
"$shield" verify "$work/ev1.json" --nonce "$nonce" --instance s1 --ca "$ca/ca.crt" --store "$work/fresh.db" --json \
        >"$work/v1.json" 2>"$work/v1.err"
python3 - "$work/v1.json" "$work/r1.json" <<'PY' && ok "2 shield verify and shieldd give the same outcome for the same evidence" || bad "2 outcomes differ"
import json, sys
cli, svc = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["attestation"]
keys = ["verified", "colour", "early_boot", "late_boot", "golden_recorded", "policy", "evidence_sha256", "reasons_cut"]
def shape(o):
    return ({k: o.get(k) for k in keys}, [(s["step"], s["status"]) for s in o["steps"]],
            sorted(r["code"] for r in o["reasons"]))
a, b = shape(cli), shape(svc)
if a != b:
    print("cli:", a, "\nsvc:", b)
sys.exit(a != b)
PY

# ---- 3 ----
"$shield" golden export --server "$url" --instance s1 -o "$work/g.pcrs.json" 2>"$work/g.err" || { bad "3 golden export --server"; show "$work/g.err"; }
python3 - "$work/g.pcrs.json" "$work/ev1.json" <<'PY' && ok "3 golden export --server equals the quoted PCR values" || bad "3 the exported golden differs from the quote"
import json, sys
g, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(not all(g[b][i] == e["pcrs"][b][i] for b in g for i in g[b]) or not g)
PY
"$shield" golden show --server "$url" --instance s1 >"$work/gs.txt" 2>&1 && grep -q "Golden measurement of s1" "$work/gs.txt" &&
        ok "3 golden show --server" || { bad "3 golden show --server"; show "$work/gs.txt"; }
"$shield" golden reset --server "$url" --instance s1 >/dev/null 2>&1
check "3 golden reset --server without the admin token is refused (2)" [ $? = 2 ]
"$shield" golden reset --server "$url" --instance s1 --admin-token-file "$admin" >/dev/null 2>&1 &&
        ok "3 golden reset --server" || bad "3 golden reset --server"
run r3 s1 --server "$url"
check "3 after the reset the next boot is the new golden" [ "$(att r3 "['golden_recorded']")" = True ]

# ---- 4 ----
run l1 s1                    # the local store's golden of this vTPM
check "4 a local boot records the local golden" [ "$(att l1 "['golden_recorded']")" = True ]
"$shield" vm delete s1 >/dev/null 2>&1 && "$shield" vm create s1 --image img >/dev/null 2>&1 || bad "4 delete + create s1"
run l2 s1
if [ "$(rc l2)" = 0 ] && [ "$(att l2 "['golden_recorded']")" = True ] &&
        jq1 "$work/l2.json" "[r['code'] for r in j['attestation']['reasons']]" | grep -q golden-new-vtpm; then
        ok "4 re-created: a new golden (new vTPM), not red"
else bad "4 re-created (exit $(rc l2))"; show "$work/l2.json"; fi
run r4 s1 --server "$url"
check "4 shieldd refuses the new AK for the name (exit 1)" [ "$(rc r4)" = 1 ]
grep -q "instance-exists" "$work/r4.err" && ok "4 reason instance-exists" || { bad "4 reason instance-exists"; show "$work/r4.err"; }
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $(cat "$admin")" "$url/v1/instances/s1"
run r5 s1 --server "$url"
check "4 after the operator's delete: registered again, a new golden" [ "$(att r5 "['golden_recorded']")" = True ]

# ---- 5 ----
"$shield" vm migrate s1 --server "$url" --admin-token-file "$admin" >"$work/m.out" 2>&1 &&
        ok "5 vm migrate --server" || { bad "5 vm migrate"; show "$work/m.out"; }
run r6 s1 --server "$url"
if [ "$(att r6 "['golden_recorded']")" = True ] && [ "$(att r6 "['verified']")" = True ] &&
        jq1 "$work/r6.json" "[r['code'] for r in j['attestation']['reasons']]" | grep -q golden-migrated; then
        ok "5 shieldd: the migrated instance's next boot is a new golden (migrated)"
else bad "5 shieldd after the migration (exit $(rc r6))"; show "$work/r6.err"; show "$work/r6.json"; fi
run l3 s1
if [ "$(att l3 "['golden_recorded']")" = True ] &&
        jq1 "$work/l3.json" "[r['code'] for r in j['attestation']['reasons']]" | grep -q golden-migrated; then
        ok "5 locally too: a new golden (migrated), not red"
else bad "5 local after the migration"; show "$work/l3.json"; fi
"$shield" vm delete s1 >/dev/null 2>&1 && "$shield" vm create s1 --image img >/dev/null 2>&1
run r7 s1 --server "$url"
check "5 another new AK without a migration call stays refused" [ "$(rc r7)" = 1 ]

# ---- 6 ----
"$shield" vm create o1 --image img --integrity-policy oci >/dev/null 2>&1 || bad "6 vm create --integrity-policy oci"
run p1 o1
check "6 the oci instance's golden under policy oci" [ "$(att p1 "['policy']")/$(att p1 "['golden_recorded']")" = oci/True ]

[ $fails -eq 0 ] && echo "all vm-server checks passed" || echo "$fails failed"
exit $((fails > 0))
