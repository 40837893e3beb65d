#!/usr/bin/env bash
# Tracing cost per event (issue 6): `plumb opensnoop` against bpftrace's opensnoop.bt, and
# `plumb iolatency 1` against bench/trace/iolatency.bt (block_rq_issue/block_rq_complete keyed by
# (dev, sector) into a hist(), as biolatency.bt), each tracing a load generator with a high event
# rate, in the same run, REPEATS times, rotating the order of baseline (no tracer), plumb and
# bpftrace.
#
# Load (bench/trace/loadgen.c, built with gcc here): `open` opens and closes one file in a tight
# loop; `read` reads a file on the root disk 4 KiB at a time with O_DIRECT, so each read is one
# block I/O. Events: the loadgen's opens; for I/O, completed reads + writes of the file's disk from
# /proc/diskstats over the window.
#
# Each run: start the tracer (output to a file, as a user would keep it), wait WARMUP seconds so
# start-up (bpftrace's LLVM compile, plumb's load) is outside the window, then over SECONDS_PER_RUN
# seconds of load measure
#   - the tracer's own CPU (utime + stime from /proc/PID/stat, window delta),
#   - the loadgen's CPU (getrusage): syscall tracepoints run in its context, so (its CPU per
#     event traced) - (the same, baseline) is the in-kernel probe cost,
#   - the machine's busy CPU (/proc/stat: all but idle and iowait), whose delta against the
#     baseline run estimates everything the tracer adds, in-kernel probes in interrupt context
#     included; noisy on a shared machine.
#   - with BPF_STATS=1, the run time of the tracer's BPF programs (kernel.bpf_stats_enabled, read
#     from /proc/PID/fdinfo of its program fds, window delta): the probes' own cost, exact, but
#     without the tracepoint dispatch and wake-ups around them; the sysctl adds two clock reads
#     per program run to both tracers alike, and is restored at exit,
# then SIGINT the tracer and count the events it lost (plumb: its stderr; bpftrace: "Lost N").
#
# Usage: bench/trace/run.sh
# Environment (defaults in brackets):
#   SECONDS_PER_RUN  load duration per run [10]
#   WARMUP           seconds between tracer start and load [5]
#   REPEATS          runs per tracer [3]
#   MODES            which pairs [open io]
#   OUT              results directory [bench/trace/results/<date>]
#   NO_BUILD=1       use target/release/plumb as it is
#   BPF_STATS        1: measure BPF program run time (sets kernel.bpf_stats_enabled) [1]
# Needs: root, gcc, bpftrace (Debian 12: 0.17, `apt-get install bpftrace`), python3.
set -euo pipefail

cd "$(dirname "$0")/../.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-5}
REPEATS=${REPEATS:-3}
MODES=${MODES:-open io}
OUT=${OUT:-bench/trace/results/$(date -u +%Y%m%dT%H%M%SZ)}
PLUMB=target/release/plumb
OPENSNOOP_BT=$(command -v opensnoop.bt || echo /usr/sbin/opensnoop.bt)
IOLATENCY_BT=bench/trace/iolatency.bt

log() { echo "bench/trace: $*" >&2; }

mkdir -p "$OUT"
if [ "${NO_BUILD:-0}" != 1 ]; then
    log "building plumb"
    cargo build --release -q -p plumb --bin plumb
fi
# The work directory is on the root disk (not tmpfs): the read load's file must be on a block device.
WORK=$(mktemp -d /var/tmp/plumb-trace-bench.XXXXXX)
TRACER_PID=
BPF_STATS=${BPF_STATS:-1}
STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
    sysctl -q -w kernel.bpf_stats_enabled="$STATS_BEFORE" || true
    if [ -n "$TRACER_PID" ]; then kill -INT "$TRACER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gcc -O2 -Wall -o "$WORK/benchload" bench/trace/loadgen.c
echo hello >"$WORK/opened"
dd if=/dev/urandom of="$WORK/readme" bs=1M count=256 status=none
sync
DISK=$(basename "$(findmnt -no SOURCE --target "$WORK")")
log "read load on $DISK; plumb $($PLUMB --version 2>/dev/null || echo '?'); $(bpftrace --version)"
TICK=$(getconf CLK_TCK)
[ "$BPF_STATS" = 1 ] && sysctl -q -w kernel.bpf_stats_enabled=1

