//! What the store answers: records by name and in pages, a pair's facts on
//! a day (from the relation cache), a country's partners, timelines, the
//! change log, counts.

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use prost::Message;
use time::Date;

use super::cache::{newest_first, PairIndex};
use super::keys::{self, PairFamily};
use super::{corrupt, read_u64, KvStore, Store};
use crate::convert::date_to_pb;
use crate::domain::relation::{
    leaves_open, status_from_newest, NotInForceStanding, StatusOutcome, MAX_LISTED,
};
use crate::domain::standing::{Aspect, StandingFact};
use crate::domain::{Collection, CountryCode, CountryPair};
use crate::domain::{PartialDate, Precision};
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::records::{decode_record, Record};
use crate::wire::partial::summary_name;

/// The facts of one pair on a day, as the relation query needs them.
#[derive(Debug)]
pub struct PairFacts {
    /// The status that the pair's status facts up to the day give.
    pub status: StatusOutcome,
    /// Treaties in force on the day: the `listed` that entered into force
    /// last, oldest first.
    pub treaties_in_force: Vec<ListedSummary>,
    /// How many treaties are in force on the day, listed or not.
    pub treaties_in_force_count: usize,
    /// The alliance in force on the day that entered into force last, listed
    /// or not: the source of "allied".
    pub alliance: Option<String>,
    /// Armed conflicts covering the day: the `listed` that began last,
    /// oldest first.
    pub armed_conflicts: Vec<ListedSummary>,
    /// How many armed conflicts cover the day, listed or not.
    pub armed_conflicts_count: usize,
    pub meeting_count: usize,
    pub latest_meeting: Option<pb::MeetingSummary>,
    /// Third countries that hosted or mediated on or before the day.
    pub mediators: Vec<CountryCode>,
    /// Treaties not in force between the pair on the day (pending, void,
    /// lapsed, non-binding): the `listed` signed last, oldest first.
    pub treaties_not_in_force: Vec<pb::TreatyNotInForce>,
    /// How many there are, listed or not.
    pub treaties_not_in_force_count: usize,
    /// Mediations active on the day, in order of start: the first
    /// `MAX_LISTED`, each an encoded `pb::Mediation`.
    pub mediations: Vec<Bytes>,
    /// How many mediations are active on the day, listed or not.
    pub mediations_count: usize,
    /// Recognition on the day: the pair's lower code's of the higher, then
    /// the reverse.
    pub recognitions: [Option<StandingFact>; 2],
    /// Representation on the day: the lower code's mission in the higher,
    /// then the reverse.
    pub representations: [Option<StandingFact>; 2],
    /// The border fact holding on the day.
    pub border: Option<StandingFact>,
    /// What the answer notes about time.
    pub notes: PeriodNotes,
}

fn standing_to_pb(standing: NotInForceStanding) -> pb::TreatyNotInForceStanding {
    match standing {
        NotInForceStanding::Signed => pb::TreatyNotInForceStanding::Signed,
        NotInForceStanding::Initialled => pb::TreatyNotInForceStanding::Initialled,
        NotInForceStanding::Void => pb::TreatyNotInForceStanding::Void,
        NotInForceStanding::Lapsed => pb::TreatyNotInForceStanding::Lapsed,
        NotInForceStanding::NonBinding => pb::TreatyNotInForceStanding::NonBinding,
    }
}

/// What an answer notes about time (`PairFacts::notes`): record names,
/// each once, in date order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PeriodNotes {
    pub changed: Vec<(Date, String)>,
    pub uncertain: Vec<(Date, String)>,
}

impl PeriodNotes {
    /// Each name once, at its earliest date, in date order. Sorted by name
    /// first, so that a name's entries sit together and the first is the
    /// earliest: no set of names copied on every call.
    fn in_order(mut self) -> Self {
        for list in [&mut self.changed, &mut self.uncertain] {
            list.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
            list.dedup_by(|later, first| later.1 == first.1);
            list.sort_unstable();
        }
        self
    }

