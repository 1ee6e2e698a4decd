//! Messages the server sends as stored bytes instead of decoding and
//! encoding them again.
//!
//! A history entry is kept in the store as the encoding of
//! `diplomacy.v1.HistoryEntry`, which is what the client receives, and the
//! relation cache keeps each treaty and conflict summary, and each
//! mediation as the BASIC view lists it, as its encoding.
//! `RelationService`'s server code is generated a second time (`build.rs`)
//! with `HistoryEntry`, `ListHistoryResponse`, `Relation` and
//! `ListRelationsResponse` mapped to the types below, so a response is the
//! stored bytes copied into it (BENCHMARKS.md: what that saved). The wire
//! format is the same: `super::drift` fills every field of each message
//! from the descriptor and reads it back through these types.

use bytes::Bytes;

use super::RawMessage;
use crate::pb::diplomacy::v1 as pb;
use crate::pb::google::r#type::Date;

/// `diplomacy.v1.ListHistoryResponse` with its entries as stored. Field
/// numbers and types must match `proto/diplomacy/v1/relation.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListHistoryResponse {
    /// The page's entries, in order.
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<RawMessage>,
    /// Token for the next page; empty when this page is the last.
    #[prost(string, tag = "2")]
    pub next_page_token: String,
}

/// `diplomacy.v1.Relation` with its listed treaties, conflicts and
/// mediations as the relation cache keeps them. Field numbers and types must match
/// `proto/diplomacy/v1/relation.proto`, whose comments say what each holds;
/// the repeated names are `bytes` here (the same encoding as `string`), so
/// that they can be static country names and pieces of the listed
/// summaries rather than a string allocated each. The server makes them
/// from UTF-8 only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Relation {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(bytes = "bytes", repeated, tag = "2")]
    pub countries: Vec<Bytes>,
    #[prost(message, optional, tag = "3")]
    pub as_of: Option<Date>,
    #[prost(enumeration = "pb::DiplomaticStatus", tag = "4")]
    pub diplomatic_status: i32,
    #[prost(message, optional, tag = "5")]
    pub status_since: Option<Date>,
    #[prost(string, tag = "6")]
    pub status_record: String,
    /// Encoded `TreatySummary` messages.
    #[prost(message, repeated, tag = "7")]
    pub treaties_in_force: Vec<RawMessage>,
    #[prost(bool, tag = "8")]
    pub allied: bool,
    /// Encoded `ConflictSummary` messages.
    #[prost(message, repeated, tag = "9")]
    pub armed_conflicts: Vec<RawMessage>,
    #[prost(int32, tag = "10")]
    pub meeting_count: i32,
    #[prost(message, optional, tag = "11")]
    pub latest_meeting: Option<pb::MeetingSummary>,
    #[prost(bytes = "bytes", repeated, tag = "12")]
    pub mediators: Vec<Bytes>,
    #[prost(bytes = "bytes", repeated, tag = "13")]
    pub source_records: Vec<Bytes>,
    #[prost(int32, tag = "14")]
    pub treaties_in_force_count: i32,
    #[prost(int32, tag = "15")]
    pub armed_conflicts_count: i32,
    #[prost(bytes = "bytes", repeated, tag = "16")]
    pub nonexistent_countries: Vec<Bytes>,
    #[prost(message, repeated, tag = "17")]
    pub answered_for: Vec<pb::ContinuedState>,
    #[prost(bytes = "bytes", repeated, tag = "18")]
    pub changed_within: Vec<Bytes>,
    #[prost(bytes = "bytes", repeated, tag = "19")]
    pub uncertain_records: Vec<Bytes>,
    #[prost(message, repeated, tag = "20")]
    pub treaties_not_in_force: Vec<pb::TreatyNotInForce>,
    #[prost(int32, tag = "21")]
    pub treaties_not_in_force_count: i32,
    /// Encoded `Mediation` messages.
    #[prost(message, repeated, tag = "22")]
    pub mediations: Vec<RawMessage>,
    #[prost(int32, tag = "23")]
    pub mediations_count: i32,
    #[prost(message, repeated, tag = "24")]
    pub recognitions: Vec<pb::Recognition>,
    #[prost(message, repeated, tag = "25")]
    pub representations: Vec<pb::Representation>,
    #[prost(message, optional, tag = "26")]
    pub border: Option<pb::Border>,
}

