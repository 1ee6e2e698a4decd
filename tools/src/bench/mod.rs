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
use crate::pb::diplomacy::v1 as pb;
use crate::pb::diplomacy::v1::event_service_client::EventServiceClient;
use crate::pb::diplomacy::v1::relation_service_client::RelationServiceClient;

mod digest;

const GET_RELATION: &str = "/diplomacy.v1.RelationService/GetRelation";
const LIST_RELATIONS: &str = "/diplomacy.v1.RelationService/ListRelations";
const LIST_HISTORY: &str = "/diplomacy.v1.RelationService/ListHistory";

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Health `Check`: the nearly empty handler every ratio is against.
    Baseline,
    GetRelation,
    /// `GetRelation` in the BASIC view (no lists): the hot-path lookup.
    GetRelationBasic,
    HistoryPage,
    ListRelations,
    StreamHistory,
    Writes,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Baseline,
        Scenario::GetRelation,
        Scenario::GetRelationBasic,
        Scenario::HistoryPage,
        Scenario::ListRelations,
        Scenario::StreamHistory,
        Scenario::Writes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "health Check (baseline)",
            Scenario::GetRelation => "GetRelation",
            Scenario::GetRelationBasic => "GetRelation, basic view",
            Scenario::HistoryPage => "ListHistory, 50 entries",
            Scenario::ListRelations => "ListRelations, 50",
            Scenario::StreamHistory => "StreamHistory, busiest pair",
            Scenario::Writes => "CreateEvent, durable",
        }
    }
}

/// Load shape.
#[derive(Clone, Debug)]
pub struct Load {
    pub connections: usize,
    pub in_flight: usize,
    pub duration: Duration,
    /// The data's generator seed, so that queries hit its pairs.
    pub seed: u64,
    pub token: String,
}

