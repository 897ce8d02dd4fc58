#!/bin/bash
# shield keys and shield siglist, checked with openssl and efitools.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

expect 0 "keys generate --help" "$shield" keys generate --help
contains "^Usage: shield keys generate" "synopsis"
expect 2 "generate without --out" "$shield" keys generate
expect 2 "unknown --algo" "$shield" keys generate --out "$work/x" --algo dsa
expect 0 "keys generate" "$shield" keys generate --out "$work/keys" --cn-prefix "Test Owner"
for k in PK KEK db; do
        [ "$(stat -c %a "$work/keys/$k.key")" = 600 ] && echo "ok: $k.key is 0600" || { echo "FAIL: $k.key mode"; fails=$((fails + 1)); }
        openssl x509 -inform DER -in "$work/keys/$k.der" -noout -subject >"$work/out" 2>&1
        contains "CN ?= ?Test Owner $k" "$k.der is a DER certificate for 'Test Owner $k' (openssl)"
        openssl x509 -in "$work/keys/$k.crt" -noout -text >"$work/out" 2>&1
        contains "Public-Key: \(2048 bit\)" "$k.crt is PEM, RSA-2048 (openssl)"
        contains "sha256WithRSAEncryption" "$k is signed with SHA-256"
        openssl pkey -in "$work/keys/$k.key" -pubout >"$work/pub1" 2>/dev/null
        openssl x509 -in "$work/keys/$k.crt" -pubkey -noout >"$work/pub2"
        cmp -s "$work/pub1" "$work/pub2" && echo "ok: $k.key matches $k.crt" || { echo "FAIL: $k key/cert mismatch"; fails=$((fails + 1)); }
done
openssl x509 -inform DER -in "$work/keys/PK.der" -noout -text >"$work/out" 2>&1
contains "CA:TRUE" "the certificates are CA certificates"
contains "Issuer: CN ?= ?Test Owner PK" "self-signed: the issuer is the subject"
openssl x509 -inform DER -in "$work/keys/PK.der" -noout -checkend $((3649 * 86400)) >/dev/null &&
        ! openssl x509 -inform DER -in "$work/keys/PK.der" -noout -checkend $((3651 * 86400)) >/dev/null &&
        echo "ok: valid for ten years" || { echo "FAIL: validity is not ten years"; fails=$((fails + 1)); }
openssl verify -CAfile "$work/keys/PK.crt" "$work/keys/PK.crt" >/dev/null 2>&1 && echo "ok: PK.crt verifies against itself" ||
        { echo "FAIL: PK.crt is not self-signed"; fails=$((fails + 1)); }
s1=$(openssl x509 -in "$work/keys/PK.crt" -noout -serial)
s2=$(openssl x509 -in "$work/keys/KEK.crt" -noout -serial)
[ "$s1" != "$s2" ] && echo "ok: random serials" || { echo "FAIL: serials repeat"; fails=$((fails + 1)); }
grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$work/keys/owner.guid" &&
        echo "ok: owner.guid is a random (version 4) GUID" || { echo "FAIL: owner.guid"; fails=$((fails + 1)); }
guid=$(cat "$work/keys/owner.guid")
for algo in rsa3072 rsa4096; do
        expect 0 "keys generate --algo $algo" "$shield" keys generate --out "$work/$algo" --algo "$algo"
        openssl pkey -in "$work/$algo/db.key" -noout -text >"$work/out" 2>&1
        contains "Private-Key: \(${algo#rsa} bit" "openssl reads a ${algo#rsa}-bit key"
done
"$shield" keys generate --out "$work/j" --json >"$work/out" 2>/dev/null
is_json "keys generate --json (stdout)"
expect 2 "no silent overwrite" "$shield" keys generate --out "$work/keys"
contains "without --force" "the refusal says why"
expect 0 "--force replaces" "$shield" keys generate --out "$work/keys" --force --algo ec-p256 --cn-prefix "Test Owner"
[ "$(cat "$work/keys/owner.guid")" = "$guid" ] && echo "ok: the owner GUID is kept" || { echo "FAIL: owner GUID changed"; fails=$((fails + 1)); }
openssl x509 -in "$work/keys/db.crt" -noout -text >"$work/out" 2>&1
contains "prime256v1|P-256" "--algo ec-p256"

