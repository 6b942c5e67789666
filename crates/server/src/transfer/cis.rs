//! CIs and the relationships between them as CSV: the engine behind `steward import cis` and
//! `steward import ci-relationships`.
//!
//! CIs carry their own `external_id` (the `cis` table's column, not the `external` table the
//! records use), so they do not fit [`super::Kind`]; they share the rest of the machinery:
//! every row checked before anything is written with each bad one named by line
//! ([`super::check_rows`]), and the writes with their progress callback
//! ([`super::write_rows`], through [`import_plans`]).
//!
//! A CI row whose `external_id` is known updates that CI: columns the file does not have keep
//! their values, a status change must be one the lifecycle allows, and a row that changes
//! nothing writes nothing. A relationship row that already exists is left alone.

use super::{
    Good, Names, Outcome, RowError, RowFailed, Written, check_rows, known_columns, write_rows,
};
use std::collections::HashMap;
use steward_domain::cmdb::{CiDraft, CiStatus};
use steward_domain::request::FieldKind;
use steward_store::cmdb::{Ci, CiClass};
use steward_store::{Actor, PageRequest, Store, StoreResult};

/// The columns of a CI file, besides one `attr.<name>` per attribute.
pub const CI_COLUMNS: &[&str] = &[
    "external_id",
    "class",
    "name",
    "status",
    "description",
    "owner",
    "team",
    "services",
];

/// Prefix of the attribute columns: `attr.hostname`.
pub const ATTRIBUTE: &str = "attr.";

/// The columns of a relationship file: `source` relates to `target` as `type` says, both by
/// external id.
pub const RELATIONSHIP_COLUMNS: &[&str] = &["source", "target", "type"];

/// What a file's rows name, loaded once per run.
pub struct CiKnown {
    classes: Names,
    class_by_id: HashMap<i64, CiClass>,
    users: Names,
    teams: Names,
    services: Names,
    /// The tenant's CIs with an external id, by it.
    existing: HashMap<String, Ci>,
    /// Relationship types by name.
    types: Vec<String>,
}

impl CiKnown {
    pub async fn load(store: &Store, tenant_id: i64) -> StoreResult<CiKnown> {
        let classes = store.ci_classes(tenant_id).await?;
        let teams =
            super::every(
                |page: PageRequest| async move { store.teams(tenant_id, None, &page).await },
            )
            .await?;
        Ok(CiKnown {
            classes: Names::new(
                "no CI class named",
                classes.iter().map(|c| (c.id, c.name.clone())),
            ),
            class_by_id: classes.into_iter().map(|c| (c.id, c)).collect(),
            users: super::user_names(store, tenant_id).await?,
            teams: Names::new("no team named", teams.into_iter().map(|t| (t.id, t.name))),
            services: super::service_names(store, tenant_id).await?,
            existing: store.cis_by_external_id(tenant_id).await?,
            types: store
                .relationship_types(tenant_id)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
        })
    }
}

/// What a good CI row becomes.
pub struct CiPlan {
    /// The CI it updates, or `None` to create one.
    existing: Option<i64>,
    draft: CiDraft,
    /// Whether the row says what the CI already holds.
    unchanged: bool,
}

/// A header cell of a CI file is one of [`CI_COLUMNS`] or an attribute.
fn ci_header(header: &[&str]) -> Result<(), String> {
    known_columns(
        header,
        |c| CI_COLUMNS.contains(&c) || c.starts_with(ATTRIBUTE),
        &format!("{} and attr.<attribute name>", CI_COLUMNS.join(", ")),
    )
}

/// Checks every row of a CI file against the tenant's classes, people, teams and services, and
/// the lifecycle of the CIs it updates. Nothing is written.
pub fn check_cis(data: &[u8], known: &CiKnown) -> Result<Vec<Good<CiPlan>>, Vec<RowError>> {
    check_rows(
        data,
        ci_header,
        "external_id",
        |row| match row.get("external_id").trim() {
            "" => Err("external_id is required".to_owned()),
            id => Ok(id.to_owned()),
        },
        |row| ci_plan(row, known),
    )
}

/// A cell's value if the file has the column; `keep` otherwise.
fn cell_or<T>(row: &super::Row, column: &str, keep: T, read: impl FnOnce(&str) -> T) -> T {
    match row.0.get(column) {
        Some(cell) => read(cell),
        None => keep,
    }
}

