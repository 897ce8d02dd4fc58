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

# make_pe FILE — a small well-formed PE32+ x86-64 EFI application (two sections of
# filler, no code worth running): a bootloader for layout tests that parses as PE/COFF.
make_pe() {
        python3 - "$1" <<'PY'
import struct, sys
H, opt, optsz, nsec = 0x200, 0x40 + 24, 112 + 128, 2
b = bytearray(H + 0x200 * nsec)
b[0:2] = b"MZ"; struct.pack_into("<I", b, 0x3c, 0x40); b[0x40:0x44] = b"PE\0\0"
struct.pack_into("<HH", b, 0x44, 0x8664, nsec); struct.pack_into("<H", b, 0x54, optsz)
struct.pack_into("<H", b, opt, 0x20b); struct.pack_into("<II", b, opt + 32, 0x1000, 0x200)
struct.pack_into("<I", b, opt + 60, H); struct.pack_into("<H", b, opt + 68, 10)
struct.pack_into("<I", b, opt + 108, 16)
for i in range(nsec):
    s = opt + optsz + 40 * i
    b[s:s + 3] = b".s%d" % i
    struct.pack_into("<IIII", b, s + 8, 0x200, 0x1000 * (i + 1), 0x200, H + 0x200 * i)
for i in range(H, len(b)): b[i] = (i * 13) & 0xff
open(sys.argv[1], "wb").write(b)
PY
}
