//! `diplomacy watch`: committed changes as they come, from a revision.

use clap::Args;
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::record_service_client::RecordServiceClient;

use super::countries::resolve;
use super::{dynamic, enum_number};
use crate::cli::client::ClientArgs;
use crate::cli::exit::Failure;
use crate::cli::render::{columns, Printer};

#[derive(Args)]
pub struct WatchArgs {
    /// Changes after this revision; 0, the oldest the server still holds.
    #[arg(long, default_value_t = 0)]
    from_revision: i64,
    /// Only changes to records of these kinds (repeat, or comma-separated):
    /// country, treaty, meeting, event.
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Only changes to records naming these countries (codes or names).
    #[arg(long, value_delimiter = ',')]
    country: Vec<String>,
    /// Stop after this many changes (default: follow until interrupted).
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn watch(args: WatchArgs) -> Result<(), Failure> {
    let kinds = args
        .kind
        .iter()
        .map(|k| enum_number("diplomacy.v1.RecordKind", "--kind", k))
        .collect::<Result<Vec<_>, _>>()?;
    let channel = args.client.connect().await?;
    let mut countries = Vec::new();
    for text in &args.country {
        countries.push(resolve(&channel, text).await?.name);
    }
    let mut stream = RecordServiceClient::new(channel)
        .watch_changes(pb::WatchChangesRequest {
            from_revision: args.from_revision,
            kinds,
            countries,
        })
        .await
        .map_err(Failure::from_status)?
        .into_inner();
    let mut printer = Printer::new(args.client.format());
    let mut seen = 0;
    while args.limit.is_none_or(|limit| seen < limit) {
        match stream.message().await.map_err(Failure::from_status)? {
            Some(change) => {
                printer.streamed(&dynamic(&change)?, &columns::CHANGES, seen == 0)?;
                seen += 1;
            }
            None => break,
        }
    }
    Ok(())
}
