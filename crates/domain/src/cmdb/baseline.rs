//! Baselines: the CIs of a service (or of the whole CMDB) as they were at a moment, and what
//! changed between two such moments.
//!
//! A diff compares CIs field by field, with each attribute a field of its own
//! (`attributes.hostname`), so "what changed since the last approved baseline" reads as a list
//! of small facts. [`apply`] replays a diff onto its `before`, which is how the tests prove a
//! diff explains every difference.

use crate::cmdb::ci::CiStatus;
use crate::cmdb::impact::{Direction, ImpactGraph};
use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One outgoing relationship of a CI, as a baseline records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelationshipRef {
    pub type_name: String,
    pub target_id: i64,
}

/// A CI as a baseline records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CiSnapshot {
    pub id: i64,
    pub name: String,
    pub class_id: i64,
    pub class_name: String,
    pub status: CiStatus,
    pub owner_id: Option<i64>,
    pub team_id: Option<i64>,
    pub external_id: Option<String>,
    /// Sorted.
    pub service_ids: Vec<i64>,
    pub attributes: Map<String, Value>,
    /// Its outgoing relationships, sorted: a baseline of a service is also its wiring.
    pub relationships: Vec<RelationshipRef>,
}

/// The CIs of a baseline, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub cis: BTreeMap<i64, CiSnapshot>,
}

impl Baseline {
    /// Lists are sorted and null attributes dropped, so that order and "unset" written two
    /// ways never show up as changes.
    pub fn new(cis: impl IntoIterator<Item = CiSnapshot>) -> Self {
        let cis = cis
            .into_iter()
            .map(|mut ci| {
                ci.service_ids.sort_unstable();
                ci.service_ids.dedup();
                ci.relationships.sort();
                ci.relationships.dedup();
                ci.attributes.retain(|_, v| !v.is_null());
                (ci.id, ci)
            })
            .collect();
        Baseline { cis }
    }
}

/// A baseline as a person asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaselineDraft {
    pub name: String,
    pub description: String,
    /// The service whose CIs to record; `None` records the whole CMDB.
    pub service_id: Option<i64>,
}

impl BaselineDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            10_000,
        );
        if self.service_id.is_some_and(|id| id <= 0) {
            errors.add("service_id", "Choose a service");
        }
        errors.into_result(self)
    }
}

/// The CIs a service's baseline records: those linked to the service and everything they
/// depend on, so that the baseline holds the whole stack down to the network, not only the
/// application layer. Sorted by id.
pub fn service_scope(graph: &ImpactGraph, linked_ci_ids: &[i64]) -> Vec<i64> {
    let mut scope: BTreeSet<i64> = graph
        .reach_all(linked_ci_ids, Direction::Upstream)
        .into_iter()
        .collect();
    // A linked CI with no relationships may be missing from a graph built from edges only.
    scope.extend(linked_ci_ids);
    scope.into_iter().collect()
}

/// One field of one CI that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// `name`, `status`, `service_ids`, `attributes.hostname`...
    pub field: String,
    /// `null` when the field (an attribute) was not set.
    pub before: Value,
    pub after: Value,
}

/// A CI present in both baselines that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CiChange {
    pub ci_id: i64,
    /// Its name in the later baseline.
    pub name: String,
    pub changes: Vec<FieldChange>,
}

/// What changed between two baselines; every list is in CI id order, fields in name order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BaselineDiff {
    pub added: Vec<CiSnapshot>,
    pub removed: Vec<CiSnapshot>,
    pub changed: Vec<CiChange>,
}

impl BaselineDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

pub fn diff(before: &Baseline, after: &Baseline) -> BaselineDiff {
    let mut result = BaselineDiff::default();
    for (id, old) in &before.cis {
        match after.cis.get(id) {
            None => result.removed.push(old.clone()),
            Some(new) => {
                let changes = field_changes(old, new);
                if !changes.is_empty() {
                    result.changed.push(CiChange {
                        ci_id: *id,
                        name: new.name.clone(),
                        changes,
                    });
                }
            }
        }
    }
    result.added = after
        .cis
        .iter()
        .filter(|(id, _)| !before.cis.contains_key(id))
        .map(|(_, ci)| ci.clone())
        .collect();
    result
}

