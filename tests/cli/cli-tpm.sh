#!/bin/bash
# shield tpm and shield attest against swtpm, checked with tpm2-tools and openssl.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

expect 0 "tpm --help" "$shield" tpm --help
contains "verify-quote" "the family lists its commands"
for v in provision info pcrs ek make-credential activate quote verify-quote; do
        expect 0 "tpm $v --help" "$shield" tpm "$v" --help
        contains "^Usage: shield tpm $v" "$v synopsis"
done
expect 0 "attest --help" "$shield" attest --help
contains "^Usage: shield attest" "attest synopsis"
expect 2 "provision without --name" "$shield" tpm provision --ca-dir "$work/ca"
expect 2 "quote without --nonce" "$shield" tpm quote -o "$work/x.json"
expect 2 "quote with a bad nonce" "$shield" tpm quote --nonce xyz -o "$work/x.json"
expect 2 "attest without --nonce" "$shield" attest
expect 2 "attest --frames with -o" "$shield" attest --nonce 00 --frames -o x
expect 2 "verify-quote without --evidence" "$shield" tpm verify-quote
expect 2 "verify-quote of a missing file" "$shield" tpm verify-quote --evidence "$work/nonexistent"
echo '{"format":"shieldkit-evidence/9"}' >"$work/v9.json"
expect 2 "verify-quote of an unknown format" "$shield" tpm verify-quote --evidence "$work/v9.json"
contains "format" "says which field"
echo '{"format":"shieldkit-evidence/1","notes":["the guest has no TPM"]}' >"$work/noquote.json"
expect 1 "verify-quote of evidence without a quote" "$shield" tpm verify-quote --evidence "$work/noquote.json"
contains "quote-missing.*no TPM" "says the quote is missing, and why"
expect 2 "an unknown TCTI" "$shield" tpm pcrs --tcti nosuchtcti:x
SHIELD_TCTI=nosuchtcti:y expect 2 "SHIELD_TCTI is the default TCTI" "$shield" tpm pcrs
contains "nosuchtcti:y" "names the TCTI from SHIELD_TCTI"
SHIELD_TCTI= TPM2TOOLS_TCTI=nosuchtcti:z expect 2 "then TPM2TOOLS_TCTI" "$shield" tpm pcrs
contains "nosuchtcti:z" "names the TCTI from TPM2TOOLS_TCTI"
expect 0 "tpm ak create --help" "$shield" tpm ak create --help
contains "^Usage: shield tpm ak create" "ak create synopsis"
expect 2 "ak create without -o" "$shield" tpm ak create
expect 2 "ak create with a bad --algo" "$shield" tpm ak create --algo dsa -o "$work/x"
expect 2 "ak create with a non-persistent --persist" "$shield" tpm ak create -o "$work/x" --persist 0x80000001
expect 2 "pcrs with an unknown --bank" "$shield" tpm pcrs --bank md5
expect 2 "make-credential without --secret" "$shield" tpm make-credential --ek-pub x --ak-name 000b -o y
expect 2 "activate with both AK forms" "$shield" tpm activate --blob x --ak-handle 0x81010002 --ak-ctx d

for tool in swtpm swtpm_setup tpm2_readpublic tpm2_nvread tpm2_checkquote openssl python3; do
        command -v "$tool" >/dev/null || { echo "skip: $tool not installed (TPM checks)"; finish; exit $?; }
done

# swtpm on a random port (another is tried when bind fails); killed on exit.
mkdir -p "$work/state"
swtpm_setup --tpm2 --tpmstate "$work/state" --pcr-banks sha1,sha256 >"$work/setup.log" 2>&1 ||
        { echo "FAIL: swtpm_setup"; cat "$work/setup.log"; exit 1; }
swtpm_pid=
trap '[ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null; rm -rf "$work"' EXIT
for attempt in 1 2 3 4 5 6; do
        port=$((10000 + RANDOM % 22000))
        swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=tcp,port=$port \
                --ctrl type=tcp,port=$((port + 1)) --flags not-need-init,startup-clear >"$work/swtpm.log" 2>&1 &
        swtpm_pid=$!
        up=
        for i in $(seq 50); do
                kill -0 "$swtpm_pid" 2>/dev/null || break
                if "$shield" tpm pcrs --tcti "swtpm:host=127.0.0.1,port=$port" >/dev/null 2>&1; then up=1; break; fi
                sleep 0.1
        done
        [ -n "$up" ] && break
        kill "$swtpm_pid" 2>/dev/null; wait "$swtpm_pid" 2>/dev/null; swtpm_pid=
