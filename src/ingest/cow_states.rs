//! The Correlates of War State System Membership list, as COW distributes
//! it (`states2016.csv`), turned into each country's `cow_memberships`.
//!
//! One COW code can belong to several countries over time (365: the Russian
//! Empire, the USSR, the Russian Federation); the built-in state table
//! (`dataset/states.csv`) says which country holds which piece of a code,
//! and a row is cut into those pieces. A code no country holds becomes a
//! country of its own, `cow-{abbreviation}`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::table::{bad, read_columns, whole};
use crate::convert::date_to_pb;
use crate::domain::{CountryCode, PartialDate};
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;

/// The columns COW's file has, read by name (in any order).
pub const COLUMNS: [&str; 10] = [
    "stateabb", "ccode", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth", "endday",
    "version",
];

/// One row of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CowRow {
    /// 1-based line number in the file, for errors.
    pub line: usize,
    pub abbreviation: String,
    pub ccode: i32,
    pub name: String,
    pub start: PartialDate,
    /// `None`: still a member at the end of the data (COW writes the last
    /// day of its version's year).
    pub end: Option<PartialDate>,
    pub version: String,
}

/// Which country holds a COW code, and when (first and last day, inclusive;
/// `None`: unbounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePiece {
    pub country: CountryCode,
    pub from: Option<PartialDate>,
    pub to: Option<PartialDate>,
}

/// Reads COW's file: a byte-order mark, CRLF line ends and quoted headers
/// are taken as they come, years written as floats (`1816.0`) too; a month
/// or day of `-9` or empty gives a date at year or month precision. A wrong
/// header is refused before any row, naming the expected columns.
pub fn read_cow_states(input: impl Read) -> Result<Vec<CowRow>> {
    let (mut reader, at) = read_columns(input, &COLUMNS, "a COW State System Membership")?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| bad(format!("line {line}"), e.to_string()))?;
        let field = |c: &str| record.get(at[c]).unwrap_or("").trim();
        let number = |c: &str| -> Result<i64> {
            let text = field(c);
            if text.is_empty() || text == "-9" || text == "-9.0" {
                return Ok(0);
            }
            let value = whole(text, line, c)?;
            if value < 0 {
                return Err(bad(
                    format!("line {line}: {c}"),
                    format!("{text:?} is not a whole number"),
                ));
            }
            Ok(value)
        };
        let date = |y: &str, m: &str, d: &str| -> Result<PartialDate> {
            PartialDate::from_parts(number(y)?, number(m)?, number(d)?)
                .map_err(|e| bad(format!("line {line}: {y}"), e.to_string()))
        };
        let ccode = number("ccode")?;
        if !(1..=999).contains(&ccode) {
            return Err(bad(
                format!("line {line}: ccode"),
                format!("{ccode} is not a COW code"),
            ));
        }
        let abbreviation = field("stateabb").to_ascii_uppercase();
        if abbreviation.len() != 3 || !abbreviation.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                format!("line {line}: stateabb"),
                format!("{abbreviation:?} is not a COW abbreviation (three letters)"),
            ));
        }
        let version = field("version").trim_end_matches(".0").to_string();
        let start = date("styear", "stmonth", "stday")?;
        let end = date("endyear", "endmonth", "endday")?;
        // "2016-12-31" in v2016: a member still when the data ends.
        let open = version
            .parse::<i32>()
            .is_ok_and(|year| end.year() == year && end.month() == 12 && end.day() == 31);
        if end.first_day() < start.first_day() {
            return Err(bad(
                format!("line {line}: endyear"),
                format!("{end} is before the start {start}"),
            ));
        }
        rows.push(CowRow {
            line,
            abbreviation,
            ccode: ccode as i32,
            name: field("statenme").to_string(),
            start,
            end: (!open).then_some(end),
            version,
        });
    }
    if rows.is_empty() {
        return Err(bad("file", "has a header but no rows"));
    }
    Ok(rows)
}

/// The later of two starts (`None`: unbounded, the earlier).
fn later(a: Option<PartialDate>, b: PartialDate) -> PartialDate {
    match a {
        Some(a) if a.first_day() > b.first_day() => a,
        _ => b,
    }
}

