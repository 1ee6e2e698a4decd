//! The stored records — countries, actors, treaties, meetings, events — and their
//! rules: validation, and the facts each one contributes to the indexes.
//!
//! Records are the wire messages themselves: the database keeps each as its
//! prost encoding, so the proto is the one schema of both wire and disk.

pub mod codes;
mod facts;
mod roles;
mod statehood;
mod validate;

pub use facts::{recognition_standing, record_facts, Milestone, PairFact, RecordFacts};
pub use roles::{fill_conflict_sides, Participant};
pub use statehood::{is_current, periods_of, statehood_of, successor_links};
pub use validate::{referenced_actors, referenced_countries, validate_record};

use prost_types::Timestamp;

use crate::domain::Collection;
use crate::pb::diplomacy::v1 as pb;

/// Any one record.
pub type Record = pb::record::Kind;

/// What the generic store and API code needs to know of each record type.
pub trait Resource: prost::Message + Default + Clone + Send + Sync + 'static {
    const COLLECTION: Collection;
    /// Fully qualified message name, for reflection-based field masks.
    const MESSAGE: &'static str;
    /// The request field that holds the resource, for error field paths.
    const FIELD: &'static str;

    fn name(&self) -> &str;
    fn set_name(&mut self, name: String);
    fn create_time(&self) -> Option<&Timestamp>;
    fn set_times(&mut self, create: Option<Timestamp>, update: Option<Timestamp>);
    fn into_record(self) -> Record;
    fn from_record(record: Record) -> Option<Self>;
    fn meta(&mut self) -> Meta<'_>;
}

macro_rules! resource {
    ($ty:ident, $collection:ident, $field:literal) => {
        impl Resource for pb::$ty {
            const COLLECTION: Collection = Collection::$collection;
            const MESSAGE: &'static str = concat!("diplomacy.v1.", stringify!($ty));
            const FIELD: &'static str = $field;

            fn name(&self) -> &str {
                &self.name
            }
            fn set_name(&mut self, name: String) {
                self.name = name;
            }
            fn create_time(&self) -> Option<&Timestamp> {
                self.create_time.as_ref()
            }
            fn set_times(&mut self, create: Option<Timestamp>, update: Option<Timestamp>) {
                self.create_time = create;
                self.update_time = update;
            }
            fn into_record(self) -> Record {
                Record::$ty(self)
            }
            fn from_record(record: Record) -> Option<Self> {
                match record {
                    Record::$ty(inner) => Some(inner),
                    _ => None,
                }
            }
            fn meta(&mut self) -> Meta<'_> {
                Meta {
                    create_time: &mut self.create_time,
                    update_time: &mut self.update_time,
                    revision: &mut self.revision,
                    etag: &mut self.etag,
                }
            }
        }
    };
}

resource!(Country, Countries, "country");
resource!(Treaty, Treaties, "treaty");
resource!(Meeting, Meetings, "meeting");
resource!(Event, Events, "event");
resource!(Actor, Actors, "actor");

/// Gives each party of a treaty on which no party has its consent or its
/// own entry into force recorded the treaty's entry into force (or, for a
/// treaty in force with none recorded, its signature) as its own: what the
/// treaty-wide dates meant for it. Every pair stays bound exactly as before
/// (a party that withdrew first still has an empty span). Returns whether
/// anything changed.
pub fn spread_treaty_dates(treaty: &mut pb::Treaty) -> bool {
    let recorded = treaty.parties.iter().any(|p| {
        p.consent_date.is_some()
            || p.ratification_date.is_some()
            || p.entry_into_force_date.is_some()
    });
    let in_force = matches!(
        pb::TreatyStatus::try_from(treaty.status),
        Ok(pb::TreatyStatus::InForce | pb::TreatyStatus::Terminated)
    );
    let from = treaty
        .entry_into_force_date
        .or(if in_force { treaty.signed_date } else { None });
    let (false, Some(from)) = (recorded, from) else {
        return false;
    };
    for party in &mut treaty.parties {
        party.entry_into_force_date = Some(from);
    }
    !treaty.parties.is_empty()
}