done
[ -n "$swtpm_pid" ] || { echo "FAIL: swtpm did not start"; cat "$work/swtpm.log"; exit 1; }
tcti="swtpm:host=127.0.0.1,port=$port"
export TPM2TOOLS_TCTI=$tcti

expect 0 "tpm provision" "$shield" tpm provision --tcti "$tcti" --name vm-test --ca-dir "$work/ca" --json
is_json "provision --json"
contains '"ca_created": true' "made a CA"
contains 'CN=vm-test AK' "the AK certificate's subject"
[ "$(stat -c %a "$work/ca/ca.key")" = 600 ] && echo "ok: ca.key is 0600" || { echo "FAIL: ca.key mode"; fails=$((fails + 1)); }
openssl x509 -in "$work/ca/ca.crt" -noout -text >"$work/out" 2>&1
contains "CA:TRUE" "ca.crt is a CA certificate (openssl)"
contains "Certificate Sign" "ca.crt may sign certificates"
expect 0 "tpm provision again (idempotent)" "$shield" tpm provision --tcti "$tcti" --name vm-test --ca-dir "$work/ca" --json
contains '"ca_created": false' "kept the CA"

# The oracle: tpm2-tools reads what we persisted and defined.
expect 0 "tpm2_readpublic 0x81010002" tpm2_readpublic -c 0x81010002 -o "$work/ak.pub"
contains "value: fixedtpm[|]fixedparent[|]sensitivedataorigin[|]userwithauth[|]restricted[|]sign$" "AK attributes"
contains "rsassa" "AK scheme RSASSA"
expect 0 "tpm2_readpublic 0x81010001" tpm2_readpublic -c 0x81010001
contains "value: fixedtpm[|]fixedparent[|]sensitivedataorigin[|]adminwithpolicy[|]restricted[|]decrypt$" "EK attributes"
contains "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa" "EK policy A"
# The templates are the contract: tpm2-tools derives the very same keys from its own templates.
tpm2_createprimary -Q -C e -G rsa2048:rsassa-sha256:null -g sha256 \
        -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign" -c "$work/x.ctx" >/dev/null 2>&1 &&
        tpm2_readpublic -Q -c "$work/x.ctx" -o "$work/x.pub" >/dev/null 2>&1
tpm2_flushcontext -t >/dev/null 2>&1
cmp -s "$work/x.pub" "$work/ak.pub" && echo "ok: the AK is tpm2_createprimary's RSASSA-SHA256 restricted signing primary" ||
        { echo "FAIL: the AK differs from tpm2_createprimary's"; fails=$((fails + 1)); }
tpm2_createek -c "$work/ek.ctx" -G rsa -u "$work/ek-tools.pub" >/dev/null 2>&1
tpm2_flushcontext -t >/dev/null 2>&1
tpm2_readpublic -Q -c 0x81010001 -o "$work/ek.pub" >/dev/null 2>&1
cmp -s "$work/ek-tools.pub" "$work/ek.pub" && echo "ok: the EK is tpm2_createek's RSA EK (TCG default template)" ||
        { echo "FAIL: the EK differs from tpm2_createek's"; fails=$((fails + 1)); }
expect 0 "tpm2_nvread 0x01c10000" tpm2_nvread 0x01c10000 -o "$work/ak.der"
expect 0 "tpm2_nvread 0x01c00002" tpm2_nvread 0x01c00002 -o "$work/ek.der"
tpm2_nvreadpublic 0x01c10000 >"$work/out" 2>&1
contains "friendly: ownerwrite[|]authwrite[|]ownerread[|]authread[|]no_da[|]written$" "NV attributes"
openssl x509 -inform DER -in "$work/ak.der" -out "$work/ak.crt" 2>/dev/null
openssl x509 -inform DER -in "$work/ek.der" -out "$work/ek.crt" 2>/dev/null
expect 0 "openssl verify accepts the AK certificate" openssl verify -CAfile "$work/ca/ca.crt" "$work/ak.crt"
expect 0 "openssl verify accepts the EK certificate" openssl verify -CAfile "$work/ca/ca.crt" "$work/ek.crt"
openssl x509 -in "$work/ak.crt" -noout -text >"$work/out" 2>&1
contains "Subject: CN ?= ?vm-test AK" "AK subject"
contains "Digital Signature" "AK keyUsage"
contains "CA:FALSE" "not a CA"
contains "Authority Key Identifier" "has an AKI"
openssl x509 -in "$work/ek.crt" -noout -text >"$work/out" 2>&1
contains "Key Encipherment" "EK keyUsage"
# The certificate's key is the key at 0x81010002.
tpm2_readpublic -c 0x81010002 -f pem -o "$work/ak-tpm.pem" >/dev/null 2>&1
openssl x509 -in "$work/ak.crt" -pubkey -noout >"$work/ak-cert.pem"
cmp -s <(openssl pkey -pubin -in "$work/ak-tpm.pem" -outform DER) <(openssl pkey -pubin -in "$work/ak-cert.pem" -outform DER) &&
        echo "ok: the AK certificate certifies the AK" || { echo "FAIL: AK certificate key differs"; fails=$((fails + 1)); }

