//! The dataclip tables: clip state and the current-snapshot pointer, snapshots, bad rows, and
//! snapshot rows. Every statement is a sea-query builder, so it runs on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query, Value};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::clip::ClipKind;
use super::parse::BadRow;
use super::tables::{DataclipBadRows, DataclipClips, DataclipSnapshots};

/// Where a snapshot is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// Rows are being written; nobody reads it.
    Building,
    /// Complete; the current snapshot of its clip.
    Ready,
    /// The fetch or the file failed; its rows were deleted.
    Failed,
    /// Complete, and replaced by a newer one (kept until pruned).
    Superseded,
}

impl SnapshotStatus {
    /// The stored name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Building => "building",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
        }
    }

    /// Parses a stored name.
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "building" => Self::Building,
            "ready" => Self::Ready,
            "superseded" => Self::Superseded,
            _ => Self::Failed,
        }
    }
}

/// A clip's stored state.
#[derive(Debug, Clone, Default)]
pub struct ClipRow {
    /// The snapshot analytics read.
    pub(crate) current_snapshot_id: Option<i64>,
    /// The ETag of the current snapshot's response.
    pub(crate) etag: Option<String>,
    /// Its `Last-Modified`.
    pub(crate) last_modified: Option<String>,
    /// The start of the last fetch (scheduled or manual).
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last fetch that succeeded (a new snapshot or a 304).
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the current snapshot was swapped in.
    pub last_changed_at: Option<DateTime<Utc>>,
    /// The last failure, cleared by a success.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last manual refresh.
    pub last_manual_at: Option<DateTime<Utc>>,
}

/// A stored snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotRow {
    /// Id.
    pub id: i64,
    /// Project.
    pub(crate) project_id: String,
    /// Clip slug.
    pub(crate) clip: String,
    /// Status.
    pub status: SnapshotStatus,
    /// Fetch started.
    pub started_at: DateTime<Utc>,
    /// Ingest finished (or failed).
    pub finished_at: Option<DateTime<Utc>>,
    /// The upstream's snapshot time (`X-Snapshot-Time`, else `Last-Modified`).
    pub upstream_snapshot_at: Option<DateTime<Utc>>,
    /// Good rows.
    pub rows: i64,
    /// Bad rows.
    pub bad_rows: i64,
    /// Why it failed.
    pub error: Option<String>,
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, DbErr> {
    row.try_get("", column)
}

fn clip_filter(project_id: &str, clip: &str) -> Expr {
    Expr::col(DataclipClips::ProjectId)
        .eq(project_id)
        .and(Expr::col(DataclipClips::Clip).eq(clip))
}

/// Creates the clip's row if it is not there.
pub(crate) async fn ensure_clip<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table(DataclipClips::Table)
        .columns([DataclipClips::ProjectId, DataclipClips::Clip])
        .values_panic([project_id.into(), clip.into()])
        .on_conflict(
            OnConflict::columns([DataclipClips::ProjectId, DataclipClips::Clip])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}

/// The clip's state.
pub(crate) async fn clip_row<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
) -> Result<ClipRow, DbErr> {
    let select = Query::select()
        .columns([
            DataclipClips::CurrentSnapshotId,
            DataclipClips::Etag,
            DataclipClips::LastModified,
            DataclipClips::LastAttemptAt,
            DataclipClips::LastSuccessAt,
            DataclipClips::LastChangedAt,
            DataclipClips::LastError,
            DataclipClips::LastErrorAt,
            DataclipClips::LastManualAt,
        ])
        .from(DataclipClips::Table)
        .and_where(clip_filter(project_id, clip))
        .to_owned();
    let Some(row) = db.query_one(&select).await? else {
        return Ok(ClipRow::default());
    };
    Ok(ClipRow {
        current_snapshot_id: get(&row, "current_snapshot_id")?,
        etag: get(&row, "etag")?,
        last_modified: get(&row, "last_modified")?,
        last_attempt_at: get(&row, "last_attempt_at")?,
        last_success_at: get(&row, "last_success_at")?,
        last_changed_at: get(&row, "last_changed_at")?,
        last_error: get(&row, "last_error")?,
        last_error_at: get(&row, "last_error_at")?,
        last_manual_at: get(&row, "last_manual_at")?,
    })
}

