//! The bytes of cached entries: what a meeting keeps beyond its key, and the
//! parts of a key's rest (date, record, mediator).

use prost::Message;

use crate::convert::date_to_pb;
use crate::domain::{CountryCode, PartialDate};
use crate::error::Result;
use crate::pb::diplomacy::v1 as pb;
use crate::store::corrupt;

/// What a cached meeting keeps beyond its key: its summary without the name
/// and first day, which the key holds (`{date}/{record}`), encoded. A
/// relation then reads no meeting from the database; kept whole, the
/// summaries would take about twice the room.
pub(super) fn meeting_rest(value: &[u8]) -> Result<Box<[u8]>> {
    let mut summary = pb::MeetingSummary::decode(value).map_err(|e| corrupt("meeting index", e))?;
    summary.name.clear();
    summary.start_date = None;
    Ok(summary.encode_to_vec().into_boxed_slice())
}

/// The summary of a cached meeting: its key rest and what `meeting_rest`
/// kept, put back together.
pub(super) fn meeting_summary(key: &[u8], kept: &[u8]) -> Result<pb::MeetingSummary> {
    let damaged = || corrupt("meeting index", String::from_utf8_lossy(key));
    let (date, name) = date_and_record(key).ok_or_else(damaged)?;
    let date = PartialDate::from_sort_key(date).ok_or_else(damaged)?;
    let name = std::str::from_utf8(name).map_err(|_| damaged())?;
    let mut summary = pb::MeetingSummary::decode(kept).map_err(|e| corrupt("meeting index", e))?;
    summary.name = name.to_string();
    summary.start_date = Some(date_to_pb(date));
    Ok(summary)
}

/// `AM/19910000d/meetings/x` → `AM` and `19910000d/meetings/x`.
pub(super) fn mediator_of(rest: &[u8]) -> Result<(CountryCode, &[u8])> {
    let end = rest.iter().position(|b| *b == b'/');
    let code = end
        .and_then(|end| std::str::from_utf8(&rest[..end]).ok())
        .and_then(CountryCode::parse);
    match (code, end.and_then(|end| rest.get(end + 1..))) {
        (Some(code), Some(rest)) => Ok((code, rest)),
        _ => Err(corrupt("mediator index", String::from_utf8_lossy(rest))),
    }
}

/// `19910000d/events/f07` → `19910000d` and `events/f07`: the key rest of
/// a status fact or meeting.
fn date_and_record(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = rest.iter().position(|&b| b == b'/')?;
    Some((&rest[..at], &rest[at + 1..]))
}

/// `19910000d/events/f07` → `events/f07`.
pub(super) fn record_of_rest(rest: &[u8]) -> String {
    let record = date_and_record(rest).map_or(rest, |(_, record)| record);
    String::from_utf8_lossy(record).into_owned()
}
