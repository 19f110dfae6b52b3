//! Tracing, set up once per process: readable lines by default, JSON with `log.format = "json"`.
//! `RUST_LOG`, when set, overrides `log.filter`. Logs go to stderr. See `docs/LOGGING.md` for the conventions.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. Calling it again (tests) is harmless: the first one stays.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        // Logs go to stderr; stdout carries command output (keys, the schema, URLs).
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true);
    let result = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // An error only means a subscriber is already installed (in tests); keep it.
    drop(result);
}