expect 0 "tpm pcrs --json" "$shield" tpm pcrs --tcti "$tcti" --json
is_json "pcrs --json"
contains '"sha256"' "has the sha256 bank"
expect 0 "tpm pcrs" "$shield" tpm pcrs --tcti "$tcti"
contains "^sha256  23 " "text form lists PCR 23"

nonce=5ca1ab1e00112233445566778899aabb
expect 0 "tpm quote" "$shield" tpm quote --tcti "$tcti" --nonce $nonce -o "$work/ev.json"
python3 - "$work" <<'PY'
import base64, json, sys
w = sys.argv[1]
e = json.load(open(w + "/ev.json"))
assert e["format"] == "shieldkit-evidence/1"
for name, blob in (("attest", e["quote"]["attest"]), ("sig", e["quote"]["signature"]), ("akpub", e["ak"]["public"]),
                   ("akcert", e["ak"]["certificate"])):
    open(w + "/" + name + ".bin", "wb").write(base64.b64decode(blob))
PY
cmp -s "$work/akpub.bin" "$work/ak.pub" && echo "ok: ak.public is tpm2_readpublic -o" || { echo "FAIL: ak.public differs"; fails=$((fails + 1)); }
cmp -s "$work/akcert.bin" "$work/ak.der" && echo "ok: ak.certificate is the NV contents" || { echo "FAIL: ak.certificate differs"; fails=$((fails + 1)); }
expect 0 "tpm2_checkquote accepts the quote" tpm2_checkquote -u "$work/ak.pub" -m "$work/attest.bin" -s "$work/sig.bin" -q $nonce -g sha256
expect 1 "tpm2_checkquote refuses another nonce" tpm2_checkquote -u "$work/ak.pub" -m "$work/attest.bin" -s "$work/sig.bin" -q ${nonce%??}00 -g sha256

expect 0 "verify-quote" "$shield" tpm verify-quote --evidence "$work/ev.json" --nonce $nonce --ca "$work/ca/ca.crt"
contains "verified" "says verified"
expect 0 "quote-check (alias) --json" "$shield" tpm quote-check --evidence "$work/ev.json" --json
is_json "verify-quote --json"
contains '"verified": true' "verified in JSON"
expect 1 "verify-quote with another nonce" "$shield" tpm verify-quote --evidence "$work/ev.json" --nonce 00
contains "quote-nonce-mismatch" "names the nonce"
expect 1 "verify-quote with the AK certificate as CA" "$shield" tpm verify-quote --evidence "$work/ev.json" --ca "$work/ak.crt"
contains "ak-cert-signature-invalid" "names the certificate"
python3 - "$work" <<'PY'
import base64, json, sys
w = sys.argv[1]
e = json.load(open(w + "/ev.json"))
s = bytearray(base64.b64decode(e["quote"]["signature"])); s[-1] ^= 1
e2 = dict(e, quote=dict(e["quote"], signature=base64.b64encode(bytes(s)).decode()))
json.dump(e2, open(w + "/badsig.json", "w"))
p = dict(e["pcrs"]); p["sha256"] = dict(p["sha256"]); p["sha256"]["16"] = "11" * 32
json.dump(dict(e, pcrs=p), open(w + "/badpcr.json", "w"))
a = base64.b64decode(e["quote"]["attest"])[:-1]
json.dump(dict(e, quote=dict(e["quote"], attest=base64.b64encode(a).decode())), open(w + "/short.json", "w"))
PY
expect 1 "verify-quote with a flipped signature bit" "$shield" tpm verify-quote --evidence "$work/badsig.json"
contains "quote-signature-invalid" "names the signature"
expect 1 "verify-quote with a changed PCR 16" "$shield" tpm verify-quote --evidence "$work/badpcr.json"
contains "quote-pcr-digest-mismatch" "names the PCR digest"
expect 2 "verify-quote with a truncated attestation" "$shield" tpm verify-quote --evidence "$work/short.json"
contains "pcrDigest" "says where it stopped"
# The verifier's checks (shield_evidence_check), the quote's steps only; --json carries them.
expect 0 "verify-quote --json has the verifier's steps" "$shield" tpm verify-quote --evidence "$work/ev.json" --nonce $nonce --json
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
st = {s['step']: s['status'] for s in d['steps']}
assert d['verified'] is True, d
for k in ('quote-signature', 'quote-structure', 'nonce', 'pcr-digest', 'ak'):
    assert st.get(k) == 'pass', (k, st)
