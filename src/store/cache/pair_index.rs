//! One pair's cached index entries (status facts, treaties, conflicts,
//! meetings, mediators) in sorted blocks, what they weigh, and the queries
//! a relation makes of them.

use std::sync::RwLock;

use bytes::Bytes;
use prost::Message;

use crate::convert::{mediation_to_pb, stored_date};
use crate::domain::mediation::{summarize, MediationSpan, MediationSummary};
use crate::domain::relation::{conflict_days, DaySpan, NotInForce, StatusFact, TreatyInterval};
use crate::domain::standing::{Aspect, StandingFact, NO_DIRECTION};
use crate::domain::{CountryCode, CountryPair, PartialDate, Precision};
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::store::corrupt;
use crate::store::coverage::Coverage;
use crate::store::index::{
    change_from_code, PendingValue, StandingValue, StatusValue, TreatyValue,
};
use crate::store::keys::{self, PairFamily};
use crate::store::sorted::{allocation, buffer, SortedMap};
use crate::wire::partial::summary_name;

use super::codec::{mediator_of, meeting_rest, meeting_summary, record_of_rest};
use super::mediations::{day_number, CachedMediation, MediatorEntries};
use super::Slot;

/// What a cached pair costs beyond its entries: its slot in the pair map
/// (with the map's spare room) and the shared, locked index itself.
pub(super) fn slot_bytes() -> usize {
    allocation(2 * std::mem::size_of::<usize>() + std::mem::size_of::<RwLock<PairIndex>>())
        + 2 * (std::mem::size_of::<(CountryPair, Slot)>() + 1)
}

/// The relation-relevant index entries of one pair. Keys are the index key
/// after `{family}/{AB}/`, so they start with the date sort key.
#[derive(Default)]
pub struct PairIndex {
    pub(in crate::store) status: SortedMap<StatusFact>,
    pub(in crate::store) treaties: SortedMap<CachedTreaty>,
    /// The keys of `treaties` that are alliances, and their days in force.
    pub(in crate::store) alliances: SortedMap<()>,
    pub(in crate::store) alliance_days: Coverage,
    /// The days each treaty is in force, to count them on a day.
    pub(in crate::store) treaty_days: Coverage,
    /// Treaties from their initialling or signature, for the days they are
    /// not in force (`u/`).
    pub(in crate::store) pending: SortedMap<CachedPending>,
    /// The days each of `pending` is listed, to count them on a day.
    pub(in crate::store) pending_days: Coverage,
    pub(in crate::store) conflicts: SortedMap<CachedConflict>,
    /// Treaties and conflicts whose end is known only to a month or a
    /// year, keyed `{end}/{key}` and naming their record: the few an answer
    /// on a day inside such a period is uncertain on (`leaves_open`).
    pub(in crate::store) partial_ends: SortedMap<Box<str>>,
    /// The days each conflict covers.
    pub(in crate::store) conflict_days: Coverage,
    /// `{date}/meetings/{id}`, sorted, so that "meetings up to a day" is one
    /// binary search, each with what its summary adds to its key
    /// (`meeting_rest`).
    pub(in crate::store) meetings: SortedMap<Box<[u8]>>,
    /// Per mediator in code order, its `{date}/{record}` entries.
    pub(in crate::store) mediators: Vec<(CountryCode, MediatorEntries)>,
    /// Each record's mediators and facilitators with their days (`g/`),
    /// keyed `{mediator}/{role}/{start}/{record}`: a mediator's entries side
    /// by side, in date order.
    pub(in crate::store) mediations: SortedMap<MediationSpan>,
    /// Each mediator's mediation in each role, summed up from its spans, in
    /// the order a relation lists them (`MediationSummary::listing_order`):
    /// a relation reads these, not the spans, on every call, and lists the
    /// active ones as they come. A few hundred at most: a write finds its
    /// mediation's by a pass.
    pub(in crate::store) mediation_summaries: Vec<CachedMediation>,
    /// Recognition, representation and border facts (`e/`), keyed
    /// `{aspect}/{FROM}/{date}/{record}`: one direction of one aspect is a
    /// date-ordered run.
    pub(in crate::store) standings: SortedMap<StandingFact>,
    /// Heap bytes the entries own (keys, names, titles), kept as entries
    /// come and go; the buffers holding the entries are counted when asked.
    pub(in crate::store) owned: usize,
}

