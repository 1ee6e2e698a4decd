//! Deterministic random choices for the harnesses that start real processes
//! (`tests/crash/`, `tests/replica/`), so that a failing seed can be rerun.

/// A small xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A day from `first_year` on, within `years` years.
    pub fn date(
        &mut self,
        first_year: i32,
        years: u64,
    ) -> Option<diplomacy::pb::google::r#type::Date> {
        Some(diplomacy::pb::google::r#type::Date {
            year: first_year + self.below(years) as i32,
            month: 1 + self.below(12) as i32,
            day: 1 + self.below(28) as i32,
        })
    }

    /// Two different names from `countries`, as `countries/XX`.
    pub fn pair(&mut self, countries: &[&str]) -> (String, String) {
        let n = countries.len() as u64;
        let a = self.below(n) as usize;
        let b = (a + 1 + self.below(n - 1) as usize) % countries.len();
        (
            format!("countries/{}", countries[a]),
            format!("countries/{}", countries[b]),
        )
    }
}
