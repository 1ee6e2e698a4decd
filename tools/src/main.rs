//! `diplomacy-tools`: the data generator and the load generator.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use diplomacy_tools::bench::{self, server::server_binary, session::Session, Load};
use diplomacy_tools::generate;

// The allocator the load generator's own CPU per call was measured with
// (BENCHMARKS.md) when it shared the server's binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Tools around the diplomacy service: a synthetic data generator and a load generator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic dataset (deterministic from a seed) as JSON Lines
    /// for `diplomacy import`.
    Generate(GenerateArgs),
    /// Write a synthetic file in the layout of COW's Diplomatic Exchange
    /// data (the built-in states' pairs, newest snapshot years first) for
    /// `diplomacy import --format cow-dipex`.
    GenerateDipex(GenerateDipexArgs),
    /// Write the pairs the load generator draws from, as CSV (`index,a,b`,
    /// country codes), in the order its skewed draw indexes them: for
    /// benches/postgres.sh, whose pgbench script draws as `bench` does.
    Pairs(PairsArgs),
    /// Start the diplomacy server on a data dir and measure it under load.
    Bench(BenchArgs),
    /// Write durably and steadily for a long time while sampling the
    /// server's resident memory every second (#29): does it level off within
    /// its caches and a fixed overhead? Optionally draws it as an SVG.
    Soak(SoakArgs),
    /// Open a data dir's sled database with no service around it and print
    /// this process's resident memory (`VmRSS` and `VmHWM`, KiB): sled's own
    /// footprint for those files, which `bench` reports the server against.
    SledFootprint(SledFootprintArgs),
    /// Serve only `grpc.health.v1.Health/Check` with tonic-health and no
    /// layer of ours: the empty server `bench` measures every scenario
    /// against too (it starts this itself).
    EmptyServer(EmptyServerArgs),
}

#[derive(Args)]
struct EmptyServerArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Where to write the ready file, as `diplomacy serve --ready-file`.
    #[arg(long)]
    ready_file: PathBuf,
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

/// The server a measurement starts, and the data it serves.
#[derive(Args)]
struct ServerUnderTest {
    /// The server's data dir (made with `generate` and `diplomacy import`).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// The server's page cache, in MiB.
    #[arg(long, default_value_t = 64)]
    cache_mb: u64,
    /// The server's relation cache, in MiB.
    #[arg(long, default_value_t = 256)]
    relation_cache_mb: usize,
    /// The `diplomacy` binary to start (default: the one built beside this
    /// program).
    #[arg(long, env = "DIPLOMACY_BIN")]
    server_bin: Option<PathBuf>,
    /// The seed the data was generated with (queries hit its pairs, writes
    /// name its countries).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A flag for the server, given as it is (repeatable), e.g.
    /// `--server-arg=--etcd-endpoints=http://127.0.0.1:2379` to measure a
    /// replica of etcd whose index is `--data-dir`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
}

impl ServerUnderTest {
    /// How to start the server these flags name.
    fn launch(&self) -> Result<bench::server::Launch, Box<dyn std::error::Error + Send + Sync>> {
        Ok(bench::server::Launch {
            binary: server_binary(self.server_bin.as_deref())?,
            data_dir: self.data_dir.clone(),
            cache_mb: self.cache_mb,
            relation_cache_mb: self.relation_cache_mb,
            extra: self.server_args.clone(),
        })
    }
}

#[derive(Args)]
struct SoakArgs {
    #[command(flatten)]
    server: ServerUnderTest,
    /// How long to write.
    #[arg(long, default_value_t = 1800.0)]
    duration_secs: f64,
    /// Durable writes in flight.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// GetRelation calls in flight beside the writes (their slowest shows
    /// the longest pause of reads).
    #[arg(long, default_value_t = 2)]
    readers: usize,
    /// Write new events, so that the data grows, instead of rewriting a
    /// fixed set.
    #[arg(long)]
    growing: bool,
    /// Draw resident memory over time into this SVG file.
    #[arg(long)]
    svg: Option<PathBuf>,
}

#[derive(Args)]
struct SledFootprintArgs {
    /// The data dir (not in use by a server).
    #[arg(long)]
    data_dir: PathBuf,
    /// The page cache, in MiB, as the server is given it.
    #[arg(long, default_value_t = 64)]
    cache_mb: u64,
}

