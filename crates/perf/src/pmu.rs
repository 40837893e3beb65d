//! The perf PMUs the kernel exposes under `/sys/bus/event_source/devices`: each PMU's `type`
//! number, its named `events/*` (terms such as `event=0x3c,umask=0x00`) and the `format/*` that
//! says where each term's bits go in `perf_event_attr.config`, `config1` and `config2`.
//!
//! Design decision: the parsers ([`parse_format`], [`parse_event_terms`], [`Pmu::encode`]) are
//! pure functions over the files' text, and discovery takes the root directory as an argument, so
//! tests replay captured trees (an Intel host with `cpu` and a full `msr` PMU, this virtual machine
//! without them) and the "what is missing" answers name the exact path that is absent.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Where the kernel lists its PMUs.
pub const PMU_ROOT: &str = "/sys/bus/event_source/devices";

/// Which word of `perf_event_attr` a format field lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigWord {
    /// `config`.
    Config,
    /// `config1`.
    Config1,
    /// `config2`.
    Config2,
}

impl ConfigWord {
    fn name(self) -> &'static str {
        match self {
            ConfigWord::Config => "config",
            ConfigWord::Config1 => "config1",
            ConfigWord::Config2 => "config2",
        }
    }
}

/// One `format/*` file: the bit ranges of a config word that hold a term's value, lowest value
/// bits first (`config:0-7,32-35` puts value bits 0-7 in config bits 0-7 and value bits 8-11 in
/// config bits 32-35).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatField {
    /// The config word.
    pub word: ConfigWord,
    /// Inclusive bit ranges `(low, high)`, each within 0..=63.
    pub ranges: Vec<(u8, u8)>,
}

impl FormatField {
    /// How many value bits the field holds.
    pub fn width(&self) -> u32 {
        self.ranges.iter().map(|&(lo, hi)| u32::from(hi - lo) + 1).sum()
    }

    /// Places `value` into the field's bits, or says why it does not fit.
    pub fn place(&self, value: u64) -> Result<u64, &'static str> {
        let width = self.width();
        if width < 64 && value >> width != 0 {
            return Err("the value is wider than the format field");
        }
        let mut rest = value;
        let mut out = 0u64;
        for &(lo, hi) in &self.ranges {
            let bits = u32::from(hi - lo) + 1;
            let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
            out |= (rest & mask) << lo;
            rest = if bits >= 64 { 0 } else { rest >> bits };
        }
        Ok(out)
    }
}

/// Parses a `format/*` file such as `config:0-7,32-35\n`, `config1:0-63` or `config:21`.
pub fn parse_format(text: &str) -> Result<FormatField, &'static str> {
    let (word, bits) = text.trim().split_once(':').ok_or("no `config:` prefix")?;
    let word = match word {
        "config" => ConfigWord::Config,
        "config1" => ConfigWord::Config1,
        "config2" => ConfigWord::Config2,
        _ => return Err("not config, config1 or config2"),
    };
    let mut ranges = Vec::new();
    for part in bits.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u8>(), b.trim().parse::<u8>()),
            None => (part.trim().parse::<u8>(), part.trim().parse::<u8>()),
        };
        let (lo, hi) = (lo.map_err(|_| "a bit is not a number")?, hi.map_err(|_| "a bit is not a number")?);
        if lo > hi || hi > 63 {
            return Err("a bit range runs backwards or past bit 63");
        }
        ranges.push((lo, hi));
    }
    Ok(FormatField { word, ranges })
}

/// One term of an event description: `umask=0x01` is `("umask", 1)`, a bare `edge` is
/// `("edge", 1)`.
pub type Term = (String, u64);

/// Parses an `events/*` file such as `event=0x3c,umask=0x00\n` into its terms. A value of `?`
/// (the user must supply it) is refused.
pub fn parse_event_terms(text: &str) -> Result<Vec<Term>, &'static str> {
    let mut terms = Vec::new();
    for part in text.trim().split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => (n.trim(), parse_number(v.trim())?),
            None => (part, 1),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err("a term name is empty or has odd characters");
        }
        terms.push((name.to_owned(), value));
    }
    if terms.is_empty() {
        return Err("no terms");
    }
    Ok(terms)
}

fn parse_number(text: &str) -> Result<u64, &'static str> {
    if text == "?" {
        return Err("the event needs a parameter (`?`) that plumb does not supply");
    }
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed.map_err(|_| "a term value is not a number")
}

/// An event ready for `perf_event_attr`: the PMU's type and the three config words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RawEvent {
    /// `perf_event_attr.type`.
    pub pmu_type: u32,
    /// `perf_event_attr.config`.
    pub config: u64,
    /// `perf_event_attr.config1`.
    pub config1: u64,
    /// `perf_event_attr.config2`.
    pub config2: u64,
}

