//! Reference data from Debian's `iso-codes` project (as shipped by the PyPI
//! package `pycountry`, LGPL-2.1-or-later): official names from ISO 3166-1
//! and the dates, at their own precision, on which ISO withdrew the codes of
//! former states (ISO 3166-3).
//!
//! The data stays in the package's own files; this module reads them and
//! turns them into country records that go through the ordinary import path,
//! so nothing LGPL-licensed is compiled into the binary or committed here.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::seed::{builtin_country_records, seed_records};
use crate::convert::date_to_pb;
use crate::domain::PartialDate;
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

#[derive(Deserialize)]
struct Iso3166Part1 {
    #[serde(rename = "3166-1")]
    countries: Vec<CurrentEntry>,
}

#[derive(Deserialize)]
struct CurrentEntry {
    alpha_2: String,
    official_name: Option<String>,
}

#[derive(Deserialize)]
struct Iso3166Part3 {
    #[serde(rename = "3166-3")]
    countries: Vec<FormerEntry>,
}

#[derive(Deserialize)]
struct FormerEntry {
    alpha_2: String,
    alpha_3: String,
    withdrawal_date: Option<String>,
}

fn source() -> pb::Source {
    pb::Source {
        title: "ISO 3166-1 and ISO 3166-3 data of the iso-codes project".into(),
        publisher: "Debian iso-codes, as packaged by the PyPI package pycountry".into(),
        url: "https://salsa.debian.org/iso-codes-team/iso-codes".into(),
        note: "LGPL-2.1-or-later. Official names (ISO 3166-1) and the dates ISO withdrew former codes (ISO 3166-3), at the precision given.".into(),
        ..Default::default()
    }
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("reference", format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            "reference",
            format!("{} is not iso-codes JSON: {e}", path.display()),
        )
    })
}

/// The built-in countries (as the server loads them, seed included),
/// enriched from the iso-codes JSON files in `databases` (`iso3166-1.json`,
/// `iso3166-3.json`). Returns only the records that change.
pub fn iso_codes_records(databases: &Path) -> Result<Vec<Record>> {
    let current: Iso3166Part1 = read(&databases.join("iso3166-1.json"))?;
    let former: Iso3166Part3 = read(&databases.join("iso3166-3.json"))?;
    let official: BTreeMap<String, String> = current
        .countries
        .into_iter()
        .filter_map(|c| c.official_name.map(|name| (c.alpha_2, name)))
        .collect();
    let withdrawn: BTreeMap<(String, String), PartialDate> = former
        .countries
        .into_iter()
        .filter_map(|f| {
            let date = f.withdrawal_date?.parse().ok()?;
            Some(((f.alpha_2, f.alpha_3), date))
        })
        .collect();

    let mut countries: BTreeMap<String, pb::Country> = BTreeMap::new();
    for record in builtin_country_records()?
        .into_iter()
        .chain(seed_records()?)
    {
        if let Record::Country(country) = record {
            countries.insert(country.name.clone(), country);
        }
    }
    let mut changed = Vec::new();
    for (name, mut country) in countries {
        let code = name.trim_start_matches("countries/").to_string();
        let before = country.clone();
        if country.end_date.is_none() {
            if let Some(official_name) = official.get(&code) {
                country.official_name = official_name.clone();
            }
        } else if let Some(date) = withdrawn.get(&(code, country.alpha3.clone())) {
            country.end_date = Some(date_to_pb(*date));
        }
        if country != before {
            country.sources.push(source());
            changed.push(Record::Country(country));
        }
    }
    Ok(changed)
}
