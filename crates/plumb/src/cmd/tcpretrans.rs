//! `plumb tcpretrans`: print every TCP retransmission as it happens. The tool is
//! `plumb_trace::tcpretrans`; this module parses flags and hands over to
//! `snoop::run_snoop`, which every snoop tool shares.

use std::process::ExitCode;

use plumb_trace::{RunOptions, TcpFilter};

/// Print every TCP retransmission: time, pid (0: the kernel's own context, the usual case),
/// local and remote address:port, and the socket's TCP state. IPv4 and IPv6.
///
/// Traces the tcp:tcp_retransmit_skb tracepoint with BPF. -p and -n match the task that was
/// running when the kernel retransmitted, which for timer-driven retransmits is none (pid 0).
/// Runs until Ctrl-C, or for DURATION seconds. Events the kernel could not deliver are counted
/// and printed at the end (stderr, and the last object with --json). Needs root (or CAP_BPF
/// and CAP_PERFMON) and a kernel with BTF.
///
/// Examples:
///   plumb tcpretrans              every retransmission until Ctrl-C
///   plumb tcpretrans --json 10    for 10 s, as JSON lines
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct TcpretransArgs {
    /// Only retransmissions in the context of this process.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<u32>,
    /// Only retransmissions in the context of commands whose name contains this.
    #[arg(short = 'n', long = "name", value_name = "COMM")]
    comm: Option<String>,
    /// One JSON object per line, then a summary object.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds (default: at Ctrl-C).
    #[arg(value_name = "DURATION")]
    duration: Option<f64>,
}

/// Runs `plumb tcpretrans`.
pub fn run(args: TcpretransArgs) -> anyhow::Result<ExitCode> {
    let duration = args.duration.map(|s| super::stopping::positive_seconds("DURATION", s)).transpose()?;
    let stop = super::stopping::stop_on_ctrl_c()?;
    let snoop = plumb_trace::tcpretrans(TcpFilter { pid: args.pid, comm: args.comm })?;
    super::snoop::run_snoop(snoop, "TCP retransmissions", RunOptions { duration, json: args.json }, &stop)
}
