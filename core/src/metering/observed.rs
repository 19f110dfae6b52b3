//! The `compliance::findings::Observed` aggregate of a project (and app key) over a period,
//! built from the ledger.
//!
//! Counts per entity, operation, workflow and day, statuses and cache outcomes come from the
//! per-day rows (raw or rolled up), so they hold for any period. The busiest minute, calls by
//! hour, sample operations and sweeps need the raw records and cover the days still kept.
//!
//! **Sweeps.** A list read page by page leaves one ledger row per page with the same list
//! signature (its filters, paging excluded), the page asked for, and whether it continued from
//! a cursor. Rows of one caller (app key, else token) and one list, in order, form *walks*: a
//! first page starts one, a continuation extends it. A walk longer than
//! `graphql.max_live_pages` pages is a page sweep; a walk whose `from`/`to` window is longer
//! than `graphql.max_live_window_days` is a window sweep. Retries are not pages.
//!
//! Reads of the project record itself count towards volume but are never undeclared: every
//! integration reads the project it works on, and no workflow lists it.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration as Days, NaiveDate, TimeZone, Utc};
use gatehouse_compliance::Entity;
use gatehouse_compliance::findings::{
    DailyCalls, Observed, ObservedCalls, Period, SweepKind, SweepPattern,
};
use gatehouse_compliance::model::Operation;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::store::{DailyRow, Scope, bigint, count_all, or_empty, select_all};
use crate::db::entities::ledger_calls::{self, Column as Call};

/// Thresholds of sweep detection.
#[derive(Debug, Clone, Copy)]
pub struct SweepLimits {
    /// A walk of more pages than this is a sweep.
    pub max_pages: u64,
    /// A window of more days than this is a sweep.
    pub max_window_days: u32,
}

/// The period of whole days `from..=to`.
pub(crate) fn period_of(from: NaiveDate, to: NaiveDate) -> Period {
    let start = Utc.from_utc_datetime(&from.and_time(chrono::NaiveTime::MIN));
    let end = Utc.from_utc_datetime(&(to + Days::days(1)).and_time(chrono::NaiveTime::MIN));
    Period { start, end }
}

#[derive(Debug, FromQueryResult)]
struct Bucket {
    bucket: i64,
    calls: i64,
}

#[derive(Debug, FromQueryResult)]
struct Sample {
    entity: String,
    action: String,
    workflow: String,
    operation: String,
}

#[derive(Debug, FromQueryResult)]
struct ListCall {
    app_key_id: Option<Uuid>,
    token_fingerprint: String,
    endpoint: String,
    entity: Option<String>,
    list_signature: String,
    page: Option<i64>,
    continues: bool,
    window_days: Option<i32>,
    operation: Option<String>,
}

fn parse_pair(entity: &str, action: &str) -> Option<(Entity, Operation)> {
    let entity = entity.parse::<Entity>().ok()?;
    let operation = Operation::ALL
        .into_iter()
        .find(|op| op.as_str() == action)?;
    Some((entity, operation))
}

