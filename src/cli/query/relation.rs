//! `diplomacy relation A B [--as-of DATE] [--basic]`: a card of everything
//! the relation answer holds.

use clap::Args;
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;

use super::countries::{code, resolve};
use super::{dates, dynamic};
use crate::cli::client::ClientArgs;
use crate::cli::exit::Failure;
use crate::cli::render::Printer;

#[derive(Args)]
pub struct RelationArgs {
    /// One country: a code (`TR`) or a name (`Türkiye`, `Turkey`).
    a: String,
    /// The other country.
    b: String,
    /// The day (YYYY-MM-DD), month (YYYY-MM) or year (YYYY) to answer for;
    /// a month or year means its end. Default: today.
    #[arg(long)]
    as_of: Option<String>,
    /// Leave out the lists of treaties and conflicts (the basic view).
    #[arg(long)]
    basic: bool,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn relation(args: RelationArgs) -> Result<(), Failure> {
    let as_of = args
        .as_of
        .as_deref()
        .map(|text| dates::parse("--as-of", text))
        .transpose()?;
    let channel = args.client.connect().await?;
    let a = resolve(&channel, &args.a).await?;
    let b = resolve(&channel, &args.b).await?;
    let view = if args.basic {
        pb::RelationView::Basic
    } else {
        pb::RelationView::Full
    };
    let relation = RelationServiceClient::new(channel)
        .get_relation(pb::GetRelationRequest {
            name: format!("countries/{}/relations/{}", code(&a), code(&b)),
            as_of,
            view: view as i32,
        })
        .await
        .map_err(Failure::from_status)?
        .into_inner();
    let header = format!(
        "{} ({}) and {} ({}), as of {}",
        a.display_name,
        code(&a),
        b.display_name,
        code(&b),
        args.as_of.as_deref().unwrap_or("today")
    );
    Printer::new(args.client.format()).one(&dynamic(&relation)?, Some(&header))
}
