//! Calendar dates that keep the precision they were recorded at.
//!
//! A fact known only to the month ("1993-04") must never be reported as
//! "1993-04-01". `PartialDate` holds a year, a year and month, or a full date,
//! validates it against the Gregorian calendar, and orders dates by their
//! first possible day with ties broken by precision (year < month < day).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use time::{Date, Month};

/// How much of a date is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Year = 1,
    Month = 2,
    Day = 3,
}

/// Why a date is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("year must be from 1 to 9999, got {0}")]
    YearOutOfRange(i64),
    #[error("month must be from 1 to 12 (or 0 for a year alone), got {0}")]
    MonthOutOfRange(i64),
    #[error("a day needs a month: got day {0} with month 0")]
    DayWithoutMonth(i64),
    #[error("{year:04}-{month:02} has no day {day}")]
    NoSuchDay { year: i32, month: u8, day: i64 },
    #[error("expected YYYY, YYYY-MM or YYYY-MM-DD, got {0:?}")]
    Syntax(String),
}

/// A year, a year and month, or a full date, always a real calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PartialDate {
    year: u16,
    month: u8,
    day: u8,
}

impl PartialDate {
    /// Builds a date from the three fields of `google.type.Date`, where 0 means
    /// "not known". Year 0 (a recurring date without a year) is rejected: every
    /// fact here happened in a particular year.
    pub fn from_parts(year: i64, month: i64, day: i64) -> Result<Self, DateError> {
        if !(1..=9999).contains(&year) {
            return Err(DateError::YearOutOfRange(year));
        }
        if !(0..=12).contains(&month) {
            return Err(DateError::MonthOutOfRange(month));
        }
        if month == 0 && day != 0 {
            return Err(DateError::DayWithoutMonth(day));
        }
        let (year, month) = (year as u16, month as u8);
        if day != 0 {
            let days = time::util::days_in_month(calendar_month(month), i32::from(year));
            if !(1..=i64::from(days)).contains(&day) {
                return Err(DateError::NoSuchDay {
                    year: i32::from(year),
                    month,
                    day,
                });
            }
        }
        Ok(Self {
            year,
            month,
            day: day as u8,
        })
    }

    /// A full date from a calendar day.
    pub fn from_day(date: Date) -> Self {
        Self {
            year: date.year() as u16,
            month: u8::from(date.month()),
            day: date.day(),
        }
    }

    /// Today in UTC, the default "as of" date.
    pub fn today_utc() -> Self {
        Self::from_day(time::OffsetDateTime::now_utc().date())
    }

    pub fn year(&self) -> i32 {
        i32::from(self.year)
    }

    /// Month 1–12, or 0 when only the year is known.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// Day 1–31, or 0 when the day is not known.
    pub fn day(&self) -> u8 {
        self.day
    }

    pub fn precision(&self) -> Precision {
        match (self.month, self.day) {
            (0, _) => Precision::Year,
            (_, 0) => Precision::Month,
            _ => Precision::Day,
        }
    }

    /// The earliest day this date can stand for: how it sorts and compares.
    pub fn first_day(&self) -> Date {
        let month = calendar_month(self.month.max(1));
        Date::from_calendar_date(self.year(), month, self.day.max(1)).unwrap_or(Date::MIN)
    }

    /// The latest day this date can stand for: "by the end of 2009" for `2009`.
    pub fn last_day(&self) -> Date {
        let month = if self.month == 0 { 12 } else { self.month };
        let day = if self.day == 0 {
            time::util::days_in_month(calendar_month(month), self.year())
        } else {
            self.day
        };
        Date::from_calendar_date(self.year(), calendar_month(month), day).unwrap_or(Date::MAX)
    }

    /// Fixed-width ASCII key `YYYYMMDDp` (first day, then precision digit):
    /// byte order equals the order of `Ord`, so stores can index by it.
    pub fn sort_key(&self) -> String {
        format!("{}{}", day_key(self.first_day()), self.precision() as u8)
    }

    /// The date whose `sort_key` is `key`; `None` for anything else. Index
    /// keys already hold their date, so values need not repeat it.
    pub fn from_sort_key(key: &[u8]) -> Option<Self> {
        let [y1, y2, y3, y4, m1, m2, d1, d2, p] = *key else {
            return None;
        };
        let number = |digits: &[u8]| {
            digits.iter().try_fold(0i64, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
            })
        };
        let (year, month, day) = (
            number(&[y1, y2, y3, y4])?,
            number(&[m1, m2])?,
            number(&[d1, d2])?,
        );
        let date = match p {
            b'1' if month == 1 && day == 1 => Self::from_parts(year, 0, 0),
            b'2' if day == 1 => Self::from_parts(year, month, 0),
            b'3' => Self::from_parts(year, month, day),
            _ => return None,
        };
        date.ok()
    }
}

/// Fixed-width ASCII `YYYYMMDD` of a calendar day.
pub fn day_key(day: Date) -> String {
    let mut key = String::with_capacity(9);
    push_day_key(&mut key, day);
    key
}

