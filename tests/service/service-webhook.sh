#!/bin/bash
# shieldd --webhook: a small receiver (python3 http.server, every POST
# appended to a file as {"path", "content_type", "body"}) gets
# {"instance", "from", "to", "time"} on every colour change and only then:
# the first attestation (green, from null), none for a second green, a red
# one after a reboot with a changed boot application (from green), and a
# green one after the golden is reset, from null again for an instance
# deleted and registered anew. `time` is unix time within the request. A
# receiver that never answers holds up no attestation.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
need_tools swtpm swtpm_setup tpm2_pcrextend tpm2_readpublic tpm2_nvread curl python3 openssl

"$shieldd" --webhook ftp://127.0.0.1/x >/dev/null 2>&1
check "--webhook with a non-HTTP URL is refused (2)" [ $? = 2 ]

python3 - "$work/hook-port" "$work/hook.jsonl" >"$work/receiver.log" 2>&1 <<'PY' &
import http.server, json, sys
port_file, out = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body}) + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
s.serve_forever()
PY
pids+=($!)
for _ in $(seq 50); do [ -s "$work/hook-port" ] && break; sleep 0.1; done
[ -s "$work/hook-port" ] || { echo "FAIL: the webhook receiver did not start"; sed 's/^/  | /' "$work/receiver.log"; exit 1; }
hook_port=$(cat "$work/hook-port")
: >"$work/hook.jsonl"

start_tpm a || { echo "FAIL: swtpm a"; exit 1; }
mklog "$work/log.bin" v1
extend "$tcti_a" "$work/extend.txt"

start_shieldd w --no-tls --state "$work/state" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 2 \
        --webhook "http://127.0.0.1:$hook_port/hook" || exit 1
base=$base_w
admin=$(cat "$work/state/admin-token")
certify_tpm a w1 || bad "certificates for w1"
register_body "$work/reg.json" w1 "$work/a.ak.pub" "$work/a.ek.pub" "$work/a.ak.crt"
http POST /v1/instances "$work/reg.json"
expect_status 201 "register w1"

# attest LOG → $t0 $t1 around the POST
attest() {
        challenge w1
        collect "$tcti_a" "$nonce" "$work/e.json" "$1"
        attest_body "$work/a.json" w1 "$work/e.json"
        t0=$(date +%s)
        http POST /v1/attest "$work/a.json"
        t1=$(date +%s)
}
# wait_events N → up to 10 s for N lines in hook.jsonl
wait_events() {
        for _ in $(seq 100); do [ "$(wc -l <"$work/hook.jsonl")" -ge "$1" ] && return 0; sleep 0.1; done
        return 1
}
# event_is N FROM TO DESCRIPTION: line N is a POST to /hook, JSON, exactly
# {"instance": "w1", "from": FROM, "to": TO, "time": t0..t1} (FROM "null" for null)
event_is() {
        python3 - "$work/hook.jsonl" "$1" "$2" "$3" "$t0" "$t1" >"$work/ev.out" 2>&1 <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n, frm, to, t0, t1 = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
rec = json.loads(lines[n - 1])
assert rec["path"] == "/hook", rec
assert rec["content_type"].split(";")[0].strip() == "application/json", rec
ev = json.loads(rec["body"])
assert sorted(ev) == ["from", "instance", "time", "to"], ev
assert ev["instance"] == "w1", ev
assert ev["from"] == (None if frm == "null" else frm), ev
assert ev["to"] == to, ev
assert isinstance(ev["time"], int) and t0 <= ev["time"] <= t1, (ev, t0, t1)
print(ev)
PY
        check "$4" [ $? = 0 ]
        sed 's/^/  | /' "$work/ev.out"
}

attest "$work/log.bin"
expect_status 200 "first attestation"
body_has '"colour": ?"green"' "green"
check "one colour change delivered" wait_events 1
event_is 1 null green "the first: {instance w1, from null, to green, time}"

attest "$work/log.bin"
expect_status 200 "second attestation"
body_has '"colour": ?"green"' "green again"

# A reboot with another boot application in PCR 4 → red.
restart_tpm a || { echo "FAIL: restarting swtpm a"; exit 1; }
mklog "$work/log-v2.bin" v2
extend "$tcti_a" "$work/extend.txt"
attest "$work/log-v2.bin"
expect_status 200 "attestation after a reboot with a changed log"
body_has '"colour": ?"red"' "red"
check "a second colour change delivered" wait_events 2
check "and no event for green → green (2 events in all)" [ "$(wc -l <"$work/hook.jsonl")" = 2 ]
event_is 2 green red "the second: {instance w1, from green, to red, time}"

# The operator accepts the new boot: after a golden reset the next one is green again.
http POST /v1/instances/w1/golden/reset "" -H "Authorization: Bearer $admin"
expect_status 200 "golden reset"
attest "$work/log-v2.bin"
body_has '"colour": ?"green"' "green after the reset"
check "a third colour change delivered" wait_events 3
event_is 3 red green "the third: {instance w1, from red, to green, time}"

# A deleted and registered again instance starts over: from null.
http DELETE /v1/instances/w1 "" -H "Authorization: Bearer $admin"
expect_status 204 "delete w1"
http POST /v1/instances "$work/reg.json"
expect_status 201 "register w1 again"
attest "$work/log-v2.bin"
body_has '"colour": ?"green"' "green (a new golden)"
check "a fourth colour change delivered" wait_events 4
event_is 4 null green "the fourth: {instance w1, from null, to green, time}"
sleep 0.5
check "exactly 4 events" [ "$(wc -l <"$work/hook.jsonl")" = 4 ]
check "no webhook errors logged" bash -c "! grep -q 'webhook:' '$work/w.log'"
kill -TERM "$pid_w"
wait "$pid_w"
check "SIGTERM stops shieldd with status 0" [ $? = 0 ]

# A receiver that accepts the connection and never answers: the attestation
# is answered at once (one background sender), the timeout (10 s) is logged,
# and SIGTERM still stops shieldd with status 0.
python3 - "$work/hang-port" >/dev/null 2>&1 <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
PY
pids+=($!)
for _ in $(seq 50); do [ -s "$work/hang-port" ] && break; sleep 0.1; done
start_shieldd d --no-tls --state "$work/state2" --ak-ca "$work/ca/ca.crt" --ek-ca "$work/ca" --threads 2 \
        --webhook "http://127.0.0.1:$(cat "$work/hang-port")/hook" || exit 1
base=$base_d
http POST /v1/instances "$work/reg.json"
expect_status 201 "register w1 on a shieldd whose receiver hangs"
attest "$work/log-v2.bin"
expect_status 200 "the attestation is answered"
check "within 3 s ($((t1 - t0)) s)" [ $((t1 - t0)) -le 3 ]
attest "$work/log-v2.bin"
check "and the next one too ($((t1 - t0)) s)" [ "$status" = 200 -a $((t1 - t0)) -le 3 ]
for _ in $(seq 150); do grep -q 'webhook:' "$work/d.log" && break; sleep 0.1; done
check "the delivery's timeout is logged" grep -q 'webhook: .*[Tt]imeout' "$work/d.log"
kill -TERM "$pid_d"
wait "$pid_d"
check "SIGTERM stops it with status 0 (the sender thread ends)" [ $? = 0 ]
finish
