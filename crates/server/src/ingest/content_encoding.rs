//! Request body decompression under a size cap.
//!
//! [`decode_body`] checks the body's size as received, then undoes its `Content-Encoding`
//! (none, `identity` or `gzip`). Decompression reads at most one byte past
//! `Limits::max_decoded_bytes`, so a gzip bomb costs the server no more than the cap in memory
//! and time before it is refused. An unencoded body is borrowed, never copied.

use std::borrow::Cow;
use std::io::Read;

use super::limits::Limits;
use super::outcome::DecodeError;

/// The body's bytes with its content encoding undone, within `limits`.
pub fn decode_body<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    limits: &Limits,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    if body.len() > limits.max_body_bytes {
        return Err(DecodeError::BodyTooLarge { size: body.len(), limit: limits.max_body_bytes });
    }
    let encoding = content_encoding.map(str::trim).unwrap_or("");
    if encoding.is_empty() || encoding.eq_ignore_ascii_case("identity") {
        if body.len() > limits.max_decoded_bytes {
            return Err(DecodeError::DecodedTooLarge { limit: limits.max_decoded_bytes });
        }
        return Ok(Cow::Borrowed(body));
    }
    if encoding.eq_ignore_ascii_case("gzip") || encoding.eq_ignore_ascii_case("x-gzip") {
        return gunzip(body, limits.max_decoded_bytes).map(Cow::Owned);
    }
    let shown: String = encoding.chars().take(40).collect();
    Err(DecodeError::UnsupportedEncoding(shown))
}

/// Decompresses gzip (several members are read in turn), refusing output past `cap` bytes.
fn gunzip(body: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(cap));
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(body).take(limit).read_to_end(&mut out).map_err(DecodeError::BadGzip)?;
    if out.len() > cap {
        return Err(DecodeError::DecodedTooLarge { limit: cap });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn identity_is_borrowed() {
        let l = Limits::default();
        assert!(matches!(decode_body(b"{}", None, &l), Ok(Cow::Borrowed(b"{}"))));
        assert!(matches!(decode_body(b"{}", Some(" Identity "), &l), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn gzip_round_trips() {
        let l = Limits::default();
        let zipped = gzip(b"{\"metrics\":[]}");
        let got = decode_body(&zipped, Some("GZIP"), &l).unwrap();
        assert_eq!(&*got, b"{\"metrics\":[]}");
    }

    #[test]
    fn caps_and_refusals() {
        let small = Limits { max_body_bytes: 4, max_decoded_bytes: 8, ..Limits::default() };
        assert!(matches!(decode_body(b"12345", None, &small), Err(DecodeError::BodyTooLarge { size: 5, limit: 4 })));
        let l = Limits { max_decoded_bytes: 1000, ..Limits::default() };
        let bomb = gzip(&[0u8; 100_000]);
        assert!(matches!(decode_body(&bomb, Some("gzip"), &l), Err(DecodeError::DecodedTooLarge { limit: 1000 })));
        let exact = gzip(&[b' '; 1000]);
        assert_eq!(decode_body(&exact, Some("gzip"), &l).map(|b| b.len()).ok(), Some(1000));
        assert!(matches!(decode_body(b"not gzip", Some("gzip"), &l), Err(DecodeError::BadGzip(_))));
        assert!(matches!(decode_body(b"{}", Some("br"), &l), Err(DecodeError::UnsupportedEncoding(e)) if e == "br"));
    }
}
