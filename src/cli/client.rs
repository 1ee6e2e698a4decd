//! Reaching a running server: the address, the bearer token, TLS, and a
//! connect timeout, shared by every command that calls the server.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use diplomacy::pb::diplomacy::v1::record_service_client::RecordServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use super::exit::{Exit, Failure};
use super::render::Format;

/// A channel that sends the bearer token with every call.
pub type Authed = InterceptedService<Channel, BearerToken>;

pub type RecordsClient = RecordServiceClient<Authed>;

/// Adds `authorization: Bearer …` to every call.
#[derive(Clone)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// How the client commands reach the server and print its answers.
#[derive(Args, Clone)]
pub struct ClientArgs {
    /// The server: `host:port`, or a URL (`https://…` for TLS).
    #[arg(long, env = "DIPLOMACY_SERVER", default_value = "127.0.0.1:50051")]
    pub server: String,
    /// Bearer token, where the server requires one for reads.
    #[arg(long, env = "DIPLOMACY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// CA certificate (PEM) that signed the server's certificate: calls go
    /// over TLS (as `serve --tls-cert` serves them).
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM), for a server that requires one
    /// (`serve --tls-client-ca`).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds to wait for the connection before giving up (exit code 5).
    #[arg(long, default_value_t = 5.0)]
    pub connect_timeout_secs: f64,
    /// Output: table (a terminal's default), wide, json (proto3 JSON; one
    /// object a line for lists and streams; the default in a pipe), yaml.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<Format>,
}

impl ClientArgs {
    pub fn format(&self) -> Format {
        self.output.unwrap_or_else(Format::default_for_stdout)
    }

    /// A connected channel with the token interceptor.
    pub async fn connect(&self) -> Result<Authed, Failure> {
        let channel = connect(&self.server, self.tls(), self.connect_timeout()).await?;
        let token =
            bearer(self.token.as_deref()).map_err(|e| Failure::new(Exit::InvalidArgument, e))?;
        Ok(InterceptedService::new(channel, token))
    }

    fn connect_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.connect_timeout_secs.clamp(0.001, 3600.0))
    }

    fn tls(&self) -> Tls<'_> {
        Tls {
            ca: self.tls_ca.as_ref(),
            identity: self.tls_cert.as_ref().zip(self.tls_key.as_ref()),
        }
    }
}

/// TLS files for a connection.
#[derive(Default)]
pub struct Tls<'a> {
    pub ca: Option<&'a PathBuf>,
    pub identity: Option<(&'a PathBuf, &'a PathBuf)>,
}

fn read(what: &str, path: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::other(format!("cannot read the {what} {}: {e}", path.display())))
}

/// A channel to `server` (`host:port` or a URL), within `timeout`.
pub async fn connect(server: &str, tls: Tls<'_>, timeout: Duration) -> Result<Channel, Failure> {
    let secure = tls.ca.is_some() || server.starts_with("https://");
    let url = if server.contains("://") {
        server.to_string()
    } else if secure {
        format!("https://{server}")
    } else {
        format!("http://{server}")
    };
    let mut endpoint = tonic::transport::Endpoint::from_shared(url)
        .map_err(|e| Failure::new(Exit::InvalidArgument, format!("--server {server}: {e}")))?;
    if secure {
        let mut config = ClientTlsConfig::new();
        if let Some(ca) = tls.ca {
            config = config.ca_certificate(Certificate::from_pem(read("CA certificate", ca)?));
        }
        if let Some((cert, key)) = tls.identity {
            config = config.identity(Identity::from_pem(
                read("client certificate", cert)?,
                read("client key", key)?,
            ));
        }
        endpoint = endpoint
            .tls_config(config)
            .map_err(|e| Failure::other(format!("TLS: {e}")))?;
    }
    match tokio::time::timeout(timeout, endpoint.connect()).await {
        Ok(Ok(channel)) => Ok(channel),
        Ok(Err(e)) => Err(Failure::new(
            Exit::Unavailable,
            format!("cannot reach the server at {server}: {}", source_chain(&e)),
        )),
        Err(_) => Err(Failure::new(
            Exit::Unavailable,
            format!("cannot reach the server at {server}: no answer within {timeout:?}"),
        )),
    }
}

/// An error with its causes, which say why (e.g. "Connection refused").
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The token as an interceptor.
pub fn bearer(token: Option<&str>) -> Result<BearerToken, &'static str> {
    let header = token
        .map(|t| format!("Bearer {t}").parse())
        .transpose()
        .map_err(|_| "the token is not valid header text")?;
    Ok(BearerToken(header))
}

/// `RecordService` at `server`, for `diplomacy import` and `export`.
pub async fn records_client(server: &str, token: Option<&str>) -> Result<RecordsClient, Failure> {
    let channel = connect(server, Tls::default(), Duration::from_secs(5)).await?;
    Ok(RecordServiceClient::with_interceptor(
        channel,
        bearer(token).map_err(|e| Failure::new(Exit::InvalidArgument, e))?,
    ))
}
