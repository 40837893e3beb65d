#!/usr/bin/env python3
"""Summarize bench/trace/run.sh results: per tool pair, medians over the runs of the event rate,
the tracer's own CPU per event, the in-kernel probe cost per event (loadgen CPU per event, traced
minus baseline), and the machine-wide estimate (busy CPU minus the same repeat's baseline, per
event), as a Markdown table for BENCHMARKS.md.

Usage: bench/trace/summarize.py RESULTS_DIR   (reads RESULTS_DIR/runs.txt, one run a line:
"mode tracer run seconds events loadgen_cpu_s tracer_cpu_s machine_busy_s lost seen startup_cpu_s
[bpf_run_s]")
       bench/trace/summarize.py --lost TRACER < OUTPUT   (prints the events TRACER said it lost)
"""
import re
import statistics
import sys
from pathlib import Path

TOOLS = {"open": ("plumb opensnoop", "opensnoop.bt"), "io": ("plumb iolatency 1", "iolatency.bt")}


def lost(tracer: str, text: str) -> int:
    if tracer == "plumb":
        return sum(int(m) for m in re.findall(r"(\d+) lost", text))
    return sum(int(m) for m in re.findall(r"Lost (\d+) events", text))


def ns(x: float) -> str:
    return f"{x:,.0f}"


def main() -> None:
    if sys.argv[1] == "--lost":
        print(lost(sys.argv[2], sys.stdin.read()))
        return
    out = Path(sys.argv[1])
    runs: dict[tuple[str, str, int], dict[str, float]] = {}
    for line in (out / "runs.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        mode, tracer, n, secs, events, lg, tcpu, busy, lost_n, seen, start, *bpf = line.split()
        runs[(mode, tracer, int(n))] = dict(
            secs=float(secs), events=float(events), lg=float(lg), tcpu=float(tcpu), busy=float(busy),
            lost=float(lost_n), seen=float(seen), start=float(start),
            bpf=float(bpf[0]) if bpf else 0.0)
    modes = sorted({k[0] for k in runs}, key=lambda m: list(TOOLS).index(m))
    print("| load | figure (median of runs) | plumb | bpftrace | plumb / bpftrace |")
    print("|---|---|---:|---:|---:|")
    for mode in modes:
        reps = sorted({k[2] for k in runs if k[0] == mode})
        fig: dict[str, dict[str, list[float]]] = {"plumb": {}, "bpftrace": {}}
        base_rates = []
        for n in reps:
            base = runs.get((mode, "none", n))
            if base is None or base["events"] <= 0:
                continue
            base_rates.append(base["events"] / base["secs"])
            for t in fig:
                r = runs.get((mode, t, n))
                if r is None or r["events"] <= 0:
                    continue
                e = r["events"]
                tracer = r["tcpu"] / e * 1e9
                kernel = (r["lg"] / e - base["lg"] / base["events"]) * 1e9
                machine = (r["busy"] - base["busy"]) / e * 1e9
                for k, v in [("rate", e / r["secs"]), ("tracer", tracer), ("kernel", kernel),
                             ("sum", tracer + kernel), ("machine", machine), ("lost", r["lost"]),
                             ("seen", r["seen"] / e * 100), ("start", r["start"]),
                             ("bpf", r["bpf"] / e * 1e9), ("tracer_bpf", tracer + r["bpf"] / e * 1e9)]:
                    fig[t].setdefault(k, []).append(v)
        med = {t: {k: statistics.median(v) for k, v in f.items()} for t, f in fig.items() if f}
        if len(med) < 2:
            continue
        label = f"{TOOLS[mode][0]} / {TOOLS[mode][1]}"
        rows = [
            ("events/s, no tracer", statistics.median(base_rates), statistics.median(base_rates), "{:,.0f}"),
            ("events/s, traced", med["plumb"]["rate"], med["bpftrace"]["rate"], "{:,.0f}"),
            ("tracer process CPU, ns/event", med["plumb"]["tracer"], med["bpftrace"]["tracer"], "{:,.0f}"),
            ("in-kernel probes (loadgen CPU traced - baseline), ns/event", med["plumb"]["kernel"],
             med["bpftrace"]["kernel"], "{:,.0f}"),
            ("**total: tracer + in-kernel, ns/event**", med["plumb"]["sum"], med["bpftrace"]["sum"], "**{:,.0f}**"),
            ("BPF programs' run time (bpf_stats), ns/event", med["plumb"]["bpf"], med["bpftrace"]["bpf"], "{:,.0f}"),
            ("**tracer process + BPF programs, ns/event**", med["plumb"]["tracer_bpf"], med["bpftrace"]["tracer_bpf"],
             "**{:,.0f}**"),
            ("machine busy CPU traced - baseline, ns/event", med["plumb"]["machine"], med["bpftrace"]["machine"],
             "{:,.0f}"),
            ("events lost (tracer's count)", med["plumb"]["lost"], med["bpftrace"]["lost"], "{:,.0f}"),
            ("tracer start-up CPU, s", med["plumb"]["start"], med["bpftrace"]["start"], "{:.2f}"),
        ]
        if mode == "open":
            rows.append(("loadgen opens in the output, %", med["plumb"]["seen"], med["bpftrace"]["seen"], "{:.1f}"))
        for name, p, b, f in rows:
            ratio = f"{p / b:.2f}x" if b > 0 and p >= 0 else "-"
            print(f"| {label} | {name} | {f.format(p)} | {f.format(b)} | {ratio} |")
    print()
    print(f"runs: { {f'{m}/{t}': sum(1 for k in runs if k[:2] == (m, t)) for m in modes for t in ('none', 'plumb', 'bpftrace')} }")


if __name__ == "__main__":
    main()
