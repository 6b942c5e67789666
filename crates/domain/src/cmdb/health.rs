//! The CMDB health report: what makes the CMDB less trustworthy than it looks.
//!
//! Each check is plain and explainable, so that a finding tells the person fixing it exactly
//! why it was raised. Retired CIs are left out of every check: they are history, nobody
//! verifies them, and a new server that reuses a retired one's hostname is not a duplicate.

use crate::cmdb::ci::CiStatus;
use crate::request::FormField;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// What the report needs to know about one CI; the store gathers it in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct CiFacts {
    pub id: i64,
    pub class_id: i64,
    pub status: CiStatus,
    /// When someone (or a discovery run) last confirmed the record matches reality.
    pub last_verified_micros: Option<i64>,
    /// Relationships of any type, in either direction.
    pub relationship_count: u32,
    pub service_count: u32,
    pub attributes: Map<String, Value>,
}

/// The thresholds an admin sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthPolicy {
    /// A CI not verified for longer than this is stale.
    pub stale_after_days: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            stale_after_days: 90,
        }
    }
}

/// Which identifying attribute two CIs share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateKey {
    /// The `serial_number` (or `serial`) attribute, ignoring case, spaces and dashes.
    Serial,
    /// The `hostname` (or `fqdn`) attribute, ignoring case and the domain.
    Hostname,
}

crate::service::text_enum!(DuplicateKey { Serial => "serial", Hostname => "hostname" });

/// Attribute names read for each duplicate key, in order of preference.
pub const SERIAL_ATTRIBUTES: [&str; 2] = ["serial_number", "serial"];
pub const HOSTNAME_ATTRIBUTES: [&str; 2] = ["hostname", "fqdn"];

