//! Published CSV files read by column name, as their publishers distribute
//! them: the header checked before any row (a byte-order mark, quotes and
//! any column order taken as they come), and whole numbers as they are
//! written (`1816.0`).

use std::collections::BTreeMap;
use std::io::Read;

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
