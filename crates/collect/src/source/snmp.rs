//! `/proc/net/snmp` and `/proc/net/netstat`: TCP and UDP counters, as `sar -n TCP,ETCP,UDP`.
//!
//! Each file is a series of sections, a header line of field names and a line of values, both
//! starting with the section's name (`Tcp:`, `Udp:`, `TcpExt:`). Fields are found by name, so
//! kernels that add or lack other fields parse the same. Counters become per-second rates;
//! `tcp.established` (CurrEstab) is a gauge, emitted from the first reading. The listen queue
//! counters come from the `TcpExt` section of /proc/net/netstat, one more small read per cycle;
//! when that file is absent those two metrics are left out and the rest still work.
//!
//! Hand-parsed rather than through `procfs_core::net::Snmp`: that type requires every IP, ICMP
//! and UDP-Lite field (an older kernel without `InCsumErrors` or `IgnoredMulti` fails the whole
//! file), formats and allocates a key and a value string for each of its ~100 fields every cycle,
//! and its errors carry no line number. Only the fields used here are parsed.

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot, rate};

use super::Source;

const SNMP: &str = "/proc/net/snmp";
const NETSTAT: &str = "/proc/net/netstat";

/// What this source emits.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "tcp.active_opens", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Connections opened by this host, SYN-SENT from CLOSED (sar -n TCP active/s)." },
    MetricDef { name: "tcp.passive_opens", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Connections accepted, SYN-RCVD from LISTEN (sar -n TCP passive/s)." },
    MetricDef { name: "tcp.in_segs", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Segments received, errors included (sar -n TCP iseg/s)." },
    MetricDef { name: "tcp.out_segs", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Segments sent, retransmissions excluded (sar -n TCP oseg/s)." },
    MetricDef { name: "tcp.retrans_segs", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Segments retransmitted (sar -n ETCP retrans/s)." },
    MetricDef { name: "tcp.in_errs", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Segments received in error, e.g. bad checksum (sar -n ETCP isegerr/s)." },
    MetricDef { name: "tcp.out_rsts", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Segments sent with the RST flag (sar -n ETCP orsts/s)." },
    MetricDef { name: "tcp.attempt_fails", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Connection attempts that failed, to CLOSED or LISTEN from SYN-SENT or SYN-RCVD (sar -n ETCP atmptf/s)." },
    MetricDef { name: "tcp.estab_resets", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Connections reset, to CLOSED from ESTABLISHED or CLOSE-WAIT (sar -n ETCP estres/s)." },
    MetricDef { name: "tcp.established", unit: Unit::Count, tags: &[], source: SNMP, help: "Connections now in ESTABLISHED or CLOSE-WAIT (CurrEstab; no sar column)." },
    MetricDef { name: "udp.in_datagrams", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Datagrams delivered to sockets (sar -n UDP idgm/s)." },
    MetricDef { name: "udp.out_datagrams", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Datagrams sent (sar -n UDP odgm/s)." },
    MetricDef { name: "udp.no_ports", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Datagrams received for a port nobody listens on (sar -n UDP noport/s)." },
    MetricDef { name: "udp.in_errors", unit: Unit::PerSecond, tags: &[], source: SNMP, help: "Datagrams received but not delivered for another reason, e.g. full buffers (sar -n UDP idgmerr/s)." },
    MetricDef { name: "tcp.listen_overflows", unit: Unit::PerSecond, tags: &[], source: NETSTAT, help: "Connections completed while the accept queue was full (TcpExt ListenOverflows; no sar column)." },
    MetricDef { name: "tcp.listen_drops", unit: Unit::PerSecond, tags: &[], source: NETSTAT, help: "Connection requests dropped at a listening socket, overflows included (TcpExt ListenDrops; no sar column)." },
];

/// The `Tcp:` fields read, in the order of [`Snmp::tcp`].
pub const TCP_FIELDS: [&str; 10] = [
    "ActiveOpens",
    "PassiveOpens",
    "InSegs",
    "OutSegs",
    "RetransSegs",
    "InErrs",
    "OutRsts",
    "AttemptFails",
    "EstabResets",
    "CurrEstab",
];
/// The `Udp:` fields read, in the order of [`Snmp::udp`].
pub const UDP_FIELDS: [&str; 4] = ["InDatagrams", "OutDatagrams", "NoPorts", "InErrors"];
/// The `TcpExt:` fields read from /proc/net/netstat.
pub const LISTEN_FIELDS: [&str; 2] = ["ListenOverflows", "ListenDrops"];

/// The counters used from /proc/net/snmp (and /proc/net/netstat, when present).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snmp {
    /// The values of [`TCP_FIELDS`]; the first nine match [`METRICS`]' first nine, the last is
    /// CurrEstab.
    pub tcp: [u64; 10],
    /// The values of [`UDP_FIELDS`].
    pub udp: [u64; 4],
    /// The values of [`LISTEN_FIELDS`]; `None` without /proc/net/netstat.
    pub listen: Option<[u64; 2]>,
}

/// Parses /proc/net/snmp (its `Tcp:` and `Udp:` sections).
pub fn parse_snmp(text: &str) -> Result<Snmp, CollectError> {
    let tcp = section(text, SNMP, "Tcp", &TCP_FIELDS)?;
    let udp = section(text, SNMP, "Udp", &UDP_FIELDS)?;
    Ok(Snmp { tcp, udp, listen: None })
}

/// Parses the `TcpExt:` listen counters of /proc/net/netstat.
pub fn parse_netstat(text: &str) -> Result<[u64; 2], CollectError> {
    section(text, NETSTAT, "TcpExt", &LISTEN_FIELDS)
}

/// The values of `names` in section `prefix` of `text`: the first header line starting with
/// `prefix:` and the values line right after it. Only the wanted values are parsed, so a signed
/// field like `MaxConn -1` elsewhere in the section is no error.
pub fn section<const N: usize>(
    text: &str,
    file: &str,
    prefix: &str,
    names: &[&str; N],
) -> Result<[u64; N], CollectError> {
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some(header) = tagged(line, prefix) else { continue };
        let err = |line: usize, reason: String| CollectError::parse(file, line, reason);
        let (j, values) = match lines.next() {
            Some((j, next)) => {
                (j + 1, tagged(next, prefix).ok_or_else(|| err(j + 1, format!("expected the {prefix} values")))?)
            }
            None => return Err(err(i + 1, format!("{prefix} header without values"))),
        };
        let mut out = [0u64; N];
        let mut found = [false; N];
        let mut header = header.split_ascii_whitespace();
        let mut values = values.split_ascii_whitespace();
        loop {
            match (header.next(), values.next()) {
                (Some(name), Some(value)) => {
                    if let Some(k) = names.iter().position(|n| *n == name) {
                        out[k] = value.parse().map_err(|_| err(j, format!("{prefix} {name} is not a count")))?;
                        found[k] = true;
                    }
                }
                (None, None) => break,
                _ => return Err(err(j, format!("{prefix} has a different number of names and values"))),
            }
        }
        if let Some(k) = found.iter().position(|f| !f) {
            return Err(err(i + 1, format!("{prefix} has no {}", names[k])));
        }
        return Ok(out);
    }
    Err(CollectError::parse(file, 0, format!("no {prefix} section")))
}

/// The rest of `line` after `prefix:`, if it starts so.
fn tagged<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_prefix(':')
}

/// Reads /proc/net/snmp and /proc/net/netstat each cycle.
#[derive(Default)]
pub struct SnmpSource {
    buf: String,
    netstat: String,
    prev: Option<Snmp>,
}

impl Source for SnmpSource {
    fn name(&self) -> &'static str {
        "snmp"
    }

    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        root.read_proc("net/snmp", &mut self.buf)?;
        let mut cur = parse_snmp(&self.buf)?;
        cur.listen = match root.read_proc("net/netstat", &mut self.netstat) {
            Ok(()) => Some(parse_netstat(&self.netstat)?),
            Err(CollectError::Absent { .. }) => None,
            Err(e) => return Err(e),
        };
        let (tcp_defs, rest) = METRICS.split_at(TCP_FIELDS.len());
        let (udp_defs, listen_defs) = rest.split_at(UDP_FIELDS.len());
        out.push(Sample::new(tcp_defs[9].name, cur.tcp[9] as f64));
        if let (Some(prev), Some(secs)) = (&self.prev, secs.filter(|s| s.is_finite() && *s > 0.0)) {
            let rates = |defs: &[MetricDef], a: &[u64], b: &[u64], out: &mut Vec<Sample>| {
                for ((def, a), b) in defs.iter().zip(a).zip(b) {
                    out.push(Sample::new(def.name, rate(*a, *b, secs)));
                }
            };
            rates(&tcp_defs[..9], &prev.tcp[..9], &cur.tcp[..9], out);
            rates(udp_defs, &prev.udp, &cur.udp, out);
            if let (Some(a), Some(b)) = (&prev.listen, &cur.listen) {
                rates(listen_defs, a, b, out);
            }
        }
        self.prev = Some(cur);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Snapshot;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn data(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/snmp").join(rel)
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(data(rel)).unwrap()
    }

    /// Collects each tree in turn, `secs` apart; returns each cycle's samples.
    fn cycles(trees: &[&str], secs: f64) -> Vec<Snapshot> {
        let mut src = SnmpSource::default();
        let mut snaps = Vec::new();
        for (i, tree) in trees.iter().enumerate() {
            let mut snap = Snapshot::default();
            src.collect(&FsRoot::under(data(tree)), (i > 0).then_some(secs), &mut snap.samples).unwrap();
            snaps.push(snap);
        }
        snaps
    }

    #[test]
    fn captured_files_parse_and_agree_with_procfs_core() {
        let text = read("captured/proc/net/snmp");
        let ours = parse_snmp(&text).unwrap();
        let theirs = <procfs_core::net::Snmp as procfs_core::FromBufRead>::from_buf_read(text.as_bytes()).unwrap();
        assert_eq!(
            ours.tcp,
            [
                theirs.tcp_active_opens,
                theirs.tcp_passive_opens,
                theirs.tcp_in_segs,
                theirs.tcp_out_segs,
                theirs.tcp_retrans_segs,
                theirs.tcp_in_errs,
                theirs.tcp_out_rsts,
                theirs.tcp_attempt_fails,
                theirs.tcp_estab_resets,
                theirs.tcp_curr_estab,
            ]
        );
        assert_eq!(
            ours.udp,
            [theirs.udp_in_datagrams, theirs.udp_out_datagrams, theirs.udp_no_ports, theirs.udp_in_errors]
        );
        assert_eq!(ours.tcp[0], 57);
        // ListenOverflows and ListenDrops are the 23rd and 24th TcpExt values, both 0 here.
        assert_eq!(parse_netstat(&read("captured/proc/net/netstat")).unwrap(), [0, 0]);
    }

    #[test]
    fn older_kernels_without_newer_fields_parse() {
        let s = parse_snmp(&read("old/proc/net/snmp")).unwrap();
        assert_eq!(s.tcp, [1012, 88, 50211, 48120, 17, 2, 301, 9, 14, 6]);
        assert_eq!(s.udp, [777, 780, 12, 3]);
        // procfs-core refuses this file for lack of fields this source does not need.
        assert!(
            <procfs_core::net::Snmp as procfs_core::FromBufRead>::from_buf_read(read("old/proc/net/snmp").as_bytes())
                .is_err()
        );
    }

    #[test]
    fn malformed_sections_are_errors_with_their_line_number() {
        let tcp_h = "Tcp: RtoAlgorithm MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts\n";
        let udp = "Udp: InDatagrams NoPorts InErrors OutDatagrams\nUdp: 1 2 3 4\n";
        let cases = [
            (format!("{tcp_h}Tcp: 1 -1 1 2 3 4 5 6 7 8 9 x\n{udp}"), 2),
            (format!("{tcp_h}Tcp: 1 -1 1 2 3 4 5 6 7 8 9\n{udp}"), 2),
            (format!("{tcp_h}Tcp: 1 -1 1 2 3 4 5 6 7 8 9 10 11\n{udp}"), 2),
            (format!("{tcp_h}Tcp: 1 -1 1 2 3 4 -5 6 7 8 9 10\n{udp}"), 2),
            (format!("{tcp_h}Udp: 1 2 3 4\n"), 2),
            (format!("{udp}{tcp_h}"), 3),
            (format!("Tcp: ActiveOpens\nTcp: 1\n{udp}"), 1),
            (
                format!(
                    "{tcp_h}Tcp: 1 -1 1 2 3 4 5 6 7 8 9 10\nUdp: InDatagrams NoPorts InErrors OutDatagrams\nUdp: 1 2 3\n"
                ),
                4,
            ),
            (udp.to_string(), 0),
            (format!("{tcp_h}Tcp: 1 -1 1 2 3 4 5 6 7 8 9 10\n"), 0),
        ];
        for (text, line) in cases {
            match parse_snmp(&text) {
                Err(CollectError::ProcParse { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        // Section names match whole: `TcpExt:` is not `Tcp:`.
        assert!(parse_netstat("Tcp: ListenOverflows ListenDrops\nTcp: 1 2\n").is_err());
        assert_eq!(parse_netstat("TcpExt: ListenDrops X ListenOverflows\nTcpExt: 5 -1 4\n").unwrap(), [4, 5]);
    }

    #[test]
    fn first_cycle_has_only_the_gauge() {
        let snaps = cycles(&["t0"], 2.0);
        let names: Vec<_> = snaps[0].samples.iter().map(|s| (s.name, s.value)).collect();
        assert_eq!(names, [("tcp.established", 3.0)]);
    }

    #[test]
    fn two_cycles_match_hand_arithmetic() {
        let snaps = cycles(&["t0", "t1"], 2.0);
        let s = &snaps[1];
        let v = |name: &str| s.value(name, &[]).unwrap_or(f64::NAN);
        // Tcp (captured, 2 s apart as far as the test says): ActiveOpens 57 -> 60,
        // PassiveOpens 2 -> 2, AttemptFails 0 -> 3, EstabResets 46 -> 46, InSegs 3408 -> 3414,
        // OutSegs 3216 -> 3222, RetransSegs 1 -> 5 (edited), InErrs 0, OutRsts 48 -> 51.
        assert_eq!(v("tcp.active_opens"), 1.5);
        assert_eq!(v("tcp.passive_opens"), 0.0);
        assert_eq!(v("tcp.attempt_fails"), 1.5);
        assert_eq!(v("tcp.estab_resets"), 0.0);
        assert_eq!(v("tcp.in_segs"), 3.0);
        assert_eq!(v("tcp.out_segs"), 3.0);
        assert_eq!(v("tcp.retrans_segs"), 2.0);
        assert_eq!(v("tcp.in_errs"), 0.0);
        assert_eq!(v("tcp.out_rsts"), 1.5);
        // CurrEstab edited to 3 and then 5: a gauge, not a rate.
        assert_eq!(v("tcp.established"), 5.0);
        // Udp: InDatagrams 112 -> 112, NoPorts 0 -> 3, InErrors 0 -> 0, OutDatagrams 113 -> 116.
        assert_eq!(v("udp.in_datagrams"), 0.0);
        assert_eq!(v("udp.no_ports"), 1.5);
        assert_eq!(v("udp.in_errors"), 0.0);
        assert_eq!(v("udp.out_datagrams"), 1.5);
        // TcpExt (edited): ListenOverflows 0 -> 6, ListenDrops 0 -> 8.
        assert_eq!(v("tcp.listen_overflows"), 3.0);
        assert_eq!(v("tcp.listen_drops"), 4.0);
        assert_eq!(s.samples.len(), METRICS.len());
        for sample in &s.samples {
            assert!(METRICS.iter().any(|m| m.name == sample.name && m.tags.is_empty()));
        }
    }

    #[test]
    fn counters_going_backwards_give_zero() {
        let snaps = cycles(&["t1", "t0"], 2.0);
        let s = &snaps[1];
        assert_eq!(s.samples.len(), METRICS.len());
        for sample in &s.samples {
            let want = if sample.name == "tcp.established" { 3.0 } else { 0.0 };
            assert_eq!(sample.value, want, "{}", sample.name);
        }
    }

    #[test]
    fn without_netstat_the_listen_metrics_are_left_out() {
        let snaps = cycles(&["t0", "nonetstat", "t1"], 1.0);
        for snap in &snaps[1..] {
            assert!(snap.find("tcp.listen_drops", &[]).is_none());
            assert!(snap.find("tcp.active_opens", &[]).is_some());
        }
    }

    #[test]
    fn a_bad_or_missing_file_is_an_error() {
        let mut src = SnmpSource::default();
        let mut out = Vec::new();
        let err = src.collect(&FsRoot::under(data("garbage")), None, &mut out).unwrap_err();
        assert!(err.to_string().contains("line 8"), "{err}");
        let err = src.collect(&FsRoot::under(data("badnetstat")), None, &mut out).unwrap_err();
        assert!(err.to_string().contains("/proc/net/netstat line 2"), "{err}");
        assert!(out.is_empty());
        let missing = src.collect(&FsRoot::under(data("nowhere")), None, &mut out).unwrap_err();
        assert!(matches!(missing, CollectError::Absent { .. }));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_snmp(&text);
            let _ = parse_netstat(&text);
        }

        #[test]
        fn plausible_noise_never_panics(text in "((Tcp|Udp|TcpExt): ?[A-Za-z0-9 \\-]{0,40}\n){0,6}") {
            let _ = parse_snmp(&text);
            let _ = parse_netstat(&text);
        }
    }
}
