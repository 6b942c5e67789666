//! `steward verify-statement`: checks a signed statement from the public certificate register
//! offline, against a saved copy of `/.well-known/steward/keys.json`. No database, no network:
//! what a customer or auditor runs on the file they were given.

use anyhow::Context;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use steward_domain::signing::{KeySet, Signed, verify_statement};

#[derive(Debug, clap::Args)]
pub struct VerifyStatementArgs {
    /// The saved statement: `{"statement": {...}, "signature": "..."}`, or a whole answer of
    /// `GET /verify/{number}` with `Accept: application/json` (every match is checked).
    pub file: PathBuf,
    /// The public keys, as served at /.well-known/steward/keys.json.
    #[arg(long, value_name = "KEYS_JSON_FILE")]
    pub keys: PathBuf,
}

fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{what} {} is not JSON", path.display()))
}

/// The signed statements in a file: one, or each match of a verification answer.
fn statements(file: &Value) -> anyhow::Result<Vec<Signed>> {
    let one = |v: &Value| -> anyhow::Result<Signed> {
        serde_json::from_value(v.clone())
            .context("not a signed statement: expected `statement` and `signature`")
    };
    match file.get("matches").and_then(Value::as_array) {
        Some(matches) if !matches.is_empty() => matches
            .iter()
            .map(|m| one(m.get("signed_statement").unwrap_or(m)))
            .collect(),
        Some(_) => anyhow::bail!("the answer holds no certificate to check"),
        None => Ok(vec![one(file)?]),
    }
}

/// What a statement says, in one line.
fn summary(statement: &Value) -> String {
    let field = |name: &str| statement.get(name).and_then(Value::as_str).unwrap_or("?");
    format!(
        "certificate {} ({}) is {} as of {}, expires {}",
        field("certificate_number"),
        field("organisation"),
        field("status"),
        field("issued_at"),
        field("expiry_date"),
    )
}

pub fn run(args: VerifyStatementArgs) -> anyhow::Result<ExitCode> {
    let keys: KeySet = serde_json::from_value(read_json(&args.keys, "keys file")?)
        .context("the keys file does not list keys (expected {\"keys\": [...]})")?;
    let file = read_json(&args.file, "statement")?;
    let mut all_valid = true;
    for signed in statements(&file)? {
        match verify_statement(&signed, &keys) {
            Ok(ok) => {
                let retired = if ok.retired {
                    " (a key since retired)"
                } else {
                    ""
                };
                println!(
                    "valid: {}; signed by {} with key {}{retired}",
                    summary(&signed.statement),
                    ok.tenant,
                    ok.key_id
                );
            }
            Err(refusal) => {
                all_valid = false;
                println!("invalid: {refusal}");
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