/// A treaty of the pair, with its days in force decoded once. Its summary
/// is kept encoded, as responses carry it: smaller than the struct, and
/// copied into a response without being encoded again.
pub struct CachedTreaty {
    pub days: Option<DaySpan>,
    /// Its end as recorded (its precision says whether the end is known to
    /// the day).
    pub until: Option<PartialDate>,
    pub allied: bool,
    /// An encoded `pb::TreatySummary`.
    pub summary: Box<[u8]>,
}

impl CachedTreaty {
    pub fn in_force_on(&self, day: time::Date) -> bool {
        self.days.is_some_and(|days| days.contains(day))
    }

    pub fn name(&self) -> &str {
        summary_name(&self.summary)
    }

    pub(super) fn owned_bytes(&self) -> usize {
        allocation(self.summary.len())
    }
}

/// A treaty of the pair as it stands when not in force, decoded once, with
/// its summary kept encoded (as `CachedTreaty`'s).
pub struct CachedPending {
    pub treaty: NotInForce,
    /// An encoded `pb::TreatySummary`.
    pub summary: Box<[u8]>,
}

impl CachedPending {
    pub(super) fn owned_bytes(&self) -> usize {
        allocation(self.summary.len())
    }
}

/// An armed conflict of the pair, with its days decoded once and its
/// summary kept encoded (as `CachedTreaty`'s).
pub struct CachedConflict {
    pub days: Option<DaySpan>,
    /// Its last day as recorded.
    pub end: Option<PartialDate>,
    /// An encoded `pb::ConflictSummary`.
    pub summary: Box<[u8]>,
}

impl CachedConflict {
    pub fn covers(&self, day: time::Date) -> bool {
        self.days.is_some_and(|days| days.contains(day))
    }

    pub(super) fn owned_bytes(&self) -> usize {
        allocation(self.summary.len())
    }
}

fn mediation_bytes(span: &MediationSpan) -> usize {
    allocation(span.mediator.capacity()) + allocation(span.record.capacity())
}

fn standing_bytes(fact: &StandingFact) -> usize {
    allocation(fact.record.capacity())
}

/// `{aspect}/{FROM}/{date}/{record}` → the date and the record.
fn standing_of_rest(rest: &[u8], value: &[u8]) -> Result<StandingFact> {
    let damaged = || corrupt("standing index", String::from_utf8_lossy(rest));
    let value = StandingValue::decode(value).map_err(|e| corrupt("standing index", e))?;
    let mut parts = rest.splitn(4, |b| *b == b'/');
    let record = parts.nth(3).ok_or_else(damaged)?;
    Ok(StandingFact {
        date: stored_date(value.date.as_ref()).ok_or_else(damaged)?,
        value: value.value,
        record: String::from_utf8_lossy(record).into_owned(),
    })
}

pub(super) fn status_bytes(fact: &StatusFact) -> usize {
    allocation(fact.record.capacity())
}

