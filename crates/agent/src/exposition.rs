//! The Prometheus text exposition format, version 0.0.4: what `GET /metrics` returns.
//!
//! A plumb metric `cpu.user` becomes the family `cpu_user` (every character outside
//! `[a-zA-Z0-9_]` becomes `_`), its per-series tags become labels (keys sanitised the same way),
//! and the common tags (`nf.app` becomes `nf_app`, ...) are added to every series. Each family is
//! written once, its samples together, after one `# HELP` and one `# TYPE` line. No timestamps:
//! Prometheus stamps the scrape.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use plumb_model::{CommonTags, MetricDef, Snapshot};

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family's type, as written after `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// The exposition name and escaped help text of each plumb metric, built once from the
/// catalogue so a cycle neither sanitises nor formats them again.
#[derive(Debug, Clone, Default)]
pub struct HelpIndex(HashMap<&'static str, FamilyText>);

/// What a family's lines need: its Prometheus name and its escaped `# HELP` text.
#[derive(Debug, Clone)]
pub struct FamilyText {
    pub name: String,
    pub help: String,
}

impl HelpIndex {
    /// The index of every metric in `groups`; the help is the declaration's sentence and unit.
    pub fn new(groups: &[(&str, &'static [MetricDef])]) -> Self {
        let mut m = HashMap::new();
        for (_, defs) in groups {
            for d in *defs {
                m.entry(d.name).or_insert_with(|| FamilyText {
                    name: sanitize(d.name).into_owned(),
                    help: escape_help(&format!("{} Unit: {}.", d.help, d.unit.as_str())).into_owned(),
                });
            }
        }
        HelpIndex(m)
    }

    /// The help of `name`, or a stand-in naming it.
    pub fn get(&self, name: &str) -> Cow<'_, str> {
        match self.0.get(name) {
            Some(f) => Cow::Borrowed(&f.help),
            None => Cow::Owned(format!("plumb metric {name}.")),
        }
    }

    /// The prepared text of `name`, or one made now for a metric the catalogue lacks.
    fn family(&self, name: &str) -> Cow<'_, FamilyText> {
        match self.0.get(name) {
            Some(f) => Cow::Borrowed(f),
            None => Cow::Owned(FamilyText {
                name: sanitize(name).into_owned(),
                help: escape_help(&format!("plumb metric {name}.")).into_owned(),
            }),
        }
    }
}

/// Writes families and samples into one exposition body.
pub struct Encoder {
    out: String,
    /// The common tags as (label name, escaped value).
    common: Vec<(String, String)>,
}

impl Encoder {
    /// An empty body whose samples all carry `common` as labels.
    pub fn new(common: &CommonTags) -> Self {
        let common =
            common.iter().map(|(k, v)| (sanitize(k).into_owned(), escape_label_value(v).into_owned())).collect();
        Encoder { out: String::with_capacity(64 * 1024), common }
    }

    /// Starts the family `name` (sanitised here): its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        self.family_lines(&sanitize(name), kind, &escape_help(help));
    }

    fn family_lines(&mut self, name: &str, kind: Kind, escaped_help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {escaped_help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample line of the family `name` with `labels` and then the common labels (a common
    /// label whose name a series label already uses is left out).
    pub fn sample<'a>(&mut self, name: &str, labels: impl IntoIterator<Item = (&'a str, &'a str)> + Clone, value: f64) {
        self.sample_line(&sanitize(name), labels, value);
    }

    /// [`Encoder::sample`] for a name already sanitised.
    fn sample_line<'a>(
        &mut self,
        name: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
        value: f64,
    ) {
        self.out.push_str(name);
        let mut first = true;
        let mut sep = |out: &mut String| {
            out.push(if first { '{' } else { ',' });
            first = false;
        };
        for (k, v) in labels.clone() {
            sep(&mut self.out);
            let _ = write!(self.out, "{}=\"{}\"", sanitize(k), escape_label_value(v));
        }
        for (k, v) in &self.common {
            if labels.clone().into_iter().any(|(lk, _)| sanitize(lk) == k.as_str()) {
                continue;
            }
            sep(&mut self.out);
            let _ = write!(self.out, "{k}=\"{v}\"");
        }
        if !first {
            self.out.push('}');
        }
        self.out.push(' ');
        push_value(&mut self.out, value);
        self.out.push('\n');
    }

    /// Every sample of `snap`, grouped into families in order of first appearance.
    pub fn snapshot(&mut self, snap: &Snapshot, help: &HelpIndex) {
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        let mut families: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for (i, s) in snap.samples.iter().enumerate() {
            let slot = *index.entry(s.name).or_insert_with(|| {
                families.push((s.name, Vec::new()));
                families.len() - 1
            });
            families[slot].1.push(i);
        }
        for (name, members) in families {
            let text = help.family(name);
            self.family_lines(&text.name, Kind::Gauge, &text.help);
            for i in members {
                let s = &snap.samples[i];
                self.sample_line(&text.name, s.tags.iter().map(|(k, v)| (*k, v.as_str())), s.value);
            }
        }
    }

    /// The body.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A metric or label name with every character outside `[a-zA-Z0-9_]` made `_`, and `_` put
/// before a leading digit.
pub fn sanitize(name: &str) -> Cow<'_, str> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let leading_digit = name.starts_with(|c: char| c.is_ascii_digit());
    if !name.is_empty() && !leading_digit && name.chars().all(ok) {
        return Cow::Borrowed(name);
    }
    let mut s = String::with_capacity(name.len() + 1);
    if leading_digit || name.is_empty() {
        s.push('_');
    }
    s.extend(name.chars().map(|c| if ok(c) { c } else { '_' }));
    Cow::Owned(s)
}

/// A label value with `\`, `"` and newline escaped.
pub fn escape_label_value(v: &str) -> Cow<'_, str> {
    escape(v, true)
}

