#!/bin/bash
# The top-level `shield` command: help, version, exit codes for bad usage.
set -uo pipefail
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
fails=0
check() { # DESCRIPTION EXPECTED-EXIT CMD…
        local what=$1 want=$2; shift 2
        "$@" >/tmp/cli-main.$$.out 2>&1
        local got=$?
        if [ "$got" -ne "$want" ]; then
                echo "FAIL: $what: exit $got, expected $want"; sed 's/^/  | /' /tmp/cli-main.$$.out; fails=$((fails + 1))
        else
                echo "ok: $what"
        fi
}

check "--help exits 0" 0 "$shield" --help
grep -q "^Usage: shield" /tmp/cli-main.$$.out || { echo "FAIL: --help has no synopsis"; fails=$((fails + 1)); }
check "--version exits 0" 0 "$shield" --version
grep -qE "^shield [0-9]+\.[0-9]+\.[0-9]+" /tmp/cli-main.$$.out || { echo "FAIL: --version format"; fails=$((fails + 1)); }
check "no command is a usage error" 2 "$shield"
check "unknown command is a usage error" 2 "$shield" frobnicate
grep -q 'unknown command "frobnicate"' /tmp/cli-main.$$.out || { echo "FAIL: unknown command not named"; fails=$((fails + 1)); }
# Every command family answers --help with its own usage and exit 0.
for noun in $("$shield" --help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}'); do
        check "$noun --help exits 0" 0 "$shield" "$noun" --help
        grep -qi "usage" /tmp/cli-main.$$.out || { echo "FAIL: $noun --help prints no usage"; fails=$((fails + 1)); }
done
rm -f /tmp/cli-main.$$.out
[ "$fails" -eq 0 ]
