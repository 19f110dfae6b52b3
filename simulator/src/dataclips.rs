//! Dataclips: backgrounded exports served from snapshots, over HTTP Basic auth.
//!
//! `GET /dataclips/{project_id}/{clip}.csv` (or `.json`) answers the clip as it was at the last
//! refresh boundary (every `dataclip_refresh`, 4 hours by default): a request never runs the
//! query. `Last-Modified`, `ETag` and `X-Snapshot-Time` derive from the snapshot; a matching
//! `If-None-Match` or a not-older `If-Modified-Since` gets 304. Bodies are streamed in chunks of
//! rows generated on the fly, so a 1,000,000-row clip costs no memory per row.
//!
//! The JSON form is Heroku's: `{"title", "project_id", "snapshot_at", "fields": [...],
//! "values": [[...], ...]}`, every value a string (as in the CSV) or `null` for an empty cell.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clips::{Clip, ClipInfo, catalogue_names};
use crate::data::snapshot::Lookups;
use crate::data::snapshot::{Snapshot, last_boundary};
use crate::faults::HANG;
use crate::state::CallRecord;

use crate::data::usages::WorkRef;
use crate::error::ApiError;
use crate::faults::{FaultTarget, MalformedKind};
use crate::model::{ApprovalStatus, DateWithTime, ResourceKind, WorkReferenceKind};
use crate::state::{DataclipUser, SimState};

/// A snapshot with its lookups, shared by the streams reading it.
#[derive(Debug)]
struct ClipSource {
    snapshot: Arc<Snapshot>,
    clip: Clip,
    lookups: Arc<Lookups>,
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(date).unwrap_or_default()
}

fn date_time(d: Option<DateWithTime>) -> String {
    match d {
        Some(DateWithTime {
            date: day,
            time: Some(t),
        }) => format!("{} {}", date(day), t.format("%H:%M")),
        Some(DateWithTime {
            date: day,
            time: None,
        }) => date(day),
        None => String::new(),
    }
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_owned()
}

impl ClipSource {
    /// Number of positions (some may be skipped by filters or deletions).
    fn positions(&self) -> u64 {
        let data = &self.snapshot.data;
        match self.clip {
            Clip::ActivityExport => data.activities.len() as u64,
            Clip::ApplicableRates => data.applicable_rates.len() as u64,
            Clip::AttendanceExport => data.attendance.len() as u64,
            Clip::Competencies => data.competencies.len() as u64,
            Clip::Dockets => data.dockets.len() as u64,
            _ => data.usages.seeded_len() + data.usages.created.len() as u64,
        }
    }

