//! The change dashboard's figures, over changes that ended in a period.
//!
//! - **Success rate**: of the changes implemented and ended in the period, the share that
//!   closed successfully: `closed / (closed + failed)`. Rejected and cancelled changes were
//!   never implemented, so they are neither successes nor failures.
//! - **Emergency-change ratio**: of the same implemented changes, the share that were
//!   emergencies. Counting over implemented changes (not all raised) keeps the two figures on
//!   one population, so they can be read together: "40 changes, 95% successful, 10% emergency".
//!
//! Both are `None` when nothing was implemented in the period, rather than a misleading 0%.

use crate::change::lifecycle::{ChangeStatus, ChangeType};
use crate::change::schedule::Window;
use crate::sla::clock::Micros;
use serde::Serialize;

/// A change that reached a terminal status, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub ended_at: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeMetrics {
    /// Closed plus failed.
    pub implemented: u32,
    pub successful: u32,
    pub failed: u32,
    /// Implemented emergency changes.
    pub emergency: u32,
    /// Rejected or cancelled in the period: never implemented, shown for context.
    pub not_implemented: u32,
    /// `successful / implemented`, from 0 to 1.
    pub success_rate: Option<f64>,
    /// `emergency / implemented`, from 0 to 1.
    pub emergency_ratio: Option<f64>,
}

/// The figures for the changes that ended within `period`.
pub fn change_metrics(changes: &[Ended], period: &Window) -> ChangeMetrics {
    let mut m = ChangeMetrics::default();
    for c in changes.iter().filter(|c| period.contains(c.ended_at)) {
        match c.status {
            ChangeStatus::Closed => m.successful += 1,
            ChangeStatus::Failed => m.failed += 1,
            ChangeStatus::Rejected | ChangeStatus::Cancelled => {
                m.not_implemented += 1;
                continue;
            }
            // Not ended: a caller passed a live change; it does not count yet.
            _ => continue,
        }
        if c.change_type == ChangeType::Emergency {
            m.emergency += 1;
        }
    }
    m.implemented = m.successful + m.failed;
    let share = |part: u32| (m.implemented > 0).then(|| f64::from(part) / f64::from(m.implemented));
    m.success_rate = share(m.successful);
    m.emergency_ratio = share(m.emergency);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(change_type: ChangeType, status: ChangeStatus, ended_at: Micros) -> Ended {
        Ended {
            change_type,
            status,
            ended_at,
        }
    }

    #[test]
    fn rates_count_implemented_changes_in_the_period() {
        use ChangeStatus::*;
        use ChangeType::*;
        let changes = [
            ended(Normal, Closed, 10),
            ended(Normal, Closed, 20),
            ended(Emergency, Failed, 30),
            ended(Standard, Closed, 40),
            ended(Normal, Rejected, 50),
            ended(Emergency, Cancelled, 60),
            ended(Normal, Implementing, 70),
            ended(Normal, Failed, 1000),
        ];
        let m = change_metrics(&changes, &Window { start: 0, end: 100 });
        assert_eq!((m.implemented, m.successful, m.failed), (4, 3, 1));
        assert_eq!((m.emergency, m.not_implemented), (1, 2));
        assert_eq!(m.success_rate, Some(0.75));
        assert_eq!(m.emergency_ratio, Some(0.25));
    }

    #[test]
    fn no_implemented_changes_give_no_rate() {
        let m = change_metrics(
            &[ended(ChangeType::Normal, ChangeStatus::Cancelled, 5)],
            &Window { start: 0, end: 10 },
        );
        assert_eq!((m.success_rate, m.emergency_ratio), (None, None));
    }
}
