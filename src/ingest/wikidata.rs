//! Wikidata's "diplomatic relation" statements (P530) with their start and
//! end qualifiers (P580, P582), as the JSON results of the SPARQL query the
//! README gives (its variable names are fixed here: `VARIABLES`).
//!
//! - Countries are matched by Wikidata id: a country whose `wikidata_id`
//!   is that item, else the country whose id is the item's ISO 3166-1
//!   alpha-2 code (P297) in the results, which then gets the item as its
//!   `wikidata_id` (Wikidata being the source of that link). A statement
//!   naming an item no country matches is passed over and counted.
//! - A start becomes `events/wikidata-{qlow}-{qhigh}-established-{date}`
//!   (RELATIONS_ESTABLISHED), an end `…-ended-{date}` (RELATIONS_SEVERED:
//!   the statement's end, which may also mark a state's end), each at the
//!   precision Wikidata gives (11 day, 10 month, 9 year; coarser dates are
//!   passed over and counted). A statement recorded on both items gives its
//!   records once. Importing the file twice changes nothing.
//! - The file is read twice, one result at a time: once when opened, to
//!   check it and link the countries, and again for each read of the
//!   import, on a thread that hands over each record as it is made.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::source::{Item, LineError, Source};
use super::sparql_json::{for_each_binding, Binding, ReadError};
use super::table::{bad, open};
use crate::convert::date_to_pb;
use crate::domain::{CountryCode, PartialDate};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

/// The variables the query binds (the optional ones may be unbound).
pub const VARIABLES: [&str; 8] = [
    "country",
    "countryIso",
    "partner",
    "partnerIso",
    "start",
    "startPrecision",
    "end",
    "endPrecision",
];

/// What the last read of the file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WikidataSummary {
    pub statements: usize,
    /// Countries that get their Wikidata id from this file.
    pub linked: usize,
    /// Statements naming an item that matches no country.
    pub unmatched: usize,
    /// Dates coarser than a year (decades, centuries).
    pub too_coarse: usize,
    /// Statements with neither start nor end.
    pub undated: usize,
    /// Bad results left out (`--best-effort`), each with its number and
    /// reason.
    pub skipped: Vec<String>,
}

/// `http://www.wikidata.org/entity/Q399` → `Q399`.
fn item_id(uri: &str) -> Option<&str> {
    let id = uri.rsplit('/').next()?;
    (id.len() > 1 && id.starts_with('Q') && id[1..].bytes().all(|b| b.is_ascii_digit()))
        .then_some(id)
}

/// A Wikidata time at its precision: `None` when coarser than a year.
fn wikidata_date(
    value: &str,
    precision: &str,
    row: usize,
    field: &str,
) -> Result<Option<PartialDate>> {
    let whole = |text: &str| text.parse::<i64>().ok();
    let precision = whole(precision.trim()).ok_or_else(|| {
        bad(
            format!("result {row}: {field}Precision"),
            format!("{precision:?} is not a Wikidata time precision"),
        )
    })?;
    // `1992-01-14T00:00:00Z`, or `+1992-01-14T00:00:00Z` as Wikidata writes it.
    let date = value.trim_start_matches('+');
    let date = date.split('T').next().unwrap_or_default();
    let mut parts = date.split('-').map(whole);
    let (Some(Some(year)), Some(Some(month)), Some(Some(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(
            format!("result {row}: {field}"),
            format!("{value:?} is not a Wikidata time (YYYY-MM-DDT00:00:00Z)"),
        ));
    };
    let kept = match precision {
        11 => PartialDate::from_parts(year, month, day),
        10 => PartialDate::from_parts(year, month, 0),
        9 => PartialDate::from_parts(year, 0, 0),
        _ => return Ok(None),
    };
    kept.map(Some)
        .map_err(|e| bad(format!("result {row}: {field}"), e.to_string()))
}

/// A result's items and dates, checked before any of it is used, so that a
/// bad result is left out whole.
fn check_binding(binding: &Binding, row: usize) -> Result<()> {
    for item in ["country", "partner"] {
        if binding.get(item).and_then(|t| item_id(&t.value)).is_none() {
            return Err(bad(
                format!("result {row}: {item}"),
                "is not a Wikidata item (http://www.wikidata.org/entity/Q…)",
            ));
        }
    }
    for field in ["start", "end"] {
        if let Some(value) = binding.get(field) {
            let precision = binding
                .get(&format!("{field}Precision"))
                .map_or("11", |t| t.value.as_str());
            wikidata_date(&value.value, precision, row, field)?;
        }
    }
    Ok(())
}

fn header_error(detail: String) -> Error {
    bad(
        "header",
        format!(
            "not the results of the README's P530 query ({detail}); expected the variables {}",
            VARIABLES.join(", ")
        ),
    )
}

/// Refuses results whose variables are not the query's.
fn check_variables(vars: &[String]) -> Result<()> {
    let missing: Vec<&str> = VARIABLES
        .iter()
        .copied()
        .filter(|v| !vars.iter().any(|have| have == v))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(header_error(format!(
            "the variables lack {}",
            missing.join(", ")
        )))
    }
}

