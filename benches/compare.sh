#!/usr/bin/env bash
# Fulcrum vs HAProxy, same config, same run, alternating A B A B ...
#
#   benches/compare.sh                         # builds target/release/fulcrum, 10 s x 3 rounds
#   FULCRUM_BIN=$(command -v haproxy) DURATION=2 ROUNDS=2 benches/compare.sh   # harness self-test
#
# Scenarios (all through 127.0.0.1 only):
#   http-keepalive  wrk keep-alive GET /          -> frontend (mode http) -> 2 upstreams
#   http-close      same with -H 'Connection: close' (a new client connection per request)
#   tcp-1m          wrk keep-alive GET /1m        -> listen (mode tcp)    -> 2 upstreams, 1 MiB bodies
# each at every nbthread in $NBTHREADS, from benches/bench.cfg.in.
#
# Per run: a fresh proxy process, a curl sanity check, a warm-up, then wrk
# --latency; the proxy's utime+stime (/proc/PID/stat) is read right before and
# after the measured wrk run. Reported per (scenario, nbthread, proxy): median
# over the rounds of req/s, p99 latency and proxy CPU microseconds per request.
#
# CPU placement (2-core machine; override with the variables below):
#   nbthread 1: proxy pinned to CPU 1 (PROXY_CPUS_1), wrk + upstreams on CPU 0 (LOAD_CPUS)
#   nbthread 2: proxy allowed on CPUs 0,1 (PROXY_CPUS_2): pinning 2 threads to 1 core
#               would measure nothing useful; it then shares CPU 0 with wrk and the
#               upstreams, so nbthread 2 numbers show contention, not pure scaling.
#
# Environment (defaults in brackets):
#   FULCRUM_BIN   [unset: `cargo build --release -p fulcrum`, then target/release/fulcrum]
#   HAPROXY_BIN   [haproxy]
#   DURATION      seconds per measured run [10]     ROUNDS       A/B rounds [3]
#   WARMUP        seconds of unmeasured load [1]    SCENARIOS    [http-keepalive http-close tcp-1m]
#   NBTHREADS     [1 2]                             CONNECTIONS  wrk -c for http-* [50]
#   CONNECTIONS_1M  wrk -c for tcp-1m [10]          WRK_THREADS  wrk -t [1]
#   LOAD_CPUS [0]  PROXY_CPUS_1 [1]  PROXY_CPUS_2 [0,1]  (PROXY_CPUS_<n> for any other n: all CPUs)
#   PORT_BASE     first of 4 loopback ports used [27080]
#   UPSTREAM_WORKERS  processes per upstream [1]
#   RESULTS_DIR   [benches/results]  (latest.md, latest-runs.tsv)
#   SKIP_DEPS=1   do not run scripts/install-test-deps.sh
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench_dir/.." && pwd)
cd "$root"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-1}
SCENARIOS=${SCENARIOS:-"http-keepalive http-close tcp-1m"}
NBTHREADS=${NBTHREADS:-"1 2"}
CONNECTIONS=${CONNECTIONS:-50}
CONNECTIONS_1M=${CONNECTIONS_1M:-10}
WRK_THREADS=${WRK_THREADS:-1}
LOAD_CPUS=${LOAD_CPUS:-0}
PORT_BASE=${PORT_BASE:-27080}
UPSTREAM_WORKERS=${UPSTREAM_WORKERS:-1}
RESULTS_DIR=${RESULTS_DIR:-$bench_dir/results}

HTTP_PORT=$PORT_BASE
TCP_PORT=$((PORT_BASE + 1))
UP1_PORT=$((PORT_BASE + 2))
UP2_PORT=$((PORT_BASE + 3))

