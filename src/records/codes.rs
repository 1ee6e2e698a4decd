//! Which countries carry a code of a scheme, and when: what `LookupCountry`
//! answers.

use time::Date;

use crate::convert::date_from_pb;
use crate::domain::{CountryCode, PartialDate, Precision};
use crate::pb::diplomacy::v1 as pb;

/// The code schemes a country can be found by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeScheme {
    IsoAlpha2,
    IsoAlpha3,
    IsoNumeric,
    Iso3166Part3,
    UnM49,
    CowCode,
    CowAbbreviation,
}

/// When a country carries a code: first and last day, at the precision
/// known; `None`: unbounded on that side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePiece {
    pub start: Option<PartialDate>,
    pub last: Option<PartialDate>,
}

impl CodePiece {
    /// Whether the piece holds on any day of `date`.
    pub fn overlaps(&self, date: PartialDate) -> bool {
        self.start
            .is_none_or(|start| start.first_day() <= date.last_day())
            && self
                .last
                .is_none_or(|last| date.first_day() <= last.last_day())
    }

    fn sort_key(&self) -> Option<Date> {
        self.start.map(|start| start.first_day())
    }
}

/// The pieces of `country` that carry `code` (already in the scheme's
/// canonical form: upper-case letters, digits without leading zeros).
pub fn code_pieces(country: &pb::Country, scheme: CodeScheme, code: &str) -> Vec<CodePiece> {
    let id = CountryCode::from_name(&country.name);
    let id = id.as_ref().map(CountryCode::as_str).unwrap_or_default();
    let numeric = |n: u32| n != 0 && code.parse::<u32>() == Ok(n);
    let carries = match scheme {
        CodeScheme::IsoAlpha2 => (id.len() == 2 || id.len() == 4) && id.get(..2) == Some(code),
        CodeScheme::IsoAlpha3 => country.alpha3 == code,
        CodeScheme::IsoNumeric | CodeScheme::UnM49 => numeric(country.numeric_code),
        CodeScheme::Iso3166Part3 => country.iso3166_3_code == code || (id.len() == 4 && id == code),
        CodeScheme::CowCode | CodeScheme::CowAbbreviation => {
            let date =
                |d: Option<&crate::pb::google::r#type::Date>| d.and_then(|d| date_from_pb(d).ok());
            return country
                .cow_memberships
                .iter()
                .filter(|m| match scheme {
                    CodeScheme::CowCode => code.parse::<i32>() == Ok(m.ccode),
                    _ => m.abbreviation == code,
                })
                .map(|m| CodePiece {
                    start: date(m.start_date.as_ref()),
                    last: date(m.end_date.as_ref()),
                })
                .collect();
        }
    };
    if !carries {
        return Vec::new();
    }
    if country.existence.is_empty() {
        return vec![CodePiece {
            start: None,
            last: None,
        }];
    }
    let date = |d: Option<&crate::pb::google::r#type::Date>| d.and_then(|d| date_from_pb(d).ok());
    country
        .existence
        .iter()
        .map(|period| CodePiece {
            start: date(period.start_date.as_ref()),
            last: date(period.end_date.as_ref()).map(day_before),
        })
        .collect()
}

/// The last day of existence of a state that ceased on `end`: the day
/// before, when the day is known; else `end` at its own precision.
fn day_before(end: PartialDate) -> PartialDate {
    if end.precision() != Precision::Day {
        return end;
    }
    end.first_day()
        .previous_day()
        .map(PartialDate::from_day)
        .unwrap_or(end)
}

/// Orders matches by the start of their piece, open starts first.
pub fn piece_order(a: &CodePiece, b: &CodePiece) -> std::cmp::Ordering {
    a.sort_key().cmp(&b.sort_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::date_to_pb;

    fn d(s: &str) -> PartialDate {
        s.parse().expect(s)
    }

    fn membership(ccode: i32, abb: &str, start: &str, end: Option<&str>) -> pb::CowMembership {
        pb::CowMembership {
            ccode,
            abbreviation: abb.into(),
            start_date: Some(date_to_pb(d(start))),
            end_date: end.map(|e| date_to_pb(d(e))),
            ..Default::default()
        }
    }

    #[test]
    fn a_cow_code_gives_one_piece_per_membership() {
        let france = pb::Country {
            name: "countries/FR".into(),
            cow_memberships: vec![
                membership(220, "FRN", "1816-01-01", Some("1942-11-11")),
                membership(220, "FRN", "1944-08-25", None),
            ],
            ..Default::default()
        };
        let pieces = code_pieces(&france, CodeScheme::CowCode, "220");
        assert_eq!(pieces.len(), 2);
        assert!(!pieces[0].overlaps(d("1943")));
        assert!(pieces[1].overlaps(d("1944")));
        assert_eq!(
            code_pieces(&france, CodeScheme::CowAbbreviation, "FRN").len(),
            2
        );
        assert!(code_pieces(&france, CodeScheme::CowCode, "221").is_empty());
    }

    #[test]
    fn iso_codes_hold_through_existence_and_a_former_states_code_carries_its_alpha_2() {
        let czechoslovakia = pb::Country {
            name: "countries/CSHH".into(),
            existence: vec![pb::StatePeriod {
                start_date: Some(date_to_pb(d("1918-10-28"))),
                end_date: Some(date_to_pb(d("1993-01-01"))),
            }],
            ..Default::default()
        };
        let pieces = code_pieces(&czechoslovakia, CodeScheme::IsoAlpha2, "CS");
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].last, Some(d("1992-12-31")));
        assert!(pieces[0].overlaps(d("1980")));
        assert!(!pieces[0].overlaps(d("1993-01-01")));
        assert_eq!(
            code_pieces(&czechoslovakia, CodeScheme::Iso3166Part3, "CSHH").len(),
            1
        );
    }
}
