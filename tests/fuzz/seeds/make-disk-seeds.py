#!/usr/bin/env python3
"""Seeds for fuzz-gpt and fuzz-fat, made with the real tools.

sgdisk and sfdisk write the partition tables, mkfs.fat the file systems and
mtools the files. A disk of megabytes is almost all zeros, so each seed is
stored sparse, in the format the two harnesses read:

    le64 disk size, then chunks of (le64 offset, le16 length, bytes)

Reads outside every chunk return zeros (see sparse_read in fuzz-gpt.c).

    python3 tests/fuzz/seeds/make-disk-seeds.py tests/fuzz/corpus
"""
import os, struct, subprocess, sys, tempfile

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus"
BOOT = bytes(range(256)) * 2 + b"MZ shield fuzz seed\n" * 30  # about 1.1 KiB: three 512-byte clusters


def sh(cmd, cwd):
    # Fixed times (mtools, mkfs.fat) and ids make the seeds the same on every run.
    env = dict(os.environ, SOURCE_DATE_EPOCH="1764547200", TZ="UTC")
    subprocess.run(cmd, shell=True, check=True, cwd=cwd, stdout=subprocess.DEVNULL, env=env)


def sparse(img):
    """The nonzero 512-byte sectors of img, merged into runs, trailing zeros cut."""
    out = [struct.pack("<Q", len(img))]
    i, n = 0, len(img)
    while i < n:
        if not any(img[i:i + 512]):
            i += 512
            continue
        start = i
        while i < n and any(img[i:i + 512]) and i - start < 0xfe00:
            i += 512
        run = img[start:i].rstrip(b"\0")
        out.append(struct.pack("<QH", start, len(run)) + run)
    return b"".join(out)


def fat_fs(d, name, bits, kib, extra=""):
    """A FAT file system image holding the bootloader paths `shield image check` looks for."""
    with open(os.path.join(d, "boot.bin"), "wb") as f:
        f.write(BOOT)
    sh(f"rm -f {name} && mkfs.fat --invariant -i 5eed{bits:04d} -F {bits} -s 1 -n SEED{bits} "
       f"-C {name} {kib} {extra}", d)
    sh(f"mmd -i {name} ::/EFI ::/EFI/BOOT ::/EFI/Microsoft ::/EFI/Microsoft/Boot", d)
    sh(f"mcopy -i {name} boot.bin ::/EFI/BOOT/BOOTX64.EFI", d)
    sh(f"mcopy -i {name} boot.bin ::/EFI/Microsoft/Boot/bootmgfw.efi", d)
    sh(f"echo hi > hi.txt && mcopy -i {name} hi.txt '::/EFI/A long file name.text'", d)
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def gpt_disk(d, name, mib, esp_kib, bits, entries=128):
    """A GPT disk (sgdisk) whose first partition is an ESP holding a FAT file system at LBA 2048."""
    sh(f"rm -f {name} && truncate -s {mib}M {name}", d)
    sh(f"sgdisk -S {entries} -U 5eed0000-0000-4000-8000-000000000000 "
       f"-n 1:2048:+{esp_kib}K -t 1:ef00 -c 1:'EFI System' -u 1:5eed0000-0000-4000-8000-000000000001 "
       f"-n 2:0:0 -t 2:8300 -c 2:root -u 2:5eed0000-0000-4000-8000-000000000002 {name}", d)
    fs = fat_fs(d, name + ".esp", bits, esp_kib)
    with open(os.path.join(d, name), "r+b") as f:
        f.seek(2048 * 512)
        f.write(fs)
        f.seek(0)
        return bytearray(f.read())


def write(sub, name, data):
    os.makedirs(os.path.join(OUT, sub), exist_ok=True)
    with open(os.path.join(OUT, sub, name), "wb") as f:
        f.write(data)


def main():
    with tempfile.TemporaryDirectory() as d:
        # fuzz-fat: bare file systems of each type.
        write("fuzz-fat", "fat12", sparse(fat_fs(d, "f12.img", 12, 1024)))
        write("fuzz-fat", "fat16", sparse(fat_fs(d, "f16.img", 16, 8192)))
        write("fuzz-fat", "fat32", sparse(fat_fs(d, "f32.img", 32, 34816)))
        write("fuzz-fat", "fat32-one-fat", sparse(fat_fs(d, "f32b.img", 32, 34816, "-f 1")))

        # fuzz-gpt: GPT disks with an ESP of each FAT type, and the refusals.
        g32 = gpt_disk(d, "g32.img", 40, 34816, 32)
        write("fuzz-gpt", "gpt-esp-fat32", sparse(g32))
        write("fuzz-gpt", "gpt-esp-fat16", sparse(gpt_disk(d, "g16.img", 12, 8192, 16)))
        write("fuzz-gpt", "gpt-esp-fat12-8-entries", sparse(gpt_disk(d, "g12.img", 4, 1024, 12, entries=8)))
        bad = bytearray(g32)
        bad[512 + 40] ^= 1  # the header CRC no longer holds; the backup still does
        write("fuzz-gpt", "gpt-bad-header-crc", sparse(bad))
        nob = bytearray(g32)
        nob[-512:] = bytes(512)
        write("fuzz-gpt", "gpt-no-backup", sparse(nob))
        sh("rm -f mbr.img && truncate -s 4M mbr.img && "
           "printf 'label: dos\\nlabel-id: 0x5eed0000\\n2048,2048,ef,*\\n4096,,83\\n' | sfdisk -q mbr.img", d)
        with open(os.path.join(d, "mbr.img"), "rb") as f:
            write("fuzz-gpt", "mbr-only", sparse(f.read()))
        write("fuzz-gpt", "empty", struct.pack("<Q", 1 << 20))


if __name__ == "__main__":
    main()
