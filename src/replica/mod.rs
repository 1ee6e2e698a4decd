//! The replicated mode (`serve --etcd-endpoints`): etcd holds the records
//! and orders every write; each replica's sled database is a local index
//! derived from etcd by a watch, and answers reads at embedded speed. It is
//! the shape of the Kubernetes API server and its watch cache.
//!
//! - `etcd`: the client (each endpoint in turn).
//! - `layout`: the keys under the prefix.
//! - `writes`: a write checked here, committed by one etcd transaction,
//!   acknowledged once applied here.
//! - `follow`: the snapshot and the watch that keep the index in step.
//! - `metrics`: applied revision, lag, resyncs, etcd errors.

pub mod compare;
pub mod etcd;
mod follow;
pub mod layout;
pub mod metrics;
mod writes;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};

use self::etcd::Etcd;
pub use self::etcd::EtcdOptions;
use self::layout::Layout;
use crate::error::{Error, Result};
use crate::middleware::consistency::RevisionSource;
use crate::middleware::BoxFuture;
use crate::pb::etcd::etcdserverpb as rpc;
use crate::store::Store;

/// How to reach etcd.
#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    /// The members, TLS and user.
    pub etcd: EtcdOptions,
    /// Where under etcd's keys the records live (ends in `/`).
    pub prefix: String,
    /// Load the built-in countries, and with `Some(true)` the seed dataset,
    /// when etcd does not say they were loaded (`None`: a data tool, which
    /// loads nothing).
    pub builtin: Option<bool>,
}

/// Shared by the follower, the writes and the consistency layer: whether
/// the index is ready, and requests for an etcd progress notification.
#[derive(Default)]
pub struct Progress {
    loaded: AtomicBool,
    loaded_now: Notify,
    ready: AtomicBool,
    wanted: Notify,
}

impl Progress {
    fn set_loaded(&self) {
        self.loaded.store(true, Ordering::Release);
        self.loaded_now.notify_waiters();
    }

