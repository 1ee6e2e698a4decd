//! Conversions between wire types and domain types that several layers share.

use crate::domain::mediation::Mediation;
use crate::domain::{DateError, PartialDate};
use crate::pb::diplomacy::v1 as pb;
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

/// A count on the wire (`int32`): past `i32::MAX`, sent as that.
pub fn count_to_pb(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A mediation on the wire.
pub fn mediation_to_pb(m: Mediation) -> pb::Mediation {
    pb::Mediation {
        mediator: m.mediator,
        role: m.role,
        start_date: Some(date_to_pb(m.start)),
        end_date: m.end.map(date_to_pb),
        ongoing: m.end.is_none(),
        records: m.records,
        records_count: count_to_pb(m.records_count),
    }
}

/// The current time as a protobuf timestamp.
pub fn now_timestamp() -> prost_types::Timestamp {
    prost_types::Timestamp::from(std::time::SystemTime::now())
}
