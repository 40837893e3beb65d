//! Brendan Gregg's folded stacks (`main;work;leaf 12`), written and read, with inferno's frame
//! annotations: `_[k]` kernel, `_[j]` JIT, `_[i]` inlined.
//!
//! Design decision: the writer emits lines sorted by text, so the same profile always folds to
//! the same bytes however its frames were interned; the reader keeps going past malformed lines
//! and reports how many there were and the first few, instead of failing or silently dropping
//! them. A frame name cannot hold `;` (the separator) or a line break: the writer turns `;` into
//! `,` and line breaks into spaces.

use std::io::{BufRead, Write};

use crate::error::Result;
use crate::model::{Frame, FrameKind, Profile};

/// How many malformed lines [`BadLines`] keeps as examples.
pub const BAD_LINE_EXAMPLES: usize = 10;

/// How [`write_folded`] writes stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldedOptions {
    /// Append inferno's kind annotations (`_[k]`, `_[j]`, `_[i]`) to frame names. Default is true.
    pub annotate: bool,
}

impl Default for FoldedOptions {
    fn default() -> Self {
        FoldedOptions { annotate: true }
    }
}

/// The annotation inferno gives a frame kind, if any.
pub fn annotation(kind: FrameKind) -> Option<&'static str> {
    match kind {
        FrameKind::Kernel => Some("_[k]"),
        FrameKind::Jit => Some("_[j]"),
        FrameKind::Inlined => Some("_[i]"),
        FrameKind::User | FrameKind::Unknown | FrameKind::Process | FrameKind::Thread => None,
    }
}

/// Splits an annotated frame name into its name and kind; an unannotated name is a user frame.
pub fn deannotate(name: &str) -> (&str, FrameKind) {
    for kind in [FrameKind::Kernel, FrameKind::Jit, FrameKind::Inlined] {
        if let Some(suffix) = annotation(kind)
            && let Some(bare) = name.strip_suffix(suffix)
        {
            return (bare, kind);
        }
    }
    (name, FrameKind::User)
}

/// Appends a frame's folded form (sanitised, annotated if asked) to `line`.
///
/// Folded lines are split on whitespace, and readers (inferno among them) trim them, so a name's
/// leading and trailing whitespace is dropped, and a name with nothing else is `[unknown]`.
fn push_frame(line: &mut String, frame: &Frame, options: &FoldedOptions) {
    let name = frame.name.trim();
    if name.is_empty() {
        line.push_str("[unknown]");
    }
    for c in name.chars() {
        line.push(match c {
            ';' => ',',
            '\n' | '\r' => ' ',
            c => c,
        });
    }
    if options.annotate
        && let Some(suffix) = annotation(frame.kind)
    {
        line.push_str(suffix);
    }
}

/// A frame as it appears in folded stacks: sanitised, annotated if asked.
pub fn folded_name(frame: &Frame, options: &FoldedOptions) -> String {
    let mut name = String::with_capacity(frame.name.len() + 4);
    push_frame(&mut name, frame, options);
    name
}

/// The profile's folded lines (without line breaks), sorted.
pub fn folded_lines(profile: &Profile, options: &FoldedOptions) -> Vec<String> {
    let mut lines: Vec<String> = profile
        .resolved_stacks()
        .map(|(frames, weight)| {
            let mut line = String::new();
            for (i, frame) in frames.iter().enumerate() {
                if i > 0 {
                    line.push(';');
                }
                push_frame(&mut line, frame, options);
            }
            // A line starting "# " is a comment to every reader of folded stacks: a first frame
            // named "#" or "# ..." has its '#' written as "[#]".
            if line.starts_with('#') && matches!(line[1..].chars().next(), None | Some(' ')) {
                line.replace_range(0..1, "[#]");
            }
            line.push(' ');
            line.push_str(&weight.to_string());
            line
        })
        .collect();
    lines.sort_unstable();
    lines
}

