//! The evidence pack for a certification auditor: for a tenant and a period, the readiness of
//! every clause as an HTML report (status, the evidence behind it, a reproducible sample of
//! records), the same data as JSON, the tenant's public keys, and `manifest.json` listing every
//! file with its SHA-256, signed with the tenant's key (`domain::conformance::pack`). Building
//! a pack writes nothing to the store but the tenant's key on first use.

use askama::Template;
use steward_domain::conformance::pack::{FORMAT, MANIFEST, Manifest, PackFile};
use steward_domain::conformance::readiness::ClauseReadiness;
use steward_domain::conformance::rules::RecordRef;
use steward_domain::conformance::sample::sample;
use steward_domain::signing::{KeySet, Signed};
use steward_store::conformance::Period;
use steward_store::tenant::Tenant;
use steward_store::{Store, StoreError, now_micros};

/// Records sampled per clause in the report.
pub const SAMPLE_SIZE: usize = 5;

/// One file of a built pack: its path in the folder and its content.
pub struct PackOutput {
    pub path: String,
    pub content: Vec<u8>,
}

/// Why a pack could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not encode the pack: {0}")]
    Encode(String),
}

fn rfc3339(micros: i64) -> String {
    crate::api::time(micros)
}

/// The sample seed of a period: its start, so the same period always samples the same records
/// and the report can say which seed to give `steward audit sample` to draw them again.
fn seed_of(period: Period) -> u64 {
    period.from.unsigned_abs()
}

pub struct ClauseSample {
    pub clause: String,
    pub population: usize,
    pub records: Vec<RecordRef>,
}

#[derive(Template)]
#[template(path = "evidence/report.html")]
struct Report<'a> {
    tenant: &'a Tenant,
    from: String,
    to: String,
    generated_at: String,
    seed: u64,
    clauses: &'a [ClauseReadiness],
    samples: &'a [ClauseSample],
    met: usize,
    open: usize,
    gap: usize,
}

impl Report<'_> {
    fn sample_of(&self, clause: &str) -> Option<&ClauseSample> {
        self.samples
            .iter()
            .find(|s| s.clause == clause && !s.records.is_empty())
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, PackError> {
    serde_json::to_vec_pretty(value).map_err(|e| PackError::Encode(e.to_string()))
}

/// Builds the pack's files, the signed manifest last.
pub async fn build(
    store: &Store,
    tenant: &Tenant,
    period: Period,
) -> Result<Vec<PackOutput>, PackError> {
    let clauses = store.readiness(tenant.id, period).await?;
    let seed = seed_of(period);
    let mut samples = Vec::new();
    for c in &clauses {
        let population = store.clause_population(tenant.id, &c.id, period).await?;
        samples.push(ClauseSample {
            clause: c.id.clone(),
            population: population.len(),
            records: sample(&population, SAMPLE_SIZE, seed),
        });
    }
    let key = store.signing_key(tenant.id).await?;
    let keys = KeySet {
        keys: store
            .published_keys()
            .await?
            .into_iter()
            .filter(|k| k.tenant == tenant.slug)
            .collect(),
    };
    let (mut met, mut open, mut gap) = (0, 0, 0);
    for c in &clauses {
        met += c.counts.met;
        open += c.counts.open;
        gap += c.counts.gap;
    }
    let generated_at = rfc3339(now_micros());
    let report = Report {
        tenant,
        from: rfc3339(period.from),
        to: rfc3339(period.to),
        generated_at: generated_at.clone(),
        seed,
        clauses: &clauses,
        samples: &samples,
        met,
        open,
        gap,
    }
    .render()
    .map_err(|e| PackError::Encode(e.to_string()))?;
    let sample_data: Vec<serde_json::Value> = samples
        .iter()
        .map(|s| {
            serde_json::json!({"clause": s.clause, "population": s.population,
                               "seed": seed, "size": SAMPLE_SIZE, "records": s.records})
        })
        .collect();
    let files = vec![
        PackOutput {
            path: "report.html".into(),
            content: report.into_bytes(),
        },
        PackOutput {
            path: "readiness.json".into(),
            content: json(&clauses)?,
        },
        PackOutput {
            path: "samples.json".into(),
            content: json(&sample_data)?,
        },
        PackOutput {
            path: "keys.json".into(),
            content: json(&keys)?,
        },
    ];
    let manifest = Manifest {
        format: FORMAT.into(),
        tenant: tenant.slug.clone(),
        key_id: key.key_id.clone(),
        organisation: tenant.name.clone(),
        from: rfc3339(period.from),
        to: rfc3339(period.to),
        generated_at,
        files: files
            .iter()
            .map(|f| PackFile::of(&f.path, &f.content))
            .collect(),
    };
    let signed = Signed::new(&manifest, &key.pair).map_err(|e| PackError::Encode(e.to_string()))?;
    let mut out = files;
    out.push(PackOutput {
        path: MANIFEST.into(),
        content: json(&signed)?,
    });
    Ok(out)
}
