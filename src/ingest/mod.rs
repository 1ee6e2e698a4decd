//! Records in and out of the service: JSON Lines, the built-in seed, the
//! reference data, and the bulk import shared by the `ImportRecords` RPC and
//! `diplomacy import`. Everything here writes through the store's single
//! writer; nothing here knows gRPC.

pub mod cow_alliance;
mod cow_codes;
pub mod cow_dipex;
pub mod cow_states;
mod importer;
pub mod iso_codes;
mod jsonl;
mod seed;
mod source;
mod sparql_json;
mod spool;
pub mod states;
mod table;
pub mod ucdp;
mod upsert;
pub mod wikidata;

pub use importer::{import, ImportTarget, Mode, RecordError, Report};
pub use jsonl::{parse_jsonl, parse_line, to_json_line, JsonLinesFile};
pub use seed::{
    builtin_country_records, initialise, load_builtin, seed_records, served_country_records,
    SEED_JSONL,
};
pub use source::{Item, LineError, Source};
pub use spool::{Spool, Spooled};
pub use upsert::{check_import, upsert_all, upsert_op, BATCH};
