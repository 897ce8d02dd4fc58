#!/bin/bash
# shield defaults show|update: the platform's default dbx is the shipped UEFI
# revocation list; signed updates apply only under the stored KEK, never older.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
[ -f /usr/share/OVMF/OVMF_VARS_4M.ms.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
export SHIELD_STATE_DIR=$work/state
unset SHIELD_DEFAULTS_DIR SHIELD_DEFAULT_DBX
src=${SHIELD_SOURCE_ROOT:?}
shipped=$src/data/uefi/dbx/DBXUpdate-amd64.bin
shipped_count=443 # data/uefi/dbx/README.md

# The shipped list itself: its SHA-256 is the one its README states, and it holds 443 hashes.
sum=$(sha256sum "$shipped" | cut -d' ' -f1)
grep -q "$sum" "$src/data/uefi/dbx/README.md" && echo "ok: the shipped list's SHA-256 is in its README" ||
        { echo "FAIL: $shipped: SHA-256 $sum is not in data/uefi/dbx/README.md"; fails=$((fails + 1)); }

expect 0 "defaults --help" "$shield" defaults --help
expect 0 "defaults show --help" "$shield" defaults show --help
contains "Exit status" "show --help gives the exit status"
expect 0 "defaults update --help" "$shield" defaults update --help
contains "TimeStamp" "update --help says what is refused"
expect 2 "defaults update without a FILE" "$shield" defaults update
expect 2 "defaults show with an argument" "$shield" defaults show extra
expect 2 "defaults frobnicate" "$shield" defaults frobnicate

expect 0 "defaults show (first use makes the defaults)" "$shield" defaults show
contains "^dbx  $shipped_count entries: 0 certificates, $shipped_count hashes" "the default dbx is the shipped revocation list"
contains "revocation list shipped with Shieldkit" "... and says where it came from"
contains "sha1 31590bfd89c9d74ed087dfac66334b3931254b30" "KEK: Microsoft Corporation KEK CA 2011"
contains "sha1 580a6f4cc4e4b669b9ebdc1b2b3e087b80d0678d" "db: Windows Production PCA 2011"
contains "sha1 46def63b5ce61cf8ba0de2e6639c1019d0ed14f3" "db: Microsoft UEFI CA 2011"
contains "Debian OVMF_VARS_4M.ms.fd" "KEK and db came from OVMF"
expect 0 "defaults show --json" "$shield" defaults show --json
is_json "defaults show --json"
python3 - "$work/out" "$shipped_count" <<'PY' && echo "ok: --json counts and sources" || { echo "FAIL: --json"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert d["dbx"]["hashes"] == n and d["dbx"]["certificates"] == 0, d["dbx"]
assert d["dbx"]["timestamp"] == "2010-03-06T19:17:21Z" and d["dbx"]["date"] == "2026-06-30", d["dbx"]
assert [c["sha1"] for c in d["KEK"]["certs"]] == ["31590bfd89c9d74ed087dfac66334b3931254b30"]
assert d["db"]["certificates"] == 2 and d["PK"]["entries"] == 0
PY

# Every place defaults apply gets the full list: varstore create, initial-state resolve.
"$shield" keys generate --out "$work/keys" --cn-prefix T >/dev/null 2>&1
"$shield" initial-state create --pk "$work/keys/PK.der" -o "$work/pk-only.json" >/dev/null 2>&1
expect 0 "varstore create --initial-state without --defaults" "$shield" varstore create --initial-state "$work/pk-only.json" -o "$work/VARS.fd"
expect 0 "varstore show" "$shield" varstore show "$work/VARS.fd"
contains "0 certificates, $shipped_count hashes" "the store's dbx holds the whole list"
expect 0 "initial-state resolve without --defaults" "$shield" initial-state resolve "$work/pk-only.json" --json
python3 - "$work/out" "$shipped_count" <<'PY' && echo "ok: resolve gives the full dbx" || { echo "FAIL: resolve dbx"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert sum(len(e["entries"]) for e in d["dbxs"]) == n, d["dbxs"]
PY

# A platform made by an earlier Shieldkit (dbx = OVMF's placeholder) is upgraded on first use.
old=$work/old-state
mkdir -p "$old/platform-defaults/dbx"
cp -r "$SHIELD_STATE_DIR/platform-defaults/certs" "$old/platform-defaults/"
python3 - "$old/platform-defaults/dbx/DBXUpdate.bin" <<'PY'
import hashlib, struct, sys
sha256_guid = bytes.fromhex("2616c4c14c509240aca941f936934328")
open(sys.argv[1], "wb").write(sha256_guid + struct.pack("<III", 76, 0, 48) + bytes(16) + hashlib.sha256(b"").digest())
PY
SHIELD_STATE_DIR=$old expect 0 "defaults show on an old platform" "$shield" defaults show
contains "^dbx  $shipped_count entries" "... upgrades its dbx to the revocation list"
[ ! -e "$old/platform-defaults/dbx/DBXUpdate.bin" ] && echo "ok: ... and removes the placeholder" ||
        { echo "FAIL: the placeholder dbx is still there"; fails=$((fails + 1)); }
# An owner's own dbx/DBXUpdate.bin (not the placeholder) is left alone.
own=$work/own-state
mkdir -p "$own/platform-defaults/dbx"
cp -r "$SHIELD_STATE_DIR/platform-defaults/certs" "$own/platform-defaults/"
"$shield" siglist create --sha256 "$(printf a | sha256sum | cut -c1-64)" -o "$own/platform-defaults/dbx/DBXUpdate.bin" >/dev/null 2>&1
SHIELD_STATE_DIR=$own expect 0 "defaults show with an owner's dbx" "$shield" defaults show
contains "^dbx  1 entry" "... keeps the owner's dbx"

# The real signed update: verifies under the default KEK (Microsoft Corporation KEK CA 2011).
if have_data uefi-ms/dbx; then
        ms=$data/uefi-ms
        expect 0 "update with Microsoft's DBXUpdate.bin (as stored: nothing new)" "$shield" defaults update "$ms/dbx/DBXUpdate-amd64.bin"
        contains "unchanged" "... says nothing changed"
        expect 0 "update with the 2024 optional dbx (append)" "$shield" defaults update --json "$ms/dbx/DBXUpdate2024-optional.bin"
        python3 - "$work/out" "$shipped_count" <<'PY' && echo "ok: applied as an append under the Microsoft KEK" || { echo "FAIL: append"; fails=$((fails + 1)); }
import json, sys
r = json.load(open(sys.argv[1]))[0]; n = int(sys.argv[2])
assert r["outcome"] == "applied" and r["variable"] == "dbx" and r["append"], r
assert r["signer_sha1"] == "31590bfd89c9d74ed087dfac66334b3931254b30", r
assert r["entries_before"] == n and r["entries_after"] == n + 4, r
PY
        "$shield" defaults show >"$work/out" 2>&1
        contains "^dbx  $((shipped_count + 4)) entries: 1 certificate, $((shipped_count + 3)) hashes" "show gives the stored update"
        contains "shield defaults update" "... and its source"
        # An older list after a newer one changes nothing (an append merges; Microsoft's lists are cumulative).
        expect 0 "the 2021 list after the current one" "$shield" defaults update "$ms/revocationlist/dbxupdate_x64-2021-04-29.bin"
        "$shield" defaults show >"$work/out" 2>&1
        contains "^dbx  $((shipped_count + 4)) entries" "... leaves the dbx as it was (its hashes are in the newer list)"
        expect 0 "a db update (Windows UEFI CA 2023)" "$shield" defaults update "$ms/db/DBUpdate2024.bin"
        contains "db \(append\) update" "... is a db append"
        "$shield" defaults show >"$work/out" 2>&1
        contains "^db   3 entries" "db: 2 + the 2023 CA"
        # The same file with one byte changed (a hash in the payload): refused, not applied.
        cp "$ms/dbx/DBXUpdate-amd64.bin" "$work/tampered.bin"
        printf '\x00' | dd of="$work/tampered.bin" bs=1 seek=$(($(stat -c %s "$work/tampered.bin") - 1)) conv=notrunc 2>/dev/null
        expect 1 "a tampered DBXUpdate.bin" "$shield" defaults update "$work/tampered.bin"
        contains "refused: the signature verifies under no stored KEK" "... is refused for its signature"
        # A KEK update signed by another vendor's PK: refused (the platform PK did not sign it).
        expect 1 "HP's KEK update" "$shield" defaults update "$ms/kek/KEKUpdate_HP_PK1.bin"
        # The 2023 KEK did not sign it: a defaults directory whose only KEK is the 2023 one refuses it.
        k23=$work/kek2023
        mkdir -p "$k23/dbx"
        "$shield" siglist create --x509 "$ms/certs/microsoft-corporation-kek-2k-ca-2023.der" -o "$k23/KEK.esl" >/dev/null 2>&1
        cp "$ms/certs/MicWinProPCA2011_2011-10-19.der" "$ms/certs/MicCorUEFCA2011_2011-06-27.der" "$k23/"
        cp "$shipped" "$k23/dbx/DBXUpdate-amd64.bin"
        SHIELD_DEFAULTS_DIR=$k23 expect 1 "DBXUpdate.bin under the 2023 KEK only" "$shield" defaults update "$ms/dbx/DBXUpdate-amd64.bin"
else
        echo "skip: no shared data ($data/uefi-ms): the real signed updates are not tried"
fi
expect 2 "update with a file that is not a signed update" "$shield" defaults update "$work/keys/PK.der"

# TimeStamps: an update older than the stored value is refused (both dates said), with our own KEK.
own=$work/own-defaults
mkdir -p "$own"
"$shield" siglist create --x509 "$work/keys/KEK.der" -o "$own/KEK.esl" >/dev/null 2>&1
"$shield" siglist create --x509 "$work/keys/db.der" -o "$own/db.esl" >/dev/null 2>&1
"$shield" siglist create --sha256 "$(printf b | sha256sum | cut -c1-64)" -o "$own/dbx.esl" >/dev/null 2>&1
"$shield" siglist create --sha256 "$(printf c | sha256sum | cut -c1-64)" -o "$work/new.esl" >/dev/null 2>&1
for t in 2026-01-02 2025-06-01; do
        "$shield" authvar sign --var dbx --key "$work/keys/KEK.key" --cert "$work/keys/KEK.crt" --esl "$work/new.esl" \
                --time "$t 00:00:00" -o "$work/dbx-$t.auth" >/dev/null 2>&1
done
"$shield" authvar sign --var dbx --append --key "$work/keys/KEK.key" --cert "$work/keys/KEK.crt" --esl "$work/new.esl" \
        --time "2025-06-01 00:00:00" -o "$work/dbx-append-old.auth" >/dev/null 2>&1
export SHIELD_DEFAULTS_DIR=$own
expect 0 "a newer dbx (replace)" "$shield" defaults update "$work/dbx-2026-01-02.auth"
contains "applied: dbx update" "... applied"
expect 1 "an older dbx after it" "$shield" defaults update "$work/dbx-2025-06-01.auth"
contains "2025-06-01T00:00:00Z is older than the stored dbx's, 2026-01-02T00:00:00Z" "... refused, both dates said"
expect 1 "an older append after it" "$shield" defaults update "$work/dbx-append-old.auth"
expect 1 "the whole batch fails when one is refused" "$shield" defaults update "$work/dbx-2026-01-02.auth" "$work/dbx-2025-06-01.auth"
unset SHIELD_DEFAULTS_DIR
finish
