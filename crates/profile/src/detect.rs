//! Which format an input is in, and reading a profile from any of them: what `plumb flame diff
//! BEFORE AFTER` and `plumb flame render` take.
//!
//! Design decision: detection looks at content, never at file names, and tries the cheap,
//! unambiguous signatures first: gzip's magic number (pprof on disk), a JSON object (speedscope),
//! then the text formats judged on their first lines (`perf script` by inferno's own test, then
//! folded stacks); only bytes that are none of these are taken for raw profile.proto, whose wire
//! format has no magic number.

use crate::collapse::{CollapseOptions, collapse_to_profile, looks_like_perf_script};
use crate::error::{Error, Result};
use crate::folded::{BadLines, parse_folded};
use crate::model::Profile;
use crate::{pprof, speedscope};

/// How much of the input detection reads.
const SNIFF_BYTES: usize = 64 * 1024;

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Folded stacks (`a;b;c 12`).
    Folded,
    /// pprof profile.proto, gzip-compressed (as on disk) or raw.
    Pprof {
        /// Whether the bytes are gzip-compressed.
        gzip: bool,
    },
    /// speedscope JSON.
    Speedscope,
    /// `perf script` text.
    PerfScript,
}

impl Format {
    /// A short name: `folded`, `pprof`, `speedscope`, `perf-script`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Folded => "folded",
            Format::Pprof { .. } => "pprof",
            Format::Speedscope => "speedscope",
            Format::PerfScript => "perf-script",
        }
    }
}

/// The longest prefix of `bytes`, at most [`SNIFF_BYTES`] and ending at a line break when cut,
/// that is UTF-8 text; `None` when it is not text.
fn text_prefix(bytes: &[u8]) -> Option<&str> {
    let mut prefix = bytes.get(..SNIFF_BYTES).unwrap_or(bytes);
    if prefix.len() < bytes.len()
        && let Some(end) = prefix.iter().rposition(|&b| b == b'\n')
    {
        prefix = prefix.get(..end).unwrap_or(prefix);
    }
    let text = std::str::from_utf8(prefix).ok()?;
    let printable = text.chars().all(|c| !c.is_control() || c.is_whitespace());
    printable.then_some(text)
}

/// Whether the first line that is not blank or a comment is a folded stack line.
fn looks_folded(text: &str) -> bool {
    let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')) else {
        return true;
    };
    parse_folded(line.as_bytes()).bad_lines.is_empty()
}

/// Whether the first byte is a plausible profile.proto field tag (fields 1 to 16, wire type
/// varint or length-delimited).
fn looks_like_protobuf(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|&tag| matches!(tag & 0x7, 0 | 2) && (1..=16).contains(&(tag >> 3)))
}

/// The input's format, judged from its content.
pub fn detect(bytes: &[u8]) -> Result<Format> {
    if pprof::is_gzip(bytes) {
        return Ok(Format::Pprof { gzip: true });
    }
    if let Some(text) = text_prefix(bytes) {
        if text.trim_start().starts_with('{') {
            return Ok(Format::Speedscope);
        }
        if looks_like_perf_script(text) {
            return Ok(Format::PerfScript);
        }
        if looks_folded(text) {
            return Ok(Format::Folded);
        }
        // Protobuf always holds control bytes (tags 0x08, short lengths): text is not pprof.
        return Err(Error::UnknownFormat);
    }
    if looks_like_protobuf(bytes) {
        return Ok(Format::Pprof { gzip: false });
    }
    Err(Error::UnknownFormat)
}

/// A profile read by [`read_any`].
#[derive(Debug, Clone)]
pub struct ReadProfile {
    /// The profile.
    pub profile: Profile,
    /// The format it was read from.
    pub format: Format,
    /// Lines of text input that were skipped (folded stacks; the folded lines of `perf script`).
    pub bad_lines: BadLines,
}

/// Reads a profile from folded stacks, pprof (gzip or raw), speedscope JSON or `perf script`
/// text (collapsed with [`CollapseOptions::default`]).
pub fn read_any(bytes: &[u8]) -> Result<ReadProfile> {
    let format = detect(bytes)?;
    let (profile, bad_lines) = match format {
        Format::Folded => {
            let read = parse_folded(bytes);
            (read.profile, read.bad_lines)
        }
        Format::Pprof { .. } => (pprof::read_pprof(bytes)?, BadLines::default()),
        Format::Speedscope => (speedscope::read_speedscope(bytes)?, BadLines::default()),
        Format::PerfScript => {
            let read = collapse_to_profile(bytes, &CollapseOptions::default())?;
            (read.profile, read.bad_lines)
        }
    };
    Ok(ReadProfile { profile, format, bad_lines })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Frame;
    use proptest::prelude::*;

    fn sample_profile() -> Profile {
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user("main"), Frame::kernel("sys_write")], 4);
        profile.add_stack(&[Frame::user("main"), Frame::user("parse")], 6);
        profile
    }

    #[test]
    fn every_written_format_is_detected_and_read_back() {
        let profile = sample_profile();
        let folded = crate::folded::to_folded(&profile, &Default::default());
        let cases: Vec<(Vec<u8>, Format)> = vec![
            (folded.into_bytes(), Format::Folded),
            (pprof::to_pprof(&profile).unwrap(), Format::Pprof { gzip: true }),
            (pprof::to_pprof_raw(&profile), Format::Pprof { gzip: false }),
            (speedscope::to_speedscope(&profile).unwrap(), Format::Speedscope),
        ];
        for (bytes, format) in cases {
            assert_eq!(detect(&bytes).unwrap(), format);
            let read = read_any(&bytes).unwrap();
            assert_eq!(read.format, format);
            assert_eq!(read.profile.to_named_stacks(), profile.to_named_stacks(), "{format:?}");
        }
    }

    #[test]
    fn text_inputs() {
        let script = "a 1/1 [000] 1.0: 1 cpu-clock: \n\t1 f+0x1 (/bin/a)\n\n";
        assert_eq!(detect(script.as_bytes()).unwrap(), Format::PerfScript);
        assert_eq!(detect(b"\n\n# header\nmain;f 3\n").unwrap(), Format::Folded);
        assert_eq!(detect(b"").unwrap(), Format::Folded);
        assert!(matches!(detect(b"hello world\n"), Err(Error::UnknownFormat)));
        assert!(matches!(detect(&[0xff, 0xfe, 0x00]), Err(Error::UnknownFormat)));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_any(&bytes);
        }
    }
}
