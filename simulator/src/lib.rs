//! `synchro-sim`: a faithful stand-in for a Bentley SYNCHRO Perform tenant (REST API and
//! Dataclips), with seeded data, load behaviour, fault injection and exact call counts.
//!
//! Start one in-process with [`spawn`] (port 0 is fine) and talk to [`SimHandle::base_url`];
//! embed the routes elsewhere with [`router`]; or run the `synchro-sim` binary. The README in
//! this crate lists the endpoints, JSON shapes, pagination, filters, fault rules, stats format,
//! the dataclip catalogue and the CLI.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use synchro_sim::{Scope, SimConfig, spawn};
//! let sim = spawn(SimConfig::default(), "127.0.0.1:0".parse()?).await?;
//! let project = sim.projects()[0].id;
//! let token = sim.create_token(project, Scope::Read).await;
//! let url = format!("{}/api/v1/projects/{project}/activities", sim.base_url());
//! # let _ = (token, url);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod api;
pub mod clips;
pub mod config;
pub mod data;
pub mod dataclips;
pub mod docs;
pub mod error;
pub mod faults;
pub mod model;
pub mod state;
pub mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use config::{
    DataSize, DataclipUserSpec, LatencyModel, PaginationStyle, ProjectRef, RateLimit, Scope,
    SimConfig, SizeCounts, SizePreset, TokenSpec,
};
pub use data::ProjectInfo;
pub use faults::{FaultRule, MalformedKind};
pub use state::{Sim, SimError, SimState};
pub use stats::{CallCount, Stats};

/// Builds the simulator's state (generates the data) without serving it.
pub fn build_state(config: SimConfig) -> Result<SimState, SimError> {
    Sim::new(config).map(Arc::new)
}

/// Every route of the simulator: the REST API under the configured prefix, `/dataclips`,
/// `/api` and `/api/openapi.json`, and `/_sim`. Embeddable in another router.
///
/// Dataclip snapshots are refreshed by [`spawn`]; an embedder that wants scheduled refreshes
/// runs [`refresh_dataclips_forever`] too.
pub fn router(state: SimState) -> Router {
    let prefix = state.config.api_prefix.trim_end_matches('/').to_owned();
    let guard = axum::middleware::from_fn_with_state(state.clone(), api::guard);
    let api = api::routes().layer(guard);
    let api = if prefix.is_empty() {
        Router::new().merge(api)
    } else {
        Router::new().nest(&prefix, api)
    };
    let uploads_unlimited = axum::extract::DefaultBodyLimit::disable();
    Router::new()
        .merge(api)
        .route("/dataclips/{project_id}/{clip}", get(dataclips::fetch_clip))
        .route("/dataclips/{project_id}", get(dataclips::catalogue))
        .route("/api/openapi.json", get(docs::openapi_json))
        .route("/api", get(docs::api_page))
        .merge(admin::routes())
        .layer(uploads_unlimited)
        .with_state(state)
}

/// Refreshes the dataclip snapshots of `state` at every refresh boundary (never returns).
pub async fn refresh_dataclips_forever(state: SimState) {
    dataclips::refresh_loop(state).await;
}

/// A running simulator. Dropping it stops the server too.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: SimState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    refresher: JoinHandle<()>,
}

/// Binds `listen` (port 0 picks a free port), generates the data and serves in a tokio task.
pub async fn spawn(config: SimConfig, listen: SocketAddr) -> anyhow::Result<SimHandle> {
    let state = build_state(config).context("building the simulator")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let app = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(error = %error, "synchro-sim server stopped");
        }
    });
    let refresher = tokio::spawn(dataclips::refresh_loop(state.clone()));
    Ok(SimHandle {
        addr,
        state,
        shutdown: Some(tx),
        server: Some(server),
        refresher,
    })
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The REST API's base URL: `http://{addr}{prefix}`.
    pub fn api_url(&self) -> String {
        format!(
            "{}{}",
            self.base_url(),
            self.state.config.api_prefix.trim_end_matches('/')
        )
    }

    /// The seeded projects.
    pub fn projects(&self) -> Vec<ProjectInfo> {
        self.state.projects()
    }

    /// The shared state (configuration, data, stats).
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Creates a random token for a project. A token for a project the simulator does not
    /// have is still created, and sees only 404s.
    pub async fn create_token(&self, project_id: Uuid, scope: Scope) -> String {
        match self.state.add_token(None, project_id, scope, None) {
            Ok(token) => token,
            Err(_) => {
                let token = format!("sim_orphan_{}", Uuid::new_v4().simple());
                self.state
                    .tokens
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(
                        token.clone(),
                        state::TokenInfo {
                            project_id,
                            scope,
                            label: state::token_fingerprint(&token),
                        },
                    );
                token
            }
        }
    }

    /// Creates a token with a fixed value and a label shown in stats.
    pub async fn create_named_token(
        &self,
        token: &str,
        project_id: Uuid,
        scope: Scope,
        label: &str,
    ) -> Result<String, SimError> {
        self.state.add_token(
            Some(token.to_owned()),
            project_id,
            scope,
            Some(label.to_owned()),
        )
    }

    /// Creates a dataclip user (HTTP Basic credentials); `clips: None` provisions every clip.
    pub async fn create_dataclip_user(
        &self,
        username: &str,
        password: &str,
        project_id: Uuid,
        clips: Option<Vec<String>>,
    ) -> Result<(), SimError> {
        self.state
            .add_dataclip_user(username.to_owned(), password.to_owned(), project_id, clips)
    }

    /// Adds a fault rule and returns its id (the rule must pass [`FaultRule::validate`]).
    pub async fn add_fault(&self, rule: FaultRule) -> Result<u64, SimError> {
        rule.validate()
            .map_err(|(field, message)| SimError::InvalidFault(field, message))?;
        Ok(self.state.faults.add(rule))
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Takes new dataclip snapshots now (as a refresh boundary would).
    pub async fn refresh_dataclips(&self) {
        let now = chrono::Utc::now();
        for slot in self.state.slots() {
            slot.refresh_snapshot(now);
        }
    }

    /// The call counts.
    pub async fn stats(&self) -> Stats {
        self.state.stats.snapshot()
    }

    /// Forgets the call counts.
    pub async fn reset_stats(&self) {
        self.state.stats.reset();
    }

    /// Stops serving (in-flight requests get two seconds to finish).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(Duration::from_secs(2), &mut server)
                .await
                .is_err()
        {
            server.abort();
        }
        self.refresher.abort();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
        self.refresher.abort();
    }
}
