//! Checking a record to be imported and upserting it by name: re-importing
//! the same record changes nothing.

use crate::convert::now_timestamp;
use crate::domain::{names, Collection};
use crate::error::{Error, Result};
use crate::records::{
    meta, normalize, record_collection, record_name, same_content, validate_record,
    without_store_meta, Record,
};
use crate::store::{KvStore, Outcome, Store, WriteOp};

/// Checks a record to be imported: a valid name and valid content.
pub fn check_import(record: &Record) -> Result<(Collection, String)> {
    let collection = record_collection(record);
    let name = record_name(record);
    let Some((named, id)) = names::parse_record_name(name) else {
        return Err(Error::invalid(
            "name",
            format!("{name:?} is not a valid record name"),
        ));
    };
    if named != collection {
        return Err(Error::invalid(
            "name",
            format!("{name:?} does not name a {}", collection.as_str()),
        ));
    }
    let field = match record {
        Record::Country(_) => "country",
        Record::Treaty(_) => "treaty",
        Record::Meeting(_) => "meeting",
        Record::Event(_) => "event",
        Record::Actor(_) => "actor",
    };
    let violations = validate_record(record, field);
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    Ok((collection, id.to_string()))
}

/// Records written per transaction by imports.
pub const BATCH: usize = 1000;

/// An upsert of `record` (already checked). Times in the record are kept;
/// missing ones come from the stored record when the content is the same
/// (so re-importing changes nothing), else are now.
pub fn upsert_op(collection: Collection, id: String, record: Record) -> WriteOp {
    let now = now_timestamp();
    let mut record = without_store_meta(record);
    normalize(&mut record);
    WriteOp {
        revision: None,
        collection,
        id,
        compute: Box::new(move |old| {
            let mut record = record.clone();
            let (stored_create, stored_update, same) = match old {
                Some(old) => {
                    let mut old = old.clone();
                    let same = same_content(&old, &record);
                    let m = meta(&mut old);
                    (*m.create_time, *m.update_time, same)
                }
                None => (None, None, false),
            };
            let m = meta(&mut record);
            if m.create_time.is_none() {
                *m.create_time = stored_create.or(Some(now));
            }
            if m.update_time.is_none() {
                *m.update_time = if same { stored_update } else { Some(now) };
            }
            Ok(Some(record))
        }),
    }
}

/// Upserts checked records in batches, each batch one atomic transaction.
pub async fn upsert_all<K: KvStore>(
    store: &Store<K>,
    records: Vec<(Collection, String, Record)>,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(records.len());
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let ops: Vec<WriteOp> = records
            .by_ref()
            .take(BATCH)
            .map(|(collection, id, record)| upsert_op(collection, id, record))
            .collect();
        for outcome in store.write(ops, true).await? {
            outcomes.push(outcome?);
        }
    }
    Ok(outcomes)
}
