//! `diplomacy.v1.RecordService`: bulk import and export, and the change feed.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::resources::existing_country;
use crate::domain::{Collection, CountryCode};
use crate::error::{Error, Result};
use crate::ingest::{self, Mode};
use crate::pb::diplomacy::v1 as pb;
use crate::pb::diplomacy::v1::record_service_server::RecordService;
use crate::records::{record_collection, record_name, referenced_countries, without_store_meta};
use crate::store::Store;

/// Records sent per export message.
const EXPORT_CHUNK: usize = 500;
/// Most records one import may carry (they are validated together before
/// anything is written).
pub const MAX_IMPORT_RECORDS: usize = 2_000_000;
/// Messages buffered ahead of a slow stream reader.
const STREAM_BUFFER: usize = 64;

pub struct Records {
    pub store: Arc<Store>,
    /// Where an `ImportRecords` call spools its records (the data dir).
    pub spool_dir: std::path::PathBuf,
    /// Turns true when the server starts draining: open watches then end.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

fn collection_of(kind: pb::RecordKind) -> Option<Collection> {
    match kind {
        pb::RecordKind::Country => Some(Collection::Countries),
        pb::RecordKind::Treaty => Some(Collection::Treaties),
        pb::RecordKind::Meeting => Some(Collection::Meetings),
        pb::RecordKind::Event => Some(Collection::Events),
        pb::RecordKind::Actor => Some(Collection::Actors),
        pb::RecordKind::Unspecified => None,
    }
}

/// Record kinds from a filter, checked.
fn kinds(values: &[i32], field: &str) -> Result<BTreeSet<Collection>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            pb::RecordKind::try_from(*v)
                .ok()
                .and_then(collection_of)
                .ok_or_else(|| {
                    Error::invalid(format!("{field}[{i}]"), format!("{v} is not a record kind"))
                })
        })
        .collect()
}

/// What a watcher asked to see.
struct ChangeFilter {
    kinds: BTreeSet<Collection>,
    countries: BTreeSet<CountryCode>,
}

impl ChangeFilter {
    fn matches(&self, change: &pb::Change) -> bool {
        let Some(record) = change.record.as_ref().and_then(|r| r.kind.as_ref()) else {
            return false;
        };
        if !self.kinds.is_empty() && !self.kinds.contains(&record_collection(record)) {
            return false;
        }
        if self.countries.is_empty() {
            return true;
        }
        let mut named = referenced_countries(record);
        named.extend(CountryCode::from_name(record_name(record)));
        !named.is_disjoint(&self.countries)
    }
}

