//! The few facts of the upstream profile that the rules need: page sizes, the pace a
//! well-behaved client keeps, and the longest date window the upstream accepts.

use serde::{Deserialize, Serialize};

/// The upstream facts the rules depend on. The api crate fills this from its configured
/// upstream profile; the defaults match the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct UpstreamProfile {
    /// Records per page when the client does not ask for more.
    pub default_page_size: u32,
    /// The largest page the upstream serves.
    pub max_page_size: u32,
    /// Upstream calls per minute a token may make (the rate budget a client paces itself to).
    pub calls_per_minute: u32,
    /// The longest `from`/`to` window of a dated collection, in days.
    pub max_date_window_days: u32,
}

impl Default for UpstreamProfile {
    fn default() -> Self {
        UpstreamProfile {
            default_page_size: 50,
            max_page_size: 200,
            calls_per_minute: 120,
            max_date_window_days: 62,
        }
    }
}

impl UpstreamProfile {
    /// Pages needed to read `rows` records at `page_size` records a page (a page size of 0
    /// counts as 1).
    pub fn pages(rows: u64, page_size: u32) -> u64 {
        rows.div_ceil(u64::from(page_size.max(1)))
    }
}
