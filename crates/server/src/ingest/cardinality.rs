//! Cardinality protection: a cap on how many NEW series may be created a minute, across all
//! metrics and per metric name.
//!
//! [`CardinalityLimiter::admit`] is asked once for each sample that would create a series and
//! answers `Ok` or a [`Refusal`] whose `Display` is the sentence the client sees.
//! [`CardinalityLimits`] holds the two rates and the bound on tracked names.
//!
//! Design decision: each limit is a token bucket refilled continuously, not a fixed window. A
//! bucket holds up to `limit` tokens and gains `limit / 60_000` of a token each millisecond, so a
//! burst of `limit` new series passes at once, and over any span of `T` ms at most
//! `limit + limit * T / 60_000` are admitted, with no doubling at a window's edge. Amounts are
//! kept in integer units of 1/60,000 of a token, so refill is exact. Per-name buckets live in a
//! map bounded by [`CardinalityLimits::max_tracked_names`]; when it is full, the bucket that is
//! (or soonest will be) full again is dropped: a full bucket says nothing a fresh one would not,
//! and since every bucket refills at the same rate, the soonest-full is also the one whose loss
//! grants the fewest extra series. With the bound at least twice the global rate (the default),
//! some tracked bucket is always full, so eviction never loses information. The limiter's clock
//! never runs backwards: an earlier `now_ms` than one already seen counts as no time passing.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Default for [`CardinalityLimits::new_series_per_minute`]: 100,000.
pub const DEFAULT_NEW_SERIES_PER_MINUTE: u32 = 100_000;
/// Default for [`CardinalityLimits::new_series_per_minute_per_name`]: 10,000.
pub const DEFAULT_NEW_SERIES_PER_MINUTE_PER_NAME: u32 = 10_000;
/// Default for [`CardinalityLimits::max_tracked_names`]: 200,000, twice the default global rate,
/// which keeps every per-name limit exact (see the module documentation).
pub const DEFAULT_MAX_TRACKED_NAMES: usize = 200_000;

/// Milliseconds in the window every rate is expressed in; also the number of units in a token.
const MINUTE_MS: u64 = 60_000;
/// Units in one token: a bucket with rate `limit` a minute gains `limit` units a millisecond.
const TOKEN: u64 = MINUTE_MS;

/// How fast new series may appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardinalityLimits {
    /// New series a minute across all metric names, sustained; a burst of this many passes at
    /// once. 0 refuses every new series. Default is 100,000.
    pub new_series_per_minute: u32,
    /// New series a minute for any one metric name (the `name` tag), sustained; a burst of this
    /// many passes at once. 0 refuses every new series. Default is 10,000.
    pub new_series_per_minute_per_name: u32,
    /// Most metric names whose per-name state is kept (at least 1). Per-name limits are exact
    /// while this is at least twice `new_series_per_minute`; below that, a flood of distinct
    /// names may force out a name that is still being limited. Default is 200,000.
    pub max_tracked_names: usize,
}

impl Default for CardinalityLimits {
    fn default() -> Self {
        CardinalityLimits {
            new_series_per_minute: DEFAULT_NEW_SERIES_PER_MINUTE,
            new_series_per_minute_per_name: DEFAULT_NEW_SERIES_PER_MINUTE_PER_NAME,
            max_tracked_names: DEFAULT_MAX_TRACKED_NAMES,
        }
    }
}

/// Why a new series was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Too many new series across all metrics.
    #[error(
        "too many new series: more than {limit} a minute; new series of every metric are refused until the rate falls"
    )]
    Global {
        /// The limit that was reached, new series a minute.
        limit: u32,
    },
    /// Too many new series for one metric name.
    #[error(
        "too many new series for metric {name:?}: more than {limit} a minute; a tag with unbounded values (ids, timestamps) is the usual cause"
    )]
    PerName {
        /// The metric name (the `name` tag).
        name: String,
        /// The limit that was reached, new series a minute.
        limit: u32,
    },
}

