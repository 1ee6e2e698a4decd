//! Finding a country by what a person types: codes, names and official
//! names in any case and with or without diacritics, common English short
//! forms, the start of a name, a near miss. Pure: the caller hands in each
//! country's texts and ranks what comes back.

/// Common English short forms and former names that neither ISO's name nor
/// its parenthesised form gives, by alpha-2 code. Names only, no facts: a
/// short form maps to the code that ISO 3166 gives the country today.
pub const ALIASES: &[(&str, &str)] = &[
    ("Turkey", "TR"),
    ("Russia", "RU"),
    ("USA", "US"),
    ("United States", "US"),
    ("America", "US"),
    ("UK", "GB"),
    ("United Kingdom", "GB"),
    ("Britain", "GB"),
    ("Great Britain", "GB"),
    ("South Korea", "KR"),
    ("North Korea", "KP"),
    ("Syria", "SY"),
    ("Vietnam", "VN"),
    ("Laos", "LA"),
    ("Czech Republic", "CZ"),
    ("Ivory Coast", "CI"),
    ("Cape Verde", "CV"),
    ("Swaziland", "SZ"),
    ("Macedonia", "MK"),
    ("Burma", "MM"),
    ("DR Congo", "CD"),
    ("DRC", "CD"),
    ("Congo-Kinshasa", "CD"),
    ("Congo-Brazzaville", "CG"),
    ("Republic of the Congo", "CG"),
    ("Vatican", "VA"),
    ("Vatican City", "VA"),
    ("Brunei", "BN"),
    ("Holland", "NL"),
    ("East Timor", "TL"),
    ("Soviet Union", "SU"),
    ("USSR", "SU"),
    ("East Germany", "DD"),
];

/// What kind of text a query matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    Code,
    Name,
    OfficialName,
    Alias,
    Prefix,
    Similar,
}

/// How well one country matches a query.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// From 0 (exclusive) to 1: 1 for a text typed in full.
    pub score: f64,
    pub kind: MatchKind,
    /// The country's text that matched, as the country has it.
    pub matched: String,
}

/// A country's searchable texts.
pub struct Searchable<'a> {
    /// The country's id: an alpha-2 code, or one of the longer ids of
    /// states without one (`CSHH`, `cow-han`).
    pub alpha2: &'a str,
    pub alpha3: &'a str,
    pub numeric: u32,
    pub name: &'a str,
    pub official_name: &'a str,
}

/// Shortest query matched by its start (shorter ones would match dozens).
const MIN_PREFIX: usize = 3;
/// Jaro-Winkler similarity from which a name counts as a near miss.
const MIN_SIMILARITY: f64 = 0.88;

/// Lower case, diacritics and punctuation dropped, spaces collapsed, a
/// leading "the" dropped: "The Côte d'Ivoire" → "cote divoire".
pub fn normalize(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let words: Vec<String> = ascii
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',')
        .map(|word| word.chars().filter(char::is_ascii_alphanumeric).collect())
        .filter(|word: &String| !word.is_empty())
        .collect();
    let words = match words.split_first() {
        Some((first, rest)) if first == "the" && !rest.is_empty() => rest,
        _ => &words[..],
    };
    words.join(" ")
}

/// The forms a name is known by: whole, and (for ISO's "Bolivia
/// (Plurinational State of)") the part before the parenthesis.
fn forms(name: &str) -> impl Iterator<Item = String> + '_ {
    let short = name
        .split_once(" (")
        .map(|(before, _)| before)
        .filter(|before| !before.is_empty());
    [Some(name), short]
        .into_iter()
        .flatten()
        .map(normalize)
        .filter(|form| !form.is_empty())
}

