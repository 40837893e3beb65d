//! The printf-style formatter behind `:format`, with Atlas's bounds: `%[index$][flags][width]
//! [.precision]type` where type is `s`, `d`, `u`, `x`, `X` or `f`, width is 1..=256 and
//! precision at most 256 for strings and 32 for floats.
//!
//! Design decision: this follows Atlas's own bounded `StringFormatter`, not Java's full
//! `Formatter`, because the pattern comes from the user; arguments that are not strings (lists,
//! queries) format as their stack-language text.

use crate::error::Reason;
use crate::item::{Item, render_capped};
use crate::limits::Limit;

const MAX_WIDTH: usize = 256;
const MAX_STRING_PRECISION: usize = 256;
const MAX_FLOAT_PRECISION: usize = 32;

/// One conversion: flags, width, precision and type.
#[derive(Debug, Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
    kind: char,
}

/// Formats `pattern` with `args`; the result may be at most `max_bytes` long.
pub(crate) fn format(pattern: &str, args: &[Item], max_bytes: usize) -> Result<String, Reason> {
    let invalid = |msg: String| Reason::InvalidFormat(msg);
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.char_indices().peekable();
    let mut next_auto = 0usize;
    while let Some((at, c)) = chars.next() {
        if c != '%' {
            out.push(c);
        } else if chars.peek().is_some_and(|&(_, n)| n == '%') {
            chars.next();
            out.push('%');
        } else {
            let rest = pattern.get(at + 1..).unwrap_or("");
            let (spec, explicit, used) = parse_spec(rest).map_err(invalid)?;
            for _ in 0..rest.get(..used).map_or(0, |s| s.chars().count()) {
                chars.next();
            }
            let index = match explicit {
                Some(index) => {
                    next_auto = next_auto.max(index + 1);
                    index
                }
                None => {
                    next_auto += 1;
                    next_auto - 1
                }
            };
            let arg = args
                .get(index)
                .ok_or_else(|| invalid(format!("missing argument {} for the conversion at {at}", index + 1)))?;
            out.push_str(&format_value(&spec, arg, max_bytes).map_err(invalid)?);
        }
        if out.len() > max_bytes {
            return Err(Reason::LimitExceeded(Limit::StringBytes(max_bytes)));
        }
    }
    Ok(out)
}

/// Reads digits at the start of `text`: their value (None if absent) and length.
fn digits(text: &str) -> (Option<usize>, usize) {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    let value = text.get(..len).filter(|d| !d.is_empty()).map(|d| d.parse::<usize>().unwrap_or(usize::MAX));
    (value, len)
}

/// Parses a conversion after its `%`: the spec, an explicit 0-based argument index, and the
/// number of bytes read.
fn parse_spec(text: &str) -> Result<(Spec, Option<usize>, usize), String> {
    let mut pos = 0;
    let mut explicit = None;
    let (index, len) = digits(text);
    if let Some(index) = index
        && text.get(len..).is_some_and(|r| r.starts_with('$'))
    {
        explicit = Some(index.checked_sub(1).ok_or("argument index must start at 1")?);
        pos = len + 1;
    }
    let mut spec = Spec::default();
    while let Some(flag) = text.get(pos..).and_then(|r| r.chars().next()) {
        match flag {
            '-' => spec.left = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '0' => spec.zero = true,
            _ => break,
        }
        pos += 1;
    }
    let (width, len) = digits(text.get(pos..).unwrap_or(""));
    pos += len;
    if let Some(w) = width {
        if !(1..=MAX_WIDTH).contains(&w) {
            return Err(format!("width must be between 1 and {MAX_WIDTH}"));
        }
        spec.width = Some(w);
    }
    if text.get(pos..).is_some_and(|r| r.starts_with('.')) {
        let (precision, len) = digits(text.get(pos + 1..).unwrap_or(""));
        spec.precision = Some(precision.ok_or("missing precision after '.'")?);
        pos += 1 + len;
    }
    spec.kind = text.get(pos..).and_then(|r| r.chars().next()).ok_or("missing conversion type")?;
    pos += spec.kind.len_utf8();
    if !matches!(spec.kind, 's' | 'd' | 'u' | 'x' | 'X' | 'f') {
        return Err(format!("invalid conversion type {:?}", spec.kind));
    }
    if let Some(p) = spec.precision {
        let max = match spec.kind {
            's' => MAX_STRING_PRECISION,
            'f' => MAX_FLOAT_PRECISION,
            other => return Err(format!("precision not allowed for type {other}")),
        };
        if p > max {
            return Err(format!("precision must be at most {max} for type {}", spec.kind));
        }
    }
    if spec.kind == 's' && (spec.zero || spec.plus || spec.space) {
        return Err("zero padding and sign flags are only for numbers".into());
    }
    Ok((spec, explicit, pos))
}

