#!/bin/bash
# The README's own examples run as written on a fresh clone: every
# "$ shield …" line of its code blocks that can run offline is run, in
# order, in one empty directory with a fresh platform state. Lines that need
# a running shieldd, a VM boot, a TPM device or this machine's measurements,
# or the network are listed as skipped with the reason. A command must exit
# 0 unless the README shows it failing (its output says Fail / NOT verified /
# does not match), then 1.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
src=${SHIELD_SOURCE_ROOT:?}
[ -f /usr/share/OVMF/OVMF_VARS_4M.ms.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }

run=$work/run
mkdir -p "$run/bin"
ln -s "$shield" "$run/bin/shield"
export PATH=$run/bin:$PATH HOME=$work/home SHIELD_STATE_DIR=$work/home/.local/state/shieldkit
unset XDG_STATE_HOME SHIELD_DEFAULTS_DIR SHIELD_DEFAULT_DBX
mkdir -p "$HOME"

# Fixtures the examples name as files a reader has at hand.
agent=${SHIELD_AGENT_EFI:-$(dirname "$shield")/../../efi/shield-agent.efi}
[ -f "$agent" ] && cp "$agent" "$run/bootx64.efi" && cp "$agent" "$run/revoked.efi"
cp "$src/data/uefi/dbx/DBXUpdate-amd64.bin" "$run/DBXUpdate.bin"
for f in /usr/lib/shim/shimx64.efi.signed /usr/lib/shim/shimx64.efi; do
        [ -f "$f" ] && { cp "$f" "$run/shimx64.efi"; break; }
done
kek2011() { # Microsoft Corporation KEK CA 2011, from the shared data or the platform defaults, by thumbprint
        local c
        for c in ${data:+"$data"/uefi-ms/certs/*.der} "$SHIELD_STATE_DIR"/platform-defaults/certs/*.der; do
                [ -f "$c" ] || continue
                openssl x509 -inform DER -in "$c" -noout -fingerprint -sha1 2>/dev/null | grep -qi '31:59:0B:FD' &&
                        { cp "$c" "$run/MicCorKEKCA2011_2011-06-24.der"; return; }
        done
}

python3 - "$src/README.md" >"$work/examples" <<'PY'
# One example per line: EXPECTED-EXIT, SKIP-REASON, COMMAND (separated by US, 0x1f: empty fields survive read)
import re, sys
lines = open(sys.argv[1]).read().split("\n")
inblock, i = False, 0
while i < len(lines):
    l = lines[i]; i += 1
    if l.startswith("```"):
        inblock = not inblock; continue
    if not inblock or not l.startswith("$ shield "):
        continue
    cmd = l[2:]
    while cmd.endswith("\\") and i < len(lines):
        cmd = cmd[:-1].rstrip() + " " + lines[i].strip(); i += 1
    out = []
    while i < len(lines) and not lines[i].startswith(("$ ", "#", "```")):
        out.append(lines[i]); i += 1
    shown = "\n".join(out)
    want = 1 if re.search(r'"status":"Fail"|NOT verified|does not match', shown) else 0
    skip = ""
    if re.search(r"--server|shieldd|^shield agent", cmd):
        skip = "needs a running shieldd"
    elif re.search(r"token verify", cmd):
        skip = "needs shieldd's JWKS and a token it issued"
    elif re.search(r"^shield vm (run|start|console)", cmd):
        skip = "boots a VM"
    elif re.search(r"^shield credential unseal", cmd):
        skip = "needs a credential an agent round kept and its TPM"
    elif re.search(r"/dev/tpm|--tcti device", cmd):
        skip = "needs a TPM device"
    elif re.search(r"binary_bios_measurements|ascii_runtime_measurements|forged\.bin", cmd):
        skip = "needs this machine's firmware/IMA measurements (a TPM)"
    print(f"{want}\x1f{skip}\x1f{cmd}")
PY

n=0 skipped=0
while IFS=$'\x1f' read -r want skip cmd; do
        n=$((n + 1))
        case "$cmd" in *MicCorKEKCA2011*) [ -f "$run/MicCorKEKCA2011_2011-06-24.der" ] || kek2011 ;; esac
        if [ -z "$skip" ]; then
                for f in bootx64.efi shimx64.efi revoked.efi MicCorKEKCA2011_2011-06-24.der; do
                        case "$cmd" in *"$f"*) [ -f "$run/$f" ] || skip="no $f here (a fixture this machine lacks)" ;; esac
                done
                case "$cmd" in "shield vm "*|"shield image create"*)
                        for t in swtpm swtpm_setup qemu-img mkfs.fat mcopy; do
                                command -v "$t" >/dev/null || skip="$t is not installed"
                        done ;;
                esac
        fi
        if [ -n "$skip" ]; then
                echo "skip: \$ $cmd  ($skip)"
                skipped=$((skipped + 1))
                continue
        fi
        (cd "$run" && bash -c "$cmd") </dev/null >"$work/out" 2>&1
        got=$?
        if [ "$got" -ne "$want" ]; then
                echo "FAIL: \$ $cmd: exit $got, the README shows exit $want"
                sed 's/^/  | /' "$work/out" | head -20
                fails=$((fails + 1))
        else
                echo "ok: \$ $cmd (exit $got)"
        fi
done <"$work/examples"
echo "$n examples: $((n - skipped)) run, $skipped skipped, $fails failed"
[ "$((n - skipped))" -ge 10 ] || { echo "FAIL: only $((n - skipped)) of $n examples ran"; fails=$((fails + 1)); }
finish
