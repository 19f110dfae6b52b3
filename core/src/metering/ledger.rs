//! The usage ledger's write path: records go into a bounded channel without waiting, and one
//! background writer commits them in batches (multi-row INSERTs, at most `batch_max_records`
//! rows per transaction) every `flush_interval_ms`, or sooner when the queue is half full or a
//! flush is asked for. The writer is not woken per record: on a busy server that would cost a
//! task switch per request.
//!
//! **Counted operations:** with `count_operations` on (the default), operations that made no
//! upstream call and did not fail (response-cache replays, cache hits, refusals) are counted
//! into one row per batch, minute, caller, project, operation, source and outcome, whose
//! numeric columns are the sums and `operation_count` the number. A warm server answers most
//! operations from its caches; a row each would make the ledger the costliest part of them.
//! Operations that reached the upstream or failed keep a row each, with their request id,
//! beside the upstream calls they made.
//!
//! **Overload:** when the channel is full the new record is dropped and counted
//! (`ledger_records_dropped_total{reason="queue_full"}`); a request never waits on the ledger.
//! A batch the database refuses three times is dropped and counted
//! (`reason="write_failed"`) and logged once. **Shutdown:** when the background token fires the
//! writer closes the channel, drains what is queued and commits it before it returns, so a
//! graceful stop loses nothing that was recorded before it.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use sea_orm::{DatabaseConnection, DbBackend, DbErr};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::background::Background;
use crate::db::entities::{ledger_calls, ledger_operations};
use crate::db::{Bind, WriteTxn, insert_sql};

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
pub(crate) struct LedgerCounters {
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
    pub(crate) fn disabled() -> Self {
        Self {
            sender: None,
            counters: Arc::new(LedgerCounters::default()),
            wake: Arc::new(Notify::new()),
            wake_below: 0,
        }
    }

    /// A ledger whose writer runs on `background`, committing to `db`.
    pub(crate) fn start(
        db: DatabaseConnection,
        background: &Background,
        config: &super::MeteringConfig,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(config.queue_capacity);
        let counters = Arc::new(LedgerCounters::default());
        let wake = Arc::new(Notify::new());
        let writer = Writer {
            count_operations: config.count_operations,
            statements: Statements::new(db.get_database_backend()),
            texts: Texts::default(),
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
    /// Whether operations without upstream calls are counted into shared rows.
    count_operations: bool,
    statements: Statements,
    texts: Texts,
    receiver: mpsc::Receiver<Message>,
    counters: Arc<LedgerCounters>,
    batch_max: usize,
    interval: Duration,
    /// Most records taken in one wake-up, so that a flood cannot keep the writer from its
    /// shutdown check.
    drain_max: usize,
}

/// The records taken from the channel and not yet committed, already in column form.
#[derive(Default)]
struct Batch {
    operations: Vec<OperationRow>,
    /// The rows of `operations` that count operations, by the hash of their [`count_key`].
    /// Looked up with the record's own text, so counting an operation allocates nothing.
    counted: HashMap<u64, Vec<usize>>,
    hasher: std::hash::RandomState,
    calls: Vec<CallRow>,
    waiters: Vec<oneshot::Sender<()>>,
    /// Records taken, which is more than the rows when operations were counted together.
    records: u64,
}

/// What operations counted into one row have in common: the minute, the caller, the project,
/// the operation, and how it was answered.
fn count_key(record: &OperationRecord) -> impl std::hash::Hash + '_ {
    (
        minute_of(record.occurred_at),
        record.app_key_id,
        record.user_id,
        record.project_id.as_deref(),
        record.operation.as_deref(),
        record.kind,
        record.source,
        record.outcome,
        record.error_code.as_deref(),
    )
}

fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

impl Batch {
    /// Rows to write.
    fn len(&self) -> usize {
        self.operations.len() + self.calls.len()
    }

