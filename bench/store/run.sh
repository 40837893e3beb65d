#!/usr/bin/env bash
# The fleet store side by side (issue 3): one generated remote-write load sent to plumb server,
# Prometheus 2.42 (--web.enable-remote-write-receiver) and VictoriaMetrics 1.79, one after the
# other in the same run, each with a fresh temporary data directory, all bound to 127.0.0.1.
#
# For each target: ingest samples/s (the sender's wall clock, first request to last answer) and
# the target's CPU seconds meanwhile; resident memory (VmRSS, VmHWM) after ingest, per active
# series; bytes on disk per sample, as the target left it after ingest and compacted (Prometheus:
# a snapshot of the head, which writes it as a block; VictoriaMetrics: after /internal/force_flush
# and /internal/force_merge, data/ + indexdb/ without caches; plumb: after `plumb tsdb compact`
# on the stopped store, which writes its whole head to blocks); restart time, from process start to
# the first answer equal to the one given before the restart.
#
# Usage: bench/store/run.sh
# Environment (defaults in brackets):
#   SERIES         series [100000]
#   DURATION_SECS  time range of the data, ending now [7200]
#   STEP_SECS      step [10]
#   BATCH_SERIES   series per request (one sample each unless SAMPLES_PER_SERIES) [2000]
#   SAMPLES_PER_SERIES  samples per series per request [1]
#   CONCURRENCY    sender connections [2]
#   SEED           data set seed [1]
#   TARGETS        which, in order ["plumb prometheus victoriametrics"]
#   OUT            where results go [bench/store/results/<date>]
#   KEEP=1         keep the temporary data directories
#   NO_BUILD=1     use the binaries already in target/release
# Needs: cargo, /usr/bin/prometheus (Debian prometheus), /usr/bin/victoria-metrics (Debian
# victoria-metrics), python3, curl.
set -euo pipefail

cd "$(dirname "$0")/../.."

SERIES=${SERIES:-100000}
DURATION_SECS=${DURATION_SECS:-7200}
STEP_SECS=${STEP_SECS:-10}
BATCH_SERIES=${BATCH_SERIES:-2000}
SAMPLES_PER_SERIES=${SAMPLES_PER_SERIES:-1}
CONCURRENCY=${CONCURRENCY:-2}
SEED=${SEED:-1}
TARGETS=${TARGETS:-plumb prometheus victoriametrics}
OUT=${OUT:-bench/store/results/$(date -u +%Y%m%dT%H%M%SZ)}
PLUMB=target/release/plumb
LOAD=target/release/examples/remote_write_load
PLUMB_PORT=17101
PROM_PORT=19090
VM_PORT=18428

log() { echo "bench/store: $*" >&2; }

WORK=$(mktemp -d /tmp/plumb-store-bench.XXXXXX)
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
if [ "${NO_BUILD:-0}" != 1 ]; then
    log "building"
    cargo build --release -q -p plumb --bin plumb
    cargo build --release -q -p plumb-server --example remote_write_load
fi

now_ns() { date +%s%N; }
secs_since() { python3 -c "print(f'{($(now_ns) - $1) / 1e9:.3f}')"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || true; }
# Size in bytes of a directory; empty if it does not exist.
dir_bytes() { if [ -e "$1" ]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# start TARGET DATA: starts it in the background, sets PID.
start() {
    local data=$2
    case $1 in
    plumb)
        "$PLUMB" server --data "$data" --listen 127.0.0.1:$PLUMB_PORT --max-age-secs 86400 --new-series-per-minute 10000000 \
            >>"$WORK/$1.log" 2>&1 &
        ;;
    prometheus)
        [ -e "$WORK/prometheus.yml" ] || printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prometheus.yml"
        /usr/bin/prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$data" \
            --web.listen-address=127.0.0.1:$PROM_PORT --web.enable-remote-write-receiver \
            --web.enable-admin-api --storage.tsdb.retention.time=30d >>"$WORK/$1.log" 2>&1 &
        ;;
    victoriametrics)
        /usr/bin/victoria-metrics -storageDataPath="$data" -httpListenAddr=127.0.0.1:$VM_PORT \
            -retentionPeriod=1 -search.disableCache >>"$WORK/$1.log" 2>&1 &
        ;;
    esac
    PID=$!
}

