#!/bin/bash
# shield image create/check/register/list/show/delete, black-box. The disks
# are built by our code and judged by independent tools too: sgdisk reads
# the GPT, mtools reads the FAT, mkfs.fat/sfdisk make the bad disks.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
for tool in mkfs.fat mcopy mmd sgdisk sfdisk; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
export SHIELD_STATE_DIR=$work/state
export MTOOLS_SKIP_CHECK=1

expect 0 "image --help" "$shield" image --help
expect 0 "image create --help" "$shield" image create --help
contains "reproducible" "create --help names --reproducible"
expect 2 "create without -o" "$shield" image create --bootloader x.efi
expect 2 "create with a missing bootloader" "$shield" image create -o "$work/x.raw" --bootloader "$work/none.efi"
expect 2 "bad --esp-size" "$shield" image create -o "$work/x.raw" --bootloader /bin/true --esp-size 1M
expect 2 "bad --data" "$shield" image create -o "$work/x.raw" --bootloader /bin/true --data :x
[ ! -e "$work/x.raw" ] && echo "ok: nothing written on bad input" || { echo "FAIL: x.raw written"; fails=$((fails + 1)); }

"$shield" keys generate --out "$work/keys" >/dev/null 2>&1
# Any PE image will do as a bootloader for layout tests; one that is not PE/COFF is refused by check.
make_pe "$work/fake.efi"
printf 'MZ' >"$work/notpe.efi"; head -c 4000 /dev/urandom >>"$work/notpe.efi"
expect 0 "create a disk" "$shield" image create -o "$work/a.raw" --bootloader "$work/fake.efi" --esp-size 64M \
        --os-size 8M --data 4M:scratch --data 2M --reproducible --disk-guid 11111111-2222-3333-4444-555555555555
sgdisk -p "$work/a.raw" >"$work/out" 2>&1
contains "11111111-2222-3333-4444-555555555555" "sgdisk sees the disk GUID"
contains "EF00 +EFI System Partition" "sgdisk sees the ESP"
contains "scratch" "sgdisk sees the labelled data partition"
contains "data2" "sgdisk sees the unlabelled data partition"
mcopy -i "$work/a.raw@@1M" ::/EFI/BOOT/BOOTX64.EFI "$work/copied.efi" 2>/dev/null
cmp -s "$work/copied.efi" "$work/fake.efi" && echo "ok: mtools reads back the bootloader" ||
        { echo "FAIL: bootloader differs"; fails=$((fails + 1)); }
expect 0 "create it again" "$shield" image create -o "$work/b.raw" --bootloader "$work/fake.efi" --esp-size 64M \
        --os-size 8M --data 4M:scratch --data 2M --reproducible --disk-guid 11111111-2222-3333-4444-555555555555
cmp -s "$work/a.raw" "$work/b.raw" && echo "ok: --reproducible builds are byte-identical" ||
        { echo "FAIL: reproducible builds differ"; fails=$((fails + 1)); }
expect 0 "create without --reproducible" "$shield" image create -o "$work/c.raw" --bootloader "$work/fake.efi" --esp-size 64M
cmp -s "$work/a.raw" "$work/c.raw" && { echo "FAIL: random GUIDs expected"; fails=$((fails + 1)); } || echo "ok: plain builds differ (random GUIDs)"
head -c 3000000 /dev/urandom >"$work/os.img"
expect 0 "create with --os-image" "$shield" image create -o "$work/os.raw" --bootloader "$work/fake.efi" --esp-size 64M \
        --os-image "$work/os.img" --json
is_json "create --json"
python3 - "$work/os.raw" "$work/os.img" <<'PY' && echo "ok: the OS partition holds --os-image" || { echo "FAIL: OS image"; exit 1; }
import sys
d = open(sys.argv[1], "rb"); d.seek((1 + 64) << 20); want = open(sys.argv[2], "rb").read()
sys.exit(0 if d.read(len(want)) == want else 1)
PY
[ $? -eq 0 ] || fails=$((fails + 1))

