//! The single writer: every change to the store goes through one thread.
//!
//! One writer means writes never conflict, revisions are assigned in commit
//! order, and many writes share one flush (group commit): the thread takes
//! every job waiting, commits each in its own transaction, flushes once, and
//! only then answers the callers and publishes the changes to watchers. An
//! acknowledged write is therefore always durable.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use prost::Message;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::index::index_entries;
use super::keys;
use super::kv::{KvRead, KvStore, WriteSet};
use crate::convert::now_timestamp;
use crate::domain::{Collection, CountryCode};
use crate::error::{Error, PreconditionViolation, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::{
    decode_record, encode_record, etag_for, meta, referenced_countries, without_store_meta, Record,
};

/// Most jobs committed before one shared flush.
const MAX_JOBS_PER_FLUSH: usize = 512;

/// Computes the new state of one record from its stored state (`None`:
/// absent, or delete). May run more than once; must have no side effects.
pub type Compute = Box<dyn Fn(Option<&Record>) -> Result<Option<Record>> + Send>;

/// One record to change.
pub struct WriteOp {
    pub collection: Collection,
    pub id: String,
    pub compute: Compute,
}

/// What a write did to its record.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Created(Record),
    Updated(Record),
    Deleted(Record),
    /// The new content equals the stored one: nothing written.
    Unchanged(Record),
    /// Asked to delete what does not exist.
    Absent,
}

struct Job {
    ops: Vec<WriteOp>,
    atomic: bool,
    reply: oneshot::Sender<Result<Vec<Result<Outcome>>>>,
}

/// The writer's handle: submit jobs, read the durable revision, subscribe to
/// changes.
pub struct Writer {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    durable_revision: Arc<AtomicI64>,
    changes: broadcast::Sender<Arc<pb::Change>>,
}

impl Drop for Writer {
    /// Lets the writer finish its queue and waits for it, so that the
    /// database is closed (its lock released) when the store is dropped.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How many changes the log keeps, and the live-change buffer of watchers.
#[derive(Clone, Copy, Debug)]
pub struct WriterOptions {
    pub change_retention: u64,
    pub watch_buffer: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            change_retention: 100_000,
            watch_buffer: 4096,
        }
    }
}

impl Writer {
    pub fn start<K: KvStore>(kv: Arc<K>, options: WriterOptions) -> Result<Self> {
        let head = read_u64(kv.get(keys::REVISION)?) as i64;
        let durable_revision = Arc::new(AtomicI64::new(head));
        let (changes, _) = broadcast::channel(options.watch_buffer.max(1));
        let (jobs, receiver) = mpsc::unbounded_channel();
        let state = WriterThread {
            kv,
            jobs: receiver,
            durable_revision: Arc::clone(&durable_revision),
            changes: changes.clone(),
            retention: options.change_retention.max(1),
        };
        let thread = std::thread::Builder::new()
            .name("diplomacy-writer".into())
            .spawn(move || state.run())
            .map_err(|e| Error::Unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            durable_revision,
            changes,
        })
    }

    /// Commits `ops` and waits until they are durable. With `atomic`, all are
    /// written or none (the first failure is returned); otherwise each op has
    /// its own result and failed ones are skipped.
    pub async fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> Result<Vec<Result<Outcome>>> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .ok_or_else(|| Error::Unavailable("the store is shutting down".into()))?
            .send(Job { ops, atomic, reply })
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the writer stopped before answering".into()))?
    }

    /// The newest revision known durable (and published to watchers).
    pub fn durable_revision(&self) -> i64 {
        self.durable_revision.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<pb::Change>> {
        self.changes.subscribe()
    }
}

struct WriterThread<K> {
    kv: Arc<K>,
    jobs: mpsc::UnboundedReceiver<Job>,
    durable_revision: Arc<AtomicI64>,
    changes: broadcast::Sender<Arc<pb::Change>>,
    retention: u64,
}

