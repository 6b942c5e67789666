//! `GET /api/v1/incidents?...` reads whatever query string a client sends: turning it into the
//! store's filter must take or refuse any text without panicking, refuse as a 400 or 422 (never
//! a 500), and nothing of it may reach SQLite's FTS5 or PostgreSQL's tsquery as syntax, or the
//! database as a cursor it cannot compare. The body and its invariants are
//! `steward_server::fuzzing::list_filter`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    steward_server::fuzzing::list_filter(data);
});
