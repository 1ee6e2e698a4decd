//! `diplomacy export --format dyad-year-csv | country-year-csv`: the data
//! dir's relations as panels for analysts (the shape peacesciencer's
//! dyad-years have), one row per dyad-year of states that both existed in
//! that year (or per country-year), each valued on the last day of the year
//! on which both existed (the GDR's 1990 rows on 1990-10-02).

use std::collections::BTreeMap;
use std::io::Write;

use prost::Message;
use time::Date;

use diplomacy::api::relation_of;
use diplomacy::domain::statehood::StatePeriod;
use diplomacy::domain::{Collection, CountryCode, CountryPair, PartialDate};
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::records::{periods_of, Record};
use diplomacy::store::Store;

/// The columns of `dyad-year-csv`, in order (README: "Panels out").
pub const DYAD_COLUMNS: [&str; 20] = [
    "year",
    "valued_on",
    "country1",
    "country2",
    "ccode1",
    "ccode2",
    "status",
    "status_since",
    "recognition_1_of_2",
    "recognition_2_of_1",
    "representation_1_in_2",
    "representation_2_in_1",
    "defense",
    "neutrality",
    "nonaggression",
    "entente",
    "allied",
    "at_war",
    "armed_conflicts",
    "treaties_in_force",
];

/// The columns of `country-year-csv`, in order.
pub const COUNTRY_COLUMNS: [&str; 10] = [
    "year",
    "valued_on",
    "country",
    "ccode",
    "states",
    "relations",
    "missions_abroad",
    "allied_with",
    "at_war_with",
    "treaty_partners",
];

/// A state of the panel: its periods of existence (or, where existence is
/// not recorded, of COW membership) and its COW codes over time.
struct PanelState {
    code: CountryCode,
    periods: Vec<StatePeriod>,
    cow: Vec<(i32, StatePeriod)>,
}

impl PanelState {
    fn of(country: &pb::Country) -> Option<Self> {
        let code = CountryCode::from_name(&country.name)?;
        let cow: Vec<(i32, StatePeriod)> = country
            .cow_memberships
            .iter()
            .map(|m| {
                let date = |d: Option<&diplomacy::pb::google::r#type::Date>| {
                    d.and_then(|d| diplomacy::convert::date_from_pb(d).ok())
                };
                (
                    m.ccode,
                    StatePeriod {
                        start: date(m.start_date.as_ref()),
                        end: date(m.end_date.as_ref()),
                    },
                )
            })
            .collect();
        let mut periods = periods_of(&country.existence);
        if periods.is_empty() {
            periods = cow.iter().map(|(_, p)| *p).collect();
        }
        (!periods.is_empty()).then_some(Self { code, periods, cow })
    }

    /// The days of `year` it existed on: (first, last), if any.
    fn within(&self, year: i32) -> Option<(Date, Date)> {
        let (jan1, dec31) = year_bounds(year)?;
        let mut span: Option<(Date, Date)> = None;
        for period in &self.periods {
            let start = period.start.map_or(jan1, |s| s.first_day()).max(jan1);
            // A period ends on the day the state ceased (as
            // `StatePeriod::covers` reads it): its last day is the one
            // before (the GDR's 1990-10-02).
            let end = period
                .end
                .map_or(dec31, |e| e.last_day().previous_day().unwrap_or(jan1))
                .min(dec31);
            if start <= end {
                span = Some(match span {
                    None => (start, end),
                    Some((first, last)) => (first.min(start), last.max(end)),
                });
            }
        }
        span
    }

    fn ccode_on(&self, day: Date) -> Option<i32> {
        self.cow
            .iter()
            .find(|(_, p)| {
                p.start.is_none_or(|s| s.first_day() <= day)
                    && p.end.is_none_or(|e| day <= e.last_day())
            })
            .map(|(c, _)| *c)
    }
}

fn year_bounds(year: i32) -> Option<(Date, Date)> {
    Some((
        Date::from_calendar_date(year, time::Month::January, 1).ok()?,
        Date::from_calendar_date(year, time::Month::December, 31).ok()?,
    ))
}

/// The alliance obligations of the data dir, by direction.
struct Obligations(BTreeMap<(CountryCode, CountryCode), Vec<pb::AllianceObligation>>);

