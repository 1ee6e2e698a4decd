//! The UCDP/PRIO Armed Conflict Dataset, as UCDP distributes it (one row a
//! conflict-year), turned into armed-conflict events with two sides: one
//! event per conflict episode, for interstate (type 2) and internationalised
//! intrastate (type 4) conflicts.
//!
//! - An episode is the rows of a conflict sharing `start_date2`; it ends at
//!   the `ep_end_date` of its row with `ep_end` 1, and is ongoing without
//!   one. Its event is `events/ucdp-{conflict_id}-{start_date2 as YYYYMMDD}`,
//!   so importing the file twice changes nothing and a newer version
//!   updates each episode in place.
//! - Sides: the states of `gwno_a` and `gwno_b` are primary parties, those
//!   of `gwno_a_2nd` and `gwno_b_2nd` secondary ones; a non-state side
//!   (`side_b_id`) becomes the actor `actors/ucdp-{id}` (an armed group). A
//!   participant not in every year of the episode joins in its first year
//!   or leaves in its last (year precision).
//! - States are matched through their Correlates of War codes on the
//!   episode's start: a Gleditsch–Ward number is the COW code except where
//!   the two systems differ (`gw_to_cow`).
//! - Precision (`*_prec`): UCDP grades how sure a date is from 1 (the exact
//!   day) upwards. Only 1 keeps the day; 2 to 4 keep the month; 5 and above
//!   keep the year alone, so no day is invented.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::cow_codes::CowCodes;
use super::table::{bad, read_columns, whole};
use crate::convert::date_to_pb;
use crate::domain::PartialDate;
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

/// The columns of UCDP's file, read by name (in any order).
pub const COLUMNS: [&str; 28] = [
    "conflict_id",
    "location",
    "side_a",
    "side_a_id",
    "side_a_2nd",
    "side_b",
    "side_b_id",
    "side_b_2nd",
    "incompatibility",
    "territory_name",
    "year",
    "intensity_level",
    "cumulative_intensity",
    "type_of_conflict",
    "start_date",
    "start_prec",
    "start_date2",
    "start_prec2",
    "ep_end",
    "ep_end_date",
    "ep_end_prec",
    "gwno_a",
    "gwno_a_2nd",
    "gwno_b",
    "gwno_b_2nd",
    "gwno_loc",
    "region",
    "version",
];

/// One conflict-year row.
#[derive(Clone, Debug, PartialEq)]
pub struct UcdpRow {
    /// 1-based line number in the file, for errors.
    pub line: usize,
    pub conflict_id: i64,
    pub location: String,
    pub side_a: String,
    pub side_b: String,
    pub side_b_ids: Vec<i64>,
    pub incompatibility: i64,
    pub territory_name: String,
    pub year: i32,
    pub intensity_level: i64,
    pub type_of_conflict: i64,
    pub episode_start: PartialDate,
    pub episode_end: Option<PartialDate>,
    pub gwno_a: Vec<i64>,
    pub gwno_a_2nd: Vec<i64>,
    pub gwno_b: Vec<i64>,
    pub gwno_b_2nd: Vec<i64>,
    pub version: String,
}

/// A comma-separated list of numbers (`"365, 369"`); empty gives none.
fn numbers(text: &str, line: usize, column: &str) -> Result<Vec<i64>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| whole(part, line, column))
        .collect()
}

/// A date `YYYY-MM-DD` kept at the precision its code allows.
fn dated(text: &str, precision: &str, line: usize, column: &str) -> Result<PartialDate> {
    let day: PartialDate = text.trim().parse().map_err(|_| {
        bad(
            format!("line {line}: {column}"),
            format!("{text:?} is not a date (YYYY-MM-DD)"),
        )
    })?;
    let grade = if precision.trim().is_empty() {
        1
    } else {
        whole(precision, line, &format!("{column} precision"))?
    };
    let first = day.first_day();
    let (year, month) = (i64::from(first.year()), i64::from(u8::from(first.month())));
    let kept = match grade {
        1 => return Ok(day),
        2..=4 => PartialDate::from_parts(year, month, 0),
        _ => PartialDate::from_parts(year, 0, 0),
    };
    kept.map_err(|e| bad(format!("line {line}: {column}"), e.to_string()))
}

