//! Mediations of a pair: one third party's involvement in one role, from its
//! first recorded mediation of the pair to its last, and whether it is
//! active on a day. A host is a venue and never mediates.

use std::cmp::Ordering;

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
    /// Its records, in date order, each once; only the first and the last
    /// when the mediations were asked for without every record.
    pub records: Vec<String>,
    /// How many records it rests on, listed or not.
    pub records_count: usize,
}

/// One mediator's mediation of a pair in one role, summed up from its spans
/// taken in date order: all that a relation needs of it but the records
/// between its first and its last. The relation cache keeps one per
/// mediator and role, kept up as spans come and go, so that a call reads a
/// busy pair's few hundred summaries instead of its thousands of spans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediationSummary {
    mediator: String,
    role: i32,
    start: PartialDate,
    /// `start`'s first day.
    first_day: Date,
    first_record: String,
    last_record: String,
    /// How many spans (records) it sums up.
    count: usize,
    /// Whether one of its spans is still going on.
    open: bool,
    /// The latest end among its spans, with its last day (of equal last
    /// days, the later span's).
    latest_end: Option<(PartialDate, Date)>,
}

impl MediationSummary {
    pub fn new(span: &MediationSpan) -> Self {
        Self {
            mediator: span.mediator.clone(),
            role: span.role,
            start: span.start,
            first_day: span.start.first_day(),
            first_record: span.record.clone(),
            last_record: span.record.clone(),
            count: 1,
            open: span.end.is_none(),
            latest_end: span.end.map(|end| (end, end.last_day())),
        }
    }

    /// Whether `span` is of this mediation (the same mediator and role).
    pub fn is_of(&self, span: &MediationSpan) -> bool {
        self.role == span.role && self.mediator == span.mediator
    }

    /// Takes in the next span of the same mediator and role, in date order.
    pub fn add(&mut self, span: &MediationSpan) {
        self.last_record.clone_from(&span.record);
        self.count += 1;
        self.open |= span.end.is_none();
        if let Some(end) = span.end {
            let last_day = end.last_day();
            if self.latest_end.is_none_or(|(_, latest)| last_day >= latest) {
                self.latest_end = Some((end, last_day));
            }
        }
    }

    /// Its end and that end's last day; `None` while a span goes on.
    fn end(&self) -> Option<(PartialDate, Date)> {
        if self.open {
            None
        } else {
            self.latest_end
        }
    }

    /// From the first possible day of its start to the last possible day
    /// of its end (a mediation ended "2025" runs to 2025-12-31), or on
    /// while a span goes on.
    pub fn active_on(&self, day: Date) -> bool {
        self.first_day <= day && self.end().is_none_or(|(_, last)| day <= last)
    }

    /// The order a relation lists mediations in: by start, then mediator
    /// and role. A mediator and role have one summary: no two are equal.
    pub fn listing_order(&self, other: &Self) -> Ordering {
        (self.first_day, &self.mediator, self.role).cmp(&(
            other.first_day,
            &other.mediator,
            other.role,
        ))
    }

    /// Its first and last record; one when it rests on one record.
    pub fn ends(&self) -> Vec<String> {
        if self.count == 1 {
            vec![self.first_record.clone()]
        } else {
            vec![self.first_record.clone(), self.last_record.clone()]
        }
    }

    /// The text it holds, for what it weighs in a cache.
    pub fn texts(&self) -> [&String; 3] {
        [&self.mediator, &self.first_record, &self.last_record]
    }

    /// As a mediation that lists `records`: every record of its spans, or
    /// its `ends`.
    pub fn mediation(&self, records: Vec<String>) -> Mediation {
        Mediation {
            mediator: self.mediator.clone(),
            role: self.role,
            start: self.start,
            end: self.end().map(|(end, _)| end),
            records,
            records_count: self.count,
        }
    }
}

