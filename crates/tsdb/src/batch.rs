//! A batch of samples for one append, borrowing its series' tags from the caller's buffers.
//!
//! An ingest request names the same few hundred thousand series again and again; building an
//! owned [`SeriesTags`] per series per request (two `String`s a tag) was most of what ingest
//! cost. A [`Batch`] instead holds `&str` tags (for instance slices of a decoded protobuf body)
//! and the head looks them up by hash, allocating only for series it has never seen.
//!
//! Design decision: tags are checked and sorted as they are added ([`Batch::push_series`]), so
//! the head can hash and compare them as they are; all series' tags live in one vector and all
//! samples in another, so a batch of thousands of series costs a handful of allocations.

use std::hash::{BuildHasher, Hasher};

use crate::{SeriesTags, TagsError};

/// One series entry of a batch as [`Batch::series`] gives it: its tags (sorted by key), its
/// samples and the position of its first sample.
pub type BatchSeries<'b, 'a> = (&'b [(&'a str, &'a str)], &'b [(i64, f64)], usize);

/// One series of a batch: where its tags and samples lie in the batch's vectors.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tags_start: usize,
    tags_end: usize,
    samples_start: usize,
    samples_end: usize,
}

/// Samples of many series for one append: per series its tags (sorted by key, keys unique,
/// `name` present) and its samples (millisecond timestamps and values). A sample's *position*
/// is its index in the order samples were pushed, over the whole batch; an
/// [`AppendReport`](crate::head::AppendReport) refers to samples by position.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    tags: Vec<(&'a str, &'a str)>,
    entries: Vec<Entry>,
    samples: Vec<(i64, f64)>,
}

impl<'a> Batch<'a> {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// An empty batch with room for `series` series, `tags` tags over all of them and `samples`
    /// samples.
    pub fn with_capacity(series: usize, tags: usize, samples: usize) -> Self {
        Batch {
            tags: Vec::with_capacity(tags),
            entries: Vec::with_capacity(series),
            samples: Vec::with_capacity(samples),
        }
    }

    /// Adds a series with its samples. The tags may come in any order; they are sorted here.
    /// Fails, adding nothing, when a key repeats or `name` is missing. A series with no samples
    /// adds nothing. The same series may be pushed more than once.
    pub fn push_series(
        &mut self,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
        samples: &[(i64, f64)],
    ) -> Result<(), TagsError> {
        let start = self.tags.len();
        self.tags.extend(tags);
        let mine = self.tags.get_mut(start..).unwrap_or_default();
        mine.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let dup = mine.windows(2).find_map(|w| match w {
            [a, b] if a.0 == b.0 => Some(a.0),
            _ => None,
        });
        let bytes: usize = mine.iter().map(|(k, v)| k.len() + v.len()).sum();
        let problem = match dup {
            Some(k) => Some(TagsError::DuplicateKey(k.to_string())),
            None if u32::try_from(bytes).is_err() => Some(TagsError::TooLong(bytes)),
            None if !mine.iter().any(|(k, _)| *k == "name") => Some(TagsError::NoName),
            None => None,
        };
        if let Some(e) = problem {
            self.tags.truncate(start);
            return Err(e);
        }
        if samples.is_empty() {
            self.tags.truncate(start);
            return Ok(());
        }
        let samples_start = self.samples.len();
        self.samples.extend_from_slice(samples);
        self.entries.push(Entry {
            tags_start: start,
            tags_end: self.tags.len(),
            samples_start,
            samples_end: self.samples.len(),
        });
        Ok(())
    }

    /// Adds the samples of an owned series (already checked and sorted).
    pub fn push_tags(&mut self, tags: &'a SeriesTags, samples: &[(i64, f64)]) {
        if samples.is_empty() {
            return;
        }
        let tags_start = self.tags.len();
        self.tags.extend(tags.iter());
        let samples_start = self.samples.len();
        self.samples.extend_from_slice(samples);
        self.entries.push(Entry {
            tags_start,
            tags_end: self.tags.len(),
            samples_start,
            samples_end: self.samples.len(),
        });
    }

    /// Samples in the batch.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Series entries in the batch (a series pushed twice counts twice).
    pub fn series_count(&self) -> usize {
        self.entries.len()
    }

    /// Each series entry: its tags (sorted by key), its samples and the position of its first sample.
    pub fn series(&self) -> impl Iterator<Item = BatchSeries<'_, 'a>> {
        self.entries.iter().map(|e| {
            let tags = self.tags.get(e.tags_start..e.tags_end).unwrap_or_default();
            let samples = self.samples.get(e.samples_start..e.samples_end).unwrap_or_default();
            (tags, samples, e.samples_start)
        })
    }
}

/// The hash the head files a series under: the same for borrowed and owned tags.
pub(crate) fn hash_tags<'t>(state: &impl BuildHasher, tags: impl Iterator<Item = (&'t str, &'t str)>) -> u64 {
    let mut h = state.build_hasher();
    for (k, v) in tags {
        // 0xff never occurs in UTF-8, so it separates strings unambiguously.
        h.write(k.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// True when `owned` and `borrowed` (both sorted by key) are the same tags.
pub(crate) fn same_tags(owned: &SeriesTags, borrowed: &[(&str, &str)]) -> bool {
    owned.len() == borrowed.len() && owned.iter().zip(borrowed).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
}

/// Owned tags from borrowed ones already checked by [`Batch::push_series`].
pub(crate) fn to_owned_tags(borrowed: &[(&str, &str)]) -> Result<SeriesTags, TagsError> {
    SeriesTags::from_sorted_unchecked(borrowed.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_series_sorts_checks_and_keeps_positions() {
        let mut b = Batch::new();
        b.push_series([("nf.node", "i-1"), ("name", "cpu")], &[(1, 1.0), (2, 2.0)]).unwrap();
        assert_eq!(b.push_series([("a", "1")], &[(1, 1.0)]), Err(TagsError::NoName));
        assert_eq!(
            b.push_series([("name", "x"), ("name", "y")], &[(1, 1.0)]),
            Err(TagsError::DuplicateKey("name".into()))
        );
        b.push_series([("name", "empty")], &[]).unwrap();
        b.push_series([("name", "mem")], &[(5, 3.0)]).unwrap();
        assert_eq!((b.len(), b.series_count()), (3, 2));
        let got: Vec<_> = b.series().map(|(t, s, p)| (t.to_vec(), s.len(), p)).collect();
        assert_eq!(got, vec![(vec![("name", "cpu"), ("nf.node", "i-1")], 2, 0), (vec![("name", "mem")], 1, 2)]);
    }

    #[test]
    fn owned_and_borrowed_tags_hash_and_compare_alike() {
        let owned = SeriesTags::new(vec![("name".into(), "cpu".into()), ("a".into(), "b".into())]).unwrap();
        let borrowed = [("a", "b"), ("name", "cpu")];
        let state = foldhash::fast::RandomState::default();
        assert_eq!(hash_tags(&state, owned.iter()), hash_tags(&state, borrowed.iter().copied()));
        assert!(same_tags(&owned, &borrowed));
        assert!(!same_tags(&owned, &[("a", "b"), ("name", "cpx")]));
        // Concatenations that would collide without a separator differ.
        let (x, y) = ([("ab", "c"), ("name", "n")], [("a", "bc"), ("name", "n")]);
        assert_ne!(hash_tags(&state, x.iter().copied()), hash_tags(&state, y.iter().copied()));
        assert_eq!(to_owned_tags(&borrowed), Ok(owned));
    }
}
