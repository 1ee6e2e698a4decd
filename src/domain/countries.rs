//! The built-in country list, from maintained crates rather than a hand-typed
//! table: ISO 3166-1 and ISO 3166-3 from `rust_iso3166` (Apache-2.0), UN M49
//! regions from `codes-un-m49` (MIT).

use std::collections::BTreeMap;
use std::str::FromStr;

use codes_un_m49::RegionClassificationCode;

use super::names::CountryCode;

/// One built-in country, current or former.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltinCountry {
    pub code: CountryCode,
    pub alpha3: &'static str,
    pub numeric: u16,
    pub display_name: &'static str,
    pub region: Option<&'static str>,
    pub subregion: Option<&'static str>,
    /// For former states: the year ISO withdrew the code.
    pub withdrawn_year: Option<i32>,
    /// For former states: the ISO 3166-3 four-letter code, e.g. `SUHH`.
    pub iso3166_3: Option<&'static str>,
    pub successors: Vec<CountryCode>,
}

const M49_WORLD: u16 = 1;

/// Every current ISO 3166-1 country, then the ISO 3166-3 former states, in
/// code order. A former state keeps its alpha-2 code as its id while no
/// other state holds it; one whose code went to another state (GE: the
/// Gilbert and Ellice Islands, now Georgia) or to a later former state (CS:
/// Czechoslovakia, then Serbia and Montenegro) has its ISO 3166-3 code as
/// its id (`CSHH`).
pub fn builtin_countries() -> Vec<BuiltinCountry> {
    let mut by_code: BTreeMap<CountryCode, BuiltinCountry> = BTreeMap::new();
    for country in rust_iso3166::ALL {
        let Some(code) = CountryCode::parse(country.alpha2) else {
            continue;
        };
        let (region, subregion) = m49_region(country.numeric);
        by_code.insert(
            code,
            BuiltinCountry {
                code,
                alpha3: country.alpha3,
                numeric: country.numeric,
                display_name: country.name,
                region,
                subregion,
                withdrawn_year: None,
                iso3166_3: None,
                successors: Vec::new(),
            },
        );
    }
    let mut former: Vec<_> = rust_iso3166::iso3166_3::ALL.iter().collect();
    former.sort_by_key(|f| f.validity.last().copied().unwrap_or_default());
    for state in former {
        let Some(alpha2) = CountryCode::parse(state.former.alpha2) else {
            continue;
        };
        // Sorted by the year the code was withdrawn: a later holder of the
        // same alpha-2 code replaces an earlier one, which moves to its
        // four-letter code.
        let code = match by_code.get(&alpha2) {
            Some(current) if current.withdrawn_year.is_none() => CountryCode::parse(state.code),
            Some(earlier) => {
                let earlier = earlier.clone();
                if let Some(four) = earlier.iso3166_3.and_then(CountryCode::parse) {
                    by_code.insert(
                        four,
                        BuiltinCountry {
                            code: four,
                            ..earlier
                        },
                    );
                }
                Some(alpha2)
            }
            None => Some(alpha2),
        };
        let Some(code) = code else {
            continue;
        };
        by_code.insert(
            code,
            BuiltinCountry {
                code,
                alpha3: state.former.alpha3,
                numeric: state.former.numeric,
                display_name: state.name,
                region: None,
                subregion: None,
                withdrawn_year: state.validity.last().copied(),
                iso3166_3: Some(state.code),
                successors: state
                    .new_countries
                    .iter()
                    .filter_map(|c| CountryCode::parse(c.alpha2))
                    .filter(|c| *c != alpha2)
                    .collect(),
            },
        );
    }
    by_code.into_values().collect()
}

/// The UN M49 region (top level below "World") and sub-region of a country,
/// looked up by its numeric code, which ISO 3166-1 shares with M49.
fn m49_region(numeric: u16) -> (Option<&'static str>, Option<&'static str>) {
    let Ok(area) = RegionClassificationCode::from_str(&format!("{numeric:03}")) else {
        return (None, None);
    };
    let mut chain = Vec::new();
    let mut next = area.parent_code();
    while let Some(parent) = next {
        if parent.code() == M49_WORLD {
            break;
        }
        chain.push(parent);
        next = parent.parent_code();
    }
    let region = chain.last().map(|r| r.name());
    let subregion = chain.first().map(|r| r.name());
    (region, subregion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(code: &str) -> BuiltinCountry {
        let code = CountryCode::parse(code).unwrap();
        builtin_countries()
            .into_iter()
            .find(|c| c.code == code)
            .unwrap()
    }

    #[test]
    fn current_countries_have_iso_data_and_regions() {
        let tr = find("TR");
        assert_eq!(tr.alpha3, "TUR");
        assert_eq!(tr.display_name, "Türkiye");
        assert_eq!(tr.region, Some("Asia"));
        assert_eq!(tr.subregion, Some("Western Asia"));
        assert_eq!(tr.withdrawn_year, None);
        assert!(builtin_countries().len() >= 249 + 10);
    }

    #[test]
    fn former_states_have_an_end_and_successors() {
        let su = find("SU");
        assert_eq!(su.withdrawn_year, Some(1992));
        assert!(su.successors.contains(&CountryCode::parse("AM").unwrap()));
        assert!(find("YU").withdrawn_year.is_some());
        // A reused code stays with the current country; the former holder
        // has its four-letter code.
        assert_eq!(find("GE").withdrawn_year, None);
        assert_eq!(find("GEHH").display_name, "Gilbert and Ellice Islands");
        assert_eq!(find("SU").iso3166_3, Some("SUHH"));
    }

    #[test]
    fn czechoslovakia_and_serbia_and_montenegro_both_have_ids() {
        assert!(find("CSHH").display_name.starts_with("Czechoslovakia"));
        assert_eq!(find("CSHH").iso3166_3, Some("CSHH"));
        assert_eq!(find("CS").display_name, "Serbia and Montenegro");
        assert!(find("CSHH")
            .successors
            .contains(&CountryCode::parse("CZ").unwrap()));
    }
}
