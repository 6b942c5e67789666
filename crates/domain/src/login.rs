//! Login throttling: after repeated failures for one account, wait before trying again.

use std::time::Duration;

/// Failures within `WINDOW` that are tolerated before logins for the account are refused.
pub const FREE_FAILURES: i64 = 5;
/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Whether another attempt may be checked, given the recent failures and the age of the newest.
/// Each failure beyond the free ones doubles the lock-out, from 30 s up to the window itself.
pub fn lockout(recent_failures: i64, since_last_failure: Duration) -> Option<Duration> {
    if recent_failures < FREE_FAILURES {
        return None;
    }
    let extra = u32::try_from(recent_failures - FREE_FAILURES)
        .unwrap_or(u32::MAX)
        .min(10);
    let wait = Duration::from_secs(30u64 << extra).min(WINDOW);
    wait.checked_sub(since_last_failure)
        .filter(|w| !w.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_few_typos_are_free() {
        assert_eq!(lockout(4, Duration::ZERO), None);
        assert_eq!(lockout(5, Duration::ZERO), Some(Duration::from_secs(30)));
        assert_eq!(lockout(5, Duration::from_secs(31)), None);
        assert_eq!(
            lockout(6, Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
    }

    proptest! {
        #[test]
        fn lockout_is_bounded_and_grows_with_failures(n in 0i64..100, waited in 0u64..2000) {
            let waited = Duration::from_secs(waited);
            if let Some(wait) = lockout(n, waited) {
                prop_assert!(wait <= WINDOW);
                prop_assert!(lockout(n + 1, waited).is_some_and(|w| w >= wait));
            }
        }
    }
}
