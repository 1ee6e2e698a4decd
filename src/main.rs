//! The `diplomacy` command line: parses arguments and calls the library.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use diplomacy::dataset;
use diplomacy::domain::Collection;
use diplomacy::importer::{self, Mode, Source};
use diplomacy::middleware::auth::{self, Scope, Tokens};
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::record_service_client::RecordServiceClient;
use diplomacy::server::{self, ServeOptions, StoreOptions};
use diplomacy::store::{Store, WriterOptions};

// sled allocates and frees a node copy on every insert; glibc's allocator
// spent a quarter of a bulk import in malloc and free (perf), mimalloc far
// less. Without transparent huge pages: with them, resident memory rose by
// hundreds of MB of half-used 2 MiB pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands memory freed so far back to the operating system. Opening a large
/// database allocates and frees a few hundred MiB (sled's recovery), which
/// mimalloc would otherwise keep mapped for reuse: at full scale, 510 MiB
/// resident after opening instead of ~340.
fn return_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called at any time
    // from any thread; it only releases memory mimalloc holds free.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

#[derive(Parser)]
#[command(
    version,
    about = "Typed, sourced, time-aware answers about relations between states, over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on standard error: `text` or `json` (level: RUST_LOG).
    #[arg(long, global = true, env = "DIPLOMACY_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API.
    Serve(Box<ServeArgs>),
    /// Load records (JSON Lines of diplomacy.v1.Record) into a data dir.
    Import(ImportArgs),
    /// Write every record of a data dir as JSON Lines.
    Export(ExportArgs),
    /// Write the API's FileDescriptorSet (binary, with imports and comments),
    /// e.g. for Envoy's gRPC-JSON transcoder or offline tooling.
    Descriptor(DescriptorArgs),
    /// Write a synthetic dataset (deterministic from a seed) as JSON Lines.
    Generate(GenerateArgs),
    /// Start the server on a data dir and measure it under load.
    Bench(BenchArgs),
    /// Verify every index, reference count and the change log against the
    /// records of a data dir (while no server uses it); exits non-zero on
    /// any inconsistency.
    Check(CheckArgs),
    /// Write a data dir's database again in key order, in place (while no
    /// server uses it): after a large import sled's files shrink to half or
    /// less and open faster. The old files stay in place until the copy is
    /// complete and read back.
    Compact(CheckArgs),
    /// Write reference data from a package's data files as JSON Lines for
    /// `import`: `iso-codes` (pycountry's `databases/` folder) gives official
    /// names and the dates of withdrawn codes.
    Reference(ReferenceArgs),
}

