//! A replica's writes: checked here against the index, committed by etcd,
//! acknowledged once applied here.
//!
//! Every check of the embedded mode (create only if absent, etags,
//! references that must exist, records still named, successions, dates
//! within existence) runs unchanged, as a dry run of the writer on the index
//! at its applied revision R. The etcd transaction then commits the result
//! only if the head key — which every write puts — has not changed since R
//! (`mod_revision(head) < R + 1`): the state the checks saw is still the
//! truth, so two replicas can never both accept conflicting writes. A
//! replica that loses the race waits until it has applied the winner and
//! checks again; a stale etag then answers ABORTED, as it would embedded.
//! Calls that arrive together share one dry run and one transaction (group
//! commit), as the embedded writer shares one flush.

use std::sync::{Arc, Weak};
use std::time::Duration;

use prost::Message;
use std::collections::HashSet;

use tokio::sync::{mpsc, oneshot};

use super::etcd::Etcd;
use super::layout::Layout;
use super::Progress;
use crate::convert::now_timestamp;
use crate::error::{Error, Result};
use crate::pb::etcd::etcdserverpb as rpc;
use crate::records::{encode_record, etag_for, meta, without_store_meta};
use crate::store::{JobKind, Outcome, Store, WriteFuture, WriteOp, WritePath};
use rpc::compare::{CompareResult, CompareTarget, TargetUnion};
use rpc::request_op::Request as Op;

/// etcd's default limit is 128 operations per transaction; one is the head.
pub const MAX_RECORDS_PER_TXN: usize = 127;
/// etcd's default request limit is 1.5 MiB: a transaction stays under 1 MiB
/// of values so that keys and framing fit.
pub const MAX_TXN_BYTES: usize = 1 << 20;
/// How long an acknowledged transaction may take to come back through the
/// watch when the caller set no deadline (start-up loads).
const APPLY_WAIT: Duration = Duration::from_secs(120);

/// Calls taken into one transaction at most (each with its records).
const MAX_CALLS_PER_TXN: usize = 64;

/// The store's write path in a replica: hands each call to the committer.
pub struct EtcdWrites {
    pub(super) queue: mpsc::UnboundedSender<Pending>,
}

/// A call waiting for the committer.
pub(super) struct Pending {
    ops: Vec<WriteOp>,
    atomic: bool,
    reply: oneshot::Sender<Result<Vec<Result<Outcome>>>>,
}

impl WritePath for EtcdWrites {
    fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> WriteFuture<'_> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.queue
                .send(Pending { ops, atomic, reply })
                .map_err(|_| Error::Unavailable("the replica is shutting down".into()))?;
            answer
                .await
                .map_err(|_| Error::Unavailable("the replica stopped before answering".into()))?
        })
    }
}

/// One put or delete of a record, and where its outcome is.
struct Change {
    key: Vec<u8>,
    request: Op,
    bytes: usize,
    outcome: usize,
}

/// Commits the calls waiting, several in one etcd transaction (group
/// commit): they are checked together, each seeing the ones before it, so
/// one transaction on one head holds them all; a call that would repeat a
/// record of one before it, or pass etcd's limits, waits for the next.
pub(super) struct Committer {
    pub(super) store: Weak<Store>,
    pub(super) etcd: Arc<Etcd>,
    pub(super) layout: Layout,
    pub(super) progress: Arc<Progress>,
    pub(super) queue: mpsc::UnboundedReceiver<Pending>,
}

impl Committer {
    pub(super) async fn run(mut self) {
        while let Some(first) = self.queue.recv().await {
            let mut calls = vec![first];
            while calls.len() < MAX_CALLS_PER_TXN {
                match self.queue.try_recv() {
                    Ok(call) => calls.push(call),
                    Err(_) => break,
                }
            }
            let Some(store) = self.store.upgrade() else {
                for call in calls {
                    let _ = call
                        .reply
                        .send(Err(Error::Unavailable("the store is closing".into())));
                }
                return;
            };
            while !calls.is_empty() {
                calls = self.commit_some(&store, calls).await;
            }
        }
    }

