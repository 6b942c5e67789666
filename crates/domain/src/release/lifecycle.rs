//! The release lifecycle: which status may follow which, and what must be true first.
//!
//! ```text
//! planned ─▶ built ─▶ in_test ─▶ accepted ─▶ deploying ─▶ deployed ─▶ closed
//!              ▲         │
//!              └─────────┘  (tests failed: back to built)
//! emergency:  built ─────────────────────▶ deploying
//! any of planned, built, in_test, accepted ─▶ cancelled
//! ```
//!
//! - **Accepted** needs every acceptance criterion signed off as accepted, and at least one
//!   criterion: a release nobody said what "good" means for is not accepted (8.5.3: the
//!   acceptance criteria are agreed and met before deployment).
//! - **Emergency** releases may go from built straight to deploying: they restore or protect a
//!   service now, and their acceptance is recorded afterwards through the deployments'
//!   verification notes. Major and minor releases always pass test and acceptance.
//! - **Deployed** needs at least one successful deployment and none still in progress.
//! - Closed and cancelled are terminal; a cancelled release is raised again as a new one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// New functionality or a significant change; planned well ahead.
    Major,
    /// Small improvements and fixes.
    Minor,
    /// Must ship now to restore or protect a service.
    Emergency,
}

crate::service::text_enum!(ReleaseKind {
    Major => "major", Minor => "minor", Emergency => "emergency",
});

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStatus {
    #[default]
    Planned,
    Built,
    InTest,
    Accepted,
    Deploying,
    Deployed,
    Closed,
    Cancelled,
}

crate::service::text_enum!(ReleaseStatus {
    Planned => "planned", Built => "built", InTest => "in_test", Accepted => "accepted",
    Deploying => "deploying", Deployed => "deployed", Closed => "closed", Cancelled => "cancelled",
});

impl ReleaseStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, ReleaseStatus::Closed | ReleaseStatus::Cancelled)
    }

    /// Whether acceptance has happened: the release is accepted or further on (not cancelled).
    pub fn is_accepted(self) -> bool {
        matches!(
            self,
            ReleaseStatus::Accepted | ReleaseStatus::Deploying | ReleaseStatus::Deployed
        )
    }

    /// Whether criteria may still be added or signed: before acceptance.
    pub fn criteria_open(self) -> bool {
        matches!(
            self,
            ReleaseStatus::Planned | ReleaseStatus::Built | ReleaseStatus::InTest
        )
    }

    /// Whether deployments may be recorded: once something is built, until the release ends.
    pub fn takes_deployments(self) -> bool {
        matches!(
            self,
            ReleaseStatus::Built
                | ReleaseStatus::InTest
                | ReleaseStatus::Accepted
                | ReleaseStatus::Deploying
                | ReleaseStatus::Deployed
        )
    }
}

impl ReleaseKind {
    /// The statuses a release of this kind may move to from `from`: the transition table.
    pub fn next(self, from: ReleaseStatus) -> &'static [ReleaseStatus] {
        use ReleaseStatus::*;
        match (self, from) {
            (_, Planned) => &[Built, Cancelled],
            (ReleaseKind::Emergency, Built) => &[InTest, Deploying, Cancelled],
            (_, Built) => &[InTest, Cancelled],
            (_, InTest) => &[Accepted, Built, Cancelled],
            (_, Accepted) => &[Deploying, Cancelled],
            (_, Deploying) => &[Deployed],
            (_, Deployed) => &[Closed],
            (_, Closed | Cancelled) => &[],
        }
    }
}

/// What the guards need to know about a release; the store gathers it before a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// At least one criterion exists and every one is signed off as accepted
    /// ([`crate::release::all_accepted`]).
    pub criteria_accepted: bool,
    pub deployment_succeeded: bool,
    pub deployment_in_progress: bool,
}

/// Why a release may not move as asked, in words for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseRefusal {
    #[error("a {kind} release cannot go from {from} to {to}")]
    NotAllowed {
        kind: ReleaseKind,
        from: ReleaseStatus,
        to: ReleaseStatus,
        allowed: Vec<ReleaseStatus>,
    },
    /// A guard failed: the field to fix and what to do.
    #[error("{1}")]
    Needs(&'static str, &'static str),
}

