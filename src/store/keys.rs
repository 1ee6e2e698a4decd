//! The one place that knows how keys are laid out. All keys are ASCII with
//! `/` between parts; dates are fixed-width `YYYYMMDDp` sort keys (see
//! `PartialDate::sort_key`), so byte order is date order.
//!
//! | prefix | key                                   | value                   |
//! |--------|---------------------------------------|-------------------------|
//! | `_`    | `_schema`                             | schema version          |
//! | `_`    | `_revision`                           | newest revision (u64)   |
//! | `_`    | `_count/{collection}`                 | records it holds (u64)  |
//! | `l/`   | `l/{revision, 20 digits}`             | `Change` (change log)   |
//! | `r/`   | `r/{collection}/{id}`                 | the record (prost)      |
//! | `n/`   | `n/{CC}`                              | records naming CC (u64) |
//! | `x/`   | `x/{CC}/{collection}/{id}`            | — (principal role)      |
//! | `h/`   | `h/{CC}/{date}/{record}/{tag}`        | `HistoryEntry`          |
//! | `p/`   | `p/{AB}/{date}/{record}/{tag}`        | `HistoryEntry`          |
//! | `q/`   | `q/{CC}/{OTHER}`                      | records linking (u64)   |
//! | `s/`   | `s/{AB}/{date}/{record}`              | `StatusValue`           |
//! | `t/`   | `t/{AB}/{in-force-from}/{record}`     | `TreatyValue`           |
//! | `u/`   | `u/{AB}/{initialled-or-signed}/{record}` | `PendingValue`       |
//! | `c/`   | `c/{AB}/{start}/{record}`             | `ConflictSummary`       |
//! | `m/`   | `m/{AB}/{date}/{record}`              | `MeetingSummary`        |
//! | `d/`   | `d/{AB}/{MEDIATOR}/{date}/{record}`   | —                       |
//! | `g/`   | `g/{AB}/{mediator}/{role}/{start}/{record}` | `Mediation`       |
//! | `e/`   | `e/{AB}/{aspect}/{FROM}/{date}/{record}` | `StandingValue`      |
//! | `v/`   | `v/{recognised}/{RECOGNIZER}/{date}/{record}` | `StandingValue` |
//! | `a/`   | `a/{actor_id}`                        | records naming it (u64) |
//!
//! `e/` holds recognition (`rec`), representation (`rep`) and border
//! (`bor`) facts, each from the state `FROM` (`-` for the border); `v/`
//! the same recognitions by the recognised (`countries/AM`, `actors/…`),
//! for "who recognises it".
//!
//! Relation queries read the `s/`, `t/`, `u/`, `c/`, `m/`, `d/`, `g/` and
//! `e/` entries of a pair through an in-memory copy (`cache`). Older layouts kept more, which
//! opening such a database removes: per-pair meeting counters under `k/`
//! (schema 1) and a partner entry per record (`q/{CC}/{OTHER}/{record}`,
//! schemas 1–2, turned into one count per pair).
//!
//! `{AB}` is a pair in id order: `AMAZ` when both ids have two letters, as
//! every key had before longer ids existed, else the ids joined by `+`
//! (`AM+cow-han`). Ids hold no `/` and no `+`, so every key splits one way.

use time::Date;

use crate::domain::date::{day_key, push_day_key};
use crate::domain::{Collection, CountryCode, CountryPair};

pub const SCHEMA: &[u8] = b"_schema";
pub const REVISION: &[u8] = b"_revision";
pub const CHANGES: &[u8] = b"l/";

/// The change-log key of `revision`: zero-padded so byte order is numeric.
pub fn change(revision: u64) -> Vec<u8> {
    format!("l/{revision:020}").into_bytes()
}

/// The `index`-th change of `revision` when one revision holds several (a
/// replica's index, where one etcd transaction is one revision): the first
/// keeps the plain key, so both layouts read alike and sort in order.
pub fn change_at(revision: u64, index: usize) -> Vec<u8> {
    if index == 0 {
        change(revision)
    } else {
        format!("l/{revision:020}.{index}").into_bytes()
    }
}

