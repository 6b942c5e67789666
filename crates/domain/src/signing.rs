//! Signed statements: what a tenant vouches for, in a form anyone can check offline.
//!
//! A statement is a JSON value. Its signature is Ed25519 over the statement's canonical JSON
//! (the journal's encoding: keys sorted at every depth, no white space), so the bytes signed
//! are the same whoever re-encodes the statement. Each tenant signs with its own key, named by
//! a short fingerprint of the public key (`key_id`); the public keys are published, so a
//! verifier needs nothing from Steward but the keys file.
//!
//! The certificate register signs its public verification answers with these keys, and the
//! evidence pack's manifest will too. Nothing here does I/O: the store keeps the keys and draws
//! the random seed that makes a new one.

use crate::journal::canonical_json;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The one algorithm keys and statements use, as the keys file names it.
pub const ALGORITHM: &str = "Ed25519";

/// A tenant's key pair. The secret never leaves through `Debug`, and the type is not
/// serialisable, so it cannot end up in a log line or a JSON document by accident.
#[derive(Clone)]
pub struct KeyPair {
    secret: [u8; 32],
    public: [u8; 32],
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_id", &key_id(&self.public))
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl KeyPair {
    /// The key pair a 32-byte secret seed determines (the seed is the Ed25519 secret key).
    pub fn from_seed(seed: [u8; 32]) -> KeyPair {
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        KeyPair {
            secret: seed,
            public,
        }
    }

    /// A stored key pair, from its base64 secret; `None` if it is not one.
    pub fn from_secret_base64(text: &str) -> Option<KeyPair> {
        let seed: [u8; 32] = BASE64.decode(text).ok()?.try_into().ok()?;
        Some(KeyPair::from_seed(seed))
    }

    /// The secret, base64, for the store alone to keep.
    pub fn secret_base64(&self) -> String {
        BASE64.encode(self.secret)
    }

    pub fn public(&self) -> [u8; 32] {
        self.public
    }

    pub fn public_base64(&self) -> String {
        BASE64.encode(self.public)
    }

    pub fn key_id(&self) -> String {
        key_id(&self.public)
    }

    /// Signs `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> [u8; 64] {
        sign(&self.secret, bytes)
    }
}

/// A public key's name: the first 16 hex digits of its SHA-256.
pub fn key_id(public: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(public))
        .chars()
        .take(16)
        .collect()
}

/// The bytes a statement is signed over: its canonical JSON.
pub fn canonical_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    Ok(canonical_json(&serde_json::to_value(value)?).into_bytes())
}

/// Signs `bytes` with the Ed25519 secret key `secret`.
pub fn sign(secret: &[u8; 32], bytes: &[u8]) -> [u8; 64] {
    SigningKey::from_bytes(secret).sign(bytes).to_bytes()
}

/// Why a signature does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSignature {
    #[error("the public key is not a valid Ed25519 key")]
    BadKey,
    #[error("the signature is not 64 bytes")]
    Malformed,
    #[error("the signature does not match these bytes and this key")]
    Mismatch,
}

/// Checks `signature` over `bytes` against `public`.
pub fn verify(public: &[u8; 32], bytes: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
    let key = VerifyingKey::from_bytes(public).map_err(|_| BadSignature::BadKey)?;
    let signature: [u8; 64] = signature.try_into().map_err(|_| BadSignature::Malformed)?;
    key.verify_strict(bytes, &Signature::from_bytes(&signature))
        .map_err(|_| BadSignature::Mismatch)
}

pub fn to_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.trim()).ok()
}

/// A statement with its signature, as published and as saved by whoever checks it later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signed {
    /// What is vouched for. Names the signer with `tenant` and `key_id`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub statement: Value,
    /// Ed25519 over the canonical JSON of `statement`, base64.
    pub signature: String,
}

impl Signed {
    /// Signs `statement` (which should carry `tenant` and `key_id` for verifiers to find the
    /// key by) with `key`.
    pub fn new<T: Serialize>(statement: &T, key: &KeyPair) -> Result<Signed, serde_json::Error> {
        let statement = serde_json::to_value(statement)?;
        let signature = key.sign(canonical_json(&statement).as_bytes());
        Ok(Signed {
            statement,
            signature: to_base64(&signature),
        })
    }
}

/// One published public key, as `/.well-known/steward/keys.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublishedKey {
    /// The tenant's slug.
    pub tenant: String,
    pub key_id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, base64.
    pub public_key: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, once the key no longer signs; statements it signed before stay valid.
    pub retired_at: Option<String>,
}

/// The keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeySet {
    pub keys: Vec<PublishedKey>,
}

/// A statement that checked out: signed by this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub tenant: String,
    pub key_id: String,
    pub retired: bool,
}

/// Why a signed statement is not to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementRefusal {
    #[error("the statement does not name its signer (tenant and key_id)")]
    Unnamed,
    #[error("the signature is not base64 of 64 bytes")]
    MalformedSignature,
    #[error(
        "key {key_id} of tenant {tenant} is not in the keys file: wrong keys file, or a forged statement"
    )]
    UnknownKey { tenant: String, key_id: String },
    #[error("the statement names key {named} but was signed with key {actual}: wrong key")]
    WrongKey { named: String, actual: String },
    #[error(
        "the signature does not match the statement and key {key_id}: the statement or its signature was altered"
    )]
    Altered { key_id: String },
}

