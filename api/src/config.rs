//! Gatehouse's configuration: one typed [`Config`], layered.
//!
//! Layers, later ones winning:
//! 1. the defaults below ([`Config::default`]);
//! 2. an optional TOML file (`--config PATH`);
//! 3. environment variables `GATEHOUSE_<KEY>`, with `__` between nested keys
//!    (`GATEHOUSE_LISTEN`, `GATEHOUSE_DATABASE_URL`, `GATEHOUSE_LOG__FORMAT`, ...);
//! 4. command-line flags (`--listen`, `--database-url`, `--log-format`).
//!
//! Every key is documented once, in `config.example.toml` at the repository root. Unknown keys and
//! bad values are refused at start-up with a message that names the key. Secrets (the database
//! password, the vault key) are redacted in every `Debug` output, so the whole config can be logged.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

pub use gatehouse_core::access::AccessConfig;
pub use gatehouse_core::dataclips::{ClipFormat, DataclipSourceConfig, DataclipsConfig};
pub use gatehouse_core::db::{DatabaseUrl, sqlite_path};
pub use gatehouse_core::vault::{VaultConfig, VaultKey};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Environment variables with the `GATEHOUSE_` prefix that are not configuration keys.
const NON_CONFIG_ENV: &[&str] = &["demo_key", "password", "config"];

/// The whole configuration of a Gatehouse process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where Gatehouse keeps its data: `sqlite://PATH` (the default, a file created on first run)
    /// or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub database_url: DatabaseUrl,
    /// Logging.
    pub log: LogConfig,
    /// HTTP server limits.
    pub http: HttpConfig,
    /// GraphQL limits.
    pub graphql: GraphqlConfig,
    /// Users, sessions and app keys.
    pub auth: AuthConfig,
    /// The upstream SYNCHRO Perform tenant's REST API.
    pub upstream: gatehouse_core::upstream::UpstreamProfile,
    /// The read cache in front of the upstream.
    pub cache: gatehouse_core::cache::CacheConfig,
    /// The thresholds of access-request assessments.
    pub access: AccessConfig,
    /// The document templates (support-request drafts, dataclip requests).
    pub templates: TemplatesConfig,
    /// The vault of issued tokens and dataclip credentials.
    pub vault: VaultConfig,
    /// The key that encrypts the vault: base64 of 32 random bytes (`GATEHOUSE_VAULT_KEY`).
    /// Without it Gatehouse starts, but refuses to store secrets. Redacted in `Debug`.
    pub vault_key: Option<VaultKey>,
    /// Dataclips: the sources Gatehouse pulls snapshots from, and how.
    pub dataclips: DataclipsConfig,
    /// The usage ledger, rollups, findings and alerts.
    pub metering: gatehouse_core::metering::MeteringConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DatabaseUrl::new("sqlite://gatehouse.db"),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            graphql: GraphqlConfig::default(),
            auth: AuthConfig::default(),
            upstream: gatehouse_core::upstream::UpstreamProfile::default(),
            cache: gatehouse_core::cache::CacheConfig::default(),
            access: AccessConfig::default(),
            templates: TemplatesConfig::default(),
            vault: VaultConfig::default(),
            vault_key: None,
            dataclips: DataclipsConfig::default(),
            metering: gatehouse_core::metering::MeteringConfig::default(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter directive, e.g. `info` or `info,gatehouse=debug`. `RUST_LOG` wins if set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".to_owned(),
        }
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest request body accepted on ordinary routes, in bytes.
    pub max_body_bytes: usize,
    /// Largest upload accepted by a GraphQL multipart request, in bytes.
    pub max_upload_bytes: u64,
    /// Largest web form accepted, in bytes.
    pub max_form_bytes: usize,
    /// Most fields (name-value pairs) one web form may hold.
    pub max_form_fields: usize,
    /// Time a request may take before it is answered with 408, in seconds.
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests get to finish, in seconds.
    pub shutdown_grace_secs: u64,
    /// Time a client has to send a request's head (request line and headers) in full, in
    /// seconds: from accept on a new connection, from the head's first byte on a kept-alive one.
    /// A slower client is disconnected.
    pub header_read_timeout_secs: u64,
    /// Time a kept-alive connection may wait for its next request, with none in flight, before it
    /// is closed, in seconds.
    pub idle_timeout_secs: u64,
    /// Most connections open at once on each listener; clients beyond it wait in the kernel's
    /// listen backlog until one closes.
    pub max_connections: usize,
    /// A second, internal address that serves `/metrics` (and nothing else); when set, the main
    /// listener answers `/metrics` with 404.
    pub metrics_listen: Option<SocketAddr>,
    /// When set, `/metrics` needs `Authorization: Bearer <token>` (401 otherwise), on whichever
    /// listener serves it. Redacted in `Debug`.
    pub metrics_token: Option<MetricsToken>,
    /// Trusted reverse proxies in front of Gatehouse: 0 (the default) takes a client's address
    /// from the connection; N takes the Nth entry from the right of `X-Forwarded-For`. Set it
    /// to the number of proxies that append to that header, never more: entries further left
    /// are the client's own claims.
    pub forwarded_for_hops: usize,
    /// Requests per minute per signed-in user and per anonymous client address.
    pub rate_limits: RateLimitsConfig,
}

