//! `diplomacy import` and `diplomacy export`: records in and out of a data
//! dir, or of a running server.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use diplomacy::domain::{Collection, CountryCode};
use diplomacy::ingest::{self, Mode, Source};
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::server::{self, StoreOptions};
use diplomacy::store::Store;

use super::args::{DataArgs, EtcdArgs, ServerArgs};
use super::client::records_client;
use super::etcd::TemporaryIndex;
use super::memory::return_freed_memory;
use super::output::{open_output, Progress};
use super::serve::checkpoint;
use super::CliResult;

/// Records written by an import past which it suggests `diplomacy
/// compact`: below, the files gain little (BENCHMARKS.md).
const COMPACT_HINT_AFTER: i64 = 100_000;

/// Records a message of `ImportRecords` carries from `diplomacy import
/// --server`.
const RECORDS_PER_MESSAGE: usize = 500;

#[derive(Args)]
pub struct ImportArgs {
    /// The file: JSON Lines of `diplomacy.v1.Record`, or (with `--format
    /// cow-states`) COW's State System Membership list as COW distributes it,
    /// or (with `--format ucdp-acd`) the UCDP/PRIO Armed Conflict Dataset.
    file: PathBuf,
    /// What the file is: `jsonl` (records), or `cow-states` (COW's
    /// `states2016.csv`: each row becomes a membership of the country that
    /// holds its code then; a code no built-in state holds becomes a country
    /// `cow-{abbreviation}`; importing it again changes nothing), or
    /// `ucdp-acd` (UCDP's conflict-year CSV: each episode of an interstate
    /// or internationalised conflict becomes an armed conflict with two
    /// sides, `events/ucdp-{conflict_id}-{episode start}`; non-state sides
    /// become actors `actors/ucdp-{id}`; states are matched by their COW
    /// codes; importing it again changes nothing), or `cow-dipex` (COW's
    /// Diplomatic Exchange v2006.1 CSV: each snapshot of a pair becomes a
    /// year-precision REPRESENTATION event
    /// `events/cow-dipex-{ccode1}-{ccode2}-{year}` with the level each way;
    /// states are matched by COW code on the year; importing it again
    /// changes nothing), or `cow-alliance` (COW Formal Alliances v4.1 by
    /// directed dyad: each alliance becomes `treaties/cow-alliance-{id}`
    /// with its obligations per direction), or `wikidata-p530` (the JSON
    /// results of the README's SPARQL query: relations established and
    /// ended, countries linked to their Wikidata items).
    #[arg(long, value_enum, default_value_t = ImportFormat::Jsonl)]
    format: ImportFormat,
    #[command(flatten)]
    remote: ServerArgs,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    etcd: EtcdArgs,
    /// etcd's quota in bytes, where etcd does not report it (3.4 does not):
    /// an import that would not fit is refused before it writes.
    #[arg(long, env = "DIPLOMACY_ETCD_QUOTA_BYTES", default_value_t = super::etcd::DEFAULT_QUOTA_BYTES, requires = "etcd_endpoints")]
    etcd_quota_bytes: u64,
    /// Write the valid records and report the invalid ones (default: any
    /// invalid record means nothing is written).
    #[arg(long)]
    best_effort: bool,
    /// Validate only; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Close and open the database again after this many records (0:
    /// never): sled's memory grows with what was written since it opened
    /// the database, and an open starts over (BENCHMARKS.md). Not with
    /// `--server`.
    #[arg(long, default_value_t = 200_000)]
    checkpoint_every: usize,
}

