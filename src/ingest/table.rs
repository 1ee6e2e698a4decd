//! Published CSV files read by column name, as their publishers distribute
//! them: the header checked before any row (a byte-order mark, quotes and
//! any column order taken as they come), and whole numbers as they are
//! written (`1816.0`).

use std::collections::BTreeMap;
use std::io::Read;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::source::LineError;
use crate::error::{Error, FieldViolation, Result};

/// An `INVALID_ARGUMENT` naming one field (`header`, `line 12: ccode`).
pub fn bad(field: impl Into<String>, description: impl Into<String>) -> Error {
    Error::InvalidArgument(vec![FieldViolation::new(field, description)])
}

/// A CSV reader over `input` and where each of `columns` stands in it. A
/// header that lacks any of them is refused, naming the file (`what`) and
/// every expected column.
pub fn read_columns<R: Read>(
    input: R,
    columns: &[&'static str],
    what: &str,
) -> Result<(csv::Reader<R>, BTreeMap<&'static str, usize>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| bad("header", format!("cannot read the header: {e}")))?
        .clone();
    let position = |column: &str| {
        headers.iter().position(|h| {
            h.trim_start_matches('\u{feff}')
                .trim_matches('"')
                .eq_ignore_ascii_case(column)
        })
    };
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| position(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            "header",
            format!(
                "not {what} file: the header lacks {}; expected the columns {}",
                missing.join(", "),
                columns.join(",")
            ),
        ));
    }
    let at = columns
        .iter()
        .filter_map(|c| Some((*c, position(c)?)))
        .collect();
    Ok((reader, at))
}

/// A whole number as publishers write it, floats such as `333.0` included;
/// errors name the line and column.
pub fn whole(text: &str, line: usize, column: &str) -> Result<i64> {
    let value: f64 = text.trim().parse().map_err(|_| {
        bad(
            format!("line {line}: {column}"),
            format!("{text:?} is not a number"),
        )
    })?;
    if value.fract() != 0.0 {
        return Err(bad(
            format!("line {line}: {column}"),
            format!("{text:?} is not a whole number"),
        ));
    }
    Ok(value as i64)
}

/// Opens a published file for reading.
pub fn open(path: &std::path::Path) -> Result<std::io::BufReader<std::fs::File>> {
    std::fs::File::open(path)
        .map(|f| std::io::BufReader::with_capacity(1 << 20, f))
        .map_err(|e| Error::Unavailable(format!("cannot read {}: {e}", path.display())))
}

/// What one read of a file met: its rows, and with `--best-effort` the bad
/// rows set aside (line and reason) rather than refusing the import.
pub struct RowLog {
    best_effort: bool,
    rows: AtomicUsize,
    skipped: Mutex<Vec<LineError>>,
}

impl RowLog {
    pub fn new(best_effort: bool) -> Self {
        Self {
            best_effort,
            rows: AtomicUsize::new(0),
            skipped: Mutex::new(Vec::new()),
        }
    }

    /// Starts a new read.
    pub fn clear(&self) {
        self.rows.store(0, Ordering::Relaxed);
        if let Ok(mut skipped) = self.skipped.lock() {
            skipped.clear();
        }
    }

    pub fn read_one(&self) {
        self.rows.fetch_add(1, Ordering::Relaxed);
    }

    /// A bad row: set aside with `--best-effort` (`None`), else the error
    /// that refuses the import.
    pub fn set_aside(&self, line: usize, error: Error) -> Option<LineError> {
        if !self.best_effort {
            return Some(LineError { line, error });
        }
        if let Ok(mut skipped) = self.skipped.lock() {
            skipped.push(LineError { line, error });
        }
        None
    }

    pub fn rows(&self) -> usize {
        self.rows.load(Ordering::Relaxed)
    }

    /// The rows set aside, each as `line N: reason`.
    pub fn skipped(&self) -> Vec<String> {
        self.skipped
            .lock()
            .map(|rows| rows.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }
}
