//! A country record's existence and continuation links, as the domain rules
//! read them.

use crate::convert::date_from_pb;
use crate::domain::statehood::{StatePeriod, Statehood};
use crate::domain::CountryCode;
use crate::pb::diplomacy::v1 as pb;

/// What `country` says about itself in time. Stored records were checked
/// on write; a part that does not read (never expected) is left out rather
/// than failing a query.
pub fn statehood_of(country: &pb::Country) -> Statehood {
    let date = |d: Option<&crate::pb::google::r#type::Date>| d.and_then(|d| date_from_pb(d).ok());
    Statehood {
        periods: periods_of(&country.existence),
        continues: country
            .predecessors
            .iter()
            .filter(|link| link.kind == pb::SuccessionKind::Continuation as i32)
            .filter_map(|link| {
                Some((
                    CountryCode::from_name(&link.country)?,
                    date(link.date.as_ref())?,
                ))
            })
            .collect(),
    }
}

/// A country's or an actor's `existence` as periods.
pub fn periods_of(existence: &[pb::StatePeriod]) -> Vec<StatePeriod> {
    let date = |d: Option<&crate::pb::google::r#type::Date>| d.and_then(|d| date_from_pb(d).ok());
    existence
        .iter()
        .map(|period| StatePeriod {
            start: date(period.start_date.as_ref()),
            end: date(period.end_date.as_ref()),
        })
        .collect()
}

/// Whether `country` is a state of today: its last period of existence is
/// open-ended, or, where existence is not recorded, it has no end date.
pub fn is_current(country: &pb::Country) -> bool {
    match country.existence.last() {
        Some(period) => period.end_date.is_none(),
        None => country.end_date.is_none(),
    }
}

/// The links of the countries in `successors` that name `code` as their
/// predecessor, seen from `code`: each successor with its kind and date.
pub fn successor_links(code: CountryCode, successors: &[pb::Country]) -> Vec<pb::Succession> {
    let name = code.name();
    successors
        .iter()
        .flat_map(|successor| {
            successor
                .predecessors
                .iter()
                .filter(|link| link.country == name)
                .map(|link| pb::Succession {
                    country: successor.name.clone(),
                    kind: link.kind,
                    date: link.date,
                })
        })
        .collect()
}