# proc_cpu PID: utime + stime of PID in seconds.
proc_cpu() { awk -v t="$TICK" '{ sub(/.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
# machine_busy: busy CPU seconds of the whole machine (all but idle and iowait).
machine_busy() { awk -v t="$TICK" '$1 == "cpu" { print ($2 + $3 + $4 + $7 + $8 + $9) / t }' /proc/stat; }
# bpf_ns PID: summed run_time_ns of the BPF programs PID holds open (0 without bpf_stats).
bpf_ns() { cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^run_time_ns:/ { s += $2 } END { printf "%d", s }'; }
# disk_ios: completed reads + writes of $DISK.
disk_ios() { awk -v d="$DISK" '$3 == d { print $4 + $8 }' /proc/diskstats; }

# measure MODE TRACER N: one run; appends a line to runs.txt.
measure() {
    local mode=$1 tracer=$2 n=$3 base="$WORK/$1-$2-$3" start_cpu=0 t0=0 t1=0 lost=0 seen=0 b0=0 b1=0
    case "$tracer:$mode" in
        none:*) ;;
        plumb:open) "$PLUMB" opensnoop >"$base.out" 2>"$base.err" & TRACER_PID=$! ;;
        plumb:io) "$PLUMB" iolatency 1 >"$base.out" 2>"$base.err" & TRACER_PID=$! ;;
        bpftrace:open) bpftrace "$OPENSNOOP_BT" >"$base.out" 2>"$base.err" & TRACER_PID=$! ;;
        bpftrace:io) bpftrace "$IOLATENCY_BT" >"$base.out" 2>"$base.err" & TRACER_PID=$! ;;
    esac
    if [ -n "$TRACER_PID" ]; then
        sleep "$WARMUP"
        kill -0 "$TRACER_PID" 2>/dev/null || { cat "$base.err" >&2; log "$tracer did not start"; exit 1; }
        start_cpu=$(proc_cpu "$TRACER_PID")
        t0=$start_cpu
        b0=$(bpf_ns "$TRACER_PID")
    fi
    local m0 d0 m1 d1 events lg_cpu ios
    m0=$(machine_busy); d0=$(disk_ios)
    if [ "$mode" = open ]; then
        read -r events lg_cpu < <("$WORK/benchload" open "$WORK/opened" "$SECONDS_PER_RUN")
    else
        read -r _ lg_cpu < <("$WORK/benchload" read "$WORK/readme" "$SECONDS_PER_RUN")
    fi
    m1=$(machine_busy); d1=$(disk_ios)
    ios=$((d1 - d0))
    [ "$mode" = io ] && events=$ios
    if [ -n "$TRACER_PID" ]; then
        t1=$(proc_cpu "$TRACER_PID")
        b1=$(bpf_ns "$TRACER_PID")
        kill -INT "$TRACER_PID"
        wait "$TRACER_PID" || true
        TRACER_PID=
        # Losses: plumb prints "... lost N ..." / "dropped" counts on stderr; bpftrace "Lost N events".
        lost=$(cat "$base.out" "$base.err" | python3 bench/trace/summarize.py --lost "$tracer")
        if [ "$mode" = open ]; then seen=$(grep -c benchload "$base.out" || true); fi
        cp "$base.err" "$OUT/$mode-$tracer-$n.err"
        [ "$mode" = io ] && cp "$base.out" "$OUT/$mode-$tracer-$n.out"
        rm -f "$base.out"
    fi
    python3 - "$mode" "$tracer" "$n" "$SECONDS_PER_RUN" "$events" "$lg_cpu" "$t0" "$t1" "$m0" "$m1" "$lost" \
        "$seen" "$start_cpu" "$b0" "$b1" >>"$OUT/runs.txt" <<'PY'
import sys
mode, tracer, n, secs, events, lg, t0, t1, m0, m1, lost, seen, start, b0, b1 = sys.argv[1:]
print(mode, tracer, n, secs, events, lg, f"{float(t1) - float(t0):.3f}", f"{float(m1) - float(m0):.3f}", lost, seen, start,
      f"{(int(b1) - int(b0)) / 1e9:.4f}")
PY
    log "$(tail -n 1 "$OUT/runs.txt")"
}

echo "# mode tracer run seconds events loadgen_cpu_s tracer_cpu_s machine_busy_s lost seen_by_tracer tracer_startup_cpu_s bpf_run_s" \
    >"$OUT/runs.txt"
for n in $(seq "$REPEATS"); do
    case $((n % 3)) in
        1) order="none plumb bpftrace" ;;
        2) order="bpftrace none plumb" ;;
        0) order="plumb bpftrace none" ;;
    esac
    for mode in $MODES; do
        for tracer in $order; do
            log "run $n: $mode $tracer"
            measure "$mode" "$tracer" "$n"
        done
    done
done
python3 bench/trace/summarize.py "$OUT" | tee "$OUT/summary.md"
