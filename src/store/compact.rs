//! Offline compaction: the database written again, in key order, into new
//! files that then take the place of the old ones.
//!
//! sled appends every change to its log and writes a page whole again only
//! after about ten changes to it. An import writes records in file order,
//! each touching index pages all over the tree, so most pages end up as a
//! chain of fragments, and the files grow to several times the data.
//! Written again in key order, they shrink to less than half, a server
//! starts faster and in less memory, and durable writes get faster
//! (BENCHMARKS.md has the figures). Queries on a warm server run as fast as
//! before. A small database gains nothing.
//!
//! The copy goes to a sibling directory (`{data dir}.compacting`) while the
//! old database stays open, so that no server starts on it and writes what
//! the copy would miss. The copy is read back and compared, and only then do
//! the two directories trade places in one `rename` (Linux's
//! `RENAME_EXCHANGE`): a crash leaves either the old database or the new
//! one in place, whole, and at most a leftover sibling that the next
//! compaction removes.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::kv::{KvStore, SledKv, Writes};
use crate::error::{Error, Result};

/// Entries written as one batch.
const BATCH: usize = 1_000;
/// Entries after which the copy is closed and opened again: sled's memory
/// grows with what was written since a database was opened (as the
/// import's does, `importer::ImportTarget`).
const REOPEN_EVERY: u64 = 2_000_000;
/// How long to wait for this process's own lock on a copy it just closed.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// What a compaction did.
#[derive(Debug, PartialEq, Eq)]
pub struct Compacted {
    /// Keys written, each index entry counted.
    pub entries: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Where the copy of `data_dir` is written before it takes its place.
fn staging_dir(data_dir: &Path) -> PathBuf {
    let mut name = data_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".compacting");
    data_dir.with_file_name(name)
}

/// Compacts the closed database at `data_dir` (a server using it makes this
/// fail, as its lock is held). `progress` is told how many entries are
/// copied every so often.
pub fn compact(data_dir: &Path, cache_bytes: u64, progress: impl FnMut(u64)) -> Result<Compacted> {
    compact_reopening(data_dir, cache_bytes, REOPEN_EVERY, progress)
}

/// `compact`, closing and opening the copy every `reopen_every` entries
/// (and telling `progress` then).
fn compact_reopening(
    data_dir: &Path,
    cache_bytes: u64,
    reopen_every: u64,
    mut progress: impl FnMut(u64),
) -> Result<Compacted> {
    // The directory itself, not a symlink to it, trades places.
    let data_dir = data_dir
        .canonicalize()
        .map_err(|e| Error::Unavailable(format!("{}: {e}", data_dir.display())))?;
    if !data_dir.join("db").exists() {
        // Opening it would create an empty database.
        return Err(Error::Unavailable(format!(
            "{} holds no database",
            data_dir.display()
        )));
    }
    let staging = staging_dir(&data_dir);
    remove_dir(&staging)?;
    // Held open until the directories have traded places.
    let source = SledKv::open(&data_dir, cache_bytes)?;
    let bytes_before = source.size_on_disk()?;
    let (entries, bytes_after) =
        match copy_and_read_back(&source, &staging, cache_bytes, reopen_every, &mut progress) {
            Ok(done) => done,
            Err(e) => {
                // Best effort: the next compaction removes it too.
                let _ = remove_dir(&staging);
                return Err(e);
            }
        };
    exchange(&data_dir, &staging)?;
    drop(source);
    // The old files, now in the sibling. A failure here leaves a complete
    // database in place; the next compaction removes the sibling.
    if let Err(e) = remove_dir(&staging) {
        tracing::warn!(error = %e, "the old files are left in {}", staging.display());
    }
    Ok(Compacted {
        entries,
        bytes_before,
        bytes_after,
    })
}

/// Copies `source` to `to`, and reads the copy back to compare: how many
/// entries it holds, and its size on disk.
fn copy_and_read_back(
    source: &SledKv,
    to: &Path,
    cache_bytes: u64,
    reopen_every: u64,
    progress: &mut impl FnMut(u64),
) -> Result<(u64, u64)> {
    let written = copy(source, to, cache_bytes, reopen_every, progress)?;
    let copy = SledKv::open_when_free(to, cache_bytes, LOCK_WAIT)?;
    let read_back = Fingerprint::of(&copy)?;
    if read_back != written {
        return Err(Error::DataLoss(format!(
            "the compacted copy read back different from what was written ({} of {} entries): \
             the database was left as it was",
            read_back.entries, written.entries
        )));
    }
    Ok((written.entries, copy.size_on_disk()?))
}

/// Every entry of `source`, in key order, into a new database at `to`.
fn copy(
    source: &SledKv,
    to: &Path,
    cache_bytes: u64,
    reopen_every: u64,
    progress: &mut impl FnMut(u64),
) -> Result<Fingerprint> {
    let mut written = Fingerprint::default();
    let mut copy = SledKv::open(to, cache_bytes)?;
    let mut batch = Writes::new();
    for entry in source.scan(Bound::Unbounded, Bound::Unbounded, false) {
        let (key, value) = entry?;
        written.add(&key, &value);
        batch.insert(key, Some(value));
        if batch.len() == BATCH {
            copy.apply(std::mem::take(&mut batch))?;
        }
        if written.entries % reopen_every == 0 {
            copy.apply(std::mem::take(&mut batch))?;
            copy.flush()?;
            drop(copy);
            copy = SledKv::open_when_free(to, cache_bytes, LOCK_WAIT)?;
            progress(written.entries);
        }
    }
    copy.apply(batch)?;
    copy.flush()?;
    Ok(written)
}

