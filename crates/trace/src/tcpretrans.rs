//! tcpretrans's records: decoding the BPF program's `tcpretrans_event` (one TCP retransmission,
//! from `tcp:tcp_retransmit_skb`) and printing it. Design decision: the pid and command are the
//! task current when the kernel retransmitted (often none: timers and softirqs run as pid 0), and
//! the output says so rather than guessing the socket's owner.

use std::net::SocketAddr;

use plumb_bpf::{Global, objects};
use serde_json::json;

use crate::Error;
use crate::record::{DecodeError, c_string_at, i32_at, u16_at, u32_at, u64_at};
use crate::snoop::Snoop;
use crate::tcp::{TcpFilter, endpoint, tcp_state_name};
use crate::time::{json_time, line_time};

/// Layout of `struct tcpretrans_event` (crates/bpf/src/bpf/tcpretrans.bpf.c): ts_ns u64 @0,
/// pid @8, state i32 @12, family u16 @16, sport u16 @18, dport u16 @20, saddr[16] @24,
/// daddr[16] @40, comm[16] @56.
const LEN: usize = 72;

/// One TCP retransmission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRetransEvent {
    /// `bpf_ktime_get_ns` at the retransmission (CLOCK_MONOTONIC).
    pub ts_ns: u64,
    /// The current process (0: kernel context).
    pub pid: u32,
    /// The socket's TCP state (`tcp_state_name`).
    pub state: i32,
    /// The local endpoint; `None` for an unknown address family.
    pub local: Option<SocketAddr>,
    /// The remote endpoint; `None` for an unknown address family.
    pub remote: Option<SocketAddr>,
    /// The current command name.
    pub comm: String,
}

impl TcpRetransEvent {
    /// Decodes one ring buffer record.
    pub fn decode(bytes: &[u8]) -> Result<TcpRetransEvent, DecodeError> {
        let short = || DecodeError { kind: "tcpretrans", len: bytes.len(), need: LEN };
        if bytes.len() < LEN {
            return Err(short());
        }
        let family = u16_at(bytes, 16).ok_or_else(short)?;
        Ok(TcpRetransEvent {
            ts_ns: u64_at(bytes, 0).ok_or_else(short)?,
            pid: u32_at(bytes, 8).ok_or_else(short)?,
            state: i32_at(bytes, 12).ok_or_else(short)?,
            local: endpoint(family, bytes.get(24..40).ok_or_else(short)?, u16_at(bytes, 18).ok_or_else(short)?),
            remote: endpoint(family, bytes.get(40..56).ok_or_else(short)?, u16_at(bytes, 20).ok_or_else(short)?),
            comm: c_string_at(bytes, 56, 16),
        })
    }

    /// The column headers of [`TcpRetransEvent::line`].
    pub fn header() -> String {
        format!("{:<12} {:>7} {:<47} {:<47} {}", "TIME", "PID", "LADDR:LPORT", "RADDR:RPORT", "STATE")
    }

    /// One output line; `unix_ns` is the wall-clock time.
    pub fn line(&self, unix_ns: i128) -> String {
        format!(
            "{:<12} {:>7} {:<47} {:<47} {}",
            line_time(unix_ns),
            self.pid,
            show(self.local),
            show(self.remote),
            tcp_state_name(self.state)
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
            "state": tcp_state_name(self.state),
        })
    }
}

/// An endpoint as `addr:port` (`[v6]:port`), `?` for an unknown family.
pub(crate) fn show(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "?".to_string(), |a| a.to_string())
}

crate::snoop::one_time_snoop_event!(TcpRetransEvent, TcpFilter, |event, filter| filter.matches(event.pid, &event.comm));

/// Starts tcpretrans on `tcp:tcp_retransmit_skb`. The pid filter also runs in the kernel; it
/// matches the task current at the retransmission, which is rarely the socket's owner.
pub fn tcpretrans(filter: TcpFilter) -> Result<Snoop<TcpRetransEvent>, Error> {
    let tracer = plumb_bpf::load(&objects::TCPRETRANS, &[("targ_tgid", Global::U32(filter.pid.unwrap_or(0)))])?;
    Ok(Snoop::new("tcpretrans", tracer, filter))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A record as the kernel lays it out (see [`LEN`]).
    fn encode(
        pid: u32,
        state: i32,
        family: u16,
        ports: (u16, u16),
        addrs: ([u8; 16], [u8; 16]),
        comm: &str,
    ) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&77u64.to_ne_bytes());
        b.extend_from_slice(&pid.to_ne_bytes());
        b.extend_from_slice(&state.to_ne_bytes());
        for v in [family, ports.0, ports.1, 0] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&addrs.0);
        b.extend_from_slice(&addrs.1);
        let mut c = [0u8; 16];
        c[..comm.len()].copy_from_slice(comm.as_bytes());
        b.extend_from_slice(&c);
        b
    }

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..4].copy_from_slice(&a);
        x
    }

    #[test]
    fn decodes_an_ipv4_retransmission() {
        let b = encode(0, 2, 2, (40000, 8080), (v4([127, 0, 0, 1]), v4([10, 0, 0, 2])), "swapper/0");
        assert_eq!(b.len(), LEN);
        let e = TcpRetransEvent::decode(&b).unwrap();
        assert_eq!(e.local.unwrap().to_string(), "127.0.0.1:40000");
        assert_eq!(e.remote.unwrap().to_string(), "10.0.0.2:8080");
        assert!(e.line(0).ends_with("SYN_SENT"), "{}", e.line(0));
        let j = e.json(0);
        assert_eq!(j["remote_port"], 8080);
        assert_eq!(j["state"], "SYN_SENT");
        assert_eq!(j["comm"], "swapper/0");
        assert_eq!(TcpRetransEvent::decode(&b[..71]).unwrap_err().need, LEN);
    }

    #[test]
    fn decodes_an_ipv6_retransmission() {
        let lo = std::net::Ipv6Addr::LOCALHOST.octets();
        let e = TcpRetransEvent::decode(&encode(9, 1, 10, (1, 2), (lo, lo), "curl")).unwrap();
        assert_eq!(e.local.unwrap().to_string(), "[::1]:1");
        assert_eq!((e.pid, tcp_state_name(e.state)), (9, "ESTABLISHED"));
        let unknown = TcpRetransEvent::decode(&encode(9, 1, 3, (1, 2), (lo, lo), "curl")).unwrap();
        assert_eq!(unknown.local, None);
        assert!(unknown.line(0).contains(" ? "));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TcpRetransEvent::decode(&bytes);
        }

        #[test]
        fn ports_and_addresses_round_trip(sport in any::<u16>(), dport in any::<u16>(), a in any::<[u8; 4]>()) {
            let e = TcpRetransEvent::decode(&encode(1, 1, 2, (sport, dport), (v4(a), v4(a)), "x")).unwrap();
            prop_assert_eq!(e.local.unwrap().port(), sport);
            prop_assert_eq!(e.remote.unwrap().port(), dport);
            prop_assert_eq!(e.local.unwrap().ip().to_string(), std::net::Ipv4Addr::from(a).to_string());
        }
    }
}