#[derive(Args)]
struct GenerateArgs {
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Size relative to the default (1,000,000 meetings, 100,000 treaties,
    /// 200,000 events).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The seed the data was generated with (queries then hit its pairs).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 5.0)]
    duration_secs: f64,
    /// Client connections.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Calls in flight per connection.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// `all`, or a comma list: get-relation, get-relation-basic,
    /// history-page, list-relations, stream-history, writes (each runs right
    /// after a baseline run of its own, and its ratios are against that run).
    #[arg(long, default_value = "all")]
    scenarios: String,
    /// Runs of every scenario (each with its baseline run): the table shows
    /// the median round with the range across rounds.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct ReferenceArgs {
    /// The data set; only `iso-codes` for now.
    #[arg(value_parser = ["iso-codes"])]
    dataset: String,
    /// Folder holding `iso3166-1.json` and `iso3166-3.json` (e.g.
    /// `$(python -c 'import pycountry, os; print(os.path.dirname(pycountry.__file__))')/databases`).
    #[arg(long)]
    databases: PathBuf,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
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
    /// Memory for the pair facts relation queries read, in MiB (filled at
    /// start, the busiest pairs first; least recently used pairs are dropped
    /// past it, and reloaded when asked).
    #[arg(long, env = "DIPLOMACY_RELATION_CACHE_MB", default_value_t = 256)]
    relation_cache_mb: usize,
    /// Changes the change log keeps for `WatchChanges`.
    #[arg(long, env = "DIPLOMACY_CHANGE_RETENTION", default_value_t = 100_000)]
    change_retention: u64,
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
    /// After SIGTERM/SIGINT, seconds during which new calls are still served
    /// while health says NOT_SERVING (endpoints take a moment to update).
    #[arg(long, env = "DIPLOMACY_DRAIN_DELAY_SECS", default_value_t = 5)]
    drain_delay_secs: u64,
    /// Then, the longest wait for in-flight calls, in seconds.
    #[arg(long, env = "DIPLOMACY_DRAIN_TIMEOUT_SECS", default_value_t = 10)]
    drain_timeout_secs: u64,
    #[command(flatten)]
    limits: LimitArgs,
    /// OpenTelemetry collector to export each call's span to over OTLP/gRPC,
    /// e.g. `http://127.0.0.1:4317`.
    #[cfg(feature = "otlp")]
    #[arg(long, env = "DIPLOMACY_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Admin HTTP listener for Prometheus `/metrics` (off by default).
    #[arg(long, env = "DIPLOMACY_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    /// Origins allowed to call over gRPC-Web (comma-separated); empty: any.
    #[arg(long, env = "DIPLOMACY_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// TLS certificate chain (PEM); with --tls-key, serves TLS instead of h2c.
    #[arg(long, env = "DIPLOMACY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "DIPLOMACY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA (PEM) whose client certificates are required (mutual TLS).
    #[arg(long, env = "DIPLOMACY_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// File of tokens, one `read TOKEN` or `write TOKEN` a line. With no
    /// token configured at all, a read-write token is generated into
    /// DATA_DIR/auth-token (mode 0600).
    #[arg(long, env = "DIPLOMACY_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// A read-write token (in addition to the tokens file).
    #[arg(long = "token", env = "DIPLOMACY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Reads need a token too (by default only writes do).
    #[arg(long, env = "DIPLOMACY_REQUIRE_AUTH_FOR_READS")]
    require_auth_for_reads: bool,
}

#[derive(Args)]
struct LimitArgs {
    /// Largest request message in bytes (larger: RESOURCE_EXHAUSTED).
    #[arg(long, env = "DIPLOMACY_MAX_REQUEST_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_request_bytes: usize,
    /// Largest response message in bytes.
    #[arg(long, env = "DIPLOMACY_MAX_RESPONSE_BYTES", default_value_t = 16 * 1024 * 1024)]
    max_response_bytes: usize,
    /// Deadline in seconds of a call whose client sets none, and the longest
    /// a client may ask for (ImportRecords: --import-timeout-secs).
    #[arg(long, env = "DIPLOMACY_DEFAULT_TIMEOUT_SECS", default_value_t = 30)]
    default_timeout_secs: u64,
    /// The same for ImportRecords, which streams a whole file in one call
    /// (longer than --max-connection-age-secs needs that raised too).
    #[arg(long, env = "DIPLOMACY_IMPORT_TIMEOUT_SECS", default_value_t = 900)]
    import_timeout_secs: u64,
    /// Calls in flight across all connections (more: RESOURCE_EXHAUSTED).
    #[arg(long, env = "DIPLOMACY_MAX_CONCURRENT_CALLS", default_value_t = 512)]
    max_concurrent_calls: usize,
    /// HTTP/2 keepalive ping interval, seconds.
    #[arg(long, env = "DIPLOMACY_KEEPALIVE_INTERVAL_SECS", default_value_t = 30)]
    keepalive_interval_secs: u64,
    /// HTTP/2 keepalive ping timeout, seconds.
    #[arg(long, env = "DIPLOMACY_KEEPALIVE_TIMEOUT_SECS", default_value_t = 10)]
    keepalive_timeout_secs: u64,
    /// Close connections at this age (seconds) so clients rebalance.
    #[arg(
        long,
        env = "DIPLOMACY_MAX_CONNECTION_AGE_SECS",
        default_value_t = 1800
    )]
    max_connection_age_secs: u64,
    /// Grace for calls on an aged connection, seconds.
    #[arg(
        long,
        env = "DIPLOMACY_MAX_CONNECTION_AGE_GRACE_SECS",
        default_value_t = 30
    )]
    max_connection_age_grace_secs: u64,
}

