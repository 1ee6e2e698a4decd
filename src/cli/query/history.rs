//! `diplomacy history A [B]`: a country's or a pair's timeline in date
//! order, every page fetched.

use clap::Args;
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;

use super::countries::{code, resolve};
use super::{dates, dynamic, enum_number, Paging};
use crate::cli::client::ClientArgs;
use crate::cli::exit::Failure;
use crate::cli::render::{columns, Printer};

#[derive(Args)]
pub struct HistoryArgs {
    /// A country: a code or a name.
    a: String,
    /// With a second country, the pair's history only.
    b: Option<String>,
    /// From this day, month or year (its first day).
    #[arg(long)]
    from: Option<String>,
    /// Up to this day, month or year (its last day).
    #[arg(long)]
    to: Option<String>,
    /// Only entries of these kinds (repeat, or comma-separated):
    /// treaty-signed, treaty-ratified, treaty-in-force, treaty-withdrawn,
    /// treaty-terminated, meeting, event, event-ended.
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    #[command(flatten)]
    paging: Paging,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn history(args: HistoryArgs) -> Result<(), Failure> {
    let start_date = args
        .from
        .as_deref()
        .map(|t| dates::parse("--from", t))
        .transpose()?;
    let end_date = args
        .to
        .as_deref()
        .map(|t| dates::parse("--to", t))
        .transpose()?;
    let kinds = args
        .kind
        .iter()
        .map(|k| enum_number("diplomacy.v1.HistoryEntryKind", "--kind", k))
        .collect::<Result<Vec<_>, _>>()?;
    let channel = args.client.connect().await?;
    let a = resolve(&channel, &args.a).await?;
    let parent = match &args.b {
        Some(b) => {
            let b = resolve(&channel, b).await?;
            format!("countries/{}/relations/{}", code(&a), code(&b))
        }
        None => a.name.clone(),
    };
    let mut client = RelationServiceClient::new(channel);
    let limit = args.paging.limit();
    let mut entries = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_history(pb::ListHistoryRequest {
                parent: parent.clone(),
                start_date,
                end_date,
                kinds: kinds.clone(),
                page_size: args.paging.page_size,
                page_token,
            })
            .await
            .map_err(Failure::from_status)?
            .into_inner();
        for entry in &page.entries {
            if entries.len() == limit {
                break;
            }
            entries.push(dynamic(entry)?);
        }
        if page.next_page_token.is_empty() || entries.len() == limit {
            break;
        }
        page_token = page.next_page_token;
    }
    Printer::new(args.client.format()).many(&entries, &columns::HISTORY)
}
