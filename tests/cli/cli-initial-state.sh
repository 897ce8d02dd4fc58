#!/bin/bash
# shield initial-state: the initial_state_config JSON, defaults and their rules.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# A kept platform PK in the real state directory must not change what these tests see.
export XDG_STATE_HOME=$work

"$shield" keys generate --out "$work/k" --cn-prefix Owner >/dev/null 2>&1
"$shield" siglist create --sha256 "$(printf x | openssl dgst -sha256 -r | cut -c1-64)" -o "$work/dbx.esl" >/dev/null
for verb in create show resolve; do
        expect 0 "initial-state $verb --help" "$shield" initial-state "$verb" --help
done
expect 0 "create without --pk: the PK is left to the platform default" "$shield" initial-state create \
        --db "$work/k/db.der" -o "$work/nopk.json"
contains "pk \(platform default\), 0 keks, 1 dbs, 0 dbxs" "create says the PK takes the default"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if set(s) == {"dbs"} else 1)' "$work/nopk.json" &&
        echo "ok: no pk field in the document" || { echo "FAIL: pk written"; fails=$((fails + 1)); }
expect 0 "show the PK-less state" "$shield" initial-state show "$work/nopk.json"
contains "^pk +\(platform default\)" "show: pk takes the platform default"
expect 2 "two --pk" "$shield" initial-state create --pk "$work/k/PK.der" --pk "$work/k/KEK.der" -o "$work/s.json"
contains "exactly one X.509 certificate" "two PKs are refused"
expect 2 "a PK that is a signature list" "$shield" initial-state create --pk "$work/dbx.esl" -o "$work/s.json"
expect 2 "an input that is nothing" "$shield" initial-state create --pk "$work/k/PK.der" --db /etc/hostname -o "$work/s.json"
expect 0 "create" "$shield" initial-state create --pk "$work/k/PK.crt" --kek "$work/k/KEK.der" --db "$work/k/db.der" \
        --dbx "$work/dbx.esl" -o "$work/s.json"
python3 - "$work/s.json" "$work/k/PK.der" <<'PY' && echo "ok: the JSON has the images-API shape; PEM became DER" || { echo "FAIL: JSON shape"; fails=$((fails + 1)); }
import base64, json, sys
s = json.load(open(sys.argv[1]))
assert set(s) == {"pk", "keks", "dbs", "dbxs"}, s.keys()
assert s["pk"]["fileType"] == "X509" and base64.b64decode(s["pk"]["content"]) == open(sys.argv[2], "rb").read()
assert [e["fileType"] for e in s["keks"]] == ["X509"] and [e["fileType"] for e in s["dbxs"]] == ["BIN"]
PY
expect 0 "show" "$shield" initial-state show "$work/s.json"
contains "X509 +CN=Owner db" "show names the db certificate"
expect 0 "show --json" "$shield" initial-state show --json "$work/s.json"
is_json "show --json"

echo '{"pk": {"content": "bm90IGEgY2VydA==", "fileType": "X509"}}' >"$work/bad1.json"
echo '{"pk": {"content": "x", "fileType": "PEM"}}' >"$work/bad2.json"
echo '{"pks": []}' >"$work/bad3.json"
echo '{"keks": []}' >"$work/bad4.json"
echo '{"keks": [{"content": "AAAA", "fileType": "BIN"}, {"content": "AAAA", "fileType": "PEM"}]}' >"$work/bad5.json"
for i in 1 2 3 4 5; do
        expect 2 "invalid initial state $i" "$shield" initial-state show "$work/bad$i.json"
done
contains "keks\[0\]\.content: not EFI signature lists" "the malformed field is named by its path"

if have_data uefi-ms; then
        d=$data/uefi-ms
        echo '{}' >"$work/empty.json"
        expect 0 "resolve an empty state: every default" "$shield" initial-state resolve "$work/empty.json" \
                --defaults "$d" --platform-pk "$work/k/PK.der" --json
        python3 - "$work/out" <<'PY' && echo "ok: defaults are the Microsoft KEK, both Microsoft db certificates and the revocation list" || { echo "FAIL: defaults"; fails=$((fails + 1)); }
import json, sys
r = json.load(open(sys.argv[1]))
assert [e["sha1"][:8] for e in r["keks"]] == ["31590bfd"], r["keks"]
assert sorted(e["sha1"][:8] for e in r["dbs"]) == ["46def63b", "580a6f4c"], r["dbs"]
assert r["dbxs"][0]["fileType"] == "BIN" and len(r["dbxs"][0]["entries"]) > 100
PY
        expect 0 "resolve: a custom db replaces the default" "$shield" initial-state resolve "$work/s.json" \
                --defaults "$d" --json
        python3 - "$work/out" <<'PY' && echo "ok: custom values replace, never merge" || { echo "FAIL: merge"; fails=$((fails + 1)); }
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text[text.index("{"):])
assert len(r["dbs"]) == 1 and "Owner db" in r["dbs"][0]["subject"], r["dbs"]
assert len(r["dbxs"][0]["entries"]) == 1
PY
        contains "lacks the Microsoft Corporation UEFI CA" "a custom db without the Microsoft UEFI CA is warned about"
        expect 2 "resolve without a platform PK" "$shield" initial-state resolve "$work/empty.json" --defaults "$d"
        expect 2 "resolve with a defaults directory that lacks them" "$shield" initial-state resolve "$work/empty.json" \
                --defaults "$work" --platform-pk "$work/k/PK.der"
else
        echo "skip: no shared data (defaults)"
fi
finish