assert 'golden' not in st or st['golden'] == 'skip', st
" "$work/out" && echo "ok: steps quote-signature, quote-structure, nonce, pcr-digest and ak pass" ||
        { echo "FAIL: the --json steps"; sed 's/^/  | /' "$work/out" | head -40; fails=$((fails + 1)); }
python3 - "$work" <<'PY2'
import json, sys
w = sys.argv[1]
e = json.load(open(w + "/ev.json"))
json.dump({k: v for k, v in e.items() if k != "pcrs"}, open(w + "/nopcrs.json", "w"))
json.dump(dict(e, ak={k: v for k, v in e["ak"].items() if k != "certificate"}), open(w + "/nocert.json", "w"))
PY2
expect 1 "verify-quote of a quote without PCR values (the verifier's rule)" "$shield" tpm verify-quote --evidence "$work/nopcrs.json"
contains "pcrs-missing" "names the missing PCR values"
expect 1 "verify-quote --ca of evidence without an AK certificate" "$shield" tpm verify-quote --evidence "$work/nocert.json" --ca "$work/ca/ca.crt"
contains "ak-cert-missing" "names the missing certificate"
printf 'not a certificate' >"$work/junk.crt"
expect 2 "verify-quote with a --ca that is no certificate" "$shield" tpm verify-quote --evidence "$work/ev.json" --ca "$work/junk.crt"
contains "junk.crt" "names the CA file"

# Quotes made by tpm2-tools with other key types and schemes: shield checks them all.
for spec in "ecc256:ecdsa-sha256:null ecdsa sha256" "ecc384:ecdsa-sha384:null ecdsa sha384" \
            "rsa2048:rsapss-sha256:null rsapss sha256" "rsa2048:rsassa-sha1:null rsassa sha1"; do
        set -- $spec
        tpm2_createprimary -Q -C e -G "$1" -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign" \
                -c "$work/k.ctx" >/dev/null 2>&1 &&
                tpm2_readpublic -Q -c "$work/k.ctx" -o "$work/k.pub" >/dev/null 2>&1 &&
                tpm2_quote -Q -c "$work/k.ctx" -l sha256:0,1,2,16+sha1:3 -q aabbcc -m "$work/k.msg" -s "$work/k.sig" \
                        --scheme "$2" -g "$3" >/dev/null 2>&1
        ok=$?
        tpm2_flushcontext -t >/dev/null 2>&1
        [ $ok -eq 0 ] || { echo "FAIL: tpm2-tools could not make a $1 quote"; fails=$((fails + 1)); continue; }
        "$shield" tpm pcrs --tcti "$tcti" --json >"$work/k-pcrs.json"
        python3 - "$work" <<'PY'
import base64, json, sys
w = sys.argv[1]
b = lambda f: base64.b64encode(open(w + "/" + f, "rb").read()).decode()
json.dump({"format": "shieldkit-evidence/1", "nonce": "aabbcc", "pcrs": json.load(open(w + "/k-pcrs.json")),
           "quote": {"attest": b("k.msg"), "signature": b("k.sig")}, "ak": {"public": b("k.pub")}},
          open(w + "/k.json", "w"))
PY
        expect 0 "verify-quote of a tpm2_quote by $1 ($2/$3)" "$shield" tpm verify-quote --evidence "$work/k.json"
        expect 1 "... and with another nonce" "$shield" tpm verify-quote --evidence "$work/k.json" --nonce aabbcd
done

