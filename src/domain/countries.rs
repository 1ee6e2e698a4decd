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
    pub successors: Vec<CountryCode>,
}

const M49_WORLD: u16 = 1;

/// Every current ISO 3166-1 country, then the ISO 3166-3 former states whose
/// alpha-2 code is not in use today, in code order. When ISO 3166-3 lists two
/// former holders of one code (CS: Czechoslovakia, then Serbia and
/// Montenegro), the later one keeps it, as in ISO's own reassignment.
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
                successors: Vec::new(),
            },
        );
    }
    let mut former: Vec<_> = rust_iso3166::iso3166_3::ALL.iter().collect();
    former.sort_by_key(|f| f.validity.last().copied().unwrap_or_default());
    for state in former {
        let Some(code) = CountryCode::parse(state.former.alpha2) else {
            continue;
        };
        if by_code
            .get(&code)
            .is_some_and(|c| c.withdrawn_year.is_none())
        {
            continue; // the code belongs to a current country now
        }
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
                successors: state
                    .new_countries
                    .iter()
                    .filter_map(|c| CountryCode::parse(c.alpha2))
                    .filter(|c| *c != code)
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
        // A reused code stays with the current country.
        assert_eq!(find("GE").withdrawn_year, None);
    }
}