impl<K: KvStore> WriterThread<K> {
    fn run(mut self) {
        while let Some(first) = self.jobs.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_JOBS_PER_FLUSH {
                match self.jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let mut answered = Vec::with_capacity(batch.len());
            let mut published = Vec::new();
            for job in batch {
                let result = self.commit(&job.ops, job.atomic);
                if let Ok((_, changes)) = &result {
                    published.extend(changes.iter().cloned());
                }
                answered.push((job.reply, result.map(|(outcomes, _)| outcomes)));
            }
            // One flush makes every job of the batch durable.
            let flushed = self.kv.flush();
            if flushed.is_ok() {
                if let Some(last) = published.last() {
                    self.durable_revision
                        .store(last.revision, Ordering::Release);
                }
                for change in published {
                    // No watcher listening is fine.
                    let _ = self.changes.send(Arc::new(change));
                }
            }
            for (reply, result) in answered {
                let result = match (&flushed, result) {
                    (Err(e), _) => Err(Error::Unavailable(format!(
                        "the write could not be made durable: {e}"
                    ))),
                    (Ok(()), result) => result,
                };
                let _ = reply.send(result);
            }
        }
    }

    /// One job, applied atomically: its outcomes and the changes it made.
    /// Each op writes into its own layer, so a failed op leaves no trace.
    #[allow(clippy::type_complexity)]
    fn commit(
        &self,
        ops: &[WriteOp],
        atomic: bool,
    ) -> Result<(Vec<Result<Outcome>>, Vec<pb::Change>)> {
        let commit_time = now_timestamp();
        let job = WriteSet::over(&*self.kv);
        let mut revision = read_u64(job.get(keys::REVISION)?) as i64;
        let mut outcomes = Vec::with_capacity(ops.len());
        let mut changes = Vec::new();
        for op in ops {
            let layer = WriteSet::over(&job);
            match apply(&layer, op, revision + 1) {
                Ok(outcome) => {
                    if let Some(change) = change_of(&outcome, revision + 1, commit_time) {
                        revision += 1;
                        write_change(&layer, &change, self.retention);
                        changes.push(change);
                    }
                    layer.merge_into(&job);
                    outcomes.push(Ok(outcome));
                }
                Err(error) if !atomic => outcomes.push(Err(error)),
                Err(error) => return Err(error),
            }
        }
        if !changes.is_empty() {
            job.insert(keys::REVISION, &(revision as u64).to_be_bytes());
        }
        self.kv.apply(job.into_writes())?;
        Ok((outcomes, changes))
    }
}

fn change_of(
    outcome: &Outcome,
    revision: i64,
    commit_time: prost_types::Timestamp,
) -> Option<pb::Change> {
    let (kind, record) = match outcome {
        Outcome::Created(r) => (pb::ChangeType::Created, r),
        Outcome::Updated(r) => (pb::ChangeType::Updated, r),
        Outcome::Deleted(r) => (pb::ChangeType::Deleted, r),
        Outcome::Unchanged(_) | Outcome::Absent => return None,
    };
    Some(pb::Change {
        revision,
        r#type: kind as i32,
        name: crate::records::record_name(record).to_string(),
        record: Some(pb::Record {
            kind: Some(record.clone()),
        }),
        commit_time: Some(commit_time),
    })
}

fn write_change(tx: &WriteSet<'_>, change: &pb::Change, retention: u64) {
    let revision = change.revision as u64;
    tx.insert(&keys::change(revision), &change.encode_to_vec());
    if revision > retention {
        tx.remove(&keys::change(revision - retention));
    }
}

/// Applies one op inside the transaction; `revision` is the one it gets if
/// it changes anything.
fn apply(tx: &WriteSet<'_>, op: &WriteOp, revision: i64) -> Result<Outcome> {
    let key = keys::record(op.collection, &op.id);
    let old =
        match tx.get(&key)? {
            Some(bytes) => Some(decode_record(op.collection, &bytes).map_err(|e| {
                Error::DataLoss(format!("{}/{}: {e}", op.collection.as_str(), op.id))
            })?),
            None => None,
        };
    let new = (op.compute)(old.as_ref())?;
    let new = match (old.as_ref(), new) {
        (None, None) => return Ok(Outcome::Absent),
        (Some(old), Some(new))
            if without_store_meta(old.clone()) == without_store_meta(new.clone()) =>
        {
            return Ok(Outcome::Unchanged(old.clone()))
        }
        (_, Some(mut new)) => {
            let m = meta(&mut new);
            *m.revision = revision;
            *m.etag = etag_for(revision);
            check_references_exist(tx, &new)?;
            Some(new)
        }
        (Some(_), None) => None,
    };
    if op.collection == Collection::Countries && old.is_some() && new.is_none() {
        check_country_unused(tx, &op.id)?;
    }
    let old_entries = old
        .as_ref()
        .map(|r| index_entries(op.collection, &op.id, r))
        .unwrap_or_default();
    let new_entries = new
        .as_ref()
        .map(|r| index_entries(op.collection, &op.id, r))
        .unwrap_or_default();
    for stale in old_entries.keys().filter(|k| !new_entries.contains_key(*k)) {
        tx.remove(stale);
    }
    for (k, v) in &new_entries {
        if old_entries.get(k) != Some(v) {
            tx.insert(k, v);
        }
    }
    adjust_meeting_counts(tx, &old_entries, &new_entries)?;
    let old_refs = old.as_ref().map(referenced_countries).unwrap_or_default();
    let new_refs = new.as_ref().map(referenced_countries).unwrap_or_default();
    adjust_refcounts(tx, &old_refs, &new_refs)?;
    Ok(match (old, new) {
        (None, Some(new)) => {
            tx.insert(&key, &encode_record(&new));
            Outcome::Created(new)
        }
        (Some(_), Some(new)) => {
            tx.insert(&key, &encode_record(&new));
            Outcome::Updated(new)
        }
        (Some(old), None) => {
            tx.remove(&key);
            Outcome::Deleted(old)
        }
        (None, None) => Outcome::Absent,
    })
}

