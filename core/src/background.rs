//! Background work that must finish before the process exits (ledger writers, schedulers).
//!
//! Tasks are spawned on a `TaskTracker` and watch a `CancellationToken`: on shutdown the token is
//! cancelled, each task flushes what it holds and returns, and [`Background::drain`] waits for them.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Tracks background tasks and tells them when to stop.
#[derive(Debug, Clone, Default)]
pub struct Background {
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Background {
    /// A fresh set of background tasks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns a task; it should return soon after [`Self::shutdown_token`] is cancelled.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// The token tasks watch to know when to flush and stop.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Tells every task to stop and waits up to `grace` for them. Returns false if some did not
    /// finish in time.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.shutdown.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }
}