/// The earlier of two ends (`None`: open).
fn earlier(a: Option<PartialDate>, b: Option<PartialDate>) -> Option<PartialDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.last_day() < b.last_day() { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Each row cut into the pieces of its code: the memberships to give each
/// country, in file order. A code no piece names goes to `cow-{abb}`.
pub fn memberships(
    rows: &[CowRow],
    pieces: &BTreeMap<i32, Vec<CodePiece>>,
) -> Result<BTreeMap<CountryCode, Vec<pb::CowMembership>>> {
    let mut out: BTreeMap<CountryCode, Vec<pb::CowMembership>> = BTreeMap::new();
    for row in rows {
        let own;
        let holders: &[CodePiece] = match pieces.get(&row.ccode) {
            Some(holders) => holders,
            None => {
                let id = format!("cow-{}", row.abbreviation.to_ascii_lowercase());
                let country = CountryCode::parse(&id).ok_or_else(|| {
                    bad(
                        format!("line {}: stateabb", row.line),
                        format!("{id} is not a country id"),
                    )
                })?;
                own = [CodePiece {
                    country,
                    from: None,
                    to: None,
                }];
                &own
            }
        };
        for piece in holders {
            let start = later(piece.from, row.start);
            let end = earlier(piece.to, row.end);
            if end.is_some_and(|end| end.last_day() < start.first_day()) {
                continue; // the piece does not overlap the row
            }
            out.entry(piece.country)
                .or_default()
                .push(pb::CowMembership {
                    ccode: row.ccode,
                    abbreviation: row.abbreviation.clone(),
                    state_name: row.name.clone(),
                    start_date: Some(date_to_pb(start)),
                    end_date: end.map(date_to_pb),
                    version: row.version.clone(),
                });
        }
    }
    Ok(out)
}

/// Gives `country` these memberships in place of those it had of the same
/// codes: importing a file again changes nothing.
pub fn merge_memberships(country: &mut pb::Country, new: Vec<pb::CowMembership>) {
    let codes: BTreeSet<i32> = new.iter().map(|m| m.ccode).collect();
    country
        .cow_memberships
        .retain(|m| !codes.contains(&m.ccode));
    country.cow_memberships.extend(new);
    country
        .cow_memberships
        .sort_by_key(|m| m.start_date.map(|d| (d.year, d.month, d.day)));
}

/// The countries COW's rows give memberships to, as they should be after
/// the import: `existing` holds the target's current records of them (a
/// country it lacks comes from the built-in records, or, for a code no
/// built-in state holds, is created as `cow-{abbreviation}`). Only records
/// that change are returned.
pub fn cow_states_records(
    rows: &[CowRow],
    existing: &BTreeMap<CountryCode, pb::Country>,
) -> Result<Vec<crate::records::Record>> {
    use crate::records::Record;
    let table = super::states::state_rows()?;
    let builtin: BTreeMap<String, pb::Country> = super::seed::builtin_country_records()?
        .into_iter()
        .filter_map(|record| match record {
            Record::Country(country) => Some((country.name.clone(), country)),
            _ => None,
        })
        .collect();
    let version = rows.first().map(|r| r.version.as_str()).unwrap_or("");
    let mut changed = Vec::new();
    for (code, new) in memberships(rows, &super::states::code_pieces(&table))? {
        let current = existing
            .get(&code)
            .cloned()
            .or_else(|| builtin.get(&code.name()).cloned());
        let mut country = current.clone().unwrap_or_else(|| pb::Country {
            name: code.name(),
            display_name: new[0].state_name.clone(),
            ..Default::default()
        });
        merge_memberships(&mut country, new);
        super::states::add_source(&mut country, cow_source(version));
        if Some(&country) != current.as_ref() || !existing.contains_key(&code) {
            changed.push(Record::Country(country));
        }
    }
    Ok(changed)
}

/// The ids `cow_states_records` reads from the target.
pub fn cow_states_countries(rows: &[CowRow]) -> Result<BTreeSet<CountryCode>> {
    let table = super::states::state_rows()?;
    Ok(memberships(rows, &super::states::code_pieces(&table))?
        .into_keys()
        .collect())
}

/// The source every membership rests on.
pub fn cow_source(version: &str) -> pb::Source {
    pb::Source {
        title: format!("State System Membership List, v{version}"),
        publisher: "Correlates of War Project".into(),
        url: "https://correlatesofwar.org/data-sets/state-system-membership/".into(),
        note: "Free to use with the citation: Correlates of War Project. 2017. \"State System Membership List, v2016.\" Online, http://correlatesofwar.org.".into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "stateabb,ccode,statenme,styear,stmonth,stday,endyear,endmonth,endday,version";

    fn code(id: &str) -> CountryCode {
        CountryCode::parse(id).expect(id)
    }

    #[test]
    fn reads_the_file_as_cow_writes_it_and_as_copies_mangle_it() {
        let text = "\u{feff}\"stateabb\",\"ccode\",\"statenme\",\"styear\",\"stmonth\",\"stday\",\"endyear\",\"endmonth\",\"endday\",\"version\"\r\nUSA,2,United States of America,1816,1,1,2016,12,31,2016\r\nHAN,240.0,Hanover,1838.0,-9,-9,1866,9,20,2016\r\n";
        let rows = read_cow_states(text.as_bytes()).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].end, None,
            "2016-12-31 in v2016 means still a member"
        );
        assert_eq!(rows[1].ccode, 240);
        assert_eq!(rows[1].start, "1838".parse().expect("year"));
        assert_eq!(rows[1].end, Some("1866-09-20".parse().expect("day")));
    }

    #[test]
    fn a_wrong_header_is_refused_naming_the_columns() {
        let err = read_cow_states("abb,ccode\nUSA,2\n".as_bytes()).expect_err("bad header");
        let text = err.to_string();
        assert!(text.contains("stateabb,ccode,statenme"), "{text}");
        assert!(text.contains("lacks stateabb"), "{text}");
    }

    #[test]
    fn a_code_held_by_several_countries_is_cut_into_their_pieces() {
        let text = format!("{HEADER}\nRUS,365,Russia,1816,1,1,2016,12,31,2016\nZZZ,999,Nowhere,1900,1,1,1901,1,1,2016\n");
        let rows = read_cow_states(text.as_bytes()).expect("rows");
        let d = |s: &str| Some(s.parse::<PartialDate>().expect(s));
        let pieces = BTreeMap::from([(
            365,
            vec![
                CodePiece {
                    country: code("cow-rus"),
                    from: None,
                    to: d("1922-12-29"),
                },
                CodePiece {
                    country: code("SU"),
                    from: d("1922-12-30"),
                    to: d("1991-12-25"),
                },
                CodePiece {
                    country: code("RU"),
                    from: d("1991-12-26"),
                    to: None,
                },
            ],
        )]);
        let got = memberships(&rows, &pieces).expect("memberships");
        let su = &got[&code("SU")][0];
        assert_eq!(su.start_date.map(|d| d.year), Some(1922));
        assert_eq!(su.end_date.map(|d| d.year), Some(1991));
        assert_eq!(got[&code("RU")][0].end_date, None);
        assert_eq!(
            got[&code("cow-rus")][0].start_date.map(|d| d.year),
            Some(1816)
        );
        assert_eq!(got[&code("cow-zzz")][0].state_name, "Nowhere");
    }
}
