#!/bin/bash
# shieldd token signing keys: --token-alg RS256 tokens checked against
# GET /jwks by two verifiers (Debian's PyJWT under /usr/bin/python3, an
# independent implementation, and `shield token verify --jwks`), the OpenID
# configuration (issuer, jwks_uri), and rotation with --key-lifetime 2s:
# token A (kid A), then past the lifetime token B with a new kid; the JWKS
# still lists kid A (its tokens have not expired) and both tokens verify;
# a restart on the same store keeps publishing both keys.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
need_tools swtpm swtpm_setup tpm2_pcrextend tpm2_readpublic tpm2_nvread curl python3 openssl

"$shieldd" --help >"$work/help" 2>&1
check "--help documents --key-lifetime N, Ns, Nm, Nh or Nd" grep -q "N, Ns, Nm, Nh or Nd" "$work/help"
for bad_life in 0 2x -1 s 1.5h ""; do
        timeout 10 "$shieldd" --listen 127.0.0.1:0 --no-tls --key-lifetime "$bad_life" --state "$work/never" >/dev/null 2>&1
        check "--key-lifetime '$bad_life' is refused (2)" [ $? = 2 ]
done
timeout 10 "$shieldd" --listen 127.0.0.1:0 --no-tls --token-alg rs256 --state "$work/never" >/dev/null 2>&1
check "--token-alg rs256 (lower case) is refused (2)" [ $? = 2 ]

start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
mklog "$work/log.bin" v1
extend "$tcti_a" "$work/extend.txt"

start_shieldd k --no-tls --state "$work/state" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 2 --token-alg RS256 --key-lifetime 2s || exit 1
base=$base_k
certify_tpm a k1 || bad "certificates for k1"
register_body "$work/reg.json" k1 "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/reg.json"
expect_status 201 "register k1"

# attest_token OUT-VAR AUDIENCE → a token for k1
attest_token() {
        challenge k1
        collect "$tcti_a" "$nonce" "$work/e.json" "$work/log.bin"
        attest_body "$work/a.json" k1 "$work/e.json" "$2"
        http POST /v1/attest "$work/a.json"
        expect_status 200 "attestation for a token ($1)"
        printf -v "$1" '%s' "$(jget 'j.get("token", "")')"
}
# header TOKEN FIELD
header() {
        python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))[sys.argv[2]])' "$1" "$2"
}
# shield_verify TOKEN AUDIENCE JWKS → shield token verify's exit status
shield_verify() {
        printf '%s' "$1" | "$shield" token verify --jwks "$3" --audience "$2" --issuer "$base" --json - >"$work/sv.out" 2>&1
}
have_pyjwt=
if /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null; then have_pyjwt=1; else
        echo "SKIP (PyJWT checks): PyJWT is not installed for /usr/bin/python3; tokens are checked with shield token verify only"
fi
# pyjwt_verify JWKS AUDIENCE TOKEN… → PyJWT checks every token (RS256 only, iss, aud, the kid's key)
pyjwt_verify() {
        /usr/bin/python3 - "$base" "$@" >"$work/pyjwt.out" 2>&1 <<'PY'
import json, sys, jwt
issuer, jwks, audience, tokens = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4:]
for token in tokens:
    kid = jwt.get_unverified_header(token)["kid"]
    keys = [k for k in jwks["keys"] if k["kid"] == kid]
    assert len(keys) == 1, f"kid {kid} is in the JWKS {len(keys)} times"
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig", keys[0]
    key = jwt.PyJWK(keys[0])
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=issuer)
    assert claims["sub"] == "k1" and claims["exp"] - claims["iat"] == 3600, claims
    try:
        jwt.decode(token, key.key, algorithms=["ES256"], audience=audience)
        sys.exit("an RS256 token verified as ES256")
    except jwt.InvalidAlgorithmError:
        pass
    print("ok", kid)
PY
}

attest_token tokA app-a
check "token A is issued" [ -n "$tokA" ]
check "token A is RS256" [ "$(header "$tokA" alg)" = RS256 ]
kidA=$(header "$tokA" kid)
http GET /jwks
expect_status 200 "jwks"
cp "$work/body" "$work/jwks1.json"
# (kid A is the key made at start unless the first attestation came after its 2 s: a slow machine.)
check "the JWKS lists kid A" [ "$(jget '[k["kid"] for k in j["keys"]].count("'"$kidA"'")')" = 1 ]
check "every key in it is RS256 (RSA, use sig)" [ "$(jget 'all((k["alg"], k["kty"], k["use"]) == ("RS256", "RSA", "sig") for k in j["keys"])')" = True ]
check "the JWKS has no private parts" bash -c "! grep -qE '\"(d|p|q|dp|dq|qi)\"' '$work/jwks1.json'"
shield_verify "$tokA" app-a "$work/jwks1.json"
check "shield token verify accepts token A" [ $? = 0 ]
shield_verify "$tokA" other "$work/jwks1.json"
check "shield token verify refuses token A for another audience (1)" [ $? = 1 ]
if [ -n "$have_pyjwt" ]; then
        pyjwt_verify "$work/jwks1.json" app-a "$tokA"
        check "PyJWT verifies token A with the JWKS" [ $? = 0 ]
        grep -q '^ok' "$work/pyjwt.out" || sed 's/^/  | /' "$work/pyjwt.out"
