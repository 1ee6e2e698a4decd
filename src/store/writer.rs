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

use tokio::sync::{broadcast, mpsc, oneshot, watch};

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
    kind: JobKind,
    reply: Reply,
}

/// What a job does with its ops.
pub enum JobKind {
    /// Checked and committed here, each change its own revision (embedded
    /// mode).
    Local,
    /// Checked against the current state and then dropped: each call's
    /// outcomes (`Done::calls`), and the revision they were computed at.
    /// The ops are those of several calls one after the other, each call
    /// given as its number of ops and whether it is atomic; a call sees the
    /// calls before it that succeeded. A replica's writes, before they go to
    /// etcd in one transaction (`replica`).
    DryRun { calls: Vec<(usize, bool)> },
    /// Changes etcd committed at `revision`, applied in its order: every op
    /// gets that revision (and the same `commit_time` on every replica),
    /// and the store's revision becomes `revision` even when nothing
    /// changed. An op that fails here is logged and skipped: every replica
    /// applies the same ops to the same state, so each skips the same.
    /// `origin`, when given, is written as the index's origin.
    Replicated {
        revision: i64,
        commit_time: prost_types::Timestamp,
        origin: Option<Vec<u8>>,
        part: Part,
    },
}

/// Which part of following etcd a replicated job is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Part {
    /// A change from the watch: logged, and the store is at its revision.
    Live,
    /// A page of a snapshot at `revision`: not logged, and the store keeps
    /// its revision (reads waiting for the snapshot's wait until its end),
    /// with the snapshot marked unfinished (`keys::SNAPSHOT_PENDING`).
    SnapshotPage,
    /// The snapshot is in: the store is at its revision, and the log holds
    /// every change after it (`keys::LOG_FROM`) and nothing before.
    SnapshotEnd,
}

/// A job's outcomes, and the store's revision after it (for a dry run: the
/// revision it was computed at).
pub struct Done {
    pub outcomes: Vec<Result<Outcome>>,
    pub revision: i64,
    /// A dry run's ops, handed back to be run again or sent on.
    pub ops: Vec<WriteOp>,
    /// A dry run's result for each call: its outcomes, or (atomic) its
    /// first failure.
    pub calls: Vec<Result<Vec<Result<Outcome>>>>,
}

/// The writer's handle: submit jobs, read the durable revision, subscribe to
/// changes.
pub struct Writer {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    durable_revision: Arc<AtomicI64>,
    changes: broadcast::Sender<Arc<pb::Change>>,
    /// The revision reads answer at: the durable one, or (in a replica)
    /// a newer one etcd reported with nothing under our prefix since.
    seen: Arc<watch::Sender<i64>>,
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
        let next_index = next_change_index(&*kv, head)?;
        let seen = Arc::new(watch::Sender::new(head));
        let (changes, _) = broadcast::channel(options.watch_buffer.max(1));
        let (jobs, receiver) = mpsc::unbounded_channel();
        let state = WriterThread {
            kv,
            cache,
            counts: RefCell::new(HashMap::new()),
            jobs: receiver,
            durable_revision: Arc::clone(&durable_revision),
            seen: Arc::clone(&seen),
            changes: changes.clone(),
            retention: options.change_retention.max(1),
            next_index: RefCell::new((head, next_index)),
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
            seen,
        })
    }

    /// Commits `ops` and waits until they are durable. With `atomic`, all are
    /// written or none (the first failure is returned); otherwise each op has
    /// its own result and failed ones are skipped.
    pub async fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> Result<Vec<Result<Outcome>>> {
        Ok(self.submit(ops, atomic, JobKind::Local).await?.outcomes)
    }

    /// Runs one job of any kind and waits for its answer (for a write: until
    /// it is durable).
    pub async fn submit(&self, ops: Vec<WriteOp>, atomic: bool, kind: JobKind) -> Result<Done> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .ok_or_else(|| Error::Unavailable("the store is shutting down".into()))?
            .send(Job {
                ops,
                atomic,
                kind,
                reply,
            })
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the writer stopped before answering".into()))?
    }

    /// The revision reads answer at, as it changes.
    pub fn seen(&self) -> watch::Receiver<i64> {
        self.seen.subscribe()
    }

    /// Etcd says nothing under our prefix changed after what was applied,
    /// up to `revision`: reads answer at it. The caller has waited for every
    /// change before it to be durable.
    pub fn saw(&self, revision: i64) {
        self.seen.send_if_modified(|seen| {
            let newer = revision > *seen;
            if newer {
                *seen = revision;
            }
            newer
        });
    }

    /// The newest revision known durable (and published to watchers).
    pub fn durable_revision(&self) -> i64 {
        self.durable_revision.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<pb::Change>> {
        self.changes.subscribe()
    }
}

