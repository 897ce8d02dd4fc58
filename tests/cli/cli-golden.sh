#!/bin/bash
# shield golden show|reset|export|import on a store written by the unit
# test's fixture (test-store with SHIELD_TEST_STORE_FIXTURE: instance "vm1"
# with a golden measurement and two verdicts), since `shield verify` is what
# records goldens in real use.
. "$(dirname "$0")/lib.sh"

fixture_bin=$(dirname "$shield")/../../tests/unit/test-store
db=$work/shield.db
export SHIELD_STORE=$work/default.db   # never touch the user's own store

expect 0 "golden --help" "$shield" golden --help
contains "reset" "family help lists reset"
for v in show reset export import; do
        expect 0 "golden $v --help" "$shield" golden "$v" --help
        contains "Exit status" "golden $v --help has the exit status"
done
expect 2 "show without --instance" "$shield" golden show --store "$db"
contains "--instance ID is required" "says --instance is required"
expect 2 "show, no store file" "$shield" golden show --instance vm1 --store "$db"
contains "no store" "says there is no store"
[ ! -e "$db" ] && echo "ok: show did not create a store" || { echo "FAIL: show created a store"; fails=$((fails + 1)); }
expect 2 "unknown option" "$shield" golden show --instance vm1 --bogus
expect 2 "unknown verb" "$shield" golden frobnicate

if [ ! -x "$fixture_bin" ]; then
        echo "SKIP: $fixture_bin not built: only usage tested"
        finish
        exit
fi
SHIELD_TEST_STORE_FIXTURE=$db "$fixture_bin" || { echo "FAIL: fixture"; exit 1; }

expect 0 "show" "$shield" golden show --instance vm1 --store "$db"
contains "PCR  4  #4 +EV_EFI_BOOT_SERVICES_APPLICATION" "show lists the events"
contains "sha256:" "show lists the sha256 bank"
contains "red +\(early boot red, late boot green\)" "show has the history, newest first"
contains "\[event-changed\] PCR 4 event 4" "show has the verdict reasons"
expect 0 "show --json" "$shield" golden show --instance vm1 --store "$db" --json
is_json "show --json"
contains "\"format\": \"shieldkit-golden/1\"" "show --json carries the golden JSON"
expect 0 "show --history 0" "$shield" golden show --instance vm1 --store "$db" --history 0
if grep -q History "$work/out"; then echo "FAIL: --history 0 shows history"; fails=$((fails + 1)); else echo "ok: --history 0"; fi
expect 2 "show --history x" "$shield" golden show --instance vm1 --store "$db" --history x
expect 2 "show, unknown instance" "$shield" golden show --instance nope --store "$db"
contains "no golden measurement for instance \"nope\"" "names the instance"

expect 0 "export (PCRS.json)" "$shield" golden export --instance vm1 --store "$db"
is_json "export"
contains "\"sha256\"" "export has the sha256 bank"
expect 0 "export --pcrs 0" "$shield" golden export --instance vm1 --store "$db" --pcrs 0
if grep -q '"4"' "$work/out"; then echo "FAIL: --pcrs 0 kept PCR 4"; fails=$((fails + 1)); else echo "ok: --pcrs 0 keeps PCR 0 only"; fi
expect 2 "export --pcrs 24" "$shield" golden export --instance vm1 --store "$db" --pcrs 24
expect 2 "export --format x" "$shield" golden export --instance vm1 --store "$db" --format x
expect 0 "export --format golden -o" "$shield" golden export --instance vm1 --store "$db" --format golden -o "$work/golden.json"
python3 -m json.tool "$work/golden.json" >/dev/null && echo "ok: exported golden is JSON" || { echo "FAIL: golden.json"; fails=$((fails + 1)); }

expect 0 "import a golden" "$shield" golden import --instance vm2 --store "$db" "$work/golden.json"
contains "4 events" "import says what it recorded"
expect 0 "show the imported golden" "$shield" golden show --instance vm2 --store "$db"
z64=$(printf '%064d' 0); a64=$(printf 'a%.0s' $(seq 64))
echo "{\"format\": \"shieldkit-evidence/1\", \"pcrs\": {\"sha256\": {\"0\": \"$a64\", \"9\": \"$z64\"}}}" >"$work/ev.json"
expect 0 "import evidence (values only)" "$shield" golden import --instance vm3 --store "$db" --json "$work/ev.json"
is_json "import --json"
contains "\"eventlog\": false" "evidence without a log gives a values-only golden"
echo '{"format": "shieldkit-golden/1", "pcrs": {}, "eventlog": false, "events": [], "extra": 1}' >"$work/bad.json"
expect 2 "import a bad golden" "$shield" golden import --instance vm4 --store "$db" "$work/bad.json"
contains "unknown key \"extra\"" "names the bad key"
expect 2 "import without FILE" "$shield" golden import --instance vm4 --store "$db"

expect 0 "reset" "$shield" golden reset --instance vm1 --store "$db"
contains "Forgot the golden measurement of vm1" "reset says what it forgot"
contains "next .shield verify --instance vm1." "reset says what happens next"
expect 2 "show after reset" "$shield" golden show --instance vm1 --store "$db"
expect 2 "reset again" "$shield" golden reset --instance vm1 --store "$db"
expect 2 "export after reset" "$shield" golden export --instance vm1 --store "$db"
expect 0 "reset --json" "$shield" golden reset --instance vm2 --store "$db" --json
is_json "reset --json"

finish