# siglist create equals efitools byte for byte.
expect 0 "siglist create" "$shield" siglist create --x509 "$work/keys/db.der" --x509 "$work/keys/KEK.crt" --owner "$guid" -o "$work/mine.esl"
if command -v cert-to-efi-sig-list >/dev/null; then
        cert-to-efi-sig-list -g "$guid" "$work/keys/db.crt" "$work/a.esl" >/dev/null
        cert-to-efi-sig-list -g "$guid" "$work/keys/KEK.crt" "$work/b.esl" >/dev/null
        cat "$work/a.esl" "$work/b.esl" | cmp -s - "$work/mine.esl" && echo "ok: identical to cert-to-efi-sig-list" ||
                { echo "FAIL: differs from cert-to-efi-sig-list"; fails=$((fails + 1)); }
        printf 'MZ' >"$work/tiny"
        if [ -x "$SHIELD_SOURCE_ROOT/efi/build.sh" ] && "$SHIELD_SOURCE_ROOT/efi/build.sh" "$work/efi" >/dev/null 2>&1; then
                hash-to-efi-sig-list "$work/efi/shield-dump.efi" "$work/h.esl" >/dev/null
                h=$(xxd -p -s 44 -c 32 "$work/h.esl" | head -1)
                # hash-to-efi-sig-list always uses shim's GUID as the owner.
                "$shield" siglist create --sha256 "$h" --owner 605dab50-e046-4300-abb6-3dd810dd8b23 -o "$work/mh.esl" >/dev/null
                cmp -s "$work/h.esl" "$work/mh.esl" && echo "ok: identical to hash-to-efi-sig-list" ||
                        { echo "FAIL: differs from hash-to-efi-sig-list"; fails=$((fails + 1)); }
        fi
else
        echo "skip: efitools not installed"
fi
# --sha256-of: the Authenticode hash of PE images, all in one SHA256 list, as hash-to-efi-sig-list makes it.
efi=/usr/lib/efitools/x86_64-linux-gnu
if command -v hash-to-efi-sig-list >/dev/null && [ -r "$efi/HelloWorld.efi" ] && [ -r "$efi/KeyTool.efi" ]; then
        shim_guid=605dab50-e046-4300-abb6-3dd810dd8b23 # hash-to-efi-sig-list's fixed owner
        hash-to-efi-sig-list "$efi/HelloWorld.efi" "$efi/KeyTool.efi" "$work/ht.esl" >/dev/null
        expect 0 "siglist create --sha256-of" "$shield" siglist create --sha256-of "$efi/HelloWorld.efi" \
                --sha256-of "$efi/KeyTool.efi" --owner "$shim_guid" -o "$work/mt.esl"
        cmp -s "$work/ht.esl" "$work/mt.esl" && echo "ok: --sha256-of is identical to hash-to-efi-sig-list" ||
                { echo "FAIL: --sha256-of differs from hash-to-efi-sig-list"; fails=$((fails + 1)); }
        # Certificates first (one list each), then every hash in one list, whatever the order given.
        cert-to-efi-sig-list -g "$shim_guid" "$work/keys/db.crt" "$work/c.esl" >/dev/null
        expect 0 "siglist create, hashes and a certificate" "$shield" siglist create --sha256-of "$efi/HelloWorld.efi" \
                --x509 "$work/keys/db.der" --sha256-of "$efi/KeyTool.efi" --owner "$shim_guid" -o "$work/mix.esl"
        cat "$work/c.esl" "$work/ht.esl" | cmp -s - "$work/mix.esl" && echo "ok: the grouping is efitools'" ||
                { echo "FAIL: mixed lists differ from efitools"; fails=$((fails + 1)); }
        if command -v pesign >/dev/null; then
                h=$(pesign -h -i "$efi/HelloWorld.efi" | sed -n 's/^hash: //p')
                expect 0 "siglist create --sha256 (pesign's hash)" "$shield" siglist create --sha256 "$h" \
                        --owner "$shim_guid" -o "$work/ph.esl"
                hash-to-efi-sig-list "$efi/HelloWorld.efi" "$work/h1.esl" >/dev/null
                cmp -s "$work/h1.esl" "$work/ph.esl" && echo "ok: --sha256 HEX is identical to hash-to-efi-sig-list" ||
                        { echo "FAIL: --sha256 differs"; fails=$((fails + 1)); }
        fi
else
        echo "skip: hash-to-efi-sig-list or efitools' EFI programs missing"
