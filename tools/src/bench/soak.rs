//! The soak (#29): steady durable writes against a data dir for a long
//! time, with reads beside them, while the server's resident memory is
//! sampled every second. The verdict is whether memory levels off within
//! the configured budgets: over the last half of the run it must grow by
//! less than 5% of the sled cache, the relation cache and a fixed overhead
//! together.
//!
//! By default the writes rewrite a fixed set of events, so that the data
//! stays the size it was and what grows is what the writes leave behind;
//! `growing` writes new events instead, and the data grows with them (and
//! the memory sled holds for it). The slowest read and write are reported
//! too.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::server::{Launch, ServerProcess};
use super::{memory_kib, run, Figures, Load, Scenario};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a server holds beyond its two caches, in MiB: the runtime, its
/// threads and connections, the built-in data's countries, sled's own
/// tables. A server on the built-in data answers its first call holding
/// about 30 MiB (BENCHMARKS.md); this leaves room for a data dir's.
pub const FIXED_OVERHEAD_MIB: u64 = 64;

/// How much growth over the run's last half is "levelled off": a share of
/// the budget.
pub const LEVELLED_OFF: f64 = 0.05;

/// One soak's settings.
pub struct Soak {
    pub server: Launch,
    pub duration: Duration,
    /// Calls in flight, each a durable single-record write.
    pub writers: usize,
    /// `GetRelation` calls in flight beside the writes.
    pub readers: usize,
    /// New events (the data grows) rather than rewritten ones.
    pub growing: bool,
    pub seed: u64,
    /// Where to draw resident memory over time (SVG).
    pub svg: Option<PathBuf>,
}

/// Resident memory at a moment of the run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub secs: f64,
    pub resident_kib: u64,
}

/// What a soak measured.
pub struct SoakReport {
    pub samples: Vec<Sample>,
    pub writes: Figures,
    /// None when the soak ran no readers.
    pub reads: Option<Figures>,
    /// The server's peak resident memory (`VmHWM`), its open included.
    pub peak_kib: Option<u64>,
    pub budget_mib: u64,
}

impl SoakReport {
    /// Growth over the last half of the run, in KiB (the newest sample
    /// against the first one of the second half).
    pub fn late_growth_kib(&self) -> i64 {
        let Some(last) = self.samples.last() else {
            return 0;
        };
        let half = last.secs / 2.0;
        let middle = self.samples.iter().find(|s| s.secs >= half).unwrap_or(last);
        last.resident_kib as i64 - middle.resident_kib as i64
    }

    /// The late growth as a share of the budget.
    pub fn late_growth_share(&self) -> f64 {
        self.late_growth_kib() as f64 / (self.budget_mib as f64 * 1024.0)
    }

    pub fn render(&self) -> String {
        let mut out = String::from("| second | resident MiB |\n|---:|---:|\n");
        let step = (self.samples.len() / 10).max(1);
        for (i, sample) in self.samples.iter().enumerate() {
            if i % step == 0 || i + 1 == self.samples.len() {
                out.push_str(&format!(
                    "| {:.0} | {:.1} |\n",
                    sample.secs,
                    sample.resident_kib as f64 / 1024.0
                ));
            }
        }
        let first = self.samples.first().map_or(0, |s| s.resident_kib);
        let last = self.samples.last().map_or(0, |s| s.resident_kib);
        let share = self.late_growth_share();
        let ms = |us: u64| us as f64 / 1000.0;
        let first_error = |figures: &Figures| {
            figures
                .first_error
                .as_ref()
                .map_or(String::new(), |status| format!(", the first {status}"))
        };
        let reads = self.reads.as_ref().map_or("no reads".into(), |reads| {
            format!(
                "{} GetRelation calls ({:.0}/s, p99 {:.1} ms, slowest {:.1} ms, {} errors{})",
                reads.calls,
                reads.per_second,
                ms(reads.p99_us),
                ms(reads.max_us),
                reads.errors,
                first_error(reads),
            )
        });
        out.push_str(&format!(
            "\n== soak: {} samples; {} durable writes ({}: {:.0}/s, p99 {:.1} ms, slowest {:.1} ms, {} errors{}); {reads}; resident {:.1} -> {:.1} MiB (peak {}); \
             over the last half {:+.1} MiB = {:.1}% of the budget ({} MiB: caches and {} MiB fixed); levelled off (< {:.0}%): {}\n",
            self.samples.len(),
            self.writes.calls,
            self.writes.scenario.name(),
            self.writes.per_second,
            ms(self.writes.p99_us),
            ms(self.writes.max_us),
            self.writes.errors,
            first_error(&self.writes),
            first as f64 / 1024.0,
            last as f64 / 1024.0,
            self.peak_kib
                .map_or("?".into(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0)),
            self.late_growth_kib() as f64 / 1024.0,
            share * 100.0,
            self.budget_mib,
            FIXED_OVERHEAD_MIB,
            LEVELLED_OFF * 100.0,
            if share < LEVELLED_OFF { "yes" } else { "no" },
        ));
        out
    }
}