    fn push(&mut self, message: Message, texts: &mut Texts, count_operations: bool) {
        match message {
            Message::Operation(record) => {
                self.records += 1;
                if !(count_operations && record.upstream_calls == 0 && record.outcome != "error") {
                    self.operations.push(OperationRow::new(record, texts));
                    return;
                }
                let rows = self
                    .counted
                    .entry(self.hasher.hash_one(count_key(&record)))
                    .or_default();
                let operations = &mut self.operations;
                match rows.iter().find(|&&i| operations[i].counts_like(&record)) {
                    Some(&i) => operations[i].count(&record),
                    None => {
                        rows.push(operations.len());
                        operations.push(OperationRow::new(record, texts));
                    }
                }
            }
            Message::Call(record) => {
                self.records += 1;
                self.calls.push(CallRow::new(record, texts));
            }
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
                batch.push(message, &mut self.texts, self.count_operations);
                if batch.len() >= self.batch_max {
                    self.commit(&mut batch).await;
                }
            }
            self.commit(&mut batch).await;
        }
        // Shutting down: refuse new records, then write everything already queued.
        self.receiver.close();
        while let Some(message) = self.receiver.recv().await {
            batch.push(message, &mut self.texts, self.count_operations);
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

    async fn commit(&mut self, batch: &mut Batch) {
        let batch = std::mem::take(batch);
        let count = batch.records;
        if batch.len() > 0 {
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

    async fn insert(&mut self, batch: &Batch) -> Result<(), DbErr> {
        let mut txn = WriteTxn::begin(&self.db).await?;
        for chunk in batch.operations.chunks(ROWS_PER_STATEMENT) {
            let sql = self.statements.operations(chunk.len());
            txn.execute(sql, chunk.iter().flat_map(OperationRow::binds))
                .await?;
        }
        for chunk in batch.calls.chunks(ROWS_PER_STATEMENT) {
            let sql = self.statements.calls(chunk.len());
            txn.execute(sql, chunk.iter().flat_map(CallRow::binds))
                .await?;
        }
        txn.commit().await
    }
}

/// The INSERT statement of each size, built once with sea-query and reused, so that the
/// driver finds it in its statement cache and the database prepares it once per connection.
struct Statements {
    backend: DbBackend,
    operations: HashMap<usize, Arc<str>>,
    calls: HashMap<usize, Arc<str>>,
}

impl Statements {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            operations: HashMap::new(),
            calls: HashMap::new(),
        }
    }

    fn operations(&mut self, rows: usize) -> Arc<str> {
        let backend = self.backend;
        self.operations
            .entry(rows)
            .or_insert_with(|| {
                insert_sql(backend, ledger_operations::Entity, OPERATION_COLUMNS, rows)
            })
            .clone()
    }

    fn calls(&mut self, rows: usize) -> Arc<str> {
        let backend = self.backend;
        self.calls
            .entry(rows)
            .or_insert_with(|| insert_sql(backend, ledger_calls::Entity, CALL_COLUMNS, rows))
            .clone()
    }
}

/// The columns of `ledger_operations` in the order [`OperationRow::binds`] gives them.
const OPERATION_COLUMNS: [ledger_operations::Column; 19] = {
    use ledger_operations::Column as C;
    [
        C::OccurredAt,
        C::Day,
        C::RequestId,
        C::AppKeyId,
        C::UserId,
        C::ProjectId,
        C::Operation,
        C::Kind,
        C::Source,
        C::CacheHits,
        C::CacheStale,
        C::CacheMisses,
        C::UpstreamCalls,
        C::EstimatedCost,
        C::DurationUs,
        C::Outcome,
        C::ErrorCode,
        C::OperationCount,
        C::DurationMaxUs,
    ]
};

/// The columns of `ledger_calls` in the order [`CallRow::binds`] gives them.
const CALL_COLUMNS: [ledger_calls::Column; 26] = {
    use ledger_calls::Column as C;
    [
        C::OccurredAt,
        C::Day,
        C::Minute,
        C::Hour,
        C::ProjectId,
        C::TokenFingerprint,
        C::Endpoint,
        C::Method,
        C::Entity,
        C::Action,
        C::Status,
        C::Error,
        C::LatencyUs,
        C::BytesSent,
        C::BytesReceived,
        C::Attempt,
        C::Cache,
        C::AppKeyId,
        C::UserId,
        C::Operation,
        C::Workflow,
        C::RequestId,
        C::ListSignature,
        C::Page,
        C::Continues,
        C::WindowDays,
    ]
};
/// `YYYY-MM-DD` of an instant (UTC).
pub(crate) fn day_of(at: DateTime<Utc>) -> String {
    at.date_naive().format("%Y-%m-%d").to_string()
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn clamp_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn micros(duration: Duration) -> i64 {
    clamp_i64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
}

/// The writer's shared texts: the current day and the fixed labels are allocated once and
/// shared by every row that carries them.
#[derive(Default)]
struct Texts {
    day: Option<(NaiveDate, Arc<str>)>,
    labels: Vec<(&'static str, Arc<str>)>,
}

impl Texts {
    fn day(&mut self, at: DateTime<Utc>) -> Arc<str> {
        let date = at.date_naive();
        match &self.day {
            Some((current, text)) if *current == date => text.clone(),
            _ => {
                let text: Arc<str> = day_of(at).into();
                self.day = Some((date, text.clone()));
                text
            }
        }
    }

    fn label(&mut self, label: &'static str) -> Arc<str> {
        if let Some((_, text)) = self.labels.iter().find(|(known, _)| *known == label) {
            return text.clone();
        }
        let text: Arc<str> = label.into();
        self.labels.push((label, text.clone()));
        text
    }
}

/// A `ledger_operations` row, ready to bind.
struct OperationRow {
    occurred_at: DateTime<Utc>,
    day: Arc<str>,
    request_id: Option<Arc<str>>,
    app_key_id: Option<Uuid>,
    user_id: Option<Uuid>,
    project_id: Option<Arc<str>>,
    operation: Option<Arc<str>>,
    kind: Arc<str>,
    source: Arc<str>,
    cache_hits: i32,
    cache_stale: i32,
    cache_misses: i32,
    upstream_calls: i32,
    estimated_cost: Option<i64>,
    duration_us: i64,
    outcome: Arc<str>,
    error_code: Option<Arc<str>>,
    operation_count: i64,
    duration_max_us: i64,
}

impl OperationRow {
    /// The values in [`OPERATION_COLUMNS`] order. Text is shared, so a retried batch binds it
    /// again without copying.
    fn binds(&self) -> [Bind; OPERATION_COLUMNS.len()] {
        [
            self.occurred_at.into(),
            self.day.clone().into(),
            self.request_id.clone().into(),
            self.app_key_id.into(),
            self.user_id.into(),
            self.project_id.clone().into(),
            self.operation.clone().into(),
            self.kind.clone().into(),
            self.source.clone().into(),
            self.cache_hits.into(),
            self.cache_stale.into(),
            self.cache_misses.into(),
            self.upstream_calls.into(),
            self.estimated_cost.into(),
            self.duration_us.into(),
            self.outcome.clone().into(),
            self.error_code.clone().into(),
            self.operation_count.into(),
            self.duration_max_us.into(),
        ]
    }

    fn new(record: OperationRecord, texts: &mut Texts) -> Self {
        Self {
            occurred_at: record.occurred_at,
            day: texts.day(record.occurred_at),
            request_id: record.request_id.map(Into::into),
            app_key_id: record.app_key_id,
            user_id: record.user_id,
            project_id: record.project_id.map(Into::into),
            operation: record.operation.map(Into::into),
            kind: texts.label(record.kind),
            source: texts.label(record.source),
            cache_hits: clamp_i32(u64::from(record.cache_hits)),
            cache_stale: clamp_i32(u64::from(record.cache_stale)),
            cache_misses: clamp_i32(u64::from(record.cache_misses)),
            upstream_calls: clamp_i32(record.upstream_calls),
            estimated_cost: record.estimated_cost.map(clamp_i64),
            duration_us: micros(record.duration),
            duration_max_us: micros(record.duration),
            outcome: texts.label(record.outcome),
            error_code: record.error_code.map(Into::into),
            operation_count: 1,
        }
    }

    /// Whether `record` is counted into this row: the same [`count_key`].
    fn counts_like(&self, record: &OperationRecord) -> bool {
        minute_of(self.occurred_at) == minute_of(record.occurred_at)
            && self.app_key_id == record.app_key_id
            && self.user_id == record.user_id
            && self.project_id.as_deref() == record.project_id.as_deref()
            && self.operation.as_deref() == record.operation.as_deref()
            && *self.kind == *record.kind
            && *self.source == *record.source
            && *self.outcome == *record.outcome
            && self.error_code.as_deref() == record.error_code.as_deref()
    }

    /// Counts `record`, an operation of the same key, into this row. The row no longer stands
    /// for one request, so it keeps no request id.
    fn count(&mut self, record: &OperationRecord) {
        let duration = micros(record.duration);
        self.request_id = None;
        self.operation_count += 1;
        self.cache_hits = self
            .cache_hits
            .saturating_add(clamp_i32(record.cache_hits.into()));
        self.cache_stale = self
            .cache_stale
            .saturating_add(clamp_i32(record.cache_stale.into()));
        self.cache_misses = self
            .cache_misses
            .saturating_add(clamp_i32(record.cache_misses.into()));
        self.upstream_calls = self
            .upstream_calls
            .saturating_add(clamp_i32(record.upstream_calls));
        self.estimated_cost = match (self.estimated_cost, record.estimated_cost.map(clamp_i64)) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        self.duration_us = self.duration_us.saturating_add(duration);
        self.duration_max_us = self.duration_max_us.max(duration);
    }
}

/// A `ledger_calls` row, ready to bind.
struct CallRow {
    occurred_at: DateTime<Utc>,
    day: Arc<str>,
    minute: i64,
    hour: i16,
    project_id: Arc<str>,
    token_fingerprint: Arc<str>,
    endpoint: Arc<str>,
    method: Arc<str>,
    entity: Option<Arc<str>>,
    action: Option<Arc<str>>,
    status: Option<i32>,
    error: Option<Arc<str>>,
    latency_us: i64,
    bytes_sent: i64,
    bytes_received: i64,
    attempt: i32,
    cache: Arc<str>,
    app_key_id: Option<Uuid>,
    user_id: Option<Uuid>,
    operation: Option<Arc<str>>,
    workflow: Option<Arc<str>>,
    request_id: Option<Arc<str>>,
    list_signature: Option<Arc<str>>,
    page: Option<i64>,
    continues: bool,
    window_days: Option<i32>,
}

impl CallRow {
    /// The values in [`CALL_COLUMNS`] order.
    fn binds(&self) -> [Bind; CALL_COLUMNS.len()] {
        [
            self.occurred_at.into(),
            self.day.clone().into(),
            self.minute.into(),
            self.hour.into(),
            self.project_id.clone().into(),
            self.token_fingerprint.clone().into(),
            self.endpoint.clone().into(),
            self.method.clone().into(),
            self.entity.clone().into(),
            self.action.clone().into(),
            self.status.into(),
            self.error.clone().into(),
            self.latency_us.into(),
            self.bytes_sent.into(),
            self.bytes_received.into(),
            self.attempt.into(),
            self.cache.clone().into(),
            self.app_key_id.into(),
            self.user_id.into(),
            self.operation.clone().into(),
            self.workflow.clone().into(),
            self.request_id.clone().into(),
            self.list_signature.clone().into(),
            self.page.into(),
            self.continues.into(),
            self.window_days.into(),
        ]
    }

    fn new(record: CallRecord, texts: &mut Texts) -> Self {
        let at = record.occurred_at;
        let list = record.list;
        Self {
            occurred_at: at,
            day: texts.day(at),
            minute: minute_of(at),
            hour: i16::try_from(at.hour()).unwrap_or(0),
            project_id: record.project_id.into(),
            token_fingerprint: record.token_fingerprint.into(),
            endpoint: record.endpoint.into(),
            method: record.method.into(),
            entity: record.entity.map(|e| texts.label(e.as_str())),
            action: record.action.map(|o| texts.label(o.as_str())),
            status: record.status.map(i32::from),
            error: record.error.map(|e| texts.label(e)),
            latency_us: micros(record.latency),
            bytes_sent: clamp_i64(record.bytes_sent),
            bytes_received: clamp_i64(record.bytes_received),
            attempt: clamp_i32(u64::from(record.attempt)),
            cache: texts.label(record.cache),
            app_key_id: record.app_key_id,
            user_id: record.user_id,
            operation: record.operation.map(Into::into),
            workflow: record.workflow.map(Into::into),
            request_id: record.request_id.map(Into::into),
            page: list.as_ref().and_then(|l| l.page).map(clamp_i64),
            continues: list.as_ref().is_some_and(|l| l.continues),
            window_days: list
                .as_ref()
                .and_then(|l| l.window_days)
                .map(|d| clamp_i32(u64::from(d))),
            list_signature: list.map(|l| l.signature.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(at: &str, operation: &str, micros: u64) -> OperationRecord {
        OperationRecord {
            occurred_at: at.parse().expect("instant"),
            request_id: Some(format!("req-{operation}-{micros}")),
            app_key_id: Some(Uuid::from_u128(7)),
            user_id: None,
            project_id: Some("p1".to_owned()),
            operation: Some(operation.to_owned()),
            kind: "query",
            source: "cache",
            cache_hits: 2,
            cache_stale: 0,
            cache_misses: 0,
            upstream_calls: 0,
            estimated_cost: Some(11),
            duration: Duration::from_micros(micros),
            outcome: "ok",
            error_code: None,
        }
    }

    fn batch_of(records: Vec<OperationRecord>, count_operations: bool) -> Batch {
        let mut batch = Batch::default();
        let mut texts = Texts::default();
        for record in records {
            batch.push(Message::Operation(record), &mut texts, count_operations);
        }
        batch
    }

    #[test]
    fn identical_cache_answers_of_one_minute_share_a_row_with_their_sums() {
        let batch = batch_of(
            vec![
                cached("2026-11-28T10:00:01Z", "Warm", 100),
                cached("2026-11-28T10:00:02Z", "Warm", 300),
                cached("2026-11-28T10:00:59Z", "Warm", 200),
            ],
            true,
        );
        assert_eq!(batch.records, 3);
        assert_eq!(batch.len(), 1);
        let row = &batch.operations[0];
        assert_eq!(row.operation_count, 3);
        assert_eq!(row.duration_us, 600);
        assert_eq!(row.duration_max_us, 300);
        assert_eq!(row.cache_hits, 6);
        assert_eq!(row.estimated_cost, Some(33));
        assert_eq!(
            row.occurred_at,
            "2026-11-28T10:00:01Z"
                .parse::<DateTime<Utc>>()
                .expect("instant"),
            "the row starts with its first operation"
        );
        assert!(
            row.request_id.is_none(),
            "no single request id stands for three"
        );
    }

    #[test]
    fn a_lone_operation_keeps_its_request_id() {
        let batch = batch_of(vec![cached("2026-11-28T10:00:01Z", "Warm", 100)], true);
        assert_eq!(batch.operations[0].operation_count, 1);
        assert_eq!(
            batch.operations[0].request_id.as_deref(),
            Some("req-Warm-100")
        );
    }

    #[test]
    fn another_minute_operation_caller_or_outcome_is_another_row() {
        let mut refused = cached("2026-11-28T10:00:03Z", "Warm", 10);
        refused.outcome = "refused";
        refused.source = "none";
        refused.error_code = Some("RATE_LIMITED".to_owned());
        let mut other_key = cached("2026-11-28T10:00:04Z", "Warm", 10);
        other_key.app_key_id = Some(Uuid::from_u128(8));
        let mut other_project = cached("2026-11-28T10:00:05Z", "Warm", 10);
        other_project.project_id = Some("p2".to_owned());
        let batch = batch_of(
            vec![
                cached("2026-11-28T10:00:01Z", "Warm", 10),
                cached("2026-11-28T10:01:00Z", "Warm", 10),
                cached("2026-11-28T10:00:02Z", "Other", 10),
                refused,
                other_key,
                other_project,
                cached("2026-11-28T10:00:06Z", "Warm", 10),
            ],
            true,
        );
        assert_eq!(batch.records, 7);
        assert_eq!(batch.len(), 6);
        let counts: Vec<i64> = batch.operations.iter().map(|r| r.operation_count).collect();
        assert_eq!(counts, [2, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn operations_that_reached_the_upstream_or_failed_keep_a_row_each() {
        let mut live = cached("2026-11-28T10:00:01Z", "Warm", 10);
        live.upstream_calls = 2;
        live.source = "live";
        let mut live_again = live.clone();
        live_again.request_id = Some("req-live-2".to_owned());
        let mut failed = cached("2026-11-28T10:00:02Z", "Warm", 10);
        failed.outcome = "error";
        failed.error_code = Some("UPSTREAM_UNAVAILABLE".to_owned());
        let failed_again = failed.clone();
        let batch = batch_of(vec![live, live_again, failed, failed_again], true);
        assert_eq!(batch.len(), 4);
        assert!(batch.operations.iter().all(|r| r.operation_count == 1));
        assert!(batch.operations.iter().all(|r| r.request_id.is_some()));
    }

    #[test]
    fn with_counting_off_every_operation_is_a_row() {
        let batch = batch_of(
            vec![
                cached("2026-11-28T10:00:01Z", "Warm", 100),
                cached("2026-11-28T10:00:02Z", "Warm", 300),
            ],
            false,
        );
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.records, 2);
    }
}
