# Shared by the agent tests (sourced; the caller defines $shieldd, $work and the pids array).
# start_shieldd NAME ARGS… → a shieldd on a free loopback port; sets url and sd_pid.
start_shieldd() {
        local name=$1 scheme=https
        shift
        case " $* " in *" --no-tls "*) scheme=http ;; esac
        mkdir -p "$work/$name"
        : >"$work/$name.log" # now: the background job's own redirection may come after the first grep
        "$shieldd" --listen 127.0.0.1:0 --state "$work/$name" --threads 2 "$@" >"$work/$name.log" 2>&1 &
        sd_pid=$!
        pids+=($sd_pid)
        url=
        for _ in $(seq 100); do
                url=$(grep -oE "listening on $scheme://[0-9.]+:[0-9]+" "$work/$name.log" | head -1 | sed 's/^listening on //')
                [ -n "$url" ] && break
                kill -0 $sd_pid 2>/dev/null || break
                sleep 0.1
        done
        [ -n "$url" ] || { echo "FAIL: shieldd $name did not start"; sed 's/^/  | /' "$work/$name.log"; return 1; }
}