    /// The row at a position, `None` when the position is filtered out.
    fn row(&self, position: u64) -> Option<Vec<String>> {
        let data = &self.snapshot.data;
        let i = usize::try_from(position).ok()?;
        match self.clip {
            Clip::ActivityExport => data.activities.get(i).map(|a| {
                let b = &a.budget_at_complete;
                let p = &a.planned;
                vec![
                    a.id.to_string(),
                    a.reference_code.clone(),
                    a.name.clone(),
                    a.wbs_code.clone(),
                    a.quantity_uom.clone(),
                    a.work_category.clone(),
                    a.discipline.clone(),
                    a.location.clone(),
                    a.job_number.clone(),
                    a.cost_code.clone(),
                    b.original.labour_hours.to_string(),
                    b.original.quantity.to_string(),
                    b.original.cost.to_string(),
                    b.revised.labour_hours.to_string(),
                    b.revised.quantity.to_string(),
                    b.revised.cost.to_string(),
                    b.current_estimate.labour_hours.to_string(),
                    b.current_estimate.quantity.to_string(),
                    b.current_estimate.cost.to_string(),
                    opt_date(p.original_start),
                    opt_date(p.original_finish),
                    opt_date(p.revised_start),
                    opt_date(p.revised_finish),
                    date(p.current_start),
                    date(p.current_finish),
                    date_time(a.actual_start),
                    date_time(a.actual_finish),
                    date_time(a.expected_start),
                    date_time(a.expected_finish),
                    a.float_days.to_string(),
                    serde_json::to_value(a.earned_value_method)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    a.percent_complete.to_string(),
                    yes_no(a.exclude_from_mobile),
                    yes_no(a.bookable_for_all),
                    yes_no(a.non_bookable),
                    a.tags.join(";"),
                    a.updated_at.to_rfc3339(),
                ]
            }),
            Clip::ApplicableRates => data.applicable_rates.get(i).map(|r| {
                let (name, kind) = self.resource_name(r.resource_id);
                vec![
                    r.id.to_string(),
                    name,
                    kind,
                    self.lookups
                        .rate_codes
                        .get(&r.rate_code_id)
                        .map(|&k| data.rate_codes[k].code.clone())
                        .unwrap_or_default(),
                    format!("{:.2}", r.rate),
                    r.uom.clone(),
                    date(r.effective_from),
                    opt_date(r.effective_to),
                ]
            }),
            Clip::AttendanceExport => data.attendance.get(i).map(|a| {
                let person = self
                    .lookups
                    .people
                    .get(&a.person_id)
                    .map(|&k| &data.people[k]);
                let role = self
                    .lookups
                    .work_roles
                    .get(&a.work_role_id)
                    .map(|&k| data.work_roles[k].name.clone());
                vec![
                    a.id.to_string(),
                    person
                        .map(|p| p.attendance_reference.clone())
                        .unwrap_or_default(),
                    person
                        .map(|p| format!("{} {}", p.given_name, p.family_name))
                        .unwrap_or_default(),
                    self.company_name(a.company_id),
                    role.unwrap_or_default(),
                    yes_no(person.is_some_and(|p| p.is_supervisor)),
                    date(a.start_at.date_naive()),
                    a.start_at.format("%H:%M").to_string(),
                    a.start_area.clone(),
                    a.start_latitude.to_string(),
                    a.start_longitude.to_string(),
                    a.end_at.map(|t| date(t.date_naive())).unwrap_or_default(),
                    a.end_at
                        .map(|t| t.format("%H:%M").to_string())
                        .unwrap_or_default(),
                    a.end_area.clone().unwrap_or_default(),
                    a.end_latitude.map(|v| v.to_string()).unwrap_or_default(),
                    a.end_longitude.map(|v| v.to_string()).unwrap_or_default(),
                    a.time_zone.clone(),
                    a.duration_minutes
                        .map(|m| format!("{:.2}", f64::from(m) / 60.0))
                        .unwrap_or_default(),
                ]
            }),
            Clip::Competencies => data.competencies.get(i).map(|c| {
                let person = self
                    .lookups
                    .people
                    .get(&c.person_id)
                    .map(|&k| &data.people[k]);
                vec![
                    c.id.to_string(),
                    person
                        .map(|p| format!("{} {}", p.given_name, p.family_name))
                        .unwrap_or_default(),
                    person
                        .map(|p| p.attendance_reference.clone())
                        .unwrap_or_default(),
                    c.name.clone(),
                    date(c.issued_on),
                    date(c.expires_on),
                    yes_no(c.blocks_access),
                    yes_no(c.expires_on < self.snapshot.taken_at.date_naive()),
                ]
            }),
            Clip::Dockets => data.dockets.get(i).map(|d| {
                let company = self
                    .lookups
                    .companies
                    .get(&d.company_id)
                    .map(|&k| &data.companies[k]);
                vec![
                    d.id.to_string(),
                    d.reference.clone(),
                    date(d.docket_date),
                    company.map(|c| c.name.clone()).unwrap_or_default(),
                    company
                        .map(|c| c.supplier_reference.clone())
                        .unwrap_or_default(),
                    d.invoice_reference.clone().unwrap_or_default(),
                    d.purchase_order_reference.clone().unwrap_or_default(),
                    d.status.as_str().to_owned(),
                ]
            }),
            Clip::ResourceUsagesExport
            | Clip::ResourceUsagesSubcontractor
            | Clip::ResourceUsagesApproved => self.usage_row(position),
        }
    }

    fn company_name(&self, id: Uuid) -> String {
        let data = &self.snapshot.data;
        self.lookups
            .companies
            .get(&id)
            .map(|&k| data.companies[k].name.clone())
            .unwrap_or_default()
    }

    fn resource_name(&self, id: Uuid) -> (String, String) {
        let data = &self.snapshot.data;
        if let Some(&k) = self.lookups.people.get(&id) {
            let p = &data.people[k];
            return (
                format!("{} {}", p.given_name, p.family_name),
                ResourceKind::Person.export_label().into(),
            );
        }
        if let Some(&k) = self.lookups.equipment.get(&id) {
            return (
                data.equipment[k].name.clone(),
                ResourceKind::Equipment.export_label().into(),
            );
        }
        if let Some(&k) = self.lookups.others.get(&id) {
            return (
                data.other_resources[k].name.clone(),
                ResourceKind::OtherResource.export_label().into(),
            );
        }
        (String::new(), String::new())
    }

