//! Records in and out of the service: JSON Lines of `diplomacy.v1.Record` in
//! the proto3 JSON mapping, the built-in countries, and the seed dataset.

use prost::Message;
use prost_reflect::{DynamicMessage, SerializeOptions};

use crate::api::mask::descriptor_pool;
use crate::convert::now_timestamp;
use crate::domain::countries::builtin_countries;
use crate::domain::{names, Collection};
use crate::error::{Error, Result};
use crate::importer::{Item, Source};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{
    meta, record_collection, record_name, same_content, validate_record, without_store_meta, Record,
};
use crate::store::{Outcome, Store, WriteOp};
use std::borrow::Cow;

/// The South Caucasus facts the service starts with (see `dataset/`).
pub const SEED_JSONL: &str = include_str!("../dataset/south-caucasus.jsonl");

const RECORD_MESSAGE: &str = "diplomacy.v1.Record";

/// A line of an import that cannot be used, and why.
#[derive(Debug)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub error: Error,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// Parses one JSON line into a record.
pub fn parse_line(line: &str) -> Result<Record> {
    let desc = descriptor_pool()
        .get_message_by_name(RECORD_MESSAGE)
        .ok_or_else(|| Error::DataLoss("descriptor for diplomacy.v1.Record missing".into()))?;
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let dynamic = DynamicMessage::deserialize(desc, &mut deserializer).map_err(|e| {
        Error::invalid(
            "record",
            format!("not a diplomacy.v1.Record in proto3 JSON: {e}"),
        )
    })?;
    deserializer
        .end()
        .map_err(|e| Error::invalid("record", format!("trailing characters: {e}")))?;
    let record: pb::Record = dynamic
        .transcode_to()
        .map_err(|e| Error::invalid("record", e.to_string()))?;
    record
        .kind
        .ok_or_else(|| Error::invalid("record", "names none of country, treaty, meeting, event"))
}

/// A JSON Lines file, read line by line each time an import reads it (blank
/// lines and `#` comments are skipped).
pub struct JsonLinesFile {
    path: std::path::PathBuf,
}

impl JsonLinesFile {
    /// Opens nothing yet, but fails now if the file cannot be read.
    pub fn new(path: &std::path::Path) -> std::io::Result<Self> {
        std::fs::File::open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }
}

impl Source for JsonLinesFile {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>> {
        use std::io::BufRead;
        let file = std::fs::File::open(&self.path)
            .map_err(|e| Error::Unavailable(format!("cannot read {}: {e}", self.path.display())))?;
        let lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
        let mut broken = false;
        let items = lines.enumerate().map_while(move |(i, line)| {
            if broken {
                return None;
            }
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    // A line that is not UTF-8 is one bad line; any other
                    // error ends the reading.
                    broken = e.kind() != std::io::ErrorKind::InvalidData;
                    return Some(Some(Err(LineError {
                        line: i + 1,
                        error: Error::invalid("line", format!("cannot read: {e}")),
                    })));
                }
            };
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                return Some(None);
            }
            Some(Some(
                parse_line(trimmed)
                    .map(Cow::Owned)
                    .map_err(|error| LineError { line: i + 1, error }),
            ))
        });
        Ok(Box::new(items.flatten()))
    }
}

/// Parses JSON Lines (blank lines and `#` comments are skipped); returns the
/// records with their line numbers, or every line that failed.
pub fn parse_jsonl(text: &str) -> std::result::Result<Vec<(usize, Record)>, Vec<LineError>> {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(trimmed) {
            Ok(record) => records.push((i + 1, record)),
            Err(error) => errors.push(LineError { line: i + 1, error }),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// One record as a JSON line (proto field names, as in the seed files).
pub fn to_json_line(record: &Record) -> Result<String> {
    let desc = descriptor_pool()
        .get_message_by_name(RECORD_MESSAGE)
        .ok_or_else(|| Error::DataLoss("descriptor for diplomacy.v1.Record missing".into()))?;
    let wrapped = pb::Record {
        kind: Some(record.clone()),
    };
    let dynamic = DynamicMessage::decode(desc, wrapped.encode_to_vec().as_slice())
        .map_err(|e| Error::DataLoss(e.to_string()))?;
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    dynamic
        .serialize_with_options(
            &mut serializer,
            &SerializeOptions::new().use_proto_field_name(true),
        )
        .map_err(|e| Error::DataLoss(e.to_string()))?;
    String::from_utf8(out).map_err(|e| Error::DataLoss(e.to_string()))
}

/// Every built-in country as a record.
pub fn builtin_country_records() -> Vec<Record> {
    let source = pb::Source {
        title: "ISO 3166-1 and ISO 3166-3 country codes".into(),
        publisher: "International Organization for Standardization, as packaged by the rust_iso3166 crate (Apache-2.0)".into(),
        url: "https://www.iso.org/iso-3166-country-codes.html".into(),
        note: "Regions and sub-regions: UN M49, as packaged by the codes-un-m49 crate (MIT). For former states the end date is the year ISO withdrew the code.".into(),
        ..Default::default()
    };
    builtin_countries()
        .into_iter()
        .map(|c| {
            Record::Country(pb::Country {
                name: c.code.name(),
                alpha3: c.alpha3.to_string(),
                numeric_code: u32::from(c.numeric),
                display_name: c.display_name.to_string(),
                region: c.region.unwrap_or_default().to_string(),
                subregion: c.subregion.unwrap_or_default().to_string(),
                end_date: c
                    .withdrawn_year
                    .map(|year| crate::pb::google::r#type::Date {
                        year,
                        month: 0,
                        day: 0,
                    }),
                successors: c.successors.iter().map(|s| s.name()).collect(),
                sources: vec![source.clone()],
                ..Default::default()
            })
        })
        .collect()
}

/// The seed dataset's records.
pub fn seed_records() -> Result<Vec<Record>> {
    parse_jsonl(SEED_JSONL)
        .map(|records| records.into_iter().map(|(_, r)| r).collect())
        .map_err(|errors| {
            Error::DataLoss(format!(
                "the built-in seed dataset is invalid: {}",
                errors[0]
            ))
        })
}

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
    let record = without_store_meta(record);
    WriteOp {
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
pub async fn upsert_all(
    store: &Store,
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

/// Loads the built-in countries and (when `seed` is set) the seed dataset
/// into an empty store, durably. Does nothing if the store has records.
pub async fn initialise(store: &Store, seed: bool) -> Result<usize> {
    if !store.is_empty()? {
        return Ok(0);
    }
    let mut records = builtin_country_records();
    if seed {
        records.extend(seed_records()?);
    }
    let count = records.len();
    // Former states name their successors, which must exist first: every
    // country goes in without successors, then the records in full.
    let bare = records.iter().filter_map(|record| match record {
        Record::Country(country) => Some(Record::Country(pb::Country {
            successors: Vec::new(),
            ..country.clone()
        })),
        _ => None,
    });
    let checked = bare
        .chain(records.iter().cloned())
        .map(|record| check_import(&record).map(|(collection, id)| (collection, id, record)))
        .collect::<Result<Vec<_>>>()?;
    upsert_all(store, checked).await?;
    Ok(count)
}
