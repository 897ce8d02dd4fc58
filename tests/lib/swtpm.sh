# Shared by the shell tests that need a provisioned software TPM (sourced; the
# caller defines $shield, $work, the pids array and the fails counter):
#   run_tpm NAME      a swtpm on $work/NAME (PCRs reset, keys kept) on a free TCP port;
#                     sets port_NAME, pid_NAME and tcti_NAME
#   start_tpm NAME [CN]  manufacture it (sha1 + sha256), run it, provision EK/AK with the test
#                     CA in $work/ca (certificates for CN, default NAME), and keep the AK/EK
#                     publics and certificates as $work/NAME.{ak.pub,ek.pub,ak.crt,ek.crt}
#   certify_tpm NAME CN  new AK/EK certificates for instance name CN (same keys)
#   restart_tpm NAME  a reboot: PCRs reset
#   mklog LOG BOOT [late]  a firmware-like crypto-agile log (PCRs 0, 4, 7; PCR 9 with
#                     "late"; BOOT names the boot application's version), and in
#                     $work/extend.txt the tpm2_pcrextend arguments that make a TPM match it
#   extend TCTI FILE  extend those into the TPM

run_tpm() {
        local name=$1 port up=0 pid
        for _ in 1 2 3 4 5; do
                port=$((10000 + RANDOM % 22000))
                swtpm socket --tpm2 --tpmstate dir="$work/$name" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
                        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
                        >"$work/$name.log" 2>&1 &
                pid=$!
                for _ in $(seq 50); do
                        kill -0 $pid 2>/dev/null || break
                        "$shield" tpm pcrs --tcti "swtpm:host=127.0.0.1,port=$port" >/dev/null 2>&1 && { up=1; break; }
                        sleep 0.1
                done
                [ $up = 1 ] && { pids+=($pid); break; }
                kill $pid 2>/dev/null
        done
        [ $up = 1 ] || return 1
        eval "port_$name=$port pid_$name=$pid tcti_$name=swtpm:host=127.0.0.1,port=$port"
}

start_tpm() {
        mkdir -p "$work/$1" "$work/ca"
        swtpm_setup --tpm2 --tpmstate "$work/$1" --pcr-banks sha1,sha256 >/dev/null 2>&1 || return 1
        run_tpm "$1" || return 1
        local t=tcti_$1
        certify_tpm "$1" "${2:-$1}" || return 1
        TPM2TOOLS_TCTI=${!t} tpm2_readpublic -Q -c 0x81010002 -o "$work/$1.ak.pub" >/dev/null 2>&1 || return 1
        TPM2TOOLS_TCTI=${!t} tpm2_readpublic -Q -c 0x81010001 -o "$work/$1.ek.pub" >/dev/null 2>&1 || return 1
}

certify_tpm() {
        local t=tcti_$1
        "$shield" tpm provision --tcti "${!t}" --name "$2" --ca-dir "$work/ca" >/dev/null 2>&1 || return 1
        TPM2TOOLS_TCTI=${!t} tpm2_nvread -Q 0x01c10000 -o "$work/$1.ak.crt" >/dev/null 2>&1 || return 1
        TPM2TOOLS_TCTI=${!t} tpm2_nvread -Q 0x01c00002 -o "$work/$1.ek.crt" >/dev/null 2>&1 || return 1
}

restart_tpm() {
        local p=pid_$1
        kill "${!p}"
        wait "${!p}" 2>/dev/null
        run_tpm "$1"
}

mklog() {
        python3 - "$1" "$work/extend.txt" "$2" "${3:-}" <<'PY'
import hashlib, struct, sys
banks = [(0x0004, "sha1", 20), (0x000B, "sha256", 32)]
spec = b"Spec ID Event03\0" + struct.pack("<IBBBB", 0, 0, 2, 0, 2) + struct.pack("<I", len(banks))
for alg, _, size in banks:
    spec += struct.pack("<HH", alg, size)
spec += b"\0"
log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
events = [(0, 0x80000008, b"firmware blob"), (7, 0x80000007, b"Secure Boot state"), (0, 4, b"\0" * 4),
          (4, 0x0000000D, b"\\EFI\\BOOT\\BOOTX64.EFI " + sys.argv[3].encode()), (4, 4, b"\0" * 4), (7, 4, b"\0" * 4)]
if sys.argv[4]:
    events.append((9, 0x0000000D, b"late boot: kernel command line"))
extends = []
for pcr, etype, data in events:
    ev = struct.pack("<III", pcr, etype, len(banks))
    spec_d = []
    for alg, name, size in banks:
        d = hashlib.new(name, data).digest()
        ev += struct.pack("<H", alg) + d
        spec_d.append(f"{name}=0x{d.hex()}")
    extends.append(f"{pcr}:" + ",".join(spec_d))
    ev += struct.pack("<I", len(data)) + data
    log += ev
open(sys.argv[1], "wb").write(log)
open(sys.argv[2], "w").write("\n".join(extends) + "\n")
PY
}

extend() {
        local e
        while read -r e; do
                TPM2TOOLS_TCTI=$1 tpm2_pcrextend "$e" >/dev/null 2>&1 || { echo "FAIL: tpm2_pcrextend $e"; fails=$((fails + 1)); }
        done <"$2"
}
