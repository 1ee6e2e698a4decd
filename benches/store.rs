//! Storage micro-benchmarks: what relation queries, history pages and
//! writes cost, next to the raw sled operations they are built from.
//! `cargo bench --bench store`; `cargo test --all-targets` runs each once so
//! they cannot rot.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use diplomacy::domain::{Collection, CountryCode, CountryPair};
use diplomacy::ingest::{check_import, upsert_all};
use diplomacy::store::index::record_index;
use diplomacy::store::{HistoryScope, Store, WriterOptions};
use diplomacy_tools::generate::{generate, Sizes};

// The server's allocator: sled allocates a node copy per insert, and its
// cost depends on the allocator (twice as fast with mimalloc in key order).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A new sled database in a temporary directory, removed with it.
fn new_sled(cache_bytes: u64) -> (tempfile::TempDir, sled::Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(cache_bytes)
        .open()
        .expect("sled");
    (dir, db)
}

fn raw_sled(c: &mut Criterion) {
    let (_dir, db) = new_sled(64 << 20);
    for i in 0..100_000u32 {
        db.insert(format!("k/{i:08}"), vec![7u8; 200])
            .expect("insert");
    }
    db.flush().expect("flush");
    let mut i = 0u32;
    c.bench_function("sled: get", |b| {
        b.iter(|| {
            i = (i + 7919) % 100_000;
            black_box(db.get(format!("k/{i:08}")).expect("get"))
        })
    });
    c.bench_function("sled: range scan of 100 rows", |b| {
        b.iter(|| {
            i = (i + 7919) % 99_000;
            let rows = db.range(format!("k/{i:08}")..).take(100).count();
            black_box(rows)
        })
    });
    let mut n = 0u64;
    c.bench_function("sled: batch insert of 12 keys (one record's worth)", |b| {
        b.iter(|| {
            let mut batch = sled::Batch::default();
            for k in 0..12 {
                n += 1;
                batch.insert(format!("w/{n:012}/{k}").as_bytes(), vec![1u8; 150]);
            }
            db.apply_batch(batch).expect("batch")
        })
    });
    c.bench_function("sled: flush after one insert", |b| {
        b.iter(|| {
            n += 1;
            db.insert(format!("f/{n:012}"), vec![1u8; 150])
                .expect("insert");
            db.flush().expect("flush")
        })
    });
}

fn store(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), 64 << 20, WriterOptions::default()).expect("store");
    let mut records = Vec::new();
    generate(1, Sizes::scaled(0.01), |r| records.push(r));
    runtime.block_on(async {
        diplomacy::ingest::initialise(&store, false)
            .await
            .expect("countries");
        let checked = records
            .iter()
            .map(|r| {
                check_import(r)
                    .map(|(c, id)| (c, id, r.clone()))
                    .expect("valid")
            })
            .collect();
        upsert_all(&store, checked).await.expect("import");
    });
    // The busiest pair of seed 1.
    let countries = diplomacy_tools::generate::countries();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
    let (a, b) = diplomacy_tools::generate::PairPicker::new(countries.len(), &mut rng).busiest();
    let code = |i: usize| CountryCode::from_name(&countries[i]).expect("code");
    let pair = CountryPair::new(code(a), code(b)).expect("pair");
    let day = time::macros::date!(2000 - 01 - 01);

    c.bench_function("store: relation facts + status of the busiest pair", |b| {
        b.iter(|| {
            let facts = store
                .pair_facts(pair, day, diplomacy::domain::relation::MAX_LISTED)
                .expect("facts");
            black_box(facts.status)
        })
    });
    c.bench_function("store: history page of 50 entries", |b| {
        b.iter(|| {
            let page: Vec<_> = store
                .history(HistoryScope::Pair(pair), None, None, None)
                .take(50)
                .collect();
            black_box(page)
        })
    });
    let treaty = records
        .iter()
        .find(|r| matches!(r, diplomacy::records::Record::Treaty(_)))
        .expect("a treaty")
        .clone();
    c.bench_function("records: index entries of one treaty", |b| {
        b.iter(|| black_box(record_index(Collection::Treaties, "g0", &treaty)))
    });
    let mut n = 0;
    c.bench_function("store: one durable write (own flush)", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut record = records[n % records.len()].clone();
                if let diplomacy::records::Record::Meeting(m) = &mut record {
                    m.summary = format!("bench {n}");
                }
                check_import(&record)
                    .map(|(c, id)| (c, id, record))
                    .expect("valid")
            },
            |one| {
                runtime
                    .block_on(upsert_all(&store, vec![one]))
                    .expect("write")
            },
            BatchSize::SmallInput,
        )
    });
}

/// sled's own ceiling for writes and imports: keys shaped like history
/// entries, inserted into a new tree in batches of 10,000, in random order
/// (as records' index entries arrive) and in key order (a bulk load).
fn sled_bulk_insert(c: &mut Criterion) {
    const KEYS: usize = 200_000;
    let mut group = c.benchmark_group("sled: 200,000 keys in batches of 10,000");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(KEYS as u64));
    for sorted in [false, true] {
        let name = if sorted { "key order" } else { "random order" };
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let mut keys: Vec<Vec<u8>> = (0..KEYS)
                        .map(|i| {
                            format!(
                                "p/{:04}/{:09}/meetings/m{i}/1-meeting",
                                (i * 7919) % 30_000,
                                (i * 104_729) % 1_000_000_000
                            )
                            .into_bytes()
                        })
                        .collect();
                    if sorted {
                        keys.sort();
                    } else {
                        let mut rng =
                            <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
                        rand::seq::SliceRandom::shuffle(keys.as_mut_slice(), &mut rng);
                    }
                    let (dir, db) = new_sled(128 << 20);
                    (dir, db, keys)
                },
                |(dir, db, keys)| {
                    for chunk in keys.chunks(10_000) {
                        let mut batch = sled::Batch::default();
                        for key in chunk {
                            batch.insert(key.as_slice(), &[7u8; 120][..]);
                        }
                        db.apply_batch(batch).expect("batch");
                    }
                    db.flush().expect("flush");
                    (dir, db)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, raw_sled, store, sled_bulk_insert);
criterion_main!(benches);
