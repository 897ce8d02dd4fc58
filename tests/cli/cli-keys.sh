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
guid=$(cat "$work/keys/owner.guid")
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
expect 0 "siglist show" "$shield" siglist show "$work/mine.esl"
contains "X509 +CN=Test Owner db" "show names the certificate"
expect 0 "siglist show --json" "$shield" siglist show --json "$work/mine.esl"
is_json "siglist show --json"
expect 2 "create with a bad hash" "$shield" siglist create --sha256 abcd -o "$work/x.esl"
expect 2 "create with a non-certificate" "$shield" siglist create --x509 /etc/hostname -o "$work/x.esl"
head -c 40 "$work/mine.esl" >"$work/cut.esl"
expect 2 "a truncated list" "$shield" siglist show "$work/cut.esl"
contains "offset [0-9]+ \(0x[0-9a-f]+\)" "the offset is named"
if have_data uefi-ms; then
        expect 0 "Microsoft's signed DBX update" "$shield" siglist show "$data/uefi-ms/dbx/DBXUpdate-amd64.bin"
        contains "signed update" "the AUTHENTICATION_2 wrapper is recognised"
        contains "[0-9]+ hashes" "its hashes are counted"
fi
finish
