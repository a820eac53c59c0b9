//! `data-tasks gn2pg`: GeoNature export API → PostgreSQL (docs/syncs/gn2pg.md), a drop-in for
//! gn2pg-client 1.10.1 — same tables (`import_log`, `error_log`, `data_json`, `metadata_json`,
//! Alembic-stamped), same `source` names, without its failure modes.
//!
//! - `init-db [--custom-script FILE.sql]` ([`schema`]): creates or completes the schema;
//! - `full [--source NAME]… [--restart]` and `update [--source NAME]… [--since DATETIME]`
//!   ([`run()`]): one source
//!   after the other, each under its advisory lock, a failing source never stopping the others;
//! - `--gn2pg-config FILE` ([`compat`]): reads an operator's gn2pg-client TOML unchanged;
//! - `verify [--source NAME]… [--repair]` ([`verify`]): is the copy complete (and put it right).
//!
//! The work: [`remote`] (login, module discovery, pages, deletion feed), [`pipeline`] (prefetch,
//! parsing and writing in parallel, pages committed in order), [`page`] (items → rows),
//! [`metadata`] (the separate metadata export of the `synthese_with_metadata_separated` and
//! `metadata_only` kinds), [`store`] (COPY + upsert, checkpoint and counters in one transaction
//! per page).
//!
//! Exit status: 0 every source ok or skipped; 1 some source failed or had rows in `error_log`;
//! 2 fatal — configuration, database, schema not initialised, or every source failed.

pub(crate) mod compat;
pub mod config;
#[cfg(feature = "dashboard")]
pub(crate) mod copies;
pub(crate) mod metadata;
#[cfg(feature = "dashboard")]
pub(crate) mod ops;
pub(crate) mod page;
pub(crate) mod pipeline;
pub(crate) mod probes;
pub(crate) mod remote;
pub(crate) mod run;
pub(crate) mod schema;
pub(crate) mod store;
pub(crate) mod verify;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::fetch::http::HttpPolicy;
use crate::outcome::{ExitStatus, Summary};
use crate::pg::run_log::RunStatus;
use crate::pg::{DbUrl, PgError};
use crate::secrets::{Env, Secret};
use crate::settings::ConfigError;

use self::config::Gn2pgConfig;
use self::run::{Ctx, Outcome, Requested};

/// The variables naming the database, first set wins (then `--gn2pg-config`'s `[db]`).
pub const DATABASE_VARS: [&str; 2] = ["GN2PG_DATABASE_URL", "DATABASE_URL"];

/// What `data-tasks gn2pg` was asked to do (the binary parses it from the command line).
#[derive(Debug)]
pub struct Options {
    /// An operator's gn2pg-client TOML file (`[db]`, `[[source]]`, `[tuning]`), read unchanged.
    pub gn2pg_config: Option<PathBuf>,
    pub command: Gn2pgCommand,
}

/// `gn2pg` subcommands.
#[derive(Debug)]
pub enum Gn2pgCommand {
    /// Create or complete the schema (gn2pg-client 1.10.1's tables, import_checkpoint, sync_run).
    InitDb {
        /// Operator SQL run after the tables, in one transaction, with `gn2pg_import` replaced
        /// by the schema (e.g. the triggers that fill gn_synthese).
        custom_script: Option<PathBuf>,
    },
    /// Download every row of the export (resumes an interrupted full).
    Full {
        /// Only this source (name or normalised name); repeatable.
        sources: Vec<String>,
        /// Start over instead of resuming an interrupted full.
        restart: bool,
    },
    /// Rows created, changed or deleted since the last success (a full when there is none).
    Update {
        /// Only this source (name or normalised name); repeatable.
        sources: Vec<String>,
        /// Replay from this instant instead of the last success (`YYYY-MM-DD[ HH:MM[:SS]]`, in
        /// the source's time zone): docs/syncs/gn2pg.md §1.
        since: Option<String>,
    },
    /// Compare each source's export with the rows stored for it; name the missing and extra ids.
    Verify {
        /// Only this source (name or normalised name); repeatable.
        sources: Vec<String>,
        /// Store the missing rows and delete the extra ones (normal upsert and deletion paths).
        repair: bool,
    },
}

