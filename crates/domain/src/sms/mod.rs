//! The service management system's own records (ISO/IEC 20000-1 clauses 4–7, 9, 10).
pub mod audit;
pub mod competence;
pub mod document;
pub mod improvement;
pub mod nonconformity;
pub mod objective;
pub mod review;
pub mod risk;
pub mod role;
