//! The per-clip schedule: when to fetch, and how to retry.
//!
//! [`run`] waits for the clip's next due time (or an admin's wake-up), makes one attempt, and
//! waits for whatever the attempt says: the refresh interval after a fetch, the remaining time
//! when another instance fetched first. Waits are on the service's [`Clock`]: tokio's sleep on
//! the system clock (so a test with paused tokio time runs a simulated day in milliseconds), the
//! clock's own time on a manual one (so a black-box test moves time instead of waiting).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::DataclipsConfig;
use crate::clock::Clock;

/// What started an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The clip was due.
    Scheduled,
    /// An admin asked (the claim was made when they asked).
    Manual,
}

/// Runs a clip's schedule until `stop`: the first attempt after `first_wait`, each next one
/// after the wait the previous attempt returned, and one at once whenever `wake` is notified.
pub(crate) async fn run<F, Fut>(
    clock: Clock,
    first_wait: Duration,
    stop: CancellationToken,
    wake: Arc<Notify>,
    mut attempt: F,
) where
    F: FnMut(Trigger) -> Fut,
    Fut: Future<Output = Duration>,
{
    let mut wait = first_wait;
    loop {
        let trigger = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            () = wake.notified() => Trigger::Manual,
            () = clock.sleep(wait) => Trigger::Scheduled,
        };
        wait = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            wait = attempt(trigger) => wait,
        };
    }
}

/// Exponential backoff with jitter between attempts of one fetch, from the configuration.
pub(crate) fn backoff(config: &DataclipsConfig) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(config.retry_min_delay_ms))
        .with_max_delay(Duration::from_secs(config.retry_max_delay_secs.max(1)))
        .with_max_times(config.retry_attempts.saturating_sub(1) as usize)
        .with_jitter()
}

/// Runs `op` until it succeeds, fails for a reason `transient` says will not pass, or the
/// attempts of `policy` are spent. Sleeps with tokio's clock.
pub(crate) async fn with_retries<T, E, F, Fut>(
    policy: ExponentialBuilder,
    op: F,
    transient: impl FnMut(&E) -> bool,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    op.retry(policy)
        .sleep(tokio::time::sleep)
        .when(transient)
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const FOUR_HOURS: Duration = Duration::from_secs(4 * 3600);
    const DAY: Duration = Duration::from_secs(24 * 3600);

    async fn run_for(
        elapsed: Duration,
        wake_at: Option<Duration>,
        attempt_result: impl Fn() -> Duration + Send + 'static,
    ) -> u32 {
        let count = Arc::new(AtomicU32::new(0));
        let stop = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        let task = {
            let (count, stop, wake) = (count.clone(), stop.clone(), wake.clone());
            tokio::spawn(run(
                Clock::system(),
                Duration::ZERO,
                stop,
                wake,
                move |_| {
                    count.fetch_add(1, Ordering::SeqCst);
                    let wait = attempt_result();
                    async move { wait }
                },
            ))
        };
        match wake_at {
            Some(at) => {
                tokio::time::sleep(at).await;
                wake.notify_one();
                tokio::time::sleep(elapsed.saturating_sub(at)).await;
            }
            None => tokio::time::sleep(elapsed).await,
        }
        stop.cancel();
        task.await.expect("schedule task");
        count.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn a_simulated_day_makes_one_fetch_per_four_hour_cycle_and_no_more() {
        // Attempts at 0h, 4h, ..., 20h: six in the 24 hours before the seventh is due.
        let attempts = run_for(DAY - Duration::from_secs(1), None, || FOUR_HOURS).await;
        assert_eq!(attempts, 6);
        let attempts = run_for(DAY + Duration::from_secs(1), None, || FOUR_HOURS).await;
        assert_eq!(attempts, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_manual_wake_fetches_at_once_and_restarts_the_cycle() {
        // 0h, manual at 1h, then 5h, 9h, ...: 1 + 1 + 5 (5h, 9h, 13h, 17h, 21h) in 24 hours.
        let attempts = run_for(
            DAY - Duration::from_secs(1),
            Some(Duration::from_secs(3600)),
            || FOUR_HOURS,
        )
        .await;
        assert_eq!(attempts, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_fetch_is_retried_with_backoff_only_up_to_the_configured_attempts() {
        let config = DataclipsConfig {
            retry_attempts: 3,
            ..DataclipsConfig::default()
        };
        let calls = Arc::new(AtomicU32::new(0));
        let started = tokio::time::Instant::now();
        let result: Result<(), &str> = with_retries(
            backoff(&config),
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err("503") }
            },
            |_| true,
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(
            started.elapsed() >= Duration::from_millis(1000),
            "it backed off"
        );

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), &str> = with_retries(
            backoff(&config),
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err("401") }
            },
            |_| false,
        )
        .await;
        assert!(result.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a permanent failure is not retried"
        );
    }
}
