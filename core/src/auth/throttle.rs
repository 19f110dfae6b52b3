//! Throttling with keyed rate limiters (governor):
//!
//! - [`LoginThrottle`]: sign-in attempts per account *from one address* and per address, so
//!   that guessing passwords is slow whichever an attacker varies, while an attacker hammering
//!   someone's account from elsewhere cannot lock the owner out of it.
//! - [`ClientLimits`]: requests per signed-in user and per anonymous client address.
//! - [`StashLimits`]: form stashes per client address, and their bytes in total.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// A quota of `n` per minute (at least 1), with a burst of `n`.
fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// Limits sign-in attempts.
#[derive(Debug)]
pub struct LoginThrottle {
    per_account: DefaultKeyedRateLimiter<(String, IpAddr)>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginThrottle {
    /// A throttle allowing `per_account` attempts per minute per email from one address and
    /// `per_address` per minute per client address.
    pub fn new(per_account: u32, per_address: u32) -> Self {
        Self {
            per_account: RateLimiter::keyed(per_minute(per_account)),
            per_address: RateLimiter::keyed(per_minute(per_address)),
        }
    }

    /// Counts an attempt; `Err` carries how long to wait before the next one is allowed.
    pub fn check(&self, email: &str, address: IpAddr) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        // Bounded before it is a key: an email is at most 254 characters.
        let email: String = email
            .trim()
            .chars()
            .take(254)
            .collect::<String>()
            .to_lowercase();
        if let Err(not_until) = self.per_address.check_key(&address) {
            return Err(not_until.wait_time_from(clock.now()));
        }
        if let Err(not_until) = self.per_account.check_key(&(email, address)) {
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

/// Who a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// A signed-in user.
    User(Uuid),
    /// A caller without credentials (or with credentials that did not verify), by address.
    Address(IpAddr),
}

/// Requests per minute per signed-in user and per anonymous client address (`[http.rate_limits]`).
/// App keys have their own rates, checked by `/graphql`.
#[derive(Debug)]
pub struct ClientLimits {
    per_user: DefaultKeyedRateLimiter<Uuid>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl ClientLimits {
    /// Limits of `per_user` and `per_address` requests per minute.
    pub fn new(per_user: u32, per_address: u32) -> Self {
        Self {
            per_user: RateLimiter::keyed(per_minute(per_user)),
            per_address: RateLimiter::keyed(per_minute(per_address)),
        }
    }

    /// Counts a request; `Err` carries how long to wait.
    pub fn check(&self, client: Client) -> Result<(), Duration> {
        let result = match client {
            Client::User(id) => self.per_user.check_key(&id),
            Client::Address(address) => self.per_address.check_key(&address),
        };
        result.map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Drops the state of clients back to a full quota (called periodically).
    pub fn shrink(&self) {
        self.per_user.retain_recent();
        self.per_address.retain_recent();
    }
}

/// How many form stashes (forms kept for sign-in, written without an account) a client address
/// may leave, and how many bytes all may hold (`web::stash`).
#[derive(Debug)]
pub struct StashLimits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    max_total_bytes: u64,
}

impl StashLimits {
    /// `per_hour` stashes per client address per hour; `max_total_bytes` for all live ones.
    pub fn new(per_hour: u32, max_total_bytes: u64) -> Self {
        let quota = Quota::per_hour(NonZeroU32::new(per_hour.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_address: RateLimiter::keyed(quota),
            max_total_bytes,
        }
    }

    /// Counts a stash left by `address`; `Err` carries how long to wait.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        self.per_address
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// The bytes all live stashes may hold together.
    pub fn max_total_bytes(&self) -> u64 {
        self.max_total_bytes
    }

    /// Drops the state of addresses back to a full quota (called periodically).
    pub fn shrink(&self) {
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
    fn an_attacker_elsewhere_cannot_lock_the_owner_out() {
        let throttle = LoginThrottle::new(3, 100);
        let attacker: IpAddr = "203.0.113.9".parse().expect("ip");
        let owner: IpAddr = "198.51.100.7".parse().expect("ip");
        for _ in 0..3 {
            assert!(throttle.check("ada@example.com", attacker).is_ok());
        }
        assert!(throttle.check("ada@example.com", attacker).is_err());
        assert!(
            throttle.check("ada@example.com", owner).is_ok(),
            "the owner signs in from her own address"
        );
    }

    #[test]
    fn users_and_addresses_have_quotas_of_their_own() {
        let limits = ClientLimits::new(2, 1);
        let ada = Client::User(Uuid::new_v4());
        let anonymous = Client::Address("192.0.2.1".parse().expect("ip"));
        assert!(limits.check(ada).is_ok());
        assert!(limits.check(ada).is_ok());
        assert!(limits.check(ada).expect_err("third").as_millis() > 0);
        assert!(
            limits.check(anonymous).is_ok(),
            "the user's use is not the address's"
        );
        assert!(limits.check(anonymous).is_err());
        assert!(limits.check(Client::User(Uuid::new_v4())).is_ok());
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
