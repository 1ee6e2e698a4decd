//! Who recognises a state or an actor on a day: the `v/` entries of the
//! recognised, read once in recognizer order.

use std::ops::Bound;

use prost::Message;
use time::Date;

use super::keys;
use super::{corrupt, KvStore, Store};
use crate::domain::standing::StandingFact;
use crate::domain::CountryCode;
use crate::error::Result;
use crate::wire::formats::StandingValue;

impl Store {
    /// The recognitions of `subject` (`countries/AM`, `actors/…`) that
    /// hold on `day`: for each recognizing state after `after` with a fact
    /// dated on or before it, in code order, the last such fact. Reads the
    /// subject's `v/` entries once.
    pub fn recognitions_on(
        &self,
        subject: &str,
        day: Date,
        after: Option<CountryCode>,
    ) -> impl Iterator<Item = Result<(CountryCode, StandingFact)>> + '_ {
        let prefix = keys::recognitions_of(subject);
        let lower = match after {
            // Past every key of that recognizer: after `{CODE}/` come a
            // date's digits, all below `~`.
            Some(code) => Bound::Excluded(keys::join(&prefix, &[code.as_str(), "~"])),
            None => Bound::Included(prefix.clone()),
        };
        let upper = Bound::Excluded(keys::prefix_end(&prefix));
        let skip = prefix.len();
        // Each entry is read and decoded once.
        let mut entries = self
            .kv
            .scan(lower, upper, false)
            .map(move |entry| {
                let (key, value) = entry?;
                recognition_entry(&key[skip..], &value)
                    .ok_or_else(|| corrupt("recognition index", String::from_utf8_lossy(&key)))
            })
            .peekable();
        std::iter::from_fn(move || loop {
            let (code, fact) = match entries.next()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            // The recognizer's entries are in date order: the last dated
            // by the day holds.
            let mut holding = fact.dated_by(day).then_some(fact);
            while let Some(Ok((next_code, _))) = entries.peek() {
                if *next_code != code {
                    break;
                }
                if let Some(Ok((_, next))) = entries.next() {
                    if next.dated_by(day) {
                        holding = Some(next);
                    }
                }
            }
            if let Some(fact) = holding {
                return Some(Ok((code, fact)));
            }
        })
    }
}

/// `{RECOGNIZER}/{date}/{record}` and its value → the recognizer and fact.
fn recognition_entry(rest: &[u8], value: &[u8]) -> Option<(CountryCode, StandingFact)> {
    let rest = std::str::from_utf8(rest).ok()?;
    let (code, rest) = rest.split_once('/')?;
    let (_, record) = rest.split_once('/')?;
    let value = StandingValue::decode(value).ok()?;
    Some((
        CountryCode::parse(code)?,
        StandingFact {
            date: crate::convert::stored_date(value.date.as_ref())?,
            value: value.value,
            record: record.to_owned(),
        },
    ))
}