impl PairIndex {
    /// Sets (`Some`) or removes (`None`) one entry. Idempotent, so a patch
    /// that reaches an entry already loaded with it changes nothing.
    pub(super) fn set(
        &mut self,
        family: PairFamily,
        rest: &[u8],
        value: Option<&[u8]>,
    ) -> Result<()> {
        let key_bytes = allocation(rest.len());
        // Heap bytes of entries added and removed (a replaced entry is both).
        let (added, removed) = match (family, value) {
            (PairFamily::Status, Some(v)) => {
                let status = StatusValue::decode(v).map_err(|e| corrupt("status index", e))?;
                let fact = change_from_code(status.change)
                    .zip(stored_date(status.date.as_ref()))
                    .map(|(change, date)| StatusFact {
                        date,
                        change,
                        record: record_of_rest(rest),
                    });
                match fact {
                    Some(fact) => {
                        let added = key_bytes + status_bytes(&fact);
                        let old = self.status.insert(rest.into(), fact);
                        (added, old.map_or(0, |old| key_bytes + status_bytes(&old)))
                    }
                    None => (0, self.remove_status(rest)),
                }
            }
            (PairFamily::Treaty, Some(v)) => {
                let treaty = TreatyValue::decode(v).map_err(|e| corrupt("treaty index", e))?;
                let interval = TreatyInterval {
                    from: stored_date(treaty.from.as_ref()),
                    until: stored_date(treaty.until.as_ref()),
                };
                let cached = CachedTreaty {
                    days: interval.days(),
                    until: interval.until,
                    allied: treaty.allied,
                    summary: treaty
                        .summary
                        .unwrap_or_default()
                        .encode_to_vec()
                        .into_boxed_slice(),
                };
                let removed = self.remove_treaty(rest);
                let mut added = key_bytes + cached.owned_bytes();
                if let Some(days) = cached.days {
                    self.treaty_days.insert(days);
                }
                if cached.allied {
                    self.alliances.insert(rest.into(), ());
                    added += key_bytes;
                    if let Some(days) = cached.days {
                        self.alliance_days.insert(days);
                    }
                }
                if let Some(end) = cached.until {
                    added += self.add_partial_end(end, rest);
                }
                self.treaties.insert(rest.into(), cached);
                (added, removed)
            }
            (PairFamily::Pending, Some(v)) => {
                let value = PendingValue::decode(v).map_err(|e| corrupt("pending index", e))?;
                let since = rest
                    .get(..9)
                    .and_then(PartialDate::from_sort_key)
                    .ok_or_else(|| corrupt("pending index", String::from_utf8_lossy(rest)))?;
                let cached = CachedPending {
                    treaty: NotInForce {
                        since,
                        signed: stored_date(value.signed.as_ref()),
                        from: stored_date(value.from.as_ref()),
                        void: stored_date(value.void.as_ref()),
                        lapsed: value.lapsed,
                        non_binding: value.non_binding,
                    },
                    summary: value
                        .summary
                        .unwrap_or_default()
                        .encode_to_vec()
                        .into_boxed_slice(),
                };
                let removed = self.remove_pending(rest);
                let added = key_bytes + cached.owned_bytes();
                self.pending_days.insert(cached.treaty.listed_days());
                self.pending.insert(rest.into(), cached);
                (added, removed)
            }
            (PairFamily::Pending, None) => (0, self.remove_pending(rest)),
            (PairFamily::Conflict, Some(v)) => {
                let summary =
                    pb::ConflictSummary::decode(v).map_err(|e| corrupt("conflict index", e))?;
                let cached = CachedConflict {
                    end: stored_date(summary.end_date.as_ref()),
                    days: stored_date(summary.start_date.as_ref())
                        .map(|start| conflict_days(start, stored_date(summary.end_date.as_ref()))),
                    // Encoded again, so that `name` comes first whatever
                    // wrote the value (`summary_name`).
                    summary: summary.encode_to_vec().into_boxed_slice(),
                };
                let removed = self.remove_conflict(rest);
                if let Some(days) = cached.days {
                    self.conflict_days.insert(days);
                }
                let mut added = key_bytes + cached.owned_bytes();
                if let Some(end) = cached.end {
                    added += self.add_partial_end(end, rest);
                }
                self.conflicts.insert(rest.into(), cached);
                (added, removed)
            }
            (PairFamily::Meeting, Some(v)) => {
                let kept = meeting_rest(v)?;
                let added = key_bytes + allocation(kept.len());
                let old = self.meetings.insert(rest.into(), kept);
                (
                    added,
                    old.map_or(0, |old| key_bytes + allocation(old.len())),
                )
            }
            (PairFamily::Mediator, Some(_)) => {
                let (code, rest) = mediator_of(rest)?;
                let day = MediatorEntries::day_of(rest)
                    .ok_or_else(|| corrupt("mediator index", String::from_utf8_lossy(rest)))?;
                let at = match self.mediators.binary_search_by_key(&code, |(c, _)| *c) {
                    Ok(at) => at,
                    Err(at) => {
                        self.mediators
                            .insert(at, (code, MediatorEntries::default()));
                        at
                    }
                };
                (self.mediators[at].1.insert(rest, day), 0)
            }
            (PairFamily::Mediation, Some(v)) => {
                let value = pb::Mediation::decode(v).map_err(|e| corrupt("mediation index", e))?;
                let damaged = || corrupt("mediation index", String::from_utf8_lossy(rest));
                let span = MediationSpan {
                    mediator: value.mediator,
                    role: value.role,
                    start: stored_date(value.start_date.as_ref()).ok_or_else(damaged)?,
                    end: stored_date(value.end_date.as_ref()),
                    record: value.records.into_iter().next().ok_or_else(damaged)?,
                };
                let group = keys::mediation_group(&span.mediator, span.role);
                let added = key_bytes + mediation_bytes(&span);
                let old = self.mediations.insert(rest.into(), span);
                let replaced = old.is_some();
                let removed = old.map_or(0, |old| key_bytes + mediation_bytes(&old));
                // Loading gives a mediation's spans in order: each is added
                // to its summary. Any other change sums the group up again.
                let (summary_added, summary_removed) =
                    if !replaced && self.last_of_group(rest, &group) {
                        self.extend_summary(&group, rest)
                    } else {
                        self.resummarize(&group)
                    };
                (added + summary_added, removed + summary_removed)
            }
            (PairFamily::Standing, Some(v)) => {
                let fact = standing_of_rest(rest, v)?;
                let added = key_bytes + standing_bytes(&fact);
                let old = self.standings.insert(rest.into(), fact);
                (added, old.map_or(0, |old| key_bytes + standing_bytes(&old)))
            }
            (PairFamily::Standing, None) => (
                0,
                self.standings
                    .remove(rest)
                    .map_or(0, |old| key_bytes + standing_bytes(&old)),
            ),
            (PairFamily::Mediation, None) => match self.mediations.remove(rest) {
                Some(old) => {
                    let group = keys::mediation_group(&old.mediator, old.role);
                    let (added, removed) = self.resummarize(&group);
                    (added, removed + key_bytes + mediation_bytes(&old))
                }
                None => (0, 0),
            },
            (PairFamily::Status, None) => (0, self.remove_status(rest)),
            (PairFamily::Treaty, None) => (0, self.remove_treaty(rest)),
            (PairFamily::Conflict, None) => (0, self.remove_conflict(rest)),
            (PairFamily::Meeting, None) => (
                0,
                self.meetings
                    .remove(rest)
                    .map_or(0, |old| key_bytes + allocation(old.len())),
            ),
            (PairFamily::History, _) => (0, 0),
            (PairFamily::Mediator, None) => {
                let (code, rest) = mediator_of(rest)?;
                let Ok(at) = self.mediators.binary_search_by_key(&code, |(c, _)| *c) else {
                    return Ok(());
                };
                let entries = &mut self.mediators[at].1;
                let removed = entries.remove(rest);
                if entries.is_empty() {
                    self.mediators.remove(at);
                }
                (0, removed)
            }
        };
        self.owned = (self.owned + added).saturating_sub(removed);
        Ok(())
    }

