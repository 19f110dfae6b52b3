//! Ingest: a body stream becomes the rows of one snapshot.
//!
//! Three stages run at once, joined by bounded channels so that memory stays flat whatever the
//! clip's size: a task pumps the body's chunks; a blocking thread parses them (CSV or JSON) and
//! converts rows into batches; this task writes each batch as multi-row INSERTs in one
//! transaction. Batches commit as they come, so a long ingest never holds the database's write
//! lock for long; the rows stay invisible until the snapshot is swapped in.

use std::io;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ClipFormat;
use super::clip::ClipKind;
use super::parse::BadRow;
use super::parse::{self, Batch, ChannelReader, ParseError, ParseTotals, RowSink};
use super::store::{self, RowWriter, WriteTxn};

/// How rows are written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IngestSettings {
    /// Rows per INSERT statement.
    pub(crate) batch_rows: usize,
    /// INSERT statements per transaction.
    pub(crate) statements_per_transaction: usize,
}

impl IngestSettings {
    /// Settings with `batch_rows` rows per statement.
    pub(crate) fn new(batch_rows: usize) -> Self {
        Self {
            batch_rows,
            statements_per_transaction: 16,
        }
    }
}

/// Why an ingest did not complete.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// The file was refused or cut.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The database failed.
    #[error("the database failed during ingest: {0}")]
    Db(#[from] DbErr),
    /// Gatehouse is shutting down.
    #[error("stopped: Gatehouse is shutting down")]
    Stopped,
    /// The parser thread panicked.
    #[error("the parser failed unexpectedly")]
    Parser,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Parses `body` as a clip of `kind` in `format` and writes its rows under `snapshot_id`.
/// Returns the totals of good and bad rows; the caller decides whether to swap it in.
pub(crate) async fn ingest<S>(
    db: &DatabaseConnection,
    kind: ClipKind,
    format: ClipFormat,
    snapshot_id: i64,
    body: S,
    settings: IngestSettings,
    stop: &CancellationToken,
) -> Result<ParseTotals, IngestError>
where
    S: Stream<Item = io::Result<Bytes>> + Send + 'static,
{
    let (bytes_tx, bytes_rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let _pump = AbortOnDrop(tokio::spawn(async move {
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let failed = chunk.is_err();
            if bytes_tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    }));
    let (batch_tx, mut batch_rx) = mpsc::channel::<Batch>(2);
    let sink = RowSink::new(kind, snapshot_id, settings.batch_rows, batch_tx);
    let parser = tokio::task::spawn_blocking(move || {
        let reader = ChannelReader::new(bytes_rx);
        match format {
            ClipFormat::Csv => parse::parse_csv(reader, sink),
            ClipFormat::Json => parse::parse_json(reader, sink),
        }
    });
    let mut writer = RowWriter::new(kind, db.get_database_backend(), settings.batch_rows);
    let mut txn = WriteTxn::begin(db).await?;
    let mut statements = 0;
    // Bad rows are written between transactions: on SQLite a second connection could not
    // write while this one holds the write lock.
    let mut bad: Vec<BadRow> = Vec::new();
    loop {
        let batch = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(IngestError::Stopped),
            batch = batch_rx.recv() => batch,
        };
        let Some(batch) = batch else { break };
        bad.extend(batch.bad);
        writer.write(&mut txn, batch.rows).await?;
        statements += 1;
        if statements >= settings.statements_per_transaction {
            txn.commit().await?;
            flush_bad(db, snapshot_id, &mut bad).await?;
            txn = WriteTxn::begin(db).await?;
            statements = 0;
        }
    }
    txn.commit().await?;
    flush_bad(db, snapshot_id, &mut bad).await?;
    match parser.await {
        Ok(result) => Ok(result?),
        Err(_) => Err(IngestError::Parser),
    }
}

async fn flush_bad(
    db: &DatabaseConnection,
    snapshot_id: i64,
    bad: &mut Vec<BadRow>,
) -> Result<(), DbErr> {
    if !bad.is_empty() {
        store::insert_bad_rows(db, snapshot_id, bad).await?;
        bad.clear();
    }
    Ok(())
}
