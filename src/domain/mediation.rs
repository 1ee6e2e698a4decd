//! Mediations of a pair: one third party's involvement in one role, from its
//! first recorded mediation of the pair to its last, and whether it is
//! active on a day. A host is a venue and never mediates.

use time::Date;

use super::PartialDate;

/// One record's mediation of a pair: who, in which role, over which days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediationSpan {
    /// `countries/{code}` or `actors/{id}`.
    pub mediator: String,
    /// A `ParticipantRole` number: MEDIATOR or FACILITATOR.
    pub role: i32,
    pub start: PartialDate,
    /// Its last day as recorded; `None`: still going on.
    pub end: Option<PartialDate>,
    pub record: String,
    /// `start`'s first day and `end`'s last, worked out once: a relation
    /// compares them for every span of the pair on every call.
    first_day: Date,
    last_day: Option<Date>,
}

impl MediationSpan {
    pub fn new(
        mediator: String,
        role: i32,
        start: PartialDate,
        end: Option<PartialDate>,
        record: String,
    ) -> Self {
        Self {
            first_day: start.first_day(),
            last_day: end.map(|end| end.last_day()),
            mediator,
            role,
            start,
            end,
            record,
        }
    }
}

/// A mediator's involvement with a pair in one role, over all its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mediation {
    pub mediator: String,
    pub role: i32,
    /// The earliest start of its records.
    pub start: PartialDate,
    /// The latest end of its records; `None` when one of them is open.
    pub end: Option<PartialDate>,
    /// Its records, in date order, each once; only the first and the last
    /// when the mediations were asked for without every record.
    pub records: Vec<String>,
    /// How many records it rests on, listed or not.
    pub records_count: usize,
}

impl Mediation {
    /// From the first possible day of its start to the last possible day of
    /// its end (a mediation ended "2025" runs to 2025-12-31).
    pub fn active_on(&self, day: Date) -> bool {
        covers(
            self.start.first_day(),
            self.end.map(|end| end.last_day()),
            day,
        )
    }
}

/// Whether the days from `first` to `last` (`None`: still going on)
/// include `day`: the one rule for a mediation being active.
fn covers(first: Date, last: Option<Date>, day: Date) -> bool {
    first <= day && last.is_none_or(|last| day <= last)
}

/// The mediations the spans make up (one per mediator and role), those
/// active `on` a day when it is given, in order of start, then mediator;
/// with `every_record`, each lists all its records, else its first and
/// last.
///
/// The spans come as the `g/` index holds them: those of one mediator and
/// role side by side, in date order. So each mediation is found in one pass
/// and only the ones kept get their records copied: a busy pair has
/// thousands of spans and a relation is answered on every call.
pub fn mediations<'a>(
    spans: impl IntoIterator<Item = &'a MediationSpan>,
    on: Option<Date>,
    every_record: bool,
) -> Vec<Mediation> {
    let mut kept: Vec<(Date, Mediation)> = Vec::new();
    let mut group: Option<Group<'a>> = None;
    for span in spans {
        match &mut group {
            Some(g) if g.first.role == span.role && g.first.mediator == span.mediator => {
                g.add(span);
            }
            _ => {
                kept.extend(group.take().and_then(|g| g.mediation(on)));
                group = Some(Group::new(span, every_record));
            }
        }
    }
    kept.extend(group.and_then(|g| g.mediation(on)));
    kept.sort_by(|(a_start, a), (b_start, b)| {
        (a_start, &a.mediator, a.role).cmp(&(b_start, &b.mediator, b.role))
    });
    kept.into_iter().map(|(_, mediation)| mediation).collect()
}

/// One mediator's spans in one role as they go by, in date order: what a
/// mediation needs of them, in one pass (a busy pair has thousands).
struct Group<'a> {
    first: &'a MediationSpan,
    last: &'a MediationSpan,
    /// The span with the latest end (the last of equals).
    latest_end: &'a MediationSpan,
    open: bool,
    count: usize,
    /// Every span, when every record is listed.
    all: Option<Vec<&'a MediationSpan>>,
}

impl<'a> Group<'a> {
    fn new(span: &'a MediationSpan, every_record: bool) -> Self {
        Group {
            first: span,
            last: span,
            latest_end: span,
            open: span.end.is_none(),
            count: 1,
            all: every_record.then(|| vec![span]),
        }
    }

