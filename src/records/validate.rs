//! Validation of records on write. Every problem is reported, each with the
//! field path it concerns (`treaty.parties[1].country`), so a client can fix
//! all of them at once.

use std::collections::BTreeSet;

use super::roles::{role_allowed, Participant, RoleHolder};
use super::Record;
use crate::convert::date_from_pb;
use crate::domain::statehood::{check_periods, within_existence, StatePeriod};
use crate::domain::{names, CountryCode, PartialDate};
use crate::error::FieldViolation;
use crate::pb::diplomacy::v1 as pb;
use crate::pb::google::r#type::Date;

/// Longest title, name or other short text, in bytes.
pub const MAX_SHORT_TEXT: usize = 1_000;
/// Longest summary, in bytes.
pub const MAX_LONG_TEXT: usize = 20_000;
/// Most elements of any repeated field.
pub const MAX_REPEATED: usize = 1_000;

/// Checks a record; the paths in the result start with `prefix` (the request
/// field that holds the record, e.g. `treaty`).
pub fn validate_record(record: &Record, prefix: &str) -> Vec<FieldViolation> {
    let mut v = Validator {
        prefix,
        violations: Vec::new(),
    };
    match record {
        Record::Country(c) => v.country(c),
        Record::Treaty(t) => v.treaty(t),
        Record::Meeting(m) => v.meeting(m),
        Record::Event(e) => v.event(e),
        Record::Actor(a) => v.actor(a),
    }
    v.violations
}

/// Every state or actor named in a record's roles, sides or members.
fn participant_names(record: &Record) -> Vec<&str> {
    fn roles(roles: &[pb::Involvement]) -> Vec<&str> {
        roles.iter().map(|r| r.participant.as_str()).collect()
    }
    match record {
        Record::Country(_) => Vec::new(),
        Record::Treaty(t) => roles(&t.roles),
        Record::Meeting(m) => roles(&m.roles),
        Record::Event(e) => roles(&e.roles)
            .into_iter()
            .chain(
                e.counterparts
                    .iter()
                    .map(String::as_str)
                    .filter(|name| name.starts_with("actors/")),
            )
            .chain(e.side_a.iter().map(|b| b.participant.as_str()))
            .chain(e.side_b.iter().map(|b| b.participant.as_str()))
            .collect(),
        Record::Actor(a) => a.members.iter().map(|m| m.member.as_str()).collect(),
    }
}

/// Every actor a record names (other than an actor's own name), by id: each
/// must exist when the record is written, and cannot be deleted while
/// named.
pub fn referenced_actors(record: &Record) -> BTreeSet<String> {
    participant_names(record)
        .into_iter()
        .filter_map(Participant::parse)
        .filter_map(|p| p.actor().map(str::to_string))
        .collect()
}

/// Every country a record names (other than a country's own name): each must
/// exist when the record is written, and cannot be deleted while named.
pub fn referenced_countries(record: &Record) -> BTreeSet<CountryCode> {
    let names: Vec<&str> = match record {
        Record::Country(c) => c
            .successors
            .iter()
            .map(String::as_str)
            .chain(c.predecessors.iter().map(|p| p.country.as_str()))
            .collect(),
        Record::Treaty(t) => t
            .parties
            .iter()
            .map(|p| p.country.as_str())
            .chain(t.mediators.iter().map(String::as_str))
            .chain(t.witnesses.iter().map(String::as_str))
            .chain(t.place.iter().map(|p| p.country.as_str()))
            .collect(),
        Record::Meeting(m) => m
            .participants
            .iter()
            .map(|p| p.country.as_str())
            .chain(m.mediators.iter().map(String::as_str))
            .chain(std::iter::once(m.host_country.as_str()))
            .chain(m.place.iter().map(|p| p.country.as_str()))
            .collect(),
        Record::Event(e) => std::iter::once(e.actor.as_str())
            .chain(e.counterparts.iter().map(String::as_str))
            .collect(),
        Record::Actor(_) => Vec::new(),
    };
    names
        .into_iter()
        .chain(participant_names(record))
        .filter_map(CountryCode::from_name)
        .collect()
}

struct Validator<'a> {
    prefix: &'a str,
    violations: Vec<FieldViolation>,
}