/// `diplomacy.v1.ListRelationsResponse` over the `Relation` above.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListRelationsResponse {
    /// The page's relations, in partner code order.
    #[prost(message, repeated, tag = "1")]
    pub relations: Vec<Relation>,
    /// Token for the next page; empty when this page is the last.
    #[prost(string, tag = "2")]
    pub next_page_token: String,
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn entry() -> pb::HistoryEntry {
        pb::HistoryEntry {
            date: Some(Date {
                year: 2020,
                month: 11,
                day: 10,
            }),
            kind: pb::HistoryEntryKind::TreatySigned as i32,
            record: "treaties/2020-ceasefire".into(),
            title: "Trilateral ceasefire statement".into(),
            summary: "Ends the war".into(),
            countries: vec!["countries/AM".into(), "countries/AZ".into()],
            mediators: vec!["countries/RU".into()],
            treaty_kind: 3,
            sources: vec![pb::Source {
                title: "Kremlin".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_page_of_stored_entries_reads_as_the_generated_response() {
        let entries = vec![entry(), pb::HistoryEntry::default(), entry()];
        let raw = ListHistoryResponse {
            entries: entries
                .iter()
                .map(|e| RawMessage(e.encode_to_vec().into()))
                .collect(),
            next_page_token: "next".into(),
        };
        let read = pb::ListHistoryResponse::decode(raw.encode_to_vec().as_slice())
            .expect("the generated message reads it");
        assert_eq!(
            read,
            pb::ListHistoryResponse {
                entries,
                next_page_token: "next".into(),
            }
        );
    }

    /// Every wire type proto3 uses, for fields a later entry might add.
    #[derive(Clone, PartialEq, prost::Message)]
    struct EveryWireType {
        #[prost(int64, tag = "1")]
        varint: i64,
        #[prost(fixed32, tag = "2")]
        fixed32: u32,
        #[prost(double, tag = "3")]
        fixed64: f64,
        #[prost(string, tag = "4")]
        delimited: String,
    }

    #[test]
    fn a_raw_entry_decodes_back_to_the_same_bytes() {
        let bytes = entry().encode_to_vec();
        let raw = RawMessage::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(raw.0, bytes);
        assert!(RawMessage::decode(&bytes[..bytes.len() - 1]).is_err());

        let bytes = EveryWireType {
            varint: -5,
            fixed32: 7,
            fixed64: 2.5,
            delimited: "text".into(),
        }
        .encode_to_vec();
        let raw = RawMessage::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(raw.0, bytes);
    }

    fn day(year: i32, month: i32, day: i32) -> Option<Date> {
        Some(Date { year, month, day })
    }

    /// A relation as the server makes one (`super::drift` fills every
    /// field from the descriptor; this one has realistic values).
    fn relation() -> pb::Relation {
        pb::Relation {
            name: "countries/AM/relations/TR".into(),
            countries: vec!["countries/AM".into(), "countries/TR".into()],
            as_of: day(2009, 10, 10),
            diplomatic_status: pb::DiplomaticStatus::None as i32,
            status_since: day(1993, 0, 0),
            status_record: "events/1993-border".into(),
            treaties_in_force: vec![
                pb::TreatySummary {
                    name: "treaties/zurich".into(),
                    title: "Zurich Protocols".into(),
                    kind: 2,
                    signed_date: day(2009, 10, 10),
                    entry_into_force_date: None,
                },
                pb::TreatySummary {
                    name: "treaties/kars".into(),
                    ..Default::default()
                },
            ],
            allied: true,
            armed_conflicts: vec![pb::ConflictSummary {
                name: "events/war".into(),
                title: "War".into(),
                start_date: day(1920, 9, 0),
                end_date: day(1920, 12, 2),
                ongoing: true,
            }],
            meeting_count: 7,
            latest_meeting: Some(pb::MeetingSummary {
                name: "meetings/m".into(),
                title: "Talks".into(),
                start_date: day(2022, 2, 0),
                end_date: day(2022, 2, 3),
            }),
            mediators: vec!["countries/CH".into()],
            source_records: vec!["events/1993-border".into(), "treaties/zurich".into()],
            treaties_in_force_count: 12,
            nonexistent_countries: vec!["countries/SU".into()],
            changed_within: vec!["events/f06".into()],
            uncertain_records: vec!["events/f03".into()],
            treaties_not_in_force: vec![pb::TreatyNotInForce {
                treaty: Some(pb::TreatySummary {
                    name: "treaties/zurich".into(),
                    ..Default::default()
                }),
                standing: pb::TreatyNotInForceStanding::Void as i32,
                since: day(2018, 3, 1),
            }],
            treaties_not_in_force_count: 1,
            mediations: vec![pb::Mediation {
                mediator: "actors/osce-minsk-group".into(),
                role: pb::ParticipantRole::Mediator as i32,
                start_date: Some(Date {
                    year: 1992,
                    month: 0,
                    day: 0,
                }),
                records: vec!["events/x01".into()],
                ongoing: true,
                ..Default::default()
            }],
            mediations_count: 1,
            recognitions: vec![pb::Recognition {
                recognizer: "countries/AM".into(),
                recognized: "countries/AZ".into(),
                standing: pb::RecognitionStanding::Recognized as i32,
                since: Some(Date {
                    year: 1991,
                    month: 0,
                    day: 0,
                }),
                record: "events/r1".into(),
            }],
            representations: vec![pb::Representation {
                sending: "countries/AZ".into(),
                receiving: "countries/AM".into(),
                level: pb::RepresentationLevel::InterestsSection as i32,
                since: None,
                record: "events/r2".into(),
            }],
            border: Some(pb::Border {
                status: pb::BorderStatus::Closed as i32,
                since: None,
                record: "events/f04".into(),
            }),
            answered_for: vec![pb::ContinuedState {
                asked: "countries/RU".into(),
                answered: "countries/SU".into(),
                continuation_date: day(1991, 12, 26),
            }],
            ..Default::default()
        }
    }

    fn names(names: &[String]) -> Vec<Bytes> {
        names.iter().map(|n| Bytes::from(n.clone())).collect()
    }

    #[test]
    fn a_relation_with_stored_summaries_reads_as_the_generated_message() {
        let expected = relation();
        let sent = Relation {
            name: expected.name.clone(),
            countries: names(&expected.countries),
            as_of: expected.as_of,
            diplomatic_status: expected.diplomatic_status,
            status_since: expected.status_since,
            status_record: expected.status_record.clone(),
            treaties_in_force: expected
                .treaties_in_force
                .iter()
                .map(|t| RawMessage(t.encode_to_vec().into()))
                .collect(),
            allied: expected.allied,
            armed_conflicts: expected
                .armed_conflicts
                .iter()
                .map(|c| RawMessage(c.encode_to_vec().into()))
                .collect(),
            meeting_count: expected.meeting_count,
            latest_meeting: expected.latest_meeting.clone(),
            mediators: names(&expected.mediators),
            source_records: names(&expected.source_records),
            treaties_in_force_count: expected.treaties_in_force_count,
            armed_conflicts_count: expected.armed_conflicts_count,
            nonexistent_countries: names(&expected.nonexistent_countries),
            answered_for: expected.answered_for.clone(),
            changed_within: names(&expected.changed_within),
            uncertain_records: names(&expected.uncertain_records),
            treaties_not_in_force: expected.treaties_not_in_force.clone(),
            treaties_not_in_force_count: expected.treaties_not_in_force_count,
            mediations: expected
                .mediations
                .iter()
                .map(|m| RawMessage(m.encode_to_vec().into()))
                .collect(),
            mediations_count: expected.mediations_count,
            recognitions: expected.recognitions.clone(),
            representations: expected.representations.clone(),
            border: expected.border.clone(),
        };
        let page = ListRelationsResponse {
            relations: vec![sent.clone(), sent.clone()],
            next_page_token: "next".into(),
        };
        assert_eq!(
            pb::Relation::decode(sent.encode_to_vec().as_slice()).expect("reads"),
            expected
        );
        assert_eq!(
            pb::ListRelationsResponse::decode(page.encode_to_vec().as_slice()).expect("reads"),
            pb::ListRelationsResponse {
                relations: vec![expected.clone(), expected],
                next_page_token: "next".into(),
            }
        );
    }
}
