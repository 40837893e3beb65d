//! Postings: sorted, duplicate-free lists of series ids and their set operations.
//!
//! [`Postings`] is the owned result of a selection; the operations work on plain sorted slices so
//! the index can combine the lists it holds without copying them first. Design decision: an
//! intersection of a short list with a long one gallops (exponential then binary search in the
//! long list), so `name,x,:eq,nf.node,y,:eq,:and` costs about the short list's length times a
//! logarithm, not the sum of both lengths.

use crate::SeriesId;

/// A short list gallops through a long one when the long one is at least this many times longer.
const GALLOP_RATIO: usize = 16;

/// Series ids, ascending, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Postings(Vec<SeriesId>);

impl Postings {
    /// The empty list.
    pub fn new() -> Self {
        Postings(Vec::new())
    }

    /// Sorts `ids` and drops repeats.
    pub fn from_unsorted(mut ids: Vec<SeriesId>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Postings(ids)
    }

    /// Wraps a list already ascending and duplicate-free; `None` if it is not.
    pub fn from_sorted(ids: Vec<SeriesId>) -> Option<Self> {
        is_strictly_ascending(&ids).then_some(Postings(ids))
    }

    /// The ids, ascending.
    pub fn as_slice(&self) -> &[SeriesId] {
        &self.0
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no ids.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `id` is in the list.
    pub fn contains(&self, id: SeriesId) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// The ids, ascending.
    pub fn iter(&self) -> std::iter::Copied<std::slice::Iter<'_, SeriesId>> {
        self.0.iter().copied()
    }

    /// The ids as a vector, ascending.
    pub fn into_vec(self) -> Vec<SeriesId> {
        self.0
    }

    /// The ids in both lists.
    pub fn intersect(&self, other: &Postings) -> Postings {
        Postings(intersect(&self.0, &other.0))
    }

    /// The ids in either list.
    pub fn union(&self, other: &Postings) -> Postings {
        Postings(union(&self.0, &other.0))
    }

    /// The ids of `self` that are not in `other`.
    pub fn difference(&self, other: &Postings) -> Postings {
        Postings(difference(&self.0, &other.0))
    }

    /// Wraps a vector the caller guarantees ascending and duplicate-free (checked in debug builds).
    pub(super) fn from_sorted_unchecked(ids: Vec<SeriesId>) -> Self {
        debug_assert!(is_strictly_ascending(&ids));
        Postings(ids)
    }
}

impl IntoIterator for Postings {
    type Item = SeriesId;
    type IntoIter = std::vec::IntoIter<SeriesId>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Postings {
    type Item = SeriesId;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, SeriesId>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Postings> for Vec<SeriesId> {
    fn from(p: Postings) -> Self {
        p.0
    }
}

/// True when every id is greater than the one before it.
pub(super) fn is_strictly_ascending(ids: &[SeriesId]) -> bool {
    ids.windows(2).all(|w| w[0] < w[1])
}

/// The ids in both ascending lists.
pub(super) fn intersect(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return Vec::new();
    }
    if long.len() / short.len() >= GALLOP_RATIO {
        return gallop_intersect(short, long);
    }
    let mut out = Vec::with_capacity(short.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Intersection by searching each id of `short` in the rest of `long`.
fn gallop_intersect(short: &[SeriesId], mut long: &[SeriesId]) -> Vec<SeriesId> {
    let mut out = Vec::new();
    for &x in short {
        // Grow the window until its last element is >= x, then binary-search inside it.
        let mut hi = 1;
        while hi < long.len() && long.get(hi - 1).is_some_and(|&y| y < x) {
            hi *= 2;
        }
        let window = long.get(..hi.min(long.len())).unwrap_or(long);
        match window.binary_search(&x) {
            Ok(pos) => {
                out.push(x);
                long = long.get(pos + 1..).unwrap_or_default();
            }
            Err(pos) => long = long.get(pos..).unwrap_or_default(),
        }
        if long.is_empty() {
            break;
        }
    }
    out
}

/// The ids in either ascending list.
pub(super) fn union(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => match x.cmp(&y) {
                std::cmp::Ordering::Less => {
                    out.push(x);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(y);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(x);
                    i += 1;
                    j += 1;
                }
            },
            (Some(_), None) => {
                out.extend_from_slice(a.get(i..).unwrap_or_default());
                break;
            }
            (None, Some(_)) => {
                out.extend_from_slice(b.get(j..).unwrap_or_default());
                break;
            }
            (None, None) => break,
        }
    }
    out
}

/// The ids in any of several ascending lists: merged for two; for more, marked in a bitmap when
/// the ids are dense (the bitmap is then no larger than the ids), else concatenated and sorted.
pub(super) fn union_many<'a>(lists: impl IntoIterator<Item = &'a [SeriesId]>) -> Vec<SeriesId> {
    let lists: Vec<&[SeriesId]> = lists.into_iter().filter(|l| !l.is_empty()).collect();
    match lists.as_slice() {
        [] => Vec::new(),
        [one] => one.to_vec(),
        [a, b] => union(a, b),
        many => {
            let total: usize = many.iter().map(|l| l.len()).sum();
            let min = many.iter().filter_map(|l| l.first()).min().copied().unwrap_or(0);
            let max = many.iter().filter_map(|l| l.last()).max().copied().unwrap_or(0);
            let span = max.saturating_sub(min);
            if span / BITS_PER_ID_DENSE < total as u64 {
                return bitmap_union(many, min, span, total);
            }
            let mut out = Vec::with_capacity(total);
            for l in many {
                out.extend_from_slice(l);
            }
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

/// Ids count as dense when they are at most this many apart on average: the bitmap then takes
/// at most as many bytes as the ids themselves.
const BITS_PER_ID_DENSE: u64 = 64;

/// The union of `lists`, whose ids lie in `min..=min + span`, through a bitmap.
fn bitmap_union(lists: &[&[SeriesId]], min: SeriesId, span: u64, total: usize) -> Vec<SeriesId> {
    let words = usize::try_from(span / 64 + 1).unwrap_or(usize::MAX);
    let mut bits = vec![0u64; words];
    for &id in lists.iter().flat_map(|l| l.iter()) {
        let off = id - min;
        if let Some(w) = bits.get_mut((off / 64) as usize) {
            *w |= 1 << (off % 64);
        }
    }
    let mut out = Vec::with_capacity(total);
    for (i, &w) in bits.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            out.push(min + i as u64 * 64 + u64::from(w.trailing_zeros()));
            w &= w - 1;
        }
    }
    out
}

/// The ids of ascending list `a` that are not in ascending list `b`.
pub(super) fn difference(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    if b.is_empty() {
        return a.to_vec();
    }
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while b.get(j).is_some_and(|&y| y < x) {
            j += 1;
        }
        if b.get(j) != Some(&x) {
            out.push(x);
        }
    }
    out
}

