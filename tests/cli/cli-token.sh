#!/bin/bash
# shield token verify, against tokens and a JWKS made by an independent JWT
# library: Debian's PyJWT (python3-jwt). /usr/bin/python3 on purpose: the
# python3 first on PATH may be another installation without PyJWT.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
if ! "$py" -c 'import jwt, cryptography' 2>/dev/null; then
        echo "SKIP: $py cannot import jwt (install python3-jwt)"
        exit 77
fi

expect 0 "token --help" "$shield" token --help
contains "^Usage: shield token" "family synopsis"
expect 0 "token verify --help" "$shield" token verify --help
contains "^Usage: shield token verify" "verify synopsis"
expect 2 "verify without --jwks" "$shield" token verify x.y.z
expect 2 "verify without a token" "$shield" token verify --jwks /dev/null
expect 2 "unknown option" "$shield" token verify --jwks /dev/null --bogus x.y.z
expect 2 "unknown verb" "$shield" token sign

# PyJWT makes two keys, a JWKS with both (kid = base64url(SHA-256(SPKI)[:12]),
# as shieldd names its keys) and tokens of every kind we must accept or refuse.
"$py" - "$work" <<'PY' || { echo "FAIL: PyJWT could not make the test tokens"; exit 1; }
import base64, hashlib, json, sys, time, jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives import serialization as s
d = sys.argv[1]; now = int(time.time()); keys = []; priv = {}
claims = {"iss": "https://shieldd.test", "sub": "web-1", "aud": "relying-party", "iat": now, "nbf": now,
          "exp": now + 600, "secboot": True, "shield_colour": "green"}
def put(name, text):
    open(f"{d}/{name}", "w").write(text)
for alg, k, A in (("ES256", ec.generate_private_key(ec.SECP256R1()), jwt.algorithms.ECAlgorithm),
                  ("RS256", rsa.generate_private_key(65537, 2048), jwt.algorithms.RSAAlgorithm)):
    der = k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
    kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).rstrip(b"=").decode()
    jwk = json.loads(A.to_jwk(k.public_key())); jwk.update(kid=kid, alg=alg, use="sig"); keys.append(jwk)
    priv[alg] = (k, kid)
    put(alg, jwt.encode(claims, k, algorithm=alg, headers={"kid": kid}))
put("jwks.json", json.dumps({"keys": keys}))
put("jwks-es.json", json.dumps({"keys": keys[:1]}))
k, kid = priv["ES256"]
put("expired", jwt.encode(dict(claims, exp=now - 120), k, algorithm="ES256", headers={"kid": kid}))
put("leeway", jwt.encode(dict(claims, exp=now - 30), k, algorithm="ES256", headers={"kid": kid}))
put("future", jwt.encode(dict(claims, nbf=now + 300), k, algorithm="ES256", headers={"kid": kid}))
put("none", jwt.encode(claims, None, algorithm="none", headers={"kid": kid}))
# The public key as an HMAC secret: the classic RS/HS confusion attack (PyJWT refuses to do it itself).
import hmac
seg = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
si = seg(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + seg(json.dumps(claims).encode())
pem = k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
put("hs256", si + "." + seg(hmac.new(pem, si.encode(), hashlib.sha256).digest()))
tok = open(f"{d}/ES256").read(); h, p, sig = tok.split(".")
put("bad-sig", f"{h}.{p}.{'B' if sig[0] == 'A' else 'A'}{sig[1:]}")
other = seg(json.dumps(dict(claims, sub="db-1")).encode())
put("bad-payload", f"{h}.{other}.{sig}")
other_k = ec.generate_private_key(ec.SECP256R1())
put("unknown-kid", jwt.encode(claims, other_k, algorithm="ES256", headers={"kid": "AAAAAAAAAAAAAAAA"}))
put("two-segments", f"{h}.{p}")
put("bad-char", f"{h}.{p[:5]}*{p[6:]}.{sig}")
PY

for alg in ES256 RS256; do
        expect 0 "PyJWT $alg token verifies" "$shield" token verify --jwks "$work/jwks.json" "$(cat "$work/$alg")"
        contains "^Token valid" "$alg: says valid"
        contains "sub: \"web-1\"" "$alg: shows the claims"
done
expect 0 "--json" "$shield" token verify --jwks "$work/jwks.json" --json "$(cat "$work/ES256")"
is_json "verify --json"
contains '"valid": true' "--json valid"
contains '"shield_colour": "green"' "--json has the claims"
expect 0 "token from stdin" bash -c '"$1" token verify --jwks "$2" - <"$3"' _ "$shield" "$work/jwks.json" "$work/RS256"
expect 0 "--audience and --issuer match" "$shield" token verify --jwks "$work/jwks.json" --audience relying-party \
        --issuer https://shieldd.test "$(cat "$work/ES256")"
expect 1 "--audience mismatch" "$shield" token verify --jwks "$work/jwks.json" --audience other "$(cat "$work/ES256")"
contains "aud does not name other" "names the audience"
expect 1 "--issuer mismatch" "$shield" token verify --jwks "$work/jwks.json" --issuer https://evil "$(cat "$work/ES256")"
expect 0 "exp 30 s ago is within the leeway" "$shield" token verify --jwks "$work/jwks.json" "$(cat "$work/leeway")"

# Refusals: exit 1 with the reason.
refuse() {
        expect 1 "$1 refused" "$shield" token verify --jwks "${3:-$work/jwks.json}" "$(cat "$work/$1")"
        contains "$2" "$1: says why"
}
refuse expired "expired"
refuse future "not yet valid"
refuse none "alg \"none\""
refuse hs256 "HS256"
refuse bad-sig "signature does not verify"
refuse bad-payload "signature does not verify"
refuse unknown-kid "unknown kid AAAAAAAAAAAAAAAA"
refuse RS256 "unknown kid" "$work/jwks-es.json"
expect 1 "--json on an invalid token" "$shield" token verify --jwks "$work/jwks.json" --json "$(cat "$work/expired")"
contains '"valid": false' "--json invalid"

# Malformed input: exit 2, naming the segment.
expect 2 "two segments" "$shield" token verify --jwks "$work/jwks.json" "$(cat "$work/two-segments")"
contains "expected 3 base64url segments" "says how many segments"
expect 2 "bad character" "$shield" token verify --jwks "$work/jwks.json" "$(cat "$work/bad-char")"
contains "payload segment: byte 0x2a is not base64url" "names the segment and the byte"
echo '{"keys": ' >"$work/broken.json"
expect 2 "broken JWKS" "$shield" token verify --jwks "$work/broken.json" "$(cat "$work/ES256")"
contains "broken.json: .*JWKS: not JSON" "names the JWKS file"
expect 2 "missing JWKS" "$shield" token verify --jwks "$work/nonexistent" "$(cat "$work/ES256")"

finish
