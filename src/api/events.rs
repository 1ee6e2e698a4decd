//! `diplomacy.v1.EventService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::resources;
use crate::pb::diplomacy::v1::event_service_server::EventService;
use crate::pb::diplomacy::v1::*;
use crate::store::Store;

pub struct Events {
    pub store: Arc<Store>,
}

#[tonic::async_trait]
impl EventService for Events {
    async fn get_event(
        &self,
        request: Request<GetEventRequest>,
    ) -> Result<Response<Event>, Status> {
        Ok(Response::new(resources::get(
            &self.store,
            &request.get_ref().name,
        )?))
    }

    async fn list_events(
        &self,
        request: Request<ListEventsRequest>,
    ) -> Result<Response<ListEventsResponse>, Status> {
        let req = request.into_inner();
        let country = resources::country_filter(&self.store, &req.country, "country")?;
        let (events, next_page_token) = resources::list(
            &self.store,
            req.page_size,
            &req.page_token,
            country,
            &[req.country.as_bytes()],
            |_: &Event| true,
        )?;
        Ok(Response::new(ListEventsResponse {
            events,
            next_page_token,
        }))
    }

    async fn create_event(
        &self,
        request: Request<CreateEventRequest>,
    ) -> Result<Response<Event>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::create(&self.store, req.event, &req.event_id).await?,
        ))
    }

    async fn update_event(
        &self,
        request: Request<UpdateEventRequest>,
    ) -> Result<Response<Event>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::update(&self.store, req.event, req.update_mask.as_ref()).await?,
        ))
    }

    async fn delete_event(
        &self,
        request: Request<DeleteEventRequest>,
    ) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        resources::delete::<Event>(&self.store, &req.name, &req.etag).await?;
        Ok(Response::new(()))
    }
}