/// A token bucket in units of 1/60,000 of a token, as of `at_ms`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    units: u64,
    at_ms: i64,
}

impl Bucket {
    fn full(limit: u32, at_ms: i64) -> Self {
        Bucket { units: capacity(limit), at_ms }
    }

    /// Adds what `limit` a minute earns from `at_ms` to `now_ms`; nothing if time went back.
    fn refill(&mut self, limit: u32, now_ms: i64) {
        if now_ms <= self.at_ms {
            return;
        }
        let elapsed = u64::try_from(i128::from(now_ms) - i128::from(self.at_ms)).unwrap_or(u64::MAX);
        let earned = u64::from(limit).saturating_mul(elapsed);
        self.units = self.units.saturating_add(earned).min(capacity(limit));
        self.at_ms = now_ms;
    }

    fn has_token(&self) -> bool {
        self.units >= TOKEN
    }

    fn take(&mut self) {
        self.units = self.units.saturating_sub(TOKEN);
    }

    /// The first millisecond at which the bucket is full again, with no more taken.
    fn full_at(&self, limit: u32) -> i64 {
        let deficit = capacity(limit).saturating_sub(self.units);
        let wait = deficit.div_ceil(u64::from(limit.max(1)));
        self.at_ms.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX))
    }
}

fn capacity(limit: u32) -> u64 {
    u64::from(limit) * TOKEN
}

/// A tracked name's bucket and the key under which it sits in the eviction order.
#[derive(Debug)]
struct NameState {
    bucket: Bucket,
    full_at: i64,
}

/// Decides whether a new series may be created; see the module documentation.
#[derive(Debug)]
pub struct CardinalityLimiter {
    limits: CardinalityLimits,
    /// The latest `now_ms` seen; the limiter's time never goes back.
    clock_ms: i64,
    global: Bucket,
    names: HashMap<Arc<str>, NameState>,
    /// Tracked names by the time their bucket is full again: the first is evicted first.
    by_full_at: BTreeSet<(i64, Arc<str>)>,
    admitted: u64,
    refused_global: u64,
    refused_per_name: u64,
    evicted_active: u64,
}

impl CardinalityLimiter {
    /// A limiter with every bucket full.
    pub fn new(limits: CardinalityLimits) -> Self {
        let global = Bucket::full(limits.new_series_per_minute, i64::MIN);
        CardinalityLimiter {
            limits,
            clock_ms: i64::MIN,
            global,
            names: HashMap::new(),
            by_full_at: BTreeSet::new(),
            admitted: 0,
            refused_global: 0,
            refused_per_name: 0,
            evicted_active: 0,
        }
    }

    /// The limits this limiter enforces.
    pub fn limits(&self) -> &CardinalityLimits {
        &self.limits
    }

    /// Asks to create one new series of metric `name` at `now_ms` (epoch ms, the server's
    /// clock). The global limit is checked first; a refusal consumes nothing.
    pub fn admit(&mut self, name: &str, now_ms: i64) -> Result<(), Refusal> {
        let now = self.clock_ms.max(now_ms);
        self.clock_ms = now;
        let global_limit = self.limits.new_series_per_minute;
        let name_limit = self.limits.new_series_per_minute_per_name;

        self.global.refill(global_limit, now);
        if !self.global.has_token() {
            self.refused_global += 1;
            return Err(Refusal::Global { limit: global_limit });
        }
        let per_name = Refusal::PerName { name: name.to_owned(), limit: name_limit };
        match self.names.get_key_value(name).map(|(key, _)| Arc::clone(key)) {
            Some(key) => {
                let Some(state) = self.names.get_mut(&key) else {
                    return Err(per_name); // unreachable: the key was just found
                };
                state.bucket.refill(name_limit, now);
                if !state.bucket.has_token() {
                    self.refused_per_name += 1;
                    return Err(per_name);
                }
                state.bucket.take();
                let old = std::mem::replace(&mut state.full_at, state.bucket.full_at(name_limit));
                let new = state.full_at;
                self.by_full_at.remove(&(old, Arc::clone(&key)));
                self.by_full_at.insert((new, key));
            }
            None => {
                let mut bucket = Bucket::full(name_limit, now);
                if !bucket.has_token() {
                    self.refused_per_name += 1;
                    return Err(per_name);
                }
                bucket.take();
                self.make_room(now);
                let key: Arc<str> = Arc::from(name);
                let full_at = bucket.full_at(name_limit);
                self.by_full_at.insert((full_at, Arc::clone(&key)));
                self.names.insert(key, NameState { bucket, full_at });
            }
        }
        self.global.take();
        self.admitted += 1;
        Ok(())
    }

