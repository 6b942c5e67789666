//! `steward import` reads whatever CSV another tool exported: checking it must take or refuse
//! any bytes without panicking, and what it says must hold together (bad rows named by lines of
//! the file, one good row per data row). The first byte picks the kind: `i` incidents,
//! `r` requests, `p` problems. The body and its invariants are
//! `steward_server::transfer::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = steward_server::transfer::fuzzing::csv_import(data);
});