/// Checks a signed statement against a keys file.
pub fn verify_statement(signed: &Signed, keys: &KeySet) -> Result<Verified, StatementRefusal> {
    let field = |name: &str| signed.statement.get(name).and_then(Value::as_str);
    let (Some(tenant), Some(key_id)) = (field("tenant"), field("key_id")) else {
        return Err(StatementRefusal::Unnamed);
    };
    let signature = from_base64(&signed.signature)
        .filter(|s| s.len() == 64)
        .ok_or(StatementRefusal::MalformedSignature)?;
    let bytes = canonical_json(&signed.statement).into_bytes();
    let checks = |key: &PublishedKey| {
        from_base64(&key.public_key)
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .is_some_and(|public| verify(&public, &bytes, &signature).is_ok())
    };
    let named = keys
        .keys
        .iter()
        .find(|k| k.key_id == key_id && k.tenant == tenant);
    match named {
        Some(key) if checks(key) => Ok(Verified {
            tenant: tenant.to_owned(),
            key_id: key_id.to_owned(),
            retired: key.retired_at.is_some(),
        }),
        found => match keys.keys.iter().find(|k| checks(k)) {
            Some(other) => Err(StatementRefusal::WrongKey {
                named: key_id.to_owned(),
                actual: other.key_id.clone(),
            }),
            None if found.is_some() => Err(StatementRefusal::Altered {
                key_id: key_id.to_owned(),
            }),
            None => Err(StatementRefusal::UnknownKey {
                tenant: tenant.to_owned(),
                key_id: key_id.to_owned(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn pair(n: u8) -> KeyPair {
        KeyPair::from_seed([n; 32])
    }

    fn published(tenant: &str, key: &KeyPair) -> PublishedKey {
        PublishedKey {
            tenant: tenant.into(),
            key_id: key.key_id(),
            algorithm: ALGORITHM.into(),
            public_key: key.public_base64(),
            created_at: "2026-01-01T00:00:00Z".into(),
            retired_at: None,
        }
    }

    fn statement(key: &KeyPair) -> Value {
        json!({"tenant": "acme", "key_id": key.key_id(), "status": "valid", "number": "C-1"})
    }

    #[test]
    fn canonical_bytes_ignore_key_order_and_spacing() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"d": 2, "c": 3}}"#).expect("test value");
        let b: Value = serde_json::from_str(r#"{"a":{"c":3,"d":2},"b":1}"#).expect("test value");
        assert_eq!(
            canonical_bytes(&a).expect("test value"),
            canonical_bytes(&b).expect("test value")
        );
        assert_eq!(
            canonical_bytes(&a).expect("test value"),
            br#"{"a":{"c":3,"d":2},"b":1}"#
        );
    }

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let key = pair(1);
        let sig = key.sign(b"hello");
        assert_eq!(verify(&key.public(), b"hello", &sig), Ok(()));
        assert_eq!(
            verify(&pair(2).public(), b"hello", &sig),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            verify(&key.public(), b"hello", &sig[..10]),
            Err(BadSignature::Malformed)
        );
    }

    #[test]
    fn key_ids_are_short_stable_fingerprints() {
        let key = pair(7);
        assert_eq!(key.key_id().len(), 16);
        assert_eq!(key.key_id(), key_id(&KeyPair::from_seed([7; 32]).public()));
        assert_ne!(key.key_id(), pair(8).key_id());
    }

    #[test]
    fn secrets_round_trip_and_stay_out_of_debug() {
        let key = pair(3);
        let again = KeyPair::from_secret_base64(&key.secret_base64()).expect("test value");
        assert_eq!(again.public(), key.public());
        assert!(!format!("{key:?}").contains(&key.secret_base64()));
        assert!(KeyPair::from_secret_base64("c2hvcnQ=").is_none());
    }

    #[test]
    fn statements_verify_and_name_what_is_wrong() {
        let key = pair(1);
        let keys = KeySet {
            keys: vec![published("acme", &key), published("other", &pair(2))],
        };
        let signed = Signed::new(&statement(&key), &key).expect("test value");
        let ok = verify_statement(&signed, &keys).expect("test value");
        assert_eq!((ok.tenant.as_str(), ok.retired), ("acme", false));

        let mut altered = signed.clone();
        altered.statement["status"] = json!("withdrawn");
        assert!(matches!(
            verify_statement(&altered, &keys),
            Err(StatementRefusal::Altered { .. })
        ));

        // Signed by the other tenant's key while naming acme's.
        let forged = Signed::new(&statement(&key), &pair(2)).expect("test value");
        assert!(matches!(
            verify_statement(&forged, &keys),
            Err(StatementRefusal::WrongKey { .. })
        ));

        let elsewhere = KeySet {
            keys: vec![published("acme", &pair(9))],
        };
        assert!(matches!(
            verify_statement(&signed, &elsewhere),
            Err(StatementRefusal::UnknownKey { .. })
        ));

        let mut garbled = signed.clone();
        garbled.signature = "not base64!".into();
        assert_eq!(
            verify_statement(&garbled, &keys),
            Err(StatementRefusal::MalformedSignature)
        );
        let unnamed = Signed::new(&json!({"status": "valid"}), &key).expect("test value");
        assert_eq!(
            verify_statement(&unnamed, &keys),
            Err(StatementRefusal::Unnamed)
        );
    }

    proptest! {
        #[test]
        fn any_one_byte_change_fails_verification(
            text in "[ -~]{1,80}",
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let key = pair(5);
            let bytes = canonical_bytes(&json!({"tenant": "acme", "scope": text})).expect("test value");
            let sig = key.sign(&bytes);
            prop_assert!(verify(&key.public(), &bytes, &sig).is_ok());
            let mut changed = bytes.clone();
            let i = at.index(changed.len());
            changed[i] ^= flip;
            prop_assert!(verify(&key.public(), &changed, &sig).is_err());
        }
    }
}
