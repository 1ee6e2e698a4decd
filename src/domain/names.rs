//! Resource names (AIP-122): parsing and formatting in one place.

use std::borrow::Cow;
use std::fmt;

/// The longest country id: `cow-` and a COW abbreviation is 7 bytes, a
/// local id may use up to this many.
pub const MAX_COUNTRY_ID: usize = 15;

/// A country id, the `{id}` of `countries/{id}`, in one of three forms that
/// cannot be mistaken for one another:
/// - two upper-case letters: an ISO 3166-1 alpha-2 code (`TR`), and the
///   codes of former states that held one before this service had other
///   forms (`SU`, `YU`, `DD`), which stay their ids;
/// - four upper-case letters: an ISO 3166-3 code of a former state whose
///   alpha-2 code went to another country (`CSHH`, Czechoslovakia);
/// - lower case with a hyphen, 5 to 15 of `[a-z0-9-]`: a state with no ISO
///   code, as `cow-` and its Correlates of War abbreviation (`cow-han`,
///   Hanover). Lower case keeps COW's three letters apart from ISO alpha-3,
///   with which they collide (AUS: Austria in COW, Australia in ISO).
///
/// Held inline, so that it stays `Copy` like the two bytes it used to be.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode {
    len: u8,
    bytes: [u8; MAX_COUNTRY_ID],
}

/// The id forms, for error messages.
pub const COUNTRY_ID_FORMS: &str = "an upper-case ISO 3166-1 alpha-2 code (`TR`), an ISO 3166-3 code of a former state (`CSHH`), or a lower-case id with a hyphen (`cow-han`)";

/// Which of the three forms an id has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountryIdForm {
    Alpha2,
    Iso3166Part3,
    Local,
}

impl CountryCode {
    /// Parses a bare id such as `TR`, `CSHH` or `cow-han`.
    pub fn parse(id: &str) -> Option<Self> {
        Self::form_of(id)?;
        let mut bytes = [0; MAX_COUNTRY_ID];
        bytes[..id.len()].copy_from_slice(id.as_bytes());
        Some(Self {
            len: id.len() as u8,
            bytes,
        })
    }

    fn form_of(id: &str) -> Option<CountryIdForm> {
        let b = id.as_bytes();
        let upper = b.iter().all(u8::is_ascii_uppercase);
        match b.len() {
            2 if upper => Some(CountryIdForm::Alpha2),
            4 if upper => Some(CountryIdForm::Iso3166Part3),
            5..=MAX_COUNTRY_ID
                if b[0].is_ascii_lowercase()
                    && b.contains(&b'-')
                    && !b.ends_with(b"-")
                    && !id.contains("--")
                    && b.iter()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-') =>
            {
                Some(CountryIdForm::Local)
            }
            _ => None,
        }
    }

    /// Which form the id has.
    pub fn form(&self) -> CountryIdForm {
        Self::form_of(self.as_str()).unwrap_or(CountryIdForm::Local)
    }

    /// Parses a resource name such as `countries/TR`.
    pub fn from_name(name: &str) -> Option<Self> {
        name.strip_prefix("countries/").and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        // ASCII by construction.
        std::str::from_utf8(self.as_bytes()).unwrap_or("??")
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The resource name: `countries/TR`.
    pub fn name(&self) -> String {
        self.static_name().into_owned()
    }

    /// The resource name, borrowed from a table made at compile time for
    /// the two-letter ids: a busy pair's relation names every country as a
    /// mediator, and making each name showed in the profile of building one.
    pub fn static_name(&self) -> Cow<'static, str> {
        match self.table_name().map(std::str::from_utf8) {
            Some(Ok(name)) => Cow::Borrowed(name),
            _ => Cow::Owned(format!("countries/{}", self.as_str())),
        }
    }

    /// The resource name's bytes from the same table, for a two-letter id:
    /// what a `bytes` field on the wire takes, without checking it is
    /// UTF-8 again on every call (which showed in the same profile).
    pub fn table_name(&self) -> Option<&'static [u8]> {
        match self.as_bytes() {
            [a, b] => {
                let at = usize::from(a.wrapping_sub(b'A')) * 26 + usize::from(b.wrapping_sub(b'A'));
                COUNTRY_NAMES.get(at).map(|name| &name[..])
            }
            _ => None,
        }
    }
}

impl PartialOrd for CountryCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Byte order of the ids: for two-letter ids the order the store's keys
/// have always had.
impl Ord for CountryCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
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

/// The record collections and their resource-name prefixes, in the order
/// exports write them (what a record names comes before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collection {
    Countries,
    Actors,
    Treaties,
    Meetings,
    Events,
}

impl Collection {
    pub const ALL: [Collection; 5] = [
        Collection::Countries,
        Collection::Actors,
        Collection::Treaties,
        Collection::Meetings,
        Collection::Events,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Collection::Countries => "countries",
            Collection::Actors => "actors",
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
    fn country_ids_have_three_forms_that_cannot_be_confused() {
        for (id, form) in [
            ("TR", CountryIdForm::Alpha2),
            ("CSHH", CountryIdForm::Iso3166Part3),
            ("cow-han", CountryIdForm::Local),
            ("cow-yug-fry", CountryIdForm::Local),
        ] {
            let code = CountryCode::parse(id).expect(id);
            assert_eq!(code.form(), form, "{id}");
            assert_eq!(code.name(), format!("countries/{id}"));
            assert_eq!(CountryCode::from_name(&code.name()), Some(code));
        }
        for bad in [
            "countries/tr",
            "countries/TUR",
            "countries/AUS",
            "countries/aus",
            "countries/cow-",
            "countries/cowhan",
            "countries/cow--han",
            "countries/Cow-han",
            "countries/cow-han-with-a-long-tail",
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
                assert_eq!(
                    code.table_name(),
                    Some(format!("countries/{a}{b}").as_bytes())
                );
                assert_eq!(CountryCode::from_name(&code.static_name()), Some(code));
            }
        }
        // A four-letter code (ISO 3166-3) is not in the table, and is named.
        let former = CountryCode::parse("YUCS").expect("a code");
        assert_eq!(former.table_name(), None);
        assert_eq!(former.static_name(), "countries/YUCS");
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
