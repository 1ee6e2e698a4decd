//! The Correlates of War Diplomatic Exchange data (v2006.1), as COW
//! distributes it: one row a directed dyad and snapshot year, with the
//! level of each side's representation in the other.
//!
//! - `DR_at_1` is the level of side 2's representation in side 1, and
//!   `DR_at_2` that of side 1 in side 2: 0 none (no evidence of an
//!   exchange), 1 chargé d'affaires, 2 minister, 3 ambassador, 9 other; -9
//!   (not recorded) gives no level for that direction.
//! - Rows come in both directions, the second repeating the first
//!   mirrored. The row whose `ccode1` is the lower code makes the record,
//!   with both directions; its mirror is read, checked and passed over. So
//!   the file streams through in one pass, whatever its order.
//! - Each snapshot becomes a REPRESENTATION event of year precision,
//!   `events/cow-dipex-{ccode1}-{ccode2}-{year}`: importing the file twice
//!   changes nothing, a newer version updates each snapshot in place. A
//!   level holds from its snapshot year until the pair's next snapshot (the
//!   relation's rule for any level), and after the last one without end.
//! - States are matched by COW code on the snapshot year (COW's state list
//!   must be imported first: `--format cow-states`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::cow_codes::CowCodes;
use super::source::{Item, Source};
use super::table::{bad, open, read_columns, whole, RowLog};
use crate::convert::date_to_pb;
use crate::domain::PartialDate;
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

/// The columns of COW's file, read by name (in any order).
pub const COLUMNS: [&str; 7] = [
    "ccode1", "ccode2", "year", "DR_at_1", "DR_at_2", "DE", "version",
];

/// What a Diplomatic Exchange level means, as a `RepresentationLevel`;
/// `None` for -9 (not recorded).
pub fn level_of(code: i64, line: usize, column: &str) -> Result<Option<pb::RepresentationLevel>> {
    use pb::RepresentationLevel as L;
    Ok(Some(match code {
        -9 => return Ok(None),
        0 => L::None,
        1 => L::ChargeDAffaires,
        2 => L::Minister,
        3 => L::Ambassador,
        9 => L::Other,
        other => {
            return Err(bad(
                format!("line {line}: {column}"),
                format!("{other} is not a Diplomatic Exchange level (0, 1, 2, 3, 9, or -9 for not recorded)"),
            ))
        }
    }))
}

/// A Diplomatic Exchange file with its header checked, and the countries
/// its codes are matched against. Each `read` streams it again.
pub struct DipexFile {
    path: PathBuf,
    states: CowCodes,
    /// Counted by the last `read`.
    log: RowLog,
    mirrors: AtomicUsize,
    unrecorded: AtomicUsize,
}

/// What the last read of a file found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DipexSummary {
    pub rows: usize,
    /// Rows repeating a pair's snapshot from the other side.
    pub mirrors: usize,
    /// Rows with neither level recorded (-9 both ways).
    pub unrecorded: usize,
    /// Bad rows left out (`--best-effort` only), with their line and reason.
    pub skipped: Vec<String>,
}

impl DipexFile {
    /// Opens `path`, refusing a header that is not COW's.
    pub fn open(path: &Path, countries: &[pb::Country], best_effort: bool) -> Result<Self> {
        read_columns(open(path)?, &COLUMNS, "a COW Diplomatic Exchange")?;
        Ok(Self {
            path: path.to_owned(),
            states: CowCodes::of(countries),
            log: RowLog::new(best_effort),
            mirrors: AtomicUsize::new(0),
            unrecorded: AtomicUsize::new(0),
        })
    }

    pub fn summary(&self) -> DipexSummary {
        DipexSummary {
            rows: self.log.rows(),
            mirrors: self.mirrors.load(Ordering::Relaxed),
            unrecorded: self.unrecorded.load(Ordering::Relaxed),
            skipped: self.log.skipped(),
        }
    }
}

impl Source for DipexFile {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>> {
        let (reader, at) = read_columns(open(&self.path)?, &COLUMNS, "a COW Diplomatic Exchange")?;
        self.log.clear();
        for counter in [&self.mirrors, &self.unrecorded] {
            counter.store(0, Ordering::Relaxed);
        }
        let rows = reader
            .into_records()
            .enumerate()
            .filter_map(move |(i, row)| {
                // The header is line 1.
                let line = i + 2;
                self.log.read_one();
                let record = row
                    .map_err(|e| bad(format!("line {line}"), format!("cannot read the row: {e}")))
                    .and_then(|row| self.record(&row, &at, line));
                match record {
                    Ok(Some(record)) => Some(Ok(Cow::Owned(record))),
                    Ok(None) => None,
                    Err(error) => self.log.set_aside(line, error).map(Err),
                }
            });
        Ok(Box::new(rows))
    }
}