    async fn wait_loaded(&self) {
        loop {
            let notified = self.loaded_now.notified();
            if self.loaded.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Asks the watch for a progress notification (etcd then says the
    /// revision up to which it has sent everything).
    pub fn request(&self) {
        self.wanted.notify_one();
    }

    async fn wanted(&self) {
        self.wanted.notified().await;
    }

    /// Waits until the index has applied `revision`, asking etcd for
    /// progress meanwhile (a revision that changed nothing under our prefix
    /// reaches us only that way).
    pub async fn wait_applied(&self, store: &Store, revision: i64) -> Result<()> {
        let mut seen = store.seen_revision();
        loop {
            if *seen.borrow() >= revision {
                return Ok(());
            }
            self.request();
            tokio::select! {
                changed = seen.changed() => {
                    if changed.is_err() {
                        return Err(Error::Unavailable("the store is closing".into()));
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }
}

/// A running replica.
pub struct Replica {
    store: Arc<Store>,
    etcd: Arc<Etcd>,
    layout: Layout,
    progress: Arc<Progress>,
}

impl Replica {
    /// Checks that the index belongs to this etcd cluster and prefix,
    /// routes the store's writes through etcd, and starts following it.
    /// Fails when etcd cannot be reached and there is no index yet (a
    /// replica with an index serves reads from it and keeps trying).
    pub async fn start(
        store: Arc<Store>,
        options: &ReplicaOptions,
        stopping: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, String> {
        metrics::register();
        let etcd = Arc::new(Etcd::with(&options.etcd)?);
        let describe_unreachable = |error: &Error| {
            let text = error.to_string();
            if text.contains(" refused the ") {
                format!("etcd refused this replica: {text}")
            } else {
                format!("cannot reach etcd at {}: {text}", etcd.describe())
            }
        };
        let authenticated = etcd.authenticate().await;
        let layout = Layout::new(&options.prefix)?;
        let stored = store.etcd_origin().map_err(|e| e.to_string())?;
        let has_index = stored.is_some() && !store.snapshot_pending().map_err(|e| e.to_string())?;
        let reached = match authenticated {
            Ok(()) => etcd.newest(layout.prefix()).await,
            Err(error) => Err(error),
        };
        let origin = match reached {
            Ok((cluster, _)) => {
                let origin = origin_of(cluster, &options.prefix);
                check_origin(&store, stored.as_deref(), &origin)?;
                origin
            }
            Err(error) if error.to_string().contains(" refused the ") => {
                // A wrong password or certificate does not mend itself.
                return Err(describe_unreachable(&error));
            }
            Err(error) => match stored {
                None => {
                    return Err(format!(
                        "{}; this replica has no index to serve from yet",
                        describe_unreachable(&error)
                    ))
                }
                Some(ref stored) => {
                    tracing::warn!(%error, "etcd cannot be reached: serving reads from the index, writes fail until it can");
                    stored.clone()
                }
            },
        };
        let progress = Arc::new(Progress::default());
        if has_index {
            // Reads can be answered from the index at once.
            progress.set_loaded();
            progress.ready.store(true, Ordering::Release);
        }
        let (queue, waiting) = mpsc::unbounded_channel();
        store
            .set_write_path(Arc::new(writes::EtcdWrites { queue }))
            .map_err(|e| e.to_string())?;
        tokio::spawn(
            writes::Committer {
                store: Arc::downgrade(&store),
                etcd: Arc::clone(&etcd),
                layout: layout.clone(),
                progress: Arc::clone(&progress),
                queue: waiting,
            }
            .run(),
        );
        let follower = follow::Follower {
            store: Arc::clone(&store),
            etcd: Arc::clone(&etcd),
            layout: layout.clone(),
            progress: Arc::clone(&progress),
            origin,
            stopping: stopping.clone(),
        };
        tokio::spawn(follower.run());
        let replica = Arc::new(Self {
            store,
            etcd,
            layout,
            progress,
        });
        match options.builtin {
            Some(seed) => {
                tokio::spawn(Arc::clone(&replica).load_builtin(seed, stopping));
            }
            None => {
                let replica = Arc::clone(&replica);
                tokio::spawn(async move {
                    replica.progress.wait_loaded().await;
                    replica.progress.ready.store(true, Ordering::Release);
                });
            }
        }
        Ok(replica)
    }

    /// Whether the index holds a snapshot (and the built-in data is in
    /// etcd): until then health says NOT_SERVING.
    pub fn is_ready(&self) -> bool {
        self.progress.ready.load(Ordering::Acquire)
    }

    /// Waits until `is_ready`.
    pub async fn ready(&self) {
        while !self.is_ready() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The bytes etcd's database takes, and its quota when etcd reports
    /// it (3.6 and later; 3.4 does not).
    pub async fn space(&self) -> Result<(i64, Option<i64>)> {
        let status = self.etcd.status().await?;
        Ok((
            status.db_size,
            Some(status.db_size_quota).filter(|quota| *quota > 0),
        ))
    }

    /// Once the first snapshot is in: the built-in countries (and the seed
    /// dataset) through etcd, unless etcd says they were loaded, then the
    /// mark that says so. Replicas starting together may all load them:
    /// the first writes, the others find the same records and change
    /// nothing; one that dies midway leaves the load to the next start.
    async fn load_builtin(self: Arc<Self>, seed: bool, stopping: watch::Receiver<bool>) {
        self.progress.wait_loaded().await;
        let mut pause = Duration::from_millis(200);
        while !*stopping.borrow() {
            match self.load_builtin_once(seed).await {
                Ok(()) => {
                    self.progress.ready.store(true, Ordering::Release);
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "loading the built-in data into etcd failed: trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn load_builtin_once(&self, seed: bool) -> Result<()> {
        let mark = self
            .etcd
            .range(rpc::RangeRequest {
                key: self.layout.loaded(),
                ..Default::default()
            })
            .await?;
        if !mark.kvs.is_empty() {
            return Ok(());
        }
        let loaded = crate::ingest::load_builtin(&self.store, seed).await?;
        self.etcd
            .txn(rpc::TxnRequest {
                compare: vec![rpc::Compare {
                    result: rpc::compare::CompareResult::Equal as i32,
                    target: rpc::compare::CompareTarget::Create as i32,
                    key: self.layout.loaded(),
                    target_union: Some(rpc::compare::TargetUnion::CreateRevision(0)),
                    ..Default::default()
                }],
                success: vec![rpc::RequestOp {
                    request: Some(rpc::request_op::Request::RequestPut(rpc::PutRequest {
                        key: self.layout.loaded(),
                        value: format!("{loaded} records").into_bytes(),
                        ..Default::default()
                    })),
                }],
                failure: Vec::new(),
            })
            .await?;
        tracing::info!(records = loaded, "the built-in data is in etcd");
        Ok(())
    }
}

impl RevisionSource for Replica {
    /// etcd's newest revision, and a progress request so that the index
    /// learns it has it.
    fn newest(&self) -> BoxFuture<i64, Error> {
        let etcd = Arc::clone(&self.etcd);
        let prefix = self.layout.prefix().to_vec();
        let progress = Arc::clone(&self.progress);
        let store = Arc::clone(&self.store);
        Box::pin(async move {
            let (_, revision) = etcd.newest(&prefix).await?;
            // Keeps asking while the caller waits (its deadline ends it).
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    Duration::from_secs(60),
                    progress.wait_applied(&store, revision),
                )
                .await;
            });
            Ok(revision)
        })
    }
}

fn origin_of(cluster: u64, prefix: &str) -> Vec<u8> {
    format!("etcd cluster {cluster:016x}, prefix {prefix}").into_bytes()
}

fn check_origin(store: &Store, stored: Option<&[u8]>, origin: &[u8]) -> Result<(), String> {
    match stored {
        Some(stored) if stored != origin => Err(format!(
            "the index in the data dir was built from {}, not from {}: start with --etcd-rebuild to rebuild it from etcd",
            String::from_utf8_lossy(stored),
            String::from_utf8_lossy(origin)
        )),
        None if !store.is_empty().map_err(|e| e.to_string())? => Err(
            "the data dir holds an embedded database, not an index of etcd: give --data-dir an empty directory, or start with --etcd-rebuild to replace it with one built from etcd (its records are not copied to etcd: `diplomacy export` them first)"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// Removes the database files of `dir` (sled's) so that the index is built
/// again from etcd (`--etcd-rebuild`); anything else in the directory (the
/// generated token) stays.
pub fn wipe_index(dir: &Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name == "conf" || name == "db" || name == "blobs" || name.starts_with("snap.")) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
        removed += 1;
    }
    Ok(removed)
}
