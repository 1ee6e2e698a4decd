//! The `diplomacy` command line: parses arguments and calls the library.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use diplomacy::domain::Collection;
use diplomacy::server::{self, ServeOptions, StoreOptions};
use diplomacy::{dataset, store::Store};

#[derive(Parser)]
#[command(
    version,
    about = "Typed, sourced, time-aware answers about relations between states, over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API.
    Serve(ServeArgs),
    /// Load records (JSON Lines of diplomacy.v1.Record) into a data dir.
    Import(ImportArgs),
    /// Write every record of a data dir as JSON Lines.
    Export(ExportArgs),
    /// Write the API's FileDescriptorSet (binary, with imports and comments),
    /// e.g. for Envoy's gRPC-JSON transcoder or offline tooling.
    Descriptor(DescriptorArgs),
}

#[derive(Args)]
struct DescriptorArgs {
    /// Where to write it.
    #[arg(long, default_value = "diplomacy.binpb")]
    output: PathBuf,
}

#[derive(Args)]
struct DataArgs {
    /// Directory of the database.
    #[arg(long, env = "DIPLOMACY_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Page cache size in MiB.
    #[arg(long, env = "DIPLOMACY_CACHE_MB", default_value_t = 64)]
    cache_mb: u64,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DIPLOMACY_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// Do not load the seed dataset into a new database (built-in countries
    /// are always loaded).
    #[arg(long, env = "DIPLOMACY_NO_SEED")]
    no_seed: bool,
    /// Longest drain after SIGTERM/SIGINT, in seconds.
    #[arg(long, env = "DIPLOMACY_DRAIN_TIMEOUT_SECS", default_value_t = 10)]
    drain_timeout_secs: u64,
}

#[derive(Args)]
struct ImportArgs {
    /// The JSON Lines file.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Import(args) => import(args).await,
            Command::Export(args) => export(args).await,
            Command::Descriptor(args) => descriptor(args),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn store_options(data: &DataArgs, seed: bool) -> StoreOptions {
    StoreOptions {
        data_dir: data.data_dir.clone(),
        seed,
        cache_bytes: data.cache_mb * 1024 * 1024,
    }
}

async fn serve(args: ServeArgs) -> CliResult {
    let store = server::open_store(&store_options(&args.data, !args.no_seed)).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, data_dir = %args.data.data_dir.display(), "diplomacy ready on {address}");
    let options = ServeOptions {
        drain_timeout: Duration::from_secs(args.drain_timeout_secs),
    };
    server::serve(listener, store, options, shutdown_signal()).await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn import(args: ImportArgs) -> CliResult {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let records = dataset::parse_jsonl(&text).map_err(|errors| report(&errors))?;
    let mut invalid = Vec::new();
    for (line, record) in &records {
        if let Err(error) = dataset::check_import(record) {
            invalid.push(dataset::LineError { line: *line, error });
        }
    }
    if !invalid.is_empty() {
        return Err(report(&invalid).into());
    }
    let store = server::open_store(&store_options(&args.data, false)).await?;
    let mut failed = Vec::new();
    for (line, record) in records.iter() {
        if let Err(error) = dataset::upsert(&store, record.clone()) {
            failed.push(dataset::LineError { line: *line, error });
        }
    }
    store.flush().await?;
    if !failed.is_empty() {
        return Err(report(&failed).into());
    }
    eprintln!(
        "imported {} records into {}",
        records.len(),
        args.data.data_dir.display()
    );
    Ok(())
}

fn report(errors: &[dataset::LineError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(
        "{} invalid line(s), nothing written for them:\n{}",
        errors.len(),
        lines.join("\n")
    )
}

async fn export(args: ExportArgs) -> CliResult {
    let store = Store::open(&args.data.data_dir, args.data.cache_mb * 1024 * 1024)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    for collection in Collection::ALL {
        for record in store.records(collection) {
            writeln!(out, "{}", dataset::to_json_line(&record?)?)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn descriptor(args: DescriptorArgs) -> CliResult {
    std::fs::write(&args.output, diplomacy::pb::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}
