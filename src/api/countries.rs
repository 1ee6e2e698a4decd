//! `diplomacy.v1.CountryService`.

use tonic::{Request, Response, Status};

use std::sync::Arc;

use super::resources::{self, short};
use crate::convert::{date_from_pb, date_to_pb};
use crate::domain::search::{match_country, MatchKind, Searchable};
use crate::domain::{Collection, CountryCode, PartialDate};
use crate::error::{Error, FieldViolation};
use crate::pb::diplomacy::v1::country_service_server::CountryService;
use crate::pb::diplomacy::v1::*;
use crate::records::codes::{code_pieces, piece_order, CodeScheme};
use crate::records::Record;
use crate::records::{is_current, successor_links};
use crate::store::Store;

/// Longest search query, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Candidates a search returns when the request does not say.
const DEFAULT_MATCHES: usize = 10;
const MAX_MATCHES: usize = 50;

pub struct Countries {
    pub store: Arc<Store>,
}

#[tonic::async_trait]
impl CountryService for Countries {
    async fn get_country(
        &self,
        request: Request<GetCountryRequest>,
    ) -> Result<Response<Country>, Status> {
        let country = resources::get(&self.store, &request.get_ref().name)?;
        Ok(Response::new(with_successor_states(&self.store, country)?))
    }

    async fn list_countries(
        &self,
        request: Request<ListCountriesRequest>,
    ) -> Result<Response<ListCountriesResponse>, Status> {
        let req = request.into_inner();
        let query: [&[u8]; 2] = [req.region.as_bytes(), &[u8::from(req.current_only)]];
        let (countries, next_page_token) = resources::list(
            &self.store,
            req.page_size,
            &req.page_token,
            None,
            &query,
            |c: &Country| {
                (req.region.is_empty() || c.region == req.region)
                    && (!req.current_only || is_current(c))
            },
        )?;
        let countries = countries
            .into_iter()
            .map(|c| with_successor_states(&self.store, c))
            .collect::<crate::error::Result<_>>()?;
        Ok(Response::new(ListCountriesResponse {
            countries,
            next_page_token,
        }))
    }

    async fn create_country(
        &self,
        request: Request<CreateCountryRequest>,
    ) -> Result<Response<Country>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::create(&self.store, req.country, &req.country_id).await?,
        ))
    }

    async fn update_country(
        &self,
        request: Request<UpdateCountryRequest>,
    ) -> Result<Response<Country>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::update(&self.store, req.country, req.update_mask.as_ref()).await?,
        ))
    }

    async fn delete_country(
        &self,
        request: Request<DeleteCountryRequest>,
    ) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        resources::delete::<Country>(&self.store, &req.name, &req.etag).await?;
        Ok(Response::new(()))
    }

    async fn search_countries(
        &self,
        request: Request<SearchCountriesRequest>,
    ) -> Result<Response<SearchCountriesResponse>, Status> {
        let req = request.into_inner();
        let mut violations = Vec::new();
        let query = req.query.trim();
        if query.is_empty() {
            violations.push(FieldViolation::new("query", "must not be empty"));
        } else if query.chars().count() > MAX_QUERY_CHARS {
            violations.push(FieldViolation::new(
                "query",
                format!("at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let max_results = match req.max_results {
            0 => DEFAULT_MATCHES,
            n @ 1.. if n as usize <= MAX_MATCHES => n as usize,
            n => {
                violations.push(FieldViolation::new(
                    "max_results",
                    format!("must be from 0 to {MAX_MATCHES} (0 means {DEFAULT_MATCHES}), got {n}"),
                ));
                0
            }
        };
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations).into());
        }
        let mut matches = Vec::new();
        for record in self.store.records(Collection::Countries) {
            let Record::Country(country) = record? else {
                continue;
            };
            if req.current_only && !is_current(&country) {
                continue;
            }
            let searchable = Searchable {
                alpha2: country.name.trim_start_matches("countries/"),
                alpha3: &country.alpha3,
                numeric: country.numeric_code,
                name: &country.display_name,
                official_name: &country.official_name,
            };
            if let Some(found) = match_country(query, &searchable) {
                matches.push(CountryMatch {
                    score: found.score,
                    matched: found.matched,
                    kind: match_kind(found.kind) as i32,
                    country: Some(country),
                });
            }
        }
        // Best first; ties in code order (the records come in code order).
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        matches.truncate(max_results);
        for found in &mut matches {
            if let Some(country) = found.country.take() {
                found.country = Some(with_successor_states(&self.store, country)?);
            }
        }
        Ok(Response::new(SearchCountriesResponse { matches }))
    }

    async fn lookup_country(
        &self,
        request: Request<LookupCountryRequest>,
    ) -> Result<Response<LookupCountryResponse>, Status> {
        let req = request.into_inner();
        let (scheme, code, date) = lookup_request(&req)?;
        let mut found = Vec::new();
        for record in self.store.records(Collection::Countries) {
            let Record::Country(country) = record? else {
                continue;
            };
            let pieces = code_pieces(&country, scheme, &code);
            for piece in pieces
                .into_iter()
                .filter(|p| date.is_none_or(|d| p.overlaps(d)))
            {
                found.push((piece, country.clone()));
            }
        }
        if found.is_empty() {
            let on = date.map(|d| format!(" on {d}")).unwrap_or_default();
            return Err(Error::not_found(format!(
                "a country with {} code {code}{on}",
                scheme_name(req.scheme)
            ))
            .into());
        }
        found.sort_by(|(a, _), (b, _)| piece_order(a, b));
        let mut matches = Vec::with_capacity(found.len());
        for (piece, country) in found {
            matches.push(CountryCodeMatch {
                country: Some(with_successor_states(&self.store, country)?),
                start_date: piece.start.map(date_to_pb),
                end_date: piece.last.map(date_to_pb),
            });
        }
        Ok(Response::new(LookupCountryResponse { matches }))
    }
}