    /// Commits the first of `calls` that fit one transaction and answers
    /// them; returns the calls still to commit.
    async fn commit_some(&self, store: &Store, mut calls: Vec<Pending>) -> Vec<Pending> {
        let sizes: Vec<(usize, bool)> = calls.iter().map(|c| (c.ops.len(), c.atomic)).collect();
        let ops: Vec<WriteOp> = calls
            .iter_mut()
            .flat_map(|c| std::mem::take(&mut c.ops))
            .collect();
        let done = match store
            .submit(
                ops,
                false,
                JobKind::DryRun {
                    calls: sizes.clone(),
                },
            )
            .await
        {
            Ok(done) => done,
            Err(error) => {
                answer_all(calls, &error);
                return Vec::new();
            }
        };
        let mut returned = done.ops.into_iter();
        for (call, (count, _)) in calls.iter_mut().zip(&sizes) {
            call.ops = returned.by_ref().take(*count).collect();
        }
        let mut results = done.calls;
        // How many calls this transaction takes.
        let mut keys = HashSet::new();
        let (mut records, mut bytes, mut taken) = (0, 0, 0);
        let mut changes: Vec<Change> = Vec::new();
        let mut outcomes: Vec<Result<Outcome>> = Vec::new();
        let mut spans = Vec::new();
        for result in &mut results {
            let call_changes = match result {
                Ok(call_outcomes) => self.changes_of(call_outcomes, outcomes.len()),
                Err(_) => Vec::new(),
            };
            let more: usize = call_changes.iter().map(|c| c.bytes).sum();
            let repeats = call_changes.iter().any(|c| keys.contains(&c.key));
            if taken > 0
                && (records + call_changes.len() > MAX_RECORDS_PER_TXN
                    || bytes + more > MAX_TXN_BYTES
                    || repeats)
            {
                break;
            }
            keys.extend(call_changes.iter().map(|c| c.key.clone()));
            records += call_changes.len();
            bytes += more;
            changes.extend(call_changes);
            let start = outcomes.len();
            if let Ok(call_outcomes) = result {
                outcomes.append(call_outcomes);
            }
            spans.push(start..outcomes.len());
            taken += 1;
        }
        let mut later = calls.split_off(taken);
        results.truncate(taken);
        if changes.is_empty() {
            answer(calls, results, outcomes, &spans);
            return later;
        }
        match self.commit(changes, done.revision, &mut outcomes).await {
            Ok(Committed::Yes(revision)) => match self.wait_applied(store, revision).await {
                Ok(()) => answer(calls, results, outcomes, &spans),
                Err(error) => answer_all(calls, &error),
            },
            Ok(Committed::Lost(newest)) => {
                // Another replica wrote first: check them all again on its state.
                if let Err(error) = self.wait_applied(store, newest).await {
                    answer_all(calls, &error);
                    answer_all(later, &error);
                    return Vec::new();
                }
                calls.append(&mut later);
                return calls;
            }
            Err(error) => answer_all(calls, &error),
        }
        later
    }

    /// The puts and deletes the outcomes ask for; `offset` is where the
    /// outcomes start in the transaction's.
    fn changes_of(&self, outcomes: &[Result<Outcome>], offset: usize) -> Vec<Change> {
        let mut changes: Vec<Change> = Vec::new();
        for (index, outcome) in outcomes.iter().enumerate() {
            let (record, delete) = match outcome {
                Ok(Outcome::Created(record)) | Ok(Outcome::Updated(record)) => (record, false),
                Ok(Outcome::Deleted(record)) => (record, true),
                _ => continue,
            };
            let Some((collection, id)) =
                crate::domain::names::parse_record_name(crate::records::record_name(record))
            else {
                continue;
            };
            let key = self.layout.record(collection, id);
            let request = if delete {
                Op::RequestDeleteRange(rpc::DeleteRangeRequest {
                    key: key.clone(),
                    ..Default::default()
                })
            } else {
                let value = encode_record(&without_store_meta(record.clone()));
                Op::RequestPut(rpc::PutRequest {
                    key: key.clone(),
                    value,
                    ..Default::default()
                })
            };
            let bytes = match &request {
                Op::RequestPut(put) => put.key.len() + put.value.len(),
                Op::RequestDeleteRange(delete) => delete.key.len(),
                _ => 0,
            };
            changes.push(Change {
                key,
                request,
                bytes,
                outcome: offset + index,
            });
        }
        changes
    }

