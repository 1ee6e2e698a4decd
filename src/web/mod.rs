//! The page `diplomacy serve` answers at `/`: one HTML file, its script and
//! its style, compiled into the binary (no CDN, no build step), calling the
//! HTTP/JSON mapping. A tower layer serves them ahead of everything else.

use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::middleware::BoxFuture;

const INDEX: &str = include_str!("index.html");
const APP: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

/// Nothing but the page's own files and the mapping on the same origin.
const POLICY: &str = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/// The page's file at `path`, with its content type.
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    Some(match path {
        "/" | "/index.html" => ("text/html; charset=utf-8", INDEX),
        "/ui/app.js" => ("text/javascript; charset=utf-8", APP),
        "/ui/style.css" => ("text/css; charset=utf-8", STYLE),
        _ => return None,
    })
}

#[derive(Clone, Copy, Default)]
pub struct PageLayer;

impl<S> Layer<S> for PageLayer {
    type Service = Page<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Page { inner }
    }
}

#[derive(Clone)]
pub struct Page<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for Page<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let found = (request.method() == http::Method::GET)
            .then(|| asset(request.uri().path()))
            .flatten();
        let Some((content_type, text)) = found else {
            return Box::pin(self.inner.call(request));
        };
        let mut response =
            http::Response::new(Body::new(Full::new(Bytes::from_static(text.as_bytes()))));
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(content_type),
        );
        headers.insert(
            http::header::CONTENT_SECURITY_POLICY,
            http::HeaderValue::from_static(POLICY),
        );
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-cache"),
        );
        Box::pin(async move { Ok(response) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for path in ["/", "/ui/app.js", "/ui/style.css"] {
            let (_, text) = asset(path).expect(path);
            // The SVG namespace is a name, not a place anything is loaded from.
            let rest = text.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !rest.contains("http://") && !rest.contains("https://") && !rest.contains("//cdn"),
                "{path} names no other origin"
            );
        }
        assert!(INDEX.contains("/ui/app.js") && INDEX.contains("/ui/style.css"));
        assert_eq!(asset("/ui/other.js"), None);
    }
}
