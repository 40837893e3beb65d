//! `perf script` text to folded stacks (`plumb flame collapse`), through inferno's
//! `collapse::perf`, for people who already have a perf.data.
//!
//! Design decision: kernel and JIT annotation are always on, so the frame kinds survive into the
//! [`Profile`] (and into the colours of a rendered graph); otherwise the output is exactly what
//! `inferno-collapse-perf --kernel --jit` writes. Like inferno, a sample whose event line prints a
//! period (recent perf does by default) counts as that period, not as 1: a cpu-clock stack then
//! weighs its nanoseconds of CPU.

use std::io::{BufRead, Cursor, Read, Write};

use inferno::collapse::Collapse;
use inferno::collapse::perf::{Folder, Options};

use crate::error::{Error, Result};
use crate::folded::{FoldedRead, parse_folded};

/// How [`collapse_perf_script`] folds stacks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CollapseOptions {
    /// Name the root frame `comm-PID` instead of `comm`. Default is false.
    pub include_pid: bool,
    /// Name the root frame `comm-PID/TID` (implies `include_pid`). Default is false.
    pub include_tid: bool,
    /// Keep raw addresses (`0x7f...`) of unresolved frames instead of `[unknown]`. Default is false.
    pub include_addrs: bool,
    /// Fold only samples of this event. Default is `None`: the first event seen.
    pub event_filter: Option<String>,
}

fn folder(options: &CollapseOptions) -> Folder {
    let mut inferno = Options::default();
    inferno.annotate_kernel = true;
    inferno.annotate_jit = true;
    inferno.include_pid = options.include_pid;
    inferno.include_tid = options.include_tid;
    inferno.include_addrs = options.include_addrs;
    inferno.event_filter = options.event_filter.clone();
    inferno.nthreads = 1;
    Folder::from(inferno)
}

/// The event name of a `perf script` event line (`comm PID/TID [CPU] TIME: PERIOD EVENT: ...`):
/// the last word before the second colon, as inferno reads it.
fn event_of_line(line: &str) -> Option<&str> {
    let mut by_colons = line.splitn(3, ':');
    by_colons.next()?;
    let event_part = by_colons.next()?;
    by_colons.next()?;
    event_part.rsplit(' ').next().filter(|event| !event.is_empty())
}

/// Folds `perf script` output into folded stack lines (annotated with `_[k]` and `_[j]`).
///
/// Without an [`CollapseOptions::event_filter`], the event of the first event line is chosen
/// here rather than by inferno, whose own choice panics on input without a well-formed event
/// line: such input yields no stacks. The lines read to find it are replayed to inferno.
pub fn collapse_perf_script(mut input: impl BufRead, options: &CollapseOptions, writer: impl Write) -> Result<()> {
    let mut options = options.clone();
    let mut consumed = Vec::new();
    if options.event_filter.is_none() {
        let mut line = String::new();
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Ok(());
            }
            consumed.extend_from_slice(line.as_bytes());
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match event_of_line(trimmed) {
                Some(event) => {
                    options.event_filter = Some(event.to_owned());
                    break;
                }
                None => return Ok(()),
            }
        }
    }
    folder(&options).collapse(Cursor::new(consumed).chain(input), writer).map_err(Error::Collapse)
}

/// Folds `perf script` output into a [`Profile`](crate::Profile) (through the folded lines, so
/// the result is the one `plumb flame collapse` prints).
pub fn collapse_to_profile(input: &[u8], options: &CollapseOptions) -> Result<FoldedRead> {
    let mut folded = Vec::new();
    collapse_perf_script(input, options, &mut folded)?;
    Ok(parse_folded(&folded))
}

/// Whether the text starts like `perf script` output: an event line followed by a stack line
/// (inferno's own test).
pub fn looks_like_perf_script(text: &str) -> bool {
    folder(&CollapseOptions::default()).is_applicable(text) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Frame, FrameKind};

    const SCRIPT: &str = "\
burn 4242/4242 [001] 100.000001:   10101010 cpu-clock:pppH: 
\t    55d0c8a0113d leaf+0x14 (/tmp/burn)
\t    55d0c8a011a0 main+0x30 (/tmp/burn)

burn 4242/4242 [001] 100.010102:   10101010 cpu-clock:pppH: 
\tffffffff8a0bd2e5 clear_page_erms+0x5 ([kernel.kallsyms])
\t    55d0c8a0113d leaf+0x14 (/tmp/burn)
\t    55d0c8a011a0 main+0x30 (/tmp/burn)

";

    #[test]
    fn folds_with_kernel_annotation_and_period_weights() {
        let mut out = Vec::new();
        collapse_perf_script(SCRIPT.as_bytes(), &CollapseOptions::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "burn;main;leaf 10101010\nburn;main;leaf;clear_page_erms_[k] 10101010\n"
        );
        let read = collapse_to_profile(SCRIPT.as_bytes(), &CollapseOptions { include_pid: true, ..Default::default() })
            .unwrap();
        let kernel = vec![
            Frame::user("burn-4242"),
            Frame::user("main"),
            Frame::user("leaf"),
            Frame::new("clear_page_erms", FrameKind::Kernel),
        ];
        assert_eq!(read.profile.to_named_stacks().get(&kernel), Some(&10101010));
    }

    #[test]
    fn malformed_input_yields_nothing_instead_of_inferno_panicking() {
        for input in ["a 12 1.0\n\tf (x)\n\n", "\n\n\n", "", "# only a header\n"] {
            let read = collapse_to_profile(input.as_bytes(), &CollapseOptions::default()).unwrap();
            assert!(read.profile.is_empty(), "{input:?}");
        }
        assert_eq!(event_of_line("burn 1/1 [000] 1.5:   100 cpu-clock:ppp: "), Some("cpu-clock"));
    }

    proptest::proptest! {
        #[test]
        fn perf_script_like_text_never_panics(
            lines in proptest::collection::vec("[a-z0-9 /:\\[\\]().+\t]{0,40}", 0..12)
        ) {
            let input = lines.join("\n");
            let _ = collapse_to_profile(input.as_bytes(), &CollapseOptions::default());
        }
    }

    #[test]
    fn recognises_perf_script_but_not_folded() {
        assert!(looks_like_perf_script(SCRIPT));
        assert!(!looks_like_perf_script("main;leaf 3\n"));
    }
}