impl LimitArgs {
    fn limits(&self) -> server::Limits {
        server::Limits {
            max_request_bytes: self.max_request_bytes,
            max_response_bytes: self.max_response_bytes,
            default_timeout: Duration::from_secs(self.default_timeout_secs),
            import_timeout: Duration::from_secs(self.import_timeout_secs),
            max_concurrent_calls: self.max_concurrent_calls.max(1),
            keepalive_interval: Duration::from_secs(self.keepalive_interval_secs),
            keepalive_timeout: Duration::from_secs(self.keepalive_timeout_secs),
            max_connection_age: Duration::from_secs(self.max_connection_age_secs),
            max_connection_age_grace: Duration::from_secs(self.max_connection_age_grace_secs),
        }
    }
}

#[derive(Args)]
struct ImportArgs {
    /// The JSON Lines file.
    file: PathBuf,
    /// Import through a running server (e.g. `http://127.0.0.1:50051`)
    /// instead of writing a data dir directly.
    #[arg(long, env = "DIPLOMACY_SERVER")]
    server: Option<String>,
    #[command(flatten)]
    data: DataArgs,
    /// Write the valid records and report the invalid ones (default: any
    /// invalid record means nothing is written).
    #[arg(long)]
    best_effort: bool,
    /// Validate only; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Bearer token for `--server` (writes need a read-write token).
    #[arg(long, env = "DIPLOMACY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Close and open the database again after this many records (0:
    /// never). sled's memory grows with what was written since it opened
    /// the database, and an open starts over: the full generated dataset
    /// peaked at 13 GB resident in one go, 2.7 GB with 200,000. Not with
    /// `--server`.
    #[arg(long, default_value_t = 200_000)]
    checkpoint_every: usize,
}

#[derive(Args)]
struct ExportArgs {
    /// Export from a running server instead of reading a data dir.
    #[arg(long, env = "DIPLOMACY_SERVER")]
    server: Option<String>,
    /// Bearer token for `--server`, where reads need one.
    #[arg(long, env = "DIPLOMACY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    data: DataArgs,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = init_logs(&cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            drop(logs);
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(*args).await,
            Command::Import(args) => import(args).await,
            Command::Export(args) => export(args).await,
            Command::Descriptor(args) => descriptor(args),
            Command::Reference(args) => reference(args),
            Command::Check(args) => check(args),
            Command::Compact(args) => compact(args),
            Command::Generate(args) => generate(args),
            Command::Bench(args) => bench(args).await,
        }
    });
    drop(runtime);
    // Written out before the final error line, so that it comes last.
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error through a writer thread: a server logs a line
/// per call, and a write(2) per line on the runtime's threads cost about a
/// fifth of a cheap call's CPU (and would stall a worker whenever the log
/// reader is slow). The thread writes whatever has queued up with one
/// write. It is not lossy: past 128,000 queued lines, logging waits, as it
/// did before. Lines are written out when the returned guard is dropped.
fn init_logs(format: &str) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("diplomacy-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if format == "json" {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    guard
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn store_options(data: &DataArgs, seed: bool) -> StoreOptions {
    StoreOptions {
        data_dir: data.data_dir.clone(),
        seed,
        cache_bytes: data.cache_mb * 1024 * 1024,
        writer: WriterOptions {
            change_retention: data.change_retention,
            relation_cache_bytes: data.relation_cache_mb << 20,
            ..WriterOptions::default()
        },
        lock_wait: Duration::ZERO,
    }
}

async fn serve(args: ServeArgs) -> CliResult {
    let shutdown = shutdown_signal()?;
    let store = server::open_store(&store_options(&args.data, !args.no_seed)).await?;
    return_freed_memory();
    let tokens = tokens(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let address = listener.local_addr()?;
    if let Some(admin) = args.admin_listen {
        let admin = tokio::net::TcpListener::bind(admin)
            .await
            .map_err(|e| format!("cannot listen on {admin} for metrics: {e}"))?;
        let admin_address = admin.local_addr()?;
        diplomacy::admin::metrics_handle();
        tokio::spawn(diplomacy::admin::serve_admin(
            admin,
            std::sync::Arc::downgrade(&store),
        ));
        tracing::info!("metrics on http://{admin_address}/metrics");
    }
    tracing::info!(%address, data_dir = %args.data.data_dir.display(), "diplomacy ready on {address}");
    let options = ServeOptions {
        drain_delay: Duration::from_secs(args.drain_delay_secs),
        drain_timeout: Duration::from_secs(args.drain_timeout_secs),
        tokens,
        limits: args.limits.limits(),
        cors_origins: args.cors_origins.clone(),
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(server::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: args.tls_client_ca.clone(),
            }),
            _ => None,
        },
        ..ServeOptions::default()
    };
    #[cfg(feature = "otlp")]
    if let Some(endpoint) = &args.otlp_endpoint {
        diplomacy::otlp::start(endpoint.clone());
    }
    let served = server::serve(listener, store, options, shutdown).await;
    if served.is_ok() {
        let started = Instant::now();
        match checkpoint(&args.data.data_dir).await {
            Ok(()) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "checkpointed the database: the next start reads it without replaying this run's writes"
            ),
            Err(e) => tracing::warn!(error = %e, "could not checkpoint the database: the next start replays this run's writes"),
        }
        tracing::info!("stopped");
    }
    #[cfg(feature = "otlp")]
    diplomacy::otlp::flush(Duration::from_secs(5)).await;
    served
}

