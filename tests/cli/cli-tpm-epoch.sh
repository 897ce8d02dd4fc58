#!/bin/bash
# The seal policy with an epoch (PolicyPCR then PolicyNV on an NV counter) and `shield tpm epoch`,
# against swtpm, with tpm2-tools as the oracle of the digest and of the counter's public area.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

expect 0 "tpm epoch --help" "$shield" tpm epoch --help
contains "^Usage: shield tpm epoch" "epoch synopsis"
contains "advance --to N" "names advance"
expect 0 "policy-pcr --help names the epoch" "$shield" tpm policy-pcr --help
contains "--epoch-nv-name" "documents --epoch-nv-name"
expect 2 "epoch advance without --to" "$shield" tpm epoch advance --tcti nosuchtcti:x
expect 2 "epoch --to without advance" "$shield" tpm epoch --to 3 --tcti nosuchtcti:x
expect 2 "epoch --index that is not an NV index" "$shield" tpm epoch --index 0x81000000 --tcti nosuchtcti:x
printf '{"sha256": {"0": "%064d"}}' 0 >"$work/zero.pcrs.json"
expect 2 "policy-pcr --epoch-nv without --epoch" "$shield" tpm policy-pcr --pcrs "$work/zero.pcrs.json" --pcr-list 0 --epoch-nv 0x0100534b
expect 2 "policy-pcr --epoch-nv with --name-alg sha1" "$shield" tpm policy-pcr --pcrs "$work/zero.pcrs.json" --pcr-list 0 \
        --epoch-nv 0x0100534b --epoch 1 --epoch-nv-name 000b00 --name-alg sha1
expect 2 "policy-pcr with a Name that is not nameAlg || digest" "$shield" tpm policy-pcr --pcrs "$work/zero.pcrs.json" \
        --pcr-list 0 --epoch-nv 0x0100534b --epoch 1 --epoch-nv-name 000b00
expect 2 "unseal --epoch without --epoch-nv" "$shield" tpm unseal --key x --pcr-list 0 --epoch 3 --in x -o y

for tool in swtpm swtpm_setup tpm2_nvreadpublic tpm2_policynv tpm2_policypcr tpm2_startauthsession tpm2_pcrextend openssl xxd; do
        command -v "$tool" >/dev/null || { echo "skip: $tool not installed (TPM checks)"; finish; exit $?; }
done

# swtpm on a random port (another is tried when bind fails); killed on exit.
mkdir -p "$work/state"
swtpm_setup --tpm2 --tpmstate "$work/state" --pcr-banks sha1,sha256 >"$work/setup.log" 2>&1 ||
        { echo "FAIL: swtpm_setup"; cat "$work/setup.log"; exit 1; }
swtpm_pid=
trap '[ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null; rm -rf "$work"' EXIT
for attempt in 1 2 3 4 5 6; do
        port=$((10000 + RANDOM % 22000))
        swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=tcp,port=$port \
                --ctrl type=tcp,port=$((port + 1)) --flags not-need-init,startup-clear >"$work/swtpm.log" 2>&1 &
        swtpm_pid=$!
        up=
        for i in $(seq 50); do
                kill -0 "$swtpm_pid" 2>/dev/null || break
                if "$shield" tpm pcrs --tcti "swtpm:host=127.0.0.1,port=$port" >/dev/null 2>&1; then up=1; break; fi
                sleep 0.1
        done
        [ -n "$up" ] && break
        kill "$swtpm_pid" 2>/dev/null; wait "$swtpm_pid" 2>/dev/null; swtpm_pid=
done
[ -n "$swtpm_pid" ] || { echo "FAIL: swtpm did not start"; cat "$work/swtpm.log"; exit 1; }
tcti="swtpm:host=127.0.0.1,port=$port"
export TPM2TOOLS_TCTI=$tcti
nv=0x0100534b

