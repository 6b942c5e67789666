//! The store's one error type. The server maps each variant to an HTTP status.

use steward_domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record in this tenant (records of other tenants are reported the same way).
    #[error("not found")]
    NotFound,
    /// The input broke a rule, such as an e-mail address already in use.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The record changed since the caller read it, or the change breaks a rule of its lifecycle.
    #[error("{0}")]
    Conflict(String),
    /// The database URL or options are unusable.
    #[error("{0}")]
    Config(String),
    /// Stored data that the domain cannot read back: a bug or a hand-edited database.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A failure injected by a test to prove that transactions roll back.
    #[error("injected failure")]
    Injected,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether the database refused the write because of a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Maps a unique-constraint failure to a field error; leaves other errors alone.
    pub fn unique_as(self, field: &str, message: &str) -> StoreError {
        if self.is_unique_violation() {
            StoreError::Invalid(Invalid::one(field, message))
        } else {
            self
        }
    }
}
