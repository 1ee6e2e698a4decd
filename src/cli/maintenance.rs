//! Subcommands that look after a data dir or write reference files: `check`,
//! `compact`, `descriptor`, `reference`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use diplomacy::ingest;
use diplomacy::store::Store;

use super::args::{DataArgs, EtcdArgs};
use super::output::open_output;
use super::CliResult;

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// `check`'s own flags: with `--etcd-endpoints`, the data dir is a
/// (stopped) replica's index, compared with etcd too.
#[derive(Args)]
pub struct CheckEtcdArgs {
    #[command(flatten)]
    check: CheckArgs,
    #[command(flatten)]
    etcd: EtcdArgs,
}

#[derive(Args)]
pub struct ReferenceArgs {
    /// The data set: `iso-codes` (official names and withdrawal dates from
    /// pycountry's files), or `states` (every built-in country as a new
    /// database gets it: existence, predecessors, COW memberships; for a
    /// database made before those existed).
    #[arg(value_parser = ["iso-codes", "states"])]
    dataset: String,
    /// For `iso-codes`: the folder holding `iso3166-1.json` and
    /// `iso3166-3.json` (e.g.
    /// `$(python -c 'import pycountry, os; print(os.path.dirname(pycountry.__file__))')/databases`).
    #[arg(long, required_if_eq("dataset", "iso-codes"))]
    databases: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct DescriptorArgs {
    /// Where to write it.
    #[arg(long, default_value = "diplomacy.binpb")]
    output: PathBuf,
}

pub fn descriptor(args: DescriptorArgs) -> CliResult {
    std::fs::write(&args.output, diplomacy::descriptors::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

pub fn reference(args: ReferenceArgs) -> CliResult {
    let records = match (args.dataset.as_str(), &args.databases) {
        ("iso-codes", Some(databases)) => ingest::iso_codes::iso_codes_records(databases)?,
        ("states", _) => ingest::served_country_records()?,
        _ => return Err("iso-codes needs --databases".into()),
    };
    let mut out = open_output(args.output.as_deref())?;
    for record in &records {
        writeln!(out, "{}", ingest::to_json_line(record)?)?;
    }
    out.flush()?;
    eprintln!("{} {} records", args.dataset, records.len());
    Ok(())
}

pub async fn check(args: CheckEtcdArgs) -> CliResult {
    let CheckEtcdArgs { check: args, etcd } = args;
    if !args.data.data_dir.join("db").exists() {
        return Err(format!("{} holds no database", args.data.data_dir.display()).into());
    }
    let options = args.data.store_options(false);
    let store = Store::open(&options.data_dir, options.cache_bytes, options.writer)?;
    let report = store.check()?;
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    println!(
        "checked {} records, {} index entries, {} logged changes: {} problem(s)",
        report.records, report.index_entries, report.changes, report.problem_count
    );
    let mut differences = 0;
    if etcd.is_set() {
        let options = etcd.options(None)?;
        let client = diplomacy::replica::etcd::Etcd::with(&options.etcd)?;
        client.authenticate().await?;
        let layout = diplomacy::replica::layout::Layout::new(&options.prefix)?;
        let comparison = diplomacy::replica::compare::compare(&store, &client, &layout).await?;
        for difference in comparison.differences.iter().take(1000) {
            println!("difference: {difference}");
        }
        differences = comparison.differences.len();
        println!(
            "compared with etcd at revision {}: {} records in etcd, {} difference(s)",
            comparison.revision, comparison.records, differences
        );
    }
    if differences > 0 {
        return Err(format!(
            "{} differs from etcd in {differences} record(s): start a replica on it with --etcd-rebuild",
            args.data.data_dir.display()
        )
        .into());
    }
    if report.is_consistent() {
        Ok(())
    } else {
        Err(format!("{} is inconsistent", args.data.data_dir.display()).into())
    }
}

pub fn compact(args: CheckArgs) -> CliResult {
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