    fn usage_row(&self, position: u64) -> Option<Vec<String>> {
        let data = &self.snapshot.data;
        let store = &data.usages;
        let generator = &store.generator;
        let seeded = position < store.seeded_len();
        if seeded && store.deleted.contains(&position) {
            return None;
        }
        // Resolve everything to positions in the snapshot's collections.
        let (usage, activity, event, company) = if seeded {
            let core = generator.core(position);
            let res = generator.resource(&core);
            let company = res.company as usize;
            let (activity, event) = match core.reference {
                WorkRef::Activity(i) => (Some(i as usize), None),
                WorkRef::Event(i) => (None, Some(i as usize)),
            };
            (generator.materialise(&core), activity, event, Some(company))
        } else {
            let usage = store
                .created
                .get(usize::try_from(position - store.seeded_len()).ok()?)?
                .clone();
            let activity = self
                .lookups
                .activities
                .get(&usage.work_reference_id)
                .copied();
            let event = self.lookups.events.get(&usage.work_reference_id).copied();
            let company = self.lookups.companies.get(&usage.company_id).copied();
            (usage, activity, event, company)
        };
        let company = company.and_then(|k| data.companies.get(k));
        match self.clip {
            Clip::ResourceUsagesApproved if usage.approval_status != ApprovalStatus::Approved => {
                return None;
            }
            Clip::ResourceUsagesSubcontractor if !company.is_some_and(|c| c.is_subcontractor) => {
                return None;
            }
            _ => {}
        }
        let role = self
            .lookups
            .work_roles
            .get(&usage.work_role_id)
            .map(|&k| &data.work_roles[k]);
        let (resource_name, _) = self.resource_name(usage.resource_id);
        let identifier = match usage.resource_type {
            ResourceKind::Person => self
                .lookups
                .people
                .get(&usage.resource_id)
                .map(|&k| data.people[k].attendance_reference.clone()),
            ResourceKind::Equipment => self
                .lookups
                .equipment
                .get(&usage.resource_id)
                .map(|&k| data.equipment[k].identifier.clone()),
            ResourceKind::OtherResource => None,
        };
        let activity = activity.and_then(|k| data.activities.get(k));
        let event = event.and_then(|k| data.events.get(k));
        let (ref_type, ref_code, ref_name) = match (usage.work_reference_type, activity, event) {
            (WorkReferenceKind::Activity, Some(a), _) => {
                ("Activity", a.reference_code.clone(), a.name.clone())
            }
            (WorkReferenceKind::Event, _, Some(e)) => {
                ("Event", e.reference_code.clone(), e.name.clone())
            }
            (WorkReferenceKind::Activity, _, _) => ("Activity", String::new(), String::new()),
            (WorkReferenceKind::Event, _, _) => ("Event", String::new(), String::new()),
        };
        let docket = usage
            .docket_id
            .and_then(|id| self.lookups.dockets.get(&id))
            .map(|&k| data.dockets[k].reference.clone());
        let time = |t: Option<chrono::NaiveTime>| {
            t.map(|t| t.format("%H:%M").to_string()).unwrap_or_default()
        };
        Some(vec![
            usage.id.to_string(),
            data.project.name.clone(),
            date(usage.work_date),
            role.map(|r| r.name.clone()).unwrap_or_default(),
            role.map(|r| r.category.clone()).unwrap_or_default(),
            company.map(|c| c.name.clone()).unwrap_or_default(),
            usage.resource_type.export_label().to_owned(),
            resource_name,
            identifier.unwrap_or_default(),
            ref_type.to_owned(),
            ref_code,
            ref_name,
            activity.map(|a| a.discipline.clone()).unwrap_or_default(),
            activity.map(|a| a.location.clone()).unwrap_or_default(),
            activity.map(|a| a.job_number.clone()).unwrap_or_default(),
            activity.map(|a| a.cost_code.clone()).unwrap_or_default(),
            self.lookups
                .usage_codes
                .get(&usage.usage_code_id)
                .map(|&k| data.usage_codes[k].code.clone())
                .unwrap_or_default(),
            docket.unwrap_or_default(),
            time(usage.start_time),
            time(usage.end_time),
            usage.break_minutes.to_string(),
            usage.quantity.to_string(),
            usage.uom.clone(),
            self.lookups
                .rate_codes
                .get(&usage.rate_code_id)
                .map(|&k| data.rate_codes[k].code.clone())
                .unwrap_or_default(),
            usage.approval_status.export_label().to_owned(),
        ])
    }
}

