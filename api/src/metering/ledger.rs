//! The usage ledger's write path: records go into a bounded channel without waiting, and one
//! background writer commits them in batches (multi-row INSERTs, at most `batch_max_records`
//! per transaction) every `flush_interval_ms`, or sooner when the queue is half full or a
//! flush is asked for. The writer is not woken per record: on a busy server that would cost a
//! task switch per request.
//!
//! **Overload:** when the channel is full the new record is dropped and counted
//! (`ledger_records_dropped_total{reason="queue_full"}`); a request never waits on the ledger.
//! A batch the database refuses three times is dropped and counted
//! (`reason="write_failed"`) and logged once. **Shutdown:** when the background token fires the
//! writer closes the channel, drains what is queued and commits it before it returns, so a
//! graceful stop loses nothing that was recorded before it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::background::Background;
use crate::db::entities::{ledger_calls, ledger_operations};

/// One GraphQL operation, executed or refused.
#[derive(Debug, Clone)]
pub struct OperationRecord {
    /// When it started.
    pub occurred_at: DateTime<Utc>,
    /// The request id.
    pub request_id: Option<String>,
    /// The app key that asked.
    pub app_key_id: Option<Uuid>,
    /// The signed-in user that asked.
    pub user_id: Option<Uuid>,
    /// The project it touched (the first one named), if any.
    pub project_id: Option<String>,
    /// The operation's name.
    pub operation: Option<String>,
    /// `query`, `mutation`, `subscription` or `unknown`.
    pub kind: &'static str,
    /// The source that answered (`cache`, `live`, `dataclip`, `mixed`, `none`).
    pub source: &'static str,
    /// Fresh cache hits.
    pub cache_hits: u32,
    /// Stale answers served.
    pub cache_stale: u32,
    /// Cache misses.
    pub cache_misses: u32,
    /// Upstream call attempts made.
    pub upstream_calls: u64,
    /// The estimated cost (score), when it was estimated.
    pub estimated_cost: Option<u64>,
    /// How long it took.
    pub duration: Duration,
    /// `ok`, `error` or `refused`.
    pub outcome: &'static str,
    /// The first error's code.
    pub error_code: Option<String>,
}

/// One upstream call attempt.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// When it was answered (or failed).
    pub occurred_at: DateTime<Utc>,
    /// The project whose token was used.
    pub project_id: String,
    /// The token's fingerprint.
    pub token_fingerprint: String,
    /// The endpoint template.
    pub endpoint: String,
    /// The HTTP method.
    pub method: String,
    /// The entity served, when the endpoint maps to one.
    pub entity: Option<gatehouse_compliance::Entity>,
    /// The operation performed on it.
    pub action: Option<gatehouse_compliance::model::Operation>,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// The failure kind, if it failed.
    pub error: Option<&'static str>,
    /// Time the attempt took.
    pub latency: Duration,
    /// Request body bytes.
    pub bytes_sent: u64,
    /// Response body bytes.
    pub bytes_received: u64,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// `miss` or `bypass`.
    pub cache: &'static str,
    /// The app key it served.
    pub app_key_id: Option<Uuid>,
    /// The user it served.
    pub user_id: Option<Uuid>,
    /// The GraphQL operation it served.
    pub operation: Option<String>,
    /// The declared workflow it served.
    pub workflow: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    /// The list it paged, if any.
    pub list: Option<crate::upstream::observer::ListShape>,
}

/// What goes through the channel.
#[derive(Debug)]
enum Message {
    Operation(OperationRecord),
    Call(CallRecord),
    /// Commit everything before this, then answer.
    Flush(oneshot::Sender<()>),
}

/// Counters of the ledger, also exported to `/metrics`.
#[derive(Debug, Default)]
pub struct LedgerCounters {
    written: AtomicU64,
    dropped: AtomicU64,
}

/// A snapshot of the ledger's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerStats {
    /// Records committed.
    pub written: u64,
    /// Records dropped (queue full, write failed, or recorded after shutdown).
    pub dropped: u64,
}

/// The sending side of the ledger. Cheap to clone; disabled ledgers record nothing.
#[derive(Debug, Clone)]
pub struct Ledger {
    sender: Option<mpsc::Sender<Message>>,
    counters: Arc<LedgerCounters>,
    /// Wakes the writer before its next tick.
    wake: Arc<Notify>,
    /// Free slots below which the writer is woken.
    wake_below: usize,
}

