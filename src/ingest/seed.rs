//! The data a new database starts with: every built-in country and, unless
//! asked not to, the seed dataset (`dataset/`).

use super::jsonl::parse_jsonl;
use super::upsert::{check_import, upsert_all};
use crate::domain::countries::builtin_countries;
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;
use crate::store::Store;

/// The South Caucasus facts the service starts with (see `dataset/`).
pub const SEED_JSONL: &str = include_str!("../../dataset/south-caucasus.jsonl");

/// Every built-in country as a record.
pub fn builtin_country_records() -> Vec<Record> {
    let source = pb::Source {
        title: "ISO 3166-1 and ISO 3166-3 country codes".into(),
        publisher: "International Organization for Standardization, as packaged by the rust_iso3166 crate (Apache-2.0)".into(),
        url: "https://www.iso.org/iso-3166-country-codes.html".into(),
        note: "Regions and sub-regions: UN M49, as packaged by the codes-un-m49 crate (MIT). For former states the end date is the year ISO withdrew the code.".into(),
        ..Default::default()
    };
    builtin_countries()
        .into_iter()
        .map(|c| {
            Record::Country(pb::Country {
                name: c.code.name(),
                alpha3: c.alpha3.to_string(),
                numeric_code: u32::from(c.numeric),
                display_name: c.display_name.to_string(),
                region: c.region.unwrap_or_default().to_string(),
                subregion: c.subregion.unwrap_or_default().to_string(),
                end_date: c
                    .withdrawn_year
                    .map(|year| crate::pb::google::r#type::Date {
                        year,
                        month: 0,
                        day: 0,
                    }),
                successors: c.successors.iter().map(|s| s.name()).collect(),
                sources: vec![source.clone()],
                ..Default::default()
            })
        })
        .collect()
}

/// The seed dataset's records.
pub fn seed_records() -> Result<Vec<Record>> {
    parse_jsonl(SEED_JSONL)
        .map(|records| records.into_iter().map(|(_, r)| r).collect())
        .map_err(|errors| {
            Error::DataLoss(format!(
                "the built-in seed dataset is invalid: {}",
                errors[0]
            ))
        })
}

/// Loads the built-in countries and (when `seed` is set) the seed dataset
/// into an empty store, durably. Does nothing if the store has records.
pub async fn initialise(store: &Store, seed: bool) -> Result<usize> {
    if !store.is_empty()? {
        return Ok(0);
    }
    let mut records = builtin_country_records();
    if seed {
        records.extend(seed_records()?);
    }
    let count = records.len();
    // Former states name their successors, which must exist first: every
    // country goes in without successors, then the records in full.
    let bare = records.iter().filter_map(|record| match record {
        Record::Country(country) => Some(Record::Country(pb::Country {
            successors: Vec::new(),
            ..country.clone()
        })),
        _ => None,
    });
    let checked = bare
        .chain(records.iter().cloned())
        .map(|record| check_import(&record).map(|(collection, id)| (collection, id, record)))
        .collect::<Result<Vec<_>>>()?;
    upsert_all(store, checked).await?;
    Ok(count)
}
