//! The in-memory inverted index: tag key → tag value → postings.
//!
//! [`MemIndex`] keeps, for every key, its values in sorted order, each with the ascending ids of
//! the series carrying that pair, plus the list of all ids. `:eq`, `:in` and `:has` are look-ups
//! and unions, `:and`/`:or` intersections and unions; `:re` with a literal prefix, `:lt`, `:le`,
//! `:gt` and `:ge` read a range of one key's sorted values, other regexes scan that key's values
//! (never the series); only `:not` and `:true` touch the all-series list, and `a AND NOT b` is a
//! difference that avoids it. Design decision: every distinct key and value string is interned
//! once as an `Arc<str>` shared by the symbol set and the maps, so `nf.app=api` on 10k series
//! costs one string, and the maps stay ordered by string for ranges and sorted listings.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use super::matcher::{CmpOp, CompiledMatcher, CompiledRe, Node};
use super::postings::{self, Postings};
use super::prefix::Shape;
use crate::{SeriesId, SeriesTags};

/// A key's values, sorted, each with its postings.
type Values = BTreeMap<Arc<str>, Vec<SeriesId>>;

/// An inverted index of series tags, held in memory.
#[derive(Debug, Default)]
pub struct MemIndex {
    /// Every key and value string, once.
    symbols: HashSet<Arc<str>>,
    /// Key → value → ascending ids.
    keys: BTreeMap<Arc<str>, Values>,
    /// Every indexed id, ascending.
    all: Vec<SeriesId>,
}

