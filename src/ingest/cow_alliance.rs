//! The Correlates of War Formal Alliances data (v4.1) by directed dyad, as
//! COW distributes it: one row per state (`ccode1`) undertaking alliance
//! obligations toward another (`ccode2`) from a date, so obligations may
//! differ by direction.
//!
//! - Each alliance (`version4id`) becomes `treaties/cow-alliance-{id}`, kind
//!   ALLIANCE, its rows kept as typed `alliance_obligations` (defence,
//!   neutrality, non-aggression, entente; dates; censoring flags). Importing
//!   the file twice changes nothing; a newer version updates in place.
//! - A party is bound from its first dyad's start and, once every dyad of
//!   it has ended, withdraws at the last one's end; the treaty is
//!   terminated when every dyad has ended (at the last end), else in force.
//!   Its signature and entry into force are the first dyad's start (COW
//!   dates entries, not signatures).
//! - A missing day or month (empty or -9) gives month or year precision.
//! - The rows of an alliance come together, as COW sorts the file: the file
//!   streams through, one alliance in memory at a time. An alliance whose
//!   rows are split is refused at its second run.
//! - States are matched by COW code on each dyad's start (COW's state list
//!   must be imported first: `--format cow-states`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::cow_codes::CowCodes;
use super::source::{Item, Source};
use super::table::{bad, read_columns, whole, RowLog};
use crate::convert::date_to_pb;
use crate::domain::PartialDate;
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

/// The columns of COW's file, read by name (in any order; `asymmetric`,
/// which some copies add, is not needed: the rows are directed).
pub const COLUMNS: [&str; 18] = [
    "version4id",
    "ccode1",
    "state_name1",
    "ccode2",
    "state_name2",
    "dyad_st_day",
    "dyad_st_month",
    "dyad_st_year",
    "dyad_end_day",
    "dyad_end_month",
    "dyad_end_year",
    "left_censor",
    "right_censor",
    "defense",
    "neutrality",
    "nonaggression",
    "entente",
    "version",
];

/// One directed dyad row, read and matched.
#[derive(Clone, Debug)]
struct DyadRow {
    line: usize,
    id: i64,
    obligation: pb::AllianceObligation,
    start: PartialDate,
    end: Option<PartialDate>,
    names: [String; 2],
    version: String,
}

/// An alliance file with its header checked, and the countries its codes
/// are matched against. Each `read` streams it again.
pub struct AllianceFile {
    path: PathBuf,
    states: CowCodes,
    log: RowLog,
}

impl AllianceFile {
    /// Opens `path`, refusing a header that is not COW's.
    pub fn open(path: &Path, countries: &[pb::Country], best_effort: bool) -> Result<Self> {
        read_columns(
            super::table::open(path)?,
            &COLUMNS,
            "a COW Formal Alliances (dyad)",
        )?;
        Ok(Self {
            path: path.to_owned(),
            states: CowCodes::of(countries),
            log: RowLog::new(best_effort),
        })
    }

    /// Rows read, and the bad ones left out (`--best-effort`), by the last
    /// `read`.
    pub fn log(&self) -> &RowLog {
        &self.log
    }
}

/// A date from COW's day, month and year columns: an empty or -9 day or
/// month leaves it out; `None` when the year is missing.
fn cow_date(
    field: &dyn Fn(&str) -> String,
    prefix: &str,
    line: usize,
) -> Result<Option<PartialDate>> {
    let part = |name: &str| -> Result<i64> {
        let column = format!("{prefix}_{name}");
        let text = field(&column);
        if text.is_empty() {
            return Ok(-9);
        }
        whole(&text, line, &column)
    };
    let (year, month, day) = (part("year")?, part("month")?, part("day")?);
    if year == -9 {
        return Ok(None);
    }
    let (month, day) = if month <= 0 {
        (0, 0)
    } else {
        (month, day.max(0))
    };
    PartialDate::from_parts(year, month, day)
        .map(Some)
        .map_err(|e| bad(format!("line {line}: {prefix}_year"), e.to_string()))
}