fn field_changes(old: &CiSnapshot, new: &CiSnapshot) -> Vec<FieldChange> {
    let (old, new) = (flatten(old), flatten(new));
    let fields: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    fields
        .into_iter()
        .filter_map(|field| {
            let before = old.get(field).cloned().unwrap_or(Value::Null);
            let after = new.get(field).cloned().unwrap_or(Value::Null);
            (before != after).then(|| FieldChange {
                field: field.clone(),
                before,
                after,
            })
        })
        .collect()
}

const ATTRIBUTE_PREFIX: &str = "attributes.";

/// A snapshot as one flat map of field → value, each attribute a field of its own. Attribute
/// names are letters, digits and underscores, so `attributes.` never collides with a field.
fn flatten(ci: &CiSnapshot) -> BTreeMap<String, Value> {
    let mut fields = BTreeMap::new();
    if let Ok(Value::Object(map)) = serde_json::to_value(ci) {
        for (key, value) in map {
            match (key.as_str(), value) {
                ("id", _) => {}
                ("attributes", Value::Object(attributes)) => {
                    for (name, value) in attributes.into_iter().filter(|(_, v)| !v.is_null()) {
                        fields.insert(format!("{ATTRIBUTE_PREFIX}{name}"), value);
                    }
                }
                (_, value) => {
                    fields.insert(key, value);
                }
            }
        }
    }
    fields
}

fn unflatten(id: i64, fields: BTreeMap<String, Value>) -> Option<CiSnapshot> {
    let mut object = Map::new();
    let mut attributes = Map::new();
    for (field, value) in fields {
        match field.strip_prefix(ATTRIBUTE_PREFIX) {
            Some(name) if !value.is_null() => {
                attributes.insert(name.to_owned(), value);
            }
            Some(_) => {}
            None => {
                object.insert(field, value);
            }
        }
    }
    object.insert("id".into(), id.into());
    object.insert("attributes".into(), Value::Object(attributes));
    serde_json::from_value(Value::Object(object)).ok()
}

