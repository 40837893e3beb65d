//! tcplife's records: decoding the BPF program's `tcplife_event` (one TCP session, sent when it
//! closes, from `sock:inet_sock_set_state`) and printing it as bcc's tcplife does. Design
//! decision: the kernel keeps each session's birth and owner and sends one record at close, so
//! user space holds no per-socket state and a session costs one ring record.

use std::net::SocketAddr;

use plumb_bpf::{Global, objects};
use serde_json::json;

use crate::Error;
use crate::record::{DecodeError, c_string_at, u16_at, u32_at, u64_at};
use crate::snoop::Snoop;
use crate::tcp::{TcpFilter, endpoint};
use crate::tcpretrans::show;
use crate::time::{json_time, line_time};

/// Layout of `struct tcplife_event` (crates/bpf/src/bpf/tcplife.bpf.c): ts_ns u64 @0, span_ns
/// @8, tx_bytes @16, rx_bytes @24, pid u32 @32, family u16 @36, sport @38, dport @40,
/// saddr[16] @44, daddr[16] @60, comm[16] @76; 96 bytes with padding.
const LEN: usize = 92;

/// One closed TCP session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSession {
    /// `bpf_ktime_get_ns` at the close (CLOCK_MONOTONIC).
    pub ts_ns: u64,
    /// From the session's first state change to its close, in nanoseconds.
    pub span_ns: u64,
    /// Bytes sent and acknowledged (`tcp_sock.bytes_acked`: the payload, plus one each for an
    /// acknowledged SYN and FIN).
    pub tx_bytes: u64,
    /// Bytes received (`tcp_sock.bytes_received`: the payload, plus one for a received FIN).
    pub rx_bytes: u64,
    /// The process that connected or closed it (see tcplife.bpf.c).
    pub pid: u32,
    /// That process's command name.
    pub comm: String,
    /// The local endpoint; `None` for an unknown address family.
    pub local: Option<SocketAddr>,
    /// The remote endpoint; `None` for an unknown address family.
    pub remote: Option<SocketAddr>,
}

impl TcpSession {
    /// Decodes one ring buffer record.
    pub fn decode(bytes: &[u8]) -> Result<TcpSession, DecodeError> {
        let short = || DecodeError { kind: "tcplife", len: bytes.len(), need: LEN };
        if bytes.len() < LEN {
            return Err(short());
        }
        let family = u16_at(bytes, 36).ok_or_else(short)?;
        Ok(TcpSession {
            ts_ns: u64_at(bytes, 0).ok_or_else(short)?,
            span_ns: u64_at(bytes, 8).ok_or_else(short)?,
            tx_bytes: u64_at(bytes, 16).ok_or_else(short)?,
            rx_bytes: u64_at(bytes, 24).ok_or_else(short)?,
            pid: u32_at(bytes, 32).ok_or_else(short)?,
            local: endpoint(family, bytes.get(44..60).ok_or_else(short)?, u16_at(bytes, 38).ok_or_else(short)?),
            remote: endpoint(family, bytes.get(60..76).ok_or_else(short)?, u16_at(bytes, 40).ok_or_else(short)?),
            comm: c_string_at(bytes, 76, 16),
        })
    }

    /// The session's duration in milliseconds.
    pub fn span_ms(&self) -> f64 {
        self.span_ns as f64 / 1e6
    }

    /// The column headers of [`TcpSession::line`] (bcc's tcplife, with KB as bytes).
    pub fn header() -> String {
        format!(
            "{:<12} {:>7} {:<16} {:<47} {:<47} {:>10} {:>10} {:>10}",
            "TIME", "PID", "COMM", "LADDR:LPORT", "RADDR:RPORT", "TX_BYTES", "RX_BYTES", "MS"
        )
    }

    /// One output line; `unix_ns` is the wall-clock time.
    pub fn line(&self, unix_ns: i128) -> String {
        format!(
            "{:<12} {:>7} {:<16} {:<47} {:<47} {:>10} {:>10} {:>10.2}",
            line_time(unix_ns),
            self.pid,
            self.comm,
            show(self.local),
            show(self.remote),
            self.tx_bytes,
            self.rx_bytes,
            self.span_ms()
        )
    }

