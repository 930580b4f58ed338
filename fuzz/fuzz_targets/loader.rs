//! The scenario loader on arbitrary bytes: it must never panic, and every
//! failure must be located in the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = capsim::scenario::parse_bytes(Path::new("fuzz.toml"), data) {
        assert!(!e.diagnostics.is_empty());
        for d in &e.diagnostics {
            assert!(d.line >= 1 && d.column >= 1, "{d:?}");
            assert!(!d.message.is_empty(), "{d:?}");
        }
    }
});
