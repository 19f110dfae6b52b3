//! Streaming parsers: the body arrives in chunks over a channel, a CSV or JSON parser on a
//! blocking thread reads it as a `std::io::Read`, converts rows as they come, and sends them on
//! in batches. Nothing holds the whole clip: memory is bounded by the channels' capacities.

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use sea_orm::sea_query::Value;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tokio::sync::mpsc;

use super::clip::{ClipKind, Layout};

/// A row a snapshot refused, with its 1-based data-row number (the header is not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "DataclipBadRow")
)]
pub struct BadRow {
    /// The data row's number, from 1 (the header row is not counted).
    pub row: u64,
    /// Why.
    pub reason: String,
}

/// Rows converted and ready to insert, with the bad rows met since the last batch.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Converted rows, each in the order of [`ClipKind::columns`].
    pub(crate) rows: Vec<Vec<Value>>,
    /// Bad rows (only the first [`MAX_REPORTED_BAD_ROWS`] of a snapshot carry their reason).
    pub(crate) bad: Vec<BadRow>,
}

/// What a parse saw in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ParseTotals {
    /// Good rows.
    pub(crate) rows: u64,
    /// Bad rows, all of them (the reported ones are capped).
    pub(crate) bad_rows: u64,
}

/// The bad rows of one snapshot whose reason is kept; the rest are counted.
pub(crate) const MAX_REPORTED_BAD_ROWS: usize = 1000;

/// Why a parse stopped before the end of the file.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ParseError {
    /// The file is not the shape the clip must have (headers, JSON structure).
    #[error("{0}")]
    Structure(String),
    /// The body could not be read to its end (a cut connection, a timeout).
    #[error("the body was cut off after {rows} rows: {message}")]
    Cut {
        /// Rows read before the cut.
        rows: u64,
        /// What the transport said.
        message: String,
    },
    /// The receiving side went away (the ingest was stopped).
    #[error("the ingest was stopped")]
    Stopped,
}

/// A `Read` over chunks arriving on a channel; an `Err` chunk ends the read with that error,
/// and a closed channel is the end of the body.
#[derive(Debug)]
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    /// Reads what `rx` delivers. Only for blocking threads.
    pub(crate) fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(error)) => return Err(error),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Turns rows into batches and sends them.
#[derive(Debug)]
pub(crate) struct RowSink {
    kind: ClipKind,
    snapshot_id: i64,
    batch_rows: usize,
    layout: Option<Layout>,
    batch: Batch,
    totals: ParseTotals,
    seen: u64,
    tx: mpsc::Sender<Batch>,
}

impl RowSink {
    /// A sink for rows of `kind` into `snapshot_id`, `batch_rows` rows per batch.
    pub(crate) fn new(
        kind: ClipKind,
        snapshot_id: i64,
        batch_rows: usize,
        tx: mpsc::Sender<Batch>,
    ) -> Self {
        Self {
            kind,
            snapshot_id,
            batch_rows: batch_rows.max(1),
            layout: None,
            batch: Batch::default(),
            totals: ParseTotals::default(),
            seen: 0,
            tx,
        }
    }

    /// Takes the header row.
    pub(crate) fn header<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ParseError> {
        let layout = Layout::new(self.kind, names).map_err(ParseError::Structure)?;
        self.layout = Some(layout);
        Ok(())
    }