fn ci_plan(row: &super::Row, known: &CiKnown) -> Result<CiPlan, Vec<String>> {
    let mut errors = Vec::new();
    let current = known.existing.get(row.get("external_id").trim());
    let class = match (known.classes.find(row.get("class")), current) {
        (Ok(Some(id)), _) => known.class_by_id.get(&id),
        (Ok(None), Some(ci)) => known.class_by_id.get(&ci.class_id),
        (Ok(None), None) => {
            errors.push("class is required for a new CI".to_owned());
            None
        }
        (Err(e), _) => {
            errors.push(e);
            None
        }
    };
    let status = match row.get("status").trim() {
        "" => current.map_or(CiStatus::InUse, |ci| ci.status),
        text => CiStatus::parse(text).unwrap_or_else(|| {
            errors.push(format!(
                "status `{text}` is not one of planned, in_use, maintenance, retired"
            ));
            current.map_or(CiStatus::InUse, |ci| ci.status)
        }),
    };
    if let Some(ci) = current.filter(|ci| ci.status != status)
        && let Err(refusal) = ci.status.transition(status)
    {
        errors.push(format!("status: {refusal}"));
    }
    let mut lookup =
        |names: &Names, text: &str| super::take(&mut errors, names.find(text)).flatten();
    let owner = cell_or(row, "owner", current.and_then(|c| c.owner_id), |t| {
        lookup(&known.users, t)
    });
    let team = cell_or(row, "team", current.and_then(|c| c.team_id), |t| {
        lookup(&known.teams, t)
    });
    let services = cell_or(
        row,
        "services",
        current.map(|c| c.service_ids.clone()).unwrap_or_default(),
        |t| {
            t.split(';')
                .filter_map(|name| lookup(&known.services, name))
                .collect()
        },
    );
    let Some(class) = class else {
        return Err(errors);
    };
    let mut attributes = current
        .filter(|ci| ci.class_id == class.id)
        .map(|ci| ci.attributes.clone())
        .unwrap_or_default();
    for (column, cell) in &row.0 {
        let Some(name) = column.strip_prefix(ATTRIBUTE) else {
            continue;
        };
        let cell = cell.trim();
        if cell.is_empty() {
            attributes.remove(name);
            continue;
        }
        let field = class.attributes.iter().find(|f| f.name == name);
        let value = match field.map(|f| f.kind) {
            // A person by e-mail, as the owner column names them.
            Some(FieldKind::User) if cell.contains('@') => match lookup(&known.users, cell) {
                Some(id) => serde_json::Value::from(id),
                None => continue,
            },
            _ => serde_json::Value::from(cell),
        };
        attributes.insert(name.to_owned(), value);
    }
    let draft = CiDraft {
        name: cell_or(
            row,
            "name",
            current.map(|c| c.name.clone()).unwrap_or_default(),
            str::to_owned,
        ),
        class_id: class.id,
        status,
        description: cell_or(
            row,
            "description",
            current.map(|c| c.description.clone()).unwrap_or_default(),
            str::to_owned,
        ),
        owner_id: owner,
        team_id: team,
        external_id: Some(row.get("external_id").trim().to_owned()),
        service_ids: services,
        attributes,
    };
    let draft = match draft.validate(&class.name, &class.attributes) {
        Ok(draft) if errors.is_empty() => draft,
        Ok(_) => return Err(errors),
        Err(invalid) => {
            errors.extend(invalid.errors.into_iter().map(|e| {
                let field = e.field.replace("attributes.", ATTRIBUTE);
                format!("{field}: {}", e.message)
            }));
            return Err(errors);
        }
    };
    let unchanged = current.is_some_and(|ci| {
        ci.class_id == draft.class_id
            && ci.name == draft.name
            && ci.status == draft.status
            && ci.description == draft.description
            && ci.owner_id == draft.owner_id
            && ci.team_id == draft.team_id
            && ci.service_ids == draft.service_ids
            && ci.attributes == draft.attributes
    });
    Ok(CiPlan {
        existing: current.map(|ci| ci.id),
        draft,
        unchanged,
    })
}

