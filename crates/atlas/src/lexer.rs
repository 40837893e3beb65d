//! The lexer: splits an Atlas program into tokens, strips `/* ... */` comments, and holds the
//! escaping rules (`\uXXXX`) that let a string literal carry commas, colons and edge whitespace.
//!
//! A program is comma-separated; each token is trimmed; `(` and `)` delimit lists; a token that
//! starts with `:` names a word; everything else is a string literal. The input is the decoded
//! `q` parameter: URL-decoding (`%2C`, `+`) is the caller's job, because only the caller knows
//! whether its text came from a query string or a form body.
//!
//! Design decision: tokens keep the byte offset of their first character in the program text, so
//! every error can say where it happened; a token whose text is split by an inline comment
//! (`:d/*x*/up`) is glued back together, as Atlas does, and keeps the offset of its first part.

use crate::error::{Error, Reason};

/// One token of a program: its trimmed text and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token's text, trimmed of surrounding whitespace, comments removed, not unescaped.
    pub text: String,
    /// Byte offset of the token's first character in the program.
    pub position: usize,
}

impl Token {
    /// The word's name (without the colon) if this token is a word, like `eq` for `:eq`.
    pub fn word(&self) -> Option<&str> {
        self.text.strip_prefix(':')
    }
}

/// Splits `program` into tokens: comma separated, trimmed, empty tokens dropped, comments
/// (`/* ... */`, nestable) removed. Fails on a comment that is not closed or a stray `*/`.
pub fn tokenize(program: &str) -> Result<Vec<Token>, Error> {
    let bytes = program.as_bytes();
    let mut tokens = Vec::new();
    let mut segment_start = 0;
    let mut depth = 0usize;
    let mut comment_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(b'/'), Some(b'*')) => {
                if depth == 0 {
                    comment_start = i;
                }
                depth += 1;
                i += 2;
            }
            (Some(b'*'), Some(b'/')) => {
                if depth == 0 {
                    return Err(Error::lexical("*/", i, Reason::UnmatchedCommentEnd));
                }
                depth -= 1;
                i += 2;
            }
            (Some(b','), _) if depth == 0 => {
                push_segment(program, segment_start, i, &mut tokens);
                segment_start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if depth > 0 {
        return Err(Error::lexical("/*", comment_start, Reason::UnclosedComment));
    }
    push_segment(program, segment_start, program.len(), &mut tokens);
    Ok(tokens)
}

/// Appends the token of `program[start..end]` (comments removed, fragments trimmed and glued)
/// unless it is empty. The caller guarantees comments inside are balanced.
fn push_segment(program: &str, start: usize, end: usize, tokens: &mut Vec<Token>) {
    let Some(segment) = program.get(start..end) else { return };
    let mut text = String::new();
    let mut position = None;
    let mut rest = segment;
    let mut offset = start;
    while !rest.is_empty() {
        let fragment_len = rest.find("/*").unwrap_or(rest.len());
        let (fragment, after) = rest.split_at(fragment_len);
        let trimmed = fragment.trim_matches(is_trimmed);
        if !trimmed.is_empty() {
            let lead = fragment.len() - fragment.trim_start_matches(is_trimmed).len();
            position.get_or_insert(offset + lead);
            text.push_str(trimmed);
        }
        offset += fragment_len;
        rest = after;
        if !rest.is_empty() {
            let comment_len = comment_length(rest);
            offset += comment_len;
            rest = rest.get(comment_len..).unwrap_or("");
        }
    }
    if let Some(position) = position {
        tokens.push(Token { text, position });
    }
}

/// The length in bytes of the (possibly nested) comment that `text` starts with.
fn comment_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(b'/'), Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (Some(b'*'), Some(b'/')) => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether the lexer trims `c` from the edges of a token: ASCII control characters and space
/// (as Java's `String.trim`) and Unicode whitespace other than the no-break spaces (as
/// `Character.isWhitespace`).
pub fn is_trimmed(c: char) -> bool {
    c <= ' ' || (c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}'))
}