/// `diplomacy import`'s store, closed and opened again every `every`
/// records (see `importer::ImportTarget`).
struct Reopening {
    /// None only while it is opened again.
    store: Option<std::sync::Arc<Store>>,
    options: StoreOptions,
    every: usize,
    since: usize,
}

impl importer::ImportTarget for Reopening {
    fn store(&self) -> &Store {
        self.store
            .as_deref()
            .expect("the store is open between batches: a failed open ends the import")
    }

    async fn after_batch(&mut self, records: usize) -> Result<(), diplomacy::error::Error> {
        self.since += records;
        if self.every == 0 || self.since < self.every {
            return Ok(());
        }
        self.since = 0;
        let started = Instant::now();
        // The import holds the only handle: dropping it closes the
        // database, once sled's background thread has let go of its lock
        // (`options.lock_wait`).
        drop(self.store.take());
        let store = server::open_store(&self.options).await?;
        return_freed_memory();
        self.store = Some(store);
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "checkpointed the database during the import"
        );
        Ok(())
    }
}

/// `kv::checkpoint` off the async workers, once this process has closed the
/// database.
async fn checkpoint(data_dir: &std::path::Path) -> Result<(), diplomacy::error::Error> {
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || diplomacy::store::checkpoint(&dir, Duration::from_secs(5)))
        .await
        .map_err(|e| diplomacy::error::Error::Unavailable(e.to_string()))?
}

/// The configured tokens; a generated one when none is configured.
fn tokens(args: &ServeArgs) -> Result<Tokens, diplomacy::error::Error> {
    let mut tokens = Tokens::default();
    tokens.require_for_reads = args.require_auth_for_reads;
    if let Some(path) = &args.tokens_file {
        tokens.load_file(path)?;
    }
    if let Some(token) = &args.token {
        tokens.add(token, Scope::ReadWrite);
    }
    if tokens.is_empty() {
        let (token, created) = auth::ensure_generated_token(&args.data.data_dir)?;
        tokens.add(&token, Scope::ReadWrite);
        let path = auth::generated_token_path(&args.data.data_dir);
        let what = if created { "generated" } else { "using" };
        tracing::info!(path = %path.display(), "no token configured: {what} a read-write token in {}", path.display());
    }
    Ok(tokens)
}

/// Registers SIGINT (Ctrl-C) and SIGTERM handlers now, so that a signal that
/// arrives right after the ready line is not lost, and returns a future that
/// resolves on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Records written by an import past which it suggests `diplomacy
/// compact`: below, the files gain little (BENCHMARKS.md).
const COMPACT_HINT_AFTER: i64 = 100_000;