/// The index the next change of `revision` gets, from the log's last key.
fn next_change_index<K: KvStore>(kv: &K, revision: i64) -> Result<usize> {
    let lower = keys::change(revision.max(0) as u64);
    let upper = keys::prefix_end(keys::CHANGES);
    let last = kv
        .scan(
            std::ops::Bound::Included(lower),
            std::ops::Bound::Excluded(upper),
            true,
        )
        .next()
        .transpose()?;
    Ok(match last {
        Some((key, _)) if keys::revision_of_change(&key) == Some(revision) => {
            let index = key
                .rsplit(|b| *b == b'.')
                .next()
                .filter(|_| key.contains(&b'.'))
                .and_then(|digits| std::str::from_utf8(digits).ok()?.parse::<usize>().ok())
                .unwrap_or(0);
            index + 1
        }
        _ => 0,
    })
}

struct WriterThread<K> {
    kv: Arc<K>,
    cache: Arc<ReadCache>,
    /// The committed value of every count (`n/`, `q/`) read so far.
    counts: RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    jobs: mpsc::UnboundedReceiver<Job>,
    durable_revision: Arc<AtomicI64>,
    seen: Arc<watch::Sender<i64>>,
    changes: broadcast::Sender<Arc<pb::Change>>,
    retention: u64,
    /// The revision of the last change logged and the index its next change
    /// gets (several changes share a revision in a replica's index).
    next_index: RefCell<(i64, usize)>,
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
    answers: Vec<(Reply, Result<Done>)>,
    changes: Vec<pb::Change>,
    /// The store's revision once the group is durable.
    revision: i64,
}