/// Builds the observed aggregate of `scope` from its per-day rows and the raw ledger.
pub(crate) async fn observe<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    rows: &[DailyRow],
    limits: SweepLimits,
) -> Result<Observed, DbErr> {
    let within = || scope.condition(false);

    // Calls per entity, operation and workflow; per day; statuses; cache outcomes.
    let mut by_use: BTreeMap<(Entity, Operation, String), u64> = BTreeMap::new();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    let (mut s429, mut s503, mut hits, mut misses) = (0u64, 0u64, 0u64, 0u64);
    for row in rows {
        let count = u64::try_from(row.count).unwrap_or(0);
        if row.kind == "call" {
            // Reading the project record is implied by any declaration (as it is by any key
            // that may use the project): it is load, but never an undeclared use.
            if let Some((entity, operation)) = parse_pair(&row.entity, &row.action)
                .filter(|pair| *pair != (Entity::Project, Operation::Read))
            {
                *by_use
                    .entry((entity, operation, row.workflow.clone()))
                    .or_default() += count;
            }
            *per_day.entry(row.day.clone()).or_default() += count;
            s429 += u64::try_from(row.status_429).unwrap_or(0);
            s503 += u64::try_from(row.status_503).unwrap_or(0);
        } else {
            hits += u64::try_from(row.cache_hits).unwrap_or(0);
            misses += u64::try_from(row.cache_misses).unwrap_or(0);
        }
    }

    let query = Query::select()
        .expr_as(or_empty(Call::Entity), "entity")
        .expr_as(or_empty(Call::Action), "action")
        .expr_as(or_empty(Call::Workflow), "workflow")
        .column(Call::Operation)
        .from(ledger_calls::Entity)
        .cond_where(within().add(Expr::col(Call::Operation).is_not_null()))
        .group_by_columns([Call::Entity, Call::Action, Call::Workflow, Call::Operation])
        .order_by(Call::Operation, Order::Asc)
        .to_owned();
    let mut samples: HashMap<(Entity, Operation, String), Vec<String>> = HashMap::new();
    for sample in select_all::<Sample, _>(db, &query).await? {
        if let Some((entity, operation)) = parse_pair(&sample.entity, &sample.action) {
            let list = samples
                .entry((entity, operation, sample.workflow))
                .or_default();
            if list.len() < 5 && !list.contains(&sample.operation) {
                list.push(sample.operation);
            }
        }
    }
    let calls = by_use
        .into_iter()
        .map(|((entity, operation, workflow), calls)| ObservedCalls {
            entity,
            operation,
            sample_operations: samples
                .remove(&(entity, operation, workflow.clone()))
                .unwrap_or_default(),
            workflow: (!workflow.is_empty()).then_some(workflow),
            calls,
        })
        .collect();
    let calls_per_day = per_day
        .into_iter()
        .filter_map(|(day, calls)| {
            NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .ok()
                .map(|date| DailyCalls { date, calls })
        })
        .collect();

    let per_bucket = |bucket: Call| {
        Query::select()
            .expr_as(bigint(Expr::col(bucket)), "bucket")
            .expr_as(count_all(), "calls")
            .from(ledger_calls::Entity)
            .cond_where(within())
            .group_by_col(bucket)
            .to_owned()
    };
    let peak = select_all::<Bucket, _>(
        db,
        per_bucket(Call::Minute)
            .order_by("calls", Order::Desc)
            .limit(1),
    )
    .await?
    .first()
    .map_or(0, |b| u64::try_from(b.calls).unwrap_or(0));
    let mut calls_by_hour = [0u64; 24];
    for bucket in select_all::<Bucket, _>(db, &per_bucket(Call::Hour)).await? {
        if let Some(slot) = usize::try_from(bucket.bucket)
            .ok()
            .and_then(|h| calls_by_hour.get_mut(h))
        {
            *slot += u64::try_from(bucket.calls).unwrap_or(0);
        }
    }

    let lists = ledger_calls::Entity::find()
        .select_only()
        .columns([
            Call::AppKeyId,
            Call::TokenFingerprint,
            Call::Endpoint,
            Call::Entity,
            Call::ListSignature,
            Call::Page,
            Call::Continues,
            Call::WindowDays,
            Call::Operation,
        ])
        .filter(within())
        .filter(Call::ListSignature.is_not_null())
        .filter(Call::Attempt.eq(0))
        .order_by_asc(Call::Id)
        .into_model::<ListCall>()
        .all(db)
        .await?;
    let sweeps = find_sweeps(&lists, limits);

    Ok(Observed {
        period: period_of(scope.from, scope.to),
        calls,
        calls_per_day,
        peak_calls_per_minute: peak,
        calls_by_hour,
        upstream_429: s429,
        upstream_503: s503,
        cache_hits: hits,
        cache_misses: misses,
        sweeps,
    })
}

#[derive(Default)]
struct Walk {
    pages: u64,
    window_days: Option<i32>,
    operation: Option<String>,
    entity: Option<Entity>,
}

#[derive(Default)]
struct SweepTally {
    count: u64,
    samples: Vec<String>,
}

