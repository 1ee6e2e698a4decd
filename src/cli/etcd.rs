//! The data tools against etcd (`import`, `export` and `check` with
//! `--etcd-endpoints`): a replica's index of etcd in a temporary
//! directory, which imports check against and write through, and etcd's
//! room for an import.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diplomacy::replica::Replica;
use diplomacy::server::{self, StoreOptions};
use diplomacy::store::{Store, WriterOptions};
use tokio::sync::watch;

use super::args::EtcdArgs;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// etcd's default quota (`--quota-backend-bytes`): what an import is
/// measured against when etcd does not report its own (3.4 does not).
pub const DEFAULT_QUOTA_BYTES: u64 = 2 << 30;

/// What etcd's database grows by per byte of key and value written once,
/// with room: measured at 1.4 (BENCHMARKS.md, "etcd's bytes per record":
/// 331 bytes a record of 240 bytes of key and value, Debian's 3.4).
const ETCD_BYTES_PER_BYTE: u64 = 2;
/// And per record, over its key and value.
const ETCD_BYTES_PER_RECORD: u64 = 64;

/// A replica's index of etcd in a temporary directory, removed on drop.
pub struct TemporaryIndex {
    pub store: Arc<Store>,
    replica: Arc<Replica>,
    stop: watch::Sender<bool>,
    dir: PathBuf,
}

impl TemporaryIndex {
    /// Loads etcd's records into a new index; with `builtin`, loads the
    /// built-in countries into etcd first where it has none
    /// (`ReplicaOptions::builtin`).
    pub async fn open(args: &EtcdArgs, builtin: Option<bool>) -> Result<Self, Failure> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("diplomacy-index-{}-{nanos}", std::process::id()));
        let store = server::open_index(&StoreOptions {
            data_dir: dir.clone(),
            seed: false,
            cache_bytes: 64 << 20,
            writer: WriterOptions::default(),
            lock_wait: Duration::ZERO,
        })?;
        let (stop, stopping) = watch::channel(false);
        let options = args.options(builtin)?;
        let started = std::time::Instant::now();
        let replica = Replica::start(Arc::clone(&store), &options, stopping).await?;
        let index = Self {
            store,
            replica,
            stop,
            dir,
        };
        index.replica.ready().await;
        eprintln!(
            "read etcd's records at {} ({}) in {:.1} s",
            options.etcd.endpoints.join(","),
            options.prefix,
            started.elapsed().as_secs_f64()
        );
        Ok(index)
    }

    /// Refuses an import of records whose keys and values come to `bytes`
    /// (`records` of them) when etcd's database would outgrow its quota:
    /// etcd's own figure where it reports one, else `quota`.
    pub async fn check_room(&self, records: u64, bytes: u64, quota: u64) -> Result<(), Failure> {
        let (used, reported) = self.replica.space().await?;
        let quota = reported.map_or(quota, |q| q as u64);
        let needed = bytes * ETCD_BYTES_PER_BYTE + records * ETCD_BYTES_PER_RECORD;
        let used = used.max(0) as u64;
        if used + needed > quota {
            return Err(format!(
                "the import was refused before writing anything: {records} records ({:.1} MiB of keys and values) would take about {:.1} MiB in etcd, which holds {:.1} MiB of its {:.1} MiB quota{}. Raise etcd's --quota-backend-bytes (and give --etcd-quota-bytes when etcd does not report it), or import less",
                mib(bytes),
                mib(needed),
                mib(used),
                mib(quota),
                if reported.is_some() { "" } else { " (--etcd-quota-bytes: etcd does not report it)" }
            )
            .into());
        }
        Ok(())
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

impl Drop for TemporaryIndex {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
