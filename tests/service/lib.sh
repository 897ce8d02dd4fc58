# Helpers for the shieldd end-to-end tests (sourced): swtpm TPMs provisioned
# by `shield tpm provision`, an event log extended into them with
# tpm2_pcrextend, shieldd on a free loopback port, curl.
shield=${SHIELD_BIN:?SHIELD_BIN is set by meson}
shieldd=${SHIELDD_BIN:?SHIELDD_BIN is set by meson}
fails=0
work=$(mktemp -d /tmp/service-test.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

# pg_start [SERVER-OPTION…]: a fresh PostgreSQL cluster in a temporary directory (unix socket
# only, run as the postgres user when we are root) with an empty database "shieldd"; its libpq
# URL in $pg_url, stopped and removed on exit. 77 with the reason in $pg_skip when PostgreSQL
# cannot run here, 1 (after printing why) when it fails to start.
pg_start() {
        local d
        pg_bindir=
        for d in /usr/lib/postgresql/*/bin; do
                [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && pg_bindir=$d
        done
        psql=
        [ -n "$pg_bindir" ] && { psql=$pg_bindir/psql; [ -x "$psql" ] || psql=$(command -v psql || true); }
        if [ -z "$pg_bindir" ] || [ -z "$psql" ]; then
                pg_skip="PostgreSQL (initdb, pg_ctl, psql) is not installed"
                return 77
        fi
        as_pg() { "$@"; }
        if [ "$(id -u)" = 0 ]; then
                id postgres >/dev/null 2>&1 || { pg_skip="running as root and there is no postgres user"; return 77; }
                as_pg() { runuser -u postgres -- "$@"; }
        fi
        pg=$(mktemp -d /tmp/shieldd-pg.XXXXXX) # the server's user must reach it: not under $work (0700)
        [ "$(id -u)" = 0 ] && chown postgres: "$pg"
        pg_started=
        trap 'pg_stop; rm -rf "$pg"; cleanup' EXIT
        pg_port=$((20000 + RANDOM % 20000))
        (cd "$pg" && as_pg "$pg_bindir/initdb" -D "$pg/data" -A trust -U postgres >"$pg/initdb.log" 2>&1) ||
                { cat "$pg/initdb.log"; echo "FAIL: initdb"; return 1; }
        (cd "$pg" && as_pg "$pg_bindir/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
                -o "-k $pg -p $pg_port -c listen_addresses='' $*" start >/dev/null) ||
                { cat "$pg/server.log"; echo "FAIL: pg_ctl start"; return 1; }
        pg_started=1
        "$psql" -X -q -h "$pg" -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE shieldd" ||
                { echo "FAIL: createdb"; return 1; }
        pg_url="postgresql:///shieldd?host=$pg&port=$pg_port&user=postgres"
}
pg_stop() { [ -n "${pg_started:-}" ] && (cd "$pg" && as_pg "$pg_bindir/pg_ctl" -D "$pg/data" -m immediate stop >/dev/null 2>&1); }

need_tools() {
        for tool in "$@"; do
                command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
        done
}

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { # DESCRIPTION CONDITION-CMD…
        local what=$1
        shift
        if "$@"; then ok "$what"; else bad "$what"; fi
}

# http METHOD PATH [BODY-FILE] [curl args…] → status in $status, body in $work/body
http() {
        local method=$1 path=$2 body=${3:-}
        shift 3 2>/dev/null || shift $#
        local args=(-s -o "$work/body" -w '%{http_code}' -X "$method" "$@")
        [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
        status=$(curl "${args[@]}" "$base$path")
}
# expect_status WANT DESCRIPTION
expect_status() {
        if [ "$status" = "$1" ]; then ok "$2 ($1)"; else
                bad "$2: HTTP $status, expected $1"; head -c 600 "$work/body" | sed 's/^/  | /'; echo; fi
}
# jq-like: jget EXPR → python expression on the last body as j
jget() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/body" "$1"; }
body_has() { # PATTERN DESCRIPTION
        if grep -qE -- "$1" "$work/body"; then ok "$2"; else bad "$2 (no /$1/ in the body)"; head -c 600 "$work/body" | sed 's/^/  | /'; echo; fi
}

source "$(dirname "${BASH_SOURCE[0]}")/../lib/swtpm.sh"

# start_shieldd NAME ARGS… → shieldd on a free port; sets base_NAME and pid_NAME, log in $work/NAME.log
start_shieldd() {
        local name=$1 i port
        shift
        "$shieldd" --listen 127.0.0.1:0 "$@" 2>"$work/$name.log" &
        local pid=$!
        pids+=($pid)
        for i in $(seq 100); do
                port=$(sed -n 's|.*listening on https\?://127.0.0.1:\([0-9]*\).*|\1|p' "$work/$name.log")
                [ -n "$port" ] && break
                kill -0 $pid 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$port" ]; then echo "shieldd $name did not start:"; sed 's/^/  | /' "$work/$name.log"; return 1; fi
        local scheme=http
        grep -q "listening on https" "$work/$name.log" && scheme=https
        eval "base_$name=$scheme://127.0.0.1:$port pid_$name=$pid"
}

# attest_body FILE INSTANCE EVIDENCE [AUDIENCE] → the POST /v1/attest body
attest_body() {
        python3 - "$@" <<'PY'
import json, sys
body = {"instance": sys.argv[2], "evidence": json.load(open(sys.argv[3]))}
if len(sys.argv) > 4:
    body["audience"] = sys.argv[4]
json.dump(body, open(sys.argv[1], "w"))
PY
}
# register_body FILE NAME AK-PUB [EK-PUB] [AK-CERT] [EK-CERT]
register_body() {
        python3 - "$@" <<'PY'
import base64, json, sys
b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
body = {"name": sys.argv[2], "ak_public": b64(sys.argv[3])}
if len(sys.argv) > 4 and sys.argv[4]:
    body["ek_public"] = b64(sys.argv[4])
if len(sys.argv) > 5 and sys.argv[5]:
    body["ak_certificate"] = b64(sys.argv[5])
if len(sys.argv) > 6 and sys.argv[6]:
    body["ek_certificate"] = b64(sys.argv[6])
json.dump(body, open(sys.argv[1], "w"))
PY
}
json_file() { printf '%s' "$2" >"$1"; }

# challenge INSTANCE → $nonce (base must be set)
challenge() {
        json_file "$work/ch.json" "{\"instance\": \"$1\"}"
        http POST /v1/challenge "$work/ch.json"
        nonce=$(jget 'j.get("nonce", "")' 2>/dev/null)
}
# collect TCTI NONCE OUT LOG
collect() {
        "$shield" attest --tcti "$1" --nonce "$2" --eventlog "$4" --ima-log /nonexistent -o "$3" 2>"$work/attest.err" ||
                { bad "shield attest"; sed 's/^/  | /' "$work/attest.err"; }
}

finish() { [ "$fails" -eq 0 ]; }