type Reply = oneshot::Sender<Result<Done>>;

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
                .spawn({
                    let seen = Arc::clone(&self.seen);
                    move || flush_loop(&*kv, committed, &durable, &seen, &changes)
                })
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
        let next_index = *self.next_index.borrow();
        for job in group {
            let layer = WriteSet::over(&base);
            if let JobKind::DryRun { calls } = &job.kind {
                // Computed over this group's writes so far, then dropped.
                let answer = self
                    .dry_run(&layer, &job.ops, calls)
                    .map(|(calls, revision)| Done {
                        outcomes: Vec::new(),
                        revision,
                        ops: job.ops,
                        calls,
                    });
                answers.push((job.reply, answer));
                continue;
            }
            match self.commit(&layer, &job.ops, job.atomic, &job.kind) {
                Ok((outcomes, job_changes, revision)) => {
                    layer.merge_into(&base);
                    changes.extend(job_changes);
                    answers.push((
                        job.reply,
                        Ok(Done {
                            outcomes,
                            revision,
                            ops: Vec::new(),
                            calls: Vec::new(),
                        }),
                    ));
                }
                Err(error) => answers.push((job.reply, Err(error))),
            }
        }
        let revision = base
            .get(keys::REVISION)
            .map(|bytes| read_u64(bytes) as i64)
            .unwrap_or_default();
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
            *self.next_index.borrow_mut() = next_index;
            changes.clear();
            for (_, result) in &mut answers {
                if result.is_ok() {
                    *result = Err(Error::Unavailable(format!("the write failed: {error}")));
                }
            }
        }
        Committed {
            answers,
            changes,
            revision,
        }
    }

    /// One job's writes into `job`: its outcomes and the changes it made.
    /// Each op writes into its own layer, so a failed op leaves no trace.
    #[allow(clippy::type_complexity)]
    fn commit(
        &self,
        job: &WriteSet<'_>,
        ops: &[WriteOp],
        atomic: bool,
        kind: &JobKind,
    ) -> Result<(Vec<Result<Outcome>>, Vec<pb::Change>, i64)> {
        let stored = read_u64(job.get(keys::REVISION)?) as i64;
        if let JobKind::Replicated {
            revision,
            commit_time,
            origin,
            part,
        } = kind
        {
            let (outcomes, changes) = self.replay(job, ops, *revision, commit_time, *part)?;
            if let Some(origin) = origin {
                job.insert(keys::ETCD_ORIGIN, origin);
            }
            let revision = match part {
                Part::SnapshotPage => {
                    job.insert(keys::SNAPSHOT_PENDING, &(*revision as u64).to_be_bytes());
                    stored
                }
                Part::SnapshotEnd => {
                    job.remove(keys::SNAPSHOT_PENDING);
                    job.insert(keys::LOG_FROM, &(*revision as u64).to_be_bytes());
                    (*revision).max(stored)
                }
                Part::Live => (*revision).max(stored),
            };
            job.insert(keys::REVISION, &(revision as u64).to_be_bytes());
            return Ok((outcomes, changes, revision));
        }
        let commit_time = now_timestamp();
        let mut revision = stored;
        let mut outcomes = Vec::with_capacity(ops.len());
        let mut changes = Vec::new();
        for op in ops {
            let layer = WriteSet::over(job);
            match apply(&layer, op, revision + 1) {
                Ok(outcome) => {
                    if let Some(change) = change_of(&outcome, revision + 1, commit_time) {
                        revision += 1;
                        write_change(&layer, &change, 0, self.retention);
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
        Ok((outcomes, changes, revision))
    }

    /// Each call's outcomes over `job` (see `JobKind::DryRun`), and the
    /// revision they were computed at.
    #[allow(clippy::type_complexity)]
    fn dry_run(
        &self,
        job: &WriteSet<'_>,
        ops: &[WriteOp],
        calls: &[(usize, bool)],
    ) -> Result<(Vec<Result<Vec<Result<Outcome>>>>, i64)> {
        let stored = read_u64(job.get(keys::REVISION)?) as i64;
        let mut revision = stored;
        let mut results = Vec::with_capacity(calls.len());
        let mut at = 0;
        for &(count, atomic) in calls {
            let end = (at + count).min(ops.len());
            let call = WriteSet::over(job);
            let mut outcomes = Vec::with_capacity(end - at);
            let mut failure = None;
            for op in &ops[at..end] {
                let layer = WriteSet::over(&call);
                match apply(&layer, op, revision + 1) {
                    Ok(outcome) => {
                        if !matches!(outcome, Outcome::Unchanged(_) | Outcome::Absent) {
                            revision += 1;
                        }
                        layer.merge_into(&call);
                        outcomes.push(Ok(outcome));
                    }
                    Err(error) if !atomic => outcomes.push(Err(error)),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            at = end;
            match failure {
                Some(error) => results.push(Err(error)),
                None => {
                    call.merge_into(job);
                    results.push(Ok(outcomes));
                }
            }
        }
        Ok((results, stored))
    }

    /// Applies ops committed by etcd at `revision`; see `JobKind::Replicated`.
    /// A revision older than the store's has been applied already.
    fn replay(
        &self,
        job: &WriteSet<'_>,
        ops: &[WriteOp],
        revision: i64,
        commit_time: &prost_types::Timestamp,
        part: Part,
    ) -> Result<(Vec<Result<Outcome>>, Vec<pb::Change>)> {
        let stored = read_u64(job.get(keys::REVISION)?) as i64;
        if revision < stored {
            return Ok((Vec::new(), Vec::new()));
        }
        let snapshot = part != Part::Live;
        let mut outcomes: Vec<Option<Result<Outcome>>> = ops.iter().map(|_| None).collect();
        let mut changes = Vec::new();
        // The writer checked these ops in its own order; etcd may hand them
        // back in another (one record written twice in a call is one put),
        // so an op that fails for want of another is tried again after the
        // rest, until a pass changes nothing.
        let mut pending: Vec<usize> = (0..ops.len()).collect();
        loop {
            let mut failed = Vec::new();
            for &i in &pending {
                let op = &ops[i];
                let layer = WriteSet::over(job);
                match apply(&layer, op, revision) {
                    Ok(outcome) => {
                        let change = change_of(&outcome, revision, *commit_time);
                        if let Some(change) = change.filter(|_| !snapshot) {
                            let mut next = self.next_index.borrow_mut();
                            if next.0 != revision {
                                *next = (revision, 0);
                            }
                            // Old entries go below, by range (revisions have gaps).
                            write_change(&layer, &change, next.1, u64::MAX);
                            next.1 += 1;
                            changes.push(change);
                        }
                        layer.merge_into(job);
                        outcomes[i] = Some(Ok(outcome));
                    }
                    Err(error) => {
                        failed.push(i);
                        outcomes[i] = Some(Err(error));
                    }
                }
            }
            if failed.is_empty() || failed.len() == pending.len() {
                break;
            }
            pending = failed;
        }
        let outcomes: Vec<Result<Outcome>> = outcomes
            .into_iter()
            .zip(ops)
            .map(|(outcome, op)| {
                let outcome = outcome.unwrap_or(Ok(Outcome::Absent));
                if let Err(error) = &outcome {
                    tracing::error!(
                        revision,
                        record = %format!("{}/{}", op.collection.as_str(), op.id),
                        %error,
                        "a change committed in etcd does not apply here: skipped (every replica skips it)"
                    );
                }
                outcome
            })
            .collect();
        if !changes.is_empty() {
            self.drop_old_changes(job, revision)?;
        }
        Ok((outcomes, changes))
    }

    /// Drops the logged changes `retention` or more revisions older than
    /// `revision` (a few at a time), and records that the log starts after
    /// the newest dropped.
    fn drop_old_changes(&self, job: &WriteSet<'_>, revision: i64) -> Result<()> {
        let Some(below) = (revision as u64).checked_sub(self.retention) else {
            return Ok(());
        };
        let old = self.kv.scan(
            std::ops::Bound::Included(keys::CHANGES.to_vec()),
            std::ops::Bound::Excluded(keys::change(below + 1)),
            false,
        );
        let mut dropped = None;
        for entry in old.take(1024) {
            let (key, _) = entry?;
            dropped = keys::revision_of_change(&key).or(dropped);
            job.remove(&key);
        }
        if let Some(dropped) = dropped {
            let from = read_u64(job.get(keys::LOG_FROM)?);
            job.insert(keys::LOG_FROM, &(dropped as u64).max(from).to_be_bytes());
        }
        Ok(())
    }
}

/// Flushes committed groups (all that wait, with one flush), then publishes
/// their changes and answers their callers: an acknowledged write is durable.
fn flush_loop<K: KvStore>(
    kv: &K,
    committed: std::sync::mpsc::Receiver<Committed>,
    durable_revision: &AtomicI64,
    seen: &watch::Sender<i64>,
    changes: &broadcast::Sender<Arc<pb::Change>>,
) {
    while let Ok(first) = committed.recv() {
        let mut groups = vec![first];
        groups.extend(committed.try_iter());
        let flushed = kv.flush();
        for group in groups {
            if flushed.is_ok() {
                durable_revision.fetch_max(group.revision, Ordering::AcqRel);
                seen.send_if_modified(|seen| {
                    let newer = group.revision > *seen;
                    if newer {
                        *seen = group.revision;
                    }
                    newer
                });
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
