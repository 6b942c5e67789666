//! The conformance catalogue: every clause of ISO/IEC 20000-1:2018 from 4 to 10 that carries
//! requirements, each broken into short, checkable requirements with the evidence an auditor
//! asks for and the kinds of Steward records that serve as that evidence.
//!
//! The text is Steward's own paraphrase, written for people running a service management
//! system; it is never the standard's text. Clause numbers and titles are given as published,
//! because they are how everyone finds their way around the standard; for the exact
//! requirements, read the standard itself.
//!
//! The data lives in `catalogue.toml`, compiled into the binary and parsed once on first use
//! ([`catalogue`]). A requirement either names a [`RuleId`]: a check over Steward's records
//! that truly evidences it (every change implemented was authorised first, say), or names
//! none, in which case a person assesses it (manual). A rule may serve several requirements,
//! and the tests make sure every rule serves at least one.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::conformance::rules::RuleId;

/// The whole catalogue: the headings that only group clauses, and the clauses that carry
/// requirements, both in the standard's order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(rename = "heading")]
    pub headings: Vec<Heading>,
    #[serde(rename = "clause")]
    pub clauses: Vec<Clause>,
}

/// A clause heading with no requirements of its own ("8.5 Service design, build and
/// transition"), kept so the clauses can be shown as a tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Heading {
    pub id: String,
    pub title: String,
    /// None for a top-level clause (4 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A clause that carries requirements.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: String,
    pub title: String,
    /// A heading id or a clause id.
    pub parent: String,
    /// One line, in Steward's words.
    pub summary: String,
    /// The kinds of Steward records that serve as evidence (`change`, `incident`…).
    pub records: Vec<String>,
    /// The documented information the clause itself calls for; empty if none.
    pub documented_information: Vec<String>,
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
}

/// One checkable requirement of a clause.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// `<clause>-<letter>`, such as `8.5.1.1-a`; stable.
    pub id: String,
    pub text: String,
    /// What an auditor asks to see.
    pub evidence: String,
    /// The rule that evidences it; None means a person assesses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    toml::from_str(include_str!("catalogue.toml")).expect("the built-in catalogue parses (tested)")
});

/// The built-in catalogue, parsed on first use.
pub fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

impl Catalogue {
    /// The clause with this id ("8.5.1.1"); headings are not clauses.
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// The requirement with this id ("8.5.1.1-a") and its clause.
    pub fn requirement(&self, id: &str) -> Option<(&Clause, &Requirement)> {
        self.requirements().find(|(_, r)| r.id == id)
    }

    /// Every requirement with its clause, in the standard's order.
    pub fn requirements(&self) -> impl Iterator<Item = (&Clause, &Requirement)> {
        self.clauses
            .iter()
            .flat_map(|c| c.requirements.iter().map(move |r| (c, r)))
    }
}

