//! How the state of a relationship follows from dated facts. Pure rules, no
//! storage: the store hands in the facts recorded up to a day, these functions
//! decide.

use time::Date;

use super::date::PartialDate;

/// The diplomatic status of a pair on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiplomaticStatus {
    /// Nothing recorded: never reported as `None`.
    Unknown,
    /// Known: no diplomatic relations.
    None,
    Established,
    Downgraded,
    Severed,
}

/// What a status-setting event does to the pair's relations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// Recognition alone means "no relations" unless relations are recorded.
    Recognition,
    NoRelations,
    Established,
    Restored,
    Downgraded,
    Severed,
    /// No relations without recognition.
    NonRecognition,
    /// Severs relations that had existed; else no relations.
    RecognitionWithdrawn,
}

/// One status-setting fact of a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusFact {
    pub date: PartialDate,
    pub change: StatusChange,
    /// Resource name of the record that states it.
    pub record: String,
}

/// The status on a day, with when and by which record it was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusOutcome {
    pub status: DiplomaticStatus,
    pub since: Option<PartialDate>,
    pub record: Option<String>,
}

/// Folds the pair's status facts, oldest first, into the status that holds
/// after the last of them. The caller passes only facts dated up to the day
/// asked about.
pub fn status_after<'a>(facts: impl IntoIterator<Item = &'a StatusFact>) -> StatusOutcome {
    let mut outcome = StatusOutcome {
        status: DiplomaticStatus::Unknown,
        since: None,
        record: None,
    };
    for fact in facts {
        let next = match fact.change {
            StatusChange::Recognition if outcome.status == DiplomaticStatus::Unknown => {
                DiplomaticStatus::None
            }
            StatusChange::Recognition => continue,
            StatusChange::NoRelations => DiplomaticStatus::None,
            StatusChange::Established | StatusChange::Restored => DiplomaticStatus::Established,
            StatusChange::Downgraded => DiplomaticStatus::Downgraded,
            StatusChange::Severed => DiplomaticStatus::Severed,
            StatusChange::NonRecognition => DiplomaticStatus::None,
            StatusChange::RecognitionWithdrawn => match outcome.status {
                DiplomaticStatus::Established
                | DiplomaticStatus::Downgraded
                | DiplomaticStatus::Severed => DiplomaticStatus::Severed,
                DiplomaticStatus::Unknown | DiplomaticStatus::None => DiplomaticStatus::None,
            },
        };
        outcome = StatusOutcome {
            status: next,
            since: Some(fact.date),
            record: Some(fact.record.clone()),
        };
    }
    outcome
}

/// `status_after`, reading the facts newest first and stopping at the one
/// that decides: the last fact other than a recognition, or else the first
/// recognition. A withdrawal of recognition decides with the status before
/// it, read on from there. A busy pair has thousands of facts; this reads
/// a few.
pub fn status_from_newest<'a>(
    facts_newest_first: impl IntoIterator<Item = &'a StatusFact>,
) -> StatusOutcome {
    let mut facts = facts_newest_first.into_iter();
    let mut earliest_recognition = None;
    for fact in facts.by_ref() {
        match fact.change {
            StatusChange::Recognition => earliest_recognition = Some(fact),
            StatusChange::RecognitionWithdrawn => {
                let before = status_from_newest(facts);
                let mut outcome = status_after([fact]);
                if matches!(
                    before.status,
                    DiplomaticStatus::Established
                        | DiplomaticStatus::Downgraded
                        | DiplomaticStatus::Severed
                ) {
                    outcome.status = DiplomaticStatus::Severed;
                }
                return outcome;
            }
            _ => return status_after([fact]),
        }
    }
    status_after(earliest_recognition)
}

/// Most treaties in force, and most armed conflicts, that one relation
/// lists (the newest): a busy pair can have thousands, and an answer on the
/// request path of other services must stay small. Counts give the totals.
pub const MAX_LISTED: usize = 100;