/// Claims the next fetch of a clip: records `now` as its last attempt, unless another attempt
/// started less than `min_gap` ago (in this process or another instance). Returns whether the
/// claim was granted. A manual claim also records `now` as the last manual refresh.
pub(crate) async fn claim<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
    now: DateTime<Utc>,
    min_gap: std::time::Duration,
    manual: bool,
) -> Result<bool, DbErr> {
    let gap = chrono::Duration::from_std(min_gap).unwrap_or(chrono::Duration::MAX);
    let threshold = now
        .checked_sub_signed(gap)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut update = Query::update();
    update
        .table(DataclipClips::Table)
        .value(DataclipClips::LastAttemptAt, now)
        .and_where(clip_filter(project_id, clip))
        .and_where(
            Expr::col(DataclipClips::LastAttemptAt)
                .is_null()
                .or(Expr::col(DataclipClips::LastAttemptAt).lte(threshold)),
        );
    if manual {
        update.value(DataclipClips::LastManualAt, now);
    }
    let result = db.execute(&update).await?;
    Ok(result.rows_affected() == 1)
}

/// Records a fetch that found the clip unchanged (304).
pub(crate) async fn record_not_modified<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let update = Query::update()
        .table(DataclipClips::Table)
        .value(DataclipClips::LastSuccessAt, now)
        .value(DataclipClips::LastError, Option::<String>::None)
        .and_where(clip_filter(project_id, clip))
        .to_owned();
    db.execute(&update).await?;
    Ok(())
}

/// Records a failed fetch on the clip (the current snapshot keeps serving).
pub(crate) async fn record_failure<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let update = Query::update()
        .table(DataclipClips::Table)
        .value(DataclipClips::LastError, error)
        .value(DataclipClips::LastErrorAt, now)
        .and_where(clip_filter(project_id, clip))
        .to_owned();
    db.execute(&update).await?;
    Ok(())
}

/// Starts a snapshot in `building` and returns its id.
pub(crate) async fn begin_snapshot<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
    format: &str,
    now: DateTime<Utc>,
    upstream_snapshot_at: Option<DateTime<Utc>>,
    etag: Option<&str>,
) -> Result<i64, DbErr> {
    let insert = Query::insert()
        .into_table(DataclipSnapshots::Table)
        .columns([
            DataclipSnapshots::ProjectId,
            DataclipSnapshots::Clip,
            DataclipSnapshots::Format,
            DataclipSnapshots::Status,
            DataclipSnapshots::StartedAt,
            DataclipSnapshots::UpstreamSnapshotAt,
            DataclipSnapshots::Etag,
            DataclipSnapshots::Rows,
            DataclipSnapshots::BadRows,
        ])
        .values_panic([
            project_id.into(),
            clip.into(),
            format.into(),
            SnapshotStatus::Building.as_str().into(),
            now.into(),
            upstream_snapshot_at.into(),
            etag.map(str::to_owned).into(),
            0i64.into(),
            0i64.into(),
        ])
        .returning_col(DataclipSnapshots::Id)
        .to_owned();
    let row = db
        .query_one(&insert)
        .await?
        .ok_or_else(|| DbErr::Custom("the snapshot insert returned no id".into()))?;
    get(&row, "id")
}