async fn import(args: ImportArgs) -> CliResult {
    // Read as it is imported, never whole: the file can be larger than memory.
    let source = dataset::JsonLinesFile::new(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let mode = if args.best_effort {
        Mode::BestEffort
    } else {
        Mode::AllOrNothing
    };
    let progress = Progress::new(0);
    let report = match &args.server {
        Some(server) => {
            let mut count = 0;
            let mut unreadable = Vec::new();
            for item in source.read()? {
                match item {
                    Ok(_) => count += 1,
                    Err(error) => unreadable.push(error),
                }
            }
            if !unreadable.is_empty() {
                return Err(unreadable_lines(&unreadable).into());
            }
            progress.set_total(count);
            import_remote(
                server,
                args.token.as_deref(),
                &source,
                mode,
                args.dry_run,
                &progress,
            )
            .await?
        }
        None => {
            let options = store_options(&args.data, false);
            let target = Reopening {
                store: Some(server::open_store(&options).await?),
                // Only the reopenings wait: another process's lock fails the
                // first open at once.
                options: StoreOptions {
                    lock_wait: Duration::from_secs(5),
                    ..options
                },
                every: args.checkpoint_every,
                since: 0,
            };
            let report = importer::import(target, &source, mode, args.dry_run, |done, total| {
                progress.set_total(total);
                progress.set(done);
            })
            .await?;
            if !report.unreadable.is_empty() {
                progress.finish();
                return Err(unreadable_lines(&report.unreadable).into());
            }
            importer_report(report)
        }
    };
    progress.finish();
    for error in report.errors.iter().take(100) {
        eprintln!(
            "record {} ({}): {} {}",
            error.index + 1,
            error.name,
            error.code,
            error.message
        );
    }
    if report.errors.len() > 100 {
        eprintln!("… and {} more invalid records", report.errors.len() - 100);
    }
    let verb = if args.dry_run { "checked" } else { "imported" };
    eprintln!(
        "{verb} {} records: {} written, {} unchanged, {} invalid, in {:.1} s ({:.0} records/s); revision {}",
        report.received,
        report.written,
        report.unchanged,
        report.errors.len(),
        progress.elapsed(),
        report.received as f64 / progress.elapsed().max(1e-9),
        report.revision,
    );
    if args.server.is_none() && !args.dry_run && report.written > 0 {
        let started = Instant::now();
        match checkpoint(&args.data.data_dir).await {
            Ok(()) => eprintln!(
                "checkpointed the database in {:.1} s: the next start reads it without replaying the import",
                started.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("could not checkpoint the database ({e}): the next start replays the import"),
        }
        if report.written >= COMPACT_HINT_AFTER {
            eprintln!(
                "tip: `diplomacy compact --data-dir {}` writes the files again in key order \
                 (half the size or less after a large import, and a faster start)",
                args.data.data_dir.display()
            );
        }
    }
    if report.errors.is_empty() {
        Ok(())
    } else if mode == Mode::AllOrNothing && !args.dry_run {
        Err("nothing was written: fix the records above, or pass --best-effort".into())
    } else {
        Err(format!("{} record(s) were not written", report.errors.len()).into())
    }
}

fn unreadable_lines(errors: &[dataset::LineError]) -> String {
    let shown: Vec<String> = errors.iter().take(50).map(ToString::to_string).collect();
    format!(
        "{} unreadable line(s), nothing written:\n{}",
        errors.len(),
        shown.join("\n")
    )
}

fn importer_report(report: importer::Report) -> pb::ImportRecordsResponse {
    pb::ImportRecordsResponse {
        received: report.received as i64,
        written: report.written as i64,
        unchanged: report.unchanged as i64,
        revision: report.revision,
        errors: report
            .errors
            .into_iter()
            .map(|e| pb::ImportError {
                index: e.index as i64,
                name: e.name,
                code: e.error.code_name().to_string(),
                message: e.error.to_string(),
                field_violations: Vec::new(),
            })
            .collect(),
    }
}

/// Streams the records to a server's `ImportRecords`.
async fn import_remote(
    server: &str,
    token: Option<&str>,
    source: &impl Source,
    mode: Mode,
    dry_run: bool,
    progress: &Progress,
) -> Result<pb::ImportRecordsResponse, Box<dyn std::error::Error + Send + Sync>> {
    let mut client = records_client(server, token).await?;
    let mode = match mode {
        Mode::AllOrNothing => pb::ImportMode::AllOrNothing,
        Mode::BestEffort => pb::ImportMode::BestEffort,
    } as i32;
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let call = tokio::spawn(async move {
        client
            .import_records(tokio_stream::wrappers::ReceiverStream::new(receiver))
            .await
    });
    let mut sent = 0;
    let mut records = source.read()?.map_while(Result::ok).peekable();
    while records.peek().is_some() {
        let chunk: Vec<pb::Record> = records
            .by_ref()
            .take(500)
            .map(|record| pb::Record {
                kind: Some(record.into_owned()),
            })
            .collect();
        let count = chunk.len();
        let message = pb::ImportRecordsRequest {
            mode,
            validate_only: dry_run,
            records: chunk,
        };
        if sender.send(message).await.is_err() {
            break;
        }
        sent += count;
        progress.set(sent);
    }
    drop(sender);
    Ok(call.await??.into_inner())
}

type AuthClient = RecordServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BearerToken>,
>;

/// Adds `authorization: Bearer …` to every call.
#[derive(Clone)]
struct BearerToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

async fn records_client(
    server: &str,
    token: Option<&str>,
) -> Result<AuthClient, Box<dyn std::error::Error + Send + Sync>> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint(server))?
        .connect()
        .await?;
    let header = token
        .map(|t| format!("Bearer {t}").parse())
        .transpose()
        .map_err(|_| "the token is not valid header text")?;
    Ok(RecordServiceClient::with_interceptor(
        channel,
        BearerToken(header),
    ))
}

