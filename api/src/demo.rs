//! `gatehouse demo`: Gatehouse against an in-process simulator, with seeded data, one demo user
//! per role and a demo app key, so that everything can be tried in a minute.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Context as _;
use gatehouse_compliance::Entity;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;
use synchro_sim::{SimConfig, SimHandle};

use crate::config::Config;
use gatehouse_core::audit::Actor;
use gatehouse_core::auth::app_keys::{self, NewAppKey};
use gatehouse_core::auth::{Access, KeyScopes, Role, users};

/// The demo users' password (the demo database is for trying Gatehouse, not for real data).
pub const DEMO_PASSWORD: &str = "gatehouse-demo-password";

/// The demo's vault key when `GATEHOUSE_VAULT_KEY` is not set, so that recording a token works
/// in the demo. Like [`DEMO_PASSWORD`], it is public: never put a real secret in the demo.
pub const DEMO_VAULT_KEY: &str = "Z2F0ZWhvdXNlLWRlbW8tdmF1bHQta2V5LXB1YmxpYyE=";

/// The name of the demo's app key.
const DEMO_KEY_NAME: &str = "demo";

/// The password of the demo's dataclip user on every simulated project.
const DEMO_DATACLIP_PASSWORD: &str = "gatehouse-demo-dataclips";

/// A demo user.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// Role.
    pub role: Role,
    /// Email.
    pub email: String,
}

/// What the demo set up.
#[derive(Debug)]
pub struct Demo {
    /// The simulator.
    pub sim: SimHandle,
    /// The demo users (password [`DEMO_PASSWORD`]).
    pub users: Vec<DemoUser>,
    /// The demo app key.
    pub app_key: String,
    /// The simulator's project ids and names.
    pub projects: Vec<(String, String)>,
}

/// Starts the simulator and points the configuration's upstream at it, with a read-write token
/// per project; lets anyone introspect the schema.
pub async fn start_simulator(
    config: &mut Config,
    sim_listen: SocketAddr,
) -> anyhow::Result<SimHandle> {
    let sim = synchro_sim::spawn(
        SimConfig {
            seed: 42,
            size: synchro_sim::DataSize::preset(synchro_sim::SizePreset::Medium),
            ..SimConfig::default()
        },
        sim_listen,
    )
    .await
    .with_context(|| format!("cannot start the simulator on {sim_listen}"))?;
    let mut tokens = BTreeMap::new();
    for project in sim.projects() {
        let token = sim
            .create_token(project.id, synchro_sim::Scope::ReadWrite)
            .await;
        tokens.insert(project.id.to_string(), SecretString::from(token));
    }
    config.upstream.base_url = sim.base_url().parse().context("simulator URL")?;
    // The demo is for trying things: GraphiQL's schema explorer works before signing in.
    config.graphql.introspection = crate::config::Introspection::Always;
    // The demo serves plain HTTP: on another address than loopback (`--listen 0.0.0.0:8080`),
    // a Secure cookie would never come back and nobody could sign in.
    config.auth.cookie_secure.get_or_insert(false);
    config.upstream.tokens = tokens;
    if config.vault_key.is_none() {
        config.vault_key = Some(crate::config::VaultKey::new(DEMO_VAULT_KEY));
    }
    // Every project's known clips, pulled from the simulator's dataclips with a demo user.
    config.dataclips.base_url = sim.base_url().trim_end_matches('/').to_owned();
    for project in sim.projects() {
        let username = format!("demo-analyst-{}", project.id.simple());
        sim.create_dataclip_user(&username, DEMO_DATACLIP_PASSWORD, project.id, None)
            .await
            .context("cannot create the demo's dataclip user")?;
        config
            .dataclips
            .sources
            .push(crate::config::DataclipSourceConfig {
                project_id: project.id.to_string(),
                clips: [
                    gatehouse_core::dataclips::clip::USAGES_CLIP,
                    gatehouse_core::dataclips::clip::ACTIVITIES_CLIP,
                    gatehouse_core::dataclips::clip::ATTENDANCE_CLIP,
                    gatehouse_core::dataclips::clip::RATES_CLIP,
                ]
                .map(ToOwned::to_owned)
                .to_vec(),
                format: crate::config::ClipFormat::default(),
                username,
                password: SecretString::from(DEMO_DATACLIP_PASSWORD),
                refresh_secs: None,
                cycle_secs: None,
            });
    }
    Ok(sim)
}

/// Creates the demo users (once) and the demo app key: with `pinned_key`, the key of that value
/// (reused, active and with the demo's scopes, when an earlier run made it); without, a fresh
/// one. Any other demo key is revoked.
pub async fn seed(
    db: &sea_orm::DatabaseConnection,
    sim: SimHandle,
    pinned_key: Option<String>,
) -> anyhow::Result<Demo> {
    let mut demo_users = Vec::new();
    for role in [Role::Contact, Role::Reviewer, Role::Admin] {
        let email = format!("{role}@demo.gatehouse.example");
        let exists = gatehouse_core::db::entities::users::Entity::find()
            .filter(gatehouse_core::db::entities::users::Column::Email.eq(&email))
            .one(db)
            .await?
            .is_some();
        if !exists {
            users::create_user(db, &Actor::System, &email, role, DEMO_PASSWORD).await?;
        }
        demo_users.push(DemoUser { role, email });
    }
    let reads = Entity::ALL.iter().map(|e| (*e, Access::Read));
    let writes = [
        Entity::Activity,
        Entity::ProgressEntry,
        Entity::ResourceUsage,
        Entity::Docket,
        Entity::Attachment,
    ]
    .into_iter()
    .map(|e| (e, Access::Write));
    let scopes = KeyScopes::new(vec!["*".into()], reads.chain(writes));
    // A pinned key that an earlier run made is reused (its row holds the value's hash, which
    // is unique): made active again with today's scopes. A pinned value that belongs to a key
    // the demo did not make is refused rather than taken over.
    let reused = match &pinned_key {
        Some(value) => match app_keys::find_by_value(db, value).await? {
            Some(key) if key.name == DEMO_KEY_NAME => Some(key),
            Some(key) => anyhow::bail!(
                "GATEHOUSE_DEMO_KEY is the value of the app key {:?} ({}), which the demo did \
                 not make; pin another value",
                key.name,
                key.prefix
            ),
            None => None,
        },
        None => None,
    };
    // Earlier demo keys stop working; the demo prints the one that works now.
    for key in app_keys::list(db).await? {
        let is_reused = reused.as_ref().is_some_and(|r| r.id == key.id);
        if key.name == DEMO_KEY_NAME && key.revoked_at.is_none() && !is_reused {
            app_keys::revoke(db, &Actor::System, key.id).await?;
        }
    }
    let key = match (reused, pinned_key) {
        (Some(existing), Some(value)) => {
            app_keys::reinstate(db, &Actor::System, existing.id, &scopes).await?;
            value
        }
        (_, pinned_value) => {
            app_keys::create(
                db,
                &Actor::System,
                NewAppKey {
                    name: DEMO_KEY_NAME.into(),
                    scopes,
                    pinned_value,
                    ..NewAppKey::default()
                },
            )
            .await?
            .1
        }
    };
    let projects = sim
        .projects()
        .into_iter()
        .map(|p| (p.id.to_string(), p.name))
        .collect();
    Ok(Demo {
        sim,
        users: demo_users,
        app_key: key,
        projects,
    })
}
