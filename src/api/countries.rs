//! `diplomacy.v1.CountryService`.

use tonic::{Request, Response, Status};

use super::resources;
use crate::pb::diplomacy::v1::country_service_server::CountryService;
use crate::pb::diplomacy::v1::*;
use crate::store::Store;
use std::sync::Arc;

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
}