    /// Whether no span of `group` sorts after the one keyed `rest`.
    fn last_of_group(&self, rest: &[u8], group: &[u8]) -> bool {
        self.mediations
            .from(rest)
            .nth(1)
            .is_none_or(|(key, _)| !key.starts_with(group))
    }

    /// Adds the span keyed `rest`, the last of `group`, to the group's
    /// summary; the bytes (added, removed).
    fn extend_summary(&mut self, group: &[u8], rest: &[u8]) -> (usize, usize) {
        let Some(span) = self.mediations.get(rest) else {
            return (0, 0);
        };
        // A later span of the group leaves its place in the listing order.
        match self.mediation_summary(group) {
            Some(at) => {
                let kept = &mut self.mediation_summaries[at];
                let before = kept.owned_bytes();
                kept.add(span);
                (kept.owned_bytes(), before)
            }
            None => {
                let kept = CachedMediation::new(group, MediationSummary::new(span));
                (self.insert_summary(kept), 0)
            }
        }
    }

    /// Sums `group`'s spans up again (none left: no summary); the bytes
    /// (added, removed).
    fn resummarize(&mut self, group: &[u8]) -> (usize, usize) {
        let spans = self
            .mediations
            .from(group)
            .take_while(|(key, _)| key.starts_with(group))
            .map(|(_, span)| span);
        // The spans of one group make one summary.
        let summary = summarize(spans).into_iter().next();
        let removed = self
            .mediation_summary(group)
            .map_or(0, |at| self.mediation_summaries.remove(at).owned_bytes());
        let added = summary.map_or(0, |summary| {
            self.insert_summary(CachedMediation::new(group, summary))
        });
        (added, removed)
    }

    /// Where `group`'s summary is in `mediation_summaries`.
    fn mediation_summary(&self, group: &[u8]) -> Option<usize> {
        self.mediation_summaries
            .iter()
            .position(|kept| *kept.group == *group)
    }

