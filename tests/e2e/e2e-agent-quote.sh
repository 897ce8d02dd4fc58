#!/bin/bash
# Real boots: the measurement agent (efi/shield-dump.c, installed as
# shield-agent.efi) asks the vTPM for a quote over a nonce from the host.
#
# The host provisions a swtpm state with tpm2-tools (an AK as a persistent
# primary at 0x81010002, a certificate over its key in NV 0x01c10000, one
# over the EK in 0x01c00002), then boots OVMF with that state and the nonce.
# Oracles, none of them our code:
#   - tpm2_checkquote verifies the guest's quote with the AK public key the
#     HOST read while provisioning (PEM), and with the guest's ak-public
#     frame (TPM2B_PUBLIC) too; a wrong nonce or a changed byte makes it fail;
#   - the quote's PCR digest equals SHA-256 over the PCR values the guest
#     read (pcrs.json) in selection order (python3 hashlib), and the selection
#     is PCRs 0-23 of exactly the banks of the state (sha1, sha256);
#   - the ak-public, ak-cert and ek-cert frames are byte for byte what
#     tpm2-tools read and wrote on the host;
#   - with SHIELD_BIN (under meson): our replay of the event log equals the
#     quoted PCRs, so the quote covers the log.
# Also: the nonce from \shield\nonce on the ESP when fw_cfg has none, a
# boot with no nonce at all (an error line, no quote, every other frame), and
# one whose nonce file is too long (65 bytes: refused by the agent itself).
set -uo pipefail
root=${SHIELD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
shield=${SHIELD_BIN:-}
for tool in qemu-system-x86_64 swtpm swtpm_setup swtpm_ioctl tpm2_createprimary tpm2_evictcontrol tpm2_readpublic \
        tpm2_nvdefine tpm2_nvwrite tpm2_flushcontext tpm2_shutdown tpm2_getrandom tpm2_checkquote openssl python3 \
        sgdisk mkfs.fat mcopy; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps)"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || { echo "SKIP: OVMF is not installed"; exit 77; }
[ -f /usr/lib/crt0-efi-x86_64.o ] || { echo "SKIP: gnu-efi is not installed"; exit 77; }

