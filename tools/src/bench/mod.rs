//! `diplomacy bench`: a load generator. It starts the server binary on a
//! generated data dir, drives each scenario from N connections × M calls in
//! flight for a fixed time, and prints calls/s, latency percentiles (HDR
//! histogram), server CPU per call (from the server's own CPU time in
//! /proc) and the ratio to the health-check baseline measured in the same
//! run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use crate::generate::{countries, random_date, PairPicker};
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::event_service_client::EventServiceClient;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;

mod digest;
pub mod empty;
pub mod footprint;
pub mod server;
pub mod session;
pub mod soak;
mod table;

pub use table::table;

const GET_RELATION: &str = "/diplomacy.v1.RelationService/GetRelation";
const LIST_RELATIONS: &str = "/diplomacy.v1.RelationService/ListRelations";
const LIST_HISTORY: &str = "/diplomacy.v1.RelationService/ListHistory";

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Health `Check` of an empty tonic server (`empty`): the physical
    /// limit, every scenario's second ratio.
    EmptyTonic,
    /// Health `Check`: the nearly empty handler every ratio is against.
    Baseline,
    GetRelation,
    /// `GetRelation` in the BASIC view (no lists): the hot-path lookup.
    GetRelationBasic,
    /// `GetRelation` of the typical pair: the one with the median number
    /// of records among pairs with any.
    GetRelationTypical,
    /// `GetRelation` of the busiest pair, BASIC view.
    GetRelationBusiestBasic,
    /// `GetRelation` of Armenia and Azerbaijan, the seed's richest pair
    /// (every database starts with the seed), FULL view.
    GetRelationSeed,
    HistoryPage,
    ListRelations,
    StreamHistory,
    Writes,
    /// Durable writes that leave the data the same size: each caller
    /// creates a window of events, then rewrites them in turn, each time
    /// to another pair and day (the soak's load).
    SteadyWrites,
}

/// Events each caller of `SteadyWrites` rewrites in turn.
const STEADY_WINDOW: u64 = 16;

impl Scenario {
    pub const ALL: [Scenario; 11] = [
        Scenario::EmptyTonic,
        Scenario::Baseline,
        Scenario::GetRelation,
        Scenario::GetRelationBasic,
        Scenario::GetRelationTypical,
        Scenario::GetRelationBusiestBasic,
        Scenario::GetRelationSeed,
        Scenario::HistoryPage,
        Scenario::ListRelations,
        Scenario::StreamHistory,
        Scenario::Writes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::EmptyTonic => "health Check, empty tonic server",
            Scenario::Baseline => "health Check (baseline)",
            Scenario::GetRelation => "GetRelation",
            Scenario::GetRelationBasic => "GetRelation, basic view",
            Scenario::GetRelationTypical => "GetRelation, typical pair",
            Scenario::GetRelationBusiestBasic => "GetRelation, busiest pair, basic view",
            Scenario::GetRelationSeed => "GetRelation, seed pair (AM–AZ)",
            Scenario::HistoryPage => "ListHistory, 50 entries",
            Scenario::ListRelations => "ListRelations, 50",
            Scenario::StreamHistory => "StreamHistory, busiest pair",
            Scenario::Writes => "CreateEvent, durable",
            Scenario::SteadyWrites => "UpdateEvent over a fixed set, durable",
        }
    }
}

/// The seed's richest pair, in every database the service creates.
pub const SEED_PAIR: &str = "countries/AM/relations/AZ";

/// Load shape.
#[derive(Clone, Debug)]
pub struct Load {
    pub connections: usize,
    pub in_flight: usize,
    pub duration: Duration,
    /// The data's generator seed, so that queries hit its pairs.
    pub seed: u64,
    pub token: String,
    /// The generated data's typical pair (`generate::typical_pair`), for
    /// the scenario that asks for it.
    pub typical_pair: Option<(usize, usize)>,
}

/// One scenario's figures.
#[derive(Clone, Debug)]
pub struct Figures {
    pub scenario: Scenario,
    pub calls: u64,
    pub errors: u64,
    /// The first failed call's status, where any failed.
    pub first_error: Option<String>,
    pub per_second: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    /// The slowest call.
    pub max_us: u64,
    /// Server CPU time per call, in µs (None when not measurable).
    pub cpu_us_per_call: Option<f64>,
    /// The load generator's own CPU time per call, in µs: it shares the
    /// machine with the server, so its cost is part of every ratio.
    pub client_cpu_us_per_call: Option<f64>,
    /// Messages per second (stream entries; equals calls/s for unary).
    pub items_per_second: f64,
}

/// CPU time (user + system) of process `pid` so far, from /proc.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports in USER_HZ, which is 100 on every mainstream platform.
    Some(Duration::from_millis(ticks * 10))
}