/// The formats `diplomacy import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    Jsonl,
    CowStates,
    UcdpAcd,
    CowDipex,
    CowAlliance,
    WikidataP530,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    remote: ServerArgs,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    etcd: EtcdArgs,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// What to write: `jsonl` (every record), `dyad-year-csv` (one row per
    /// pair of states and year, both existing; README: "Panels out") or
    /// `country-year-csv` (one row per state and year). The panels read a
    /// data dir, not `--server`.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    format: ExportFormat,
    /// First year of a panel.
    #[arg(long, required_if_eq_any = [("format", "dyad-year-csv"), ("format", "country-year-csv")])]
    from: Option<i32>,
    /// Last year of a panel.
    #[arg(long, required_if_eq_any = [("format", "dyad-year-csv"), ("format", "country-year-csv")])]
    to: Option<i32>,
    /// A dyad-year panel with both orders of every pair (A–B and B–A), its
    /// alliance obligations by direction.
    #[arg(long)]
    directed: bool,
    /// Only these states (codes, comma-separated), e.g. `AM,AZ,TR`.
    #[arg(long, value_delimiter = ',')]
    countries: Vec<String>,
}

/// The formats `diplomacy export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    DyadYearCsv,
    CountryYearCsv,
}

/// `diplomacy import`'s store, closed and opened again every `every`
/// records (see `ingest::ImportTarget`).
struct Reopening {
    /// None only while it is opened again.
    store: Option<Arc<Store>>,
    options: StoreOptions,
    every: usize,
    since: usize,
}

