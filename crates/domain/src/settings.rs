//! Per-tenant settings that shape the processes: the priority matrix and the windows the
//! service desk works with.

use crate::incident::{Level, Priority, PriorityMatrix};
use crate::validation::Invalid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    /// Impact × urgency → priority.
    pub priority_matrix: PriorityMatrix,
    /// How long after resolution an incident may still be reopened.
    pub reopen_window_days: u32,
    /// How many incidents on one service make a problem candidate...
    pub candidate_threshold: u32,
    /// ...within this many days.
    pub candidate_window_days: u32,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            priority_matrix: PriorityMatrix::default(),
            reopen_window_days: 7,
            candidate_threshold: 3,
            candidate_window_days: 7,
        }
    }
}

impl TenantSettings {
    pub fn validate(self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        if self.reopen_window_days > 365 {
            errors.add(
                "reopen_window_days",
                "The reopen window is at most 365 days",
            );
        }
        if !(2..=1000).contains(&self.candidate_threshold) {
            errors.add(
                "candidate_threshold",
                "A candidate needs between 2 and 1000 incidents",
            );
        }
        if !(1..=365).contains(&self.candidate_window_days) {
            errors.add(
                "candidate_window_days",
                "The candidate window is 1 to 365 days",
            );
        }
        if !matrix_is_monotonic(&self.priority_matrix) {
            errors.add(
                "priority_matrix",
                "More impact or urgency must never give a lower priority",
            );
        }
        errors.into_result(self)
    }

    pub fn reopen_window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.reopen_window_days) * 86_400)
    }
}

/// Whether raising impact or urgency never lowers the priority (P1 is the most urgent).
pub fn matrix_is_monotonic(m: &PriorityMatrix) -> bool {
    let levels = [Level::Low, Level::Medium, Level::High];
    levels.iter().all(|&i| {
        levels.iter().all(|&u| {
            let here: Priority = m.priority(i, u);
            levels.iter().filter(|&&j| j >= i).all(|&j| {
                levels
                    .iter()
                    .filter(|&&v| v >= u)
                    .all(|&v| m.priority(j, v) <= here)
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_are_valid() {
        assert!(TenantSettings::default().validate().is_ok());
        assert_eq!(
            TenantSettings::default().reopen_window(),
            crate::incident::REOPEN_WINDOW
        );
    }

    #[test]
    fn an_inverted_matrix_is_refused() {
        let mut s = TenantSettings::default();
        s.priority_matrix.cells[2][2] = Priority::P5;
        let err = s.validate().expect_err("inverted");
        assert!(err.message_for("priority_matrix").is_some());
    }

    fn any_priority() -> impl Strategy<Value = Priority> {
        prop::sample::select(Priority::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn accepted_matrices_never_rank_more_urgent_work_lower(cells in prop::array::uniform3(prop::array::uniform3(any_priority()))) {
            let m = PriorityMatrix { cells };
            if matrix_is_monotonic(&m) {
                for i in 0..3 { for u in 0..3 {
                    if i < 2 { prop_assert!(m.cells[i + 1][u] <= m.cells[i][u]); }
                    if u < 2 { prop_assert!(m.cells[i][u + 1] <= m.cells[i][u]); }
                }}
            }
        }
    }
}