impl Validator<'_> {
    fn fail(&mut self, field: &str, description: impl Into<String>) {
        self.violations.push(FieldViolation::new(
            format!("{}.{field}", self.prefix),
            description,
        ));
    }

    fn text(&mut self, field: &str, value: &str, required: bool, max: usize) {
        if required && value.trim().is_empty() {
            self.fail(field, "must not be empty");
        } else if value.len() > max {
            self.fail(
                field,
                format!("must be at most {max} bytes, got {}", value.len()),
            );
        }
    }

    fn count(&mut self, field: &str, len: usize) -> bool {
        if len > MAX_REPEATED {
            self.fail(
                field,
                format!("must have at most {MAX_REPEATED} elements, got {len}"),
            );
            return false;
        }
        true
    }

    fn date(&mut self, field: &str, date: Option<&Date>, required: bool) -> Option<PartialDate> {
        match date {
            None if required => {
                self.fail(field, "is required");
                None
            }
            None => None,
            Some(date) => match date_from_pb(date) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.fail(field, e.to_string());
                    None
                }
            },
        }
    }

    /// `later` must not be before `earlier` (compared by first possible day).
    fn not_before(
        &mut self,
        field: &str,
        later: Option<PartialDate>,
        earlier: Option<PartialDate>,
        what: &str,
    ) {
        if let (Some(later), Some(earlier)) = (later, earlier) {
            if later.first_day() < earlier.first_day() {
                self.fail(field, format!("{later} is before {what} {earlier}"));
            }
        }
    }

    fn country_ref(&mut self, field: &str, name: &str, required: bool) -> Option<CountryCode> {
        if name.is_empty() {
            if required {
                self.fail(field, "is required: a country name such as `countries/TR`");
            }
            return None;
        }
        let code = CountryCode::from_name(name);
        if code.is_none() {
            self.fail(
                field,
                format!(
                    "{:?} is not a country name: expected `countries/` and {}",
                    truncate(name),
                    crate::domain::names::COUNTRY_ID_FORMS
                ),
            );
        }
        code
    }

    /// A list of country names without duplicates or members of `excluded`.
    fn country_list(
        &mut self,
        field: &str,
        names: &[String],
        excluded: &BTreeSet<CountryCode>,
        role: &str,
    ) -> BTreeSet<CountryCode> {
        let mut seen = BTreeSet::new();
        if !self.count(field, names.len()) {
            return seen;
        }
        for (i, name) in names.iter().enumerate() {
            let path = format!("{field}[{i}]");
            if let Some(code) = self.country_ref(&path, name, true) {
                if excluded.contains(&code) {
                    self.fail(&path, format!("{name} cannot also be {role}"));
                } else if !seen.insert(code) {
                    self.fail(&path, format!("{name} is listed twice"));
                }
            }
        }
        seen
    }

    fn sources(&mut self, sources: &[pb::Source]) {
        if sources.is_empty() {
            self.fail(
                "sources",
                "at least one source is required: every fact carries its sources",
            );
        }
        if !self.count("sources", sources.len()) {
            return;
        }
        for (i, source) in sources.iter().enumerate() {
            let path = |f: &str| format!("sources[{i}].{f}");
            self.text(&path("title"), &source.title, true, MAX_SHORT_TEXT);
            self.text(&path("publisher"), &source.publisher, false, MAX_SHORT_TEXT);
            self.text(&path("note"), &source.note, false, MAX_LONG_TEXT);
            self.text(&path("url"), &source.url, false, MAX_SHORT_TEXT);
            let web = source.url.starts_with("https://") || source.url.starts_with("http://");
            if !source.url.is_empty() && !web {
                self.fail(&path("url"), "must be an http:// or https:// URL");
            }
            self.date(&path("publish_date"), source.publish_date.as_ref(), false);
        }
    }

    fn place(&mut self, place: Option<&pb::Place>) {
        if let Some(place) = place {
            self.text("place.city", &place.city, false, MAX_SHORT_TEXT);
            self.country_ref("place.country", &place.country, false);
        }
    }

    fn enum_value<E: TryFrom<i32>>(&mut self, field: &str, value: i32) {
        if value == 0 {
            self.fail(field, "is required (the UNSPECIFIED value is not allowed)");
        } else if E::try_from(value).is_err() {
            self.fail(field, format!("{value} is not a known value"));
        }
    }

    fn country(&mut self, c: &pb::Country) {
        let own = CountryCode::from_name(&c.name);
        self.text("display_name", &c.display_name, true, MAX_SHORT_TEXT);
        self.text("official_name", &c.official_name, false, MAX_SHORT_TEXT);
        self.text("region", &c.region, false, MAX_SHORT_TEXT);
        self.text("subregion", &c.subregion, false, MAX_SHORT_TEXT);
        let alpha3_ok = c.alpha3.len() == 3 && c.alpha3.bytes().all(|b| b.is_ascii_uppercase());
        if !c.alpha3.is_empty() && !alpha3_ok {
            self.fail("alpha3", "must be three upper-case letters, or empty");
        }
        if c.numeric_code > 999 {
            self.fail("numeric_code", "must be from 0 to 999");
        }
        let start = self.date("start_date", c.start_date.as_ref(), false);
        let end = self.date("end_date", c.end_date.as_ref(), false);
        self.not_before("end_date", end, start, "start_date");
        let own: BTreeSet<_> = own.into_iter().collect();
        self.country_list("successors", &c.successors, &own, "its own successor");
        self.existence(&c.existence);
        self.cow_memberships(&c.cow_memberships);
        self.predecessors(&c.predecessors, &own);
        let code = &c.iso3166_3_code;
        let four_letters = code.len() == 4 && code.bytes().all(|b| b.is_ascii_uppercase());
        if !code.is_empty() && !four_letters {
            self.fail(
                "iso3166_3_code",
                "must be four upper-case letters (e.g. \"CSHH\"), or empty",
            );
        }
        self.sources(&c.sources);
    }

    /// Existence periods, checked; the periods when they are valid, else
    /// none.
    fn existence(&mut self, periods: &[pb::StatePeriod]) -> Vec<StatePeriod> {
        if !self.count("existence", periods.len()) {
            return Vec::new();
        }
        let before = self.violations.len();
        let mut checked = Vec::new();
        for (i, period) in periods.iter().enumerate() {
            let start = self.date(
                &format!("existence[{i}].start_date"),
                period.start_date.as_ref(),
                false,
            );
            let end = self.date(
                &format!("existence[{i}].end_date"),
                period.end_date.as_ref(),
                false,
            );
            checked.push(StatePeriod { start, end });
        }
        if self.violations.len() != before {
            return Vec::new();
        }
        if let Err(e) = check_periods(&checked) {
            self.fail(&format!("existence[{}].{}", e.index, e.field), e.message);
            return Vec::new();
        }
        checked
    }

    fn cow_memberships(&mut self, memberships: &[pb::CowMembership]) {
        if !self.count("cow_memberships", memberships.len()) {
            return;
        }
        for (i, m) in memberships.iter().enumerate() {
            let path = |f: &str| format!("cow_memberships[{i}].{f}");
            if !(1..=999).contains(&m.ccode) {
                self.fail(
                    &path("ccode"),
                    format!("{} is not a COW country code (1 to 999)", m.ccode),
                );
            }
            let abbreviation_ok =
                m.abbreviation.len() == 3 && m.abbreviation.bytes().all(|b| b.is_ascii_uppercase());
            if !abbreviation_ok {
                self.fail(
                    &path("abbreviation"),
                    "must be COW's three upper-case letters, e.g. \"RUS\"",
                );
            }
            self.text(&path("state_name"), &m.state_name, false, MAX_SHORT_TEXT);
            self.text(&path("version"), &m.version, false, MAX_SHORT_TEXT);
            let start = self.date(&path("start_date"), m.start_date.as_ref(), true);
            let end = self.date(&path("end_date"), m.end_date.as_ref(), false);
            self.not_before(&path("end_date"), end, start, "start_date");
        }
    }

    fn predecessors(&mut self, links: &[pb::Succession], own: &BTreeSet<CountryCode>) {
        if !self.count("predecessors", links.len()) {
            return;
        }
        let mut seen = BTreeSet::new();
        for (i, link) in links.iter().enumerate() {
            let path = |f: &str| format!("predecessors[{i}].{f}");
            if let Some(code) = self.country_ref(&path("country"), &link.country, true) {
                if own.contains(&code) {
                    self.fail(&path("country"), "a state cannot succeed itself");
                } else if !seen.insert(code) {
                    self.fail(
                        &path("country"),
                        format!("{} is listed twice", link.country),
                    );
                }
            }
            if link.kind == 0 {
                self.fail(
                    &path("kind"),
                    "is required (the UNSPECIFIED value is not allowed)",
                );
            } else if pb::SuccessionKind::try_from(link.kind).is_err() {
                self.fail(&path("kind"), format!("{} is not a known value", link.kind));
            }
            self.date(&path("date"), link.date.as_ref(), true);
        }
    }

    fn treaty(&mut self, t: &pb::Treaty) {
        self.text("title", &t.title, true, MAX_SHORT_TEXT);
        self.text("summary", &t.summary, false, MAX_LONG_TEXT);
        self.enum_value::<pb::TreatyKind>("kind", t.kind);
        self.enum_value::<pb::TreatyStatus>("status", t.status);
        self.place(t.place.as_ref());
        let status = pb::TreatyStatus::try_from(t.status).ok();
        let initialled_only = status == Some(pb::TreatyStatus::Initialled);
        let signed = self.date("signed_date", t.signed_date.as_ref(), !initialled_only);
        let initialled = self.date(
            "initialled_date",
            t.initialled_date.as_ref(),
            initialled_only,
        );
        self.not_before("signed_date", signed, initialled, "initialled_date");
        let void = self.date("void_date", t.void_date.as_ref(), false);
        self.not_before(
            "void_date",
            void,
            signed.or(initialled),
            "its signature or initialling",
        );
        let never_in_force = matches!(
            status,
            Some(
                pb::TreatyStatus::Signed | pb::TreatyStatus::Initialled | pb::TreatyStatus::Lapsed
            )
        );
        if void.is_some() && !never_in_force {
            self.fail(
                "void_date",
                "only a treaty that never entered into force (SIGNED, INITIALLED or LAPSED) is declared void; one in force ends by its termination_date",
            );
        }
        let text_only = matches!(
            status,
            Some(pb::TreatyStatus::Signed | pb::TreatyStatus::Initialled)
        );
        if t.non_binding && !text_only {
            self.fail(
                "non_binding",
                "an instrument never meant to enter into force is SIGNED or INITIALLED",
            );
        }
        let in_force = self.date(
            "entry_into_force_date",
            t.entry_into_force_date.as_ref(),
            false,
        );
        let terminated = self.date("termination_date", t.termination_date.as_ref(), false);
        self.not_before("entry_into_force_date", in_force, signed, "signed_date");
        self.not_before(
            "termination_date",
            terminated,
            in_force.or(signed),
            "the start",
        );
        match pb::TreatyStatus::try_from(t.status) {
            Ok(pb::TreatyStatus::InForce) if terminated.is_some() => self.fail(
                "termination_date",
                "a treaty IN_FORCE has no termination date",
            ),
            Ok(pb::TreatyStatus::Signed | pb::TreatyStatus::Lapsed) if in_force.is_some() => self
                .fail(
                    "entry_into_force_date",
                    "a SIGNED or LAPSED treaty never entered into force",
                ),
            _ => {}
        }

        let mut parties = BTreeSet::new();
        if t.parties.len() < 2 {
            self.fail("parties", "a treaty needs at least two state parties");
        }
        if self.count("parties", t.parties.len()) {
            for (i, party) in t.parties.iter().enumerate() {
                let path = |f: &str| format!("parties[{i}].{f}");
                if let Some(code) = self.country_ref(&path("country"), &party.country, true) {
                    if !parties.insert(code) {
                        self.fail(
                            &path("country"),
                            format!("{} is listed twice", party.country),
                        );
                    }
                }
                let signature = self.date(
                    &path("signature_date"),
                    party.signature_date.as_ref(),
                    false,
                );
                let ratified = self.date(
                    &path("ratification_date"),
                    party.ratification_date.as_ref(),
                    false,
                );
                let withdrawn = self.date(
                    &path("withdrawal_date"),
                    party.withdrawal_date.as_ref(),
                    false,
                );
                self.not_before(
                    &path("ratification_date"),
                    ratified,
                    signature,
                    "its signature_date",
                );
                let consented =
                    self.date(&path("consent_date"), party.consent_date.as_ref(), false);
                let own_entry = self.date(
                    &path("entry_into_force_date"),
                    party.entry_into_force_date.as_ref(),
                    false,
                );
                self.text(
                    &path("reservations"),
                    &party.reservations,
                    false,
                    MAX_LONG_TEXT,
                );
                match (party.consent_kind, consented) {
                    (0, Some(_)) => self.fail(
                        &path("consent_kind"),
                        "is required with consent_date: RATIFICATION, ACCESSION, ACCEPTANCE, APPROVAL, DEFINITIVE_SIGNATURE or SUCCESSION",
                    ),
                    (kind, None) if kind != 0 && ratified.is_none() => {
                        self.fail(&path("consent_date"), "is required with consent_kind")
                    }
                    (kind, _) if kind != 0 && pb::ConsentKind::try_from(kind).is_err() => {
                        self.fail(&path("consent_kind"), format!("{kind} is not a known value"))
                    }
                    _ => {}
                }
                if let (Some(consented), Some(ratified)) = (consented, ratified) {
                    if consented != ratified {
                        self.fail(
                            &path("ratification_date"),
                            format!("{ratified} differs from consent_date {consented}: give one, or the same date"),
                        );
                    }
                }
                self.not_before(
                    &path("consent_date"),
                    consented,
                    signature,
                    "its signature_date",
                );
                self.not_before(
                    &path("entry_into_force_date"),
                    own_entry,
                    in_force,
                    "the treaty's entry_into_force_date",
                );
                self.not_before(
                    &path("withdrawal_date"),
                    withdrawn,
                    consented.or(ratified).or(signature),
                    "its joining",
                );
            }
        }
        self.country_list(
            "mediators",
            &t.mediators,
            &parties,
            "a mediator and a party",
        );
        self.country_list("witnesses", &t.witnesses, &parties, "a witness and a party");
        self.roles(RoleHolder::Treaty, &t.roles, &parties);
        self.alliance_obligations(t, &parties);
        if self.count("other_signatories", t.other_signatories.len()) {
            for (i, s) in t.other_signatories.iter().enumerate() {
                self.text(&format!("other_signatories[{i}]"), s, true, MAX_SHORT_TEXT);
            }
        }
        self.sources(&t.sources);
    }

    /// An alliance's obligations: only on an ALLIANCE, each between two
    /// distinct parties, dated, ending no earlier than it starts, and each
    /// (party, toward, start) once.
    fn alliance_obligations(&mut self, t: &pb::Treaty, parties: &BTreeSet<CountryCode>) {
        if t.alliance_obligations.is_empty() {
            return;
        }
        if t.kind != pb::TreatyKind::Alliance as i32 {
            self.fail(
                "alliance_obligations",
                "only an ALLIANCE has alliance obligations",
            );
            return;
        }
        if !self.count("alliance_obligations", t.alliance_obligations.len()) {
            return;
        }
        let mut seen = BTreeSet::new();
        for (i, o) in t.alliance_obligations.iter().enumerate() {
            let path = |f: &str| format!("alliance_obligations[{i}].{f}");
            let party = self.country_ref(&path("party"), &o.party, true);
            let toward = self.country_ref(&path("toward"), &o.toward, true);
            for (field, code) in [("party", party), ("toward", toward)] {
                if let Some(code) = code.filter(|c| !parties.contains(c)) {
                    self.fail(
                        &path(field),
                        format!("{} is not a party of the treaty", code.name()),
                    );
                }
            }
            if party.is_some() && party == toward {
                self.fail(&path("toward"), "a party has no obligation toward itself");
            }
            let start = self.date(&path("start_date"), o.start_date.as_ref(), true);
            let end = self.date(&path("end_date"), o.end_date.as_ref(), false);
            self.not_before(&path("end_date"), end, start, "its start_date");
            if let (Some(party), Some(toward), Some(start)) = (party, toward, start) {
                if !seen.insert((party, toward, start.sort_key())) {
                    self.fail(
                        &path("start_date"),
                        format!(
                            "{} toward {} from {start} is given twice",
                            party.name(),
                            toward.name()
                        ),
                    );
                }
            }
        }
    }

    fn meeting(&mut self, m: &pb::Meeting) {
        self.text("title", &m.title, true, MAX_SHORT_TEXT);
        self.text("summary", &m.summary, false, MAX_LONG_TEXT);
        self.enum_value::<pb::MeetingKind>("kind", m.kind);
        let start = self.date("start_date", m.start_date.as_ref(), true);
        let end = self.date("end_date", m.end_date.as_ref(), false);
        self.not_before("end_date", end, start, "start_date");
        self.place(m.place.as_ref());
        self.country_ref("host_country", &m.host_country, false);
        let mut states = BTreeSet::new();
        if self.count("participants", m.participants.len()) {
            for (i, p) in m.participants.iter().enumerate() {
                let path = |f: &str| format!("participants[{i}].{f}");
                self.text(&path("person"), &p.person, true, MAX_SHORT_TEXT);
                self.text(&path("role"), &p.role, false, MAX_SHORT_TEXT);
                if let Some(code) = self.country_ref(&path("country"), &p.country, true) {
                    states.insert(code);
                }
            }
        }
        if states.len() < 2 {
            self.fail(
                "participants",
                "a meeting needs participants from at least two states",
            );
        }
        self.country_list("mediators", &m.mediators, &BTreeSet::new(), "");
        self.roles(RoleHolder::Meeting, &m.roles, &BTreeSet::new());
        if self.count("topics", m.topics.len()) {
            for (i, topic) in m.topics.iter().enumerate() {
                self.text(&format!("topics[{i}]"), topic, true, MAX_SHORT_TEXT);
            }
        }
        self.sources(&m.sources);
    }

    /// A state or actor name (`countries/TR`, `actors/osce-minsk-group`).
    fn participant(&mut self, field: &str, name: &str) -> Option<Participant> {
        if name.is_empty() {
            self.fail(
                field,
                "is required: a state (`countries/TR`) or an actor (`actors/osce-minsk-group`)",
            );
            return None;
        }
        let parsed = Participant::parse(name);
        if parsed.is_none() {
            self.fail(
                field,
                format!(
                    "{:?} is neither a country name (`countries/TR`) nor an actor name (`actors/` and an id of lower-case letters, digits and hyphens)",
                    truncate(name)
                ),
            );
        }
        parsed
    }

    /// A record's typed roles: each allowed in the record's kind, named
    /// once per role, within its own dates; an actor alone may be a PARTY
    /// (states are parties through the record's own fields), and none of
    /// `principals` may hold a third party's role.
    fn roles(
        &mut self,
        holder: RoleHolder,
        roles: &[pb::Involvement],
        principals: &BTreeSet<CountryCode>,
    ) {
        if !self.count("roles", roles.len()) {
            return;
        }
        let mut seen = BTreeSet::new();
        for (i, involvement) in roles.iter().enumerate() {
            let path = |f: &str| format!("roles[{i}].{f}");
            let participant = self.participant(&path("participant"), &involvement.participant);
            let role = pb::ParticipantRole::try_from(involvement.role).ok();
            match role {
                None | Some(pb::ParticipantRole::Unspecified) => {
                    self.enum_value::<pb::ParticipantRole>(&path("role"), involvement.role)
                }
                Some(role) if !role_allowed(holder, role) => self.fail(
                    &path("role"),
                    format!(
                        "{} is not a role in {}",
                        role.as_str_name(),
                        holder.as_str()
                    ),
                ),
                Some(_) => {}
            }
            let start = self.date(&path("start_date"), involvement.start_date.as_ref(), false);
            let end = self.date(&path("end_date"), involvement.end_date.as_ref(), false);
            self.not_before(&path("end_date"), end, start, "start_date");
            let (Some(participant), Some(role)) = (participant, role) else {
                continue;
            };
            let third_party =
                !matches!(role, pb::ParticipantRole::Party | pb::ParticipantRole::Host);
            if role == pb::ParticipantRole::Party && participant.country().is_some() {
                self.fail(
                    &path("participant"),
                    format!(
                        "a state is a party through the record's own fields (a treaty's `parties`, a meeting's `participants`); PARTY in `roles` is for actors such as `actors/nagorno-karabakh-authorities`, got {}",
                        involvement.participant
                    ),
                );
            } else if third_party
                && participant
                    .country()
                    .is_some_and(|code| principals.contains(&code))
            {
                self.fail(
                    &path("participant"),
                    format!(
                        "{} is a party of this record and cannot also be its {}",
                        involvement.participant,
                        role.as_str_name()
                    ),
                );
            } else if !seen.insert((participant, involvement.role)) {
                self.fail(
                    &path("participant"),
                    format!(
                        "{} is listed twice as {}",
                        involvement.participant,
                        role.as_str_name()
                    ),
                );
            }
        }
    }

    /// An armed conflict's sides: each with a primary party, every
    /// belligerent's dates within its own order, and no one on both sides
    /// (or twice on one) on the same day.
    fn sides(&mut self, e: &pb::Event, start: Option<PartialDate>, end: Option<PartialDate>) {
        if e.side_a.is_empty() && e.side_b.is_empty() {
            return; // filled from the actor and counterparts on write
        }
        /// One belligerent's days in the conflict.
        struct Stint<'e> {
            who: Participant,
            name: &'e str,
            side: &'static str,
            at: String,
            from: time::Date,
            until: time::Date,
        }
        let mut stints: Vec<Stint> = Vec::new();
        for (field, side) in [("side_a", &e.side_a), ("side_b", &e.side_b)] {
            if side.is_empty() {
                self.fail(field, "is required: an armed conflict has two sides");
                continue;
            }
            if !self.count(field, side.len()) {
                continue;
            }
            let primary = side
                .iter()
                .any(|b| b.standing == pb::BelligerentStanding::Primary as i32);
            if !primary {
                self.fail(field, "needs at least one PRIMARY party");
            }
            for (i, belligerent) in side.iter().enumerate() {
                let path = |f: &str| format!("{field}[{i}].{f}");
                let participant = self.participant(&path("participant"), &belligerent.participant);
                self.enum_value::<pb::BelligerentStanding>(&path("standing"), belligerent.standing);
                let join = self.date(&path("join_date"), belligerent.join_date.as_ref(), false);
                let leave = self.date(&path("leave_date"), belligerent.leave_date.as_ref(), false);
                self.not_before(&path("leave_date"), leave, join, "join_date");
                self.not_before(&path("join_date"), join, start, "the conflict's start_date");
                if let (Some(join), Some(end)) = (join, end) {
                    if join.first_day() > end.last_day() {
                        self.fail(
                            &path("join_date"),
                            format!("{join} is after the conflict's end_date {end}"),
                        );
                    }
                }
                if let Some(who) = participant {
                    stints.push(Stint {
                        who,
                        name: &belligerent.participant,
                        side: field,
                        at: format!("{field}[{i}]"),
                        from: join.or(start).map_or(time::Date::MIN, |d| d.first_day()),
                        until: leave.or(end).map_or(time::Date::MAX, |d| d.last_day()),
                    });
                }
            }
        }
        for (n, stint) in stints.iter().enumerate() {
            let clash = stints[..n].iter().find(|other| {
                other.who == stint.who && stint.from <= other.until && other.from <= stint.until
            });
            if let Some(other) = clash {
                let description = if other.side == stint.side {
                    format!(
                        "{} is already on this side for these days ({})",
                        stint.name, other.at
                    )
                } else {
                    format!(
                        "{} is on both sides at once ({} covers the same days)",
                        stint.name, other.at
                    )
                };
                self.fail(&format!("{}.participant", stint.at), description);
            }
        }
    }

    fn actor(&mut self, a: &pb::Actor) {
        self.text("display_name", &a.display_name, true, MAX_SHORT_TEXT);
        self.text("summary", &a.summary, false, MAX_LONG_TEXT);
        self.enum_value::<pb::ActorKind>("kind", a.kind);
        if a.ucdp_actor_id < 0 {
            self.fail("ucdp_actor_id", "must be a UCDP actor id (positive), or 0");
        }
        let existence = self.existence(&a.existence);
        let own = Participant::parse(&a.name);
        if !self.count("members", a.members.len()) {
            return;
        }
        for (i, member) in a.members.iter().enumerate() {
            let path = |f: &str| format!("members[{i}].{f}");
            let participant = self.participant(&path("member"), &member.member);
            if participant.is_some() && participant == own {
                self.fail(&path("member"), "an actor cannot be its own member");
            }
            self.text(&path("role"), &member.role, false, MAX_SHORT_TEXT);
            let join = self.date(&path("join_date"), member.join_date.as_ref(), false);
            let leave = self.date(&path("leave_date"), member.leave_date.as_ref(), false);
            self.not_before(&path("leave_date"), leave, join, "join_date");
            for (field, date) in [("join_date", join), ("leave_date", leave)] {
                if let Some(date) = date.filter(|d| !within_existence(&existence, *d)) {
                    self.fail(
                        &path(field),
                        format!("{date} is outside the actor's existence as recorded"),
                    );
                }
            }
        }
        self.sources(&a.sources);
    }

    /// The counterparts of a recognition event: states or actors, each
    /// once, none of them the actor. The states among them.
    fn recognized(
        &mut self,
        names: &[String],
        actor: &BTreeSet<CountryCode>,
    ) -> BTreeSet<CountryCode> {
        let mut states = BTreeSet::new();
        let mut seen = BTreeSet::new();
        if !self.count("counterparts", names.len()) {
            return states;
        }
        for (i, name) in names.iter().enumerate() {
            let path = format!("counterparts[{i}]");
            let Some(participant) = self.participant(&path, name) else {
                continue;
            };
            if participant.country().is_some_and(|c| actor.contains(&c)) {
                self.fail(
                    &path,
                    format!("{name} cannot also be the actor and a counterpart"),
                );
            } else if !seen.insert(name.as_str()) {
                self.fail(&path, format!("{name} is listed twice"));
            }
            states.extend(participant.country());
        }
        states
    }

    /// Levels of representation: only on the kinds that may set them (and
    /// required on REPRESENTATION), each between two distinct states of
    /// the event, at a level on the scale, one per direction.
    fn representation(&mut self, e: &pb::Event, states: &BTreeSet<CountryCode>) {
        use pb::EventKind as K;
        let kind = pb::EventKind::try_from(e.kind).ok();
        let allowed = matches!(
            kind,
            Some(
                K::Representation
                    | K::RelationsEstablished
                    | K::RelationsRestored
                    | K::RelationsDowngraded
                    | K::RelationsSevered
            )
        );
        if kind == Some(K::Representation) && e.representation.is_empty() {
            self.fail(
                "representation",
                "a REPRESENTATION event gives at least one level (sending, receiving, level)",
            );
        }
        if !allowed && !e.representation.is_empty() {
            self.fail(
                "representation",
                "only REPRESENTATION and the RELATIONS_ESTABLISHED, _RESTORED, _DOWNGRADED and _SEVERED events set levels of representation",
            );
            return;
        }
        if !self.count("representation", e.representation.len()) {
            return;
        }
        let mut directions = BTreeSet::new();
        for (i, change) in e.representation.iter().enumerate() {
            let path = |f: &str| format!("representation[{i}].{f}");
            let sending = self.country_ref(&path("sending"), &change.sending, true);
            let receiving = self.country_ref(&path("receiving"), &change.receiving, true);
            for (field, code) in [("sending", sending), ("receiving", receiving)] {
                if let Some(code) = code.filter(|c| !states.contains(c)) {
                    self.fail(
                        &path(field),
                        format!(
                            "{} is not one of the event's states (its actor and counterparts)",
                            code.name()
                        ),
                    );
                }
            }
            if let (Some(a), Some(b)) = (sending, receiving) {
                if a == b {
                    self.fail(&path("receiving"), "a state has no mission in itself");
                } else if !directions.insert((a, b)) {
                    self.fail(
                        &path("sending"),
                        format!("{} in {} is given twice", a.name(), b.name()),
                    );
                }
            }
            let on_scale = matches!(
                pb::RepresentationLevel::try_from(change.level),
                Ok(level) if level != pb::RepresentationLevel::Unspecified
                    && level != pb::RepresentationLevel::Unknown
            );
            if !on_scale {
                self.fail(
                    &path("level"),
                    format!(
                        "{} is not a level on the scale: NONE, CHARGE_D_AFFAIRES, MINISTER, AMBASSADOR, INTERESTS_SECTION or OTHER",
                        change.level
                    ),
                );
            }
        }
    }

    fn event(&mut self, e: &pb::Event) {
        self.text("title", &e.title, true, MAX_SHORT_TEXT);
        self.text("summary", &e.summary, false, MAX_LONG_TEXT);
        self.enum_value::<pb::EventKind>("kind", e.kind);
        let start = self.date("start_date", e.start_date.as_ref(), true);
        let end = self.date("end_date", e.end_date.as_ref(), false);
        self.not_before("end_date", end, start, "start_date");
        let conflict = e.kind == pb::EventKind::ArmedConflict as i32;
        let by_sides = conflict && !(e.side_a.is_empty() && e.side_b.is_empty());
        let actor: BTreeSet<_> = self
            .country_ref("actor", &e.actor, !by_sides)
            .into_iter()
            .collect();
        if e.counterparts.is_empty() && !by_sides {
            self.fail("counterparts", "at least one other country is required");
        }
        if by_sides && e.actor.is_empty() && !e.counterparts.is_empty() {
            self.fail(
                "actor",
                "is required when counterparts are given: name the state that acted",
            );
        }
        let recognition = super::facts::recognition_standing(e.kind).is_some();
        let mut principals = if recognition {
            self.recognized(&e.counterparts, &actor)
        } else {
            self.country_list(
                "counterparts",
                &e.counterparts,
                &actor,
                "the actor and a counterpart",
            )
        };
        principals.extend(&actor);
        self.representation(e, &principals);
        self.roles(RoleHolder::Event, &e.roles, &principals);
        let mediation = e.kind == pb::EventKind::Mediation as i32;
        let mediators = e.roles.iter().any(|r| super::roles::mediates(r.role));
        if mediation && !mediators {
            self.fail(
                "roles",
                "a MEDIATION event names at least one MEDIATOR or FACILITATOR",
            );
        }
        if conflict {
            self.sides(e, start, end);
        } else {
            for (field, side) in [("side_a", &e.side_a), ("side_b", &e.side_b)] {
                if !side.is_empty() {
                    self.fail(field, "only an ARMED_CONFLICT has sides");
                }
            }
        }
        if self.count("related_records", e.related_records.len()) {
            for (i, name) in e.related_records.iter().enumerate() {
                if names::parse_record_name(name).is_none() {
                    self.fail(
                        &format!("related_records[{i}]"),
                        format!(
                            "{:?} is not a record name such as `treaties/t05`",
                            truncate(name)
                        ),
                    );
                }
            }
        }
        self.sources(&e.sources);
    }
}

/// Keeps hostile megabyte strings out of error messages.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