/// Sums up spans as the `g/` index holds them, those of one mediator and
/// role side by side in date order: one summary for each mediator and role.
pub fn summarize<'a>(spans: impl IntoIterator<Item = &'a MediationSpan>) -> Vec<MediationSummary> {
    let mut summaries: Vec<MediationSummary> = Vec::new();
    for span in spans {
        match summaries.last_mut() {
            Some(summary) if summary.is_of(span) => summary.add(span),
            _ => summaries.push(MediationSummary::new(span)),
        }
    }
    summaries
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

    /// The summaries of `spans` active on `day`, in listing order.
    fn active_on(spans: &[MediationSpan], on: Date) -> Vec<MediationSummary> {
        let mut active: Vec<MediationSummary> = summarize(spans)
            .into_iter()
            .filter(|summary| summary.active_on(on))
            .collect();
        active.sort_by(MediationSummary::listing_order);
        active
    }

    /// The mediations on `day`, each with every record of its spans.
    fn with_every_record(spans: &[MediationSpan], on: Date) -> Vec<Mediation> {
        active_on(spans, on)
            .into_iter()
            .map(|summary| {
                summary.mediation(
                    spans
                        .iter()
                        .filter(|span| summary.is_of(span))
                        .map(|span| span.record.clone())
                        .collect(),
                )
            })
            .collect()
    }

    /// The mediations on `day`, each with its first and last record.
    fn with_ends(spans: &[MediationSpan], on: Date) -> Vec<Mediation> {
        active_on(spans, on)
            .into_iter()
            .map(|summary| summary.mediation(summary.ends()))
            .collect()
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
        let all = with_every_record(&spans, day("2025-01-01"));
        assert_eq!(all.len(), 2, "both are active on the day");
        assert_eq!(all[0].mediator, "actors/osce-minsk-group");
        assert_eq!(all[1].records, ["meetings/m01", "meetings/m04"]);
        assert_eq!(all[1].end, Some("2025-08-08".parse().expect("date")));
        let summaries = summarize(&spans);
        for (text, osce, us) in [
            ("2024-06-30", true, false),
            ("2024-07-01", true, true),
            ("2025-08-08", true, true),
            ("2025-08-09", true, false),
            ("2025-12-31", true, false),
            ("2026-01-01", false, false),
        ] {
            let on = day(text);
            let summed: Vec<bool> = summaries.iter().map(|s| s.active_on(on)).collect();
            assert_eq!(
                summed,
                [osce, us],
                "on {text}: a month runs from its first day, a year to its end"
            );
        }
        assert!(with_every_record(&spans, day("2026-01-01")).is_empty());
    }

    #[test]
    fn an_open_record_keeps_a_mediation_going() {
        let spans = [
            span("actors/un", "2001", Some("2001"), "meetings/a"),
            span("actors/un", "2010", None, "events/b"),
            span("actors/un", "2012", Some("2012"), "meetings/c"),
        ];
        let going = with_every_record(&spans, day("2090-01-01"));
        assert_eq!(going.len(), 1);
        assert_eq!(going[0].end, None);
        assert!(with_every_record(&spans, day("2000-12-31")).is_empty());
    }

    #[test]
    fn the_latest_end_is_the_end_whichever_record_comes_last() {
        let spans = [
            span("actors/un", "2001", Some("2009"), "events/long"),
            span("actors/un", "2003-05", Some("2003-05"), "meetings/short"),
        ];
        let on = with_ends(&spans, day("2005-01-01"));
        assert_eq!(on.len(), 1, "active between its records' ends");
        assert_eq!(on[0].end, Some("2009".parse().expect("date")));
        assert_eq!(on[0].records, ["events/long", "meetings/short"]);
    }

    #[test]
    fn without_every_record_a_mediation_lists_its_first_and_last_and_counts_all() {
        let spans = [
            span("countries/US", "2024-07", Some("2024-07"), "meetings/m01"),
            span("countries/US", "2024-09", Some("2024-09"), "meetings/m02"),
            span("countries/US", "2025-08", Some("2025-08"), "meetings/m04"),
            span("countries/TR", "2025", Some("2025"), "meetings/m05"),
        ];
        let on = day("2025-08-01");
        let all = with_every_record(&spans, on);
        let ends = with_ends(&spans, on);
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

    #[test]
    fn mediations_come_in_order_of_start_then_mediator() {
        let spans = [
            span("actors/b", "2001", None, "events/1"),
            span("countries/AA", "2001", None, "events/2"),
            span("countries/ZZ", "1999", None, "events/3"),
        ];
        let order: Vec<String> = with_ends(&spans, day("2002-01-01"))
            .into_iter()
            .map(|m| m.mediator)
            .collect();
        assert_eq!(order, ["countries/ZZ", "actors/b", "countries/AA"]);
    }
}