write_url() {
    case $1 in
    plumb) echo "http://127.0.0.1:$PLUMB_PORT/api/v1/write" ;;
    prometheus) echo "http://127.0.0.1:$PROM_PORT/api/v1/write" ;;
    victoriametrics) echo "http://127.0.0.1:$VM_PORT/api/v1/write" ;;
    esac
}

# ready TARGET: waits until it accepts writes (Prometheus: after its WAL replay).
ready() {
    local url
    case $1 in
    plumb) url="http://127.0.0.1:$PLUMB_PORT/" ;;
    prometheus) url="http://127.0.0.1:$PROM_PORT/-/ready" ;;
    victoriametrics) url="http://127.0.0.1:$VM_PORT/health" ;;
    esac
    for _ in $(seq 6000); do
        curl -fs -o /dev/null "$url" && return 0
        kill -0 "$PID" 2>/dev/null || { log "$1 exited; its log:"; tail -20 "$WORK/$1.log" >&2; return 1; }
        sleep 0.05
    done
    log "$1 not ready after 300 s"
    return 1
}

# probe TARGET: prints the answer to a query over all the data of one metric, or nothing.
# plumb: the raw points of one series (the query language is to come); Prometheus and
# VictoriaMetrics: sum(count_over_time(name[range])) at the end (Prometheus 2.42 cannot select
# on a label name with a dot, so not the same single series).
probe() {
    local range=$((DURATION_SECS + 3600)) t=$(((END_MS / 1000) + 1))
    case $1 in
    plumb)
        curl -fs "http://127.0.0.1:$PLUMB_PORT/api/v1/raw?s=$((START_MS - 1))&e=$((END_MS + 1))&name=$PROBE_NAME&nf.node=$PROBE_NODE" \
            | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), sum(len(s["values"]) for s in d), round(sum(sum(s["values"]) for s in d), 6)) if d else None' ;;
    prometheus)
        curl -fs "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=sum(count_over_time($PROBE_NAME[${range}s]))" \
            --data-urlencode "time=$t" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1]) if r else None' ;;
    victoriametrics)
        curl -fs "http://127.0.0.1:$VM_PORT/api/v1/query" --data-urlencode "query=sum(count_over_time($PROBE_NAME[${range}s]))" \
            --data-urlencode "time=$t" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1]) if r else None' ;;
    esac 2>/dev/null || true
}

# stop: SIGTERM and wait (graceful: VictoriaMetrics flushes, Prometheus closes its head).
stop() {
    kill -TERM "$PID" 2>/dev/null || true
    while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
    PID=""
}

# The target's own count of stored samples (a check that 2xx meant stored).
stored_samples() {
    case $1 in
    plumb) curl -fs "http://127.0.0.1:$PLUMB_PORT/metrics" | awk '/^plumb_server_datapoints_total\{.*accepted/ {s += $2} END {print s + 0}' ;;
    prometheus) curl -fs "http://127.0.0.1:$PROM_PORT/metrics" | awk '/^prometheus_tsdb_head_samples_appended_total/ {s += $2} END {print s + 0}' ;;
    victoriametrics) curl -fs "http://127.0.0.1:$VM_PORT/metrics" | awk '/^vm_rows_inserted_total/ {s += $2} END {print s + 0}' ;;
    esac 2>/dev/null || echo 0
}

