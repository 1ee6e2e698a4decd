//! `diplomacy.v1.CountryService`.

use tonic::{Request, Response, Status};

use std::sync::Arc;

use super::resources;
use crate::domain::search::{match_country, MatchKind, Searchable};
use crate::domain::Collection;
use crate::error::{Error, FieldViolation};
use crate::pb::diplomacy::v1::country_service_server::CountryService;
use crate::pb::diplomacy::v1::*;
use crate::records::Record;
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
        Ok(Response::new(resources::get(
            &self.store,
            &request.get_ref().name,
        )?))
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
                    && !(req.current_only && c.end_date.is_some())
            },
        )?;
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
            if req.current_only && country.end_date.is_some() {
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
        Ok(Response::new(SearchCountriesResponse { matches }))
    }
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
