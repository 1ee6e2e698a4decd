//! One measuring session of `diplomacy-tools bench`: start the server on a
//! data dir, time its first answer, wait for its relation cache, run every
//! scenario right after a baseline run of its own, report, stop it.

use std::path::Path;
use std::time::Duration;

use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::relation_service_client::RelationServiceClient;
use diplomacy::store::Store;

use super::server::{Launch, ServerProcess};
use super::{run, table, Load, Scenario};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What to measure, and how hard.
pub struct Session {
    pub server: Launch,
    pub scenarios: Vec<Scenario>,
    pub load: Load,
    pub rounds: usize,
}

/// What one session measured of the server.
struct Measured {
    /// The scenarios' figures (`table`).
    table: String,
    /// From start to the first `GetRelation` answer.
    first_answer: Duration,
    /// Resident memory in KiB at the first answer (and the peak until
    /// then), after the run, at peak.
    resident_at_first: String,
    peak_at_first: String,
    resident_after: String,
    peak: String,
    /// From start to a warm relation cache.
    warm: Duration,
}

/// Total size of the files under `dir`.
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A memory figure of process `pid` as the report shows it: KiB, or "?"
/// where /proc does not tell.
fn memory_shown(pid: u32, field: &str) -> String {
    super::memory_kib(&pid.to_string(), field).map_or("?".into(), |kib| kib.to_string())
}

/// The scenarios in the order they run: each right after a run of the
/// empty tonic server and a baseline run of its own (`table` takes its
/// ratios against those runs).
fn run_order(scenarios: &[Scenario]) -> Vec<Scenario> {
    const BASELINES: [Scenario; 2] = [Scenario::EmptyTonic, Scenario::Baseline];
    let measured: Vec<Scenario> = scenarios
        .iter()
        .copied()
        .filter(|s| !BASELINES.contains(s))
        .collect();
    if measured.is_empty() {
        return BASELINES.to_vec();
    }
    measured
        .into_iter()
        .flat_map(|s| BASELINES.into_iter().chain([s]))
        .collect()
}

impl Session {
    /// Runs the session and returns its report (a Markdown table and a line
    /// of figures about the server).
    pub async fn measure(&self) -> Result<String, Error> {
        let bytes = dir_size(&self.server.data_dir);
        let server =
            ServerProcess::start(&self.server, &self.load.token, Duration::from_secs(900)).await?;
        let pid = server.pid();
        let empty = ServerProcess::empty_tonic(Duration::from_secs(60)).await?;
        let measured = self.measure_on(&server, &empty).await;
        empty.stop().await;
        for line in server.stop().await {
            eprintln!("server: {line}");
        }
        let Measured {
            table,
            first_answer,
            resident_at_first,
            peak_at_first,
            resident_after,
            peak,
            warm,
        } = measured?;
        // Counted once the server has stopped and let go of the database.
        let records: u64 = {
            let store = Store::open(
                &self.server.data_dir,
                self.server.cache_mb << 20,
                Default::default(),
            )?;
            store.counts()?.values().sum()
        };
        // sled alone on the same files, in a process of its own, after the
        // server let go of them (#30: the server's memory as a ratio to it).
        let sled_alone = match super::footprint::measure(
            &self.server.data_dir,
            self.server.cache_mb,
        ) {
            Ok(sled) => {
                let ratio = |server: &str, sled: u64| {
                    server.parse::<f64>().map_or("?".into(), |server| {
                        format!("{:.2}", server / sled.max(1) as f64)
                    })
                };
                format!(
                    "resident {} KiB after its open, peak {} KiB; the server at its first answer {}x and {}x those",
                    sled.resident,
                    sled.peak,
                    ratio(&resident_at_first, sled.resident),
                    ratio(&peak_at_first, sled.peak),
                )
            }
            Err(e) => format!("not measured ({e})"),
        };
        Ok(format!(
            "{table}\nrecords: {records}; on disk before the run: {bytes} bytes ({:.0} bytes/record); \
             start to first GetRelation answer: {} ms; server resident memory at that answer: {resident_at_first} KiB (peak {peak_at_first} KiB), \
             after the run: {resident_after} KiB, peak: {peak} KiB; sled alone opening the same files: {sled_alone}; \
             relation cache warm {:.1} s after start; \
             load: {} connections × {} in flight, {:.1} s per scenario, {} round(s); server pid was {pid}",
            bytes as f64 / records.max(1) as f64,
            first_answer.as_millis(),
            warm.as_secs_f64(),
            self.load.connections,
            self.load.in_flight,
            self.load.duration.as_secs_f64(),
            self.rounds.max(1),
        ))
    }

