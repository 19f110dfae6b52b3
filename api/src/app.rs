//! Building and running the app: the same code path for `gatehouse serve`, `gatehouse demo` and
//! the black-box tests, which start it on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http::AppState;
use crate::http::server::ConnectionLimits;
use crate::services::Services;
use gatehouse_core::access::AccessRequests;
use gatehouse_core::auth::app_keys::KeyVerifier;
use gatehouse_core::auth::throttle::{ClientLimits, LoginThrottle, StashLimits};
use gatehouse_core::background::Background;
use gatehouse_core::clock::Clock;
use gatehouse_core::vault::Vault;

/// A built app, ready to serve.
#[derive(Debug)]
pub struct App {
    state: AppState,
    /// The internal listener of `/metrics` (`http.metrics_listen`), bound at build.
    metrics_listener: Option<TcpListener>,
}

impl App {
    /// Opens the database, applies migrations, and wires the services, on the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`App::build`] on `clock`: tests pass a manual clock to move time instead of waiting.
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        tracing::info!(
            listen = %config.listen,
            database = %config.database_url,
            "starting gatehouse"
        );
        tracing::debug!(config = ?config, "effective configuration");
        for warning in config.exposure_warnings() {
            tracing::warn!("{warning}");
        }
        // Bound first, so that an address in use stops start-up before anything is built.
        let metrics_listener = match config.http.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (http.metrics_listen)"))?,
            ),
            None => None,
        };
        let db = gatehouse_core::db::connect(&config.database_url)
            .await
            .with_context(|| format!("cannot open the database {}", config.database_url))?;
        gatehouse_core::db::migrate(&db)
            .await
            .context("cannot apply the database migrations")?;
        let drafts = crate::documents::Drafts::load(config.templates.override_dir.as_deref())
            .context("cannot load the document templates")?;
        let vault = Arc::new(
            Vault::new(
                db.clone(),
                config.vault_key.as_ref(),
                config.vault.expiry_warning_days,
            )
            .map_err(|problem| anyhow::anyhow!("`vault_key` {problem}"))?
            .with_clock(clock.clone()),
        );
        if !vault.has_key() {
            tracing::warn!(
                "no vault_key configured (GATEHOUSE_VAULT_KEY): tokens and dataclip credentials cannot be recorded"
            );
        }
        let (cursors, cursor_key_origin) = crate::cursor::CursorKey::from_config(&config)
            .map_err(|problem| anyhow::anyhow!("{problem}"))?;
        match cursor_key_origin {
            crate::cursor::KeyOrigin::Configured => {}
            crate::cursor::KeyOrigin::DerivedFromVaultKey => tracing::info!(
                "pagination cursors are signed with a key derived from vault_key (set graphql.cursor_key to sign them with a key of their own)"
            ),
            crate::cursor::KeyOrigin::Random => tracing::warn!(
                "neither graphql.cursor_key nor vault_key is configured: pagination cursors are signed with a key made for this process, so they stop working at a restart and other instances refuse them"
            ),
        }
        let keys = KeyVerifier::new(db.clone(), clock.clone());
        let access = AccessRequests::new(
            db.clone(),
            &config.access,
            Arc::new(drafts),
            vault.clone(),
            keys.clone(),
        )
        .with_clock(clock.clone());
        let auth = &config.auth;
        let background = Background::new();
        let metering = Arc::new(gatehouse_core::metering::Metering::start(
            &config.metering,
            gatehouse_core::metering::SweepLimits {
                max_pages: config.graphql.max_live_pages,
                max_window_days: config
                    .graphql
                    .max_live_window_days
                    .min(config.upstream.max_date_window_days),
            },
            &config.upstream,
            config.access.policy(),
            db.clone(),
            &background,
        ));
        let facade = Arc::new(build_facade(
            &config,
            clock.clone(),
            vault.clone(),
            metering.observer(),
        )?);
        let dataclip_credentials = gatehouse_core::dataclips::credentials::VaultThenConfig {
            vault: vault.clone(),
            config: gatehouse_core::dataclips::credentials::ConfigCredentials::from_config(
                &config.dataclips,
            ),
        };
        let dataclips = Arc::new(
            gatehouse_core::dataclips::Dataclips::new(db.clone(), &config.dataclips)
                .context("cannot build the dataclips HTTP client")?
                .with_credentials(Arc::new(dataclip_credentials))
                .with_clock(clock.clone()),
        );
        let services = Arc::new(Services {
            facade,
            key_limits: gatehouse_core::facade::limits::KeyRateLimits::new(
                config.graphql.default_rate_per_minute,
            ),
            keys,
            vault,
            access,
            login_throttle: LoginThrottle::new(
                auth.login_attempts_per_minute,
                auth.login_attempts_per_minute_per_ip,
            ),
            client_limits: ClientLimits::new(
                config.http.rate_limits.user_per_minute,
                config.http.rate_limits.anonymous_per_minute,
            ),
            stash_limits: StashLimits::new(
                auth.stashes_per_address_per_hour,
                auth.stash_max_total_bytes,
            ),
            background,
            dataclips,
            metering,
            report_templates: crate::documents::ReportTemplates::load()
                .map_err(anyhow::Error::msg)
                .context("cannot load the usage report template")?,
            cursors,
            db,
            clock,
            config: Arc::new(config),
        });
        spawn_housekeeping(&services);
        services
            .dataclips
            .start(&services.background)
            .await
            .context("cannot start the dataclips scheduler")?;
        gatehouse_core::metering::spawn_job(
            &services.metering,
            services.db.clone(),
            &services.background,
        );
        let schema = crate::graphql::build_schema(services.clone());
        let web = Arc::new(crate::views::Views::load().context("cannot load the web views")?);
        Ok(Self {
            state: AppState {
                services,
                schema,
                metrics: crate::http::metrics::handle(),
                web,
            },
            metrics_listener,
        })
    }

    /// Where `/metrics` is served apart from the main listener (`http.metrics_listen`), if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The services, for the CLI and tests.
    pub fn services(&self) -> &Arc<Services> {
        &self.state.services
    }

    /// The router.
    pub fn router(&self) -> Router {
        crate::http::router(self.state.clone(), crate::web::routes(self.state.clone()))
    }

    /// Serves on `listener` (and on the metrics listener, when configured) until `shutdown`
    /// resolves; then stops accepting, gives in-flight requests `http.shutdown_grace_secs` to
    /// finish, closes the connections still open, flushes background work and closes the
    /// database. Connections are held to the limits of [`crate::http::server`].
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            state,
            metrics_listener,
        } = self;
        let http = &state.services.config.http;
        let grace = Duration::from_secs(http.shutdown_grace_secs);
        let limits = ConnectionLimits::from_config(http);
        let stop = CancellationToken::new();
        let main = crate::http::server::serve(
            listener,
            crate::http::router(state.clone(), crate::web::routes(state.clone())),
            limits,
            "main",
            stop.clone(),
        );
        let metrics = async {
            match metrics_listener {
                Some(listener) => {
                    let router = crate::http::metrics_router(state.clone());
                    crate::http::server::serve(listener, router, limits, "metrics", stop.clone())
                        .await
                }
                None => true,
            }
        };
        let servers = async { tokio::join!(main, metrics) };
        tokio::pin!(servers);
        let finished = tokio::select! {
            finished = &mut servers => finished,
            () = shutdown => {
                tracing::info!(grace_secs = grace.as_secs(), "shutting down: finishing in-flight requests");
                stop.cancel();
                servers.await
            }
        };
        if finished != (true, true) {
            tracing::warn!(
                "in-flight requests did not finish within the grace period; their connections were closed"
            );
        }
        let services = &state.services;
        if !services.background.drain(grace).await {
            tracing::warn!("background tasks did not finish within the grace period");
        }
        services.db.clone().close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }
}

