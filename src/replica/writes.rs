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

use std::sync::{Arc, Weak};
use std::time::Duration;

use prost::Message;
use tokio::sync::Mutex;

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

pub struct EtcdWrites {
    pub(super) store: Weak<Store>,
    pub(super) etcd: Arc<Etcd>,
    pub(super) layout: Layout,
    pub(super) progress: Arc<Progress>,
    /// One write of this replica at a time: they would all compare on the
    /// same head, and all but one lose.
    pub(super) turn: Mutex<()>,
}

impl WritePath for EtcdWrites {
    fn write(&self, ops: Vec<WriteOp>, atomic: bool) -> WriteFuture<'_> {
        Box::pin(self.write_through(ops, atomic))
    }
}

/// One put or delete of a record, and where its outcome is.
struct Change {
    key: Vec<u8>,
    request: Op,
    bytes: usize,
    outcome: usize,
}

impl EtcdWrites {
    async fn write_through(
        &self,
        mut ops: Vec<WriteOp>,
        atomic: bool,
    ) -> Result<Vec<Result<Outcome>>> {
        let _turn = self.turn.lock().await;
        let store = self
            .store
            .upgrade()
            .ok_or_else(|| Error::Unavailable("the store is closing".into()))?;
        loop {
            let done = store.submit(ops, atomic, JobKind::DryRun).await?;
            ops = done.ops;
            let mut outcomes = done.outcomes;
            let changes = self.changes_of(&outcomes);
            if changes.is_empty() {
                return Ok(outcomes);
            }
            match self.commit(changes, done.revision, &mut outcomes).await? {
                Committed::Yes(revision) => {
                    self.wait_applied(&store, revision).await?;
                    return Ok(outcomes);
                }
                Committed::Lost(newest) => {
                    // Another replica wrote first: check again on its state.
                    self.wait_applied(&store, newest).await?;
                }
            }
        }
    }

    /// The puts and deletes the outcomes ask for.
    fn changes_of(&self, outcomes: &[Result<Outcome>]) -> Vec<Change> {
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
                outcome: index,
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

enum Committed {
    /// Committed; the last transaction's revision.
    Yes(i64),
    /// Another write came first; etcd's revision then.
    Lost(i64),
}