# --size: the disk is that big, the ESP and data partitions keep their sizes, the OS partition takes the
# rest (1 MiB aligned, the backup GPT left its 33 sectors); sfdisk reads the layout independently.
expect 0 "create --size 2G" "$shield" image create -o "$work/big.raw" --bootloader "$work/fake.efi" --size 2G \
        --data 4M:scratch --data 2M --json
is_json "create --size --json"
cp "$work/out" "$work/big.json"
sfdisk --json "$work/big.raw" >"$work/big.sfdisk" 2>&1
python3 - "$work/big.raw" "$work/big.json" "$work/big.sfdisk" <<'PY' && echo "ok: sfdisk agrees: 2G disk, ESP 100M, OS the rest, data 4M and 2M, --json lists them all" || fails=$((fails + 1))
import json, os, sys
size = os.path.getsize(sys.argv[1]); ours = json.load(open(sys.argv[2])); t = json.load(open(sys.argv[3]))["partitiontable"]
MiB, S = 1 << 20, 512
p = t["partitions"]
def fail(m): print("FAIL:", m); sys.exit(1)
if size != 2 << 30 or ours["disk_size"] != size: fail("disk size %d" % size)
if t["label"] != "gpt" or len(p) != 4: fail("sfdisk: %s, %d partitions" % (t["label"], len(p)))
if p[0]["size"] * S != 100 * MiB or p[0]["type"] != "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": fail("ESP %s" % p[0])
if p[2]["size"] * S != 4 * MiB or p[2]["name"] != "scratch" or p[3]["size"] * S != 2 * MiB or p[3]["name"] != "data2":
    fail("data partitions %s" % p[2:])
if any(x["start"] * S % MiB for x in p): fail("not 1 MiB aligned")
for a, b in zip(p, p[1:]):
    if a["start"] + a["size"] != b["start"]: fail("gap or overlap before %s" % b["node"])
end = (p[3]["start"] + p[3]["size"]) * S
if end > (t["lastlba"] + 1) * S or size - end - 33 * S >= MiB: fail("the OS partition does not take the rest (%d bytes left)" % (size - end))
parts = ours["partitions"]
if [x["type"] for x in parts] != ["ESP", "OS", "data", "data"]: fail("--json types %s" % [x["type"] for x in parts])
for mine, theirs in zip(parts, p):
    if (mine["first_lba"], mine["last_lba"], mine["size"], mine["label"], mine["guid"].upper()) != \
       (theirs["start"], theirs["start"] + theirs["size"] - 1, theirs["size"] * S, theirs["name"], theirs["uuid"]):
        fail("--json %s vs sfdisk %s" % (mine, theirs))
if ours["disk_guid"].upper() != t["id"]: fail("disk GUID")
PY
expect 0 "check the 2G disk (FAT32 ESP on a large disk)" "$shield" image check "$work/big.raw"
mcopy -i "$work/big.raw@@1M" ::/EFI/BOOT/BOOTX64.EFI "$work/big.efi" 2>/dev/null
cmp -s "$work/big.efi" "$work/fake.efi" && echo "ok: mtools reads the bootloader of the 2G disk" ||
        { echo "FAIL: 2G disk bootloader"; fails=$((fails + 1)); }
expect 0 "--size with a larger ESP and K/M suffixes" "$shield" image create -o "$work/big2.raw" --bootloader "$work/fake.efi" \
        --size 1048576K --esp-size 300M
sgdisk -p "$work/big2.raw" >"$work/out" 2>&1
contains "^ +1 +2048 +616447 +300\.0 MiB +EF00" "sgdisk: the ESP keeps its 300M"
contains "^ +2 +616448 +2095103 +722\.0 MiB" "sgdisk: the OS partition gets the rest of 1G"
expect 0 "--size with exactly 1M left for the OS" "$shield" image create -o "$work/tight.raw" --bootloader "$work/fake.efi" \
        --size 103M