/// A named event of a PMU, with the attributes of its sibling files.
#[derive(Debug, Clone, PartialEq)]
pub struct PmuEvent {
    /// The contents of `events/NAME`, trimmed.
    pub terms: String,
    /// `events/NAME.scale`: multiply counts by this to get `unit`. None when absent.
    pub scale: Option<f64>,
    /// `events/NAME.unit`, such as `C` or `Joules`. None when absent.
    pub unit: Option<String>,
    /// `events/NAME.snapshot` is 1: the count is a current reading, not a running total.
    pub snapshot: bool,
}

/// One PMU directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Pmu {
    /// The directory name (`cpu`, `msr`, `software`, ...).
    pub name: String,
    /// The directory itself, for messages that name what is missing.
    pub dir: PathBuf,
    /// The `type` number for `perf_event_attr.type`.
    pub pmu_type: u32,
    /// The named events, by name.
    pub events: BTreeMap<String, PmuEvent>,
    /// The format fields, by term name.
    pub formats: BTreeMap<String, FormatField>,
}

impl Pmu {
    /// Reads the PMU `name` under `root` (normally [`PMU_ROOT`]). A missing directory is
    /// [`Error::PmuMissing`]; unreadable or unparsable files are errors naming the file.
    pub fn read(root: &Path, name: &str) -> Result<Pmu, Error> {
        let dir = root.join(name);
        if !dir.is_dir() {
            return Err(Error::PmuMissing { pmu: name.to_owned(), path: dir });
        }
        let type_path = dir.join("type");
        let type_text = read(&type_path)?;
        let pmu_type = type_text
            .trim()
            .parse::<u32>()
            .map_err(|_| Error::PmuParse { path: type_path, reason: "the type is not a number" })?;
        let mut formats = BTreeMap::new();
        for (file, path) in list_dir(&dir.join("format"))? {
            let field = parse_format(&read(&path)?).map_err(|reason| Error::PmuParse { path, reason })?;
            formats.insert(file, field);
        }
        let events_dir = dir.join("events");
        let files = list_dir(&events_dir)?;
        let mut events = BTreeMap::new();
        for (file, path) in &files {
            if file.contains('.') {
                continue; // a sibling attribute (.scale, .unit, .snapshot, .per-pkg)
            }
            let attr = |suffix: &str| -> Result<Option<String>, Error> {
                let p = events_dir.join(format!("{file}.{suffix}"));
                if files.iter().any(|(_, q)| *q == p) { read(&p).map(|t| Some(t.trim().to_owned())) } else { Ok(None) }
            };
            let scale = match attr("scale")? {
                Some(t) => Some(t.parse::<f64>().map_err(|_| Error::PmuParse {
                    path: events_dir.join(format!("{file}.scale")),
                    reason: "the scale is not a number",
                })?),
                None => None,
            };
            let event = PmuEvent {
                terms: read(path)?.trim().to_owned(),
                scale,
                unit: attr("unit")?,
                snapshot: attr("snapshot")?.is_some_and(|t| t == "1"),
            };
            events.insert(file.clone(), event);
        }
        Ok(Pmu { name: name.to_owned(), dir, pmu_type, events, formats })
    }

    /// The event `name`, or [`Error::PmuEventMissing`] naming the file that is absent and the
    /// events that are there.
    pub fn event(&self, name: &str) -> Result<&PmuEvent, Error> {
        self.events.get(name).ok_or_else(|| Error::PmuEventMissing {
            pmu: self.name.clone(),
            event: name.to_owned(),
            path: self.dir.join("events").join(name),
            present: self.events.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// Encodes the named event into `perf_event_attr` words through the PMU's formats.
    pub fn encode(&self, name: &str) -> Result<RawEvent, Error> {
        let event = self.event(name)?;
        let path = self.dir.join("events").join(name);
        let terms = parse_event_terms(&event.terms).map_err(|reason| Error::PmuParse { path: path.clone(), reason })?;
        self.encode_terms(&terms).map_err(|reason| Error::PmuParse { path, reason })
    }

    /// Encodes terms (from an events file or typed by a user) through the PMU's formats.
    pub fn encode_terms(&self, terms: &[Term]) -> Result<RawEvent, &'static str> {
        let mut raw = RawEvent { pmu_type: self.pmu_type, ..RawEvent::default() };
        for (name, value) in terms {
            let field = self.formats.get(name).ok_or("a term has no format file in this PMU")?;
            let bits = field.place(*value)?;
            match field.word {
                ConfigWord::Config => raw.config |= bits,
                ConfigWord::Config1 => raw.config1 |= bits,
                ConfigWord::Config2 => raw.config2 |= bits,
            }
        }
        Ok(raw)
    }
}

/// The names of every PMU under `root`, sorted. A missing root is [`Error::PmuMissing`] with
/// the pmu name `*`.
pub fn pmu_names(root: &Path) -> Result<Vec<String>, Error> {
    if !root.is_dir() {
        return Err(Error::PmuMissing { pmu: "*".to_owned(), path: root.to_owned() });
    }
    Ok(list_dir(root)?.into_iter().map(|(name, _)| name).collect())
}

impl fmt::Display for FormatField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.word.name())?;
        for (i, (lo, hi)) in self.ranges.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            if lo == hi { write!(f, "{sep}{lo}")? } else { write!(f, "{sep}{lo}-{hi}")? }
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })
}

