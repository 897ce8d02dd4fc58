#!/bin/bash
# shield sb check: the firmware's decision, offline, on real binaries.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=${SHIELD_SOURCE_ROOT:?}
. "$(dirname "$0")/fetch-debian-efi.sh"

expect 0 "sb check --help" "$shield" sb check --help
"$root/efi/build.sh" "$work/efi" >/dev/null 2>&1 || { echo "SKIP: gnu-efi missing"; exit 77; }
command -v sbsign >/dev/null || { echo "SKIP: sbsign missing"; exit 77; }
"$shield" keys generate --out "$work/k" >/dev/null 2>&1
"$shield" keys generate --out "$work/other" >/dev/null 2>&1
efi=$work/efi/shield-dump.efi
sbsign --key "$work/k/db.key" --cert "$work/k/db.crt" --output "$work/signed.efi" "$efi" 2>/dev/null
sbsign --key "$work/other/db.key" --cert "$work/other/db.crt" --output "$work/other.efi" "$efi" 2>/dev/null

expect 2 "no database" "$shield" sb check "$work/signed.efi"
expect 2 "two sources" "$shield" sb check "$work/signed.efi" --db "$work/k/db.der" --varstore /dev/null
expect 0 "signed with a db key" "$shield" sb check "$work/signed.efi" --db "$work/k/db.der"
contains '^SB_EVENT: \{ "status": "Pass", "msg": "The EFI executable loaded successfully", "EFI_Image_Type" : "FromFixedMedia", "EFI_Image_Path" : "[^"]*/signed.efi", "SB_Variable_Match" : "DB_CERT_MATCH", "CertSubject" : "Shieldkit db", "ImageDigest" : "[0-9A-F]{64}" \}$' "Pass line in the firmware's shape"
expect 1 "unsigned" "$shield" sb check "$efi" --db "$work/k/db.der"
contains '"status": "Fail", "msg": "The EFI executable failed to load. It.s not signed, or the signature \(or hash\) did not match entries in DB", "EFI_Image_Type" : "FromFixedMedia", "EFI_Image_Path": "[^"]*", "SB_Variable_Match" : "NO_CERT_MATCH"' "Fail line, NO_CERT_MATCH"
contains "not signed" "unsigned is named"
expect 1 "signed by a key not in db" "$shield" sb check "$work/other.efi" --db "$work/k/db.der"
contains "does not chain" "the stranger is named"
hash=$("$shield" pe hash "$efi" | cut -d' ' -f1)
"$shield" siglist create --sha256 "$hash" -o "$work/h.esl" >/dev/null
expect 0 "unsigned but its hash in db" "$shield" sb check "$efi" --db "$work/h.esl"
contains "DB_HASH_MATCH" "DB_HASH_MATCH"
shash=$("$shield" pe hash "$work/signed.efi" | cut -d' ' -f1)
"$shield" siglist create --sha256 "$shash" -o "$work/sh.esl" >/dev/null
expect 1 "signed, but its hash in dbx" "$shield" sb check "$work/signed.efi" --db "$work/k/db.der" --dbx "$work/sh.esl"
contains "DBX_HASH_MATCH" "DBX_HASH_MATCH"
expect 1 "signed, its signer in dbx" "$shield" sb check "$work/signed.efi" --db "$work/k/db.der" --dbx "$work/k/db.der"
contains "DBX_CERT_MATCH" "DBX_CERT_MATCH"
"$shield" varstore create --pk "$work/k/PK.der" --db "$work/k/db.der" -o "$work/VARS.fd" >/dev/null
expect 0 "db from a variable store" "$shield" sb check "$work/signed.efi" --varstore "$work/VARS.fd"
expect 1 "several images: one fails" "$shield" sb check "$work/signed.efi" "$efi" --varstore "$work/VARS.fd"
contains "^$work/signed.efi: SB_EVENT: \\{ \"status\": \"Pass\"" "several images: each line names its file first"
contains "^$efi: SB_EVENT: \\{ \"status\": \"Fail\"" "the second file's line"
expect 1 "several images, --json" "$shield" sb check "$work/signed.efi" "$efi" --varstore "$work/VARS.fd" --json
is_json "sb check --json"
if python3 -c '
import json, sys
a = json.loads(sys.stdin.read())
assert [o["File"] for o in a] == sys.argv[1:3], a
assert list(a[0])[:8] == ["File", "status", "msg", "EFI_Image_Type", "EFI_Image_Path", "SB_Variable_Match", "CertSubject", "ImageDigest"], a[0]
assert a[0]["status"] == "Pass" and a[1]["status"] == "Fail" and a[1]["SB_Variable_Match"] == "NO_CERT_MATCH", a
' "$work/signed.efi" "$efi" <"$work/out"; then
        echo "ok: --json: one SB_EVENT object per file, File first"