expect 2 "--size leaving nothing for the OS partition" "$shield" image create -o "$work/none.raw" --bootloader "$work/fake.efi" \
        --size 102M
contains "leaves 0 MiB for the OS partition" "says nothing is left"
expect 2 "--size smaller than the data partitions" "$shield" image create -o "$work/none.raw" --bootloader "$work/fake.efi" \
        --size 200M --data 150M
contains "data 150 MiB" "names the data partitions"
expect 2 "--size too small for --os-image" "$shield" image create -o "$work/none.raw" --bootloader "$work/fake.efi" \
        --size 103M --os-image "$work/os.img"
contains "for --os-image" "names --os-image"
[ ! -e "$work/none.raw" ] && echo "ok: nothing written when nothing is left" || { echo "FAIL: none.raw written"; fails=$((fails + 1)); }
expect 2 "--size with --os-size" "$shield" image create -o "$work/x.raw" --bootloader "$work/fake.efi" --size 1G --os-size 8M
expect 2 "--size not a size" "$shield" image create -o "$work/x.raw" --bootloader "$work/fake.efi" --size 2Q
expect 2 "--size not a multiple of 512" "$shield" image create -o "$work/x.raw" --bootloader "$work/fake.efi" --size 1000001
expect 0 "--size with --os-image: the image in a partition taking the rest" "$shield" image create -o "$work/osbig.raw" \
        --bootloader "$work/fake.efi" --esp-size 64M --size 256M --os-image "$work/os.img"
python3 - "$work/osbig.raw" "$work/os.img" <<'PY' && echo "ok: the OS image is at the start of the OS partition" || fails=$((fails + 1))
import sys
d = open(sys.argv[1], "rb"); d.seek((1 + 64) << 20); want = open(sys.argv[2], "rb").read()
sys.exit(0 if d.read(len(want)) == want else 1)
PY
expect 0 "create --json on the default layout lists ESP and OS" "$shield" image create -o "$work/dflt.raw" \
        --bootloader "$work/fake.efi" --json
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["partitions"]; sys.exit(0 if [x["type"] for x in p]==["ESP","OS"] and all(k in p[0] for k in ("index","guid","first_lba","last_lba","size","label")) else 1)' \
        "$work/out" && echo "ok: --json partitions have index, type, guid, LBAs, size, label" || { echo "FAIL: --json partitions"; fails=$((fails + 1)); }
rm -f "$work/big.raw" "$work/big2.raw" "$work/osbig.raw"

# check: what keeps a disk from being a shielded image.
expect 0 "check a good disk" "$shield" image check "$work/a.raw"
contains "guest OS features needed: UEFI_COMPATIBLE$" "needs UEFI_COMPATIBLE only"
truncate -s 16M "$work/mbr.raw"; echo ',,c' | sfdisk -q "$work/mbr.raw" >/dev/null 2>&1
expect 1 "MBR-only disk" "$shield" image check "$work/mbr.raw"
contains "gpt-required" "MBR is refused: GPT required"
truncate -s 16M "$work/noesp.raw"; sgdisk -n 1:2048:0 -t 1:8300 "$work/noesp.raw" >/dev/null 2>&1
expect 1 "GPT without an ESP" "$shield" image check "$work/noesp.raw"
contains "esp-missing" "no ESP"
truncate -s 16M "$work/notfat.raw"; sgdisk -n 1:2048:0 -t 1:ef00 "$work/notfat.raw" >/dev/null 2>&1
expect 1 "ESP not FAT" "$shield" image check "$work/notfat.raw"
contains "esp-not-fat" "ESP not FAT"
cp "$work/notfat.raw" "$work/noboot.raw"; mkfs.fat --offset 2048 "$work/noboot.raw" 14000 >/dev/null 2>&1
mmd -i "$work/noboot.raw@@1M" ::/EFI ::/EFI/Boot
expect 1 "no bootloader" "$shield" image check "$work/noboot.raw" --json
is_json "check --json"
contains "bootloader-missing" "bootloader missing"
mcopy -i "$work/noboot.raw@@1M" "$work/fake.efi" ::/efi/boot/BootX64.EFI
mmd -i "$work/noboot.raw@@1M" ::/EFI/Microsoft ::/EFI/Microsoft/Boot
mcopy -i "$work/noboot.raw@@1M" "$work/fake.efi" ::/EFI/Microsoft/Boot/bootmgfw.efi
expect 0 "bootloader found whatever its case" "$shield" image check "$work/noboot.raw"
contains "UEFI_COMPATIBLE,WINDOWS" "bootmgfw.efi means WINDOWS"
printf '{"pk":{"content":"%s","fileType":"X509"},"dbs":[{"content":"%s","fileType":"X509"}]}' \
        "$(base64 -w0 "$work/keys/PK.der")" "$(base64 -w0 "$work/keys/db.der")" >"$work/is.json"
