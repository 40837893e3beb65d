#!/usr/bin/env bash
# CPU profiling to a flame graph, side by side (issue 5): `plumb profile -F 99 -a -d 30 -o X.svg`
# against the classic pipeline `perf record -F 99 -ag` + `perf script` + inferno-collapse-perf +
# inferno-flamegraph, on the same busy workload (one burn process per CPU, built from
# crates/plumb/tests/fixtures/burn.c without frame pointers, plus one with them), in the same run,
# REPEATS times, alternating which goes first.
#
# Measured for each: the CPU time (user + system, from the shell's `times` of the children, i.e.
# getrusage of each step) and the wall time from start to the SVG, and the lost samples (plumb: the
# summary `--json` prints; perf: the LOST events `perf report --stats` counts). plumb symbolizes the same
# stacks perf script does (user DWARF/ELF symbols and kernel kallsyms).
#
# Usage: bench/profile/run.sh
# Environment (defaults in brackets):
#   SECONDS_PER_RUN  profiling duration [30]
#   REPEATS          runs [3]
#   OUT              results directory [bench/profile/results/<date>]
#   NO_BUILD=1       use target/release/plumb as it is
# Needs: root (system-wide sampling), gcc, /usr/bin/perf (Debian linux-perf), cargo (installs
# inferno's CLI from crates.io into target/bench-tools on first use), python3.
set -euo pipefail

cd "$(dirname "$0")/../.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
REPEATS=${REPEATS:-3}
OUT=${OUT:-bench/profile/results/$(date -u +%Y%m%dT%H%M%SZ)}
PLUMB=target/release/plumb
TOOLS=target/bench-tools
INFERNO_VERSION=0.12.8

log() { echo "bench/profile: $*" >&2; }

mkdir -p "$OUT" "$TOOLS"
if [ "${NO_BUILD:-0}" != 1 ]; then
    log "building plumb"
    cargo build --release -q -p plumb --bin plumb
fi
if [ ! -x "$TOOLS/bin/inferno-flamegraph" ]; then
    log "installing inferno $INFERNO_VERSION (collapse-perf, flamegraph)"
    cargo install -q --locked --root "$TOOLS" --version "$INFERNO_VERSION" inferno
fi
WORK=$(mktemp -d /tmp/plumb-profile-bench.XXXXXX)
BURNERS=()
cleanup() {
    for p in "${BURNERS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gcc -O2 -g -fomit-frame-pointer -o "$WORK/burn_nofp" crates/plumb/tests/fixtures/burn.c
gcc -O2 -g -fno-omit-frame-pointer -o "$WORK/burn_fp" crates/plumb/tests/fixtures/burn.c
NCPU=$(nproc)
# Enough burners for every CPU for the whole benchmark.
TOTAL=$(( (SECONDS_PER_RUN + 15) * REPEATS * 2 + 60 ))
for i in $(seq "$NCPU"); do
    if [ $((i % 2)) = 1 ]; then "$WORK/burn_nofp" "$TOTAL" >/dev/null & else "$WORK/burn_fp" "$TOTAL" >/dev/null & fi
    BURNERS+=($!)
done
sleep 1

# cpu_of CMD...: runs it, prints "wall_s cpu_s" (cpu = user + system of it and its children).
cpu_of() {
    python3 - "$@" <<'PY'
import os, resource, subprocess, sys, time
t0 = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL if os.environ.get("QUIET_STDOUT") else None)
wall = time.monotonic() - t0
u = resource.getrusage(resource.RUSAGE_CHILDREN)
if r.returncode != 0:
    sys.exit(f"{sys.argv[1]} exited {r.returncode}")
print(f"{wall:.3f} {u.ru_utime + u.ru_stime:.3f}")
PY
}

run_plumb() {
    local n=$1
    read -r wall cpu < <(cpu_of sh -c "'$PLUMB' profile -F 99 -a -d '$SECONDS_PER_RUN' -o '$OUT/plumb-$n.svg' \
        --json > '$OUT/plumb-$n.json'")
    lost=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lost"])' "$OUT/plumb-$n.json")
    samples=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"])' "$OUT/plumb-$n.json")
    echo "plumb $n $wall $cpu $samples $lost" >>"$OUT/runs.txt"
}

run_perf() {
    local n=$1 w1 c1 w2 c2 w3 c3 w4 c4
    read -r w1 c1 < <(QUIET_STDOUT=1 cpu_of perf record -q -F 99 -a -g -o "$WORK/perf.data" -- sleep "$SECONDS_PER_RUN")
    read -r w2 c2 < <(cpu_of sh -c "perf script -i '$WORK/perf.data' > '$WORK/out.perf' 2>/dev/null")
    read -r w3 c3 < <(cpu_of sh -c "'$TOOLS/bin/inferno-collapse-perf' '$WORK/out.perf' > '$WORK/out.folded'")
    read -r w4 c4 < <(cpu_of sh -c "'$TOOLS/bin/inferno-flamegraph' '$WORK/out.folded' > '$OUT/perf-$n.svg'")
    samples=$(grep -c '^\S' "$WORK/out.perf" || true)
    lost=$(perf report -i "$WORK/perf.data" --stats 2>/dev/null | awk '/LOST/ {s += $NF} END {print s + 0}')
    python3 -c "import sys; a=[float(x) for x in sys.argv[1:]]; print('perf', $n, f'{a[0]+a[2]+a[4]+a[6]:.3f}', f'{a[1]+a[3]+a[5]+a[7]:.3f}', $samples, $lost)" \
        "$w1" "$c1" "$w2" "$c2" "$w3" "$c3" "$w4" "$c4" >>"$OUT/runs.txt"
    echo "perf $n record $w1 $c1 script $w2 $c2 collapse $w3 $c3 flamegraph $w4 $c4" >>"$OUT/perf-steps.txt"
}

: >"$OUT/runs.txt"
for n in $(seq "$REPEATS"); do
    if [ $((n % 2)) = 1 ]; then
        log "run $n: plumb"; run_plumb "$n"; log "run $n: perf"; run_perf "$n"
    else
        log "run $n: perf"; run_perf "$n"; log "run $n: plumb"; run_plumb "$n"
    fi
done
python3 bench/profile/summarize.py "$OUT" | tee "$OUT/summary.md"
