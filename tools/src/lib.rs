//! Tools around the `diplomacy` service that are not the service: a
//! synthetic data generator (`generate`, and `dipex` for a Diplomatic
//! Exchange file) and a load generator that starts
//! the server binary and measures it (`bench`).

#![forbid(unsafe_code)]

pub mod bench;
pub mod dipex;
pub mod generate;
