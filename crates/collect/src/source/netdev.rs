//! `/proc/net/dev`: traffic and errors per network interface, as `sar -n DEV,EDEV`.
//!
//! Every counter becomes a per-second rate over the interval; bytes become kilobytes of 1024
//! bytes, as sar prints them. An interface that appears or disappears between two readings gives
//! no rates that cycle; a counter that went backwards (a driver reset) gives 0.
//!
//! Interface names are kept as the kernel prints them, odd characters included: Linux refuses
//! only `/`, `:` and whitespace in a name, so the name is everything before the line's last `:`,
//! trimmed. The file is read as bytes so that a name that is not UTF-8 costs that one name a
//! replacement character instead of failing the whole file.
//!
//! Hand-parsed rather than through `procfs_core::net::InterfaceDeviceStatus`: that type builds a
//! `HashMap` and allocates the line and the name twice per interface every cycle, finds the name
//! by splitting on whitespace (wrong for the older `%6s:%8lu` format, where a large byte count is
//! glued to the colon), and its errors carry no line number.

use std::collections::HashMap;
use std::io::{ErrorKind, Read};
use std::path::Path;

use plumb_model::{MetricDef, Sample, Unit};

use crate::{CollectError, FsRoot, rate};

use super::Source;

const SRC: &str = "/proc/net/dev";
const TAGS: &[&str] = &["iface"];