# shield attest: logs given as files; missing ones are notes.
printf 'firmware-log' >"$work/el.bin"
expect 0 "attest -o" "$shield" attest --tcti "$tcti" --nonce $nonce --eventlog "$work/el.bin" --ima-log "$work/none" -o "$work/att.json"
contains "no IMA measurement list" "a missing IMA list is a warning"
python3 -c "import json,sys,base64; e=json.load(open(sys.argv[1])); assert base64.b64decode(e['eventlog'])==b'firmware-log'; assert 'ima_log' not in e; assert any('IMA' in n for n in e['notes'])" "$work/att.json" &&
        echo "ok: attest evidence holds the log and the note" || { echo "FAIL: attest evidence"; fails=$((fails + 1)); }
expect 0 "verify-quote of attest evidence" "$shield" tpm verify-quote --evidence "$work/att.json" --nonce $nonce --ca "$work/ca/ca.crt"
contains "event log and IMA list are not checked here" "says the logs are not its business"
"$shield" attest --tcti "$tcti" --nonce $nonce --eventlog "$work/el.bin" --ima-log "$work/none" --frames >"$work/frames" 2>"$work/err"
echo "rc=$?" >>"$work/err"
python3 - "$work" <<'PY' && echo "ok: --frames is one CRC-checked frame, then SHIELD-DONE, nothing else" || { echo "FAIL: --frames"; fails=$((fails + 1)); }
import base64, json, re, sys, zlib
w = sys.argv[1]
t = open(w + "/frames").read()
m = re.fullmatch(r"\nSHIELD-BEGIN evidence (\d+) ([0-9a-f]{8})\n((?:[A-Za-z0-9+/=]{1,76}\n)+)SHIELD-END evidence\nSHIELD-DONE\n", t)
assert m, t[:200]
body = m.group(3).split("\n")[:-1]
assert all(len(l) == 76 for l in body[:-1])
d = base64.b64decode("".join(body))
assert len(d) == int(m.group(1)) and zlib.crc32(d) == int(m.group(2), 16)
assert json.loads(d)["format"] == "shieldkit-evidence/1"
PY
"$shield" attest --tcti nosuchtcti:x --nonce 00 --frames >"$work/out" 2>/dev/null
contains "^SHIELD-ERROR attest: " "a failure in --frames mode is a SHIELD-ERROR line"
# A platform-created EK certificate index (a manufacturer's) is kept as it is.
tpm2_nvundefine 0x01c00002 >/dev/null 2>&1
if tpm2_nvdefine -C p 0x01c00002 -s 12 -a "ppwrite|ppread|ownerread|authread|platformcreate|no_da" >/dev/null 2>&1 &&
        printf 'manufacturer' | tpm2_nvwrite -C p 0x01c00002 -i - >/dev/null 2>&1; then
        expect 0 "provision with a platform EK certificate" "$shield" tpm provision --tcti "$tcti" --name vm-test --ca-dir "$work/ca"
        [ "$(tpm2_nvread 0x01c00002 2>/dev/null)" = manufacturer ] && echo "ok: the platform's EK certificate is untouched" ||
                { echo "FAIL: the platform's EK certificate was replaced"; fails=$((fails + 1)); }
else
        echo "skip: the platform hierarchy is not usable (platform-created index)"
fi

# tpm info, pcrs --bank, ek, ak create, make-credential and activate; tpm2-tools as the oracle.
expect 0 "tpm info --json" "$shield" tpm info --tcti "$tcti" --json
is_json "info --json"
contains '"manufacturer": "IBM"' "swtpm's manufacturer"
contains '"bank": "sha256"' "lists the sha256 bank"
tpm2_getcap properties-fixed >"$work/getcap" 2>&1
fw1=$(awk '/TPM2_PT_FIRMWARE_VERSION_1/ {getline; print $2}' "$work/getcap")
"$shield" tpm info --tcti "$tcti" >"$work/out" 2>&1
[ -n "$fw1" ] && contains "$fw1" "firmware version 1 as tpm2_getcap reports it" || true
expect 0 "tpm pcrs --bank sha1" "$shield" tpm pcrs --tcti "$tcti" --bank sha1 --json
contains '"sha1"' "the sha1 bank"
grep -q '"sha256"' "$work/out" && { echo "FAIL: --bank sha1 printed sha256"; fails=$((fails + 1)); } || echo "ok: only the bank asked for"
tpm2_evictcontrol -C o -c 0x81010001 >/dev/null 2>&1 # ek: derived from the template when not persistent
expect 0 "tpm ek -o" "$shield" tpm ek --tcti "$tcti" -o "$work/ek" --json
contains '"persistent": false' "derived, not persistent"
tpm2_createek -c "$work/ek2.ctx" -G rsa -u "$work/ek-tools2.pub" >/dev/null 2>&1; tpm2_flushcontext -t >/dev/null 2>&1
cmp -s "$work/ek/ek.pub" "$work/ek-tools2.pub" && echo "ok: ek.pub is tpm2_createek's" || { echo "FAIL: ek.pub differs from tpm2_createek's"; fails=$((fails + 1)); }
# NV 0x01c00002 holds what provision wrote (a certificate) or the platform's 'manufacturer' bytes above.
if tpm2_nvread 0x01c00002 2>/dev/null | openssl x509 -inform DER -noout >/dev/null 2>&1; then
        openssl x509 -in "$work/ek/ek.crt" -noout >/dev/null 2>&1 && echo "ok: ek.crt is the certificate" || { echo "FAIL: ek.crt"; fails=$((fails + 1)); }
