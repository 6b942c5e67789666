//! The evidence pack's manifest and its offline check.
//!
//! A pack is a folder: the report for the auditor and the data behind it, plus
//! `manifest.json`, a statement signed with the tenant's key (see `crate::signing`) that lists
//! every other file with its size and SHA-256. Checking a pack needs only the folder and the
//! tenant's published keys: the signature proves who issued the list, the hashes prove each
//! file is the one listed, and comparing the list with the folder names any file altered,
//! missing or added since.

use crate::signing::{KeySet, Signed, StatementRefusal, Verified, verify_statement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What the manifest's `format` says, so a later layout can be told apart.
pub const FORMAT: &str = "steward-evidence-pack/1";
/// The manifest's own file name; it is not listed in itself.
pub const MANIFEST: &str = "manifest.json";

/// One file of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackFile {
    /// Relative to the pack's folder, with `/` between parts.
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

impl PackFile {
    pub fn of(path: &str, content: &[u8]) -> PackFile {
        PackFile {
            path: path.to_owned(),
            bytes: content.len() as u64,
            sha256: sha256_hex(content),
        }
    }
}

pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// The statement the manifest signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The tenant's slug and the key it signed with, for verifiers to find the key by.
    pub tenant: String,
    pub key_id: String,
    pub organisation: String,
    /// The period the evidence covers, RFC 3339, end excluded.
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub files: Vec<PackFile>,
}

/// What checking a pack found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackCheck {
    /// Who signed the manifest, or why the signature is not to be trusted.
    pub signature: Result<Verified, StatementRefusal>,
    /// Listed files whose content differs from the listed hash.
    pub altered: Vec<String>,
    /// Listed files not in the folder.
    pub missing: Vec<String>,
    /// Files in the folder the manifest does not list.
    pub added: Vec<String>,
}

impl PackCheck {
    pub fn is_intact(&self) -> bool {
        self.signature.is_ok()
            && self.altered.is_empty()
            && self.missing.is_empty()
            && self.added.is_empty()
    }
}

/// Why a manifest cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the manifest is not a signed Steward evidence pack manifest: {0}")]
pub struct UnreadableManifest(pub String);

/// Checks `signed` (the parsed `manifest.json`) against `keys` and the folder's files (path →
/// SHA-256 hex of the content now on disk, the manifest itself left out).
pub fn check(
    signed: &Signed,
    keys: &KeySet,
    on_disk: &BTreeMap<String, String>,
) -> Result<PackCheck, UnreadableManifest> {
    let manifest: Manifest = serde_json::from_value(signed.statement.clone())
        .map_err(|e| UnreadableManifest(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(UnreadableManifest(format!(
            "format {:?}, expected {FORMAT:?}",
            manifest.format
        )));
    }
    let listed: BTreeMap<&str, &str> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.sha256.as_str()))
        .collect();
    let mut altered = Vec::new();
    let mut missing = Vec::new();
    for (path, sha) in &listed {
        match on_disk.get(*path) {
            None => missing.push((*path).to_owned()),
            Some(now) if now != sha => altered.push((*path).to_owned()),
            Some(_) => {}
        }
    }
    let added = on_disk
        .keys()
        .filter(|p| !listed.contains_key(p.as_str()))
        .cloned()
        .collect();
    Ok(PackCheck {
        signature: verify_statement(signed, keys),
        altered,
        missing,
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{KeyPair, PublishedKey};

    fn key() -> KeyPair {
        KeyPair::from_seed([7; 32])
    }

    fn keys(pair: &KeyPair) -> KeySet {
        KeySet {
            keys: vec![PublishedKey {
                tenant: "acme".into(),
                key_id: pair.key_id(),
                algorithm: "Ed25519".into(),
                public_key: pair.public_base64(),
                created_at: "2026-01-01T00:00:00Z".into(),
                retired_at: None,
            }],
        }
    }

    fn pack(files: &[(&str, &[u8])]) -> (Signed, BTreeMap<String, String>) {
        let pair = key();
        let manifest = Manifest {
            format: FORMAT.into(),
            tenant: "acme".into(),
            key_id: pair.key_id(),
            organisation: "Acme".into(),
            from: "2026-01-01T00:00:00Z".into(),
            to: "2027-01-01T00:00:00Z".into(),
            generated_at: "2027-01-02T00:00:00Z".into(),
            files: files.iter().map(|(p, c)| PackFile::of(p, c)).collect(),
        };
        let disk = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), sha256_hex(c)))
            .collect();
        (Signed::new(&manifest, &pair).expect("signed"), disk)
    }

    #[test]
    fn an_untouched_pack_is_intact() {
        let (signed, disk) = pack(&[("report.html", b"<h1>"), ("readiness.json", b"{}")]);
        let found = check(&signed, &keys(&key()), &disk).expect("readable");
        assert!(found.is_intact(), "{found:?}");
    }

    #[test]
    fn altered_missing_and_added_files_are_named() {
        let (signed, mut disk) = pack(&[("a.json", b"1"), ("b.json", b"2"), ("c.json", b"3")]);
        disk.insert("a.json".into(), sha256_hex(b"changed"));
        disk.remove("b.json");
        disk.insert("extra.html".into(), sha256_hex(b"x"));
        let found = check(&signed, &keys(&key()), &disk).expect("readable");
        assert!(!found.is_intact());
        assert!(found.signature.is_ok(), "the list itself is genuine");
        assert_eq!(found.altered, vec!["a.json"]);
        assert_eq!(found.missing, vec!["b.json"]);
        assert_eq!(found.added, vec!["extra.html"]);
    }

    #[test]
    fn an_edited_manifest_fails_its_signature() {
        let (mut signed, disk) = pack(&[("a.json", b"1")]);
        signed.statement["files"][0]["sha256"] = sha256_hex(b"forged").into();
        let found = check(&signed, &keys(&key()), &disk).expect("readable");
        assert!(matches!(
            found.signature,
            Err(StatementRefusal::Altered { .. })
        ));
        assert_eq!(found.altered, vec!["a.json"]);
    }

    #[test]
    fn another_tenants_keys_do_not_vouch_for_it() {
        let (signed, disk) = pack(&[("a.json", b"1")]);
        let stranger = KeyPair::from_seed([9; 32]);
        let found = check(&signed, &keys(&stranger), &disk).expect("readable");
        assert!(found.signature.is_err());
    }

    #[test]
    fn something_else_is_unreadable() {
        let pair = key();
        let signed = Signed::new(&serde_json::json!({"format": "other"}), &pair).expect("signed");
        assert!(check(&signed, &keys(&pair), &BTreeMap::new()).is_err());
    }
}
