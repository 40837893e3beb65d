#!/usr/bin/env python3
"""Summarises a bench/query/run.sh result directory as a Markdown table for BENCHMARKS.md.

Usage: bench/query/summarize.py RESULT_DIR
Reads gen.json (the load) and queries.json (bench/query/measure.py's latencies and checks) and
prints one row per query: median and p90 latency of each target in ms, the ratio of medians
plumb / Prometheus (goal: at most 0.5), each server's CPU time per query (when measured), the
answer sizes and whether the numbers agreed.
"""
import json
import os
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def pct(values, p):
    """The p-th percentile, nearest rank."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    gen = load(os.path.join(out, "gen.json"))
    q = load(os.path.join(out, "queries.json"))
    print(
        f"Data: {gen['series']:,} series, {gen['samples']:,} samples, "
        f"{(gen['end_ms'] - gen['start_ms']) / 1000 + 10:.0f} s at 10 s. Queried: the last "
        f"{(q['end_ms'] - q['start_ms']) / 1000:.0f} s at step {q['step_secs']} s; {q['runs']} timed runs per "
        f"target after {q['warmup']} warm-up runs.\n"
    )
    print("| query | lines (plumb / Prometheus) | plumb median (p90) ms | Prometheus median (p90) ms "
          "| ratio of medians | server CPU ms per query (plumb / Prometheus) | same numbers | answer KiB (plumb / Prometheus) |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for r in q["queries"]:
        p, m = r["latency_s"]["plumb"], r["latency_s"]["prometheus"]
        pm, mm = statistics.median(p), statistics.median(m)
        cpu = r.get("cpu_s_per_query") or {}
        cpu_text = ("n/a" if cpu.get("plumb") is None or cpu.get("prometheus") is None
                    else f"{cpu['plumb'] * 1e3:.0f} / {cpu['prometheus'] * 1e3:.0f}")
        same = f"yes ({r['points_compared']:,} points)" if r["same_numbers"] else "NO"
        print(
            f"| {r['id']}: `{r['atlas']}` vs `{r['promql']}` | {r['plumb_lines']} / {r['prometheus_series']} "
            f"| {pm * 1e3:.1f} ({pct(p, 90) * 1e3:.1f}) | {mm * 1e3:.1f} ({pct(m, 90) * 1e3:.1f}) "
            f"| {pm / mm:.2f} | {cpu_text} | {same} | {r['plumb_bytes'] / 1024:,.0f} / {r['prometheus_bytes'] / 1024:,.0f} |"
        )
    if "floor_s" in q:
        f = q["floor_s"]
        print(f"\nFloor (a trivial request, what the client and the round trip cost; plumb `/api/v1/tags`, "
              f"Prometheus `/api/v1/status/buildinfo`): median {statistics.median(f['plumb']) * 1e3:.2f} ms "
              f"and {statistics.median(f['prometheus']) * 1e3:.2f} ms.")
    for r in q["queries"]:
        for d in r["differences"]:
            print(f"\n{r['id']}: {d}")


if __name__ == "__main__":
    main()