#[derive(Args)]
struct PairsArgs {
    /// The seed the data was generated with, as `bench --seed`.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct GenerateDipexArgs {
    /// Seed of the generator: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Rows to write at least (whole snapshot years are written).
    #[arg(long, default_value_t = 300_000)]
    rows: usize,
    /// The file to write.
    #[arg(long)]
    output: PathBuf,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    server: ServerUnderTest,
    /// The scale the data was generated with: names its typical pair, for
    /// the get-relation-typical scenario (left out of `all` without it).
    #[arg(long)]
    scale: Option<f64>,
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
    /// get-relation-typical, get-relation-busiest-basic, get-relation-seed,
    /// history-page, list-relations, stream-history, writes, writes-steady
    /// (not in `all`; the soak's load) (each runs right after a run of the
    /// empty tonic server and a baseline run of its own, and its ratios are
    /// against those runs).
    #[arg(long, default_value = "all")]
    scenarios: String,
    /// Runs of every scenario (each with its baseline run): the table shows
    /// the median round with the range across rounds.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result =
        match cli.command {
            Command::Generate(args) => write_generated(args),
            Command::GenerateDipex(args) => write_dipex(args),
            Command::Pairs(args) => write_pairs(args),
            Command::Soak(args) => tokio::runtime::Runtime::new()
                .map_err(Into::into)
                .and_then(|runtime| runtime.block_on(soak(args))),
            Command::SledFootprint(args) => {
                bench::footprint::print(&args.data_dir, args.cache_mb).map_err(Into::into)
            }
            Command::Bench(args) => tokio::runtime::Runtime::new()
                .map_err(Into::into)
                .and_then(|runtime| runtime.block_on(measure(args))),
            Command::EmptyServer(args) => tokio::runtime::Runtime::new()
                .map_err(Into::into)
                .and_then(|runtime| {
                    runtime.block_on(bench::empty::serve(args.listen, &args.ready_file))
                }),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn soak(args: SoakArgs) -> CliResult {
    let report = bench::soak::Soak {
        server: args.server.launch()?,
        duration: Duration::from_secs_f64(args.duration_secs),
        writers: args.writers,
        readers: args.readers,
        growing: args.growing,
        seed: args.server.seed,
        svg: args.svg,
    }
    .run()
    .await?;
    println!("{}", report.render());
    Ok(())
}

fn write_pairs(args: PairsArgs) -> CliResult {
    let countries = generate::countries();
    let picker = generate::PairPicker::seeded(args.seed, countries.len());
    let code = |i: usize| countries[i].trim_start_matches("countries/");
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (index, (a, b)) in picker.pairs().iter().enumerate() {
        writeln!(out, "{index},{},{}", code(*a), code(*b))?;
    }
    out.flush()?;
    Ok(())
}

fn write_dipex(args: GenerateDipexArgs) -> CliResult {
    let file = std::fs::File::create(&args.output)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let rows = diplomacy_tools::dipex::write(args.seed, args.rows, &mut out)?;
    out.flush()?;
    eprintln!("{rows} rows written to {}", args.output.display());
    Ok(())
}

fn write_generated(args: GenerateArgs) -> CliResult {
    let sizes = generate::Sizes::scaled(args.scale);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let total = sizes.meetings + sizes.treaties + sizes.events;
    let mut written = 0;
    let mut failure = None;
    generate::generate(args.seed, sizes, |record| {
        if failure.is_some() {
            return;
        }
        match diplomacy::ingest::to_json_line(&record)
            .map_err(|e| e.to_string())
            .and_then(|line| writeln!(out, "{line}").map_err(|e| e.to_string()))
        {
            Ok(()) => {
                written += 1;
                if written % 100_000 == 0 {
                    eprintln!("progress: {written}/{total} records");
                }
            }
            Err(e) => failure = Some(e),
        }
    });
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

async fn measure(args: BenchArgs) -> CliResult {
    let mut scenarios = bench::parse_scenarios(&args.scenarios)?;
    let typical_pair = match args.scale {
        Some(scale) => generate::typical_pair(args.server.seed, generate::Sizes::scaled(scale)),
        None if args.scenarios == "all" => {
            scenarios.retain(|s| *s != bench::Scenario::GetRelationTypical);
            None
        }
        None if scenarios.contains(&bench::Scenario::GetRelationTypical) => {
            return Err(
                "get-relation-typical needs --scale, the scale the data was generated with".into(),
            )
        }
        None => None,
    };
    let session = Session {
        server: args.server.launch()?,
        scenarios,
        load: Load {
            connections: args.connections.max(1),
            in_flight: args.in_flight.max(1),
            duration: Duration::from_secs_f64(args.duration_secs),
            seed: args.server.seed,
            token: format!("bench-{}-0123456789", std::process::id()),
            typical_pair,
        },
        rounds: args.rounds,
    };
    println!("{}", session.measure().await?);
    Ok(())
}
