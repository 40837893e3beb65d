//! Data-driven tests over `test_data/`: each input file beside its expected output.
//!
//! - `collapse/NAME.perf-script` -> `NAME.folded`: `perf script` text folded through inferno.
//! - `render/NAME.folded` -> `NAME.flame.txt`, `NAME.icicle.txt`: the structure of the SVG (title,
//!   subtitle, every frame's label, depth and extent in samples), not its bytes.
//! - `diff/NAME.before.folded` + `NAME.after.folded` -> `NAME.diff.txt`: the normalised
//!   differential folded stacks and the SVG's structure including each frame's fill (red grew,
//!   blue shrank).
//! - `speedscope/NAME.folded` -> `NAME.speedscope.json` (the exporter's version left out).
//!
//! A missing expected file fails; `PLUMB_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use plumb_profile::collapse::{CollapseOptions, collapse_perf_script};
use plumb_profile::folded::parse_folded;
use plumb_profile::svg::{Layout, SvgOptions, diff_folded, to_svg};
use plumb_profile::{Profile, Sampling, speedscope};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

/// Input files of a directory ending in `suffix`, sorted.
fn inputs(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().ends_with(suffix))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no *{suffix} in {}", dir.display());
    paths
}

/// `path` with `suffix` replaced by `replacement`.
fn sibling(path: &Path, suffix: &str, replacement: &str) -> PathBuf {
    let name = path.file_name().unwrap().to_str().unwrap();
    path.with_file_name(format!("{}{replacement}", name.strip_suffix(suffix).unwrap()))
}

/// Compares with (or, blessing, writes) the expected file; collects failures.
fn check(expected_path: &Path, got: &str, failures: &mut Vec<String>) {
    if std::env::var("PLUMB_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(expected_path, got).unwrap();
        return;
    }
    match std::fs::read_to_string(expected_path) {
        Ok(expected) if expected == got => {}
        Ok(expected) => failures.push(format!("{}: expected\n{expected}\ngot\n{got}", expected_path.display())),
        Err(_) => failures.push(format!("{}: missing (PLUMB_BLESS=1 writes it); got\n{got}", expected_path.display())),
    }
}

fn read_profile(path: &Path) -> Profile {
    let read = parse_folded(&std::fs::read(path).unwrap());
    assert!(read.bad_lines.is_empty(), "{}: {:?}", path.display(), read.bad_lines);
    read.profile
}

/// The text of the first `<text id="ID" ...>...</text>`.
fn text_element<'a>(svg: &'a str, id: &str) -> Option<&'a str> {
    let start = svg.find(&format!("<text id=\"{id}\""))?;
    let rest = &svg[start..];
    let open_end = rest.find('>')? + 1;
    let close = rest.find("</text>")?;
    Some(&rest[open_end..close])
}

/// The value of `name="..."` in a tag.
fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    let start = tag.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {tag}")) + name.len() + 3;
    let len = tag[start..].find('"').unwrap();
    &tag[start..start + len]
}

/// The SVG's structure: title, subtitle, frame count, and one line per frame (depth from the
/// top of the image, first sample, width in samples, label), sorted by depth then position.
fn structure(svg: &str, with_fill: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!("title: {}\n", text_element(svg, "title").unwrap_or("-")));
    out.push_str(&format!("subtitle: {}\n", text_element(svg, "subtitle").unwrap_or("-")));
    let mut frames = Vec::new();
    for group in svg.split("<g><title>").skip(1) {
        let title_end = group.find("</title>").unwrap();
        let label = &group[..title_end];
        let rect = &group[group.find("<rect").unwrap()..];
        let rect = &rect[..rect.find("/>").unwrap()];
        let y: u32 = attribute(rect, "y").parse().unwrap();
        let x: u64 = attribute(rect, "fg:x").parse().unwrap();
        let w: u64 = attribute(rect, "fg:w").parse().unwrap();
        let fill = if with_fill { format!(" {}", attribute(rect, "fill")) } else { String::new() };
        frames.push((y, x, format!("y={y} x={x} w={w}{fill} {label}")));
    }
    frames.sort();
    out.push_str(&format!("frames: {}\n", frames.len()));
    for (_, _, line) in frames {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn collapse_perf_script_to_folded() {
    let mut failures = Vec::new();
    for input in inputs(&dir("collapse"), ".perf-script") {
        let mut folded = Vec::new();
        collapse_perf_script(std::fs::read(&input).unwrap().as_slice(), &CollapseOptions::default(), &mut folded)
            .unwrap();
        check(&sibling(&input, ".perf-script", ".folded"), &String::from_utf8(folded).unwrap(), &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn render_flame_and_icicle() {
    let mut failures = Vec::new();
    for input in inputs(&dir("render"), ".folded") {
        let mut profile = read_profile(&input);
        profile.meta.event = Some("cpu-clock".into());
        profile.meta.host = Some("testhost".into());
        profile.meta.duration = Some(Duration::from_secs(10));
        profile.meta.sampling = Some(Sampling::FrequencyHz(99));
        profile.meta.lost_samples = 2;
        profile.meta.command_line = Some("./burn --seconds 10".into());
        for (layout, suffix) in [(Layout::Flame, ".flame.txt"), (Layout::Icicle, ".icicle.txt")] {
            let svg = to_svg(&profile, &SvgOptions { layout, ..SvgOptions::default() }).unwrap();
            let svg = String::from_utf8(svg).unwrap();
            assert!(svg.contains("function search("), "{}: search script missing", input.display());
            check(&sibling(&input, ".folded", suffix), &structure(&svg, false), &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn differential_flame_graphs() {
    let mut failures = Vec::new();
    for before_path in inputs(&dir("diff"), ".before.folded") {
        let before = read_profile(&before_path);
        let after = read_profile(&sibling(&before_path, ".before.folded", ".after.folded"));
        let svg = String::from_utf8(plumb_profile::svg::diff(&before, &after, true).unwrap()).unwrap();
        let got = format!("{}---\n{}", diff_folded(&before, &after, true).unwrap(), structure(&svg, true));
        check(&sibling(&before_path, ".before.folded", ".diff.txt"), &got, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn speedscope_json() {
    let mut failures = Vec::new();
    for input in inputs(&dir("speedscope"), ".folded") {
        let mut profile = read_profile(&input);
        profile.meta.event = Some("cpu-clock".into());
        let mut json: serde_json::Value =
            serde_json::from_slice(&speedscope::to_speedscope(&profile).unwrap()).unwrap();
        json.as_object_mut().unwrap().remove("exporter");
        let got = serde_json::to_string_pretty(&json).unwrap() + "\n";
        check(&sibling(&input, ".folded", ".speedscope.json"), &got, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
