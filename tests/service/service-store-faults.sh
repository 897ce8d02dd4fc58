#!/bin/bash
# What a store failure at each step of an attestation yields (docs/API.md,
# "Store failures"), on SQLite and on a real PostgreSQL: shieldd runs with
# SHIELD_STORE_FAULT_FILE (lib/store/fault.c), and for each operation of the
# pipeline — reading the instance, spending the challenge, reading and
# recording the golden, the quote clock, the verdict, the status, the commit —
# the test makes exactly that operation fail for one attestation:
#   the answer is 500 store-error (never a 200 without a stored verdict);
#   nothing was stored (history and last attestation unchanged: never a stored
#   verdict without an answer);
#   the nonce was not spent: the same request, once the fault is gone, is 200
#   and is then recorded exactly once.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
need_tools swtpm swtpm_setup tpm2_pcrextend tpm2_readpublic tpm2_nvread curl python3 openssl

start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
mklog "$work/log.bin" v1
extend "$tcti_a" "$work/extend.txt"
fault=$work/fault
: >"$fault"

# The first attestation records the golden; the later ones read it.
first_labels=("recording the golden measurement")
labels=("reading the instance" "spending the challenge" "reading the golden measurement" "reading the quote clock"
        "recording the quote clock" "recording the verdict" "recording the attestation" "commit")

history_len() { http GET "/v1/instances/$1"; jget 'len(j["history"])'; }

run_backend() { # LABEL STORE-URL
        local label=$1 url=$2 name=f-$1
        SHIELD_STORE_FAULT_FILE=$fault start_shieldd "$label" --no-tls --state "$work/$label" --store "$url" \
                --ak-ca "$work/ca/ca.crt" --threads 2 || { bad "$label: start"; return; }
        local b=base_$label
        base=${!b}
        certify_tpm a "$name" || bad "certificates for $name"
        register_body "$work/reg.json" "$name" "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
        http POST /v1/instances "$work/reg.json"
        expect_status 201 "$label: register"
        local step
        for step in "${first_labels[@]}" "${labels[@]}"; do
                local before
                before=$(history_len "$name")
                challenge "$name"
                collect "$tcti_a" "$nonce" "$work/e.json" "$work/log.bin"
                attest_body "$work/a.json" "$name" "$work/e.json"
                printf '%s\n' "$step" >"$fault"
                http POST /v1/attest "$work/a.json"
                : >"$fault"
                expect_status 500 "$label: $step fails → the attestation is not answered"
                body_has '"store-error"' "$label: $step: reason store-error"
                check "$label: $step: nothing was stored" [ "$(history_len "$name")" = "$before" ]
                http POST /v1/attest "$work/a.json"
                expect_status 200 "$label: $step: the nonce was not spent, the same request now succeeds"
                check "$label: $step: recorded exactly once" [ "$(history_len "$name")" = $((before + 1)) ]
        done
        kill "$(eval echo \$pid_"$label")" 2>/dev/null
}

run_backend sqlite "sqlite:$work/faults.db"

pg_start -c fsync=off
case $? in
0) run_backend pg "$pg_url" ;;
77) echo "note: PostgreSQL part skipped: $pg_skip" ;;
*) bad "PostgreSQL did not start" ;;
esac

finish
