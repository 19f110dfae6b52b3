//! Metering: the usage ledger of every GraphQL operation and upstream call, its daily rollups,
//! the declared-versus-observed findings, reports for governance reviewers, and alerts.
//!
//! - [`ledger`]: the asynchronous, batched write path (bounded channel, one writer task,
//!   flushed on shutdown, drops counted when full).
//! - [`observer`]: the upstream [`crate::upstream::CallObserver`] that feeds it.
//! - [`store`]: per-day aggregates, the idempotent daily rollup and the retention purge.
//! - [`observed`] and [`declared`]: the two sides of `compliance::findings::evaluate`.
//! - [`report`], [`charts`], [`documents`]: the usage report as GraphQL, CSV, JSON and HTML.
//! - [`alerts`]: thresholds crossed, raised once per project, key, finding and day.

pub mod alerts;
mod config;
pub(crate) mod declared;
pub(crate) mod endpoints;
pub mod export;
pub mod ledger;
pub(crate) mod observed;
pub(crate) mod observer;
pub mod report;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

pub use config::{Declaration, MeteringConfig};
pub use ledger::{Ledger, LedgerStats, OperationRecord};

use crate::background::Background;
pub use observed::SweepLimits;
use report::{ReportError, ReportRequest, UsageReport};

/// The metering service, one per process.
#[derive(Debug)]
pub struct Metering {
    /// The ledger's sending side.
    pub ledger: Ledger,
    config: MeteringConfig,
    limits: SweepLimits,
    endpoints: endpoints::EndpointMap,
    declarations: declared::Declarations,
}

impl Metering {
    /// Starts the ledger writer (when enabled) on `background`. `limits` are the live
    /// thresholds sweeps are measured against; `upstream` names the endpoints of calls; `policy`
    /// turns configured declarations into declared load.
    pub fn start(
        config: &MeteringConfig,
        limits: SweepLimits,
        upstream: &crate::upstream::UpstreamProfile,
        policy: gatehouse_compliance::AssessmentPolicy,
        db: DatabaseConnection,
        background: &Background,
    ) -> Self {
        let ledger = if config.enabled {
            Ledger::start(db, background, config)
        } else {
            Ledger::disabled()
        };
        Self {
            ledger,
            config: config.clone(),
            limits,
            endpoints: endpoints::EndpointMap::new(upstream),
            declarations: declared::Declarations::new(&config.declarations, policy),
        }
    }

    /// The observer to register with the upstream client, when the ledger is on.
    pub fn observer(&self) -> Option<Arc<dyn crate::upstream::CallObserver>> {
        self.ledger.is_enabled().then(|| {
            Arc::new(observer::LedgerObserver::new(
                self.ledger.clone(),
                self.endpoints.clone(),
            )) as Arc<dyn crate::upstream::CallObserver>
        })
    }

    /// The settings.
    pub fn config(&self) -> &MeteringConfig {
        &self.config
    }

    /// Where declarations come from (access requests, then configuration).
    pub fn declarations(&self) -> &declared::Declarations {
        &self.declarations
    }

    /// The sweep thresholds.
    pub fn limits(&self) -> SweepLimits {
        self.limits
    }

    /// The declared workflow calls of `app_key` are attributed to.
    pub async fn workflow_for(
        &self,
        db: &DatabaseConnection,
        app_key: uuid::Uuid,
    ) -> Option<String> {
        self.declarations.workflow_for(db, app_key).await
    }

    /// The usage report of `request`.
    pub async fn report(
        &self,
        db: &DatabaseConnection,
        request: &ReportRequest,
    ) -> Result<UsageReport, ReportError> {
        report::build(db, &self.config, &self.declarations, self.limits, request).await
    }

    /// One run of the periodic job: roll up `days`, purge raw records past retention, and
    /// raise today's alerts.
    pub async fn run_job(
        &self,
        db: &DatabaseConnection,
        days: &[chrono::NaiveDate],
    ) -> Result<(), sea_orm::DbErr> {
        for day in days {
            store::roll_up_day(db, *day).await?;
        }
        let today = store::today();
        let purged =
            store::purge_before(db, store::raw_cutoff(today, self.config.raw_retention_days))
                .await?;
        if !purged.is_empty() {
            tracing::info!(
                ledger.days_purged = purged.len(),
                "raw ledger records past retention rolled up and removed"
            );
        }
        alerts::evaluate_day(db, &self.config, &self.declarations, self.limits, today).await?;
        Ok(())
    }
}

/// Spawns the periodic rollup, retention and alert job on `background`. The first run rolls
/// up every day that still has raw records (so a restart after downtime catches up); later
/// runs, today and yesterday.
pub fn spawn_job(metering: &Arc<Metering>, db: DatabaseConnection, background: &Background) {
    let stop = background.shutdown_token();
    let metering = Arc::clone(metering);
    let every = Duration::from_secs(metering.config.rollup_interval_secs);
    background.spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut first = true;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {
                    let days = if first {
                        store::raw_days(&db).await.unwrap_or_default()
                    } else {
                        let today = store::today();
                        vec![today - chrono::Duration::days(1), today]
                    };
                    first = false;
                    if let Err(error) = metering.run_job(&db, &days).await {
                        tracing::warn!(error.message = %error, "the metering job failed; it runs again at its next tick");
                    }
                }
            }
        }
    });
}