work=$(mktemp -d /tmp/e2e-agent.XXXXXX)
swtpm_pid="" kept=()
cleanup() {
        # Only the swtpm this script started, by its id.
        [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null && wait "$swtpm_pid" 2>/dev/null
        rm -rf "$work" ${kept[@]+"${kept[@]}"}
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$root/efi/build.sh" "$work/efi" >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "FAIL: building the agent"; exit 1; }
cmp -s "$work/efi/shield-dump.efi" "$work/efi/shield-agent.efi" && ok "efi/build.sh writes shield-agent.efi (= shield-dump.efi)" ||
        bad "efi/build.sh did not write shield-agent.efi"

# A TPM state with sha1 and sha256 banks and an EK, as a cloud vTPM has.
tpm=$work/tpm
mkdir -p "$tpm"
swtpm_setup --tpm2 --tpmstate "$tpm" --createek --pcr-banks sha1,sha256 --overwrite >"$work/setup.log" 2>&1 ||
        { cat "$work/setup.log"; echo "FAIL: swtpm_setup"; exit 1; }

# Serve it on TCP for tpm2-tools: our own random port below 32768 (swtpm binds
# without SO_REUSEADDR; try another port when one is taken).
port=""
for _ in 1 2 3 4 5; do
        p=$((20000 + (RANDOM % 6000) * 2))
        swtpm socket --tpm2 --tpmstate dir="$tpm" --server type=tcp,port=$p --ctrl type=tcp,port=$((p + 1)) \
                --flags not-need-init,startup-clear --log file="$work/swtpm-prov.log" &
        swtpm_pid=$!
        for _ in $(seq 50); do
                kill -0 "$swtpm_pid" 2>/dev/null || break
                TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$p tpm2_getrandom 4 >/dev/null 2>&1 && { port=$p; break; }
                sleep 0.1
        done
        [ -n "$port" ] && break
        kill "$swtpm_pid" 2>/dev/null; wait "$swtpm_pid" 2>/dev/null; swtpm_pid=""
done
[ -n "$port" ] || { cat "$work/swtpm-prov.log"; echo "FAIL: swtpm did not serve TCP on any port tried"; exit 1; }
export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$port

# The AK: an RSA-2048 restricted signing primary in the endorsement hierarchy, persisted.
prov() { "$@" >>"$work/prov.log" 2>&1 || { cat "$work/prov.log"; echo "FAIL: provisioning: $*"; exit 1; }; }
prov tpm2_createprimary -C e -G rsa2048:rsassa-sha256:null \
        -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -c "$work/ak.ctx"
prov tpm2_evictcontrol -C o -c "$work/ak.ctx" 0x81010002
prov tpm2_flushcontext -t
prov tpm2_readpublic -c 0x81010002 -f pem -o "$work/ak.pem"
prov tpm2_readpublic -c 0x81010002 -o "$work/ak.pub"
prov tpm2_readpublic -c 0x81010001 -f pem -o "$work/ek.pem"
# Certificates over the AK's and the EK's public keys, issued by a test CA
# (the AK cannot sign a certificate: it is restricted). The AK one must be
# over 512 bytes: two NV reads (its ECDSA signature varies by a byte or two).
prov openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ca.key"
prov openssl x509 -new -subj "/O=Shieldkit test/OU=attestation/CN=shieldkit-test-ak" -key "$work/ca.key" \
        -force_pubkey "$work/ak.pem" -days 1 -outform DER -out "$work/ak.der"
[ "$(stat -c %s "$work/ak.der")" -gt 512 ] || { echo "FAIL: the test AK certificate is not over 512 bytes"; exit 1; }
prov openssl x509 -new -subj "/O=Shieldkit test/OU=endorsement/CN=shieldkit-test-ek-certificate" \
        -key "$work/ca.key" -force_pubkey "$work/ek.pem" -days 1 -outform DER -out "$work/ek.der"
for pair in 0x01c10000:ak.der 0x01c00002:ek.der; do
        idx=${pair%%:*} f=$work/${pair#*:}
        prov tpm2_nvdefine "$idx" -C o -s "$(stat -c %s "$f")" -a 'ownerwrite|authwrite|ownerread|authread|no_da'
        prov tpm2_nvwrite "$idx" -C o -i "$f"
done
# An orderly shutdown, then stop swtpm through its control channel.
prov tpm2_shutdown
swtpm_ioctl --tcp 127.0.0.1:$((port + 1)) -s >/dev/null 2>&1 || kill "$swtpm_pid" 2>/dev/null
wait "$swtpm_pid" 2>/dev/null
swtpm_pid=""
unset TPM2TOOLS_TCTI
ok "provisioned: AK at 0x81010002, AK certificate ($(stat -c %s "$work/ak.der") bytes) and EK certificate ($(stat -c %s "$work/ek.der") bytes) in NV"

# Four boots at once: (a) the nonce through fw_cfg with the state itself,
# (b) the nonce on the ESP only, (c) no nonce, (d) a 65-byte nonce on the
# ESP; (b), (c) and (d) on copies of the state.
for d in b c d; do cp -a "$tpm" "$work/tpm-$d"; done
head -c 65 /dev/urandom >"$work/nonce-d.bin"
nonce=$(openssl rand -hex 32)
nonce_b=$(openssl rand -hex 20)
python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' "$work/nonce-b.bin" "$nonce_b"
"$root/scripts/boot-ovmf" --timeout 300 --efi auto --tpmstate "$tpm" --nonce "$nonce" --out "$work/a" --keep 2>"$work/a.log" &
pa=$!
"$root/scripts/boot-ovmf" --timeout 300 --efi "$work/efi/shield-agent.efi" --tpmstate "$work/tpm-b" \
        --esp-add "$work/nonce-b.bin:shield/nonce" --out "$work/b" 2>"$work/b.log" &
pb=$!
"$root/scripts/boot-ovmf" --timeout 300 --efi "$work/efi/shield-agent.efi" --tpmstate "$work/tpm-c" --out "$work/c" 2>"$work/c.log" &
pc=$!
"$root/scripts/boot-ovmf" --timeout 300 --efi "$work/efi/shield-agent.efi" --tpmstate "$work/tpm-d" \
        --esp-add "$work/nonce-d.bin:shield/nonce" --out "$work/d" 2>"$work/d.log" &
pd=$!
wait $pa; ra=$?
wait $pb; rb=$?
wait $pc; rc=$?
wait $pd; rd=$?
k=$(sed -n 's/^boot-ovmf: work directory kept: //p' "$work/a.log")
[ -n "$k" ] && [ -d "$k" ] && kept+=("$k")
if [ $ra -eq 77 ] || [ $rb -eq 77 ] || [ $rc -eq 77 ] || [ $rd -eq 77 ]; then cat "$work"/[abcd].log; echo "SKIP: the harness lacks a tool"; exit 77; fi
for d_r in "a $ra" "b $rb" "c $rc" "d $rd"; do
        d=${d_r% *} r=${d_r#* }
        [ "$r" -eq 0 ] || { cat "$work/$d.log"; bad "boot $d (exit $r)"; exit 1; }
done
took() { sed -n 's/.*done in \([0-9.]* s\).*/\1/p' "$work/$1.log"; }
ok "four real boots with the provisioned state: $(took a), $(took b), $(took c), $(took d)"
[ -f "$tpm/tpm2-00.permall" ] && ok "--tpmstate left the state directory in place" || bad "--tpmstate removed the state"
grep -q " format=2 .*active=sha1,sha256 " "$work/a/info.txt" && grep -q "^secureboot=0 setupmode=1 " "$work/a/info.txt" &&
        ok "info: format 2, secureboot/setupmode first, the state's banks" || { cat "$work/a/info.txt"; bad "info frame"; }

# (a) The quote over the host's nonce.
a=$work/a
for f in nonce.bin quote-attest.bin quote-signature.bin ak-public.bin ak-cert.der ek-cert.der; do
        [ -s "$a/$f" ] || bad "boot a: $f missing"
done
[ "$(od -An -tx1 -v "$a/nonce.bin" | tr -d ' \n')" = "$nonce" ] && ok "the agent read the nonce from fw_cfg" || bad "nonce.bin is not the nonce"
cmp -s "$a/ak-public.bin" "$work/ak.pub" && ok "ak-public is byte for byte tpm2_readpublic -o's TPM2B_PUBLIC" || bad "ak-public differs from tpm2_readpublic"
cmp -s "$a/ak-cert.der" "$work/ak.der" && ok "ak-cert is the DER written to NV 0x01c10000 ($(stat -c %s "$work/ak.der") bytes: read in chunks of 512)" || bad "ak-cert differs"
cmp -s "$a/ek-cert.der" "$work/ek.der" && ok "ek-cert is the DER written to NV 0x01c00002" || bad "ek-cert differs"
checkquote() { # PUBKEY DIR NONCE
        tpm2_checkquote -u "$1" -m "$2/quote-attest.bin" -s "$2/quote-signature.bin" -q "$3" -g sha256 >"$work/cq.out" 2>&1
}
checkquote "$work/ak.pem" "$a" "$nonce" && ok "tpm2_checkquote: the quote verifies with the host's AK key (PEM) and the nonce" ||
        { cat "$work/cq.out"; bad "tpm2_checkquote with ak.pem"; }
checkquote "$a/ak-public.bin" "$a" "$nonce" && ok "tpm2_checkquote accepts the guest's ak-public (TPM2B_PUBLIC) as -u too" ||
        { cat "$work/cq.out"; bad "tpm2_checkquote with ak-public.bin"; }
checkquote "$work/ak.pem" "$a" "$(openssl rand -hex 32)" && bad "a wrong nonce verified" ||
        ok "tpm2_checkquote refuses the quote with a wrong nonce"
# The last byte of TPMS_ATTEST is the last byte of the quoted PCR digest.
mkdir -p "$work/f" && cp "$a/quote-signature.bin" "$work/f/"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
        "$a/quote-attest.bin" "$work/f/quote-attest.bin"
checkquote "$work/ak.pem" "$work/f" "$nonce" && bad "a quote with its PCR digest changed verified" ||
        ok "tpm2_checkquote refuses a quote whose PCR digest was changed"

# What the quote covers: TPMS_ATTEST (TPM 2.0 Part 2, 10.12.12) with TPMS_QUOTE_INFO
# (10.12.4): the selection must be PCRs 0-23 of sha1 and sha256, and the digest
# SHA-256 over those PCR values from pcrs.json, bank by bank, PCR by PCR.
pcr_check() { # ATTEST PCRS.json NONCE-hex
        python3 - "$@" <<'PY'
import hashlib, json, struct, sys
att, pcrs, nonce = open(sys.argv[1], "rb").read(), json.load(open(sys.argv[2])), bytes.fromhex(sys.argv[3])
off = 0
def take(n):
    global off
    assert n <= len(att) - off, "truncated TPMS_ATTEST"
    b = att[off:off + n]; off += n; return b
def tpm2b():
    return take(struct.unpack(">H", take(2))[0])
magic, typ = struct.unpack(">IH", take(6))
assert magic == 0xFF544347 and typ == 0x8018, (hex(magic), hex(typ))
tpm2b()                                   # qualifiedSigner
assert tpm2b() == nonce, "extraData is not the nonce"
take(17 + 8)                              # clockInfo, firmwareVersion
algs = {0x0004: "sha1", 0x000B: "sha256", 0x000C: "sha384", 0x000D: "sha512"}
sel, concat = [], b""
for _ in range(struct.unpack(">I", take(4))[0]):
    alg, n = struct.unpack(">HB", take(3))
    mask = int.from_bytes(take(n), "little")
    sel.append((algs[alg], mask))
    concat += b"".join(bytes.fromhex(pcrs[algs[alg]][str(i)]) for i in range(8 * n) if mask >> i & 1)
digest = tpm2b()
assert off == len(att), "trailing bytes"
assert sel == [("sha1", 0xFFFFFF), ("sha256", 0xFFFFFF)], sel
assert hashlib.sha256(concat).digest() == digest, "the quoted PCR digest is not SHA-256 of pcrs.json"
print("PCRs 0-23 of sha1 and sha256 (48 values)")
PY
}
if out=$(pcr_check "$a/quote-attest.bin" "$a/pcrs.json" "$nonce" 2>&1); then
        ok "the quote covers exactly the PCRs the agent sent: $out"
else
        echo "$out"; bad "the quote does not cover pcrs.json"
fi
python3 - "$a/pcrs.json" "$work/edited.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["sha256"]["7"] = "00" * 32; json.dump(p, open(sys.argv[2], "w"))
PY
pcr_check "$a/quote-attest.bin" "$work/edited.json" "$nonce" >/dev/null 2>&1 && bad "an edited PCR matched the quote" ||
        ok "an edited PCR value does not match the quote's digest"
if [ -n "$shield" ] && [ -x "$shield" ]; then
        "$shield" eventlog verify "$a/eventlog.bin" --pcrs "$a/pcrs.json" >"$work/verify.out" 2>&1 &&
                ok "shield eventlog verify: the log replays to the quoted PCRs ($(tail -1 "$work/verify.out" | sed 's/^[^:]*: //'))" ||
                { cat "$work/verify.out"; bad "the event log does not replay to the quoted PCRs"; }
else
        echo "skip: SHIELD_BIN not set (log replay against the quoted PCRs)"
fi

# (b) No fw_cfg nonce: the agent took \shield\nonce from its ESP.
grep -q "SHIELD-ERROR" "$work/b.log" && { cat "$work/b.log"; bad "boot b reported an error"; }
[ "$(od -An -tx1 -v "$work/b/nonce.bin" 2>/dev/null | tr -d ' \n')" = "$nonce_b" ] &&
        checkquote "$work/ak.pem" "$work/b" "$nonce_b" && pcr_check "$work/b/quote-attest.bin" "$work/b/pcrs.json" "$nonce_b" >/dev/null &&
        ok "without fw_cfg the nonce came from \\shield\\nonce on the ESP; that quote verifies (20-byte nonce)" ||
        { cat "$work/b.log" "$work/cq.out"; bad "the ESP nonce fallback"; }

# (c) No nonce anywhere: an error line, no quote, and everything else as before.
c=$work/c
grep -q "SHIELD-ERROR no nonce" "$work/c.log" && [ ! -e "$c/quote-attest.bin" ] && [ ! -e "$c/quote-signature.bin" ] &&
        [ ! -e "$c/nonce.bin" ] && [ -s "$c/eventlog.bin" ] && [ -s "$c/pcrs.json" ] && cmp -s "$c/ak-public.bin" "$work/ak.pub" &&
        cmp -s "$c/ak-cert.der" "$work/ak.der" &&
        ok "no nonce: '$(sed -n 's/.*\(SHIELD-ERROR no nonce.*\)/\1/p' "$work/c.log" | head -1)', no quote, the other frames sent" ||
        { cat "$work/c.log"; ls "$c"; bad "the boot without a nonce"; }

# (d) A nonce file of 65 bytes: the agent refuses it itself (boot-ovmf --nonce would not pass it).
grep -q 'SHIELD-ERROR \\shield\\nonce is too many bytes, 1..64 expected: no quote' "$work/d.log" &&
        [ ! -e "$work/d/nonce.bin" ] && [ ! -e "$work/d/quote-attest.bin" ] && [ -s "$work/d/pcrs.json" ] &&
        ok "a 65-byte nonce is refused by the agent: no quote, the other frames sent" ||
        { cat "$work/d.log"; ls "$work/d"; bad "the boot with a 65-byte nonce"; }

[ $fails -eq 0 ]
