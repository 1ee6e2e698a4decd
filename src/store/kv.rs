//! The narrow storage interface the rest of the store is written against —
//! ordered key-value reads, range scans, atomic multi-key transactions and a
//! durable flush — and its sled implementation. A distributed backend would
//! implement `KvStore` and leave the query code untouched.

use std::ops::Bound;
use std::path::Path;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, UnabortableTransactionError,
};

use crate::error::Error;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Why a transaction step failed: our own abort (the transaction is rolled
/// back and the error returned), or the engine's (a conflict is retried).
#[derive(Debug)]
pub enum TxError {
    Abort(Error),
    Engine(EngineError),
}

impl From<Error> for TxError {
    fn from(error: Error) -> Self {
        TxError::Abort(error)
    }
}

/// An engine-level transaction failure, opaque to the callers.
#[derive(Debug)]
pub struct EngineError(UnabortableTransactionError);

/// Reads and writes inside one atomic transaction. The closure that uses it
/// may run more than once (on conflict), so it must have no side effects.
pub trait KvTxn {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TxError>;
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), TxError>;
    fn remove(&self, key: &[u8]) -> Result<(), TxError>;
}

/// An ordered key-value store.
pub trait KvStore: Send + Sync + 'static {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;
    /// Entries in key order (or reverse order) between the bounds.
    fn scan(
        &self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<Entry, Error>> + Send + '_>;
    /// Runs `f` atomically: all its writes happen, or none.
    fn transact<T>(&self, f: impl Fn(&dyn KvTxn) -> Result<T, TxError>) -> Result<T, Error>;
    /// Makes every write so far durable (blocking).
    fn flush(&self) -> Result<(), Error>;
    /// Bytes the database occupies on disk.
    fn size_on_disk(&self) -> Result<u64, Error>;
}

/// The sled engine: one tree holds records and indexes, so that a record and
/// its index entries change in one transaction.
pub struct SledKv {
    db: sled::Db,
}

impl SledKv {
    /// Opens (or creates) the database at `path`, with a page cache of
    /// `cache_bytes` (sled's default of 1 GiB is too much for a sidecar pod).
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, Error> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| {
                Error::Unavailable(format!("cannot open database at {}: {e}", path.display()))
            })?;
        Ok(Self { db })
    }
}

pub(crate) fn engine_error(error: sled::Error) -> Error {
    match error {
        sled::Error::Corruption { .. } => Error::DataLoss(error.to_string()),
        other => Error::Unavailable(other.to_string()),
    }
}

struct SledTxn<'a>(&'a sled::transaction::TransactionalTree);

impl KvTxn for SledTxn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TxError> {
        self.0
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| TxError::Engine(EngineError(e)))
    }

    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), TxError> {
        self.0
            .insert(key, value)
            .map(drop)
            .map_err(|e| TxError::Engine(EngineError(e)))
    }

    fn remove(&self, key: &[u8]) -> Result<(), TxError> {
        self.0
            .remove(key)
            .map(drop)
            .map_err(|e| TxError::Engine(EngineError(e)))
    }
}

impl KvStore for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(engine_error)
    }

    fn scan(
        &self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<Entry, Error>> + Send + '_> {
        let iter = self.db.range::<Vec<u8>, _>((lower, upper));
        let map = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(engine_error)
        };
        if reverse {
            Box::new(iter.rev().map(map))
        } else {
            Box::new(iter.map(map))
        }
    }

    fn transact<T>(&self, f: impl Fn(&dyn KvTxn) -> Result<T, TxError>) -> Result<T, Error> {
        let result = self.db.transaction(|tree| {
            f(&SledTxn(tree)).map_err(|e| match e {
                TxError::Abort(error) => ConflictableTransactionError::Abort(error),
                TxError::Engine(EngineError(inner)) => inner.into(),
            })
        });
        match result {
            Ok(value) => Ok(value),
            Err(TransactionError::Abort(error)) => Err(error),
            Err(TransactionError::Storage(error)) => Err(engine_error(error)),
        }
    }

    fn flush(&self) -> Result<(), Error> {
        self.db.flush().map(drop).map_err(engine_error)
    }

    fn size_on_disk(&self) -> Result<u64, Error> {
        self.db.size_on_disk().map_err(engine_error)
    }
}
