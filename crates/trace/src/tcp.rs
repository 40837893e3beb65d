//! What tcpretrans and tcplife share: socket endpoints (address family, address, port) decoded
//! from the BPF records, TCP state names, and the pid/command filter. Design decision: both
//! families travel in one 16-byte field per address (IPv4 in its first four bytes), so one
//! decoder and one record layout serve IPv4 and IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `AF_INET`, as the kernel's tracepoints report it.
pub(crate) const AF_INET: u16 = 2;
/// `AF_INET6`.
pub(crate) const AF_INET6: u16 = 10;

/// The socket address of `family` from a 16-byte address field and a host-order port; `None`
/// for a family other than IPv4 and IPv6 or a short field.
pub(crate) fn endpoint(family: u16, addr: &[u8], port: u16) -> Option<SocketAddr> {
    let ip = match family {
        AF_INET => {
            let octets: [u8; 4] = addr.get(..4)?.try_into().ok()?;
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        AF_INET6 => {
            let octets: [u8; 16] = addr.get(..16)?.try_into().ok()?;
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The kernel's name for TCP state `state` (include/net/tcp_states.h), without `TCP_`.
pub fn tcp_state_name(state: i32) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    }
}

/// Which TCP events to show; `Default` shows every one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpFilter {
    /// Only this process. Default: any.
    pub pid: Option<u32>,
    /// Only command names containing this. Default: any.
    pub comm: Option<String>,
}

impl TcpFilter {
    /// True when an event of process `pid` running `comm` passes.
    pub fn matches(&self, pid: u32, comm: &str) -> bool {
        self.pid.is_none_or(|p| pid == p) && self.comm.as_deref().is_none_or(|c| comm.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_of_both_families() {
        let mut v4 = [0u8; 16];
        v4[..4].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(endpoint(AF_INET, &v4, 80).unwrap().to_string(), "127.0.0.1:80");
        let v6 = Ipv6Addr::LOCALHOST.octets();
        assert_eq!(endpoint(AF_INET6, &v6, 443).unwrap().to_string(), "[::1]:443");
        assert_eq!(endpoint(1, &v6, 1), None);
        assert_eq!(endpoint(AF_INET6, &v6[..8], 1), None);
    }

    #[test]
    fn states_and_filters() {
        assert_eq!(tcp_state_name(2), "SYN_SENT");
        assert_eq!(tcp_state_name(99), "UNKNOWN");
        assert!(TcpFilter::default().matches(0, ""));
        assert!(!TcpFilter { pid: Some(3), comm: None }.matches(4, "x"));
        assert!(TcpFilter { pid: None, comm: Some("cur".into()) }.matches(4, "curl"));
    }
}
