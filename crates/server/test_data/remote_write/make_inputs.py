#!/usr/bin/env python3
"""Writes the `*.in.hex` remote write bodies in this directory.

The protobuf and snappy encodings are written out here by hand from Prometheus's
prompb/remote.proto and types.proto and snappy's format_description.txt, independently of
the prost types under test, so a wrong field number or wire type there shows up as a failed
case. Run it from this directory; it is deterministic. Timestamps are relative to the tests'
clock NOW = 1_700_000_000_000 (2023-11-14T22:13:20Z).
"""
import struct

NOW = 1_700_000_000_000
STALE_NAN = struct.pack("<Q", 0x7FF0000000000002)


def varint(n):
    n &= (1 << 64) - 1  # int64 negatives as 10-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 1:
        return key + payload
    return key + varint(len(payload)) + payload


def label(name, value):
    return field(1, 2, field(1, 2, name.encode()) + field(2, 2, value.encode()))


def sample(value, ts):
    v = value if isinstance(value, bytes) else struct.pack("<d", value)
    return field(2, 2, field(1, 1, v) + field(2, 0, ts))


def series(labels, samples=(), extra=b""):
    body = b"".join(label(k, v) for k, v in labels) + b"".join(sample(v, t) for v, t in samples) + extra
    return field(1, 2, body)


def snappy_literal(data):
    """Snappy block format using only literals (valid, just uncompressed)."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i : i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
    return bytes(out)


def write(name, body):
    hexed = body.hex()
    with open(f"{name}.in.hex", "w") as f:
        f.write("\n".join(hexed[i : i + 64] for i in range(0, len(hexed), 64)) + "\n")


node = [("instance", "localhost:9100"), ("job", "node")]
request = b"".join(
    [
        series([("__name__", "up")] + node, [(1.0, NOW - 15_000), (1.0, NOW)]),
        series([("__name__", "node_cpu_seconds_total"), ("cpu", "0")] + node + [("mode", "idle")], [(12345.67, NOW)]),
        series(
            [("__name__", "prometheus_http_request_duration_seconds_bucket"), ("handler", "/api/v1/query"),
             ("instance", "localhost:9090"), ("job", "prometheus"), ("le", "+Inf")],
            [(42.0, NOW)],
        ),
        # cAdvisor's own `name` label, and an empty label value (absent in Prometheus).
        series(
            [("__name__", "container_cpu_usage_seconds_total"), ("id", "/kubepods/burstable/pod1"),
             ("name", "k8s_POD_web-0"), ("namespace", ""), ("pod", "web 0 ü")],
            [(3.5, NOW)],
        ),
        # A recording rule's name with colons; -0.0 kept bit for bit; +Inf refused; too old.
        series([("__name__", "node:cpu_utilisation:avg1m")] + node,
               [(-0.0, NOW - 30_000), (float("inf"), NOW - 15_000), (0.25, NOW - 2 * 3600_000)]),
        # A staleness marker: the target went away.
        series([("__name__", "up"), ("instance", "gone:9100"), ("job", "node")], [(STALE_NAN, NOW)]),
        # No metric name.
        series([("job", "node")], [(1.0, NOW)]),
        # A native histogram (count 3, sum 1.5) and an exemplar with a trace id.
        series(
            [("__name__", "rpc_latency_seconds")] + node,
            [(7.0, NOW)],
            field(4, 2, field(1, 0, 3) + field(3, 1, struct.pack("<d", 1.5)) + field(15, 0, NOW))
            + field(3, 2, label("trace_id", "4bf92f3577b34da6") + field(2, 1, struct.pack("<d", 0.2)) + field(3, 0, NOW)),
        ),
    ]
)
metadata = field(3, 2, field(1, 0, 1) + field(2, 2, b"up") + field(4, 2, b"Whether the target is up."))
# Only metadata, as Prometheus sends every minute: no series, an empty outcome.
write("metadata-only", snappy_literal(metadata))
# The same request cut mid-message, behind valid snappy.
write("truncated-protobuf", snappy_literal(request[: len(request) // 2]))
# Snappy's framed format (stream identifier chunk first), which remote write does not use.
write("framed-snappy", b"\xff\x06\x00\x00sNaPpY" + b"\x01\x09\x00\x00" + b"\x00" * 4 + b"\x00" * 5)
# The protobuf sent without compression.
write("uncompressed", request)

# The mixed request, snappy-compressed (with literals only).
write("prometheus-mixed", snappy_literal(request + metadata))