/// Writes the profile as folded stacks, one line per distinct stack, sorted.
pub fn write_folded(profile: &Profile, options: &FoldedOptions, mut writer: impl Write) -> Result<()> {
    for line in folded_lines(profile, options) {
        writer.write_all(line.as_bytes())?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(())
}

/// The profile as folded stacks, as [`write_folded`].
pub fn to_folded(profile: &Profile, options: &FoldedOptions) -> String {
    let mut text = folded_lines(profile, options).join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// Why a line of folded input was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadLineReason {
    /// No whitespace-separated count ends the line.
    NoCount,
    /// The count is not a whole number that fits in 64 bits (fractions included).
    BadCount,
    /// The stack before the count is empty.
    NoFrames,
}

impl std::fmt::Display for BadLineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadLineReason::NoCount => "no sample count at the end of the line",
            BadLineReason::BadCount => "the sample count is not a whole number",
            BadLineReason::NoFrames => "no frames before the sample count",
        })
    }
}

/// One skipped line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The line's number, from 1.
    pub line_number: usize,
    /// Its text, cut to 200 characters.
    pub text: String,
    /// Why it was skipped.
    pub reason: BadLineReason,
}

/// The malformed lines of an input: how many, and the first [`BAD_LINE_EXAMPLES`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BadLines {
    /// How many lines were skipped.
    pub count: usize,
    /// The first few of them.
    pub examples: Vec<BadLine>,
}

impl BadLines {
    /// Records a skipped line.
    pub fn push(&mut self, line_number: usize, text: &str, reason: BadLineReason) {
        self.count += 1;
        if self.examples.len() < BAD_LINE_EXAMPLES {
            self.examples.push(BadLine { line_number, text: text.chars().take(200).collect(), reason });
        }
    }

    /// Whether no line was skipped.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A profile read from folded stacks, with the lines that could not be read.
#[derive(Debug, Clone, Default)]
pub struct FoldedRead {
    /// The stacks read. Its metadata is the default (folded stacks carry none).
    pub profile: Profile,
    /// The skipped lines.
    pub bad_lines: BadLines,
}

/// Splits one non-blank line into its stack (`;`-separated frames, root first) and its count.
fn parse_line(line: &str) -> std::result::Result<(&str, u64), BadLineReason> {
    let (stack, count) = line.rsplit_once(|c: char| c.is_whitespace()).ok_or(BadLineReason::NoCount)?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(BadLineReason::NoCount);
    }
    let count: u64 = count.parse().map_err(|_| BadLineReason::BadCount)?;
    let stack = stack.trim_end();
    if stack.is_empty() {
        return Err(BadLineReason::NoFrames);
    }
    Ok((stack, count))
}

/// Adds one line of folded text to `read`. Blank lines and `# ` comments are skipped silently.
fn read_line(read: &mut FoldedRead, line_number: usize, line: &str, ids: &mut Vec<crate::model::FrameId>) {
    let line = line.trim();
    if line.is_empty() || line.starts_with("# ") {
        return;
    }
    match parse_line(line) {
        Ok((stack, count)) => {
            ids.clear();
            ids.extend(stack.split(';').map(deannotate).map(|(name, kind)| read.profile.intern(name, kind)));
            read.profile.add_stack_ids(ids, count);
        }
        Err(reason) => read.bad_lines.push(line_number, line, reason),
    }
}

/// Reads folded stacks. Bytes that are not UTF-8 are replaced (U+FFFD) rather than refused.
pub fn read_folded(mut reader: impl BufRead) -> Result<FoldedRead> {
    let mut read = FoldedRead::default();
    let mut buffer = Vec::new();
    let mut ids = Vec::new();
    let mut line_number = 0;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        line_number += 1;
        read_line(&mut read, line_number, &String::from_utf8_lossy(&buffer), &mut ids);
    }
    Ok(read)
}

