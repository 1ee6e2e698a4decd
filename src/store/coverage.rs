//! How many of a set of day spans cover a given day, in two binary searches.
//!
//! A busy pair has thousands of treaties and conflicts; counting those in
//! force on a day by testing each made a relation's cost grow with the
//! pair's history. Every kept span has started before it ends, so the spans
//! covering `day` are those started by then minus those ended by then.

use time::Date;

use super::sorted::buffer;
use crate::domain::relation::DaySpan;

/// A multiset of day spans, kept as sorted starts and sorted ends.
#[derive(Default)]
pub struct Coverage {
    starts: Vec<Date>,
    ends: Vec<Date>,
}

impl Coverage {
    /// Adds a span (an empty one covers nothing and is not kept).
    pub fn insert(&mut self, span: DaySpan) {
        if span.is_empty() {
            return;
        }
        insert_sorted(&mut self.starts, span.start);
        if let Some(end) = span.end {
            insert_sorted(&mut self.ends, end);
        }
    }

    /// Removes a span added before (its twin, when it was added twice).
    pub fn remove(&mut self, span: DaySpan) {
        if span.is_empty() {
            return;
        }
        remove_sorted(&mut self.starts, span.start);
        if let Some(end) = span.end {
            remove_sorted(&mut self.ends, end);
        }
    }

    /// Heap bytes of its two buffers.
    pub fn heap_bytes(&self) -> usize {
        buffer(&self.starts) + buffer(&self.ends)
    }

    pub fn shrink_to_fit(&mut self) {
        self.starts.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// How many spans contain `day`.
    pub fn covering(&self, day: Date) -> usize {
        let started = self.starts.partition_point(|start| *start <= day);
        let ended = self.ends.partition_point(|end| *end <= day);
        started.saturating_sub(ended)
    }
}

fn insert_sorted(days: &mut Vec<Date>, day: Date) {
    let at = days.partition_point(|d| *d <= day);
    days.insert(at, day);
}

fn remove_sorted(days: &mut Vec<Date>, day: Date) {
    if let Ok(at) = days.binary_search(&day) {
        days.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day(n: i32) -> Date {
        Date::from_julian_day(2_440_000 + n).expect("day")
    }

    fn span() -> impl Strategy<Value = DaySpan> {
        (0..60i32, proptest::option::of(0..60i32)).prop_map(|(start, end)| DaySpan {
            start: day(start),
            end: end.map(day),
        })
    }

    proptest! {
        /// After any inserts and removals, the count on every day is what
        /// testing each remaining span gives.
        #[test]
        fn counts_what_testing_each_span_counts(
            added in proptest::collection::vec(span(), 0..40),
            removed in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
        ) {
            let mut coverage = Coverage::default();
            for span in &added {
                coverage.insert(*span);
            }
            let mut kept = added.clone();
            for index in removed {
                if kept.is_empty() {
                    break;
                }
                let span = kept.remove(index.index(kept.len()));
                coverage.remove(span);
            }
            for n in -1..62 {
                let expected = kept.iter().filter(|span| span.contains(day(n))).count();
                prop_assert_eq!(coverage.covering(day(n)), expected, "day {}", n);
            }
        }
    }
}