impl Clause {
    /// The top-level clause number: "8" for "8.5.1.1".
    pub fn top(&self) -> &str {
        self.id.split('.').next().unwrap_or(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// "8.5.1.1" as [8, 5, 1, 1], for numeric ordering.
    fn number(id: &str) -> Vec<u32> {
        id.split('.')
            .map(|part| {
                part.parse()
                    .unwrap_or_else(|_| panic!("clause id {id} is not numeric"))
            })
            .collect()
    }

    #[test]
    fn parses() {
        let parsed: Catalogue = match toml::from_str(include_str!("catalogue.toml")) {
            Ok(c) => c,
            Err(e) => panic!("catalogue.toml does not parse: {e:?}"),
        };
        assert!(!parsed.clauses.is_empty());
        assert!(!catalogue().headings.is_empty());
    }

    #[test]
    fn clause_ids_are_unique() {
        let mut seen = HashSet::new();
        for c in &catalogue().clauses {
            assert!(seen.insert(c.id.as_str()), "clause {} twice", c.id);
        }
        let mut headings = HashSet::new();
        for h in &catalogue().headings {
            assert!(headings.insert(h.id.as_str()), "heading {} twice", h.id);
            assert!(
                !seen.contains(h.id.as_str()),
                "{} is both heading and clause",
                h.id
            );
        }
    }

    #[test]
    fn requirement_ids_are_unique_and_belong_to_their_clause() {
        let mut seen = HashSet::new();
        for (c, r) in catalogue().requirements() {
            assert!(seen.insert(r.id.as_str()), "requirement {} twice", r.id);
            let letter =
                r.id.strip_prefix(&format!("{}-", c.id))
                    .unwrap_or_else(|| panic!("{} is not under clause {}", r.id, c.id));
            assert!(
                !letter.is_empty() && letter.chars().all(|ch| ch.is_ascii_lowercase()),
                "{} has no letter",
                r.id
            );
        }
    }

    #[test]
    fn every_parent_exists() {
        let cat = catalogue();
        let ids: HashSet<&str> = cat
            .headings
            .iter()
            .map(|h| h.id.as_str())
            .chain(cat.clauses.iter().map(|c| c.id.as_str()))
            .collect();
        for c in &cat.clauses {
            assert!(
                ids.contains(c.parent.as_str()),
                "{}: no parent {}",
                c.id,
                c.parent
            );
            assert!(
                c.id.starts_with(&format!("{}.", c.parent)),
                "{} under {}",
                c.id,
                c.parent
            );
        }
        for h in &cat.headings {
            match &h.parent {
                Some(p) => assert!(ids.contains(p.as_str()), "heading {}: no parent {p}", h.id),
                None => assert!(!h.id.contains('.'), "heading {} needs a parent", h.id),
            }
        }
    }

    #[test]
    fn clauses_are_in_the_standards_order() {
        let clauses = &catalogue().clauses;
        for pair in clauses.windows(2) {
            assert!(
                number(&pair[0].id) < number(&pair[1].id),
                "{} comes before {}",
                pair[0].id,
                pair[1].id
            );
        }
        let headings = &catalogue().headings;
        for pair in headings.windows(2) {
            assert!(
                number(&pair[0].id) < number(&pair[1].id),
                "heading {} comes before {}",
                pair[0].id,
                pair[1].id
            );
        }
    }

    #[test]
    fn covers_every_clause_of_the_standard() {
        const CLAUSES: &[&str] = &[
            "4.1", "4.2", "4.3", "4.4", "5.1", "5.2.1", "5.2.2", "5.3", "6.1", "6.2.1", "6.2.2",
            "6.3", "7.1", "7.2", "7.3", "7.4", "7.5.1", "7.5.2", "7.5.3", "7.5.4", "7.6", "8.1",
            "8.2.1", "8.2.2", "8.2.3", "8.2.4", "8.2.5", "8.2.6", "8.3.1", "8.3.2", "8.3.3",
            "8.3.4.1", "8.3.4.2", "8.4.1", "8.4.2", "8.4.3", "8.5.1.1", "8.5.1.2", "8.5.1.3",
            "8.5.2.1", "8.5.2.2", "8.5.2.3", "8.5.3", "8.6.1", "8.6.2", "8.6.3", "8.7.1", "8.7.2",
            "8.7.3.1", "8.7.3.2", "8.7.3.3", "9.1", "9.2", "9.3", "9.4", "10.1", "10.2",
        ];
        const HEADINGS: &[&str] = &[
            "4", "5", "5.2", "6", "6.2", "7", "7.5", "8", "8.2", "8.3", "8.3.4", "8.4", "8.5",
            "8.5.1", "8.5.2", "8.6", "8.7", "8.7.3", "9", "10",
        ];
        assert_eq!(CLAUSES.len(), 57);
        let cat = catalogue();
        for id in CLAUSES {
            assert!(cat.clause(id).is_some(), "clause {id} missing");
        }
        for id in HEADINGS {
            assert!(
                cat.headings.iter().any(|h| h.id == *id),
                "heading {id} missing"
            );
        }
        assert!(cat.clauses.len() >= 57);
        assert!(cat.requirements().count() >= 330);
    }

    #[test]
    fn every_rule_serves_a_requirement() {
        let used: HashSet<RuleId> = catalogue()
            .requirements()
            .filter_map(|(_, r)| r.rule)
            .collect();
        for rule in RuleId::ALL {
            assert!(used.contains(rule), "{rule:?} serves no requirement");
        }
    }

    #[test]
    fn nothing_is_empty() {
        for c in &catalogue().clauses {
            assert!(!c.title.trim().is_empty(), "{}: no title", c.id);
            assert!(!c.summary.trim().is_empty(), "{}: no summary", c.id);
            assert!(!c.records.is_empty(), "{}: no records", c.id);
            assert!(
                c.requirements.len() >= 3,
                "{}: fewer than 3 requirements",
                c.id
            );
            for r in &c.requirements {
                assert!(!r.text.trim().is_empty(), "{}: no text", r.id);
                assert!(!r.evidence.trim().is_empty(), "{}: no evidence", r.id);
            }
        }
    }

    #[test]
    fn helpers_find_clauses_and_requirements() {
        let cat = catalogue();
        let clause = cat.clause("8.5.1.1").expect("8.5.1.1 is in the catalogue");
        assert_eq!(clause.top(), "8");
        assert_eq!(cat.clause("10.2").map(Clause::top), Some("10"));
        let (c, r) = cat
            .requirement("8.5.1.1-a")
            .expect("8.5.1.1-a is in the catalogue");
        assert_eq!(c.id, "8.5.1.1");
        assert_eq!(r.id, "8.5.1.1-a");
        assert!(cat.clause("8.5").is_none(), "headings are not clauses");
        assert!(cat.requirement("8.5.1.1-zz").is_none());
    }

    #[test]
    fn round_trips_through_json() {
        let json = serde_json::to_string(catalogue()).expect("the catalogue serialises");
        let back: Catalogue = serde_json::from_str(&json).expect("and reads back");
        assert_eq!(back.clauses.len(), catalogue().clauses.len());
        assert_eq!(
            back.requirements().count(),
            catalogue().requirements().count()
        );
    }
}