/// Moves a release of `kind` from `from` to `to` if the table allows it and the facts satisfy
/// the guards; returns the new status.
pub fn transition(
    kind: ReleaseKind,
    from: ReleaseStatus,
    to: ReleaseStatus,
    facts: &Facts,
) -> Result<ReleaseStatus, ReleaseRefusal> {
    if !kind.next(from).contains(&to) {
        return Err(ReleaseRefusal::NotAllowed {
            kind,
            from,
            to,
            allowed: kind.next(from).to_vec(),
        });
    }
    match to {
        ReleaseStatus::Accepted if !facts.criteria_accepted => Err(ReleaseRefusal::Needs(
            "criteria",
            "Every acceptance criterion must be signed off as accepted (and there must be at least one) before the release is accepted",
        )),
        ReleaseStatus::Deployed if !facts.deployment_succeeded => Err(ReleaseRefusal::Needs(
            "deployments",
            "Record a successful deployment before marking the release deployed",
        )),
        ReleaseStatus::Deployed if facts.deployment_in_progress => Err(ReleaseRefusal::Needs(
            "deployments",
            "A deployment is still in progress: record its outcome first",
        )),
        _ => Ok(to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn all_good() -> Facts {
        Facts {
            criteria_accepted: true,
            deployment_succeeded: true,
            deployment_in_progress: false,
        }
    }

    #[test]
    fn enums_round_trip() {
        for s in ReleaseStatus::ALL {
            assert_eq!(ReleaseStatus::parse(s.as_str()), Some(*s));
        }
        for k in ReleaseKind::ALL {
            assert_eq!(ReleaseKind::parse(k.as_str()), Some(*k));
        }
    }

    #[test]
    fn the_happy_path_is_allowed() {
        use ReleaseStatus::*;
        for kind in ReleaseKind::ALL {
            for pair in [
                Planned, Built, InTest, Accepted, Deploying, Deployed, Closed,
            ]
            .windows(2)
            {
                assert_eq!(
                    transition(*kind, pair[0], pair[1], &all_good()),
                    Ok(pair[1])
                );
            }
        }
    }

    #[test]
    fn failed_tests_go_back_to_built() {
        assert!(
            transition(
                ReleaseKind::Major,
                ReleaseStatus::InTest,
                ReleaseStatus::Built,
                &Facts::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn only_emergencies_skip_test_and_acceptance() {
        let skip = |kind| {
            transition(
                kind,
                ReleaseStatus::Built,
                ReleaseStatus::Deploying,
                &all_good(),
            )
        };
        assert!(skip(ReleaseKind::Emergency).is_ok());
        assert!(skip(ReleaseKind::Major).is_err());
        assert!(skip(ReleaseKind::Minor).is_err());
    }

    #[test]
    fn refusals_name_what_is_missing() {
        let unsigned = Facts {
            criteria_accepted: false,
            ..all_good()
        };
        assert_eq!(
            transition(
                ReleaseKind::Minor,
                ReleaseStatus::InTest,
                ReleaseStatus::Accepted,
                &unsigned
            ),
            Err(ReleaseRefusal::Needs(
                "criteria",
                "Every acceptance criterion must be signed off as accepted (and there must be at least one) before the release is accepted"
            ))
        );
        let running = Facts {
            deployment_in_progress: true,
            ..all_good()
        };
        assert!(matches!(
            transition(
                ReleaseKind::Minor,
                ReleaseStatus::Deploying,
                ReleaseStatus::Deployed,
                &running
            ),
            Err(ReleaseRefusal::Needs("deployments", _))
        ));
    }

    #[test]
    fn every_reachable_status_can_reach_an_end() {
        for kind in ReleaseKind::ALL {
            let mut reachable = BTreeSet::from([ReleaseStatus::Planned]);
            let mut frontier = vec![ReleaseStatus::Planned];
            while let Some(s) = frontier.pop() {
                for n in kind.next(s) {
                    if reachable.insert(*n) {
                        frontier.push(*n);
                    }
                }
            }
            for s in &reachable {
                assert!(s.is_terminal() || !kind.next(*s).is_empty(), "{kind}: {s}");
            }
            assert!(reachable.contains(&ReleaseStatus::Closed));
        }
    }

    fn facts() -> impl Strategy<Value = Facts> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, s, p)| Facts {
            criteria_accepted: a,
            deployment_succeeded: s,
            deployment_in_progress: p,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Closed and cancelled are terminal: nothing moves a release out of them.
        #[test]
        fn terminal_statuses_are_terminal(
            kind in prop::sample::select(ReleaseKind::ALL.to_vec()),
            from in prop::sample::select(vec![ReleaseStatus::Closed, ReleaseStatus::Cancelled]),
            to in prop::sample::select(ReleaseStatus::ALL.to_vec()),
            facts in facts(),
        ) {
            prop_assert!(transition(kind, from, to, &facts).is_err());
        }

        /// Whatever is attempted with whatever facts: a release only ever becomes accepted
        /// with its criteria accepted, and a major or minor release never reaches deploying
        /// without having been accepted on the way.
        #[test]
        fn nothing_is_accepted_or_deployed_without_sign_off(
            kind in prop::sample::select(ReleaseKind::ALL.to_vec()),
            steps in prop::collection::vec((any::<prop::sample::Index>(), facts()), 0..40),
        ) {
            let mut status = ReleaseStatus::Planned;
            let mut accepted = false;
            for (pick, facts) in steps {
                let allowed = kind.next(status);
                if allowed.is_empty() {
                    prop_assert!(status.is_terminal());
                    break;
                }
                let to = allowed[pick.index(allowed.len())];
                if let Ok(next) = transition(kind, status, to, &facts) {
                    if next == ReleaseStatus::Accepted {
                        prop_assert!(facts.criteria_accepted);
                        accepted = true;
                    }
                    if next == ReleaseStatus::Deploying && kind != ReleaseKind::Emergency {
                        prop_assert!(accepted, "deploying without acceptance");
                    }
                    if next == ReleaseStatus::Deployed {
                        prop_assert!(facts.deployment_succeeded && !facts.deployment_in_progress);
                    }
                    status = next;
                }
            }
        }
    }
}
