//! The etcd client: the calls a replica makes (range, txn, status, watch),
//! each tried on the next endpoint when one cannot be reached, and every
//! failure an `Error::Unavailable` naming etcd and the endpoint. Client TLS
//! (a CA, and a client certificate where etcd asks for one) and etcd's own
//! users: the token a user's password buys is sent with every call, and
//! bought again when etcd says it expired.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};

use crate::error::{Error, Result};
use crate::pb::etcd::etcdserverpb as rpc;
use rpc::auth_client::AuthClient;
use rpc::kv_client::KvClient;
use rpc::maintenance_client::MaintenanceClient;

/// How to reach etcd and who to be there.
#[derive(Clone, Debug, Default)]
pub struct EtcdOptions {
    /// `http://host:port` or `https://host:port` of each member.
    pub endpoints: Vec<String>,
    /// The CA that signed etcd's certificate (PEM), for `https` endpoints.
    pub ca: Option<PathBuf>,
    /// A client certificate and its key (PEM), where etcd requires one.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// An etcd user and its password, where etcd has authentication on.
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Sends the user's token, when there is one, with a call.
#[derive(Clone)]
pub struct Token(Option<MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Token {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(token) = &self.0 {
            request.metadata_mut().insert("token", token.clone());
        }
        Ok(request)
    }
}

/// A channel to one member, with the token.
pub type Authed = InterceptedService<Channel, Token>;

/// The longest a unary call to etcd may take. A leader election (the test
/// cluster's election timeout is 2.5 s) fits in it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to each endpoint of one etcd cluster.
pub struct Etcd {
    endpoints: Vec<(String, Channel)>,
    /// The endpoint that answered last: tried first.
    current: AtomicUsize,
    user: Option<(String, String)>,
    token: RwLock<Option<MetadataValue<tonic::metadata::Ascii>>>,
}

impl Etcd {
    /// Channels to `urls` (plain `http`), connected on first use.
    pub fn new(urls: &[String]) -> Result<Self, String> {
        Self::with(&EtcdOptions {
            endpoints: urls.to_vec(),
            ..Default::default()
        })
    }