/// How well `country` matches `query`, if at all.
pub fn match_country(query: &str, country: &Searchable<'_>) -> Option<Match> {
    let trimmed = query.trim();
    let wanted = normalize(trimmed);
    if wanted.is_empty() {
        return None;
    }
    let is_id = trimmed.eq_ignore_ascii_case(country.alpha2);
    if is_id || (!country.alpha3.is_empty() && trimmed.eq_ignore_ascii_case(country.alpha3)) {
        let matched = if is_id {
            country.alpha2
        } else {
            country.alpha3
        };
        return Some(found(1.0, MatchKind::Code, matched));
    }
    if country.numeric != 0 && trimmed.parse::<u32>().ok() == Some(country.numeric) {
        return Some(found(
            1.0,
            MatchKind::Code,
            &format!("{:03}", country.numeric),
        ));
    }
    let aliases = ALIASES
        .iter()
        .filter(|(_, code)| *code == country.alpha2)
        .map(|(alias, _)| (MatchKind::Alias, *alias));
    let texts: Vec<(MatchKind, &str)> = [
        (MatchKind::Name, country.name),
        (MatchKind::OfficialName, country.official_name),
    ]
    .into_iter()
    .filter(|(_, text)| !text.is_empty())
    .chain(aliases)
    .collect();
    let mut best: Option<Match> = None;
    for (kind, text) in &texts {
        for form in forms(text) {
            let candidate = if form == wanted {
                Some(found(1.0, *kind, text))
            } else if wanted.len() >= MIN_PREFIX && form.starts_with(&wanted) {
                // Longer names left over score a little less.
                let covered = wanted.len() as f64 / form.len() as f64;
                Some(found(0.7 + 0.2 * covered, MatchKind::Prefix, text))
            } else {
                let similarity = strsim::jaro_winkler(&wanted, &form);
                (similarity >= MIN_SIMILARITY)
                    .then(|| found(similarity * 0.8, MatchKind::Similar, text))
            };
            if let Some(candidate) = candidate {
                if best.as_ref().is_none_or(|b| candidate.score > b.score) {
                    best = Some(candidate);
                }
            }
        }
    }
    best
}

fn found(score: f64, kind: MatchKind, matched: &str) -> Match {
    Match {
        score,
        kind,
        matched: matched.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TURKIYE: Searchable<'static> = Searchable {
        alpha2: "TR",
        alpha3: "TUR",
        numeric: 792,
        name: "Türkiye",
        official_name: "Republic of Türkiye",
    };
    const BOLIVIA: Searchable<'static> = Searchable {
        alpha2: "BO",
        alpha3: "BOL",
        numeric: 68,
        name: "Bolivia (Plurinational State of)",
        official_name: "",
    };

    fn kind_and_score(query: &str, country: &Searchable<'_>) -> Option<(MatchKind, f64)> {
        match_country(query, country).map(|m| (m.kind, m.score))
    }

    #[test]
    fn codes_names_and_short_forms_typed_in_full_match_exactly() {
        for (query, kind) in [
            ("tr", MatchKind::Code),
            ("TUR", MatchKind::Code),
            ("792", MatchKind::Code),
            ("Türkiye", MatchKind::Name),
            ("turkiye", MatchKind::Name),
            ("  TÜRKIYE ", MatchKind::Name),
            ("Republic of Turkiye", MatchKind::OfficialName),
            ("Turkey", MatchKind::Alias),
            ("the Turkey", MatchKind::Alias),
        ] {
            assert_eq!(
                kind_and_score(query, &TURKIYE),
                Some((kind, 1.0)),
                "{query:?}"
            );
        }
        assert_eq!(
            kind_and_score("bolivia", &BOLIVIA),
            Some((MatchKind::Name, 1.0)),
            "the form before ISO's parenthesis"
        );
        assert_eq!(
            kind_and_score("068", &BOLIVIA).map(|m| m.0),
            Some(MatchKind::Code)
        );
    }

    #[test]
    fn a_start_or_a_near_miss_scores_less_and_anything_else_nothing() {
        let (kind, score) = kind_and_score("Türk", &TURKIYE).expect("a prefix");
        assert_eq!(kind, MatchKind::Prefix);
        assert!(score < 1.0 && score > 0.7, "{score}");
        let (kind, score) = kind_and_score("Turkiey", &TURKIYE).expect("a near miss");
        assert_eq!(kind, MatchKind::Similar);
        assert!(score < 0.8, "{score}");
        assert_eq!(
            kind_and_score("tu", &TURKIYE),
            None,
            "too short to be a start"
        );
        assert_eq!(kind_and_score("Armenia", &TURKIYE), None);
        assert_eq!(kind_and_score("  ", &TURKIYE), None);
        assert_eq!(kind_and_score("'", &TURKIYE), None);
    }

    #[test]
    fn every_alias_names_a_built_in_country() {
        let codes: Vec<String> = crate::domain::countries::builtin_countries()
            .iter()
            .map(|c| c.code.as_str().to_string())
            .collect();
        for (alias, code) in ALIASES {
            assert!(codes.iter().any(|c| c == code), "{alias} → {code}");
        }
    }
}
