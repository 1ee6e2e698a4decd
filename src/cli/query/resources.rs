//! `diplomacy get NAME`, `diplomacy list KIND`, `diplomacy search TEXT`.

use clap::{Args, ValueEnum};
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::actor_service_client::ActorServiceClient;
use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;
use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::meeting_service_client::MeetingServiceClient;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::pb::diplomacy::v1::treaty_service_client::TreatyServiceClient;
use prost_reflect::DynamicMessage;

use super::countries::{code, resolve};
use super::{dynamic, Paging};
use crate::cli::client::{Authed, ClientArgs};
use crate::cli::exit::{Exit, Failure};
use crate::cli::render::{columns, Columns, Printer};

#[derive(Args)]
pub struct GetArgs {
    /// A resource name: `countries/TR` (or a country's name,
    /// `countries/Türkiye`), `treaties/t02`, `meetings/…`, `events/…`,
    /// `actors/osce-minsk-group`, or a
    /// relation, `countries/TR/relations/AM` (today's).
    name: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// The kinds of resource `list` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Countries,
    Treaties,
    Meetings,
    Events,
    Actors,
}

#[derive(Args)]
pub struct ListArgs {
    /// What to list.
    kind: Kind,
    /// Countries: only those of this UN M49 region, e.g. `Asia`.
    #[arg(long)]
    region: Option<String>,
    /// Countries: leave out former states.
    #[arg(long)]
    current_only: bool,
    /// Treaties with this party, meetings with this participant, events
    /// naming this country, actors it is a member of: a code or a name.
    #[arg(long)]
    country: Option<String>,
    #[command(flatten)]
    paging: Paging,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Args)]
pub struct SearchArgs {
    /// What to look for: a code or a name in any common spelling.
    query: String,
    /// Most candidates (1 to 50).
    #[arg(long, default_value_t = 10)]
    max_results: i32,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn get(args: GetArgs) -> Result<(), Failure> {
    let channel = args.client.connect().await?;
    let name = args.name.trim_end_matches('/');
    let parts: Vec<&str> = name.split('/').collect();
    let message = match parts.as_slice() {
        ["countries", a, "relations", b] => {
            let (a, b) = (resolve(&channel, a).await?, resolve(&channel, b).await?);
            let relation = RelationServiceClient::new(channel)
                .get_relation(pb::GetRelationRequest {
                    name: format!("countries/{}/relations/{}", code(&a), code(&b)),
                    ..Default::default()
                })
                .await
                .map_err(Failure::from_status)?;
            dynamic(relation.get_ref())?
        }
        ["countries", country] => dynamic(&resolve(&channel, country).await?)?,
        ["treaties", _] => dynamic(
            TreatyServiceClient::new(channel)
                .get_treaty(pb::GetTreatyRequest { name: name.into() })
                .await
                .map_err(Failure::from_status)?
                .get_ref(),
        )?,
        ["meetings", _] => dynamic(
            MeetingServiceClient::new(channel)
                .get_meeting(pb::GetMeetingRequest { name: name.into() })
                .await
                .map_err(Failure::from_status)?
                .get_ref(),
        )?,
        ["events", _] => dynamic(
            EventServiceClient::new(channel)
                .get_event(pb::GetEventRequest { name: name.into() })
                .await
                .map_err(Failure::from_status)?
                .get_ref(),
        )?,
        ["actors", _] => dynamic(
            ActorServiceClient::new(channel)
                .get_actor(pb::GetActorRequest { name: name.into() })
                .await
                .map_err(Failure::from_status)?
                .get_ref(),
        )?,
        _ => {
            return Err(Failure::new(
                Exit::InvalidArgument,
                format!(
                    "{name:?} is not a resource name: countries/CODE, countries/A/relations/B, \
                     treaties/ID, meetings/ID, events/ID or actors/ID"
                ),
            ))
        }
    };
    Printer::new(args.client.format()).one(&message, None)
}

pub async fn list(args: ListArgs) -> Result<(), Failure> {
    let channel = args.client.connect().await?;
    let country = match &args.country {
        Some(text) => resolve(&channel, text).await?.name,
        None => String::new(),
    };
    let limit = args.paging.limit();
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let (page, next) = page_of(&channel, &args, &country, page_token).await?;
        all.extend(page.into_iter().take(limit - all.len()));
        if next.is_empty() || all.len() == limit {
            break;
        }
        page_token = next;
    }
    let columns: &Columns = match args.kind {
        Kind::Countries => &columns::COUNTRIES,
        Kind::Treaties => &columns::TREATIES,
        Kind::Meetings => &columns::MEETINGS,
        Kind::Events => &columns::EVENTS,
        Kind::Actors => &columns::ACTORS,
    };
    Printer::new(args.client.format()).many(&all, columns)
}

