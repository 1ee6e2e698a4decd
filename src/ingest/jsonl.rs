//! JSON Lines of `diplomacy.v1.Record` in the proto3 JSON mapping (proto
//! field names), read line by line and written one record a line.

use std::borrow::Cow;

use prost::Message;
use prost_reflect::{DynamicMessage, SerializeOptions};

use super::source::{Item, LineError, Source};
use crate::descriptors::api_pool;
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

const RECORD_MESSAGE: &str = "diplomacy.v1.Record";

/// Parses one JSON line into a record.
pub fn parse_line(line: &str) -> Result<Record> {
    let desc = api_pool()
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
    let desc = api_pool()
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