impl Ledger {
    /// A ledger that records nothing (`metering.enabled = false`).
    pub fn disabled() -> Self {
        Self {
            sender: None,
            counters: Arc::new(LedgerCounters::default()),
            wake: Arc::new(Notify::new()),
            wake_below: 0,
        }
    }

    /// A ledger whose writer runs on `background`, committing to `db`.
    pub fn start(
        db: DatabaseConnection,
        background: &Background,
        config: &super::MeteringConfig,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(config.queue_capacity);
        let counters = Arc::new(LedgerCounters::default());
        let wake = Arc::new(Notify::new());
        let writer = Writer {
            db,
            receiver,
            counters: counters.clone(),
            batch_max: config.batch_max_records,
            interval: Duration::from_millis(config.flush_interval_ms),
            drain_max: config.queue_capacity,
        };
        background.spawn(writer.run(background.shutdown_token(), wake.clone()));
        Self {
            sender: Some(sender),
            counters,
            wake,
            wake_below: config.queue_capacity / 2,
        }
    }

    /// Whether records are kept.
    pub fn is_enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Records a GraphQL operation without waiting.
    pub fn record_operation(&self, record: OperationRecord) {
        self.offer(Message::Operation(record));
    }

    /// Records an upstream call without waiting.
    pub fn record_call(&self, record: CallRecord) {
        self.offer(Message::Call(record));
    }

    fn offer(&self, message: Message) {
        let Some(sender) = &self.sender else {
            return;
        };
        match sender.try_send(message) {
            Ok(()) => {
                if sender.capacity() <= self.wake_below {
                    self.wake.notify_one();
                }
            }
            Err(error) => self.count_drop(&error),
        }
    }

    fn count_drop(&self, error: &mpsc::error::TrySendError<Message>) {
        let reason = match error {
            mpsc::error::TrySendError::Full(_) => "queue_full",
            mpsc::error::TrySendError::Closed(_) => "shut_down",
        };
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ledger_records_dropped_total", "reason" => reason).increment(1);
    }

    /// Waits until every record offered before this call is committed (or dropped). Returns
    /// at once for a disabled or stopped ledger.
    pub async fn flush(&self) {
        let Some(sender) = &self.sender else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            self.wake.notify_one();
            let _ = wait.await;
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> LedgerStats {
        LedgerStats {
            written: self.counters.written.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        }
    }
}

struct Writer {
    db: DatabaseConnection,
    receiver: mpsc::Receiver<Message>,
    counters: Arc<LedgerCounters>,
    batch_max: usize,
    interval: Duration,
    /// Most records taken in one wake-up, so that a flood cannot keep the writer from its
    /// shutdown check.
    drain_max: usize,
}

#[derive(Default)]
struct Batch {
    operations: Vec<ledger_operations::ActiveModel>,
    calls: Vec<ledger_calls::ActiveModel>,
    waiters: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn len(&self) -> usize {
        self.operations.len() + self.calls.len()
    }

