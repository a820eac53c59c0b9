//! `data-tasks visionature`: VisioNature sites (Biolovision API) → PostgreSQL `*_json` tables, and
//! the check-schema → production `fix-sync` (docs/syncs/visionature.md). Replaces Client-API-VN's
//! `transfer_vn` and the `fix_synchro.sql` cron, on the same tables.
//!
//! - `init-db [--schema S]` ([`schema`]): the tables, idempotently, also on a schema the client
//!   created.
//! - `transfer --full|--update [--site N] [--schema S]` ([`run()`]): per site, healthcheck
//!   (one authenticated call; refused → fatal), reference lists, then each taxo group with its own
//!   watermark. Each site × schema holds an advisory lock (held → skipped, exit 0) and a
//!   `data_tasks.sync_run` row.
//! - `fix-sync` ([`fixsync`]): re-download the window into the check schema, reconcile production
//!   in one transaction, mail the summary ([`mail`]).
//! - `--vn-config FILE` ([`compat`]): reads the client's YAML configuration instead of
//!   `[visionature]`.
//!
//! Secrets: `VN_<SITE>_USER_EMAIL`, `…_USER_PW`, `…_CLIENT_KEY`, `…_CLIENT_SECRET`,
//! `VISIONATURE_DATABASE_URL` (else `DATABASE_URL`), `SMTP_URL`. Exit codes: 0 ok, 1 something was
//! skipped or failed (named in the summary), 2 fatal ([`VisionatureError`]).

pub mod compat;
pub mod config;
pub mod fixsync;
pub mod mail;
pub mod probes;
pub mod proj;
pub mod remote;
pub mod run;
pub mod schema;
pub mod store;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;

use self::config::{SiteConfig, VisionatureConfig};
use self::remote::{Api, ApiError, Credentials};
use self::run::{Ctx, FullOptions, Outcome};
use crate::config::{Config, ConfigError};
use crate::fetch::http::HttpPolicy;
use crate::outcome::{error_chain, ExitStatus, Summary};
use crate::pg::run_log::{self, Begin, LockPolicy, RunCounts, RunStatus};
use crate::pg::{DbUrl, PgError};
use crate::secrets::Env;

/// The command line of `data-tasks visionature`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read sites and settings from a Client-API-VN 2.x YAML configuration (see the docs).
    #[arg(long, global = true, value_name = "FILE")]
    pub vn_config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: VnCommand,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum VnCommand {
    /// Create the tables (adds only what is missing on a Client-API-VN schema).
    InitDb {
        /// Schema (default: schema_import).
        #[arg(long)]
        schema: Option<String>,
    },
    /// Download sightings and reference lists: --full, or --update from the watermarks.
    Transfer(TransferArgs),
    /// Repair production from the check schema (re-download the window, reconcile, mail).
    FixSync(FixSyncArgs),
}

/// `transfer` flags.
#[derive(Debug, clap::Args)]
pub struct TransferArgs {
    /// Everything (windowed searches), inserting missing watermarks.
    #[arg(long, conflicts_with = "update", required_unless_present = "update")]
    pub full: bool,
    /// Changes since each taxo group's watermark (diff endpoint).
    #[arg(long)]
    pub update: bool,
    /// Oldest day read by --full (default filter.start_date).
    #[arg(long, requires = "full", value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Newest day read by --full (default today).
    #[arg(long, requires = "full", value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    /// Only this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Schema (default schema_import; the check sync uses check_schema).
    #[arg(long)]
    pub schema: Option<String>,
}

/// `fix-sync` flags.
#[derive(Debug, clap::Args)]
pub struct FixSyncArgs {
    /// Days re-downloaded into the check schema (default fix_sync.window_days).
    #[arg(long)]
    pub window_days: Option<u32>,
    /// Reconcile from the check schema as it is.
    #[arg(long)]
    pub skip_download: bool,
    /// Do not replay deletions.
    #[arg(long)]
    pub no_deletes: bool,
    /// Do not send the mail.
    #[arg(long)]
    pub no_notify: bool,
    /// Count, then roll back.
    #[arg(long)]
    pub dry_run: bool,
}

