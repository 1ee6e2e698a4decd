//! Read-your-writes across replicas, as Kubernetes offers it for reads from
//! its watch cache: every response says the revision the server had applied
//! when it answered (`x-diplomacy-revision`), and a call may ask to be
//! answered no earlier than a revision (`x-diplomacy-min-revision: R`), or
//! than the newest one the source of truth has (`x-diplomacy-consistency:
//! strong`). The wait is bounded by the call's deadline (`DeadlineLayer`,
//! outside this one), which answers DEADLINE_EXCEEDED.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{HeaderName, HeaderValue};
use tokio::sync::watch;
use tonic::Status;
use tower::{Layer, Service};

use super::BoxFuture;
use crate::error::{Error, FieldViolation};
use crate::store::Store;

pub const REVISION_HEADER: &str = "x-diplomacy-revision";
pub const MIN_REVISION_HEADER: &str = "x-diplomacy-min-revision";
pub const CONSISTENCY_HEADER: &str = "x-diplomacy-consistency";

// The same names parsed once, for the lookups every call makes.
pub const REVISION: HeaderName = HeaderName::from_static(REVISION_HEADER);
const MIN_REVISION: HeaderName = HeaderName::from_static(MIN_REVISION_HEADER);
const CONSISTENCY: HeaderName = HeaderName::from_static(CONSISTENCY_HEADER);

/// Where the newest revision comes from: the store (embedded), or etcd (a
/// replica). The applied one is always the store's (`Store::seen_revision`).
pub trait RevisionSource: Send + Sync + 'static {
    /// The newest revision of the source of truth (a linearizable read of
    /// etcd; the store's own in embedded mode).
    fn newest(&self) -> BoxFuture<i64, Error>;
}

/// The revisions of an embedded store: its own.
pub struct EmbeddedRevisions(pub Arc<Store>);

impl RevisionSource for EmbeddedRevisions {
    fn newest(&self) -> BoxFuture<i64, Error> {
        let revision = self.0.revision();
        Box::pin(async move { Ok(revision) })
    }
}

/// A `RevisionSource` for the server's options.
#[derive(Clone)]
pub struct Revisions(pub Arc<dyn RevisionSource>);

impl std::fmt::Debug for Revisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revisions")
    }
}

#[derive(Clone)]
pub struct ConsistencyLayer {
    applied: watch::Receiver<i64>,
    source: Arc<dyn RevisionSource>,
}

impl ConsistencyLayer {
    /// `applied`: the store's applied revision (`Store::seen_revision`).
    pub fn new(applied: watch::Receiver<i64>, source: Arc<dyn RevisionSource>) -> Self {
        Self { applied, source }
    }
}

impl<S> Layer<S> for ConsistencyLayer {
    type Service = Consistency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Consistency {
            inner,
            applied: self.applied.clone(),
            source: Arc::clone(&self.source),
        }
    }
}

#[derive(Clone)]
pub struct Consistency<S> {
    inner: S,
    applied: watch::Receiver<i64>,
    source: Arc<dyn RevisionSource>,
}

/// What a call asked to wait for, when it asked to wait.
#[derive(Debug, PartialEq)]
enum Wait {
    AtLeast(i64),
    Newest,
}

fn asked(headers: &http::HeaderMap) -> Result<Option<Wait>, Error> {
    let text = |name: HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if let Some(value) = text(CONSISTENCY) {
        return match value {
            "strong" => Ok(Some(Wait::Newest)),
            "eventual" => Ok(None),
            other => Err(Error::InvalidArgument(vec![FieldViolation::new(
                CONSISTENCY_HEADER,
                format!("must be `strong` or `eventual`, not `{other}`"),
            )])),
        };
    }
    match text(MIN_REVISION) {
        None => Ok(None),
        Some(value) => match value.parse::<i64>() {
            Ok(revision) if revision >= 0 => Ok(Some(Wait::AtLeast(revision))),
            _ => Err(Error::InvalidArgument(vec![FieldViolation::new(
                MIN_REVISION_HEADER,
                format!("must be a revision (a whole number, 0 or more), not `{value}`"),
            )])),
        },
    }
}

impl<S, B> Service<http::Request<B>> for Consistency<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Consistent<S::Future, S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let wait = match asked(request.headers()) {
            Ok(wait) => wait,
            Err(error) => {
                return Consistent::Now {
                    response: Some(with_revision(
                        Status::from(error).into_http(),
                        &self.applied,
                    )),
                }
            }
        };
        let Some(wait) = wait else {
            // Most calls: no wait, so no task of our own around the call.
            return Consistent::Call {
                future: self.inner.call(request),
                applied: self.applied.clone(),
            };
        };
        // The service polled ready is the one that must take the call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let source = Arc::clone(&self.source);
        let mut applied = self.applied.clone();
        let future = Box::pin(async move {
            let target = match wait {
                Wait::AtLeast(revision) => revision,
                Wait::Newest => match source.newest().await {
                    Ok(revision) => revision,
                    Err(error) => {
                        return Ok(with_revision(Status::from(error).into_http(), &applied))
                    }
                },
            };
            if applied.wait_for(|r| *r >= target).await.is_err() {
                let status = Status::unavailable("the server is shutting down");
                return Ok(with_revision(status.into_http(), &applied));
            }
            let response = inner.call(request).await?;
            Ok(with_revision(response, &applied))
        });
        Consistent::Waiting { future }
    }
}

pin_project_lite::pin_project! {
    /// A call's answer with the applied revision: refused at once (a bad
    /// header), called at once, or called after waiting for a revision.
    #[project = ConsistentProjection]
    pub enum Consistent<F, T, E> {
        Now { response: Option<T> },
        Call {
            #[pin]
            future: F,
            applied: watch::Receiver<i64>,
        },
        Waiting { future: BoxFuture<T, E> },
    }
}

impl<F, R, E> Future for Consistent<F, http::Response<R>, E>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ConsistentProjection::Now { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Not polled again once complete (the Future contract).
                None => Poll::Pending,
            },
            ConsistentProjection::Call { future, applied } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(with_revision(response, applied)))
            }
            ConsistentProjection::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

/// The applied revision after the call: for a write, at least its own.
fn with_revision<T>(
    mut response: http::Response<T>,
    applied: &watch::Receiver<i64>,
) -> http::Response<T> {
    let revision = *applied.borrow();
    response
        .headers_mut()
        .insert(REVISION, HeaderValue::from(revision));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn a_call_asks_for_a_revision_the_newest_or_nothing() {
        assert_eq!(asked(&headers(&[])).ok(), Some(None));
        assert_eq!(
            asked(&headers(&[(MIN_REVISION_HEADER, "42")])).ok(),
            Some(Some(Wait::AtLeast(42)))
        );
        assert_eq!(
            asked(&headers(&[(CONSISTENCY_HEADER, "strong")])).ok(),
            Some(Some(Wait::Newest))
        );
        assert_eq!(
            asked(&headers(&[(CONSISTENCY_HEADER, "eventual")])).ok(),
            Some(None),
            "eventual waits for nothing"
        );
        for (name, bad) in [
            (MIN_REVISION_HEADER, "-1"),
            (MIN_REVISION_HEADER, "ten"),
            (CONSISTENCY_HEADER, "linearizable"),
        ] {
            match asked(&headers(&[(name, bad)])) {
                Err(Error::InvalidArgument(violations)) => assert_eq!(violations[0].field, name),
                other => panic!("{name}: {bad} gave {other:?}"),
            }
        }
    }
}
