#!/bin/bash
# shieldd end to end on SQLite, against real swtpm TPMs provisioned by
# `shield tpm provision` (a test platform CA certifies their AKs):
#   register with an AK certificate → trusted at once; challenge → `shield
#   attest` → POST /v1/attest: verified, green, a token; the token checks out
#   against GET /jwks with PyJWT (an independent implementation); a replayed
#   nonce and another instance's nonce → 403; PCR 9 extended → yellow; a
#   reboot with a changed boot application → red, no token; registration
#   without a certificate → credential → `shield tpm activate` → trusted;
#   admin calls without / with the token (401 / 200 / 204); a 9 MiB body →
#   413; /metrics counts it all; TLS with the first-run self-signed
#   certificate (curl --cacert); SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
need_tools swtpm swtpm_setup tpm2_pcrextend tpm2_readpublic tpm2_nvread curl python3 openssl

check "shieldd --help" "$shieldd" --help >"$work/help" 2>&1
check "--help documents every option" grep -q -- "--admin-token-file" "$work/help"
"$shieldd" --bogus >/dev/null 2>&1; check "an unknown option exits 2" [ $? = 2 ]
"$shieldd" --token-alg HS256 >/dev/null 2>&1; check "--token-alg HS256 is refused (2)" [ $? = 2 ]

start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
start_tpm b || { echo "FAIL: swtpm b"; exit 1; }
mklog "$work/log.bin" v1
cp "$work/extend.txt" "$work/extend-v1.txt"
extend "$tcti_a" "$work/extend-v1.txt"
extend "$tcti_b" "$work/extend-v1.txt"

start_shieldd s --no-tls --state "$work/state" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 4 || exit 1
base=$base_s
check "the admin token file is 0600" [ "$(stat -c %a "$work/state/admin-token")" = 600 ]
admin=$(cat "$work/state/admin-token")

# Register a with its AK certificate: trusted at once.
certify_tpm a m1 || bad "certificates for m1"
register_body "$work/reg-a.json" m1 "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/reg-a.json"
expect_status 201 "register m1 with an AK certificate from --ak-ca"
check "m1 is trusted at once" [ "$(jget 'j["trusted"]')" = True ]
http POST /v1/instances "$work/reg-a.json"
expect_status 200 "registering the same AK again is idempotent"
register_body "$work/reg-a-other.json" m1 "$work/b.ak.pub" "$work/b.ek.pub" "" "$work/b.ek.crt"
http POST /v1/instances "$work/reg-a-other.json"
expect_status 409 "m1 with another AK"
body_has '"instance-exists"' "reason instance-exists"
json_file "$work/x.json" '{"name": "x", "ak_public": "AAAA"}'
http POST /v1/instances "$work/x.json"
expect_status 400 "a malformed AK"