    /// Takes one data row.
    pub(crate) fn row(&mut self, cells: &[Option<&str>]) -> Result<(), ParseError> {
        let Some(layout) = &self.layout else {
            return Err(ParseError::Structure("rows come before the header".into()));
        };
        self.seen += 1;
        match layout.convert(self.snapshot_id, self.seen, cells) {
            Ok(values) => {
                self.totals.rows += 1;
                self.batch.rows.push(values);
            }
            Err(reason) => self.bad(reason),
        }
        if self.batch.rows.len() >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Counts a row that could not even be read, with the reason.
    pub(crate) fn unreadable(&mut self, reason: String) {
        self.seen += 1;
        self.bad(reason);
    }

    fn bad(&mut self, reason: String) {
        self.totals.bad_rows += 1;
        if self.totals.bad_rows <= MAX_REPORTED_BAD_ROWS as u64 {
            self.batch.bad.push(BadRow {
                row: self.seen,
                reason,
            });
        }
    }

    fn flush(&mut self) -> Result<(), ParseError> {
        if self.batch.rows.is_empty() && self.batch.bad.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.tx
            .blocking_send(batch)
            .map_err(|_| ParseError::Stopped)
    }

    /// Sends what is left and returns the totals; a file without a header is refused.
    pub(crate) fn finish(mut self) -> Result<ParseTotals, ParseError> {
        if self.layout.is_none() {
            return Err(ParseError::Structure(
                "the file is empty: no header row".into(),
            ));
        }
        self.flush()?;
        Ok(self.totals)
    }

    fn rows_so_far(&self) -> u64 {
        self.seen
    }
}

fn cut(sink: &RowSink, error: &io::Error) -> ParseError {
    ParseError::Cut {
        rows: sink.rows_so_far(),
        message: error.to_string(),
    }
}

/// Parses a CSV body: a header row, then data rows. Rows with the wrong number of cells or
/// unreadable bytes are bad rows; a read error is a cut.
pub(crate) fn parse_csv(reader: impl Read, mut sink: RowSink) -> Result<ParseTotals, ParseError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(256 * 1024)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => match error.kind() {
                csv::ErrorKind::Io(io) => return Err(cut(&sink, io)),
                _ => {
                    if !header_seen {
                        return Err(ParseError::Structure(format!(
                            "the header row cannot be read: {error}"
                        )));
                    }
                    sink.unreadable(format!("unreadable row: {error}"));
                    continue;
                }
            },
        }
        if !header_seen {
            header_seen = true;
            let names: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
            let names = names
                .map_err(|_| ParseError::Structure("the header row is not UTF-8".to_owned()))?;
            let first = names.first().map(|n| n.trim_start_matches('\u{feff}'));
            let names = first.into_iter().chain(names.iter().skip(1).copied());
            sink.header(names)?;
            continue;
        }
        let mut cells: Vec<Option<&str>> = Vec::with_capacity(record.len());
        let mut utf8 = true;
        for field in record.iter() {
            match std::str::from_utf8(field) {
                Ok(text) => cells.push((!text.is_empty()).then_some(text)),
                Err(_) => {
                    utf8 = false;
                    break;
                }
            }
        }
        if utf8 {
            let row: &[Option<&str>] = &cells;
            sink.row(row)?;
        } else {
            sink.unreadable("the row is not UTF-8".to_owned());
        }
    }
    sink.finish()
}

/// Parses a JSON body of Heroku's shape, `{"fields": [...], "values": [[...], ...]}` (other keys
/// ignored; `fields` must come before `values`). Each value is a string or `null`; numbers and
/// booleans are taken as their text. A syntax error is a structure error, a read error a cut.
pub(crate) fn parse_json(reader: impl Read, sink: RowSink) -> Result<ParseTotals, ParseError> {
    let mut sink = sink;
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
        256 * 1024,
        reader,
    ));
    let mut failure: Option<ParseError> = None;
    let result = Root {
        sink: &mut sink,
        failure: &mut failure,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(failure) = failure {
        return Err(failure);
    }
    if let Err(error) = result {
        if error.is_io() {
            return Err(ParseError::Cut {
                rows: sink.rows_so_far(),
                message: error.to_string(),
            });
        }
        if error.is_eof() {
            return Err(ParseError::Cut {
                rows: sink.rows_so_far(),
                message: "the JSON ends before it closes".to_owned(),
            });
        }
        return Err(ParseError::Structure(format!(
            "the JSON is malformed: {error}"
        )));
    }
    sink.finish()
}

struct Root<'a> {
    sink: &'a mut RowSink,
    failure: &'a mut Option<ParseError>,
}

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with `fields` and `values`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_fields = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "fields" => {
                    let fields: Vec<String> = map.next_value()?;
                    if let Err(error) = self.sink.header(fields.iter().map(String::as_str)) {
                        *self.failure = Some(error);
                        return Err(de::Error::custom("bad header"));
                    }
                    has_fields = true;
                }
                "values" => {
                    if !has_fields {
                        *self.failure = Some(ParseError::Structure(
                            "`values` comes before `fields`".to_owned(),
                        ));
                        return Err(de::Error::custom("values before fields"));
                    }
                    map.next_value_seed(Values {
                        sink: &mut *self.sink,
                        failure: &mut *self.failure,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !has_fields {
            *self.failure = Some(ParseError::Structure("the JSON has no `fields`".to_owned()));
            return Err(de::Error::custom("no fields"));
        }
        Ok(())
    }
}

struct Values<'a> {
    sink: &'a mut RowSink,
    failure: &'a mut Option<ParseError>,
}

