#!/bin/bash
# shieldd on PostgreSQL: a real server this script starts (a fresh cluster in
# a temporary directory, unix socket only, as tests/store/ does), and two
# shieldd processes on one database. What one issues the other honours:
# an instance registered on the first attests on the second with a nonce
# the first issued; the nonce is then spent for both (one winner when both
# get the same evidence at once); the admin token made by the first works
# on the second; the JWKS of either verifies tokens of both.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
need_tools swtpm swtpm_setup tpm2_pcrextend tpm2_readpublic tpm2_nvread curl python3 openssl

pg_start -c fsync=off
case $? in
0) url=$pg_url ;;
77) echo "SKIP: $pg_skip"; exit 77 ;;
*) exit 1 ;;
esac

start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
mklog "$work/log.bin" v1
extend "$tcti_a" "$work/extend.txt"

start_shieldd one --no-tls --state "$work/one" --store "$url" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 3 || exit 1
start_shieldd two --no-tls --state "$work/two" --store "$url" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 3 || exit 1
check "the first shieldd made the admin token" [ -s "$work/one/admin-token" ]
check "the second found it in the database" [ ! -e "$work/two/admin-token" ]
admin=$(cat "$work/one/admin-token")

base=$base_one
certify_tpm a pg1 || bad "certificates for pg1"
register_body "$work/reg.json" pg1 "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/reg.json"
expect_status 201 "register on the first"
challenge pg1
expect_status 201 "a challenge from the first"
collect "$tcti_a" "$nonce" "$work/e1.json" "$work/log.bin"
attest_body "$work/a1.json" pg1 "$work/e1.json"
base=$base_two
http POST /v1/attest "$work/a1.json"
expect_status 200 "attest on the second with the first's nonce"
body_has '"verified": ?true' "verified"
body_has '"golden_recorded": ?true' "the golden is recorded"
token=$(jget 'j.get("token", "")')
base=$base_one
http POST /v1/attest "$work/a1.json"
expect_status 403 "the same nonce on the first: spent"
body_has '"nonce-unknown"' "reason nonce-unknown"

# One nonce, the same evidence to both at once: exactly one wins.
challenge pg1
collect "$tcti_a" "$nonce" "$work/e2.json" "$work/log.bin"
attest_body "$work/a2.json" pg1 "$work/e2.json"
curl -s -o "$work/r1" -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "@$work/a2.json" \
        "$base_one/v1/attest" >"$work/c1" &
c1=$!
curl -s -o "$work/r2" -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "@$work/a2.json" \
        "$base_two/v1/attest" >"$work/c2" &
c2=$!
wait $c1 $c2
codes=$(cat "$work/c1" "$work/c2" | sort | tr '\n' ' ')
check "racing the same nonce on both: one 200, one 403 (got $codes)" [ "$codes" = "200 403 " ]
http GET /v1/instances/pg1
expect_status 200 "the first shows the instance"
body_has '"colour": ?"green"' "green, as the second recorded it"
check "both attestations in its history" [ "$(jget 'len(j["history"])')" = 2 ]

base=$base_two
http POST /v1/instances/pg1/golden/reset "" -H "Authorization: Bearer $admin"
expect_status 200 "the first's admin token works on the second"
http GET /jwks
cp "$work/body" "$work/jwks-two.json"
kid=$(python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])' "$token")
check "the second's JWKS holds the key that signed the token" grep -qF "\"$kid\"" "$work/jwks-two.json"
base=$base_one
http GET /jwks
check "both publish the same keys" cmp -s "$work/body" "$work/jwks-two.json"
# Two replicas racing to register one name with two different TPMs: one wins, the other is 409, every time.
start_tpm b || bad "swtpm b"
racing_ok=0
for i in $(seq 10); do
        register_body "$work/ra.json" "race-$i" "$work/a.ak.pub" "$work/a.ek.pub" "" "$work/a.ek.crt"
        register_body "$work/rb.json" "race-$i" "$work/b.ak.pub" "$work/b.ek.pub" "" "$work/b.ek.crt"
        curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "@$work/ra.json" \
                "$base_one/v1/instances" >"$work/ra.code" &
        p1=$!
        curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "@$work/rb.json" \
                "$base_two/v1/instances" >"$work/rb.code" &
        p2=$!
        wait $p1 $p2
        codes=$(cat "$work/ra.code" "$work/rb.code" | sort | tr '\n' ' ')
        [ "$codes" = "201 409 " ] && racing_ok=$((racing_ok + 1)) || echo "  | race-$i: $codes"
done
check "two replicas racing to register one name: one 201 and one 409, 10 times out of 10 ($racing_ok)" [ $racing_ok = 10 ]
http GET /metrics
body_has 'shieldd_store_errors_total 0' "no store errors"

kill -TERM "$pid_one" "$pid_two"
wait "$pid_one"; r1=$?
wait "$pid_two"; r2=$?
check "both stop on SIGTERM with status 0" [ "$r1$r2" = 00 ]
finish