/// Parses folded stacks held in memory, as [`read_folded`].
pub fn parse_folded(bytes: &[u8]) -> FoldedRead {
    let mut read = FoldedRead::default();
    let mut ids = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        read_line(&mut read, i + 1, &String::from_utf8_lossy(line), &mut ids);
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_sorted_annotated_lines() {
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user("main"), Frame::kernel("sys_read")], 3);
        profile.add_stack(&[Frame::user("main"), Frame::new("jitted", FrameKind::Jit)], 2);
        profile.add_stack(&[Frame::user("main"), Frame::new("inl", FrameKind::Inlined)], 1);
        profile.add_stack(&[Frame::new("app [7]", FrameKind::Process), Frame::user("a;b")], 4);
        assert_eq!(
            to_folded(&profile, &FoldedOptions::default()),
            "app [7];a,b 4\nmain;inl_[i] 1\nmain;jitted_[j] 2\nmain;sys_read_[k] 3\n"
        );
        assert_eq!(
            to_folded(&profile, &FoldedOptions { annotate: false }),
            "app [7];a,b 4\nmain;inl 1\nmain;jitted 2\nmain;sys_read 3\n"
        );
    }

    #[test]
    fn reads_annotations_blank_lines_comments_and_counts_bad_lines() {
        let input = b"main;sys_read_[k] 3\n\n# comment\r\nmain;work 2\r\nmain;work 5\nno count\nmain 1.5\n 7\nmain;x 18446744073709551616\n";
        let read = parse_folded(input);
        let stacks = read.profile.to_named_stacks();
        assert_eq!(stacks.get(&vec![Frame::user("main"), Frame::kernel("sys_read")]), Some(&3));
        assert_eq!(stacks.get(&vec![Frame::user("main"), Frame::user("work")]), Some(&7));
        assert_eq!(stacks.len(), 2);
        assert_eq!(read.bad_lines.count, 4);
        let reasons: Vec<_> = read.bad_lines.examples.iter().map(|b| (b.line_number, b.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (6, BadLineReason::NoCount),
                (7, BadLineReason::BadCount),
                (8, BadLineReason::NoCount),
                (9, BadLineReason::BadCount)
            ]
        );
    }

    #[test]
    fn blank_names_and_outer_whitespace_do_not_break_lines() {
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user(" "), Frame::user(" main "), Frame::user("\u{3000}")], 2);
        let text = to_folded(&profile, &FoldedOptions::default());
        assert_eq!(text, "[unknown];main;[unknown] 2\n");
        let read = parse_folded(text.as_bytes());
        assert!(read.bad_lines.is_empty());
        assert_eq!(read.profile.total(), 2);
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user("#")], 1);
        profile.add_stack(&[Frame::user("# x"), Frame::user("y")], 1);
        profile.add_stack(&[Frame::user("#x")], 1);
        let text = to_folded(&profile, &FoldedOptions::default());
        assert_eq!(text, "#x 1\n[#] 1\n[#] x;y 1\n");
        assert_eq!(parse_folded(text.as_bytes()).profile.total(), 3);
    }

    #[test]
    fn reader_and_in_memory_parser_agree() {
        let input = "a;b 1\nbad\na;c_[j] 2";
        let streamed = read_folded(input.as_bytes()).unwrap();
        let parsed = parse_folded(input.as_bytes());
        assert_eq!(streamed.profile.to_named_stacks(), parsed.profile.to_named_stacks());
        assert_eq!(streamed.bad_lines, parsed.bad_lines);
    }

    fn frame_strategy() -> impl Strategy<Value = Frame> {
        let kind =
            prop_oneof![Just(FrameKind::User), Just(FrameKind::Kernel), Just(FrameKind::Jit), Just(FrameKind::Inlined)];
        // Names as real symbolizers produce them: no separator, line break or trailing space,
        // and not ending in an annotation of their own.
        ("[A-Za-z_<>:\\[\\]+.0-9]([A-Za-z_<>:,\\[\\]+. ()0-9&*]{0,20}[A-Za-z0-9_>)])?", kind)
            .prop_filter("name ends in an annotation", |(name, _)| deannotate(name).1 == FrameKind::User)
            .prop_map(|(name, kind)| Frame::new(name, kind))
    }

    proptest! {
        #[test]
        fn write_then_read_round_trips(
            stacks in proptest::collection::vec((proptest::collection::vec(frame_strategy(), 1..8), 1u64..1_000_000), 0..20)
        ) {
            let mut profile = Profile::default();
            for (frames, weight) in &stacks {
                profile.add_stack(frames, *weight);
            }
            let text = to_folded(&profile, &FoldedOptions::default());
            let read = parse_folded(text.as_bytes());
            prop_assert!(read.bad_lines.is_empty(), "{:?}", read.bad_lines);
            prop_assert_eq!(read.profile.to_named_stacks(), profile.to_named_stacks());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let read = parse_folded(&bytes);
            let lines = bytes.split(|&b| b == b'\n').count();
            prop_assert!(read.bad_lines.count <= lines);
        }
    }
}