/// The revision a change-log key holds.
pub fn revision_of_change(key: &[u8]) -> Option<i64> {
    let rest = key.strip_prefix(CHANGES)?;
    let digits = rest.split(|b| *b == b'.').next()?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// In a replica's index, the revision after which the change log holds
/// every change (its snapshot's, or the newest it dropped); absent in an
/// embedded database, whose revisions have no gaps.
pub const LOG_FROM: &[u8] = b"_log_from";

/// In a replica's index, the revision of a snapshot still being loaded:
/// until it is in, the next start loads it again.
pub const SNAPSHOT_PENDING: &[u8] = b"_snapshot_pending";

/// Where a replica's index came from (`replica`): the etcd cluster id and
/// key prefix. Absent in an embedded database.
pub const ETCD_ORIGIN: &[u8] = b"_etcd_origin";

/// The families of pair-fact keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairFamily {
    History,
    Status,
    Treaty,
    Pending,
    Conflict,
    Meeting,
    Mediator,
    /// Mediators and facilitators with their periods (`g/`).
    Mediation,
    /// Recognition, representation and border facts (`e/`).
    Standing,
}

impl PairFamily {
    /// The families the relation cache mirrors.
    pub const CACHED: [PairFamily; 8] = [
        PairFamily::Status,
        PairFamily::Treaty,
        PairFamily::Pending,
        PairFamily::Conflict,
        PairFamily::Meeting,
        PairFamily::Mediator,
        PairFamily::Mediation,
        PairFamily::Standing,
    ];

    fn tag(self) -> &'static str {
        match self {
            PairFamily::History => "p",
            PairFamily::Status => "s",
            PairFamily::Treaty => "t",
            PairFamily::Pending => "u",
            PairFamily::Conflict => "c",
            PairFamily::Meeting => "m",
            PairFamily::Mediator => "d",
            PairFamily::Mediation => "g",
            PairFamily::Standing => "e",
        }
    }

    /// The cached family a key belongs to, if any.
    pub fn cached_of(key: &[u8]) -> Option<PairFamily> {
        let tag = key.get(..2)?;
        PairFamily::CACHED
            .into_iter()
            .find(|family| tag[0] == family.tag().as_bytes()[0] && tag[1] == b'/')
    }
}

/// `s/AMAZ/rest` (any pair family) → the pair and `rest`.
pub fn split_pair_key(key: &[u8]) -> Option<(CountryPair, &[u8])> {
    let after_tag = key.get(2..)?;
    let end = after_tag.iter().position(|b| *b == b'/')?;
    let pair = parse_pair_segment(std::str::from_utf8(&after_tag[..end]).ok()?)?;
    Some((pair, &after_tag[end + 1..]))
}

/// A pair as it stands in keys: `AMAZ` when both ids have two letters (the
/// only layout before ids of other lengths, so every older key keeps its
/// meaning), else the two ids joined by `+` (`CSHH+US`), which no id holds.
fn push_pair_segment(key: &mut String, pair: CountryPair) {
    key.push_str(pair.low().as_str());
    if pair.low().as_bytes().len() != 2 || pair.high().as_bytes().len() != 2 {
        key.push('+');
    }
    key.push_str(pair.high().as_str());
}

fn parse_pair_segment(segment: &str) -> Option<CountryPair> {
    let (low, high) = match segment.split_once('+') {
        Some((low, high)) => (low, high),
        None if segment.len() == 4 => segment.split_at_checked(2)?,
        None => return None,
    };
    let (low, high) = (CountryCode::parse(low)?, CountryCode::parse(high)?);
    // One layout per pair: two-letter pairs are never joined by `+`.
    let joined = segment.contains('+');
    let needs_join = low.as_bytes().len() != 2 || high.as_bytes().len() != 2;
    if joined != needs_join || low >= high {
        return None;
    }
    CountryPair::new(low, high)
}

/// Where the recognitions of `subject` (`countries/AM`, `actors/…`) start.
pub fn recognitions_of(subject: &str) -> Vec<u8> {
    format!("v/{subject}/").into_bytes()
}

pub const RECOGNITIONS: &[u8] = b"v/";

pub const RECORD_COUNTS: &[u8] = b"_count/";

/// How many records `collection` holds: kept by the writer, so that
/// `/metrics` does not scan every record.
pub fn record_count(collection: Collection) -> Vec<u8> {
    format!("_count/{}", collection.as_str()).into_bytes()
}

/// The `u/` family: treaties on the days they are not in force.
pub const PENDING: &[u8] = b"u/";