fn read_error(error: ReadError<Error>) -> Error {
    match error {
        ReadError::Callback(error) => error,
        ReadError::Json(e) => header_error(format!("not SPARQL JSON results: {e}")),
    }
}

/// Which country an item is: the countries linked before and by this file.
struct Items {
    /// Wikidata id → country name.
    by_item: BTreeMap<String, String>,
}

impl Items {
    fn country(&self, binding: &Binding, item: &str) -> Option<(String, String)> {
        let id = binding.get(item).and_then(|t| item_id(&t.value))?;
        let name = self.by_item.get(id)?;
        Some((id.to_owned(), name.clone()))
    }
}

/// A P530 results file with its countries linked. Each `read` streams it
/// again.
pub struct WikidataFile {
    path: PathBuf,
    best_effort: bool,
    items: Arc<Items>,
    /// Countries that get their Wikidata id from this file, as records.
    linked: Vec<pb::Country>,
    summary: Arc<Mutex<WikidataSummary>>,
}

impl WikidataFile {
    /// Reads `path` once: checks its variables and results (a bad result
    /// refuses the file, or with `best_effort` is left out) and links the
    /// items to `countries`.
    pub fn open(path: &Path, countries: &[pb::Country], best_effort: bool) -> Result<Self> {
        let mut by_item: BTreeMap<String, String> = countries
            .iter()
            .filter(|c| !c.wikidata_id.is_empty())
            .map(|c| (c.wikidata_id.clone(), c.name.clone()))
            .collect();
        let by_code: BTreeMap<CountryCode, &pb::Country> = countries
            .iter()
            .filter_map(|c| Some((CountryCode::from_name(&c.name)?, c)))
            .collect();
        let mut linked: BTreeMap<String, pb::Country> = BTreeMap::new();
        let vars = for_each_binding(open(path)?, |row, vars, binding| {
            if row == 1 {
                check_variables(vars)?;
            }
            if let Err(error) = check_binding(&binding, row) {
                return if best_effort { Ok(()) } else { Err(error) };
            }
            for (item, iso) in [("country", "countryIso"), ("partner", "partnerIso")] {
                let Some(id) = binding.get(item).and_then(|t| item_id(&t.value)) else {
                    continue;
                };
                if by_item.contains_key(id) {
                    continue;
                }
                let country = binding
                    .get(iso)
                    .and_then(|t| CountryCode::parse(&t.value))
                    .and_then(|code| by_code.get(&code))
                    .filter(|c| c.wikidata_id.is_empty() && !linked.contains_key(&c.name));
                if let Some(country) = country {
                    let mut country = (*country).clone();
                    country.wikidata_id = id.to_owned();
                    country.sources.push(pb::Source {
                        title: "Wikidata: the item with this ISO 3166-1 alpha-2 code (P297)".into(),
                        publisher: "Wikidata (CC0)".into(),
                        url: format!("https://www.wikidata.org/wiki/{id}"),
                        ..Default::default()
                    });
                    by_item.insert(id.to_owned(), country.name.clone());
                    linked.insert(country.name.clone(), country);
                }
            }
            Ok(())
        })
        .map_err(read_error)?;
        check_variables(&vars)?;
        Ok(Self {
            path: path.to_owned(),
            best_effort,
            items: Arc::new(Items { by_item }),
            linked: linked.into_values().collect(),
            summary: Arc::default(),
        })
    }

