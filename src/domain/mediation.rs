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
    /// Its records, in date order, each once.
    pub records: Vec<String>,
}

impl Mediation {
    /// From the first possible day of its start to the last possible day of
    /// its end (a mediation ended "2025" runs to 2025-12-31).
    pub fn active_on(&self, day: Date) -> bool {
        self.start.first_day() <= day && self.end.is_none_or(|end| day <= end.last_day())
    }
}

/// The mediations the spans make up (one per mediator and role), those
/// active `on` a day when it is given, in order of start, then mediator.
///
/// The spans come as the `g/` index holds them: those of one mediator and
/// role side by side, in date order. So each mediation is found in one pass
/// and only the ones kept get their records copied: a busy pair has
/// thousands of spans and a relation is answered on every call.
pub fn mediations<'a>(
    spans: impl IntoIterator<Item = &'a MediationSpan>,
    on: Option<Date>,
) -> Vec<Mediation> {
    let mut kept = Vec::new();
    let mut group: Vec<&MediationSpan> = Vec::new();
    for span in spans {
        let same = group
            .first()
            .is_some_and(|first| first.mediator == span.mediator && first.role == span.role);
        if !same {
            kept.extend(mediation_of(&group, on));
            group.clear();
        }
        group.push(span);
    }
    kept.extend(mediation_of(&group, on));
    kept.sort_by(|a, b| {
        (a.start.first_day(), &a.mediator, a.role).cmp(&(b.start.first_day(), &b.mediator, b.role))
    });
    kept
}

/// One mediator's spans in one role, in date order, as a mediation, if it
/// is active `on` the day (or no day is given).
fn mediation_of(spans: &[&MediationSpan], on: Option<Date>) -> Option<Mediation> {
    let first = spans.first()?;
    let end = if spans.iter().any(|s| s.end.is_none()) {
        None
    } else {
        spans
            .iter()
            .filter_map(|s| s.end)
            .max_by_key(|end| end.last_day())
    };
    let mediation = Mediation {
        mediator: first.mediator.clone(),
        role: first.role,
        start: first.start,
        end,
        records: Vec::new(),
    };
    if on.is_some_and(|day| !mediation.active_on(day)) {
        return None;
    }
    Some(Mediation {
        records: spans.iter().map(|s| s.record.clone()).collect(),
        ..mediation
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(mediator: &str, start: &str, end: Option<&str>, record: &str) -> MediationSpan {
        MediationSpan {
            mediator: mediator.into(),
            role: 4,
            start: start.parse().expect("date"),
            end: end.map(|e| e.parse().expect("date")),
            record: record.into(),
        }
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
        let all = mediations(&spans, None);
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
        let on_the_day = mediations(&spans, Some(day("2025-01-01")));
        assert_eq!(on_the_day, all, "both are active on the day");
        assert!(mediations(&spans, Some(day("2026-01-01"))).is_empty());
    }

    #[test]
    fn an_open_record_keeps_a_mediation_going() {
        let spans = [
            span("actors/un", "2001", Some("2001"), "meetings/a"),
            span("actors/un", "2010", None, "events/b"),
        ];
        let all = mediations(&spans, None);
        assert_eq!(all[0].end, None);
        assert!(all[0].active_on(day("2090-01-01")));
        assert!(!all[0].active_on(day("2000-12-31")));
    }
}
