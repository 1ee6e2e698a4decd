//! Random writes spread over replicas, and the answers every replica must
//! give alike afterwards.

use std::time::Duration;

use diplomacy::pb::diplomacy::v1::*;
use diplomacy::pb::google::r#type::Date;
use prost_types::FieldMask;
use tokio_stream::StreamExt;

use crate::harness::{at, revision_of, Client};
pub use crate::random::Rng;

pub const COUNTRIES: [&str; 8] = ["FR", "DE", "AM", "AZ", "TR", "US", "RU", "UA"];

fn source() -> Source {
    Source {
        title: "replica harness".into(),
        ..Default::default()
    }
}

fn date(rng: &mut Rng) -> Option<Date> {
    rng.date(1995, 30)
}

fn pair(rng: &mut Rng) -> (String, String) {
    rng.pair(&COUNTRIES)
}

/// What one acknowledged write left.
#[derive(Clone, Debug)]
pub struct Acked {
    pub name: String,
    pub revision: i64,
    /// Deleted by it.
    pub gone: bool,
}

/// One write of a random kind under `id`: an event, a treaty, an update of
/// an earlier treaty (with its etag) or its delete. `Err` is the status.
pub async fn random_write(
    client: &Client,
    rng: &mut Rng,
    id: &str,
    earlier: &[String],
) -> Result<Acked, tonic::Status> {
    let (a, b) = pair(rng);
    match rng.below(10) {
        0..=4 => {
            let response = client
                .events()
                .create_event(CreateEventRequest {
                    event_id: id.to_string(),
                    event: Some(Event {
                        title: format!("event {id}"),
                        kind: [
                            EventKind::RelationsEstablished,
                            EventKind::Other,
                            EventKind::RelationsSevered,
                        ][rng.below(3) as usize] as i32,
                        start_date: date(rng),
                        actor: a,
                        counterparts: vec![b],
                        sources: vec![source()],
                        ..Default::default()
                    }),
                })
                .await?;
            Ok(Acked {
                name: format!("events/{id}"),
                revision: revision_of(&response),
                gone: false,
            })
        }
        5..=7 => {
            let response = client
                .treaties()
                .create_treaty(CreateTreatyRequest {
                    treaty_id: id.to_string(),
                    treaty: Some(Treaty {
                        title: format!("treaty {id}"),
                        kind: TreatyKind::Trade as i32,
                        status: TreatyStatus::InForce as i32,
                        signed_date: date(rng),
                        parties: vec![
                            TreatyParty {
                                country: a,
                                ..Default::default()
                            },
                            TreatyParty {
                                country: b,
                                ..Default::default()
                            },
                        ],
                        sources: vec![source()],
                        ..Default::default()
                    }),
                })
                .await?;
            Ok(Acked {
                name: format!("treaties/{id}"),
                revision: revision_of(&response),
                gone: false,
            })
        }
        choice => {
            let treaties: Vec<&String> = earlier
                .iter()
                .filter(|n| n.starts_with("treaties/"))
                .collect();
            if treaties.is_empty() {
                return Box::pin(random_write(client, rng, id, &[])).await;
            }
            let target = treaties[rng.below(treaties.len() as u64) as usize].clone();
            let current = client
                .treaties()
                .get_treaty(GetTreatyRequest {
                    name: target.clone(),
                })
                .await;
            let Ok(current) = current else {
                // Deleted already: write something new instead.
                return Box::pin(random_write(client, rng, id, &[])).await;
            };
            let etag = current.into_inner().etag;
            if choice == 8 {
                let response = client
                    .treaties()
                    .update_treaty(UpdateTreatyRequest {
                        treaty: Some(Treaty {
                            name: target.clone(),
                            summary: format!("updated by {id}"),
                            etag,
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["summary".into()],
                        }),
                    })
                    .await?;
                Ok(Acked {
                    name: target,
                    revision: revision_of(&response),
                    gone: false,
                })
            } else {
                let response = client
                    .treaties()
                    .delete_treaty(DeleteTreatyRequest {
                        name: target.clone(),
                        etag,
                    })
                    .await?;
                Ok(Acked {
                    name: target,
                    revision: revision_of(&response),
                    gone: true,
                })
            }
        }
    }
}

/// Everything a replica answers about the written records at `revision`:
/// every pair's relation and history, every treaty, and the change feed
/// after `from` up to `revision`. Compared as text between replicas.
pub async fn answers(client: &Client, revision: i64, from: i64, treaties: &[String]) -> String {
    let mut out = String::new();
    for (i, a) in COUNTRIES.iter().enumerate() {
        for b in &COUNTRIES[i + 1..] {
            let name = format!("countries/{a}/relations/{b}");
            let relation = client
                .relations()
                .get_relation(at(
                    GetRelationRequest {
                        name: name.clone(),
                        as_of: Some(Date {
                            year: 2025,
                            month: 6,
                            day: 1,
                        }),
                        view: RelationView::Full as i32,
                    },
                    revision,
                ))
                .await
                .map(|r| r.into_inner());
            out.push_str(&format!("{name}: {relation:?}\n"));
            let history = client
                .relations()
                .list_history(at(
                    ListHistoryRequest {
                        parent: name.clone(),
                        page_size: 1000,
                        ..Default::default()
                    },
                    revision,
                ))
                .await
                .map(|r| r.into_inner());
            out.push_str(&format!("{name} history: {history:?}\n"));
        }
    }
    for name in treaties {
        let treaty = client
            .treaties()
            .get_treaty(at(GetTreatyRequest { name: name.clone() }, revision))
            .await
            .map(|r| r.into_inner())
            .map_err(|s| s.code());
        out.push_str(&format!("{name}: {treaty:?}\n"));
    }
    out.push_str(&changes(client, from, revision).await);
    out
}

/// The change feed after `from`, up to and including `upto`.
pub async fn changes(client: &Client, from: i64, upto: i64) -> String {
    if from >= upto {
        return String::new();
    }
    let mut stream = client
        .records()
        .watch_changes(at(
            WatchChangesRequest {
                from_revision: from,
                ..Default::default()
            },
            upto,
        ))
        .await
        .expect("watch changes")
        .into_inner();
    let mut out = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(2), stream.next()).await {
            Ok(Some(Ok(change))) => {
                let revision = change.revision;
                out.push_str(&format!("{change:?}\n"));
                if revision >= upto {
                    // The rest of this revision's changes, if any, follow at once.
                    while let Ok(Some(Ok(more))) =
                        tokio::time::timeout(Duration::from_millis(200), stream.next()).await
                    {
                        if more.revision > upto {
                            break;
                        }
                        out.push_str(&format!("{more:?}\n"));
                    }
                    return out;
                }
            }
            other => panic!("the change feed ended before revision {upto}: {other:?}\n{out}"),
        }
    }
}