impl ingest::ImportTarget for Reopening {
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

pub async fn import(args: ImportArgs) -> CliResult {
    match args.format {
        ImportFormat::Jsonl => {
            // Read as it is imported, never whole: the file can be larger than memory.
            let source = ingest::JsonLinesFile::new(&args.file)
                .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
            import_into(&args, &source, Opened(None, None)).await
        }
        ImportFormat::CowStates => {
            let file = std::fs::File::open(&args.file)
                .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
            let rows = ingest::cow_states::read_cow_states(std::io::BufReader::new(file))
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let wanted = ingest::cow_states::cow_states_countries(&rows)?;
            let (countries, opened) = target_countries(&args).await?;
            let existing: BTreeMap<CountryCode, pb::Country> = countries
                .into_iter()
                .filter_map(|c| Some((CountryCode::from_name(&c.name)?, c)))
                .filter(|(code, _)| wanted.contains(code))
                .collect();
            let records = ingest::cow_states::cow_states_records(&rows, &existing)?;
            eprintln!(
                "{} COW rows give memberships to {} countries, {} of which change",
                rows.len(),
                wanted.len(),
                records.len()
            );
            import_into(&args, &records, opened).await
        }
        ImportFormat::UcdpAcd => {
            let file = std::fs::File::open(&args.file)
                .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
            let rows = ingest::ucdp::read_ucdp_acd(std::io::BufReader::new(file))
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let (countries, opened) = target_countries(&args).await?;
            let (records, summary) = ingest::ucdp::ucdp_records(&rows, &countries)
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
            eprintln!(
                "{} UCDP rows: {} episodes of interstate or internationalised conflicts; {} rows of other types left out",
                summary.rows, summary.episodes, summary.skipped_rows
            );
            import_into(&args, &records, opened).await
        }
        ImportFormat::CowDipex => {
            let (countries, opened) = target_countries(&args).await?;
            let file = ingest::cow_dipex::DipexFile::open(&args.file, &countries, args.best_effort)
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let outcome = import_into(&args, &file, opened).await;
            let summary = file.summary();
            eprintln!(
                "{} Diplomatic Exchange rows: {} repeat a snapshot from the other side, {} record no level, {} bad rows skipped",
                summary.rows,
                summary.mirrors,
                summary.unrecorded,
                summary.skipped.len()
            );
            print_skipped(&summary.skipped);
            outcome
        }
        ImportFormat::CowAlliance => {
            let (countries, opened) = target_countries(&args).await?;
            let file =
                ingest::cow_alliance::AllianceFile::open(&args.file, &countries, args.best_effort)
                    .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let outcome = import_into(&args, &file, opened).await;
            let skipped = file.log().skipped();
            eprintln!(
                "{} COW alliance rows read, {} bad rows skipped",
                file.log().rows(),
                skipped.len()
            );
            print_skipped(&skipped);
            outcome
        }
        ImportFormat::WikidataP530 => {
            let (countries, opened) = target_countries(&args).await?;
            let file =
                ingest::wikidata::WikidataFile::open(&args.file, &countries, args.best_effort)
                    .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let outcome = import_into(&args, &file, opened).await;
            let summary = file.summary();
            eprintln!(
                "{} Wikidata statements: {} countries linked to their items, {} naming an item no country matches, {} dates coarser than a year, {} undated, {} bad results skipped",
                summary.statements,
                summary.linked,
                summary.unmatched,
                summary.too_coarse,
                summary.undated,
                summary.skipped.len()
            );
            print_skipped(&summary.skipped);
            outcome
        }
    }
}

/// The bad rows an import left out (`--best-effort`), the first fifty.
fn print_skipped(rows: &[String]) {
    for row in rows.iter().take(50) {
        eprintln!("skipped {row}");
    }
    if rows.len() > 50 {
        eprintln!("… and {} more skipped rows", rows.len() - 50);
    }
}

/// Every country of the import's target, as it stands before the import:
/// what imports that match or extend countries start from. A data dir
/// stays open for the import (`Opened`): closing it and opening it again at
/// once races sled's background thread for the file lock.
async fn target_countries(
    args: &ImportArgs,
) -> Result<(Vec<pb::Country>, Opened), Box<dyn std::error::Error + Send + Sync>> {
    if args.etcd.is_set() {
        let index = TemporaryIndex::open(&args.etcd, Some(false)).await?;
        let countries = every_local_country(&index.store)?;
        return Ok((countries, Opened(None, Some(index))));
    }
    match &args.remote.server {
        Some(server) => Ok((
            every_remote_country(server, args.remote.token.as_deref()).await?,
            Opened(None, None),
        )),
        None => {
            let store = server::open_store(&args.data.store_options(false)).await?;
            let countries = every_local_country(&store)?;
            Ok((countries, Opened(Some(store), None)))
        }
    }
}

/// A data dir, or an index of etcd, an import opened before reading its
/// input, handed on.
struct Opened(Option<Arc<Store>>, Option<TemporaryIndex>);

/// Every country of a data dir.
fn every_local_country(
    store: &Store,
) -> Result<Vec<pb::Country>, Box<dyn std::error::Error + Send + Sync>> {
    let mut found = Vec::new();
    for record in store.records(Collection::Countries) {
        if let pb::record::Kind::Country(country) = record? {
            found.push(country);
        }
    }
    Ok(found)
}

/// Every country of a running server, page by page.
async fn every_remote_country(
    server: &str,
    token: Option<&str>,
) -> Result<Vec<pb::Country>, Box<dyn std::error::Error + Send + Sync>> {
    let channel = super::client::connect(
        server,
        super::client::Tls::default(),
        Duration::from_secs(5),
    )
    .await
    .map_err(|f| f.message)?;
    let mut client = pb::country_service_client::CountryServiceClient::with_interceptor(
        channel,
        super::client::bearer(token)?,
    );
    let mut found = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_countries(pb::ListCountriesRequest {
                page_size: 1000,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .map_err(|status| status.message().to_string())?
            .into_inner();
        found.extend(page.countries);
        if page.next_page_token.is_empty() {
            return Ok(found);
        }
        page_token = page.next_page_token;
    }
}

/// Imports `source` into the target: a running server, or a data dir,
/// already open (`opened`) when the import read its countries first.
async fn import_into(args: &ImportArgs, source: &impl Source, opened: Opened) -> CliResult {
    let mode = if args.best_effort {
        Mode::BestEffort
    } else {
        Mode::AllOrNothing
    };
    let progress = Progress::new(0);
    if args.etcd.is_set() {
        return import_through_etcd(args, source, opened.1, mode).await;
    }
    let report = match &args.remote.server {
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
            let remote = Remote {
                server,
                token: args.remote.token.as_deref(),
                mode,
                dry_run: args.dry_run,
            };
            remote.import(source, &progress).await?
        }
        None => {
            let options = args.data.store_options(false);
            let target = Reopening {
                store: Some(match opened.0 {
                    Some(store) => store,
                    None => server::open_store(&options).await?,
                }),
                // Only the reopenings wait: another process's lock fails the
                // first open at once.
                options: StoreOptions {
                    lock_wait: Duration::from_secs(5),
                    ..options
                },
                every: args.checkpoint_every,
                since: 0,
            };
            let report = ingest::import(target, source, mode, args.dry_run, |done, total| {
                progress.set_total(total);
                progress.set(done);
            })
            .await?;
            if !report.unreadable.is_empty() {
                progress.finish();
                return Err(unreadable_lines(&report.unreadable).into());
            }
            diplomacy::api::import_response(report)
        }
    };
    progress.finish();
    print_report(&report, args.dry_run, &progress);
    if args.remote.server.is_none() && !args.dry_run && report.written > 0 {
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
    import_outcome(&report, mode, args.dry_run)
}

/// `import --etcd-endpoints`: the whole input checked against a fresh index
/// of etcd, refused if it would not fit etcd's quota, then written through
/// etcd in transactions within its limits.
async fn import_through_etcd(
    args: &ImportArgs,
    source: &impl Source,
    index: Option<TemporaryIndex>,
    mode: Mode,
) -> CliResult {
    let index = match index {
        Some(index) => index,
        None => TemporaryIndex::open(&args.etcd, Some(false)).await?,
    };
    if !args.dry_run {
        let (mut records, mut bytes) = (0u64, 0u64);
        for record in source.read()?.flatten() {
            records += 1;
            bytes += (diplomacy::records::encode_record(&record).len()
                + diplomacy::records::record_name(&record).len()
                + args.etcd.etcd_prefix.len()) as u64;
        }
        index
            .check_room(records, bytes, args.etcd_quota_bytes)
            .await?;
    }
    let progress = Progress::new(0);
    let report = ingest::import(&*index.store, source, mode, args.dry_run, |done, total| {
        progress.set_total(total);
        progress.set(done);
    })
    .await?;
    progress.finish();
    if !report.unreadable.is_empty() {
        return Err(unreadable_lines(&report.unreadable).into());
    }
    let report = diplomacy::api::import_response(report);
    print_report(&report, args.dry_run, &progress);
    if !args.dry_run && report.written > 0 {
        eprintln!(
            "written through etcd up to revision {0}: readers see the whole import once they reach it (x-diplomacy-min-revision: {0})",
            report.revision
        );
    }
    import_outcome(&report, mode, args.dry_run)
}

/// An import's exit: an error when any record was not written.
fn import_outcome(report: &pb::ImportRecordsResponse, mode: Mode, dry_run: bool) -> CliResult {
    if report.errors.is_empty() {
        Ok(())
    } else if mode == Mode::AllOrNothing && !dry_run {
        Err("nothing was written: fix the records above, or pass --best-effort".into())
    } else {
        Err(format!("{} record(s) were not written", report.errors.len()).into())
    }
}

/// The invalid records (the first hundred) and the summary line.
fn print_report(report: &pb::ImportRecordsResponse, dry_run: bool, progress: &Progress) {
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
    let verb = if dry_run { "checked" } else { "imported" };
    eprintln!(
        "{verb} {} records: {} written ({} created, {} updated), {} unchanged, {} invalid, in {:.1} s ({:.0} records/s); revision {}",
        report.received,
        report.written,
        report.created,
        report.updated,
        report.unchanged,
        report.errors.len(),
        progress.elapsed(),
        report.received as f64 / progress.elapsed().max(1e-9),
        report.revision,
    );
}

fn unreadable_lines(errors: &[ingest::LineError]) -> String {
    let shown: Vec<String> = errors.iter().take(50).map(ToString::to_string).collect();
    format!(
        "{} unreadable line(s), nothing written:\n{}",
        errors.len(),
        shown.join("\n")
    )
}

/// An import streamed to a running server's `ImportRecords`.
struct Remote<'a> {
    server: &'a str,
    token: Option<&'a str>,
    mode: Mode,
    dry_run: bool,
}

impl Remote<'_> {
    async fn import(
        &self,
        source: &impl Source,
        progress: &Progress,
    ) -> Result<pb::ImportRecordsResponse, Box<dyn std::error::Error + Send + Sync>> {
        let mut client = records_client(self.server, self.token)
            .await
            .map_err(|f| f.message)?;
        let mode = match self.mode {
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
                .take(RECORDS_PER_MESSAGE)
                .map(|record| pb::Record {
                    kind: Some(record.into_owned()),
                })
                .collect();
            let count = chunk.len();
            let message = pb::ImportRecordsRequest {
                mode,
                validate_only: self.dry_run,
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
}

pub async fn export(args: ExportArgs) -> CliResult {
    if args.format != ExportFormat::Jsonl {
        return export_panel(args).await;
    }
    let mut out = open_output(args.output.as_deref())?;
    if args.etcd.is_set() {
        let index = TemporaryIndex::open(&args.etcd, None).await?;
        write_records(&index.store, &mut out)?;
        out.flush()?;
        eprintln!(
            "exported etcd's records at revision {}",
            index.store.revision()
        );
        return Ok(());
    }
    match &args.remote.server {
        Some(server) => {
            let mut client = records_client(server, args.remote.token.as_deref())
                .await
                .map_err(|f| f.message)?;
            let mut stream = client
                .export_records(pb::ExportRecordsRequest::default())
                .await?
                .into_inner();
            while let Some(message) = stream.message().await? {
                for record in message.records.into_iter().filter_map(|r| r.kind) {
                    writeln!(out, "{}", ingest::to_json_line(&record)?)?;
                }
            }
        }
        None => {
            let options = args.data.store_options(false);
            let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
            write_records(&store, &mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Every record of `store` as JSON Lines, without its store's revision
/// and etag, those others name after them.
fn write_records(store: &Store, out: &mut impl Write) -> CliResult {
    for collection in Collection::ALL {
        for record in store.records(collection) {
            let record = diplomacy::records::without_store_meta(record?);
            writeln!(out, "{}", ingest::to_json_line(&record)?)?;
        }
    }
    Ok(())
}

/// `diplomacy export --format dyad-year-csv | country-year-csv`.
async fn export_panel(args: ExportArgs) -> CliResult {
    if args.remote.server.is_some() {
        return Err("the panels read a data dir (--data-dir), not --server: stop the server or export from a copy of its data dir".into());
    }
    let (Some(from), Some(to)) = (args.from, args.to) else {
        return Err("a panel needs --from YEAR and --to YEAR".into());
    };
    if to < from || from < 1 || to > 9999 {
        return Err(format!("--from {from} --to {to} is not a range of years").into());
    }
    let countries = if args.countries.is_empty() {
        None
    } else {
        let mut codes = Vec::new();
        for id in &args.countries {
            codes
                .push(CountryCode::parse(id).ok_or_else(|| {
                    format!("--countries: {id:?} is not a country id such as AM")
                })?);
        }
        Some(codes)
    };
    let options = args.data.store_options(false);
    let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
    let mut out = open_output(args.output.as_deref())?;
    let query = super::panel::PanelQuery {
        from,
        to,
        directed: args.directed,
        countries,
    };
    let rows = super::panel::write_panel(
        &store,
        &query,
        args.format == ExportFormat::CountryYearCsv,
        &mut out,
    )?;
    out.flush()?;
    eprintln!("{rows} rows written");
    Ok(())
}