/// What a record means, written out before it is stored: an armed conflict
/// given the old way (an actor and counterparts) gets its sides. Returns
/// whether anything changed.
pub fn normalize(record: &mut Record) -> bool {
    match record {
        Record::Event(event) => fill_conflict_sides(event),
        _ => false,
    }
}

/// The resource name of any record.
pub fn record_name(record: &Record) -> &str {
    match record {
        Record::Country(r) => &r.name,
        Record::Treaty(r) => &r.name,
        Record::Meeting(r) => &r.name,
        Record::Event(r) => &r.name,
        Record::Actor(r) => &r.name,
    }
}

/// The collection of any record.
pub fn record_collection(record: &Record) -> Collection {
    match record {
        Record::Country(_) => Collection::Countries,
        Record::Treaty(_) => Collection::Treaties,
        Record::Meeting(_) => Collection::Meetings,
        Record::Event(_) => Collection::Events,
        Record::Actor(_) => Collection::Actors,
    }
}

/// The prost encoding of any record's message (not of the `Record` wrapper).
pub fn encode_record(record: &Record) -> Vec<u8> {
    use prost::Message;
    match record {
        Record::Country(r) => r.encode_to_vec(),
        Record::Treaty(r) => r.encode_to_vec(),
        Record::Meeting(r) => r.encode_to_vec(),
        Record::Event(r) => r.encode_to_vec(),
        Record::Actor(r) => r.encode_to_vec(),
    }
}

/// Decodes a stored record's message of the given collection.
pub fn decode_record(collection: Collection, bytes: &[u8]) -> Result<Record, prost::DecodeError> {
    use prost::Message;
    Ok(match collection {
        Collection::Countries => Record::Country(pb::Country::decode(bytes)?),
        Collection::Treaties => Record::Treaty(pb::Treaty::decode(bytes)?),
        Collection::Meetings => Record::Meeting(pb::Meeting::decode(bytes)?),
        Collection::Events => Record::Event(pb::Event::decode(bytes)?),
        Collection::Actors => Record::Actor(pb::Actor::decode(bytes)?),
    })
}

/// The store-assigned metadata of a record, borrowed mutably.
pub struct Meta<'a> {
    pub create_time: &'a mut Option<Timestamp>,
    pub update_time: &'a mut Option<Timestamp>,
    pub revision: &'a mut i64,
    pub etag: &'a mut String,
}

/// The metadata fields of any record.
pub fn meta(record: &mut Record) -> Meta<'_> {
    macro_rules! fields {
        ($r:expr) => {
            Meta {
                create_time: &mut $r.create_time,
                update_time: &mut $r.update_time,
                revision: &mut $r.revision,
                etag: &mut $r.etag,
            }
        };
    }
    match record {
        Record::Country(r) => fields!(r),
        Record::Treaty(r) => fields!(r),
        Record::Meeting(r) => fields!(r),
        Record::Event(r) => fields!(r),
        Record::Actor(r) => fields!(r),
    }
}

/// The record without its store-assigned revision and etag (what exports
/// carry: they belong to one store, not to the data).
pub fn without_store_meta(mut record: Record) -> Record {
    let m = meta(&mut record);
    *m.revision = 0;
    m.etag.clear();
    record
}

/// Equal content, ignoring times, revision and etag: a write of such a
/// record changes nothing.
pub fn same_content(a: &Record, b: &Record) -> bool {
    let clear = |r: &Record| {
        let mut r = r.clone();
        let m = meta(&mut r);
        *m.create_time = None;
        *m.update_time = None;
        *m.revision = 0;
        m.etag.clear();
        r
    };
    clear(a) == clear(b)
}

/// The etag of a stored record at `revision`.
pub fn etag_for(revision: i64) -> String {
    format!("\"{revision}\"")
}
