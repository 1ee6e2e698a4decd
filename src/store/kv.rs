//! The narrow storage interface the rest of the store is written against —
//! ordered key-value reads, range scans, atomic multi-key writes, a read
//! gate and a durable flush — and its sled implementation. A distributed
//! backend would implement `KvStore` and leave the query code untouched.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crate::error::Error;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Writes to apply together: `None` removes the key.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Point reads.
pub trait KvRead {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;
    /// Whether `key` exists (without copying its value).
    fn contains(&self, key: &[u8]) -> Result<bool, Error> {
        Ok(self.get(key)?.is_some())
    }
}

/// An ordered key-value store.
pub trait KvStore: KvRead + Send + Sync + 'static {
    /// Entries in key order (or reverse order) between the bounds.
    fn scan(
        &self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<Entry, Error>> + Send + '_>;
    /// Every entry whose key starts with `prefix` (which ends in `/`), in
    /// key order.
    fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, Error>> + Send + '_> {
        self.scan(
            Bound::Included(prefix.to_vec()),
            Bound::Excluded(super::keys::prefix_end(prefix)),
            false,
        )
    }
    /// Applies `writes` atomically: a reader holding `read_gate` sees all of
    /// them or none, and a crash keeps all or none. There is one writer (the
    /// store's writer thread), so read-modify-write sequences need no locks.
    fn apply(&self, writes: Writes) -> Result<(), Error> {
        self.apply_and(writes, &mut || {})
    }
    /// `apply`, then `during` while readers are still held off: what it
    /// changes in memory appears to readers together with the writes.
    fn apply_and(&self, writes: Writes, during: &mut dyn FnMut()) -> Result<(), Error>;
    /// Held by a reader that makes several reads which must agree.
    fn read_gate(&self) -> RwLockReadGuard<'_, ()>;
    /// Makes every write so far durable (blocking).
    fn flush(&self) -> Result<(), Error>;
    /// Bytes the database occupies on disk.
    fn size_on_disk(&self) -> Result<u64, Error>;
}

/// Pending writes over a base: reads see the pending writes first. Layers
/// nest, so that one record's writes can be dropped without the others'.
pub struct WriteSet<'a> {
    base: &'a dyn KvRead,
    writes: RefCell<Writes>,
}

impl<'a> WriteSet<'a> {
    pub fn over(base: &'a dyn KvRead) -> Self {
        Self {
            base,
            writes: RefCell::new(BTreeMap::new()),
        }
    }

    pub fn insert(&self, key: &[u8], value: &[u8]) {
        self.writes
            .borrow_mut()
            .insert(key.to_vec(), Some(value.to_vec()));
    }

    pub fn remove(&self, key: &[u8]) {
        self.writes.borrow_mut().insert(key.to_vec(), None);
    }

    /// Moves these writes into the layer below.
    pub fn merge_into(self, parent: &WriteSet<'_>) {
        parent.writes.borrow_mut().extend(self.writes.into_inner());
    }

    pub fn into_writes(self) -> Writes {
        self.writes.into_inner()
    }
}

impl KvRead for WriteSet<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        if let Some(pending) = self.writes.borrow().get(key) {
            return Ok(pending.clone());
        }
        self.base.get(key)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, Error> {
        if let Some(pending) = self.writes.borrow().get(key) {
            return Ok(pending.is_some());
        }
        self.base.contains(key)
    }
}

/// The sled engine: one tree holds records and indexes; a write set is one
/// sled batch, atomic on disk.
pub struct SledKv {
    db: sled::Db,
    gate: RwLock<()>,
}

/// What sled's error says when another handle, in this process or another,
/// still holds the database's lock.
pub const LOCK_HELD: &str = "could not acquire lock";

/// The one sled configuration: every open, the checkpoint's included, must
/// agree with the one that created the files.
fn sled_config(path: &Path, cache_bytes: u64) -> sled::Config {
    sled::Config::new().path(path).cache_capacity(cache_bytes)
}

/// Opens the database at `path`, retrying for up to `wait` while its lock is
/// held: sled releases it from a background thread once the last handle of
/// a database is dropped, so a process that closes and opens again must wait
/// a moment for its own lock.
fn open_db(path: &Path, cache_bytes: u64, wait: Duration) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + wait;
    loop {
        match sled_config(path, cache_bytes).open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains(LOCK_HELD) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            opened => return opened,
        }
    }
}

