//! One field's value as text: dates at their precision, enums by their
//! short name, timestamps in RFC 3339, lists joined.

use anstyle::{AnsiColor, Style};
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

/// A diplomatic status in colour: green for relations, red for severed,
/// yellow for none, dim for unknown (stripped off a terminal and with
/// `NO_COLOR`).
pub fn status_style(name: &str) -> Style {
    match name {
        "ESTABLISHED" | "RESTORED" => AnsiColor::Green.on_default(),
        "SEVERED" => AnsiColor::Red.on_default(),
        "NONE" | "DOWNGRADED" => AnsiColor::Yellow.on_default(),
        _ => DIM,
    }
}

/// `google.type.Date` at its precision: `2009-10-10`, `1991-12`, `1991`.
fn date(message: &DynamicMessage) -> String {
    let part = |name| {
        message
            .get_field_by_name(name)
            .and_then(|v| v.as_i32())
            .unwrap_or(0)
    };
    match (part("year"), part("month"), part("day")) {
        (0, _, _) => String::new(),
        (year, 0, _) => format!("{year:04}"),
        (year, month, 0) => format!("{year:04}-{month:02}"),
        (year, month, day) => format!("{year:04}-{month:02}-{day:02}"),
    }
}

fn timestamp(message: &DynamicMessage) -> String {
    let seconds = message
        .get_field_by_name("seconds")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// An enum value's name without its enum's prefix: `NONE` for
/// `DIPLOMATIC_STATUS_NONE`; the number when the name is unknown.
fn enum_name(field: &FieldDescriptor, number: i32) -> String {
    let Kind::Enum(descriptor) = field.kind() else {
        return number.to_string();
    };
    let Some(value) = descriptor.get_value(number) else {
        return number.to_string();
    };
    value
        .name()
        .strip_prefix(&enum_prefix(&descriptor))
        .unwrap_or(value.name())
        .to_string()
}

/// The prefix of an enum's value names (AIP-126): `DIPLOMATIC_STATUS_` for
/// `DiplomaticStatus`.
pub fn enum_prefix(descriptor: &prost_reflect::EnumDescriptor) -> String {
    screaming_snake(descriptor.name()) + "_"
}

fn screaming_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Whether messages of this type are rendered on one line (a date, a
/// time) rather than as a table of their fields.
pub fn is_inline(message: &MessageDescriptor) -> bool {
    matches!(
        message.full_name(),
        "google.type.Date" | "google.protobuf.Timestamp"
    )
}

/// A single value of `field` as text.
pub fn single(field: &FieldDescriptor, value: &Value) -> String {
    match value {
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => format!("{n}"),
        Value::F64(n) => format!("{n:.2}"),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => format!("{} bytes", b.len()),
        Value::EnumNumber(n) => enum_name(field, *n),
        Value::Message(m) => match m.descriptor().full_name() {
            "google.type.Date" => date(m),
            "google.protobuf.Timestamp" => timestamp(m),
            _ => inline_message(m),
        },
        Value::List(items) => items
            .iter()
            .map(|item| single(field, item))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Map(entries) => format!("{} entries", entries.len()),
    }
}

/// A nested message on one line: its set fields, `field=value`.
fn inline_message(message: &DynamicMessage) -> String {
    message
        .fields()
        .map(|(field, value)| format!("{}={}", field.name(), single(&field, value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value of `path` (`a.b`) in `message` as text, empty when unset.
pub fn at_path(message: &DynamicMessage, path: &str) -> String {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let Some(field) = message.descriptor().get_field_by_name(head) else {
        return String::new();
    };
    if !message.has_field(&field) {
        return String::new();
    }
    let value = message.get_field(&field);
    match (rest, value.as_ref()) {
        (Some(rest), Value::Message(inner)) => at_path(inner, rest),
        (Some(_), _) => String::new(),
        (None, value) => single(&field, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diplomacy::pb::diplomacy::v1 as pb;
    use diplomacy::pb::google::r#type::Date;

    #[test]
    fn dates_keep_their_precision_and_enums_lose_their_prefix() {
        let relation = pb::Relation {
            name: "countries/AM/relations/TR".into(),
            diplomatic_status: pb::DiplomaticStatus::None as i32,
            status_since: Some(Date {
                year: 1991,
                month: 12,
                day: 0,
            }),
            allied: false,
            mediators: vec!["countries/CH".into(), "countries/US".into()],
            ..Default::default()
        };
        let message =
            crate::cli::render::dynamic(&relation, "diplomacy.v1.Relation").expect("a relation");
        assert_eq!(at_path(&message, "status_since"), "1991-12");
        assert_eq!(at_path(&message, "diplomatic_status"), "NONE");
        assert_eq!(at_path(&message, "mediators"), "countries/CH, countries/US");
        assert_eq!(at_path(&message, "as_of"), "", "unset");
        assert_eq!(at_path(&message, "no_such_field"), "");
    }
}
