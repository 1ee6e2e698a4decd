//! Messages the server sends as stored bytes instead of decoding and
//! encoding them again.
//!
//! A history entry is kept in the store as the encoding of
//! `diplomacy.v1.HistoryEntry`, which is what the client receives. The
//! history calls' server code is generated a second time (`build.rs`) with
//! `HistoryEntry` and `ListHistoryResponse` mapped to the types below, so a
//! page is the stored entries copied into the response. Decoding every entry
//! into structs and encoding it again was a fifth of a history page's server
//! time. The wire format is the same: a test below decodes what these types
//! encode with the generated messages.

use bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::DecodeError;

/// A `diplomacy.v1.HistoryEntry`, kept as its encoding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawHistoryEntry(pub Vec<u8>);

impl prost::Message for RawHistoryEntry {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    /// Keeps each field as it came, re-encoded field by field: the server
    /// never decodes these, but a `Message` must. Groups (absent from proto3)
    /// are skipped, as generated messages skip unknown fields.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let out = &mut self.0;
        match wire_type {
            WireType::Varint => {
                let value = encoding::decode_varint(buf)?;
                encoding::encode_key(tag, wire_type, out);
                encoding::encode_varint(value, out);
            }
            WireType::LengthDelimited => {
                let mut value = Vec::new();
                encoding::bytes::merge(wire_type, &mut value, buf, ctx)?;
                encoding::bytes::encode(tag, &value, out);
            }
            WireType::ThirtyTwoBit => {
                let mut value = 0u32;
                encoding::fixed32::merge(wire_type, &mut value, buf, ctx)?;
                encoding::fixed32::encode(tag, &value, out);
            }
            WireType::SixtyFourBit => {
                let mut value = 0u64;
                encoding::fixed64::merge(wire_type, &mut value, buf, ctx)?;
                encoding::fixed64::encode(tag, &value, out);
            }
            WireType::StartGroup | WireType::EndGroup => {
                encoding::skip_field(wire_type, tag, buf, ctx)?;
            }
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// `diplomacy.v1.ListHistoryResponse` with its entries as stored. Field
/// numbers and types must match `proto/diplomacy/v1/relation.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListHistoryResponse {
    /// The page's entries, in order.
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<RawHistoryEntry>,
    /// Token for the next page; empty when this page is the last.
    #[prost(string, tag = "2")]
    pub next_page_token: String,
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::pb::diplomacy::v1 as pb;
    use crate::pb::google::r#type::Date;

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
                .map(|e| RawHistoryEntry(e.encode_to_vec()))
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
        let raw = RawHistoryEntry::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(raw.0, bytes);
        assert!(RawHistoryEntry::decode(&bytes[..bytes.len() - 1]).is_err());

        let bytes = EveryWireType {
            varint: -5,
            fixed32: 7,
            fixed64: 2.5,
            delimited: "text".into(),
        }
        .encode_to_vec();
        let raw = RawHistoryEntry::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(raw.0, bytes);
    }
}
