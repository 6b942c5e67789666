//! Conformance with ISO/IEC 20000-1:2018: the clause catalogue in Steward's own words, the
//! evidence rules that judge requirements from Steward's records, the readiness view that
//! puts the machine's status beside the assessor's judgement, and reproducible sampling.
//! Nothing here calls itself a certification: it says what the records show.

pub mod catalogue;
pub mod pack;
pub mod readiness;
pub mod rules;
pub mod sample;
