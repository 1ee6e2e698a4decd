//! Typed roles and conflict sides: who may hold which role in which kind of
//! record, and the sides an armed conflict written the old way gets.

use crate::domain::names::is_valid_record_id;
use crate::domain::CountryCode;
use crate::pb::diplomacy::v1 as pb;

/// A state or an actor named in a role, a side or a membership.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Participant {
    Country(CountryCode),
    /// An actor's id (`osce-minsk-group` of `actors/osce-minsk-group`).
    Actor(String),
}

impl Participant {
    /// `countries/{code}` or `actors/{id}`, checked.
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(code) = CountryCode::from_name(name) {
            return Some(Participant::Country(code));
        }
        let id = name.strip_prefix("actors/")?;
        is_valid_record_id(id).then(|| Participant::Actor(id.to_string()))
    }

    pub fn country(&self) -> Option<CountryCode> {
        match self {
            Participant::Country(code) => Some(*code),
            Participant::Actor(_) => None,
        }
    }

    pub fn actor(&self) -> Option<&str> {
        match self {
            Participant::Actor(id) => Some(id),
            Participant::Country(_) => None,
        }
    }
}

/// The kinds of record that carry roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleHolder {
    Treaty,
    Meeting,
    Event,
}

impl RoleHolder {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleHolder::Treaty => "a treaty",
            RoleHolder::Meeting => "a meeting",
            RoleHolder::Event => "an event",
        }
    }
}

/// Whether `role` may stand in a record of `holder`'s kind.
pub fn role_allowed(holder: RoleHolder, role: pb::ParticipantRole) -> bool {
    use pb::ParticipantRole as R;
    match role {
        R::Unspecified => false,
        R::Mediator | R::Facilitator | R::Observer => true,
        R::Party | R::Host => holder != RoleHolder::Event,
        R::SignatoryGuarantor | R::Witness => holder == RoleHolder::Treaty,
    }
}

/// Roles that make a third party a mediator of the pairs of a record.
pub fn mediates(role: i32) -> bool {
    role == pb::ParticipantRole::Mediator as i32 || role == pb::ParticipantRole::Facilitator as i32
}

/// An armed conflict written with no sides gets the actor as side A and the
/// counterparts as side B, all primary parties for the whole conflict: what
/// an actor and counterparts meant before sides existed. Returns whether
/// anything changed.
pub fn fill_conflict_sides(event: &mut pb::Event) -> bool {
    let conflict = event.kind == pb::EventKind::ArmedConflict as i32;
    if !conflict || !event.side_a.is_empty() || !event.side_b.is_empty() {
        return false;
    }
    if event.actor.is_empty() || event.counterparts.is_empty() {
        return false;
    }
    let primary = |participant: &String| pb::Belligerent {
        participant: participant.clone(),
        standing: pb::BelligerentStanding::Primary as i32,
        join_date: None,
        leave_date: None,
    };
    event.side_a = vec![primary(&event.actor)];
    event.side_b = event.counterparts.iter().map(primary).collect();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_allowed_only_where_it_makes_sense() {
        use pb::ParticipantRole as R;
        assert!(role_allowed(RoleHolder::Treaty, R::SignatoryGuarantor));
        assert!(!role_allowed(RoleHolder::Meeting, R::SignatoryGuarantor));
        assert!(!role_allowed(RoleHolder::Meeting, R::Witness));
        assert!(role_allowed(RoleHolder::Meeting, R::Host));
        assert!(!role_allowed(RoleHolder::Event, R::Host));
        assert!(!role_allowed(RoleHolder::Event, R::Party));
        assert!(role_allowed(RoleHolder::Event, R::Mediator));
        assert!(!role_allowed(RoleHolder::Treaty, R::Unspecified));
    }

    #[test]
    fn participants_are_states_or_actors() {
        assert_eq!(
            Participant::parse("actors/osce-minsk-group"),
            Some(Participant::Actor("osce-minsk-group".into()))
        );
        assert!(matches!(
            Participant::parse("countries/RU"),
            Some(Participant::Country(_))
        ));
        for bad in [
            "actors/",
            "actors/OSCE",
            "treaties/t01",
            "osce",
            "actors/a/b",
        ] {
            assert_eq!(Participant::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_conflict_without_sides_gets_the_actor_against_the_counterparts() {
        let mut event = pb::Event {
            kind: pb::EventKind::ArmedConflict as i32,
            actor: "countries/AM".into(),
            counterparts: vec!["countries/AZ".into()],
            ..Default::default()
        };
        assert!(fill_conflict_sides(&mut event));
        assert_eq!(event.side_a[0].participant, "countries/AM");
        assert_eq!(event.side_b[0].participant, "countries/AZ");
        assert_eq!(
            event.side_b[0].standing,
            pb::BelligerentStanding::Primary as i32
        );
        assert!(!fill_conflict_sides(&mut event), "once");
    }
}
