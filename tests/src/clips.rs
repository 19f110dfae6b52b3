//! Dataclips for the tests: a simulator with a dataclip user, and the configuration that points
//! Gatehouse's clips at it.

use synchro_sim::{SimConfig, SimHandle};
use uuid::Uuid;

/// A simulator with a dataclip user `analyst` on its first project.
pub async fn simulator(config: SimConfig) -> (SimHandle, Uuid) {
    let sim = synchro_sim::spawn(config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("simulator starts");
    let project = sim.projects()[0].id;
    sim.create_dataclip_user("analyst", "secret", project, None)
        .await
        .expect("dataclip user");
    (sim, project)
}

/// The `[dataclips]` configuration of `clips` of `project` on `sim` (user `analyst`), with no
/// manual refresh floor, quick retries, a refresh cycle of `cycle_secs` and `extra` keys.
pub fn dataclips_toml(
    sim: &SimHandle,
    project: Uuid,
    clips: &[&str],
    cycle_secs: u64,
    extra: &str,
) -> String {
    let clips: Vec<String> = clips.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "[dataclips]\nbase_url = \"{}\"\nmanual_refresh_floor_secs = 0\nretry_min_delay_ms = 20\n\
         retry_max_delay_secs = 1\n{extra}\n[[dataclips.sources]]\nproject_id = \"{project}\"\n\
         clips = [{}]\nusername = \"analyst\"\npassword = \"secret\"\ncycle_secs = {cycle_secs}\n",
        sim.base_url(),
        clips.join(", ")
    )
}