else
        echo "FAIL: --json objects"; fails=$((fails + 1))
fi

if [ $have_debian_efi = 1 ]; then
        ovmf_ms=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
        if [ -f $ovmf_ms ]; then
                expect 0 "Debian's shim under the Microsoft keys of Debian's OVMF store" \
                        "$shield" sb check "$debian_efi/shimx64.efi.signed" --varstore $ovmf_ms
                contains '"CertSubject" : "Microsoft Corporation UEFI CA 2011"' "shim chains to the Microsoft UEFI CA 2011"
        fi
        expect 1 "shim under custom keys" "$shield" sb check "$debian_efi/shimx64.efi.signed" --db "$work/k/db.der"
        expect 1 "grub is for shim to verify, not the firmware" "$shield" sb check "$debian_efi/grubx64.efi.signed" \
                --varstore "$work/VARS.fd"
        if have_data uefi-ms; then
                m=$data/uefi-ms/certs
                expect 1 "shim when the Microsoft UEFI CA is revoked" "$shield" sb check "$debian_efi/shimx64.efi.signed" \
                        --db "$m/MicCorUEFCA2011_2011-06-27.der" --dbx "$m/MicCorUEFCA2011_2011-06-27.der"
                contains "DBX_CERT_MATCH" "revoked by certificate"
        fi
fi
# Two signatures (sbsign, then sbattach adds a second one made by sbsign with
# another key): edk2 passes the image when one signature chains to db, and
# refuses it as soon as any signature is revoked, whatever the order.
sbsign --key "$work/other/db.key" --cert "$work/other/db.crt" --detached --output "$work/other.p7" "$work/signed.efi" 2>/dev/null
cp "$work/signed.efi" "$work/two.efi"
if sbattach --attach "$work/other.p7" "$work/two.efi" >/dev/null 2>&1 &&
        [ "$(sbverify --list "$work/two.efi" 2>/dev/null | grep -c '^signature ')" = 2 ]; then
        expect 0 "two signatures, the first in db" "$shield" sb check "$work/two.efi" --db "$work/k/db.der"
        contains "DB_CERT_MATCH" "DB_CERT_MATCH through the first signature"
        expect 0 "two signatures, the second in db" "$shield" sb check "$work/two.efi" --db "$work/other/db.der"
        expect 1 "two signatures, the first passes but the second is revoked" "$shield" sb check "$work/two.efi" \
                --db "$work/k/db.der" --dbx "$work/other/db.der"
        contains '"SB_Variable_Match" : "DBX_CERT_MATCH", "CertSubject" : "Shieldkit db"' "the revoked second signature decides"
        contains "revoked in DBX" "the refusal says revoked"
        expect 1 "two signatures, the first revoked" "$shield" sb check "$work/two.efi" --db "$work/other/db.der" \
                --dbx "$work/k/db.der"
        contains "DBX_CERT_MATCH" "the revoked first signature decides"
else
        echo "skip: sbattach could not add a second signature"
fi

# dbx by TBS hash of the signer (EFI_CERT_X509_SHA256/384/512, made by efitools).
if command -v cert-to-efi-hash-list >/dev/null; then
        for bits in 256 384 512; do
                cert-to-efi-hash-list -s $bits "$work/k/db.crt" "$work/tbs$bits.esl" >/dev/null 2>&1
                expect 1 "signer revoked by its X509_SHA$bits TBS hash" "$shield" sb check "$work/signed.efi" \
                        --db "$work/k/db.der" --dbx "$work/tbs$bits.esl"
                contains '"SB_Variable_Match" : "DBX_CERT_MATCH"' "a TBS hash revocation is DBX_CERT_MATCH ($bits)"
                contains "TBS hash is in dbx" "the reason names the TBS hash ($bits)"
        done
