//! An HTTP GET as the request message of its method: the path variable,
//! and each query parameter as the field it names (`as_of=2009-10-10` or
//! `as_of.year=2009`, `view=RELATION_VIEW_BASIC`, a repeated field given
//! several times), as the `google.api.http` convention maps them.

use percent_encoding::percent_decode_str;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};

use crate::convert::date_to_pb;
use crate::domain::PartialDate;
use crate::error::FieldViolation;

/// `a%2Fb` → `a/b`; `+` is a space in a query.
fn decode(text: &str, query: bool) -> String {
    let text = if query {
        text.replace('+', " ")
    } else {
        text.to_owned()
    };
    percent_decode_str(&text).decode_utf8_lossy().into_owned()
}

/// A field of `message` by its proto or JSON name.
fn field(message: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    message
        .get_field_by_name(name)
        .or_else(|| message.get_field_by_json_name(name))
}

/// One scalar, enum or date value of a field's kind.
fn value_of(field: &FieldDescriptor, text: &str) -> Result<Value, String> {
    let number = |what: &str| format!("{text:?} is not {what}");
    Ok(match field.kind() {
        Kind::String => Value::String(text.to_owned()),
        Kind::Bool => match text {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(number("true or false")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(text.parse().map_err(|_| number("a whole number"))?)
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64(text.parse().map_err(|_| number("a whole number"))?)
        }
        Kind::Uint32 | Kind::Fixed32 => {
            Value::U32(text.parse().map_err(|_| number("a whole number"))?)
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Value::U64(text.parse().map_err(|_| number("a whole number"))?)
        }
        Kind::Enum(e) => {
            let found = e
                .get_value_by_name(text)
                .or_else(|| text.parse().ok().and_then(|n| e.get_value(n)));
            Value::EnumNumber(
                found
                    .ok_or_else(|| format!("{text:?} is not a value of {}", e.full_name()))?
                    .number(),
            )
        }
        Kind::Message(m) if m.full_name() == "google.type.Date" => {
            let date: PartialDate = text.parse().map_err(|e| {
                format!("{text:?} is not a date (YYYY, YYYY-MM or YYYY-MM-DD): {e}")
            })?;
            let date = date_to_pb(date);
            let mut message = DynamicMessage::new(m);
            for (name, part) in [
                ("year", date.year),
                ("month", date.month),
                ("day", date.day),
            ] {
                message.set_field_by_name(name, Value::I32(part));
            }
            Value::Message(message)
        }
        _ => return Err("cannot be given in a query".into()),
    })
}

/// Sets `path` (dotted field names) of `message` from `text`.
fn set(message: &mut DynamicMessage, path: &str, text: &str) -> Result<(), String> {
    let (head, rest) = path
        .split_once('.')
        .map_or((path, None), |(h, r)| (h, Some(r)));
    let descriptor = message.descriptor();
    let field =
        field(&descriptor, head).ok_or_else(|| "is not a field of the request".to_string())?;
    if let Some(rest) = rest {
        if field.is_list() || field.is_map() {
            return Err("cannot be given in a query".into());
        }
        let Kind::Message(_) = field.kind() else {
            return Err("is not a message field".into());
        };
        let mut inner = match message.get_field(&field).into_owned() {
            Value::Message(inner) => inner,
            _ => return Err("is not a message field".into()),
        };
        set(&mut inner, rest, text)?;
        message.set_field(&field, Value::Message(inner));
        return Ok(());
    }
    let value = value_of(&field, text)?;
    if field.is_list() {
        let mut list = match message.get_field(&field).into_owned() {
            Value::List(list) => list,
            _ => Vec::new(),
        };
        list.push(value);
        message.set_field(&field, Value::List(list));
    } else if message.has_field(&field) && !matches!(value, Value::Message(_)) {
        return Err("is given twice".into());
    } else {
        message.set_field(&field, value);
    }
    Ok(())
}

/// The request message: `variable` (a field and its value from the path)
/// and the query's parameters. Every problem is reported, each naming its
/// parameter.
pub fn request_message(
    input: MessageDescriptor,
    variable: Option<(String, String)>,
    query: Option<&str>,
) -> Result<DynamicMessage, Vec<FieldViolation>> {
    let mut message = DynamicMessage::new(input);
    let mut violations = Vec::new();
    if let Some((name, value)) = variable {
        if let Err(e) = set(&mut message, &name, &decode(&value, false)) {
            violations.push(FieldViolation::new(name, e));
        }
    }
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key, true);
        if let Err(e) = set(&mut message, &key, &decode(value, true)) {
            violations.push(FieldViolation::new(key, e));
        }
    }
    if violations.is_empty() {
        Ok(message)
    } else {
        Err(violations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::api_pool;

    fn input(name: &str) -> MessageDescriptor {
        api_pool().get_message_by_name(name).expect(name)
    }

    #[test]
    fn query_parameters_become_fields_of_their_kind() {
        let message = request_message(
            input("diplomacy.v1.ListRelationsRequest"),
            Some(("parent".into(), "countries/TR".into())),
            Some("as_of=2009-10&view=RELATION_VIEW_BASIC&diplomatic_statuses=DIPLOMATIC_STATUS_NONE&diplomaticStatuses=3&page_size=5"),
        )
        .expect("a valid query");
        let json = serde_json::to_value(&message).expect("JSON");
        assert_eq!(json["parent"], "countries/TR");
        assert_eq!(json["asOf"], serde_json::json!({"year": 2009, "month": 10}));
        assert_eq!(json["view"], "RELATION_VIEW_BASIC");
        assert_eq!(
            json["diplomaticStatuses"],
            serde_json::json!(["DIPLOMATIC_STATUS_NONE", "DIPLOMATIC_STATUS_ESTABLISHED"])
        );
        assert_eq!(json["pageSize"], 5);
        let dotted = request_message(
            input("diplomacy.v1.GetRelationRequest"),
            None,
            Some("as_of.year=2009&as_of.month=10&as_of.day=10"),
        )
        .expect("dotted fields");
        assert_eq!(
            serde_json::to_value(&dotted).expect("JSON")["asOf"],
            serde_json::json!({"year": 2009, "month": 10, "day": 10})
        );
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let violations = request_message(
            input("diplomacy.v1.GetRelationRequest"),
            None,
            Some("as_of=2024-02-30&view=SIDEWAYS&colour=red&page_size=x"),
        )
        .expect_err("bad parameters");
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["as_of", "view", "colour", "page_size"]);
    }
}
