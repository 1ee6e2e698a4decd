//! The single writer: every change to the store goes through one thread.
//!
//! One writer means writes never conflict, revisions are assigned in commit
//! order, and many writes share one flush (group commit): the thread takes
//! every job waiting and commits them as one engine batch; a second thread
//! flushes, and only then answers the callers and publishes the changes to
//! watchers. While it flushes, the writer commits the next group, so under
//! load each flush covers every job that arrived during the previous one. An
//! acknowledged write is therefore always durable. What one write does to
//! the records and indexes is `apply`'s.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};

use super::apply::{apply, change_of, read_u64, write_change, Outcome, WriteOp};
use super::cache::ReadCache;
use super::keys;
use super::kv::{KvRead, KvStore, WriteSet};
use crate::convert::now_timestamp;
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;

/// Most jobs, and about the most records, committed as one engine batch.
const MAX_JOBS_PER_FLUSH: usize = 512;
const MAX_OPS_PER_GROUP: usize = 4096;

struct Job {
    ops: Vec<WriteOp>,
    atomic: bool,
    reply: Reply,
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
    /// Budget of the in-memory pair indexes relation queries read; the
    /// writer keeps them in step.
    pub relation_cache_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            change_retention: 100_000,
            watch_buffer: 4096,
            relation_cache_bytes: 256 << 20,
        }
    }
}

impl Writer {
    pub fn start<K: KvStore>(
        kv: Arc<K>,
        cache: Arc<ReadCache>,
        options: WriterOptions,
    ) -> Result<Self> {
        let head = read_u64(kv.get(keys::REVISION)?) as i64;
        let durable_revision = Arc::new(AtomicI64::new(head));
        let (changes, _) = broadcast::channel(options.watch_buffer.max(1));
        let (jobs, receiver) = mpsc::unbounded_channel();
        let state = WriterThread {
            kv,
            cache,
            counts: RefCell::new(HashMap::new()),
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
    cache: Arc<ReadCache>,
    /// The committed value of every count (`n/`, `q/`) read so far.
    counts: RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    jobs: mpsc::UnboundedReceiver<Job>,
    durable_revision: Arc<AtomicI64>,
    changes: broadcast::Sender<Arc<pb::Change>>,
    retention: u64,
}

/// Counts (and the revision) are read on most writes and change only
/// through the writer, so the writer keeps each one it has read, and each
/// one it has applied: the reads then come from memory (a cold sled page
/// costs tens of µs). At most a count per country and two per pair with
/// facts.
fn is_count(key: &[u8]) -> bool {
    key.starts_with(keys::REFCOUNTS)
        || key.starts_with(keys::PARTNERS)
        || key.starts_with(keys::RECORD_COUNTS)
        || key == keys::REVISION
}

/// The engine, with counts answered from the writer's copy and country
/// existence (checked for every country a record names) from the read
/// cache, which the writer keeps exact.
struct CountsMemo<'a, K> {
    kv: &'a K,
    counts: &'a RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    cache: &'a ReadCache,
}

impl<K: KvStore> KvRead for CountsMemo<'_, K> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if !is_count(key) {
            return self.kv.get(key);
        }
        if let Some(known) = self.counts.borrow().get(key) {
            return Ok(known.clone());
        }
        let value = self.kv.get(key)?;
        self.counts.borrow_mut().insert(key.to_vec(), value.clone());
        Ok(value)
    }

    fn contains(&self, key: &[u8]) -> Result<bool> {
        match keys::country_of_record(key) {
            Some(code) => Ok(self.cache.country_exists(code)),
            None => self.kv.contains(key),
        }
    }
}

/// A group of jobs applied to the engine, waiting for the flush that makes
/// them durable before they are answered and published.
struct Committed {
    answers: Vec<(Reply, Result<Vec<Result<Outcome>>>)>,
    changes: Vec<pb::Change>,
}

type Reply = oneshot::Sender<Result<Vec<Result<Outcome>>>>;

