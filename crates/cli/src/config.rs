//! Settings: command-line flags beat `STEWARD_*` environment variables beat `steward.toml`
//! beat defaults.

use anyhow::Context;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_DATABASE: &str = "sqlite://./steward-data/steward.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The contents of `steward.toml`. Every key is optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    /// Mark cookies Secure; set when users reach Steward over HTTPS.
    pub secure_cookies: Option<bool>,
    pub session_hours: Option<u64>,
    pub max_body_bytes: Option<usize>,
    /// Largest attachment accepted, in bytes (default 10 MiB).
    pub max_upload_bytes: Option<usize>,
    /// Run the job runner in this process (default true).
    pub jobs: Option<bool>,
}

impl std::fmt::Debug for FileConfig {
    // The database URL may hold a password: never print it whole.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileConfig")
            .field(
                "database_url",
                &self.database_url.as_deref().map(steward_store::redact_url),
            )
            .field("listen", &self.listen)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_hours", &self.session_hours)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("jobs", &self.jobs)
            .finish()
    }
}

impl FileConfig {
    /// Reads the file if it exists; a missing default file is fine, a broken one is an error.
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("cannot read {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn server(&self) -> steward_server::ServerConfig {
        let defaults = steward_server::ServerConfig::default();
        steward_server::ServerConfig {
            secure_cookies: env_bool("STEWARD_SECURE_COOKIES")
                .or(self.secure_cookies)
                .unwrap_or(defaults.secure_cookies),
            session_ttl: self
                .session_hours
                .map_or(defaults.session_ttl, |h| Duration::from_secs(h * 3600)),
            max_body_bytes: self.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            max_upload_bytes: self.max_upload_bytes.unwrap_or(defaults.max_upload_bytes),
        }
    }
}

fn env_bool(name: &str) -> Option<bool> {
    std::env::var(name)
        .ok()
        .map(|v| matches!(v.to_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_database_passwords() {
        let config = FileConfig {
            database_url: Some("postgres://u:hunter2@db/steward".into()),
            ..Default::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("listen = \"127.0.0.1:9000\"").is_ok());
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }
}
