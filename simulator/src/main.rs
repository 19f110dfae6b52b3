//! The `synchro-sim` binary: serves a simulated SYNCHRO Perform tenant.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use synchro_sim::{
    DataSize, DataclipUserSpec, LatencyModel, PaginationStyle, ProjectRef, RateLimit, Scope,
    SimConfig, SizePreset, TokenSpec,
};
use uuid::Uuid;

/// A simulated Bentley SYNCHRO Perform tenant (REST API and Dataclips) with seeded data.
///
/// Every flag also reads an environment variable (`SYNCHRO_SIM_*`).
#[derive(Debug, Parser)]
#[command(name = "synchro-sim", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "SYNCHRO_SIM_LISTEN", default_value = "127.0.0.1:8900")]
    listen: SocketAddr,
    /// Seed of the generated data.
    #[arg(long, env = "SYNCHRO_SIM_SEED", default_value_t = 42)]
    seed: u64,
    /// Data size: small (tests), medium (realistic), large (1,000,000 usages per project).
    #[arg(long, env = "SYNCHRO_SIM_SIZE", value_enum, default_value = "medium")]
    size: SizePreset,
    /// Resource usages per project (overrides the size's; generated lazily, any number).
    #[arg(long, env = "SYNCHRO_SIM_USAGES")]
    usages: Option<u64>,
    /// Pagination style of the REST API.
    #[arg(
        long,
        env = "SYNCHRO_SIM_PAGINATION",
        value_enum,
        default_value = "page-number"
    )]
    pagination: PaginationStyle,
    /// Version prefix of the REST API.
    #[arg(long, env = "SYNCHRO_SIM_API_PREFIX", default_value = "/api/v1")]
    api_prefix: String,
    /// Per-token rate limit, requests per second (none when absent).
    #[arg(long, env = "SYNCHRO_SIM_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Burst of the rate limit (defaults to the rate).
    #[arg(long, env = "SYNCHRO_SIM_BURST")]
    burst: Option<u32>,
    /// Concurrent requests on heavy collections (usages, attendance) above which 503 is answered.
    #[arg(long, env = "SYNCHRO_SIM_HEAVY_LIMIT", default_value_t = 8)]
    heavy_limit: usize,
    /// Use the realistic latency model (40 ms + 0.2 ms/row + 2 ms/day of window).
    #[arg(long, env = "SYNCHRO_SIM_REALISTIC_LATENCY")]
    realistic_latency: bool,
    /// Base latency, milliseconds (overrides the model's).
    #[arg(long, env = "SYNCHRO_SIM_LATENCY_BASE_MS")]
    latency_base_ms: Option<u64>,
    /// Latency per row returned, microseconds.
    #[arg(long, env = "SYNCHRO_SIM_LATENCY_PER_ROW_US")]
    latency_per_row_us: Option<u64>,
    /// Latency per day of date window, milliseconds.
    #[arg(long, env = "SYNCHRO_SIM_LATENCY_PER_DAY_MS")]
    latency_per_day_ms: Option<u64>,
    /// Dataclip refresh period, seconds (4 hours in the product).
    #[arg(long, env = "SYNCHRO_SIM_DATACLIP_REFRESH", default_value_t = 14_400)]
    dataclip_refresh: u64,
    /// Directory uploads are written to (discarded when absent).
    #[arg(long, env = "SYNCHRO_SIM_UPLOAD_DIR")]
    upload_dir: Option<PathBuf>,
    /// Largest upload, bytes.
    #[arg(long, env = "SYNCHRO_SIM_UPLOAD_LIMIT", default_value_t = 5 * 1024 * 1024 * 1024)]
    upload_limit: u64,
    /// A token to create: `TOKEN:PROJECT:SCOPE` where PROJECT is a project id or a 0-based
    /// index and SCOPE is `read` or `write` (read write). Repeatable.
    #[arg(long = "token", env = "SYNCHRO_SIM_TOKENS", value_delimiter = ',')]
    tokens: Vec<String>,
    /// A dataclip user to create: `USER:PASSWORD:PROJECT` (all clips). Repeatable.
    #[arg(
        long = "dataclip-user",
        env = "SYNCHRO_SIM_DATACLIP_USERS",
        value_delimiter = ','
    )]
    dataclip_users: Vec<String>,
}

