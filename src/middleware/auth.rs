//! Bearer tokens: reads are open unless configured otherwise, every write
//! needs a token with write scope. Tokens are compared as SHA-256 digests in
//! constant time, and never logged or echoed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::Status;
use tower::{Layer, Service};

use super::answer::Answer;
use crate::startup::StartupError;

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Read,
    ReadWrite,
}

/// The configured tokens.
#[derive(Clone, Default)]
pub struct Tokens {
    digests: Vec<([u8; 32], Scope)>,
    /// Reads need a token too.
    pub require_for_reads: bool,
    /// With mutual TLS, what a verified client certificate allows (it then
    /// stands in for a token); `None`: certificates are not credentials.
    pub client_certificates: Option<Scope>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    pub fn add(&mut self, token: &str, scope: Scope) {
        self.digests.push((digest(token), scope));
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The scope of `token`, checking every configured token (no early exit,
    /// so timing says nothing about which one nearly matched).
    pub fn scope_of(&self, token: &str) -> Option<Scope> {
        let presented = digest(token);
        let mut found = None;
        for (known, scope) in &self.digests {
            if bool::from(known.ct_eq(&presented)) {
                found = Some(*scope);
            }
        }
        found
    }

    /// Reads a tokens file: one `read TOKEN` or `write TOKEN` a line; blank
    /// lines and `#` comments are skipped.
    pub fn load_file(&mut self, path: &Path) -> Result<(), StartupError> {
        let text = std::fs::read_to_string(path).map_err(|source| StartupError::File {
            action: "read",
            what: "tokens file",
            path: path.to_path_buf(),
            source,
        })?;
        let bad_line = |line: usize, reason| StartupError::TokensFile {
            path: path.to_path_buf(),
            line,
            reason,
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (scope, token) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad_line(i + 1, "expected `read TOKEN` or `write TOKEN`"))?;
            let scope = match scope {
                "read" => Scope::Read,
                "write" => Scope::ReadWrite,
                _ => return Err(bad_line(i + 1, "the scope must be `read` or `write`")),
            };
            let token = token.trim();
            if token.len() < 16 {
                return Err(bad_line(i + 1, "tokens must be at least 16 characters"));
            }
            self.add(token, scope);
        }
        Ok(())
    }
}

/// The token file a new data dir gets when no token is configured, so that
/// a new user can still write (e.g. with grpcurl).
pub fn generated_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("auth-token")
}

/// Reads the generated token of `data_dir`, creating it (mode 0600) if needed.
pub fn ensure_generated_token(data_dir: &Path) -> Result<(String, bool), StartupError> {
    let path = generated_token_path(data_dir);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim().to_string();
        if token.len() >= 16 {
            return Ok((token, false));
        }
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_private(&path, &format!("{token}\n")).map_err(|source| StartupError::File {
        action: "write",
        what: "generated token file",
        path: path.clone(),
        source,
    })?;
    Ok((token, true))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// What a method needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Health and reflection: always open.
    Open,
    Read,
    Write,
}

fn access_of(path: &str) -> Access {
    let Some(rest) = path.strip_prefix("/diplomacy.v1.") else {
        return Access::Open;
    };
    let method = rest.rsplit('/').next().unwrap_or_default();
    let writes = ["Create", "Update", "Delete"];
    if writes.iter().any(|w| method.starts_with(w)) || method == "ImportRecords" {
        Access::Write
    } else {
        Access::Read
    }
}

/// The bearer token of a request, if any.
fn bearer<B>(request: &http::Request<B>) -> Option<&str> {
    let value = request
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// True when the connection presented a client certificate that TLS verified
/// against the configured client CA.
fn has_client_certificate<B>(request: &http::Request<B>) -> bool {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    request
        .extensions()
        .get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(|info| info.peer_certs())
        .is_some_and(|certs| !certs.is_empty())
}

/// Decides a request: `None` lets it through.
fn refusal<B>(tokens: &Tokens, request: &http::Request<B>) -> Option<Status> {
    let access = access_of(request.uri().path());
    let needs_token = match access {
        Access::Open => return None,
        Access::Read => tokens.require_for_reads,
        Access::Write => true,
    };
    if !needs_token {
        return None;
    }
    let scope = match bearer(request) {
        None if tokens.client_certificates.is_some() && has_client_certificate(request) => {
            tokens.client_certificates
        }
        None => {
            return Some(Status::unauthenticated(
                "this call needs `authorization: Bearer <token>` metadata",
            ))
        }
        Some(token) => tokens.scope_of(token),
    };
    match (scope, access) {
        (None, _) => Some(Status::unauthenticated("the bearer token is not valid")),
        (Some(Scope::Read), Access::Write) => Some(Status::permission_denied(
            "this token may only read: writes need a read-write token",
        )),
        _ => None,
    }
}

/// The layer that checks tokens.
#[derive(Clone)]
pub struct AuthLayer {
    tokens: Arc<Tokens>,
}

impl AuthLayer {
    pub fn new(tokens: Tokens) -> Self {
        Self {
            tokens: Arc::new(tokens),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            tokens: Arc::clone(&self.tokens),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    tokens: Arc<Tokens>,
}

impl<S, B> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answer<S::Future, S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if let Some(status) = refusal(&self.tokens, &request) {
            return Answer::now(status.into_http());
        }
        Answer::inner(self.inner.call(request), ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, token: Option<&str>) -> http::Request<()> {
        let mut builder = http::Request::builder().uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn the_auth_matrix() {
        let mut tokens = Tokens::default();
        tokens.add("read-token-0123456789", Scope::Read);
        tokens.add("write-token-0123456789", Scope::ReadWrite);
        let get = "/diplomacy.v1.RelationService/GetRelation";
        let create = "/diplomacy.v1.TreatyService/CreateTreaty";
        let code = |path, token| refusal(&tokens, &request(path, token)).map(|s| s.code());
        assert_eq!(code(get, None), None, "reads are open by default");
        assert_eq!(code(create, None), Some(tonic::Code::Unauthenticated));
        assert_eq!(
            code(create, Some("wrong-token-0123456789")),
            Some(tonic::Code::Unauthenticated)
        );
        assert_eq!(
            code(create, Some("read-token-0123456789")),
            Some(tonic::Code::PermissionDenied)
        );
        assert_eq!(code(create, Some("write-token-0123456789")), None);
        assert_eq!(code("/grpc.health.v1.Health/Check", None), None);
        assert_eq!(
            code(
                "/diplomacy.v1.RecordService/ImportRecords",
                Some("read-token-0123456789")
            ),
            Some(tonic::Code::PermissionDenied)
        );
        tokens.require_for_reads = true;
        let code = |path, token| refusal(&tokens, &request(path, token)).map(|s| s.code());
        assert_eq!(code(get, None), Some(tonic::Code::Unauthenticated));
        assert_eq!(code(get, Some("read-token-0123456789")), None);
        assert_eq!(
            code("/grpc.health.v1.Health/Check", None),
            None,
            "probes stay open"
        );
    }
}