fi
expect 2 "--sha256-of a file that is not a PE image" "$shield" siglist create --sha256-of /etc/hostname -o "$work/x.esl"
contains "PE" "the refusal says it wants a PE image"
[ ! -e "$work/x.esl" ] && echo "ok: nothing written on failure" || { echo "FAIL: output written on failure"; fails=$((fails + 1)); }

expect 0 "siglist show" "$shield" siglist show "$work/mine.esl"
contains "X509 +CN=Test Owner db" "show names the certificate"
expect 0 "siglist show --json" "$shield" siglist show --json "$work/mine.esl"
is_json "siglist show --json"
expect 2 "create with a bad hash" "$shield" siglist create --sha256 abcd -o "$work/x.esl"
expect 2 "create with a non-certificate" "$shield" siglist create --x509 /etc/hostname -o "$work/x.esl"
head -c 40 "$work/mine.esl" >"$work/cut.esl"
expect 2 "a truncated list" "$shield" siglist show "$work/cut.esl"
contains "offset [0-9]+ \(0x[0-9a-f]+\)" "the offset is named"
# authvar sign: the PKCS#7 covers exactly the bundle efitools' sign-efi-sig-list -o writes (openssl cms verifies it).
if command -v sign-efi-sig-list >/dev/null; then
        t="2026-03-04 05:06:07"
        for v in PK KEK db dbx; do
                signer=PK
                case $v in db | dbx) signer=KEK ;; esac
                "$shield" authvar sign --var "$v" --key "$work/keys/$signer.key" --cert "$work/keys/$signer.crt" \
                        --esl "$work/mine.esl" --time "$t" -o "$work/$v.auth" >/dev/null
                sign-efi-sig-list -o -t "$t" "$v" "$work/mine.esl" "$work/$v.tbs" >/dev/null 2>&1
                python3 - "$work/$v.auth" "$work/$v.p7" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