/// How many entries, and a hash of them all in order.
#[derive(Default)]
struct Fingerprint {
    entries: u64,
    hash: Sha256,
}

impl Fingerprint {
    fn add(&mut self, key: &[u8], value: &[u8]) {
        self.entries += 1;
        for part in [key, value] {
            self.hash.update((part.len() as u64).to_be_bytes());
            self.hash.update(part);
        }
    }

    fn of(kv: &SledKv) -> Result<Self> {
        let mut read = Self::default();
        for entry in kv.scan(Bound::Unbounded, Bound::Unbounded, false) {
            let (key, value) = entry?;
            read.add(&key, &value);
        }
        Ok(read)
    }
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
            && self.hash.clone().finalize() == other.hash.clone().finalize()
    }
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Unavailable(format!(
            "cannot remove {}: {e}",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Swaps two directories in one step, and makes the swap durable.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let failed = |e: std::io::Error| {
        Error::Unavailable(format!(
            "cannot swap {} with its compacted copy {}: {e} (the database was left as it was)",
            a.display(),
            b.display()
        ))
    };
    let path = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| failed(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))
    };
    let sync_dir = |dir: &Path| std::fs::File::open(dir).and_then(|d| d.sync_all());
    // The copy's file names are durable before it takes the place.
    sync_dir(b).map_err(failed)?;
    let (a_c, b_c) = (path(a)?, path(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    #[allow(unsafe_code)]
    let swapped = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a_c.as_ptr(),
            libc::AT_FDCWD,
            b_c.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if swapped != 0 {
        return Err(failed(std::io::Error::last_os_error()));
    }
    if let Some(parent) = a.parent() {
        sync_dir(parent).map_err(failed)?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<()> {
    Err(Error::Unavailable(format!(
        "compaction swaps directories with Linux's renameat2: move {} into place of {} by hand",
        b.display(),
        a.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).expect("metadata").ino()
    }

    fn entries(kv: &SledKv) -> Vec<(Vec<u8>, Vec<u8>)> {
        kv.scan(Bound::Unbounded, Bound::Unbounded, false)
            .collect::<Result<_>>()
            .expect("scan")
    }

    #[test]
    fn a_compacted_database_is_new_files_in_place_with_the_same_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let before = {
            let kv = SledKv::open(&data, 8 << 20).expect("open");
            // Many small batches in scattered order, as an import writes.
            for round in 0..50u32 {
                let mut writes = Writes::new();
                for i in 0..200u32 {
                    let key = format!("r/events/e{:05}", (i * 50 + round) * 7919 % 10_000);
                    writes.insert(key.into_bytes(), Some(vec![round as u8; 100]));
                }
                kv.apply(writes).expect("apply");
            }
            kv.flush().expect("flush");
            entries(&kv)
        };
        let old_file = inode(&data.join("db"));
        let mut reopened = Vec::new();
        let compacted =
            compact_reopening(&data, 8 << 20, 4_000, |n| reopened.push(n)).expect("compact");
        assert_eq!(compacted.entries, before.len() as u64);
        assert_eq!(
            reopened,
            [4_000, 8_000],
            "the copy was closed and opened twice"
        );
        // How much smaller depends on how scattered the writes were, and on
        // size: see BENCHMARKS.md for the generated dataset.
        assert_ne!(inode(&data.join("db")), old_file, "new files in place");
        assert!(!staging_dir(&data).exists(), "the old files are removed");
        let kv = SledKv::open_when_free(&data, 8 << 20, LOCK_WAIT).expect("open");
        assert_eq!(entries(&kv), before);
        assert_eq!(kv.size_on_disk().expect("size"), compacted.bytes_after);
    }

    #[test]
    fn a_database_in_use_is_not_compacted_and_a_leftover_copy_is_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let staging = staging_dir(&data);
        std::fs::create_dir_all(staging.join("blobs")).expect("leftover");
        let kv = SledKv::open(&data, 8 << 20).expect("open");
        let refused = compact(&data, 8 << 20, |_| {});
        assert!(
            matches!(&refused, Err(Error::Unavailable(m)) if m.contains("another diplomacy process")),
            "{refused:?}"
        );
        assert!(
            !staging.exists(),
            "an interrupted run's copy is removed first"
        );
        drop(kv);
    }

    #[test]
    fn a_directory_without_a_database_is_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let refused = compact(dir.path(), 8 << 20, |_| {});
        assert!(
            matches!(&refused, Err(Error::Unavailable(m)) if m.contains("holds no database")),
            "{refused:?}"
        );
        assert!(!dir.path().join("db").exists(), "no database created");
    }

    #[test]
    fn the_copy_sits_beside_the_data_dir() {
        assert_eq!(
            staging_dir(Path::new("/var/lib/diplomacy/data")),
            Path::new("/var/lib/diplomacy/data.compacting")
        );
    }
}