    /// Commits the changes, computed on revision `base`, in as few
    /// transactions as etcd's limits allow. The first compares the head
    /// with `base`; each next one with the revision of the one before, so a
    /// write that needs several is never interleaved with another. A record
    /// written twice in one call (the built-in countries go in without
    /// their links first, since links name each other) starts a new
    /// transaction: etcd takes a key once per transaction, and its second
    /// state needs the first of the others.
    async fn commit(
        &self,
        changes: Vec<Change>,
        base: i64,
        outcomes: &mut [Result<Outcome>],
    ) -> Result<Committed> {
        let mut batches: Vec<Vec<Change>> = vec![Vec::new()];
        let mut bytes = 0;
        let mut keys = std::collections::HashSet::new();
        for change in changes {
            let last = batches.last().map(Vec::len).unwrap_or_default();
            if last == MAX_RECORDS_PER_TXN
                || (last > 0 && bytes + change.bytes > MAX_TXN_BYTES)
                || keys.contains(&change.key)
            {
                batches.push(Vec::new());
                bytes = 0;
                keys.clear();
            }
            keys.insert(change.key.clone());
            bytes += change.bytes;
            if let Some(batch) = batches.last_mut() {
                batch.push(change);
            }
        }
        let count = batches.len();
        let mut previous: Option<i64> = None;
        for (number, batch) in batches.into_iter().enumerate() {
            let compare = match previous {
                None => rpc::Compare {
                    result: CompareResult::Less as i32,
                    target: CompareTarget::Mod as i32,
                    key: self.layout.head(),
                    target_union: Some(TargetUnion::ModRevision(base + 1)),
                    ..Default::default()
                },
                Some(revision) => rpc::Compare {
                    result: CompareResult::Equal as i32,
                    target: CompareTarget::Mod as i32,
                    key: self.layout.head(),
                    target_union: Some(TargetUnion::ModRevision(revision)),
                    ..Default::default()
                },
            };
            let mut success: Vec<rpc::RequestOp> = Vec::with_capacity(batch.len() + 1);
            success.push(rpc::RequestOp {
                request: Some(Op::RequestPut(rpc::PutRequest {
                    key: self.layout.head(),
                    // When it was committed: every replica logs the changes
                    // with this time.
                    value: now_timestamp().encode_to_vec(),
                    ..Default::default()
                })),
            });
            let indexes: Vec<usize> = batch.iter().map(|c| c.outcome).collect();
            success.extend(batch.into_iter().map(|c| rpc::RequestOp {
                request: Some(c.request),
            }));
            let response = self
                .etcd
                .txn(rpc::TxnRequest {
                    compare: vec![compare],
                    success,
                    failure: Vec::new(),
                })
                .await?;
            let revision = response.header.map(|h| h.revision).unwrap_or_default();
            if !response.succeeded {
                return match previous {
                    None => Ok(Committed::Lost(revision)),
                    Some(done) => Err(Error::Unavailable(format!(
                        "the write was interrupted by another after {number} of its {count} etcd transactions (committed up to revision {done}): the records before are written, the rest not; write the rest again"
                    ))),
                };
            }
            for index in indexes {
                if let Some(Ok(
                    Outcome::Created(record) | Outcome::Updated(record) | Outcome::Deleted(record),
                )) = outcomes.get_mut(index)
                {
                    let m = meta(record);
                    *m.revision = revision;
                    *m.etag = etag_for(revision);
                }
            }
            previous = Some(revision);
        }
        Ok(Committed::Yes(previous.unwrap_or(base)))
    }

    /// Waits until this replica has applied `revision` (reads here then see
    /// the write).
    async fn wait_applied(&self, store: &Store, revision: i64) -> Result<()> {
        match tokio::time::timeout(APPLY_WAIT, self.progress.wait_applied(store, revision)).await {
            Ok(waited) => waited,
            Err(_) => Err(Error::Unavailable(format!(
                "etcd committed revision {revision}, but this replica has not applied it within {APPLY_WAIT:?}: it is behind etcd ({})",
                self.etcd.describe()
            ))),
        }
    }
}

/// Each call's answer: its failure, or its outcomes (`spans` of the
/// transaction's).
fn answer(
    calls: Vec<Pending>,
    results: Vec<Result<Vec<Result<Outcome>>>>,
    outcomes: Vec<Result<Outcome>>,
    spans: &[std::ops::Range<usize>],
) {
    let mut outcomes: Vec<Option<Result<Outcome>>> = outcomes.into_iter().map(Some).collect();
    for ((call, result), span) in calls.into_iter().zip(results).zip(spans) {
        let answer = result.map(|_| {
            outcomes[span.clone()]
                .iter_mut()
                .filter_map(Option::take)
                .collect()
        });
        let _ = call.reply.send(answer);
    }
}

/// The same failure for every call.
fn answer_all(calls: Vec<Pending>, error: &Error) {
    let message = match error {
        Error::Unavailable(message) => message.clone(),
        other => other.to_string(),
    };
    for call in calls {
        let _ = call.reply.send(Err(Error::Unavailable(message.clone())));
    }
}

enum Committed {
    /// Committed; the last transaction's revision.
    Yes(i64),
    /// Another write came first; etcd's revision then.
    Lost(i64),
}