/// Decodes `\uXXXX` escapes (four hex digits; a surrogate pair becomes one character); any other
/// backslash, and a lone surrogate, is kept as written.
pub fn unescape(text: &str) -> String {
    if !text.contains("\\u") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        let (before, from_backslash) = rest.split_at(at);
        out.push_str(before);
        match decode_escape(from_backslash) {
            Some((c, used)) => {
                out.push(c);
                rest = from_backslash.get(used..).unwrap_or("");
            }
            None => {
                out.push('\\');
                rest = from_backslash.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// The code unit of a `\uXXXX` escape at the start of `text`, if there is one.
fn escape_unit(text: &str) -> Option<u16> {
    let hex = text.strip_prefix("\\u")?.get(..4)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(hex, 16).ok()
}

/// Decodes the escape at the start of `text` into a character and the bytes it used.
fn decode_escape(text: &str) -> Option<(char, usize)> {
    let unit = escape_unit(text)?;
    if (0xD800..0xDC00).contains(&unit) {
        let low = escape_unit(text.get(6..)?)?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
        return char::from_u32(code).map(|c| (c, 12));
    }
    char::from_u32(u32::from(unit)).map(|c| (c, 6))
}

/// Writes `value` as a string literal token that the lexer reads back as exactly `value`:
/// commas, colons and whitespace that trimming would lose become `\uXXXX`, as do a lone `(` or
/// `)`, comment delimiters, and a backslash that would otherwise start an escape. Spaces inside
/// the value stay readable. The empty string has no token; it renders as nothing.
pub fn escape_into(out: &mut impl std::fmt::Write, value: &str) -> std::fmt::Result {
    match value {
        "(" => return out.write_str("\\u0028"),
        ")" => return out.write_str("\\u0029"),
        _ => {}
    }
    let first = value.find(|c| !is_trimmed(c));
    let last = value.rfind(|c| !is_trimmed(c));
    let mut previous = '\0';
    for (at, c) in value.char_indices() {
        let in_middle = matches!((first, last), (Some(f), Some(l)) if at >= f && at <= l);
        let special = c == ',' || c == ':' || (is_trimmed(c) && !(in_middle && c == ' '));
        let starts_escape = c == '\\' && escape_unit(value.get(at..).unwrap_or("")).is_some();
        let closes_comment = c == '/' && value.get(at + 1..).is_some_and(|r| r.starts_with('*'));
        let ends_comment = c == '/' && previous == '*';
        if special || starts_escape || closes_comment || ends_comment {
            write!(out, "\\u{:04x}", u32::from(c))?;
        } else {
            out.write_char(c)?;
        }
        previous = c;
    }
    Ok(())
}

/// [`escape_into`] into a new string.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    // Writing to a String cannot fail.
    let _ = escape_into(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(program: &str) -> Vec<(String, usize)> {
        tokenize(program).unwrap().into_iter().map(|t| (t.text, t.position)).collect()
    }

    #[test]
    fn splits_trims_and_keeps_positions() {
        assert_eq!(
            texts(" name , sps,:eq,,( ,a,)"),
            vec![
                ("name".into(), 1),
                ("sps".into(), 8),
                (":eq".into(), 12),
                ("(".into(), 17),
                ("a".into(), 20),
                (")".into(), 22)
            ]
        );
        assert!(texts(" , \t,\n").is_empty());
    }

    #[test]
    fn strips_nested_comments_and_glues_fragments() {
        assert_eq!(texts("a,/* x /* y */ , */b"), vec![("a".into(), 0), ("b".into(), 19)]);
        assert_eq!(texts(":d/*c*/up"), vec![(":dup".into(), 0)]);
        assert_eq!(texts("/*c*/ x"), vec![("x".into(), 6)]);
    }

    #[test]
    fn comment_errors_name_the_position() {
        let err = tokenize("a,/* open").unwrap_err();
        assert_eq!((err.position, err.reason.to_string()), (2, "comment is not closed".to_string()));
        let err = tokenize("a*/b").unwrap_err();
        assert_eq!(err.position, 1);
        assert!(matches!(err.reason, Reason::UnmatchedCommentEnd));
    }

    #[test]
    fn unescape_decodes_unicode_escapes_only() {
        assert_eq!(unescape("a\\u002cb\\u003A"), "a,b:");
        assert_eq!(unescape("\\d+\\u12"), "\\d+\\u12");
        assert_eq!(unescape("\\ud83d\\ude00"), "\u{1f600}");
        assert_eq!(unescape("\\ud83dx"), "\\ud83dx");
    }

    #[test]
    fn escape_keeps_middle_spaces_and_protects_the_rest() {
        assert_eq!(escape("a b"), "a b");
        assert_eq!(escape(" a,b:c "), "\\u0020a\\u002cb\\u003ac\\u0020");
        assert_eq!(escape("("), "\\u0028");
        assert_eq!(escape("a/*b*/"), "a\\u002f*b*\\u002f");
        assert_eq!(escape("x\\u0041\\d"), "x\\u005cu0041\\d");
    }

    #[test]
    fn escape_round_trips_through_the_lexer() {
        for value in [" a ", "a,b", ":eq", "(", ")", "/*", "*/", "\\u0041", "a\tb", "é ü", "//**"] {
            let tokens = tokenize(&escape(value)).unwrap();
            assert_eq!(tokens.len(), 1, "{value:?}");
            assert_eq!(unescape(&tokens[0].text), value);
        }
    }
}
