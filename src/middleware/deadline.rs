//! Deadlines: every call gets the client's `grpc-timeout` or, when it sends
//! none (or a longer one), the server's default; a call past it is answered
//! DEADLINE_EXCEEDED, as the gRPC spec says (tonic's own timeout answers
//! CANCELLED). `ImportRecords` streams a whole file in one call, which takes
//! minutes at full scale: it has a longer limit of its own.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::HeaderName;
use tonic::Status;
use tower::{Layer, Service};

const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// Parses a `grpc-timeout` value: up to 8 digits and a unit (H M S m u n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The one call whose limit is `DeadlineLayer::import`.
const IMPORT_PATH: &str = "/diplomacy.v1.RecordService/ImportRecords";

#[derive(Clone, Copy)]
pub struct DeadlineLayer {
    default: Duration,
    import: Duration,
}

impl DeadlineLayer {
    /// `default` for every call but `ImportRecords`, which gets `import`.
    pub fn new(default: Duration, import: Duration) -> Self {
        Self { default, import }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            limits: *self,
        }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    limits: DeadlineLayer,
}

impl<S, B> Service<http::Request<B>> for Deadline<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = WithinDeadline<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let asked = request
            .headers()
            .get(GRPC_TIMEOUT)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout);
        let limit = if request.uri().path() == IMPORT_PATH {
            self.limits.import
        } else {
            self.limits.default
        };
        let deadline = asked.map_or(limit, |asked| asked.min(limit));
        WithinDeadline {
            inner: tokio::time::timeout(deadline, self.inner.call(request)),
            deadline,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner call's response, or DEADLINE_EXCEEDED once `deadline` has
    /// passed.
    pub struct WithinDeadline<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        deadline: Duration,
    }
}

impl<F, E> Future for WithinDeadline<F>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(match ready!(this.inner.poll(cx)) {
            Ok(response) => response,
            Err(_) => Ok(Status::deadline_exceeded(format!(
                "deadline of {:?} exceeded",
                this.deadline
            ))
            .into_http()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grpc_timeouts() {
        assert_eq!(parse_grpc_timeout("50m"), Some(Duration::from_millis(50)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        for bad in ["", "m", "123456789S", "5x", "-1S", "1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }
}