/// One page of `args.kind` and the token of the next.
async fn page_of(
    channel: &Authed,
    args: &ListArgs,
    country: &str,
    page_token: String,
) -> Result<(Vec<DynamicMessage>, String), Failure> {
    let page_size = args.paging.page_size;
    let channel = channel.clone();
    Ok(match args.kind {
        Kind::Countries => {
            let page = CountryServiceClient::new(channel)
                .list_countries(pb::ListCountriesRequest {
                    page_size,
                    page_token,
                    region: args.region.clone().unwrap_or_default(),
                    current_only: args.current_only,
                })
                .await
                .map_err(Failure::from_status)?
                .into_inner();
            (
                page.countries
                    .iter()
                    .map(dynamic)
                    .collect::<Result<_, _>>()?,
                page.next_page_token,
            )
        }
        Kind::Treaties => {
            let page = TreatyServiceClient::new(channel)
                .list_treaties(pb::ListTreatiesRequest {
                    page_size,
                    page_token,
                    party: country.to_string(),
                })
                .await
                .map_err(Failure::from_status)?
                .into_inner();
            (
                page.treaties
                    .iter()
                    .map(dynamic)
                    .collect::<Result<_, _>>()?,
                page.next_page_token,
            )
        }
        Kind::Meetings => {
            let page = MeetingServiceClient::new(channel)
                .list_meetings(pb::ListMeetingsRequest {
                    page_size,
                    page_token,
                    participant: country.to_string(),
                })
                .await
                .map_err(Failure::from_status)?
                .into_inner();
            (
                page.meetings
                    .iter()
                    .map(dynamic)
                    .collect::<Result<_, _>>()?,
                page.next_page_token,
            )
        }
        Kind::Events => {
            let page = EventServiceClient::new(channel)
                .list_events(pb::ListEventsRequest {
                    page_size,
                    page_token,
                    country: country.to_string(),
                })
                .await
                .map_err(Failure::from_status)?
                .into_inner();
            (
                page.events.iter().map(dynamic).collect::<Result<_, _>>()?,
                page.next_page_token,
            )
        }
        Kind::Actors => {
            let page = ActorServiceClient::new(channel)
                .list_actors(pb::ListActorsRequest {
                    page_size,
                    page_token,
                    member: country.to_string(),
                    ..Default::default()
                })
                .await
                .map_err(Failure::from_status)?
                .into_inner();
            (
                page.actors.iter().map(dynamic).collect::<Result<_, _>>()?,
                page.next_page_token,
            )
        }
    })
}

pub async fn search(args: SearchArgs) -> Result<(), Failure> {
    let channel = args.client.connect().await?;
    let matches = CountryServiceClient::new(channel)
        .search_countries(pb::SearchCountriesRequest {
            query: args.query,
            max_results: args.max_results,
            current_only: false,
        })
        .await
        .map_err(Failure::from_status)?
        .into_inner()
        .matches;
    let rows = matches.iter().map(dynamic).collect::<Result<Vec<_>, _>>()?;
    Printer::new(args.client.format()).many(&rows, &columns::MATCHES)
}
