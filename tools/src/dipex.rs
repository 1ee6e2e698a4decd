//! A synthetic file in the layout of COW's Diplomatic Exchange data
//! (v2006.1), to measure `diplomacy import --format cow-dipex` on a file of
//! the real one's shape: every pair of built-in states that were both COW
//! members through a snapshot year, in both directions, with random levels,
//! a byte-order mark, CRLF, a quoted header and the version as a float.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use diplomacy::ingest::builtin_country_records;
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::records::Record;

/// The snapshot years of the published data.
pub const SNAPSHOT_YEARS: [i32; 40] = [
    1817, 1824, 1827, 1832, 1836, 1840, 1844, 1849, 1855, 1860, 1864, 1865, 1869, 1874, 1879, 1884,
    1889, 1894, 1899, 1904, 1909, 1914, 1919, 1920, 1925, 1930, 1935, 1940, 1950, 1955, 1960, 1965,
    1970, 1975, 1980, 1985, 1990, 1995, 2000, 2005,
];

/// The COW codes that were members through all of `year`.
fn members_through(memberships: &[pb::CowMembership], year: i32) -> Vec<i32> {
    let mut codes: Vec<i32> = memberships
        .iter()
        .filter(|m| {
            let started = m
                .start_date
                .as_ref()
                .is_some_and(|d| (d.year, d.month, d.day) <= (year, 1, 1));
            let ended = m.end_date.as_ref().is_some_and(|d| d.year <= year);
            started && !ended
        })
        .map(|m| m.ccode)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Writes up to `rows` rows (stopping after the snapshot year that reaches
/// it); returns how many were written.
pub fn write(seed: u64, rows: usize, out: &mut impl Write) -> std::io::Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let memberships: Vec<pb::CowMembership> = builtin_country_records()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .into_iter()
        .filter_map(|r| match r {
            Record::Country(c) => Some(c.cow_memberships),
            _ => None,
        })
        .flatten()
        .collect();
    out.write_all(
        "\u{feff}\"ccode1\",\"ccode2\",\"year\",\"DR_at_1\",\"DR_at_2\",\"DE\",\"version\"\r\n"
            .as_bytes(),
    )?;
    let levels = [0, 0, 1, 2, 3, 3, 3, 9, -9];
    let mut written = 0;
    for year in SNAPSHOT_YEARS.iter().rev() {
        let codes = members_through(&memberships, *year);
        for (i, a) in codes.iter().enumerate() {
            for b in &codes[i + 1..] {
                let in_a = levels[rng.random_range(0..levels.len())];
                let in_b = levels[rng.random_range(0..levels.len())];
                let de = i32::from(in_a > 0 || in_b > 0);
                write!(out, "{a},{b},{year},{in_a},{in_b},{de},2006.1\r\n")?;
                write!(out, "{b},{a},{year},{in_b},{in_a},{de},2006.1\r\n")?;
                written += 2;
            }
        }
        if written >= rows {
            break;
        }
    }
    Ok(written)
}
