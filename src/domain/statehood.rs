//! States in time: when a state existed, which states it continues, and
//! what that means for a relation on a day. Pure rules; the store hands in
//! what the country records say.

use time::Date;

use super::date::PartialDate;
use super::names::CountryCode;

/// One period of existence as an independent state. `start: None`: before
/// any date recorded; `end`: the day it ceased to exist (not a day of
/// existence), `None` while it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatePeriod {
    pub start: Option<PartialDate>,
    pub end: Option<PartialDate>,
}

impl StatePeriod {
    /// Whether the state may have existed on `day`. A partial date is read
    /// in the state's favour: "1991" as a start counts from 1991-01-01, as
    /// an end from 1991-12-31, so that NOT_APPLICABLE is said only where it
    /// is certain.
    pub fn covers(&self, day: Date) -> bool {
        self.start.is_none_or(|start| start.first_day() <= day)
            && self.end.is_none_or(|end| day < end.last_day())
    }
}

/// Why a list of periods is not a state's existence: the index of the
/// period at fault and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodError {
    pub index: usize,
    pub field: &'static str,
    pub message: String,
}

/// Checks a state's periods: each ends after it starts, they come oldest
/// first and do not overlap, and only the first may start before records
/// and only the last may be open-ended.
pub fn check_periods(periods: &[StatePeriod]) -> Result<(), PeriodError> {
    for (index, period) in periods.iter().enumerate() {
        if let (Some(start), Some(end)) = (period.start, period.end) {
            if end.last_day() <= start.first_day() {
                return Err(PeriodError {
                    index,
                    field: "end_date",
                    message: format!("{end} is not after the start {start}"),
                });
            }
        }
        if index > 0 && period.start.is_none() {
            return Err(PeriodError {
                index,
                field: "start_date",
                message: "is required for every period but the first".into(),
            });
        }
        if let Some(next) = periods.get(index + 1) {
            let Some(end) = period.end else {
                return Err(PeriodError {
                    index,
                    field: "end_date",
                    message:
                        "is required for every period but the last: only the last can be open-ended"
                            .into(),
                });
            };
            if let Some(next_start) = next.start {
                if next_start.first_day() < end.first_day() {
                    return Err(PeriodError {
                        index: index + 1,
                        field: "start_date",
                        message: format!(
                            "{next_start} overlaps the period before, which ends on {end}: periods come oldest first and do not overlap"
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// What a country's record says about it in time, as relations need it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statehood {
    /// Empty: not recorded, and then the state counts as existing.
    pub periods: Vec<StatePeriod>,
    /// The states it continues, each with the day it began to.
    pub continues: Vec<(CountryCode, PartialDate)>,
}

impl Statehood {
    /// The period covering `day`: `Some(None)` when existence is not
    /// recorded (no start to give), `None` when it certainly did not exist.
    pub fn period_on(&self, day: Date) -> Option<Option<StatePeriod>> {
        if self.periods.is_empty() {
            return Some(None);
        }
        self.periods
            .iter()
            .find(|period| period.covers(day))
            .map(|period| Some(*period))
    }

    /// The state it stands in for on `day`: the one it continues by a link
    /// dated after `day` (of several, the first after it).
    pub fn continued_on(&self, day: Date) -> Option<(CountryCode, PartialDate)> {
        self.continues
            .iter()
            .filter(|(_, date)| day < date.first_day())
            .min_by_key(|(_, date)| *date)
            .copied()
    }
}

/// Whether `date` falls within an existence, its end day included: a
/// succession within the predecessor's (the USSR ceased on 1991-12-26, the
/// day the Russian Federation began to continue it), an actor's member
/// joining or leaving within the actor's. Not recorded: it fits.
pub fn within_existence(periods: &[StatePeriod], date: PartialDate) -> bool {
    periods.is_empty()
        || periods.iter().any(|period| {
            period
                .start
                .is_none_or(|start| start.first_day() <= date.last_day())
                && period
                    .end
                    .is_none_or(|end| date.first_day() <= end.last_day())
        })
}

/// Whether the two sides existed on a day, and from when both did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coexistence {
    /// Both existed; `since` is the later start of their periods covering
    /// the day, when either is recorded: facts count from there.
    Both { since: Option<PartialDate> },
    /// These sides did not exist (one or both, in the order given).
    Missing(Vec<usize>),
}

/// Whether states `a` and `b` both existed on `day`.
pub fn coexistence(a: &Statehood, b: &Statehood, day: Date) -> Coexistence {
    let periods = [a.period_on(day), b.period_on(day)];
    let missing: Vec<usize> = periods
        .iter()
        .enumerate()
        .filter(|(_, period)| period.is_none())
        .map(|(side, _)| side)
        .collect();
    if !missing.is_empty() {
        return Coexistence::Missing(missing);
    }
    let since = periods
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|period| period.start)
        .max_by_key(|start| start.first_day());
    Coexistence::Both { since }
}

/// The later of a fact's date and the day both states existed from: where
/// a relation counts a fact dated before both existed.
pub fn counted_from(fact: PartialDate, both_since: Option<PartialDate>) -> PartialDate {
    match both_since {
        Some(since) if since.first_day() > fact.first_day() => since,
        _ => fact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> PartialDate {
        s.parse().expect(s)
    }

    fn period(start: Option<&str>, end: Option<&str>) -> StatePeriod {
        StatePeriod {
            start: start.map(d),
            end: end.map(d),
        }
    }

    fn state(periods: Vec<StatePeriod>) -> Statehood {
        Statehood {
            periods,
            continues: Vec::new(),
        }
    }

    #[test]
    fn a_state_exists_from_its_first_day_until_the_day_it_ceased() {
        let ussr = period(Some("1922-12-30"), Some("1991-12-26"));
        assert!(!ussr.covers(d("1922-12-29").first_day()));
        assert!(ussr.covers(d("1922-12-30").first_day()));
        assert!(ussr.covers(d("1991-12-25").first_day()));
        assert!(!ussr.covers(d("1991-12-26").first_day()));
    }

    #[test]
    fn partial_dates_are_read_in_the_states_favour() {
        let vague = period(Some("1918"), Some("1940-06"));
        assert!(vague.covers(d("1918-01-01").first_day()));
        assert!(vague.covers(d("1940-06-29").first_day()));
        assert!(!vague.covers(d("1940-06-30").first_day()));
    }

    #[test]
    fn unrecorded_existence_never_says_a_state_did_not_exist() {
        let day = d("1800-01-01").first_day();
        assert_eq!(state(Vec::new()).period_on(day), Some(None));
        assert_eq!(
            coexistence(&state(Vec::new()), &state(Vec::new()), day),
            Coexistence::Both { since: None }
        );
    }

    #[test]
    fn both_exist_from_the_later_start() {
        let am = state(vec![period(Some("1991-09-21"), None)]);
        let az = state(vec![period(Some("1991-10-18"), None)]);
        assert_eq!(
            coexistence(&am, &az, d("1991-06").last_day()),
            Coexistence::Missing(vec![0, 1])
        );
        assert_eq!(
            coexistence(&am, &az, d("1991-10-01").first_day()),
            Coexistence::Missing(vec![1])
        );
        assert_eq!(
            coexistence(&am, &az, d("1992").last_day()),
            Coexistence::Both {
                since: Some(d("1991-10-18"))
            }
        );
        assert_eq!(
            counted_from(d("1991"), Some(d("1991-10-18"))),
            d("1991-10-18")
        );
        assert_eq!(
            counted_from(d("1992-01-14"), Some(d("1991-10-18"))),
            d("1992-01-14")
        );
    }

    #[test]
    fn periods_must_be_ordered_closed_and_apart() {
        let serbia = [
            period(Some("1878-07-13"), Some("1918-12-01")),
            period(Some("2006-06-05"), None),
        ];
        assert_eq!(check_periods(&serbia), Ok(()));
        let overlapping = [
            period(Some("1878"), Some("1920")),
            period(Some("1918"), None),
        ];
        assert_eq!(check_periods(&overlapping).map_err(|e| e.index), Err(1));
        let open_then_more = [period(Some("1878"), None), period(Some("2006"), None)];
        assert_eq!(
            check_periods(&open_then_more).map_err(|e| e.field),
            Err("end_date")
        );
        let backwards = [period(Some("2000"), Some("1990"))];
        assert_eq!(check_periods(&backwards).map_err(|e| e.index), Err(0));
    }

    #[test]
    fn a_succession_falls_within_the_predecessors_existence_end_day_included() {
        let ussr = [period(Some("1922-12-30"), Some("1991-12-26"))];
        assert!(within_existence(&ussr, d("1991-12-26")));
        assert!(within_existence(&ussr, d("1991-08-24")));
        assert!(!within_existence(&ussr, d("1992-01-01")));
        assert!(!within_existence(&ussr, d("1917")));
        assert!(within_existence(&[], d("1066")));
    }

    #[test]
    fn a_continuing_state_stands_in_for_its_predecessor_before_the_link() {
        let su = CountryCode::parse("SU").expect("id");
        let ru = Statehood {
            periods: vec![period(Some("1991-12-26"), None)],
            continues: vec![(su, d("1991-12-26"))],
        };
        assert_eq!(
            ru.continued_on(d("1980-01-01").first_day()),
            Some((su, d("1991-12-26")))
        );
        assert_eq!(ru.continued_on(d("1991-12-26").first_day()), None);
    }
}
