//! Bulk import, shared by the `ImportRecords` RPC and `diplomacy import`:
//! check everything, then write in batches through the single writer. A
//! source is read twice (once to check, once to write) rather than held, so
//! a file of any size imports in bounded memory.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;

use super::source::{Item, LineError, Source};
use super::upsert::{check_import, upsert_op, BATCH};
use crate::domain::{Collection, CountryCode};
use crate::error::{Error, PreconditionViolation, Result};
use crate::records::{record_name, referenced_countries, Record};
use crate::store::{Outcome, Store};

/// The store an import writes to, told after every batch how many records
/// the batch held. `diplomacy import`, a process of its own, closes and
/// opens the database again every so often there: sled's memory grows with
/// what was written since the database was opened (BENCHMARKS.md: the
/// full generated dataset imported in one go), and an open writes a
/// snapshot and starts over. A running server's store (`&Store`)
/// goes on.
pub trait ImportTarget: Send {
    fn store(&self) -> &Store;
    fn after_batch(&mut self, records: usize) -> impl Future<Output = Result<()>> + Send;
}

impl ImportTarget for &Store {
    fn store(&self) -> &Store {
        self
    }

    fn after_batch(&mut self, _records: usize) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(Ok(()))
    }
}

/// How an import treats invalid records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Any invalid record: nothing written.
    AllOrNothing,
    /// Valid records written, invalid ones reported.
    BestEffort,
}

/// A record that was not written, by its position in the import.
#[derive(Debug)]
pub struct RecordError {
    pub index: usize,
    pub name: String,
    pub error: Error,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    pub received: usize,
    pub written: usize,
    /// Of `written`, those that did not exist before.
    pub created: usize,
    pub unchanged: usize,
    pub errors: Vec<RecordError>,
    /// Lines of a file that are not records: nothing is written then.
    pub unreadable: Vec<LineError>,
    /// The store revision after the import.
    pub revision: i64,
}

/// What the checking pass learnt, kept small: countries (written first,
/// and few) are kept whole, every other record only as its position.
#[derive(Default)]
struct Checked {
    countries: Vec<(usize, String, Record)>,
    /// Positions not to write: invalid, or naming a missing country.
    rejected: HashSet<usize>,
}

/// Imports the records of `source`. `progress` is told how many of how many
/// valid records are written after every batch.
pub async fn import(
    mut target: impl ImportTarget,
    source: &impl Source,
    mode: Mode,
    validate_only: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let mut report = Report::default();
    let checked = check(target.store(), source, &mut report).await?;
    report.errors.sort_by_key(|e| e.index);
    let failed =
        !report.unreadable.is_empty() || (mode == Mode::AllOrNothing && !report.errors.is_empty());
    if validate_only || failed {
        report.revision = target.store().revision();
        return Ok(report);
    }
    let total = report.received - checked.rejected.len();

    // Countries first, so that the records naming them find them; those
    // that name other countries (successors, predecessors) after the rest.
    let mut countries = checked.countries;
    countries.sort_by_key(|(index, _, record)| {
        let names_others = matches!(record, Record::Country(c) if !c.successors.is_empty() || !c.predecessors.is_empty());
        (names_others, *index)
    });
    let mut done = 0;
    for batch in countries.chunks(BATCH) {
        let batch = batch
            .iter()
            .map(|(index, id, record)| (*index, Collection::Countries, id.clone(), record.clone()));
        let written = tally(
            write_batch(target.store(), batch.collect(), mode).await?,
            &mut report,
        );
        done += written;
        progress(done, total);
        target.after_batch(written).await?;
    }
    let mut items = source.read()?.enumerate();
    let mut batch = next_batch(&mut items, &checked.rejected)?;
    while !batch.is_empty() {
        // The next batch is read while the writer thread writes this one.
        let (written, following) = tokio::join!(write_batch(target.store(), batch, mode), async {
            next_batch(&mut items, &checked.rejected)
        });
        let written = tally(written?, &mut report);
        done += written;
        progress(done, total);
        target.after_batch(written).await?;
        batch = following?;
    }
    report.errors.sort_by_key(|e| e.index);
    report.revision = target.store().revision();
    Ok(report)
}

