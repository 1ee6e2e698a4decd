//! Following etcd: a replica's index applies etcd's changes in revision
//! order, through the same writer and the same `apply` as embedded writes,
//! with the applied revision stored in the same batch.
//!
//! A replica without an index (or one etcd has compacted past) first loads
//! a consistent snapshot: paged range reads at one revision, reconciled
//! with what the index holds. Then it watches from the revision after the
//! one it applied. Any failure (etcd down, a member killed, the watch
//! cancelled) is logged and counted, and the loop starts again from the
//! index's revision after a short pause: reads go on being served from the
//! index meanwhile.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::etcd::{prefix_end, Etcd};
use super::layout::{Key, Layout};
use super::{metrics, Progress};
use crate::domain::Collection;
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::pb::etcd::etcdserverpb as rpc;
use crate::pb::etcd::mvccpb;
use crate::records::{decode_record, Record};
use crate::store::{JobKind, Part, Store, WriteOp};

pub struct Follower {
    pub store: Arc<Store>,
    pub etcd: Arc<Etcd>,
    pub layout: Layout,
    pub progress: Arc<Progress>,
    /// Written into the index with its first snapshot.
    pub origin: Vec<u8>,
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl Follower {
    /// Follows etcd until the server stops.
    pub async fn run(mut self) {
        // No index yet, or one whose snapshot did not finish loading.
        let mut resync = self.store.etcd_origin().ok().flatten().is_none()
            || self.store.snapshot_pending().unwrap_or(true);
        let mut pause = Duration::from_millis(100);
        loop {
            if *self.stopping.borrow() {
                return;
            }
            let result = if resync {
                self.snapshot().await.map(|_| Followed::Resync(false))
            } else {
                self.watch().await
            };
            match result {
                Ok(Followed::Resync(needed)) => {
                    resync = needed;
                    pause = Duration::from_millis(100);
                    continue;
                }
                Ok(Followed::Stopped) => return,
                Err(error) => {
                    metrics::etcd_error();
                    tracing::warn!(%error, "following etcd failed: starting again from the applied revision");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = self.stopping.changed() => return,
            }
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Loads every record at one revision, reconciled with the index (what
    /// etcd no longer holds is deleted), and marks the replica ready.
    async fn snapshot(&self) -> Result<i64> {
        let started = std::time::Instant::now();
        let (_, revision) = self.etcd.newest(self.layout.prefix()).await?;
        let commit_time = self.head_time(revision).await?;
        let mut held = HashSet::new();
        let mut records = 0usize;
        // An empty job records the origin and the revision even when etcd
        // holds nothing yet.
        self.apply(
            revision,
            &commit_time,
            Vec::new(),
            Some(self.origin.clone()),
            Part::SnapshotPage,
        )
        .await?;
        // Countries go in first without their links, which name countries
        // perhaps on a later page, then in full (as the seed loads them).
        let mut linked = Vec::new();
        for collection in Collection::ALL {
            let mut pages = self
                .etcd
                .pages(&self.layout.collection(collection), revision);
            while let Some(page) = pages.next().await? {
                let mut ops = Vec::with_capacity(page.len());
                for kv in &page {
                    let Some((collection, id, record)) = self.record_of(kv) else {
                        continue;
                    };
                    // Each keeps the revision it last changed at, as on a
                    // replica that applied that change.
                    let changed = Some(kv.mod_revision);
                    held.insert((collection, id.clone()));
                    records += 1;
                    match &record {
                        Record::Country(country)
                            if !country.predecessors.is_empty()
                                || !country.successors.is_empty() =>
                        {
                            let bare = Record::Country(pb::Country {
                                predecessors: Vec::new(),
                                successors: Vec::new(),
                                ..country.clone()
                            });
                            ops.push(put(collection, &id, bare, changed));
                            linked.push(put(collection, &id, record, changed));
                        }
                        _ => ops.push(put(collection, &id, record, changed)),
                    }
                }
                self.apply(revision, &commit_time, ops, None, Part::SnapshotPage)
                    .await?;
            }
            if collection == Collection::Countries {
                let linked = std::mem::take(&mut linked);
                self.apply(revision, &commit_time, linked, None, Part::SnapshotPage)
                    .await?;
            }
        }
        // What the index holds and etcd does not, those naming others first.
        let mut gone: Vec<(Collection, String)> = Vec::new();
        for name in self.store.record_names() {
            let name = name?;
            if !held.contains(&name) {
                gone.push(name);
            }
        }
        gone.sort_by_key(|(collection, _)| {
            std::cmp::Reverse(Collection::ALL.iter().position(|c| c == collection))
        });
        for chunk in gone.chunks(1000) {
            let ops = chunk
                .iter()
                .map(|(collection, id)| delete(*collection, id))
                .collect();
            self.apply(revision, &commit_time, ops, None, Part::SnapshotPage)
                .await?;
        }
        self.apply(revision, &commit_time, Vec::new(), None, Part::SnapshotEnd)
            .await?;
        metrics::resynced();
        self.progress.set_loaded();
        tracing::info!(
            revision,
            records,
            deleted = gone.len(),
            seconds = started.elapsed().as_secs_f64(),
            "loaded etcd's records at one revision into the index"
        );
        Ok(revision)
    }

    /// The commit time the head key held at `revision` (every replica logs
    /// a snapshot's changes with it).
    async fn head_time(&self, revision: i64) -> Result<prost_types::Timestamp> {
        let head = self
            .etcd
            .range(rpc::RangeRequest {
                key: self.layout.head(),
                revision,
                ..Default::default()
            })
            .await?;
        Ok(head
            .kvs
            .first()
            .and_then(|kv| prost_types::Timestamp::decode(kv.value.as_slice()).ok())
            .unwrap_or_default())
    }

    /// A record key's collection, id and record; `None` (logged) for a key
    /// that is not one of ours or does not decode.
    fn record_of(&self, kv: &mvccpb::KeyValue) -> Option<(Collection, String, Record)> {
        match self.layout.parse(&kv.key) {
            Key::Record(collection, id) => match decode_record(collection, &kv.value) {
                Ok(record) => Some((collection, id, record)),
                Err(e) => {
                    tracing::error!(key = %String::from_utf8_lossy(&kv.key), error = %e, "an etcd record does not decode: not served");
                    None
                }
            },
            Key::Head | Key::Loaded => None,
            Key::Other => {
                tracing::warn!(key = %String::from_utf8_lossy(&kv.key), "a key under the etcd prefix is not a record: not served");
                None
            }
        }
    }

    async fn apply(
        &self,
        revision: i64,
        commit_time: &prost_types::Timestamp,
        ops: Vec<WriteOp>,
        origin: Option<Vec<u8>>,
        part: Part,
    ) -> Result<()> {
        self.store
            .submit(
                ops,
                false,
                JobKind::Replicated {
                    revision,
                    commit_time: *commit_time,
                    origin,
                    part,
                },
            )
            .await?;
        metrics::applied(revision);
        Ok(())
    }

    /// Watches from the revision after the applied one and applies each
    /// revision's changes as they come.
    async fn watch(&mut self) -> Result<Followed> {
        let from = self.store.revision() + 1;
        let (requests, outgoing) = mpsc::channel(4);
        let prefix = self.layout.prefix().to_vec();
        let create = rpc::WatchRequest {
            request_union: Some(rpc::watch_request::RequestUnion::CreateRequest(
                rpc::WatchCreateRequest {
                    range_end: prefix_end(&prefix),
                    key: prefix,
                    start_revision: from,
                    ..Default::default()
                },
            )),
        };
        requests
            .send(create)
            .await
            .map_err(|_| Error::Unavailable("the watch request stream closed".into()))?;
        let (url, channel) = self.etcd.channel();
        let mut stream = match rpc::watch_client::WatchClient::new(self.etcd.authed(channel))
            .watch(ReceiverStream::new(outgoing))
            .await
        {
            Ok(stream) => stream.into_inner(),
            Err(status) => {
                if status.message().contains("invalid auth token") {
                    // Expired: the next attempt goes with a new one.
                    self.etcd.authenticate().await?;
                } else {
                    self.etcd.rotate();
                }
                return Err(Error::Unavailable(format!(
                    "etcd at {url}: watch: {}",
                    super::etcd::describe(&status)
                )));
            }
        };
        tracing::info!(endpoint = %url, from, "watching etcd");
        loop {
            let message = tokio::select! {
                message = stream.message() => message,
                () = self.progress.wanted() => {
                    let _ = requests
                        .send(rpc::WatchRequest {
                            request_union: Some(rpc::watch_request::RequestUnion::ProgressRequest(
                                rpc::WatchProgressRequest {},
                            )),
                        })
                        .await;
                    continue;
                }
                _ = self.stopping.changed() => return Ok(Followed::Stopped),
            };
            let response = match message {
                Ok(Some(response)) => response,
                Ok(None) => {
                    self.etcd.rotate();
                    return Err(Error::Unavailable(format!(
                        "etcd at {url} closed the watch"
                    )));
                }
                Err(status) => {
                    self.etcd.rotate();
                    return Err(Error::Unavailable(format!(
                        "etcd at {url}: watch: {}",
                        status.message()
                    )));
                }
            };
            if response.compact_revision > 0 {
                tracing::warn!(
                    applied = from - 1,
                    compacted = response.compact_revision,
                    "etcd has compacted past the applied revision: loading a snapshot"
                );
                return Ok(Followed::Resync(true));
            }
            if response.canceled {
                return Err(Error::Unavailable(format!(
                    "etcd at {url} cancelled the watch: {}",
                    response.cancel_reason
                )));
            }
            let newest = response
                .header
                .as_ref()
                .map(|h| h.revision)
                .unwrap_or_default();
            tracing::debug!(
                newest,
                events = response.events.len(),
                created = response.created,
                "watch response"
            );
            metrics::newest(newest);
            if response.events.is_empty() {
                if !response.created && newest > 0 {
                    // A progress notification: everything up to `newest` has
                    // been delivered, and applied, since each is awaited.
                    self.store.saw_revision(newest);
                }
                continue;
            }
            self.apply_events(response.events).await?;
        }
    }

    /// Applies events grouped by revision, in order.
    async fn apply_events(&self, events: Vec<mvccpb::Event>) -> Result<()> {
        let mut by_revision: BTreeMap<i64, Vec<mvccpb::Event>> = BTreeMap::new();
        for event in events {
            let revision = event
                .kv
                .as_ref()
                .map(|kv| kv.mod_revision)
                .unwrap_or_default();
            by_revision.entry(revision).or_default().push(event);
        }
        for (revision, events) in by_revision {
            let mut commit_time = prost_types::Timestamp::default();
            let mut ops = Vec::with_capacity(events.len());
            for event in events {
                let Some(kv) = event.kv else { continue };
                let deleted = event.r#type == mvccpb::event::EventType::Delete as i32;
                match self.layout.parse(&kv.key) {
                    Key::Head if !deleted => {
                        commit_time =
                            prost_types::Timestamp::decode(kv.value.as_slice()).unwrap_or_default();
                    }
                    Key::Record(collection, id) if deleted => ops.push(delete(collection, &id)),
                    Key::Record(..) => {
                        if let Some((collection, id, record)) = self.record_of(&kv) {
                            ops.push(put(collection, &id, record, None));
                        }
                    }
                    Key::Head | Key::Loaded => {}
                    Key::Other => {
                        tracing::warn!(key = %String::from_utf8_lossy(&kv.key), revision, "a key under the etcd prefix is not a record: not served");
                    }
                }
            }
            self.apply(revision, &commit_time, ops, None, Part::Live)
                .await?;
        }
        Ok(())
    }
}

enum Followed {
    /// Start again, with a snapshot first if true.
    Resync(bool),
    Stopped,
}

/// An op that makes the record what etcd holds.
fn put(collection: Collection, id: &str, record: Record, revision: Option<i64>) -> WriteOp {
    WriteOp {
        collection,
        id: id.to_string(),
        compute: Box::new(move |_| Ok(Some(record.clone()))),
        revision,
    }
}

fn delete(collection: Collection, id: &str) -> WriteOp {
    WriteOp {
        collection,
        id: id.to_string(),
        compute: Box::new(|_| Ok(None)),
        revision: None,
    }
}