/// Requests per minute of callers other than app keys (whose rates are their own).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// Requests per minute one signed-in user may make (pages and GraphQL).
    pub user_per_minute: u32,
    /// Requests per minute one client address without credentials may make.
    pub anonymous_per_minute: u32,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            user_per_minute: 600,
            anonymous_per_minute: 300,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            max_form_bytes: 256 * 1024,
            max_form_fields: 1_000,
            request_timeout_secs: 60,
            shutdown_grace_secs: 30,
            forwarded_for_hops: 0,
            rate_limits: RateLimitsConfig::default(),
            header_read_timeout_secs: 10,
            // Longer than the 60 s idle timeout of common load balancers (AWS ALB's default), so
            // that the balancer closes idle connections first: a backend that closes first races
            // the balancer's next request on that connection and turns it into a 502.
            idle_timeout_secs: 75,
            max_connections: 1024,
            metrics_listen: None,
            metrics_token: None,
        }
    }
}

/// The bearer token `/metrics` asks for (`http.metrics_token`). Never shown in `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct MetricsToken(SecretString);

impl MetricsToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// Whether `presented` is the token, compared in constant time.
    pub fn admits(&self, presented: &str) -> bool {
        gatehouse_core::auth::secrets::constant_time_eq(presented, self.0.expose_secret())
    }

    fn problem(&self) -> Option<&'static str> {
        let token = self.0.expose_secret();
        if token.chars().count() < 16 {
            Some("must be at least 16 characters (e.g. `openssl rand -hex 24`)")
        } else if !token.chars().all(|c| c.is_ascii_graphic()) {
            Some("must be printable ASCII without spaces")
        } else {
            None
        }
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken([REDACTED])")
    }
}

/// GraphQL limits, applied before execution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlConfig {
    /// Deepest selection-set nesting allowed.
    pub max_depth: usize,
    /// Most aliased fields allowed in one operation.
    pub max_aliases: usize,
    /// Most fields one operation may select once its fragment spreads are expanded (a
    /// fragment spread twice counts twice). Bounds the work of validation and execution, which
    /// walk every spread; graphql-js's introspection query expands to about 200.
    pub max_fields: usize,
    /// Longest query text allowed, in bytes.
    pub max_query_bytes: usize,
    /// async-graphql's complexity ceiling, a backstop behind the cost estimate.
    pub max_complexity: usize,
    /// Largest `first` a connection accepts.
    pub max_page_size: u32,
    /// `first` when a client does not give one.
    pub default_page_size: u32,
    /// GraphQL operations per minute for an app key without its own rate.
    pub default_rate_per_minute: u32,
    /// Most estimated cost (score) of one operation for an app key without its own budget.
    pub default_cost_budget: u64,
    /// Longest date window a live list may ask for, in days; longer belongs to Dataclips.
    pub max_live_window_days: u32,
    /// Most upstream pages one operation may sweep live; more belongs to Dataclips.
    pub max_live_pages: u64,
    /// Serve GraphiQL to browsers that GET `/graphql`.
    pub graphiql: bool,
    /// The key that signs pagination cursors: base64 of 32 random bytes
    /// (`GATEHOUSE_GRAPHQL__CURSOR_KEY`). Without it the key is derived from `vault_key`, else
    /// made at random for the process (cursors then die with it). Redacted in `Debug`.
    pub cursor_key: Option<SigningKey>,
    /// Who may introspect the schema (`__schema`, `__type`): `always`, `authenticated` (app keys
    /// and signed-in users) or `never`. `__typename` always answers.
    pub introspection: Introspection,
}