    /// The names as the wire takes them, changed then uncertain: each
    /// name's own buffer, not a copy.
    pub fn into_names(self) -> [Vec<Bytes>; 2] {
        [self.changed, self.uncertain].map(|list| {
            list.into_iter()
                .map(|(_, name)| Bytes::from(name))
                .collect()
        })
    }
}

/// The entries of `map` keyed from `from` (inclusive) to before `until`.
fn within<'a, V>(
    map: &'a crate::store::sorted::SortedMap<V>,
    from: &'a [u8],
    until: &[u8],
) -> impl Iterator<Item = (&'a [u8], &'a V)> {
    map.before_rev(until)
        .take_while(move |(key, _)| *key >= from)
}

/// A listed treaty or armed conflict: its summary encoded, as the relation
/// cache keeps it and responses carry it. The summaries of one answer are
/// copied side by side into one buffer that they share: a busy pair lists
/// two hundred, and two allocations each showed in the profile.
#[derive(Debug)]
pub struct ListedSummary(pub Bytes);

impl ListedSummary {
    /// Its name (a source of the relation): a piece of the same buffer.
    pub fn name(&self) -> Bytes {
        self.0.slice_ref(summary_name(&self.0).as_bytes())
    }
}

/// The first `MAX_LISTED` of `count` matching summaries (newest first), in
/// date order, in one shared buffer: the listed part of a relation's
/// treaties or conflicts. The count stops the walk once they are all found.
fn listed_summaries<'a>(
    newest: impl Iterator<Item = &'a [u8]>,
    count: usize,
) -> Vec<ListedSummary> {
    let mut listed: Vec<&[u8]> = newest.take(count.min(MAX_LISTED)).collect();
    listed.reverse();
    let buffer = Bytes::from(listed.concat());
    let mut at = 0;
    listed
        .iter()
        .map(|summary| {
            at += summary.len();
            ListedSummary(buffer.slice(at - summary.len()..at))
        })
        .collect()
}

/// Whose timeline a history query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryScope {
    Country(CountryCode),
    Pair(CountryPair),
}

impl HistoryScope {
    fn prefix(&self) -> Vec<u8> {
        match self {
            HistoryScope::Country(code) => keys::country_history(*code),
            HistoryScope::Pair(pair) => keys::pair(PairFamily::History, *pair),
        }
    }
}

/// A timeline entry as the store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredHistoryEntry {
    /// Where it sits in its timeline, for page tokens.
    pub position: Vec<u8>,
    /// Its `HistoryEntryKind`, for filters.
    pub kind: i32,
    /// The encoded `diplomacy.v1.HistoryEntry`.
    pub encoded: Vec<u8>,
}

fn bound_value(bound: &Bound<Vec<u8>>) -> &[u8] {
    match bound {
        Bound::Included(v) | Bound::Excluded(v) => v,
        Bound::Unbounded => &[],
    }
}

impl<K: KvStore> Store<K> {
    /// Loads pairs into the relation cache before callers ask for them, the
    /// pairs linked by the most records first, until the next one does not
    /// fit in its budget or `stop` says so; the pairs loaded. Loading a
    /// pair takes several range scans (a tenth of a second for the busiest
    /// pair of the full dataset), so a server that has just started would
    /// otherwise answer relation queries at a fraction of its speed for
    /// minutes.
    pub fn warm_relation_cache(&self, stop: &dyn Fn() -> bool) -> Result<usize> {
        let mut pairs: Vec<(u64, CountryPair)> = Vec::new();
        for entry in self.kv.scan_prefix(keys::PARTNERS) {
            let (key, value) = entry?;
            let pair = keys::pair_of_partner_count(&key)
                .ok_or_else(|| corrupt("partner count", String::from_utf8_lossy(&key)))?;
            // Each pair is counted in both directions: take it once.
            if let Some(pair) = pair {
                pairs.push((read_u64(Some(value)), pair));
            }
        }
        pairs.sort_unstable_by(|a, b| b.cmp(a));
        let mut loaded = 0;
        for (_, pair) in pairs {
            if stop() {
                break;
            }
            let _gate = self.kv.read_gate();
            if !self.cache.warm(&*self.kv, pair)? {
                break;
            }
            loaded += 1;
        }
        Ok(loaded)
    }

