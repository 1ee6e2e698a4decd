//! Readers that decode a few fields of a message and skip the rest: prost
//! still walks every skipped field's tag and length, so bytes that are not
//! well-formed protobuf still fail, but nothing is copied out of them.

/// The one field of a stored `diplomacy.v1.HistoryEntry` that history
/// filters read.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistoryEntryKind {
    #[prost(int32, tag = "2")]
    pub kind: i32,
}

/// The key (field 1, length-delimited) of `name` in a `TreatySummary` or a
/// `ConflictSummary`: field 1 of both, which prost encodes first and leaves
/// out only when empty.
const SUMMARY_NAME_KEY: u8 = 1 << 3 | prost::encoding::WireType::LengthDelimited as u8;

/// The `name` of an encoded `TreatySummary` or `ConflictSummary`, without
/// decoding the rest; empty if it has none.
pub fn summary_name(encoded: &[u8]) -> &str {
    let Some((&SUMMARY_NAME_KEY, mut rest)) = encoded.split_first() else {
        return "";
    };
    prost::encoding::decode_varint(&mut rest)
        .ok()
        .and_then(|len| rest.get(..usize::try_from(len).ok()?))
        .and_then(|name| std::str::from_utf8(name).ok())
        .unwrap_or("")
}

// What the load generator reads of an answer: enough to check that it
// answers the question asked, and no more. It shares the machine's two
// cores with the server, so every microsecond it spends is charged to the
// scenario's ratio (BENCHMARKS.md).

/// A `diplomacy.v1.Relation`: its name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RelationName {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// A `diplomacy.v1.ListRelationsResponse`: each relation's name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RelationNames {
    #[prost(message, repeated, tag = "1")]
    pub relations: Vec<RelationName>,
}

/// A `diplomacy.v1.ListHistoryResponse`: its entries, each skipped.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistoryEntries {
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<Skipped>,
}

/// A message whose fields are all skipped.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Skipped {}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::pb::diplomacy::v1 as pb;

    #[test]
    fn a_cached_summary_gives_its_name_back() {
        let treaty = pb::TreatySummary {
            name: "treaties/t-1".into(),
            title: "Treaty".into(),
            kind: 2,
            ..Default::default()
        };
        assert_eq!(summary_name(&treaty.encode_to_vec()), "treaties/t-1");
        // A name of 300 bytes has a two-byte length.
        let conflict = pb::ConflictSummary {
            name: "x".repeat(300),
            ongoing: true,
            ..Default::default()
        };
        assert_eq!(summary_name(&conflict.encode_to_vec()), "x".repeat(300));
        let nameless = pb::ConflictSummary {
            title: "War".into(),
            ..Default::default()
        };
        assert_eq!(summary_name(&nameless.encode_to_vec()), "");
        assert_eq!(summary_name(&[]), "");
        assert_eq!(summary_name(&[0x0a, 5, b'a']), "", "cut short");
    }
}
