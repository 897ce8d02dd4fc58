#!/bin/bash
# shield varstore: Debian's OVMF stores as oracles of the layout and of the
# keys Debian enrolled; refusals; round trips; a full store; a corrupt one.
# (OVMF booting what `create` writes is tests/e2e/e2e-secureboot-ovmf.sh.)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ovmf=/usr/share/OVMF
[ -f $ovmf/OVMF_VARS_4M.ms.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
check_json() { # DESCRIPTION PYTHON-ASSERTIONS (on `v`, the parsed output)
        if python3 -c "import json,sys; v=json.load(open(sys.argv[1])); $2" "$work/out" 2>"$work/py"; then
                echo "ok: $1"
        else
                echo "FAIL: $1"; sed 's/^/  | /' "$work/py" | tail -3; fails=$((fails + 1))
        fi
}

expect 0 "varstore show --help" "$shield" varstore show --help
expect 0 "varstore create --help" "$shield" varstore create --help
expect 2 "show without a file" "$shield" varstore show
expect 2 "show with an unknown option" "$shield" varstore show --bogus $ovmf/OVMF_VARS_4M.fd

# Debian's store with keys enrolled (README.Debian): Debian PK, Debian + Microsoft KEK,
# Microsoft's two db certificates, one dbx hash, SecureBootEnable=1.
expect 0 "show Debian's store with Microsoft keys" "$shield" varstore show $ovmf/OVMF_VARS_4M.ms.fd
contains "^$ovmf/OVMF_VARS_4M.ms.fd: authenticated variable store, [0-9]+ records" "the summary line"
contains "Microsoft Corporation UEFI CA 2011.*sha1 46def63b5ce61cf8ba0de2e6639c1019d0ed14f3" "db holds the Microsoft UEFI CA 2011"
contains "Microsoft Windows Production PCA 2011.*sha1 580a6f4cc4e4b669b9ebdc1b2b3e087b80d0678d" "db holds the Windows PCA 2011"
contains "Microsoft Corporation KEK CA 2011" "KEK holds Microsoft's KEK CA"
contains "^PK +EFI_GLOBAL_VARIABLE +NV\|BS\|RT\|AT +live .*time [0-9]{4}-" "PK: attributes, state and timestamp"
contains "^SecureBootEnable .* live .*= 1" "SecureBootEnable = 1"
contains "^CustomMode .* deleted" "deleted records are listed too"
expect 0 "show --json" "$shield" varstore show --json $ovmf/OVMF_VARS_4M.ms.fd
is_json "show --json"
check_json "JSON: the four databases, decoded" '
live = {x["name"]: x for x in v["variables"] if x["state"] == "live"}
assert v["authenticated"] is True
for n in ("PK", "KEK", "db", "dbx"):
    assert live[n]["attributes"] == "NV|BS|RT|AT" and live[n]["attributes_value"] == 0x27, n
    assert live[n]["timestamp"] is not None, n
assert live["db"]["vendor"] == "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
assert live["PK"]["vendor_name"] == "EFI_GLOBAL_VARIABLE"
assert "signatures" in live["db"] and "Microsoft" in json.dumps(live["db"]["signatures"])
assert any(x["state"] == "deleted" for x in v["variables"])'
for f in OVMF_VARS.fd OVMF_VARS.ms.fd OVMF_VARS_4M.snakeoil.fd; do
        [ -f $ovmf/$f ] || continue
        expect 0 "show $f" "$shield" varstore show $ovmf/$f
done
expect 0 "show the empty 4 MiB template" "$shield" varstore show $ovmf/OVMF_VARS_4M.fd
contains "0 records, 262044 bytes free" "the empty template has no records"

expect 2 "not a store" "$shield" varstore show /etc/hostname
contains "offset" "the offset is named"
cp $ovmf/OVMF_VARS_4M.fd "$work/corrupt.fd"
printf '\x01' | dd of="$work/corrupt.fd" bs=1 seek=$((0x3c)) conv=notrunc status=none
expect 2 "a corrupted volume header" "$shield" varstore show "$work/corrupt.fd"
contains "0x32.*checksum" "the checksum error names its offset"
head -c 4096 $ovmf/OVMF_VARS_4M.fd >"$work/cut.fd"
expect 2 "a store cut short" "$shield" varstore show "$work/cut.fd"
contains "FvLength" "the size lie is named"

"$shield" keys generate --out "$work/k" >/dev/null 2>&1 || { echo "FAIL: keys generate"; exit 1; }
expect 2 "create without --pk" "$shield" varstore create --db "$work/k/db.der" -o "$work/v.fd"
expect 2 "create without -o" "$shield" varstore create --pk "$work/k/PK.der"
expect 2 "two PKs" "$shield" varstore create --pk "$work/k/PK.der" --pk "$work/k/KEK.der" -o "$work/v.fd"
expect 2 "a PK that is not a certificate" "$shield" varstore create --pk /etc/hostname -o "$work/v.fd"
expect 2 "--initial-state with --pk" "$shield" varstore create --initial-state /dev/null --pk "$work/k/PK.der" -o "$work/v.fd"
expect 2 "a template that is not a store" "$shield" varstore create --pk "$work/k/PK.der" --template /etc/hostname -o "$work/v.fd"
expect 2 "keys already present need --force" "$shield" varstore create --pk "$work/k/PK.der" --template $ovmf/OVMF_VARS_4M.ms.fd -o "$work/v.fd"
contains "already holds" "the refusal says why"
[ ! -e "$work/v.fd" ] && echo "ok: nothing was written" || { echo "FAIL: a refused create wrote a file"; fails=$((fails + 1)); }

expect 0 "create" "$shield" varstore create --pk "$work/k/PK.der" --kek "$work/k/KEK.crt" --db "$work/k/db.der" -o "$work/v.fd"
expect 0 "show the new store" "$shield" varstore show "$work/v.fd"
contains "^PK .*live" "PK is live"
contains "CN=Shieldkit db" "db holds our certificate"
cmp -s <(head -c $((0x64)) "$work/v.fd") <(head -c $((0x64)) $ovmf/OVMF_VARS_4M.fd) &&
        cmp -s <(tail -c +$((0x40001)) "$work/v.fd") <(tail -c +$((0x40001)) $ovmf/OVMF_VARS_4M.fd) &&
        echo "ok: only the record area changed (headers and FTW area are the template's)" ||
        { echo "FAIL: bytes outside the record area changed"; fails=$((fails + 1)); }
# efitools' cert-to-efi-sig-list is the oracle for what lands in db.
if command -v cert-to-efi-sig-list >/dev/null; then
        cert-to-efi-sig-list -g 00000000-0000-0000-0000-000000000000 "$work/k/db.crt" "$work/db.esl" >/dev/null 2>&1
        "$shield" varstore show --json "$work/v.fd" >"$work/out"
        check_json "db holds exactly what cert-to-efi-sig-list makes" "
esl = open('$work/db.esl','rb').read()
raw = open('$work/v.fd','rb').read()
db = [x for x in v['variables'] if x['name'] == 'db'][0]
o = db['offset'] + 60 + 6
assert db['size'] == len(esl) and raw[o:o + len(esl)] == esl"
        # Raw signature lists are taken as they are; a PK list must hold exactly one certificate.
        cert-to-efi-sig-list "$work/k/PK.crt" "$work/pk.esl" >/dev/null 2>&1
        expect 0 "create from efitools ESL files" "$shield" varstore create --pk "$work/pk.esl" --db "$work/db.esl" -o "$work/esl.fd"
        cat "$work/pk.esl" "$work/db.esl" >"$work/two.esl"
        expect 2 "a PK list with two certificates" "$shield" varstore create --pk "$work/two.esl" -o "$work/esl2.fd"
        contains "exactly one X.509" "the refusal says why"
fi

expect 0 "--force replaces keys in Debian's store" "$shield" varstore create --pk "$work/k/PK.der" --db "$work/k/db.der" \
        --template $ovmf/OVMF_VARS_4M.ms.fd --force -o "$work/ms.fd"
"$shield" varstore show "$work/ms.fd" >"$work/out"
contains "^db .*deleted" "the old db record is retired"
contains "CN=Shieldkit db" "the new db is ours"
[ "$(stat -c %s "$work/ms.fd")" = "$(stat -c %s $ovmf/OVMF_VARS_4M.ms.fd)" ] && echo "ok: the store keeps its size" ||
        { echo "FAIL: the store changed size"; fails=$((fails + 1)); }

# An initial state with only our PK: the platform defaults fill in Microsoft's KEK and db and the DBX.
if have_data uefi-ms; then
        "$shield" initial-state create --pk "$work/k/PK.der" -o "$work/is.json" >/dev/null 2>&1
        expect 0 "create --initial-state with --defaults" "$shield" varstore create --initial-state "$work/is.json" \
                --defaults "$data/uefi-ms" -o "$work/is.fd"
        "$shield" varstore show --json "$work/is.fd" >"$work/out"
        check_json "the store holds our PK and the default KEK, db and dbx" '
live = {x["name"]: x for x in v["variables"] if x["state"] == "live"}
assert set(live) == {"PK", "KEK", "db", "dbx"}, set(live)
s = json.dumps(live)
assert "Shieldkit PK" in json.dumps(live["PK"]) and "Microsoft Corporation KEK CA 2011" in json.dumps(live["KEK"])
assert "Microsoft Corporation UEFI CA 2011" in json.dumps(live["db"])
assert live["dbx"]["size"] > 1000'
fi

# A dbx bigger than the 2 MiB build's store: refused, and nothing written.
if [ -f $ovmf/OVMF_VARS.fd ]; then
        python3 - "$work/big.esl" <<'PY'
import struct, sys, uuid
n = 1300  # 1300 SHA-256 entries: 62 KB, more than the 56 KB store (UEFI 2.10 32.4.1 layout)
body = b"".join(bytes(16) + i.to_bytes(32, "little") for i in range(n))
open(sys.argv[1], "wb").write(uuid.UUID("c1c41626-504c-4092-aca9-41f936934328").bytes_le +
                              struct.pack("<III", 28 + len(body), 0, 48) + body)
PY
        expect 2 "a dbx that does not fit" "$shield" varstore create --pk "$work/k/PK.der" --dbx "$work/big.esl" \
                --template $ovmf/OVMF_VARS.fd -o "$work/full.fd"
        contains "full" "the refusal says the store is full"
        [ ! -e "$work/full.fd" ] && echo "ok: nothing was written" || { echo "FAIL: a full store was written"; fails=$((fails + 1)); }
        expect 0 "the 2 MiB template takes the keys" "$shield" varstore create --pk "$work/k/PK.der" --db "$work/k/db.der" \
                --template $ovmf/OVMF_VARS.fd -o "$work/small.fd"
fi
finish