/// One scenario's figures.
#[derive(Clone, Debug)]
pub struct Figures {
    pub scenario: Scenario,
    pub calls: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
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

fn bearer(token: &str) -> Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>> {
    format!("Bearer {token}").parse().ok()
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
    let (calls, errors, items) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let countries = Arc::new(countries());
    let mut seed_rng = ChaCha8Rng::seed_from_u64(load.seed);
    let pairs = Arc::new(PairPicker::new(countries.len(), &mut seed_rng));
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
            let (channel, histogram, calls, errors, items) = (
                channel.clone(),
                Arc::clone(&histogram),
                Arc::clone(&calls),
                Arc::clone(&errors),
                Arc::clone(&items),
            );
            let (countries, pairs, token) = (
                Arc::clone(&countries),
                Arc::clone(&pairs),
                load.token.clone(),
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
                    let (a, b) = pairs.pick(&mut rng);
                    let pair_name = format!(
                        "{}/relations/{}",
                        countries[a],
                        countries[b].trim_start_matches("countries/")
                    );
                    let t0 = Instant::now();
                    let result: Result<u64, tonic::Status> = match scenario {
                        Scenario::Baseline => health
                            .check(tonic_health::pb::HealthCheckRequest {
                                service: String::new(),
                            })
                            .await
                            .map(|_| 1),
                        Scenario::GetRelation | Scenario::GetRelationBasic => {
                            let request = pb::GetRelationRequest {
                                name: pair_name,
                                as_of: Some(random_date(&mut rng)),
                                view: if scenario == Scenario::GetRelationBasic {
                                    pb::RelationView::Basic
                                } else {
                                    pb::RelationView::Full
                                } as i32,
                            };
                            let asked = request.name.clone();
                            digest::call::<_, digest::Relation>(&channel, GET_RELATION, request)
                                .await
                                .and_then(|relation| relation.is_for(&asked))
                        }
                        Scenario::HistoryPage => digest::call::<_, digest::HistoryPage>(
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
                            digest::call::<_, digest::RelationsPage>(
                                &channel,
                                LIST_RELATIONS,
                                request,
                            )
                            .await
                            .and_then(|page| page.all_of(&parent))
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
                        Scenario::Writes => {
                            n += 1;
                            let mut request = tonic::Request::new(pb::CreateEventRequest {
                                event: Some(pb::Event {
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
                                }),
                                event_id: format!("bench-{}-{run}-{c}-{f}-{n}", std::process::id()),
                            });
                            if let Some(value) = bearer(&token) {
                                request.metadata_mut().insert("authorization", value);
                            }
                            events.create_event(request).await.map(|_| 1)
                        }
                    };
                    let micros = t0.elapsed().as_micros().max(1) as u64;
                    match result {
                        Ok(count) => {
                            let _ = local.record(micros);
                            calls.fetch_add(1, Ordering::Relaxed);
                            items.fetch_add(count, Ordering::Relaxed);
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
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
        per_second: calls as f64 / elapsed,
        p50_us: histogram.value_at_quantile(0.5),
        p90_us: histogram.value_at_quantile(0.9),
        p99_us: histogram.value_at_quantile(0.99),
        p999_us: histogram.value_at_quantile(0.999),
        cpu_us_per_call: per_call(cpu),
        client_cpu_us_per_call: per_call(client_cpu),
        items_per_second: items.load(Ordering::Relaxed) as f64 / elapsed,
    }
}

/// The figures of one or more rounds as a Markdown table. In a round each
/// scenario runs right after a baseline run of its own, and its ratios are
/// against that run: the machine's speed drifts by a quarter within
/// minutes, more than between neighbouring runs, so a baseline measured at
/// the start of a round would misjudge its later scenarios. A row shows the
/// run with the median ratio and, with several, the range of the ratio;
/// the baseline's row, its median run by calls/s. Errors are those of
/// every run.
pub fn table(rounds: &[Vec<Figures>]) -> String {
    let mut out = String::from(
        "| scenario | calls/s | × baseline | p50 µs | p90 µs | p99 µs | p99.9 µs | server CPU µs/call | × baseline CPU | client CPU µs/call | items/s | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut scenarios: Vec<Scenario> = Vec::new();
    for figures in rounds.iter().flatten() {
        if !scenarios.contains(&figures.scenario) {
            scenarios.push(figures.scenario);
        }
    }
    for scenario in scenarios {
        // (ratio, CPU ratio, figures) of each run of this scenario.
        let mut runs: Vec<(f64, Option<f64>, &Figures)> = rounds
            .iter()
            .flat_map(|round| {
                round
                    .iter()
                    .enumerate()
                    .filter(move |(_, f)| f.scenario == scenario)
                    .map(move |(at, f)| {
                        let baseline = paired_baseline(round, at);
                        let ratio =
                            baseline.map_or(f64::NAN, |b| f.per_second / b.per_second.max(1e-9));
                        let cpu_ratio =
                            match (f.cpu_us_per_call, baseline.and_then(|b| b.cpu_us_per_call)) {
                                (Some(c), Some(b)) if b > 0.0 => Some(c / b),
                                _ => None,
                            };
                        (ratio, cpu_ratio, f)
                    })
            })
            .collect();
        runs.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.2.per_second.total_cmp(&b.2.per_second))
        });
        let Some(&(_, _, f)) = runs.get(runs.len() / 2) else {
            continue;
        };
        let ratio = median_with_range(runs.iter().map(|r| r.0).filter(|r| !r.is_nan()).collect());
        let cpu_ratio = median_with_range(runs.iter().filter_map(|r| r.1).collect());
        let micros = |c: Option<f64>| c.map_or(String::from("-"), |c| format!("{c:.0}"));
        let (cpu, client_cpu) = (micros(f.cpu_us_per_call), micros(f.client_cpu_us_per_call));
        // Errors of every round: a failing round must not hide behind the
        // median.
        let errors: u64 = runs.iter().map(|r| r.2.errors).sum();
        out.push_str(&format!(
            "| {} | {:.0} | {ratio} | {} | {} | {} | {} | {cpu} | {cpu_ratio} | {client_cpu} | {:.0} | {} |\n",
            f.scenario.name(),
            f.per_second,
            f.p50_us,
            f.p90_us,
            f.p99_us,
            f.p999_us,
            f.items_per_second,
            errors
        ));
    }
    out
}

/// The baseline run nearest before run `at` of `round` (itself, for a
/// baseline run), or the round's first if none precedes it.
fn paired_baseline(round: &[Figures], at: usize) -> Option<&Figures> {
    let is_baseline = |f: &&Figures| f.scenario == Scenario::Baseline;
    round
        .iter()
        .take(at + 1)
        .rev()
        .find(is_baseline)
        .or_else(|| round.iter().find(is_baseline))
}

/// `median (low–high)` of `values`, just the median for one value, `-` for
/// none.
fn median_with_range(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    match (values.first(), values.get(values.len() / 2), values.last()) {
        (Some(low), Some(median), Some(high)) if values.len() > 1 => {
            format!("{median:.2} ({low:.2}–{high:.2})")
        }
        (_, Some(median), _) => format!("{median:.2}"),
        _ => String::from("-"),
    }
}

/// Parses `all` or a comma list of scenario names (baseline, get-relation,
/// get-relation-basic, history-page, list-relations, stream-history,
/// writes).
pub fn parse_scenarios(text: &str) -> Result<Vec<Scenario>, String> {
    if text == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    let mut chosen = vec![Scenario::Baseline];
    for name in text.split(',') {
        let scenario = match name.trim() {
            "baseline" => continue,
            "get-relation" => Scenario::GetRelation,
            "get-relation-basic" => Scenario::GetRelationBasic,
            "history-page" => Scenario::HistoryPage,
            "list-relations" => Scenario::ListRelations,
            "stream-history" => Scenario::StreamHistory,
            "writes" => Scenario::Writes,
            other => return Err(format!("unknown scenario {other:?}")),
        };
        chosen.push(scenario);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(scenario: Scenario, per_second: f64, cpu: f64) -> Figures {
        Figures {
            scenario,
            calls: 1000,
            errors: 0,
            per_second,
            p50_us: 1,
            p90_us: 2,
            p99_us: 3,
            p999_us: 4,
            cpu_us_per_call: Some(cpu),
            client_cpu_us_per_call: Some(cpu / 2.0),
            items_per_second: per_second,
        }
    }

    fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no {name} row in {table}"))
            .split('|')
            .map(str::trim)
            .collect()
    }

    #[test]
    fn each_ratio_is_against_its_own_rounds_baseline_and_the_median_round_is_shown() {
        // The machine slows down over the rounds: against one baseline the
        // ratios would drift, against each round's own they hold.
        let mut rounds = vec![
            vec![
                figures(Scenario::Baseline, 40_000.0, 25.0),
                figures(Scenario::GetRelation, 24_000.0, 50.0),
            ],
            vec![
                figures(Scenario::Baseline, 30_000.0, 30.0),
                figures(Scenario::GetRelation, 15_000.0, 66.0),
            ],
            vec![
                figures(Scenario::Baseline, 20_000.0, 40.0),
                figures(Scenario::GetRelation, 11_000.0, 84.0),
            ],
        ];
        rounds[0][1].errors = 7;
        let table = table(&rounds);
        let relation = row(&table, "GetRelation");
        // Ratios 0.60, 0.50, 0.55: the median round is the last one.
        assert_eq!(relation[2], "11000");
        assert_eq!(relation[3], "0.55 (0.50–0.60)");
        // CPU ratios 2.00, 2.20, 2.10.
        assert_eq!(relation[8], "84");
        assert_eq!(relation[9], "2.10 (2.00–2.20)");
        assert_eq!(relation[10], "42", "the median round's client CPU");
        assert_eq!(relation[12], "7", "the errors of every round");
        let baseline = row(&table, "health Check (baseline)");
        assert_eq!(baseline[2], "30000");
        assert_eq!(baseline[3], "1.00 (1.00–1.00)");
    }

    #[test]
    fn each_ratio_is_against_the_baseline_run_just_before_it() {
        // The machine halves its speed between the two pairs of runs: the
        // second scenario's ratio holds against its own baseline run.
        let table = table(&[vec![
            figures(Scenario::Baseline, 40_000.0, 25.0),
            figures(Scenario::GetRelation, 24_000.0, 50.0),
            figures(Scenario::Baseline, 20_000.0, 50.0),
            figures(Scenario::HistoryPage, 8_000.0, 140.0),
        ]]);
        let relation = row(&table, "GetRelation");
        assert_eq!((relation[3], relation[9]), ("0.60", "2.00"));
        let history = row(&table, "ListHistory, 50 entries");
        assert_eq!((history[3], history[9]), ("0.40", "2.80"));
        let baseline = row(&table, "health Check (baseline)");
        assert_eq!(baseline[2], "40000", "the median of the baseline runs");
        assert_eq!(baseline[3], "1.00 (1.00–1.00)");
        assert_eq!(
            table.lines().filter(|l| l.starts_with("| health")).count(),
            1,
            "one baseline row: {table}"
        );
    }

    #[test]
    fn one_round_shows_plain_ratios() {
        let table = table(&[vec![
            figures(Scenario::Baseline, 40_000.0, 25.0),
            figures(Scenario::HistoryPage, 16_000.0, 70.0),
        ]]);
        let history = row(&table, "ListHistory, 50 entries");
        assert_eq!((history[3], history[9]), ("0.40", "2.80"));
    }
}
