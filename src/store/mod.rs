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
pub use self::writer::WriterOptions;
use crate::domain::statehood::Statehood;
use crate::domain::CountryCode;
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

    /// Commits `ops` through the single writer and waits until they are
    /// durable. With `atomic`, all are written or none (the first failure is
    /// returned); otherwise each op has its own result.
    pub async fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> Result<Vec<Result<Outcome>>> {
        self.writer.write(ops, atomic).await
    }

    /// Commits one op durably.
    pub async fn write_one(&self, op: WriteOp) -> Result<Outcome> {
        self.writer
            .write(vec![op], true)
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
