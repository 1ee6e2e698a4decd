//! The `diplomacy` command line: one file per group of subcommands, each
//! parsing its flags and calling the library.

mod args;
mod client;
mod data;
mod etcd;
pub mod exit;
mod maintenance;
mod memory;
mod output;
mod panel;
mod query;
mod render;
mod serve;

use clap::{Parser, Subcommand};

use exit::Failure;

/// What a subcommand returns: its error is printed as one `error: …` line,
/// and the process exits 1.
pub type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(
    version,
    about = "Typed, sourced, time-aware answers about relations between states, over gRPC",
    after_help = "Exit codes: 0 success, 1 other errors, 2 usage, 3 invalid argument, \
                  4 not found, 5 server unreachable or unavailable."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on standard error: `text` or `json` (level: RUST_LOG).
    #[arg(long, global = true, env = "DIPLOMACY_LOG_FORMAT", default_value = "text", value_parser = diplomacy::telemetry::logs::FORMATS)]
    pub log_format: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API.
    Serve(Box<serve::ServeArgs>),
    /// Load records (JSON Lines of diplomacy.v1.Record) into a data dir.
    Import(data::ImportArgs),
    /// Write every record of a data dir as JSON Lines.
    Export(data::ExportArgs),
    /// Write the API's FileDescriptorSet (binary, with imports and comments),
    /// e.g. for Envoy's gRPC-JSON transcoder or offline tooling.
    Descriptor(maintenance::DescriptorArgs),
    /// Verify every index, reference count and the change log against the
    /// records of a data dir (while no server uses it); exits non-zero on
    /// any inconsistency. With --etcd-endpoints the data dir is a stopped
    /// replica's index, also compared with etcd at the revision it applied.
    Check(maintenance::CheckEtcdArgs),
    /// Write a data dir's database again in key order, in place (while no
    /// server uses it): after a large import sled's files shrink to half or
    /// less and open faster (BENCHMARKS.md). The old files stay in place
    /// until the copy is complete and read back.
    Compact(maintenance::CheckArgs),
    /// Write reference data as JSON Lines for `import`: `iso-codes`
    /// (pycountry's `databases/` folder) gives official names and the dates
    /// of withdrawn codes; `states` the built-in countries with their
    /// existence, predecessors and COW memberships (for a database made
    /// before those were built in).
    Reference(maintenance::ReferenceArgs),
    /// Ask a running server about two countries on a day: status and since
    /// when, treaties in force, conflicts, meetings, mediators, and all else
    /// the answer holds.
    Relation(query::RelationArgs),
    /// A country's or a pair's history, in date order.
    History(query::HistoryArgs),
    /// One resource by name: a country, treaty, meeting, event or relation.
    Get(query::GetArgs),
    /// Countries, treaties, meetings or events, with the API's filters.
    List(query::ListArgs),
    /// Countries by code or name, ranked: what a name resolves to.
    Search(query::SearchArgs),
    /// Countries by a code of one scheme (ISO, UN M49, Correlates of War)
    /// and when each carried it: `lookup cow-code 365 --date 1980` is the
    /// USSR.
    Lookup(query::LookupArgs),
    /// Follow committed changes as they happen.
    Watch(query::WatchArgs),
}

impl Cli {
    /// Runs the chosen subcommand. Exit codes (`exit::Exit`): 0 success, 1
    /// other errors, 2 usage (clap's), 3 invalid argument, 4 not found, 5
    /// server unreachable or unavailable.
    pub async fn run(self) -> Result<(), Failure> {
        match self.command {
            Command::Serve(args) => Ok(serve::serve(*args).await?),
            Command::Import(args) => Ok(data::import(args).await?),
            Command::Export(args) => Ok(data::export(args).await?),
            Command::Descriptor(args) => Ok(maintenance::descriptor(args)?),
            Command::Reference(args) => Ok(maintenance::reference(args)?),
            Command::Check(args) => Ok(maintenance::check(args).await?),
            Command::Compact(args) => Ok(maintenance::compact(args)?),
            Command::Relation(args) => query::relation(args).await,
            Command::History(args) => query::history(args).await,
            Command::Get(args) => query::get(args).await,
            Command::List(args) => query::list(args).await,
            Command::Search(args) => query::search(args).await,
            Command::Lookup(args) => query::lookup(args).await,
            Command::Watch(args) => query::watch(args).await,
        }
    }
}