impl SledKv {
    /// Opens (or creates) the database at `path`, with a page cache of
    /// `cache_bytes` (sled's default of 1 GiB is too much for a sidecar pod).
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, Error> {
        Self::open_when_free(path, cache_bytes, Duration::ZERO)
    }

    /// `open`, waiting up to `wait` for a lock that this process's own
    /// closing handle still holds (`open_db`).
    pub fn open_when_free(path: &Path, cache_bytes: u64, wait: Duration) -> Result<Self, Error> {
        let db = open_db(path, cache_bytes, wait).map_err(|e| {
            Error::Unavailable(format!(
                "cannot open the database at {}: {e}. If another diplomacy process uses it, stop that one first; \
                 if the files are damaged, restore them from a backup or start from an export with `diplomacy import`",
                path.display()
            ))
        })?;
        Ok(Self {
            db,
            gate: RwLock::new(()),
        })
    }
}

/// Opens the closed database at `path` once more, and closes it again, so
/// that sled writes a snapshot of everything logged since its last open.
///
/// sled 0.34 writes snapshots only when it opens: a process that stops after
/// many writes leaves them all for the next start to replay (after an
/// import, all of it; BENCHMARKS.md has what that costs). Doing it on the
/// way out moves that work off the next start. A lock still held is waited for up to `wait`.
pub fn checkpoint(path: &Path, wait: Duration) -> Result<(), Error> {
    open_db(path, 8 << 20, wait).map(drop).map_err(engine_error)
}

pub(crate) fn engine_error(error: sled::Error) -> Error {
    match error {
        sled::Error::Corruption { .. } => Error::DataLoss(error.to_string()),
        other => Error::Unavailable(other.to_string()),
    }
}

impl KvRead for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(engine_error)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, Error> {
        self.db.contains_key(key).map_err(engine_error)
    }
}

/// The sled batch that applies `writes`: what `SledKv` hands sled, and what
/// the storage benches replay into a bare sled database.
pub fn sled_batch<'a>(
    writes: impl IntoIterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (key, value) in writes {
        match value {
            Some(value) => batch.insert(key.as_slice(), value.as_slice()),
            None => batch.remove(key.as_slice()),
        }
    }
    batch
}

impl KvStore for SledKv {
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

    fn apply_and(&self, writes: Writes, during: &mut dyn FnMut()) -> Result<(), Error> {
        if writes.is_empty() {
            return Ok(());
        }
        let batch = sled_batch(&writes);
        // A poisoned gate only means a reader panicked; the data is intact.
        let _exclusive = self.gate.write().unwrap_or_else(|e| e.into_inner());
        self.db.apply_batch(batch).map_err(engine_error)?;
        during();
        Ok(())
    }

    fn read_gate(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|e| e.into_inner())
    }

    fn flush(&self) -> Result<(), Error> {
        self.db.flush().map(drop).map_err(engine_error)
    }

    fn size_on_disk(&self) -> Result<u64, Error> {
        self.db.size_on_disk().map_err(engine_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled's snapshot files are named by the log position they cover; a new
    /// database has none.
    fn newest_snapshot(dir: &Path) -> Option<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with("snap."))
            .max()
    }

    #[test]
    fn a_checkpoint_writes_a_snapshot_past_the_last_writes_and_keeps_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let before = {
            let kv = SledKv::open(dir.path(), 8 << 20).expect("open");
            let mut writes = Writes::new();
            for i in 0..1_000u32 {
                writes.insert(format!("r/events/e{i:04}").into_bytes(), Some(vec![7; 100]));
            }
            kv.apply(writes).expect("apply");
            kv.flush().expect("flush");
            newest_snapshot(dir.path())
        };
        checkpoint(dir.path(), Duration::from_secs(5)).expect("checkpoint");
        assert!(newest_snapshot(dir.path()) > before, "a newer snapshot");
        let kv = SledKv::open(dir.path(), 8 << 20).expect("open");
        assert_eq!(kv.scan_prefix(b"r/events/").count(), 1_000);
    }

    #[test]
    fn a_checkpoint_of_a_database_still_open_fails_after_waiting() {
        let dir = tempfile::tempdir().expect("temp dir");
        let _open = SledKv::open(dir.path(), 8 << 20).expect("open");
        let started = std::time::Instant::now();
        let result = checkpoint(dir.path(), Duration::from_millis(200));
        assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
