//! `diplomacy.v1.ActorService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::resources;
use crate::error::Error;
use crate::pb::diplomacy::v1::actor_service_server::ActorService;
use crate::pb::diplomacy::v1::*;
use crate::records::Participant;
use crate::store::Store;

pub struct Actors {
    pub store: Arc<Store>,
}

#[tonic::async_trait]
impl ActorService for Actors {
    async fn get_actor(
        &self,
        request: Request<GetActorRequest>,
    ) -> Result<Response<Actor>, Status> {
        Ok(Response::new(resources::get(
            &self.store,
            &request.get_ref().name,
        )?))
    }

    async fn list_actors(
        &self,
        request: Request<ListActorsRequest>,
    ) -> Result<Response<ListActorsResponse>, Status> {
        let req = request.into_inner();
        let kind = req.kind;
        if kind != 0 && ActorKind::try_from(kind).is_err() {
            return Err(Error::invalid("kind", format!("{kind} is not an actor kind")).into());
        }
        if !req.member.is_empty() && Participant::parse(&req.member).is_none() {
            return Err(Error::invalid(
                "member",
                format!(
                    "{:?} is neither a country name (`countries/TR`) nor an actor name (`actors/un`)",
                    resources::short(&req.member)
                ),
            )
            .into());
        }
        let member = req.member.clone();
        let kind_bytes = kind.to_string();
        let (actors, next_page_token) = resources::list(
            &self.store,
            req.page_size,
            &req.page_token,
            None,
            &[kind_bytes.as_bytes(), req.member.as_bytes()],
            |actor: &Actor| {
                (kind == 0 || actor.kind == kind)
                    && (member.is_empty() || actor.members.iter().any(|m| m.member == member))
            },
        )?;
        Ok(Response::new(ListActorsResponse {
            actors,
            next_page_token,
        }))
    }

    async fn create_actor(
        &self,
        request: Request<CreateActorRequest>,
    ) -> Result<Response<Actor>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::create(&self.store, req.actor, &req.actor_id).await?,
        ))
    }

    async fn update_actor(
        &self,
        request: Request<UpdateActorRequest>,
    ) -> Result<Response<Actor>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            resources::update(&self.store, req.actor, req.update_mask.as_ref()).await?,
        ))
    }

    async fn delete_actor(
        &self,
        request: Request<DeleteActorRequest>,
    ) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        resources::delete::<Actor>(&self.store, &req.name, &req.etag).await?;
        Ok(Response::new(()))
    }
}