expect 0 "a PE bootloader without keys passes" "$shield" image check "$work/a.raw"
expect 0 "a disk with a bootloader that is not PE/COFF is still written" "$shield" image create -o "$work/notpe.raw" \
        --bootloader "$work/notpe.efi" --esp-size 64M
expect 1 "a non-PE bootloader is refused without keys" "$shield" image check "$work/notpe.raw"
contains 'bootloader-not-pe\] \\EFI\\Boot\\bootx64.efi \(4002 bytes\) is not a PE/COFF image' "the finding names the path and size"
contains "PE|MZ|offset 0x" "... and what is wrong"
expect 1 "... as JSON" "$shield" image check "$work/notpe.raw" --json
contains '"code": "bootloader-not-pe"' "JSON finding bootloader-not-pe"
contains '"shielded_image": false' "JSON: not a shielded image"
expect 1 "a non-PE bootloader is refused with keys too" "$shield" image check "$work/notpe.raw" --initial-state "$work/is.json"
contains "bootloader-not-pe" "with keys: the same finding"
printf 'MZ' >"$work/tiny.efi"
expect 0 "a two-byte bootloader" "$shield" image create -o "$work/tiny.raw" --bootloader "$work/tiny.efi" --esp-size 64M
expect 1 "a two-byte MZ is refused" "$shield" image check "$work/tiny.raw"
contains "bootloader-not-pe.*\(2 bytes\)" "names the truncated image"
expect 1 "register refuses a non-PE bootloader" "$shield" image register notpe --source-disk "$work/notpe.raw"
contains "bootloader-not-pe" "register says why"
rm -f "$work/notpe.raw" "$work/tiny.raw"
agent="$(dirname "$shield")/../../efi/shield-agent.efi"
if [ -f "$agent" ]; then
        expect 0 "a disk with the agent" "$shield" image create -o "$work/agent.raw" --bootloader "$agent" --esp-size 64M
        expect 1 "the unsigned agent is refused by the image's db" "$shield" image check "$work/agent.raw" --initial-state "$work/is.json"
        contains 'SB_EVENT: \{ "status": "Fail".*"EFI_Image_Path": "HD\(1,GPT,[0-9a-f-]*,0x800,0x[0-9a-f]*\)/\\\\EFI\\\\Boot\\\\bootx64.efi".*NO_CERT_MATCH' "SB_EVENT Fail NO_CERT_MATCH"
        expect 0 "a disk with the agent signed by the db key" "$shield" image create -o "$work/signed.raw" --bootloader "$agent" \
                --esp-size 64M --sign-key "$work/keys/db.key" --sign-cert "$work/keys/db.der"
        expect 0 "the signed agent passes the image's db" "$shield" image check "$work/signed.raw" --initial-state "$work/is.json"
        contains 'SB_EVENT: \{ "status": "Pass".*DB_CERT_MATCH' "SB_EVENT Pass DB_CERT_MATCH"
        mcopy -i "$work/signed.raw@@1M" ::/EFI/Boot/bootx64.efi "$work/signed.efi" 2>/dev/null
        if ! command -v sbverify >/dev/null || sbverify --cert "$work/keys/db.crt" "$work/signed.efi" >/dev/null 2>&1; then
                echo "ok: sbverify accepts the signed bootloader on the ESP"
        else
                echo "FAIL: sbverify rejects the signed bootloader"; fails=$((fails + 1))
        fi