/// The recorded standing of a treaty, as far as being in force goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreatyStanding {
    Signed,
    InForce,
    Terminated,
    Lapsed,
}

/// What is recorded of one party's consent to a treaty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartyConsent {
    /// Its consent to be bound (ratification, accession, …).
    pub consent: Option<PartialDate>,
    /// When the treaty entered into force for it.
    pub in_force: Option<PartialDate>,
    pub withdrawal: Option<PartialDate>,
}

impl PartyConsent {
    fn is_recorded(&self) -> bool {
        self.consent.is_some() || self.in_force.is_some()
    }
}

/// When a treaty binds a given pair of its parties: while it is in force
/// for both (see `TreatyInterval::for_pair`), until the first of its
/// termination and either party's withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreatyInterval {
    pub from: Option<PartialDate>,
    pub until: Option<PartialDate>,
}

/// The later of two dates, by their first possible day.
fn later(a: PartialDate, b: PartialDate) -> PartialDate {
    if b.first_day() > a.first_day() {
        b
    } else {
        a
    }
}

impl TreatyInterval {
    /// The treaty enters into force at `entry_into_force` (or, when that is
    /// not recorded but the treaty is or was in force, at signature). For
    /// a party it is in force from its own recorded entry into force, else
    /// from the later of its consent and the treaty's; a party with neither
    /// is not bound, unless no party of the treaty (`per_party_recorded`
    /// false) has consent recorded, when all are bound from the treaty's
    /// entry into force. The pair is bound from the later of its two.
    pub fn for_pair(
        standing: TreatyStanding,
        signed: Option<PartialDate>,
        entry_into_force: Option<PartialDate>,
        termination: Option<PartialDate>,
        parties: [PartyConsent; 2],
        per_party_recorded: bool,
    ) -> Self {
        let treaty_from = entry_into_force.or(match standing {
            TreatyStanding::InForce | TreatyStanding::Terminated => signed,
            TreatyStanding::Signed | TreatyStanding::Lapsed => None,
        });
        let party_from = |party: &PartyConsent| -> Option<PartialDate> {
            if let Some(own) = party.in_force {
                return Some(own);
            }
            if !per_party_recorded && !party.is_recorded() {
                return treaty_from;
            }
            Some(later(party.consent?, treaty_from?))
        };
        let from = match (party_from(&parties[0]), party_from(&parties[1])) {
            (Some(a), Some(b)) => Some(later(a, b)),
            _ => None,
        };
        let until = [termination, parties[0].withdrawal, parties[1].withdrawal]
            .into_iter()
            .flatten()
            .min_by_key(|date| date.first_day());
        Self { from, until }
    }

    /// The days in force: from the first day of `from` up to, not including,
    /// `until`. A start at a partial date counts from its first possible
    /// day; an end at a partial date runs to the end of its period (ended
    /// "2018-03": in force through 2018-03-31). `None` when it never
    /// entered into force.
    pub fn days(&self) -> Option<DaySpan> {
        self.from.map(|from| DaySpan {
            start: from.first_day(),
            end: self.until.and_then(end_of),
        })
    }

    /// In force on `day`: started on or before it and not ended on or before
    /// it.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.days().is_some_and(|days| days.contains(day))
    }
}

/// The first day after something that ended on `end`: that day itself
/// when it is known, else the day after its period (a month, a year).
fn end_of(end: PartialDate) -> Option<Date> {
    if end.precision() == super::date::Precision::Day {
        Some(end.first_day())
    } else {
        end.last_day().next_day()
    }
}

/// A treaty of a pair from its initialling or signature, as a relation
/// sees it on a day it is not in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotInForce {
    /// The earlier of its initialling and its signature.
    pub since: PartialDate,
    pub signed: Option<PartialDate>,
    /// When it entered into force for the pair, if it did.
    pub from: Option<PartialDate>,
    pub void: Option<PartialDate>,
    /// Recorded as lapsed (no longer pursued).
    pub lapsed: bool,
    /// Never meant to enter into force (a declaration, an appeal).
    pub non_binding: bool,
}