impl Plan for CiPlan {
    async fn write(&self, store: &Store, tenant_id: i64, actor: &Actor) -> StoreResult<Outcome> {
        match self.existing {
            _ if self.unchanged => Ok(Outcome::Unchanged),
            Some(id) => store
                .update_ci(tenant_id, id, &self.draft, actor)
                .await
                .map(|_| Outcome::Updated),
            None => store
                .create_ci(tenant_id, &self.draft, actor)
                .await
                .map(|_| Outcome::Created),
        }
    }
}

/// What a good relationship row becomes.
pub struct RelationshipPlan {
    source_id: i64,
    target_id: i64,
    type_name: String,
}

/// Checks every row of a relationship file: both ends are CIs the tenant has under those
/// external ids, the type exists, and no row repeats another. Nothing is written.
pub fn check_relationships(
    data: &[u8],
    known: &CiKnown,
) -> Result<Vec<Good<RelationshipPlan>>, Vec<RowError>> {
    let header = |header: &[&str]| {
        let missing: Vec<&str> = RELATIONSHIP_COLUMNS
            .iter()
            .copied()
            .filter(|c| !header.contains(c))
            .collect();
        if missing.is_empty() && header.len() == RELATIONSHIP_COLUMNS.len() {
            Ok(())
        } else {
            Err(format!(
                "the columns are {} (got {})",
                RELATIONSHIP_COLUMNS.join(", "),
                header.join(", ")
            ))
        }
    };
    let key = |row: &super::Row| {
        Ok(format!(
            "{} {} {}",
            row.get("source").trim(),
            row.get("type").trim(),
            row.get("target").trim()
        ))
    };
    check_rows(data, header, "relationship", key, |row| {
        let mut errors = Vec::new();
        let mut end = |column: &str| match row.get(column).trim() {
            "" => {
                errors.push(format!("{column} is required"));
                None
            }
            id => match known.existing.get(id) {
                Some(ci) => Some(ci.id),
                None => {
                    errors.push(format!("{column}: no CI with external id `{id}`"));
                    None
                }
            },
        };
        let (source, target) = (end("source"), end("target"));
        let type_name = row.get("type").trim().to_owned();
        if !known.types.contains(&type_name) {
            errors.push(format!("type: no relationship type `{type_name}`"));
        }
        match (source, target) {
            (Some(s), Some(t)) if s == t => errors.push("a CI cannot be related to itself".into()),
            (Some(source_id), Some(target_id)) if errors.is_empty() => {
                return Ok(RelationshipPlan {
                    source_id,
                    target_id,
                    type_name,
                });
            }
            _ => {}
        }
        Err(errors)
    })
}

impl Plan for RelationshipPlan {
    /// One that already exists is left alone.
    async fn write(&self, store: &Store, tenant_id: i64, actor: &Actor) -> StoreResult<Outcome> {
        let (source, target, kind) = (self.source_id, self.target_id, &self.type_name);
        let found = store
            .ci_relationship_between(tenant_id, source, target, kind)
            .await?;
        if found.is_some() {
            return Ok(Outcome::Unchanged);
        }
        store
            .create_ci_relationship(tenant_id, source, target, kind, actor)
            .await
            .map(|_| Outcome::Created)
    }
}

/// What a checked CMDB row does when written.
pub trait Plan: Send + Sync {
    fn write(
        &self,
        store: &Store,
        tenant_id: i64,
        actor: &Actor,
    ) -> impl Future<Output = StoreResult<Outcome>> + Send;
}

/// Writes checked CI or relationship rows in file order, each in its own journaled
/// transaction, calling `on_row` after each; stops at the first the store refuses.
pub async fn import_plans<P: Plan>(
    store: &Store,
    tenant_id: i64,
    good: &[Good<P>],
    actor: &Actor,
    on_row: impl FnMut() + Send,
) -> Result<Written, RowFailed> {
    write_rows(
        good,
        |row| row.fields.write(store, tenant_id, actor),
        on_row,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_files_take_attribute_columns() {
        assert!(ci_header(&["external_id", "name", "attr.hostname"]).is_ok());
        let err = ci_header(&["external_id", "hostname"]).expect_err("unknown");
        assert!(err.starts_with("unknown column(s) hostname;"), "{err}");
    }
}
