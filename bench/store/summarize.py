#!/usr/bin/env python3
"""Summarises a bench/store/run.sh result directory as a Markdown table for BENCHMARKS.md.

Usage: bench/store/summarize.py RESULT_DIR
Reads gen.json (the load), TARGET-send.json (the sender's counts) and TARGET.json (the
script's measurements) for each target present, in the order plumb, prometheus,
victoriametrics, and prints one row per target plus plumb's ratio to Prometheus.
"""
import json
import os
import sys

TARGETS = ["plumb", "prometheus", "victoriametrics"]


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    gen = load(os.path.join(out, "gen.json"))
    rows = {}
    for t in TARGETS:
        p = os.path.join(out, t + ".json")
        if not os.path.exists(p):
            continue
        m = load(p)
        s = load(os.path.join(out, t + "-send.json"))
        samples = s["samples_ok"] or 1
        series = gen["series"]
        cpu = m["cpu_ticks"] / m["clk_tck"]
        compacted = m["disk_compacted"]
        rows[t] = {
            "ingest": s["samples_ok"] / s["seconds"],
            "cpu_per_m": cpu / samples * 1e6,
            "errors": s["status_4xx"] + s["status_5xx"] + s["samples_failed"],
            "stored": m["stored_samples"],
            "b_ingest": m["disk_after_ingest"] / samples,
            "b_compacted": None if compacted is None else compacted / samples,
            "rss_series": m["rss_kb"] * 1024 / series,
            "hwm_series": m["hwm_kb"] * 1024 / series,
            "restart": m["restart_secs"],
            "rss_restart_series": m["rss_restarted_kb"] * 1024 / series,
        }
    print(
        f"Load: {gen['series']} series, {gen['samples']} samples in {gen['requests']} requests "
        f"({gen['body_bytes'] / gen['requests'] / 1024:.0f} KiB snappy each), "
        f"{(gen['end_ms'] - gen['start_ms']) / 1000 + 0:.0f} s of data.\n"
    )
    print(
        "| target | ingest samples/s | target CPU s per 1M samples | refused/failed requests | samples stored (own counter) "
        "| bytes/sample after ingest | bytes/sample compacted | RSS bytes/series (peak) | restart s | RSS bytes/series after restart |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t, r in rows.items():
        print(
            f"| {t} | {r['ingest']:,.0f} | {r['cpu_per_m']:.2f} | {r['errors']} | {r['stored']:,.0f} | {r['b_ingest']:.2f} "
            f"| {fmt(r['b_compacted'], '.2f')} | {r['rss_series']:,.0f} ({r['hwm_series']:,.0f}) | {fmt(r['restart'], '.2f')} "
            f"| {r['rss_restart_series']:,.0f} |"
        )
    if "plumb" in rows and "prometheus" in rows:
        p, q = rows["plumb"], rows["prometheus"]
        pb = p["b_compacted"] if p["b_compacted"] is not None else p["b_ingest"]
        qb = q["b_compacted"] if q["b_compacted"] is not None else q["b_ingest"]
        print(
            f"\nplumb / Prometheus: ingest {p['ingest'] / q['ingest']:.2f}x (goal >= 2x), bytes/sample "
            f"{pb / qb:.2f}x (goal <= 0.7x; plumb as on disk, Prometheus compacted), memory/series "
            f"{p['rss_series'] / q['rss_series']:.2f}x (goal <= 0.5x)"
        )


if __name__ == "__main__":
    main()
