//! Corrects three status codes that tonic produces differently from the gRPC
//! spec, so that clients can rely on the spec:
//! - a request that does not decode: tonic says INTERNAL, it is the
//!   client's INVALID_ARGUMENT;
//! - a request over the size limit: tonic says OUT_OF_RANGE, the spec says
//!   RESOURCE_EXHAUSTED;
//! - an expired `grpc-timeout`: tonic says CANCELLED, the spec says
//!   DEADLINE_EXCEEDED.
//!
//! These errors happen before any handler runs, so tonic answers them
//! "trailers-only": the status is in the response headers, where this layer
//! rewrites it.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::HeaderValue;
use tower::{Layer, Service};

use super::{GRPC_MESSAGE, GRPC_STATUS};

/// (tonic's code, start of tonic's message, the code to send instead)
const FIXES: [(&str, &str, &str); 3] = [
    ("13", "failed to decode Protobuf message", "3"),
    ("11", "Error, decoded message length too large", "8"),
    ("1", "Timeout expired", "4"),
];

fn fix_headers(headers: &mut http::HeaderMap) {
    let Some(code) = headers.get(GRPC_STATUS).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let message = headers
        .get(GRPC_MESSAGE)
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    for (from, prefix, to) in FIXES {
        if code == from && message.starts_with(prefix) {
            headers.insert(GRPC_STATUS, HeaderValue::from_static(to));
            return;
        }
    }
}

/// grpc-message is percent-encoded; only the prefix matters here.
fn percent_decode(message: &str) -> String {
    message
        .replace("%20", " ")
        .replace("%2C", ",")
        .replace("%3A", ":")
}

#[derive(Clone, Copy, Default)]
pub struct StatusFixLayer;

impl<S> Layer<S> for StatusFixLayer {
    type Service = StatusFix<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StatusFix { inner }
    }
}

#[derive(Clone)]
pub struct StatusFix<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for StatusFix<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Fixed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        Fixed {
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner call's response with its status fixed.
    pub struct Fixed<F> {
        #[pin]
        inner: F,
    }
}

impl<F, R, E> Future for Fixed<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut response = ready!(self.project().inner.poll(cx))?;
        fix_headers(response.headers_mut());
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_the_known_cases() {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from_static("11"));
        headers.insert(
            "grpc-message",
            HeaderValue::from_static(
                "Error,%20decoded%20message%20length%20too%20large: found 5 bytes",
            ),
        );
        fix_headers(&mut headers);
        assert_eq!(headers["grpc-status"], "8");

        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from_static("11"));
        headers.insert(
            "grpc-message",
            HeaderValue::from_static("revision 3 is older"),
        );
        fix_headers(&mut headers);
        assert_eq!(headers["grpc-status"], "11", "our own OUT_OF_RANGE stays");
    }
}
