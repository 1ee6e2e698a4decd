//! Page tokens come from clients: decoding any string must return a position
//! or a field violation, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let fingerprint = diplomacy::api::page::fingerprint(&[b"countries/AM"]);
        if let Ok(Some(position)) = diplomacy::api::page::decode_token(token, fingerprint) {
            let _ = diplomacy::api::page::position_text(position);
        }
    }
});
