//! The audit journal's hash chain.
//!
//! Each tenant has one append-only chain. An entry's hash is SHA-256 over the previous entry's
//! hash and a canonical encoding of the entry (JSON with sorted keys and no insignificant white
//! space), so editing, deleting or reordering any entry breaks every hash after it. `verify`
//! recomputes a chain and names the first entry that does not fit.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Create, Action::Update, Action::Delete]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// What happened, to which record, by whom: the part of an entry that its hash covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub tenant_id: i64,
    /// Position in the tenant's chain, starting at 1.
    pub seq: i64,
    /// Microseconds since the Unix epoch, UTC.
    pub at_micros: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: Action,
    pub record_type: String,
    pub record_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An entry as stored: with the hash it was chained to and its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Chained {
    pub entry: Entry,
    pub prev_hash: String,
    pub hash: String,
}

/// Where a chain stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal entry {seq} of tenant {tenant_id} is broken: {reason}")]
pub struct Broken {
    pub tenant_id: i64,
    pub seq: i64,
    pub reason: String,
}

/// JSON with object keys sorted at every depth and no white space: one text per value.
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(key) {
                        write(v, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

impl Entry {
    fn canonical(&self) -> String {
        let value = serde_json::json!({
            "tenant_id": self.tenant_id,
            "seq": self.seq,
            "at_micros": self.at_micros,
            "actor_id": self.actor_id,
            "actor": self.actor,
            "action": self.action.as_str(),
            "record_type": self.record_type,
            "record_id": self.record_id,
            "before": self.before,
            "after": self.after,
        });
        canonical_json(&value)
    }

    /// The hash of this entry when it follows an entry whose hash is `prev_hash`.
    pub fn hash_after(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.canonical().as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// Incremental verifier for one tenant's chain, fed in `seq` order. Works on a stream so that
/// a million entries never have to sit in memory at once.
#[derive(Debug)]
pub struct Verifier {
    tenant_id: i64,
    expected_seq: i64,
    prev_hash: String,
}

impl Verifier {
    pub fn new(tenant_id: i64) -> Self {
        Self {
            tenant_id,
            expected_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }

    /// A verifier that starts after entry `after_seq`, whose stored hash is `prev_hash`: checks
    /// a stretch of the chain (a period's entries) without reading it from the start.
    pub fn resume(tenant_id: i64, after_seq: i64, prev_hash: &str) -> Self {
        Self {
            tenant_id,
            expected_seq: after_seq + 1,
            prev_hash: prev_hash.to_owned(),
        }
    }

    pub fn checked(&self) -> i64 {
        self.expected_seq - 1
    }

    pub fn push(&mut self, stored: &Chained) -> Result<(), Broken> {
        let broken = |reason: &str| Broken {
            tenant_id: self.tenant_id,
            seq: stored.entry.seq,
            reason: reason.to_owned(),
        };
        if stored.entry.tenant_id != self.tenant_id {
            return Err(broken("belongs to another tenant's chain"));
        }
        if stored.entry.seq != self.expected_seq {
            return Err(Broken {
                reason: format!(
                    "expected entry {} here; entries are missing or out of order",
                    self.expected_seq
                ),
                ..broken("")
            });
        }
        if stored.prev_hash != self.prev_hash {
            return Err(broken("does not link to the entry before it"));
        }
        if stored.entry.hash_after(&self.prev_hash) != stored.hash {
            return Err(broken("its content does not match its hash (edited)"));
        }
        self.prev_hash.clone_from(&stored.hash);
        self.expected_seq += 1;
        Ok(())
    }
}

/// Verifies a whole chain held in memory; returns how many entries were checked.
pub fn verify<'a>(
    tenant_id: i64,
    chain: impl IntoIterator<Item = &'a Chained>,
) -> Result<i64, Broken> {
    let mut verifier = Verifier::new(tenant_id);
    for stored in chain {
        verifier.push(stored)?;
    }
    Ok(verifier.checked())
}

/// Appends `entry` after `prev_hash`, returning the stored form.
pub fn chain(entry: Entry, prev_hash: &str) -> Chained {
    let hash = entry.hash_after(prev_hash);
    Chained {
        entry,
        prev_hash: prev_hash.to_owned(),
        hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn entry(seq: i64, name: &str) -> Entry {
        Entry {
            tenant_id: 7,
            seq,
            at_micros: 1_700_000_000_000_000 + seq,
            actor_id: Some(1),
            actor: "ann@example.org".into(),
            action: Action::Update,
            record_type: "service".into(),
            record_id: 3,
            before: Some(json!({"name": "old"})),
            after: Some(json!({"name": name, "b": [1, {"z": 1, "a": 2}]})),
        }
    }

    fn build(names: &[String]) -> Vec<Chained> {
        let mut prev = GENESIS.to_owned();
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let stored = chain(entry(i as i64 + 1, name), &prev);
            prev.clone_from(&stored.hash);
            out.push(stored);
        }
        out
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"x","d":[true,null]},"b":1}"#
        );
    }

    #[test]
    fn empty_chain_verifies() {
        assert_eq!(verify(7, &[]), Ok(0));
    }

    proptest! {
        #[test]
        fn intact_chains_verify(names in prop::collection::vec("[a-z]{0,8}", 0..20)) {
            let chain = build(&names);
            prop_assert_eq!(verify(7, &chain), Ok(names.len() as i64));
        }

        #[test]
        fn any_edit_is_caught_at_that_entry(names in prop::collection::vec("[a-z]{1,8}", 1..20), pick in any::<prop::sample::Index>()) {
            let mut chain = build(&names);
            let i = pick.index(chain.len());
            chain[i].entry.actor.push('!');
            let err = verify(7, &chain).expect_err("edit must be caught");
            prop_assert_eq!(err.seq, i as i64 + 1);
        }

        #[test]
        fn any_deletion_is_caught(names in prop::collection::vec("[a-z]{1,8}", 2..20), pick in any::<prop::sample::Index>()) {
            let mut chain = build(&names);
            let i = pick.index(chain.len() - 1);
            chain.remove(i);
            prop_assert!(verify(7, &chain).is_err());
        }

        #[test]
        fn any_swap_is_caught(names in prop::collection::vec("[a-z]{1,8}", 2..20), pick in any::<prop::sample::Index>()) {
            let mut chain = build(&names);
            let i = pick.index(chain.len() - 1);
            chain.swap(i, i + 1);
            let err = verify(7, &chain).expect_err("swap must be caught");
            prop_assert_eq!(err.seq, i as i64 + 2);
        }

        #[test]
        fn rehashed_edits_still_break_the_link(names in prop::collection::vec("[a-z]{1,8}", 2..20), pick in any::<prop::sample::Index>()) {
            // A forger who recomputes the edited entry's own hash still breaks the next link.
            let mut chain = build(&names);
            let i = pick.index(chain.len() - 1);
            chain[i].entry.after = Some(json!({"forged": true}));
            chain[i].hash = chain[i].entry.hash_after(&chain[i].prev_hash);
            let err = verify(7, &chain).expect_err("forgery must be caught");
            prop_assert_eq!(err.seq, i as i64 + 2);
        }
    }
}
