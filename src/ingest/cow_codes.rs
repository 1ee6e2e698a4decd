//! Which country holds a Correlates of War code on a date, from the
//! countries' COW memberships: built once for a file whose rows name the
//! same states again and again (UCDP, the Diplomatic Exchange data).

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::PartialDate;
use crate::pb::diplomacy::v1 as pb;
use crate::records::codes::{code_pieces, CodePiece, CodeScheme};

/// The countries that hold each COW code, and when.
pub struct CowCodes(BTreeMap<i32, Vec<(String, CodePiece)>>);

impl CowCodes {
    pub fn of(countries: &[pb::Country]) -> Self {
        let mut holders: BTreeMap<i32, Vec<(String, CodePiece)>> = BTreeMap::new();
        for country in countries {
            let codes: BTreeSet<i32> = country.cow_memberships.iter().map(|m| m.ccode).collect();
            for code in codes {
                for piece in code_pieces(country, CodeScheme::CowCode, &code.to_string()) {
                    holders
                        .entry(code)
                        .or_default()
                        .push((country.name.clone(), piece));
                }
            }
        }
        CowCodes(holders)
    }

    /// The country (`countries/…`) that holds COW code `code` on `date`
    /// (for a partial date, on some day of it).
    pub fn holder(&self, code: i64, date: PartialDate) -> Option<&str> {
        i32::try_from(code)
            .ok()
            .and_then(|code| self.0.get(&code))
            .and_then(|holders| holders.iter().find(|(_, piece)| piece.overlaps(date)))
            .map(|(name, _)| name.as_str())
    }
}
