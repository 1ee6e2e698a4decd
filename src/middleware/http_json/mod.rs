//! The HTTP/JSON mapping of the read methods (`google.api.http` in the
//! protos), served on the gRPC port: a GET under `/v1/` becomes the gRPC
//! call its method is, sent through every layer a gRPC call goes through
//! (metrics, limits, auth, deadline), and its answer comes back as proto3
//! JSON; an error as the JSON form of `google.rpc.Status` with the HTTP
//! code that matches its gRPC code.

mod request;
mod rules;
mod status;

use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Full};
use prost::Message;
use prost_reflect::DynamicMessage;
use tonic::body::Body;
use tonic::Status;
use tower::{Layer, Service};

use crate::error::Error;
use crate::middleware::BoxFuture;
pub use rules::{route_for, routes};
use status::{http_code, status_json};

/// Where the mapping's paths start.
pub const PREFIX: &str = "/v1/";

/// Headers of the HTTP request the gRPC call carries on.
const PASSED_ON: [&str; 5] = [
    "authorization",
    "traceparent",
    "tracestate",
    "x-request-id",
    "origin",
];

#[derive(Clone, Copy, Default)]
pub struct HttpJsonLayer;

impl<S> Layer<S> for HttpJsonLayer {
    type Service = HttpJson<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpJson { inner }
    }
}

#[derive(Clone)]
pub struct HttpJson<S> {
    inner: S,
}

fn json_response(code: http::StatusCode, body: Bytes) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(Full::new(body)));
    *response.status_mut() = code;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(status: &Status) -> http::Response<Body> {
    json_response(http_code(status.code()), status_json(status))
}

/// The gRPC request a GET stands for, or the error that answers it.
fn grpc_request(
    request: &http::Request<Body>,
) -> Result<(http::Request<Body>, prost_reflect::MessageDescriptor), Status> {
    if request.method() != http::Method::GET {
        return Err(Status::unimplemented(format!(
            "{} is not mapped: the HTTP/JSON mapping serves the read methods, by GET",
            request.method()
        )));
    }
    let path = request.uri().path();
    let (route, variable) = route_for(path).ok_or_else(|| {
        Status::not_found(format!(
            "no method is mapped to GET {path}: see the google.api.http options in the protos"
        ))
    })?;
    let message = request::request_message(route.method.input(), variable, request.uri().query())
        .map_err(|violations| Status::from(Error::InvalidArgument(violations)))?;
    let encoded = message.encode_to_vec();
    let mut framed = Vec::with_capacity(encoded.len() + 5);
    framed.push(0);
    framed.extend_from_slice(
        &u32::try_from(encoded.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(&encoded);
    let mut call = http::Request::new(Body::new(Full::new(Bytes::from(framed))));
    *call.method_mut() = http::Method::POST;
    *call.uri_mut() = route
        .grpc_path()
        .parse()
        .map_err(|_| Status::internal("a mapped method's path is not a URI"))?;
    *call.version_mut() = http::Version::HTTP_2;
    let headers = call.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    for name in PASSED_ON {
        if let Some(value) = request.headers().get(name) {
            headers.insert(name, value.clone());
        }
    }
    *call.extensions_mut() = request.extensions().clone();
    Ok((call, route.method.output()))
}

/// The JSON answer of a gRPC response.
async fn json_answer(
    response: http::Response<Body>,
    output: prost_reflect::MessageDescriptor,
) -> http::Response<Body> {
    let (parts, body) = response.into_parts();
    let collected = match body.collect().await {
        Ok(collected) => collected,
        Err(status) => return error_response(&status),
    };
    let trailers = collected.trailers().cloned();
    let mut data = collected.to_bytes();
    // A trailers-only answer (an error) carries its status in the headers.
    let status = Status::from_header_map(trailers.as_ref().unwrap_or(&parts.headers));
    let mut answer = match status {
        Some(status) if status.code() != tonic::Code::Ok => error_response(&status),
        _ if data.len() < 5 || data[0] != 0 => error_response(&Status::internal(
            "the answer is not an uncompressed gRPC message",
        )),
        _ => {
            data.advance(5);
            match DynamicMessage::decode(output, data)
                .ok()
                .and_then(|message| serde_json::to_vec(&message).ok())
            {
                Some(json) => json_response(http::StatusCode::OK, Bytes::from(json)),
                None => error_response(&Status::internal("the answer does not decode")),
            }
        }
    };
    for (name, value) in &parts.headers {
        if name.as_str().starts_with("access-control-") || name == http::header::VARY {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

impl<S> Service<http::Request<Body>> for HttpJson<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // A CORS preflight is the CORS layer's to answer, as for gRPC-Web.
        if !request.uri().path().starts_with(PREFIX) || request.method() == http::Method::OPTIONS {
            return Box::pin(self.inner.call(request));
        }
        let (call, output) = match grpc_request(&request) {
            Ok(call) => call,
            Err(status) => {
                let answer = error_response(&status);
                return Box::pin(async move { Ok(answer) });
            }
        };
        // The service polled ready is the one that takes the call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(call).await?;
            Ok(json_answer(response, output).await)
        })
    }
}