/// Output format of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

/// State of a clip body being streamed.
struct ClipStream {
    source: Arc<ClipSource>,
    format: Format,
    position: u64,
    end: u64,
    rows_emitted: u64,
    bytes_sent: u64,
    started: bool,
    exhausted: bool,
    cut_pending: bool,
    done: bool,
    cut_after: Option<u64>,
    malformed: Option<(u64, MalformedKind)>,
}

/// Rows per chunk of the body.
const ROWS_PER_CHUNK: usize = 512;

impl ClipStream {
    fn next_chunk(&mut self) -> Option<Result<Bytes, io::Error>> {
        if self.done {
            return None;
        }
        if self.cut_pending {
            self.done = true;
            return Some(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "dataclip body cut by an injected fault",
            )));
        }
        if self.exhausted {
            self.done = true;
            return None;
        }
        let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
        let fields = self.source.clip.fields();
        if !self.started {
            self.started = true;
            match self.format {
                Format::Csv => {
                    let mut writer = csv::Writer::from_writer(&mut out);
                    let _ = writer.write_record(fields);
                    let _ = writer.flush();
                }
                Format::Json => {
                    let snapshot = &self.source.snapshot;
                    let head = serde_json::json!({
                        "title": self.source.clip.title(),
                        "project_id": snapshot.data.project.id,
                        "snapshot_at": snapshot.taken_at,
                        "fields": fields,
                    });
                    let head = head.to_string();
                    // Re-open the object to append the streamed values.
                    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
                    out.extend_from_slice(b",\"values\":[");
                }
            }
        }
        let mut rows = 0;
        while rows < ROWS_PER_CHUNK && self.position < self.end {
            let position = self.position;
            self.position += 1;
            let Some(mut row) = self.source.row(position) else {
                continue;
            };
            if let Some((target, kind)) = self.malformed
                && target == self.rows_emitted
            {
                match kind {
                    MalformedKind::NonNumeric => {
                        let column = self.source.clip.numeric_column();
                        if let Some(cell) = row.get_mut(column) {
                            *cell = "n/a".to_owned();
                        }
                    }
                    MalformedKind::ColumnCount => {
                        row.pop();
                    }
                }
            }
            match self.format {
                Format::Csv => {
                    let mut writer = csv::WriterBuilder::new()
                        .flexible(true)
                        .from_writer(&mut out);
                    let _ = writer.write_record(&row);
                    let _ = writer.flush();
                }
                Format::Json => {
                    if self.rows_emitted > 0 {
                        out.push(b',');
                    }
                    let values: Vec<Option<&str>> = row
                        .iter()
                        .map(|c| (!c.is_empty()).then_some(c.as_str()))
                        .collect();
                    let _ = serde_json::to_writer(&mut out, &values);
                }
            }
            self.rows_emitted += 1;
            rows += 1;
        }
        if self.position >= self.end {
            self.exhausted = true;
            if self.format == Format::Json {
                out.extend_from_slice(b"]}");
            }
        }
        if let Some(cut) = self.cut_after {
            let room = cut.saturating_sub(self.bytes_sent);
            if (out.len() as u64) > room {
                out.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                self.cut_pending = true;
            }
        }
        self.bytes_sent += out.len() as u64;
        if out.is_empty() {
            return self.next_chunk();
        }
        Some(Ok(Bytes::from(out)))
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn unauthorized() -> Response {
    let mut response =
        ApiError::unauthorized("dataclip credentials required (HTTP Basic)").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"dataclips\""),
    );
    response
}

