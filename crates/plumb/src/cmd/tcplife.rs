//! `plumb tcplife`: one line per TCP session when it closes, as bcc's tcplife. The tool is
//! `plumb_trace::tcplife`; this module parses flags and hands over to `snoop::run_snoop`.

use std::process::ExitCode;

use plumb_trace::{RunOptions, TcpFilter};

/// Print each TCP session as it closes: pid, command, local and remote address:port, payload
/// bytes sent (acknowledged) and received, and its duration in ms. IPv4 and IPv6.
///
/// Traces sock:inet_sock_set_state with BPF; byte counts are tcp_sock's bytes_acked and
/// bytes_received, which count the SYN and FIN as a byte each (so up to 2 over the payload).
/// The pid is the process that connected (or closed) the socket. Sessions
/// that began before tracing started are not shown. Runs until Ctrl-C, or for DURATION
/// seconds. Events the kernel could not deliver are counted and printed at the end (stderr,
/// and the last object with --json). Needs root (or CAP_BPF and CAP_PERFMON) and BTF.
///
/// Examples:
///   plumb tcplife                   every session until Ctrl-C
///   plumb tcplife -n curl 30        sessions of commands named *curl* for 30 s
///   plumb tcplife -p 1234 --json    sessions of process 1234, as JSON lines
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct TcplifeArgs {
    /// Only sessions of this process.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only sessions of commands whose name contains this.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// One JSON object per line, then a summary object.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(value_name = "DURATION")]
    duration: Option<f64>,
}

/// Runs `plumb tcplife`.
pub fn run(args: TcplifeArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| super::stopping::positive_seconds("DURATION", s)).transpose()?;
    let stop = super::stopping::stop_on_ctrl_c()?;
    let snoop = plumb_trace::tcplife(TcpFilter { pid: args.pid, comm: args.comm })?;
    super::snoop::run_snoop(snoop, "TCP sessions", RunOptions { duration, json: args.json }, &stop)
}
