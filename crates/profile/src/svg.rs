//! Interactive SVG flame graphs, icicles and differential flame graphs, drawn by inferno from the
//! profile's folded stacks (inferno's SVG carries its own search, zoom and reset script).
//!
//! Design decision: colours follow the frame's kind, not its name. Every frame's colour is
//! computed here and handed to inferno as a palette map: user code in the classic "hot"
//! red-to-yellow, kernel orange, JIT green, inlined aqua (the colours inferno's `java` palette
//! gives the `_[k]`, `_[j]`, `_[i]` annotations), unknown grey, process and thread roots blue.
//! inferno's own `java` palette was the alternative, but it guesses at unannotated names (any
//! capitalised C function turns JIT-green); ours knows the kind. The shade within a hue comes
//! from a hash of the name, so a function keeps its colour across graphs and two renderings of
//! one profile are byte-identical. inferno strips the annotations from the labels it shows.

use std::io::Write;

use inferno::flamegraph::color::{BasicPalette, Color, Palette, PaletteMap};
use inferno::flamegraph::{self, Direction};

use crate::error::{Error, Result};
use crate::folded::{FoldedOptions, folded_lines, folded_name, to_folded};
use crate::model::{Frame, FrameKind, Profile, ProfileMeta, Sampling, WeightUnit};

/// Which way the stacks grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Roots at the bottom, stacks growing up. The default.
    #[default]
    Flame,
    /// Roots at the top, stacks growing down.
    Icicle,
}

/// How [`write_svg`] draws a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct SvgOptions {
    /// Flame graph or icicle. Default is [`Layout::Flame`].
    pub layout: Layout,
    /// The title. Default is `None`: [`default_title`] from the metadata.
    pub title: Option<String>,
    /// The line under the title. Default is `None`: [`default_subtitle`] from the metadata.
    pub subtitle: Option<String>,
    /// Image width in pixels. Default is `None`: the SVG fills the browser window.
    pub width: Option<usize>,
    /// Frames narrower than this many pixels are left out. Default is 0.1 (inferno's).
    pub min_width: f64,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions { layout: Layout::Flame, title: None, subtitle: None, width: None, min_width: 0.1 }
    }
}

/// How [`write_diff_svg`] compares two profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffOptions {
    /// Scale the before profile to the after profile's total, so a uniformly busier run does not
    /// paint everything red. Default is true.
    pub normalize: bool,
    /// Layout, title and size. Default is [`SvgOptions::default`] with a differential title.
    pub svg: SvgOptions,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { normalize: true, svg: SvgOptions::default() }
    }
}

/// `1234567` as `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "cpu-clock on HOST, 30.0 s, 2,970 samples": what is known of event, host, duration and
/// samples.
pub fn default_title(profile: &Profile) -> String {
    let meta = &profile.meta;
    let mut title = meta.event.clone().unwrap_or_else(|| "Flame graph".to_owned());
    if let Some(host) = &meta.host {
        title.push_str(" on ");
        title.push_str(host);
    }
    if let Some(duration) = meta.duration {
        title.push_str(&format!(", {:.1} s", duration.as_secs_f64()));
    }
    if let Some(samples) = profile.sample_count() {
        title.push_str(&format!(", {} samples", group_thousands(samples)));
    }
    if meta.unit == WeightUnit::Nanoseconds {
        title.push_str(&format!(", {:.3} s off-CPU", profile.total() as f64 / 1e9));
    }
    title
}

