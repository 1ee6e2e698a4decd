//! The sled-bound figures as ratios to sled's own ceilings (#30), measured
//! in the same run: durable writes from one client and from 64, and an
//! import, each through the store, next to raw sled doing exactly the same
//! key-value work — the same batches of the same keys and values and the
//! same flushes, replayed from a trace recorded under the store into a
//! sled database holding the same data. The ratio is ours over sled's rate:
//! what the store costs beyond the engine. Each group also prints the keys
//! and bytes a record writes, by key family (`src/store/keys.rs`).
//!
//! `cargo bench -p diplomacy-tools --bench ceilings`; `cargo test
//! --benches` runs each once so they cannot rot.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLockReadGuard};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use diplomacy::domain::Collection;
use diplomacy::error::Error;
use diplomacy::ingest::{check_import, initialise, upsert_all};
use diplomacy::records::Record;
use diplomacy::store::kv::{sled_batch, Entry, Writes};
use diplomacy::store::{KvRead, KvStore, SledKv, Store, WriterOptions};
use diplomacy_tools::generate::{generate, Sizes};

// The server's allocator, as in the store benches.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The page cache of both databases, as the bench's server runs with.
const CACHE_BYTES: u64 = 64 << 20;
/// Records in one measured import, in the importer's batches.
const IMPORT_RECORDS: usize = 1_000;
/// Concurrent writers of the second write scenario.
const CLIENTS: u64 = 64;

/// A record ready for `upsert_all`.
type Checked = (Collection, String, Record);

/// What the store asked of the engine, in order.
enum Step {
    Apply(Writes),
    Flush,
}

/// The sled engine, recording every batch and flush in `trace`.
struct TracingKv {
    inner: SledKv,
    trace: Arc<Trace>,
}

/// What a `TracingKv` records, while `recording`.
#[derive(Default)]
struct Trace {
    recording: AtomicBool,
    steps: Mutex<Vec<Step>>,
}

impl Trace {
    fn record(&self, step: Step) {
        if self.recording.load(Ordering::Relaxed) {
            self.steps.lock().expect("trace").push(step);
        }
    }

    /// Runs `work` with recording on and returns what it asked of sled.
    fn trace<T>(&self, work: impl FnOnce() -> T) -> (T, Vec<Step>) {
        self.recording.store(true, Ordering::Relaxed);
        let out = work();
        self.recording.store(false, Ordering::Relaxed);
        let steps = std::mem::take(&mut *self.steps.lock().expect("trace"));
        (out, steps)
    }
}

impl KvRead for TracingKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.inner.get(key)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, Error> {
        self.inner.contains(key)
    }
}

impl KvStore for TracingKv {
    fn scan(
        &self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Result<Entry, Error>> + Send + '_> {
        self.inner.scan(lower, upper, reverse)
    }

    fn apply_and(&self, writes: Writes, during: &mut dyn FnMut()) -> Result<(), Error> {
        if self.trace.recording.load(Ordering::Relaxed) {
            self.trace.record(Step::Apply(writes.clone()));
        }
        self.inner.apply_and(writes, during)
    }

    fn read_gate(&self) -> RwLockReadGuard<'_, ()> {
        self.inner.read_gate()
    }

    fn flush(&self) -> Result<(), Error> {
        self.trace.record(Step::Flush);
        self.inner.flush()
    }

    fn size_on_disk(&self) -> Result<u64, Error> {
        self.inner.size_on_disk()
    }
}

/// Replays `steps` into raw sled, as `SledKv` would have applied them.
fn replay(db: &sled::Db, steps: &[Step]) {
    for step in steps {
        match step {
            Step::Apply(writes) => {
                db.apply_batch(sled_batch(writes)).expect("batch");
            }
            Step::Flush => {
                db.flush().expect("flush");
            }
        }
    }
}

/// The store on the data the bench's 1% dataset gives, and a raw sled
/// database holding the same keys (the store's load replayed into it).
struct Setup {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store<TracingKv>>,
    trace: Arc<Trace>,
    sled: sled::Db,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    /// Generated records not yet written, renamed apart from the loaded
    /// ones, and the seed of the next batch of them.
    fresh: Mutex<(Vec<Checked>, u64)>,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store_dir = tempfile::tempdir().expect("temp dir");
    let sled_dir = tempfile::tempdir().expect("temp dir");
    let trace = Arc::new(Trace::default());
    let kv = TracingKv {
        inner: SledKv::open(store_dir.path(), CACHE_BYTES).expect("sled"),
        trace: Arc::clone(&trace),
    };
    let store = Arc::new(Store::new(kv, WriterOptions::default()).expect("store"));
    let mut loaded = Vec::new();
    generate(1, Sizes::scaled(0.01), |r| loaded.push(checked(r)));
    let (_, load) = trace.trace(|| {
        runtime.block_on(async {
            initialise(&*store, false).await.expect("countries");
            upsert_all(&*store, loaded).await.expect("load");
        })
    });
    let sled = sled::Config::new()
        .path(sled_dir.path())
        .cache_capacity(CACHE_BYTES)
        .open()
        .expect("sled");
    replay(&sled, &load);
    Setup {
        runtime,
        store,
        trace,
        sled,
        _dirs: (store_dir, sled_dir),
        fresh: Mutex::new((Vec::new(), 2)),
    }
}