impl AllianceFile {
    fn row(
        &self,
        row: &csv::StringRecord,
        at: &BTreeMap<&'static str, usize>,
        line: usize,
    ) -> Result<DyadRow> {
        let field = |column: &str| -> String {
            at.get(column)
                .and_then(|i| row.get(*i))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let number = |column: &str| whole(&field(column), line, column);
        let flag = |column: &str| -> Result<bool> {
            match number(column)? {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(bad(
                    format!("line {line}: {column}"),
                    format!("{other} is not 0 or 1"),
                )),
            }
        };
        let id = number("version4id")?;
        let (ccode1, ccode2) = (number("ccode1")?, number("ccode2")?);
        if ccode1 == ccode2 {
            return Err(bad(
                format!("line {line}: ccode2"),
                "a state is not allied with itself",
            ));
        }
        let start = cow_date(&field, "dyad_st", line)?.ok_or_else(|| {
            bad(
                format!("line {line}: dyad_st_year"),
                "the dyad's start year is required",
            )
        })?;
        let end = cow_date(&field, "dyad_end", line)?;
        if let Some(end) = end.filter(|end| end.last_day() < start.first_day()) {
            return Err(bad(
                format!("line {line}: dyad_end_year"),
                format!("{end} is before the start {start}"),
            ));
        }
        let state = |code: i64, column: &str| -> Result<String> {
            self.states.holder(code, start).map(str::to_owned).ok_or_else(|| {
                bad(
                    format!("line {line}: {column}"),
                    format!(
                        "COW code {code} matches no country on {start}: import COW's state list first (`diplomacy import --format cow-states`)"
                    ),
                )
            })
        };
        Ok(DyadRow {
            line,
            id,
            obligation: pb::AllianceObligation {
                party: state(ccode1, "ccode1")?,
                toward: state(ccode2, "ccode2")?,
                defense: flag("defense")?,
                neutrality: flag("neutrality")?,
                nonaggression: flag("nonaggression")?,
                entente: flag("entente")?,
                start_date: Some(date_to_pb(start)),
                end_date: end.map(date_to_pb),
                left_censored: flag("left_censor")?,
                right_censored: flag("right_censor")?,
            },
            start,
            end,
            names: [field("state_name1"), field("state_name2")],
            version: field("version"),
        })
    }
}

/// The treaty an alliance's rows make.
fn alliance_treaty(rows: &[DyadRow]) -> Record {
    let id = rows[0].id;
    let first = rows
        .iter()
        .map(|r| r.start)
        .min_by_key(|d| d.first_day())
        .unwrap_or(rows[0].start);
    let all_ended = rows.iter().all(|r| r.end.is_some());
    let last_end = rows
        .iter()
        .filter_map(|r| r.end)
        .max_by_key(|d| d.last_day());
    // Each party: its first start, and its last end once all its dyads ended.
    let mut parties: BTreeMap<String, (PartialDate, Vec<Option<PartialDate>>)> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for row in rows {
        for (state, name) in [&row.obligation.party, &row.obligation.toward]
            .into_iter()
            .zip(&row.names)
        {
            names.insert(name.clone());
            let entry = parties
                .entry(state.clone())
                .or_insert((row.start, Vec::new()));
            if row.start.first_day() < entry.0.first_day() {
                entry.0 = row.start;
            }
            entry.1.push(row.end);
        }
    }
    let parties = parties
        .into_iter()
        .map(|(country, (joined, ends))| {
            let left = if ends.iter().all(Option::is_some) {
                ends.into_iter().flatten().max_by_key(|d| d.last_day())
            } else {
                None
            };
            pb::TreatyParty {
                country,
                signature_date: Some(date_to_pb(joined)),
                entry_into_force_date: Some(date_to_pb(joined)),
                // A party that left when the alliance ended leaves with it.
                withdrawal_date: left
                    .filter(|left| !all_ended || Some(*left) != last_end)
                    .map(date_to_pb),
                ..Default::default()
            }
        })
        .collect();
    let version = &rows[0].version;
    let mut obligations: Vec<pb::AllianceObligation> =
        rows.iter().map(|r| r.obligation.clone()).collect();
    obligations.sort_by(|a, b| {
        (
            &a.party,
            &a.toward,
            a.start_date.map(|d| (d.year, d.month, d.day)),
        )
            .cmp(&(
                &b.party,
                &b.toward,
                b.start_date.map(|d| (d.year, d.month, d.day)),
            ))
    });
    let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
    Record::Treaty(pb::Treaty {
        name: format!("treaties/cow-alliance-{id}"),
        title: format!("COW alliance {id}: {}", names.join(", ")),
        kind: pb::TreatyKind::Alliance as i32,
        status: if all_ended {
            pb::TreatyStatus::Terminated as i32
        } else {
            pb::TreatyStatus::InForce as i32
        },
        signed_date: Some(date_to_pb(first)),
        entry_into_force_date: Some(date_to_pb(first)),
        termination_date: if all_ended {
            last_end.map(date_to_pb)
        } else {
            None
        },
        parties,
        summary: format!(
            "Alliance {id} of the Correlates of War Formal Alliances data, from its {} directed dyad rows; each party bound from its first dyad's start.",
            rows.len()
        ),
        alliance_obligations: obligations,
        cow_alliance_id: i32::try_from(id).unwrap_or_default(),
        sources: vec![pb::Source {
            title: format!("Correlates of War Formal Alliances data (v4.1), version {version}"),
            publisher: "Correlates of War Project; Douglas M. Gibler".into(),
            url: "https://correlatesofwar.org/data-sets/formal-alliances/".into(),
            note: format!(
                "version4id {id}, lines {}",
                rows.iter()
                    .map(|r| r.line.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ..Default::default()
        }],
        ..Default::default()
    })
}

impl Source for AllianceFile {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>> {
        let (reader, at) = read_columns(
            super::table::open(&self.path)?,
            &COLUMNS,
            "a COW Formal Alliances (dyad)",
        )?;
        self.log.clear();
        let mut rows = reader.into_records().enumerate();
        let mut group: Vec<DyadRow> = Vec::new();
        let mut done: HashSet<i64> = HashSet::new();
        let mut finished = false;
        let items = std::iter::from_fn(move || loop {
            if finished {
                return None;
            }
            let Some((i, row)) = rows.next() else {
                finished = true;
                if group.is_empty() {
                    return None;
                }
                return Some(Ok(Cow::Owned(alliance_treaty(&std::mem::take(&mut group)))));
            };
            let line = i + 2;
            self.log.read_one();
            let parsed = row
                .map_err(|e| bad(format!("line {line}"), format!("cannot read the row: {e}")))
                .and_then(|row| self.row(&row, &at, line))
                .and_then(|row| {
                    if done.contains(&row.id) {
                        Err(bad(
                            format!("line {line}: version4id"),
                            format!(
                                "alliance {} was already read above: the rows of an alliance come together (sort the file by version4id)",
                                row.id
                            ),
                        ))
                    } else {
                        Ok(row)
                    }
                });
            let row = match parsed {
                Ok(row) => row,
                Err(error) => match self.log.set_aside(line, error) {
                    Some(error) => return Some(Err(error)),
                    None => continue,
                },
            };
            if group.first().is_some_and(|first| first.id != row.id) {
                let previous = std::mem::replace(&mut group, vec![row]);
                done.insert(previous[0].id);
                return Some(Ok(Cow::Owned(alliance_treaty(&previous))));
            }
            group.push(row);
        });
        Ok(Box::new(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_day_or_month_gives_month_or_year_precision() {
        let at = |values: [&'static str; 3]| {
            move |column: &str| -> String {
                match column.rsplit('_').next() {
                    Some("year") => values[0],
                    Some("month") => values[1],
                    _ => values[2],
                }
                .to_string()
            }
        };
        let cases = [
            (["1949", "4", "4"], Some("1949-04-04")),
            (["1949", "4", "-9"], Some("1949-04")),
            (["1949", "", ""], Some("1949")),
            (["1949.0", "-9", "-9"], Some("1949")),
            (["", "", ""], None),
        ];
        for (values, expected) in cases {
            let got = cow_date(&at(values), "dyad_st", 2).expect("reads");
            assert_eq!(
                got.map(|d| d.to_string()),
                expected.map(str::to_string),
                "{values:?}"
            );
        }
    }
}
