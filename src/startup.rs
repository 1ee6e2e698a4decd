//! Errors of configuration and start-up: a file that cannot be read, a
//! tokens file with a bad line, a bad flag value. They stop the process with
//! a readable message before any call is served, so they carry no gRPC
//! status (that is `error::Error`, for answers to calls).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A file the configuration names cannot be read or written.
    #[error("cannot {action} the {what} {}: {source}", path.display())]
    File {
        action: &'static str,
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line of the tokens file is not `read TOKEN` or `write TOKEN`.
    #[error("the tokens file {} line {line}: {reason}", path.display())]
    TokensFile {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
    /// A flag's value cannot be used.
    #[error("{flag}: {reason}")]
    Flag { flag: &'static str, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_the_line_and_the_flag() {
        let line = StartupError::TokensFile {
            path: "/etc/tokens".into(),
            line: 3,
            reason: "the scope must be `read` or `write`",
        };
        assert_eq!(
            line.to_string(),
            "the tokens file /etc/tokens line 3: the scope must be `read` or `write`"
        );
        let file = StartupError::File {
            action: "read",
            what: "TLS certificate",
            path: "/tls/cert.pem".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(file
            .to_string()
            .starts_with("cannot read the TLS certificate /tls/cert.pem: "));
    }
}
