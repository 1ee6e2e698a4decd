//! Resource names (AIP-122): parsing and formatting in one place.

use std::fmt;

/// An ISO 3166-1 alpha-2 style country code: two upper-case ASCII letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a bare code such as `TR`.
    pub fn parse(code: &str) -> Option<Self> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Some(Self([*a, *b])),
            _ => None,
        }
    }

    /// Parses a resource name such as `countries/TR`.
    pub fn from_name(name: &str) -> Option<Self> {
        name.strip_prefix("countries/").and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The resource name: `countries/TR`.
    pub fn name(&self) -> String {
        self.static_name().to_owned()
    }

    /// The resource name, from a table made at compile time: a busy pair's
    /// relation names every country as a mediator, and making each name
    /// showed in the profile of building one.
    pub fn static_name(&self) -> &'static str {
        let [a, b] = self.0;
        let at = usize::from(a.wrapping_sub(b'A')) * 26 + usize::from(b.wrapping_sub(b'A'));
        COUNTRY_NAMES
            .get(at)
            .and_then(|name| std::str::from_utf8(name).ok())
            .unwrap_or("countries/??")
    }
}

/// `countries/AA` to `countries/ZZ`, in code order.
static COUNTRY_NAMES: [[u8; 12]; 26 * 26] = country_names();

const fn country_names() -> [[u8; 12]; 26 * 26] {
    let mut names = [*b"countries/AA"; 26 * 26];
    let mut at = 0;
    while at < names.len() {
        names[at][10] = b'A' + (at / 26) as u8;
        names[at][11] = b'A' + (at % 26) as u8;
        at += 1;
    }
    names
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unordered pair of two different countries, kept in code order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryPair {
    low: CountryCode,
    high: CountryCode,
}

impl CountryPair {
    /// `None` when both codes are the same: a country has no relation with itself.
    pub fn new(a: CountryCode, b: CountryCode) -> Option<Self> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self { low: a, high: b }),
            std::cmp::Ordering::Greater => Some(Self { low: b, high: a }),
            std::cmp::Ordering::Equal => None,
        }
    }

    pub fn low(&self) -> CountryCode {
        self.low
    }

    pub fn high(&self) -> CountryCode {
        self.high
    }

    pub fn contains(&self, code: CountryCode) -> bool {
        self.low == code || self.high == code
    }
}

/// Why a relation name is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairNameError {
    Malformed,
    SameCountry,
}

/// Parses `countries/{a}/relations/{b}`; the result keeps the order as given.
pub fn parse_relation_name(name: &str) -> Result<(CountryCode, CountryCode), PairNameError> {
    let rest = name
        .strip_prefix("countries/")
        .ok_or(PairNameError::Malformed)?;
    let (a, b) = rest
        .split_once("/relations/")
        .ok_or(PairNameError::Malformed)?;
    let a = CountryCode::parse(a).ok_or(PairNameError::Malformed)?;
    let b = CountryCode::parse(b).ok_or(PairNameError::Malformed)?;
    if a == b {
        return Err(PairNameError::SameCountry);
    }
    Ok((a, b))
}

/// The four record collections and their resource-name prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collection {
    Countries,
    Treaties,
    Meetings,
    Events,
}

impl Collection {
    pub const ALL: [Collection; 4] = [
        Collection::Countries,
        Collection::Treaties,
        Collection::Meetings,
        Collection::Events,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Collection::Countries => "countries",
            Collection::Treaties => "treaties",
            Collection::Meetings => "meetings",
            Collection::Events => "events",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Checks a record id (AIP-122): 1 to 63 of `[a-z0-9-]`, starting with a
/// letter, not ending with a hyphen.
pub fn is_valid_record_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Splits `treaties/t01` into its collection and id, checking both.
pub fn parse_record_name(name: &str) -> Option<(Collection, &str)> {
    let (collection, id) = name.split_once('/')?;
    let collection = Collection::parse(collection)?;
    let valid = match collection {
        Collection::Countries => CountryCode::parse(id).is_some(),
        _ => is_valid_record_id(id),
    };
    valid.then_some((collection, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert_eq!(
            CountryCode::from_name("countries/TR").map(|c| c.name()),
            Some("countries/TR".into())
        );
        for bad in [
            "countries/tr",
            "countries/TUR",
            "countries/",
            "TR",
            "countries/T1",
            "countries/ÄB",
        ] {
            assert_eq!(CountryCode::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_code_has_its_name_in_the_table() {
        for a in 'A'..='Z' {
            for b in 'A'..='Z' {
                let code = CountryCode::parse(&format!("{a}{b}")).expect("a code");
                assert_eq!(code.static_name(), format!("countries/{a}{b}"));
                assert_eq!(CountryCode::from_name(code.static_name()), Some(code));
            }
        }
    }

    #[test]
    fn pairs_are_unordered() {
        let (tr, am) = parse_relation_name("countries/TR/relations/AM").unwrap();
        assert_eq!(CountryPair::new(tr, am), CountryPair::new(am, tr));
        assert_eq!(
            parse_relation_name("countries/TR/relations/TR"),
            Err(PairNameError::SameCountry)
        );
        assert_eq!(
            parse_relation_name("countries/TR/relation/AM"),
            Err(PairNameError::Malformed)
        );
    }

    #[test]
    fn record_ids_follow_aip_122() {
        assert!(is_valid_record_id("t01"));
        assert!(is_valid_record_id("zurich-protocols"));
        for bad in ["", "1abc", "Abc", "a_b", "a-", &"a".repeat(64)] {
            assert!(!is_valid_record_id(bad), "{bad}");
        }
        assert_eq!(
            parse_record_name("treaties/t01"),
            Some((Collection::Treaties, "t01"))
        );
        assert_eq!(
            parse_record_name("countries/TR"),
            Some((Collection::Countries, "TR"))
        );
        assert_eq!(parse_record_name("treaties/T01"), None);
        assert_eq!(parse_record_name("things/t01"), None);
    }
}