    /// Channels to each endpoint (TLS for `https` ones), connected on first
    /// use; the user's token is bought by `authenticate`.
    pub fn with(options: &EtcdOptions) -> Result<Self, String> {
        if options.endpoints.is_empty() {
            return Err("--etcd-endpoints: give at least one URL".into());
        }
        let tls = tls_config(options)?;
        let endpoints = options
            .endpoints
            .iter()
            .map(|url| {
                let mut endpoint = Endpoint::from_shared(url.clone())
                    .map_err(|e| format!("--etcd-endpoints: `{url}` is not a URL: {e}"))?
                    .connect_timeout(Duration::from_secs(2))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(10))
                    .keep_alive_timeout(Duration::from_secs(5))
                    .keep_alive_while_idle(true);
                if url.starts_with("https://") {
                    let tls = tls.clone().ok_or_else(|| {
                        format!("--etcd-ca: `{url}` is https, so give the CA that signed etcd's certificate")
                    })?;
                    endpoint = endpoint
                        .tls_config(tls)
                        .map_err(|e| format!("TLS to etcd at {url}: {e}"))?;
                }
                Ok((url.clone(), endpoint.connect_lazy()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let user = match (&options.user, &options.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.clone())),
            (Some(user), None) => {
                return Err(format!(
                    "--etcd-user {user}: give its password (--etcd-password-file, or DIPLOMACY_ETCD_PASSWORD)"
                ))
            }
            (None, _) => None,
        };
        Ok(Self {
            endpoints,
            current: AtomicUsize::new(0),
            user,
            token: RwLock::new(None),
        })
    }

    /// Buys a token with the user's password (nothing to do without a
    /// user). A refusal names etcd, the user and etcd's reason.
    pub async fn authenticate(&self) -> Result<()> {
        let Some((user, password)) = &self.user else {
            return Ok(());
        };
        let request = rpc::AuthenticateRequest {
            name: user.clone(),
            password: password.clone(),
        };
        let mut last = String::new();
        for (url, channel) in &self.endpoints {
            let answer = tokio::time::timeout(
                CALL_TIMEOUT,
                AuthClient::new(channel.clone()).authenticate(request.clone()),
            )
            .await;
            match answer {
                Ok(Ok(response)) => {
                    let token =
                        MetadataValue::try_from(response.into_inner().token).map_err(|e| {
                            Error::Unavailable(format!(
                                "etcd at {url} gave a token that is not a header value: {e}"
                            ))
                        })?;
                    if let Ok(mut slot) = self.token.write() {
                        *slot = Some(token);
                    }
                    return Ok(());
                }
                Ok(Err(status)) if status.code() != Code::Unavailable => {
                    return Err(Error::Unavailable(format!(
                        "etcd at {url} refused the user {user}: {}",
                        describe(&status)
                    )))
                }
                Ok(Err(status)) => last = format!("etcd at {url}: {}", describe(&status)),
                Err(_) => last = format!("etcd at {url}: no answer in {CALL_TIMEOUT:?}"),
            }
        }
        Err(Error::Unavailable(format!(
            "etcd is unreachable ({}): {last}",
            self.describe()
        )))
    }

    /// The token to send (none without a user).
    pub fn token(&self) -> Token {
        Token(self.token.read().ok().and_then(|t| t.clone()))
    }

    /// `channel` with the token.
    pub fn authed(&self, channel: Channel) -> Authed {
        InterceptedService::new(channel, self.token())
    }

    /// The endpoints, for messages.
    pub fn describe(&self) -> String {
        let urls: Vec<&str> = self.endpoints.iter().map(|(url, _)| url.as_str()).collect();
        urls.join(",")
    }

    /// The endpoint to try first, and its channel (the watch's).
    pub fn channel(&self) -> (String, Channel) {
        let (url, channel) =
            &self.endpoints[self.current.load(Ordering::Relaxed) % self.endpoints.len()];
        (url.clone(), channel.clone())
    }

    /// The next endpoint becomes the first to try (after a failure).
    pub fn rotate(&self) {
        self.current.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `call` on each endpoint in turn until one answers. `resend`:
    /// whether a request that may have reached etcd can be sent again (a
    /// read can; a transaction only when it never left).
    async fn call<T, F, Fut>(&self, what: &str, resend: bool, call: F) -> Result<T>
    where
        F: Fn(Authed) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let start = self.current.load(Ordering::Relaxed);
        let mut last = String::new();
        let mut renewed = false;
        let mut step = 0;
        while step < self.endpoints.len() {
            let index = (start + step) % self.endpoints.len();
            let (url, channel) = &self.endpoints[index];
            let attempt = call(self.authed(channel.clone()));
            let failure = match tokio::time::timeout(CALL_TIMEOUT, attempt).await {
                Ok(Ok(response)) => {
                    self.current.store(index, Ordering::Relaxed);
                    return Ok(response.into_inner());
                }
                Ok(Err(status)) => status,
                Err(_) => Status::deadline_exceeded(format!("no answer in {CALL_TIMEOUT:?}")),
            };
            crate::replica::metrics::etcd_error();
            if !renewed && self.user.is_some() && failure.message().contains("invalid auth token") {
                // Tokens expire (etcd's --auth-token-ttl): buy another, once.
                renewed = true;
                self.authenticate().await?;
                continue;
            }
            step += 1;
            last = format!("etcd at {url}: {what}: {}", describe(&failure));
            let never_sent =
                failure.code() == Code::Unavailable && failure.message().contains("connect");
            let retry = match failure.code() {
                Code::Unavailable | Code::DeadlineExceeded | Code::Unknown => resend || never_sent,
                _ => false,
            };
            if !retry {
                return Err(refused(url, what, &failure));
            }
            tracing::warn!(endpoint = %url, error = %failure.message(), "{what}: etcd did not answer; trying the next endpoint");
        }
        Err(Error::Unavailable(format!(
            "etcd is unreachable ({}): {last}",
            self.describe()
        )))
    }

    pub async fn range(&self, request: rpc::RangeRequest) -> Result<rpc::RangeResponse> {
        self.call("range", true, |channel| {
            let request = request.clone();
            async move { KvClient::new(channel).range(request).await }
        })
        .await
    }

    pub async fn txn(&self, request: rpc::TxnRequest) -> Result<rpc::TxnResponse> {
        self.call("txn", false, |channel| {
            let request = request.clone();
            async move {
                KvClient::new(channel)
                    .max_decoding_message_size(64 << 20)
                    .txn(request)
                    .await
            }
        })
        .await
    }

    pub async fn compact(&self, revision: i64) -> Result<()> {
        let request = rpc::CompactionRequest {
            revision,
            physical: true,
        };
        self.call("compact", true, |channel| async move {
            KvClient::new(channel).compact(request).await
        })
        .await
        .map(drop)
    }

    /// The cluster's id and its newest revision (a linearizable read).
    pub async fn newest(&self, prefix: &[u8]) -> Result<(u64, i64)> {
        let response = self
            .range(rpc::RangeRequest {
                key: prefix.to_vec(),
                range_end: prefix_end(prefix),
                count_only: true,
                ..Default::default()
            })
            .await?;
        let header = response.header.unwrap_or_default();
        Ok((header.cluster_id, header.revision))
    }

    /// Every key under `prefix` as it was at `revision`, in pages.
    pub fn pages(&self, prefix: &[u8], revision: i64) -> Pages<'_> {
        Pages {
            etcd: self,
            from: prefix.to_vec(),
            end: prefix_end(prefix),
            revision,
            done: false,
        }
    }