/// Stores the reported bad rows of a snapshot.
pub(crate) async fn insert_bad_rows<C: ConnectionTrait>(
    db: &C,
    snapshot_id: i64,
    bad: &[BadRow],
) -> Result<(), DbErr> {
    for chunk in bad.chunks(500) {
        let mut insert = Query::insert();
        insert.into_table(DataclipBadRows::Table).columns([
            DataclipBadRows::SnapshotId,
            DataclipBadRows::RowNumber,
            DataclipBadRows::Reason,
        ]);
        for row in chunk {
            insert.values_panic([
                snapshot_id.into(),
                i64::try_from(row.row).unwrap_or(i64::MAX).into(),
                row.reason.clone().into(),
            ]);
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

/// Marks a snapshot failed, deletes the rows it wrote and records the error on the clip. The
/// clip's current snapshot is untouched, so it keeps serving.
pub(crate) async fn fail_snapshot<C: ConnectionTrait>(
    db: &C,
    kind: ClipKind,
    snapshot: &SnapshotRow,
    rows: u64,
    bad_rows: u64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    delete_rows(db, kind, snapshot.id).await?;
    let update = Query::update()
        .table(DataclipSnapshots::Table)
        .value(DataclipSnapshots::Status, SnapshotStatus::Failed.as_str())
        .value(DataclipSnapshots::FinishedAt, now)
        .value(
            DataclipSnapshots::Rows,
            i64::try_from(rows).unwrap_or(i64::MAX),
        )
        .value(
            DataclipSnapshots::BadRows,
            i64::try_from(bad_rows).unwrap_or(i64::MAX),
        )
        .value(DataclipSnapshots::Error, error)
        .and_where(Expr::col(DataclipSnapshots::Id).eq(snapshot.id))
        .to_owned();
    db.execute(&update).await?;
    record_failure(db, &snapshot.project_id, &snapshot.clip, error, now).await
}

/// What a completed snapshot carries into the swap.
#[derive(Debug, Clone)]
pub(crate) struct Completed<'a> {
    /// Good rows.
    pub(crate) rows: u64,
    /// Bad rows (accepted within `max_bad_rows`).
    pub(crate) bad_rows: u64,
    /// The response's ETag.
    pub(crate) etag: Option<&'a str>,
    /// The response's Last-Modified.
    pub(crate) last_modified: Option<&'a str>,
}

/// Swaps a complete snapshot in, in one transaction: it becomes `ready` and current, the
/// previous current one becomes `superseded`, and the clip's validators and times are updated.
pub(crate) async fn swap_in(
    db: &sea_orm::DatabaseConnection,
    snapshot: &SnapshotRow,
    done: &Completed<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let supersede = Query::update()
        .table(DataclipSnapshots::Table)
        .value(
            DataclipSnapshots::Status,
            SnapshotStatus::Superseded.as_str(),
        )
        .and_where(Expr::col(DataclipSnapshots::ProjectId).eq(snapshot.project_id.as_str()))
        .and_where(Expr::col(DataclipSnapshots::Clip).eq(snapshot.clip.as_str()))
        .and_where(Expr::col(DataclipSnapshots::Status).eq(SnapshotStatus::Ready.as_str()))
        .to_owned();
    txn.execute(&supersede).await?;
    let ready = Query::update()
        .table(DataclipSnapshots::Table)
        .value(DataclipSnapshots::Status, SnapshotStatus::Ready.as_str())
        .value(DataclipSnapshots::FinishedAt, now)
        .value(
            DataclipSnapshots::Rows,
            i64::try_from(done.rows).unwrap_or(i64::MAX),
        )
        .value(
            DataclipSnapshots::BadRows,
            i64::try_from(done.bad_rows).unwrap_or(i64::MAX),
        )
        .and_where(Expr::col(DataclipSnapshots::Id).eq(snapshot.id))
        .to_owned();
    txn.execute(&ready).await?;
    let pointer = Query::update()
        .table(DataclipClips::Table)
        .value(DataclipClips::CurrentSnapshotId, snapshot.id)
        .value(DataclipClips::Etag, done.etag.map(str::to_owned))
        .value(
            DataclipClips::LastModified,
            done.last_modified.map(str::to_owned),
        )
        .value(DataclipClips::LastSuccessAt, now)
        .value(DataclipClips::LastChangedAt, now)
        .value(DataclipClips::LastError, Option::<String>::None)
        .and_where(clip_filter(&snapshot.project_id, &snapshot.clip))
        .to_owned();
    txn.execute(&pointer).await?;
    txn.commit().await
}

/// Deletes the rows a snapshot wrote to its table.
pub(crate) async fn delete_rows<C: ConnectionTrait>(
    db: &C,
    kind: ClipKind,
    snapshot_id: i64,
) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(kind.table())
        .and_where(Expr::col("snapshot_id").eq(snapshot_id))
        .to_owned();
    db.execute(&delete).await?;
    Ok(())
}

fn snapshot_from(row: &QueryResult) -> Result<SnapshotRow, DbErr> {
    Ok(SnapshotRow {
        id: get(row, "id")?,
        project_id: get(row, "project_id")?,
        clip: get(row, "clip")?,
        status: SnapshotStatus::parse(&get::<String>(row, "status")?),
        started_at: get(row, "started_at")?,
        finished_at: get(row, "finished_at")?,
        upstream_snapshot_at: get(row, "upstream_snapshot_at")?,
        rows: get(row, "rows")?,
        bad_rows: get(row, "bad_rows")?,
        error: get(row, "error")?,
    })
}

fn snapshot_columns() -> [DataclipSnapshots; 10] {
    [
        DataclipSnapshots::Id,
        DataclipSnapshots::ProjectId,
        DataclipSnapshots::Clip,
        DataclipSnapshots::Status,
        DataclipSnapshots::StartedAt,
        DataclipSnapshots::FinishedAt,
        DataclipSnapshots::UpstreamSnapshotAt,
        DataclipSnapshots::Rows,
        DataclipSnapshots::BadRows,
        DataclipSnapshots::Error,
    ]
}

/// One snapshot by id.
pub(crate) async fn snapshot<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<SnapshotRow>, DbErr> {
    let select = Query::select()
        .columns(snapshot_columns())
        .from(DataclipSnapshots::Table)
        .and_where(Expr::col(DataclipSnapshots::Id).eq(id))
        .to_owned();
    db.query_one(&select)
        .await?
        .as_ref()
        .map(snapshot_from)
        .transpose()
}

/// The latest snapshots of a clip, newest first.
pub(crate) async fn snapshots<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
    limit: u64,
) -> Result<Vec<SnapshotRow>, DbErr> {
    let select = Query::select()
        .columns(snapshot_columns())
        .from(DataclipSnapshots::Table)
        .and_where(Expr::col(DataclipSnapshots::ProjectId).eq(project_id))
        .and_where(Expr::col(DataclipSnapshots::Clip).eq(clip))
        .order_by(DataclipSnapshots::Id, Order::Desc)
        .limit(limit)
        .to_owned();
    db.query_all(&select)
        .await?
        .iter()
        .map(snapshot_from)
        .collect()
}

