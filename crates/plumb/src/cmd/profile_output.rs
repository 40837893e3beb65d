//! Writing a profile in the format the user chose, to a file or standard output; shared by
//! `plumb profile` and `plumb flame`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use plumb_profile::Profile;

/// The formats a profile can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Interactive SVG flame graph (search, zoom).
    Svg,
    /// Interactive SVG icicle graph (roots at the top).
    Icicle,
    /// Folded stacks, one `a;b;c COUNT` line per stack (Brendan Gregg's format).
    Folded,
    /// pprof's profile.proto, gzip-compressed (go tool pprof, Pyroscope, Parca).
    Pprof,
    /// speedscope JSON (https://www.speedscope.app).
    Speedscope,
}

impl OutputFormat {
    /// The format's name.
    pub fn name(self) -> &'static str {
        self.library().name()
    }

    /// The same format in plumb-profile.
    pub fn library(self) -> plumb_profile::OutputFormat {
        match self {
            OutputFormat::Svg => plumb_profile::OutputFormat::Svg,
            OutputFormat::Icicle => plumb_profile::OutputFormat::Icicle,
            OutputFormat::Folded => plumb_profile::OutputFormat::Folded,
            OutputFormat::Pprof => plumb_profile::OutputFormat::Pprof,
            OutputFormat::Speedscope => plumb_profile::OutputFormat::Speedscope,
        }
    }

    /// The file name used when none is given.
    fn default_file(self) -> &'static str {
        match self {
            OutputFormat::Svg => "profile.svg",
            OutputFormat::Icicle => "profile-icicle.svg",
            OutputFormat::Folded => "profile.folded",
            OutputFormat::Pprof => "profile.pb.gz",
            OutputFormat::Speedscope => "profile.speedscope.json",
        }
    }

    /// The format a file name's extension implies.
    fn from_path(path: &Path) -> Option<OutputFormat> {
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
        let format = format.or_else(|| path.and_then(OutputFormat::from_path)).unwrap_or(OutputFormat::Svg);
        let path = match path {
            Some(p) if p == Path::new("-") => None,
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(format.default_file())),
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
    Ok(plumb_profile::render(profile, format.library(), title)?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
