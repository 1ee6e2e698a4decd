//! The hand-written types of `wire` checked against the API's descriptors:
//! for every message they mirror, every field (nested messages too) is
//! filled with a value that is not its default, encoded, read through the
//! hand-written type, encoded again and read with the descriptor. A field
//! added to a mirrored message, or one whose number or type changed, comes
//! back missing or different and fails here, naming the message.

use prost::Message;
use prost_reflect::{DynamicMessage, Kind, MapKey, MessageDescriptor, ReflectMessage, Value};

use super::partial::{summary_name, HistoryEntries, HistoryEntryKind, RelationName, RelationNames};
use super::{ListHistoryResponse, ListRelationsResponse, RawMessage, Relation};
use crate::descriptors::api_pool;

/// How a hand-written type mirrors a message.
enum Mirror {
    /// Every field, except those named here (left out on purpose, each
    /// with its reason beside it). None are today.
    Full { left_out: &'static [&'static str] },
    /// Only the fields named (dotted paths into nested messages; a path
    /// ending in `.` keeps the message but none of its fields).
    Partial { kept: &'static [&'static str] },
}

/// A message, its hand-written reader, and what the reader keeps.
struct Mirrored {
    message: &'static str,
    through: fn(&[u8]) -> Result<Vec<u8>, prost::DecodeError>,
    mirror: Mirror,
}

fn through<T: Message + Default>(bytes: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
    T::decode(bytes).map(|message| message.encode_to_vec())
}

/// Every hand-written type of `wire` and the message it stands for.
const MIRRORED: &[Mirrored] = &[
    Mirrored {
        message: "diplomacy.v1.HistoryEntry",
        through: through::<RawMessage>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.TreatySummary",
        through: through::<RawMessage>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.ConflictSummary",
        through: through::<RawMessage>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.Mediation",
        through: through::<RawMessage>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.ListHistoryResponse",
        through: through::<ListHistoryResponse>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.Relation",
        through: through::<Relation>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.ListRelationsResponse",
        through: through::<ListRelationsResponse>,
        mirror: Mirror::Full { left_out: &[] },
    },
    Mirrored {
        message: "diplomacy.v1.HistoryEntry",
        through: through::<HistoryEntryKind>,
        mirror: Mirror::Partial { kept: &["kind"] },
    },
    Mirrored {
        message: "diplomacy.v1.Relation",
        through: through::<RelationName>,
        mirror: Mirror::Partial { kept: &["name"] },
    },
    Mirrored {
        message: "diplomacy.v1.ListRelationsResponse",
        through: through::<RelationNames>,
        mirror: Mirror::Partial {
            kept: &["relations.name"],
        },
    },
    Mirrored {
        message: "diplomacy.v1.ListHistoryResponse",
        through: through::<HistoryEntries>,
        mirror: Mirror::Partial {
            kept: &["entries."],
        },
    },
];

/// A value of `kind` that no default equals, and whose encoding tells the
/// scalar types apart (negative for signed kinds, beyond 32 bits for
/// 64-bit ones).
fn value_of(kind: &Kind, depth: usize) -> Value {
    match kind {
        Kind::Double => Value::F64(-2.5),
        Kind::Float => Value::F32(1.5),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(-70_000),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(-(1 << 40) - 3),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(3_000_000_000),
        Kind::Uint64 | Kind::Fixed64 => Value::U64((1 << 40) + 7),
        Kind::Bool => Value::Bool(true),
        Kind::String => Value::String("ünïcode text".into()),
        Kind::Bytes => Value::Bytes(bytes::Bytes::from_static(b"\x00\xffbytes")),
        Kind::Enum(e) => Value::EnumNumber(
            e.values()
                .map(|v| v.number())
                .filter(|n| *n != 0)
                .max()
                .unwrap_or(1),
        ),
        Kind::Message(m) => Value::Message(filled(m, depth + 1)),
    }
}

fn map_key(kind: &Kind) -> MapKey {
    match kind {
        Kind::Bool => MapKey::Bool(true),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(-3),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(-(1 << 40)),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(3),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(1 << 40),
        _ => MapKey::String("key".into()),
    }
}

