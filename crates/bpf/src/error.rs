//! The one error type of plumb-bpf. Design decision: the causes a user can fix (permission,
//! kernel BTF, tracefs) are variants of their own whose message names the fix; everything else
//! from aya keeps its cause chain for the binary to print.

use std::io;

/// Why a BPF tool could not load, attach or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused a BPF or perf call with EPERM or EACCES.
    #[error(
        "the kernel refused to load BPF programs ({cause}): run as root, or grant CAP_BPF and \
         CAP_PERFMON (e.g. `sudo setcap cap_bpf,cap_perfmon+ep $(which plumb)`)"
    )]
    Permission {
        /// The refused call's error (in the message, so not a `source`: one line says it all).
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The kernel exposes no BTF description of itself, which CO-RE relocations need.
    #[error(
        "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): plumb's BPF tools need a \
         kernel built with CONFIG_DEBUG_INFO_BTF=y"
    )]
    NoKernelBtf,
    /// tracefs is not mounted and could not be mounted.
    #[error(
        "tracefs is not mounted and mounting it at /sys/kernel/tracing failed ({cause}): run as \
         root, or mount it with `mount -t tracefs tracefs /sys/kernel/tracing`"
    )]
    Tracefs {
        /// The mount call's error (in the message, so not a `source`).
        cause: io::Error,
    },
    /// A tracepoint the tool cannot work without does not exist in this kernel.
    #[error("tracepoint {category}:{event} is not available in this kernel, so {tool} cannot run")]
    TracepointMissing {
        /// The tool that needs it.
        tool: &'static str,
        /// The tracepoint's category (e.g. `syscalls`).
        category: &'static str,
        /// The tracepoint's name (e.g. `sys_enter_execve`).
        event: &'static str,
    },
    /// aya failed to parse, load or attach the object, for a reason other than those above.
    #[error("loading BPF object {object}")]
    Load {
        /// The object's name.
        object: &'static str,
        /// aya's error, with its cause chain.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A map the loader expects is missing from the object or has another type.
    #[error("BPF object {object} has no usable map {map}: {reason}")]
    Map {
        /// The object's name.
        object: &'static str,
        /// The map's name.
        map: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Polling or reading the ring buffer failed.
    #[error("reading the BPF ring buffer")]
    Ring(#[source] io::Error),
}

impl Error {
    /// Classifies an aya error: a refusal by the kernel becomes [`Error::Permission`].
    pub(crate) fn from_aya(object: &'static str, err: impl std::error::Error + Send + Sync + 'static) -> Error {
        if is_permission(&err) {
            Error::Permission { cause: Box::new(err) }
        } else {
            Error::Load { object, source: Box::new(err) }
        }
    }
}

/// True when any error in the chain is an `io::Error` with EPERM or EACCES.
fn is_permission(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>()
            && matches!(io.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
        {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] io::Error);

    #[test]
    fn eperm_anywhere_in_the_chain_is_a_permission_error() {
        let err = Error::from_aya("x", Outer(io::Error::from_raw_os_error(libc::EPERM)));
        assert!(matches!(err, Error::Permission { .. }), "{err}");
        assert!(err.to_string().contains("CAP_BPF"));
        let err = Error::from_aya("x", Outer(io::Error::from_raw_os_error(libc::EINVAL)));
        assert!(matches!(err, Error::Load { object: "x", .. }), "{err}");
    }
}