else
        [ ! -e "$work/ek/ek.crt" ] && echo "ok: no ek.crt for an index that holds no certificate" || { echo "FAIL: ek.crt written from junk"; fails=$((fails + 1)); }
fi
# The EK provision certified (ek.crt from NV at the start) is the key ek.pem holds.
cmp -s <(openssl pkey -pubin -in "$work/ek/ek.pem" -outform DER) <(openssl x509 -in "$work/ek.crt" -pubkey -noout | openssl pkey -pubin -outform DER) &&
        echo "ok: ek.pem is the certified key" || { echo "FAIL: ek.pem is not the certificate's key"; fails=$((fails + 1)); }
for algo in rsa ecc; do
        expect 0 "tpm ak create --algo $algo" "$shield" tpm ak create --tcti "$tcti" --algo "$algo" -o "$work/ak-$algo"
        tpm2_print -t TPM2B_PUBLIC "$work/ak-$algo/ak.pub" >"$work/out" 2>&1
        contains "fixedtpm[|]fixedparent[|]sensitivedataorigin[|]userwithauth[|]restricted[|]sign" "$algo AK attributes (tpm2_print)"
        [ "$algo" = ecc ] && contains "ecdsa" "ECDSA scheme" || contains "rsassa" "RSASSA scheme"
        tpm2_getcap handles-transient >"$work/out" 2>&1
        [ -s "$work/out" ] && { echo "FAIL: transient objects left after ak create"; cat "$work/out"; fails=$((fails + 1)); } || echo "ok: nothing left loaded"