impl Obligations {
    fn of(store: &Store) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let mut by_direction: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for record in store.records(Collection::Treaties) {
            let Record::Treaty(treaty) = record? else {
                continue;
            };
            for o in treaty.alliance_obligations {
                if let (Some(a), Some(b)) = (
                    CountryCode::from_name(&o.party),
                    CountryCode::from_name(&o.toward),
                ) {
                    by_direction.entry((a, b)).or_default().push(o);
                }
            }
        }
        Ok(Self(by_direction))
    }

    /// The four obligation flags of `from` toward `to` on `day`, from every
    /// obligation that holds then.
    fn on(&self, from: CountryCode, to: CountryCode, day: Date) -> [bool; 4] {
        let mut flags = [false; 4];
        let date = |d: Option<&diplomacy::pb::google::r#type::Date>| {
            d.and_then(|d| diplomacy::convert::date_from_pb(d).ok())
        };
        for o in self.0.get(&(from, to)).into_iter().flatten() {
            let started = date(o.start_date.as_ref()).is_some_and(|s| s.first_day() <= day);
            let ended = date(o.end_date.as_ref()).is_some_and(|e| e.last_day() < day);
            if started && !ended {
                for (flag, set) in
                    flags
                        .iter_mut()
                        .zip([o.defense, o.neutrality, o.nonaggression, o.entente])
                {
                    *flag |= set;
                }
            }
        }
        flags
    }
}

/// A short enum value: `DIPLOMATIC_STATUS_ESTABLISHED` → `ESTABLISHED`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_string()
}