# compacted_bytes TARGET DATA: bytes after the target's own compaction, or "" if it has none.
compacted_bytes() {
    case $1 in
    plumb) echo "" ;;
    prometheus)
        local name
        name=$(curl -fs -XPOST "http://127.0.0.1:$PROM_PORT/api/v1/admin/tsdb/snapshot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["name"])')
        local b
        b=$(dir_bytes "$2/snapshots/$name")
        rm -rf "$2/snapshots"
        echo "$b" ;;
    victoriametrics)
        curl -fs "http://127.0.0.1:$VM_PORT/internal/force_flush" >/dev/null
        curl -fs "http://127.0.0.1:$VM_PORT/internal/force_merge?partition_prefix=$(date -u +%Y_%m)" >/dev/null
        sleep 5
        echo $(($(dir_bytes "$2/data") + $(dir_bytes "$2/indexdb"))) ;;
    esac
}

log "generating the load: $SERIES series, ${DURATION_SECS}s at ${STEP_SECS}s"
"$LOAD" --save "$WORK/load.bin" --series "$SERIES" --duration-secs "$DURATION_SECS" --step-secs "$STEP_SECS" \
    --batch-series "$BATCH_SERIES" --samples-per-series "$SAMPLES_PER_SERIES" --seed "$SEED" >"$OUT/gen.json"
cat "$OUT/gen.json" >&2
read -r START_MS END_MS PROBE_NAME PROBE_NODE < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["start_ms"], d["end_ms"], d["probe_name"], d["probe_node"])' "$OUT/gen.json")

for target in $TARGETS; do
    data="$WORK/$target-data"
    log "$target: starting"
    start "$target" "$data"
    ready "$target"
    rss_idle=$(status_kb "$PID" VmRSS)
    cpu0=$(cpu_ticks "$PID")
    log "$target: sending"
    "$LOAD" --replay "$WORK/load.bin" --url "$(write_url "$target")" --concurrency "$CONCURRENCY" \
        >"$OUT/$target-send.json" 2>"$OUT/$target-send.err" || log "$target: the sender reported failures"
    cpu1=$(cpu_ticks "$PID")
    sleep 2
    rss=$(status_kb "$PID" VmRSS)
    hwm=$(status_kb "$PID" VmHWM)
    stored=$(stored_samples "$target")
    disk_after_ingest=$(dir_bytes "$data")
    compacted=$(compacted_bytes "$target" "$data")
    before=""
    for _ in $(seq 200); do before=$(probe "$target"); [ -n "$before" ] && break; sleep 0.1; done
    log "$target: probe before restart: $before"
    stop
    disk_stopped=$(dir_bytes "$data")
    log "$target: restarting"
    t0=$(now_ns)
    start "$target" "$data"
    answer=""
    # At most about 5 minutes (VictoriaMetrics once answered differently after a restart).
    for _ in $(seq 3000); do
        answer=$(probe "$target")
        [ -n "$answer" ] && [ "$answer" = "$before" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    restart=$(secs_since "$t0")
    [ "$answer" = "$before" ] || { log "$target: after restart the probe gave '$answer', not '$before'"; restart=""; }
    rss_restarted=$(status_kb "$PID" VmRSS)
    stop
    if [ "$target" = plumb ]; then
        # plumb has no online snapshot: compact the stopped store offline, after the restart
        # check so that the restart replays the WAL as Prometheus's does.
        "$PLUMB" tsdb compact --data "$data" --json >"$OUT/plumb-compact.json"
        compacted=$(dir_bytes "$data")
    fi
    cat >"$OUT/$target.json" <<EOF
{"target":"$target","rss_idle_kb":${rss_idle:-0},"rss_kb":${rss:-0},"hwm_kb":${hwm:-0},"cpu_ticks":$((cpu1 - cpu0)),
 "clk_tck":$(getconf CLK_TCK),"stored_samples":${stored:-0},"disk_after_ingest":${disk_after_ingest:-0},
 "disk_compacted":${compacted:-null},"disk_stopped":${disk_stopped:-0},"probe":"$before","restart_secs":${restart:-null},
 "rss_restarted_kb":${rss_restarted:-0}}
EOF
    log "$target: $(cat "$OUT/$target.json" | tr -d '\n')"
    cp "$WORK/$target.log" "$OUT/$target.log"
done

python3 bench/store/summarize.py "$OUT" | tee "$OUT/summary.md"
