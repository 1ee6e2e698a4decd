//! One message as a card: a line per field, and a small table per list of
//! messages (a relation's treaties and conflicts, a record's sources).

use comfy_table::{presets, ContentArrangement, Table};
use prost_reflect::{DynamicMessage, Kind, ReflectMessage, Value};

use super::values::{is_inline, single, status_style, BOLD};

/// Fields a card leaves to `-o wide`: bookkeeping, and the lists of
/// sources that every record carries.
const WIDE_ONLY: &[&str] = &[
    "etag",
    "revision",
    "create_time",
    "update_time",
    "sources",
    "source_records",
];

fn label(name: &str) -> String {
    name.replace('_', " ")
}

/// The card of `message`; with `wide`, every field.
pub fn render(message: &DynamicMessage, wide: bool) -> String {
    let mut lines = Table::new();
    lines
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let mut sections = String::new();
    for field in message.descriptor().fields() {
        if !wide && WIDE_ONLY.contains(&field.name()) {
            continue;
        }
        let value = message.get_field(&field);
        let nested = match (&*value, field.kind()) {
            (Value::List(items), Kind::Message(inner)) if !is_inline(&inner) => Some(items),
            _ => None,
        };
        if let Some(items) = nested {
            let messages: Vec<&DynamicMessage> =
                items.iter().filter_map(Value::as_message).collect();
            if !messages.is_empty() {
                sections.push_str(&format!(
                    "\n{}{} ({}){}\n{}\n",
                    BOLD.render(),
                    label(field.name()),
                    messages.len(),
                    BOLD.render_reset(),
                    list_table(&messages)
                ));
            }
            continue;
        }
        let text = match &*value {
            Value::Message(_) if !message.has_field(&field) => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::List(items) if items.is_empty() => "—".to_string(),
            other => single(&field, other),
        };
        let text = if field.name() == "diplomatic_status" {
            let style = status_style(&text);
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text
        };
        lines.add_row(vec![label(field.name()), text]);
    }
    format!("{lines}\n{sections}")
}

/// Messages of one type as a table, one column per field any of them set
/// (lists of messages inside them summarised by count).
fn list_table(messages: &[&DynamicMessage]) -> String {
    let Some(first) = messages.first() else {
        return String::new();
    };
    let fields: Vec<_> = first
        .descriptor()
        .fields()
        .filter(|field| messages.iter().any(|m| m.has_field(field)))
        .collect();
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(fields.iter().map(|f| label(f.name())));
    for message in messages {
        table.add_row(fields.iter().map(|field| {
            if message.has_field(field) {
                single(field, &message.get_field(field))
            } else {
                String::new()
            }
        }));
    }
    table.to_string()
}
