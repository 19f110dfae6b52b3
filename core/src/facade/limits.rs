//! The per-key rate limit: operations per minute for each app key (its own `rate_per_minute`,
//! or the configured default), on top of the upstream budget.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// Rate limiters by app key.
#[derive(Debug)]
pub struct KeyRateLimits {
    default_per_minute: u32,
    limiters: Mutex<HashMap<(Uuid, u32), Arc<DefaultDirectRateLimiter>>>,
}

impl KeyRateLimits {
    /// Limits with a default for keys without their own.
    pub fn new(default_per_minute: u32) -> Self {
        Self {
            default_per_minute,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an operation of `key`; `Err` is how long until the next one is allowed.
    pub fn check(&self, key: Uuid, per_minute: Option<i32>) -> Result<(), Duration> {
        let per_minute = per_minute
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(self.default_per_minute)
            .max(1);
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
            limiters
                .entry((key, per_minute))
                .or_insert_with(|| {
                    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
                    Arc::new(RateLimiter::direct(Quota::per_minute(rate)))
                })
                .clone()
        };
        limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget() {
        let limits = KeyRateLimits::new(2);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(limits.check(a, None).is_ok());
        assert!(limits.check(a, None).is_ok());
        assert!(limits.check(a, None).is_err());
        assert!(limits.check(b, None).is_ok(), "another key is unaffected");
    }

    #[test]
    fn a_keys_own_rate_replaces_the_default_both_ways() {
        let limits = KeyRateLimits::new(2);
        let generous = Uuid::new_v4();
        for n in 1..=5 {
            assert!(
                limits.check(generous, Some(5)).is_ok(),
                "call {n} is within the key's own 5, past the default 2"
            );
        }
        assert!(
            limits.check(generous, Some(5)).is_err(),
            "the sixth is over"
        );
        let strict = Uuid::new_v4();
        assert!(limits.check(strict, Some(1)).is_ok());
        assert!(
            limits.check(strict, Some(1)).is_err(),
            "the key's own 1, not the default 2"
        );
        let unusable = Uuid::new_v4();
        assert!(limits.check(unusable, Some(-3)).is_ok());
        assert!(limits.check(unusable, Some(-3)).is_ok());
        assert!(
            limits.check(unusable, Some(-3)).is_err(),
            "a rate that is not positive falls back to the default"
        );
    }
}