/// The user named by valid Basic credentials, if any.
fn authenticate(sim: &SimState, headers: &HeaderMap) -> Option<(String, DataclipUser)> {
    let (username, password) = basic_credentials(headers)?;
    sim.dataclip_user(&username)
        .filter(|user| user.password == password)
        .map(|user| (username, user))
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Fetches a clip.
#[utoipa::path(
    get,
    path = "/dataclips/{project_id}/{clip}",
    tag = "dataclips",
    description = "`{clip}` is a catalogue name with `.csv` or `.json`. HTTP Basic auth with a dataclip user's credentials. Served from the last snapshot; honours `If-None-Match` and `If-Modified-Since`.",
    params(
        ("project_id" = Uuid, Path, description = "Project id"),
        ("clip" = String, Path, description = "e.g. `resource-usages-export.csv`"),
    ),
    responses(
        (status = 200, description = "The clip (CSV, or JSON `{fields, values}`)", content_type = "text/csv"),
        (status = 304, description = "Not modified since the given ETag or date"),
        (status = 401, description = "Missing or wrong credentials", body = crate::model::ErrorBody),
        (status = 403, description = "Clip not provisioned for this user", body = crate::model::ErrorBody),
        (status = 404, description = "Unknown clip or project", body = crate::model::ErrorBody),
    ),
    security(("basic" = []))
)]
pub(crate) async fn fetch_clip(
    State(sim): State<SimState>,
    Path((project_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (clip_name, extension) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let clip = Clip::from_name(clip_name);
    let format = match extension {
        "csv" => Some(Format::Csv),
        "json" => Some(Format::Json),
        _ => None,
    };
    let endpoint = match (clip, format) {
        (Some(c), Some(_)) => format!("/dataclips/{{project_id}}/{}.{extension}", c.name()),
        _ => "/dataclips/{project_id}/{clip}".to_owned(),
    };
    let credentials = basic_credentials(&headers);
    let label = credentials
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), |(u, _)| format!("dataclip:{u}"));
    let record = CallRecord::new(sim.clone(), "GET", endpoint.clone(), label);
    let path = format!("/dataclips/{project_id}/{file}");
    let decision = sim.faults.decide(&FaultTarget {
        method: "GET",
        template: &endpoint,
        path: &path,
        clip: clip.map(Clip::name),
    });
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if decision.hang {
        tokio::time::sleep(HANG).await;
    }
    let response = match decision.error {
        Some(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut error =
                ApiError::new(status, "injected_fault", "fault injected by the simulator");
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                error = error.with_retry_after(1);
            }
            error.into_response()
        }
        None => serve_clip(&sim, &project_id, clip, format, &headers, &decision),
    };
    record.finish(response.status());
    response
}

fn serve_clip(
    sim: &SimState,
    project_id: &str,
    clip: Option<Clip>,
    format: Option<Format>,
    headers: &HeaderMap,
    decision: &crate::faults::FaultDecision,
) -> Response {
    let Some((_, user)) = authenticate(sim, headers) else {
        return unauthorized();
    };
    let project = Uuid::parse_str(project_id)
        .ok()
        .filter(|id| *id == user.project_id);
    let Some(slot) = project.and_then(|id| sim.project(id)) else {
        return ApiError::not_found("project").into_response();
    };
    let (Some(clip), Some(format)) = (clip, format) else {
        return ApiError::not_found("dataclip")
            .with_details(serde_json::json!({"catalogue": catalogue_names()}))
            .into_response();
    };
    if !user.clips.iter().any(|c| c == clip.name()) {
        return ApiError::forbidden(format!(
            "the dataclip `{}` is not provisioned for this user",
            clip.name()
        ))
        .into_response();
    }
    let snapshot = slot.snapshot();
    let etag = {
        let mut hasher = Sha256::new();
        hasher.update(slot.info.id.as_bytes());
        hasher.update(clip.name().as_bytes());
        hasher.update(snapshot.taken_at.timestamp_millis().to_be_bytes());
        hasher.update(snapshot.version.to_be_bytes());
        hasher.update([format as u8]);
        format!("\"{}\"", hex::encode(&hasher.finalize()[..12]))
    };
    let last_modified = http_date(snapshot.taken_at);
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(tags) => tags
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t == etag || t.trim_start_matches("W/") == etag),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| snapshot.taken_at.timestamp() <= since.timestamp()),
    };
    let refresh = sim.config.dataclip_refresh;
    let next_refresh = snapshot.taken_at
        + chrono::Duration::from_std(refresh).unwrap_or(chrono::Duration::hours(4));
    let max_age = (next_refresh - Utc::now()).num_seconds().max(0);
    let mut response = if not_modified {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let source = Arc::new(ClipSource {
            lookups: snapshot.lookups(),
            snapshot: Arc::clone(&snapshot),
            clip,
        });
        let end = source.positions();
        let state = ClipStream {
            source,
            format,
            position: 0,
            end,
            rows_emitted: 0,
            bytes_sent: 0,
            started: false,
            exhausted: false,
            cut_pending: false,
            done: false,
            cut_after: decision.cut_after_bytes,
            malformed: decision.malformed_row,
        };
        let stream = futures::stream::unfold(state, |mut state| async move {
            // Let other tasks run between chunks of a long clip.
            tokio::task::yield_now().await;
            state.next_chunk().map(|chunk| (chunk, state))
        });
        let mut response = Response::new(Body::from_stream(stream));
        let content_type = match format {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        };
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let h = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, format!("private, max-age={max_age}")),
        (
            header::HeaderName::from_static("x-snapshot-time"),
            snapshot.taken_at.to_rfc3339(),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            h.insert(name, value);
        }
    }
    response
}