/// A memory figure of a process from `/proc/{pid}/status`, in KiB:
/// `VmRSS:` (resident now) or `VmHWM:` (peak resident). `pid` "self" for
/// this process.
pub fn memory_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bearer(token: &str) -> Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>> {
    format!("Bearer {token}").parse().ok()
}

/// `message` with the bearer `token`, as writes need.
fn authorised<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = bearer(token) {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Runs one scenario against `channels`; `server_pid` for CPU figures.
pub async fn run(
    scenario: Scenario,
    channels: &[Channel],
    load: &Load,
    server_pid: Option<u32>,
) -> Figures {
    let histogram = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds are valid"),
    ));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let (calls, errors, items) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let countries = Arc::new(countries());
    let pairs = Arc::new(PairPicker::seeded(load.seed, countries.len()));
    let cpu_before = server_pid.and_then(process_cpu);
    let client_cpu_before = process_cpu(std::process::id());
    // Written events need ids no earlier run of this process used.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let deadline = started + load.duration;
    let mut tasks = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        for f in 0..load.in_flight {
            let first_error = Arc::clone(&first_error);
            let (channel, histogram, calls, errors, items) = (
                channel.clone(),
                Arc::clone(&histogram),
                Arc::clone(&calls),
                Arc::clone(&errors),
                Arc::clone(&items),
            );
            let (countries, pairs, token, typical) = (
                Arc::clone(&countries),
                Arc::clone(&pairs),
                load.token.clone(),
                load.typical_pair,
            );
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64((c * 1000 + f) as u64);
                let mut local =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds are valid");
                let mut health =
                    tonic_health::pb::health_client::HealthClient::new(channel.clone());
                let mut relations = RelationServiceClient::new(channel.clone());
                let mut events = EventServiceClient::new(channel.clone());
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let (a, b) = match (scenario, typical) {
                        (Scenario::GetRelationTypical, Some(pair)) => pair,
                        (Scenario::GetRelationBusiestBasic, _) => pairs.busiest(),
                        _ => pairs.pick(&mut rng),
                    };
                    let pair_name = if scenario == Scenario::GetRelationSeed {
                        SEED_PAIR.to_string()
                    } else {
                        format!(
                            "{}/relations/{}",
                            countries[a],
                            countries[b].trim_start_matches("countries/")
                        )
                    };
                    let t0 = Instant::now();
                    let result: Result<u64, tonic::Status> = match scenario {
                        Scenario::Baseline | Scenario::EmptyTonic => health
                            .check(tonic_health::pb::HealthCheckRequest {
                                service: String::new(),
                            })
                            .await
                            .map(|_| 1),
                        Scenario::GetRelation
                        | Scenario::GetRelationBasic
                        | Scenario::GetRelationTypical
                        | Scenario::GetRelationBusiestBasic
                        | Scenario::GetRelationSeed => {
                            let basic = matches!(
                                scenario,
                                Scenario::GetRelationBasic | Scenario::GetRelationBusiestBasic
                            );
                            let request = pb::GetRelationRequest {
                                name: pair_name,
                                as_of: Some(random_date(&mut rng)),
                                view: if basic {
                                    pb::RelationView::Basic
                                } else {
                                    pb::RelationView::Full
                                } as i32,
                            };
                            let asked = request.name.clone();
                            digest::call::<_, digest::RelationName>(&channel, GET_RELATION, request)
                                .await
                                .and_then(|relation| digest::relation_is_for(&relation, &asked))
                        }
                        Scenario::HistoryPage => digest::call::<_, digest::HistoryEntries>(
                            &channel,
                            LIST_HISTORY,
                            pb::ListHistoryRequest {
                                parent: pair_name,
                                page_size: 50,
                                ..Default::default()
                            },
                        )
                        .await
                        .map(|page| page.entries.len() as u64),
                        Scenario::ListRelations => {
                            let request = pb::ListRelationsRequest {
                                parent: countries[a].clone(),
                                as_of: Some(random_date(&mut rng)),
                                page_size: 50,
                                ..Default::default()
                            };
                            let parent = request.parent.clone();
                            digest::call::<_, digest::RelationNames>(
                                &channel,
                                LIST_RELATIONS,
                                request,
                            )
                            .await
                            .and_then(|page| digest::relations_all_of(&page, &parent))
                        }
                        Scenario::StreamHistory => {
                            let (a, b) = pairs.busiest();
                            let parent = format!(
                                "{}/relations/{}",
                                countries[a],
                                countries[b].trim_start_matches("countries/")
                            );
                            match relations
                                .stream_history(pb::StreamHistoryRequest {
                                    parent,
                                    ..Default::default()
                                })
                                .await
                            {
                                Ok(response) => {
                                    let mut stream = response.into_inner();
                                    let mut count = 0;
                                    let mut failed = None;
                                    while let Some(entry) = stream.next().await {
                                        match entry {
                                            Ok(_) => count += 1,
                                            Err(e) => {
                                                failed = Some(e);
                                                break;
                                            }
                                        }
                                    }
                                    failed.map_or(Ok(count), Err)
                                }
                                Err(e) => Err(e),
                            }
                        }
                        Scenario::Writes | Scenario::SteadyWrites => {
                            let (id, lap) = if scenario == Scenario::Writes {
                                (format!("bench-{}-{run}-{c}-{f}-{n}", std::process::id()), 0)
                            } else {
                                (
                                    format!(
                                        "soak-{}-{run}-{c}-{f}-{}",
                                        std::process::id(),
                                        n % STEADY_WINDOW
                                    ),
                                    n / STEADY_WINDOW,
                                )
                            };
                            n += 1;
                            let event = pb::Event {
                                title: "bench".into(),
                                kind: pb::EventKind::Other as i32,
                                start_date: Some(random_date(&mut rng)),
                                actor: countries[a].clone(),
                                counterparts: vec![countries[b].clone()],
                                sources: vec![pb::Source {
                                    title: "bench".into(),
                                    ..Default::default()
                                }],
                                ..Default::default()
                            };
                            if lap == 0 {
                                let request = pb::CreateEventRequest {
                                    event: Some(event),
                                    event_id: id,
                                };
                                events
                                    .create_event(authorised(&token, request))
                                    .await
                                    .map(|_| 1)
                            } else {
                                let request = pb::UpdateEventRequest {
                                    event: Some(pb::Event {
                                        name: format!("events/{id}"),
                                        ..event
                                    }),
                                    update_mask: None,
                                };
                                events
                                    .update_event(authorised(&token, request))
                                    .await
                                    .map(|_| 1)
                            }
                        }
                    };
                    let micros = t0.elapsed().as_micros().max(1) as u64;
                    match result {
                        Ok(count) => {
                            let _ = local.record(micros);
                            calls.fetch_add(1, Ordering::Relaxed);
                            items.fetch_add(count, Ordering::Relaxed);
                        }
                        Err(status) => {
                            if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                if let Ok(mut first) = first_error.lock() {
                                    *first =
                                        Some(format!("{:?}: {}", status.code(), status.message()));
                                }
                            }
                        }
                    }
                }
                if let Ok(mut shared) = histogram.lock() {
                    let _ = shared.add(&local);
                }
            }));
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, server_pid.and_then(process_cpu)) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    let client_cpu = match (client_cpu_before, process_cpu(std::process::id())) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    let calls = calls.load(Ordering::Relaxed);
    let per_call = |cpu: Option<Duration>| {
        cpu.filter(|_| calls > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / calls as f64)
    };
    let histogram = histogram
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    Figures {
        scenario,
        calls,
        errors: errors.load(Ordering::Relaxed),
        first_error: first_error.lock().ok().and_then(|first| first.clone()),
        per_second: calls as f64 / elapsed,
        p50_us: histogram.value_at_quantile(0.5),
        p90_us: histogram.value_at_quantile(0.9),
        p99_us: histogram.value_at_quantile(0.99),
        p999_us: histogram.value_at_quantile(0.999),
        max_us: histogram.max(),
        cpu_us_per_call: per_call(cpu),
        client_cpu_us_per_call: per_call(client_cpu),
        items_per_second: items.load(Ordering::Relaxed) as f64 / elapsed,
    }
}

/// Parses `all` or a comma list of scenario names (baseline, get-relation,
/// get-relation-basic, get-relation-typical, get-relation-busiest-basic,
/// get-relation-seed, history-page, list-relations, stream-history, writes,
/// writes-steady).
pub fn parse_scenarios(text: &str) -> Result<Vec<Scenario>, String> {
    if text == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    let mut chosen = vec![Scenario::EmptyTonic, Scenario::Baseline];
    for name in text.split(',') {
        let scenario = match name.trim() {
            "baseline" | "empty-tonic" => continue,
            "get-relation" => Scenario::GetRelation,
            "get-relation-basic" => Scenario::GetRelationBasic,
            "get-relation-typical" => Scenario::GetRelationTypical,
            "get-relation-busiest-basic" => Scenario::GetRelationBusiestBasic,
            "get-relation-seed" => Scenario::GetRelationSeed,
            "history-page" => Scenario::HistoryPage,
            "list-relations" => Scenario::ListRelations,
            "stream-history" => Scenario::StreamHistory,
            "writes" => Scenario::Writes,
            "writes-steady" => Scenario::SteadyWrites,
            other => return Err(format!("unknown scenario {other:?}")),
        };
        chosen.push(scenario);
    }
    Ok(chosen)
}