/// Where a treaty not in force between two parties stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotInForceStanding {
    Signed,
    Initialled,
    Void,
    Lapsed,
    NonBinding,
}

impl NotInForce {
    /// The days a relation lists it: from its initialling or signature until
    /// it enters into force for the pair (for good, when it never does).
    pub fn listed_days(&self) -> DaySpan {
        let end = if self.non_binding {
            None
        } else {
            self.from.map(|from| from.first_day())
        };
        DaySpan {
            start: self.since.first_day(),
            end,
        }
    }

    /// Where it stands on `day`, and since when; `None` when a relation does
    /// not list it then: not yet initialled or signed, or in force (or
    /// ended after being in force) by then.
    pub fn standing_on(&self, day: Date) -> Option<(NotInForceStanding, Option<PartialDate>)> {
        if day < self.since.first_day() {
            return None;
        }
        if self.non_binding {
            return Some((
                NotInForceStanding::NonBinding,
                Some(self.signed.unwrap_or(self.since)),
            ));
        }
        if self.from.is_some_and(|from| from.first_day() <= day) {
            return None;
        }
        if let Some(void) = self.void.filter(|void| void.first_day() <= day) {
            return Some((NotInForceStanding::Void, Some(void)));
        }
        if self.lapsed && self.void.is_none() {
            return Some((NotInForceStanding::Lapsed, None));
        }
        Some(
            match self.signed.filter(|signed| signed.first_day() <= day) {
                Some(signed) => (NotInForceStanding::Signed, Some(signed)),
                None => (NotInForceStanding::Initialled, Some(self.since)),
            },
        )
    }
}

/// Whether a fact dated `date` leaves an answer on `day` open: the date is
/// known only to a month or a year, and `day` falls within that period
/// before its last day, so the fact may or may not have happened by then
/// (a recognition of "1991-12" asked about on 1991-12-10).
pub fn leaves_open(date: PartialDate, day: Date) -> bool {
    date.precision() != super::date::Precision::Day
        && date.first_day() <= day
        && day < date.last_day()
}

/// The days an armed conflict covers: from its start through its last day of
/// fighting (`end`, inclusive: an end of "1994-05" runs to 1994-05-31); no
/// end means ongoing.
pub fn conflict_days(start: PartialDate, end: Option<PartialDate>) -> DaySpan {
    DaySpan {
        start: start.first_day(),
        // The day after the last; none after the calendar's last day.
        end: end.and_then(|end| end.last_day().next_day()),
    }
}

/// An armed conflict covers `day` (see `conflict_days`).
pub fn conflict_covers(start: PartialDate, end: Option<PartialDate>, day: Date) -> bool {
    conflict_days(start, end).contains(day)
}

/// Days from `start` up to, not including, `end` (none: open-ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySpan {
    pub start: Date,
    pub end: Option<Date>,
}

