//! Retry policy for the durable job queue.

use std::time::Duration;

/// How many times a job runs before it is parked as dead for an administrator to look at.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

const BASE_SECONDS: u64 = 5;
const CAP_SECONDS: u64 = 60 * 60;

/// Wait before the next try after `attempts` failed tries: 5 s, 10 s, 20 s ... at most an hour.
pub fn retry_delay(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Duration::from_secs(BASE_SECONDS.saturating_mul(1 << exponent).min(CAP_SECONDS))
}

/// What becomes of a job whose run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryIn(Duration),
    Dead,
}

pub fn after_failure(attempts: i32, max_attempts: i32) -> AfterFailure {
    if attempts >= max_attempts {
        AfterFailure::Dead
    } else {
        AfterFailure::RetryIn(retry_delay(attempts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_retries_are_quick() {
        assert_eq!(retry_delay(1), Duration::from_secs(5));
        assert_eq!(retry_delay(2), Duration::from_secs(10));
        assert_eq!(retry_delay(3), Duration::from_secs(20));
    }

    proptest! {
        #[test]
        fn delay_never_shrinks_and_is_capped(a in -5i32..1000, b in -5i32..1000) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(retry_delay(lo) <= retry_delay(hi));
            prop_assert!(retry_delay(hi) <= Duration::from_secs(CAP_SECONDS));
            prop_assert!(retry_delay(lo) >= Duration::from_secs(BASE_SECONDS));
        }

        #[test]
        fn jobs_die_exactly_at_the_limit(attempts in 1i32..50, max in 1i32..50) {
            let dead = after_failure(attempts, max) == AfterFailure::Dead;
            prop_assert_eq!(dead, attempts >= max);
        }
    }
}
