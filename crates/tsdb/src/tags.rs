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
    /// The keys and values together are longer than a series' tags may be.
    #[error("the tags take {0} bytes, more than 4 GiB")]
    TooLong(usize),
}

/// A series' tags, sorted by key, keys unique, `name` present. Two series are the same series
/// exactly when their `SeriesTags` are equal; they order as their `(key, value)` lists do.
///
/// Design decision: packed into one string of every key and value back to back plus their end
/// offsets, two allocations instead of two `String`s per tag: the head keeps one per series, and
/// with 100k series the `String`s were a large share of the store's memory.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SeriesTags {
    /// Key 0, value 0, key 1, value 1, ... concatenated.
    text: Box<str>,
    /// The end offset in `text` of each key and each value, in that order.
    ends: Box<[u32]>,
}

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
        Self::pack(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Tags already sorted by key, keys unique, `name` present (the caller checked).
    pub(crate) fn from_sorted_unchecked<'a>(
        tags: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<Self, TagsError> {
        Self::pack(tags)
    }

    fn pack<'a>(tags: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Result<Self, TagsError> {
        let (mut bytes, mut count) = (0usize, 0usize);
        for (k, v) in tags.clone() {
            bytes += k.len() + v.len();
            count += 2;
        }
        if u32::try_from(bytes).is_err() {
            return Err(TagsError::TooLong(bytes));
        }
        let mut text = String::with_capacity(bytes);
        let mut ends = Vec::with_capacity(count);
        for (k, v) in tags {
            text.push_str(k);
            ends.push(text.len() as u32);
            text.push_str(v);
            ends.push(text.len() as u32);
        }
        Ok(SeriesTags { text: text.into_boxed_str(), ends: ends.into_boxed_slice() })
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let n = self.len();
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, v) = self.pair(mid);
            match k.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(v),
            }
        }
        None
    }

    /// The `name` tag.
    pub fn name(&self) -> &str {
        self.get("name").unwrap_or_default()
    }

    /// The tags, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        (0..self.len()).map(|i| self.pair(i))
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// Never true: a series has at least its name.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of memory the tags take beyond the struct itself.
    pub fn heap_bytes(&self) -> usize {
        self.text.len() + self.ends.len() * 4
    }

    /// Tag `i` (which must be below `len`; out of range gives empty strings).
    fn pair(&self, i: usize) -> (&str, &str) {
        let at = |j: usize| self.ends.get(j).map_or(0, |&e| e as usize);
        let start = if i == 0 { 0 } else { at(2 * i - 1) };
        let (mid, end) = (at(2 * i), at(2 * i + 1));
        (self.text.get(start..mid).unwrap_or_default(), self.text.get(mid..end).unwrap_or_default())
    }
}

impl Ord for SeriesTags {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl PartialOrd for SeriesTags {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for SeriesTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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
        assert_eq!(s.get("a"), None);
        assert_eq!(s.get("zz"), None);
        assert_eq!(s.len(), 2);
        assert_eq!(format!("{s:?}"), r#"[("name", "cpu.user"), ("nf.node", "i-1")]"#);
    }

    #[test]
    fn packed_tags_order_as_their_lists_do() {
        // "a"+"bc" and "ab"+"c" concatenate alike; the offsets keep them apart.
        let x = SeriesTags::new(t(&[("name", "n"), ("a", "bc")])).unwrap();
        let y = SeriesTags::new(t(&[("name", "n"), ("ab", "c")])).unwrap();
        assert_ne!(x, y);
        let lists = |s: &SeriesTags| s.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(x.cmp(&y), lists(&x).cmp(&lists(&y)));
        assert_eq!(x.get("a"), Some("bc"));
        assert_eq!(y.get("ab"), Some("c"));
        let empty_value = SeriesTags::new(t(&[("name", ""), ("z", "")])).unwrap();
        assert_eq!(empty_value.iter().collect::<Vec<_>>(), [("name", ""), ("z", "")]);
    }
}
