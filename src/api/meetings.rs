//! `diplomacy.v1.MeetingService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::resources;
use crate::pb::diplomacy::v1::meeting_service_server::MeetingService;
use crate::pb::diplomacy::v1::*;
use crate::store::Store;

pub struct Meetings {
    pub store: Arc<Store>,
}

#[tonic::async_trait]
impl MeetingService for Meetings {
    async fn get_meeting(
        &self,
        request: Request<GetMeetingRequest>,
    ) -> Result<Response<Meeting>, Status> {
        Ok(Response::new(resources::get(
            &self.store,
            &request.get_ref().name,
        )?))
    }

    async fn list_meetings(
        &self,
        request: Request<ListMeetingsRequest>,
    ) -> Result<Response<ListMeetingsResponse>, Status> {
        let req = request.into_inner();
        let participant = resources::country_filter(&self.store, &req.participant, "participant")?;
        let (meetings, next_page_token) = resources::list(
            &self.store,
            req.page_size,
            &req.page_token,
            participant,
            &[req.participant.as_bytes()],
            |_: &Meeting| true,
        )?;
        Ok(Response::new(ListMeetingsResponse {
            meetings,
            next_page_token,
        }))
    }

    async fn create_meeting(
        &self,
        request: Request<CreateMeetingRequest>,
    ) -> Result<Response<Meeting>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::create(&self.store, req.meeting, &req.meeting_id).await?,
        ))
    }

    async fn update_meeting(
        &self,
        request: Request<UpdateMeetingRequest>,
    ) -> Result<Response<Meeting>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::update(&self.store, req.meeting, req.update_mask.as_ref()).await?,
        ))
    }

    async fn delete_meeting(
        &self,
        request: Request<DeleteMeetingRequest>,
    ) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        resources::delete::<Meeting>(&self.store, &req.name, &req.etag).await?;
        Ok(Response::new(()))
    }
}