impl DipexFile {
    /// The record a row makes; `None` for a mirror row or one with no
    /// level recorded.
    fn record(
        &self,
        row: &csv::StringRecord,
        at: &BTreeMap<&'static str, usize>,
        line: usize,
    ) -> Result<Option<Record>> {
        let field = |column: &str| {
            at.get(column)
                .and_then(|i| row.get(*i))
                .unwrap_or_default()
                .trim()
        };
        let number = |column: &str| whole(field(column), line, column);
        let (ccode1, ccode2, year) = (number("ccode1")?, number("ccode2")?, number("year")?);
        let in_2 = level_of(number("DR_at_1")?, line, "DR_at_1")?;
        let in_1 = level_of(number("DR_at_2")?, line, "DR_at_2")?;
        whole(field("DE"), line, "DE")?;
        let version = field("version");
        if ccode1 == ccode2 {
            return Err(bad(
                format!("line {line}: ccode2"),
                "a state has no diplomatic exchange with itself",
            ));
        }
        let date = PartialDate::from_parts(year, 0, 0)
            .map_err(|e| bad(format!("line {line}: year"), e.to_string()))?;
        let state = |code: i64, column: &str| {
            self.states.holder(code, date).map(str::to_owned).ok_or_else(|| {
                bad(
                    format!("line {line}: {column}"),
                    format!(
                        "COW code {code} matches no country in {year}: import COW's state list first (`diplomacy import --format cow-states`)"
                    ),
                )
            })
        };
        let (one, two) = (state(ccode1, "ccode1")?, state(ccode2, "ccode2")?);
        if ccode1 > ccode2 {
            self.mirrors.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let levels: Vec<pb::RepresentationChange> = [(&two, &one, in_2), (&one, &two, in_1)]
            .into_iter()
            .filter_map(|(sending, receiving, level)| {
                Some(pb::RepresentationChange {
                    sending: sending.clone(),
                    receiving: receiving.clone(),
                    level: level? as i32,
                })
            })
            .collect();
        if levels.is_empty() {
            self.unrecorded.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let describe = |level: Option<pb::RepresentationLevel>| {
            level.map_or("not recorded".to_string(), |l| {
                l.as_str_name()
                    .trim_start_matches("REPRESENTATION_LEVEL_")
                    .to_lowercase()
                    .replace('_', " ")
            })
        };
        Ok(Some(Record::Event(pb::Event {
            name: format!("events/cow-dipex-{ccode1}-{ccode2}-{year}"),
            title: format!("Diplomatic Exchange snapshot {year}: COW {ccode1} and {ccode2}"),
            kind: pb::EventKind::Representation as i32,
            start_date: Some(date_to_pb(date)),
            actor: one.clone(),
            counterparts: vec![two.clone()],
            summary: format!(
                "Levels of representation in {year}: {two} in {one}: {}; {one} in {two}: {}.",
                describe(in_2),
                describe(in_1)
            ),
            representation: levels,
            sources: vec![pb::Source {
                title: format!("Correlates of War Diplomatic Exchange data, version {version}"),
                publisher: "Correlates of War Project".into(),
                url: "https://correlatesofwar.org/data-sets/diplomatic-exchange/".into(),
                note: format!(
                    "ccode1 {ccode1}, ccode2 {ccode2}, year {year}: DR_at_1 {}, DR_at_2 {}, DE {}",
                    field("DR_at_1"),
                    field("DR_at_2"),
                    field("DE")
                ),
                ..Default::default()
            }],
            ..Default::default()
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_published_scale_and_minus_nine_is_not_recorded() {
        use pb::RepresentationLevel as L;
        for (code, level) in [
            (0, Some(L::None)),
            (1, Some(L::ChargeDAffaires)),
            (2, Some(L::Minister)),
            (3, Some(L::Ambassador)),
            (9, Some(L::Other)),
            (-9, None),
        ] {
            assert_eq!(level_of(code, 2, "DR_at_1").ok(), Some(level), "{code}");
        }
        let err = level_of(4, 7, "DR_at_2").expect_err("4 is off the scale");
        assert!(err.to_string().contains("line 7: DR_at_2"), "{err}");
    }
}
