#!/usr/bin/env python3
"""Scrape HTTP targets once a second and sample their processes' CPU time and RSS.

Used by agent_vs_node_exporter.sh. Each target is NAME=PID=URL. After a warm-up, the window is
SECONDS one-second ticks: at each tick every target's URL is fetched (the whole body read and
thrown away), then each process's VmRSS is read. CPU time (utime + stime of all the process's
threads, from /proc/PID/stat) is read at the start and at the end of the window. Prints one JSON
object with a member per target.

With --count-metric NAME=METRIC, the target's cycles are the increase of the counter METRIC in
its own exposition over the window (for a collector that runs on its own clock); otherwise a
target's cycles are its successful scrapes. A target whose URL is "-" is sampled but never
scraped; its cycles are the window's seconds (for a collector that runs once a second).
"""

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read()


def counter(body, metric):
    """The sum of the samples of `metric` in a Prometheus text exposition, or None."""
    total = None
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name != metric:
            continue
        rest = line.rsplit("}", 1)[1] if "}" in line else line.split(" ", 1)[1]
        total = (total or 0.0) + float(rest.split()[0])
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=120, help="length of the window in one-second ticks")
    ap.add_argument("--warmup", type=int, default=5, help="scrapes before the window starts")
    ap.add_argument("--count-metric", action="append", default=[], metavar="NAME=METRIC")
    ap.add_argument("targets", nargs="+", metavar="NAME=PID=URL")
    args = ap.parse_args()

    targets = []
    for t in args.targets:
        name, pid, url = t.split("=", 2)
        targets.append({"name": name, "pid": int(pid), "url": url})
    count_metric = dict(c.split("=", 1) for c in args.count_metric)

    # Wait until every target answers, then warm up.
    deadline = time.monotonic() + 30
    scraped = [t for t in targets if t["url"] != "-"]
    for t in scraped:
        while True:
            try:
                scrape(t["url"])
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    sys.exit(f"{t['name']} does not answer at {t['url']}: {e}")
                time.sleep(0.2)
    for _ in range(args.warmup):
        for t in scraped:
            scrape(t["url"])
        time.sleep(1)

    for t in targets:
        t.update(scrapes=0, errors=0, bytes=0, rss=[], first=None)
    start = time.monotonic()
    for t in targets:
        t["cpu0"] = cpu_ticks(t["pid"])
    for k in range(args.seconds):
        for t in scraped:
            try:
                body = scrape(t["url"])
            except OSError as e:
                t["errors"] += 1
                print(f"{t['name']}: scrape failed: {e}", file=sys.stderr)
                continue
            t["scrapes"] += 1
            t["bytes"] += len(body)
            metric = count_metric.get(t["name"])
            if metric and k == 0:
                t["first"] = counter(body, metric)
        for t in targets:
            t["rss"].append(rss_kb(t["pid"]))
        next_tick = start + k + 1
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - start
    for t in targets:
        t["cpu1"] = cpu_ticks(t["pid"])
    # The cycle counters at the window's end, read after its CPU time so as not to count this scrape.
    for t in targets:
        metric = count_metric.get(t["name"])
        t["last"] = counter(scrape(t["url"]), metric) if metric else None

    out = {"seconds": elapsed}
    for t in targets:
        cpu_s = (t["cpu1"] - t["cpu0"]) / CLK_TCK
        if t["url"] == "-":
            cycles = round(elapsed)
        elif t["name"] in count_metric:
            if t["first"] is None or t["last"] is None:
                sys.exit(f"{t['name']}: no {count_metric[t['name']]} in its exposition")
            # The window's first scrape and the one just after it bracket its cycles.
            cycles = t["last"] - t["first"]
        else:
            cycles = t["scrapes"]
        out[t["name"]] = {
            "cpu_seconds": cpu_s,
            "cycles": cycles,
            "cpu_ms_per_cycle": 1000.0 * cpu_s / cycles if cycles else None,
            "scrapes": t["scrapes"],
            "scrape_errors": t["errors"],
            "bytes_per_scrape": t["bytes"] / t["scrapes"] if t["scrapes"] else None,
            "rss_kb_max": max(t["rss"]),
            "rss_kb_median": statistics.median(t["rss"]),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
