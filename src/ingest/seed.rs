//! The data a new database starts with: every built-in country and, unless
//! asked not to, the seed dataset (`dataset/`).

use std::collections::BTreeMap;

use super::cow_states::{cow_source, memberships, merge_memberships, read_cow_states};
use super::jsonl::parse_jsonl;
use super::states::{add_source, apply_row, code_pieces, state_rows, COW_STATES_CSV};
use super::upsert::{check_import, upsert_op, BATCH};
use crate::domain::countries::builtin_countries;
use crate::domain::CountryCode;
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;
use crate::store::{KvStore, Store, WriteOp};

/// The South Caucasus facts the service starts with (see `dataset/`).
pub const SEED_JSONL: &str = include_str!("../../dataset/south-caucasus.jsonl");

/// Every built-in country as a record: ISO 3166-1 and 3166-3, the states
/// of the built-in state table ISO does not list, each with its existence,
/// predecessors and COW memberships.
pub fn builtin_country_records() -> Result<Vec<Record>> {
    let iso_source = pb::Source {
        title: "ISO 3166-1 and ISO 3166-3 country codes".into(),
        publisher: "International Organization for Standardization, as packaged by the rust_iso3166 crate (Apache-2.0)".into(),
        url: "https://www.iso.org/iso-3166-country-codes.html".into(),
        note: "Regions and sub-regions: UN M49, as packaged by the codes-un-m49 crate (MIT). For former states the end date is the year ISO withdrew the code.".into(),
        ..Default::default()
    };
    let mut countries: BTreeMap<CountryCode, pb::Country> = builtin_countries()
        .into_iter()
        .map(|c| {
            let country = pb::Country {
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
                iso3166_3_code: c.iso3166_3.unwrap_or_default().to_string(),
                sources: vec![iso_source.clone()],
                ..Default::default()
            };
            (c.code, country)
        })
        .collect();
    let rows = state_rows()?;
    for row in &rows {
        let country = countries.entry(row.id).or_insert_with(|| pb::Country {
            name: row.id.name(),
            ..Default::default()
        });
        apply_row(country, row);
    }
    let cow = read_cow_states(COW_STATES_CSV.as_bytes())?;
    for (code, memberships) in memberships(&cow, &code_pieces(&rows))? {
        let country = countries.entry(code).or_insert_with(|| pb::Country {
            name: code.name(),
            display_name: memberships[0].state_name.clone(),
            ..Default::default()
        });
        merge_memberships(country, memberships);
        add_source(country, cow_source("2016"));
    }
    Ok(countries.into_values().map(Record::Country).collect())
}

/// The built-in countries as a new database with the seed dataset holds
/// them (the seed's own country records in place of the built-in ones, in
/// time what the built-in records say): what `diplomacy reference states`
/// writes.
pub fn served_country_records() -> Result<Vec<Record>> {
    let mut records = builtin_country_records()?;
    for record in seed_records()? {
        if let Record::Country(country) = record {
            upgrade_builtin(&mut records, country);
        }
    }
    Ok(records)
}

/// Puts a seed dataset's country in place of the built-in one of the same
/// name, keeping what the seed does not say in time (existence,
/// predecessors, COW memberships) from the built-in record.
fn upgrade_builtin(records: &mut Vec<Record>, seed: pb::Country) {
    let builtin = records.iter_mut().find_map(|record| match record {
        Record::Country(c) if c.name == seed.name => Some(c),
        _ => None,
    });
    let Some(builtin) = builtin else {
        records.push(Record::Country(seed));
        return;
    };
    let mut merged = seed;
    if merged.existence.is_empty() {
        merged.existence = std::mem::take(&mut builtin.existence);
    }
    if merged.predecessors.is_empty() {
        merged.predecessors = std::mem::take(&mut builtin.predecessors);
    }
    if merged.cow_memberships.is_empty() {
        merged.cow_memberships = std::mem::take(&mut builtin.cow_memberships);
    }
    for source in std::mem::take(&mut builtin.sources) {
        add_source(&mut merged, source);
    }
    *builtin = merged;
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
pub async fn initialise<K: KvStore>(store: &Store<K>, seed: bool) -> Result<usize> {
    if !store.is_empty()? {
        return Ok(0);
    }
    load_builtin(store, seed).await
}

/// Upserts the built-in countries (and the seed dataset) whatever the store
/// holds; running it again changes nothing. Replicas starting together on
/// an empty etcd may all run it (`replica`): the first writes, the others
/// find the same records.
pub async fn load_builtin<K: KvStore>(store: &Store<K>, seed: bool) -> Result<usize> {
    let mut records = builtin_country_records()?;
    if seed {
        for record in seed_records()? {
            match record {
                Record::Country(country) => upgrade_builtin(&mut records, country),
                other => records.push(other),
            }
        }
    }
    let count = records.len();
    // Former states name their successors, which must exist first: every
    // country goes in without successors (where it is not in yet), then the
    // records in full.
    let mut ops = Vec::with_capacity(count * 2);
    for record in &records {
        if let Record::Country(country) = record {
            let bare = Record::Country(pb::Country {
                successors: Vec::new(),
                predecessors: Vec::new(),
                ..country.clone()
            });
            let (collection, id) = check_import(&bare)?;
            let WriteOp {
                collection,
                id,
                compute,
                revision,
            } = upsert_op(collection, id, bare);
            ops.push(WriteOp {
                collection,
                id,
                revision,
                compute: Box::new(move |old| match old {
                    Some(stored) => Ok(Some(stored.clone())),
                    None => compute(None),
                }),
            });
        }
    }
    for record in records {
        let (collection, id) = check_import(&record)?;
        ops.push(upsert_op(collection, id, record));
    }
    while !ops.is_empty() {
        let rest = ops.split_off(ops.len().min(BATCH));
        for outcome in store.write(ops, true).await? {
            outcome?;
        }
        ops = rest;
    }
    Ok(count)
}