fn bit(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

/// What a panel is: its years, its shape, and the states it is about.
pub struct PanelQuery {
    pub from: i32,
    pub to: i32,
    pub directed: bool,
    pub countries: Option<Vec<CountryCode>>,
}

/// Counts of one country-year, summed over its dyads.
#[derive(Default)]
struct CountryYear {
    valued_on: Option<Date>,
    ccode: Option<i32>,
    states: usize,
    relations: usize,
    missions_abroad: usize,
    allied_with: usize,
    at_war_with: usize,
    treaty_partners: usize,
}

/// Writes the dyad-year panel (`country_year`: the country-year panel) of
/// `store` to `out`; returns the rows written.
pub fn write_panel(
    store: &Store,
    query: &PanelQuery,
    country_year: bool,
    out: &mut dyn Write,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let mut states = Vec::new();
    for record in store.records(Collection::Countries) {
        if let Record::Country(country) = record? {
            if let Some(state) = PanelState::of(&country) {
                if query
                    .countries
                    .as_ref()
                    .is_none_or(|c| c.contains(&state.code))
                {
                    states.push(state);
                }
            }
        }
    }
    let obligations = Obligations::of(store)?;
    let mut csv = csv::Writer::from_writer(out);
    if country_year {
        csv.write_record(COUNTRY_COLUMNS)?;
    } else {
        csv.write_record(DYAD_COLUMNS)?;
    }
    let mut rows = 0;
    for year in query.from..=query.to {
        let alive: Vec<(&PanelState, (Date, Date))> = states
            .iter()
            .filter_map(|s| Some((s, s.within(year)?)))
            .collect();
        let mut per_country: BTreeMap<CountryCode, CountryYear> = BTreeMap::new();
        for (i, (a, (a_first, a_last))) in alive.iter().enumerate() {
            for (b, (b_first, b_last)) in &alive[i + 1..] {
                let day = (*a_last).min(*b_last);
                if day < (*a_first).max(*b_first) {
                    continue; // in the same year, never on the same day
                }
                let Some(pair) = CountryPair::new(a.code, b.code) else {
                    continue;
                };
                let as_of = PartialDate::from_day(day);
                let name = format!("{}/relations/{}", a.code.name(), b.code.name());
                // The server's own answer, as clients decode it (its wire
                // form keeps listed summaries as bytes).
                let relation = pb::Relation::decode(
                    relation_of(store, name, pair, as_of, 0)?
                        .encode_to_vec()
                        .as_slice(),
                )?;
                let (low, high) = (pair.low(), pair.high());
                let state_of = |code: CountryCode| if code == a.code { *a } else { *b };
                // Directions start from the lower code (both states exist on
                // `day`, so neither is answered for by another).
                let side = |code: CountryCode| usize::from(code != low);
                let recognition = |from: CountryCode| {
                    relation
                        .recognitions
                        .get(side(from))
                        .map_or("UNKNOWN".into(), |r| {
                            short(r.standing().as_str_name(), "RECOGNITION_STANDING_")
                        })
                };
                let level_of =
                    |from: CountryCode| relation.representations.get(side(from)).map(|r| r.level());
                let level = |from: CountryCode| {
                    level_of(from).map_or("UNKNOWN".into(), |l| {
                        short(l.as_str_name(), "REPRESENTATION_LEVEL_")
                    })
                };
                let at_war = relation.armed_conflicts_count > 0;
                let established = matches!(
                    relation.diplomatic_status(),
                    pb::DiplomaticStatus::Established | pb::DiplomaticStatus::Downgraded
                );
                if country_year {
                    for one in [low, high] {
                        let counts = per_country.entry(one).or_default();
                        counts.valued_on = counts.valued_on.max(Some(day));
                        counts.ccode = counts.ccode.or(state_of(one).ccode_on(day));
                        counts.states += 1;
                        counts.relations += usize::from(established);
                        counts.missions_abroad += usize::from(matches!(
                            level_of(one),
                            Some(
                                pb::RepresentationLevel::ChargeDAffaires
                                    | pb::RepresentationLevel::Minister
                                    | pb::RepresentationLevel::Ambassador
                                    | pb::RepresentationLevel::InterestsSection
                                    | pb::RepresentationLevel::Other
                            )
                        ));
                        counts.allied_with += usize::from(relation.allied);
                        counts.at_war_with += usize::from(at_war);
                        counts.treaty_partners += usize::from(relation.treaties_in_force_count > 0);
                    }
                    continue;
                }
                let directions: &[(CountryCode, CountryCode)] = if query.directed {
                    &[(low, high), (high, low)]
                } else {
                    &[(low, high)]
                };
                for (one, two) in directions {
                    let flags = if query.directed {
                        obligations.on(*one, *two, day)
                    } else {
                        let (x, y) = (
                            obligations.on(*one, *two, day),
                            obligations.on(*two, *one, day),
                        );
                        [x[0] || y[0], x[1] || y[1], x[2] || y[2], x[3] || y[3]]
                    };
                    let ccode = |code: CountryCode| {
                        state_of(code)
                            .ccode_on(day)
                            .map(|c| c.to_string())
                            .unwrap_or_default()
                    };
                    csv.write_record([
                        year.to_string(),
                        day.to_string(),
                        one.as_str().to_string(),
                        two.as_str().to_string(),
                        ccode(*one),
                        ccode(*two),
                        short(
                            relation.diplomatic_status().as_str_name(),
                            "DIPLOMATIC_STATUS_",
                        ),
                        relation
                            .status_since
                            .and_then(|d| diplomacy::convert::date_from_pb(&d).ok())
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                        recognition(*one),
                        recognition(*two),
                        level(*one),
                        level(*two),
                        bit(flags[0]).into(),
                        bit(flags[1]).into(),
                        bit(flags[2]).into(),
                        bit(flags[3]).into(),
                        bit(relation.allied).into(),
                        bit(at_war).into(),
                        relation.armed_conflicts_count.to_string(),
                        relation.treaties_in_force_count.to_string(),
                    ])?;
                    rows += 1;
                }
            }
        }
        if country_year {
            for (code, counts) in per_country {
                csv.write_record([
                    year.to_string(),
                    counts.valued_on.map(|d| d.to_string()).unwrap_or_default(),
                    code.as_str().to_string(),
                    counts.ccode.map(|c| c.to_string()).unwrap_or_default(),
                    counts.states.to_string(),
                    counts.relations.to_string(),
                    counts.missions_abroad.to_string(),
                    counts.allied_with.to_string(),
                    counts.at_war_with.to_string(),
                    counts.treaty_partners.to_string(),
                ])?;
                rows += 1;
            }
        }
    }
    csv.flush()?;
    Ok(rows)
}