done
expect 0 "ak create --persist 0x81010010" "$shield" tpm ak create --tcti "$tcti" -o "$work/akp" --persist 0x81010010
expect 0 "tpm2_readpublic of the persisted AK" tpm2_readpublic -c 0x81010010 -n "$work/akp-tools.name"
cmp -s "$work/akp/ak.name" "$work/akp-tools.name" && echo "ok: ak.name is tpm2_readpublic's name" || { echo "FAIL: ak.name differs"; fails=$((fails + 1)); }
expect 2 "ak create on a taken handle" "$shield" tpm ak create --tcti "$tcti" -o "$work/akq" --persist 0x81010010
contains "taken" "says the handle is taken"
expect 0 "make-credential (no TPM)" env -u TPM2TOOLS_TCTI "$shield" tpm make-credential --ek-pub "$work/ek/ek.pub" --ak-name "$work/akp/ak.name" --secret 5ec2e7 -o "$work/cred.blob"
tpm2_createek -c "$work/ek3.ctx" -G rsa >/dev/null 2>&1
tpm2_startauthsession --policy-session -S "$work/s.ctx" >/dev/null 2>&1 && tpm2_policysecret -S "$work/s.ctx" -c e >/dev/null 2>&1
expect 0 "tpm2_activatecredential recovers our credential" tpm2_activatecredential -c 0x81010010 -C "$work/ek3.ctx" -i "$work/cred.blob" -o "$work/act.out" -P "session:$work/s.ctx"
[ "$(xxd -p "$work/act.out" 2>/dev/null)" = 5ec2e7 ] && echo "ok: the secret is 5ec2e7" || { echo "FAIL: tpm2_activatecredential's secret"; fails=$((fails + 1)); }
tpm2_flushcontext "$work/s.ctx" >/dev/null 2>&1; tpm2_flushcontext -t >/dev/null 2>&1
printf 'from-tpm2-tools' >"$work/sec"
tpm2_makecredential -T none -u "$work/ek/ek.pub" -s "$work/sec" -n "$(xxd -p -c 256 "$work/akp/ak.name")" -o "$work/tools.blob" >/dev/null 2>&1
expect 0 "activate a tpm2_makecredential blob (--ak-handle)" "$shield" tpm activate --tcti "$tcti" --blob "$work/tools.blob" --ak-handle 0x81010010
contains "^$(printf 'from-tpm2-tools' | xxd -p)$" "recovers the secret"
expect 0 "make-credential for the file AK" "$shield" tpm make-credential --ek-pub "$work/ek/ek.pem" --ak-name "$(xxd -p -c 256 "$work/ak-ecc/ak.name")" --secret 00112233 -o "$work/cred2.blob"
expect 0 "activate --ak-ctx --json" "$shield" tpm activate --tcti "$tcti" --blob "$work/cred2.blob" --ak-ctx "$work/ak-ecc" --json
contains '"secret": "00112233"' "recovers it with the AK loaded from files"
expect 1 "activate a blob made for another AK" "$shield" tpm activate --tcti "$tcti" --blob "$work/cred2.blob" --ak-handle 0x81010010
contains "not made for this AK" "says so"
head -c 20 "$work/cred2.blob" >"$work/short.blob"
expect 2 "activate a truncated blob" "$shield" tpm activate --tcti "$tcti" --blob "$work/short.blob" --ak-handle 0x81010010
# PolicyPCR in software, against the TPM's own trial session (tpm2_policypcr) over the same PCRs.
tpm2_pcrextend "7:sha256=$(printf 'boot state' | sha256sum | cut -c1-64)" >/dev/null 2>&1
expect 0 "tpm pcrs --json" "$shield" tpm pcrs --tcti "$tcti" --json
cp "$work/out" "$work/now.pcrs.json"
expect 0 "policy-pcr" "$shield" tpm policy-pcr --pcrs "$work/now.pcrs.json" --pcr-list 0,2,4-7
ours=$(head -1 "$work/out")
tpm2_startauthsession -S "$work/trial.ctx" >/dev/null 2>&1 &&
        tpm2_policypcr -S "$work/trial.ctx" -l sha256:0,2,4,5,6,7 -L "$work/policy.dat" >/dev/null 2>&1
tpm2_flushcontext "$work/trial.ctx" >/dev/null 2>&1
[ -n "$ours" ] && [ "$ours" = "$(xxd -p -c 256 "$work/policy.dat" 2>/dev/null)" ] &&
        echo "ok: policy-pcr equals tpm2_policypcr's trial digest ($ours)" ||
        { echo "FAIL: policy-pcr $ours differs from tpm2_policypcr's $(xxd -p -c 256 "$work/policy.dat" 2>/dev/null)"; fails=$((fails + 1)); }
expect 0 "policy-pcr --json, sha1 bank" "$shield" tpm policy-pcr --pcrs "$work/now.pcrs.json" --pcr-list 7 --bank sha1 --json
contains '"policy_digest": "[0-9a-f]{64}"' "a SHA-256 policy digest over the sha1 bank"
expect 2 "policy-pcr of a PCR the file lacks" "$shield" tpm policy-pcr --pcrs "$work/now.pcrs.json" --pcr-list 7 --bank sha512
expect 2 "policy-pcr without --pcr-list" "$shield" tpm policy-pcr --pcrs "$work/now.pcrs.json"
# A key sealed to that policy, certified by the AK; checked in software, and by tpm2-tools.
policy=$ours
seal_nonce=$(openssl rand -hex 16)
expect 0 "seal-key" "$shield" tpm seal-key --tcti "$tcti" --policy "$policy" --nonce "$seal_nonce" -o "$work/seal"
tpm2_readpublic -c 0x81010002 -o "$work/seal-ak.pub" >/dev/null 2>&1
expect 0 "verify-seal-key: bound to this TPM and this policy" "$shield" tpm verify-seal-key --ak-pub "$work/seal-ak.pub" \
        --dir "$work/seal" --nonce "$seal_nonce" --policy "$policy"
tpm2_print -t TPM2B_PUBLIC "$work/seal/key.pub" >"$work/seal-pub.txt" 2>&1
grep -qi "authorization policy: *$policy" "$work/seal-pub.txt" && echo "ok: tpm2_print shows the key's authPolicy = the PCR policy" ||
        { echo "FAIL: tpm2_print's authPolicy"; sed 's/^/  | /' "$work/seal-pub.txt"; fails=$((fails + 1)); }
