//! Writing a profile in the format the user chose, to a file or standard output; shared by
//! `plumb profile` and `plumb flame`.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use plumb_profile::Profile;

pub use plumb_profile::OutputFormat;

/// `--format`'s parser: plumb-profile's formats by name, each with its line in `--help`.
#[derive(Debug, Clone, Copy)]
pub struct FormatArg;

impl FormatArg {
    fn possible_values() -> impl Iterator<Item = PossibleValue> {
        OutputFormat::ALL.into_iter().map(|f| {
            PossibleValue::new(f.name()).help(match f {
                OutputFormat::Svg => "Interactive SVG flame graph (search, zoom)",
                OutputFormat::Icicle => "Interactive SVG icicle graph (roots at the top)",
                OutputFormat::Folded => "Folded stacks, one `a;b;c COUNT` line per stack (Brendan Gregg's format)",
                OutputFormat::Pprof => "pprof's profile.proto, gzip-compressed (go tool pprof, Pyroscope, Parca)",
                OutputFormat::Speedscope => "speedscope JSON (https://www.speedscope.app)",
            })
        })
    }
}

impl TypedValueParser for FormatArg {
    type Value = OutputFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<OutputFormat, clap::Error> {
        // clap's own check of the name, for its usual error listing the possible values.
        let name = PossibleValuesParser::new(FormatArg::possible_values()).parse_ref(cmd, arg, value)?;
        OutputFormat::from_name(&name).ok_or_else(|| clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(FormatArg::possible_values()))
    }
}

/// The file name used when none is given.
fn default_file(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Svg => "profile.svg",
        OutputFormat::Icicle => "profile-icicle.svg",
        OutputFormat::Folded => "profile.folded",
        OutputFormat::Pprof => "profile.pb.gz",
        OutputFormat::Speedscope => "profile.speedscope.json",
    }
}

/// The format a file name's extension implies.
fn format_of_path(path: &Path) -> Option<OutputFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".svg") {
        Some(OutputFormat::Svg)
    } else if name.ends_with(".folded") || name.ends_with(".txt") || name.ends_with(".collapsed") {
        Some(OutputFormat::Folded)
    } else if name.ends_with(".pb.gz") || name.ends_with(".pprof") || name.ends_with(".pb") {
        Some(OutputFormat::Pprof)
    } else if name.ends_with(".json") {
        Some(OutputFormat::Speedscope)
    } else {
        None
    }
}

/// Where and how the profile goes.
#[derive(Debug, Clone)]
pub struct Output {
    /// The file; `None` is standard output.
    pub path: Option<PathBuf>,
    /// The format.
    pub format: OutputFormat,
}

impl Output {
    /// The output for `-o` and `--format`: the format from the flag, else the file's extension,
    /// else SVG; the file from the flag (`-` is standard output), else the format's default name.
    pub fn choose(path: Option<&Path>, format: Option<OutputFormat>) -> anyhow::Result<Output> {
        let format = format.or_else(|| path.and_then(format_of_path)).unwrap_or(OutputFormat::Svg);
        let path = match path {
            Some(p) if p == Path::new("-") => None,
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(default_file(format))),
        };
        if let Some(dir) = path.as_deref().and_then(Path::parent).filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            anyhow::bail!("cannot write to {}: no such directory", dir.display());
        }
        Ok(Output { path, format })
    }

    /// Whether the profile goes to standard output.
    pub fn is_stdout(&self) -> bool {
        self.path.is_none()
    }

    /// The file name, or "standard output".
    pub fn describe(&self) -> String {
        self.path.as_ref().map_or_else(|| "standard output".to_string(), |p| p.display().to_string())
    }
}

/// Writes `profile` as `output` says; `title` replaces the flame graph's default title.
pub fn write_profile(profile: &Profile, output: &Output, title: Option<&str>) -> anyhow::Result<()> {
    let bytes = render(profile, output.format, title)?;
    match &output.path {
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// The bytes of `profile` in `format`.
pub fn render(profile: &Profile, format: OutputFormat, title: Option<&str>) -> anyhow::Result<Vec<u8>> {
    Ok(plumb_profile::render(profile, format, title)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_flag_takes_every_library_format_by_name_and_nothing_else() {
        let cmd = clap::Command::new("t").arg(clap::Arg::new("format").long("format").value_parser(FormatArg));
        for format in OutputFormat::ALL {
            let matches = cmd.clone().try_get_matches_from(["t", "--format", format.name()]).unwrap();
            assert_eq!(matches.get_one::<OutputFormat>("format"), Some(&format));
        }
        let e = cmd.try_get_matches_from(["t", "--format", "png"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidValue);
    }

    #[test]
    fn formats_follow_flags_then_extensions() {
        let o = Output::choose(None, None).unwrap();
        assert_eq!((o.path.unwrap(), o.format), (PathBuf::from("profile.svg"), OutputFormat::Svg));
        let o = Output::choose(Some(Path::new("x.pb.gz")), None).unwrap();
        assert_eq!(o.format, OutputFormat::Pprof);
        let o = Output::choose(Some(Path::new("x.folded")), None).unwrap();
        assert_eq!(o.format, OutputFormat::Folded);
        let o = Output::choose(Some(Path::new("-")), Some(OutputFormat::Folded)).unwrap();
        assert!(o.is_stdout());
        let o = Output::choose(None, Some(OutputFormat::Speedscope)).unwrap();
        assert_eq!(o.path.unwrap(), PathBuf::from("profile.speedscope.json"));
        assert!(Output::choose(Some(Path::new("/no/such/dir/x.svg")), None).is_err());
    }
}