/// Keeps the per-year and per-month meeting counters of each pair in step
/// with the pair meeting entries (`m/{AB}/{date}/…`) this write adds and
/// removes.
fn adjust_meeting_counts(
    tx: &WriteSet<'_>,
    old: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    new: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<()> {
    let removed = old
        .keys()
        .filter(|k| k.starts_with(b"m/") && !new.contains_key(*k))
        .map(|k| (k, -1));
    let added = new
        .keys()
        .filter(|k| k.starts_with(b"m/") && !old.contains_key(*k))
        .map(|k| (k, 1));
    for (key, delta) in removed.chain(added) {
        let text = String::from_utf8_lossy(key);
        let mut parts = text.split('/').skip(1);
        let (Some(pair), Some(date)) = (parts.next(), parts.next()) else {
            continue;
        };
        if date.len() < 8 {
            continue;
        }
        for counter in keys::meeting_counters(pair, date) {
            let count = read_u64(tx.get(&counter)?).saturating_add_signed(delta);
            if count == 0 {
                tx.remove(&counter);
            } else {
                tx.insert(&counter, &count.to_be_bytes());
            }
        }
    }
    Ok(())
}

fn adjust_refcounts(
    tx: &WriteSet<'_>,
    old: &BTreeSet<CountryCode>,
    new: &BTreeSet<CountryCode>,
) -> Result<()> {
    for code in old.difference(new) {
        adjust_refcount(tx, *code, -1)?;
    }
    for code in new.difference(old) {
        adjust_refcount(tx, *code, 1)?;
    }
    Ok(())
}

fn check_references_exist(tx: &WriteSet<'_>, record: &Record) -> Result<()> {
    let mut missing = Vec::new();
    for code in referenced_countries(record) {
        if tx
            .get(&keys::record(Collection::Countries, code.as_str()))?
            .is_none()
        {
            missing.push(PreconditionViolation {
                kind: "COUNTRY_NOT_FOUND",
                subject: code.name(),
                description: format!("{} does not exist: create the country first", code.name()),
            });
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::FailedPrecondition(missing))
    }
}

fn check_country_unused(tx: &WriteSet<'_>, id: &str) -> Result<()> {
    let Some(code) = CountryCode::parse(id) else {
        return Ok(());
    };
    let count = read_u64(tx.get(&keys::refcount(code))?);
    if count > 0 {
        return Err(Error::FailedPrecondition(vec![PreconditionViolation {
            kind: "COUNTRY_IN_USE",
            subject: code.name(),
            description: format!(
                "{} is still named by {count} record(s): delete or change them first",
                code.name()
            ),
        }]));
    }
    Ok(())
}

/// A big-endian u64 value, 0 when absent or malformed.
pub fn read_u64(bytes: Option<Vec<u8>>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn adjust_refcount(tx: &WriteSet<'_>, code: CountryCode, delta: i64) -> Result<()> {
    let key = keys::refcount(code);
    let count = read_u64(tx.get(&key)?).saturating_add_signed(delta);
    if count == 0 {
        tx.remove(&key);
    } else {
        tx.insert(&key, &count.to_be_bytes());
    }
    Ok(())
}