else
        echo "note: build/efi/shield-agent.efi not built (gnu-efi missing); Secure Boot verdicts not tested here"
fi


# register: gcloud's flags and rules.
# (The bootloader is unsigned: registration warns on stderr; stdout stays JSON.)
expect 0 "register with a db" sh -c '"$0" image register base --source-disk "$1" --signature-database-file "$2" --json 2>/dev/null' \
        "$shield" "$work/a.raw" "$work/keys/db.der"
is_json "register --json"
contains '"dbs"' "custom db stored"
expect 0 "show" "$shield" image show base
contains "^PK +default" "unset PK takes the default"
contains "^db +custom: 1 certificate" "db replaced"
expect 0 "from an image, no key flags: inherits" "$shield" image register child --source-image base
expect 0 "show child" "$shield" image show child --json
contains '"dbs"' "child inherits the db"
contains '"source_image": "base"' "child names its source"
expect 0 "from an image with a key flag: only the flags given" "$shield" image register other --source-image base \
        --key-exchange-key-file "$work/keys/KEK.der"
expect 0 "show other" "$shield" image show other --json
contains '"keks"' "kek set"
if grep -q '"dbs"' "$work/out"; then echo "FAIL: dbs merged from the source"; fails=$((fails + 1)); else echo "ok: not merged"; fi
# register --initial-state: the API's initial_state_config document, the same rules as the flags.
"$shield" initial-state create --pk "$work/keys/PK.der" --db "$work/keys/db.der" -o "$work/pk-db.json" >/dev/null 2>&1
expect 0 "register --initial-state (pk and dbs)" "$shield" image register api --source-disk "$work/a.raw" \
        --initial-state "$work/pk-db.json"
expect 0 "show api" "$shield" image show api
contains "^PK +custom: 1 certificate" "the document's PK is used"
contains "^KEK +default" "keks left out: the default"
contains "^db +custom: 1 certificate" "the document's db replaces the default"
contains "^dbx +default" "dbxs left out: the default"
expect 0 "register with the same keys as flags" "$shield" image register flags --source-disk "$work/a.raw" \
        --platform-key-file "$work/keys/PK.der" --signature-database-file "$work/keys/db.der"
"$shield" image show api --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["initial_state_config"], sort_keys=True))' >"$work/api.is"
"$shield" image show flags --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["initial_state_config"], sort_keys=True))' >"$work/flags.is"
[ -s "$work/api.is" ] && cmp -s "$work/api.is" "$work/flags.is" && echo "ok: --initial-state and the flags register the same initial_state_config" ||
        { echo "FAIL: --initial-state differs from the flags"; fails=$((fails + 1)); }
printf '{"keks":[{"content":"%s","fileType":"X509"}]}' "$(base64 -w0 "$work/keys/KEK.der")" >"$work/kek.json"
expect 0 "from an image with --initial-state: only its fields, never merged" "$shield" image register api-kek \
        --source-image base --initial-state "$work/kek.json"
expect 0 "show api-kek" "$shield" image show api-kek --json
contains '"keks"' "the document's kek is set"
if grep -q '"dbs"' "$work/out"; then echo "FAIL: dbs merged from the source image"; fails=$((fails + 1)); else echo "ok: the source's db is not merged"; fi
echo '{}' >"$work/empty.json"
expect 0 "from an image with an empty document: every default, nothing inherited" "$shield" image register api-empty \
        --source-image base --initial-state "$work/empty.json"