impl<K: KvStore> WriterThread<K> {
    /// Commits groups of waiting jobs and hands each to the flusher thread,
    /// so that the next group is committed while the last one is flushed:
    /// jobs arriving during a flush all share the next one.
    fn run(mut self) {
        let (to_flusher, committed) = std::sync::mpsc::channel::<Committed>();
        let flusher = {
            let kv = Arc::clone(&self.kv);
            let durable = Arc::clone(&self.durable_revision);
            let changes = self.changes.clone();
            std::thread::Builder::new()
                .name("diplomacy-flush".into())
                .spawn(move || flush_loop(&*kv, committed, &durable, &changes))
        };
        let flusher = match flusher {
            Ok(flusher) => flusher,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the flush thread; writes fail");
                while let Some(job) = self.jobs.blocking_recv() {
                    let _ = job.reply.send(Err(Error::Unavailable(
                        "the store cannot flush: its flush thread did not start".into(),
                    )));
                }
                return;
            }
        };
        while let Some(first) = self.jobs.blocking_recv() {
            let mut ops = first.ops.len();
            let mut group = vec![first];
            while group.len() < MAX_JOBS_PER_FLUSH && ops < MAX_OPS_PER_GROUP {
                match self.jobs.try_recv() {
                    Ok(job) => {
                        ops += job.ops.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            if to_flusher.send(self.commit_group(group)).is_err() {
                break;
            }
        }
        drop(to_flusher);
        let _ = flusher.join();
    }

    /// Applies a group of jobs as one engine batch. Each job writes into its
    /// own layer, so a failed job leaves no trace and the next job sees the
    /// writes of those before it.
    fn commit_group(&self, group: Vec<Job>) -> Committed {
        let memo = CountsMemo {
            kv: &*self.kv,
            counts: &self.counts,
            cache: &self.cache,
        };
        let base = WriteSet::over(&memo);
        let mut answers = Vec::with_capacity(group.len());
        let mut changes = Vec::new();
        for job in group {
            let layer = WriteSet::over(&base);
            match self.commit(&layer, &job.ops, job.atomic) {
                Ok((outcomes, job_changes)) => {
                    layer.merge_into(&base);
                    changes.extend(job_changes);
                    answers.push((job.reply, Ok(outcomes)));
                }
                Err(error) => answers.push((job.reply, Err(error))),
            }
        }
        let writes = base.into_writes();
        let new_counts: Vec<_> = writes
            .iter()
            .filter(|(key, _)| is_count(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let mut patch = Some(ReadCache::patch_for(&writes));
        let applied = self.kv.apply_and(writes, &mut || {
            if let Some(patch) = patch.take() {
                self.cache.apply(patch);
            }
        });
        if applied.is_ok() {
            self.counts.borrow_mut().extend(new_counts);
        }
        if let Err(error) = applied {
            // Nothing of the group was written.
            changes.clear();
            for (_, result) in &mut answers {
                if result.is_ok() {
                    *result = Err(Error::Unavailable(format!("the write failed: {error}")));
                }
            }
        }
        Committed { answers, changes }
    }

    /// One job's writes into `job`: its outcomes and the changes it made.
    /// Each op writes into its own layer, so a failed op leaves no trace.
    #[allow(clippy::type_complexity)]
    fn commit(
        &self,
        job: &WriteSet<'_>,
        ops: &[WriteOp],
        atomic: bool,
    ) -> Result<(Vec<Result<Outcome>>, Vec<pb::Change>)> {
        let commit_time = now_timestamp();
        let mut revision = read_u64(job.get(keys::REVISION)?) as i64;
        let mut outcomes = Vec::with_capacity(ops.len());
        let mut changes = Vec::new();
        for op in ops {
            let layer = WriteSet::over(job);
            match apply(&layer, op, revision + 1) {
                Ok(outcome) => {
                    if let Some(change) = change_of(&outcome, revision + 1, commit_time) {
                        revision += 1;
                        write_change(&layer, &change, self.retention);
                        changes.push(change);
                    }
                    layer.merge_into(job);
                    outcomes.push(Ok(outcome));
                }
                Err(error) if !atomic => outcomes.push(Err(error)),
                Err(error) => return Err(error),
            }
        }
        if !changes.is_empty() {
            job.insert(keys::REVISION, &(revision as u64).to_be_bytes());
        }
        Ok((outcomes, changes))
    }
}

/// Flushes committed groups (all that wait, with one flush), then publishes
/// their changes and answers their callers: an acknowledged write is durable.
fn flush_loop<K: KvStore>(
    kv: &K,
    committed: std::sync::mpsc::Receiver<Committed>,
    durable_revision: &AtomicI64,
    changes: &broadcast::Sender<Arc<pb::Change>>,
) {
    while let Ok(first) = committed.recv() {
        let mut groups = vec![first];
        groups.extend(committed.try_iter());
        let flushed = kv.flush();
        for group in groups {
            if flushed.is_ok() {
                if let Some(last) = group.changes.last() {
                    durable_revision.store(last.revision, Ordering::Release);
                }
                for change in group.changes {
                    // No watcher listening is fine.
                    let _ = changes.send(Arc::new(change));
                }
            }
            for (reply, result) in group.answers {
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
}
