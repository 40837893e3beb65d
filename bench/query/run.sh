#!/usr/bin/env bash
# Query latency side by side (issue 4): the store benchmark's data set (bench/store/run.sh's
# generated remote-write load) loaded into a fresh plumb server and a fresh Prometheus 2.42 at
# the same time, then each query pair timed against both, alternating, in the same run.
#
# Queries (bench/query/measure.py; X = node_load1, the load's probe name; 1 h ending at the
# data's last sample):
#   groupby_app   name,X,:eq,:sum,(,nf.app,),:by                       sum by (nf_app) (X)
#   groupby_node  name,X,:eq,nf.region,us-east-1,:eq,:and,:sum,(,nf.node,),:by
#                                                                      sum by (nf_node) (X{nf_region="us-east-1"})
#   selective     name,X,:eq,nf.node,NODE,:eq,:and,:sum                sum(X{nf_node="NODE"})
# The literal `name,X,:eq,:sum,(,nf.node,),:by` over every node gives N/50 = 2,000 lines, past
# Atlas's (and plumb's) default max-lines of 1,024, so plumb refuses it: groupby_node keeps its
# shape over one region (667 lines), groupby_app is the same shape over all 2,000 series.
#
# Same numbers, by construction:
# - Step = the sample interval (10 s), so each Atlas interval (T - step, T] holds exactly the one
#   sample stamped T (samples sit on multiples of the step), and consolidation (avg) returns it
#   unchanged; Prometheus evaluates at the same T (start and end on the step), where an instant
#   selector picks the same sample. Atlas stamps an interval with its end, so the grids align.
# - Prometheus runs with --query.lookback-delta=5s (default 5m): a missing sample (10% of series
#   are sparse, with gaps) is then absent at T, as Atlas's NaN is, instead of the sample before
#   it carried forward. The check treats a NaN in plumb and an absent point in Prometheus alike.
# - Label names: the load tags series `nf.app`, `nf.node`, ...; plumb keeps them (`__name__`
#   becomes `name`). Prometheus 2.42's PromQL cannot name a label with a dot, so Prometheus gets
#   the same file with `nf.` renamed `nf_` (bench/query/relabel, a byte swap in each request).
# The check: same groups, same timestamps, values equal within 1e-9 relative (sums of the same
# floats in another order).
#
# Latency: wall clock of one HTTP GET on a kept-alive connection, sent to reading the whole
# answer, uncompressed; plumb /api/v1/graph?format=std.json, Prometheus /api/v1/query_range.
# RUNS timed runs per query and target after WARMUP untimed ones; each server's CPU time over
# its timed requests too (/proc/PID/stat), which the machine's other load inflates less. Results: OUT/queries.json and
# OUT/summary.md (median and p90 per target, ratio of medians plumb / Prometheus).
#
# Usage: bench/query/run.sh
# Environment (defaults in brackets):
#   SERIES         series [100000]
#   DURATION_SECS  time range of the data, ending now [4200]
#   RANGE_SECS     queried range, ending at the last sample [3600]
#   RUNS           timed runs per query and target [20]
#   WARMUP         untimed runs first [2]
#   SEED           data set seed [1]
#   CONCURRENCY    sender connections per target [2]; use 1 below about 20,000 series, where
#                  two requests in flight can hold consecutive steps of the same series and
#                  arrive out of order
#   OUT            where results go [bench/query/results/<date>]
#   KEEP=1         keep the temporary directory (load files, data directories)
#   REUSE=DIR      a directory KEEP=1 kept: restart both targets on its data (they replay their
#                  WALs) instead of generating and sending; for comparing builds, not for the
#                  figures (a replayed head is laid out differently from an ingested one)
#   NO_BUILD=1     use the binaries already built
# Needs: cargo, /usr/bin/prometheus (Debian prometheus 2.42), python3, curl.
set -euo pipefail
# The body is one block, read whole before it runs, so editing this file mid-run is harmless.
{

cd "$(dirname "$0")/../.."

SERIES=${SERIES:-100000}
DURATION_SECS=${DURATION_SECS:-4200}
RANGE_SECS=${RANGE_SECS:-3600}
STEP_SECS=10
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
SEED=${SEED:-1}
CONCURRENCY=${CONCURRENCY:-2}
OUT=${OUT:-bench/query/results/$(date -u +%Y%m%dT%H%M%SZ)}
PLUMB=target/release/plumb
LOAD=target/release/examples/remote_write_load
RELABEL=target/bench-query/release/plumb-bench-relabel
PLUMB_PORT=17111
PROM_PORT=19091

log() { echo "bench/query: $*" >&2; }

if [ -n "${REUSE:-}" ]; then
    WORK=$REUSE
    KEEP=1
else
    WORK=$(mktemp -d /tmp/plumb-query-bench.XXXXXX)
fi
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
if [ "${NO_BUILD:-0}" != 1 ]; then
    log "building"
    cargo build --release -q -p plumb --bin plumb
    cargo build --release -q -p plumb-server --example remote_write_load
    CARGO_TARGET_DIR=target/bench-query cargo build --release -q --offline --manifest-path bench/query/relabel/Cargo.toml
fi

if [ -z "${REUSE:-}" ]; then
    log "generating the load: $SERIES series, ${DURATION_SECS}s at ${STEP_SECS}s"
    "$LOAD" --save "$WORK/load.bin" --series "$SERIES" --duration-secs "$DURATION_SECS" --step-secs "$STEP_SECS" \
        --seed "$SEED" >"$OUT/gen.json"
    cat "$OUT/gen.json" >&2
    "$RELABEL" "$WORK/load.bin" "$WORK/load-prom.bin"
    samples=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"])' "$OUT/gen.json")
    cp "$OUT/gen.json" "$WORK/gen.json"
else
    cp "$WORK/gen.json" "$OUT/gen.json"
fi
log "starting plumb and prometheus"
"$PLUMB" server --data "$WORK/plumb-data" --listen 127.0.0.1:$PLUMB_PORT --max-age-secs 86400 \
    --new-series-per-minute 10000000 >"$WORK/plumb.log" 2>&1 &
PIDS+=($!)
printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prometheus.yml"
/usr/bin/prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
    --web.listen-address=127.0.0.1:$PROM_PORT --web.enable-remote-write-receiver \
    --storage.tsdb.retention.time=30d --query.lookback-delta=5s >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
for url in "http://127.0.0.1:$PLUMB_PORT/" "http://127.0.0.1:$PROM_PORT/-/ready"; do
    for i in $(seq 3000); do
        curl -fs -o /dev/null "$url" && break
        [ "$i" = 3000 ] && { log "$url not ready after 300 s"; exit 1; }
        sleep 0.1
    done
done

if [ -z "${REUSE:-}" ]; then
    log "sending to both at once"
    t0=$(date +%s)
    "$LOAD" --replay "$WORK/load.bin" --url "http://127.0.0.1:$PLUMB_PORT/api/v1/write" --concurrency "$CONCURRENCY" \
        >"$OUT/plumb-send.json" 2>"$OUT/plumb-send.err" &
    send_plumb=$!
    "$LOAD" --replay "$WORK/load-prom.bin" --url "http://127.0.0.1:$PROM_PORT/api/v1/write" --concurrency "$CONCURRENCY" \
        >"$OUT/prometheus-send.json" 2>"$OUT/prometheus-send.err" &
    send_prom=$!
    wait $send_plumb || log "plumb: the sender reported failures"
    wait $send_prom || log "prometheus: the sender reported failures"
    log "sent in $(($(date +%s) - t0)) s"

    # Both must hold every sample by their own counters before anything is timed.
    stored() {
        case $1 in
        plumb) curl -fs "http://127.0.0.1:$PLUMB_PORT/metrics" | awk '/^plumb_server_datapoints_total\{.*accepted/ {s += $2} END {print s + 0}' ;;
        prometheus) curl -fs "http://127.0.0.1:$PROM_PORT/metrics" | awk '/^prometheus_tsdb_head_samples_appended_total/ {s += $2} END {printf "%d\n", s + 0}' ;;
        esac 2>/dev/null || echo 0
    }
    for target in plumb prometheus; do
        got=$(stored $target)
        log "$target: $got of $samples samples stored"
        [ "$got" = "$samples" ] || log "$target: WARNING: not every sample was stored"
        echo "{\"target\":\"$target\",\"stored_samples\":$got}" >"$OUT/$target.json"
    done
    sleep 5
fi

log "timing: $RUNS runs per query and target after $WARMUP warm-up runs"
python3 bench/query/measure.py "$OUT" "$OUT/gen.json" 127.0.0.1:$PLUMB_PORT 127.0.0.1:$PROM_PORT \
    "$RUNS" "$WARMUP" "$RANGE_SECS" "$STEP_SECS" "${PIDS[0]}" "${PIDS[1]}"
awk '$1 == "VmRSS:" || $1 == "VmHWM:"' "/proc/${PIDS[0]}/status" >"$OUT/plumb-memory.txt" 2>/dev/null || true
awk '$1 == "VmRSS:" || $1 == "VmHWM:"' "/proc/${PIDS[1]}/status" >"$OUT/prometheus-memory.txt" 2>/dev/null || true
cp "$WORK/plumb.log" "$WORK/prometheus.log" "$OUT/"
python3 bench/query/summarize.py "$OUT" | tee "$OUT/summary.md"
exit
}