    /// Puts a summary in its place in the listing order; the bytes it owns.
    fn insert_summary(&mut self, kept: CachedMediation) -> usize {
        let at = self.mediation_summaries.partition_point(|other| {
            other.summary.listing_order(&kept.summary) == std::cmp::Ordering::Less
        });
        let added = kept.owned_bytes();
        self.mediation_summaries.insert(at, kept);
        added
    }

    /// Removes a status fact; the bytes it owned.
    pub(super) fn remove_status(&mut self, key: &[u8]) -> usize {
        self.status
            .remove(key)
            .map_or(0, |old| allocation(key.len()) + status_bytes(&old))
    }

    /// Removes a treaty and what is derived from it; the bytes it owned.
    pub(super) fn remove_treaty(&mut self, key: &[u8]) -> usize {
        let Some(old) = self.treaties.remove(key) else {
            return 0;
        };
        let mut freed = allocation(key.len()) + old.owned_bytes();
        if let Some(days) = old.days {
            self.treaty_days.remove(days);
        }
        if let Some(end) = old.until {
            freed += self.remove_partial_end(end, key);
        }
        if self.alliances.remove(key).is_some() {
            freed += allocation(key.len());
            if let Some(days) = old.days {
                self.alliance_days.remove(days);
            }
        }
        freed
    }

    /// The `partial_ends` key of an entry keyed `key` that ends on `end`.
    fn partial_end_key(end: PartialDate, key: &[u8]) -> Box<[u8]> {
        let mut full = end.sort_key().into_bytes();
        full.push(b'/');
        full.extend_from_slice(key);
        full.into_boxed_slice()
    }

    /// Notes an end known only to a month or a year; the bytes it owns.
    fn add_partial_end(&mut self, end: PartialDate, key: &[u8]) -> usize {
        if end.precision() == Precision::Day {
            return 0;
        }
        let full = Self::partial_end_key(end, key);
        let name: Box<str> = record_of_rest(key).into_boxed_str();
        let bytes = allocation(full.len()) + allocation(name.len());
        match self.partial_ends.insert(full, name) {
            Some(_) => 0,
            None => bytes,
        }
    }

    fn remove_partial_end(&mut self, end: PartialDate, key: &[u8]) -> usize {
        if end.precision() == Precision::Day {
            return 0;
        }
        let full = Self::partial_end_key(end, key);
        self.partial_ends
            .remove(&full)
            .map_or(0, |name| allocation(full.len()) + allocation(name.len()))
    }

    /// Removes a treaty not in force and its days; the bytes it owned.
    pub(super) fn remove_pending(&mut self, key: &[u8]) -> usize {
        let Some(old) = self.pending.remove(key) else {
            return 0;
        };
        self.pending_days.remove(old.treaty.listed_days());
        allocation(key.len()) + old.owned_bytes()
    }

    /// Removes a conflict and its days; the bytes it owned.
    pub(super) fn remove_conflict(&mut self, key: &[u8]) -> usize {
        let Some(old) = self.conflicts.remove(key) else {
            return 0;
        };
        if let Some(days) = old.days {
            self.conflict_days.remove(days);
        }
        let partial = old.end.map_or(0, |end| self.remove_partial_end(end, key));
        allocation(key.len()) + old.owned_bytes() + partial
    }

    /// Drops the spare room that loading left in every buffer.
    pub(super) fn shrink_to_fit(&mut self) {
        self.status.shrink_to_fit();
        self.treaties.shrink_to_fit();
        self.pending.shrink_to_fit();
        self.alliances.shrink_to_fit();
        self.conflicts.shrink_to_fit();
        self.partial_ends.shrink_to_fit();
        self.meetings.shrink_to_fit();
        self.mediators.shrink_to_fit();
        self.mediations.shrink_to_fit();
        self.mediation_summaries.shrink_to_fit();
        self.standings.shrink_to_fit();
        for (_, entries) in &mut self.mediators {
            entries.shrink_to_fit();
        }
        for days in [
            &mut self.treaty_days,
            &mut self.alliance_days,
            &mut self.pending_days,
            &mut self.conflict_days,
        ] {
            days.shrink_to_fit();
        }
    }