/// Fatal errors of the sync (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VisionatureError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] PgError),
    #[error("no [[visionature.site]] configured (or --vn-config without sites)")]
    NoSite,
    #[error("site {name:?} is not configured (known: {known})")]
    UnknownSite { name: String, known: String },
    #[error("{site}: healthcheck failed")]
    Healthcheck { site: String, source: ApiError },
    #[error("{schema}.observations_json does not exist: run `data-tasks visionature init-db --schema {schema}` first")]
    NoSchema { schema: String },
    #[error("every site failed: {0}")]
    AllFailed(String),
    #[error("the check schema and production hold no common site (production: [{prod}], check: [{check}]): same site names in both configurations?")]
    SiteMismatch { prod: String, check: String },
    #[error("schema {0:?} is not a plain lower-case identifier")]
    BadSchema(String),
}

fn policy(cfg: &VisionatureConfig) -> HttpPolicy {
    HttpPolicy {
        connect_timeout: Duration::from_secs(30).min(cfg.http_timeout),
        timeout: cfg.http_timeout,
        retries: cfg.max_retry,
        backoff: cfg.retry_delay,
        backoff_cap: Duration::from_secs(300),
        unavailable_delay: Some(cfg.unavailable_delay),
    }
}

fn database(env: &Env) -> Result<DbUrl, PgError> {
    DbUrl::from_env(env, &["VISIONATURE_DATABASE_URL", "DATABASE_URL"])
}

/// Server notices (the staging tables' `IF NOT EXISTS`) are not worth a log line each.
fn quiet(mut client: crate::pg::Client) -> Result<crate::pg::Client, PgError> {
    client
        .batch_execute("SET client_min_messages = warning")
        .map_err(|e| PgError::query("SET client_min_messages", e))?;
    Ok(client)
}

fn chosen_schema(
    cfg: &VisionatureConfig,
    schema: &Option<String>,
) -> Result<String, VisionatureError> {
    let s = schema.clone().unwrap_or_else(|| cfg.schema_import.clone());
    if !crate::pg::is_plain_ident(&s) {
        return Err(VisionatureError::BadSchema(s));
    }
    Ok(s)
}

fn sites<'a>(
    cfg: &'a VisionatureConfig,
    only: &Option<String>,
) -> Result<Vec<&'a SiteConfig>, VisionatureError> {
    if cfg.site.is_empty() {
        return Err(VisionatureError::NoSite);
    }
    match only {
        None => Ok(cfg.site.iter().collect()),
        Some(name) => cfg
            .site
            .iter()
            .find(|s| &s.name == name)
            .map(|s| vec![s])
            .ok_or_else(|| VisionatureError::UnknownSite {
                name: name.clone(),
                known: cfg
                    .site
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
    }
}

fn context<'a>(
    cfg: &'a VisionatureConfig,
    env: &Env,
    site: &'a SiteConfig,
    schema: &str,
) -> Result<Ctx<'a>, ApiError> {
    let creds = Credentials::from_env(env, &site.name)?;
    Ok(Ctx {
        cfg,
        site,
        api: Api::new(&site.url, creds, &policy(cfg), cfg.max_chunks)?,
        schema: schema.to_string(),
        tz: cfg.timezone().unwrap_or(chrono_tz::Europe::Paris),
        proj: proj::Projector::new(cfg.out_proj).map_err(ApiError::Projection)?,
    })
}

fn summary_counts(s: &mut Summary, c: &RunCounts) {
    s.count("fetched", c.fetched as usize);
    s.count("upserted", c.upserted as usize);
    s.count("deleted", c.deleted as usize);
    s.count("errors", c.errors as usize);
    s.count("http_retries", c.http_retries as usize);
}