fi

# Past the lifetime: a new key signs.
sleep 3
attest_token tokB app-b
kidB=$(header "$tokB" kid)
check "token B is RS256" [ "$(header "$tokB" alg)" = RS256 ]
check "token B has a new kid ($kidA → $kidB)" [ -n "$kidB" -a "$kidB" != "$kidA" ]
check "the new key is logged" grep -q "new RS256 signing key $kidB" "$work/k.log"
check "its end is an RFC 3339 time, not a unix number" \
        grep -qE "new RS256 signing key $kidB \(signs until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\)" "$work/k.log"
check "no log line carries a bare unix time" bash -c "! grep -qE '(until|at|since) [0-9]{9,}' '$work/k.log'"
http GET /jwks
cp "$work/body" "$work/jwks2.json"
check "the JWKS lists kid A and kid B" [ "$(jget '{"'"$kidA"'", "'"$kidB"'"} <= {k["kid"] for k in j["keys"]}')" = True ]
shield_verify "$tokA" app-a "$work/jwks2.json"
check "shield token verify accepts token A with the new JWKS" [ $? = 0 ]
shield_verify "$tokB" app-b "$work/jwks2.json"
check "shield token verify accepts token B" [ $? = 0 ]
shield_verify "$tokB" app-b "$work/jwks1.json"
check "token B does not verify with the JWKS from before the rotation (1)" [ $? = 1 ]
if [ -n "$have_pyjwt" ]; then
        pyjwt_verify "$work/jwks2.json" app-a "$tokA"
        check "PyJWT verifies token A after the rotation" [ $? = 0 ]
        pyjwt_verify "$work/jwks2.json" app-b "$tokB"
        check "PyJWT verifies token B" [ $? = 0 ]
        grep -q '^ok' "$work/pyjwt.out" || sed 's/^/  | /' "$work/pyjwt.out"
fi

# Discovery.
http GET /.well-known/openid-configuration
expect_status 200 "openid-configuration"
check "its issuer is the service's URL" [ "$(jget 'j["issuer"]')" = "$base" ]
check "its jwks_uri" [ "$(jget 'j["jwks_uri"]')" = "$base/jwks" ]
check "it names RS256" [ "$(jget '"RS256" in j["id_token_signing_alg_values_supported"]')" = True ]
check "the tokens' iss is the issuer" [ "$(printf '%s' "$tokA" | "$shield" token verify --jwks "$work/jwks2.json" --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["iss"])')" = "$base" ]
status=$(curl -s -o /dev/null -w '%{content_type}' "$base/jwks")
check "the JWKS is application/jwk-set+json ($status)" [ "${status%%;*}" = application/jwk-set+json ]

# A restart on the same store: the old keys are still published, tokens still verify.
kill -TERM "$pid_k"
wait "$pid_k"
check "SIGTERM stops shieldd with status 0" [ $? = 0 ]
start_shieldd k2 --no-tls --state "$work/state" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 2 --token-alg RS256 --key-lifetime 2s || exit 1
base=$base_k2
http GET /jwks
cp "$work/body" "$work/jwks3.json"
check "after a restart the JWKS still lists kid A and kid B" \
        python3 -c 'import json,sys; ks={k["kid"] for k in json.load(open(sys.argv[1]))["keys"]}; sys.exit(not {sys.argv[2], sys.argv[3]} <= ks)' \
        "$work/jwks3.json" "$kidA" "$kidB"
printf '%s' "$tokA" | "$shield" token verify --jwks "$work/jwks3.json" - >/dev/null 2>&1
check "token A verifies with the restarted service's JWKS" [ $? = 0 ]
kill -TERM "$pid_k2"
wait "$pid_k2"

# --issuer overrides the URL in the discovery document and the tokens. A
# fresh store: on the old one the key k2 made at start (2 s lifetime) would
# sign for its remaining seconds whatever this process's --key-lifetime.
start_shieldd k3 --no-tls --state "$work/state3" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 2 --token-alg RS256 --issuer https://att.example/ || exit 1
base=$base_k3
http GET /.well-known/openid-configuration
check "--issuer (trailing slash dropped) is the issuer" [ "$(jget 'j["issuer"]')" = https://att.example ]
check "--issuer: jwks_uri under it" [ "$(jget 'j["jwks_uri"]')" = https://att.example/jwks ]
# Within a key's lifetime (the default 30 days here) every token has the same kid.
http POST /v1/instances "$work/reg.json"
expect_status 201 "register k1 on the fresh store"
attest_token tokC app-c
attest_token tokD app-d
kidC=$(header "$tokC" kid) kidD=$(header "$tokD" kid)
check "two tokens within one lifetime share a kid ($kidC)" [ -n "$kidC" -a "$kidC" = "$kidD" ]
http GET /jwks
cp "$work/body" "$work/jwks4.json"
printf '%s' "$tokC" | "$shield" token verify --jwks "$work/jwks4.json" --audience app-c --issuer https://att.example - >/dev/null 2>&1
check "the tokens' iss is --issuer (shield token verify --issuer)" [ $? = 0 ]
kill -TERM "$pid_k3"
wait "$pid_k3"
finish
