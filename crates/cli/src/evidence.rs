//! `steward evidence-pack`: writes the signed evidence pack for an auditor, and checks one
//! offline (`verify`), naming any file altered, missing or added since it was signed.

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use steward_domain::conformance::pack::{MANIFEST, check, sha256_hex};
use steward_domain::signing::{KeySet, Signed};
use steward_server::api::conformance::period_of;
use steward_store::{Store, StoreError};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvidencePackArgs {
    #[command(subcommand)]
    pub command: Option<PackCommand>,
    /// The tenant's short name (slug).
    #[arg(long)]
    pub tenant: Option<String>,
    /// First day of the period (YYYY-MM-DD, UTC); default a year before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the period, included; default today.
    #[arg(long)]
    pub to: Option<String>,
    /// The folder to write the pack to; created if missing, and it must be empty.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PackCommand {
    /// Check a pack offline: the manifest's signature against the organisation's published
    /// keys, and every file against the manifest. Exit 1 if anything does not match.
    Verify {
        /// The pack's folder.
        dir: PathBuf,
        /// The keys file the organisation publishes at /.well-known/steward/keys.json; without
        /// it the pack's own keys.json is used, which proves the files match the manifest but
        /// not who signed it.
        #[arg(long)]
        keys: Option<PathBuf>,
    },
}

/// `database` is opened only to write a pack: checking one needs nothing but the folder.
pub async fn run(database: &str, args: EvidencePackArgs) -> anyhow::Result<ExitCode> {
    if let Some(PackCommand::Verify { dir, keys }) = args.command {
        return verify(&dir, keys.as_deref());
    }
    let (Some(slug), Some(out)) = (args.tenant, args.out) else {
        bail!("give --tenant and --out (or use `steward evidence-pack verify DIR`)");
    };
    let period = period_of(args.from.as_deref(), args.to.as_deref()).map_err(|e| {
        let why: Vec<String> = e.errors.into_iter().map(|f| f.message).collect();
        anyhow!("{}", why.join("; "))
    })?;
    prepare(&out)?;
    let store: Store = crate::commands::open(database).await?;
    let tenant = match store.tenant_by_slug(&slug).await {
        Err(StoreError::NotFound) => bail!("there is no tenant {slug}"),
        other => other?,
    };
    eprintln!("evaluating every clause for {} …", tenant.name);
    let files = steward_server::evidence::build(&store, &tenant, period).await?;
    for f in &files {
        std::fs::write(out.join(&f.path), &f.content)
            .with_context(|| format!("cannot write {}", out.join(&f.path).display()))?;
    }
    println!(
        "wrote {} files to {}; check them with `steward evidence-pack verify {}`",
        files.len(),
        out.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The output folder must be new or empty, so a pack never mixes with other files.
fn prepare(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut entries =
        std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
    if entries.next().is_some() {
        bail!(
            "{} is not empty: write the pack to a new folder",
            out.display()
        );
    }
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not what a pack holds", path.display()))
}

/// Every file under `dir` but the manifest, by its path relative to `dir`, with its SHA-256.
fn files_on_disk(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if relative != MANIFEST {
                let content = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                out.insert(relative, sha256_hex(&content));
            }
        }
    }
    Ok(out)
}

fn verify(dir: &Path, keys: Option<&Path>) -> anyhow::Result<ExitCode> {
    let signed: Signed = read_json(&dir.join(MANIFEST))?;
    let own_keys = keys.is_none();
    let keys: KeySet = read_json(&keys.map_or_else(|| dir.join("keys.json"), Path::to_path_buf))?;
    let found = check(&signed, &keys, &files_on_disk(dir)?)?;
    match &found.signature {
        Ok(v) => println!(
            "signature: good, signed by {} with key {}",
            v.tenant, v.key_id
        ),
        Err(why) => println!("signature: BAD: {why}"),
    }
    if own_keys {
        println!(
            "(checked against the pack's own keys.json: give --keys with the organisation's published keys to prove who signed it)"
        );
    }
    for (what, paths) in [
        ("altered", &found.altered),
        ("missing", &found.missing),
        ("added", &found.added),
    ] {
        for p in paths {
            println!("{what}: {p}");
        }
    }
    if found.is_intact() {
        println!("pack intact: every file matches the signed manifest");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("pack NOT intact");
        Ok(ExitCode::FAILURE)
    }
}
