//! Writing into the head: check, log durably, then apply.

use foldhash::HashMapExt;
use hashbrown::HashTable;

use super::{Closed, FastMap, Head, HeadError, MemSeries, Spill};
use crate::batch::{hash_tags, same_tags, to_owned_tags};
use crate::chunkenc::AppendError;
use crate::wal::Record;
use crate::{Batch, SeriesId, SeriesTags};

/// Replayed samples buffered before they are applied series by series (24 bytes each).
const REPLAY_BATCH: usize = 1 << 20;

/// Most entries the per-append map of last timestamps is sized for up front.
const MAX_PRESIZE: usize = 1 << 16;

/// What an append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// Samples written (durable when the head has a WAL).
    pub accepted: usize,
    /// Samples at or before their series' last timestamp, or before the head's
    /// [`min_valid_time`](Head::min_valid_time) (blocks already hold that range), rejected.
    pub out_of_order: usize,
    /// Series the append created.
    pub new_series: usize,
    /// The positions in the input of the samples rejected as out of order.
    pub out_of_order_at: Vec<usize>,
    /// The positions of the samples whose new series the admission check refused, with its reason.
    pub refused_at: Vec<(usize, String)>,
}

impl Head {
    /// Appends `samples` (each its series' tags, a millisecond timestamp and a value). Samples
    /// of one series must come in increasing time; one at or before the series' last timestamp
    /// is rejected and counted. The accepted ones are durable in the WAL before this returns.
    /// On a WAL error nothing of the batch is applied.
    pub fn append(&mut self, samples: Vec<(SeriesTags, i64, f64)>) -> Result<AppendReport, HeadError> {
        self.append_admitting(samples, |_| None)
    }

    /// [`Head::append`], asking `admit` before creating each new series: a `Some(reason)`
    /// refuses the series and every sample of it in this batch (cardinality protection).
    pub fn append_admitting(
        &mut self,
        samples: Vec<(SeriesTags, i64, f64)>,
        admit: impl FnMut(&SeriesTags) -> Option<String>,
    ) -> Result<AppendReport, HeadError> {
        let mut batch = Batch::with_capacity(samples.len(), 0, samples.len());
        for (tags, t, v) in &samples {
            batch.push_tags(tags, &[(*t, *v)]);
        }
        self.append_batch(&batch, admit)
    }

    /// Appends a [`Batch`]: [`Head::append_admitting`] without owned tags. Positions in the
    /// report are the batch's. Only a series the head has never seen costs an allocation.
    pub fn append_batch(
        &mut self,
        batch: &Batch<'_>,
        mut admit: impl FnMut(&SeriesTags) -> Option<String>,
    ) -> Result<AppendReport, HeadError> {
        let mut report = AppendReport::default();
        let mut created: Vec<(SeriesId, SeriesTags)> = Vec::new();
        // Series this batch creates or refuses, by tag hash: (hash, index into the vector).
        let mut pending: HashTable<(u64, usize)> = HashTable::new();
        let mut refused: HashTable<(u64, usize)> = HashTable::new();
        let mut refusals: Vec<(&[(&str, &str)], String)> = Vec::new();
        let mut last: FastMap<SeriesId, i64> = FastMap::with_capacity(batch.series_count().min(MAX_PRESIZE));
        let mut accepted: Vec<(SeriesId, i64, f64)> = Vec::with_capacity(batch.len());
        for (tags, samples, first) in batch.series() {
            let hash = hash_tags(&self.hasher, tags.iter().copied());
            let known = self.find_id(hash, tags).or_else(|| {
                let e =
                    pending.find(hash, |&(h, i)| h == hash && created.get(i).is_some_and(|c| same_tags(&c.1, tags)));
                e.and_then(|&(_, i)| created.get(i)).map(|c| c.0)
            });
            let id = match known {
                Some(id) => id,
                None => {
                    let seen = refused
                        .find(hash, |&(h, i)| h == hash && refusals.get(i).is_some_and(|r| r.0 == tags))
                        .and_then(|&(_, i)| refusals.get(i));
                    if let Some((_, reason)) = seen {
                        report.refused_at.extend((first..first + samples.len()).map(|p| (p, reason.clone())));
                        continue;
                    }
                    let admitted =
                        to_owned_tags(tags).map_err(|e| e.to_string()).and_then(|owned| match admit(&owned) {
                            Some(reason) => Err(reason),
                            None => Ok(owned),
                        });
                    let owned = match admitted {
                        Ok(owned) => owned,
                        Err(reason) => {
                            report.refused_at.extend((first..first + samples.len()).map(|p| (p, reason.clone())));
                            refused.insert_unique(hash, (hash, refusals.len()), |e| e.0);
                            refusals.push((tags, reason));
                            continue;
                        }
                    };
                    let id = self.next_id.saturating_add(created.len() as SeriesId);
                    pending.insert_unique(hash, (hash, created.len()), |e| e.0);
                    created.push((id, owned));
                    id
                }
            };
            let before = last.get(&id).copied().or_else(|| self.series.get(&id).and_then(|s| s.last_t));
            let mut prev = before;
            for (k, &(t, v)) in samples.iter().enumerate() {
                if prev.is_some_and(|p| t <= p) || t < self.min_valid_t {
                    report.out_of_order += 1;
                    report.out_of_order_at.push(first + k);
                    continue;
                }
                prev = Some(t);
                accepted.push((id, t, v));
            }
            if let Some(p) = prev
                && prev != before
            {
                last.insert(id, p);
            }
        }
        // Series whose every sample was rejected are not created.
        created.retain(|(id, _)| last.contains_key(id));
        if let Some(wal) = &mut self.wal {
            let mut records = Vec::with_capacity(2);
            if !created.is_empty() {
                records.push(Record::Series(created.clone()));
            }
            if !accepted.is_empty() {
                records.push(Record::Samples(accepted.clone()));
            }
            if !records.is_empty() {
                wal.append(&records)?;
            }
        }
        report.new_series = created.len();
        report.accepted = accepted.len();
        for (id, tags) in created {
            self.new_series(id, tags);
        }
        self.apply_samples(&accepted);
        Ok(report)
    }

