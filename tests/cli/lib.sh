# Shared helpers for the black-box CLI tests (sourced).
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
data=${SHIELD_SHARED_DATA:-}
fails=0
work=$(mktemp -d /tmp/cli-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

# expect EXIT DESCRIPTION CMD… — run CMD, keep its output in $work/out, check the exit code.
expect() {
        local want=$1 what=$2
        shift 2
        "$@" >"$work/out" 2>&1
        local got=$?
        if [ "$got" -ne "$want" ]; then
                echo "FAIL: $what: exit $got, expected $want"
                sed 's/^/  | /' "$work/out" | head -20
                fails=$((fails + 1))
        else
                echo "ok: $what"
        fi
}

# contains PATTERN DESCRIPTION — the last command's output matches PATTERN (grep -E).
contains() {
        if grep -qE -- "$1" "$work/out"; then echo "ok: $2"; else
                echo "FAIL: $2 (no /$1/ in output)"; sed 's/^/  | /' "$work/out" | head -20; fails=$((fails + 1))
        fi
}

is_json() {
        if python3 -m json.tool "$work/out" >/dev/null 2>&1; then echo "ok: $1 is JSON"; else
                echo "FAIL: $1 is not JSON"; fails=$((fails + 1)); fi
}

have_data() { [ -n "$data" ] && [ -d "$data/$1" ]; }

finish() { [ "$fails" -eq 0 ]; }
