//! The one error type of the service and its one mapping to `tonic::Status`.
//!
//! The `match` in `From<Error> for Status` is exhaustive on purpose: a new
//! variant cannot silently become `INTERNAL`.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A request field that is wrong, and why (becomes `google.rpc.BadRequest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// A state of the stored data that forbids the request (becomes
/// `google.rpc.PreconditionFailure`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreconditionViolation {
    /// A short machine-readable kind, e.g. `COUNTRY_NOT_FOUND`.
    pub kind: &'static str,
    /// What it is about, e.g. `countries/XX`.
    pub subject: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid argument: {}", describe_fields(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{resource} not found")]
    NotFound { resource: String },
    #[error("{resource} already exists")]
    AlreadyExists { resource: String },
    #[error("failed precondition: {}", describe_preconditions(.0))]
    FailedPrecondition(Vec<PreconditionViolation>),
    /// The record changed since the client read it (stale etag).
    #[error("{resource} has changed: its etag is now {current}, not {given}")]
    Aborted {
        resource: String,
        given: String,
        current: String,
    },
    /// A change-log position that is no longer held.
    #[error("revision {asked} is older than the change log holds (oldest: {oldest}): resync from an export")]
    OutOfRange { asked: i64, oldest: i64 },
    /// Stored bytes that do not decode: the database is damaged.
    #[error("stored data is damaged: {0}")]
    DataLoss(String),
    /// The storage engine failed (I/O, disk full): worth retrying elsewhere.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn not_found(resource: impl Into<String>) -> Self {
        Error::NotFound {
            resource: resource.into(),
        }
    }

    /// The gRPC code name this error maps to, e.g. `INVALID_ARGUMENT`.
    pub fn code_name(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::AlreadyExists { .. } => "ALREADY_EXISTS",
            Error::FailedPrecondition(_) => "FAILED_PRECONDITION",
            Error::Aborted { .. } => "ABORTED",
            Error::OutOfRange { .. } => "OUT_OF_RANGE",
            Error::DataLoss(_) => "DATA_LOSS",
            Error::Unavailable(_) => "UNAVAILABLE",
        }
    }
}

fn describe_fields(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe_preconditions(violations: &[PreconditionViolation]) -> String {
    violations
        .iter()
        .map(|v| v.description.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::InvalidArgument(violations) => {
                let violations: Vec<_> = violations
                    .into_iter()
                    .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                    .collect();
                Status::with_error_details(
                    Code::InvalidArgument,
                    message,
                    ErrorDetails::with_bad_request(violations),
                )
            }
            Error::NotFound { resource } => Status::with_error_details(
                Code::NotFound,
                message,
                ErrorDetails::with_resource_info(
                    resource_type(&resource),
                    resource,
                    "",
                    "not found",
                ),
            ),
            Error::AlreadyExists { resource } => Status::with_error_details(
                Code::AlreadyExists,
                message,
                ErrorDetails::with_resource_info(
                    resource_type(&resource),
                    resource,
                    "",
                    "already exists",
                ),
            ),
            Error::FailedPrecondition(violations) => {
                let violations: Vec<_> = violations
                    .into_iter()
                    .map(|v| {
                        tonic_types::PreconditionViolation::new(v.kind, v.subject, v.description)
                    })
                    .collect();
                Status::with_error_details(
                    Code::FailedPrecondition,
                    message,
                    ErrorDetails::with_precondition_failure(violations),
                )
            }
            Error::Aborted {
                resource, current, ..
            } => Status::with_error_details(
                Code::Aborted,
                message,
                ErrorDetails::with_error_info(
                    "ETAG_MISMATCH",
                    "diplomacy.v1",
                    [
                        ("resource".to_string(), resource),
                        ("current_etag".to_string(), current),
                    ],
                ),
            ),
            Error::OutOfRange { oldest, .. } => Status::with_error_details(
                Code::OutOfRange,
                message,
                ErrorDetails::with_error_info(
                    "REVISION_COMPACTED",
                    "diplomacy.v1",
                    [("oldest_revision".to_string(), oldest.to_string())],
                ),
            ),
            Error::DataLoss(_) => Status::new(Code::DataLoss, message),
            Error::Unavailable(_) => Status::new(Code::Unavailable, message),
        }
    }
}

/// `treaties/t01` → `diplomacy.v1.Treaty`, for `google.rpc.ResourceInfo`.
fn resource_type(resource: &str) -> &'static str {
    match resource.split('/').next() {
        Some("countries") if resource.contains("/relations/") => "diplomacy.v1.Relation",
        Some("countries") => "diplomacy.v1.Country",
        Some("treaties") => "diplomacy.v1.Treaty",
        Some("meetings") => "diplomacy.v1.Meeting",
        Some("events") => "diplomacy.v1.Event",
        _ => "",
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
