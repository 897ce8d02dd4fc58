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
if [ $have_debian_efi = 1 ]; then
        expect 0 "pe show lists data directories and each signature's chain" "$shield" pe show "$debian_efi/shimx64.efi.signed"
        contains "^Data directories: 16" "data directories are listed"
        contains "certificate +0x[0-9a-f]{8} 0x[0-9a-f]{8} \(file offset\)" "the certificate table directory is named"
        contains "cert 1: CN=Microsoft Corporation UEFI CA 2011" "the chain names the Microsoft UEFI CA 2011"
        contains "issued by CN=Microsoft Corporation Third Party Marketplace Root" "and its issuer"
        expect 0 "pe show --json on shim" "$shield" pe show --json "$debian_efi/shimx64.efi.signed"
        python3 - "$work/out" <<'PY' && echo "ok: JSON has data directories and chains" || { echo "FAIL: pe show --json fields"; fails=$((fails + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert len(j["data_directories"]) == 16 and j["data_directories"][4]["name"] == "certificate"
assert all(s["matches_image"] and len(s["chain"]) >= 2 for s in j["signatures"])
PY
fi

# The Debian kernel (a large real PE, signed by Debian): its hash against pesign -h.
kcache=${SHIELD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shieldkit-test}/kernel
if [ ! -f "$kcache/vmlinuz" ]; then
        mkdir -p "$kcache"
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
        if [ -n "$pkg" ] && (cd "$kcache" && apt-get download "$pkg" >/dev/null 2>&1); then
                dpkg-deb --fsys-tarfile "$kcache"/linux-image-*.deb | tar -x -C "$kcache" --wildcards './boot/vmlinuz-*' 2>/dev/null &&
                        mv "$kcache"/boot/vmlinuz-* "$kcache/vmlinuz" && rm -rf "$kcache"/boot "$kcache"/linux-image-*.deb
        fi
fi
if [ -f "$kcache/vmlinuz" ] && command -v pesign >/dev/null; then
        ours=$("$shield" pe hash "$kcache/vmlinuz" | cut -d' ' -f1)
        theirs=$(pesign -h -i "$kcache/vmlinuz" 2>/dev/null | awk '{print $NF}')
        [ -n "$ours" ] && [ "$ours" = "$theirs" ] && echo "ok: pe hash = pesign -h for Debian's kernel" ||
                { echo "FAIL: kernel: $ours vs pesign $theirs"; fails=$((fails + 1)); }
        expect 0 "pe show Debian's kernel" "$shield" pe show "$kcache/vmlinuz"
        contains "signer CN=Debian Secure Boot Signer" "the kernel's signer is named"
        contains "matches the image" "the kernel's signature signs it"
else
        echo "skip: Debian's kernel could not be downloaded"
fi

# Malformed images, made here from a small valid one (tests/unit/test-pe.c covers every field).
if [ -f "$work/efi/shield-dump.efi" ]; then
        python3 - "$work/efi/shield-dump.efi" "$work" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
pe = struct.unpack_from("<I", b, 0x3c)[0]
opt = pe + 24
plus = struct.unpack_from("<H", b, opt)[0] == 0x20b
sec = opt + struct.unpack_from("<H", b, pe + 20)[0]
def out(name, data): open(f"{sys.argv[2]}/{name}.efi", "wb").write(data)
x = bytearray(b); struct.pack_into("<H", x, pe + 6, 0xffff); out("many-sections", x)
x = bytearray(b); struct.pack_into("<H", x, pe + 20, (112 if plus else 96) + 32); out("optional-header-lies", x)
x = bytearray(b); struct.pack_into("<I", x, sec + 40 + 20, struct.unpack_from("<I", b, sec + 20)[0]); out("overlap", x)
x = bytearray(b); d = opt + (112 if plus else 96) + 32
struct.pack_into("<II", x, d, len(b) - 4, 8); out("cert-past-end", x)
x = bytearray(b) + bytes(32); struct.pack_into("<II", x, d, (len(b) + 7) // 8 * 8 + 4, 8); out("cert-unaligned", x)
PY
        expect 2 "NumberOfSections 65535" "$shield" pe show "$work/many-sections.efi"
        contains "NumberOfSections 65535 is over" "the cap is named"
        expect 2 "SizeOfOptionalHeader too small for the data directories" "$shield" pe hash "$work/optional-header-lies.efi"
        contains "SizeOfOptionalHeader" "the field is named"
        expect 2 "overlapping sections" "$shield" pe hash "$work/overlap.efi"
        contains "overlaps section 0" "the overlap is named"
        expect 2 "certificate table past the end" "$shield" pe hash "$work/cert-past-end.efi"
        contains "runs past the file" "past the end is named"
        expect 2 "certificate table not 8-aligned" "$shield" pe hash "$work/cert-unaligned.efi"
        contains "not 8-byte aligned" "the alignment is named"
        contains "0x[0-9a-f]+|offset" "an offset is given"
fi
# Images laid out here (PE32, sections listed out of file order, no trailing
# data), signed by sbsign: our hash must be the digest sbsign signed.
if command -v sbsign >/dev/null && [ -f "$work/k/db.key" ]; then
        python3 - "$work" <<'PY'
import struct, sys
def make(plus, order, nsec, trailing):
    H, opt = 0x200, 0x40 + 24
    optsz = (112 if plus else 96) + 128
    b = bytearray(H + 0x200 * nsec + trailing)
    b[0:2] = b"MZ"; struct.pack_into("<I", b, 0x3c, 0x40); b[0x40:0x44] = b"PE\0\0"
    struct.pack_into("<HH", b, 0x44, 0x8664 if plus else 0x14c, nsec); struct.pack_into("<H", b, 0x54, optsz)
    struct.pack_into("<H", b, opt, 0x20b if plus else 0x10b); struct.pack_into("<II", b, opt + 32, 0x1000, 0x200)
    struct.pack_into("<I", b, opt + 60, H); struct.pack_into("<H", b, opt + 68, 10)
    struct.pack_into("<I", b, opt + (108 if plus else 92), 16)
    for i, j in enumerate(order):
        s = opt + optsz + 40 * i
        b[s:s + 3] = b".s%d" % j
        struct.pack_into("<IIII", b, s + 8, 0x200, 0x1000 * (j + 1), 0x200, H + 0x200 * j)
    for i in range(H, len(b)): b[i] = (i * 13) & 0xff
    return b
for name, args in {"pe32": (False, (0, 1), 2, 0x10), "out-of-order": (True, (2, 0, 1), 3, 0x10),
                   "no-trailing": (True, (0, 1), 2, 0)}.items():
    open(f"{sys.argv[1]}/{name}.efi", "wb").write(make(*args))
PY
        for name in pe32 out-of-order no-trailing; do
                if sbsign --key "$work/k/db.key" --cert "$work/k/db.crt" --output "$work/$name-signed.efi" "$work/$name.efi" >/dev/null 2>&1; then
                        expect 0 "$name: sbsign signed the digest we compute" "$shield" pe show "$work/$name-signed.efi"
                        contains "matches the image" "$name: the signed digest is our hash"
                        [ "$("$shield" pe hash "$work/$name.efi" | cut -d' ' -f1)" = "$("$shield" pe hash "$work/$name-signed.efi" | cut -d' ' -f1)" ] &&
                                echo "ok: $name: signing does not change the hash" || { echo "FAIL: $name: hash changed by signing"; fails=$((fails + 1)); }
                else
                        echo "skip: sbsign refused the $name image"
                fi
        done
fi
finish