    fn add(&mut self, span: &'a MediationSpan) {
        self.last = span;
        if span.last_day >= self.latest_end.last_day {
            self.latest_end = span;
        }
        self.open |= span.end.is_none();
        self.count += 1;
        if let Some(all) = &mut self.all {
            all.push(span);
        }
    }

    /// The mediation with its first day, if it is active `on` the day (or
    /// no day is given).
    fn mediation(self, on: Option<Date>) -> Option<(Date, Mediation)> {
        let ended = (!self.open).then_some(self.latest_end);
        let last_day = ended.and_then(|span| span.last_day);
        if on.is_some_and(|day| !covers(self.first.first_day, last_day, day)) {
            return None;
        }
        let listed = match self.all {
            Some(all) => all,
            None if self.count == 1 => vec![self.first],
            None => vec![self.first, self.last],
        };
        Some((
            self.first.first_day,
            Mediation {
                mediator: self.first.mediator.clone(),
                role: self.first.role,
                start: self.first.start,
                end: ended.and_then(|span| span.end),
                records: listed.into_iter().map(|s| s.record.clone()).collect(),
                records_count: self.count,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(mediator: &str, start: &str, end: Option<&str>, record: &str) -> MediationSpan {
        MediationSpan::new(
            mediator.into(),
            4,
            start.parse().expect("date"),
            end.map(|e| e.parse().expect("date")),
            record.into(),
        )
    }

    fn day(text: &str) -> Date {
        text.parse::<PartialDate>().expect("date").first_day()
    }

    #[test]
    fn a_mediation_runs_from_its_first_record_to_its_last() {
        // As the index holds them: by mediator, then date.
        let spans = [
            span(
                "actors/osce-minsk-group",
                "1992",
                Some("2025"),
                "events/x01",
            ),
            span("countries/US", "2024-07", Some("2024-07"), "meetings/m01"),
            span(
                "countries/US",
                "2025-08-08",
                Some("2025-08-08"),
                "meetings/m04",
            ),
        ];
        let all = mediations(&spans, None, true);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].mediator, "actors/osce-minsk-group");
        assert_eq!(all[1].records, ["meetings/m01", "meetings/m04"]);
        assert!(
            all[1].active_on(day("2024-07-01")),
            "from the first day of July"
        );
        assert!(all[1].active_on(day("2025-01-01")), "between its records");
        assert!(!all[1].active_on(day("2025-08-09")), "ended with its last");
        assert!(
            all[0].active_on(day("2025-12-31")),
            "a year runs to its end"
        );
        assert!(!all[0].active_on(day("2026-01-01")));
        let on_the_day = mediations(&spans, Some(day("2025-01-01")), true);
        assert_eq!(on_the_day, all, "both are active on the day");
        assert!(mediations(&spans, Some(day("2026-01-01")), true).is_empty());
    }

    #[test]
    fn an_open_record_keeps_a_mediation_going() {
        let spans = [
            span("actors/un", "2001", Some("2001"), "meetings/a"),
            span("actors/un", "2010", None, "events/b"),
        ];
        let all = mediations(&spans, None, true);
        assert_eq!(all[0].end, None);
        assert!(all[0].active_on(day("2090-01-01")));
        assert!(!all[0].active_on(day("2000-12-31")));
    }

    #[test]
    fn without_every_record_a_mediation_lists_its_first_and_last_and_counts_all() {
        let spans = [
            span("countries/US", "2024-07", Some("2024-07"), "meetings/m01"),
            span("countries/US", "2024-09", Some("2024-09"), "meetings/m02"),
            span("countries/US", "2025-08", Some("2025-08"), "meetings/m04"),
            span("countries/TR", "2025", Some("2025"), "meetings/m05"),
        ];
        let all = mediations(&spans, None, true);
        let ends = mediations(&spans, None, false);
        assert_eq!(
            all[0].records,
            ["meetings/m01", "meetings/m02", "meetings/m04"]
        );
        assert_eq!(ends[0].records, ["meetings/m01", "meetings/m04"]);
        assert_eq!((all[0].records_count, ends[0].records_count), (3, 3));
        assert_eq!(
            ends[1].records,
            ["meetings/m05"],
            "one record is listed once"
        );
        assert_eq!(ends[1].records_count, 1);
        for (a, e) in all.iter().zip(&ends) {
            assert_eq!((a.start, a.end, &a.mediator), (e.start, e.end, &e.mediator));
        }
    }
}
