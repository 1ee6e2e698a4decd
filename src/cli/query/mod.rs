//! The client commands, kubectl-style: `relation`, `history`, `get`,
//! `list`, `search`, `lookup`, `watch`. Each calls a running server over gRPC and
//! prints its answer (`render`); countries may be named by code or by name,
//! resolved by the server (`countries`).

mod countries;
mod dates;
mod history;
mod lookup;
mod relation;
mod resources;
mod watch;

pub use history::{history, HistoryArgs};
pub use lookup::{lookup, LookupArgs};
pub use relation::{relation, RelationArgs};
pub use resources::{get, list, search, GetArgs, ListArgs, SearchArgs};
pub use watch::{watch, WatchArgs};

use super::exit::{Exit, Failure};

/// How a listing command pages through the server.
#[derive(clap::Args)]
struct Paging {
    /// Items fetched a call (the server allows 1 to 1000).
    #[arg(long, default_value_t = 200)]
    page_size: i32,
    /// Stop after this many.
    #[arg(long)]
    limit: Option<usize>,
}

impl Paging {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(usize::MAX)
    }
}

/// The number of `text` in the API's enum `enum_name`, given as its value
/// name without the enum's prefix, in any case, `-` or `_`
/// (`treaty-signed` for `HISTORY_ENTRY_KIND_TREATY_SIGNED`).
fn enum_number(enum_name: &str, flag: &str, text: &str) -> Result<i32, Failure> {
    let descriptor = diplomacy::descriptors::api_pool()
        .get_enum_by_name(enum_name)
        .ok_or_else(|| Failure::other(format!("{enum_name} is not in the API")))?;
    let prefix = &super::render::enum_prefix(&descriptor);
    let wanted = format!("{prefix}{}", text.trim().to_uppercase().replace('-', "_"));
    let found = descriptor
        .values()
        .find(|v| v.name() == wanted && v.number() != 0)
        .map(|v| v.number());
    found.ok_or_else(|| {
        let known: Vec<String> = descriptor
            .values()
            .filter(|v| v.number() != 0)
            .map(|v| {
                v.name()
                    .trim_start_matches(prefix)
                    .to_lowercase()
                    .replace('_', "-")
            })
            .collect();
        Failure::new(
            Exit::InvalidArgument,
            format!("{flag} {text:?}: not one of {}", known.join(", ")),
        )
    })
}

/// Generated messages the commands print, with their full names.
trait Named {
    const FULL_NAME: &'static str;
}

macro_rules! named {
    ($($ty:ident),*) => {
        $(impl Named for diplomacy::pb::diplomacy::v1::$ty {
            const FULL_NAME: &'static str = concat!("diplomacy.v1.", stringify!($ty));
        })*
    };
}

named!(
    Relation,
    Country,
    Treaty,
    Meeting,
    Event,
    Actor,
    HistoryEntry,
    Change,
    CountryMatch,
    CountryCodeMatch
);

/// A generated message as a message of the API's descriptors.
fn dynamic<M: prost::Message + Named>(
    message: &M,
) -> Result<prost_reflect::DynamicMessage, Failure> {
    super::render::dynamic(message, M::FULL_NAME)
}
