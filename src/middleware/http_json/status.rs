//! A gRPC status as the HTTP/JSON mapping answers it: the HTTP code that
//! matches its gRPC code, and the JSON form of `google.rpc.Status` with its
//! details (`BadRequest` and the others) as gRPC sends them.

use bytes::Bytes;
use prost_reflect::DynamicMessage;
use tonic::{Code, Status};

use crate::descriptors::served_pool;

/// The HTTP code of a gRPC code (as Google's APIs and grpc-gateway map
/// them).
pub fn http_code(code: Code) -> http::StatusCode {
    use http::StatusCode as H;
    match code {
        Code::Ok => H::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => H::BAD_REQUEST,
        Code::Unauthenticated => H::UNAUTHORIZED,
        Code::PermissionDenied => H::FORBIDDEN,
        Code::NotFound => H::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => H::CONFLICT,
        Code::ResourceExhausted => H::TOO_MANY_REQUESTS,
        Code::Cancelled => H::from_u16(499).unwrap_or(H::BAD_REQUEST),
        Code::Unimplemented => H::NOT_IMPLEMENTED,
        Code::Unavailable => H::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => H::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => H::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON body of `status`: its `google.rpc.Status` as gRPC sends it in
/// `grpc-status-details-bin` when it has details, else code and message.
pub fn status_json(status: &Status) -> Bytes {
    let from_details = (!status.details().is_empty())
        .then(|| served_pool().get_message_by_name("google.rpc.Status"))
        .flatten()
        .and_then(|descriptor| DynamicMessage::decode(descriptor, status.details()).ok())
        .and_then(|message| serde_json::to_vec(&message).ok());
    Bytes::from(from_details.unwrap_or_else(|| {
        serde_json::json!({
            "code": status.code() as i32,
            "message": status.message(),
        })
        .to_string()
        .into_bytes()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, FieldViolation};

    #[test]
    fn a_bad_request_keeps_its_field_violations_in_json() {
        let status = Status::from(Error::InvalidArgument(vec![FieldViolation::new(
            "as_of",
            "not a date",
        )]));
        assert_eq!(http_code(status.code()), http::StatusCode::BAD_REQUEST);
        let json: serde_json::Value = serde_json::from_slice(&status_json(&status)).expect("JSON");
        assert_eq!(json["code"], 3);
        assert_eq!(
            json["details"][0]["@type"],
            "type.googleapis.com/google.rpc.BadRequest"
        );
        assert_eq!(json["details"][0]["fieldViolations"][0]["field"], "as_of");
        let plain = Status::not_found("countries/QQ not found");
        let json: serde_json::Value = serde_json::from_slice(&status_json(&plain)).expect("JSON");
        assert_eq!(json["code"], 5);
        assert_eq!(http_code(plain.code()), http::StatusCode::NOT_FOUND);
    }
}
