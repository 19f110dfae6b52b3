//! Alerts: a finding of warning or critical severity, or a project's upstream calls in a day
//! over `metering.alert_daily_calls`, raised once per project, app key, finding code and day.
//! The unique index of `usage_alerts` does the deduplication (also across instances); an alert
//! is logged once, when it is created.

use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::findings::{Evidence, Finding, Severity};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::MeteringConfig;
use super::observed::SweepLimits;
use super::report::{ReportRequest, build};
use super::store::{count_all, day_text, select_all};
use crate::audit::{self, Actor};
use crate::db::entities::usage_alerts;

/// The code of the configured daily-volume alert.
pub(crate) const DAILY_VOLUME_CODE: &str = "daily_volume_over_threshold";

/// A usage alert: a threshold crossed, raised once per project, app key, finding and day.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex, name = "UsageAlert")
)]
pub struct Alert {
    /// Id.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub id: Uuid,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// The day it concerns (UTC).
    pub day: NaiveDate,
    /// The project.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub project_id: String,
    /// The app key, if it concerns one.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub app_key_id: Option<Uuid>,
    /// The finding code, or `daily_volume_over_threshold`.
    pub code: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// Title.
    pub title: String,
    /// Detail.
    pub detail: String,
    /// The evidence, as in the finding.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub evidence: serde_json::Value,
    /// When a reviewer acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub acknowledged_by: Option<Uuid>,
}