/// What this source emits, in the order of [`rates`]' result.
#[rustfmt::skip]
pub const METRICS: &[MetricDef] = &[
    MetricDef { name: "net.rx_packets", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Packets received (sar -n DEV rxpck/s)." },
    MetricDef { name: "net.tx_packets", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Packets transmitted (sar -n DEV txpck/s)." },
    MetricDef { name: "net.rx_kb", unit: Unit::KilobytesPerSecond, tags: TAGS, source: SRC, help: "Kilobytes received (sar -n DEV rxkB/s)." },
    MetricDef { name: "net.tx_kb", unit: Unit::KilobytesPerSecond, tags: TAGS, source: SRC, help: "Kilobytes transmitted (sar -n DEV txkB/s)." },
    MetricDef { name: "net.rx_errors", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Bad packets received (sar -n EDEV rxerr/s)." },
    MetricDef { name: "net.tx_errors", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Errors while transmitting (sar -n EDEV txerr/s)." },
    MetricDef { name: "net.rx_drops", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Received packets dropped, e.g. for lack of buffers (sar -n EDEV rxdrop/s)." },
    MetricDef { name: "net.tx_drops", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Packets dropped before transmission, e.g. for lack of buffers (sar -n EDEV txdrop/s)." },
    MetricDef { name: "net.collisions", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Collisions while transmitting (sar -n EDEV coll/s)." },
    MetricDef { name: "net.rx_fifo", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "FIFO overruns while receiving (sar -n EDEV rxfifo/s)." },
    MetricDef { name: "net.tx_fifo", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "FIFO overruns while transmitting (sar -n EDEV txfifo/s)." },
    MetricDef { name: "net.rx_frame", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Frame alignment errors on received packets (sar -n EDEV rxfram/s)." },
    MetricDef { name: "net.tx_carrier", unit: Unit::PerSecond, tags: TAGS, source: SRC, help: "Carrier errors while transmitting (sar -n EDEV txcarr/s)." },
];

/// One interface's cumulative counters, in the file's column order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetCounters {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errs: u64,
    pub rx_drop: u64,
    pub rx_fifo: u64,
    pub rx_frame: u64,
    pub rx_compressed: u64,
    pub rx_multicast: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errs: u64,
    pub tx_drop: u64,
    pub tx_fifo: u64,
    pub tx_colls: u64,
    pub tx_carrier: u64,
    pub tx_compressed: u64,
}

/// One interface line of /proc/net/dev.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetLine<'a> {
    /// The name as the kernel prints it.
    pub iface: &'a str,
    pub counters: NetCounters,
}

/// Parses one interface line; `Ok(None)` for a blank one.
pub fn parse_line(line: &str) -> Result<Option<NetLine<'_>>, &'static str> {
    if line.trim_ascii().is_empty() {
        return Ok(None);
    }
    let (name, rest) = line.rsplit_once(':').ok_or("no `:` after the interface name")?;
    let iface = name.trim_ascii();
    if iface.is_empty() {
        return Err("empty interface name");
    }
    let mut v = [0u64; 16];
    let mut n = 0;
    for (slot, field) in v.iter_mut().zip(rest.split_ascii_whitespace()) {
        *slot = field.parse().map_err(|_| "counter is not a number")?;
        n += 1;
    }
    if n < v.len() {
        return Err("fewer than 16 counters");
    }
    let counters = NetCounters {
        rx_bytes: v[0],
        rx_packets: v[1],
        rx_errs: v[2],
        rx_drop: v[3],
        rx_fifo: v[4],
        rx_frame: v[5],
        rx_compressed: v[6],
        rx_multicast: v[7],
        tx_bytes: v[8],
        tx_packets: v[9],
        tx_errs: v[10],
        tx_drop: v[11],
        tx_fifo: v[12],
        tx_colls: v[13],
        tx_carrier: v[14],
        tx_compressed: v[15],
    };
    Ok(Some(NetLine { iface, counters }))
}

/// Parses all of /proc/net/dev: two header lines, then one line per interface.
pub fn parse(text: &str) -> Result<Vec<NetLine<'_>>, CollectError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i < 2 {
            if !line.contains('|') {
                return Err(CollectError::parse(SRC, i + 1, "not the `|`-separated header"));
            }
            continue;
        }
        match parse_line(line) {
            Ok(Some(l)) => out.push(l),
            Ok(None) => {}
            Err(reason) => return Err(CollectError::parse(SRC, i + 1, reason)),
        }
    }
    Ok(out)
}

/// The sar figures of an interface between two readings `secs` apart, in [`METRICS`] order.
/// `None` unless `secs` is positive and finite.
pub fn rates(prev: &NetCounters, cur: &NetCounters, secs: f64) -> Option<[f64; 13]> {
    if !(secs.is_finite() && secs > 0.0) {
        return None;
    }
    let r = |a: u64, b: u64| rate(a, b, secs);
    Some([
        r(prev.rx_packets, cur.rx_packets),
        r(prev.tx_packets, cur.tx_packets),
        r(prev.rx_bytes, cur.rx_bytes) / 1024.0,
        r(prev.tx_bytes, cur.tx_bytes) / 1024.0,
        r(prev.rx_errs, cur.rx_errs),
        r(prev.tx_errs, cur.tx_errs),
        r(prev.rx_drop, cur.rx_drop),
        r(prev.tx_drop, cur.tx_drop),
        r(prev.tx_colls, cur.tx_colls),
        r(prev.rx_fifo, cur.rx_fifo),
        r(prev.tx_fifo, cur.tx_fifo),
        r(prev.rx_frame, cur.rx_frame),
        r(prev.tx_carrier, cur.tx_carrier),
    ])
}

/// What the source remembers of an interface between cycles.
struct Iface {
    counters: NetCounters,
    /// The cycle that last saw the interface; older ones are forgotten.
    cycle: u64,
}

/// Reads /proc/net/dev each cycle.
#[derive(Default)]
pub struct NetdevSource {
    buf: Vec<u8>,
    ifaces: HashMap<String, Iface>,
    cycle: u64,
}

impl Source for NetdevSource {
    fn name(&self) -> &'static str {
        "netdev"
    }

    fn collect(&mut self, root: &FsRoot, secs: Option<f64>, out: &mut Vec<Sample>) -> Result<(), CollectError> {
        read_bytes(&root.proc.join("net/dev"), &mut self.buf)?;
        let text = String::from_utf8_lossy(&self.buf);
        let lines = parse(&text)?;
        self.cycle = self.cycle.wrapping_add(1);
        for line in &lines {
            let Some(iface) = self.ifaces.get_mut(line.iface) else {
                self.ifaces.insert(line.iface.to_owned(), Iface { counters: line.counters, cycle: self.cycle });
                continue;
            };
            if iface.cycle == self.cycle {
                continue; // the same name twice in one reading: keep the first
            }
            if let Some(values) = secs.and_then(|s| rates(&iface.counters, &line.counters, s)) {
                for (def, value) in METRICS.iter().zip(values) {
                    out.push(Sample::tagged(def.name, "iface", line.iface, value));
                }
            }
            iface.counters = line.counters;
            iface.cycle = self.cycle;
        }
        let cycle = self.cycle;
        self.ifaces.retain(|_, i| i.cycle == cycle);
        Ok(())
    }
}

/// Reads a whole file into `buf` (cleared first) as bytes; "not found" is [`CollectError::Absent`].
fn read_bytes(path: &Path, buf: &mut Vec<u8>) -> Result<(), CollectError> {
    buf.clear();
    let read = std::fs::File::open(path).and_then(|mut f| f.read_to_end(buf));
    read.map(drop).map_err(|e| match e.kind() {
        ErrorKind::NotFound => CollectError::Absent { path: path.to_path_buf() },
        _ => CollectError::Io { path: path.to_path_buf(), source: e },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumb_model::Snapshot;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn data(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/netdev").join(rel)
    }

    fn two_cycles(secs: f64) -> (Vec<Sample>, Snapshot) {
        super::super::testing::two_cycles(&mut NetdevSource::default(), "netdev", secs)
    }

    #[track_caller]
    fn check(snap: &Snapshot, iface: &str, want: [f64; 13]) {
        super::super::testing::check_row(snap, METRICS, ("iface", iface), &want);
    }

    #[test]
    fn captured_file_parses() {
        let text = std::fs::read_to_string(data("captured/proc/net/dev")).unwrap();
        let lines = parse(&text).unwrap();
        assert_eq!(lines.len(), text.lines().count() - 2);
        let lo = lines.iter().find(|l| l.iface == "lo").unwrap();
        assert_eq!(lo.counters.rx_bytes, lo.counters.tx_bytes);
        assert_eq!(lo.counters.rx_packets, lo.counters.tx_packets);
        assert!(lo.counters.rx_packets > 0);
        let eth0 = lines.iter().find(|l| l.iface == "eth0").unwrap();
        assert_eq!((eth0.counters.rx_bytes, eth0.counters.rx_packets), (48989297, 3498));
        assert_eq!((eth0.counters.tx_bytes, eth0.counters.tx_packets), (337838, 3268));
        // procfs-core reads the same numbers.
        let theirs =
            <procfs_core::net::InterfaceDeviceStatus as procfs_core::FromBufRead>::from_buf_read(text.as_bytes())
                .unwrap();
        assert_eq!(theirs.0.len(), lines.len());
        for l in &lines {
            let t = &theirs.0[l.iface];
            assert_eq!(
                (l.counters.rx_bytes, l.counters.rx_packets, l.counters.rx_drop),
                (t.recv_bytes, t.recv_packets, t.recv_drop)
            );
            assert_eq!(
                (l.counters.tx_bytes, l.counters.tx_packets, l.counters.tx_carrier),
                (t.sent_bytes, t.sent_packets, t.sent_carrier)
            );
        }
    }

    #[test]
    fn columns_land_in_their_fields() {
        let text = "Inter-|  Receive\n face |bytes\n  eth9: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
        let c = parse(text).unwrap()[0].counters;
        assert_eq!([c.rx_bytes, c.rx_packets, c.rx_errs, c.rx_drop, c.rx_fifo, c.rx_frame], [1, 2, 3, 4, 5, 6]);
        assert_eq!([c.rx_compressed, c.rx_multicast, c.tx_bytes, c.tx_packets, c.tx_errs], [7, 8, 9, 10, 11]);
        assert_eq!([c.tx_drop, c.tx_fifo, c.tx_colls, c.tx_carrier, c.tx_compressed], [12, 13, 14, 15, 16]);
        let v = rates(&NetCounters::default(), &c, 1.0).unwrap();
        // rxpck txpck rxkB txkB rxerr txerr rxdrop txdrop coll rxfifo txfifo rxfram txcarr
        assert_eq!(v, [2.0, 10.0, 1.0 / 1024.0, 9.0 / 1024.0, 3.0, 11.0, 4.0, 12.0, 14.0, 5.0, 13.0, 6.0, 15.0]);
    }

    #[test]
    fn odd_names_and_the_old_glued_format() {
        let text = "Inter-|\n face |\n\
            br-ü.1@x#2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n\
            eth0:4294967296 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n\
            \n";
        let lines = parse(text).unwrap();
        assert_eq!(lines.iter().map(|l| l.iface).collect::<Vec<_>>(), ["br-ü.1@x#2", "eth0"]);
        assert_eq!(lines[1].counters.rx_bytes, 4294967296);
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        let h = "Inter-|\n face |\n";
        let ok = "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
        let cases = [
            (format!("{h}{ok}eth1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"), 4),
            (format!("{h}{ok}{ok}eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"), 5),
            (format!("{h}eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n"), 3),
            (format!("{h}   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"), 3),
            (format!("{h}eth1: 1 2 3 4 5 6 7 8 -9 10 11 12 13 14 15 16\n"), 3),
            (format!("{h}eth1: 1 2 3 4 5 6 7"), 3),
            (ok.to_string(), 1),
            (format!("Inter-|\n{ok}"), 2),
        ];
        for (text, line) in cases {
            match parse(&text) {
                Err(CollectError::ProcParse { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(parse("").unwrap().is_empty());
        assert!(parse(h).unwrap().is_empty());
    }

    #[test]
    fn first_cycle_has_no_rates() {
        let (first, _) = two_cycles(2.0);
        assert!(first.is_empty(), "{first:?}");
    }

    #[test]
    fn two_cycles_match_hand_arithmetic() {
        let (_, snap) = two_cycles(2.0);
        // Order: rxpck txpck rxkB txkB rxerr txerr rxdrop txdrop coll rxfifo txfifo rxfram txcarr.
        // lo (captured): +12 packets and +570 bytes each way, over 2 s.
        let kb = 570.0 / 1024.0 / 2.0;
        check(&snap, "lo", [6.0, 6.0, kb, kb, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        // eth0: +400 packets and +204800 bytes each way; errors +4/+12, drops +6/+14,
        // colls +18, fifo +8/+16, frame +10, carrier +20.
        check(&snap, "eth0", [200.0, 200.0, 100.0, 100.0, 2.0, 6.0, 3.0, 7.0, 9.0, 4.0, 8.0, 5.0, 10.0]);
        // ifb0's counters went backwards (driver reset): all 0.
        check(&snap, "ifb0", [0.0; 13]);
        // A UTF-8 name with odd characters: +20 packets received, +2048 bytes sent.
        check(&snap, "br-ü.1@x", [10.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        // A name that is not UTF-8 (b"caf\xff") keeps working: +4 packets sent.
        check(&snap, "caf\u{fffd}", [0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn interfaces_coming_and_going_have_no_rates() {
        let (_, snap) = two_cycles(2.0);
        // ifb1 is gone in t1, wg0 is new.
        assert!(snap.find("net.rx_packets", &[("iface", "ifb1")]).is_none());
        assert!(snap.find("net.rx_packets", &[("iface", "wg0")]).is_none());
        let ifaces: std::collections::BTreeSet<_> = snap.samples.iter().filter_map(|s| s.tag("iface")).collect();
        assert_eq!(ifaces.len(), 5, "{ifaces:?}");
        assert_eq!(snap.samples.len(), 5 * METRICS.len());
        for s in &snap.samples {
            assert!(METRICS.iter().any(|m| m.name == s.name && m.tags == ["iface"]));
            assert!(s.value.is_finite() && s.value >= 0.0, "{s:?}");
        }
    }

    #[test]
    fn a_bad_or_missing_file_is_an_error() {
        let mut src = NetdevSource::default();
        let mut out = Vec::new();
        src.collect(&FsRoot::under(data("t0")), None, &mut out).unwrap();
        let err = src.collect(&FsRoot::under(data("garbage")), Some(2.0), &mut out).unwrap_err();
        assert!(err.to_string().contains("line 4"), "{err}");
        assert!(out.is_empty());
        // The reading before the bad one still counts.
        src.collect(&FsRoot::under(data("t1")), Some(2.0), &mut out).unwrap();
        assert_eq!(
            out.iter().find(|s| s.name == "net.rx_packets" && s.tag("iface") == Some("eth0")).unwrap().value,
            200.0
        );
        let missing = src.collect(&FsRoot::under(data("nowhere")), Some(1.0), &mut out).unwrap_err();
        assert!(matches!(missing, CollectError::Absent { .. }));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn plausible_noise_never_panics(text in "(\\|\n){0,2}([ a-z0-9:]{0,12}[0-9 \\-]{0,60}\n){0,6}") {
            let _ = parse(&text);
        }

        #[test]
        fn rates_are_finite_and_never_negative(a in any::<[u64; 16]>(), b in any::<[u64; 16]>(), secs in 0.001f64..1e6) {
            let c = |v: [u64; 16]| NetCounters {
                rx_bytes: v[0], rx_packets: v[1], rx_errs: v[2], rx_drop: v[3], rx_fifo: v[4], rx_frame: v[5],
                rx_compressed: v[6], rx_multicast: v[7], tx_bytes: v[8], tx_packets: v[9], tx_errs: v[10],
                tx_drop: v[11], tx_fifo: v[12], tx_colls: v[13], tx_carrier: v[14], tx_compressed: v[15],
            };
            let v = rates(&c(a), &c(b), secs).unwrap();
            prop_assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0));
        }
    }
}
