//! Import lines come from files anyone writes: parsing and checking any line
//! must return a record or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        if let Ok(record) = diplomacy::ingest::parse_line(line) {
            let _ = diplomacy::ingest::check_import(&record);
            let _ = diplomacy::records::record_facts(&record);
        }
    }
});