fn to_alert(row: usage_alerts::Model) -> Alert {
    Alert {
        id: row.id,
        created_at: row.created_at,
        day: NaiveDate::parse_from_str(&row.day, "%Y-%m-%d").unwrap_or_default(),
        project_id: row.project_id,
        app_key_id: Uuid::parse_str(&row.app_key_id).ok(),
        code: row.code,
        severity: row.severity,
        title: row.title,
        detail: row.detail,
        evidence: serde_json::from_str(&row.evidence).unwrap_or(serde_json::Value::Null),
        acknowledged_at: row.acknowledged_at,
        acknowledged_by: row.acknowledged_by,
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// Stores an alert unless the same one (project, key, code, day) exists. Returns whether it
/// was created; a created alert is logged.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn raise<C: ConnectionTrait>(
    db: &C,
    day: NaiveDate,
    project_id: &str,
    app_key_id: Option<Uuid>,
    code: &str,
    severity: &str,
    title: &str,
    detail: &str,
    evidence: &serde_json::Value,
) -> Result<bool, DbErr> {
    let model = usage_alerts::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(Utc::now()),
        day: Set(day_text(day)),
        project_id: Set(project_id.to_owned()),
        app_key_id: Set(app_key_id.map(|k| k.to_string()).unwrap_or_default()),
        code: Set(code.to_owned()),
        severity: Set(severity.to_owned()),
        title: Set(title.to_owned()),
        detail: Set(detail.to_owned()),
        evidence: Set(evidence.to_string()),
        acknowledged_at: Set(None),
        acknowledged_by: Set(None),
    };
    let inserted = usage_alerts::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([
                usage_alerts::Column::ProjectId,
                usage_alerts::Column::AppKeyId,
                usage_alerts::Column::Code,
                usage_alerts::Column::Day,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let created = inserted > 0;
    if created {
        tracing::warn!(
            alert.code = code,
            alert.severity = severity,
            alert.day = %day,
            project.id = project_id,
            app_key.id = app_key_id.map(|k| k.to_string()).unwrap_or_default(),
            "usage alert: {title}"
        );
    }
    Ok(created)
}

async fn raise_finding<C: ConnectionTrait>(
    db: &C,
    day: NaiveDate,
    project_id: &str,
    app_key_id: Option<Uuid>,
    finding: &Finding,
) -> Result<bool, DbErr> {
    let evidence = serde_json::to_value(&finding.evidence).unwrap_or(serde_json::Value::Null);
    raise(
        db,
        day,
        project_id,
        app_key_id,
        finding.code.as_str(),
        severity_name(finding.severity),
        &finding.title,
        &finding.detail,
        &evidence,
    )
    .await
}

#[derive(Debug, FromQueryResult)]
struct Caller {
    project_id: String,
    app_key_id: Option<Uuid>,
    calls: i64,
}

/// Evaluates `day` for every project and app key that called upstream that day, and raises
/// the alerts due. Returns how many were created.
pub(crate) async fn evaluate_day<C: ConnectionTrait>(
    db: &C,
    config: &MeteringConfig,
    declarations: &super::declared::Declarations,
    limits: SweepLimits,
    day: NaiveDate,
) -> Result<u64, DbErr> {
    use crate::db::entities::ledger_calls::{self, Column as Call};
    let query = Query::select()
        .columns([Call::ProjectId, Call::AppKeyId])
        .expr_as(count_all(), "calls")
        .from(ledger_calls::Entity)
        .and_where(Expr::col(Call::Day).eq(day_text(day)))
        .group_by_columns([Call::ProjectId, Call::AppKeyId])
        .order_by(Call::ProjectId, Order::Asc)
        .to_owned();
    let callers = select_all::<Caller, _>(db, &query).await?;
    let mut created = 0;
    let mut per_project: std::collections::BTreeMap<String, u64> = Default::default();
    for caller in &callers {
        *per_project.entry(caller.project_id.clone()).or_default() +=
            u64::try_from(caller.calls).unwrap_or(0);
        let request = ReportRequest {
            project_id: caller.project_id.clone(),
            app_key_id: caller.app_key_id,
            from: day,
            to: day,
        };
        let report = match build(db, config, declarations, limits, &request).await {
            Ok(report) => report,
            Err(super::report::ReportError::Database(error)) => return Err(error),
            Err(_) => continue,
        };
        for finding in report
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
        {
            if raise_finding(db, day, &caller.project_id, caller.app_key_id, finding).await? {
                created += 1;
            }
        }
    }
    if config.alert_daily_calls > 0 {
        for (project, calls) in per_project {
            if calls > config.alert_daily_calls {
                let evidence = serde_json::to_value(Evidence {
                    observed: Some(calls),
                    declared: Some(config.alert_daily_calls),
                    day: Some(day),
                    ..empty_evidence(day)
                })
                .unwrap_or(serde_json::Value::Null);
                let title = format!(
                    "{calls} upstream calls in a day, over the alert threshold of {}",
                    config.alert_daily_calls
                );
                let detail = format!(
                    "On {day} project {project} made {calls} upstream calls; \
                     `metering.alert_daily_calls` is {}.",
                    config.alert_daily_calls
                );
                if raise(
                    db,
                    day,
                    &project,
                    None,
                    DAILY_VOLUME_CODE,
                    "warning",
                    &title,
                    &detail,
                    &evidence,
                )
                .await?
                {
                    created += 1;
                }
            }
        }
    }
    Ok(created)
}

fn empty_evidence(day: NaiveDate) -> Evidence {
    Evidence {
        period: super::observed::period_of(day, day),
        entity: None,
        operations: Vec::new(),
        workflow: None,
        observed: None,
        declared: None,
        percent: None,
        day: None,
        hours: Vec::new(),
        sample_operations: Vec::new(),
    }
}

/// Alerts, newest first: of one project or all, acknowledged or not or both.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    project_id: Option<&str>,
    acknowledged: Option<bool>,
    limit: u64,
) -> Result<Vec<Alert>, DbErr> {
    use sea_orm::QuerySelect;
    let mut query = usage_alerts::Entity::find();
    if let Some(project) = project_id {
        query = query.filter(usage_alerts::Column::ProjectId.eq(project));
    }
    match acknowledged {
        Some(true) => query = query.filter(usage_alerts::Column::AcknowledgedAt.is_not_null()),
        Some(false) => query = query.filter(usage_alerts::Column::AcknowledgedAt.is_null()),
        None => {}
    }
    Ok(query
        .order_by_desc(usage_alerts::Column::CreatedAt)
        .order_by_asc(usage_alerts::Column::Code)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_alert)
        .collect())
}

/// Acknowledges an alert (once; acknowledging again keeps the first), with an audit entry in
/// the same transaction. `None` when there is no such alert.
pub async fn acknowledge<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    id: Uuid,
    user: Uuid,
) -> Result<Option<Alert>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let Some(row) = usage_alerts::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(None);
    };
    let row = if row.acknowledged_at.is_none() {
        let mut active: usage_alerts::ActiveModel = row.into();
        active.acknowledged_at = Set(Some(Utc::now()));
        active.acknowledged_by = Set(Some(user));
        let row = active.update(&txn).await?;
        audit::record(
            &txn,
            &Actor::User(user),
            "usage_alert.acknowledge",
            "usage_alert",
            &id.to_string(),
            serde_json::json!({ "code": row.code, "project_id": row.project_id, "day": row.day }),
        )
        .await?;
        row
    } else {
        row
    };
    txn.commit().await?;
    Ok(Some(to_alert(row)))
}
