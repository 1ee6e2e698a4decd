//! The gRPC client the data subcommands use against a running server.

use diplomacy::pb::diplomacy::v1::record_service_client::RecordServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type RecordsClient = RecordServiceClient<InterceptedService<Channel, BearerToken>>;

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

/// A channel to `server` (`host:port` or a URL).
pub async fn connect(server: &str) -> Result<Channel, Box<dyn std::error::Error + Send + Sync>> {
    let endpoint = if server.contains("://") {
        server.to_string()
    } else {
        format!("http://{server}")
    };
    let channel = tonic::transport::Endpoint::from_shared(endpoint)?
        .connect()
        .await
        .map_err(|e| format!("cannot reach the server at {server}: {e}"))?;
    Ok(channel)
}

/// The token as an interceptor.
pub fn bearer(token: Option<&str>) -> Result<BearerToken, &'static str> {
    let header = token
        .map(|t| format!("Bearer {t}").parse())
        .transpose()
        .map_err(|_| "the token is not valid header text")?;
    Ok(BearerToken(header))
}

pub async fn records_client(
    server: &str,
    token: Option<&str>,
) -> Result<RecordsClient, Box<dyn std::error::Error + Send + Sync>> {
    Ok(RecordServiceClient::with_interceptor(
        connect(server).await?,
        bearer(token)?,
    ))
}