fn project_ref(text: &str) -> anyhow::Result<ProjectRef> {
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(ProjectRef::Id(id));
    }
    text.parse::<usize>()
        .map(ProjectRef::Index)
        .with_context(|| format!("`{text}` is neither a project id nor an index"))
}

impl Cli {
    fn config(&self) -> anyhow::Result<SimConfig> {
        let mut latency = if self.realistic_latency {
            LatencyModel::realistic()
        } else {
            LatencyModel::none()
        };
        if let Some(ms) = self.latency_base_ms {
            latency.base = Duration::from_millis(ms);
        }
        if let Some(us) = self.latency_per_row_us {
            latency.per_row = Duration::from_micros(us);
        }
        if let Some(ms) = self.latency_per_day_ms {
            latency.per_day = Duration::from_millis(ms);
        }
        let tokens = self
            .tokens
            .iter()
            .map(|spec| {
                let mut parts = spec.splitn(3, ':');
                let (Some(token), Some(project), Some(scope)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    anyhow::bail!("--token wants TOKEN:PROJECT:SCOPE, got `{spec}`");
                };
                let scope =
                    Scope::parse(scope).with_context(|| format!("unknown scope `{scope}`"))?;
                Ok(TokenSpec {
                    token: token.to_owned(),
                    project: project_ref(project)?,
                    scope,
                    label: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let dataclip_users = self
            .dataclip_users
            .iter()
            .map(|spec| {
                let mut parts = spec.splitn(3, ':');
                let (Some(user), Some(password), Some(project)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    anyhow::bail!("--dataclip-user wants USER:PASSWORD:PROJECT, got `{spec}`");
                };
                Ok(DataclipUserSpec {
                    username: user.to_owned(),
                    password: password.to_owned(),
                    project: project_ref(project)?,
                    clips: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut size = DataSize::preset(self.size);
        if let Some(usages) = self.usages {
            size = size.with_usages(usages);
        }
        Ok(SimConfig {
            seed: self.seed,
            size,
            pagination: self.pagination,
            api_prefix: self.api_prefix.clone(),
            rate_limit: self.rate_limit.map(|per_second| RateLimit {
                per_second,
                burst: self.burst.unwrap_or(per_second),
            }),
            heavy_concurrency_limit: self.heavy_limit,
            latency,
            dataclip_refresh: Duration::from_secs(self.dataclip_refresh.max(1)),
            upload_dir: self.upload_dir.clone(),
            upload_limit_bytes: self.upload_limit,
            tokens,
            dataclip_users,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let config = cli.config()?;
    let handle = synchro_sim::spawn(config, cli.listen).await?;
    println!("synchro-sim listening on {}", handle.base_url());
    println!("  REST API:  {}", handle.api_url());
    println!("  API docs:  {}/api", handle.base_url());
    println!(
        "  harness:   {}/_sim/projects, /_sim/stats, /_sim/faults",
        handle.base_url()
    );
    for project in handle.projects() {
        println!("  project {}  {}", project.id, project.name);
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_users_and_sizes_are_read_from_the_command_line() {
        let cli = Cli::try_parse_from([
            "synchro-sim",
            "--size",
            "large",
            "--usages",
            "2000",
            "--token",
            "abc:0:read",
            "--token",
            "def:1:write",
            "--dataclip-user",
            "me:pw:2",
            "--rate-limit",
            "5",
            "--pagination",
            "continuation",
        ])
        .expect("arguments parse");
        let config = cli.config().expect("config builds");
        assert_eq!(config.size.counts().usages, 2000);
        assert_eq!(config.tokens[1].scope, Scope::ReadWrite);
        assert_eq!(config.tokens[0].project, ProjectRef::Index(0));
        assert_eq!(config.dataclip_users[0].project, ProjectRef::Index(2));
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                per_second: 5,
                burst: 5
            })
        );
        assert_eq!(config.pagination, PaginationStyle::Continuation);
        let bad = Cli::try_parse_from(["synchro-sim", "--token", "abc:0"]).expect("parses");
        assert!(bad.config().is_err());
    }
}
