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
if [ $have_debian_efi = 1 ]; then
        expect 0 "pe show shim" "$shield" pe show "$debian_efi/shimx64.efi.signed"
        contains "Microsoft Corporation UEFI CA 2011" "shim is signed through the Microsoft UEFI CA 2011"
fi
finish