expect 0 "show api-empty" "$shield" image show api-empty
contains "^db +default" "{} is not the source image's state"
printf '{"keks":[{"content":"%s","fileType":"X509"},{"content":"%s","fileType":"PEM"}]}' \
        "$(base64 -w0 "$work/keys/KEK.der")" "$(base64 -w0 "$work/keys/KEK.der")" >"$work/bad-type.json"
expect 2 "a malformed document" "$shield" image register bad-doc --source-disk "$work/a.raw" --initial-state "$work/bad-type.json"
contains 'keks\[1\]\.fileType: "PEM" is not X509 or BIN' "the error names keks[1].fileType"
printf '{"pk":{"content":"%s","fileType":"BIN"}}' "$(base64 -w0 "$work/keys/PK.der")" >"$work/bad-pk.json"
expect 2 "a PK that is not X509" "$shield" image register bad-pk --source-disk "$work/a.raw" --initial-state "$work/bad-pk.json"
contains "pk\.content: not EFI signature lists|pk\.fileType" "the error names the pk field"
printf '{"dbs":[{"content":"%s","fileType":"X509"}],"kek":[]}' "$(base64 -w0 "$work/keys/db.der")" >"$work/bad-key.json"
expect 2 "an unknown field" "$shield" image register bad-key --source-disk "$work/a.raw" --initial-state "$work/bad-key.json"
contains 'unknown field "kek"' "the unknown field is named"
expect 2 "--initial-state with a key-file option" "$shield" image register both --source-disk "$work/a.raw" \
        --initial-state "$work/pk-db.json" --key-exchange-key-file "$work/keys/KEK.der"
contains "excludes the key-file options" "says why"
expect 2 "--initial-state of a missing file" "$shield" image register gone --source-disk "$work/a.raw" \
        --initial-state "$work/none.json"
"$shield" image list >"$work/out" 2>&1
if grep -qE "^(bad-|both|gone)" "$work/out"; then echo "FAIL: a refused registration was kept"; fails=$((fails + 1)); else echo "ok: nothing registered on a bad document"; fi
# Registration judges the bootloader under the image's own effective db/dbx (offline, as image check).
expect 0 "an unsigned bootloader under a custom db: registered, with a warning" "$shield" image register warn-db \
        --source-disk "$work/a.raw" --signature-database-file "$work/keys/db.der"
contains 'warning: image warn-db: Secure Boot would refuse its bootloader \\EFI\\Boot\\bootx64.efi under its own db/dbx \(SB_Variable_Match NO_CERT_MATCH' \
        "the warning names the verdict and the bootloader"
contains '^SB_EVENT: \{ "status": "Fail"' "the SB_EVENT line follows"
contains "image warn-db registered" "still registered"
expect 1 "--strict refuses it" "$shield" image register strict-db --source-disk "$work/a.raw" \
        --signature-database-file "$work/keys/db.der" --strict
contains "SB_Variable_Match NO_CERT_MATCH.*not registered \(--strict\)" "--strict says why"
expect 2 "--strict refused: nothing registered" "$shield" image show strict-db
expect 1 "--strict with inherited keys judges the inherited db" "$shield" image register strict-child --source-image warn-db --strict
contains "under its own db/dbx \(SB_Variable_Match NO_CERT_MATCH" "inherited keys refuse it"
expect 0 "a bootloader signed by the image's db key" "$shield" image create -o "$work/signed-pe.raw" --bootloader "$work/fake.efi" \
        --esp-size 64M --sign-key "$work/keys/db.key" --sign-cert "$work/keys/db.der"
expect 0 "... registers under --strict without a warning" "$shield" image register ok-db --source-disk "$work/signed-pe.raw" \
        --signature-database-file "$work/keys/db.der" --strict