    pub fn summary(&self) -> WikidataSummary {
        self.summary.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The records of one result: its start and end, each once over the file
/// (`made`).
fn statement_records(
    binding: &Binding,
    items: &Items,
    made: &mut HashSet<String>,
    summary: &mut WikidataSummary,
) -> Vec<Record> {
    let (Some(a), Some(b)) = (
        items.country(binding, "country"),
        items.country(binding, "partner"),
    ) else {
        summary.unmatched += 1;
        return Vec::new();
    };
    if a.1 == b.1 {
        return Vec::new();
    }
    let (low, high) = if a.0 < b.0 { (a, b) } else { (b, a) };
    let mut records = Vec::new();
    let mut dated = false;
    for (kind, field, label) in [
        (pb::EventKind::RelationsEstablished, "start", "established"),
        (pb::EventKind::RelationsSevered, "end", "ended"),
    ] {
        let Some(value) = binding.get(field) else {
            continue;
        };
        dated = true;
        let precision = binding
            .get(&format!("{field}Precision"))
            .map_or("11", |t| t.value.as_str());
        // Checked when the file was opened.
        let Ok(Some(date)) = wikidata_date(&value.value, precision, 0, field) else {
            summary.too_coarse += 1;
            continue;
        };
        // `19920114`, `199201` or `1992`: the date at its precision.
        let name = format!(
            "events/wikidata-{}-{}-{label}-{}",
            low.0.to_lowercase(),
            high.0.to_lowercase(),
            date.to_string().replace('-', "")
        );
        if !made.insert(name.clone()) {
            continue;
        }
        let (qualifier, word) = if field == "start" {
            ("start time (P580)", "from")
        } else {
            ("end time (P582)", "until")
        };
        records.push(Record::Event(pb::Event {
            name,
            title: format!("Diplomatic relations {label} ({}, {})", low.0, high.0),
            kind: kind as i32,
            start_date: Some(date_to_pb(date)),
            actor: low.1.clone(),
            counterparts: vec![high.1.clone()],
            summary: format!(
                "Wikidata: the diplomatic relation (P530) of {} and {}, {qualifier}: {word} {date}.",
                low.0, high.0
            ),
            sources: vec![pb::Source {
                title: format!("Wikidata, diplomatic relation (P530) of {} and {}", low.0, high.0),
                publisher: "Wikidata (CC0)".into(),
                url: format!("https://www.wikidata.org/wiki/{}#P530", low.0),
                note: format!(
                    "The statement of {} naming {} (or the reverse), with its start time (P580) and end time (P582) qualifiers.",
                    low.0, high.0
                ),
                ..Default::default()
            }],
            ..Default::default()
        }));
    }
    if !dated {
        summary.undated += 1;
    }
    records
}

/// Records handed over ahead of the import before the reading thread waits.
const AHEAD: usize = 256;

impl Source for WikidataFile {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>> {
        let input = open(&self.path)?;
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Item<'static>>(AHEAD);
        let items = Arc::clone(&self.items);
        let shared = Arc::clone(&self.summary);
        let linked = self.linked.clone();
        let best_effort = self.best_effort;
        std::thread::spawn(move || {
            let mut summary = WikidataSummary {
                linked: linked.len(),
                ..Default::default()
            };
            for country in linked {
                if sender
                    .send(Ok(Cow::Owned(Record::Country(country))))
                    .is_err()
                {
                    return;
                }
            }
            let mut made = HashSet::new();
            let outcome = for_each_binding(input, |row, _, binding| {
                summary.statements += 1;
                if let Err(error) = check_binding(&binding, row) {
                    // Only with --best-effort: otherwise opening refused it.
                    debug_assert!(best_effort);
                    summary.skipped.push(error.to_string());
                    return Ok::<(), Error>(());
                }
                for record in statement_records(&binding, &items, &mut made, &mut summary) {
                    sender
                        .send(Ok(Cow::Owned(record)))
                        .map_err(|_| Error::Unavailable("the import stopped reading".into()))?;
                }
                Ok(())
            });
            if let Err(ReadError::Json(e)) = outcome {
                let error = header_error(format!("not SPARQL JSON results: {e}"));
                let _ = sender.send(Err(LineError { line: 0, error }));
            }
            if let Ok(mut shared) = shared.lock() {
                *shared = summary;
            }
        });
        Ok(Box::new(receiver.into_iter().map(borrowed)))
    }
}

/// An owned item as the shorter-lived one `Source::read` yields.
fn borrowed<'a>(item: Item<'static>) -> Item<'a> {
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_the_precision_wikidata_gives() {
        let cases = [
            ("1992-01-14T00:00:00Z", "11", Some("1992-01-14")),
            ("+1992-01-01T00:00:00Z", "10", Some("1992-01")),
            ("1902-01-01T00:00:00Z", "9", Some("1902")),
            ("1990-01-01T00:00:00Z", "8", None),
        ];
        for (value, precision, expected) in cases {
            let date = wikidata_date(value, precision, 1, "start").expect(value);
            assert_eq!(
                date.map(|d| d.to_string()).as_deref(),
                expected,
                "{value} {precision}"
            );
        }
        assert!(wikidata_date("1992-02-30T00:00:00Z", "11", 3, "end").is_err());
        assert_eq!(item_id("http://www.wikidata.org/entity/Q399"), Some("Q399"));
        assert_eq!(item_id("http://www.wikidata.org/entity/P530"), None);
    }
}