/// Reads UCDP's file: a byte-order mark, CRLF line ends, quoted fields and
/// numbers written as floats are taken as they come. A wrong header is
/// refused before any row, naming the expected columns.
pub fn read_ucdp_acd(input: impl Read) -> Result<Vec<UcdpRow>> {
    let (mut reader, at) = read_columns(input, &COLUMNS, "a UCDP/PRIO Armed Conflict Dataset")?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| bad(format!("line {line}"), e.to_string()))?;
        let field = |c: &str| record.get(at[c]).unwrap_or("").trim().to_string();
        let number = |c: &str| whole(&field(c), line, c);
        let ended = number("ep_end")? == 1;
        let episode_end = if ended && !field("ep_end_date").is_empty() {
            Some(dated(
                &field("ep_end_date"),
                &field("ep_end_prec"),
                line,
                "ep_end_date",
            )?)
        } else {
            None
        };
        let year = number("year")?;
        rows.push(UcdpRow {
            line,
            conflict_id: number("conflict_id")?,
            location: field("location"),
            side_a: field("side_a"),
            side_b: field("side_b"),
            side_b_ids: numbers(&field("side_b_id"), line, "side_b_id")?,
            incompatibility: number("incompatibility")?,
            territory_name: field("territory_name"),
            year: i32::try_from(year)
                .map_err(|_| bad(format!("line {line}: year"), "is out of range"))?,
            intensity_level: number("intensity_level")?,
            type_of_conflict: number("type_of_conflict")?,
            episode_start: dated(
                &field("start_date2"),
                &field("start_prec2"),
                line,
                "start_date2",
            )?,
            episode_end,
            gwno_a: numbers(&field("gwno_a"), line, "gwno_a")?,
            gwno_a_2nd: numbers(&field("gwno_a_2nd"), line, "gwno_a_2nd")?,
            gwno_b: numbers(&field("gwno_b"), line, "gwno_b")?,
            gwno_b_2nd: numbers(&field("gwno_b_2nd"), line, "gwno_b_2nd")?,
            version: field("version"),
        });
    }
    Ok(rows)
}

/// The COW code of a Gleditsch–Ward number on `date`: the same number,
/// except where the two lists differ (Gleditsch and Ward 1999): unified
/// Germany is GW 260 and COW 255 (COW's 260 is the Federal Republic before
/// 1990-10-03), Serbia after 2006-06-05 is GW 340 and COW 345, unified
/// Yemen is GW 678 and COW 679 (from 1990-05-22).
pub fn gw_to_cow(gw: i64, date: PartialDate) -> i64 {
    let on_or_after = |y: i32, m: u8, d: u8| {
        time::Month::try_from(m)
            .ok()
            .and_then(|month| time::Date::from_calendar_date(y, month, d).ok())
            .is_some_and(|day| date.first_day() >= day)
    };
    match gw {
        260 if on_or_after(1990, 10, 3) => 255,
        340 if on_or_after(2006, 6, 5) => 345,
        678 if on_or_after(1990, 5, 22) => 679,
        other => other,
    }
}

/// What an import of the file found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UcdpSummary {
    pub rows: usize,
    pub episodes: usize,
    /// Rows of conflicts of other types (extrasystemic, intrastate).
    pub skipped_rows: usize,
}

/// The records the rows make: the non-state actors first, then one event
/// per episode. `countries` are the store's countries (their COW
/// memberships match the GW numbers).
pub fn ucdp_records(
    rows: &[UcdpRow],
    countries: &[pb::Country],
) -> Result<(Vec<Record>, UcdpSummary)> {
    let mut summary = UcdpSummary {
        rows: rows.len(),
        ..Default::default()
    };
    let mut episodes: BTreeMap<(i64, String), Vec<&UcdpRow>> = BTreeMap::new();
    for row in rows {
        if !matches!(row.type_of_conflict, 2 | 4) {
            summary.skipped_rows += 1;
            continue;
        }
        episodes
            .entry((row.conflict_id, row.episode_start.sort_key()))
            .or_default()
            .push(row);
    }
    let states = CowCodes::of(countries);
    let mut actors: BTreeMap<i64, pb::Actor> = BTreeMap::new();
    let mut events = Vec::new();
    for ((conflict_id, _), mut rows) in episodes {
        rows.sort_by_key(|r| r.year);
        let sides = Sides::of(conflict_id, &rows, &states, &mut actors)?;
        events.push(Record::Event(episode_event(conflict_id, &rows, &sides)));
        summary.episodes += 1;
    }
    let mut records: Vec<Record> = actors.into_values().map(Record::Actor).collect();
    records.extend(events);
    Ok((records, summary))
}