/// The `g/` family: mediations (schema 7).
pub const MEDIATIONS: &[u8] = b"g/";

/// The `a/` counts: how many records name each actor.
pub const ACTOR_REFCOUNTS: &[u8] = b"a/";

/// How many records name the actor `id` (u64).
pub fn actor_refcount(id: &str) -> Vec<u8> {
    format!("a/{id}").into_bytes()
}

/// Every record, of every collection.
pub const RECORDS: &[u8] = b"r/";

/// Prefixes of the derived (index) keys: what `check` recomputes.
pub const INDEX_PREFIXES: [&[u8]; 12] = [
    b"x/", b"h/", b"p/", b"s/", b"t/", b"u/", b"c/", b"m/", b"d/", b"g/", b"e/", b"v/",
];

pub fn record(collection: Collection, id: &str) -> Vec<u8> {
    format!("r/{}/{id}", collection.as_str()).into_bytes()
}

/// The collection and id a `r/{collection}/{id}` key names.
pub fn record_of_key(key: &[u8]) -> Option<(Collection, String)> {
    let rest = std::str::from_utf8(key.strip_prefix(RECORDS)?).ok()?;
    let (collection, id) = rest.split_once('/')?;
    let collection = Collection::ALL
        .into_iter()
        .find(|c| c.as_str() == collection)?;
    Some((collection, id.to_string()))
}

pub fn records_of(collection: Collection) -> Vec<u8> {
    format!("r/{}/", collection.as_str()).into_bytes()
}

/// The country a `r/countries/{CC}` key holds, if it is one.
pub fn country_of_record(key: &[u8]) -> Option<CountryCode> {
    key.strip_prefix(b"r/countries/".as_slice())
        .and_then(|id| std::str::from_utf8(id).ok())
        .and_then(CountryCode::parse)
}

pub const REFCOUNTS: &[u8] = b"n/";

pub fn refcount(code: CountryCode) -> Vec<u8> {
    format!("n/{code}").into_bytes()
}

pub fn principal(code: CountryCode, collection: Collection, id: &str) -> Vec<u8> {
    format!("x/{code}/{}/{id}", collection.as_str()).into_bytes()
}

pub fn principals_of(code: CountryCode, collection: Collection) -> Vec<u8> {
    format!("x/{code}/{}/", collection.as_str()).into_bytes()
}

pub fn country_history(code: CountryCode) -> Vec<u8> {
    format!("h/{code}/").into_bytes()
}

/// The partner count of `code` with `other` (kept in both directions, so
/// that either country's partners are one range).
pub fn partner(code: CountryCode, other: CountryCode) -> Vec<u8> {
    format!("q/{code}/{other}").into_bytes()
}

pub const PARTNERS: &[u8] = b"q/";

/// The pair a `q/{CC}/{OTHER}` key counts, when `CC` is its lower code
/// (`Some(None)` for the same count seen from the higher one); `None` if
/// the key is not a partner count.
pub fn pair_of_partner_count(key: &[u8]) -> Option<Option<CountryPair>> {
    let rest = std::str::from_utf8(key.strip_prefix(PARTNERS)?).ok()?;
    let (code, other) = rest.split_once('/')?;
    let (code, other) = (CountryCode::parse(code)?, CountryCode::parse(other)?);
    let pair = CountryPair::new(code, other)?;
    Some((pair.low() == code).then_some(pair))
}

pub fn partners_of(code: CountryCode) -> Vec<u8> {
    format!("q/{code}/").into_bytes()
}

/// Prefix of one pair's keys of one family: `s/AMAZ/`.
pub fn pair(family: PairFamily, pair: CountryPair) -> Vec<u8> {
    let mut key = String::with_capacity(2 + 2 * crate::domain::names::MAX_COUNTRY_ID + 2);
    key.push_str(family.tag());
    key.push('/');
    push_pair_segment(&mut key, pair);
    key.push('/');
    key.into_bytes()
}

/// Prefix of schema 1's meeting counters, removed when the schema moves on.
pub const OLD_MEETING_COUNTS: &[u8] = b"k/";

/// `prefix` + parts joined by `/`.
pub fn join(prefix: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(parts.join("/").as_bytes());
    key
}

/// What the `g/` keys of one mediator in one role share after the pair,
/// `{mediator}/{role}/`: its entries lie side by side, in date order.
pub fn mediation_group(mediator: &str, role: i32) -> Vec<u8> {
    format!("{mediator}/{role}/").into_bytes()
}