/// Longest code a lookup accepts, in bytes.
const MAX_CODE_LEN: usize = 16;

/// A lookup request checked: its scheme, its code in canonical form, and
/// its date.
fn lookup_request(
    req: &LookupCountryRequest,
) -> crate::error::Result<(CodeScheme, String, Option<PartialDate>)> {
    let mut violations = Vec::new();
    let scheme = match CountryCodeScheme::try_from(req.scheme) {
        Ok(CountryCodeScheme::IsoAlpha2) => Some(CodeScheme::IsoAlpha2),
        Ok(CountryCodeScheme::IsoAlpha3) => Some(CodeScheme::IsoAlpha3),
        Ok(CountryCodeScheme::IsoNumeric) => Some(CodeScheme::IsoNumeric),
        Ok(CountryCodeScheme::Iso31663) => Some(CodeScheme::Iso3166Part3),
        Ok(CountryCodeScheme::UnM49) => Some(CodeScheme::UnM49),
        Ok(CountryCodeScheme::CowCode) => Some(CodeScheme::CowCode),
        Ok(CountryCodeScheme::CowAbbreviation) => Some(CodeScheme::CowAbbreviation),
        Ok(CountryCodeScheme::Unspecified) => {
            violations.push(FieldViolation::new(
                "scheme",
                "is required: one of the COUNTRY_CODE_SCHEME_ values other than UNSPECIFIED",
            ));
            None
        }
        Err(_) => {
            violations.push(FieldViolation::new(
                "scheme",
                format!("{} is not a known code scheme", req.scheme),
            ));
            None
        }
    };
    let code = req.code.trim();
    let numeric = matches!(
        scheme,
        Some(CodeScheme::IsoNumeric | CodeScheme::UnM49 | CodeScheme::CowCode)
    );
    let canonical = if code.is_empty() {
        violations.push(FieldViolation::new("code", "must not be empty"));
        String::new()
    } else if code.len() > MAX_CODE_LEN {
        violations.push(FieldViolation::new(
            "code",
            format!("at most {MAX_CODE_LEN} characters"),
        ));
        String::new()
    } else if scheme.is_none() {
        // What form a code must have depends on its scheme.
        String::new()
    } else if numeric {
        match code.parse::<u32>() {
            Ok(n) => n.to_string(),
            Err(_) => {
                violations.push(FieldViolation::new(
                    "code",
                    format!(
                        "{:?} is not a number, as this scheme's codes are",
                        short(code)
                    ),
                ));
                String::new()
            }
        }
    } else if code.bytes().all(|b| b.is_ascii_alphabetic()) {
        code.to_ascii_uppercase()
    } else {
        violations.push(FieldViolation::new(
            "code",
            format!(
                "{:?} is not a code of letters, as this scheme's codes are",
                short(code)
            ),
        ));
        String::new()
    };
    let date = match req.date.as_ref().map(date_from_pb).transpose() {
        Ok(date) => date,
        Err(e) => {
            violations.push(FieldViolation::new("date", e.to_string()));
            None
        }
    };
    match scheme {
        Some(scheme) if violations.is_empty() => Ok((scheme, canonical, date)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

fn scheme_name(scheme: i32) -> &'static str {
    match CountryCodeScheme::try_from(scheme) {
        Ok(CountryCodeScheme::IsoAlpha2) => "ISO 3166-1 alpha-2",
        Ok(CountryCodeScheme::IsoAlpha3) => "ISO 3166-1 alpha-3",
        Ok(CountryCodeScheme::IsoNumeric) => "ISO 3166-1 numeric",
        Ok(CountryCodeScheme::Iso31663) => "ISO 3166-3",
        Ok(CountryCodeScheme::UnM49) => "UN M49",
        Ok(CountryCodeScheme::CowCode) => "COW country",
        Ok(CountryCodeScheme::CowAbbreviation) => "COW abbreviation",
        _ => "unknown",
    }
}

/// `country` with its output-only `successor_states`: the countries that
/// name it as their predecessor.
fn with_successor_states(store: &Store, mut country: Country) -> crate::error::Result<Country> {
    if let Some(code) = CountryCode::from_name(&country.name) {
        country.successor_states = successor_links(code, &store.successors_of(code)?);
    }
    Ok(country)
}

fn match_kind(kind: MatchKind) -> CountryMatchKind {
    match kind {
        MatchKind::Code => CountryMatchKind::Code,
        MatchKind::Name => CountryMatchKind::Name,
        MatchKind::OfficialName => CountryMatchKind::OfficialName,
        MatchKind::Alias => CountryMatchKind::Alias,
        MatchKind::Prefix => CountryMatchKind::Prefix,
        MatchKind::Similar => CountryMatchKind::Similar,
    }
}