/// Replays `diff` onto `before`. `None` if the diff does not fit (a change to a CI `before`
/// lacks, or a value of the wrong type).
pub fn apply(before: &Baseline, diff: &BaselineDiff) -> Option<Baseline> {
    let mut cis = before.cis.clone();
    for gone in &diff.removed {
        cis.remove(&gone.id)?;
    }
    for change in &diff.changed {
        let mut fields = flatten(cis.get(&change.ci_id)?);
        for FieldChange { field, after, .. } in &change.changes {
            fields.insert(field.clone(), after.clone());
        }
        cis.insert(change.ci_id, unflatten(change.ci_id, fields)?);
    }
    for new in &diff.added {
        cis.insert(new.id, new.clone());
    }
    Some(Baseline { cis })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdb::impact::Edge;
    use crate::cmdb::relationship::Dependency;
    use proptest::prelude::*;
    use serde_json::json;

    fn ci(id: i64, name: &str) -> CiSnapshot {
        CiSnapshot {
            id,
            name: name.into(),
            class_id: 1,
            class_name: "Server".into(),
            status: CiStatus::InUse,
            owner_id: Some(7),
            team_id: None,
            external_id: None,
            service_ids: vec![2],
            attributes: json!({"hostname": name, "ram_gb": 64})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            relationships: vec![],
        }
    }

    #[test]
    fn a_diff_lists_added_removed_and_changed_fields() {
        let before = Baseline::new([ci(1, "db01"), ci(2, "db02")]);
        let mut db01 = ci(1, "db01");
        db01.status = CiStatus::Maintenance;
        db01.attributes.insert("ram_gb".into(), json!(128));
        db01.attributes.insert("rack".into(), json!("R12"));
        db01.relationships.push(RelationshipRef {
            type_name: "runs_on".into(),
            target_id: 9,
        });
        let after = Baseline::new([db01, ci(3, "db03")]);

        let d = diff(&before, &after);
        assert_eq!(d.added.iter().map(|c| c.id).collect::<Vec<_>>(), [3]);
        assert_eq!(d.removed.iter().map(|c| c.id).collect::<Vec<_>>(), [2]);
        let fields: Vec<(&str, Value, Value)> = d.changed[0]
            .changes
            .iter()
            .map(|c| (c.field.as_str(), c.before.clone(), c.after.clone()))
            .collect();
        assert_eq!(
            fields,
            [
                ("attributes.rack", Value::Null, json!("R12")),
                ("attributes.ram_gb", json!(64), json!(128)),
                (
                    "relationships",
                    json!([]),
                    json!([{"type_name": "runs_on", "target_id": 9}])
                ),
                ("status", json!("in_use"), json!("maintenance")),
            ]
        );
        assert_eq!(apply(&before, &d), Some(after));
    }

    #[test]
    fn order_and_null_attributes_are_not_changes() {
        let mut a = ci(1, "db01");
        a.service_ids = vec![3, 2];
        let mut b = ci(1, "db01");
        b.service_ids = vec![2, 3];
        b.attributes.insert("rack".into(), Value::Null);
        assert!(diff(&Baseline::new([a]), &Baseline::new([b])).is_empty());
    }

    #[test]
    fn a_service_scope_takes_the_stack_below_it() {
        // app 1 runs on vm 2, vm 2 runs on host 3; app 4 depends on app 1 (above, not below).
        let edge = |rel, source, target| Edge {
            relationship_id: rel,
            source_id: source,
            target_id: target,
            dependency: Dependency::SourceOnTarget,
        };
        let graph = ImpactGraph::build([], [edge(10, 1, 2), edge(11, 2, 3), edge(12, 4, 1)]);
        assert_eq!(service_scope(&graph, &[1, 99]), [1, 2, 3, 99]);
    }

    #[test]
    fn baseline_drafts_are_checked() {
        let draft = BaselineDraft {
            name: " Q3 release ".into(),
            description: String::new(),
            service_id: Some(0),
        };
        assert!(draft.clone().validate().is_err());
        let ok = BaselineDraft {
            service_id: None,
            ..draft
        };
        assert_eq!(ok.validate().map(|d| d.name), Ok("Q3 release".into()));
    }

    fn snapshot() -> impl Strategy<Value = CiSnapshot> {
        (
            1i64..8,
            "[a-c]{1,2}",
            prop::sample::select(CiStatus::ALL.to_vec()),
            prop::option::of(1i64..3),
            prop::collection::vec(1i64..4, 0..3),
            prop::collection::btree_map(
                "[xy]",
                prop_oneof![Just(json!(1)), Just(json!("a")), Just(json!(2.5))],
                0..3,
            ),
            prop::collection::vec(
                (prop::sample::select(vec!["runs_on", "contains"]), 1i64..4),
                0..3,
            ),
        )
            .prop_map(
                |(id, name, status, owner_id, service_ids, attributes, relationships)| CiSnapshot {
                    id,
                    name,
                    class_id: 1,
                    class_name: "Server".into(),
                    status,
                    owner_id,
                    team_id: None,
                    external_id: None,
                    service_ids,
                    attributes: attributes.into_iter().collect(),
                    relationships: relationships
                        .into_iter()
                        .map(|(t, target_id)| RelationshipRef {
                            type_name: t.into(),
                            target_id,
                        })
                        .collect(),
                },
            )
    }

    proptest! {
        #[test]
        fn a_diff_explains_every_difference(
            a in prop::collection::vec(snapshot(), 0..6),
            b in prop::collection::vec(snapshot(), 0..6),
        ) {
            let (a, b) = (Baseline::new(a), Baseline::new(b));
            prop_assert!(diff(&a, &a).is_empty());
            let d = diff(&a, &b);
            prop_assert_eq!(apply(&a, &d), Some(b.clone()));
            prop_assert_eq!(d.is_empty(), a == b);
            for change in &d.changed {
                prop_assert!(!change.changes.is_empty());
                prop_assert!(change.changes.iter().all(|c| c.before != c.after));
            }
        }
    }
}