/// Appends `day_key(day)`: on every relation and history query's path, so
/// without a formatting pass.
pub fn push_day_key(key: &mut String, day: Date) {
    match u32::try_from(day.year()) {
        Ok(year) if year <= 9999 => {
            push_digits(key, year, 4);
            push_digits(key, u32::from(u8::from(day.month())), 2);
            push_digits(key, u32::from(day.day()), 2);
        }
        _ => key.push_str(&format!(
            "{:04}{:02}{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        )),
    }
}

fn push_digits(key: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        key.push(char::from(b'0' + digit as u8));
    }
}

fn calendar_month(month: u8) -> Month {
    Month::try_from(month).unwrap_or(Month::January)
}

impl Ord for PartialDate {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.first_day(), self.precision()).cmp(&(other.first_day(), other.precision()))
    }
}

impl PartialOrd for PartialDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if self.month != 0 {
            write!(f, "-{:02}", self.month)?;
        }
        if self.day != 0 {
            write!(f, "-{:02}", self.day)?;
        }
        Ok(())
    }
}

impl FromStr for PartialDate {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || DateError::Syntax(s.to_string());
        let mut parts = s.split('-');
        let mut next = |width: usize| -> Result<i64, DateError> {
            match parts.next() {
                None => Ok(0),
                Some(p) if p.len() == width && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| syntax())
                }
                Some(_) => Err(syntax()),
            }
        };
        let (year, month, day) = (next(4)?, next(2)?, next(2)?);
        if parts.next().is_some() || (month == 0 && s.len() > 4) || (day == 0 && s.len() > 7) {
            return Err(syntax());
        }
        Self::from_parts(year, month, day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_keys_are_fixed_width_calendar_digits() {
        for julian in [
            Date::MIN.to_julian_day(),
            0,
            1_721_426, // 0001-01-01
            2_431_822, // 1945-12-31
            2_460_000,
            Date::MAX.to_julian_day(),
        ] {
            let day = Date::from_julian_day(julian).expect("day");
            let expected = format!(
                "{:04}{:02}{:02}",
                day.year(),
                u8::from(day.month()),
                day.day()
            );
            assert_eq!(day_key(day), expected, "{day}");
        }
    }

    fn d(s: &str) -> PartialDate {
        s.parse().expect(s)
    }

    #[test]
    fn keeps_precision_when_printed() {
        assert_eq!(d("1992").to_string(), "1992");
        assert_eq!(d("1993-04").to_string(), "1993-04");
        assert_eq!(d("2009-10-10").to_string(), "2009-10-10");
        assert_eq!(d("1993-04").precision(), Precision::Month);
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(matches!(
            PartialDate::from_parts(2024, 2, 30),
            Err(DateError::NoSuchDay { .. })
        ));
        assert!(PartialDate::from_parts(2024, 2, 29).is_ok());
        assert!(PartialDate::from_parts(2023, 2, 29).is_err());
        assert!(PartialDate::from_parts(0, 1, 1).is_err());
        assert!(PartialDate::from_parts(10000, 1, 1).is_err());
        assert!(PartialDate::from_parts(2024, 13, 0).is_err());
        assert!(PartialDate::from_parts(2024, 0, 5).is_err());
        assert!(PartialDate::from_parts(2024, -1, 0).is_err());
        for bad in [
            "",
            "24",
            "2024-1",
            "2024-01-1",
            "2024-00-01",
            "2024-01-01-01",
            "x024",
        ] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_sort_key_gives_back_its_date_and_nothing_else_does() {
        for text in ["0001", "1945-05", "2009-10-10", "2024-02-29", "9999-12-31"] {
            let date = d(text);
            let key = date.sort_key();
            assert_eq!(
                PartialDate::from_sort_key(key.as_bytes()),
                Some(date),
                "{key}"
            );
        }
        for bad in [
            "",
            "20091010",
            "200910103x",
            "200910104",
            "200910101",
            "200910022",
            "200902303",
            "2009-1010",
            "000001011",
        ] {
            assert_eq!(PartialDate::from_sort_key(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn orders_by_first_day_then_precision() {
        let mut dates = [d("2024-08-01"), d("2024-08"), d("2024"), d("2023-12-31")];
        dates.sort();
        let shown: Vec<_> = dates.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["2023-12-31", "2024", "2024-08", "2024-08-01"]);
        let mut keys: Vec<_> = dates.iter().map(PartialDate::sort_key).collect();
        let sorted = keys.clone();
        keys.sort();
        assert_eq!(keys, sorted, "byte order of keys equals date order");
    }

    #[test]
    fn spans_its_period() {
        assert_eq!(d("2024-02").last_day().to_string(), "2024-02-29");
        assert_eq!(d("1991").last_day().to_string(), "1991-12-31");
        assert_eq!(d("1991").first_day().to_string(), "1991-01-01");
    }
}