impl<'de> DeserializeSeed<'de> for Values<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Values<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<Vec<Option<Cell>>>()? {
            let cells: Vec<Option<&str>> = row
                .iter()
                .map(|c| c.as_ref().map(|c| c.0.as_str()).filter(|s| !s.is_empty()))
                .collect();
            if let Err(error) = self.sink.row(&cells) {
                *self.failure = Some(error);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// A JSON cell: a string, or a number or boolean taken as its text.
struct Cell(String);

impl<'de> serde::Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CellVisitor;
        impl Visitor<'_> for CellVisitor {
            type Value = Cell;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
                Ok(Cell(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
                Ok(Cell(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Cell, E> {
                Ok(Cell(if v { "Yes" } else { "No" }.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
                Ok(Cell(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
                Ok(Cell(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
                Ok(Cell(v.to_string()))
            }
        }
        deserializer.deserialize_any(CellVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        body: &'static [u8],
        json: bool,
        cut_at: Option<usize>,
    ) -> (Result<ParseTotals, ParseError>, Vec<Batch>) {
        let (bytes_tx, bytes_rx) = mpsc::channel(4);
        let (tx, mut rx) = mpsc::channel(64);
        let sink = RowSink::new(ClipKind::Rates, 1, 2, tx);
        let handle = std::thread::spawn(move || {
            let reader = ChannelReader::new(bytes_rx);
            if json {
                parse_json(reader, sink)
            } else {
                parse_csv(reader, sink)
            }
        });
        let body = match cut_at {
            Some(n) => &body[..n],
            None => body,
        };
        for chunk in body.chunks(7) {
            bytes_tx
                .blocking_send(Ok(Bytes::from_static(chunk)))
                .expect("reader alive");
        }
        if cut_at.is_some() {
            bytes_tx
                .blocking_send(Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")))
                .expect("reader alive");
        }
        drop(bytes_tx);
        let result = handle.join().expect("parser thread");
        let mut batches = Vec::new();
        while let Ok(batch) = rx.try_recv() {
            batches.push(batch);
        }
        (result, batches)
    }

    const CSV: &[u8] = b"Id,Resource Name,Resource Type,Rate Code,Rate,Unit of Measure,Effective From,Effective To\n\
        r1,Ann,People,STD,10.5,h,2025-01-01,\n\
        r2,Bob,People,STD,n/a,h,2025-01-01,\n\
        r3,Cat,People,STD,12,h,2025-01-01\n\
        r4,Dan,People,OT,15,h,2025-01-01,2025-12-31\n";

    #[test]
    fn csv_rows_arrive_in_batches_and_bad_rows_carry_their_number_and_reason() {
        let (result, batches) = run(CSV, false, None);
        let totals = result.expect("parsed");
        assert_eq!(
            totals,
            ParseTotals {
                rows: 2,
                bad_rows: 2
            }
        );
        let bad: Vec<BadRow> = batches.iter().flat_map(|b| b.bad.clone()).collect();
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].row, 2);
        assert!(bad[0].reason.contains("Rate"), "{:?}", bad[0]);
        assert_eq!(bad[1].row, 3);
        assert!(bad[1].reason.contains("7 cells"), "{:?}", bad[1]);
        let rows: usize = batches.iter().map(|b| b.rows.len()).sum();
        assert_eq!(rows, 2);
    }

    #[test]
    fn a_cut_csv_body_is_refused_as_cut() {
        let (result, _) = run(CSV, false, Some(120));
        assert!(matches!(result, Err(ParseError::Cut { .. })), "{result:?}");
    }

    #[test]
    fn a_csv_with_wrong_headers_is_refused_as_a_structure_error() {
        let (result, _) = run(b"Id,Name\nx,y\n", false, None);
        let error = result.expect_err("refused");
        assert!(matches!(error, ParseError::Structure(_)), "{error:?}");
        assert!(error.to_string().contains("Rate Code"), "{error}");
    }

    const JSON: &[u8] = br#"{"title":"Applicable Rates","fields":["Id","Resource Name","Resource Type","Rate Code","Rate","Unit of Measure","Effective From","Effective To"],"values":[["r1","Ann","People","STD","10.5","h","2025-01-01",null],["r2","Bob","People","STD","11","h","2025-01-01",null]]}"#;

    #[test]
    fn a_json_clip_streams_its_values() {
        let (result, batches) = run(JSON, true, None);
        assert_eq!(
            result.expect("parsed"),
            ParseTotals {
                rows: 2,
                bad_rows: 0
            }
        );
        assert_eq!(batches.iter().map(|b| b.rows.len()).sum::<usize>(), 2);
    }

    #[test]
    fn a_json_clip_that_never_closes_is_cut_and_garbage_is_malformed() {
        let (result, _) = run(JSON, true, Some(JSON.len() - 10));
        assert!(matches!(result, Err(ParseError::Cut { .. })), "{result:?}");
        let (result, _) = run(b"{\"fields\": [\"Id\"", true, None);
        assert!(matches!(result, Err(ParseError::Cut { .. })), "{result:?}");
        let (result, _) = run(b"[1,2,3]", true, None);
        assert!(
            matches!(result, Err(ParseError::Structure(_))),
            "{result:?}"
        );
    }
}
