//! Records in and out of the service: JSON Lines of `diplomacy.v1.Record` in
//! the proto3 JSON mapping, the built-in countries, and the seed dataset.

use prost::Message;
use prost_reflect::{DynamicMessage, SerializeOptions};

use crate::api::mask::descriptor_pool;
use crate::convert::now_timestamp;
use crate::domain::countries::builtin_countries;
use crate::domain::{names, Collection};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{record_collection, record_name, validate_record, Record};
use crate::store::Store;

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

fn set_times(
    record: &mut Record,
    create: Option<prost_types::Timestamp>,
    update: Option<prost_types::Timestamp>,
) {
    macro_rules! set {
        ($r:expr) => {{
            $r.create_time = $r.create_time.take().or(create);
            $r.update_time = $r.update_time.take().or(update);
        }};
    }
    match record {
        Record::Country(r) => set!(r),
        Record::Treaty(r) => set!(r),
        Record::Meeting(r) => set!(r),
        Record::Event(r) => set!(r),
    }
}

fn create_time_of(record: &Record) -> Option<prost_types::Timestamp> {
    match record {
        Record::Country(r) => r.create_time,
        Record::Treaty(r) => r.create_time,
        Record::Meeting(r) => r.create_time,
        Record::Event(r) => r.create_time,
    }
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

/// Writes `record` whether or not it exists (import is idempotent). Times in
/// the record are kept; missing ones are filled in.
pub fn upsert(store: &Store, record: Record) -> Result<()> {
    let (collection, id) = check_import(&record)?;
    let now = now_timestamp();
    store.commit(collection, &id, |old| {
        let mut record = record.clone();
        let create = old.as_ref().and_then(create_time_of).or(Some(now));
        set_times(&mut record, create, Some(now));
        Ok(Some(record))
    })?;
    Ok(())
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
    for record in &records {
        if let Record::Country(country) = record {
            let bare = pb::Country {
                successors: Vec::new(),
                ..country.clone()
            };
            upsert(store, Record::Country(bare))?;
        }
    }
    for record in records {
        upsert(store, record)?;
    }
    store.flush().await?;
    Ok(count)
}
