//! What the relation cache keeps of a pair's mediators (`d/`) and
//! mediations (`g/`) beyond the entries themselves, shaped for the two
//! questions every relation asks of a busy pair: which of hundreds of
//! mediators have an entry in a period, and which mediations are active on
//! a day, listed as the answer lists them.

use prost::Message;

use crate::convert::mediation_to_pb;
use crate::domain::mediation::{MediationSpan, MediationSummary};
use crate::store::sorted::{allocation, buffer, SortedMap};

/// One mediator's entries of the pair (`d/`), keyed `{date}/{record}`, with
/// the day of each as a number in order beside them: a busy pair's call asks
/// hundreds of mediators whether one falls in a period, and comparing keys
/// was a tenth of that call.
#[derive(Default)]
pub struct MediatorEntries {
    keys: SortedMap<()>,
    /// Each key's day (`day_number`), sorted; a day repeats once a key.
    days: Vec<u32>,
}

impl MediatorEntries {
    /// The day an entry keyed `{date}/{record}` is dated (`day_number`).
    pub(super) fn day_of(rest: &[u8]) -> Option<u32> {
        let digits = rest.get(..8)?;
        digits.iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    }

    /// Adds the entry keyed `rest`, dated `day`; the bytes it takes (none
    /// when it was there).
    pub(super) fn insert(&mut self, rest: &[u8], day: u32) -> usize {
        if self.keys.insert(rest.into(), ()).is_some() {
            return 0;
        }
        // Loading gives them in order: the search ends at the end.
        let at = self.days.partition_point(|d| *d <= day);
        self.days.insert(at, day);
        allocation(rest.len())
    }

    /// Removes the entry keyed `rest`; the bytes it took.
    pub(super) fn remove(&mut self, rest: &[u8]) -> usize {
        if self.keys.remove(rest).is_none() {
            return 0;
        }
        if let Some(at) = Self::day_of(rest).and_then(|day| self.days.binary_search(&day).ok()) {
            self.days.remove(at);
        }
        allocation(rest.len())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether one entry is dated from `from` (`None`: any) to `last`.
    pub(super) fn any_within(&self, from: Option<u32>, last: u32) -> bool {
        let at = from.map_or(0, |from| self.days.partition_point(|d| *d < from));
        self.days.get(at).is_some_and(|day| *day <= last)
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.days.shrink_to_fit();
    }

    pub(super) fn buffer_bytes(&self) -> usize {
        self.keys.buffer_bytes() + buffer(&self.days)
    }
}

/// A day as the number its key's digits spell (`YYYYMMDD`): ordered as the
/// keys are. Days outside the years 0–9999, which no key holds, go to the
/// nearer end.
pub(super) fn day_number(day: time::Date) -> u32 {
    match u32::try_from(day.year()) {
        Ok(year) if year <= 9999 => {
            year * 10_000 + u32::from(u8::from(day.month())) * 100 + u32::from(day.day())
        }
        Ok(_) => u32::MAX,
        Err(_) => 0,
    }
}

/// One mediator's mediation of the pair in one role, summed up, with what
/// the BASIC view sends of it kept encoded (as `CachedTreaty`'s summary): a
/// busy pair lists a hundred on each call, and building and encoding them
/// was most of that call's own work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedMediation {
    /// Where its spans are keyed (`keys::mediation_group`).
    pub group: Box<[u8]>,
    pub summary: MediationSummary,
    /// An encoded `pb::Mediation` that lists the summary's `ends`.
    pub basic: Box<[u8]>,
}

impl CachedMediation {
    pub fn new(group: &[u8], summary: MediationSummary) -> Self {
        Self {
            group: group.into(),
            basic: Self::encoded(&summary),
            summary,
        }
    }

    /// Takes in the next span of its mediator and role, in date order.
    pub(super) fn add(&mut self, span: &MediationSpan) {
        self.summary.add(span);
        self.basic = Self::encoded(&self.summary);
    }

    fn encoded(summary: &MediationSummary) -> Box<[u8]> {
        mediation_to_pb(summary.mediation(summary.ends()))
            .encode_to_vec()
            .into_boxed_slice()
    }

    pub(super) fn owned_bytes(&self) -> usize {
        allocation(self.group.len())
            + allocation(self.basic.len())
            + self
                .summary
                .texts()
                .iter()
                .map(|text| allocation(text.capacity()))
                .sum::<usize>()
    }
}