/// The facade over the configured upstream: tokens from the vault first, then from the
/// configuration; calls reported to metrics and to the usage ledger (`ledger`, when metering
/// is on).
fn build_facade(
    config: &Config,
    clock: Clock,
    vault: Arc<Vault>,
    ledger: Option<Arc<dyn gatehouse_core::upstream::CallObserver>>,
) -> anyhow::Result<gatehouse_core::facade::Facade> {
    use gatehouse_core::upstream::observer::{MetricsObserver, Observers};
    use gatehouse_core::upstream::tokens::{ChainedTokens, ConfigTokens};
    let profile = Arc::new(config.upstream.clone());
    let tokens: Arc<dyn gatehouse_core::upstream::tokens::TokenSource> =
        Arc::new(ChainedTokens(vec![
            vault,
            Arc::new(ConfigTokens::new(config.upstream.tokens.clone())),
        ]));
    let mut observers: Vec<Arc<dyn gatehouse_core::upstream::CallObserver>> =
        vec![Arc::new(MetricsObserver)];
    observers.extend(ledger);
    let observers = Arc::new(Observers(observers));
    let client =
        gatehouse_core::upstream::UpstreamClient::over_http(profile, tokens.clone(), observers)
            .context("cannot build the upstream HTTP client")?;
    let cache = gatehouse_core::cache::UpstreamCache::with_clock(config.cache.clone(), clock);
    Ok(gatehouse_core::facade::Facade::new(client, cache, tokens))
}

/// Periodic clean-up: expired sessions, idempotency keys past their replay window, idle
/// throttle state.
fn spawn_housekeeping(services: &Arc<Services>) {
    let stop = services.background.shutdown_token();
    let services = Arc::clone(services);
    let task_services = Arc::clone(&services);
    services.background.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {
                    task_services.login_throttle.shrink();
                    task_services.client_limits.shrink();
                    task_services.stash_limits.shrink();
                    if let Err(error) = gatehouse_core::auth::sessions::purge_expired(&task_services.db, task_services.clock.now()).await {
                        tracing::warn!(error.message = %error, "could not purge expired sessions");
                    }
                    if let Err(error) = gatehouse_core::facade::idempotency::purge_expired(&task_services.db, task_services.clock.now()).await {
                        tracing::warn!(error.message = %error, "could not purge old idempotency keys");
                    }
                }
            }
        }
    });
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// An app serving in the background: what tests and the demo hold.
#[derive(Debug)]
pub struct RunningApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where `/metrics` is served apart, when `http.metrics_listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// Its services (database, config, ...).
    pub services: Arc<Services>,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningApp {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it gracefully and waits until it has.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await.context("the server task panicked")?
    }
}

/// Builds the app and serves it on `config.listen` (port 0 picks a free port).
pub async fn spawn(config: Config) -> anyhow::Result<RunningApp> {
    spawn_with_clock(config, Clock::system()).await
}

/// [`spawn`] on `clock`.
pub async fn spawn_with_clock(config: Config, clock: Clock) -> anyhow::Result<RunningApp> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = App::build_with_clock(config, clock).await?;
    let services = app.services().clone();
    let metrics_addr = app.metrics_addr();
    let stop = CancellationToken::new();
    let signal = stop.clone().cancelled_owned();
    let task = tokio::spawn(app.serve(listener, signal));
    Ok(RunningApp {
        addr,
        metrics_addr,
        services,
        stop,
        task,
    })
}