    /// The member's status (its database size and quota among it).
    pub async fn status(&self) -> Result<rpc::StatusResponse> {
        self.call("status", true, |channel| async move {
            MaintenanceClient::new(channel)
                .status(rpc::StatusRequest {})
                .await
        })
        .await
    }
}

/// Records read per range page.
const PAGE: i64 = 1000;

/// The keys under a prefix at one revision, a page at a time
/// (`Etcd::pages`).
pub struct Pages<'a> {
    etcd: &'a Etcd,
    from: Vec<u8>,
    end: Vec<u8>,
    revision: i64,
    done: bool,
}

impl Pages<'_> {
    /// The next page; `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<crate::pb::etcd::mvccpb::KeyValue>>> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .etcd
            .range(rpc::RangeRequest {
                key: self.from.clone(),
                range_end: self.end.clone(),
                limit: PAGE,
                revision: self.revision,
                ..Default::default()
            })
            .await?;
        match page.kvs.last() {
            Some(last) if page.more => {
                self.from = last.key.clone();
                self.from.push(0);
            }
            _ => self.done = true,
        }
        Ok(Some(page.kvs))
    }
}

/// A refusal by etcd itself (not an outage): what it said, naming etcd.
fn refused(url: &str, what: &str, status: &Status) -> Error {
    Error::Unavailable(format!(
        "etcd at {url} refused the {what}: {} ({:?})",
        describe(status),
        status.code()
    ))
}

/// A status's message and the errors under it (a TLS failure says what
/// was wrong with the certificate only there).
pub fn describe(status: &Status) -> String {
    let mut text = status.message().to_string();
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        let more = error.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = error.source();
    }
    text
}

/// The TLS settings for `https` endpoints: the CA, and the client
/// certificate when one is given.
fn tls_config(options: &EtcdOptions) -> Result<Option<ClientTlsConfig>, String> {
    let read = |flag: &str, path: &PathBuf| {
        std::fs::read(path).map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))
    };
    let Some(ca) = &options.ca else {
        if options.cert.is_some() || options.key.is_some() {
            return Err(
                "--etcd-cert and --etcd-key need --etcd-ca (the CA that signed etcd's certificate)"
                    .into(),
            );
        }
        return Ok(None);
    };
    let mut config =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("--etcd-ca", ca)?));
    match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(
                read("--etcd-cert", cert)?,
                read("--etcd-key", key)?,
            ));
        }
        (None, None) => {}
        _ => return Err("--etcd-cert and --etcd-key go together".into()),
    }
    Ok(Some(config))
}

/// The first key after every key that starts with `prefix` (etcd's
/// `range_end` for a prefix).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every key: etcd's "\0" range end.
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_at_its_successor() {
        assert_eq!(prefix_end(b"/diplomacy/"), b"/diplomacy0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }
}