/// Runs the command.
pub fn run(config: &Config, env: &Env, args: &Args) -> Result<Summary, VisionatureError> {
    let mut warnings = Vec::new();
    let cfg = match &args.vn_config {
        Some(path) => {
            let (cfg, w) = compat::load(path, &config.visionature)?;
            warnings.extend(w);
            cfg
        }
        None => config.visionature.clone(),
    };
    cfg.validate()?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let mut summary = match &args.command {
        VnCommand::InitDb { schema } => {
            let schema = chosen_schema(&cfg, schema)?;
            let db = database(env)?;
            let mut client = db.connect()?;
            schema::init(&mut client, &schema)?;
            let mut s = Summary::new("visionature init-db");
            s.headline = format!(
                "visionature init-db: schema {schema} ready on {}",
                db.server()
            );
            s
        }
        VnCommand::Transfer(t) => transfer_cmd(&cfg, env, t)?,
        VnCommand::FixSync(f) => fix_sync_cmd(&cfg, env, f)?,
    };
    summary.warnings.extend(warnings);
    Ok(summary)
}

fn transfer_cmd(
    cfg: &VisionatureConfig,
    env: &Env,
    t: &TransferArgs,
) -> Result<Summary, VisionatureError> {
    let mode = if t.full { "full" } else { "update" };
    let schema = chosen_schema(cfg, &t.schema)?;
    let sites = sites(cfg, &t.site)?;
    let db = database(env)?;
    let mut client = quiet(db.connect()?)?;
    if !crate::pg::schema::table_exists(&mut client, &schema, "observations_json")?
        || !run_log::exists(&mut client)?
    {
        return Err(VisionatureError::NoSchema { schema });
    }
    let mut summary = Summary::new(&format!("visionature transfer --{mode}"));
    let mut total = RunCounts::default();
    let mut lines = Vec::new();
    let mut failed_sites = Vec::new();
    for site in &sites {
        let ctx = match context(cfg, env, site, &schema) {
            Ok(c) => c,
            Err(e) => {
                failed_sites.push(format!("{}: {}", site.name, error_chain(&e)));
                continue;
            }
        };
        // Healthcheck before anything is written.
        let taxo = match run::healthcheck(&ctx) {
            Ok(t) => t,
            Err(e) => {
                if sites.len() == 1 {
                    return Err(VisionatureError::Healthcheck {
                        site: site.name.clone(),
                        source: e,
                    });
                }
                failed_sites.push(format!("{}: healthcheck: {e}", site.name));
                continue;
            }
        };
        let scope_name = format!("{schema}/{}", site.name);
        let scope = match run_log::begin(&db, "visionature", &scope_name, mode, LockPolicy::Try)? {
            Begin::Skipped => {
                summary
                    .warnings
                    .push(format!("{scope_name}: another run holds the lock: skipped"));
                lines.push(format!("{}: skipped (locked)", site.name));
                continue;
            }
            Begin::Run(s) => s,
        };
        let mut out = Outcome::default();
        let r = site_transfer(&ctx, &mut client, &taxo, t, &mut out);
        out.counts.http_retries = ctx.api.retries();
        let status = match (&r, out.problems.is_empty()) {
            (Err(_), _) => RunStatus::Failed,
            (Ok(()), true) => RunStatus::Ok,
            (Ok(()), false) => RunStatus::Partial,
        };
        let error = match &r {
            Err(e) => Some(error_chain(e)),
            Ok(()) if !out.problems.is_empty() => Some(out.problems.join("; ")),
            Ok(()) => None,
        };
        scope.finish(status, &out.counts, error.as_deref())?;
        r?;
        total.add(&out.counts);
        lines.push(format!(
            "{}: {} fetched, {} upserted, {} deleted ({} orphan forms), {} errors",
            site.name,
            out.counts.fetched,
            out.counts.upserted,
            out.counts.deleted,
            out.forms_deleted,
            out.counts.errors
        ));
        for p in out.problems {
            summary.problem(p);
        }
        summary.warnings.extend(out.warnings);
    }
    if failed_sites.len() == sites.len() {
        return Err(VisionatureError::AllFailed(failed_sites.join("; ")));
    }
    for f in failed_sites {
        summary.problem(f);
    }
    summary_counts(&mut summary, &total);
    summary.headline = format!(
        "visionature transfer --{mode} into {schema}: {}",
        lines.join("; ")
    );
    Ok(summary)
}

