//! Exit codes scripts can use, and the one-line message of a failure.

use std::process::ExitCode;

use tonic_types::StatusExt;

/// What a command's exit code says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Any other error.
    Other = 1,
    // 2 is clap's own, for usage errors.
    /// The request was refused as invalid: a bad date, name or filter.
    InvalidArgument = 3,
    /// What was asked for does not exist (a record, a country name).
    NotFound = 4,
    /// The server could not be reached, or said it is unavailable.
    Unavailable = 5,
}

/// A failed command: its exit code and one readable line.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Exit::Other, message)
    }

    pub fn code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }

    /// A gRPC status as one line: its code, its message, and each field a
    /// `google.rpc.BadRequest` names.
    pub fn from_status(status: tonic::Status) -> Self {
        let exit = match status.code() {
            tonic::Code::InvalidArgument | tonic::Code::OutOfRange => Exit::InvalidArgument,
            tonic::Code::NotFound => Exit::NotFound,
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => Exit::Unavailable,
            _ => Exit::Other,
        };
        let mut line = format!("{:?}: {}", status.code(), status.message());
        if let Some(bad) = status.get_error_details().bad_request() {
            for violation in &bad.field_violations {
                line.push_str(&format!(
                    " [{}: {}]",
                    violation.field, violation.description
                ));
            }
        }
        Self::new(exit, line)
    }
}

/// Everything else a command can fail with is `Exit::Other`.
impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for Failure {
    fn from(error: E) -> Self {
        Self::other(error.into().to_string())
    }
}