# The counter: defined on first read, written, with the attributes the header promises.
expect 0 "epoch (defines the counter)" "$shield" tpm epoch --tcti "$tcti" --json
is_json "epoch --json"
contains '"index": "0x0100534b"' "the default index"
epoch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"])' "$work/out")
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$work/out")
[ -n "$epoch" ] && [ "${#name}" = 68 ] && echo "ok: value $epoch, name $name" || { echo "FAIL: epoch value/name"; fails=$((fails + 1)); }
expect 0 "tpm2_nvreadpublic $nv" tpm2_nvreadpublic $nv
contains "friendly: authwrite[|]nt=0x1[|]ownerread[|]authread[|]no_da[|]written$" "counter attributes: TPM_NT_COUNTER (nt=0x1), written (tpm2_nvreadpublic)"
contains "name: *$name" "our Name is tpm2_nvreadpublic's"
expect 0 "epoch again (kept)" "$shield" tpm epoch --tcti "$tcti"
contains "^value $epoch$" "the same value: reading does not count"
expect 0 "epoch advance to what it holds (nothing done)" "$shield" tpm epoch advance --tcti "$tcti" --to "$epoch"
expect 0 "epoch" "$shield" tpm epoch --tcti "$tcti"
contains "^value $epoch$" "still $epoch"
expect 2 "epoch advance by more than 64" "$shield" tpm epoch advance --tcti "$tcti" --to $((epoch + 65))
contains "over 64" "says the cap"
tpm2_nvdefine -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite" 0x01005400 >/dev/null 2>&1
expect 2 "epoch on an ordinary index" "$shield" tpm epoch --tcti "$tcti" --index 0x01005400
contains "not a counter" "says it is not a counter"

# The policy digest in software, against the TPM's own trial session: PolicyPCR then PolicyNV.
tpm2_pcrextend "7:sha256=$(printf 'boot state' | sha256sum | cut -c1-64)" >/dev/null 2>&1
expect 0 "tpm pcrs --json" "$shield" tpm pcrs --tcti "$tcti" --json
cp "$work/out" "$work/now.pcrs.json"
expect 0 "policy-pcr --epoch-nv (name given)" env -u TPM2TOOLS_TCTI "$shield" tpm policy-pcr --pcrs "$work/now.pcrs.json" \
        --pcr-list 0,2,4-7 --epoch-nv $nv --epoch "$epoch" --epoch-nv-name "$name"
ours=$(head -1 "$work/out")
printf '%016x' "$epoch" | xxd -r -p >"$work/operand.bin"
tpm2_startauthsession -S "$work/trial.ctx" >/dev/null 2>&1 &&
        tpm2_policypcr -S "$work/trial.ctx" -l sha256:0,2,4,5,6,7 >/dev/null 2>&1 &&
        tpm2_policynv -S "$work/trial.ctx" -i "$work/operand.bin" -L "$work/policy.dat" $nv eq >"$work/pnv.log" 2>&1
tpm2_flushcontext "$work/trial.ctx" >/dev/null 2>&1
theirs=$(xxd -p -c 256 "$work/policy.dat" 2>/dev/null)
[ -n "$ours" ] && [ "$ours" = "$theirs" ] && echo "ok: policy-pcr --epoch equals tpm2_policypcr + tpm2_policynv ($ours)" ||
        { echo "FAIL: policy-pcr --epoch $ours differs from tpm2-tools' $theirs"; cat "$work/pnv.log"; fails=$((fails + 1)); }
expect 0 "policy-pcr --epoch-nv, the Name read from the TPM" "$shield" tpm policy-pcr --tcti "$tcti" --pcrs "$work/now.pcrs.json" \
        --pcr-list 0,2,4-7 --epoch-nv $nv --epoch "$epoch" --json
contains "\"policy_digest\": \"$ours\"" "the same digest"
contains "\"epoch_nv_name\": \"$name\"" "the same Name"
expect 0 "policy-pcr without the epoch" "$shield" tpm policy-pcr --pcrs "$work/now.pcrs.json" --pcr-list 0,2,4-7
[ "$(head -1 "$work/out")" != "$ours" ] && echo "ok: the epoch changes the digest" || { echo "FAIL: the epoch does not change the digest"; fails=$((fails + 1)); }