impl MemIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes series `id` with `tags`; false (and nothing changed) if `id` is already indexed.
    ///
    /// Ids are expected in increasing order, which makes each posting list an append. An id
    /// smaller than the largest one is still correct, inserted in place at O(list length) per
    /// list. A repeated id is refused so each series has at most one value per key.
    pub fn add(&mut self, id: SeriesId, tags: &SeriesTags) -> bool {
        if !postings::insert(&mut self.all, id) {
            return false;
        }
        for (k, v) in tags.iter() {
            if !self.keys.contains_key(k) {
                let key = intern(&mut self.symbols, k);
                self.keys.insert(key, Values::new());
            }
            let Some(values) = self.keys.get_mut(k) else { continue };
            if !values.contains_key(v) {
                let value = intern(&mut self.symbols, v);
                values.insert(value, Vec::new());
            }
            if let Some(list) = values.get_mut(v) {
                postings::insert(list, id);
            }
        }
        true
    }

    /// Drops the series `ids` (any order, unknown ids ignored), and the keys, values and strings
    /// no series uses any more. Costs one pass over all postings.
    pub fn remove(&mut self, ids: &[SeriesId]) {
        let gone = Postings::from_unsorted(ids.to_vec());
        let gone = gone.as_slice();
        if postings::intersect(&self.all, gone).is_empty() {
            return;
        }
        self.all = postings::difference(&self.all, gone);
        for values in self.keys.values_mut() {
            for list in values.values_mut() {
                if !postings::intersect(list, gone).is_empty() {
                    *list = postings::difference(list, gone);
                }
            }
            values.retain(|_, list| !list.is_empty());
        }
        self.keys.retain(|_, values| !values.is_empty());
        // A string only the symbol set still holds is unused.
        self.symbols.retain(|s| Arc::strong_count(s) > 1);
    }

    /// The ids of the series `m` selects, ascending.
    pub fn select(&self, m: &CompiledMatcher) -> Postings {
        Postings::from_sorted_unchecked(self.eval(&m.0).into_owned())
    }

    /// The tag keys, sorted.
    pub fn tag_keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(|k| &**k)
    }

    /// The values of `key`, sorted; none for an unknown key.
    pub fn tag_values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.keys.get(key).into_iter().flat_map(|values| values.keys().map(|v| &**v))
    }

    /// How many series are indexed.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// True when no series is indexed.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Releases the spare capacity of every posting list (after a bulk load or a removal).
    pub fn shrink_to_fit(&mut self) {
        self.all.shrink_to_fit();
        for list in self.keys.values_mut().flat_map(|values| values.values_mut()) {
            list.shrink_to_fit();
        }
        self.symbols.shrink_to_fit();
    }

    /// An estimate of the heap and inline bytes the index holds.
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        const ARC_HEADER: usize = 2 * size_of::<usize>();
        // B-tree nodes are about two-thirds full; one control byte per hash slot.
        let btree_entry = |k: usize, v: usize| (k + v) * 3 / 2;
        let strings: usize = self.symbols.iter().map(|s| s.len() + ARC_HEADER).sum();
        let symbol_slots = self.symbols.capacity() * (size_of::<Arc<str>>() + 1);
        let mut maps = 0;
        for values in self.keys.values() {
            maps += btree_entry(size_of::<Arc<str>>(), size_of::<Values>());
            maps += values.len() * btree_entry(size_of::<Arc<str>>(), size_of::<Vec<SeriesId>>());
            maps += values.values().map(|l| l.capacity() * size_of::<SeriesId>()).sum::<usize>();
        }
        size_of::<Self>() + strings + symbol_slots + maps + self.all.capacity() * size_of::<SeriesId>()
    }

    fn eval(&self, node: &Node) -> Cow<'_, [SeriesId]> {
        match node {
            Node::True => Cow::Borrowed(&self.all),
            Node::False => Cow::Borrowed(&[]),
            Node::Eq(k, v) => self.postings(k, v),
            Node::In(k, vs) => match self.keys.get(k.as_str()) {
                None => Cow::Borrowed(&[]),
                Some(values) => owned_union(vs.iter().filter_map(|v| values.get(v.as_str()))),
            },
            Node::Has(k) => match self.keys.get(k.as_str()) {
                None => Cow::Borrowed(&[]),
                // A series has at most one value per key, so when the counts add up to every
                // series, every series has the key (`name` always does).
                Some(values) if values.values().map(|l| l.len()).sum::<usize>() == self.all.len() => {
                    Cow::Borrowed(&self.all)
                }
                Some(values) => owned_union(values.values()),
            },
            Node::Re(k, re) => self.eval_re(k, re),
            Node::Cmp(k, op, bound) => self.eval_cmp(k, *op, bound),
            Node::Not(inner) => Cow::Owned(postings::difference(&self.all, &self.eval(inner))),
            Node::And(a, b) => self.eval_and(a, b),
            Node::Or(a, b) => {
                let a = self.eval(a);
                if a.len() == self.all.len() {
                    return a;
                }
                let b = self.eval(b);
                match (a.is_empty(), b.is_empty()) {
                    (true, _) => b,
                    (_, true) => a,
                    _ => Cow::Owned(postings::union(&a, &b)),
                }
            }
        }
    }

    /// `a AND b`, as a difference when one side is a `:not`, so the all-series list is not used.
    fn eval_and(&self, a: &Node, b: &Node) -> Cow<'_, [SeriesId]> {
        match (a, b) {
            (Node::Not(_), Node::Not(_)) => {}
            (pos, Node::Not(neg)) | (Node::Not(neg), pos) => {
                let pos = self.eval(pos);
                if pos.is_empty() {
                    return pos;
                }
                return Cow::Owned(postings::difference(&pos, &self.eval(neg)));
            }
            _ => {}
        }
        let a = self.eval(a);
        if a.is_empty() {
            return a;
        }
        let b = self.eval(b);
        Cow::Owned(postings::intersect(&a, &b))
    }

    fn postings(&self, key: &str, value: &str) -> Cow<'_, [SeriesId]> {
        let list = self.keys.get(key).and_then(|values| values.get(value));
        Cow::Borrowed(list.map_or(&[][..], |l| l.as_slice()))
    }

    fn eval_re(&self, key: &str, re: &CompiledRe) -> Cow<'_, [SeriesId]> {
        let Some(values) = self.keys.get(key) else { return Cow::Borrowed(&[]) };
        match &re.shape {
            Shape::Exact(v) => self.postings(key, v),
            Shape::Prefix(p) => owned_union(with_prefix(values, p).map(|(_, l)| l)),
            Shape::Scan(p) => owned_union(with_prefix(values, p).filter(|(v, _)| re.regex.is_match(v)).map(|(_, l)| l)),
        }
    }

    fn eval_cmp(&self, key: &str, op: CmpOp, bound: &str) -> Cow<'_, [SeriesId]> {
        let Some(values) = self.keys.get(key) else { return Cow::Borrowed(&[]) };
        let range = match op {
            CmpOp::Lt => (Bound::Unbounded, Bound::Excluded(bound)),
            CmpOp::Le => (Bound::Unbounded, Bound::Included(bound)),
            CmpOp::Gt => (Bound::Excluded(bound), Bound::Unbounded),
            CmpOp::Ge => (Bound::Included(bound), Bound::Unbounded),
        };
        owned_union(values.range::<str, _>(range).map(|(_, l)| l))
    }
}

