//! The built-in state table (`dataset/states.csv`): for each state, its
//! periods of existence, the pieces of COW codes it holds, its typed
//! predecessors, its ISO 3166-3 code, and the outside work that dates them.
//! With COW's own file (`dataset/cow/states2016.csv`) it gives every built-in
//! country what it carries in time.

use std::collections::BTreeMap;

use super::cow_states::{cow_source, CodePiece};
use crate::convert::date_to_pb;
use crate::domain::statehood::{check_periods, StatePeriod};
use crate::domain::{CountryCode, PartialDate};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;

/// The table, as shipped.
pub const STATES_CSV: &str = include_str!("../../dataset/states.csv");
/// COW's State System Membership list, v2016, as COW distributes it.
pub const COW_STATES_CSV: &str = include_str!("../../dataset/cow/states2016.csv");

/// One row of the table.
#[derive(Clone, Debug)]
pub struct StateRow {
    pub id: CountryCode,
    /// For a state ISO does not list: its English name.
    pub name: String,
    pub existence: Vec<StatePeriod>,
    pub cow: Vec<(i32, Option<PartialDate>, Option<PartialDate>)>,
    pub predecessors: Vec<pb::Succession>,
    pub iso3166_3: String,
    pub source: String,
    pub note: String,
}

#[derive(serde::Deserialize)]
struct Line {
    id: String,
    name: String,
    existence: String,
    cow: String,
    predecessors: String,
    iso3166_3: String,
    source: String,
    note: String,
}

fn broken(line: usize, what: impl std::fmt::Display) -> Error {
    Error::DataLoss(format!("the built-in state table, line {line}: {what}"))
}

fn date(line: usize, text: &str) -> Result<Option<PartialDate>> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e| broken(line, format!("{text:?}: {e}")))
}

/// `from..to`, either side possibly empty.
fn span(line: usize, text: &str) -> Result<(Option<PartialDate>, Option<PartialDate>)> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| broken(line, format!("{text:?} is not `from..to`")))?;
    Ok((date(line, from)?, date(line, to)?))
}

fn kind(line: usize, text: &str) -> Result<pb::SuccessionKind> {
    Ok(match text {
        "continuation" => pb::SuccessionKind::Continuation,
        "succession" => pb::SuccessionKind::Succession,
        "accession" => pb::SuccessionKind::Accession,
        "dissolution" => pb::SuccessionKind::Dissolution,
        "unification" => pb::SuccessionKind::Unification,
        other => {
            return Err(broken(
                line,
                format!("{other:?} is not a kind of succession"),
            ))
        }
    })
}

fn parts(text: &str) -> impl Iterator<Item = &str> {
    text.split(';').map(str::trim).filter(|p| !p.is_empty())
}

/// The table's rows, checked: a broken table is a build defect, reported
/// as data loss rather than served.
pub fn state_rows() -> Result<Vec<StateRow>> {
    let mut reader = csv::Reader::from_reader(STATES_CSV.as_bytes());
    let mut rows = Vec::new();
    for (index, line) in reader.deserialize::<Line>().enumerate() {
        let n = index + 2;
        let line = line.map_err(|e| broken(n, e))?;
        let id = CountryCode::parse(&line.id)
            .ok_or_else(|| broken(n, format!("{:?} is not a country id", line.id)))?;
        let existence = parts(&line.existence)
            .map(|p| span(n, p).map(|(start, end)| StatePeriod { start, end }))
            .collect::<Result<Vec<_>>>()?;
        check_periods(&existence).map_err(|e| broken(n, e.message))?;
        let cow = parts(&line.cow)
            .map(|p| {
                let (code, piece) = p.split_once('@').unwrap_or((p, ".."));
                let code = code
                    .parse::<i32>()
                    .map_err(|_| broken(n, format!("{code:?} is not a COW code")))?;
                let (from, to) = span(n, piece)?;
                Ok((code, from, to))
            })
            .collect::<Result<Vec<_>>>()?;
        let predecessors = parts(&line.predecessors)
            .map(|p| {
                let fields: Vec<&str> = p.split_whitespace().collect();
                let [other, how, when] = fields[..] else {
                    return Err(broken(n, format!("{p:?} is not `id kind date`")));
                };
                let other = CountryCode::parse(other)
                    .ok_or_else(|| broken(n, format!("{other:?} is not a country id")))?;
                Ok(pb::Succession {
                    country: other.name(),
                    kind: kind(n, how)? as i32,
                    date: date(n, when)?.map(date_to_pb),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        rows.push(StateRow {
            id,
            name: line.name,
            existence,
            cow,
            predecessors,
            iso3166_3: line.iso3166_3,
            source: line.source,
            note: line.note,
        });
    }
    Ok(rows)
}

/// Which country holds which piece of each COW code.
pub fn code_pieces(rows: &[StateRow]) -> BTreeMap<i32, Vec<CodePiece>> {
    let mut pieces: BTreeMap<i32, Vec<CodePiece>> = BTreeMap::new();
    for row in rows {
        for (code, from, to) in &row.cow {
            pieces.entry(*code).or_default().push(CodePiece {
                country: row.id,
                from: *from,
                to: *to,
            });
        }
    }
    for holders in pieces.values_mut() {
        holders.sort_by_key(|piece| piece.from.map(|from| from.first_day()));
    }
    pieces
}

/// Gives `country` what the row records: existence, predecessors, ISO
/// 3166-3 code, and the row's source.
pub fn apply_row(country: &mut pb::Country, row: &StateRow) {
    country.existence = row
        .existence
        .iter()
        .map(|period| pb::StatePeriod {
            start_date: period.start.map(date_to_pb),
            end_date: period.end.map(date_to_pb),
        })
        .collect();
    country.predecessors = row.predecessors.clone();
    if !row.iso3166_3.is_empty() {
        country.iso3166_3_code = row.iso3166_3.clone();
    }
    if country.display_name.is_empty() {
        country.display_name = row.name.clone();
    }
    let source = if row.source.starts_with("Correlates of War") {
        // Existence derived from COW membership, said on COW's own source.
        pb::Source {
            note: row.note.clone(),
            ..cow_source("2016")
        }
    } else {
        pb::Source {
            title: row.source.clone(),
            note: row.note.clone(),
            ..Default::default()
        }
    };
    if !row.source.is_empty() {
        add_source(country, source);
    }
}

/// Adds `source` unless the country has one of the same title.
pub fn add_source(country: &mut pb::Country, source: pb::Source) {
    if !country.sources.iter().any(|s| s.title == source.title) {
        country.sources.push(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_and_every_cow_code_has_a_holder() {
        let rows = state_rows().expect("the built-in table");
        let pieces = code_pieces(&rows);
        let cow = super::super::cow_states::read_cow_states(COW_STATES_CSV.as_bytes())
            .expect("COW's file");
        assert_eq!(cow.len(), 243);
        for row in &cow {
            assert!(
                pieces.contains_key(&row.ccode),
                "COW {} has no holder",
                row.ccode
            );
        }
    }

    #[test]
    fn the_pieces_of_one_code_do_not_overlap() {
        let rows = state_rows().expect("the built-in table");
        for (code, pieces) in code_pieces(&rows) {
            for pair in pieces.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let (Some(end), Some(start)) = (a.to, b.from) else {
                    panic!("COW {code}: an open-ended piece is followed by another");
                };
                assert!(
                    end.last_day() < start.first_day(),
                    "COW {code}: {end} / {start}"
                );
            }
        }
    }
}