/// First key of `prefix` dated on or after `day`.
pub fn from_day(prefix: &[u8], day: Date) -> Vec<u8> {
    join(prefix, &[&day_key(day)])
}

/// Exclusive upper bound for keys of `prefix` dated on or before `day`.
pub fn after_day(prefix: &[u8], day: Date) -> Vec<u8> {
    let mut suffix = String::with_capacity(9);
    push_day_key(&mut suffix, day);
    // Precision digits are 0–2, so `9` sorts after every key of the day.
    suffix.push('9');
    let mut key = Vec::with_capacity(prefix.len() + suffix.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(suffix.as_bytes());
    key
}

/// Exclusive upper bound for every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    // Prefixes end in '/', and '/' + 1 = '0' sorts after every key below it.
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_record_key_names_its_country_and_no_other_key_does() {
        let fr = CountryCode::parse("FR").expect("FR is a country code");
        assert_eq!(
            country_of_record(&record(Collection::Countries, "FR")),
            Some(fr)
        );
        assert_eq!(country_of_record(&record(Collection::Events, "FR")), None);
        assert_eq!(country_of_record(&refcount(fr)), None);
        assert_eq!(country_of_record(b"r/countries/"), None);
    }

    #[test]
    fn a_partner_count_names_its_pair_from_the_lower_code_only() {
        let am = CountryCode::parse("AM").expect("AM is a country code");
        let az = CountryCode::parse("AZ").expect("AZ is a country code");
        let pair = CountryPair::new(am, az).expect("two countries");
        assert_eq!(pair_of_partner_count(&partner(am, az)), Some(Some(pair)));
        assert_eq!(pair_of_partner_count(&partner(az, am)), Some(None));
        assert_eq!(pair_of_partner_count(&refcount(am)), None);
        assert_eq!(pair_of_partner_count(b"q/AM/AM"), None);
    }

    #[test]
    fn a_pair_key_names_its_family_and_pair_and_every_family_is_an_index() {
        let am = CountryCode::parse("AM").expect("AM is a country code");
        let az = CountryCode::parse("AZ").expect("AZ is a country code");
        let amaz = CountryPair::new(am, az).expect("two countries");
        for family in PairFamily::CACHED {
            let mut key = pair(family, amaz);
            key.extend_from_slice(b"199101010/events/e1");
            assert_eq!(PairFamily::cached_of(&key), Some(family));
            assert_eq!(
                split_pair_key(&key),
                Some((amaz, b"199101010/events/e1".as_slice()))
            );
        }
        for family in PairFamily::CACHED.into_iter().chain([PairFamily::History]) {
            assert!(INDEX_PREFIXES.contains(&&pair(family, amaz)[..2]));
        }
        assert_eq!(
            PairFamily::cached_of(&pair(PairFamily::History, amaz)),
            None
        );
        assert_eq!(
            PairFamily::cached_of(&record(Collection::Events, "e1")),
            None
        );
        assert_eq!(split_pair_key(b"s/AMA/"), None);
        assert_eq!(split_pair_key(b"s/AM+AZ/1"), None, "one layout per pair");
        assert_eq!(split_pair_key(b"s/AZAM/1"), None, "pairs are in id order");
    }

    #[test]
    fn pairs_with_longer_ids_join_them_and_two_letter_pairs_keep_their_old_keys() {
        let id = |s: &str| CountryCode::parse(s).expect(s);
        let amaz = CountryPair::new(id("AM"), id("AZ")).expect("two countries");
        assert_eq!(pair(PairFamily::Status, amaz), b"s/AMAZ/");
        for (a, b, key) in [
            ("CSHH", "US", "s/CSHH+US/"),
            ("AM", "cow-han", "s/AM+cow-han/"),
            ("SUHH", "cow-rus", "s/SUHH+cow-rus/"),
        ] {
            let both = CountryPair::new(id(a), id(b)).expect("two countries");
            assert_eq!(pair(PairFamily::Status, both), key.as_bytes());
            let mut full = pair(PairFamily::Mediator, both);
            full.extend_from_slice(b"FR/199101010/events/e1");
            assert_eq!(
                split_pair_key(&full),
                Some((both, b"FR/199101010/events/e1".as_slice()))
            );
        }
    }
}
