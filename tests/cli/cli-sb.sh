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
contains '^SB_EVENT: \{"status":"Pass","msg":"The EFI executable loaded successfully","SB_Variable_Match":"DB_CERT_MATCH","CertSubject":"CN=Shieldkit db","ImageDigest":"[0-9a-f]{64}"\}$' "Pass line in the firmware's shape"
expect 1 "unsigned" "$shield" sb check "$efi" --db "$work/k/db.der"
contains '"status":"Fail","msg":"The EFI executable failed to load. It.s not signed, or the signature \(or hash\) did not match entries in DB","SB_Variable_Match":"NO_CERT_MATCH"' "Fail line, NO_CERT_MATCH"
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
expect 1 "several images: one fails" "$shield" sb check "$work/signed.efi" "$efi" --varstore "$work/VARS.fd" --json
is_json "sb check --json"

if [ $have_debian_efi = 1 ]; then
        ovmf_ms=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
        if [ -f $ovmf_ms ]; then
                expect 0 "Debian's shim under the Microsoft keys of Debian's OVMF store" \
                        "$shield" sb check "$debian_efi/shimx64.efi.signed" --varstore $ovmf_ms
                contains '"CertSubject":"CN=Microsoft Corporation UEFI CA 2011' "shim chains to the Microsoft UEFI CA 2011"
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
finish