fn checked(record: Record) -> Checked {
    let (collection, id) = check_import(&record).expect("valid");
    (collection, id, record)
}

/// Records of another seed, renamed (`w{seed}-…`) so that every write
/// creates one, in random order so that every run writes the dataset's mix
/// of kinds.
fn fresh_records(seed: u64) -> Vec<Checked> {
    let mut fresh = Vec::new();
    generate(seed, Sizes::scaled(0.02), |mut record| {
        let name = match &mut record {
            Record::Meeting(m) => &mut m.name,
            Record::Treaty(t) => &mut t.name,
            Record::Event(e) => &mut e.name,
            _ => return,
        };
        *name = name.replacen("/g", &format!("/w{seed}-"), 1);
        fresh.push(checked(record));
    });
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
    rand::seq::SliceRandom::shuffle(fresh.as_mut_slice(), &mut rng);
    fresh
}

impl Setup {
    /// `n` records never written, generated as they are needed.
    fn take(&self, n: usize) -> Vec<Checked> {
        let mut fresh = self.fresh.lock().expect("records");
        let mut taken = Vec::with_capacity(n);
        while taken.len() < n {
            if fresh.0.is_empty() {
                let seed = fresh.1;
                fresh.0 = fresh_records(seed);
                fresh.1 += 1;
            }
            let rest = fresh.0.len().saturating_sub(n - taken.len());
            taken.extend(fresh.0.drain(rest..));
        }
        taken
    }
}

/// One scenario's traces and the time each side took, for the ratio.
#[derive(Default)]
struct Tally {
    /// What measured runs asked of sled: records written and the steps.
    runs: Mutex<Vec<(u64, Vec<Step>)>>,
    ours_nanos: AtomicU64,
    ours_records: AtomicU64,
    sled_nanos: AtomicU64,
    sled_records: AtomicU64,
}

/// Which side of a pair of runs a criterion function reports.
#[derive(Clone, Copy)]
enum Side {
    Ours,
    Sled,
}

impl Tally {
    /// Runs `ours` (records written, its time, what it asked of sled), then
    /// replays exactly that into `db`, so that both sides write keys new to
    /// their database; both times count towards the ratio, and `side`'s is
    /// returned, scaled to `records`.
    fn pair(
        &self,
        db: &sled::Db,
        side: Side,
        records: u64,
        ours: impl FnOnce() -> (u64, Duration, Vec<Step>),
    ) -> Duration {
        let (written, ours_time, steps) = ours();
        let started = Instant::now();
        replay(db, &steps);
        let sled_time = started.elapsed();
        for (nanos, count, time) in [
            (&self.ours_nanos, &self.ours_records, ours_time),
            (&self.sled_nanos, &self.sled_records, sled_time),
        ] {
            nanos.fetch_add(time.as_nanos() as u64, Ordering::Relaxed);
            count.fetch_add(written, Ordering::Relaxed);
        }
        let mut runs = self.runs.lock().expect("runs");
        if runs.len() == 16 {
            runs.remove(0);
        }
        runs.push((written, steps));
        let time = match side {
            Side::Ours => ours_time,
            Side::Sled => sled_time,
        };
        time.mul_f64(records as f64 / written.max(1) as f64)
    }

    fn rate(nanos: &AtomicU64, records: &AtomicU64) -> f64 {
        records.load(Ordering::Relaxed) as f64 * 1e9 / nanos.load(Ordering::Relaxed).max(1) as f64
    }