impl DaySpan {
    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && self.end.is_none_or(|end| day < end)
    }

    /// Covers no day at all: ended on or before it started.
    pub fn is_empty(&self) -> bool {
        self.end.is_some_and(|end| end <= self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> PartialDate {
        s.parse().expect(s)
    }

    fn fact(date: &str, change: StatusChange) -> StatusFact {
        StatusFact {
            date: d(date),
            change,
            record: format!("events/{date}"),
        }
    }

    #[test]
    fn nothing_recorded_is_unknown_not_none() {
        let outcome = status_after(&[]);
        assert_eq!(outcome.status, DiplomaticStatus::Unknown);
        assert_eq!(outcome.since, None);
    }

    #[test]
    fn recognition_without_relations_is_none() {
        let facts = [fact("1991-12", StatusChange::Recognition)];
        let outcome = status_after(&facts);
        assert_eq!(outcome.status, DiplomaticStatus::None);
        assert_eq!(outcome.since, Some(d("1991-12")));
    }

    #[test]
    fn recognition_does_not_undo_recorded_relations() {
        let facts = [
            fact("1992-01-14", StatusChange::Established),
            fact("1993", StatusChange::Recognition),
        ];
        assert_eq!(status_after(&facts).status, DiplomaticStatus::Established);
    }

    #[test]
    fn severed_then_restored() {
        let mut facts = vec![
            fact("1992", StatusChange::Established),
            fact("2022-02-24", StatusChange::Severed),
        ];
        assert_eq!(status_after(&facts).status, DiplomaticStatus::Severed);
        facts.push(fact("2030-01-01", StatusChange::Restored));
        let outcome = status_after(&facts);
        assert_eq!(outcome.status, DiplomaticStatus::Established);
        assert_eq!(outcome.record.as_deref(), Some("events/2030-01-01"));
    }

    #[test]
    fn treaty_in_force_from_signature_when_entry_not_recorded() {
        let shusha = TreatyInterval::for_pair(
            TreatyStanding::InForce,
            Some(d("2021-06-15")),
            None,
            None,
            [PartyConsent::default(); 2],
            false,
        );
        assert!(shusha.in_force_on(d("2022-01-01").first_day()));
        assert!(!shusha.in_force_on(d("2021-06-14").first_day()));
        let zurich = TreatyInterval::for_pair(
            TreatyStanding::Lapsed,
            Some(d("2009-10-10")),
            None,
            Some(d("2018-03-01")),
            [PartyConsent::default(); 2],
            false,
        );
        assert!(!zurich.in_force_on(d("2010-01-01").first_day()));
    }

    #[test]
    fn withdrawal_or_termination_ends_a_treaty() {
        let interval = TreatyInterval::for_pair(
            TreatyStanding::Terminated,
            Some(d("1994-05")),
            Some(d("1994-05-12")),
            Some(d("2020-09-27")),
            [
                PartyConsent {
                    withdrawal: Some(d("2000-01-01")),
                    ..PartyConsent::default()
                },
                PartyConsent::default(),
            ],
            false,
        );
        assert!(interval.in_force_on(d("1999-12-31").first_day()));
        assert!(!interval.in_force_on(d("2000-01-01").first_day()));
    }

    #[test]
    fn a_treaty_not_in_force_is_pending_then_void_or_in_force() {
        use NotInForceStanding as S;
        let zurich = NotInForce {
            since: d("2009-10-10"),
            signed: Some(d("2009-10-10")),
            from: None,
            void: Some(d("2018-03-01")),
            lapsed: true,
            non_binding: false,
        };
        assert_eq!(zurich.standing_on(d("2009-10-09").first_day()), None);
        assert_eq!(
            zurich.standing_on(d("2012-01-01").first_day()),
            Some((S::Signed, Some(d("2009-10-10"))))
        );
        assert_eq!(
            zurich.standing_on(d("2019-01-01").first_day()),
            Some((S::Void, Some(d("2018-03-01"))))
        );
        let initialled = NotInForce {
            since: d("2025-08-08"),
            signed: None,
            from: None,
            void: None,
            lapsed: false,
            non_binding: false,
        };
        assert_eq!(
            initialled.standing_on(d("2025-09-01").first_day()),
            Some((S::Initialled, Some(d("2025-08-08"))))
        );
        let later_in_force = NotInForce {
            from: Some(d("1994-05-12")),
            ..initialled
        };
        assert_eq!(
            later_in_force.standing_on(d("2026-01-01").first_day()),
            None
        );
        let appeal = NotInForce {
            non_binding: true,
            ..initialled
        };
        assert_eq!(
            appeal.standing_on(d("2026-01-01").first_day()),
            Some((S::NonBinding, Some(d("2025-08-08"))))
        );
    }

    #[test]
    fn a_partial_date_leaves_the_days_of_its_period_open_but_its_last() {
        let december = d("1991-12");
        assert!(leaves_open(december, d("1991-12-10").first_day()));
        assert!(leaves_open(december, d("1991-12-01").first_day()));
        assert!(!leaves_open(december, d("1991-12-31").first_day()));
        assert!(!leaves_open(december, d("1992-01-01").first_day()));
        assert!(!leaves_open(d("1991-12-16"), d("1991-12-16").first_day()));
        assert!(leaves_open(d("1991"), d("1991-12-30").first_day()));
    }

    #[test]
    fn an_end_at_a_partial_date_runs_to_the_end_of_its_period() {
        let interval = TreatyInterval::for_pair(
            TreatyStanding::Terminated,
            Some(d("2000")),
            Some(d("2000")),
            Some(d("2018-03")),
            [PartyConsent::default(); 2],
            false,
        );
        assert!(interval.in_force_on(d("2018-03-31").first_day()));
        assert!(!interval.in_force_on(d("2018-04-01").first_day()));
        assert!(conflict_covers(
            d("1988-02"),
            Some(d("1994-05")),
            d("1994-05-31").first_day()
        ));
        assert!(!conflict_covers(
            d("1988-02"),
            Some(d("1994-05")),
            d("1994-06-01").first_day()
        ));
    }

    #[test]
    fn a_treaty_binds_a_pair_only_while_in_force_for_both() {
        let ratified = |date: &str| PartyConsent {
            consent: Some(d(date)),
            ..PartyConsent::default()
        };
        // Rome Statute: in force 2002-07-01; Burundi ratified 2004-09-21
        // and was bound from 2004-12-01.
        let france = ratified("2000-06-09");
        let burundi = PartyConsent {
            consent: Some(d("2004-09-21")),
            in_force: Some(d("2004-12-01")),
            withdrawal: Some(d("2017-10-27")),
        };
        let pair = TreatyInterval::for_pair(
            TreatyStanding::InForce,
            Some(d("1998-07-17")),
            Some(d("2002-07-01")),
            None,
            [france, burundi],
            true,
        );
        assert_eq!(pair.from, Some(d("2004-12-01")));
        assert_eq!(pair.until, Some(d("2017-10-27")));
        // A party that signed and never consented is never bound.
        let never = TreatyInterval::for_pair(
            TreatyStanding::InForce,
            Some(d("1919-06-28")),
            Some(d("1920-01-10")),
            None,
            [ratified("1919-10-13"), PartyConsent::default()],
            true,
        );
        assert_eq!(never.from, None);
        // A late consent binds from the consent, not the treaty's start.
        let late = TreatyInterval::for_pair(
            TreatyStanding::InForce,
            Some(d("1998-07-17")),
            Some(d("2002-07-01")),
            None,
            [france, ratified("2011-08-30")],
            true,
        );
        assert_eq!(late.from, Some(d("2011-08-30")));
    }

    #[test]
    fn conflicts_cover_their_last_day_and_ongoing_ones_cover_today() {
        let start = d("2020-09-27");
        let end = Some(d("2020-11-10"));
        assert!(conflict_covers(start, end, d("2020-11-10").first_day()));
        assert!(!conflict_covers(start, end, d("2020-11-11").first_day()));
        assert!(conflict_covers(
            d("2022-02-24"),
            None,
            d("2026-01-01").first_day()
        ));
    }

    proptest::proptest! {
        #[test]
        fn reading_newest_first_decides_as_the_fold_does(
            changes in proptest::collection::vec(0usize..8, 0..12)
        ) {
            let all = [
                StatusChange::Recognition,
                StatusChange::NoRelations,
                StatusChange::Established,
                StatusChange::Restored,
                StatusChange::Downgraded,
                StatusChange::Severed,
                StatusChange::NonRecognition,
                StatusChange::RecognitionWithdrawn,
            ];
            let facts: Vec<StatusFact> = changes
                .iter()
                .enumerate()
                .map(|(i, c)| fact(&format!("{}", 1950 + i), all[*c]))
                .collect();
            proptest::prop_assert_eq!(
                status_from_newest(facts.iter().rev()),
                status_after(&facts)
            );
        }
    }
}