    /// One JSON object.
    pub fn json(&self, unix_ns: i128) -> serde_json::Value {
        json!({
            "time": json_time(unix_ns),
            "pid": self.pid,
            "comm": self.comm,
            "local": self.local.map(|a| a.ip().to_string()),
            "local_port": self.local.map(|a| a.port()),
            "remote": self.remote.map(|a| a.ip().to_string()),
            "remote_port": self.remote.map(|a| a.port()),
            "tx_bytes": self.tx_bytes,
            "rx_bytes": self.rx_bytes,
            "duration_ms": self.span_ms(),
        })
    }
}

crate::snoop::one_time_snoop_event!(TcpSession, TcpFilter, |event, filter| filter.matches(event.pid, &event.comm));

/// Starts tcplife on `sock:inet_sock_set_state`; the pid filter also runs in the kernel, on the
/// session's remembered owner.
pub fn tcplife(filter: TcpFilter) -> Result<Snoop<TcpSession>, Error> {
    let tracer = plumb_bpf::load(&objects::TCPLIFE, &[("targ_tgid", Global::U32(filter.pid.unwrap_or(0)))])?;
    Ok(Snoop::new("tcplife", tracer, filter))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A record as the kernel lays it out (see [`LEN`]), with the trailing padding.
    fn encode(s: &TcpSession, family: u16, addrs: ([u8; 16], [u8; 16])) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [s.ts_ns, s.span_ns, s.tx_bytes, s.rx_bytes] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&s.pid.to_ne_bytes());
        let port = |a: Option<SocketAddr>| a.map_or(0, |a| a.port());
        for v in [family, port(s.local), port(s.remote), 0] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&addrs.0);
        b.extend_from_slice(&addrs.1);
        let mut c = [0u8; 16];
        c[..s.comm.len()].copy_from_slice(s.comm.as_bytes());
        b.extend_from_slice(&c);
        b.extend_from_slice(&[0; 4]);
        b
    }

    fn sample() -> TcpSession {
        TcpSession {
            ts_ns: 1,
            span_ns: 12_500_000,
            tx_bytes: 100_000,
            rx_bytes: 2_000,
            pid: 42,
            comm: "curl".into(),
            local: Some("127.0.0.1:40000".parse().unwrap()),
            remote: Some("127.0.0.1:8080".parse().unwrap()),
        }
    }

    fn v4(s: &str) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..4].copy_from_slice(&s.parse::<std::net::Ipv4Addr>().unwrap().octets());
        x
    }

    #[test]
    fn decodes_a_session() {
        let s = sample();
        let b = encode(&s, 2, (v4("127.0.0.1"), v4("127.0.0.1")));
        assert_eq!(b.len(), 96);
        assert_eq!(TcpSession::decode(&b).unwrap(), s);
        assert!(s.line(0).ends_with("100000       2000      12.50"), "{}", s.line(0));
        let j = s.json(0);
        assert_eq!((j["tx_bytes"].as_u64(), j["local_port"].as_u64()), (Some(100_000), Some(40000)));
        assert_eq!(j["duration_ms"], 12.5);
        assert_eq!(TcpSession::decode(&b[..91]).unwrap_err().need, LEN);
    }

    #[test]
    fn decodes_an_ipv6_session() {
        let s = TcpSession {
            local: Some("[::1]:5".parse().unwrap()),
            remote: Some("[::1]:6".parse().unwrap()),
            ..sample()
        };
        let lo = std::net::Ipv6Addr::LOCALHOST.octets();
        assert_eq!(TcpSession::decode(&encode(&s, 10, (lo, lo))).unwrap(), s);
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TcpSession::decode(&bytes);
        }

        #[test]
        fn sessions_round_trip(tx in any::<u64>(), rx in any::<u64>(), pid in any::<u32>(), span in any::<u64>()) {
            let s = TcpSession { tx_bytes: tx, rx_bytes: rx, pid, span_ns: span, ..sample() };
            prop_assert_eq!(TcpSession::decode(&encode(&s, 2, (v4("127.0.0.1"), v4("127.0.0.1")))).unwrap(), s);
        }
    }
}
