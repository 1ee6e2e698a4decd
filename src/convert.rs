//! Conversions between wire types and domain types that several layers share.

use crate::domain::{DateError, PartialDate};
use crate::pb::google::r#type::Date;

/// A wire date as a domain date, checked.
pub fn date_from_pb(date: &Date) -> Result<PartialDate, DateError> {
    PartialDate::from_parts(
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    )
}

/// An optional wire date as a domain date; stored records were validated on
/// write, so an unreadable one is treated as absent rather than failing a read.
pub fn stored_date(date: Option<&Date>) -> Option<PartialDate> {
    date.and_then(|d| date_from_pb(d).ok())
}

/// A domain date on the wire, at its own precision.
pub fn date_to_pb(date: PartialDate) -> Date {
    Date {
        year: date.year(),
        month: i32::from(date.month()),
        day: i32::from(date.day()),
    }
}

/// The current time as a protobuf timestamp.
pub fn now_timestamp() -> prost_types::Timestamp {
    prost_types::Timestamp::from(std::time::SystemTime::now())
}