/// "99 Hz, 3 lost samples, command: ./a.out": sampling, losses and the command, or `None` when
/// nothing is known.
pub fn default_subtitle(meta: &ProfileMeta) -> Option<String> {
    let mut parts = Vec::new();
    match meta.sampling {
        Some(Sampling::FrequencyHz(hz)) => parts.push(format!("{hz} Hz")),
        Some(Sampling::Period(period)) => parts.push(format!("every {} events", group_thousands(period))),
        None => {}
    }
    if meta.lost_samples > 0 {
        parts.push(format!("{} lost samples", group_thousands(meta.lost_samples)));
    }
    if let Some(command) = &meta.command_line {
        parts.push(format!("command: {command}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Three numbers in [0, 1) from a hash of the name (FNV-1a), for shades.
fn name_shades(name: &str) -> [f32; 3] {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    [
        (hash & 0xffff) as f32 / 65536.0,
        ((hash >> 16) & 0xffff) as f32 / 65536.0,
        ((hash >> 32) & 0xffff) as f32 / 65536.0,
    ]
}

/// A frame's colour: the kind picks the hue, the name the shade.
pub fn frame_colour(frame: &Frame) -> Color {
    let [v1, v2, v3] = name_shades(&frame.name);
    let c = |base: f32, range: f32, v: f32| (base + range * v) as u8;
    let (r, g, b) = match frame.kind {
        FrameKind::User => (c(205.0, 50.0, v3), c(0.0, 230.0, v1), c(0.0, 55.0, v2)),
        FrameKind::Kernel => (c(190.0, 65.0, v1), c(90.0, 65.0, v1), 0),
        FrameKind::Jit => (c(50.0, 60.0, v1), c(200.0, 55.0, v1), c(50.0, 60.0, v1)),
        FrameKind::Inlined => (c(50.0, 60.0, v1), c(165.0, 55.0, v1), c(165.0, 55.0, v1)),
        FrameKind::Unknown => (c(160.0, 40.0, v1), c(160.0, 40.0, v1), c(160.0, 40.0, v1)),
        FrameKind::Process | FrameKind::Thread => (c(80.0, 60.0, v1), c(80.0, 60.0, v1), c(205.0, 50.0, v1)),
    };
    Color { r, g, b }
}

/// Every frame's colour, keyed by its annotated folded name (what inferno looks up).
fn palette_map(profile: &Profile) -> PaletteMap {
    let mut map = PaletteMap::default();
    for frame in profile.frames() {
        map.insert(folded_name(frame, &FoldedOptions::default()), frame_colour(frame));
    }
    map
}

/// inferno's options for our palette, layout and labels.
fn inferno_options<'a>(
    options: &SvgOptions,
    title: String,
    subtitle: Option<String>,
    unit: WeightUnit,
) -> flamegraph::Options<'a> {
    let mut inferno = flamegraph::Options::default();
    // Only the root "all" frame is coloured by inferno's palette; every other frame by ours.
    inferno.colors = Palette::Basic(BasicPalette::Hot);
    inferno.hash = true;
    inferno.direction = match options.layout {
        Layout::Flame => Direction::Straight,
        Layout::Icicle => Direction::Inverted,
    };
    inferno.title = title;
    inferno.subtitle = subtitle;
    inferno.image_width = options.width;
    inferno.min_width = options.min_width;
    inferno.count_name = match unit {
        WeightUnit::Samples => "samples".to_owned(),
        WeightUnit::Nanoseconds => "ns".to_owned(),
    };
    inferno
}

/// Draws the profile as an interactive SVG flame graph (or icicle).
pub fn write_svg(profile: &Profile, options: &SvgOptions, writer: impl Write) -> Result<()> {
    if profile.is_empty() {
        return Err(Error::NoSamples);
    }
    let title = options.title.clone().unwrap_or_else(|| default_title(profile));
    let subtitle = options.subtitle.clone().or_else(|| default_subtitle(&profile.meta));
    let mut colours = palette_map(profile);
    let mut inferno = inferno_options(options, title, subtitle, profile.meta.unit);
    inferno.palette_map = Some(&mut colours);
    // inferno sorts the lines itself: it trims them first, so a name with a leading space sorts
    // differently from ours.
    let lines = folded_lines(profile, &FoldedOptions::default());
    flamegraph::from_lines(&mut inferno, lines.iter().map(String::as_str), writer).map_err(Error::Render)
}

/// The profile as SVG bytes, as [`write_svg`].
pub fn to_svg(profile: &Profile, options: &SvgOptions) -> Result<Vec<u8>> {
    let mut svg = Vec::new();
    write_svg(profile, options, &mut svg)?;
    Ok(svg)
}

/// The differential folded stacks (`stack before after`) of two profiles, with inferno's
/// semantics: with `normalize`, each before count is scaled by after-total / before-total
/// (rounded down). Lines are sorted.
pub fn diff_folded(before: &Profile, after: &Profile, normalize: bool) -> Result<String> {
    let options = FoldedOptions::default();
    let before = to_folded(before, &options);
    let after = to_folded(after, &options);
    let mut out = Vec::new();
    let diff_options = inferno::differential::Options { normalize, strip_hex: false };
    inferno::differential::from_readers(diff_options, before.as_bytes(), after.as_bytes(), &mut out)
        .map_err(Error::Render)?;
    let text = String::from_utf8_lossy(&out);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    let mut sorted = lines.join("\n");
    if !sorted.is_empty() {
        sorted.push('\n');
    }
    Ok(sorted)
}

/// "Differential: 1,000 → 1,200 samples (before normalised)".
fn diff_title(before: &Profile, after: &Profile, normalize: bool) -> String {
    let event = after.meta.event.clone().or_else(|| before.meta.event.clone());
    let mut title = match event {
        Some(event) => format!("Differential {event} flame graph"),
        None => "Differential flame graph".to_owned(),
    };
    title.push_str(&format!(
        ": {} \u{2192} {} {}",
        group_thousands(before.total()),
        group_thousands(after.total()),
        after.meta.unit.as_str()
    ));
    if normalize {
        title.push_str(" (before normalised)");
    }
    title
}

/// Draws a differential flame graph: frame widths are the after profile's, red frames grew and
/// blue frames shrank, the deeper the colour the bigger the change (inferno's differential flame
/// graph).
pub fn write_diff_svg(before: &Profile, after: &Profile, options: &DiffOptions, writer: impl Write) -> Result<()> {
    if before.is_empty() && after.is_empty() {
        return Err(Error::NoSamples);
    }
    let folded = diff_folded(before, after, options.normalize)?;
    let title = options.svg.title.clone().unwrap_or_else(|| diff_title(before, after, options.normalize));
    let subtitle = options.svg.subtitle.clone().or_else(|| Some("widths: after; red: grew, blue: shrank".to_owned()));
    let mut inferno = inferno_options(&options.svg, title, subtitle, after.meta.unit);
    flamegraph::from_lines(&mut inferno, folded.lines(), writer).map_err(Error::Render)
}

/// The differential flame graph of two profiles as SVG bytes, normalised or not.
pub fn diff(before: &Profile, after: &Profile, normalize: bool) -> Result<Vec<u8>> {
    let mut svg = Vec::new();
    write_diff_svg(before, after, &DiffOptions { normalize, ..DiffOptions::default() }, &mut svg)?;
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Frame, FrameKind};
    use std::time::Duration;

    fn sample_profile() -> Profile {
        let mut profile = Profile::default();
        profile.add_stack(&[Frame::user("main"), Frame::user("work"), Frame::kernel("page_fault")], 30);
        profile.add_stack(&[Frame::user("main"), Frame::user("idle")], 70);
        profile.meta.event = Some("cpu-clock".into());
        profile.meta.host = Some("db1".into());
        profile.meta.duration = Some(Duration::from_millis(30_000));
        profile.meta.sampling = Some(Sampling::FrequencyHz(99));
        profile.meta.lost_samples = 2;
        profile
    }

    #[test]
    fn titles_say_event_host_duration_samples() {
        let profile = sample_profile();
        assert_eq!(default_title(&profile), "cpu-clock on db1, 30.0 s, 100 samples");
        assert_eq!(default_subtitle(&profile.meta).as_deref(), Some("99 Hz, 2 lost samples"));
        assert_eq!(default_subtitle(&ProfileMeta::default()), None);
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(100), "100");
    }

    #[test]
    fn svg_has_title_frames_and_is_reproducible() {
        let profile = sample_profile();
        let svg = String::from_utf8(to_svg(&profile, &SvgOptions::default()).unwrap()).unwrap();
        assert!(svg.contains("cpu-clock on db1, 30.0 s, 100 samples"), "title missing");
        assert!(svg.contains("<title>page_fault (30 samples, 30.00%)</title>"), "kernel frame label");
        assert!(!svg.contains("_[k]"), "annotation shown");
        let kernel_colour = frame_colour(&Frame::kernel("page_fault"));
        let fill = format!(
            "fill=\"rgb({},{},{})\" fg:x=\"70\" fg:w=\"30\"",
            kernel_colour.r, kernel_colour.g, kernel_colour.b
        );
        assert!(svg.contains(&fill), "kernel frame not in its colour: {fill}");
        assert_eq!(svg, String::from_utf8(to_svg(&profile, &SvgOptions::default()).unwrap()).unwrap());
    }

    #[test]
    fn colours_follow_kind() {
        let user = frame_colour(&Frame::user("JavaMain"));
        assert!(user.r >= 205 && user.b <= 55, "user frames are hot: {user:?}");
        let kernel = frame_colour(&Frame::kernel("JavaMain"));
        assert_eq!(kernel.b, 0);
        assert!(kernel.r > kernel.g);
        let jit = frame_colour(&Frame::new("x", FrameKind::Jit));
        assert!(jit.g > jit.r && jit.g > jit.b);
        let inlined = frame_colour(&Frame::new("x", FrameKind::Inlined));
        assert!(inlined.g == inlined.b && inlined.g > inlined.r);
        assert_eq!(frame_colour(&Frame::user("a")), frame_colour(&Frame::user("a")));
    }

    #[test]
    fn empty_profile_is_an_error() {
        assert!(matches!(to_svg(&Profile::default(), &SvgOptions::default()), Err(Error::NoSamples)));
    }

    proptest::proptest! {
        #[test]
        fn any_names_render_with_the_right_total(
            stacks in proptest::collection::vec((proptest::collection::vec("\\PC{1,12}", 1..6), 1u64..1000), 1..10)
        ) {
            let mut profile = Profile::default();
            for (names, weight) in &stacks {
                let frames: Vec<Frame> = names.iter().map(Frame::user).collect();
                profile.add_stack(&frames, *weight);
            }
            let svg = String::from_utf8(to_svg(&profile, &SvgOptions::default()).unwrap()).unwrap();
            let total = format!("total_samples=\"{}\"", profile.total());
            proptest::prop_assert!(svg.contains(&total));
            let diff = diff(&profile, &profile, true).unwrap();
            proptest::prop_assert!(!diff.is_empty());
        }
    }

    #[test]
    fn diff_folded_normalises_before_to_after_total() {
        let mut before = Profile::default();
        before.add_stack(&[Frame::user("a")], 10);
        before.add_stack(&[Frame::user("b")], 10);
        let mut after = Profile::default();
        after.add_stack(&[Frame::user("a")], 30);
        after.add_stack(&[Frame::new("c", FrameKind::Jit)], 10);
        assert_eq!(diff_folded(&before, &after, true).unwrap(), "a 20 30\nb 20 0\nc_[j] 0 10\n");
        assert_eq!(diff_folded(&before, &after, false).unwrap(), "a 10 30\nb 10 0\nc_[j] 0 10\n");
    }
}