/// The first reported bad rows of a snapshot.
pub(crate) async fn bad_rows<C: ConnectionTrait>(
    db: &C,
    snapshot_id: i64,
    limit: u64,
) -> Result<Vec<BadRow>, DbErr> {
    let select = Query::select()
        .columns([DataclipBadRows::RowNumber, DataclipBadRows::Reason])
        .from(DataclipBadRows::Table)
        .and_where(Expr::col(DataclipBadRows::SnapshotId).eq(snapshot_id))
        .order_by(DataclipBadRows::RowNumber, Order::Asc)
        .limit(limit)
        .to_owned();
    db.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(BadRow {
                row: u64::try_from(get::<i64>(row, "row_number")?).unwrap_or(0),
                reason: get(row, "reason")?,
            })
        })
        .collect()
}

/// Deletes everything of one snapshot: rows, bad rows, the record.
async fn forget_snapshot<C: ConnectionTrait>(db: &C, kind: ClipKind, id: i64) -> Result<(), DbErr> {
    delete_rows(db, kind, id).await?;
    let bad = Query::delete()
        .from_table(DataclipBadRows::Table)
        .and_where(Expr::col(DataclipBadRows::SnapshotId).eq(id))
        .to_owned();
    db.execute(&bad).await?;
    let record = Query::delete()
        .from_table(DataclipSnapshots::Table)
        .and_where(Expr::col(DataclipSnapshots::Id).eq(id))
        .to_owned();
    db.execute(&record).await?;
    Ok(())
}