/// Errors of one source's run (they fail the source, not the command).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no password: set {var}")]
    NoPassword { var: String },
    #[error(transparent)]
    Api(#[from] remote::ApiError),
    #[error("{what}: protocol error: {reason}")]
    Protocol { what: String, reason: String },
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Overrun(#[from] crate::syncs::protocol::Overrun),
}

/// Fatal errors of the command (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Gn2pgError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error("source {source_name:?} has no password: set {var} (or give it in the --gn2pg-config file); nothing was written")]
    NoPassword { source_name: String, var: String },
}

/// Runs the command.
pub fn run(config: &Gn2pgConfig, env: &Env, args: &Options) -> Result<Summary, Gn2pgError> {
    let mut cfg: Gn2pgConfig = config.clone();
    let legacy = match &args.gn2pg_config {
        Some(path) => compat::apply(path, &mut cfg)?,
        None => compat::Legacy::default(),
    };
    let mut warnings = legacy.warnings.clone();
    warnings.extend(cfg.check()?);
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let db = crate::syncs::protocol::database_url(
        env,
        &DATABASE_VARS,
        || {
            legacy
                .database
                .clone()
                .map(|url| DbUrl::parse("--gn2pg-config [db]", url))
                .transpose()
        },
        "",
    )?;
    match &args.command {
        Gn2pgCommand::InitDb { custom_script } => {
            let custom_script = custom_script
                .as_deref()
                .map(|arg| schema::resolve_script(arg, cfg.scripts_dir.as_deref()))
                .transpose()?;
            let mut client = db.connect()?;
            let report = schema::init_db(&mut client, &cfg.schema, custom_script.as_deref())?;
            let mut summary = Summary::new("gn2pg init-db");
            summary.warnings = warnings;
            summary.headline = format!(
                "gn2pg init-db: schema {} ({}): {}{}{}",
                cfg.schema,
                report.found,
                if report.created.is_empty() {
                    "nothing to create".to_string()
                } else {
                    format!("created {}", report.created.join(", "))
                },
                report
                    .stamped
                    .as_ref()
                    .map(|r| format!("; Alembic revision {r} stamped"))
                    .unwrap_or_default(),
                custom_script
                    .as_ref()
                    .map(|p| format!("; custom script {} applied", p.display()))
                    .unwrap_or_default(),
            );
            summary.count("tables_created", report.created.len());
            Ok(summary)
        }
        Gn2pgCommand::Full { sources, restart } => run_sources(
            &cfg,
            &db,
            env,
            &legacy.passwords,
            sources,
            Requested::Full { restart: *restart },
            warnings,
        ),
        Gn2pgCommand::Update { sources, since } => {
            let req = match since {
                None => Requested::Update,
                Some(text) => Requested::Replay {
                    since: run::parse_since(text).ok_or_else(|| ConfigError::Invalid {
                        key: "--since".into(),
                        reason: format!(
                            "{:?} is not a date (YYYY-MM-DD) or a date and time \
                             (YYYY-MM-DD HH:MM[:SS])",
                            crate::text::clip_to(text, 40)
                        ),
                    })?,
                },
            };
            run_sources(&cfg, &db, env, &legacy.passwords, sources, req, warnings)
        }
        Gn2pgCommand::Verify { sources, repair } => verify::run(
            &cfg,
            &db,
            env,
            &legacy.passwords,
            sources,
            *repair,
            warnings,
        ),
    }
}

/// The HTTP policy of every request (`[gn2pg.http]`, old keys folded in).
pub fn policy(cfg: &Gn2pgConfig) -> Result<HttpPolicy, ConfigError> {
    Ok(cfg.http_settings()?.policy("gn2pg.http"))
}

/// Each selected source's password, from `GN2PG_<NAME>_PASSWORD` or the gn2pg-client file:
/// all of them are read before anything is written, so a missing one leaves every table as it
/// was.
fn passwords(
    selected: &[&config::SourceConfig],
    env: &Env,
    file: &HashMap<String, Secret>,
) -> Result<HashMap<String, Secret>, Gn2pgError> {
    let mut out = HashMap::new();
    for src in selected {
        let std = src.std_name();
        let var = src.password_var();
        let pw = env
            .secret(&var)
            .or_else(|| file.get(&std).cloned())
            .ok_or_else(|| Gn2pgError::NoPassword {
                source_name: src.name.clone(),
                var,
            })?;
        out.insert(std, pw);
    }
    Ok(out)
}