    /// Prints both rates, their ratio and the keys and bytes per record.
    fn report(&self, what: &str) {
        if self.ours_records.load(Ordering::Relaxed) == 0
            || self.sled_records.load(Ordering::Relaxed) == 0
        {
            return; // filtered out of this run
        }
        let ours = Self::rate(&self.ours_nanos, &self.ours_records);
        let sled = Self::rate(&self.sled_nanos, &self.sled_records);
        println!(
            "== {what}: diplomacy {ours:.0} records/s, sled with the same keys, batches and flushes {sled:.0}/s: {:.2}x sled's ceiling",
            ours / sled
        );
        let runs = self.runs.lock().expect("runs");
        let mut by_family: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let (mut records, mut flushes, mut batches) = (0u64, 0u64, 0u64);
        for (written, steps) in runs.iter() {
            records += written;
            for step in steps {
                match step {
                    Step::Flush => flushes += 1,
                    Step::Apply(writes) => {
                        batches += 1;
                        for (key, value) in writes {
                            let entry = by_family.entry(family(key)).or_default();
                            entry.0 += 1;
                            entry.1 += (key.len() + value.as_ref().map_or(0, Vec::len)) as u64;
                        }
                    }
                }
            }
        }
        let records = records.max(1) as f64;
        let (keys, bytes) = by_family
            .values()
            .fold((0, 0), |(k, b), (fk, fb)| (k + fk, b + fb));
        let families: Vec<String> = by_family
            .iter()
            .map(|(family, (k, b))| {
                format!(
                    "{family} {:.2} ({:.0} B)",
                    *k as f64 / records,
                    *b as f64 / records
                )
            })
            .collect();
        println!(
            "   per record: {:.2} keys, {:.0} bytes; {:.3} batches and {:.3} flushes; by family: {}",
            keys as f64 / records,
            bytes as f64 / records,
            batches as f64 / records,
            flushes as f64 / records,
            families.join(", ")
        );
    }
}

/// A key's family: its prefix up to the first `/`, or the whole of a
/// `_` key's first part.
fn family(key: &[u8]) -> String {
    let end = key
        .iter()
        .position(|b| *b == b'/')
        .map_or(key.len(), |i| i + 1);
    String::from_utf8_lossy(&key[..end]).into_owned()
}

/// The three scenarios: each names its run of the store's side, given the
/// setup and the records to write, with the records it wrote.
type Scenario = fn(&Setup, u64) -> (u64, Duration, Vec<Step>);

fn one_client(setup: &Setup, iters: u64) -> (u64, Duration, Vec<Step>) {
    let records = setup.take(iters as usize);
    let (elapsed, steps) = setup.trace.trace(|| {
        let started = Instant::now();
        setup.runtime.block_on(async {
            for one in records {
                black_box(upsert_all(&*setup.store, vec![one]).await.expect("write"));
            }
        });
        started.elapsed()
    });
    (iters, elapsed, steps)
}

fn many_clients(setup: &Setup, iters: u64) -> (u64, Duration, Vec<Step>) {
    let calls = iters.max(CLIENTS);
    let records = setup.take(calls as usize);
    let (elapsed, steps) = setup.trace.trace(|| {
        let started = Instant::now();
        setup.runtime.block_on(async {
            let mut queues: Vec<Vec<_>> = (0..CLIENTS).map(|_| Vec::new()).collect();
            for (i, one) in records.into_iter().enumerate() {
                queues[i % CLIENTS as usize].push(one);
            }
            let tasks: Vec<_> = queues
                .into_iter()
                .map(|queue| {
                    let store = Arc::clone(&setup.store);
                    tokio::spawn(async move {
                        for one in queue {
                            upsert_all(&*store, vec![one]).await.expect("write");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("writer task");
            }
        });
        started.elapsed()
    });
    (calls, elapsed, steps)
}

fn import_batches(setup: &Setup, iters: u64) -> (u64, Duration, Vec<Step>) {
    let records = setup.take(iters as usize * IMPORT_RECORDS);
    let (elapsed, steps) = setup.trace.trace(|| {
        let started = Instant::now();
        setup
            .runtime
            .block_on(upsert_all(&*setup.store, records))
            .expect("import");
        started.elapsed()
    });
    (iters * IMPORT_RECORDS as u64, elapsed, steps)
}

/// Measures `scenario` through the store and as raw sled, in pairs of runs.
fn measure(
    c: &mut Criterion,
    setup: &Setup,
    group_name: &str,
    ours_name: &str,
    unit: u64,
    scenario: Scenario,
) {
    let tally = Tally::default();
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    for (name, side) in [
        (ours_name, Side::Ours),
        ("sled: the same keys, batches and flushes", Side::Sled),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                tally.pair(&setup.sled, side, iters * unit, || scenario(setup, iters))
            })
        });
    }
    group.finish();
    tally.report(group_name);
}

/// The three scenarios on one setup (each writes records new to both
/// databases, so that they follow one another).
fn ceilings(c: &mut Criterion) {
    let setup = setup();
    measure(
        c,
        &setup,
        "durable writes, 1 client",
        "diplomacy: one record a call, acknowledged after its flush",
        1,
        one_client,
    );
    measure(
        c,
        &setup,
        "durable writes, 64 clients",
        "diplomacy: 64 callers, one record a call (group commit)",
        1,
        many_clients,
    );
    measure(
        c,
        &setup,
        "import",
        "diplomacy: 1,000 records in the importer's batches",
        IMPORT_RECORDS as u64,
        import_batches,
    );
}

criterion_group!(benches, ceilings);
criterion_main!(benches);