/// Keeps the newest `keep` complete snapshots of a clip (the current one always among them)
/// and the newest `keep` failed ones (for their reports); deletes the others. Returns how many
/// were deleted.
pub(crate) async fn prune<C: ConnectionTrait>(
    db: &C,
    project_id: &str,
    clip: &str,
    kind: ClipKind,
    keep: usize,
) -> Result<usize, DbErr> {
    let current = clip_row(db, project_id, clip).await?.current_snapshot_id;
    let all = snapshots(db, project_id, clip, u64::MAX >> 1).await?;
    let (mut complete, mut failed) = (0usize, 0usize);
    let mut deleted = 0;
    for snapshot in all {
        let keep_it = match snapshot.status {
            SnapshotStatus::Building => true,
            SnapshotStatus::Ready | SnapshotStatus::Superseded => {
                complete += 1;
                complete <= keep || Some(snapshot.id) == current
            }
            SnapshotStatus::Failed => {
                failed += 1;
                failed <= keep
            }
        };
        if !keep_it {
            forget_snapshot(db, kind, snapshot.id).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// After a crash or a kill: snapshots left `building` are marked failed and their rows deleted.
/// Returns how many there were.
pub(crate) async fn recover_interrupted<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let select = Query::select()
        .columns(snapshot_columns())
        .from(DataclipSnapshots::Table)
        .and_where(Expr::col(DataclipSnapshots::Status).eq(SnapshotStatus::Building.as_str()))
        .to_owned();
    let building: Vec<SnapshotRow> = db
        .query_all(&select)
        .await?
        .iter()
        .map(snapshot_from)
        .collect::<Result<_, _>>()?;
    for snapshot in &building {
        fail_snapshot(
            db,
            ClipKind::of(&snapshot.clip),
            snapshot,
            0,
            0,
            "interrupted: Gatehouse stopped while the snapshot was being written",
            now,
        )
        .await?;
    }
    Ok(building.len())
}

/// The current snapshot of every clip: `(project_id, clip, snapshot)`.
pub(crate) async fn current_snapshots<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(String, String, SnapshotRow)>, DbErr> {
    let select = Query::select()
        .columns([
            DataclipClips::ProjectId,
            DataclipClips::Clip,
            DataclipClips::CurrentSnapshotId,
        ])
        .from(DataclipClips::Table)
        .and_where(Expr::col(DataclipClips::CurrentSnapshotId).is_not_null())
        .to_owned();
    let mut out = Vec::new();
    for row in db.query_all(&select).await? {
        let id: i64 = get(&row, "current_snapshot_id")?;
        if let Some(snapshot) = snapshot(db, id).await? {
            out.push((get(&row, "project_id")?, get(&row, "clip")?, snapshot));
        }
    }
    Ok(out)
}

use crate::db::Bind;
pub(crate) use crate::db::WriteTxn;

/// Writes rows (values in the order of the kind's columns) as multi-row INSERTs of at most
/// `rows_per_statement` rows. The SQL of each statement size is built once with sea-query and
/// reused, so the database prepares it once.
#[derive(Debug)]
pub(crate) struct RowWriter {
    kind: ClipKind,
    backend: sea_orm::DbBackend,
    rows_per_statement: usize,
    sql: std::collections::HashMap<usize, std::sync::Arc<str>>,
}

impl RowWriter {
    /// A writer for rows of `kind`, at most `batch_rows` per statement (fewer when the backend's
    /// limit of bound parameters requires).
    pub(crate) fn new(kind: ClipKind, backend: sea_orm::DbBackend, batch_rows: usize) -> Self {
        // SQLite binds at most 32,766 parameters per statement, PostgreSQL 65,535.
        let columns = kind.columns().len().max(1);
        let limit = match backend {
            sea_orm::DbBackend::Postgres => 65_535,
            _ => 32_766,
        } / columns;
        Self {
            kind,
            backend,
            rows_per_statement: batch_rows.clamp(1, limit.max(1)),
            sql: std::collections::HashMap::new(),
        }
    }

    fn sql_for(&mut self, rows: usize) -> std::sync::Arc<str> {
        let (kind, backend) = (self.kind, self.backend);
        self.sql
            .entry(rows)
            .or_insert_with(|| crate::db::insert_sql(backend, kind.table(), kind.columns(), rows))
            .clone()
    }

    /// Writes the rows in `txn`.
    pub(crate) async fn write(
        &mut self,
        txn: &mut WriteTxn,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), DbErr> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(self.rows_per_statement).collect();
            let sql = self.sql_for(chunk.len());
            txn.execute(sql, chunk.into_iter().flatten().map(Bind::from))
                .await?;
        }
        Ok(())
    }
}
