//! Formats of our own that have no `.proto`: the page token clients hold
//! and the values of two index families. Their field numbers are a stored
//! format (index values: change them only with a schema version) and a
//! token callers keep between calls (never reuse a number).

use prost::Message;

use crate::pb::diplomacy::v1 as pb;
use crate::pb::google::r#type::Date;

/// A page token before base64url: where the previous page stopped, and the
/// fingerprint of the query it belongs to (`api::page`).
#[derive(Clone, PartialEq, Message)]
pub struct PageToken {
    #[prost(uint64, tag = "1")]
    pub fingerprint: u64,
    #[prost(bytes = "vec", tag = "2")]
    pub position: Vec<u8>,
}

/// A status-setting fact of a pair, as stored under `s/`.
#[derive(Clone, PartialEq, Message)]
pub struct StatusValue {
    #[prost(int32, tag = "1")]
    pub change: i32,
    #[prost(message, optional, tag = "2")]
    pub date: Option<Date>,
}

/// A treaty between a pair from its signature or initialling, as stored
/// under `u/` (keyed by the earlier of the two): what a relation needs to
/// say where it stands on a day when it is not in force.
#[derive(Clone, PartialEq, Message)]
pub struct PendingValue {
    #[prost(message, optional, tag = "1")]
    pub summary: Option<pb::TreatySummary>,
    /// When it entered into force for the pair, if it did.
    #[prost(message, optional, tag = "2")]
    pub from: Option<Date>,
    #[prost(message, optional, tag = "3")]
    pub signed: Option<Date>,
    #[prost(message, optional, tag = "4")]
    pub void: Option<Date>,
    #[prost(bool, tag = "5")]
    pub lapsed: bool,
    #[prost(bool, tag = "6")]
    pub non_binding: bool,
}

/// A treaty between a pair, as stored under `t/`.
#[derive(Clone, PartialEq, Message)]
pub struct TreatyValue {
    #[prost(message, optional, tag = "1")]
    pub summary: Option<pb::TreatySummary>,
    #[prost(message, optional, tag = "2")]
    pub from: Option<Date>,
    #[prost(message, optional, tag = "3")]
    pub until: Option<Date>,
    #[prost(bool, tag = "4")]
    pub allied: bool,
}

/// A recognition, representation or border fact, as stored under `e/` and
/// `v/`: the API enum number the aspect answers with, and its date.
#[derive(Clone, PartialEq, Message)]
pub struct StandingValue {
    #[prost(int32, tag = "1")]
    pub value: i32,
    #[prost(message, optional, tag = "2")]
    pub date: Option<Date>,
}
