//! One profile, any output format: the dispatch `plumb profile`, `plumb flame render`,
//! `plumb offcputime` and the agent's `POST /api/v1/profile` share.

use crate::error::Result;
use crate::folded::{FoldedOptions, write_folded};
use crate::model::Profile;
use crate::svg::{Layout, SvgOptions, write_svg};

/// The formats a profile is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Interactive SVG flame graph (search, zoom).
    Svg,
    /// Interactive SVG icicle graph (roots at the top).
    Icicle,
    /// Folded stacks, one `a;b;c COUNT` line per stack.
    Folded,
    /// pprof's profile.proto, gzip-compressed.
    Pprof,
    /// speedscope JSON.
    Speedscope,
}

impl OutputFormat {
    /// Every format, in help order.
    pub const ALL: [OutputFormat; 5] =
        [OutputFormat::Svg, OutputFormat::Icicle, OutputFormat::Folded, OutputFormat::Pprof, OutputFormat::Speedscope];

    /// The format's name (`svg`, `icicle`, `folded`, `pprof`, `speedscope`).
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Svg => "svg",
            OutputFormat::Icicle => "icicle",
            OutputFormat::Folded => "folded",
            OutputFormat::Pprof => "pprof",
            OutputFormat::Speedscope => "speedscope",
        }
    }

    /// The format named `name`.
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        OutputFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The HTTP Content-Type of the format's bytes.
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Svg | OutputFormat::Icicle => "image/svg+xml",
            OutputFormat::Folded => "text/plain; charset=utf-8",
            OutputFormat::Pprof => "application/octet-stream",
            OutputFormat::Speedscope => "application/json",
        }
    }
}

/// The bytes of `profile` in `format`; `title` replaces a flame graph's default title.
pub fn render(profile: &Profile, format: OutputFormat, title: Option<&str>) -> Result<Vec<u8>> {
    let svg = |layout| {
        let options = SvgOptions { layout, title: title.map(str::to_string), ..SvgOptions::default() };
        let mut bytes = Vec::new();
        write_svg(profile, &options, &mut bytes).map(|()| bytes)
    };
    match format {
        OutputFormat::Svg => svg(Layout::Flame),
        OutputFormat::Icicle => svg(Layout::Icicle),
        OutputFormat::Folded => {
            let mut bytes = Vec::new();
            write_folded(profile, &FoldedOptions::default(), &mut bytes)?;
            Ok(bytes)
        }
        OutputFormat::Pprof => crate::pprof::to_pprof(profile),
        OutputFormat::Speedscope => crate::speedscope::to_speedscope(profile),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Frame;

    #[test]
    fn names_round_trip_and_every_format_renders() {
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user("main"), Frame::user("leaf")], 3);
        for format in OutputFormat::ALL {
            assert_eq!(OutputFormat::from_name(format.name()), Some(format));
            let bytes = render(&profile, format, None).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            match format {
                OutputFormat::Pprof => assert_eq!(&bytes[..2], &[0x1f, 0x8b]),
                _ => assert!(text.contains("leaf"), "{}: {text}", format.name()),
            }
        }
        assert_eq!(OutputFormat::from_name("png"), None);
    }
}