/// Who may introspect the GraphQL schema (`graphql.introspection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Introspection {
    /// Anyone, signed in or not (the demo).
    Always,
    /// App keys and signed-in users; anonymous callers are refused (the default).
    #[default]
    Authenticated,
    /// Nobody: clients build against the published schema (`api/schema.graphql`).
    Never,
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_aliases: 30,
            max_fields: 2_000,
            max_query_bytes: 32 * 1024,
            max_complexity: 10_000,
            max_page_size: 100,
            default_page_size: 20,
            default_rate_per_minute: 600,
            default_cost_budget: 1_000,
            max_live_window_days: 31,
            max_live_pages: 10,
            graphiql: true,
            cursor_key: None,
            introspection: Introspection::default(),
        }
    }
}

/// Accounts, sessions and app keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of a web session, in hours.
    pub session_ttl_hours: u64,
    /// Mark cookies `Secure`. Unset: `Secure` unless `listen` is a loopback address (see
    /// [`Config::cookies_secure`]).
    pub cookie_secure: Option<bool>,
    /// Failed-or-not sign-in attempts allowed per account from one client address per minute.
    pub login_attempts_per_minute: u32,
    /// Sign-in attempts allowed per client address per minute.
    pub login_attempts_per_minute_per_ip: u32,
    /// Forms kept for sign-in (posted after a session expired) per client address per hour.
    pub stashes_per_address_per_hour: u32,
    /// Bytes all kept forms may hold together; past it, a form is not kept.
    pub stash_max_total_bytes: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_hours: 12,
            cookie_secure: None,
            login_attempts_per_minute: 5,
            login_attempts_per_minute_per_ip: 30,
            stashes_per_address_per_hour: 10,
            stash_max_total_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Where document templates come from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// A directory of `.hbs` files that replace the built-in templates of the same name. Each
    /// is compiled and rendered against a sample at start-up; a bad one stops start-up.
    pub override_dir: Option<PathBuf>,
}

/// A key that signs (HMAC-SHA256) rather than encrypts: base64 of 32 bytes. Never shown in
/// `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SigningKey(SecretString);

impl SigningKey {
    /// Wraps a base64 key (checked by [`SigningKey::bytes`]).
    pub fn new(base64: impl Into<String>) -> Self {
        Self(SecretString::from(base64.into()))
    }