/// `message` with every field set (repeated fields twice, maps once, the
/// last member of each oneof), nested messages down to a few levels.
fn filled(message: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut out = DynamicMessage::new(message.clone());
    if depth > 4 {
        return out;
    }
    for field in message.fields() {
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!("a map field's kind is its entry message")
            };
            let key = map_key(&entry.map_entry_key_field().kind());
            let value = value_of(&entry.map_entry_value_field().kind(), depth);
            Value::Map([(key, value)].into_iter().collect())
        } else if field.is_list() {
            let one = value_of(&field.kind(), depth);
            Value::List(vec![one.clone(), one])
        } else {
            value_of(&field.kind(), depth)
        };
        out.set_field(&field, value);
    }
    out
}

/// `message` with only the fields `kept` names (see `Mirror::Partial`).
fn retained(message: &DynamicMessage, kept: &[&str]) -> DynamicMessage {
    let mut out = DynamicMessage::new(message.descriptor());
    for field in message.descriptor().fields() {
        let name = field.name();
        let inner: Vec<&str> = kept
            .iter()
            .filter_map(|path| path.strip_prefix(name))
            .filter_map(|rest| rest.strip_prefix('.'))
            .collect();
        let value = message.get_field(&field).into_owned();
        if kept.contains(&name) {
            out.set_field(&field, value);
        } else if !inner.is_empty() {
            let inner: Vec<&str> = inner.into_iter().filter(|p| !p.is_empty()).collect();
            let keep = |v: &Value| match v {
                Value::Message(m) => Value::Message(retained(m, &inner)),
                other => other.clone(),
            };
            let value = match &value {
                Value::List(items) => Value::List(items.iter().map(keep).collect()),
                other => keep(other),
            };
            out.set_field(&field, value);
        }
    }
    out
}

#[test]
fn every_mirrored_message_goes_through_its_hand_written_type_field_for_field() {
    for mirrored in MIRRORED {
        let descriptor = api_pool()
            .get_message_by_name(mirrored.message)
            .unwrap_or_else(|| panic!("{} is in the API", mirrored.message));
        let mut sent = filled(&descriptor, 0);
        let bytes = sent.encode_to_vec();
        let back = (mirrored.through)(&bytes)
            .unwrap_or_else(|e| panic!("{} does not decode: {e}", mirrored.message));
        let read = DynamicMessage::decode(descriptor.clone(), back.as_slice())
            .unwrap_or_else(|e| panic!("{} does not read back: {e}", mirrored.message));
        let expected = match mirrored.mirror {
            Mirror::Full { left_out } => {
                for name in left_out {
                    sent.clear_field_by_name(name);
                }
                sent
            }
            Mirror::Partial { kept } => retained(&sent, kept),
        };
        assert_eq!(
            read, expected,
            "{} changed on its way through its hand-written type in `wire`: \
             update that type (field numbers and types) to match the .proto",
            mirrored.message
        );
    }
}

#[test]
fn every_field_is_filled_so_that_a_lost_one_would_show() {
    for mirrored in MIRRORED {
        let descriptor = api_pool()
            .get_message_by_name(mirrored.message)
            .expect("in the API");
        let sent = filled(&descriptor, 0);
        for field in descriptor.fields() {
            if field.containing_oneof().is_none() {
                assert!(
                    sent.has_field(&field),
                    "{}.{} is filled",
                    mirrored.message,
                    field.name()
                );
            }
        }
    }
}

#[test]
fn a_summary_name_is_read_from_every_summary_the_cache_keeps() {
    for message in ["diplomacy.v1.TreatySummary", "diplomacy.v1.ConflictSummary"] {
        let descriptor = api_pool().get_message_by_name(message).expect("in the API");
        let sent = filled(&descriptor, 0);
        let name = sent
            .get_field_by_name("name")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("{message} has a string name"));
        assert_eq!(summary_name(&sent.encode_to_vec()), name, "{message}");
    }
}