# Challenge → attest: verified, green, golden recorded, a token.
challenge m1
expect_status 201 "challenge for m1"
check "the nonce is 32 bytes of hex" [ ${#nonce} = 64 ]
collect "$tcti_a" "$nonce" "$work/e1.json" "$work/log.bin"
attest_body "$work/a1.json" m1 "$work/e1.json" my-app
http POST /v1/attest "$work/a1.json"
expect_status 200 "first attestation"
body_has '"verified": ?true' "verified"
body_has '"colour": ?"green"' "green"
body_has '"golden_recorded": ?true' "the first attestation becomes the golden"
token1=$(jget 'j.get("token", "")')
check "a token is issued" [ -n "$token1" ]
http POST /v1/attest "$work/a1.json"
expect_status 403 "the same evidence again (replayed nonce)"
body_has '"nonce-unknown"' "reason nonce-unknown"

# Another instance's nonce: register b, take a nonce for m2, answer it as m1.
certify_tpm b m2 || bad "certificates for m2"
register_body "$work/reg-b.json" m2 "$work/b.ak.pub" "$work/b.ek.pub" "$work/b.ak.crt"
http POST /v1/instances "$work/reg-b.json"
expect_status 201 "register m2"
challenge m2
collect "$tcti_a" "$nonce" "$work/e-wrong.json" "$work/log.bin"
attest_body "$work/a-wrong.json" m1 "$work/e-wrong.json"
http POST /v1/attest "$work/a-wrong.json"
expect_status 403 "m2's nonce in m1's attestation"
body_has '"nonce-unknown"' "reason nonce-unknown"
challenge m1
collect "$tcti_b" "$nonce" "$work/e-otherak.json" "$work/log.bin"
attest_body "$work/a-otherak.json" m1 "$work/e-otherak.json"
http POST /v1/attest "$work/a-otherak.json"
expect_status 403 "m1's nonce answered by another TPM's AK"
body_has '"ak-mismatch"' "reason ak-mismatch"
json_file "$work/x.json" '{"instance": "nobody", "evidence": {}}'
http POST /v1/attest "$work/x.json"
expect_status 400 "evidence that is not evidence"
challenge nobody
expect_status 404 "a challenge for an unknown instance"

# Nothing changed → green again.
challenge m1
collect "$tcti_a" "$nonce" "$work/e2.json" "$work/log.bin"
attest_body "$work/a2.json" m1 "$work/e2.json"
http POST /v1/attest "$work/a2.json"
expect_status 200 "second attestation"
body_has '"colour": ?"green"' "still green"
body_has '"rebooted": ?false' "no reboot in between"

# PCR 9 (late boot, not in the golden) extended → yellow, still verified.
mklog "$work/log9.bin" v1 late
tail -n 1 "$work/extend.txt" >"$work/extend9.txt"
extend "$tcti_a" "$work/extend9.txt"
challenge m1
collect "$tcti_a" "$nonce" "$work/e3.json" "$work/log9.bin"
attest_body "$work/a3.json" m1 "$work/e3.json"
http POST /v1/attest "$work/a3.json"
expect_status 200 "attestation with PCR 9 extended"
body_has '"colour": ?"yellow"' "yellow"
body_has '"late_boot": ?"yellow"' "late boot is yellow"
body_has '"verified": ?true' "yellow is still verified"

# Reboot with another boot application in PCR 4 → red, not verified, no token.
restart_tpm a || { echo "FAIL: restarting swtpm a"; exit 1; }
mklog "$work/log-v2.bin" v2
extend "$tcti_a" "$work/extend.txt"
challenge m1
collect "$tcti_a" "$nonce" "$work/e4.json" "$work/log-v2.bin"
attest_body "$work/a4.json" m1 "$work/e4.json"
http POST /v1/attest "$work/a4.json"
expect_status 200 "attestation after a reboot with a changed log"
body_has '"colour": ?"red"' "red"
body_has '"verified": ?false' "not verified"
body_has '"rebooted": ?true' "the reboot is recognised"
body_has 'PCR 4' "PCR 4 is named"
check "no token for a red verdict" [ "$(jget '"token" in j')" = False ]

# Operators: reads are open, changes need the admin token.
http GET /v1/instances
expect_status 200 "list instances"
check "the list names m1 as red" [ "$(jget '[i["colour"] for i in j if i["name"] == "m1"][0]')" = red ]
http GET /v1/instances/m1
expect_status 200 "one instance"
body_has '"golden": ?\{' "with its golden measurement"
check "with its history (5 verdicts)" [ "$(jget 'len(j["history"])')" -ge 4 ]
body_has '"differences": ?\[' "and the differences"
http GET /v1/instances/nobody
expect_status 404 "an unknown instance"
http POST /v1/instances/m1/golden/reset "" 
expect_status 401 "golden reset without the token"
http POST /v1/instances/m1/golden/reset "" -H "Authorization: Bearer nope"
expect_status 401 "golden reset with a wrong token"
http POST /v1/instances/m1/golden/reset "" -H "Authorization: Bearer $admin"
expect_status 200 "golden reset with the admin token"
challenge m1
collect "$tcti_a" "$nonce" "$work/e5.json" "$work/log-v2.bin"
attest_body "$work/a5.json" m1 "$work/e5.json"
http POST /v1/attest "$work/a5.json"
body_has '"golden_recorded": ?true' "after a reset the next attestation is the golden"
body_has '"colour": ?"green"' "and green"
http DELETE /v1/instances/m2 ""
expect_status 401 "delete without the token"
http DELETE /v1/instances/m2 "" -H "Authorization: Bearer $admin"
expect_status 204 "delete with the admin token"
http GET /v1/instances/m2
expect_status 404 "m2 is gone"

# Activation: register b again without a certificate → a credential only b's TPM can open.
register_body "$work/reg-c.json" m3 "$work/b.ak.pub" "$work/b.ek.pub" "" "$work/b.ek.crt"
http POST /v1/instances "$work/reg-c.json"
expect_status 201 "register m3 without an AK certificate"
check "m3 is not trusted yet" [ "$(jget 'j["trusted"]')" = False ]
jget 'j["activation"]["credential"]' | base64 -d >"$work/cred.bin"
challenge m3
expect_status 201 "a challenge for an untrusted instance"
collect "$tcti_b" "$nonce" "$work/e6.json" "$work/log.bin"
attest_body "$work/a6.json" m3 "$work/e6.json"
http POST /v1/attest "$work/a6.json"
expect_status 403 "attestation before activation"
body_has '"instance-untrusted"' "reason instance-untrusted"
secret=$("$shield" tpm activate --tcti "$tcti_b" --blob "$work/cred.bin" --ak-handle 0x81010002 2>"$work/act.err")
check "shield tpm activate recovers the secret" [ -n "$secret" ]
json_file "$work/act-bad.json" "{\"secret\": \"$(openssl rand -hex 32)\"}"
http POST /v1/instances/m3/activate "$work/act-bad.json"
expect_status 403 "activation with a wrong secret"
body_has '"activation-failed"' "reason activation-failed"
json_file "$work/act.json" "{\"secret\": \"$secret\"}"
http POST /v1/instances/m3/activate "$work/act.json"
expect_status 200 "activation with the recovered secret"
body_has '"trusted": ?true' "m3 is trusted"
challenge m3
collect "$tcti_b" "$nonce" "$work/e7.json" "$work/log.bin"
attest_body "$work/a7.json" m3 "$work/e7.json"
http POST /v1/attest "$work/a7.json"
expect_status 200 "m3 attests after activation"
body_has '"verified": ?true' "verified"

# Limits and routing.
head -c $((9 << 20)) /dev/zero | tr '\0' 'a' >"$work/big.json"
http POST /v1/attest "$work/big.json"
expect_status 413 "a 9 MiB body"
http POST /v1/instances "$work/big.json" -H "Transfer-Encoding: chunked"
expect_status 413 "a 9 MiB chunked body"
http GET /nothing
expect_status 404 "an unknown route"
http PUT /v1/attest ""
expect_status 405 "a wrong method"

# Tokens: OpenID configuration, JWKS, and an independent verifier.
http GET /.well-known/openid-configuration
expect_status 200 "openid-configuration"
check "its jwks_uri" [ "$(jget 'j["jwks_uri"]')" = "$base/jwks" ]
http GET /jwks
expect_status 200 "jwks"
cp "$work/body" "$work/jwks.json"
check "one ES256 key" [ "$(jget '[k["alg"] for k in j["keys"]]')" = "['ES256']" ]
if /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null; then
        /usr/bin/python3 - "$work/jwks.json" "$token1" "$base" "$nonce" <<'PY' >"$work/pyjwt.out" 2>&1
import json, sys, jwt
jwks = json.load(open(sys.argv[1]))
token = sys.argv[2]
kid = jwt.get_unverified_header(token)["kid"]
key = [jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid][0]
claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="my-app", issuer=sys.argv[3])
assert claims["sub"] == "m1", claims
assert claims["shield_colour"] == "green" and claims["hwmodel"] == "TPM" and claims["policy"] == "gce", claims
assert claims["exp"] - claims["iat"] == 3600 and len(claims["eat_nonce"]) == 64, claims
assert claims["secboot"] is False and claims["dbgstat"] == "disabled-since-boot", claims
assert len(claims["pcr_digest"]) == 64, claims
try:
    jwt.decode(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), key.key, algorithms=["ES256"], audience="my-app")
    sys.exit("a tampered token verified")