/// `host:port` or a URL.
fn endpoint(server: &str) -> String {
    if server.contains("://") {
        server.to_string()
    } else {
        format!("http://{server}")
    }
}

/// Import progress: a bar on a terminal, a line a second otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Known once the records are checked.
    total: std::sync::atomic::AtomicUsize,
    started: Instant,
    last_line: std::sync::Mutex<Instant>,
}

impl Progress {
    fn new(total: usize) -> Self {
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} records ({per_sec}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            total: total.into(),
            started: Instant::now(),
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn set_total(&self, total: usize) {
        self.total
            .store(total, std::sync::atomic::Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
        }
    }

    fn set(&self, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        let total = self.total.load(std::sync::atomic::Ordering::Relaxed);
        if last.elapsed() >= Duration::from_secs(1) || done == total {
            *last = Instant::now();
            eprintln!(
                "progress: {done}/{total} records ({:.0} records/s)",
                done as f64 / self.elapsed().max(1e-9)
            );
        }
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

async fn export(args: ExportArgs) -> CliResult {
    let mut out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    match &args.server {
        Some(server) => {
            let mut client = records_client(server, args.token.as_deref()).await?;
            let mut stream = client
                .export_records(pb::ExportRecordsRequest::default())
                .await?
                .into_inner();
            while let Some(message) = stream.message().await? {
                for record in message.records.into_iter().filter_map(|r| r.kind) {
                    writeln!(out, "{}", dataset::to_json_line(&record)?)?;
                }
            }
        }
        None => {
            let options = store_options(&args.data, false);
            let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
            for collection in Collection::ALL {
                for record in store.records(collection) {
                    let record = diplomacy::records::without_store_meta(record?);
                    writeln!(out, "{}", dataset::to_json_line(&record)?)?;
                }
            }
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

fn reference(args: ReferenceArgs) -> CliResult {
    let records = diplomacy::reference::iso_codes_records(&args.databases)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    for record in &records {
        writeln!(out, "{}", dataset::to_json_line(record)?)?;
    }
    out.flush()?;
    eprintln!("{} {} records", args.dataset, records.len());
    Ok(())
}

fn check(args: CheckArgs) -> CliResult {
    if !args.data.data_dir.join("db").exists() {
        return Err(format!("{} holds no database", args.data.data_dir.display()).into());
    }
    let options = store_options(&args.data, false);
    let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
    let report = store.check()?;
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    println!(
        "checked {} records, {} index entries, {} logged changes: {} problem(s)",
        report.records, report.index_entries, report.changes, report.problem_count
    );
    if report.is_consistent() {
        Ok(())
    } else {
        Err(format!("{} is inconsistent", args.data.data_dir.display()).into())
    }
}

fn compact(args: CheckArgs) -> CliResult {
    let dir = &args.data.data_dir;
    let started = Instant::now();
    let done = diplomacy::store::compact::compact(dir, args.data.cache_mb << 20, |entries| {
        tracing::info!(entries, "compacting: entries copied so far");
    })?;
    println!(
        "compacted {}: {} entries, {} bytes on disk before, {} after, in {:.1} s",
        dir.display(),
        done.entries,
        done.bytes_before,
        done.bytes_after,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn generate(args: GenerateArgs) -> CliResult {
    let sizes = diplomacy::generate::Sizes::scaled(args.scale);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let total = sizes.meetings + sizes.treaties + sizes.events;
    let progress = Progress::new(total);
    let mut written = 0;
    let mut failure = None;
    diplomacy::generate::generate(args.seed, sizes, |record| {
        if failure.is_some() {
            return;
        }
        match dataset::to_json_line(&record)
            .map_err(|e| e.to_string())
            .and_then(|line| writeln!(out, "{line}").map_err(|e| e.to_string()))
        {
            Ok(()) => {
                written += 1;
                if written % 10_000 == 0 || written == total {
                    progress.set(written);
                }
            }
            Err(e) => failure = Some(e),
        }
    });
    progress.finish();
    if let Some(e) = failure {
        return Err(e.into());
    }
    out.flush()?;
    eprintln!(
        "generated {written} records ({} meetings, {} treaties, {} events)",
        sizes.meetings, sizes.treaties, sizes.events
    );
    Ok(())
}

/// Total size of the files under `dir`.
fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A memory figure of a process from `/proc/{pid}/status`, in KiB:
/// `VmRSS` (resident now) or `VmHWM` (peak resident).
fn memory_kib(pid: u32, field: &str) -> String {
    let read = || -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    read().map_or("?".into(), |kib| kib.to_string())
}

async fn bench(args: BenchArgs) -> CliResult {
    use diplomacy::bench::{self, Load};
    let scenarios = bench::parse_scenarios(&args.scenarios)?;
    let (records, bytes) = {
        let options = store_options(&args.data, false);
        let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
        let records: u64 = store.counts()?.values().sum();
        (records, dir_size(&args.data.data_dir))
    };
    let token = format!("bench-{}-0123456789", std::process::id());
    // sled releases the database lock from a background thread after the
    // count above dropped its handle: a server that starts too soon finds
    // it held, so it is retried for a few seconds.
    let mut attempts = 0;
    let (started, mut child, lines, address) = loop {
        attempts += 1;
        let started = Instant::now();
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--drain-delay-secs",
                "0",
                "--data-dir",
            ])
            .arg(&args.data.data_dir)
            .args(["--cache-mb", &args.data.cache_mb.to_string()])
            .args([
                "--relation-cache-mb",
                &args.data.relation_cache_mb.to_string(),
            ])
            .env("DIPLOMACY_TOKEN", &token)
            .env("RUST_LOG", "warn,diplomacy=info")
            .env("DIPLOMACY_MAX_CONCURRENT_CALLS", "100000")
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        let mut output = Vec::new();
        let address = loop {
            let Some(line) = lines.next().transpose()? else {
                break None;
            };
            if let Some(rest) = line.split("ready on ").nth(1) {
                break Some(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            output.push(line);
        };
        match address {
            Some(address) => break (started, child, lines, address),
            None => {
                let _ = child.wait();
                let locked = output
                    .iter()
                    .any(|l| l.contains(diplomacy::store::LOCK_HELD));
                if !locked || attempts == 20 {
                    return Err(format!(
                        "the server exited before it was ready:\n{}",
                        output.join("\n")
                    )
                    .into());
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    };
    let pid = child.id();
    // The server logs when its relation cache is warm, and how its stop went;
    // the rest is drained.
    let (warmed_sender, warmed) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut warmed_sender = Some(warmed_sender);
        for line in lines.map_while(Result::ok) {
            // How its stop went (`stop_server`): whether it checkpointed.
            if line.contains("checkpoint") {
                eprintln!("server: {line}");
            }
            if line.contains(server::RELATION_CACHE_WARMED)
                || line.contains(server::RELATION_CACHE_WARMING_FAILED)
            {
                if let Some(sender) = warmed_sender.take() {
                    let _ = sender.send(started.elapsed());
                }
            }
        }
    });
    let result = async {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?;
        let mut first = diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient::new(endpoint.connect().await?);
        first
            .get_relation(pb::GetRelationRequest { name: "countries/AM/relations/AZ".into(), as_of: None, ..Default::default() })
            .await?;
        let first_answer = started.elapsed();
        let resident_at_first_answer = memory_kib(pid, "VmRSS:");
        // Measured as a server that has been up a while: its relation cache
        // filled (the busiest pairs first) before the first scenario.
        eprintln!("waiting for the server to warm its relation cache …");
        let warm = tokio::time::timeout(Duration::from_secs(900), warmed)
            .await
            .map_err(|_| "the server did not warm its relation cache within 15 minutes")?
            .map_err(|_| "the server stopped before its relation cache was warm")?;
        let mut channels = Vec::new();
        for _ in 0..args.connections.max(1) {
            channels.push(endpoint.connect().await?);
        }
        let load = Load {
            connections: args.connections.max(1),
            in_flight: args.in_flight.max(1),
            duration: Duration::from_secs_f64(args.duration_secs),
            seed: args.seed,
            token: token.clone(),
        };
        // In the first round each scenario first runs unmeasured for a fifth
        // of its time (at most 2 s), so that caches and connections are
        // warm, as they are in a server that has been up for a while.
        let warm_up = Load {
            duration: (load.duration / 5).min(Duration::from_secs(2)),
            ..load.clone()
        };
        // Each scenario runs right after a baseline run of its own, its
        // ratios against that run (`bench::table`).
        let runs: Vec<bench::Scenario> = match scenarios.as_slice() {
            [only] => vec![*only],
            _ => scenarios
                .iter()
                .filter(|s| **s != bench::Scenario::Baseline)
                .flat_map(|s| [bench::Scenario::Baseline, *s])
                .collect(),
        };
        let rounds = args.rounds.max(1);
        let mut figures = Vec::new();
        for round in 1..=rounds {
            let mut this_round = Vec::new();
            for (at, &scenario) in runs.iter().enumerate() {
                eprintln!(
                    "round {round}/{rounds}: running {} for {:.1} s …",
                    scenario.name(),
                    args.duration_secs
                );
                let first_time = !runs[..at].contains(&scenario);
                if round == 1 && first_time && scenario != bench::Scenario::Writes {
                    bench::run(scenario, &channels, &warm_up, None).await;
                }
                this_round.push(bench::run(scenario, &channels, &load, Some(pid)).await);
            }
            figures.push(this_round);
        }
        println!("{}", bench::table(&figures));
        println!(
            "records: {records}; on disk before the run: {bytes} bytes ({:.0} bytes/record); \
             start to first GetRelation answer: {} ms; server resident memory at that answer: {} KiB, \
             after the run: {} KiB, peak: {} KiB; relation cache warm {:.1} s after start; \
             load: {} connections × {} in flight, {:.1} s per scenario, {rounds} round(s)",
            bytes as f64 / records.max(1) as f64,
            first_answer.as_millis(),
            resident_at_first_answer,
            memory_kib(pid, "VmRSS:"),
            memory_kib(pid, "VmHWM:"),
            warm.as_secs_f64(),
            load.connections,
            load.in_flight,
            args.duration_secs,
        );
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    stop_server(&mut child).await;
    result
}

/// Stops the bench's server as an orchestrator would, with SIGTERM, so that
/// it checkpoints its database on the way out and the next start of that
/// data dir replays nothing; killed if it has not stopped within a minute.
async fn stop_server(child: &mut std::process::Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: `kill` takes no pointers, and `pid` is this process's own
        // child, not yet waited for, so it cannot name another process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
