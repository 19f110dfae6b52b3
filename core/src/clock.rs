//! The time Gatehouse goes by. Services take a [`Clock`] instead of reading the system time, so
//! a test moves time instead of waiting for it: a manual clock stands still until
//! [`Clock::advance`] moves it, and whatever sleeps on it ([`Clock::sleep`]) wakes when the
//! time it waits for is reached.
//!
//! The system clock is the default: `now` is `Utc::now()`, and sleeping is tokio's (monotonic)
//! sleep.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// The time: the system's, or a manual one for tests.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Manual>>);

#[derive(Debug)]
struct Manual {
    now: Mutex<DateTime<Utc>>,
    /// Where it started, on both scales: its instants are `base` plus the time it was moved.
    start: DateTime<Utc>,
    base: Instant,
    moved: watch::Sender<()>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that shows `start` until it is advanced.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Manual {
            now: Mutex::new(start),
            start,
            base: Instant::now(),
            moved: watch::Sender::new(()),
        })))
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        self.0.is_some()
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(manual) => *manual.now.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Now as a monotonic instant, for ages and lifetimes: `Instant::now()` on the system
    /// clock; on a manual one, an instant that moves only when the clock is advanced.
    pub fn instant(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(manual) => {
                let moved = (self.now() - manual.start).to_std().unwrap_or_default();
                manual.base + moved
            }
        }
    }

    /// Moves a manual clock forward by `by` and wakes what sleeps on it. Returns false (and
    /// moves nothing) on the system clock, which no one moves.
    pub fn advance(&self, by: Duration) -> bool {
        let Some(manual) = &self.0 else {
            return false;
        };
        {
            let mut now = manual.now.lock().unwrap_or_else(PoisonError::into_inner);
            *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        }
        manual.moved.send_replace(());
        true
    }

    /// How many sleeps wait on a manual clock now (0 on the system clock): a test waits until
    /// the tasks it drives are asleep before it moves time, so that no wait is measured from a
    /// time it already moved past.
    pub fn sleepers(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |manual| manual.moved.receiver_count())
    }

    /// Sleeps for `duration` of this clock's time.
    pub async fn sleep(&self, duration: Duration) {
        let Some(manual) = &self.0 else {
            return tokio::time::sleep(duration).await;
        };
        let until =
            self.now() + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
        // Subscribed before the time is read: an advance in between is not missed.
        let mut moved = manual.moved.subscribe();
        while self.now() < until {
            if moved.changed().await.is_err() {
                // The clock is gone with the last of its handles: nothing will move it.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_stands_still_until_advanced_and_wakes_its_sleepers() {
        let start = Utc::now();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(10)).await }
        });
        while clock.sleepers() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(clock.advance(Duration::from_secs(4)));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "4 of 10 seconds passed");
        assert!(clock.advance(Duration::from_secs(6)));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken when its time came")
            .expect("sleeper");
        assert_eq!(clock.sleepers(), 0);
        assert_eq!(clock.now(), start + chrono::Duration::seconds(10));
        let then = clock.instant();
        assert_eq!(clock.instant(), then, "its instants stand still too");
        assert!(clock.advance(Duration::from_millis(1500)));
        assert_eq!(clock.instant() - then, Duration::from_millis(1500));
    }

    #[test]
    fn the_system_clock_is_not_moved() {
        let clock = Clock::system();
        assert!(!clock.is_manual());
        assert!(!clock.advance(Duration::from_secs(60)));
        assert!((clock.now() - Utc::now()).num_seconds().abs() < 60);
    }
}