impl Soak {
    /// Starts the server, writes for `duration` while sampling, stops it.
    pub async fn run(&self) -> Result<SoakReport, Error> {
        let token = format!("soak-{}-0123456789", std::process::id());
        let server = ServerProcess::start(&self.server, &token, Duration::from_secs(900)).await?;
        let pid = server.pid();
        // From a steady start: the relation cache filled, as in a server
        // that has been up a while.
        server.wait_warm(Duration::from_secs(900)).await?;
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", server.ready.grpc))?;
        let channels = vec![endpoint.connect().await?];
        // A replica of etcd is up before it has caught up with etcd, and
        // serves relations only once it has.
        wait_serving(&channels[0], Duration::from_secs(900)).await?;
        let load = Load {
            connections: 1,
            in_flight: self.writers.max(1),
            duration: self.duration,
            seed: self.seed,
            token,
            typical_pair: None,
        };
        let scenario = if self.growing {
            Scenario::Writes
        } else {
            Scenario::SteadyWrites
        };
        let started = Instant::now();
        let reads = (self.readers > 0).then(|| {
            let (channels, load) = (
                channels.clone(),
                Load {
                    in_flight: self.readers,
                    ..load.clone()
                },
            );
            tokio::spawn(async move { run(Scenario::GetRelation, &channels, &load, None).await })
        });
        let writes = tokio::spawn(async move { run(scenario, &channels, &load, Some(pid)).await });
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while !writes.is_finished() {
            tick.tick().await;
            if let Some(resident_kib) = memory_kib(&pid.to_string(), "VmRSS:") {
                samples.push(Sample {
                    secs: started.elapsed().as_secs_f64(),
                    resident_kib,
                });
            }
        }
        let writes = writes.await?;
        let reads = match reads {
            Some(reads) => Some(reads.await?),
            None => None,
        };
        let peak_kib = memory_kib(&pid.to_string(), "VmHWM:");
        for line in server.stop().await {
            eprintln!("server: {line}");
        }
        let report = SoakReport {
            samples,
            writes,
            reads,
            peak_kib,
            budget_mib: self.server.cache_mb
                + self.server.relation_cache_mb as u64
                + FIXED_OVERHEAD_MIB,
        };
        if let Some(path) = &self.svg {
            draw(path, &report)?;
        }
        Ok(report)
    }
}

/// Waits until the server reports the relation service SERVING.
async fn wait_serving(channel: &tonic::transport::Channel, limit: Duration) -> Result<(), Error> {
    use tonic_health::pb::health_check_response::ServingStatus;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let deadline = Instant::now() + limit;
    loop {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "diplomacy.v1.RelationService".into(),
            })
            .await
            .map(|response| response.into_inner().status);
        if matches!(status, Ok(s) if s == ServingStatus::Serving as i32) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the relation service was not SERVING within {limit:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Resident memory over time, with the budget as a line.
fn draw(path: &std::path::Path, report: &SoakReport) -> Result<(), Error> {
    use plotters::prelude::*;

    let mib = |kib: u64| kib as f64 / 1024.0;
    let end = report.samples.last().map_or(1.0, |s| s.secs.max(1.0));
    let budget = report.budget_mib as f64;
    let top = report
        .samples
        .iter()
        .map(|s| mib(s.resident_kib))
        .fold(budget, f64::max)
        * 1.1;
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Resident memory under {} ({} writes, {:.0}/s)",
                report.writes.scenario.name(),
                report.writes.calls,
                report.writes.per_second
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("MiB resident")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            report.samples.iter().map(|s| (s.secs, mib(s.resident_kib))),
            &BLUE,
        ))?
        .label("server resident memory")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new([(0.0, budget), (end, budget)], &RED))?
        .label(format!(
            "budget: sled cache + relation cache + {FIXED_OVERHEAD_MIB} MiB"
        ))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
