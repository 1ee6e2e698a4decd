//! Plain Rust rules of the service: dates with precision, resource names and
//! how relations follow from facts. No tonic, no sled in here.

pub mod countries;
pub mod date;
pub mod mediation;
pub mod names;
pub mod relation;
pub mod search;
pub mod standing;
pub mod statehood;

pub use date::{DateError, PartialDate, Precision};
pub use names::{Collection, CountryCode, CountryPair};