fn import_error(error: ingest::RecordError) -> pb::ImportError {
    let field_violations = match &error.error {
        Error::InvalidArgument(violations) => violations
            .iter()
            .map(|v| pb::ImportFieldViolation {
                field: v.field.clone(),
                description: v.description.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    pb::ImportError {
        index: error.index as i64,
        name: error.name,
        code: error.error.code_name().to_string(),
        message: error.error.to_string(),
        field_violations,
    }
}

/// An import's report as the API gives it: the `ImportRecords` answer, and
/// what `diplomacy import` prints from a data dir's import too.
pub fn import_response(report: ingest::Report) -> pb::ImportRecordsResponse {
    pb::ImportRecordsResponse {
        received: report.received as i64,
        written: report.written as i64,
        unchanged: report.unchanged as i64,
        errors: report.errors.into_iter().map(import_error).collect(),
        revision: report.revision,
        created: report.created as i64,
        updated: report.written.saturating_sub(report.created) as i64,
    }
}

#[tonic::async_trait]
impl RecordService for Records {
    async fn import_records(
        &self,
        request: Request<Streaming<pb::ImportRecordsRequest>>,
    ) -> Result<Response<pb::ImportRecordsResponse>, Status> {
        let mut stream = request.into_inner();
        // On disk as they arrive: a call holds one message in memory, not
        // all of it (up to MAX_IMPORT_RECORDS).
        let mut records = ingest::Spool::new_in(&self.spool_dir)?;
        let mut options = None;
        while let Some(message) = stream.next().await {
            let message = message?;
            options.get_or_insert((message.mode, message.validate_only));
            for (i, record) in message.records.into_iter().enumerate() {
                match record.kind {
                    Some(kind) => records.push(kind)?,
                    None => {
                        return Err(Error::invalid(
                            format!("records[{i}]"),
                            "names none of country, treaty, meeting, event",
                        )
                        .into())
                    }
                }
            }
            if records.len() > MAX_IMPORT_RECORDS {
                return Err(Status::resource_exhausted(format!(
                    "an import holds at most {MAX_IMPORT_RECORDS} records: split it"
                )));
            }
        }
        let (mode, validate_only) = options.unwrap_or_default();
        let mode = match pb::ImportMode::try_from(mode) {
            Ok(pb::ImportMode::BestEffort) => Mode::BestEffort,
            Ok(pb::ImportMode::AllOrNothing | pb::ImportMode::Unspecified) => Mode::AllOrNothing,
            Err(_) => {
                return Err(Error::invalid("mode", format!("{mode} is not an import mode")).into())
            }
        };
        let records = records.finish()?;
        let mut report = ingest::import(
            self.store.as_ref(),
            &records,
            mode,
            validate_only,
            |_, _| {},
        )
        .await?;
        // Only the spool can be unreadable here, and that is the server's
        // fault, not the caller's: nothing was written.
        if let Some(unreadable) = std::mem::take(&mut report.unreadable).into_iter().next() {
            return Err(unreadable.error.into());
        }
        Ok(Response::new(import_response(report)))
    }

    type ExportRecordsStream = ReceiverStream<Result<pb::ExportRecordsResponse, Status>>;

    async fn export_records(
        &self,
        request: Request<pb::ExportRecordsRequest>,
    ) -> Result<Response<Self::ExportRecordsStream>, Status> {
        let wanted = kinds(&request.get_ref().kinds, "kinds")?;
        let store = Arc::clone(&self.store);
        let revision = store.revision();
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        tokio::task::spawn_blocking(move || {
            let mut chunk = Vec::with_capacity(EXPORT_CHUNK);
            let send = |records: Vec<pb::Record>| {
                sender
                    .blocking_send(Ok(pb::ExportRecordsResponse { records, revision }))
                    .is_ok()
            };
            for collection in Collection::ALL {
                if !wanted.is_empty() && !wanted.contains(&collection) {
                    continue;
                }
                for record in store.records(collection) {
                    match record {
                        Ok(record) => chunk.push(pb::Record {
                            kind: Some(without_store_meta(record)),
                        }),
                        Err(e) => {
                            let _ = sender.blocking_send(Err(e.into()));
                            return;
                        }
                    }
                    if chunk.len() == EXPORT_CHUNK && !send(std::mem::take(&mut chunk)) {
                        return;
                    }
                }
            }
            // Always one message, so that an empty export still tells the revision.
            send(chunk);
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    type WatchChangesStream = ReceiverStream<Result<pb::Change, Status>>;

    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        let req = request.into_inner();
        if req.from_revision < 0 {
            return Err(Error::invalid("from_revision", "must not be negative").into());
        }
        let filter = ChangeFilter {
            kinds: kinds(&req.kinds, "kinds")?,
            countries: req
                .countries
                .iter()
                .enumerate()
                .map(|(i, name)| existing_country(&self.store, name, &format!("countries[{i}]")))
                .collect::<Result<_>>()?,
        };
        // Subscribe before reading the durable revision: every change after
        // it then reaches us live, and the log covers everything up to it.
        let live = self.store.subscribe();
        let durable = self.store.revision();
        let oldest = match self.store.log_from()? {
            // A replica: revisions have gaps, so the log says where it starts.
            Some(from) => from + 1,
            None => self.store.oldest_change()?.unwrap_or(durable + 1),
        };
        if req.from_revision > 0 && req.from_revision + 1 < oldest {
            return Err(Error::OutOfRange {
                asked: req.from_revision,
                oldest,
            }
            .into());
        }
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let store = Arc::clone(&self.store);
        tokio::spawn(follow(
            store,
            live,
            req.from_revision,
            durable,
            filter,
            sender,
            self.stopping.clone(),
        ));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// Replays the log after `from` up to `durable`, then follows live changes;
/// on falling behind the live buffer, catches up from the log again.
async fn follow(
    store: Arc<Store>,
    mut live: broadcast::Receiver<Arc<pb::Change>>,
    from: i64,
    durable: i64,
    filter: ChangeFilter,
    sender: mpsc::Sender<Result<pb::Change, Status>>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = from;
    let mut upto = durable;
    // The newest revision replayed from the log: live changes up to it were
    // sent already. (One revision may hold several changes in a replica.)
    let mut replayed;
    loop {
        // Catch up from the log.
        let logged: Result<Vec<pb::Change>> = store.changes(last, upto).collect();
        match logged {
            Ok(changes) => {
                for change in changes {
                    last = change.revision;
                    if filter.matches(&change) && sender.send(Ok(change)).await.is_err() {
                        return;
                    }
                }
                last = last.max(upto);
                replayed = last;
            }
            Err(e) => {
                let _ = sender.send(Err(e.into())).await;
                return;
            }
        }
        // Follow live changes.
        loop {
            tokio::select! {
                () = sender.closed() => return,
                _ = async { stopping.wait_for(|stopping| *stopping).await.map(drop) } => {
                    // End cleanly so the client reconnects (to another replica)
                    // with its last revision, instead of the stream hanging.
                    let _ = sender
                        .send(Err(Status::unavailable(format!(
                            "the server is shutting down: watch again from revision {last}"
                        ))))
                        .await;
                    return;
                }
                received = live.recv() => match received {
                    Ok(change) => {
                        if change.revision <= replayed {
                            continue;
                        }
                        last = change.revision;
                        if filter.matches(&change) && sender.send(Ok((*change).clone())).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        upto = store.revision();
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}
