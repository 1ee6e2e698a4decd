//! The load generator's report: one row a scenario, the median round with
//! the range across rounds, each ratio against the baseline run just before.

use super::{Figures, Scenario};

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
        "| scenario | calls/s | × baseline | p50 µs | p90 µs | p99 µs | p99.9 µs | server CPU µs/call | × baseline CPU | client CPU µs/call | items/s | errors | × empty tonic | × empty tonic CPU |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut scenarios: Vec<Scenario> = Vec::new();
    for figures in rounds.iter().flatten() {
        if !scenarios.contains(&figures.scenario) {
            scenarios.push(figures.scenario);
        }
    }
    for scenario in scenarios {
        // Each run of this scenario with its ratios.
        let mut runs: Vec<Run> = rounds
            .iter()
            .flat_map(|round| {
                round
                    .iter()
                    .enumerate()
                    .filter(move |(_, f)| f.scenario == scenario)
                    .map(move |(at, f)| {
                        let (ratio, cpu_ratio) = ratios(f, paired(round, at, Scenario::Baseline));
                        let (empty, empty_cpu) = ratios(f, paired(round, at, Scenario::EmptyTonic));
                        Run {
                            ratio,
                            cpu_ratio,
                            empty,
                            empty_cpu,
                            figures: f,
                        }
                    })
            })
            .collect();
        runs.sort_by(|a, b| {
            a.ratio
                .total_cmp(&b.ratio)
                .then(a.figures.per_second.total_cmp(&b.figures.per_second))
        });
        let Some(f) = runs.get(runs.len() / 2).map(|r| r.figures) else {
            continue;
        };
        let ratio = median_with_range(
            runs.iter()
                .map(|r| r.ratio)
                .filter(|r| !r.is_nan())
                .collect(),
        );
        let cpu_ratio = median_with_range(runs.iter().filter_map(|r| r.cpu_ratio).collect());
        let empty = median_with_range(
            runs.iter()
                .map(|r| r.empty)
                .filter(|r| !r.is_nan())
                .collect(),
        );
        let empty_cpu = median_with_range(runs.iter().filter_map(|r| r.empty_cpu).collect());
        let micros = |c: Option<f64>| c.map_or(String::from("-"), |c| format!("{c:.0}"));
        let (cpu, client_cpu) = (micros(f.cpu_us_per_call), micros(f.client_cpu_us_per_call));
        // Errors of every round: a failing round must not hide behind the
        // median.
        let errors: u64 = runs.iter().map(|r| r.figures.errors).sum();
        out.push_str(&format!(
            "| {} | {:.0} | {ratio} | {} | {} | {} | {} | {cpu} | {cpu_ratio} | {client_cpu} | {:.0} | {} | {empty} | {empty_cpu} |\n",
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

/// One run of a scenario, with its ratios to the baseline runs paired with
/// it (NaN or None where there is none).
struct Run<'a> {
    ratio: f64,
    cpu_ratio: Option<f64>,
    empty: f64,
    empty_cpu: Option<f64>,
    figures: &'a Figures,
}

/// Calls/s and server CPU of `f` as ratios to `baseline`'s.
fn ratios(f: &Figures, baseline: Option<&Figures>) -> (f64, Option<f64>) {
    let ratio = baseline.map_or(f64::NAN, |b| f.per_second / b.per_second.max(1e-9));
    let cpu = match (f.cpu_us_per_call, baseline.and_then(|b| b.cpu_us_per_call)) {
        (Some(c), Some(b)) if b > 0.0 => Some(c / b),
        _ => None,
    };
    (ratio, cpu)
}

/// The run of `baseline` nearest before run `at` of `round` (itself, for a
/// run of that baseline), or the round's first if none precedes it.
fn paired(round: &[Figures], at: usize, baseline: Scenario) -> Option<&Figures> {
    let is_baseline = |f: &&Figures| f.scenario == baseline;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(scenario: Scenario, per_second: f64, cpu: f64) -> Figures {
        Figures {
            scenario,
            calls: 1000,
            errors: 0,
            first_error: None,
            per_second,
            p50_us: 1,
            p90_us: 2,
            p99_us: 3,
            p999_us: 4,
            max_us: 5,
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

    #[test]
    fn each_scenario_is_also_a_ratio_to_the_empty_tonic_run_before_it() {
        let table = table(&[vec![
            figures(Scenario::EmptyTonic, 50_000.0, 20.0),
            figures(Scenario::Baseline, 40_000.0, 25.0),
            figures(Scenario::GetRelation, 25_000.0, 50.0),
            figures(Scenario::EmptyTonic, 40_000.0, 25.0),
            figures(Scenario::Baseline, 30_000.0, 30.0),
            figures(Scenario::HistoryPage, 10_000.0, 100.0),
        ]]);
        let baseline = row(&table, "health Check (baseline)");
        assert_eq!(
            baseline[13], "0.80 (0.75–0.80)",
            "our check against the empty server (the upper middle of two runs)"
        );
        let relation = row(&table, "GetRelation");
        assert_eq!((relation[13], relation[14]), ("0.50", "2.50"));
        let history = row(&table, "ListHistory, 50 entries");
        assert_eq!(
            (history[13], history[14]),
            ("0.25", "4.00"),
            "against its own empty run"
        );
        let empty = row(&table, "health Check, empty tonic server");
        assert_eq!(empty[13], "1.00 (1.00–1.00)");
    }
}