/// The values of a key that start with `prefix`, in order.
fn with_prefix<'a>(values: &'a Values, prefix: &'a str) -> impl Iterator<Item = (&'a Arc<str>, &'a Vec<SeriesId>)> {
    values.range::<str, _>((Bound::Included(prefix), Bound::Unbounded)).take_while(move |(v, _)| v.starts_with(prefix))
}

fn owned_union<'a>(lists: impl Iterator<Item = &'a Vec<SeriesId>>) -> Cow<'static, [SeriesId]> {
    Cow::Owned(postings::union_many(lists.map(|l| l.as_slice())))
}

/// The shared copy of `s`, added to `symbols` if new.
fn intern(symbols: &mut HashSet<Arc<str>>, s: &str) -> Arc<str> {
    if let Some(existing) = symbols.get(s) {
        return Arc::clone(existing);
    }
    let new: Arc<str> = Arc::from(s);
    symbols.insert(Arc::clone(&new));
    new
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Matcher;
    use proptest::prelude::*;

    fn tags(pairs: &[(&str, &str)]) -> SeriesTags {
        SeriesTags::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    /// The sample table of Atlas's query reference (`asl/ref/eq.md` and the others), ids 0..=5.
    fn atlas_sample() -> MemIndex {
        let rows = [
            ("ssCpuUser", "alerttest", Some("i-0123")),
            ("ssCpuSystem", "alerttest", Some("i-0123")),
            ("ssCpuUser", "nccp", Some("i-0abc")),
            ("ssCpuSystem", "nccp", Some("i-0abc")),
            ("numRequests", "nccp", None),
            ("ssCpuUser", "api", Some("i-0456")),
        ];
        let mut idx = MemIndex::new();
        for (id, (name, app, node)) in rows.into_iter().enumerate() {
            let mut t = vec![("name", name), ("nf.app", app)];
            t.extend(node.map(|n| ("nf.node", n)));
            assert!(idx.add(id as SeriesId, &tags(&t)));
        }
        idx
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    fn re(k: &str, p: &str, ignore_case: bool) -> Matcher {
        Matcher::Re { key: s(k), pattern: s(p), ignore_case }
    }

    fn not(m: Matcher) -> Matcher {
        Matcher::Not(Box::new(m))
    }

    fn and(a: Matcher, b: Matcher) -> Matcher {
        Matcher::And(Box::new(a), Box::new(b))
    }

    fn or(a: Matcher, b: Matcher) -> Matcher {
        Matcher::Or(Box::new(a), Box::new(b))
    }

    fn select(idx: &MemIndex, m: &Matcher) -> Vec<SeriesId> {
        idx.select(&m.compile().unwrap()).into_vec()
    }

    #[test]
    fn every_word_on_atlas_sample() {
        let idx = atlas_sample();
        let cpu = vec![0, 1, 2, 3, 5];
        let cases: Vec<(Matcher, Vec<SeriesId>)> = vec![
            (Matcher::True, vec![0, 1, 2, 3, 4, 5]),
            (Matcher::False, vec![]),
            (Matcher::Eq(s("name"), s("ssCpuUser")), vec![0, 2, 5]),
            (Matcher::Eq(s("name"), s("nope")), vec![]),
            (Matcher::Eq(s("nope"), s("ssCpuUser")), vec![]),
            (re("name", "ssCpu", false), cpu.clone()),
            (re("name", "^ssCpu.*", false), cpu.clone()),
            (re("name", "ssCPU", false), vec![]),
            (re("name", "ssCPU", true), cpu.clone()),
            (re("name", "Cpu", false), vec![]),
            (re("name", "ssCpuUser$", false), vec![0, 2, 5]),
            (re("name", "ss.*System", false), vec![1, 3]),
            (re("nf.node", "i-0[0-9]", false), vec![0, 1, 5]),
            (re("nf.node", "", false), cpu.clone()),
            (re("nope", ".*", false), vec![]),
            (Matcher::Has(s("nf.node")), cpu.clone()),
            (Matcher::Has(s("nope")), vec![]),
            (Matcher::In(s("name"), vec![s("ssCpuUser"), s("ssCpuSystem"), s("nope")]), cpu.clone()),
            (Matcher::In(s("name"), vec![]), vec![]),
            (Matcher::Gt(s("name"), s("ssCpuSystem")), vec![0, 2, 5]),
            (Matcher::Ge(s("name"), s("ssCpuSystem")), cpu.clone()),
            (Matcher::Lt(s("name"), s("ssCpuSystem")), vec![4]),
            (Matcher::Le(s("name"), s("ssCpuSystem")), vec![1, 3, 4]),
            (Matcher::Lt(s("nf.node"), s("zzz")), cpu.clone()),
            (not(Matcher::Has(s("nf.node"))), vec![4]),
            (and(Matcher::Eq(s("nf.app"), s("alerttest")), Matcher::Eq(s("name"), s("ssCpuUser"))), vec![0]),
            (or(Matcher::Eq(s("nf.app"), s("alerttest")), Matcher::Eq(s("name"), s("ssCpuUser"))), vec![0, 1, 2, 5]),
            (and(Matcher::Eq(s("name"), s("ssCpuUser")), not(Matcher::Eq(s("nf.app"), s("nccp")))), vec![0, 5]),
            (and(not(Matcher::Has(s("nf.node"))), not(Matcher::Eq(s("nf.app"), s("api")))), vec![4]),
            (and(Matcher::True, Matcher::Eq(s("name"), s("numRequests"))), vec![4]),
            (or(Matcher::False, Matcher::Eq(s("name"), s("numRequests"))), vec![4]),
        ];
        for (m, want) in cases {
            assert_eq!(select(&idx, &m), want, "{m:?}");
        }
    }

    #[test]
    fn listings_are_sorted() {
        let idx = atlas_sample();
        assert_eq!(idx.len(), 6);
        assert_eq!(idx.tag_keys().collect::<Vec<_>>(), ["name", "nf.app", "nf.node"]);
        assert_eq!(idx.tag_values("nf.app").collect::<Vec<_>>(), ["alerttest", "api", "nccp"]);
        assert_eq!(idx.tag_values("nope").count(), 0);
    }

    #[test]
    fn out_of_order_and_repeated_ids() {
        let mut idx = MemIndex::new();
        assert!(idx.add(10, &tags(&[("name", "a")])));
        assert!(idx.add(3, &tags(&[("name", "a")])));
        assert!(idx.add(7, &tags(&[("name", "b")])));
        assert!(!idx.add(3, &tags(&[("name", "b")])), "a repeated id is refused");
        assert_eq!(select(&idx, &Matcher::Eq(s("name"), s("a"))), vec![3, 10]);
        assert_eq!(select(&idx, &Matcher::Eq(s("name"), s("b"))), vec![7]);
        assert_eq!(select(&idx, &Matcher::True), vec![3, 7, 10]);
    }

    #[test]
    fn remove_drops_ids_values_and_strings() {
        let mut idx = atlas_sample();
        let before = idx.memory_bytes();
        idx.remove(&[5, 4, 99]);
        assert_eq!(idx.len(), 4);
        assert_eq!(idx.tag_values("nf.app").collect::<Vec<_>>(), ["alerttest", "nccp"]);
        assert_eq!(select(&idx, &Matcher::Eq(s("name"), s("ssCpuUser"))), vec![0, 2]);
        assert!(!idx.symbols.contains("api") && !idx.symbols.contains("numRequests"));
        assert!(idx.symbols.contains("nccp"));
        idx.remove(&[0, 1, 2, 3]);
        assert!(idx.is_empty() && idx.tag_keys().next().is_none() && idx.symbols.is_empty());
        idx.shrink_to_fit();
        assert!(idx.memory_bytes() < before);
    }

    #[test]
    fn strings_are_interned_once() {
        let mut idx = MemIndex::new();
        for id in 0..100 {
            idx.add(id, &tags(&[("name", "x"), ("app", "x"), ("node", &format!("n{}", id % 10))]));
        }
        // "name", "app", "node", "x" and ten node names.
        assert_eq!(idx.symbols.len(), 14);
        let x = idx.symbols.get("x").unwrap();
        // The set, the `name` map and the `app` map share one allocation.
        assert_eq!(Arc::strong_count(x), 3);
    }

    /// Small random series: `name` plus optional `k1`, `k2`, values over a tiny alphabet so that
    /// comparisons, prefixes and collisions are frequent.
    fn arb_series() -> impl Strategy<Value = Vec<SeriesTags>> {
        let value = "[abA.]{0,3}";
        let one = (value, proptest::option::of(value), proptest::option::of(value)).prop_map(|(n, k1, k2)| {
            let mut t = vec![(s("name"), n)];
            t.extend(k1.map(|v| (s("k1"), v)));
            t.extend(k2.map(|v| (s("k2"), v)));
            SeriesTags::new(t).unwrap()
        });
        proptest::collection::vec(one, 0..24)
    }

    fn arb_pattern() -> impl Strategy<Value = String> {
        let pieces = ["a", "b", "A", ".", ".*", "$", "^", "\\.", "[ab]", "a+", "b?", "|", "(a|b)", "a{1,2}", "\\$"];
        proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..4).prop_map(|v| v.concat())
    }

    fn arb_matcher() -> impl Strategy<Value = Matcher> {
        let key = proptest::sample::select(vec!["name", "k1", "k2", "zz"]).prop_map(s);
        let value = "[abA.]{0,3}";
        let leaf = prop_oneof![
            Just(Matcher::True),
            Just(Matcher::False),
            (key.clone(), value).prop_map(|(k, v)| Matcher::Eq(k, v)),
            (key.clone(), arb_pattern(), any::<bool>()).prop_map(|(key, pattern, ignore_case)| Matcher::Re {
                key,
                pattern,
                ignore_case
            }),
            key.clone().prop_map(Matcher::Has),
            (key.clone(), proptest::collection::vec(value, 0..3)).prop_map(|(k, v)| Matcher::In(k, v)),
            (key.clone(), value).prop_map(|(k, v)| Matcher::Lt(k, v)),
            (key.clone(), value).prop_map(|(k, v)| Matcher::Le(k, v)),
            (key.clone(), value).prop_map(|(k, v)| Matcher::Gt(k, v)),
            (key, value).prop_map(|(k, v)| Matcher::Ge(k, v)),
        ];
        leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(not),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| and(a, b)),
                (inner.clone(), inner).prop_map(|(a, b)| or(a, b)),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The index and the one-series matcher give the same answers, after out-of-order adds
        /// and removals too.
        #[test]
        fn select_agrees_with_matches(
            series in arb_series(),
            matchers in proptest::collection::vec(arb_matcher(), 1..4),
            gap in 1u64..5,
            reverse in any::<bool>(),
            removed in proptest::collection::vec(0usize..24, 0..6),
        ) {
            let mut ids: Vec<(SeriesId, &SeriesTags)> =
                series.iter().enumerate().map(|(i, t)| (i as SeriesId * gap, t)).collect();
            let mut idx = MemIndex::new();
            let order: Vec<_> = if reverse { ids.iter().rev().collect() } else { ids.iter().collect() };
            for (id, t) in order {
                prop_assert!(idx.add(*id, t));
            }
            let gone: Vec<SeriesId> = removed.iter().map(|&i| i as SeriesId * gap).collect();
            idx.remove(&gone);
            ids.retain(|(id, _)| !gone.contains(id));
            prop_assert_eq!(idx.len(), ids.len());
            for m in &matchers {
                let Ok(cm) = m.compile() else { continue };
                let want: Vec<SeriesId> = ids.iter().filter(|(_, t)| cm.matches(t)).map(|(id, _)| *id).collect();
                prop_assert_eq!(idx.select(&cm).into_vec(), want, "{:?}", m);
            }
        }
    }

    /// 100k series (10 names x 10k nodes): prints select times, asserts only the answers.
    #[test]
    fn timing_100k_series() {
        let (names, nodes) = (10u64, 10_000u64);
        let start = std::time::Instant::now();
        let mut idx = MemIndex::new();
        let mut all = Vec::new();
        for n in 0..names {
            for j in 0..nodes {
                let mut t = vec![s("name"), format!("metric{n}"), s("nf.node"), format!("i-{j:05}")];
                if j % 2 == 0 {
                    t.extend([s("nf.asg"), format!("asg-{}", j % 100)]);
                }
                let t = SeriesTags::new(t.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()).unwrap();
                idx.add(n * nodes + j, &t);
                all.push(t);
            }
        }
        let built = start.elapsed();
        let queries = [
            ("eq+eq and", and(Matcher::Eq(s("name"), s("metric3")), Matcher::Eq(s("nf.node"), s("i-00042")))),
            ("prefix re", re("nf.node", "i-001", false)),
            ("has (every series)", Matcher::Has(s("nf.node"))),
            ("has (half)", Matcher::Has(s("nf.asg"))),
        ];
        eprintln!(
            "index of {} series built in {built:?}, about {} bytes/series",
            idx.len(),
            idx.memory_bytes() / idx.len()
        );
        for (label, m) in queries {
            let cm = m.compile().unwrap();
            let t = std::time::Instant::now();
            let got = idx.select(&cm);
            let took = t.elapsed();
            let want: Vec<SeriesId> = (0..).zip(&all).filter(|(_, t)| cm.matches(t)).map(|(id, _)| id).collect();
            assert_eq!(got.as_slice(), want.as_slice(), "{label}");
            eprintln!("{label}: {} series in {took:?}", got.len());
        }
    }
}
