//! Countries named the way people name them, resolved by the server's
//! `SearchCountries`, so that every client resolves a name the same way.

use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;
use diplomacy::pb::diplomacy::v1::{Country, CountryMatch, SearchCountriesRequest};

use crate::cli::client::Authed;
use crate::cli::exit::{Exit, Failure};

/// Candidates offered after a near miss.
const SUGGESTIONS: i32 = 3;

/// The country `text` names (`TR`, `tr`, `countries/TR`, `Türkiye`,
/// `Turkey`): the one candidate that matches in full. Several that do is an
/// ambiguity (exit 3); none, a "did you mean" with the best candidates
/// (exit 4).
pub async fn resolve(channel: &Authed, text: &str) -> Result<Country, Failure> {
    let query = text.strip_prefix("countries/").unwrap_or(text);
    let matches = CountryServiceClient::new(channel.clone())
        .search_countries(SearchCountriesRequest {
            query: query.to_string(),
            max_results: 10,
            current_only: false,
        })
        .await
        .map_err(Failure::from_status)?
        .into_inner()
        .matches;
    let (exact, near): (Vec<CountryMatch>, Vec<CountryMatch>) =
        matches.into_iter().partition(|m| m.score >= 1.0);
    let mut exact: Vec<Country> = exact.into_iter().filter_map(|m| m.country).collect();
    match exact.len() {
        1 => Ok(exact.remove(0)),
        0 if near.is_empty() => Err(Failure::new(
            Exit::NotFound,
            format!("no country is called {text:?}"),
        )),
        0 => Err(Failure::new(
            Exit::NotFound,
            format!(
                "no country is called {text:?}; did you mean {}?",
                listed(
                    near.iter()
                        .take(SUGGESTIONS as usize)
                        .filter_map(|m| m.country.as_ref())
                )
            ),
        )),
        _ => Err(Failure::new(
            Exit::InvalidArgument,
            format!(
                "{text:?} names several countries: {}; give the code",
                listed(exact.iter())
            ),
        )),
    }
}

fn listed<'a>(countries: impl Iterator<Item = &'a Country>) -> String {
    countries
        .map(|c| format!("{} ({})", c.display_name, code(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `TR` of `countries/TR`.
pub fn code(country: &Country) -> &str {
    country.name.trim_start_matches("countries/")
}
