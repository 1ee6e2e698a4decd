//! `diplomacy.v1.TreatyService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::resources;
use crate::pb::diplomacy::v1::treaty_service_server::TreatyService;
use crate::pb::diplomacy::v1::*;
use crate::store::Store;

pub struct Treaties {
    pub store: Arc<Store>,
}

#[tonic::async_trait]
impl TreatyService for Treaties {
    async fn get_treaty(
        &self,
        request: Request<GetTreatyRequest>,
    ) -> Result<Response<Treaty>, Status> {
        Ok(Response::new(resources::get(
            &self.store,
            &request.get_ref().name,
        )?))
    }

    async fn list_treaties(
        &self,
        request: Request<ListTreatiesRequest>,
    ) -> Result<Response<ListTreatiesResponse>, Status> {
        let req = request.into_inner();
        let party = resources::country_filter(&self.store, &req.party, "party")?;
        let (treaties, next_page_token) = resources::list(
            &self.store,
            req.page_size,
            &req.page_token,
            party,
            &[req.party.as_bytes()],
            |_: &Treaty| true,
        )?;
        Ok(Response::new(ListTreatiesResponse {
            treaties,
            next_page_token,
        }))
    }

    async fn create_treaty(
        &self,
        request: Request<CreateTreatyRequest>,
    ) -> Result<Response<Treaty>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::create(&self.store, req.treaty, &req.treaty_id).await?,
        ))
    }

    async fn update_treaty(
        &self,
        request: Request<UpdateTreatyRequest>,
    ) -> Result<Response<Treaty>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::update(&self.store, req.treaty, req.update_mask.as_ref()).await?,
        ))
    }

    async fn delete_treaty(
        &self,
        request: Request<DeleteTreatyRequest>,
    ) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        resources::delete::<Treaty>(&self.store, &req.name, &req.etag).await?;
        Ok(Response::new(()))
    }
}
