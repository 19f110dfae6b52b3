//! The `gatehouse` command line. Everything it runs lives in the library.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use gatehouse::config::{Config, LogFormat, Overrides};
use gatehouse_compliance::Entity;
use gatehouse_core::audit::Actor;
use gatehouse_core::auth::app_keys::{self, NewAppKey};
use gatehouse_core::auth::{Access, KeyScopes, Role, users};

/// mimalloc instead of the system allocator: a warm request allocates often and on many
/// threads, and glibc's malloc took a quarter of its CPU (`docs/BENCHMARKS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gatehouse: governed access to Bentley SYNCHRO Perform.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about)]
struct Cli {
    /// A TOML configuration file (see config.example.toml).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, value_parser = parse_log_format)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args, Clone, Default)]
struct ServerArgs {
    /// Address to listen on (GATEHOUSE_LISTEN).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Database URL: sqlite://PATH or postgres://... (GATEHOUSE_DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
struct DbArgs {
    /// Database URL: sqlite://PATH or postgres://... (GATEHOUSE_DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GraphQL API and the web UI.
    Serve(ServerArgs),
    /// Serve against an in-process SYNCHRO Perform simulator, with demo users and an app key.
    Demo {
        #[command(flatten)]
        server: ServerArgs,
        /// Address of the simulator.
        #[arg(long, default_value = "127.0.0.1:8900")]
        sim_listen: SocketAddr,
        /// Use this exact demo app key (at least 24 characters).
        #[arg(long, env = "GATEHOUSE_DEMO_KEY", hide_env_values = true)]
        demo_key: Option<String>,
    },
    /// Apply pending database migrations (or revert some with --down).
    Migrate {
        #[command(flatten)]
        db: DbArgs,
        /// Revert this many migrations instead.
        #[arg(long)]
        down: Option<u32>,
    },
    /// Print the GraphQL schema (SDL).
    ExportSchema,
    /// Create the first admin on an empty database.
    BootstrapAdmin {
        #[command(flatten)]
        db: DbArgs,
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage app keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// Email (the sign-in name).
        #[arg(long)]
        email: String,
        /// contact, reviewer or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the user's sessions).
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        /// Email.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an app key; the key is printed once.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// A name for people.
        #[arg(long)]
        name: String,
        /// A project id the key may touch (repeatable; `*` for all).
        #[arg(long = "project", required = true)]
        projects: Vec<String>,
        /// Entities the key may read (comma-separated, e.g. activity,event).
        #[arg(long, value_delimiter = ',', value_parser = parse_entity)]
        read: Vec<Entity>,
        /// Entities the key may change (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_entity)]
        write: Vec<Entity>,
        /// Days until the key expires.
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Largest estimated cost of one operation.
        #[arg(long)]
        cost_budget: Option<i64>,
        /// Operations per minute.
        #[arg(long)]
        rate_per_minute: Option<i32>,
    },
    /// List app keys (never the keys themselves).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke an app key by id.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// The key's id.
        id: uuid::Uuid,
    },
}

fn parse_log_format(value: &str) -> Result<LogFormat, String> {
    match value {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}`: expected text or json")),
    }
}

fn parse_role(value: &str) -> Result<Role, String> {
    value.parse()
}

fn parse_entity(value: &str) -> Result<Entity, String> {
    value.trim().parse().map_err(|e| format!("{e}"))
}

fn load_config(
    cli: &Cli,
    listen: Option<SocketAddr>,
    database_url: Option<String>,
) -> anyhow::Result<Config> {
    let overrides = Overrides {
        listen,
        database_url,
        log_format: cli.log_format,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    gatehouse::telemetry::init(&config.log);
    Ok(config)
}

/// A password from standard input, or a generated one that is printed once.
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        if std::io::stdin().is_terminal() {
            eprintln!("password (input is shown; pipe it in to hide it):");
        }
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((gatehouse_core::auth::secrets::random_token(18), true))
    }
}

async fn open_db(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = gatehouse_core::db::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))?;
    gatehouse_core::db::migrate(&db)
        .await
        .context("cannot apply migrations")?;
    Ok(db)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Serve(args) => {
            let config = load_config(&cli, args.listen, args.database_url.clone())?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let app = gatehouse::App::build(config).await?;
            if let Some(addr) = app.metrics_addr() {
                println!("Gatehouse metrics on http://{addr}/metrics");
            }
            println!("Gatehouse listening on http://{}", listener.local_addr()?);
            app.serve(listener, gatehouse::app::shutdown_signal()).await
        }
        Command::Demo {
            server,
            sim_listen,
            demo_key,
        } => run_demo(&cli, server, *sim_listen, demo_key.clone()).await,
        Command::Migrate { db, down } => {
            let config = load_config(&cli, None, db.database_url.clone())?;
            let conn = gatehouse_core::db::connect(&config.database_url).await?;
            match down {
                Some(steps) => {
                    gatehouse_core::db::migrate_down(&conn, *steps).await?;
                    println!("reverted {steps} migration(s)");
                }
                None => {
                    gatehouse_core::db::migrate(&conn).await?;
                    println!("migrations applied");
                }
            }
            Ok(())
        }
        Command::ExportSchema => {
            print!("{}", gatehouse::graphql::sdl());
            Ok(())
        }
        Command::BootstrapAdmin {
            db,
            email,
            password_stdin,
        } => {
            let config = load_config(&cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            let (password, generated) = password(*password_stdin)?;
            let user = users::bootstrap_admin(&conn, email, &password).await?;
            println!("created admin {} ({})", user.email, user.id);
            if generated {
                println!("password: {password}");
                println!("(shown once; change it with `gatehouse user reset-password`)");
            }
            Ok(())
        }
        Command::User(command) => run_user(&cli, command).await,
        Command::Key(command) => run_key(&cli, command).await,
    }
}

async fn run_demo(
    cli: &Cli,
    server: &ServerArgs,
    sim_listen: SocketAddr,
    demo_key: Option<String>,
) -> anyhow::Result<()> {
    // The demo keeps its data apart from a real database unless told otherwise.
    let database_url = server.database_url.clone().or_else(|| {
        std::env::var("GATEHOUSE_DATABASE_URL")
            .is_err()
            .then(|| "sqlite://gatehouse-demo.db".to_owned())
    });
    let mut config = load_config(cli, server.listen, database_url)?;
    let sim = gatehouse::demo::start_simulator(&mut config, sim_listen).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let app = gatehouse::App::build(config).await?;
    let demo = gatehouse::demo::seed(&app.services().db, sim, demo_key).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("Gatehouse demo");
    println!();
    println!("  web UI     {url}/");
    println!("  GraphiQL   {url}/graphql");
    println!(
        "  simulator  {}/api (SYNCHRO Perform stand-in, REST docs)",
        demo.sim.base_url()
    );
    println!();
    println!("  app key    {}", demo.app_key);
    println!("             send it as: Authorization: Bearer <key>");
    for user in &demo.users {
        println!(
            "  {:<10} {} / {}",
            user.role.to_string(),
            user.email,
            gatehouse::demo::DEMO_PASSWORD
        );
    }
    println!();
    println!("  projects");
    for (id, name) in &demo.projects {
        println!("    {id}  {name}");
    }
    println!();
    println!(
        "  try: curl -s {url}/graphql -H 'Authorization: Bearer {}' \\",
        demo.app_key
    );
    println!(
        "         -H 'Content-Type: application/json' -d '{{\"query\": \"{{ projects {{ id name }} }}\"}}'"
    );
    println!();
    if let Some(addr) = app.metrics_addr() {
        println!("Gatehouse metrics on http://{addr}/metrics");
    }
    println!("Gatehouse listening on {url}");
    let served = app.serve(listener, gatehouse::app::shutdown_signal()).await;
    demo.sim.shutdown().await;
    served
}

async fn run_user(cli: &Cli, command: &UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            db,
            email,
            role,
            password_stdin,
        } => {
            let config = load_config(cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            let (password, generated) = password(*password_stdin)?;
            let user = users::create_user(&conn, &Actor::Cli, email, *role, &password).await?;
            println!("created {} {} ({})", user.role, user.email, user.id);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::ResetPassword {
            db,
            email,
            password_stdin,
        } => {
            let config = load_config(cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            let (password, generated) = password(*password_stdin)?;
            let user = users::reset_password(&conn, &Actor::Cli, email, &password).await?;
            println!(
                "new password set for {}; their sessions were ended",
                user.email
            );
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::List { db } => {
            let config = load_config(cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            for user in users::list(&conn).await? {
                let state = if user.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{}", user.id, user.email, user.role, state);
            }
        }
    }
    Ok(())
}

async fn run_key(cli: &Cli, command: &KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create {
            db,
            name,
            projects,
            read,
            write,
            expires_in_days,
            cost_budget,
            rate_per_minute,
        } => {
            if read.is_empty() && write.is_empty() {
                bail!("grant at least one entity with --read or --write");
            }
            let config = load_config(cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            let grants = read
                .iter()
                .map(|e| (*e, Access::Read))
                .chain(write.iter().map(|e| (*e, Access::Write)));
            let new = NewAppKey {
                name: name.clone(),
                scopes: KeyScopes::new(projects.clone(), grants),
                expires_at: expires_in_days
                    .map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d))),
                cost_budget: *cost_budget,
                rate_per_minute: *rate_per_minute,
                pinned_value: None,
                access_request_id: None,
            };
            let (info, key) = app_keys::create(&conn, &Actor::Cli, new).await?;
            println!("created app key {} ({})", info.name, info.id);
            println!("scopes: {}", info.scopes.describe());
            println!("key: {key}");
            println!("(shown once; Gatehouse keeps only a hash)");
        }
        KeyCommand::List { db } => {
            let config = load_config(cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            for key in app_keys::list(&conn).await? {
                let state = if key.revoked_at.is_some() {
                    "revoked".to_owned()
                } else if key.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
                    "expired".to_owned()
                } else {
                    "active".to_owned()
                };
                println!(
                    "{}\t{}\t{}…\t{}\t{}",
                    key.id,
                    key.name,
                    key.prefix,
                    state,
                    key.scopes.describe()
                );
            }
        }
        KeyCommand::Revoke { db, id } => {
            let config = load_config(cli, None, db.database_url.clone())?;
            let conn = open_db(&config).await?;
            let key = app_keys::revoke(&conn, &Actor::Cli, *id).await?;
            println!("revoked {} ({})", key.name, key.id);
        }
    }
    Ok(())
}
