//! Page sizes and page tokens (AIP-158).
//!
//! A token is opaque to clients: base64url of a small protobuf holding where
//! the previous page stopped and a fingerprint of the request's other
//! fields, so that a token replayed with a different query, truncated or
//! forged is refused with INVALID_ARGUMENT instead of returning a wrong page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use prost::Message;

use crate::error::{Error, FieldViolation};
use crate::wire::formats::PageToken;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

/// Longest position a token may carry; real ones are far shorter.
const MAX_POSITION: usize = 512;

/// Checks `page_size`: 0 means the default; negative or above the maximum
/// is an error.
pub fn page_size(value: i32) -> Result<usize, FieldViolation> {
    match value {
        0 => Ok(DEFAULT_PAGE_SIZE),
        1.. if value as usize <= MAX_PAGE_SIZE => Ok(value as usize),
        _ => Err(FieldViolation::new(
            "page_size",
            format!("must be from 0 to {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE}), got {value}"),
        )),
    }
}

/// A stable FNV-1a hash of the request fields that define the query.
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(std::iter::once(&0xff)) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

pub fn encode_token(fingerprint: u64, position: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(
        PageToken {
            fingerprint,
            position: position.to_vec(),
        }
        .encode_to_vec(),
    )
}

/// The position stored in `token`, or `None` for the first page.
pub fn decode_token(token: &str, fingerprint: u64) -> Result<Option<Vec<u8>>, FieldViolation> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = |why: &str| FieldViolation::new("page_token", why.to_string());
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid("is not a token returned by this API"))?;
    let decoded = PageToken::decode(bytes.as_slice())
        .map_err(|_| invalid("is not a token returned by this API"))?;
    if decoded.fingerprint != fingerprint {
        return Err(invalid(
            "was issued for a different query: repeat the other request fields unchanged",
        ));
    }
    if decoded.position.is_empty() || decoded.position.len() > MAX_POSITION {
        return Err(invalid("is not a token returned by this API"));
    }
    Ok(Some(decoded.position))
}

/// The position as text, for positions that are ids or codes.
pub fn position_text(position: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(position)
        .map_err(|_| Error::invalid("page_token", "is not a token returned by this API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let fp = fingerprint(&[b"countries/AM"]);
        let token = encode_token(fp, b"t01");
        assert_eq!(decode_token(&token, fp).unwrap(), Some(b"t01".to_vec()));
        assert!(decode_token(&token, fp + 1).is_err(), "other query");
        assert!(
            decode_token(&token[..token.len() - 2], fp).is_err(),
            "truncated"
        );
        assert!(decode_token("!!!", fp).is_err(), "not base64");
        assert!(decode_token("AAAA", fp).is_err(), "garbage");
        assert_eq!(decode_token("", fp).unwrap(), None);
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(1000).unwrap(), 1000);
        assert!(page_size(-1).is_err());
        assert!(page_size(1001).is_err());
    }
}
