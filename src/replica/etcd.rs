//! The etcd client: the calls a replica makes (range, txn, status, watch),
//! each tried on the next endpoint when one cannot be reached, and every
//! failure an `Error::Unavailable` naming etcd and the endpoint.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::error::{Error, Result};
use crate::pb::etcd::etcdserverpb as rpc;
use rpc::kv_client::KvClient;
use rpc::maintenance_client::MaintenanceClient;

/// The longest a unary call to etcd may take. A leader election (the test
/// cluster's election timeout is 2.5 s) fits in it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to each endpoint of one etcd cluster.
pub struct Etcd {
    endpoints: Vec<(String, Channel)>,
    /// The endpoint that answered last: tried first.
    current: AtomicUsize,
}

impl Etcd {
    /// Channels to `urls` (`http://host:port`), connected on first use.
    pub fn new(urls: &[String]) -> Result<Self, String> {
        if urls.is_empty() {
            return Err("--etcd-endpoints: give at least one URL".into());
        }
        let endpoints = urls
            .iter()
            .map(|url| {
                let endpoint = Endpoint::from_shared(url.clone())
                    .map_err(|e| format!("--etcd-endpoints: `{url}` is not a URL: {e}"))?
                    .connect_timeout(Duration::from_secs(2))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(10))
                    .keep_alive_timeout(Duration::from_secs(5))
                    .keep_alive_while_idle(true);
                Ok((url.clone(), endpoint.connect_lazy()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            endpoints,
            current: AtomicUsize::new(0),
        })
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
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let start = self.current.load(Ordering::Relaxed);
        let mut last = String::new();
        for step in 0..self.endpoints.len() {
            let index = (start + step) % self.endpoints.len();
            let (url, channel) = &self.endpoints[index];
            let failure = match tokio::time::timeout(CALL_TIMEOUT, call(channel.clone())).await {
                Ok(Ok(response)) => {
                    self.current.store(index, Ordering::Relaxed);
                    return Ok(response.into_inner());
                }
                Ok(Err(status)) => status,
                Err(_) => Status::deadline_exceeded(format!("no answer in {CALL_TIMEOUT:?}")),
            };
            crate::replica::metrics::etcd_error();
            last = format!("etcd at {url}: {what}: {}", failure.message());
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

/// A refusal by etcd itself (not an outage): what it said, naming etcd.
fn refused(url: &str, what: &str, status: &Status) -> Error {
    Error::Unavailable(format!(
        "etcd at {url} refused the {what}: {} ({:?})",
        status.message(),
        status.code()
    ))
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