/// A clip in a user's catalogue listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueEntry {
    /// The clip.
    #[serde(flatten)]
    pub clip: ClipInfo,
    /// Whether it is provisioned for the user asking.
    pub provisioned: bool,
    /// Root-relative URL of the CSV form.
    pub csv_url: String,
    /// Root-relative URL of the JSON form.
    pub json_url: String,
    /// Time of the snapshot currently served.
    pub snapshot_at: DateTime<Utc>,
    /// Refresh period, seconds.
    pub refresh_seconds: u64,
}

/// Lists the catalogue for a project (HTTP Basic).
#[utoipa::path(
    get,
    path = "/dataclips/{project_id}",
    tag = "dataclips",
    params(("project_id" = Uuid, Path, description = "Project id")),
    responses(
        (status = 200, description = "The catalogue", body = [CatalogueEntry]),
        (status = 401, description = "Missing or wrong credentials", body = crate::model::ErrorBody),
    ),
    security(("basic" = []))
)]
pub(crate) async fn catalogue(
    State(sim): State<SimState>,
    Path(project_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((username, user)) = authenticate(&sim, &headers) else {
        sim.stats
            .record("GET", "/dataclips/{project_id}", 401, "anonymous");
        return unauthorized();
    };
    let label = format!("dataclip:{username}");
    let project = Uuid::parse_str(&project_id)
        .ok()
        .filter(|id| *id == user.project_id);
    let Some(slot) = project.and_then(|id| sim.project(id)) else {
        sim.stats
            .record("GET", "/dataclips/{project_id}", 404, &label);
        return ApiError::not_found("project").into_response();
    };
    sim.stats
        .record("GET", "/dataclips/{project_id}", 200, &label);
    let snapshot = slot.snapshot();
    let entries: Vec<CatalogueEntry> = Clip::ALL
        .iter()
        .map(|clip| CatalogueEntry {
            clip: clip.info(),
            provisioned: user.clips.iter().any(|c| c == clip.name()),
            csv_url: format!("/dataclips/{project_id}/{}.csv", clip.name()),
            json_url: format!("/dataclips/{project_id}/{}.json", clip.name()),
            snapshot_at: snapshot.taken_at,
            refresh_seconds: sim.config.dataclip_refresh.as_secs(),
        })
        .collect();
    axum::Json(entries).into_response()
}

/// Refreshes every project's snapshots at each boundary, forever.
pub(crate) async fn refresh_loop(sim: SimState) {
    let period = sim.config.dataclip_refresh.max(Duration::from_millis(100));
    loop {
        let now = Utc::now();
        let next = last_boundary(now, period)
            + chrono::Duration::from_std(period).unwrap_or(chrono::Duration::hours(4));
        let wait = (next - now).to_std().unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait).await;
        for slot in sim.slots() {
            slot.refresh_snapshot(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataSize, SizePreset};

    fn source(clip: Clip, usages: u64) -> ClipSource {
        let size = DataSize::preset(SizePreset::Small).with_usages(usages);
        let data = crate::data::seed::generate(3, &size).remove(0);
        let snapshot = Arc::new(Snapshot::new(data, Utc::now()));
        ClipSource {
            lookups: snapshot.lookups(),
            snapshot,
            clip,
        }
    }

    #[test]
    fn every_row_has_as_many_cells_as_the_header() {
        for clip in Clip::ALL {
            let source = source(clip, 500);
            let width = clip.fields().len();
            let mut seen = 0;
            for p in 0..source.positions() {
                if let Some(row) = source.row(p) {
                    assert_eq!(row.len(), width, "{clip:?}");
                    seen += 1;
                }
            }
            assert!(seen > 0, "{clip:?} has rows");
        }
    }

    #[test]
    fn boundaries_are_multiples_of_the_period() {
        let now =
            DateTime::parse_from_rfc3339("2025-03-01T13:45:10Z").map(|d| d.with_timezone(&Utc));
        let now = now.unwrap_or_default();
        let b = last_boundary(now, Duration::from_secs(4 * 3600));
        assert_eq!(b.to_rfc3339(), "2025-03-01T12:00:00+00:00");
    }
}
