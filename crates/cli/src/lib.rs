//! The library half of the `steward` binary: the parts of the command line that tests and the
//! fuzz targets (fuzz/) call without starting a process. Today that is the CSV import and
//! export; the binary (main.rs) holds the other commands and uses these through `steward::`.

pub mod transfer;
