#!/usr/bin/env python3
"""Times each query pair of bench/query/run.sh against plumb and Prometheus and checks that both
give the same numbers.

Usage: measure.py OUT_DIR GEN_JSON PLUMB_HOST:PORT PROM_HOST:PORT RUNS WARMUP RANGE_SECS STEP_SECS [PLUMB_PID PROM_PID]

Writes OUT_DIR/queries.json: per query, both expressions, the check's verdict and details, the
answers' sizes and every timed latency in seconds. A latency is the wall clock of one HTTP
request on a kept-alive connection, from sending it to having read the whole answer (no
compression: both get `Accept-Encoding: identity`). Given the servers' process ids, it also adds
up each server's CPU time (utime + stime from /proc/PID/stat, in clock ticks) across its own
timed requests, which the machine's other load does not inflate as it does wall clock. Runs alternate between the targets, and which
goes first alternates too, so the machine's noise falls on both alike.
"""
import http.client
import json
import math
import os
import sys
import time
import urllib.parse

REL_TOL = 1e-9


def queries(gen):
    """(id, what, Atlas q, PromQL, group keys as plumb names them) for the data set in gen."""
    name, node = gen["probe_name"], gen["probe_node"]
    return [
        ("groupby_app", f"group-by: {name} summed by nf.app (all {gen['series'] // 50} nodes)",
         f"name,{name},:eq,:sum,(,nf.app,),:by", f"sum by (nf_app) ({name})", ["nf.app"]),
        ("groupby_node", f"group-by: {name} summed by nf.node, one region (a third of the nodes)",
         f"name,{name},:eq,nf.region,us-east-1,:eq,:and,:sum,(,nf.node,),:by",
         f'sum by (nf_node) ({name}{{nf_region="us-east-1"}})', ["nf.node"]),
        ("selective", f"selective: {name} of one node (1 series)",
         f"name,{name},:eq,nf.node,{node},:eq,:and,:sum", f'sum({name}{{nf_node="{node}"}})', []),
    ]


def cpu_ticks(pid):
    """utime + stime of process pid, in clock ticks; 0 without a pid."""
    if not pid:
        return 0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Target:
    def __init__(self, host_port, path, params, pid):
        host, port = host_port.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=300)
        self.url = path + "?" + urllib.parse.urlencode(params)
        self.pid = pid
        self.ticks = 0

    def get(self):
        """(seconds, body) of one request; adds the server's CPU ticks meanwhile to self.ticks."""
        c0 = cpu_ticks(self.pid)
        t0 = time.perf_counter()
        self.conn.request("GET", self.url, headers={"Accept-Encoding": "identity"})
        r = self.conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t0
        self.ticks += cpu_ticks(self.pid) - c0
        if r.status != 200:
            raise RuntimeError(f"{self.url}: HTTP {r.status}: {body[:300]!r}")
        return dt, body


def plumb_points(body, keys):
    """{group key: {t_ms: value}} from plumb's std.json, NaN points left out; and the line count."""
    d = json.loads(body)
    start, step = d["start"], d["step"]
    out = {}
    for m in d["metrics"]:
        key = tuple(m["tags"].get(k, "") for k in keys)
        pts = {}
        for i, v in enumerate(m["data"]["values"]):
            v = float(v)
            if not math.isnan(v):
                pts[start + i * step] = v
        if key in out:
            raise RuntimeError(f"plumb: group {key} twice")
        out[key] = pts
    return out, len(d["metrics"])


def prom_points(body, keys):
    """{group key: {t_ms: value}} from Prometheus's query_range answer; and the series count."""
    d = json.loads(body)
    if d.get("status") != "success":
        raise RuntimeError(f"prometheus: {d}")
    out = {}
    for s in d["data"]["result"]:
        key = tuple(s["metric"].get(k.replace(".", "_"), "") for k in keys)
        out[key] = {round(float(t) * 1000): float(v) for t, v in s["values"]}
    return out, len(d["data"]["result"])