    /// Heap bytes this pair takes in the cache: its entries, the buffers
    /// that hold them, and its slot.
    pub fn weight(&self) -> usize {
        self.owned
            + self.status.buffer_bytes()
            + self.treaties.buffer_bytes()
            + self.pending.buffer_bytes()
            + self.alliances.buffer_bytes()
            + self.conflicts.buffer_bytes()
            + self.partial_ends.buffer_bytes()
            + self.meetings.buffer_bytes()
            + self.mediations.buffer_bytes()
            + buffer(&self.mediation_summaries)
            + self.standings.buffer_bytes()
            + buffer(&self.mediators)
            + self
                .mediators
                .iter()
                .map(|(_, entries)| entries.buffer_bytes())
                .sum::<usize>()
            + self.treaty_days.heap_bytes()
            + self.alliance_days.heap_bytes()
            + self.pending_days.heap_bytes()
            + self.conflict_days.heap_bytes()
            + slot_bytes()
    }

    /// The pair's mediations active on `day`, in order of start: how many,
    /// and the first `limit` of them, each an encoded `pb::Mediation`
    /// (pieces of one buffer). With `every_record` each lists all its
    /// records, else its first and last, as kept.
    pub fn mediations_on(
        &self,
        day: time::Date,
        every_record: bool,
        limit: usize,
    ) -> (usize, Vec<Bytes>) {
        let mut count = 0;
        let mut buffer = Vec::new();
        let mut ends = Vec::new();
        // Kept in listing order: the first active ones are the listed.
        for kept in &self.mediation_summaries {
            if !kept.summary.active_on(day) {
                continue;
            }
            count += 1;
            if count > limit {
                continue;
            }
            if every_record {
                let group = &kept.group[..];
                let records = self
                    .mediations
                    .from(group)
                    .take_while(|(key, _)| key.starts_with(group))
                    .map(|(_, span)| span.record.clone())
                    .collect();
                mediation_to_pb(kept.summary.mediation(records)).encode_raw(&mut buffer);
            } else {
                buffer.extend_from_slice(&kept.basic);
            }
            ends.push(buffer.len());
        }
        let buffer = Bytes::from(buffer);
        let mut start = 0;
        let pieces = ends
            .into_iter()
            .map(|end| {
                let piece = buffer.slice(start..end);
                start = end;
                piece
            })
            .collect();
        (count, pieces)
    }

    /// The fact of `aspect` from `from` (`None`: the border) that holds on
    /// `day`: the last dated on or before it.
    pub fn standing_on(
        &self,
        aspect: Aspect,
        from: Option<CountryCode>,
        day: time::Date,
    ) -> Option<&StandingFact> {
        // Most pairs have none: no key to build.
        if self.standings.is_empty() {
            return None;
        }
        let direction = from.as_ref().map_or(NO_DIRECTION, CountryCode::as_str);
        let prefix = format!("{}/{direction}/", aspect.tag()).into_bytes();
        let until = keys::after_day(&prefix, day);
        self.standings
            .before_rev(&until)
            .next()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(_, fact)| fact)
    }

    /// Meetings keyed from `from` (inclusive; `None`: the first) to before
    /// `until`: how many, and the latest.
    pub fn meetings_between(
        &self,
        from: Option<&[u8]>,
        until: &[u8],
    ) -> Result<(usize, Option<pb::MeetingSummary>)> {
        let before_from = from.map_or(0, |from| self.meetings.count_before(from));
        let count = self
            .meetings
            .count_before(until)
            .saturating_sub(before_from);
        let latest = match self.meetings.before_rev(until).next() {
            Some((key, kept)) if from.is_none_or(|from| key >= from) => {
                Some(meeting_summary(key, kept)?)
            }
            _ => None,
        };
        Ok((count, latest))
    }

    /// Mediators with an entry dated from `from` (inclusive; `None`: the
    /// first) to `day` (inclusive), in code order.
    pub fn mediators_between(&self, from: Option<time::Date>, day: time::Date) -> Vec<CountryCode> {
        let from = from.map(day_number);
        let last = day_number(day);
        self.mediators
            .iter()
            .filter(|(_, entries)| entries.any_within(from, last))
            .map(|(code, _)| *code)
            .collect()
    }
}

/// The values of `entries` keyed (by date) before the bound `until`, newest
/// first: a pair's status facts, treaties or conflicts up to a day.
pub fn newest_first<'a, V>(entries: &'a SortedMap<V>, until: &[u8]) -> impl Iterator<Item = &'a V> {
    entries.before_rev(until).map(|(_, v)| v)
}