grep -q "userwithauth" "$work/seal-pub.txt" && { echo "FAIL: the sealing key has userwithauth"; fails=$((fails + 1)); } ||
        echo "ok: no userwithauth: only the policy authorises its use"
tpm2_print -t TPMS_ATTEST "$work/seal/certify.attest" >"$work/seal-att.txt" 2>&1
# tpm2-tools 5.4 prints a certification's header only: TPM_ST_ATTEST_CERTIFY (0x8017) over our nonce; the
# certified name (TPMS_CERTIFY_INFO, Part 2, 10.12.3) follows as a TPM2B_NAME.
grep -q "type: 8017" "$work/seal-att.txt" && grep -q "extraData: $seal_nonce" "$work/seal-att.txt" &&
        xxd -p -c 100000 "$work/seal/certify.attest" | grep -q "0022$(xxd -p -c 256 "$work/seal/key.name")" &&
        echo "ok: tpm2_print: a TPM_ST_ATTEST_CERTIFY over the nonce, of the key's name" ||
        { echo "FAIL: tpm2_print of the certification"; sed 's/^/  | /' "$work/seal-att.txt" | head -20; fails=$((fails + 1)); }
expect 1 "verify-seal-key with another policy" "$shield" tpm verify-seal-key --ak-pub "$work/seal-ak.pub" --dir "$work/seal" \
        --nonce "$seal_nonce" --policy "$(printf '%064d' 0)"
contains "sealing-policy-mismatch" "reason sealing-policy-mismatch"
expect 1 "verify-seal-key with another nonce" "$shield" tpm verify-seal-key --ak-pub "$work/seal-ak.pub" --dir "$work/seal" \
        --nonce 00ff --policy "$policy"
contains "certify-nonce-mismatch" "reason certify-nonce-mismatch"
cp "$work/seal/certify.attest" "$work/att.good"; printf '\x00' | dd of="$work/seal/certify.attest" bs=1 seek=40 conv=notrunc status=none
expect 1 "verify-seal-key of an edited certification" "$shield" tpm verify-seal-key --ak-pub "$work/seal-ak.pub" --dir "$work/seal" \
        --nonce "$seal_nonce" --policy "$policy"
contains "certify-" "an edited certification is refused"
cp "$work/att.good" "$work/seal/certify.attest"
# Sealed data: opened in the sealed state, refused once a PCR of the policy moved.
printf 'machine credential' >"$work/secret.txt"
expect 0 "seal (no TPM)" env -u TPM2TOOLS_TCTI "$shield" tpm seal --key "$work/seal" --in "$work/secret.txt" -o "$work/secret.sealed"
expect 0 "unseal in the sealed state" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" --pcr-list 0,2,4-7 \
        --in "$work/secret.sealed" -o "$work/secret.out"
cmp -s "$work/secret.txt" "$work/secret.out" && echo "ok: the data comes back" || { echo "FAIL: unsealed data differs"; fails=$((fails + 1)); }
[ "$(stat -c %a "$work/secret.out")" = 600 ] && echo "ok: written 0600" || { echo "FAIL: unsealed data not 0600"; fails=$((fails + 1)); }
cp "$work/secret.sealed" "$work/edited.sealed"; printf '\x01' | dd of="$work/edited.sealed" bs=1 seek=300 conv=notrunc status=none
expect 1 "an edited sealed blob is refused" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" --pcr-list 0,2,4-7 \
        --in "$work/edited.sealed" -o "$work/edited.out"
tpm2_pcrextend "4:sha256=$(printf 'another bootloader' | sha256sum | cut -c1-64)" >/dev/null 2>&1
expect 1 "unseal after PCR 4 moved: the TPM refuses" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" --pcr-list 0,2,4-7 \
        --in "$work/secret.sealed" -o "$work/secret2.out"
contains "not the state the key is sealed to" "says the PCRs are not the sealed state"
[ ! -e "$work/secret2.out" ] && echo "ok: nothing written" || { echo "FAIL: unseal wrote data"; fails=$((fails + 1)); }
tpm2_getcap handles-transient >"$work/out" 2>&1
[ -s "$work/out" ] && { echo "FAIL: transient objects left"; cat "$work/out"; fails=$((fails + 1)); } || echo "ok: no transient objects left"
finish
