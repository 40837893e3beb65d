#!/usr/bin/env python3
"""Summarize bench/profile/run.sh results: medians per tool of wall, CPU, samples, lost, and the
plumb/perf ratios, as a Markdown table for BENCHMARKS.md.

Usage: bench/profile/summarize.py RESULTS_DIR   (reads RESULTS_DIR/runs.txt:
"tool run wall_s cpu_s samples lost" per line)
"""
import statistics
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1])
    runs: dict[str, list[list[float]]] = {}
    for line in (out / "runs.txt").read_text().splitlines():
        tool, _n, *fields = line.split()
        runs.setdefault(tool, []).append([float(f) for f in fields])
    med = {t: [statistics.median(col) for col in zip(*rows)] for t, rows in runs.items()}
    print(f"runs per tool: { {t: len(r) for t, r in runs.items()} }")
    print()
    print("| figure | plumb | perf + inferno | ratio |")
    print("|---|---|---|---|")
    names = ["wall time (s)", "CPU time (s)", "samples", "lost samples"]
    for i, name in enumerate(names):
        p, q = med["plumb"][i], med["perf"][i]
        ratio = f"{p / q:.2f}x" if q else "-"
        print(f"| {name} | {p:g} | {q:g} | {ratio} |")


if __name__ == "__main__":
    main()
