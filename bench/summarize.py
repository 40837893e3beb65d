#!/usr/bin/env python3
"""Summarise the runs of agent_vs_node_exporter.sh.

Reads one JSON object per line on stdin (the output of scrape_and_sample.py, one per run); the
arguments are SECONDS_PER_RUN and NODE_EXPORTER_ONLY (1 or 0). Prints each run, the medians over
the runs, and the Markdown table for BENCHMARKS.md. Ratios are taken within each run (the two
processes measured over the same window) and their median is quoted.
"""

import json
import statistics
import subprocess
import sys

MB = 1024.0  # the samples are in kB


def main():
    seconds, ne_only = sys.argv[1], sys.argv[2] == "1"
    runs = [json.loads(line) for line in sys.stdin if line.strip()]
    names = [n for n in ("plumb", "plumb_unscraped", "node_exporter") if n in runs[0]]

    def med(name, key):
        return statistics.median(r[name][key] for r in runs)

    def ratio(num, den, key):
        return statistics.median(r[num][key] / r[den][key] for r in runs)

    print("per run:")
    for i, r in enumerate(runs, 1):
        print(f"  run {i} ({r['seconds']:.1f} s):")
        for n in names:
            t = r[n]
            scraped = f", {t['bytes_per_scrape']:.0f} B/scrape, {t['scrape_errors']} errors" if t["scrapes"] else ""
            print(f"    {n}: {t['cpu_ms_per_cycle']:.2f} ms CPU/cycle over {t['cycles']:.0f} cycles, "
                  f"RSS max {t['rss_kb_max'] / MB:.1f} MB median {t['rss_kb_median'] / MB:.1f} MB{scraped}")
        if not ne_only:
            print(f"    node_exporter / plumb CPU: {r['node_exporter']['cpu_ms_per_cycle'] / r['plumb']['cpu_ms_per_cycle']:.2f}")

    print(f"\nmedians of {len(runs)} runs:")
    for n in names:
        print(f"  {n}: {med(n, 'cpu_ms_per_cycle'):.2f} ms CPU per cycle, "
              f"RSS max {med(n, 'rss_kb_max') / MB:.1f} MB, median {med(n, 'rss_kb_median') / MB:.1f} MB")
    if ne_only:
        return

    date = subprocess.run(["date", "-u", "+%F"], capture_output=True, text=True).stdout.strip()
    p, q, ne = "plumb", "plumb_unscraped", "node_exporter"
    cpu = "cpu_ms_per_cycle"
    print(f"""
Markdown ({date}; medians of {len(runs)} runs of {seconds} one-second cycles; the ratio is the median of the per-run ratios):

| figure | plumb agent | node_exporter | plumb / node_exporter |
|---|---|---|---|
| CPU per cycle, scraped every second (ms) | {med(p, cpu):.2f} | {med(ne, cpu):.2f} | 1/{1 / ratio(p, ne, cpu):.1f} |
| CPU per cycle, collection only, not scraped (ms) | {med(q, cpu):.2f} | | 1/{1 / ratio(q, ne, cpu):.1f} |
| RSS max (MB) | {med(p, 'rss_kb_max') / MB:.1f} | {med(ne, 'rss_kb_max') / MB:.1f} | {ratio(p, ne, 'rss_kb_max'):.2f} |
| RSS median (MB) | {med(p, 'rss_kb_median') / MB:.1f} | {med(ne, 'rss_kb_median') / MB:.1f} | {ratio(p, ne, 'rss_kb_median'):.2f} |
| exposition size (kB per scrape) | {med(p, 'bytes_per_scrape') / 1000:.1f} | {med(ne, 'bytes_per_scrape') / 1000:.1f} | {ratio(p, ne, 'bytes_per_scrape'):.2f} |""")


if __name__ == "__main__":
    main()
