//! The server's integration tests, in one binary (link time matters on small machines).

mod api;
mod jobs;
mod ui;