/// The country a Gleditsch–Ward number names on `date`.
fn gw_country(states: &CowCodes, gw: i64, date: PartialDate, line: usize) -> Result<String> {
    let cow = gw_to_cow(gw, date);
    states.holder(cow, date).map(str::to_owned).ok_or_else(|| {
        bad(
            format!("line {line}: gwno"),
            format!(
                "Gleditsch–Ward number {gw} (COW code {cow}) matches no country on {date}: import COW's state list first (`diplomacy import --format cow-states`)"
            ),
        )
    })
}

/// One side of an episode as its rows give it: each participant (a
/// resource name) with the years it appears in.
#[derive(Default)]
struct SideYears {
    primary: BTreeMap<String, BTreeSet<i32>>,
    secondary: BTreeMap<String, BTreeSet<i32>>,
}

impl SideYears {
    /// Its belligerents; one absent from some of the episode's `years`
    /// joins in its first year or leaves in its last.
    fn belligerents(&self, years: &BTreeSet<i32>) -> Vec<pb::Belligerent> {
        let year = |y: Option<&i32>| {
            y.and_then(|y| PartialDate::from_parts(i64::from(*y), 0, 0).ok())
                .map(date_to_pb)
        };
        let mut all = Vec::new();
        for (standing, members) in [
            (pb::BelligerentStanding::Primary, &self.primary),
            (pb::BelligerentStanding::Secondary, &self.secondary),
        ] {
            for (participant, present) in members {
                all.push(pb::Belligerent {
                    participant: participant.clone(),
                    standing: standing as i32,
                    join_date: year(present.first().filter(|y| Some(*y) != years.first())),
                    leave_date: year(present.last().filter(|y| Some(*y) != years.last())),
                });
            }
        }
        all
    }
}

/// The two sides of an episode, and the years it spans.
struct Sides {
    a: SideYears,
    b: SideYears,
    years: BTreeSet<i32>,
}

impl Sides {
    /// From the episode's rows (in year order): the states of the GW
    /// columns, and a non-state side B as the actor `actors/ucdp-{id}`,
    /// added to `actors` the first time it is met.
    fn of(
        conflict_id: i64,
        rows: &[&UcdpRow],
        states: &CowCodes,
        actors: &mut BTreeMap<i64, pb::Actor>,
    ) -> Result<Self> {
        let start = rows[0].episode_start;
        let mut sides = Sides {
            a: SideYears::default(),
            b: SideYears::default(),
            years: rows.iter().map(|r| r.year).collect(),
        };
        for row in rows {
            for (gws, on_b, primary) in [
                (&row.gwno_a, false, true),
                (&row.gwno_a_2nd, false, false),
                (&row.gwno_b, true, true),
                (&row.gwno_b_2nd, true, false),
            ] {
                let side = if on_b { &mut sides.b } else { &mut sides.a };
                let members = if primary {
                    &mut side.primary
                } else {
                    &mut side.secondary
                };
                for gw in gws {
                    let name = gw_country(states, *gw, start, row.line)?;
                    members.entry(name).or_default().insert(row.year);
                }
            }
            if !row.gwno_b.is_empty() {
                continue;
            }
            // A non-state side B: UCDP names it and gives its actor id.
            let names: Vec<&str> = row.side_b.split(", ").collect();
            for (i, id) in row.side_b_ids.iter().enumerate() {
                let name = format!("actors/ucdp-{id}");
                actors.entry(*id).or_insert_with(|| pb::Actor {
                    name: name.clone(),
                    display_name: if names.len() == row.side_b_ids.len() {
                        names[i].to_string()
                    } else {
                        format!("UCDP actor {id}")
                    },
                    kind: pb::ActorKind::ArmedGroup as i32,
                    ucdp_actor_id: i32::try_from(*id).unwrap_or_default(),
                    summary: format!("A non-state side of UCDP/PRIO conflict {conflict_id}."),
                    sources: vec![ucdp_source(&row.version, conflict_id, start)],
                    ..Default::default()
                });
                sides.b.primary.entry(name).or_default().insert(row.year);
            }
        }
        Ok(sides)
    }
}