    /// Evicts soonest-full buckets until one more name fits.
    fn make_room(&mut self, now: i64) {
        while self.names.len() >= self.limits.max_tracked_names.max(1) {
            let Some((full_at, key)) = self.by_full_at.pop_first() else {
                break;
            };
            self.names.remove(&key);
            if full_at > now {
                self.evicted_active += 1;
            }
        }
    }

    /// New series admitted since the start.
    pub fn admitted_total(&self) -> u64 {
        self.admitted
    }

    /// New series refused since the start, for either reason.
    pub fn refused_total(&self) -> u64 {
        self.refused_global + self.refused_per_name
    }

    /// New series refused by the global limit ([`Refusal::Global`]).
    pub fn refused_global_total(&self) -> u64 {
        self.refused_global
    }

    /// New series refused by a per-name limit ([`Refusal::PerName`]).
    pub fn refused_per_name_total(&self) -> u64 {
        self.refused_per_name
    }

    /// Names whose per-name state is kept now (at most `max_tracked_names`).
    pub fn tracked_names(&self) -> usize {
        self.names.len()
    }

    /// Names evicted while their bucket was not yet full, each a small loss of precision in
    /// its per-name limit. Stays 0 while `max_tracked_names` is at least twice the global rate.
    pub fn evicted_active_total(&self) -> u64 {
        self.evicted_active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(global: u32, per_name: u32) -> CardinalityLimits {
        CardinalityLimits {
            new_series_per_minute: global,
            new_series_per_minute_per_name: per_name,
            ..CardinalityLimits::default()
        }
    }

    /// Admits `name` up to `n` times at `t`, returning how many passed.
    fn burst(lim: &mut CardinalityLimiter, name: &str, t: i64, n: usize) -> usize {
        (0..n).filter(|_| lim.admit(name, t).is_ok()).count()
    }

    #[test]
    fn defaults_are_documented_values() {
        let d = CardinalityLimits::default();
        assert_eq!(d.new_series_per_minute, DEFAULT_NEW_SERIES_PER_MINUTE);
        assert_eq!(d.new_series_per_minute_per_name, DEFAULT_NEW_SERIES_PER_MINUTE_PER_NAME);
        assert!(d.max_tracked_names >= 2 * d.new_series_per_minute as usize);
    }

    #[test]
    fn burst_at_exactly_the_limit_passes_and_one_more_fails() {
        let mut lim = CardinalityLimiter::new(limits(1000, 50));
        assert_eq!(burst(&mut lim, "cpu", 5_000, 50), 50);
        assert_eq!(lim.admit("cpu", 5_000), Err(Refusal::PerName { name: "cpu".into(), limit: 50 }));

        let mut lim = CardinalityLimiter::new(limits(30, 50));
        for i in 0..30 {
            assert_eq!(lim.admit(&format!("m{i}"), 0), Ok(()));
        }
        assert_eq!(lim.admit("other", 0), Err(Refusal::Global { limit: 30 }));
        assert_eq!((lim.admitted_total(), lim.refused_total(), lim.refused_global_total()), (30, 1, 1));
    }

    #[test]
    fn refill_partial_and_full() {
        // 60 a minute: one token a second.
        let mut lim = CardinalityLimiter::new(limits(1000, 60));
        assert_eq!(burst(&mut lim, "a", 0, 61), 60);
        assert!(lim.admit("a", 999).is_err(), "less than a token after 999 ms");
        assert_eq!(burst(&mut lim, "a", 1_000, 5), 1, "one token after one second");
        assert_eq!(burst(&mut lim, "a", 10_500, 20), 9, "9.5 tokens after 9.5 s");
        assert_eq!(burst(&mut lim, "a", 11_000, 5), 1, "the half token left over counts");
        assert_eq!(burst(&mut lim, "a", 1_000_000, 100), 60, "full again, never more than full");
        assert_eq!(lim.refused_per_name_total(), 1 + 1 + 4 + 11 + 4 + 40);
    }

    #[test]
    fn per_name_limits_are_independent() {
        let mut lim = CardinalityLimiter::new(limits(1000, 5));
        assert_eq!(burst(&mut lim, "a", 0, 10), 5);
        assert_eq!(burst(&mut lim, "b", 0, 10), 5);
        assert_eq!(burst(&mut lim, "a", 0, 1), 0);
        assert_eq!(burst(&mut lim, "c", 0, 3), 3);
        assert_eq!(burst(&mut lim, "c", 0, 3), 2);
        assert_eq!(lim.refused_per_name_total(), 5 + 5 + 1 + 1);
    }

    #[test]
    fn global_binds_before_per_name_and_refusals_consume_nothing() {
        let mut lim = CardinalityLimiter::new(limits(5, 10));
        assert_eq!(burst(&mut lim, "a", 0, 5), 5);
        assert_eq!(lim.admit("a", 0), Err(Refusal::Global { limit: 5 }));
        assert_eq!(lim.admit("new", 0), Err(Refusal::Global { limit: 5 }));
        assert_eq!(lim.tracked_names(), 1, "a global refusal tracks no name");

        // Per-name refusals leave the global tokens for other names.
        let mut lim = CardinalityLimiter::new(limits(10, 3));
        assert_eq!(burst(&mut lim, "a", 0, 6), 3);
        assert_eq!(burst(&mut lim, "b", 0, 3), 3);
        assert_eq!(burst(&mut lim, "c", 0, 3), 3);
        assert_eq!(lim.admit("d", 0), Ok(()));
        assert_eq!(lim.admit("d", 0), Err(Refusal::Global { limit: 10 }));
        // At 19,999 ms d has 2.99995 per-name tokens (and the global bucket 3.33): 2 pass. Had the
        // global refusal consumed one of d's tokens, only 1 would.
        assert_eq!(burst(&mut lim, "d", 19_999, 2), 2);
        assert_eq!(lim.admit("d", 19_999), Err(Refusal::PerName { name: "d".into(), limit: 3 }));
    }

    #[test]
    fn time_going_backwards_grants_nothing_and_never_panics() {
        let mut lim = CardinalityLimiter::new(limits(100, 10)); // a token per 6 s per name
        assert_eq!(burst(&mut lim, "a", 1_000_000, 10), 10);
        assert!(lim.admit("a", 0).is_err());
        assert!(lim.admit("a", i64::MIN).is_err());
        assert!(lim.admit("a", 1_005_999).is_err(), "the step back must not count as time");
        assert_eq!(burst(&mut lim, "a", 1_006_000, 3), 1);
        // A new name created while the clock is back starts from the latest time seen.
        assert_eq!(burst(&mut lim, "b", 10, 10), 10);
        assert!(lim.admit("b", 1_006_000).is_err());
        // Extremes: no overflow panic, and a jump to the far future refills only to full.
        assert_eq!(burst(&mut lim, "c", i64::MAX, 20), 10);
        assert!(lim.admit("c", i64::MAX).is_err());
    }

    #[test]
    fn zero_limits_refuse_everything() {
        let mut lim = CardinalityLimiter::new(limits(0, 10));
        assert_eq!(lim.admit("a", 0), Err(Refusal::Global { limit: 0 }));
        assert_eq!(lim.admit("a", i64::MAX), Err(Refusal::Global { limit: 0 }));
        let mut lim = CardinalityLimiter::new(limits(10, 0));
        assert_eq!(lim.admit("a", 0), Err(Refusal::PerName { name: "a".into(), limit: 0 }));
        assert_eq!((lim.tracked_names(), lim.refused_per_name_total()), (0, 1));
    }

    #[test]
    fn refusals_read_as_one_sentence() {
        let global = Refusal::Global { limit: 100_000 }.to_string();
        assert!(global.starts_with("too many new series: more than 100000 a minute;"), "{global}");
        let per = Refusal::PerName { name: "http.req".into(), limit: 10_000 }.to_string();
        assert!(per.starts_with("too many new series for metric \"http.req\": more than 10000 a minute;"), "{per}");
        assert!(!global.contains('\n') && !per.contains('\n'));
    }

    #[test]
    fn flood_of_distinct_names_at_one_instant_stops_at_the_global_limit() {
        let mut lim = CardinalityLimiter::new(CardinalityLimits::default());
        let admitted = (0..300_000).filter(|i| lim.admit(&format!("flood.{i}"), 0).is_ok()).count();
        assert_eq!(admitted, 100_000);
        assert_eq!(lim.refused_global_total(), 200_000);
        assert_eq!(lim.tracked_names(), 100_000);
    }

    #[test]
    fn flood_of_distinct_names_over_time_keeps_the_map_bounded_and_limits_exact() {
        // One distinct name a millisecond (60k a minute) plus a hot name every third millisecond
        // (20k a minute against a limit of 10k), for 300k ms.
        let mut lim = CardinalityLimiter::new(CardinalityLimits::default());
        let (mut hot_admitted, mut max_tracked) = (0u64, 0);
        let started = std::time::Instant::now();
        for t in 0..300_000i64 {
            assert_eq!(lim.admit(&format!("flood.{t}"), t), Ok(()), "distinct names stay under every limit");
            if t % 3 == 0 && lim.admit("hot", t).is_ok() {
                hot_admitted += 1;
            }
            max_tracked = max_tracked.max(lim.tracked_names());
        }
        eprintln!("400k admits in {:?}", started.elapsed());
        assert!(max_tracked <= DEFAULT_MAX_TRACKED_NAMES);
        assert_eq!(lim.evicted_active_total(), 0);
        // Hot: at most the burst plus the refill over 299,997 ms; and the limiter is not stricter.
        let refill = 10_000 * 299_997 / 60_000;
        assert!(hot_admitted <= 10_000 + refill, "{hot_admitted}");
        assert!(hot_admitted >= refill, "{hot_admitted}");
    }

    #[test]
    fn a_small_map_evicts_the_fullest_bucket_first() {
        let limits = CardinalityLimits { max_tracked_names: 100, ..limits(1_000_000, 50) };
        let mut lim = CardinalityLimiter::new(limits);
        assert_eq!(burst(&mut lim, "hot", 0, 50), 50);
        for i in 0..5_000 {
            assert!(lim.admit(&format!("n{i}"), 0).is_ok());
            assert!(lim.tracked_names() <= 100);
        }
        assert!(lim.evicted_active_total() > 0, "the map was too small for the flood");
        assert!(lim.admit("hot", 0).is_err(), "the drained bucket is the last one evicted");
    }

    // ---- property: the limiter matches a brute-force model of the token bucket ----

    /// Brute force: a bucket of rate `limit` a minute admits at `t` iff for every earlier
    /// admission time `s` (and for `s = t`), the admissions in `[s, t]` plus this one fit in
    /// `limit + limit * (t - s) / 60_000`.
    fn model_fits(admitted: &[i64], limit: u32, t: i64) -> bool {
        let fits = |count: u64, s: i64| {
            let span = u64::try_from(t - s).unwrap_or(0);
            (count + 1) * TOKEN <= capacity(limit) + u64::from(limit) * span
        };
        fits(0, t) && admitted.iter().enumerate().all(|(i, &s)| fits(u64::try_from(admitted.len() - i).unwrap_or(0), s))
    }

    fn events() -> impl Strategy<Value = Vec<(u8, i64)>> {
        let step = prop_oneof![3 => Just(0i64), 4 => 0i64..20_000, 1 => -30_000i64..0];
        prop::collection::vec((0u8..6, step), 0..250)
    }

    proptest! {
        #[test]
        fn matches_the_brute_force_model(global in 0u32..25, per_name in 0u32..12, events in events()) {
            let tracked = (2 * global as usize).max(1);
            let lim_cfg = CardinalityLimits { max_tracked_names: tracked, ..limits(global, per_name) };
            let mut lim = CardinalityLimiter::new(lim_cfg);
            let (mut t, mut clock) = (1_000_000i64, i64::MIN);
            let mut global_times: Vec<i64> = Vec::new();
            let mut name_times: HashMap<String, Vec<i64>> = HashMap::new();
            for (name, step) in events {
                t += step;
                clock = clock.max(t);
                let name = format!("m{name}");
                let times = name_times.entry(name.clone()).or_default();
                let expected = if !model_fits(&global_times, global, clock) {
                    Err(Refusal::Global { limit: global })
                } else if !model_fits(times, per_name, clock) {
                    Err(Refusal::PerName { name: name.clone(), limit: per_name })
                } else {
                    Ok(())
                };
                prop_assert_eq!(lim.admit(&name, t), expected.clone());
                if expected.is_ok() {
                    global_times.push(clock);
                    times.push(clock);
                }
                prop_assert!(lim.tracked_names() <= tracked);
            }
            prop_assert_eq!(lim.evicted_active_total(), 0);
            prop_assert_eq!(lim.admitted_total(), global_times.len() as u64);
        }

        #[test]
        fn never_admits_more_than_limit_plus_refill(
            global in 1u32..25, per_name in 1u32..12, tracked in 1usize..4, events in events()
        ) {
            let lim_cfg = CardinalityLimits { max_tracked_names: tracked, ..limits(global, per_name) };
            let mut lim = CardinalityLimiter::new(lim_cfg);
            let (mut t, mut clock) = (0i64, i64::MIN);
            let mut admitted: Vec<(u8, i64)> = Vec::new();
            for (name, step) in events {
                t += step;
                clock = clock.max(t);
                if lim.admit(&format!("m{name}"), t).is_ok() {
                    admitted.push((name, clock));
                }
                prop_assert!(lim.tracked_names() <= tracked);
            }
            // Over every window [s, e] of admission times (a brute-force check of all pairs).
            let bound = |limit: u32, s: i64, e: i64| u64::from(limit) + u64::from(limit) * u64::try_from(e - s).unwrap_or(0) / MINUTE_MS;
            for (i, &(_, s)) in admitted.iter().enumerate() {
                for (j, &(name, e)) in admitted.iter().enumerate().skip(i) {
                    let all = (j - i + 1) as u64;
                    prop_assert!(all <= bound(global, s, e), "global: {} in [{}, {}]", all, s, e);
                    if lim.evicted_active_total() == 0 {
                        let same = admitted[i..=j].iter().filter(|(n, _)| *n == name).count() as u64;
                        prop_assert!(same <= bound(per_name, s, e), "per name: {} in [{}, {}]", same, s, e);
                    }
                }
            }
        }
    }
}