fi

# A signed image changed after signing: the signature no longer signs it.
cp "$work/signed.efi" "$work/patched.efi"
printf '\x90' | dd of="$work/patched.efi" bs=1 seek=$((0x1000 + 16)) conv=notrunc status=none
expect 1 "patched after signing" "$shield" sb check "$work/patched.efi" --db "$work/k/db.der"
contains "NO_CERT_MATCH" "NO_CERT_MATCH for a changed image"
contains "different digest" "the digest mismatch is named"
expect 2 "not a PE image" "$shield" sb check /etc/hostname --db "$work/k/db.der"
expect 2 "a db file that is nothing known" "$shield" sb check "$work/signed.efi" --db /etc/hostname

if [ $have_debian_efi = 1 ] && have_data uefi-ms; then
        shim=$debian_efi/shimx64.efi.signed
        m=$data/uefi-ms/certs
        ca2011=$m/MicCorUEFCA2011_2011-06-27.der
        expect 0 "shim with db = Microsoft UEFI CA 2011" "$shield" sb check "$shim" --db "$ca2011"
        contains '^SB_EVENT: \{ "status": "Pass", "msg": "The EFI executable loaded successfully", "EFI_Image_Type" : "FromFixedMedia", "EFI_Image_Path" : "[^"]*", "SB_Variable_Match" : "DB_CERT_MATCH", "CertSubject" : "Microsoft Corporation UEFI CA 2011"' \
                "shim: Pass, DB_CERT_MATCH, the Microsoft UEFI CA 2011"
        shim_hash=$(pesign -h -i "$shim" 2>/dev/null | awk '{print $NF}')
        contains "\"ImageDigest\" : \"$(printf %s "$shim_hash" | tr a-f A-F)\"" "ImageDigest is pesign's hash, upper case"
        expect 0 "shim with db = Microsoft UEFI CA 2011 and Microsoft's signed DBX update" "$shield" sb check "$shim" \
                --db "$ca2011" --dbx "$data/uefi-ms/dbx/DBXUpdate-amd64.bin"
        expect 1 "shim with a custom db" "$shield" sb check "$shim" --db "$work/k/db.der"
        contains '"status": "Fail".*"SB_Variable_Match" : "NO_CERT_MATCH"' "shim under custom keys: NO_CERT_MATCH"
        "$shield" siglist create --sha256 "$shim_hash" -o "$work/shim-hash.esl" >/dev/null
        expect 1 "shim whose hash is in dbx" "$shield" sb check "$shim" --db "$ca2011" --dbx "$work/shim-hash.esl"
        contains '"status": "Fail".*"SB_Variable_Match" : "DBX_HASH_MATCH"' "shim revoked by hash: DBX_HASH_MATCH"
        # Debian's shim carries two signatures: Microsoft UEFI CA 2011 and 2023.
        if [ -f "$m/microsoft-uefi-ca-2023.der" ]; then
                expect 0 "shim with db = Microsoft UEFI CA 2023 (its second signature)" "$shield" sb check "$shim" \
                        --db "$m/microsoft-uefi-ca-2023.der"
                contains '"CertSubject" : "Microsoft UEFI CA 2023"' "the 2023 CA is named"
                expect 1 "shim when its 2023 signature is revoked, though the 2011 one is in db" "$shield" sb check "$shim" \
                        --db "$ca2011" --dbx "$m/microsoft-uefi-ca-2023.der"
                contains "DBX_CERT_MATCH" "revoked through the second signature"
        fi
        if command -v cert-to-efi-hash-list >/dev/null; then
                openssl x509 -inform DER -in "$ca2011" -out "$work/ca2011.pem" 2>/dev/null
                cert-to-efi-hash-list -s 384 "$work/ca2011.pem" "$work/ca2011-384.esl" >/dev/null 2>&1
                expect 1 "shim when the UEFI CA 2011 is revoked by its X509_SHA384 TBS hash" "$shield" sb check "$shim" \
                        --db "$ca2011" --dbx "$work/ca2011-384.esl"
                contains "DBX_CERT_MATCH" "a TBS hash revocation on a real chain: DBX_CERT_MATCH"
                contains "TBS hash is in dbx" "the reason names the TBS hash"
        fi
fi
finish
