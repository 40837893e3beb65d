//! A series' identity: its tag map.

/// Why a tag map is not a series identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagsError {
    /// There is no `name` tag.
    #[error("the series has no `name` tag")]
    NoName,
    /// A key appears twice.
    #[error("tag key {0:?} appears twice")]
    DuplicateKey(String),
}

/// A series' tags, sorted by key, keys unique, `name` present. Two series are the same series
/// exactly when their `SeriesTags` are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesTags(Vec<(String, String)>);

impl SeriesTags {
    /// Sorts `tags` by key and checks them.
    pub fn new(mut tags: Vec<(String, String)>) -> Result<Self, TagsError> {
        tags.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = tags.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(TagsError::DuplicateKey(w[0].0.clone()));
        }
        if !tags.iter().any(|(k, _)| k == "name") {
            return Err(TagsError::NoName);
        }
        Ok(SeriesTags(tags))
    }

    /// Tags already sorted by key, keys unique, `name` present (the caller checked).
    pub(crate) fn from_sorted_unchecked(tags: Vec<(String, String)>) -> Self {
        SeriesTags(tags)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| self.0[i].1.as_str())
    }

    /// The `name` tag.
    pub fn name(&self) -> &str {
        self.get("name").unwrap_or_default()
    }

    /// The tags, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a series has at least its name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn sorted_unique_named() {
        let s = SeriesTags::new(t(&[("nf.node", "i-1"), ("name", "cpu.user")])).unwrap();
        assert_eq!(s.iter().next(), Some(("name", "cpu.user")));
        assert_eq!(s.get("nf.node"), Some("i-1"));
        assert_eq!(s.name(), "cpu.user");
        assert_eq!(SeriesTags::new(t(&[("a", "1")])), Err(TagsError::NoName));
        assert!(matches!(SeriesTags::new(t(&[("name", "x"), ("name", "y")])), Err(TagsError::DuplicateKey(_))));
    }
}
