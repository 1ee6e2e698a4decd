//! How the client commands print: `-o table` (a card for one object, a
//! table for many), `-o wide` (more columns), `-o json` (proto3 JSON: one
//! object, or one object a line for lists and streams, for jq), `-o yaml`.
//! Every message is rendered from the API's descriptor, so that a field the
//! API gains shows up without a change here.

mod card;
pub mod columns;
mod values;

pub use values::enum_prefix;

use std::io::Write;

use prost_reflect::{DynamicMessage, SerializeOptions};

use crate::cli::exit::Failure;
pub use columns::Columns;

/// The `-o` flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Wide,
    Json,
    Yaml,
}

impl Format {
    /// The default: a table on a terminal, JSON when standard output is a
    /// pipe or a file (for scripts).
    pub fn default_for_stdout() -> Self {
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            Format::Table
        } else {
            Format::Json
        }
    }
}

/// `message` (a generated type) as a message of the API's descriptors.
pub fn dynamic<M: prost::Message>(message: &M, full_name: &str) -> Result<DynamicMessage, Failure> {
    let descriptor = diplomacy::descriptors::api_pool()
        .get_message_by_name(full_name)
        .ok_or_else(|| Failure::other(format!("{full_name} is not in the API")))?;
    DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| Failure::other(format!("cannot read a {full_name}: {e}")))
}

/// The proto3 JSON of a message, with the `.proto` field names (as
/// `diplomacy export` and the datasets write them).
pub fn json_value(message: &DynamicMessage) -> Result<serde_json::Value, Failure> {
    message
        .serialize_with_options(
            serde_json::value::Serializer,
            &SerializeOptions::new().use_proto_field_name(true),
        )
        .map_err(|e| Failure::other(format!("cannot write JSON: {e}")))
}

/// Prints messages to standard output in the chosen format, colour only
/// on a terminal and never with `NO_COLOR` (anstream's rules).
pub struct Printer {
    pub format: Format,
    out: anstream::AutoStream<std::io::Stdout>,
}

impl Printer {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            out: anstream::AutoStream::auto(std::io::stdout()),
        }
    }

    /// One object: a card, a JSON object or a YAML document; `header` is a
    /// line above the card (a table only).
    pub fn one(&mut self, message: &DynamicMessage, header: Option<&str>) -> Result<(), Failure> {
        let text = match self.format {
            Format::Table | Format::Wide => {
                let card = card::render(message, self.format == Format::Wide);
                match header {
                    Some(header) => format!(
                        "{}{header}{}\n{card}",
                        values::BOLD.render(),
                        values::BOLD.render_reset()
                    ),
                    None => card,
                }
            }
            Format::Json => {
                let value = json_value(message)?;
                serde_json::to_string_pretty(&value).map_err(|e| Failure::other(e.to_string()))?
                    + "\n"
            }
            Format::Yaml => yaml(message)?,
        };
        self.write(&text)
    }

    /// Many objects: a table (header once, from `columns`), one JSON object
    /// a line, or YAML documents.
    pub fn many(&mut self, messages: &[DynamicMessage], columns: &Columns) -> Result<(), Failure> {
        let text = match self.format {
            Format::Table | Format::Wide => columns.table(messages, self.format == Format::Wide),
            Format::Json => {
                let mut lines = String::new();
                for message in messages {
                    lines.push_str(&json_value(message)?.to_string());
                    lines.push('\n');
                }
                lines
            }
            Format::Yaml => {
                let mut documents = String::new();
                for message in messages {
                    documents.push_str("---\n");
                    documents.push_str(&yaml(message)?);
                }
                documents
            }
        };
        self.write(&text)
    }

    /// One item of a stream, printed as it comes: a table row without a
    /// header past the first, one JSON line, one YAML document.
    pub fn streamed(
        &mut self,
        message: &DynamicMessage,
        columns: &Columns,
        first: bool,
    ) -> Result<(), Failure> {
        let text = match self.format {
            Format::Table | Format::Wide => columns.rows(
                std::slice::from_ref(message),
                self.format == Format::Wide,
                first,
            ),
            Format::Json => json_value(message)?.to_string() + "\n",
            Format::Yaml => format!("---\n{}", yaml(message)?),
        };
        self.write(&text)?;
        self.out
            .flush()
            .map_err(|e| Failure::other(format!("cannot write: {e}")))
    }

    fn write(&mut self, text: &str) -> Result<(), Failure> {
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| Failure::other(format!("cannot write: {e}")))
    }
}

fn yaml(message: &DynamicMessage) -> Result<String, Failure> {
    serde_norway::to_string(&json_value(message)?)
        .map_err(|e| Failure::other(format!("cannot write YAML: {e}")))
}