    /// The 32 key bytes, or why the value is not a key.
    pub fn bytes(&self) -> Result<[u8; 32], String> {
        gatehouse_core::vault::key_bytes(&self.0)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--log-format`.
    pub log_format: Option<LogFormat>,
}

/// A configuration that could not be loaded; the message names the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Whether cookies are `Secure`: as `auth.cookie_secure` says, else unless Gatehouse
    /// listens on a loopback address (a local demo over plain HTTP, where a `Secure` cookie
    /// would never come back).
    pub fn cookies_secure(&self) -> bool {
        self.auth
            .cookie_secure
            .unwrap_or_else(|| !self.listen.ip().is_loopback())
    }

    /// Loads the configuration from every layer, reading the process environment.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::figment(file, overrides, Env::prefixed("GATEHOUSE_"))
    }

    /// Loads the configuration from defaults, a TOML string and overrides only: for tests.
    pub fn from_toml(toml: &str, overrides: &Overrides) -> Result<Self, ConfigError> {
        let figment = Figment::new().merge(Toml::string(toml));
        Self::finish(apply_overrides(figment, overrides))
    }

    fn figment(file: Option<&Path>, overrides: &Overrides, env: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "the config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = env.split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            !NON_CONFIG_ENV.contains(&key.as_str()) && !key.starts_with("test_")
        });
        figment = figment.merge(env);
        Self::finish(apply_overrides(figment, overrides))
    }

    fn finish(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|error| {
            // figment's messages name the key ("for key `default.listen`") and the layer it came
            // from; the profile prefix is noise here.
            let mut messages = Vec::new();
            for e in error {
                messages.push(e.to_string().replace("`default.", "`"));
            }
            ConfigError(messages.join("; "))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values that types alone cannot.
    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url.expose();
        if !(url.starts_with("sqlite:") || self.database_url.is_postgres()) {
            return Err(ConfigError(format!(
                "`database_url` must start with sqlite:// or postgres://, got {}",
                self.database_url.redacted()
            )));
        }
        if let Some(problem) = self
            .http
            .metrics_token
            .as_ref()
            .and_then(MetricsToken::problem)
        {
            return Err(ConfigError(format!("`http.metrics_token` {problem}")));
        }
        if let Some(key) = &self.vault_key {
            key.bytes().map_err(|problem| {
                ConfigError(format!(
                    "`vault_key` {problem}: give base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
                ))
            })?;
        }
        if let Some(key) = &self.graphql.cursor_key {
            key.bytes().map_err(|problem| {
                ConfigError(format!(
                    "`graphql.cursor_key` {problem}: give base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
                ))
            })?;
        }
        let access = &self.access;
        let graphql = &self.graphql;
        let checks: Vec<(&str, bool, &str)> = vec![
            (
                "graphql.default_page_size",
                (1..=graphql.max_page_size).contains(&graphql.default_page_size),
                "between 1 and graphql.max_page_size",
            ),
            (
                "graphql.default_rate_per_minute",
                graphql.default_rate_per_minute >= 1,
                "at least 1",
            ),
            (
                "graphql.default_cost_budget",
                graphql.default_cost_budget >= 1,
                "at least 1",
            ),
            (
                "cache.max_bytes",
                self.cache.max_bytes >= 1024 * 1024,
                "at least 1 MiB",
            ),
            (
                "graphql.max_depth",
                self.graphql.max_depth >= 2,
                "at least 2",
            ),
            (
                "graphql.max_aliases",
                self.graphql.max_aliases >= 1,
                "at least 1",
            ),
            (
                "access.limits.max_workflows",
                (1..=gatehouse_core::access::input::MAX_WORKFLOWS_CEILING)
                    .contains(&self.access.limits.max_workflows),
                "between 1 and 100",
            ),
            (
                "access.limits.max_list_items",
                (1..=1000).contains(&self.access.limits.max_list_items),
                "between 1 and 1000",
            ),
            (
                "access.limits.max_short_text_chars",
                (20..=10_000).contains(&self.access.limits.max_short_text_chars),
                "between 20 and 10000",
            ),
            (
                "access.limits.max_long_text_chars",
                (200..=100_000).contains(&self.access.limits.max_long_text_chars),
                "between 200 and 100000",
            ),
            (
                "graphql.max_fields",
                self.graphql.max_fields >= 16,
                "at least 16",
            ),
            (
                "graphql.max_query_bytes",
                self.graphql.max_query_bytes >= 256,
                "at least 256",
            ),
            (
                "graphql.max_page_size",
                (1..=1000).contains(&self.graphql.max_page_size),
                "between 1 and 1000",
            ),
            (
                "http.max_form_bytes",
                self.http.max_form_bytes >= 16 * 1024,
                "at least 16384",
            ),
            (
                "http.max_form_fields",
                self.http.max_form_fields >= 100,
                "at least 100",
            ),
            (
                "http.max_body_bytes",
                self.http.max_body_bytes >= 1024,
                "at least 1024",
            ),
            (
                "http.header_read_timeout_secs",
                (1..=300).contains(&self.http.header_read_timeout_secs),
                "between 1 and 300",
            ),
            (
                "http.idle_timeout_secs",
                (1..=3600).contains(&self.http.idle_timeout_secs),
                "between 1 and 3600",
            ),
            (
                "http.max_connections",
                (1..=1_000_000).contains(&self.http.max_connections),
                "between 1 and 1000000",
            ),
            (
                "http.metrics_listen",
                self.http
                    .metrics_listen
                    .is_none_or(|addr| addr.port() == 0 || addr != self.listen),
                "an address other than `listen`",
            ),
            (
                "auth.session_ttl_hours",
                self.auth.session_ttl_hours >= 1,
                "at least 1",
            ),
            (
                "auth.login_attempts_per_minute",
                self.auth.login_attempts_per_minute >= 1,
                "at least 1",
            ),
            (
                "access.min_description_chars",
                access.min_description_chars >= 1,
                "at least 1",
            ),
            (
                "access.heavy_poll_max_runs_per_day",
                access.heavy_poll_max_runs_per_day >= 1,
                "at least 1",
            ),
            (
                "access.average_record_bytes",
                access.average_record_bytes >= 1,
                "at least 1",
            ),
            (
                "access.on_demand_active_minutes",
                (1..=1440).contains(&access.on_demand_active_minutes),
                "between 1 and 1440",
            ),
            (
                "access.large_records_per_day",
                access.large_records_per_day >= 1 && access.bulk_read_records_per_day >= 1,
                "at least 1 (and so must access.bulk_read_records_per_day)",
            ),
            (
                "vault.expiry_warning_days",
                self.vault.expiry_warning_days <= 366,
                "at most 366",
            ),
        ];
        self.upstream.validate().map_err(ConfigError)?;
        self.metering.validate().map_err(ConfigError)?;
        for (key, ok, expected) in checks {
            if !ok {
                return Err(ConfigError(format!("`{key}` must be {expected}")));
            }
        }
        self.validate_dataclips()
    }

    fn validate_dataclips(&self) -> Result<(), ConfigError> {
        let d = &self.dataclips;
        match url::Url::parse(&d.base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(ConfigError(format!(
                    "`dataclips.base_url` must be an http(s) URL, got {:?}",
                    d.base_url
                )));
            }
        }
        let checks: [(&str, bool, &str); 5] = [
            (
                "dataclips.keep_snapshots",
                d.keep_snapshots >= 1,
                "at least 1",
            ),
            (
                "dataclips.batch_rows",
                (1..=20_000).contains(&d.batch_rows),
                "between 1 and 20000",
            ),
            (
                "dataclips.max_concurrent_ingests",
                (1..=64).contains(&d.max_concurrent_ingests),
                "between 1 and 64",
            ),
            (
                "dataclips.retry_attempts",
                d.retry_attempts >= 1,
                "at least 1",
            ),
            (
                "dataclips.read_timeout_secs",
                d.read_timeout_secs >= 1,
                "at least 1",
            ),
        ];
        for (key, ok, expected) in checks {
            if !ok {
                return Err(ConfigError(format!("`{key}` must be {expected}")));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, source) in d.sources.iter().enumerate() {
            let key = format!("dataclips.sources[{i}]");
            if source.project_id.trim().is_empty() {
                return Err(ConfigError(format!("`{key}.project_id` must not be empty")));
            }
            if source.clips.is_empty() {
                return Err(ConfigError(format!(
                    "`{key}.clips` must name at least one clip"
                )));
            }
            for clip in &source.clips {
                let valid = !clip.is_empty()
                    && clip
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !valid {
                    return Err(ConfigError(format!(
                        "`{key}.clips`: {clip:?} is not a clip slug (lowercase letters, digits, -)"
                    )));
                }
                if !seen.insert((source.project_id.clone(), clip.clone())) {
                    return Err(ConfigError(format!(
                        "`{key}.clips`: {clip} of project {} is configured twice",
                        source.project_id
                    )));
                }
            }
            if source.cycle_secs == Some(0) {
                return Err(ConfigError(format!(
                    "`{key}.cycle_secs` must be at least 1"
                )));
            }
            let cycle = source.cycle().as_secs();
            if let Some(refresh) = source.refresh_secs
                && refresh < cycle
            {
                return Err(ConfigError(format!(
                    "`{key}.refresh_secs` is {refresh}, shorter than the clips' refresh cycle of \
                     {cycle} seconds: a dataclip is never fetched more often than it refreshes"
                )));
            }
        }
        Ok(())
    }

    /// Settings that are valid but unwise where strangers can reach the server: each a sentence
    /// for the start-up log.
    pub fn exposure_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.listen.ip().is_loopback() {
            return warnings;
        }
        let http = &self.http;
        if http.metrics_listen.is_none() && http.metrics_token.is_none() {
            warnings.push(format!(
                "/metrics is open to anyone who can reach {}: set http.metrics_listen (an \
                 internal address) or http.metrics_token",
                self.listen
            ));
        }
        if self.graphql.introspection == Introspection::Always {
            warnings.push(format!(
                "anonymous callers on {} may introspect the GraphQL schema: set \
                 graphql.introspection to \"authenticated\" or \"never\"",
                self.listen
            ));
        }
        warnings
    }

    /// Where a SQLite database lives, when the URL names a file.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        sqlite_path(self.database_url.expose())
    }
}

fn apply_overrides(mut figment: Figment, overrides: &Overrides) -> Figment {
    if let Some(listen) = overrides.listen {
        figment = figment.merge(Serialized::default("listen", listen.to_string()));
    }
    if let Some(url) = &overrides.database_url {
        figment = figment.merge(Serialized::default("database_url", url));
    }
    if let Some(format) = overrides.log_format {
        let name = match format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        figment = figment.merge(Serialized::default("log.format", name));
    }
    figment
}

#[cfg(test)]
mod tests {
    use gatehouse_compliance::AssessmentPolicy;

    use super::*;

    #[test]
    fn defaults_load_without_any_layer() {
        let config = Config::from_toml("", &Overrides::default()).expect("defaults are valid");
        assert_eq!(config.listen.port(), 8080);
        assert!(!config.database_url.is_postgres());
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_name() {
        let error = Config::from_toml("[graphql]\nmax_deph = 3\n", &Overrides::default())
            .expect_err("typo must be refused");
        assert!(error.to_string().contains("max_deph"), "{error}");
    }

    #[test]
    fn a_bad_value_is_refused_with_its_key() {
        let error = Config::from_toml("listen = \"not an address\"\n", &Overrides::default())
            .expect_err("bad address must be refused");
        assert!(error.to_string().contains("listen"), "{error}");
        let error = Config::from_toml("[graphql]\nmax_page_size = 0\n", &Overrides::default())
            .expect_err("zero page size must be refused");
        assert!(
            error.to_string().contains("graphql.max_page_size"),
            "{error}"
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let overrides = Overrides {
            listen: Some("127.0.0.1:9999".parse().expect("address")),
            database_url: Some("sqlite://flag.db".to_owned()),
            log_format: Some(LogFormat::Json),
        };
        let config = Config::from_toml(
            "listen = \"127.0.0.1:1111\"\ndatabase_url = \"sqlite://file.db\"\n",
            &overrides,
        )
        .expect("valid");
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.database_url.expose(), "sqlite://flag.db");
        assert_eq!(config.log.format, LogFormat::Json);
    }

    #[test]
    fn environment_variables_fill_nested_keys_and_ignore_non_config_names() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GATEHOUSE_LOG__FORMAT", "json");
            jail.set_env("GATEHOUSE_DEMO_KEY", "not a config key");
            jail.set_env("GATEHOUSE_TEST_PG_URL", "postgres://x");
            let config = Config::load(None, &Overrides::default()).expect("valid");
            assert_eq!(config.log.format, LogFormat::Json);
            jail.set_env("GATEHOUSE_LISTN", "127.0.0.1:1");
            let error = Config::load(None, &Overrides::default()).expect_err("typo refused");
            assert!(error.to_string().contains("listn"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn the_database_password_never_shows_in_debug_output() {
        let config = Config::from_toml(
            "database_url = \"postgres://gate:hunter2-secret@db:5432/gatehouse\"\n",
            &Overrides::default(),
        )
        .expect("valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("db:5432"), "{shown}");
    }

    #[test]
    fn the_committed_example_config_is_valid() {
        let example = include_str!("../../config.example.toml");
        Config::from_toml(example, &Overrides::default()).expect("config.example.toml loads");
    }

    #[test]
    fn the_access_thresholds_default_to_the_compliance_policy_and_can_be_changed() {
        let config = Config::from_toml("", &Overrides::default()).expect("defaults are valid");
        assert_eq!(config.access.policy(), AssessmentPolicy::default());
        let config = Config::from_toml(
            "[access]\nbulk_read_records_per_day = 100\n",
            &Overrides::default(),
        )
        .expect("valid");
        assert_eq!(config.access.policy().bulk_read_records_per_day, 100);
        let error = Config::from_toml(
            "[access]\non_demand_active_minutes = 0\n",
            &Overrides::default(),
        )
        .expect_err("zero minutes refused");
        assert!(
            error
                .to_string()
                .contains("access.on_demand_active_minutes"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_metering_value_is_refused_with_its_key() {
        let error = Config::from_toml("[metering]\nbatch_max_records = 0\n", &Overrides::default())
            .expect_err("an empty batch must be refused");
        assert!(
            error.to_string().contains("metering.batch_max_records"),
            "{error}"
        );
    }

    #[test]
    fn a_vault_key_must_be_32_bytes_of_base64_and_never_shows_in_debug_output() {
        let error = Config::from_toml("vault_key = \"c2hvcnQ=\"\n", &Overrides::default())
            .expect_err("a short key is refused");
        assert!(error.to_string().contains("`vault_key`"), "{error}");
        assert!(!error.to_string().contains("c2hvcnQ="), "{error}");
        let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let config = Config::from_toml(&format!("vault_key = \"{key}\"\n"), &Overrides::default())
            .expect("a 32-byte key is valid");
        assert_eq!(
            config.vault_key.as_ref().map(|k| k.bytes().is_ok()),
            Some(true)
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains(key), "{shown}");
    }

    #[test]
    fn a_cursor_key_must_be_32_bytes_of_base64_and_never_shows_in_debug_output() {
        let error = Config::from_toml(
            "[graphql]\ncursor_key = \"c2hvcnQ=\"\n",
            &Overrides::default(),
        )
        .expect_err("a short key is refused");
        assert!(
            error.to_string().contains("`graphql.cursor_key`"),
            "{error}"
        );
        assert!(!error.to_string().contains("c2hvcnQ="), "{error}");
        let key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
        let config = Config::from_toml(
            &format!("[graphql]\ncursor_key = \"{key}\"\n"),
            &Overrides::default(),
        )
        .expect("a 32-byte key is valid");
        assert_eq!(
            config
                .graphql
                .cursor_key
                .as_ref()
                .map(|k| k.bytes().is_ok()),
            Some(true)
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains(key), "{shown}");
    }

    #[test]
    fn a_dataclip_refresh_shorter_than_the_cycle_is_refused_with_its_key() {
        let toml = "[[dataclips.sources]]\nproject_id = \"p\"\nclips = [\"activity-export\"]\n\
                    username = \"u\"\npassword = \"p\"\nrefresh_secs = 3600\n";
        let error = Config::from_toml(toml, &Overrides::default()).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("dataclips.sources[0].refresh_secs"),
            "{error}"
        );
        let ok = format!("{toml}cycle_secs = 60\n");
        let config =
            Config::from_toml(&ok, &Overrides::default()).expect("a shorter cycle allows it");
        assert_eq!(
            config.dataclips.sources[0].refresh_interval().as_secs(),
            3600
        );
    }

    #[test]
    fn a_dataclip_source_defaults_to_its_four_hour_cycle_and_hides_its_password() {
        let toml = "[[dataclips.sources]]\nproject_id = \"p\"\nclips = [\"activity-export\"]\n\
                    username = \"u\"\npassword = \"dataclip-secret-pw\"\n";
        let config = Config::from_toml(toml, &Overrides::default()).expect("valid");
        assert_eq!(
            config.dataclips.sources[0].refresh_interval().as_secs(),
            4 * 3600
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("dataclip-secret-pw"), "{shown}");
    }

    #[test]
    fn a_short_metrics_token_is_refused_by_its_key_and_a_good_one_never_shows_in_debug_output() {
        let error = Config::from_toml("[http]\nmetrics_token = \"short\"\n", &Overrides::default())
            .expect_err("a short token is refused");
        assert!(
            error.to_string().contains("`http.metrics_token`"),
            "{error}"
        );
        assert!(!error.to_string().contains("short\""), "{error}");
        let token = "metrics-token-0123456789abcdef";
        let config = Config::from_toml(
            &format!("[http]\nmetrics_token = \"{token}\"\n"),
            &Overrides::default(),
        )
        .expect("a long token is valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains(token), "{shown}");
        let held = config.http.metrics_token.expect("token");
        assert!(held.admits(token));
        assert!(!held.admits("metrics-token-0123456789abcdeF"));
    }

    #[test]
    fn connection_limits_out_of_range_are_refused_with_their_keys() {
        for (toml, key) in [
            (
                "[http]\nheader_read_timeout_secs = 0\n",
                "http.header_read_timeout_secs",
            ),
            ("[http]\nidle_timeout_secs = 0\n", "http.idle_timeout_secs"),
            ("[http]\nmax_connections = 0\n", "http.max_connections"),
            (
                "listen = \"127.0.0.1:9000\"\n[http]\nmetrics_listen = \"127.0.0.1:9000\"\n",
                "http.metrics_listen",
            ),
        ] {
            let error = Config::from_toml(toml, &Overrides::default()).expect_err(toml);
            assert!(error.to_string().contains(key), "{toml}: {error}");
        }
    }

    #[test]
    fn introspection_defaults_to_authenticated_and_refuses_an_unknown_policy_by_its_key() {
        let config = Config::from_toml("", &Overrides::default()).expect("defaults are valid");
        assert_eq!(config.graphql.introspection, Introspection::Authenticated);
        let config = Config::from_toml(
            "[graphql]\nintrospection = \"never\"\n",
            &Overrides::default(),
        )
        .expect("valid");
        assert_eq!(config.graphql.introspection, Introspection::Never);
        let error = Config::from_toml(
            "[graphql]\nintrospection = \"sometimes\"\n",
            &Overrides::default(),
        )
        .expect_err("refused");
        assert!(
            error.to_string().contains("graphql.introspection"),
            "{error}"
        );
    }

    #[test]
    fn an_open_metrics_endpoint_or_open_introspection_on_a_public_listener_is_warned_about() {
        let public = "listen = \"0.0.0.0:8080\"\n";
        let config = Config::from_toml(public, &Overrides::default()).expect("valid");
        let warnings = config.exposure_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("/metrics"), "{warnings:?}");

        let config = Config::from_toml(
            &format!("{public}[http]\nmetrics_listen = \"127.0.0.1:9100\"\n[graphql]\nintrospection = \"always\"\n"),
            &Overrides::default(),
        )
        .expect("valid");
        let warnings = config.exposure_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("introspect"), "{warnings:?}");

        let config = Config::from_toml(
            "[graphql]\nintrospection = \"always\"\n",
            &Overrides::default(),
        )
        .expect("valid");
        assert!(
            config.exposure_warnings().is_empty(),
            "a loopback listener is not exposed"
        );
    }
}
