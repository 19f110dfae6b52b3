//! Sign-in throttling: a keyed rate limiter (governor) per account and per client address, so
//! that guessing passwords is slow whichever of the two an attacker varies.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Limits sign-in attempts.
#[derive(Debug)]
pub struct LoginThrottle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginThrottle {
    /// A throttle allowing `per_account` attempts per minute per email and `per_address` per
    /// minute per client address.
    pub fn new(per_account: u32, per_address: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_account: RateLimiter::keyed(quota(per_account)),
            per_address: RateLimiter::keyed(quota(per_address)),
        }
    }

    /// Counts an attempt; `Err` carries how long to wait before the next one is allowed.
    pub fn check(&self, email: &str, address: IpAddr) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let email = email.trim().to_lowercase();
        if let Err(not_until) = self.per_address.check_key(&address) {
            return Err(not_until.wait_time_from(clock.now()));
        }
        if let Err(not_until) = self.per_account.check_key(&email) {
            return Err(not_until.wait_time_from(clock.now()));
        }
        Ok(())
    }

    /// Drops the state of keys that are back to a full quota (called periodically).
    pub fn shrink(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_beyond_the_quota_are_refused_with_a_wait() {
        let throttle = LoginThrottle::new(3, 100);
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..3 {
            assert!(throttle.check("ada@example.com", ip).is_ok());
        }
        let wait = throttle
            .check("Ada@Example.com", ip)
            .expect_err("fourth refused");
        assert!(wait > Duration::ZERO);
        assert!(
            throttle.check("bob@example.com", ip).is_ok(),
            "other accounts unaffected"
        );
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let throttle = LoginThrottle::new(100, 2);
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        assert!(throttle.check("a@example.com", ip).is_ok());
        assert!(throttle.check("b@example.com", ip).is_ok());
        assert!(throttle.check("c@example.com", ip).is_err());
    }
}
