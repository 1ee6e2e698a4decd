//! Bulk import, shared by the `ImportRecords` RPC and `diplomacy import`:
//! validate everything, then write in batches through the single writer.

use std::collections::BTreeSet;

use crate::dataset::{check_import, upsert_op, BATCH};
use crate::domain::{Collection, CountryCode};
use crate::error::{Error, PreconditionViolation, Result};
use crate::records::{record_name, referenced_countries, Record};
use crate::store::{Outcome, Store};

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
    pub unchanged: usize,
    pub errors: Vec<RecordError>,
    /// The store revision after the import.
    pub revision: i64,
}

/// Imports `records`. `progress` is told how many records are done after
/// every batch.
pub async fn import(
    store: &Store,
    records: Vec<Record>,
    mode: Mode,
    validate_only: bool,
    mut progress: impl FnMut(usize),
) -> Result<Report> {
    let mut report = Report {
        received: records.len(),
        ..Default::default()
    };
    let mut valid = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        if index % 256 == 255 {
            // Validation is CPU work: let other calls (and deadlines) run.
            tokio::task::yield_now().await;
        }
        match check_import(&record) {
            Ok((collection, id)) => valid.push((index, collection, id, record)),
            Err(error) => report.errors.push(RecordError {
                index,
                name: record_name(&record).to_string(),
                error,
            }),
        }
    }
    check_references(store, &mut valid, &mut report.errors)?;
    report.errors.sort_by_key(|e| e.index);
    if validate_only || (mode == Mode::AllOrNothing && !report.errors.is_empty()) {
        report.revision = store.revision();
        return Ok(report);
    }

    // Countries first, so that the records naming them find them; former
    // states (which name successors) after current ones.
    valid.sort_by_key(|(index, collection, _, record)| {
        let names_others = matches!(record, Record::Country(c) if !c.successors.is_empty());
        (*collection != Collection::Countries, names_others, *index)
    });
    let mut done = 0;
    for batch in valid.chunks(BATCH) {
        let ops = batch
            .iter()
            .map(|(_, collection, id, record)| upsert_op(*collection, id.clone(), record.clone()))
            .collect();
        let outcomes = store.write(ops, mode == Mode::AllOrNothing).await?;
        for ((index, _, _, record), outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(Outcome::Unchanged(_)) => report.unchanged += 1,
                Ok(_) => report.written += 1,
                Err(error) => report.errors.push(RecordError {
                    index: *index,
                    name: record_name(record).to_string(),
                    error,
                }),
            }
        }
        done += batch.len();
        progress(done);
    }
    report.errors.sort_by_key(|e| e.index);
    report.revision = store.revision();
    Ok(report)
}

/// Moves records naming a country that neither exists nor is imported from
/// `valid` to `errors`.
fn check_references(
    store: &Store,
    valid: &mut Vec<(usize, Collection, String, Record)>,
    errors: &mut Vec<RecordError>,
) -> Result<()> {
    let imported: BTreeSet<CountryCode> = valid
        .iter()
        .filter(|(_, collection, _, _)| *collection == Collection::Countries)
        .filter_map(|(_, _, id, _)| CountryCode::parse(id))
        .collect();
    let mut known = imported.clone();
    let mut unknown = BTreeSet::new();
    let mut kept = Vec::with_capacity(valid.len());
    for (index, collection, id, record) in valid.drain(..) {
        let mut missing = Vec::new();
        for code in referenced_countries(&record) {
            if known.contains(&code) {
                continue;
            }
            if unknown.contains(&code) || store.get(Collection::Countries, code.as_str())?.is_none()
            {
                unknown.insert(code);
                missing.push(PreconditionViolation {
                    kind: "COUNTRY_NOT_FOUND",
                    subject: code.name(),
                    description: format!("{} does not exist and is not imported", code.name()),
                });
            } else {
                known.insert(code);
            }
        }
        if missing.is_empty() {
            kept.push((index, collection, id, record));
        } else {
            errors.push(RecordError {
                index,
                name: record_name(&record).to_string(),
                error: Error::FailedPrecondition(missing),
            });
        }
    }
    *valid = kept;
    Ok(())
}