    fn push(&mut self, message: Message) {
        match message {
            Message::Operation(record) => self.operations.push(operation_row(record)),
            Message::Call(record) => self.calls.push(call_row(record)),
            Message::Flush(done) => self.waiters.push(done),
        }
    }
}

/// Rows per INSERT statement: well under SQLite's bound-parameter limit.
const ROWS_PER_STATEMENT: usize = 300;

impl Writer {
    async fn run(mut self, shutdown: CancellationToken, wake: Arc<Notify>) {
        let mut batch = Batch::default();
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                () = wake.notified() => {}
                _ = tick.tick() => {}
            }
            let mut taken = 0;
            while taken < self.drain_max {
                let Ok(message) = self.receiver.try_recv() else {
                    break;
                };
                taken += 1;
                batch.push(message);
                if batch.len() >= self.batch_max {
                    self.commit(&mut batch).await;
                }
            }
            self.commit(&mut batch).await;
        }
        // Shutting down: refuse new records, then write everything already queued.
        self.receiver.close();
        while let Some(message) = self.receiver.recv().await {
            batch.push(message);
            if batch.len() >= self.batch_max {
                self.commit(&mut batch).await;
            }
        }
        self.commit(&mut batch).await;
        tracing::debug!(
            ledger.written = self.counters.written.load(Ordering::Relaxed),
            "usage ledger flushed"
        );
    }

    async fn commit(&self, batch: &mut Batch) {
        let batch = std::mem::take(batch);
        let count = batch.len() as u64;
        if count > 0 {
            let started = Instant::now();
            let mut attempt = 0;
            loop {
                match self.insert(&batch).await {
                    Ok(()) => {
                        self.counters.written.fetch_add(count, Ordering::Relaxed);
                        metrics::counter!("ledger_records_written_total").increment(count);
                        metrics::histogram!("ledger_batch_duration_seconds")
                            .record(started.elapsed().as_secs_f64());
                        break;
                    }
                    Err(error) if attempt < 2 => {
                        attempt += 1;
                        tracing::debug!(error.message = %error, retry.attempt = attempt, "retrying a ledger batch");
                        tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                    }
                    Err(error) => {
                        tracing::error!(
                            error.message = %error,
                            ledger.records = count,
                            "could not write a usage ledger batch; its records are dropped"
                        );
                        self.counters.dropped.fetch_add(count, Ordering::Relaxed);
                        metrics::counter!("ledger_records_dropped_total", "reason" => "write_failed")
                            .increment(count);
                        break;
                    }
                }
            }
        }
        for waiter in batch.waiters {
            let _ = waiter.send(());
        }
    }

    async fn insert(&self, batch: &Batch) -> Result<(), sea_orm::DbErr> {
        let txn = crate::db::begin_write(&self.db).await?;
        for chunk in batch.operations.chunks(ROWS_PER_STATEMENT) {
            ledger_operations::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for chunk in batch.calls.chunks(ROWS_PER_STATEMENT) {
            ledger_calls::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await
    }
}

/// `YYYY-MM-DD` of an instant (UTC).
pub fn day_of(at: DateTime<Utc>) -> String {
    at.date_naive().format("%Y-%m-%d").to_string()
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn clamp_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn operation_row(record: OperationRecord) -> ledger_operations::ActiveModel {
    ledger_operations::ActiveModel {
        occurred_at: Set(record.occurred_at),
        day: Set(day_of(record.occurred_at)),
        request_id: Set(record.request_id),
        app_key_id: Set(record.app_key_id),
        user_id: Set(record.user_id),
        project_id: Set(record.project_id),
        operation: Set(record.operation),
        kind: Set(record.kind.to_owned()),
        source: Set(record.source.to_owned()),
        cache_hits: Set(clamp_i32(u64::from(record.cache_hits))),
        cache_stale: Set(clamp_i32(u64::from(record.cache_stale))),
        cache_misses: Set(clamp_i32(u64::from(record.cache_misses))),
        upstream_calls: Set(clamp_i32(record.upstream_calls)),
        estimated_cost: Set(record.estimated_cost.map(clamp_i64)),
        duration_us: Set(clamp_i64(
            u64::try_from(record.duration.as_micros()).unwrap_or(u64::MAX),
        )),
        outcome: Set(record.outcome.to_owned()),
        error_code: Set(record.error_code),
        ..Default::default()
    }
}

fn call_row(record: CallRecord) -> ledger_calls::ActiveModel {
    let at = record.occurred_at;
    let list = record.list;
    ledger_calls::ActiveModel {
        occurred_at: Set(at),
        day: Set(day_of(at)),
        minute: Set(at.timestamp().div_euclid(60)),
        hour: Set(i16::try_from(at.hour()).unwrap_or(0)),
        project_id: Set(record.project_id),
        token_fingerprint: Set(record.token_fingerprint),
        endpoint: Set(record.endpoint),
        method: Set(record.method),
        entity: Set(record.entity.map(|e| e.as_str().to_owned())),
        action: Set(record.action.map(|o| o.as_str().to_owned())),
        status: Set(record.status.map(i32::from)),
        error: Set(record.error.map(ToOwned::to_owned)),
        latency_us: Set(clamp_i64(
            u64::try_from(record.latency.as_micros()).unwrap_or(u64::MAX),
        )),
        bytes_sent: Set(clamp_i64(record.bytes_sent)),
        bytes_received: Set(clamp_i64(record.bytes_received)),
        attempt: Set(clamp_i32(u64::from(record.attempt))),
        cache: Set(record.cache.to_owned()),
        app_key_id: Set(record.app_key_id),
        user_id: Set(record.user_id),
        operation: Set(record.operation),
        workflow: Set(record.workflow),
        request_id: Set(record.request_id),
        list_signature: Set(list.as_ref().map(|l| l.signature.clone())),
        page: Set(list.as_ref().and_then(|l| l.page).map(clamp_i64)),
        continues: Set(list.as_ref().is_some_and(|l| l.continues)),
        window_days: Set(list
            .as_ref()
            .and_then(|l| l.window_days)
            .map(|d| clamp_i32(u64::from(d)))),
        ..Default::default()
    }
}
