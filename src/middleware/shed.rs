//! A bound on concurrent calls across all connections (tonic's own limit is
//! per connection, which a sidecar multiplexing everything onto one
//! connection makes useless). Past the bound, calls are refused at once with
//! RESOURCE_EXHAUSTED instead of queueing; health checks are never refused,
//! so probes keep answering under overload.

use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;
use tower::{Layer, Service};

use super::answer::Answer;

#[derive(Clone)]
pub struct LoadShedLayer {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl LoadShedLayer {
    pub fn new(max_concurrent_calls: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent_calls)),
            limit: max_concurrent_calls,
        }
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            permits: Arc::clone(&self.permits),
            limit: self.limit,
        }
    }
}

#[derive(Clone)]
pub struct LoadShed<S> {
    inner: S,
    permits: Arc<Semaphore>,
    limit: usize,
}

impl<S, B> Service<http::Request<B>> for LoadShed<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    /// Holds the call's permit until the call is over.
    type Future = Answer<S::Future, S::Response, Option<OwnedSemaphorePermit>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path().starts_with("/grpc.health.v1.Health/") {
            return Answer::inner(self.inner.call(request), None);
        }
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            let status = Status::resource_exhausted(format!(
                "the server is at its limit of {} concurrent calls: retry with backoff",
                self.limit
            ));
            return Answer::now(status.into_http());
        };
        Answer::inner(self.inner.call(request), Some(permit))
    }
}