if grep -q "warning" "$work/out"; then echo "FAIL: a bootloader the db allows was warned about"; fails=$((fails + 1)); else echo "ok: no warning when the db allows it"; fi
expect 0 "... and a child inheriting those keys too" "$shield" image register ok-child --source-image ok-db --strict
expect 0 "the same bootloader under the platform defaults: a warning" "$shield" image register warn-default \
        --source-disk "$work/signed-pe.raw"
contains "under the platform's default db/dbx \(SB_Variable_Match NO_CERT_MATCH" "the default db does not hold our db key"
mcopy -i "$work/signed-pe.raw@@1M" ::/EFI/Boot/bootx64.efi "$work/signed-pe.efi" 2>/dev/null
"$shield" siglist create --sha256 "$("$shield" pe hash "$work/signed-pe.efi" | cut -d' ' -f1)" -o "$work/revoke.esl" >/dev/null 2>&1
expect 1 "its hash in the image's dbx: --strict refuses" "$shield" image register revoked --source-disk "$work/signed-pe.raw" \
        --signature-database-file "$work/keys/db.der" --forbidden-database-file "$work/revoke.esl" --strict
contains "SB_Variable_Match DBX_HASH_MATCH" "the verdict is DBX_HASH_MATCH"
expect 2 "two PKs refused" "$shield" image register twopk --source-disk "$work/a.raw" \
        --platform-key-file "$work/keys/PK.der,$work/keys/KEK.der"
expect 2 "a non-certificate key file refused" "$shield" image register junk --source-disk "$work/a.raw" \
        --signature-database-file "$work/fake.efi"
expect 1 "an MBR disk is not registered" "$shield" image register mbr --source-disk "$work/mbr.raw"
expect 2 "a taken name" "$shield" image register base --source-disk "$work/a.raw"
expect 2 "a bad name" "$shield" image register Bad_Name --source-disk "$work/a.raw"
expect 2 "an unknown feature" "$shield" image register feat --source-disk "$work/a.raw" --guest-os-features SEV
expect 2 "features the disk contradicts" "$shield" image register win --source-disk "$work/noboot.raw" \
        --guest-os-features UEFI_COMPATIBLE
expect 0 "list" "$shield" image list --json
is_json "list --json"
contains '"child"' "list names child"
cp "$work/out" "$work/list.json"
"$shield" image show child --json >"$work/show.json" 2>/dev/null
python3 - "$work/list.json" "$work/show.json" <<'PY' && echo "ok: list --json and show --json give the same types for the same fields (features an array)" || fails=$((fails + 1))
import json, sys
lst = {e["name"]: e for e in json.load(open(sys.argv[1]))}; show = json.load(open(sys.argv[2]))
entry = lst["child"]
if not isinstance(entry["guest_os_features"], list): print("FAIL: list features", entry); sys.exit(1)
for k in set(entry) & set(show):
    if type(entry[k]) is not type(show[k]) or entry[k] != show[k]:
        print("FAIL: %s: list %r vs show %r" % (k, entry[k], show[k])); sys.exit(1)
if entry["guest_os_features"] != ["UEFI_COMPATIBLE"]: print("FAIL: features", entry); sys.exit(1)
PY
# A long output path: mtools' FILE@@OFFSET once lived in 64 bytes (a deep work directory failed).
deep=$work/a-directory-name-long-enough-that-the-path-passes-one-hundred-bytes/and-one-more-level
mkdir -p "$deep"
expect 0 "create a disk under a path of ${#deep} bytes" "$shield" image create -o "$deep/disk.raw" \
        --bootloader "$work/fake.efi" --esp-size 64M --reproducible
expect 0 "delete" "$shield" image delete other
expect 2 "delete again" "$shield" image delete other
expect 2 "show a deleted image" "$shield" image show other
finish
