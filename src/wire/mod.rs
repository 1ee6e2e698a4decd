//! Every protobuf type written by hand, with its field numbers, in one
//! place: the fast path that sends stored bytes as they are (`responses`,
//! `raw`), the readers that decode a few fields of a message (`partial`),
//! and two formats of our own with no `.proto` (`formats`: the page token
//! and index values). Everything else uses the types generated from
//! `proto/`.
//!
//! They are checked by construction (`drift`): every field of each
//! mirrored message is filled from the API's descriptor, encoded, read
//! through the type here and compared with what the generated type reads,
//! so a field added to the `.proto` or a changed type fails a test until
//! the type here follows it (or the field is named as left out on purpose).

pub mod formats;
pub mod partial;
mod raw;
mod responses;

#[cfg(test)]
mod drift;

pub use raw::RawMessage;
pub use responses::{ListHistoryResponse, ListRelationsResponse, Relation};
