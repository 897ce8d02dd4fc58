#!/bin/bash
# shield authvar: our updates, efitools' updates and Microsoft's signed DBX update.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

"$shield" keys generate --out "$work/k" >/dev/null 2>&1
"$shield" keys generate --out "$work/o" >/dev/null 2>&1
"$shield" siglist create --x509 "$work/k/db.der" -o "$work/db.esl" >/dev/null
expect 0 "authvar sign --help" "$shield" authvar sign --help
expect 0 "authvar verify --help" "$shield" authvar verify --help
expect 2 "sign: unknown variable" "$shield" authvar sign --var Boot0000 --key "$work/k/KEK.key" --cert "$work/k/KEK.crt" --esl "$work/db.esl" -o "$work/x.auth"
expect 2 "sign: key of another certificate" "$shield" authvar sign --var db --key "$work/o/KEK.key" --cert "$work/k/KEK.crt" --esl "$work/db.esl" -o "$work/x.auth"
contains "does not belong" "the mismatch is named"
expect 2 "sign: data is not a signature list" "$shield" authvar sign --var db --key "$work/k/KEK.key" --cert "$work/k/KEK.crt" --esl /etc/hostname -o "$work/x.auth"
expect 0 "sign a db update with the KEK" "$shield" authvar sign --var db --key "$work/k/KEK.key" --cert "$work/k/KEK.crt" \
        --esl "$work/db.esl" --time "2026-01-02 03:04:05" -o "$work/db.auth"
expect 0 "verify it with the KEK" "$shield" authvar verify "$work/db.auth" --cert "$work/k/KEK.der" --var db
expect 1 "another key does not verify it" "$shield" authvar verify "$work/db.auth" --cert "$work/o/KEK.der"
expect 1 "it does not verify as a dbx update" "$shield" authvar verify "$work/db.auth" --cert "$work/k/KEK.der" --var dbx
expect 0 "siglist show unwraps it" "$shield" siglist show "$work/db.auth"
contains "signed update" "recognised as a signed update"
# Change one byte of the signed data: no longer verifies.
cp "$work/db.auth" "$work/bad.auth"
size=$(stat -c %s "$work/bad.auth")
printf '\x00' | dd of="$work/bad.auth" bs=1 seek=$((size - 1)) conv=notrunc status=none
expect 1 "an altered update fails" "$shield" authvar verify "$work/bad.auth" --cert "$work/k/KEK.der"
head -c 30 "$work/db.auth" >"$work/cut.auth"
expect 2 "a truncated update" "$shield" authvar verify "$work/cut.auth" --cert "$work/k/KEK.der"
if command -v sign-efi-sig-list >/dev/null; then
        sign-efi-sig-list -t "2026-01-02 03:04:05" -k "$work/k/KEK.key" -c "$work/k/KEK.crt" db "$work/db.esl" "$work/efitools.auth" >/dev/null 2>&1
        expect 0 "efitools' sign-efi-sig-list update verifies" "$shield" authvar verify "$work/efitools.auth" --cert "$work/k/KEK.der" --var db
        cmp -s <(head -c 16 "$work/efitools.auth") <(head -c 16 "$work/db.auth") && echo "ok: the same EFI_TIME as efitools" ||
                { echo "FAIL: EFI_TIME differs from efitools"; fails=$((fails + 1)); }
        cmp -s <(tail -c "$(stat -c %s "$work/db.esl")" "$work/efitools.auth") "$work/db.esl" && echo "ok: the same payload as efitools" ||
                { echo "FAIL: payload differs"; fails=$((fails + 1)); }
fi
if have_data uefi-ms; then
        expect 0 "Microsoft's DBX update verifies with the Microsoft KEK CA 2011" "$shield" authvar verify \
                "$data/uefi-ms/dbx/DBXUpdate-amd64.bin" --cert "$data/uefi-ms/certs/MicCorKEKCA2011_2011-06-24.der"
        contains "dbx \(append\) update" "an append to dbx"
        expect 1 "not with the Windows PCA" "$shield" authvar verify "$data/uefi-ms/dbx/DBXUpdate-amd64.bin" \
                --cert "$data/uefi-ms/certs/MicWinProPCA2011_2011-10-19.der"
fi
finish
