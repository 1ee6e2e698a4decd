//! Where an import's records come from: a source read in order, any number
//! of times, and the lines of it that are not records.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::records::Record;

/// A line of an import that cannot be used, and why.
#[derive(Debug)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub error: Error,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// One record of a source, or the line that could not be read as one.
pub type Item<'a> = std::result::Result<Cow<'a, Record>, LineError>;

/// Where an import's records come from, in order. `read` starts over each
/// time it is called.
pub trait Source: Sync {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>>;
}

/// Records already in memory (an `ImportRecords` call).
impl Source for Vec<Record> {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>> {
        Ok(Box::new(
            self.iter().map(|record| Ok(Cow::Borrowed(record))),
        ))
    }
}
