#!/bin/bash
# shield varstore: Debian's OVMF stores as oracles of the layout; errors; round trips.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ovmf=/usr/share/OVMF
[ -f $ovmf/OVMF_VARS_4M.ms.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }

expect 0 "varstore show --help" "$shield" varstore show --help
expect 0 "varstore create --help" "$shield" varstore create --help
expect 0 "show Debian's store with Microsoft keys" "$shield" varstore show $ovmf/OVMF_VARS_4M.ms.fd
contains "Microsoft Corporation UEFI CA 2011.*sha1 46def63b5ce61cf8ba0de2e6639c1019d0ed14f3" "db holds the Microsoft UEFI CA 2011"
contains "Microsoft Windows Production PCA 2011.*sha1 580a6f4cc4e4b669b9ebdc1b2b3e087b80d0678d" "db holds the Windows PCA 2011"
expect 0 "show --json" "$shield" varstore show --json $ovmf/OVMF_VARS_4M.ms.fd
is_json "show --json"
expect 2 "not a store" "$shield" varstore show /etc/hostname
contains "offset" "the offset is named"

"$shield" keys generate --out "$work/k" >/dev/null 2>&1
expect 2 "create without --pk" "$shield" varstore create --db "$work/k/db.der" -o "$work/v.fd"
expect 2 "two PKs" "$shield" varstore create --pk "$work/k/PK.der" --pk "$work/k/KEK.der" -o "$work/v.fd"
expect 2 "a PK that is not a certificate" "$shield" varstore create --pk /etc/hostname -o "$work/v.fd"
expect 2 "keys already present need --force" "$shield" varstore create --pk "$work/k/PK.der" --template $ovmf/OVMF_VARS_4M.ms.fd -o "$work/v.fd"
contains "already holds" "the refusal says why"
[ ! -e "$work/v.fd" ] && echo "ok: nothing was written" || { echo "FAIL: a refused create wrote a file"; fails=$((fails + 1)); }
expect 0 "create" "$shield" varstore create --pk "$work/k/PK.der" --kek "$work/k/KEK.crt" --db "$work/k/db.der" -o "$work/v.fd"
expect 0 "show the new store" "$shield" varstore show "$work/v.fd"
contains "^PK .*live" "PK is live"
contains "CN=Shieldkit db" "db holds our certificate"
expect 0 "--force replaces keys in Debian's store" "$shield" varstore create --pk "$work/k/PK.der" --db "$work/k/db.der" \
        --template $ovmf/OVMF_VARS_4M.ms.fd --force -o "$work/ms.fd"
"$shield" varstore show "$work/ms.fd" >"$work/out"
contains "^db .*deleted" "the old db record is retired"
[ "$(stat -c %s "$work/ms.fd")" = "$(stat -c %s $ovmf/OVMF_VARS_4M.ms.fd)" ] && echo "ok: the store keeps its size" ||
        { echo "FAIL: the store changed size"; fails=$((fails + 1)); }
finish