log() { printf '[compare] %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fulcrum-bench.XXXXXX")
pids=() # every long-lived process we start (proxy, upstreams, wrk)

# shellcheck disable=SC2317 # invoked via trap
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() { # drop $1 from pids
    local keep=() p
    for p in "${pids[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    pids=("${keep[@]}")
}

# ---------------------------------------------------------------- deps
if [ "${SKIP_DEPS:-0}" != 1 ]; then
    # wrk, haproxy, curl, taskset (util-linux), python3 are in the base list.
    "$root/scripts/install-test-deps.sh" gcc libc6-dev >&2
fi
for tool in wrk taskset curl gcc python3; do
    command -v "$tool" >/dev/null || fail "$tool not found (run scripts/install-test-deps.sh gcc libc6-dev)"
done

# ---------------------------------------------------------------- binaries
resolve_bin() { # name value -> absolute path of an executable
    local p
    p=$(command -v "$2" 2>/dev/null) || fail "$1=$2: not found"
    case $p in /*) ;; *) p="$root/$p" ;; esac
    [ -x "$p" ] || fail "$1=$2: not executable"
    printf '%s\n' "$p"
}

if [ -z "${FULCRUM_BIN:-}" ]; then
    log "building fulcrum: cargo build --release -p fulcrum"
    cargo build --release -p fulcrum >&2
    FULCRUM_BIN=$root/target/release/fulcrum
fi
FULCRUM_BIN=$(resolve_bin FULCRUM_BIN "$FULCRUM_BIN")
HAPROXY_BIN=$(resolve_bin HAPROXY_BIN "${HAPROXY_BIN:-haproxy}")

bin_version() {
    timeout 5 "$1" -v 2>&1 </dev/null | head -n1 || true
}

log "building upstream: gcc -O2 benches/upstream.c"
gcc -O2 -o "$tmp/upstream" "$bench_dir/upstream.c"

# ---------------------------------------------------------------- helpers
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

clk_tck=$(getconf CLK_TCK)

cpu_ticks() { # utime+stime of the whole process (all threads), in clock ticks
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # drop "pid (comm) "; comm may hold spaces
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $stat
    # now $1 is field 3 (state): utime is field 14 -> $12, stime field 15 -> $13
    echo $((${12} + ${13}))
}

now() { date +%s.%N; }

proxy_cpus() { # nbthread -> CPU list for taskset
    local var="PROXY_CPUS_$1"
    case $1 in
        1) echo "${!var:-1}" ;;
        2) echo "${!var:-0,1}" ;;
        *) echo "${!var:-0-$(($(nproc) - 1))}" ;;
    esac
}

make_cfg() { # nbthread out
    sed -e "s/@NBTHREAD@/$1/g" -e "s/@HTTP_PORT@/$HTTP_PORT/g" -e "s/@TCP_PORT@/$TCP_PORT/g" \
        -e "s/@UP1_PORT@/$UP1_PORT/g" -e "s/@UP2_PORT@/$UP2_PORT/g" \
        "$bench_dir/bench.cfg.in" >"$2"
}

proxy_pid=
start_proxy() { # bin cpus cfg logfile; sets proxy_pid; returns 1 if it does not come up
    taskset -c "$2" "$1" -f "$3" >"$4" 2>&1 </dev/null &
    proxy_pid=$!
    pids+=("$proxy_pid")
    local _
    for _ in $(seq 200); do
        if ! kill -0 "$proxy_pid" 2>/dev/null; then
            return 1
        fi
        if port_open "$HTTP_PORT" && port_open "$TCP_PORT"; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

stop_proxy() {
    [ -n "$proxy_pid" ] || return 0
    kill -TERM "$proxy_pid" 2>/dev/null || true
    local _
    for _ in $(seq 50); do
        kill -0 "$proxy_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
    forget_pid "$proxy_pid"
    proxy_pid=
    # Let the listening ports go before the next start.
    local _i
    for _i in $(seq 100); do
        port_open "$HTTP_PORT" || port_open "$TCP_PORT" || return 0
        sleep 0.05
    done
}

run_wrk() { # out seconds conns url [extra wrk args...]
    local out=$1 secs=$2 conns=$3 url=$4
    shift 4
    taskset -c "$LOAD_CPUS" wrk -t "$WRK_THREADS" -c "$conns" -d "${secs}s" --timeout 5s \
        --latency "$@" "$url" >"$out" 2>&1 </dev/null &
    local wpid=$!
    pids+=("$wpid")
    local rc=0
    wait "$wpid" || rc=$?
    forget_pid "$wpid"
    return "$rc"
}

# Parses wrk output -> "rps p99_ms requests errors non2xx"
parse_wrk() {
    awk '
        function to_ms(v,   n, u) {
            n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
            if (u == "us") return n / 1000
            if (u == "ms") return n
            if (u == "s")  return n * 1000
            if (u == "m")  return n * 60000
            return n
        }
        /^Requests\/sec:/        { rps = $2 }
        / requests in /          { reqs = $1 }
        /^ +99%/                 { p99 = to_ms($2) }
        /Socket errors:/         { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx/         { non2xx = $NF }
        END {
            if (rps == "" || reqs == "") exit 1
            printf "%s %.3f %d %d %d\n", rps, p99, reqs, errs + 0, non2xx + 0
        }' "$1"
}

# ---------------------------------------------------------------- upstreams
for port in "$HTTP_PORT" "$TCP_PORT" "$UP1_PORT" "$UP2_PORT"; do
    port_open "$port" && fail "127.0.0.1:$port is in use (set PORT_BASE)"
done
for port in "$UP1_PORT" "$UP2_PORT"; do
    taskset -c "$LOAD_CPUS" "$tmp/upstream" -p "$port" -w "$UPSTREAM_WORKERS" &
    pids+=($!)
done
for port in "$UP1_PORT" "$UP2_PORT"; do
    for _ in $(seq 100); do
        port_open "$port" && break
        sleep 0.05
    done
    port_open "$port" || fail "upstream on :$port did not start"
done

# ---------------------------------------------------------------- runs
mkdir -p "$RESULTS_DIR"
runs=$tmp/runs.tsv
printf 'scenario\tnbthread\tproxy\tround\tstatus\trps\tp99_ms\trequests\tcpu_us_per_req\tproxy_cpu_pct\terrors\tnon2xx\n' >"$runs"

record() { # scenario nbthread proxy round status [rps p99 reqs cpu_us cpu_pct errs non2xx]
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
        "${6:--}" "${7:--}" "${8:--}" "${9:--}" "${10:--}" "${11:--}" "${12:--}" >>"$runs"
}

one_run() { # scenario nbthread proxyname bin round
    local scenario=$1 nbt=$2 name=$3 bin=$4 round=$5
    local cfg=$tmp/bench-nbthread$nbt.cfg cpus url conns expect
    local extra=()
    cpus=$(proxy_cpus "$nbt")
    case $scenario in
        http-keepalive) url=http://127.0.0.1:$HTTP_PORT/ conns=$CONNECTIONS expect=30 ;;
        http-close) url=http://127.0.0.1:$HTTP_PORT/ conns=$CONNECTIONS expect=30
            extra=(-H 'Connection: close') ;;
        tcp-1m) url=http://127.0.0.1:$TCP_PORT/1m conns=$CONNECTIONS_1M expect=1048576 ;;
        *) fail "unknown scenario $scenario" ;;
    esac
    [ -f "$cfg" ] || make_cfg "$nbt" "$cfg"
    local tag="$scenario nbthread=$nbt $name round $round/$ROUNDS"
    local plog=$tmp/proxy-$name-$scenario-$nbt-$round.log

    if ! start_proxy "$bin" "$cpus" "$cfg" "$plog"; then
        log "$tag: proxy did not start; its output:"
        tail -n 20 "$plog" >&2 || true
        stop_proxy
        record "$scenario" "$nbt" "$name" "$round" no-start
        return 0
    fi
    local got
    got=$(curl -sf --max-time 5 -o /dev/null -w '%{size_download}' "${extra[@]}" "$url" 2>/dev/null) || got=error
    if [ "$got" != "$expect" ]; then
        log "$tag: sanity check failed: GET $url -> $got (want $expect bytes)"
        stop_proxy
        record "$scenario" "$nbt" "$name" "$round" bad-response
        return 0
    fi
    if [ "$WARMUP" != 0 ]; then
        run_wrk "$tmp/warmup.out" "$WARMUP" "$conns" "$url" "${extra[@]}" || true
    fi

    local t0 t1 c0 c1 out=$tmp/wrk.out
    c0=$(cpu_ticks "$proxy_pid") || c0=
    t0=$(now)
    run_wrk "$out" "$DURATION" "$conns" "$url" "${extra[@]}" || true
    t1=$(now)
    c1=$(cpu_ticks "$proxy_pid") || c1=
    stop_proxy

    local parsed
    if [ -z "$c0" ] || [ -z "$c1" ]; then
        log "$tag: proxy exited during the run"
        record "$scenario" "$nbt" "$name" "$round" proxy-died
        return 0
    fi
    if ! parsed=$(parse_wrk "$out"); then
        log "$tag: could not parse wrk output:"
        cat "$out" >&2
        record "$scenario" "$nbt" "$name" "$round" wrk-failed
        return 0
    fi
    local rps p99 reqs errs non2xx cpu_us cpu_pct
    read -r rps p99 reqs errs non2xx <<<"$parsed"
    read -r cpu_us cpu_pct < <(awk -v d="$((c1 - c0))" -v hz="$clk_tck" -v n="$reqs" \
        -v t0="$t0" -v t1="$t1" 'BEGIN {
            s = d / hz
            printf "%.2f %.1f\n", (n > 0 ? s * 1e6 / n : 0), (t1 > t0 ? 100 * s / (t1 - t0) : 0)
        }')
    log "$tag: $rps req/s, p99 ${p99} ms, ${cpu_us} us/req, proxy CPU ${cpu_pct}%, errors $errs, non-2xx $non2xx"
    record "$scenario" "$nbt" "$name" "$round" ok "$rps" "$p99" "$reqs" "$cpu_us" "$cpu_pct" "$errs" "$non2xx"
}

log "fulcrum: $FULCRUM_BIN"
log "haproxy: $HAPROXY_BIN"
log "scenarios: $SCENARIOS; nbthread: $NBTHREADS; $ROUNDS rounds x ${DURATION}s (+${WARMUP}s warm-up)"

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
for nbt in $NBTHREADS; do
    for scenario in $SCENARIOS; do
        for round in $(seq "$ROUNDS"); do
            one_run "$scenario" "$nbt" fulcrum "$FULCRUM_BIN" "$round"
            one_run "$scenario" "$nbt" haproxy "$HAPROXY_BIN" "$round"
        done
    done
done

# ---------------------------------------------------------------- report
fulcrum_v=$(bin_version "$FULCRUM_BIN")
haproxy_v=$(bin_version "$HAPROXY_BIN")
same=""
if [ "$(readlink -f "$FULCRUM_BIN")" = "$(readlink -f "$HAPROXY_BIN")" ]; then
    same=" — NOTE: FULCRUM_BIN is the haproxy binary (harness self-test), both rows are haproxy"
fi
cp "$runs" "$RESULTS_DIR/latest-runs.tsv"
{
    echo "# Fulcrum vs HAProxy — benches/compare.sh"
    echo
    echo "- date: $started; host: $(nproc) CPUs, $(uname -sr)"
    echo "- fulcrum: \`$FULCRUM_BIN\` ($fulcrum_v)$same"
    echo "- haproxy: \`$HAPROXY_BIN\` ($haproxy_v)"
    echo "- $ROUNDS round(s) (alternating fulcrum, haproxy), ${DURATION}s per run after ${WARMUP}s warm-up;" \
        "wrk -t$WRK_THREADS, -c$CONNECTIONS (http-*) / -c$CONNECTIONS_1M (tcp-1m)"
    echo "- CPUs: wrk + upstreams on $LOAD_CPUS; proxy on $(proxy_cpus 1) at nbthread 1, on $(proxy_cpus 2) at nbthread 2"
    echo "- values are medians over the rounds; CPU µs/req = proxy utime+stime / requests;" \
        "proxy CPU % = utime+stime / wall time (100% = one core)"
    echo
    python3 "$bench_dir/report.py" "$runs"
} >"$RESULTS_DIR/latest.md"
cat "$RESULTS_DIR/latest.md"
log "written: $RESULTS_DIR/latest.md and latest-runs.tsv"