dw = int.from_bytes(d[16:20], "little")
sd = d[40:16 + dw]  # the bare SignedData after EFI_TIME and the 24-byte WIN_CERTIFICATE_UEFI_GUID header
def hdr(tag, n):
    if n < 0x80:
        return bytes([tag, n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b
oid = bytes.fromhex("06092a864886f70d010702")  # signedData
inner = hdr(0xa0, len(sd)) + sd
open(sys.argv[2], "wb").write(hdr(0x30, len(oid) + len(inner)) + oid + inner)
PY
                if openssl cms -verify -binary -inform DER -in "$work/$v.p7" -content "$work/$v.tbs" \
                        -CAfile "$work/keys/$signer.crt" -purpose any -out /dev/null >/dev/null 2>&1; then
                        echo "ok: $v update: openssl verifies our PKCS#7 over efitools' bundle"
                else
                        echo "FAIL: $v update does not verify over efitools' bundle"; fails=$((fails + 1))
                fi
        done
        sign-efi-sig-list -a -o -t "$t" db "$work/mine.esl" "$work/dba.tbs" >/dev/null 2>&1
        "$shield" authvar sign --var db --append --key "$work/keys/KEK.key" --cert "$work/keys/KEK.crt" \
                --esl "$work/mine.esl" --time "$t" -o "$work/dba.auth" >/dev/null
        expect 0 "an --append update verifies" "$shield" authvar verify "$work/dba.auth" --cert "$work/keys/KEK.der" --var db
        contains "append" "it is named an append"
        expect 1 "a db update does not verify with the PK" "$shield" authvar verify "$work/db.auth" --cert "$work/keys/PK.der"
fi

# Round trip: create → show → resolve (no defaults needed when every value is given).
"$shield" siglist create --sha256 "$(printf y | openssl dgst -sha256 -r | cut -c1-64)" -o "$work/dbx.esl" >/dev/null
expect 0 "initial-state create with every value" "$shield" initial-state create --pk "$work/keys/PK.der" \
        --kek "$work/keys/KEK.crt" --db "$work/mine.esl" --db "$work/keys/db.crt" --dbx "$work/dbx.esl" -o "$work/is.json"
contains "warning: .*lacks the Microsoft Corporation UEFI CA" "create warns about a db without the Microsoft UEFI CA"
expect 0 "initial-state show" "$shield" initial-state show "$work/is.json"
contains "X509 +CN=Test Owner PK" "the PK is listed by subject"
contains "1 hash" "the dbx hash is counted"
expect 0 "initial-state resolve -o" "$shield" initial-state resolve "$work/is.json" -o "$work/resolved.json"
contains "warning: .*Microsoft Corporation UEFI CA" "the custom db draws the option-ROM warning"
"$shield" initial-state resolve "$work/is.json" --json >"$work/out" 2>/dev/null
is_json "resolve --json (stdout)"
cmp -s <(python3 -m json.tool --sort-keys "$work/is.json") <(python3 -m json.tool --sort-keys "$work/resolved.json") &&
        echo "ok: a complete state resolves to itself" || { echo "FAIL: resolve changed a complete state"; fails=$((fails + 1)); }
printf '{"pk": {"content": "%s", "fileType": "X509"}, "pk": {"content": "%s", "fileType": "X509"}}' \
        "$(base64 -w0 "$work/keys/PK.der")" "$(base64 -w0 "$work/keys/KEK.der")" >"$work/two.json"
expect 2 "two PKs" "$shield" initial-state show "$work/two.json"
expect 2 "create with two --pk" "$shield" initial-state create --pk "$work/keys/PK.der" --pk "$work/keys/KEK.der" -o "$work/x.json"
[ ! -e "$work/x.json" ] && echo "ok: nothing written on failure" || { echo "FAIL: output written on failure"; fails=$((fails + 1)); }

if have_data uefi-ms; then
        d=$data/uefi-ms
        echo '{}' >"$work/empty.json"
        # The platform PK the owner keeps in the state directory, used when neither the state nor --platform-pk gives one.
        export XDG_STATE_HOME=$work/state
        expect 2 "no kept platform PK yet" "$shield" initial-state resolve "$work/empty.json" --defaults "$d"
        contains "shieldkit/platform-pk" "the message says where the platform PK is kept"
        "$shield" keys generate --out "$XDG_STATE_HOME/shieldkit/platform-pk" --cn-prefix Platform >/dev/null 2>&1
        "$shield" initial-state resolve "$work/empty.json" --defaults "$d" --json >"$work/out" 2>/dev/null
        python3 - "$work/out" "$XDG_STATE_HOME/shieldkit/platform-pk/PK.der" <<'PY' && echo "ok: the kept platform PK is the default PK" || { echo "FAIL: kept platform PK"; fails=$((fails + 1)); }
import hashlib, json, sys
r = json.load(open(sys.argv[1]))
assert r["pk"][0]["sha1"] == hashlib.sha1(open(sys.argv[2], "rb").read()).hexdigest(), r["pk"]
assert "Platform PK" in r["pk"][0]["subject"]
PY
        "$shield" initial-state resolve "$work/empty.json" --defaults "$d" --platform-pk "$work/keys/PK.der" --json >"$work/out" 2>/dev/null
        grep -q "Test Owner PK" "$work/out" && echo "ok: --platform-pk wins over the kept one" || { echo "FAIL: --platform-pk"; fails=$((fails + 1)); }
        unset XDG_STATE_HOME
        # Defaults found by thumbprint, not by name: a flat directory with other names, and the dated x64 list.
        mkdir -p "$work/flat/revocationlist"
        i=0
        for c in "$d"/certs/*; do
                i=$((i + 1))
                openssl x509 -inform DER -in "$c" -out "$work/flat/cert$i.pem" 2>/dev/null
        done
        cp "$d"/revocationlist/dbxupdate_x64-*.bin "$work/flat/revocationlist/"
        "$shield" initial-state resolve "$work/empty.json" --defaults "$work/flat" --platform-pk "$work/keys/PK.der" --json \
                >"$work/out" 2>/dev/null
        python3 - "$work/out" <<'PY' && echo "ok: defaults found by thumbprint in PEM files of any name; the newest dated x64 dbx" || { echo "FAIL: flat defaults"; fails=$((fails + 1)); }
import json, sys
r = json.load(open(sys.argv[1]))
assert [e["sha1"][:8] for e in r["keks"]] == ["31590bfd"], r["keks"]
assert sorted(e["sha1"][:8] for e in r["dbs"]) == ["46def63b", "580a6f4c"], r["dbs"]
assert r["dbxs"][0]["fileType"] == "BIN" and len(r["dbxs"][0]["entries"]) > 50
PY
        expect 0 "Microsoft's signed DBX update" "$shield" siglist show "$data/uefi-ms/dbx/DBXUpdate-amd64.bin"
        contains "signed update" "the AUTHENTICATION_2 wrapper is recognised"
        contains "[0-9]+ hashes" "its hashes are counted"
fi
finish