fn run_sources(
    cfg: &Gn2pgConfig,
    db: &DbUrl,
    env: &Env,
    file_passwords: &HashMap<String, Secret>,
    names: &[String],
    req: Requested,
    warnings: Vec<String>,
) -> Result<Summary, Gn2pgError> {
    let command = match req {
        Requested::Full { .. } => "gn2pg full",
        Requested::Update | Requested::Replay { .. } => "gn2pg update",
    };
    let selected = cfg.selected(names)?;
    let policy = policy(cfg)?;
    let passwords = passwords(&selected, env, file_passwords)?;
    let pool = db.pool(cfg.writer_connections + 1)?;
    {
        let mut client = pool.get()?;
        schema::check(&mut *client, &cfg.schema)?;
        client
            .query_one("SELECT now() AT TIME ZONE $1", &[&cfg.source_timezone])
            .map_err(|e| ConfigError::Invalid {
                key: "gn2pg.source_timezone".into(),
                reason: format!(
                    "PostgreSQL does not know {:?}: {}",
                    cfg.source_timezone,
                    crate::outcome::error_chain(&crate::pg::DriverError::from(e))
                ),
            })?;
    }
    let ctx = Ctx {
        cfg,
        db,
        pool: &pool,
        passwords: &passwords,
        policy,
    };
    let mut summary = Summary::new(command);
    summary.warnings = warnings;
    for s in cfg.sources.iter().filter(|s| !s.enable) {
        if !selected.iter().any(|x| x.name == s.name) {
            summary
                .warnings
                .push(format!("source {:?} is disabled", s.name));
        }
    }
    let outcomes: Vec<Outcome> = selected
        .iter()
        .map(|src| {
            tracing::info!(source = %src.name, "starting");
            let o = run::run_source(&ctx, src, req.clone());
            tracing::info!(source = %o.name, status = o.status.as_str(), fetched = o.counts.fetched,
                upserted = o.counts.upserted, deleted = o.counts.deleted, errors = o.counts.errors,
                retries = o.counts.http_retries, "done");
            o
        })
        .collect();
    Ok(summarize(summary, &outcomes))
}

/// The command's summary from the sources' outcomes.
pub fn summarize(mut summary: Summary, outcomes: &[Outcome]) -> Summary {
    let mut parts = Vec::new();
    let mut total = crate::pg::run_log::RunCounts::default();
    for o in outcomes {
        total.add(&o.counts);
        let ids = match (o.import_id, o.sync_run_id) {
            (Some(i), Some(r)) => format!(" [import_log {i}, sync_run {r}]"),
            _ => String::new(),
        };
        let detail = format!(
            "{} {} {}: {} fetched, {} upserted, {} deleted, {} errors, {} retries{ids}",
            o.name,
            o.mode,
            o.status.as_str(),
            o.counts.fetched,
            o.counts.upserted,
            o.counts.deleted,
            o.counts.errors,
            o.counts.http_retries
        );
        if let Some(e) = &o.close_error {
            summary.problem(e.clone());
        }
        match o.status {
            RunStatus::Failed => summary.problem(format!(
                "{detail} — {}",
                o.error.as_deref().unwrap_or("failed")
            )),
            RunStatus::Partial => summary.problem(format!(
                "{detail} — {} row(s) in error_log",
                o.counts.errors
            )),
            RunStatus::Skipped => summary.warnings.push(format!(
                "{}: skipped ({})",
                o.name,
                o.error.as_deref().unwrap_or("locked")
            )),
            _ => {}
        }
        parts.push(detail);
    }
    let failed = outcomes
        .iter()
        .filter(|o| o.status == RunStatus::Failed)
        .count();
    if !outcomes.is_empty() && failed == outcomes.len() {
        summary.status = ExitStatus::Fatal;
    }
    summary.count("sources", outcomes.len());
    summary.count("sources_failed", failed);
    crate::syncs::protocol::summary_counts(&mut summary, &total);
    summary.headline = if parts.is_empty() {
        format!("{}: no enabled source", summary.command)
    } else {
        format!("{}: {}", summary.command, parts.join("; "))
    };
    summary
}
