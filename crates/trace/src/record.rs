//! Reading fixed-layout BPF records: little helpers over a byte slice that return `None`
//! instead of panicking when a record is shorter than its layout says. Design decision: decode
//! by offset from the C struct's layout (documented beside each decoder) rather than
//! transmuting, so a short or garbled record is an error, never undefined behaviour.

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {kind} record of {len} bytes is shorter than its {need}-byte header")]
pub struct DecodeError {
    /// The record kind (`exec`, `open`).
    pub kind: &'static str,
    /// The record's length.
    pub len: usize,
    /// The header length it needs.
    pub need: usize,
}

/// A `u16` at `offset`, `None` past the end.
pub(crate) fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let raw = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_ne_bytes(raw.try_into().ok()?))
}

pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let raw = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_ne_bytes(raw.try_into().ok()?))
}

pub(crate) fn i32_at(bytes: &[u8], offset: usize) -> Option<i32> {
    u32_at(bytes, offset).map(|v| i32::from_ne_bytes(v.to_ne_bytes()))
}

pub(crate) fn u64_at(bytes: &[u8], offset: usize) -> Option<u64> {
    let raw = bytes.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_ne_bytes(raw.try_into().ok()?))
}

/// A NUL-terminated (or field-filling) C string inside `bytes[offset..offset + len]`.
pub(crate) fn c_string_at(bytes: &[u8], offset: usize, len: usize) -> String {
    let end = offset.saturating_add(len).min(bytes.len());
    let field = bytes.get(offset..end).unwrap_or_default();
    let text = field.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_the_end_are_none() {
        let bytes = [1u8, 0, 0, 0, 2, 0, 0];
        assert_eq!(u32_at(&bytes, 0), Some(u32::from_ne_bytes([1, 0, 0, 0])));
        assert_eq!(u32_at(&bytes, 4), None);
        assert_eq!(u64_at(&bytes, 0), None);
        assert_eq!(u32_at(&bytes, usize::MAX - 1), None);
    }

    #[test]
    fn c_strings_stop_at_nul_or_field_end() {
        assert_eq!(c_string_at(b"xxabc\0def", 2, 16), "abc");
        assert_eq!(c_string_at(b"xxabcdef", 2, 3), "abc");
        assert_eq!(c_string_at(b"xx", 5, 3), "");
    }
}