/// Serials that vendors and imports fill in when they do not know (after normalising). They
/// would otherwise make every such machine a "duplicate" of every other.
const PLACEHOLDER_SERIALS: [&str; 10] = [
    "NA",
    "N/A",
    "NONE",
    "UNKNOWN",
    "TBD",
    "DEFAULT",
    "DEFAULTSTRING",
    "TOBEFILLEDBYO.E.M.",
    "SYSTEMSERIALNUMBER",
    "123456789",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleCi {
    pub ci_id: i64,
    /// `None`: never verified.
    pub last_verified_micros: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateGroup {
    pub key: DuplicateKey,
    /// The normalised value they share, as the report shows it.
    pub value: String,
    /// Sorted, at least two.
    pub ci_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingAttributes {
    pub ci_id: i64,
    /// The required attributes without a value, in the class's order.
    pub attributes: Vec<String>,
}

/// Every finding, each list in CI id order (duplicate groups by key, then value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    pub stale: Vec<StaleCi>,
    /// CIs with no relationship and no service: nothing says why they matter.
    pub orphans: Vec<i64>,
    pub duplicates: Vec<DuplicateGroup>,
    pub missing_attributes: Vec<MissingAttributes>,
}

impl HealthReport {
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty()
            && self.orphans.is_empty()
            && self.duplicates.is_empty()
            && self.missing_attributes.is_empty()
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Runs every check. `schemas` maps class id to its attribute schema; a CI whose class is not
/// there is not checked for missing attributes.
pub fn report(
    cis: &[CiFacts],
    schemas: &HashMap<i64, Vec<FormField>>,
    policy: HealthPolicy,
    now_micros: i64,
) -> HealthReport {
    let mut live: Vec<&CiFacts> = cis
        .iter()
        .filter(|ci| ci.status != CiStatus::Retired)
        .collect();
    live.sort_by_key(|ci| ci.id);
    HealthReport {
        stale: live
            .iter()
            .filter(|ci| is_stale(ci.last_verified_micros, policy, now_micros))
            .map(|ci| StaleCi {
                ci_id: ci.id,
                last_verified_micros: ci.last_verified_micros,
            })
            .collect(),
        orphans: live
            .iter()
            .filter(|ci| ci.relationship_count == 0 && ci.service_count == 0)
            .map(|ci| ci.id)
            .collect(),
        duplicates: duplicates(&live),
        missing_attributes: live
            .iter()
            .filter_map(|ci| {
                let missing = missing_required(schemas.get(&ci.class_id)?, &ci.attributes);
                (!missing.is_empty()).then_some(MissingAttributes {
                    ci_id: ci.id,
                    attributes: missing,
                })
            })
            .collect(),
    }
}

/// Never verified, or verified more than `stale_after_days` before `now`.
pub fn is_stale(last_verified_micros: Option<i64>, policy: HealthPolicy, now_micros: i64) -> bool {
    let allowed = i64::from(policy.stale_after_days).saturating_mul(MICROS_PER_DAY);
    last_verified_micros.is_none_or(|at| now_micros.saturating_sub(at) > allowed)
}

/// The required attributes of `schema` that `attributes` leaves unset, null or blank. A class
/// can gain a required attribute after its CIs were created; this finds them.
pub fn missing_required(schema: &[FormField], attributes: &Map<String, Value>) -> Vec<String> {
    schema
        .iter()
        .filter(|field| field.required && text_of(attributes.get(&field.name)).is_none())
        .map(|field| field.name.clone())
        .collect()
}

fn duplicates(cis: &[&CiFacts]) -> Vec<DuplicateGroup> {
    let mut groups: BTreeMap<(DuplicateKey, String), Vec<i64>> = BTreeMap::new();
    for ci in cis {
        let serial =
            first_text(&ci.attributes, &SERIAL_ATTRIBUTES).and_then(|s| normalise_serial(&s));
        let host =
            first_text(&ci.attributes, &HOSTNAME_ATTRIBUTES).and_then(|h| normalise_hostname(&h));
        for (key, value) in [
            (DuplicateKey::Serial, serial),
            (DuplicateKey::Hostname, host),
        ] {
            if let Some(value) = value {
                groups.entry((key, value)).or_default().push(ci.id);
            }
        }
    }
    groups
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|((key, value), ci_ids)| DuplicateGroup { key, value, ci_ids })
        .collect()
}

/// Upper case without spaces or dashes; `None` for blanks, all-zero and placeholder serials.
pub fn normalise_serial(serial: &str) -> Option<String> {
    let normal: String = serial
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    let placeholder = normal.is_empty()
        || normal.chars().all(|c| c == '0')
        || PLACEHOLDER_SERIALS.contains(&normal.as_str());
    (!placeholder).then_some(normal)
}

/// The host's short name in lower case: `DB01.corp.example.org.` and `db01` are the same host
/// as far as a probable duplicate goes. `None` for blanks and `localhost`.
pub fn normalise_hostname(hostname: &str) -> Option<String> {
    let lower = hostname.trim().trim_end_matches('.').to_lowercase();
    let short = lower.split('.').next().unwrap_or_default().to_owned();
    (!short.is_empty() && short != "localhost").then_some(short)
}

fn first_text(attributes: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| text_of(attributes.get(*name)))
}

/// A value as trimmed text; `None` when unset, null or blank.
fn text_of(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::Null => return None,
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::FieldKind;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000_000;

    fn facts(id: i64, attributes: Value) -> CiFacts {
        CiFacts {
            id,
            class_id: 1,
            status: CiStatus::InUse,
            last_verified_micros: Some(NOW - MICROS_PER_DAY),
            relationship_count: 1,
            service_count: 0,
            attributes: attributes.as_object().cloned().unwrap_or_default(),
        }
    }

    fn schemas() -> HashMap<i64, Vec<FormField>> {
        let field = |name: &str, required| FormField {
            name: name.into(),
            label: name.into(),
            kind: FieldKind::Text,
            required,
            options: vec![],
        };
        HashMap::from([(
            1,
            vec![
                field("hostname", true),
                field("serial_number", false),
                field("rack", true),
            ],
        )])
    }

    #[test]
    fn stale_means_never_or_too_long_ago() {
        let policy = HealthPolicy {
            stale_after_days: 30,
        };
        assert!(is_stale(None, policy, NOW));
        assert!(!is_stale(Some(NOW - 30 * MICROS_PER_DAY), policy, NOW));
        assert!(is_stale(Some(NOW - 30 * MICROS_PER_DAY - 1), policy, NOW));
        assert!(
            !is_stale(Some(NOW + MICROS_PER_DAY), policy, NOW),
            "clock skew is not staleness"
        );
    }

    #[test]
    fn identifiers_are_normalised_explainably() {
        assert_eq!(normalise_serial(" ab-12 cd "), Some("AB12CD".into()));
        for placeholder in ["", "  ", "0000", "N/A", "To be filled by O.E.M.", "unknown"] {
            assert_eq!(normalise_serial(placeholder), None, "{placeholder}");
        }
        assert_eq!(
            normalise_hostname("DB01.corp.example.org."),
            Some("db01".into())
        );
        assert_eq!(normalise_hostname(" db01 "), Some("db01".into()));
        assert_eq!(normalise_hostname("localhost.localdomain"), None);
        assert_eq!(normalise_hostname(" "), None);
    }

    #[test]
    fn the_report_finds_each_kind_of_problem() {
        let mut never_verified = facts(5, json!({"hostname": "app01", "rack": "R1"}));
        never_verified.last_verified_micros = None;
        let mut orphan = facts(
            4,
            json!({"hostname": "web01", "rack": "R1", "serial_number": "N/A"}),
        );
        orphan.relationship_count = 0;
        let mut retired = facts(6, json!({"hostname": "db01"}));
        retired.status = CiStatus::Retired;
        retired.relationship_count = 0;
        retired.last_verified_micros = None;
        let cis = vec![
            facts(
                3,
                json!({"hostname": "DB01.example.org", "serial_number": "sn-1", "rack": "R2"}),
            ),
            facts(1, json!({"hostname": "db01", "rack": " "})),
            facts(
                2,
                json!({"fqdn": "db02.example.org", "serial": "SN1", "rack": "R3"}),
            ),
            orphan,
            never_verified,
            retired,
        ];
        let got = report(&cis, &schemas(), HealthPolicy::default(), NOW);
        assert_eq!(
            got.stale,
            [StaleCi {
                ci_id: 5,
                last_verified_micros: None
            }]
        );
        assert_eq!(got.orphans, [4]);
        assert_eq!(
            got.duplicates,
            [
                DuplicateGroup {
                    key: DuplicateKey::Serial,
                    value: "SN1".into(),
                    ci_ids: vec![2, 3]
                },
                DuplicateGroup {
                    key: DuplicateKey::Hostname,
                    value: "db01".into(),
                    ci_ids: vec![1, 3]
                },
            ]
        );
        assert_eq!(
            got.missing_attributes,
            [
                MissingAttributes {
                    ci_id: 1,
                    attributes: vec!["rack".into()]
                },
                // It has an `fqdn`, but the class asks for `hostname`.
                MissingAttributes {
                    ci_id: 2,
                    attributes: vec!["hostname".into()]
                },
            ]
        );
        assert!(!got.is_clean());
        assert!(report(&[], &schemas(), HealthPolicy::default(), NOW).is_clean());
    }
}
