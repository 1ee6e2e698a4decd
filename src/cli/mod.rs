//! The `diplomacy` command line: one file per group of subcommands, each
//! parsing its flags and calling the library.

mod args;
mod client;
mod data;
mod maintenance;
mod memory;
mod output;
mod serve;

use clap::{Parser, Subcommand};

/// What a subcommand returns: its error is printed as one `error: …` line.
pub type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(
    version,
    about = "Typed, sourced, time-aware answers about relations between states, over gRPC"
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
    /// any inconsistency.
    Check(maintenance::CheckArgs),
    /// Write a data dir's database again in key order, in place (while no
    /// server uses it): after a large import sled's files shrink to half or
    /// less and open faster (BENCHMARKS.md). The old files stay in place
    /// until the copy is complete and read back.
    Compact(maintenance::CheckArgs),
    /// Write reference data from a package's data files as JSON Lines for
    /// `import`: `iso-codes` (pycountry's `databases/` folder) gives official
    /// names and the dates of withdrawn codes.
    Reference(maintenance::ReferenceArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> CliResult {
        match self.command {
            Command::Serve(args) => serve::serve(*args).await,
            Command::Import(args) => data::import(args).await,
            Command::Export(args) => data::export(args).await,
            Command::Descriptor(args) => maintenance::descriptor(args),
            Command::Reference(args) => maintenance::reference(args),
            Command::Check(args) => maintenance::check(args),
            Command::Compact(args) => maintenance::compact(args),
        }
    }
}
