//! What the abuse tests measure: the process's CPU time and memory, from `/proc/self`, and
//! whether `/healthz` keeps answering while an attack runs.

use std::time::{Duration, Instant};

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are
    // space-separated: utime and stime are the 12th and 13th of them, in clock ticks, which the
    // kernel's ABI fixes at 100 per second for /proc.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

/// A line of `/proc/self/status`, in KiB.
fn status_kib(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
}

/// The resident set now, in MiB.
pub fn rss_mib() -> u64 {
    status_kib("VmRSS:") / 1024
}

/// The peak resident set since the process started (or since [`reset_peak`]), in MiB.
pub fn peak_rss_mib() -> u64 {
    status_kib("VmHWM:") / 1024
}

/// Resets the peak resident set to the current one (Linux 4.0 and later), so that the next
/// [`peak_rss_mib`] measures one attack.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What an attack cost the process.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// CPU time spent during the attack.
    pub cpu: Duration,
    /// How far the peak resident set rose above where it was before the attack, in MiB.
    pub peak_growth_mib: u64,
}

/// Runs `attack` and measures what it cost the process.
pub async fn measure<T>(attack: impl std::future::Future<Output = T>) -> (T, Cost) {
    let before_rss = rss_mib();
    reset_peak();
    let before_cpu = cpu_time();
    let out = attack.await;
    let cost = Cost {
        cpu: cpu_time().saturating_sub(before_cpu),
        peak_growth_mib: peak_rss_mib().saturating_sub(before_rss),
    };
    (out, cost)
}

/// `/healthz` probed every 20 ms while something else runs: how long each answer took.
#[derive(Debug)]
pub struct HealthProbe {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Vec<Duration>>,
}

impl HealthProbe {
    /// Starts probing `base` (the app's URL).
    pub fn start(base: &str) -> Self {
        let url = format!("{base}/healthz");
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let task = tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let started = Instant::now();
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(if ok { started.elapsed() } else { Duration::MAX });
                tokio::select! {
                    _ = stopped.changed() => break,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            latencies
        });
        Self { stop, task }
    }

    /// Stops probing; returns the latencies seen (`Duration::MAX` for a failed probe).
    pub async fn finish(self) -> Vec<Duration> {
        let _ = self.stop.send(true);
        self.task.await.expect("probe task")
    }
}

/// Asserts that `/healthz` answered every probe while an attack ran, and the median probe
/// within 100 ms. A wall-clock bound, but on a figure that is about a millisecond when the
/// server is not starved: the median leaves room for a loaded machine's odd stall, while an
/// attack that blocks the server's threads (as the amplifying form did, for 13.6 s) fails it.
pub fn assert_healthy(latencies: &[Duration]) {
    assert!(!latencies.is_empty(), "/healthz was probed");
    assert!(
        latencies.iter().all(|l| *l != Duration::MAX),
        "/healthz failed during the attack: {latencies:?}"
    );
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    assert!(
        median <= Duration::from_millis(100),
        "/healthz took {median:?} (median) during the attack: {sorted:?}"
    );
}