fn format_value(spec: &Spec, arg: &Item, max_bytes: usize) -> Result<String, String> {
    let text = match arg.as_text() {
        Some(text) => text.into_owned(),
        None => render_capped(std::slice::from_ref(arg), max_bytes),
    };
    let sign = |negative: bool| match (negative, spec.plus, spec.space) {
        (true, _, _) => "-",
        (false, true, _) => "+",
        (false, false, true) => " ",
        _ => "",
    };
    let (sign, digits) = match spec.kind {
        's' => {
            let cut = spec.precision.map_or(text.len(), |p| text.char_indices().nth(p).map_or(text.len(), |(i, _)| i));
            return Ok(pad(spec, "", text.get(..cut).unwrap_or(&text)));
        }
        'f' => {
            let v: f64 = text.trim().parse().map_err(|_| format!("cannot format {text:?} as a float"))?;
            let precision = spec.precision.unwrap_or(6);
            (sign(v.is_sign_negative() && v != 0.0), format!("{:.precision$}", v.abs()))
        }
        kind => {
            let v: i64 = text.trim().parse().map_err(|_| format!("cannot format {text:?} as an integer"))?;
            match kind {
                'd' => (sign(v < 0), v.unsigned_abs().to_string()),
                'u' => ("", (v as u64).to_string()),
                'x' => ("", format!("{:x}", v as u64)),
                _ => ("", format!("{:X}", v as u64)),
            }
        }
    };
    Ok(pad(spec, sign, &digits))
}

/// Applies width: left aligned with spaces, zero padded after the sign, or right aligned.
fn pad(spec: &Spec, sign: &str, digits: &str) -> String {
    let len = sign.len() + digits.chars().count();
    let fill = spec.width.map_or(0, |w| w.saturating_sub(len));
    if spec.left {
        format!("{sign}{digits}{}", " ".repeat(fill))
    } else if spec.zero {
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{sign}{digits}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pattern: &str, args: &[&str]) -> Result<String, String> {
        let args: Vec<Item> = args.iter().map(|a| Item::Str(a.to_string())).collect();
        format(pattern, &args, 1000).map_err(|e| e.to_string())
    }

    #[test]
    fn formats_like_atlas_string_formatter() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("hello %s", &["world"], "hello world"),
            ("100%% done", &[], "100% done"),
            ("%d", &["-42"], "-42"),
            ("%u", &["-1"], "18446744073709551615"),
            ("%x", &["255"], "ff"),
            ("%X", &["255"], "FF"),
            ("%f", &["3.14159"], "3.141590"),
            ("%.2f", &["3.14159"], "3.14"),
            ("%.0f", &["3.14159"], "3"),
            ("%5s", &["hi"], "   hi"),
            ("%-5d", &["42"], "42   "),
            ("%05d", &["-42"], "-0042"),
            ("%+05d", &["42"], "+0042"),
            ("%-05d", &["42"], "42   "),
            ("%8.3s", &["hello"], "     hel"),
            ("% d", &["42"], " 42"),
            ("%2$s %1$s", &["world", "hello"], "hello world"),
            ("%s %2$s %s", &["a", "b", "c"], "a b c"),
            ("0x%08X", &["3735928559"], "0xDEADBEEF"),
            ("é%sü", &["x"], "éxü"),
        ];
        for (pattern, args, expected) in cases {
            assert_eq!(f(pattern, args).as_deref(), Ok(*expected), "{pattern}");
        }
    }

    #[test]
    fn rejects_what_atlas_rejects() {
        for (pattern, args) in [
            ("%257s", &["x"][..]),
            ("%0s", &["x"]),
            ("%.257s", &["x"]),
            ("%.33f", &["1"]),
            ("%.2d", &["1"]),
            ("%s %s", &["one"]),
            ("%z", &["x"]),
            ("%3$s", &["a", "b"]),
            ("%d", &["not a number"]),
            ("%", &[]),
        ] {
            assert!(f(pattern, args).is_err(), "{pattern}");
        }
    }

    #[test]
    fn output_is_bounded() {
        let args = vec![Item::Str("x".repeat(600))];
        assert!(matches!(format("%s%1$s", &args, 1000), Err(Reason::LimitExceeded(Limit::StringBytes(1000)))));
    }
}