fn site_transfer(
    ctx: &Ctx<'_>,
    client: &mut crate::pg::Client,
    taxo: &remote::Fetched,
    t: &TransferArgs,
    out: &mut Outcome,
) -> Result<(), PgError> {
    run::references(ctx, client, taxo, !t.full, out)?;
    let opts = FullOptions {
        from: t.from,
        to: t.to,
        type_date: ctx.cfg.filter.type_date,
        watermarks: true,
    };
    for g in run::groups(ctx, taxo) {
        if t.full {
            run::full_group(ctx, client, &g, &opts, out)?;
        } else {
            run::update_group(ctx, client, &g, out)?;
        }
    }
    Ok(())
}

fn fix_sync_cmd(
    cfg: &VisionatureConfig,
    env: &Env,
    f: &FixSyncArgs,
) -> Result<Summary, VisionatureError> {
    let db = database(env)?;
    let mut client = quiet(db.connect()?)?;
    let both = fixsync::overlap(&mut client, cfg)?;
    for schema in [&cfg.schema_import, &cfg.check_schema] {
        schema::init(&mut client, schema)?;
    }
    let opts = fixsync::FixOptions {
        window_days: f.window_days.unwrap_or(cfg.fix_sync.window_days),
        skip_download: f.skip_download,
        no_deletes: f.no_deletes,
        no_notify: f.no_notify,
        dry_run: f.dry_run,
    };
    let mut ctxs = Vec::new();
    let mut summary = Summary::new("visionature fix-sync");
    let needs_api = !opts.skip_download || !opts.no_deletes;
    for site in cfg.site.iter().filter(|s| both.contains(&s.name)) {
        match context(cfg, env, site, &cfg.schema_import) {
            Ok(c) => ctxs.push(c),
            Err(e) if needs_api => summary.problem(format!("{}: {}", site.name, error_chain(&e))),
            Err(_) => {}
        }
    }
    let scope_name = format!("fix-sync/{}", cfg.schema_import);
    let scope = match run_log::begin(&db, "visionature", &scope_name, "fix-sync", LockPolicy::Try)?
    {
        Begin::Skipped => {
            summary.headline =
                "visionature fix-sync: another fix-sync holds the lock: skipped".into();
            return Ok(summary);
        }
        Begin::Run(s) => s,
    };
    let report = match fixsync::run(&db, &mut client, cfg, &mut ctxs, &both, &opts) {
        Ok(r) => r,
        Err(e) => {
            scope.finish(
                RunStatus::Failed,
                &RunCounts::default(),
                Some(&error_chain(&e)),
            )?;
            return Err(e);
        }
    };
    let counts = RunCounts {
        fetched: report.download.counts.fetched,
        upserted: report.inserted + report.updated,
        deleted: report.deleted,
        errors: report.failed_requests,
        http_retries: ctxs.iter().map(|c| c.api.retries()).sum(),
    };
    for p in &report.problems {
        summary.problem(p.clone());
    }
    if report.failed_requests > 0 {
        summary.problem(format!(
            "download incomplete: {} failed requests",
            report.failed_requests
        ));
    }
    let (subject, body) = fixsync::mail_text(db.database().unwrap_or("?"), &report, opts.dry_run);
    if !opts.no_notify && !cfg.fix_sync.notify_email.is_empty() {
        match fixsync::notify(cfg, env.secret("SMTP_URL").as_ref(), &subject, &body) {
            Ok(()) => tracing::info!(to = ?cfg.fix_sync.notify_email, "summary mailed"),
            Err(e) => summary.problem(format!("mail: {e}")),
        }
    }
    let status = if summary.status == ExitStatus::Success {
        RunStatus::Ok
    } else {
        RunStatus::Partial
    };
    scope.finish(
        status,
        &counts,
        (!summary.problems.is_empty())
            .then(|| summary.problems.join("; "))
            .as_deref(),
    )?;
    summary.count("inserted", report.inserted as usize);
    summary.count("updated", report.updated as usize);
    summary.count("deleted", report.deleted as usize);
    summary.count("failed_requests", report.failed_requests as usize);
    summary.headline = format!(
        "fix-sync{}: {} inserted, {} updated, {} deleted",
        if opts.dry_run {
            " (dry run, rolled back)"
        } else {
            ""
        },
        report.inserted,
        report.updated,
        report.deleted
    );
    tracing::info!("{}", summary.headline);
    Ok(summary)
}