/// The entries of a directory as (file name, path), sorted; a missing directory is empty.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path: dir.to_owned(), source }),
    };
    let mut out: Vec<(String, PathBuf)> =
        entries.filter_map(|e| e.ok()).filter_map(|e| Some((e.file_name().into_string().ok()?, e.path()))).collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn test_root(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/pmu").join(name)
    }

    #[test]
    fn parses_formats() {
        assert_eq!(
            parse_format("config:0-7\n").unwrap(),
            FormatField { word: ConfigWord::Config, ranges: vec![(0, 7)] }
        );
        assert_eq!(
            parse_format("config:0-7,32-35").unwrap(),
            FormatField { word: ConfigWord::Config, ranges: vec![(0, 7), (32, 35)] }
        );
        assert_eq!(parse_format("config1:0-63").unwrap().width(), 64);
        assert_eq!(parse_format("config:21").unwrap().ranges, vec![(21, 21)]);
        for bad in ["", "config", "config3:0-1", "config:7-0", "config:0-64", "config:x"] {
            assert!(parse_format(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_terms() {
        let terms = parse_event_terms("event=0x3c,umask=0x00\n").unwrap();
        assert_eq!(terms, vec![("event".to_owned(), 0x3c), ("umask".to_owned(), 0)]);
        assert_eq!(parse_event_terms("event=0xc0,edge").unwrap()[1], ("edge".to_owned(), 1));
        assert_eq!(parse_event_terms("event=5").unwrap()[0].1, 5);
        for bad in ["", "event=zz", "ldlat=?", "=3", "ev ent=1"] {
            assert!(parse_event_terms(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn places_split_fields() {
        // AMD's event select: 12 bits, low 8 in config 0-7, high 4 in config 32-35.
        let f = parse_format("config:0-7,32-35").unwrap();
        assert_eq!(f.place(0x1c2).unwrap(), 0x1_0000_00c2);
        assert!(f.place(0x1000).is_err());
        assert_eq!(parse_format("config:0-63").unwrap().place(u64::MAX).unwrap(), u64::MAX);
    }

    #[test]
    fn reads_an_intel_host_tree() {
        let root = test_root("intel");
        assert_eq!(pmu_names(&root).unwrap(), vec!["cpu", "msr", "software"]);
        let cpu = Pmu::read(&root, "cpu").unwrap();
        assert_eq!(cpu.pmu_type, 4);
        // cpu-cycles is event=0x3c; instructions is event=0xc0; umask goes to bits 8-15.
        assert_eq!(cpu.encode("cpu-cycles").unwrap(), RawEvent { pmu_type: 4, config: 0x3c, ..RawEvent::default() });
        assert_eq!(cpu.encode("mem-stores").unwrap().config, 0x82d0);
        let msr = Pmu::read(&root, "msr").unwrap();
        assert_eq!(msr.pmu_type, 9);
        assert_eq!(msr.encode("aperf").unwrap().config, 1);
        assert_eq!(msr.encode("mperf").unwrap().config, 2);
        let margin = msr.event("cpu_thermal_margin").unwrap();
        assert!(margin.snapshot);
        assert_eq!(margin.unit.as_deref(), Some("C"));
        assert_eq!(msr.encode("cpu_thermal_margin").unwrap().config, 7);
    }

    #[test]
    fn names_what_is_missing_on_a_virtual_machine() {
        let root = test_root("firecracker");
        let err = Pmu::read(&root, "cpu").unwrap_err();
        assert!(matches!(&err, Error::PmuMissing { path, .. } if *path == root.join("cpu")), "{err}");
        let msr = Pmu::read(&root, "msr").unwrap();
        let err = msr.encode("aperf").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&root.join("msr/events/aperf").display().to_string()), "{text}");
        assert!(text.contains("present: tsc"), "{text}");
        assert!(matches!(pmu_names(&root.join("nope")), Err(Error::PmuMissing { .. })));
    }

    proptest! {
        #[test]
        fn format_round_trips_through_display(ranges in proptest::collection::vec((0u8..64, 0u8..64), 1..4)) {
            let ranges: Vec<(u8, u8)> = ranges.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
            let field = FormatField { word: ConfigWord::Config1, ranges };
            prop_assert_eq!(parse_format(&field.to_string()).unwrap(), field);
        }

        #[test]
        fn placed_bits_stay_inside_the_field(lo in 0u8..56, len in 1u8..8, value: u64) {
            let field = FormatField { word: ConfigWord::Config, ranges: vec![(lo, lo + len - 1)] };
            let mask = ((1u64 << len) - 1) << lo;
            match field.place(value) {
                Ok(bits) => { prop_assert_eq!(bits & !mask, 0); prop_assert_eq!(bits >> lo, value); }
                Err(_) => prop_assert!(value >> len != 0),
            }
        }

        #[test]
        fn parsers_never_panic(text in "[a-z0-9=,:x?\\- \n]{0,40}") {
            let _ = parse_format(&text);
            let _ = parse_event_terms(&text);
        }
    }
}
