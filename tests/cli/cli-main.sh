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
# A usage error is one line saying what is wrong and one pointing at --help, not the whole usage.
out=/tmp/cli-main.$$.out
usage_error() { # DESCRIPTION PATTERN TRY CMD…
        local what=$1 pattern=$2 try=$3; shift 3
        check "$what" 2 "$@"
        if [ "$(wc -l <"$out")" -eq 2 ] && head -1 "$out" | grep -qE -- "^shield: $pattern" &&
                [ "$(tail -1 "$out")" = "Try '$try --help'." ]; then
                echo "ok: $what: one line, then Try '$try --help'."
        else
                echo "FAIL: $what: expected /^shield: $pattern/ and Try '$try --help'."; sed 's/^/  | /' "$out"; fails=$((fails + 1))
        fi
}
usage_error "no command" "a command is required \(eventlog, ima, " "shield" "$shield"
usage_error "unknown command" 'unknown command "frobnicate"' "shield" "$shield" frobnicate
usage_error "an option before the command" "unknown option '--json': a command comes first" "shield" "$shield" --json
usage_error "no verb" "image: a command is required \(create, check, register, list, show, delete\)" "shield image" "$shield" image
usage_error "unknown verb" 'image: unknown command "frob"' "shield image" "$shield" image frob
usage_error "unknown long option" "create: unknown option '--frob'" "shield image create" "$shield" image create --frob
usage_error "unknown long option with a value" "create: unknown option '--frob'" "shield image create" "$shield" image create --frob=1
usage_error "unknown short option" "create: unknown option '-x'" "shield image create" "$shield" image create -x
usage_error "a value given to a flag" "list: --json takes no value" "shield image list" "$shield" image list --json=1
usage_error "a nested family" "create: unknown option '--bogus'" "shield tpm ak create" "$shield" tpm ak create --bogus
usage_error "a verb's own check" "create: -o DISK and --bootloader are required" "shield image create" "$shield" image create
# A missing value is named as such, in every family (getopt's ':' handled once, in cli_getopt).
usage_error "initial-state resolve --defaults" "resolve: --defaults needs a value" "shield initial-state resolve" \
        "$shield" initial-state resolve x.json --defaults
usage_error "an abbreviated option" "create: --esp-size needs a value" "shield image create" "$shield" image create --esp-si
usage_error "a short option" "create: -o needs a value" "shield image create" "$shield" image create -o
for cmd in "eventlog show --bank" "ima show --bank" "keys generate --out" "siglist create --owner" "authvar sign --var" \
        "pe sign --key" "sb check --db" "varstore create --template" "image check --image" "image register x --source-disk" \
        "tpm pcrs --bank" "tpm quote --nonce" "attest --nonce" "quote verify --ak-pub" "agent --server" "token verify --jwks" \
        "initial-state create --pk"; do
        set -- $cmd
        opt=${*: -1}
        try="shield $1"; [ "$1" != attest ] && [ "$1" != agent ] && try="$try $2"
        # shellcheck disable=SC2086
        usage_error "$cmd" "[a-z-]+: $opt needs a value" "$try" "$shield" $cmd
done
rm -f /tmp/cli-main.$$.out
[ "$fails" -eq 0 ]