/// An episode's armed conflict, named by its conflict and start.
fn episode_event(conflict_id: i64, rows: &[&UcdpRow], sides: &Sides) -> pb::Event {
    let first = rows[0];
    let start = first.episode_start;
    let incompatibility = match first.incompatibility {
        1 => "territory",
        2 => "government",
        3 => "territory and government",
        _ => "not recorded",
    };
    let kind = if first.type_of_conflict == 2 {
        "interstate"
    } else {
        "internationalised intrastate"
    };
    let territory = if first.territory_name.is_empty() {
        String::new()
    } else {
        format!(" ({})", first.territory_name)
    };
    let intensity = if rows.iter().any(|r| r.intensity_level >= 2) {
        "war (1,000 or more battle-related deaths in a year)"
    } else {
        "minor (25 to 999 battle-related deaths in a year)"
    };
    let day = start.first_day();
    pb::Event {
        name: format!(
            "events/ucdp-{conflict_id}-{:04}{:02}{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        ),
        title: format!("{} – {}", first.side_a, first.side_b),
        kind: pb::EventKind::ArmedConflict as i32,
        start_date: Some(date_to_pb(start)),
        end_date: rows.iter().find_map(|r| r.episode_end).map(date_to_pb),
        summary: format!(
            "UCDP/PRIO conflict {conflict_id}, an {kind} conflict over {incompatibility}{territory} in {}; highest intensity in the episode: {intensity}.",
            first.location
        ),
        side_a: sides.a.belligerents(&sides.years),
        side_b: sides.b.belligerents(&sides.years),
        sources: vec![ucdp_source(&first.version, conflict_id, start)],
        ..Default::default()
    }
}

fn ucdp_source(version: &str, conflict_id: i64, start: PartialDate) -> pb::Source {
    pb::Source {
        title: format!("UCDP/PRIO Armed Conflict Dataset version {version}"),
        publisher: "Uppsala Conflict Data Program (UCDP) and Peace Research Institute Oslo (PRIO)"
            .into(),
        url: "https://ucdp.uu.se/downloads/".into(),
        note: format!("conflict_id {conflict_id}, the episode from {start}"),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\u{feff}\"conflict_id\",\"location\",\"side_a\",\"side_a_id\",\"side_a_2nd\",\"side_b\",\"side_b_id\",\"side_b_2nd\",\"incompatibility\",\"territory_name\",\"year\",\"intensity_level\",\"cumulative_intensity\",\"type_of_conflict\",\"start_date\",\"start_prec\",\"start_date2\",\"start_prec2\",\"ep_end\",\"ep_end_date\",\"ep_end_prec\",\"gwno_a\",\"gwno_a_2nd\",\"gwno_b\",\"gwno_b_2nd\",\"gwno_loc\",\"region\",\"version\"\r\n";

    #[test]
    fn rows_keep_the_precision_ucdp_gives_and_read_float_numbers() {
        let file = format!(
            "{HEADER}\"333.0\",\"Armenia, Azerbaijan\",\"Government of Azerbaijan\",\"115\",\"\",\"Government of Armenia\",\"116\",\"\",\"1\",\"Nagorno-Karabakh\",\"2020.0\",\"2\",\"1\",\"2\",\"1990-12-31\",\"5\",\"2020-09-27\",\"1\",\"1\",\"2020-11-10\",\"1\",\"373\",\"\",\"371\",\"\",\"371, 373\",\"1\",\"25.1\"\r\n"
        );
        let rows = read_ucdp_acd(file.as_bytes()).expect("reads");
        assert_eq!(rows[0].conflict_id, 333);
        assert_eq!(rows[0].gwno_a, [373]);
        assert_eq!(rows[0].episode_start.to_string(), "2020-09-27");
        assert_eq!(
            rows[0].episode_end.map(|d| d.to_string()).as_deref(),
            Some("2020-11-10")
        );
        assert_eq!(
            dated("1990-12-31", "5", 2, "start_date")
                .expect("date")
                .to_string(),
            "1990"
        );
        assert_eq!(
            dated("1994-05-12", "3", 2, "start_date")
                .expect("date")
                .to_string(),
            "1994-05"
        );
    }

    #[test]
    fn a_file_of_another_layout_is_refused_at_its_header() {
        let err = read_ucdp_acd("ccode1,ccode2,year\n2,20,1920\n".as_bytes())
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("conflict_id") && err.contains("side_a_2nd"),
            "{err}"
        );
    }

    #[test]
    fn gleditsch_ward_numbers_become_cow_codes_where_the_lists_differ() {
        let day = |s: &str| s.parse::<PartialDate>().expect("date");
        assert_eq!(gw_to_cow(260, day("1991")), 255);
        assert_eq!(gw_to_cow(260, day("1980")), 260);
        assert_eq!(gw_to_cow(678, day("1994-05")), 679);
        assert_eq!(gw_to_cow(340, day("2008")), 345);
        assert_eq!(gw_to_cow(371, day("2020")), 371);
    }
}
