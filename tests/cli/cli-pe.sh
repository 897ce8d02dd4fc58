#!/bin/bash
# shield pe: the Authenticode hash against pesign -h, signatures against
# sbverify, on Debian's signed shim and grub and on images we sign with sbsign.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=${SHIELD_SOURCE_ROOT:?}
. "$(dirname "$0")/fetch-debian-efi.sh"

expect 0 "pe hash --help" "$shield" pe hash --help
expect 0 "pe show --help" "$shield" pe show --help
expect 2 "not a PE" "$shield" pe hash /etc/hostname
contains "MZ" "the problem is named"

images=()
if "$root/efi/build.sh" "$work/efi" >/dev/null 2>&1 && command -v sbsign >/dev/null; then
        "$shield" keys generate --out "$work/k" >/dev/null 2>&1
        sbsign --key "$work/k/db.key" --cert "$work/k/db.crt" --output "$work/signed.efi" "$work/efi/shield-dump.efi" 2>/dev/null
        images+=("$work/efi/shield-dump.efi" "$work/signed.efi")
fi
[ $have_debian_efi = 1 ] && images+=("$debian_efi/shimx64.efi.signed" "$debian_efi/grubx64.efi.signed") ||
        echo "skip: Debian's shim/grub could not be downloaded"
if command -v pesign >/dev/null; then
        for img in "${images[@]}"; do
                ours=$("$shield" pe hash "$img" | cut -d' ' -f1)
                theirs=$(pesign -h -i "$img" 2>/dev/null | awk '{print $NF}')
                [ -n "$ours" ] && [ "$ours" = "$theirs" ] && echo "ok: pe hash = pesign -h for $(basename "$img")" ||
                        { echo "FAIL: $(basename "$img"): $ours vs pesign $theirs"; fails=$((fails + 1)); }
        done
fi
if [ -f "$work/signed.efi" ]; then
        expect 0 "pe show a signed image" "$shield" pe show "$work/signed.efi"
        contains "signer CN=Shieldkit db" "the signer is named"
        contains "matches the image" "the signed digest matches"
        sbverify --cert "$work/k/db.crt" "$work/signed.efi" >/dev/null 2>&1 && echo "ok: sbverify agrees the signature is good" ||
                { echo "FAIL: sbverify"; fails=$((fails + 1)); }
        expect 0 "pe show --json" "$shield" pe show --json "$work/signed.efi"
        is_json "pe show --json"
        # Patch one byte inside a section: the signature no longer signs this image.
        cp "$work/signed.efi" "$work/patched.efi"
        printf '\x90' | dd of="$work/patched.efi" bs=1 seek=$((0x1000 + 16)) conv=notrunc status=none
        expect 1 "a patched image no longer matches its signature" "$shield" pe show "$work/patched.efi"
        contains "DOES NOT match" "the mismatch is named"
        # A certificate table that runs past the end of the file.
        head -c $(( $(stat -c %s "$work/signed.efi") - 100 )) "$work/signed.efi" >"$work/cut.efi"
        expect 2 "a cut certificate table" "$shield" pe show "$work/cut.efi"
        contains "certificate table" "the certificate table is named"
fi
if [ -f "$work/signed.efi" ]; then
        expect 0 "pe sign --help" "$shield" pe sign --help
        expect 0 "pe sign" "$shield" pe sign --key "$work/k/db.key" --cert "$work/k/db.crt" "$work/efi/shield-dump.efi" -o "$work/ours.efi"
        sbverify --cert "$work/k/db.crt" "$work/ours.efi" >/dev/null 2>&1 && echo "ok: sbverify accepts our signature" ||
                { echo "FAIL: sbverify rejects our signature"; fails=$((fails + 1)); }
        ours=$("$shield" pe hash "$work/ours.efi" | cut -d' ' -f1)
        [ "$ours" = "$(pesign -h -i "$work/ours.efi" 2>/dev/null | awk '{print $NF}')" ] && echo "ok: pesign agrees on the signed image's hash" ||
                { echo "FAIL: hash of our signed image"; fails=$((fails + 1)); }
        "$shield" keys generate --out "$work/k2" >/dev/null 2>&1
        expect 0 "pe sign --append" "$shield" pe sign --key "$work/k2/db.key" --cert "$work/k2/db.crt" --append "$work/ours.efi" -o "$work/two.efi"
        [ "$(sbverify --list "$work/two.efi" 2>/dev/null | grep -c '^signature ')" = 2 ] && echo "ok: two signatures after --append" ||
                { echo "FAIL: --append did not keep the first signature"; fails=$((fails + 1)); }
        sbverify --cert "$work/k/db.crt" "$work/two.efi" >/dev/null 2>&1 && sbverify --cert "$work/k2/db.crt" "$work/two.efi" >/dev/null 2>&1 &&
                echo "ok: both signatures verify" || { echo "FAIL: a signature no longer verifies"; fails=$((fails + 1)); }
        expect 0 "pe sign without --append replaces" "$shield" pe sign --key "$work/k2/db.key" --cert "$work/k2/db.crt" "$work/two.efi" -o "$work/one.efi"
        [ "$(sbverify --list "$work/one.efi" 2>/dev/null | grep -c '^signature ')" = 1 ] && echo "ok: one signature after replacing" ||
                { echo "FAIL: replace"; fails=$((fails + 1)); }
        expect 2 "a key that does not match the certificate" "$shield" pe sign --key "$work/k2/db.key" --cert "$work/k/db.crt" "$work/efi/shield-dump.efi" -o "$work/x.efi"
fi
if [ $have_debian_efi = 1 ]; then
        expect 0 "pe show shim" "$shield" pe show "$debian_efi/shimx64.efi.signed"
        contains "Microsoft Corporation UEFI CA 2011" "shim is signed through the Microsoft UEFI CA 2011"
fi
finish
