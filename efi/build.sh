#!/bin/bash
# Build the measurement agent efi/shield-dump.c with gnu-efi (flags from docs/REAL-BOOTS.md).
#   efi/build.sh OUTDIR   → OUTDIR/shield-dump.efi and OUTDIR/shield-agent.efi (the same bytes);
#                           prints the path of shield-dump.efi (callers read one line).
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: efi/build.sh OUTDIR}
mkdir -p "$out"
lib=/usr/lib
[ -f "$lib/crt0-efi-x86_64.o" ] || { echo "efi/build.sh: gnu-efi is not installed" >&2; exit 77; }
cflags=(-I/usr/include/efi -I/usr/include/efi/x86_64 -O2 -fpic -ffreestanding -fno-stack-protector
        -fno-stack-check -fshort-wchar -mno-red-zone -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI
        -Wall -Wextra -Werror -Wno-unused-parameter)
gcc "${cflags[@]}" -c "$src/shield-dump.c" -o "$out/shield-dump.o"
ld -shared -Bsymbolic -nostdlib -znocombreloc -L"$lib" -T "$lib/elf_x86_64_efi.lds" \
        "$lib/crt0-efi-x86_64.o" "$out/shield-dump.o" -o "$out/shield-dump.so" -lefi -lgnuefi
objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j '.rel.*' -j '.rela.*' \
        -j .reloc --target efi-app-x86_64 --subsystem=10 "$out/shield-dump.so" "$out/shield-dump.efi"
cp -f "$out/shield-dump.efi" "$out/shield-agent.efi"
echo "$out/shield-dump.efi"
