//! gRPC-Web and CORS only for the calls that need them: a browser's, which
//! sends an `Origin` header, a preflight (`OPTIONS`), or a gRPC-Web content
//! type. A native gRPC call (every client but a browser, and every call in
//! a mesh) goes past both layers, which otherwise inspect and rewrap every
//! request and response (#28: the tax every call pays before a handler).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tower::{Layer, Service};

/// Puts `web` (the gRPC-Web and CORS layers) in front of the service only
/// for browsers' calls.
#[derive(Clone)]
pub struct BrowserOnlyLayer<L> {
    web: L,
}

impl<L> BrowserOnlyLayer<L> {
    pub fn new(web: L) -> Self {
        Self { web }
    }
}

impl<S: Clone, L: Layer<S>> Layer<S> for BrowserOnlyLayer<L> {
    type Service = BrowserOnly<S, L::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        BrowserOnly {
            web: self.web.layer(inner.clone()),
            plain: inner,
        }
    }
}

#[derive(Clone)]
pub struct BrowserOnly<P, W> {
    plain: P,
    web: W,
}

/// Whether a request comes from a browser (and so may need CORS headers or
/// the gRPC-Web translation).
pub fn from_browser<B>(request: &http::Request<B>) -> bool {
    let headers = request.headers();
    request.method() == http::Method::OPTIONS
        || headers.contains_key(http::header::ORIGIN)
        || headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc-web"))
}

impl<P, W, B> Service<http::Request<B>> for BrowserOnly<P, W>
where
    P: Service<http::Request<B>>,
    W: Service<http::Request<B>, Response = P::Response, Error = P::Error>,
{
    type Response = P::Response;
    type Error = P::Error;
    type Future = Either<P::Future, W::Future>;

    /// Ready when both are: the request, which picks one, is not known yet.
    /// Neither holds anything while ready (no buffer or permit below this
    /// layer), so the one not called loses nothing, and no call pays for a
    /// clone of the services below.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.plain.poll_ready(cx))?;
        self.web.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if from_browser(&request) {
            Either::Web {
                future: self.web.call(request),
            }
        } else {
            Either::Plain {
                future: self.plain.call(request),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The call's future from the service that took it.
    #[project = EitherProjection]
    pub enum Either<P, W> {
        Plain { #[pin] future: P },
        Web { #[pin] future: W },
    }
}

impl<P, W> Future for Either<P, W>
where
    P: Future,
    W: Future<Output = P::Output>,
{
    type Output = P::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            EitherProjection::Plain { future } => future.poll(cx),
            EitherProjection::Web { future } => future.poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: http::Method, headers: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::builder().method(method).uri("/x");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("a request")
    }

    #[test]
    fn only_a_browsers_calls_take_the_web_layers() {
        let native = request(http::Method::POST, &[("content-type", "application/grpc")]);
        assert!(!from_browser(&native));
        for browser in [
            request(http::Method::OPTIONS, &[]),
            request(
                http::Method::POST,
                &[("content-type", "application/grpc-web+proto")],
            ),
            request(
                http::Method::POST,
                &[("content-type", "application/grpc-web-text")],
            ),
            request(
                http::Method::POST,
                &[
                    ("content-type", "application/grpc"),
                    ("origin", "https://example.org"),
                ],
            ),
        ] {
            assert!(from_browser(&browser), "{browser:?}");
        }
    }
}