def compare(p, q):
    """A list of differences (empty when equal): groups, timestamps, values within REL_TOL."""
    diffs = []
    p_nonempty = {k: v for k, v in p.items() if v}
    if set(p_nonempty) != set(q):
        diffs.append(f"groups: {len(p_nonempty)} plumb (with data) vs {len(q)} prometheus; "
                     f"only plumb {sorted(set(p_nonempty) - set(q))[:3]}, only prometheus {sorted(set(q) - set(p_nonempty))[:3]}")
    points = 0
    for k in sorted(set(p_nonempty) & set(q)):
        a, b = p_nonempty[k], q[k]
        if set(a) != set(b):
            diffs.append(f"{k}: timestamps differ: only plumb {sorted(set(a) - set(b))[:3]}, only prometheus {sorted(set(b) - set(a))[:3]}")
            continue
        for t, v in a.items():
            w = b[t]
            points += 1
            if abs(v - w) > REL_TOL * max(abs(v), abs(w)):
                diffs.append(f"{k} at {t}: plumb {v!r} prometheus {w!r}")
                break
    return diffs, points


def main():
    if len(sys.argv) not in (9, 11):
        sys.exit(__doc__)
    out, gen_path, plumb, prom = sys.argv[1:5]
    runs, warmup, range_secs, step_secs = map(int, sys.argv[5:9])
    plumb_pid, prom_pid = sys.argv[9:11] if len(sys.argv) == 11 else (None, None)
    with open(gen_path) as f:
        gen = json.load(f)
    end_ms = gen["end_ms"]
    start_ms = end_ms - range_secs * 1000
    results = []
    hz = os.sysconf("SC_CLK_TCK")
    # The floor: a trivial request to each, what the client and the loopback round trip cost.
    floor = {}
    for name, host_port, path, pid in (("plumb", plumb, "/api/v1/tags", plumb_pid),
                                       ("prometheus", prom, "/api/v1/status/buildinfo", prom_pid)):
        t = Target(host_port, path, {}, pid)
        floor[name] = [t.get()[0] for _ in range(warmup + runs)][warmup:]
    for qid, what, atlas, promql, keys in queries(gen):
        pt = Target(plumb, "/api/v1/graph", {"q": atlas, "s": start_ms, "e": end_ms, "step": f"{step_secs}s",
                                              "format": "std.json"}, plumb_pid)
        qt = Target(prom, "/api/v1/query_range", {"query": promql, "start": start_ms / 1000, "end": end_ms / 1000,
                                                  "step": step_secs}, prom_pid)
        _, pbody = pt.get()
        _, qbody = qt.get()
        p, p_lines = plumb_points(pbody, keys)
        q, q_series = prom_points(qbody, keys)
        diffs, points = compare(p, q)
        lat = {"plumb": [], "prometheus": []}
        for i in range(warmup + runs):
            if i == warmup:
                pt.ticks = qt.ticks = 0
            order = [("plumb", pt), ("prometheus", qt)]
            if i % 2:
                order.reverse()
            for name, t in order:
                dt, _ = t.get()
                if i >= warmup:
                    lat[name].append(dt)
        r = {"id": qid, "what": what, "atlas": atlas, "promql": promql, "plumb_lines": p_lines,
             "plumb_lines_with_data": sum(1 for v in p.values() if v), "prometheus_series": q_series,
             "points_compared": points, "same_numbers": not diffs, "differences": diffs[:10],
             "plumb_bytes": len(pbody), "prometheus_bytes": len(qbody), "latency_s": lat,
             "cpu_s_per_query": {"plumb": pt.ticks / hz / runs if plumb_pid else None,
                                 "prometheus": qt.ticks / hz / runs if prom_pid else None}}
        print(f"bench/query: {qid}: {p_lines} lines / {q_series} series, {points} points compared, "
              f"{'same numbers' if not diffs else 'DIFFERENT: ' + '; '.join(diffs[:3])}", file=sys.stderr)
        results.append(r)
    with open(f"{out}/queries.json", "w") as f:
        json.dump({"floor_s": floor, "start_ms": start_ms, "end_ms": end_ms, "step_secs": step_secs, "runs": runs,
                   "warmup": warmup, "queries": results}, f, indent=1)


if __name__ == "__main__":
    main()