except jwt.InvalidSignatureError:
    pass
print("claims", claims)
PY
        check "PyJWT verifies the token with the JWKS (iss, aud, claims; a tampered one fails)" [ $? = 0 ]
        grep -q claims "$work/pyjwt.out" || sed 's/^/  | /' "$work/pyjwt.out"
else
        echo "SKIP: PyJWT is not installed for /usr/bin/python3; the token is checked with shield_token_verify only"
fi

# Metrics.
http GET /metrics
expect_status 200 "metrics"
body_has 'shieldd_attestations_total\{verdict="green"\} [1-9]' "green attestations counted"
body_has 'shieldd_attestations_total\{verdict="yellow"\} 1' "a yellow one"
body_has 'shieldd_attestations_total\{verdict="red"\} 1' "a red one"
body_has 'shieldd_attestation_seconds_count [1-9]' "the histogram"
body_has 'shieldd_requests_total\{code="413"\} 2' "the 413s"
body_has 'shieldd_store_errors_total 0' "no store errors"

# The dashboard is served (or a page says it is not built).
http GET /
expect_status 200 "GET /"
body_has '<html' "HTML"

# The log: one line per refusal, no secrets.
check "refusals are logged with their reason" grep -qE '127\.0\.0\.1 POST /v1/attest 403 nonce-unknown' "$work/s.log"
check "the 413 is logged" grep -qE ' 413 body-too-large' "$work/s.log"
check "no admin token in the log" bash -c "! grep -qF '$admin' '$work/s.log'"
check "no token in the log" bash -c "! grep -qF '${token1:0:40}' '$work/s.log'"

kill -TERM "$pid_s"
wait "$pid_s"
check "SIGTERM stops shieldd with status 0" [ $? = 0 ]

# TLS: the first start makes a self-signed certificate; curl pins it.
start_shieldd t --state "$work/tls-state" --threads 2 || exit 1
check "tls.key is 0600" [ "$(stat -c %a "$work/tls-state/tls.key")" = 600 ]
check "over https" [ "${base_t%%:*}" = https ]
status=$(curl -s -o "$work/body" -w '%{http_code}' --cacert "$work/tls-state/tls.crt" "$base_t/jwks")
expect_status 200 "GET /jwks over TLS with curl --cacert"
status=$(curl -s -o /dev/null -w '%{http_code}' "$base_t/jwks")
check "without --cacert curl refuses the self-signed certificate" [ "$status" = 000 ]
openssl x509 -in "$work/tls-state/tls.crt" -noout -text >"$work/cert.txt" 2>&1
check "an ECDSA P-256 certificate" grep -q "prime256v1\|P-256" "$work/cert.txt"
kill -INT "$pid_t"
wait "$pid_t"
check "SIGINT stops shieldd with status 0" [ $? = 0 ]
finish