/// A help text with `\` and newline escaped.
pub fn escape_help(v: &str) -> Cow<'_, str> {
    escape(v, false)
}

fn escape(v: &str, quote: bool) -> Cow<'_, str> {
    if !(v.contains(['\\', '\n']) || quote && v.contains('"')) {
        return Cow::Borrowed(v);
    }
    let mut s = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '"' if quote => s.push_str("\\\""),
            c => s.push(c),
        }
    }
    Cow::Owned(s)
}

/// A value as Go's `ParseFloat` reads it: `NaN`, `+Inf`, `-Inf` or a decimal.
fn push_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use plumb_model::{Sample, Unit};

    use super::*;

    /// (family, labels, value) per sample.
    pub(crate) type Parsed = Vec<(String, Vec<(String, String)>, f64)>;

    /// Checks `body` line by line against the format; returns (family, labels, value) per sample.
    pub(crate) fn parse(body: &str) -> Parsed {
        let mut out = Vec::new();
        let mut typed: Vec<String> = Vec::new();
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE has name and kind");
                assert!(["gauge", "counter"].contains(&kind), "{line}");
                assert!(!typed.contains(&name.to_string()), "family {name} typed twice");
                typed.push(name.to_string());
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {line:?}")),
            };
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, parse_labels(l.strip_suffix('}').expect("labels close"))),
                None => (series, Vec::new()),
            };
            assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            assert_eq!(typed.last().map(String::as_str), Some(name), "sample {name} outside its family");
            out.push((name.to_string(), labels, value));
        }
        out
    }

    fn parse_labels(s: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while chars.peek().is_some() {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "label {key}");
            assert_eq!(chars.next(), Some('"'));
            let mut v = String::new();
            loop {
                match chars.next().expect("value closes") {
                    '\\' => match chars.next() {
                        Some('n') => v.push('\n'),
                        Some(c @ ('\\' | '"')) => v.push(c),
                        c => panic!("bad escape {c:?}"),
                    },
                    '"' => break,
                    c => v.push(c),
                }
            }
            assert!(!out.iter().any(|(k, _): &(String, String)| *k == key), "label {key} twice");
            out.push((key, v));
            if chars.peek() == Some(&',') {
                chars.next();
            }
        }
        out
    }

    /// Families are grouped by plumb name, so no two plumb names may share an exposition name.
    #[test]
    fn catalogue_names_stay_distinct_once_sanitised() {
        let mut seen = std::collections::HashSet::new();
        for (_, defs) in plumb_collect::source::catalogue() {
            for d in defs {
                assert!(seen.insert(sanitize(d.name).into_owned()), "{} collides once sanitised", d.name);
            }
        }
    }

    #[test]
    fn names_and_escapes() {
        assert_eq!(sanitize("cpu.user"), "cpu_user");
        assert_eq!(sanitize("nf.app"), "nf_app");
        assert_eq!(sanitize("9lives-x:y"), "_9lives_x_y");
        assert!(matches!(sanitize("ok_name"), Cow::Borrowed(_)));
        assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(escape_help("say \"x\"\\\n"), "say \"x\"\\\\\\n");
    }

    const DEFS: &[MetricDef] = &[
        MetricDef {
            name: "cpu.user",
            unit: Unit::Percent,
            tags: &[],
            source: "/proc/stat",
            help: "User time (mpstat %usr).",
        },
        MetricDef { name: "percpu.user", unit: Unit::Percent, tags: &["cpu"], source: "/proc/stat", help: "Per CPU." },
    ];

    #[test]
    fn families_grouped_with_common_labels() {
        let mut common = CommonTags::new();
        common.insert("nf.app", "web").unwrap();
        common.insert("nf.node", "i-1").unwrap();
        let snap = Snapshot {
            timestamp_ms: 0,
            interval_secs: Some(1.0),
            samples: vec![
                Sample::tagged("percpu.user", "cpu", "0", 1.5),
                Sample::new("cpu.user", 2.0),
                Sample::tagged("percpu.user", "cpu", "1", 0.25),
                Sample::tagged("proc.cpu", "comm", "we\"ird\\name\n", 3.0),
                Sample::tagged("proc.cpu", "nf.app", "override", 4.0),
            ],
        };
        let mut enc = Encoder::new(&common);
        enc.snapshot(&snap, &HelpIndex::new(&[("cpu", DEFS)]));
        let body = enc.finish();
        let parsed = parse(&body);
        let names: Vec<&str> = parsed.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["percpu_user", "percpu_user", "cpu_user", "proc_cpu", "proc_cpu"]);
        assert_eq!(
            parsed[1].1,
            [("cpu", "1"), ("nf_app", "web"), ("nf_node", "i-1")].map(|(a, b)| (a.into(), b.into()))
        );
        assert_eq!(parsed[1].2, 0.25);
        assert_eq!(parsed[3].1[0].1, "we\"ird\\name\n", "escaped value parses back");
        assert_eq!(parsed[4].1, [("nf_app", "override"), ("nf_node", "i-1")].map(|(a, b)| (a.into(), b.into())));
        assert!(body.contains("# HELP cpu_user User time (mpstat %usr). Unit: percent.\n# TYPE cpu_user gauge\n"));
        assert!(body.contains("# HELP proc_cpu plumb metric proc.cpu.\n"));
        assert_eq!(body.matches("# TYPE percpu_user gauge").count(), 1);
    }

    #[test]
    fn special_values_and_no_labels() {
        let mut enc = Encoder::new(&CommonTags::new());
        enc.family("x", Kind::Counter, "h");
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e21, -0.5] {
            enc.sample("x", [], v);
        }
        let body = enc.finish();
        assert!(body.contains("x NaN\nx +Inf\nx -Inf\n"), "{body}");
        let parsed = parse(&body);
        assert_eq!(parsed[3].2, 1e21);
        assert_eq!(parsed[4].2, -0.5);
    }
}
