//! The compiled BPF objects, embedded in the binary, and what each one attaches to.
//!
//! Design decision: the objects are committed under `crates/bpf/objects/` (built by
//! `build-bpf.sh`, checked against their sources by `tests/drift.rs`), so `cargo build` needs no
//! clang. Each [`Object`] lists its programs' tracepoints; a tracepoint marked optional is
//! skipped when the kernel lacks it (`open(2)` has no tracepoint on arm64, for example).

/// One tracepoint program of an object: the program's name in the object (its C function) and
/// the tracepoint it attaches to.
#[derive(Debug, Clone, Copy)]
pub struct Tracepoint {
    /// The program's function name in the object.
    pub program: &'static str,
    /// The tracepoint's category, e.g. `syscalls`.
    pub category: &'static str,
    /// The tracepoint's name, e.g. `sys_enter_execve`.
    pub event: &'static str,
    /// Whether the tool fails without it (otherwise it is skipped when absent).
    pub required: bool,
}

/// A compiled BPF object and its attachments.
#[derive(Debug, Clone, Copy)]
pub struct Object {
    /// The tool's name, used in messages.
    pub name: &'static str,
    /// The ELF bytes, 8-byte aligned as aya needs.
    pub bytes: &'static [u8],
    /// The tracepoints its programs attach to, in attach order.
    pub tracepoints: &'static [Tracepoint],
}

const fn syscall(program: &'static str, required: bool) -> Tracepoint {
    Tracepoint { program, category: "syscalls", event: program, required }
}

/// execsnoop: `syscalls:sys_enter_execve` and `sys_exit_execve`; records are `exec_event`.
pub const EXECSNOOP: Object = Object {
    name: "execsnoop",
    bytes: aya::include_bytes_aligned!("../objects/execsnoop.bpf.o"),
    tracepoints: &[syscall("sys_enter_execve", true), syscall("sys_exit_execve", true)],
};

/// opensnoop: enter and exit of `open`, `openat` and `openat2`; records are `open_event`.
/// `openat` is required; the others are attached where the kernel has them.
pub const OPENSNOOP: Object = Object {
    name: "opensnoop",
    bytes: aya::include_bytes_aligned!("../objects/opensnoop.bpf.o"),
    tracepoints: &[
        syscall("sys_enter_openat", true),
        syscall("sys_exit_openat", true),
        syscall("sys_enter_open", false),
        syscall("sys_exit_open", false),
        syscall("sys_enter_openat2", false),
        syscall("sys_exit_openat2", false),
    ],
};

/// runqlat: `tp_btf` programs on `sched:sched_wakeup`, `sched_wakeup_new` and `sched_switch`;
/// a log2 histogram `hist` and `totals` (count, nanoseconds), per-CPU arrays.
pub const RUNQLAT: Object = Object {
    name: "runqlat",
    bytes: aya::include_bytes_aligned!("../objects/runqlat.bpf.o"),
    tracepoints: &[sched("sched_wakeup"), sched("sched_wakeup_new"), sched("sched_switch")],
};

/// offcputime: a `tp_btf` program on `sched:sched_switch`; blocked time per stack in the hash
/// `offcpu` (key `struct offcpu_key`), stacks in the stack-trace map `stacks`.
pub const OFFCPUTIME: Object = Object {
    name: "offcputime",
    bytes: aya::include_bytes_aligned!("../objects/offcputime.bpf.o"),
    tracepoints: &[sched("sched_switch")],
};

const fn sched(program: &'static str) -> Tracepoint {
    Tracepoint { program, category: "sched", event: program, required: true }
}

/// iolatency: `block:block_rq_insert`, `block_rq_issue`, `block_rq_complete`; a log2 latency
/// histogram `hist` (per-CPU array; slots in log2 us below 1 ms, log2 ms above: see iolatency.bpf.c).
pub const IOLATENCY: Object = Object {
    name: "iolatency",
    bytes: aya::include_bytes_aligned!("../objects/iolatency.bpf.o"),
    tracepoints: &BLOCK_RQ,
};

/// iosnoop: the same block tracepoints as [`IOLATENCY`]; records are `io_event`.
pub const IOSNOOP: Object =
    Object { name: "iosnoop", bytes: aya::include_bytes_aligned!("../objects/iosnoop.bpf.o"), tracepoints: &BLOCK_RQ };

const BLOCK_RQ: [Tracepoint; 3] = [block("block_rq_insert"), block("block_rq_issue"), block("block_rq_complete")];

const fn block(program: &'static str) -> Tracepoint {
    Tracepoint { program, category: "block", event: program, required: true }
}

/// tcpretrans: `tcp:tcp_retransmit_skb`; records are `tcpretrans_event`.
pub const TCPRETRANS: Object = Object {
    name: "tcpretrans",
    bytes: aya::include_bytes_aligned!("../objects/tcpretrans.bpf.o"),
    tracepoints: &[Tracepoint {
        program: "tcp_retransmit_skb",
        category: "tcp",
        event: "tcp_retransmit_skb",
        required: true,
    }],
};

/// tcplife: `sock:inet_sock_set_state`; one `tcplife_event` per TCP session at its close.
pub const TCPLIFE: Object = Object {
    name: "tcplife",
    bytes: aya::include_bytes_aligned!("../objects/tcplife.bpf.o"),
    tracepoints: &[Tracepoint {
        program: "inet_sock_set_state",
        category: "sock",
        event: "inet_sock_set_state",
        required: true,
    }],
};

/// Every embedded object, for tests that check them all.
pub const ALL: &[Object] = &[EXECSNOOP, OPENSNOOP, RUNQLAT, OFFCPUTIME, IOLATENCY, IOSNOOP, TCPRETRANS, TCPLIFE];
