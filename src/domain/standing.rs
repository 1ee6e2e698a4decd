//! Where a pair stands apart from its diplomatic status: each side's
//! recognition of the other, each side's representation in the other, and
//! their land border. Each is a sequence of dated facts per direction; the
//! last one dated on or before a day holds on it, until the next.

use time::Date;

use super::PartialDate;

/// Which of the three a fact is about. Its tag starts the fact's key, so
/// that one direction of one aspect is a contiguous, date-ordered run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aspect {
    /// Whether `from` recognises the other side.
    Recognition,
    /// The level of `from`'s mission in the other side.
    Representation,
    /// The pair's land border (no direction).
    Border,
}

impl Aspect {
    pub fn tag(self) -> &'static str {
        match self {
            Aspect::Recognition => "rec",
            Aspect::Representation => "rep",
            Aspect::Border => "bor",
        }
    }
}

/// The direction segment of a border fact's key.
pub const NO_DIRECTION: &str = "-";

/// One dated fact of one aspect and direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandingFact {
    pub date: PartialDate,
    /// The number of the API enum the aspect answers with
    /// (`RecognitionStanding`, `RepresentationLevel`, `BorderStatus`).
    pub value: i32,
    /// Resource name of the record that states it.
    pub record: String,
}

impl StandingFact {
    /// Whether it holds from `day` on at the latest: a fact dated to a month
    /// or a year counts from the first day of its period, as a status does.
    pub fn dated_by(&self, day: Date) -> bool {
        self.date.first_day() <= day
    }
}

/// The fact that holds on `day` among one direction's facts in date order:
/// the last dated on or before it.
pub fn holding_on<'a>(
    facts_in_date_order: impl DoubleEndedIterator<Item = &'a StandingFact>,
    day: Date,
) -> Option<&'a StandingFact> {
    facts_in_date_order.rev().find(|fact| fact.dated_by(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(date: &str, value: i32) -> StandingFact {
        StandingFact {
            date: date.parse().expect("date"),
            value,
            record: format!("events/{date}"),
        }
    }

    fn day(s: &str) -> Date {
        s.parse::<PartialDate>().expect("day").first_day()
    }

    #[test]
    fn a_level_holds_from_its_snapshot_year_until_the_next_and_after_the_last() {
        let facts = [fact("1990", 3), fact("1995", 1)];
        assert_eq!(holding_on(facts.iter(), day("1989-12-31")), None);
        assert_eq!(
            holding_on(facts.iter(), day("1990-01-01")).map(|f| f.value),
            Some(3)
        );
        assert_eq!(
            holding_on(facts.iter(), day("1994-06-30")).map(|f| f.value),
            Some(3)
        );
        assert_eq!(
            holding_on(facts.iter(), day("1995-03-01")).map(|f| f.value),
            Some(1)
        );
        assert_eq!(
            holding_on(facts.iter(), day("2024-01-01")).map(|f| f.value),
            Some(1)
        );
    }
}