/// The checking pass: every record validated, and every country it names
/// found in the store or in the import.
async fn check(store: &Store, source: &impl Source, report: &mut Report) -> Result<Checked> {
    let mut checked = Checked::default();
    let mut imported = BTreeSet::new();
    let mut stored = BTreeSet::new();
    // Countries neither stored nor (so far) imported, with who names them.
    let mut wanted: BTreeMap<CountryCode, Vec<usize>> = BTreeMap::new();
    for (index, item) in source.read()?.enumerate() {
        report.received += 1;
        if index % 256 == 255 {
            // Checking is CPU work: let other calls (and deadlines) run.
            tokio::task::yield_now().await;
        }
        let record = match item {
            Ok(record) => record,
            Err(error) => {
                report.unreadable.push(error);
                checked.rejected.insert(index);
                continue;
            }
        };
        let (collection, id) = match check_import(&record) {
            Ok(checked) => checked,
            Err(error) => {
                report.errors.push(RecordError {
                    index,
                    name: record_name(&record).to_string(),
                    error,
                });
                checked.rejected.insert(index);
                continue;
            }
        };
        for code in referenced_countries(&record) {
            if imported.contains(&code) || stored.contains(&code) {
                continue;
            }
            if store.get(Collection::Countries, code.as_str())?.is_some() {
                stored.insert(code);
            } else {
                wanted.entry(code).or_default().push(index);
            }
        }
        if collection == Collection::Countries {
            if let Some(code) = CountryCode::parse(&id) {
                imported.insert(code);
            }
            checked.countries.push((index, id, record.into_owned()));
        }
    }
    // Positions naming a country that is neither stored nor imported.
    let mut missing: BTreeMap<usize, Vec<CountryCode>> = BTreeMap::new();
    for (code, indexes) in wanted {
        if !imported.contains(&code) {
            for index in indexes {
                missing.entry(index).or_default().push(code);
            }
        }
    }
    if !missing.is_empty() {
        // Their names, for the report: one more pass, over the few that
        // failed.
        for (index, item) in source.read()?.enumerate() {
            let (Some(codes), Ok(record)) = (missing.get(&index), item) else {
                continue;
            };
            report.errors.push(RecordError {
                index,
                name: record_name(&record).to_string(),
                error: missing_countries(codes),
            });
            checked.rejected.insert(index);
        }
        checked
            .countries
            .retain(|(index, _, _)| !missing.contains_key(index));
    }
    Ok(checked)
}

fn missing_countries(codes: &[CountryCode]) -> Error {
    Error::FailedPrecondition(
        codes
            .iter()
            .map(|code| PreconditionViolation {
                kind: "COUNTRY_NOT_FOUND",
                subject: code.name(),
                description: format!("{} does not exist and is not imported", code.name()),
            })
            .collect(),
    )
}

type Batch = Vec<(usize, Collection, String, Record)>;

/// Up to `BATCH` records to write from `items` (countries were written
/// first, rejected ones are not).
fn next_batch<'a>(
    items: &mut impl Iterator<Item = (usize, Item<'a>)>,
    rejected: &HashSet<usize>,
) -> Result<Batch> {
    let mut batch = Vec::with_capacity(BATCH);
    for (index, item) in items {
        if rejected.contains(&index) {
            continue;
        }
        // The first pass read this source whole: an item failing now is a
        // source that changed under the import.
        let record = item.map_err(|e| Error::Unavailable(format!("the import changed: {e}")))?;
        let (collection, id) = check_import(&record)?;
        if collection == Collection::Countries {
            continue;
        }
        batch.push((index, collection, id, record.into_owned()));
        if batch.len() == BATCH {
            break;
        }
    }
    Ok(batch)
}

/// Writes one batch: each record's position, name and outcome.
async fn write_batch(
    store: &Store,
    batch: Batch,
    mode: Mode,
) -> Result<Vec<(usize, String, Result<Outcome>)>> {
    let names: Vec<(usize, String)> = batch
        .iter()
        .map(|(index, _, _, record)| (*index, record_name(record).to_string()))
        .collect();
    let ops = batch
        .into_iter()
        .map(|(_, collection, id, record)| upsert_op(collection, id, record))
        .collect();
    let outcomes = store.write(ops, mode == Mode::AllOrNothing).await?;
    Ok(names
        .into_iter()
        .zip(outcomes)
        .map(|((index, name), outcome)| (index, name, outcome))
        .collect())
}

/// Counts a written batch into the report; returns how many records it held.
fn tally(outcomes: Vec<(usize, String, Result<Outcome>)>, report: &mut Report) -> usize {
    let count = outcomes.len();
    for (index, name, outcome) in outcomes {
        match outcome {
            Ok(Outcome::Unchanged(_)) => report.unchanged += 1,
            Ok(Outcome::Created(_)) => {
                report.written += 1;
                report.created += 1;
            }
            Ok(_) => report.written += 1,
            Err(error) => report.errors.push(RecordError { index, name, error }),
        }
    }
    count
}
