//! Persistence: records and their indexes over an ordered key-value store.
//!
//! The store knows keys and transactions, never a `tonic::Request`. Records
//! are kept as their prost encoding (`records`); every write changes a record
//! and all its index entries in one transaction, and callers `flush` before
//! acknowledging it.

mod apply;
pub mod cache;
pub mod check;
pub mod compact;
mod coverage;
pub mod index;
pub mod keys;
pub mod kv;
mod open;
mod queries;
mod recognitions;
pub(crate) mod sorted;
pub mod writer;

use std::ops::Bound;
use std::sync::Arc;

pub use self::apply::{read_u64, Compute, Outcome, WriteOp};
use self::cache::ReadCache;
pub use self::kv::{checkpoint, KvRead, KvStore, SledKv, LOCK_HELD};
pub use self::queries::{HistoryScope, ListedSummary, PairFacts, PeriodNotes, StoredHistoryEntry};
use self::writer::Writer;
pub use self::writer::{Done, JobKind, Part, WriterOptions};
use crate::domain::statehood::Statehood;
use crate::domain::{Collection, CountryCode};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;

/// The layout version this build reads and writes. Schema 5 added country
/// ids longer than two letters, whose pair keys join the ids with `+`
/// (`keys.rs`); every key of schema 4 keeps its meaning, so that upgrade
/// writes only the version, which stops an older build from opening a
/// database whose keys it would misread. Schema 6 gives each party of a
/// stored treaty the treaty's own dates (`open.rs`). Schema 7 gives each
/// stored armed conflict its two sides and adds the `g/` family
/// (mediations). Schema 8 adds the `e/` and `v/` families (recognition,
/// representation, border) and gives recognition and border events'
/// history entries their own kinds.
pub const SCHEMA_VERSION: u32 = 8;

/// Records and indexes over a key-value engine. Reads go straight to the
/// engine; every write goes through the single writer.
pub struct Store<K = SledKv> {
    kv: Arc<K>,
    cache: Arc<ReadCache>,
    writer: Writer,
    write_path: std::sync::OnceLock<Arc<dyn WritePath>>,
}

/// What a `WritePath` answers: each op's outcome.
pub type WriteFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Result<Outcome>>>> + Send + 'a>>;

/// Where writes go instead of the local writer (a replica's etcd).
pub trait WritePath: Send + Sync {
    fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> WriteFuture<'_>;
}

impl<K: KvStore> Store<K> {
    /// A cheap read that fails when the store cannot be read (for health).
    pub fn probe(&self) -> Result<()> {
        self.kv.get(keys::SCHEMA).map(drop)
    }

    /// True when no record of any kind is stored (a new database).
    pub fn is_empty(&self) -> Result<bool> {
        let lower = keys::RECORDS.to_vec();
        let upper = keys::prefix_end(&lower);
        Ok(self
            .kv
            .scan(Bound::Included(lower), Bound::Excluded(upper), false)
            .next()
            .transpose()?
            .is_none())
    }

    /// Whether the country record exists (from memory).
    pub fn country_exists(&self, code: CountryCode) -> bool {
        self.cache.country_exists(code)
    }

    /// A country's existence and continuation links (from memory); `None`
    /// if there is no such country.
    pub fn statehood(&self, code: CountryCode) -> Option<Arc<Statehood>> {
        self.cache.statehood(code)
    }

    /// Heap bytes and number of pairs held in the relation cache.
    pub fn relation_cache_usage(&self) -> (usize, usize) {
        self.cache.pair_usage()
    }

    /// Makes every committed write durable (writes through `write` already
    /// are when it returns).
    pub fn flush(&self) -> Result<()> {
        self.kv.flush()
    }

    /// Commits `ops` and waits until they are durable: through the single
    /// writer, or in a replica through etcd (`WritePath`) and then the
    /// writer. With `atomic`, all are written or none (the first failure is
    /// returned); otherwise each op has its own result.
    pub async fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> Result<Vec<Result<Outcome>>> {
        match self.write_path.get() {
            Some(path) => path.write(ops, atomic).await,
            None => self.writer.write(ops, atomic).await,
        }
    }

    /// Sends every later write through `path` (a replica's: etcd first).
    pub fn set_write_path(&self, path: Arc<dyn WritePath>) -> Result<()> {
        self.write_path
            .set(path)
            .map_err(|_| Error::Unavailable("the store already has a write path".into()))
    }

    /// Runs one job on the writer (`JobKind`): a replica's dry runs and the
    /// changes it applies from etcd.
    pub async fn submit(&self, ops: Vec<WriteOp>, atomic: bool, kind: JobKind) -> Result<Done> {
        self.writer.submit(ops, atomic, kind).await
    }

    /// The revision reads answer at (the durable one, or a newer one a
    /// replica knows nothing under its prefix changed before), as it
    /// changes.
    pub fn seen_revision(&self) -> tokio::sync::watch::Receiver<i64> {
        self.writer.seen()
    }

    /// See `Writer::saw`.
    pub fn saw_revision(&self, revision: i64) {
        self.writer.saw(revision);
    }

    /// In a replica's index, the revision after which the change log holds
    /// every change (`keys::LOG_FROM`).
    pub fn log_from(&self) -> Result<Option<i64>> {
        Ok(self
            .kv
            .get(keys::LOG_FROM)?
            .map(|bytes| read_u64(Some(bytes)) as i64))
    }

    /// Whether a replica's index holds a snapshot only in part (the process
    /// stopped while loading it).
    pub fn snapshot_pending(&self) -> Result<bool> {
        Ok(self.kv.get(keys::SNAPSHOT_PENDING)?.is_some())
    }

    /// Where a replica's index came from (`keys::ETCD_ORIGIN`), if it is one.
    pub fn etcd_origin(&self) -> Result<Option<Vec<u8>>> {
        self.kv.get(keys::ETCD_ORIGIN)
    }

    /// Every stored record, in key order (a replica reconciles its index
    /// with an etcd snapshot by them).
    pub fn record_names(&self) -> impl Iterator<Item = Result<(Collection, String)>> + '_ {
        self.kv
            .scan_prefix(keys::RECORDS)
            .filter_map(|entry| match entry {
                Ok((key, _)) => keys::record_of_key(&key).map(Ok),
                Err(e) => Some(Err(e)),
            })
    }

    /// Commits one op durably.
    pub async fn write_one(&self, op: WriteOp) -> Result<Outcome> {
        self.write(vec![op], true)
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Error::DataLoss("the writer returned no outcome".into())))
    }

    /// The newest durable revision: every change up to it is in the log (or
    /// compacted) and has been published to subscribers.
    pub fn revision(&self) -> i64 {
        self.writer.durable_revision()
    }

    /// Live changes, published after they are durable.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<pb::Change>> {
        self.writer.subscribe()
    }

    pub fn size_on_disk(&self) -> Result<u64> {
        self.kv.size_on_disk()
    }
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::DataLoss(format!("{what}: {error}"))
}