    pub fn get(&self, collection: Collection, id: &str) -> Result<Option<Record>> {
        self.kv
            .get(&keys::record(collection, id))?
            .map(|bytes| {
                decode_record(collection, &bytes)
                    .map_err(|e| corrupt(&format!("{}/{id}", collection.as_str()), e))
            })
            .transpose()
    }

    /// Up to `limit` records of a collection in id order, after `after`,
    /// that pass `keep`; with `principal`, only those where that country has a
    /// principal role. Returns the records and whether more may follow.
    pub fn list(
        &self,
        collection: Collection,
        principal: Option<CountryCode>,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&Record) -> bool,
    ) -> Result<(Vec<Record>, bool)> {
        // An index entry and its record are read under one gate: never one
        // without the other.
        let _gate = self.kv.read_gate();
        let prefix = match principal {
            Some(code) => keys::principals_of(code, collection),
            None => keys::records_of(collection),
        };
        let lower = match after {
            Some(id) => Bound::Excluded(keys::join(&prefix, &[id])),
            None => Bound::Included(prefix.clone()),
        };
        let upper = Bound::Excluded(keys::prefix_end(&prefix));
        let mut records = Vec::new();
        for entry in self.kv.scan(lower, upper, false) {
            let (key, value) = entry?;
            let record = if principal.is_some() {
                let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                match self.get(collection, &id)? {
                    Some(record) => record,
                    None => return Err(corrupt("index entry without its record", id)),
                }
            } else {
                decode_record(collection, &value).map_err(|e| corrupt("record", e))?
            };
            if keep(&record) {
                if records.len() == limit {
                    return Ok((records, true));
                }
                records.push(record);
            }
        }
        Ok((records, false))
    }

    /// The oldest revision the change log still holds, if any.
    pub fn oldest_change(&self) -> Result<Option<i64>> {
        let first = self.kv.scan_prefix(keys::CHANGES).next().transpose()?;
        Ok(first.and_then(|(key, _)| keys::revision_of_change(&key)))
    }

    /// Logged changes with `after < revision <= upto`, oldest first.
    pub fn changes(&self, after: i64, upto: i64) -> impl Iterator<Item = Result<pb::Change>> + '_ {
        let lower = keys::change(after.max(0) as u64 + 1);
        let upper = keys::change(upto.max(0) as u64 + 1);
        self.kv
            .scan(Bound::Included(lower), Bound::Excluded(upper), false)
            .map(|entry| {
                let (_, value) = entry?;
                pb::Change::decode(value.as_slice()).map_err(|e| corrupt("change log", e))
            })
    }

    /// The facts of `pair` dated on or before `day`, from the pair's cached
    /// index (loaded on first use), listing at most `listed` (capped at
    /// `MAX_LISTED`) treaties in force and armed conflicts.
    pub fn pair_facts(&self, pair: CountryPair, day: Date, listed: usize) -> Result<PairFacts> {
        self.pair_facts_since(pair, PartialDate::from_day(day), listed, None)
    }

    /// `pair_facts` on `as_of` (a partial date: its last day), counting
    /// meetings and mediators only from `since` (the day both countries
    /// existed from, when recorded): on days when a side did not exist they
    /// had no relation to meet in. Status, treaties and conflicts are read
    /// on the day itself, so they need no bound. The notes about time
    /// (`PeriodNotes`) come from the same read of the index as the rest.
    pub fn pair_facts_since(
        &self,
        pair: CountryPair,
        as_of: PartialDate,
        listed: usize,
        since: Option<Date>,
    ) -> Result<PairFacts> {
        let day = as_of.last_day();
        // A pair loads under the read gate, so that no batch lands between
        // its load and its insert into the cache.
        let _gate = self.kv.read_gate();
        let index = self.cache.pair(&*self.kv, pair)?;
        let index = index.read().unwrap_or_else(|e| e.into_inner());
        // Cached keys are the index keys after their pair prefix.
        let until = keys::after_day(&[], day);
        let from = since.map(|since| keys::from_day(&[], since));
        let (meeting_count, latest_meeting) = index.meetings_between(from.as_deref(), &until)?;
        // A busy pair has thousands of treaties and conflicts: they are
        // counted from their sorted days, and only the listed newest ones
        // are visited.
        let treaties_in_force_count = index.treaty_days.covering(day);
        let treaties_in_force = listed_summaries(
            newest_first(&index.treaties, &until)
                .filter(|treaty| treaty.in_force_on(day))
                .map(|treaty| &treaty.summary[..]),
            treaties_in_force_count.min(listed),
        );
        let alliance = if index.alliance_days.covering(day) == 0 {
            None
        } else {
            index
                .alliances
                .before_rev(&until)
                .filter_map(|(key, _)| index.treaties.get(key))
                .find(|treaty| treaty.in_force_on(day))
                .map(|treaty| treaty.name().to_owned())
        };
        let armed_conflicts_count = index.conflict_days.covering(day);
        let armed_conflicts = listed_summaries(
            newest_first(&index.conflicts, &until)
                .filter(|conflict| conflict.covers(day))
                .map(|conflict| &conflict.summary[..]),
            armed_conflicts_count.min(listed),
        );
        // Counted from their days; only the listed newest are visited.
        let not_in_force_count = index.pending_days.covering(day);
        let wanted = not_in_force_count.min(listed.min(MAX_LISTED));
        let mut not_in_force = Vec::with_capacity(wanted);
        for (_, pending) in index.pending.before_rev(&until) {
            if not_in_force.len() == wanted {
                break;
            }
            let Some((standing, since)) = pending.treaty.standing_on(day) else {
                continue;
            };
            let summary = pb::TreatySummary::decode(&pending.summary[..])
                .map_err(|e| corrupt("pending index", e))?;
            not_in_force.push(pb::TreatyNotInForce {
                treaty: Some(summary),
                standing: standing_to_pb(standing) as i32,
                since: since.map(date_to_pb),
            });
        }
        not_in_force.reverse();
        let holding = |aspect, from| index.standing_on(aspect, from, day).cloned();
        let sides = [Some(pair.low()), Some(pair.high())];
        let recognitions = sides.map(|side| holding(Aspect::Recognition, side));
        let representations = sides.map(|side| holding(Aspect::Representation, side));
        let border = holding(Aspect::Border, None);
        let mut notes = Self::period_notes(&index, as_of);
        let period_start = as_of.first_day();
        for fact in recognitions
            .iter()
            .chain(&representations)
            .chain([&border])
            .flatten()
        {
            if leaves_open(fact.date, day) {
                notes
                    .uncertain
                    .push((fact.date.first_day(), fact.record.clone()));
            }
            if as_of.precision() != Precision::Day && fact.date.first_day() >= period_start {
                notes
                    .changed
                    .push((fact.date.first_day(), fact.record.clone()));
            }
        }
        // A view that lists no treaties (BASIC) lists each mediation's
        // first and last record only.
        let (mediations_count, mediations) = index.mediations_on(day, listed > 0, MAX_LISTED);
        Ok(PairFacts {
            notes: notes.in_order(),
            recognitions,
            representations,
            border,
            treaties_not_in_force: not_in_force,
            treaties_not_in_force_count: not_in_force_count,
            status: status_from_newest(newest_first(&index.status, &until)),
            treaties_in_force,
            treaties_in_force_count,
            alliance,
            armed_conflicts,
            armed_conflicts_count,
            meeting_count,
            latest_meeting,
            mediators: index.mediators_between(since, day),
            mediations,
            mediations_count,
        })
    }

    /// What a relation's answer on `as_of` notes about time: the records by
    /// which it changed within `as_of` when that is a month or a year, and
    /// the records whose date, known only to a month or a year, leaves the
    /// answer on `as_of` open (`relation::leaves_open`). Starts and partial
    /// ends are found by their keys; the ends within a period among the
    /// newest `MAX_LISTED` treaties and conflicts holding the day before it.
    /// Unordered: the caller adds the standing facts' and puts all in order
    /// once (`PeriodNotes::in_order`).
    fn period_notes(index: &PairIndex, as_of: PartialDate) -> PeriodNotes {
        let day = as_of.last_day();
        let until = keys::after_day(&[], day);
        let year_start =
            time::Date::from_calendar_date(day.year(), time::Month::January, 1).unwrap_or(day);
        let mut notes = PeriodNotes::default();

        // Facts dated in the year of the day: a partial one may cover it.
        let open_from = keys::from_day(&[], year_start);
        let date_of = |key: &[u8]| key.get(..9).and_then(PartialDate::from_sort_key);
        let dated_open = |key: &[u8]| date_of(key).is_some_and(|date| leaves_open(date, day));
        for (_, fact) in within(&index.status, &open_from, &until) {
            if leaves_open(fact.date, day) {
                notes
                    .uncertain
                    .push((fact.date.first_day(), fact.record.clone()));
            }
        }
        for (key, treaty) in within(&index.treaties, &open_from, &until) {
            if dated_open(key) {
                notes.uncertain.push((day, treaty.name().to_owned()));
            }
        }
        for (key, conflict) in within(&index.conflicts, &open_from, &until) {
            if dated_open(key) {
                notes
                    .uncertain
                    .push((day, summary_name(&conflict.summary).to_owned()));
            }
        }
        // Ends known only to a month or a year, from their own index.
        for (key, name) in within(&index.partial_ends, &open_from, &until) {
            if dated_open(key) {
                notes.uncertain.push((day, name.to_string()));
            }
        }

        if as_of.precision() != Precision::Day {
            let first = as_of.first_day();
            let period_from = keys::from_day(&[], first);
            for (_, fact) in within(&index.status, &period_from, &until) {
                notes
                    .changed
                    .push((fact.date.first_day(), fact.record.clone()));
            }
            for (key, treaty) in within(&index.treaties, &period_from, &until) {
                if treaty.days.is_some_and(|days| !days.is_empty()) {
                    let start = date_of(key).map_or(first, |d| d.first_day());
                    notes.changed.push((start, treaty.name().to_owned()));
                }
            }
            for (key, conflict) in within(&index.conflicts, &period_from, &until) {
                let start = date_of(key).map_or(first, |d| d.first_day());
                notes
                    .changed
                    .push((start, summary_name(&conflict.summary).to_owned()));
            }
            // What held the day before the period and no longer on its
            // last day ended within it.
            let before = first.previous_day().unwrap_or(first);
            for treaty in newest_first(&index.treaties, &until)
                .filter(|t| t.in_force_on(before))
                .take(MAX_LISTED)
            {
                if let Some(end) = treaty
                    .days
                    .and_then(|days| days.end)
                    .filter(|end| *end <= day)
                {
                    notes.changed.push((end, treaty.name().to_owned()));
                }
            }
            for conflict in newest_first(&index.conflicts, &until)
                .filter(|c| c.covers(before))
                .take(MAX_LISTED)
            {
                if let Some(end) = conflict
                    .days
                    .and_then(|days| days.end)
                    .filter(|end| *end <= day)
                {
                    notes
                        .changed
                        .push((end, summary_name(&conflict.summary).to_owned()));
                }
            }
        }
        notes
    }

    /// Countries that `code` has any recorded pair fact with, in code order,
    /// after `after`: one partner count per pair.
    pub fn partners(
        &self,
        code: CountryCode,
        after: Option<CountryCode>,
    ) -> impl Iterator<Item = Result<CountryCode>> + '_ {
        let prefix = keys::partners_of(code);
        let lower = match after {
            Some(other) => Bound::Excluded(keys::partner(code, other)),
            None => Bound::Included(prefix.clone()),
        };
        let upper = Bound::Excluded(keys::prefix_end(&prefix));
        self.kv.scan(lower, upper, false).map(move |entry| {
            let (key, _) = entry?;
            std::str::from_utf8(&key[prefix.len()..])
                .ok()
                .and_then(CountryCode::parse)
                .ok_or_else(|| corrupt("partner count", String::from_utf8_lossy(&key)))
        })
    }

    /// Timeline entries of `scope` in order, between the optional days, after
    /// the entry whose position is `after` (from a previous page). Each item
    /// carries its position for the next page token, and the entry as
    /// stored: callers send it on without decoding it.
    pub fn history(
        &self,
        scope: HistoryScope,
        from: Option<Date>,
        until: Option<Date>,
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<StoredHistoryEntry>> + '_ {
        let prefix = scope.prefix();
        let mut lower = Bound::Included(match from {
            Some(day) => keys::from_day(&prefix, day),
            None => prefix.clone(),
        });
        if let Some(after) = after {
            let mut after_key = prefix.clone();
            after_key.extend_from_slice(after);
            if bound_value(&lower) <= after_key.as_slice() {
                lower = Bound::Excluded(after_key);
            }
        }
        let upper = match until {
            Some(day) => keys::after_day(&prefix, day),
            None => keys::prefix_end(&prefix),
        };
        let skip = prefix.len();
        self.kv
            .scan(lower, Bound::Excluded(upper), false)
            .map(move |entry| {
                let (mut key, value) = entry?;
                // Reading the kind walks every field of the entry, so a
                // damaged one is reported here rather than sent.
                let kind = crate::wire::partial::HistoryEntryKind::decode(value.as_slice())
                    .map_err(|e| corrupt("history index", e))?
                    .kind;
                key.drain(..skip);
                Ok(StoredHistoryEntry {
                    position: key,
                    kind,
                    encoded: value,
                })
            })
    }

    /// Every key and value, in order: for export-style scans and `check`.
    pub fn records(&self, collection: Collection) -> impl Iterator<Item = Result<Record>> + '_ {
        self.kv
            .scan_prefix(&keys::records_of(collection))
            .map(move |entry| {
                let (_, value) = entry?;
                decode_record(collection, &value).map_err(|e| corrupt("record", e))
            })
    }

    /// The countries that name `code` among their predecessors, in id order
    /// (from the principal index, which lists a country under each of its
    /// predecessors).
    pub fn successors_of(&self, code: CountryCode) -> Result<Vec<pb::Country>> {
        let prefix = keys::principals_of(code, Collection::Countries);
        let mut successors = Vec::new();
        for entry in self.kv.scan_prefix(&prefix) {
            let (key, _) = entry?;
            let id = std::str::from_utf8(&key[prefix.len()..])
                .map_err(|_| corrupt("principal index", String::from_utf8_lossy(&key)))?;
            if let Some(Record::Country(country)) = self.get(Collection::Countries, id)? {
                successors.push(country);
            }
        }
        Ok(successors)
    }

    /// Counts of stored records per collection.
    pub fn counts(&self) -> Result<BTreeMap<Collection, u64>> {
        let mut counts = BTreeMap::new();
        for collection in Collection::ALL {
            let count = read_u64(self.kv.get(&keys::record_count(collection))?);
            counts.insert(collection, count);
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::store::{kv, WriterOptions};
    use std::path::Path;

    /// A store whose pairs AM–AZ, AM–TR and AZ–TR are linked by 30, 20 and
    /// 10 records (as many meetings each), with a relation cache budget.
    fn three_pairs(dir: &Path, budget: usize) -> Store {
        let store = Store::open(
            dir,
            8 << 20,
            WriterOptions {
                relation_cache_bytes: budget,
                ..Default::default()
            },
        )
        .expect("store");
        let mut writes = kv::Writes::new();
        for (low, high, records) in [("AM", "AZ", 30u64), ("AM", "TR", 20), ("AZ", "TR", 10)] {
            for (a, b) in [(low, high), (high, low)] {
                writes.insert(
                    format!("q/{a}/{b}").into_bytes(),
                    Some(records.to_be_bytes().to_vec()),
                );
            }
            for i in 0..records {
                writes.insert(
                    format!("m/{low}{high}/19910101{}/meetings/m{i:03}", i % 3).into_bytes(),
                    Some(Vec::new()),
                );
            }
        }
        store.kv.apply(writes).expect("apply");
        store
    }

    #[test]
    fn period_notes_name_each_record_once_at_its_earliest_date_in_date_order() {
        let day = |d: u8| time::Date::from_calendar_date(1994, time::Month::May, d).expect("a day");
        let entries = |list: &[(u8, &str)]| -> Vec<(Date, String)> {
            list.iter()
                .map(|(d, name)| (day(*d), name.to_string()))
                .collect()
        };
        let notes = PeriodNotes {
            changed: entries(&[
                (9, "events/b"),
                (3, "events/c"),
                (5, "events/b"),
                (3, "events/a"),
            ]),
            uncertain: entries(&[(12, "treaties/t"), (12, "treaties/t"), (1, "events/z")]),
        }
        .in_order();
        assert_eq!(
            notes.changed,
            entries(&[(3, "events/a"), (3, "events/c"), (5, "events/b")])
        );
        assert_eq!(
            notes.uncertain,
            entries(&[(1, "events/z"), (12, "treaties/t")])
        );
        assert_eq!(
            notes.into_names(),
            [
                vec![
                    Bytes::from("events/a"),
                    Bytes::from("events/c"),
                    Bytes::from("events/b")
                ],
                vec![Bytes::from("events/z"), Bytes::from("treaties/t")]
            ]
        );
    }

    fn pair(low: &str, high: &str) -> CountryPair {
        CountryPair::new(
            CountryCode::parse(low).expect("code"),
            CountryCode::parse(high).expect("code"),
        )
        .expect("pair")
    }

    #[test]
    fn warming_loads_the_most_linked_pairs_first_and_stops_at_the_budget() {
        let all = tempfile::tempdir().expect("temp dir");
        let store = three_pairs(all.path(), 1 << 30);
        assert_eq!(store.warm_relation_cache(&|| false).expect("warm"), 3);
        let (every_pair, pairs) = store.relation_cache_usage();
        assert_eq!(pairs, 3);

        // A byte short of all three: the two most linked, not the third.
        let short = tempfile::tempdir().expect("temp dir");
        let store = three_pairs(short.path(), every_pair - 1);
        assert_eq!(store.warm_relation_cache(&|| false).expect("warm"), 2);
        assert!(store.cache.holds(pair("AM", "AZ")));
        assert!(store.cache.holds(pair("AM", "TR")));
        assert!(!store.cache.holds(pair("AZ", "TR")));
        assert!(store.relation_cache_usage().0 < every_pair);

        let stopped = tempfile::tempdir().expect("temp dir");
        let store = three_pairs(stopped.path(), 1 << 30);
        assert_eq!(store.warm_relation_cache(&|| true).expect("warm"), 0);
        assert_eq!(store.relation_cache_usage(), (0, 0));
    }

    #[test]
    fn history_entries_come_back_as_stored_with_their_kind_and_damage_is_data_loss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), 8 << 20, WriterOptions::default()).expect("store");
        let entry = pb::HistoryEntry {
            kind: pb::HistoryEntryKind::Meeting as i32,
            record: "meetings/m1".into(),
            title: "Talks".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let mut writes = kv::Writes::new();
        writes.insert(
            b"p/AMAZ/199101010/meetings/m1/1-meeting".to_vec(),
            Some(entry.clone()),
        );
        store.kv.apply(writes).expect("apply");
        let scope = HistoryScope::Pair(pair("AM", "AZ"));
        let items: Vec<StoredHistoryEntry> = store
            .history(scope, None, None, None)
            .collect::<Result<_>>()
            .expect("history");
        assert_eq!(
            items,
            [StoredHistoryEntry {
                position: b"199101010/meetings/m1/1-meeting".to_vec(),
                kind: pb::HistoryEntryKind::Meeting as i32,
                encoded: entry.clone(),
            }]
        );

        let mut writes = kv::Writes::new();
        writes.insert(
            b"p/AMAZ/199101010/meetings/m1/1-meeting".to_vec(),
            Some(entry[..entry.len() - 1].to_vec()),
        );
        store.kv.apply(writes).expect("apply");
        let read: Vec<Result<StoredHistoryEntry>> =
            store.history(scope, None, None, None).collect();
        assert!(
            matches!(read.as_slice(), [Err(Error::DataLoss(_))]),
            "{read:?}"
        );
    }
}
