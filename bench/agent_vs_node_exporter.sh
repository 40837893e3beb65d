#!/usr/bin/env bash
# CPU time per collection cycle and RSS of `plumb agent` against prometheus-node-exporter, side
# by side in one run: both run at the same time, both are scraped once a second by the same
# scraper (bench/scrape_and_sample.py) for the same window, and their CPU time (utime + stime from
# /proc/PID/stat) and VmRSS are sampled. A second plumb agent that nobody scrapes runs beside them
# and gives the cost of collection alone. Repeats the run and prints the per-run figures, the
# medians, and a Markdown table for BENCHMARKS.md.
#
# Usage: bench/agent_vs_node_exporter.sh
# Environment (defaults in brackets):
#   SECONDS_PER_RUN  length of each window in one-second cycles [120]
#   REPEATS          number of runs [3]
#   NODE_EXPORTER_ONLY=1  measure node_exporter alone (no plumb build) [0]
#   PLUMB            the plumb binary [target/release/plumb, built with cargo build --release -p plumb]
#   PLUMB_CYCLES_METRIC  the counter of the agent's collection cycles in its /metrics; when empty,
#                    plumb's cycles are its scrapes [plumb_agent_collect_cycles_total]
#
# Needs root for apt-get when prometheus-node-exporter is not installed. Both exporters listen on
# 127.0.0.1 only; the packaged node_exporter service is kept from starting (or stopped).
set -euo pipefail

cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-120}
REPEATS=${REPEATS:-3}
NODE_EXPORTER_ONLY=${NODE_EXPORTER_ONLY:-0}
PLUMB=${PLUMB:-target/release/plumb}
PLUMB_CYCLES_METRIC=${PLUMB_CYCLES_METRIC-plumb_agent_collect_cycles_total}
NODE_EXPORTER=/usr/bin/prometheus-node-exporter

log() { echo "bench: $*" >&2; }

install_node_exporter() {
    if [ -x "$NODE_EXPORTER" ]; then
        return
    fi
    log "installing prometheus-node-exporter"
    # Keep the package's service from starting (it would listen on all interfaces).
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus-node-exporter >&2
    if [ "$made_policy" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    if [ -d /run/systemd/system ]; then
        systemctl stop prometheus-node-exporter.service || true
        systemctl disable prometheus-node-exporter.service || true
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Fails unless PID is the process NAME (not a wrapper shell), whose CPU time is what we measure.
expect_comm() {
    local pid=$1 name=$2 comm
    sleep 0.2
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [ "$comm" != "$name" ]; then
        echo "bench: pid $pid is ${comm:-gone}, expected $name" >&2
        exit 1
    fi
}

pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pids=()
}
trap stop_all EXIT

install_node_exporter
if [ "$NODE_EXPORTER_ONLY" != 1 ] && [ "$PLUMB" = target/release/plumb ]; then
    log "building plumb (release)"
    cargo build --release -q -p plumb
fi

results=()
for run in $(seq 1 "$REPEATS"); do
    ne_port=$(free_port)
    "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$ne_port" --log.level=warn 2>/dev/null &
    ne_pid=$!
    pids+=("$ne_pid")
    expect_comm "$ne_pid" prometheus-node
    targets=("node_exporter=$ne_pid=http://127.0.0.1:$ne_port/metrics")
    extra=()
    if [ "$NODE_EXPORTER_ONLY" != 1 ]; then
        plumb_port=$(free_port)
        "$PLUMB" agent --listen "127.0.0.1:$plumb_port" >/dev/null 2>&1 &
        plumb_pid=$!
        pids+=("$plumb_pid")
        expect_comm "$plumb_pid" plumb
        targets=("plumb=$plumb_pid=http://127.0.0.1:$plumb_port/metrics" "${targets[@]}")
        # A second agent nobody scrapes: the cost of collection alone.
        quiet_port=$(free_port)
        "$PLUMB" agent --listen "127.0.0.1:$quiet_port" >/dev/null 2>&1 &
        quiet_pid=$!
        pids+=("$quiet_pid")
        expect_comm "$quiet_pid" plumb
        targets+=("plumb_unscraped=$quiet_pid=-")
        if [ -n "$PLUMB_CYCLES_METRIC" ]; then
            extra=(--count-metric "plumb=$PLUMB_CYCLES_METRIC")
        fi
    fi
    log "run $run/$REPEATS: ${SECONDS_PER_RUN}s"
    results+=("$(python3 bench/scrape_and_sample.py --seconds "$SECONDS_PER_RUN" "${extra[@]}" "${targets[@]}")")
    stop_all
done

ne_version=$("$NODE_EXPORTER" --version 2>&1 | head -1)
plumb_rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
nprocs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
echo "machine: $(nproc) CPUs, $(uname -r), ${nprocs} processes; ${ne_version}; plumb at ${plumb_rev}"
printf '%s\n' "${results[@]}" | python3 bench/summarize.py "$SECONDS_PER_RUN" "$NODE_EXPORTER_ONLY"