    async fn measure_on(
        &self,
        server: &ServerProcess,
        empty: &ServerProcess,
    ) -> Result<Measured, Error> {
        let pid = server.pid();
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", server.ready.grpc))?;
        let mut first = RelationServiceClient::new(endpoint.connect().await?);
        first
            .get_relation(pb::GetRelationRequest {
                name: "countries/AM/relations/AZ".into(),
                ..Default::default()
            })
            .await?;
        let first_answer = server.started.elapsed();
        let resident_at_first = memory_shown(pid, "VmRSS:");
        let peak_at_first = memory_shown(pid, "VmHWM:");
        // Measured as a server that has been up a while: its relation cache
        // filled (the busiest pairs first) before the first scenario.
        eprintln!("waiting for the server to warm its relation cache …");
        let warm = server.wait_warm(Duration::from_secs(900)).await?;
        let empty_endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", empty.ready.grpc))?;
        let (mut channels, mut empty_channels) = (Vec::new(), Vec::new());
        for _ in 0..self.load.connections.max(1) {
            channels.push(endpoint.connect().await?);
            empty_channels.push(empty_endpoint.connect().await?);
        }
        // In the first round each scenario first runs unmeasured for a fifth
        // of its time (at most 2 s), so that caches and connections are
        // warm, as they are in a server that has been up for a while.
        let warm_up = Load {
            duration: (self.load.duration / 5).min(Duration::from_secs(2)),
            ..self.load.clone()
        };
        let runs = run_order(&self.scenarios);
        let rounds = self.rounds.max(1);
        let mut figures = Vec::new();
        for round in 1..=rounds {
            let mut this_round = Vec::new();
            for (at, &scenario) in runs.iter().enumerate() {
                eprintln!(
                    "round {round}/{rounds}: running {} for {:.1} s …",
                    scenario.name(),
                    self.load.duration.as_secs_f64()
                );
                let (target, target_pid) = if scenario == Scenario::EmptyTonic {
                    (&empty_channels, empty.pid())
                } else {
                    (&channels, pid)
                };
                let first_time = !runs[..at].contains(&scenario);
                if round == 1 && first_time && scenario != Scenario::Writes {
                    run(scenario, target, &warm_up, None).await;
                }
                this_round.push(run(scenario, target, &self.load, Some(target_pid)).await);
            }
            figures.push(this_round);
        }
        Ok(Measured {
            table: table(&figures),
            first_answer,
            resident_at_first,
            peak_at_first,
            resident_after: memory_shown(pid, "VmRSS:"),
            peak: memory_shown(pid, "VmHWM:"),
            warm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_runs_right_after_baseline_runs_of_its_own() {
        let order = run_order(&[
            Scenario::EmptyTonic,
            Scenario::Baseline,
            Scenario::GetRelation,
            Scenario::Writes,
        ]);
        assert_eq!(
            order,
            [
                Scenario::EmptyTonic,
                Scenario::Baseline,
                Scenario::GetRelation,
                Scenario::EmptyTonic,
                Scenario::Baseline,
                Scenario::Writes
            ]
        );
        assert_eq!(
            run_order(&[Scenario::Baseline]),
            [Scenario::EmptyTonic, Scenario::Baseline]
        );
    }
}