/// Inserts `id` into ascending `list` (a push when it is the largest); false if already there.
pub(super) fn insert(list: &mut Vec<SeriesId>, id: SeriesId) -> bool {
    match list.last() {
        None => list.push(id),
        Some(&last) if last < id => list.push(id),
        Some(_) => match list.binary_search(&id) {
            Ok(_) => return false,
            Err(pos) => list.insert(pos, id),
        },
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn set(v: &[SeriesId]) -> BTreeSet<SeriesId> {
        v.iter().copied().collect()
    }

    fn sorted(v: BTreeSet<SeriesId>) -> Vec<SeriesId> {
        v.into_iter().collect()
    }

    #[test]
    fn small_cases() {
        let a = Postings::from_unsorted(vec![5, 1, 3, 3, 9]);
        let b = Postings::from_sorted(vec![3, 4, 9]).unwrap();
        assert_eq!(a.as_slice(), &[1, 3, 5, 9]);
        assert_eq!(a.intersect(&b).into_vec(), vec![3, 9]);
        assert_eq!(a.union(&b).into_vec(), vec![1, 3, 4, 5, 9]);
        assert_eq!(a.difference(&b).into_vec(), vec![1, 5]);
        assert!(Postings::from_sorted(vec![2, 2]).is_none());
        assert!(Postings::from_sorted(vec![3, 1]).is_none());
        assert!(a.contains(5) && !a.contains(4));
    }

    #[test]
    fn gallop_is_used_and_right() {
        let long: Vec<SeriesId> = (0..10_000).map(|i| i * 3).collect();
        let short = vec![0, 2, 3, 29_997, 29_998, 40_000];
        assert_eq!(intersect(&short, &long), vec![0, 3, 29_997]);
        assert_eq!(intersect(&long, &short), vec![0, 3, 29_997]);
    }

    #[test]
    fn insert_keeps_order() {
        let mut v = vec![];
        for id in [5, 7, 6, 1, 7, 9] {
            insert(&mut v, id);
        }
        assert_eq!(v, vec![1, 5, 6, 7, 9]);
        assert!(!insert(&mut v, 6));
    }

    proptest! {
        #[test]
        fn ops_agree_with_btreeset(
            a in proptest::collection::btree_set(0u64..200, 0..60),
            b in proptest::collection::btree_set(0u64..200, 0..60),
            c in proptest::collection::btree_set(0u64..2000, 0..5),
        ) {
            let (va, vb, vc) = (sorted(a.clone()), sorted(b.clone()), sorted(c.clone()));
            prop_assert_eq!(intersect(&va, &vb), sorted(&a & &b));
            prop_assert_eq!(intersect(&vc, &va), sorted(&c & &a));
            prop_assert_eq!(union(&va, &vb), sorted(&a | &b));
            prop_assert_eq!(difference(&va, &vb), sorted(&a - &b));
            prop_assert_eq!(union_many([&va[..], &vb[..], &vc[..]]), sorted(&(&a | &b) | &c));
            // Spread far apart, so the sort path is taken rather than the bitmap.
            let far = |v: &[SeriesId]| v.iter().map(|x| x << 40).collect::<Vec<_>>();
            let want: Vec<SeriesId> = sorted(&(&a | &b) | &c).iter().map(|x| x << 40).collect();
            prop_assert_eq!(union_many([&far(&va)[..], &far(&vb)[..], &far(&vc)[..]]), want);
            let mut ins = Vec::new();
            for x in va.iter().rev().chain(vb.iter()) {
                insert(&mut ins, *x);
            }
            prop_assert_eq!(set(&ins), &a | &b);
            prop_assert!(is_strictly_ascending(&ins));
        }
    }
}
