//! Fleet tags: the Netflix `nf.*` tags that say where a series comes from.

use std::collections::BTreeMap;

/// The fleet tag keys, in the order they are documented and exported.
pub const FLEET_TAG_KEYS: [&str; 6] = ["nf.app", "nf.cluster", "nf.asg", "nf.node", "nf.region", "nf.zone"];

/// Longest tag key or value accepted, in bytes (Atlas's default limit).
pub const MAX_TAG_LEN: usize = 255;

/// Why a tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// The key or value is empty.
    #[error("tag {0:?} has an empty key or value")]
    Empty(String),
    /// The key or value is longer than [`MAX_TAG_LEN`].
    #[error("tag {0:?} is longer than {MAX_TAG_LEN} bytes")]
    TooLong(String),
    /// A character outside Atlas's set `[-._A-Za-z0-9^~]`.
    #[error("tag {0:?} has a character outside [-._A-Za-z0-9^~]")]
    BadChar(String),
}

/// Checks one tag key or value against Atlas's rules: 1 to 255 bytes of `[-._A-Za-z0-9^~]`.
pub fn validate_tag(s: &str) -> Result<(), TagError> {
    if s.is_empty() {
        return Err(TagError::Empty(s.to_string()));
    }
    if s.len() > MAX_TAG_LEN {
        return Err(TagError::TooLong(s.to_string()));
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._^~".contains(&b)) {
        return Err(TagError::BadChar(s.to_string()));
    }
    Ok(())
}

/// Tags shared by every series an instance sends: the fleet tags and any others configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommonTags(BTreeMap<String, String>);

impl CommonTags {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value` after checking both; replaces an earlier value.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), TagError> {
        validate_tag(key)?;
        validate_tag(value)?;
        self.0.insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All tags, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlas_tag_rules() {
        assert!(validate_tag("nf.node").is_ok());
        assert!(validate_tag("i-0a1b~x^y").is_ok());
        assert!(matches!(validate_tag(""), Err(TagError::Empty(_))));
        assert!(matches!(validate_tag("a b"), Err(TagError::BadChar(_))));
        assert!(matches!(validate_tag(&"x".repeat(256)), Err(TagError::TooLong(_))));
    }

    #[test]
    fn insert_replaces_and_sorts() {
        let mut t = CommonTags::new();
        t.insert("nf.node", "a").unwrap();
        t.insert("nf.app", "web").unwrap();
        t.insert("nf.node", "b").unwrap();
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![("nf.app", "web"), ("nf.node", "b")]);
        assert!(t.insert("nf.zone", "us east").is_err());
    }
}