    /// Applies a WAL record during replay. Samples are mapped to the head's ids now (a later
    /// series record may reuse a WAL id) but applied in batches ([`Head::flush_replay`]).
    pub(super) fn replay(&mut self, record: Record) {
        match record {
            Record::Series(list) => self.replay_series(list),
            Record::Samples(samples) => {
                let (map, min) = (&self.replay_ids, self.min_valid_t);
                self.replay_buffer.extend(samples.into_iter().filter_map(|(id, t, v)| match map.get(&id) {
                    Some(&mine) if t >= min => Some((mine, t, v)),
                    _ => None,
                }));
                if self.replay_buffer.len() >= REPLAY_BATCH {
                    self.flush_replay();
                }
            }
        }
    }

    /// Applies the buffered replayed samples series by series: grouped by id (each series
    /// keeping the WAL's order), every series' chunk is appended to in one run instead of
    /// one cache miss per sample, which made replay several times faster on 100k series.
    pub(super) fn flush_replay(&mut self) {
        let mut samples = group_by_id(std::mem::take(&mut self.replay_buffer));
        let mut rest = samples.as_slice();
        while let Some(&(id, _, _)) = rest.first() {
            let n = rest.iter().position(|&(other, _, _)| other != id).unwrap_or(rest.len());
            let (run, tail) = rest.split_at(n);
            if let Some(s) = self.series.get_mut(&id) {
                for &(_, t, v) in run {
                    push(s, self.spill.as_mut(), t, v);
                }
            }
            rest = tail;
        }
        samples.clear();
        self.replay_buffer = samples;
    }

    /// Creates the series of a WAL record under the WAL's ids. Tags already known keep their id,
    /// and an id already taken by other tags (possible only in a damaged WAL, or after a crash
    /// in the middle of a truncation) gives the series the next free id instead, to be logged
    /// again under it; later samples under the WAL's id go to the series it names last.
    fn replay_series(&mut self, list: Vec<(SeriesId, SeriesTags)>) {
        for (wal_id, tags) in list {
            let id = match self.find_id_owned(&tags) {
                Some(id) => id,
                None if !self.series.contains_key(&wal_id) => {
                    self.new_series(wal_id, tags);
                    wal_id
                }
                None => {
                    let id = self.next_id;
                    self.new_series(id, tags);
                    self.relog.push(id);
                    id
                }
            };
            self.replay_ids.insert(wal_id, id);
        }
    }

    /// Appends samples to their series' chunks, skipping unknown ids and out-of-order times
    /// (possible only in replay of a damaged WAL).
    fn apply_samples(&mut self, samples: &[(SeriesId, i64, f64)]) {
        for &(id, t, v) in samples {
            if let Some(s) = self.series.get_mut(&id) {
                push(s, self.spill.as_mut(), t, v);
            }
        }
    }
}

/// `samples` ordered by series id, each series' samples in their original order. Ids are dense
/// (assigned in arrival order), so a counting sort does it in linear time when the id range is
/// at most a few times the number of samples; otherwise a stable sort.
fn group_by_id(samples: Vec<(SeriesId, i64, f64)>) -> Vec<(SeriesId, i64, f64)> {
    let (Some(min), Some(max)) = (samples.iter().map(|s| s.0).min(), samples.iter().map(|s| s.0).max()) else {
        return samples;
    };
    let span = usize::try_from(max - min).unwrap_or(usize::MAX);
    if span >= samples.len().saturating_mul(4) {
        let mut samples = samples;
        samples.sort_by_key(|&(id, _, _)| id);
        return samples;
    }
    // starts[i]: where the samples of id min + i begin in the output.
    let mut starts = vec![0usize; span + 2];
    for &(id, _, _) in &samples {
        if let Some(c) = starts.get_mut((id - min) as usize + 1) {
            *c += 1;
        }
    }
    for i in 1..starts.len() {
        let before = starts.get(i - 1).copied().unwrap_or(0);
        if let Some(c) = starts.get_mut(i) {
            *c += before;
        }
    }
    let mut out = vec![(0, 0, 0.0); samples.len()];
    for sample in samples {
        if let Some(at) = starts.get_mut((sample.0 - min) as usize)
            && let Some(slot) = out.get_mut(*at)
        {
            *slot = sample;
            *at += 1;
        }
    }
    out
}

#[cfg(test)]
pub(super) fn group_by_id_for_tests(samples: Vec<(SeriesId, i64, f64)>) -> Vec<(SeriesId, i64, f64)> {
    group_by_id(samples)
}

pub(super) fn push(s: &mut MemSeries, spill: Option<&mut Spill>, t: i64, v: f64) {
    if s.last_t.is_some_and(|p| t <= p) {
        return;
    }
    match s.open.append(t, v) {
        Ok(()) => {}
        Err(AppendError::Full) => {
            let mut full = std::mem::take(&mut s.open);
            full.shrink_to_fit();
            s.closed.push(match spill {
                Some(spill) => spill.store(full),
                None => Closed::Mem(full),
            });
            if s.open.append(t, v).is_err() {
                return;
            }
        }
        Err(_) => return,
    }
    s.last_t = Some(t);
}
