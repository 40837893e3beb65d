#!/usr/bin/env bash
# Captures the /proc and /sys files plumb's collectors read into DIR/proc and DIR/sys, for the
# replay tests in crates/collect/tests/replay.rs. Run it twice, INTERVAL seconds apart:
#   ./capture.sh replay/NAME/t0; sleep 1; ./capture.sh replay/NAME/t1
# then write the interval in replay/NAME/interval and bless: PLUMB_BLESS=1 cargo test -p plumb-collect --test replay
set -euo pipefail
out=${1:?usage: capture.sh DIR [PID...]}
shift
pids=("$@")
mkdir -p "$out/proc/sys/fs" "$out/proc/net" "$out/proc/pressure" "$out/sys/class/block"
for f in stat loadavg meminfo vmstat diskstats net/dev net/snmp net/netstat sys/fs/file-nr; do
  [ -r "/proc/$f" ] && cat "/proc/$f" > "$out/proc/$f"
done
for r in cpu memory io; do
  [ -r "/proc/pressure/$r" ] && cat "/proc/pressure/$r" > "$out/proc/pressure/$r"
done
for d in /sys/class/block/*; do
  n=$(basename "$d")
  mkdir -p "$out/sys/class/block/$n"
  [ -r "$d/partition" ] && cat "$d/partition" > "$out/sys/class/block/$n/partition"
  if [ -r "$d/dm/name" ]; then mkdir -p "$out/sys/class/block/$n/dm"; cat "$d/dm/name" > "$out/sys/class/block/$n/dm/name"; fi
done
for p in "${pids[@]}"; do
  [ -d "/proc/$p" ] || continue
  mkdir -p "$out/proc/$p"
  cat "/proc/$p/stat" > "$out/proc/$p/stat" 2>/dev/null || true
  cat "/proc/$p/io" > "$out/proc/$p/io" 2>/dev/null || true
done