fn find_sweeps(calls: &[ListCall], limits: SweepLimits) -> Vec<SweepPattern> {
    let mut walks: HashMap<(String, &str, &str), Walk> = HashMap::new();
    let mut tallies: BTreeMap<(Entity, SweepKindKey), SweepTally> = BTreeMap::new();
    let close = |walk: Walk, tallies: &mut BTreeMap<(Entity, SweepKindKey), SweepTally>| {
        let Some(entity) = walk.entity else {
            return;
        };
        let mut kinds = Vec::new();
        if walk.pages > limits.max_pages {
            kinds.push(SweepKindKey::Pages);
        }
        if walk
            .window_days
            .is_some_and(|d| i64::from(d) > i64::from(limits.max_window_days))
        {
            kinds.push(SweepKindKey::Window);
        }
        for kind in kinds {
            let tally = tallies.entry((entity, kind)).or_default();
            tally.count += 1;
            if let Some(op) = &walk.operation
                && tally.samples.len() < 5
                && !tally.samples.contains(op)
            {
                tally.samples.push(op.clone());
            }
        }
    };
    for call in calls {
        let caller = call.app_key_id.map_or_else(
            || format!("token:{}", call.token_fingerprint),
            |k| k.to_string(),
        );
        let key = (caller, call.endpoint.as_str(), call.list_signature.as_str());
        let starts = call.page == Some(1) || (call.page.is_none() && !call.continues);
        let entity = call
            .entity
            .as_deref()
            .and_then(|e| e.parse::<Entity>().ok());
        if starts {
            if let Some(previous) = walks.remove(&key) {
                close(previous, &mut tallies);
            }
            walks.insert(
                key,
                Walk {
                    pages: 1,
                    window_days: call.window_days,
                    operation: call.operation.clone(),
                    entity,
                },
            );
        } else {
            let walk = walks.entry(key).or_insert_with(|| Walk {
                window_days: call.window_days,
                operation: call.operation.clone(),
                entity,
                ..Walk::default()
            });
            walk.pages += 1;
        }
    }
    for (_, walk) in walks {
        close(walk, &mut tallies);
    }
    tallies
        .into_iter()
        .map(|((entity, kind), tally)| SweepPattern {
            entity,
            kind: match kind {
                SweepKindKey::Pages => SweepKind::Pages {
                    over: u32::try_from(limits.max_pages).unwrap_or(u32::MAX),
                },
                SweepKindKey::Window => SweepKind::DateWindow {
                    over_days: limits.max_window_days,
                },
            },
            count: tally.count,
            sample_operations: tally.samples,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SweepKindKey {
    Pages,
    Window,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(key: u128, page: Option<i64>, continues: bool) -> ListCall {
        ListCall {
            app_key_id: Some(Uuid::from_u128(key)),
            token_fingerprint: "abc".into(),
            endpoint: "/api/v1/projects/{project_id}/resource_usages".into(),
            entity: Some("resource_usage".into()),
            list_signature: "sig".into(),
            page,
            continues,
            window_days: Some(7),
            operation: Some("Usages".into()),
        }
    }

    const LIMITS: SweepLimits = SweepLimits {
        max_pages: 3,
        max_window_days: 31,
    };

    #[test]
    fn a_walk_longer_than_the_page_limit_is_one_sweep() {
        let mut calls: Vec<ListCall> = (1..=5).map(|p| call(1, Some(p), p > 1)).collect();
        // A second, short walk of the same list by the same key.
        calls.extend((1..=2).map(|p| call(1, Some(p), p > 1)));
        let sweeps = find_sweeps(&calls, LIMITS);
        assert_eq!(sweeps.len(), 1);
        assert_eq!(sweeps[0].count, 1);
        assert_eq!(sweeps[0].entity, Entity::ResourceUsage);
        assert_eq!(sweeps[0].sample_operations, vec!["Usages".to_owned()]);
    }

    #[test]
    fn interleaved_callers_walk_separately_and_continuations_count_as_pages() {
        let mut calls = Vec::new();
        calls.push(call(1, Some(1), false));
        calls.push(call(2, Some(1), false));
        for _ in 0..4 {
            calls.push(call(1, None, true));
            calls.push(call(2, None, true));
        }
        let sweeps = find_sweeps(&calls, LIMITS);
        assert_eq!(sweeps[0].count, 2, "{sweeps:?}");
    }

    #[test]
    fn long_windows_are_window_sweeps_even_on_one_page() {
        let mut long = call(1, Some(1), false);
        long.window_days = Some(62);
        let sweeps = find_sweeps(&[long], LIMITS);
        assert_eq!(sweeps.len(), 1);
        assert_eq!(sweeps[0].kind, SweepKind::DateWindow { over_days: 31 });
    }
}