# Sealed to PCRs and epoch: opens at the epoch, refused once the counter moved on, and once a PCR moved.
expect 0 "tpm provision" "$shield" tpm provision --tcti "$tcti" --name vm-epoch --ca-dir "$work/ca"
expect 0 "seal-key with the epoch policy" "$shield" tpm seal-key --tcti "$tcti" --policy "$ours" --nonce 0011 -o "$work/seal"
printf 'credential of epoch %s' "$epoch" >"$work/secret.txt"
expect 0 "seal (no TPM)" env -u TPM2TOOLS_TCTI "$shield" tpm seal --key "$work/seal" --in "$work/secret.txt" -o "$work/secret.sealed"
expect 0 "unseal at epoch $epoch" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" --pcr-list 0,2,4-7 \
        --epoch-nv $nv --epoch "$epoch" --in "$work/secret.sealed" -o "$work/secret.out"
cmp -s "$work/secret.txt" "$work/secret.out" && echo "ok: the data comes back" || { echo "FAIL: unsealed data differs"; fails=$((fails + 1)); }
expect 1 "unseal without the epoch (policy differs)" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" --pcr-list 0,2,4-7 \
        --in "$work/secret.sealed" -o "$work/x.out"
expect 1 "unseal claiming another epoch" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" --pcr-list 0,2,4-7 \
        --epoch-nv $nv --epoch $((epoch + 1)) --in "$work/secret.sealed" -o "$work/x.out"
contains "epoch counter 0x0100534b holds $epoch, not $((epoch + 1))" "says the counter differs"
expect 0 "epoch advance --to $((epoch + 1))" "$shield" tpm epoch advance --tcti "$tcti" --to $((epoch + 1))
expect 0 "epoch" "$shield" tpm epoch --tcti "$tcti"
contains "^value $((epoch + 1))$" "the counter moved on"
contains "^name $name$" "its Name did not change"
expect 1 "unseal after the epoch passed: the TPM refuses" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal" \
        --pcr-list 0,2,4-7 --epoch-nv $nv --epoch "$epoch" --in "$work/secret.sealed" -o "$work/secret2.out"
contains "the epoch passed" "says the epoch passed"
[ ! -e "$work/secret2.out" ] && echo "ok: nothing written" || { echo "FAIL: unseal wrote data"; fails=$((fails + 1)); }
# A blob for the new epoch, refused once a PCR of the policy moved: the PCR message, not the epoch's.
expect 0 "policy-pcr at epoch $((epoch + 1))" "$shield" tpm policy-pcr --tcti "$tcti" --pcrs "$work/now.pcrs.json" \
        --pcr-list 0,2,4-7 --epoch-nv $nv --epoch $((epoch + 1))
policy2=$(head -1 "$work/out")
expect 0 "seal-key at epoch $((epoch + 1))" "$shield" tpm seal-key --tcti "$tcti" --policy "$policy2" --nonce 0022 -o "$work/seal2"
expect 0 "seal" "$shield" tpm seal --key "$work/seal2" --in "$work/secret.txt" -o "$work/s2.sealed"
expect 0 "unseal at the new epoch" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal2" --pcr-list 0,2,4-7 \
        --epoch-nv $nv --epoch $((epoch + 1)) --in "$work/s2.sealed" -o "$work/s2.out"
tpm2_pcrextend "4:sha256=$(printf 'another bootloader' | sha256sum | cut -c1-64)" >/dev/null 2>&1
expect 1 "unseal after PCR 4 moved: the TPM refuses" "$shield" tpm unseal --tcti "$tcti" --key "$work/seal2" --pcr-list 0,2,4-7 \
        --epoch-nv $nv --epoch $((epoch + 1)) --in "$work/s2.sealed" -o "$work/s3.out"
contains "not the state the key is sealed to" "says the PCRs are not the sealed state"
grep -q "epoch" "$work/out" && { echo "FAIL: the PCR refusal mentions the epoch"; fails=$((fails + 1)); } || echo "ok: not the epoch message"
tpm2_getcap handles-transient >"$work/out" 2>&1
[ -s "$work/out" ] && { echo "FAIL: transient objects left"; cat "$work/out"; fails=$((fails + 1)); } || echo "ok: no transient objects left"
finish
