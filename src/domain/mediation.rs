//! Mediations of a pair: one third party's involvement in one role, from its
//! first recorded mediation of the pair to its last, and whether it is
//! active on a day. A host is a venue and never mediates.

use std::collections::BTreeMap;

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

/// The mediations the spans make up (one per mediator and role), in order
/// of start, then mediator.
pub fn mediations<'a>(spans: impl IntoIterator<Item = &'a MediationSpan>) -> Vec<Mediation> {
    let mut by_mediator: BTreeMap<(&str, i32), Vec<&MediationSpan>> = BTreeMap::new();
    for span in spans {
        by_mediator
            .entry((span.mediator.as_str(), span.role))
            .or_default()
            .push(span);
    }
    let mut all: Vec<Mediation> = by_mediator
        .into_iter()
        .filter_map(|((mediator, role), mut spans)| {
            spans.sort_by_key(|s| (s.start.first_day(), s.start.precision(), s.record.clone()));
            let start = spans.first()?.start;
            let open = spans.iter().any(|s| s.end.is_none());
            let end = if open {
                None
            } else {
                spans
                    .iter()
                    .filter_map(|s| s.end)
                    .max_by_key(|end| end.last_day())
            };
            let mut records: Vec<String> = Vec::new();
            for span in &spans {
                if !records.contains(&span.record) {
                    records.push(span.record.clone());
                }
            }
            Some(Mediation {
                mediator: mediator.to_string(),
                role,
                start,
                end,
                records,
            })
        })
        .collect();
    all.sort_by(|a, b| {
        (a.start.first_day(), &a.mediator, a.role).cmp(&(b.start.first_day(), &b.mediator, b.role))
    });
    all
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
        let spans = [
            span(
                "countries/US",
                "2025-08-08",
                Some("2025-08-08"),
                "meetings/m04",
            ),
            span("countries/US", "2024-07", Some("2024-07"), "meetings/m01"),
            span(
                "actors/osce-minsk-group",
                "1992",
                Some("2025"),
                "events/x01",
            ),
        ];
        let all = mediations(&spans);
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
    }

    #[test]
    fn an_open_record_keeps_a_mediation_going() {
        let spans = [
            span("actors/un", "2001", Some("2001"), "meetings/a"),
            span("actors/un", "2010", None, "events/b"),
        ];
        let all = mediations(&spans);
        assert_eq!(all[0].end, None);
        assert!(all[0].active_on(day("2090-01-01")));
        assert!(!all[0].active_on(day("2000-12-31")));
    }
}
