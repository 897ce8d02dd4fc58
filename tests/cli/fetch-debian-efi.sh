# Sourced: fetch Debian's signed shim and grub (cached) into $debian_efi; sets have_debian_efi.
cache=${SHIELD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shieldkit-test}
debian_efi=$cache/debian-efi
have_debian_efi=0
if [ ! -f "$debian_efi/shimx64.efi.signed" ] || [ ! -f "$debian_efi/grubx64.efi.signed" ]; then
        mkdir -p "$cache/debs" "$debian_efi"
        if (cd "$cache/debs" && apt-get download shim-signed grub-efi-amd64-signed >/dev/null 2>&1); then
                for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
                cp "$cache"/root/usr/lib/shim/shimx64.efi.signed "$cache"/root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed \
                        "$debian_efi"/ 2>/dev/null
        fi
fi
[ -f "$debian_efi/shimx64.efi.signed" ] && [ -f "$debian_efi/grubx64.efi.signed" ] && have_debian_efi=1
